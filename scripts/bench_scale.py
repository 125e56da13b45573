"""Benchmark scale: design time and peak memory up to 100k customers; plan time on 1 / 2 workers.

Every measurement runs in a fresh child process, so each peak memory (``ru_maxrss`` of the child
and, for planning, of its worker processes) belongs to that run alone. Instances come from
``make_towns.py`` (``--geography``): ``project`` is the generator of ``bench_design.py``
(Dutch-like: towns, countryside, coast, an island), ``towns`` puts customers around the ~80
largest Dutch and Belgian places in proportion to population with several reps in one city,
``uniform`` spreads them evenly over the Netherlands.

- design: ``--design`` sizes (customers x territories), by default 1k x 10, 10k x 50, 100k x 200;
  the targets are 5 minutes and 4 GB at 100k x 200. ``--lp`` adds the LP path (balance on
  workload and customers) with its time as a ratio to the flow path of the same instance
  (goal: within 3x); ``--baseline`` adds the previous neighbourhood graph (clusters joined by a
  spanning tree of single bridges) in the same run.
- plan: ``--plan`` (default 8000 x 120) with 1 and 2 local worker processes (``--workers``),
  and with ``--dask`` also on a local Dask cluster (scheduler + 2 single-thread worker processes on
  loopback); the limit is 15 minutes with 2 workers. The speed-up is the ratio against the
  1-worker run of the same instance in the same run, and ``plan_digest`` shows that every run
  produced the same plan.

Each row also carries the up-front estimate the CLI would print (``estimate_s``) and its ratio to
the measured time. Prints a table and writes CSV. Example::

    nice python scripts/bench_scale.py --csv bench_scale.csv --dask
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchtable import print_table, write_csv

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: The goals: design 100,000 x 200 in 5 minutes and 4 GB; the plan limit of the first wave.
DESIGN_LIMIT_S, PLAN_LIMIT_S, MEMORY_LIMIT_MB = 300.0, 900.0, 4096.0


def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return own, kids


def _child_design(n: int, k: int, seed: int, geography: str, variant: str) -> dict:
    from dataclasses import replace

    from make_towns import generate

    from territory import districting
    from territory.districting import design_territories, estimate_design_s
    from territory.params import Config
    from territory.workload import customer_workload

    customers, reps = generate(geography, n, k, seed=seed)
    config = Config()
    if variant == "lp":  # several balance criteria: the LP path
        config = replace(
            config, territory=replace(config.territory, balance=("workload", "customers"))
        )
    elif variant == "tree":  # the previous graph: clusters joined by a spanning tree only
        districting._BRIDGES_PER_PAIR = 0
    t0 = time.perf_counter()
    workload = customer_workload(customers, config, reps)
    design = design_territories(customers, reps, workload, config)
    seconds = time.perf_counter() - t0
    own, _ = _peak_mb()
    kpis = design.kpis
    assert kpis is not None  # a designed division always has its KPIs
    return {
        "seconds": round(seconds, 1),
        "peak_mb": round(own, 0),
        "estimate_s": round(estimate_design_s(n, k, lp=variant == "lp"), 1),
        "max_dev": round(kpis.max_workload_deviation, 4),
        "connected": round(kpis.connected_share, 4),
    }


def _child_plan(n: int, k: int, seed: int, workers: int, dask: bool, geography: str) -> dict:
    from make_towns import generate

    from territory.cluster import open_executor
    from territory.districting import design_territories
    from territory.params import Config
    from territory.rebalance import estimate_plan_s, plan_and_rebalance
    from territory.workload import customer_workload

    customers, reps = generate(geography, n, k, seed=seed)
    config = Config()
    workload = customer_workload(customers, config, reps)
    design = design_territories(customers, reps, workload, config)
    cluster = None
    scheduler = None
    if dask:
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        scheduler = cluster.scheduler_address
    try:
        t0 = time.perf_counter()
        with open_executor(workers, scheduler) as pool:
            _, total_s = estimate_plan_s(
                customers, design.assignment, len(design.rep_ids), config, pool.count
            )
            plan, _ = plan_and_rebalance(customers, reps, design, config, workers=pool)
        seconds = time.perf_counter() - t0
    finally:
        if cluster is not None:
            cluster.close()
    own, kids = _peak_mb()
    digest = hashlib.sha256(repr((plan.days, plan.unscheduled)).encode()).hexdigest()[:12]
    k_ = plan.kpis
    return {
        "seconds": round(seconds, 1),
        "peak_mb": round(max(own, kids), 0),
        "estimate_s": round(total_s, 1),
        "visits": k_.visits,
        "unscheduled": k_.visits_unscheduled,
        "max_dev": round(k_.max_routed_deviation, 4),
        "plan_digest": digest,
    }


def _run_child(args: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _size(text: str) -> tuple[int, int]:
    n, _, k = text.lower().partition("x")
    return int(n), int(k)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--design",
        nargs="*",
        type=_size,
        default=[(1000, 10), (10000, 50), (100000, 200)],
        metavar="NxK",
        help="design sizes, customers x territories (default 1000x10 10000x50 100000x200)",
    )
    ap.add_argument("--plan", type=_size, default=(8000, 120), metavar="NxK", help="plan size")
    ap.add_argument(
        "--workers", type=int, default=2, help="workers of the parallel plan runs (default 2)"
    )
    ap.add_argument("--dask", action="store_true", help="also plan on a local Dask cluster")
    ap.add_argument("--no-plan", action="store_true", help="design rows only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--geography",
        nargs="+",
        choices=["towns", "uniform", "project"],
        default=["project"],
        help="instance generators (make_towns.py): towns = customers around the largest NL/BE "
        "places, several reps per city; uniform; project = bench_design's (default)",
    )
    ap.add_argument(
        "--lp", action="store_true", help="also design on the LP path (workload + customers)"
    )
    ap.add_argument(
        "--baseline",
        action="store_true",
        help="also design with the previous neighbourhood graph (clusters joined by a tree)",
    )
    ap.add_argument("--csv", type=Path, default=Path("bench_scale.csv"), help="CSV to write")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        sys.path.insert(0, str(HERE))
        sys.path.insert(0, str(ROOT))
        kind, *rest = args.child
        if kind == "design":
            out = _child_design(int(rest[0]), int(rest[1]), int(rest[2]), rest[3], rest[4])
        else:
            n, k, seed, workers, dask = (int(x) for x in rest[:5])
            out = _child_plan(n, k, seed, workers, bool(dask), rest[5])
        print(json.dumps(out))
        return 0

    rows: list[dict] = []

    def show(row: dict) -> None:
        rows.append(row)
        print("  ".join(f"{key}={value}" for key, value in row.items()), flush=True)

    variants = ["flow"] + (["lp"] if args.lp else []) + (["tree"] if args.baseline else [])
    for geography in args.geography:
        for n, k in args.design:
            flow_s = None
            for variant in variants:
                r = _run_child(["design", str(n), str(k), str(args.seed), geography, variant])
                flow_s = r["seconds"] if variant == "flow" else flow_s
                show(
                    {
                        "step": "design",
                        "geography": geography,
                        "variant": variant,
                        "customers": n,
                        "territories": k,
                        "workers": 1,
                        "where": "process",
                        **r,
                        "time_vs_flow": round(r["seconds"] / max(flow_s or 0.1, 0.1), 2),
                        "time_vs_limit": round(r["seconds"] / DESIGN_LIMIT_S, 3),
                        "memory_vs_limit": round(r["peak_mb"] / MEMORY_LIMIT_MB, 3),
                        "estimate_vs_actual": round(r["estimate_s"] / max(r["seconds"], 0.1), 2),
                    }
                )
    if not args.no_plan:
        n, k = args.plan
        geography = args.geography[0]
        runs = [(1, "process", 0), (args.workers, "local pool", 0)]
        if args.dask:
            runs.append((args.workers, "dask cluster", 1))
        base = None
        for workers, where, dask in runs:
            r = _run_child(
                ["plan", str(n), str(k), str(args.seed), str(workers), str(dask), geography]
            )
            base = base if base is not None else r["seconds"]
            show(
                {
                    "step": "plan",
                    "geography": geography,
                    "customers": n,
                    "territories": k,
                    "workers": workers,
                    "where": where,
                    **r,
                    "speedup_vs_1": round(base / max(r["seconds"], 0.1), 2),
                    "time_vs_limit": round(r["seconds"] / PLAN_LIMIT_S, 3),
                    "memory_vs_limit": round(r["peak_mb"] / MEMORY_LIMIT_MB, 3),
                    "estimate_vs_actual": round(r["estimate_s"] / max(r["seconds"], 0.1), 2),
                }
            )

    print()
    print_table(rows)
    write_csv(rows, args.csv)
    print(f"\nwritten: {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
