"""Benchmark the visit planner: generated Dutch-like team, time, peak memory and plan quality.

Generates ``--customers`` customers and ``--reps`` reps (the generator of bench_design.py),
designs territories, then plans the period with ``rebalance.plan_and_rebalance`` and reports runtime,
peak memory (this process and its workers), routed travel, unscheduled visits and the routed
workload balance. ``--baseline`` also runs the petal construction alone (no periodic
improvement, no rebalancing) in the same run, so the full planner's travel is reported as a
ratio against it.

Example::

    nice python scripts/bench_plan.py --customers 8000 --reps 120 --jobs 2 --out bench_plan.csv
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import print_table, write_csv
from make_towns import generate

from territory.districting import design_territories
from territory.params import Config
from territory.rebalance import plan_and_rebalance
from territory.workload import customer_workload


def _peak_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished worker."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return own, kids


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=8000, help="customers to generate")
    ap.add_argument("--reps", type=int, default=120, help="reps to generate")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for planning")
    ap.add_argument("--seed", type=int, default=0, help="generator and planner seed")
    ap.add_argument(
        "--geography",
        choices=["towns", "uniform", "project"],
        default="project",
        help="towns: around the largest NL/BE places, several reps per city (make_towns.py); "
        "uniform; project: bench_design's generator",
    )
    ap.add_argument("--weeks", type=int, default=4, help="weeks in the planning period")
    ap.add_argument("--rounds", type=int, default=None, help="override rebalance_rounds")
    ap.add_argument("--baseline", action="store_true", help="also run the petals-only baseline")
    ap.add_argument(
        "--polish-iterations",
        type=int,
        default=None,
        help="override [planning] polish_iterations (0: without the whole-period polish)",
    )
    ap.add_argument("--out", type=Path, default=Path("bench_plan.csv"), help="CSV to write")
    ap.add_argument("-v", "--verbose", action="store_true", help="log progress")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )

    customers, reps = generate(args.geography, args.customers, args.reps, seed=args.seed)
    config = Config()
    config = replace(
        config,
        period=replace(config.period, weeks=args.weeks),
        territory=replace(config.territory, seed=args.seed),
    )
    if args.rounds is not None:
        config = replace(config, planning=replace(config.planning, rebalance_rounds=args.rounds))
    if args.polish_iterations is not None:
        planning = replace(config.planning, polish_iterations=args.polish_iterations)
        config = replace(config, planning=planning)
    t0 = time.perf_counter()
    workload = customer_workload(customers, config, reps)
    design = design_territories(customers, reps, workload, config)
    design_s = time.perf_counter() - t0

    runs = [("planner", config)]
    if args.baseline:
        base = replace(
            config,
            planning=replace(config.planning, improve_iterations=0, rebalance_rounds=0),
        )
        runs.insert(0, ("petals only", base))
    rows = []
    for name, cfg in runs:
        done = [0.0]

        def progress(msg: str, frac: float, done: list[float] = done) -> None:
            if frac >= done[0] + 0.1 or frac >= 1.0:
                done[0] = frac
                logging.info("%s %.0f %%", msg, 100 * frac)

        t = time.perf_counter()
        plan, final = plan_and_rebalance(
            customers, reps, design, cfg, jobs=args.jobs, progress=progress
        )
        plan_s = time.perf_counter() - t
        own, kids = _peak_mb()
        reasons: dict[str, int] = {}
        for u in plan.unscheduled:
            key = u.reason.split(":")[0].split("(")[0].strip()
            reasons[key] = reasons.get(key, 0) + 1
        for key, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"{name}: {count} unscheduled visits: {key}")
        k = plan.kpis
        dev = list(k.routed_deviation.values())
        rows.append(
            {
                "run": name,
                "geography": args.geography,
                "customers": args.customers,
                "reps": args.reps,
                "jobs": args.jobs,
                "design_s": round(design_s, 1),
                "plan_s": round(plan_s, 1),
                "peak_mb_main": round(own, 0),
                "peak_mb_worker": round(kids, 0),
                "visits": k.visits,
                "unscheduled": k.visits_unscheduled,
                "travel_h": round(k.travel_min / 60, 1),
                "travel_km": round(k.travel_km, 1),
                "max_dev_before": round(k.max_routed_deviation_before, 4),
                "max_dev": round(k.max_routed_deviation, 4),
                "dev_min": round(min(dev), 4),
                "dev_max": round(max(dev), 4),
                "reps_over_5pct": sum(1 for x in dev if abs(x) > 0.05),
                "connected_share": round(final.kpis.connected_share, 4),
                "rounds": k.rebalance_rounds,
                "reps_needed": k.reps_needed,
            }
        )
    if args.baseline:
        for r in rows:
            r["travel_vs_petals"] = round(r["travel_km"] / rows[0]["travel_km"], 3)
    print_table(rows, list(rows[-1]))
    write_csv(rows, args.out, list(rows[-1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
