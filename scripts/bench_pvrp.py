"""Benchmark the periodic engine (territory.periodic) on the classical PVRP instances.

Reads Cordeau-format instances (Christofides & Beasley p01-p10, Cordeau et al. pr01-pr10),
runs ``solve_periodic`` on each, checks the result with ``check_solution``, writes
``DIR/NAME.json`` as ``{"routes": [{"day": d, "vehicle": v, "customers": [...]}]}`` (days and
vehicles numbered from 1 as in the ``.res`` files, customer ids as in the instance file) and
prints cost, gap to ``bks_literature`` and to the 1997 ``reference_solution`` (bks.csv), time per
instance, and the baseline measured in the same run: the engine's construction alone (no search)
and the ratio of the final cost to it; with ``--baseline`` also, under the same budget, the
engine with one worker when ``--workers N`` runs several searches at once, else (with
``--polish``) the previous engine (`baseline_params`). ``--csv`` writes the table.

Example::

    PYTHONPATH=. python scripts/bench_pvrp.py --instances ../shared/benchdata/pvrp \
        --time-limit 20 --solutions out/pvrp p01 pr04
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import write_csv

from territory.periodic import (
    PYVRP_PERIOD_DEFAULTS,
    MaxIterations,
    PeriodicProblem,
    PeriodicSolution,
    PeriodSearch,
    SearchParams,
    check_solution,
    route_cost,
    solve_periodic,
    stopping_criterion,
)
from territory.periodic_hgs import solve_hgs


def baseline_params(problem: PeriodicProblem) -> SearchParams:
    """The previous engine (before the day-by-day neighbourhood of the whole-period polish):
    PyVRP's own neighbourhood and settings; five polish rounds with 30 % of a time limit for a
    period of at least 600 visits with several vehicles a day, else one with 20 %; the whole
    period at once up to 1,100 clients (visits and day copies), else each day alone."""
    freq = [min(bin(p).count("1") for p in pats) for pats in problem.patterns]
    big = problem.vehicles_per_day > 1 and sum(freq) >= 600
    copies = sum(
        len(pats) if all(p & (p - 1) == 0 for p in pats) else f
        for pats, f in zip(problem.patterns, freq, strict=True)
    )
    return SearchParams(
        polish=True,
        polish_rounds=5 if big else 1,
        polish_share=0.3 if big else 0.2,
        period_polish=copies <= 1100,
        period_search=PYVRP_PERIOD_DEFAULTS,
    )


@dataclass(frozen=True)
class PvrpInstance:
    """A Cordeau-format PVRP instance: the engine's problem plus the file's customer ids."""

    name: str
    problem: PeriodicProblem
    node_ids: tuple[int, ...]  # file id of each problem node (node 0 = depot)


def read_pvrp(path: Path) -> PvrpInstance:
    """Read a Cordeau-format PVRP file (type 1).

    Line 1 ``type m n t``; ``t`` lines ``D Q``; one line per node ``i x y d q f a pats...``.
    Each pattern is a decimal bitmask; we read bit ``d`` as day ``d`` (day 0 = bit 0). Every
    pattern set of p01-p10 / pr01-pr10 is closed under day reversal, so the reference ``.res``
    solutions are consistent with either bit order (checked in the tests).
    A customer located on the depot is not read (only p01's node 51, which the literature and
    the reference solution do not serve); ``node_ids`` maps problem nodes back to file ids.
    """
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    kind, m, n, t = (int(v) for v in rows[0][:4])
    if kind != 1:
        raise ValueError(f"{path}: type {kind} is not a PVRP (type 1) instance")
    limits = [(float(r[0]), float(r[1])) for r in rows[1 : 1 + t]]
    max_dur, cap = limits[0]
    nodes = rows[1 + t : 1 + t + n + 1]
    depot_xy = (float(nodes[0][1]), float(nodes[0][2]))
    ids, xy, service, demand, patterns = [0], [depot_xy], [0.0], [0.0], []
    for r in nodes[1:]:
        i, x, y = int(r[0]), float(r[1]), float(r[2])
        d, q, _freq, a = float(r[3]), float(r[4]), int(r[5]), int(r[6])
        pats = tuple(int(v) for v in r[7 : 7 + a])
        if (x, y) == depot_xy:
            continue  # p01's node 51: on the depot, not served in the literature
        ids.append(i)
        xy.append((x, y))
        service.append(d)
        demand.append(q)
        patterns.append(pats)
    pts = np.array(xy)
    travel = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
    problem = PeriodicProblem(
        travel=travel,
        service=np.array(service),
        patterns=tuple(patterns),
        days=t,
        vehicles_per_day=m,
        demand=np.array(demand),
        capacity=cap,
        max_duration=max_dur if max_dur > 0 else None,
    )
    return PvrpInstance(path.stem, problem, tuple(ids))


def read_res(path: Path, inst: PvrpInstance) -> PeriodicSolution:
    """Read a ``.res`` reference solution (``day vehicle duration load 0 c1 ... 0``)."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    node_of = {fid: k for k, fid in enumerate(inst.node_ids)}
    prob = inst.problem
    routes = [[[] for _ in range(prob.vehicles_per_day)] for _ in range(prob.days)]
    pattern = [0] * prob.n_customers
    for r in rows[1:]:
        day, veh = int(r[0]) - 1, int(r[1]) - 1
        custs = [node_of[int(v)] for v in r[4:] if int(v) != 0]
        routes[day][veh] = custs
        for c in custs:
            pattern[c - 1] |= 1 << day
    sol = PeriodicSolution(
        pattern=tuple(pattern),
        routes=tuple(tuple(tuple(v) for v in day) for day in routes),
        cost=0.0,
        feasible=False,
        iterations=0,
    )
    return PeriodicSolution(sol.pattern, sol.routes, route_cost(prob, sol), True, 0)


def read_bks(path: Path) -> dict[str, tuple[float, float]]:
    """``instance -> (bks_literature, reference_solution)`` from bks.csv."""
    with path.open() as fh:
        return {
            row["instance"]: (float(row["bks_literature"]), float(row["reference_solution"]))
            for row in csv.DictReader(fh)
        }


def solution_json(inst: PvrpInstance, sol: PeriodicSolution) -> dict:
    return {
        "routes": [
            {"day": d + 1, "vehicle": v + 1, "customers": [inst.node_ids[c] for c in route]}
            for d, day in enumerate(sol.routes)
            for v, route in enumerate(day)
            if route
        ]
    }


def sample_gap(folder: Path, factor: int, seed: int) -> list[dict]:
    """The sales plans of the sample: each territory's periodic search at its default budget
    and at ``factor`` times that, routed the same way; travel per territory and the gap."""
    from territory import pipeline
    from territory.periodic import default_iterations
    from territory.planning import plan_territory, territory_legs

    inputs = pipeline.load_inputs(
        folder / "customers.csv", folder / "reps.csv", folder / "plan.toml"
    )
    design, _ = pipeline.design(inputs)
    by_id = {r.id: r for r in inputs.reps}
    rows = []
    for t, rep_id in enumerate(design.rep_ids):
        mine = [c for c, a in zip(inputs.customers, design.assignment, strict=True) if a == t]
        legs = territory_legs(by_id[rep_id], mine, inputs.travel)
        base_iters = default_iterations(len(mine))
        out = {}
        for label, iters in (("default", base_iters), (f"x{factor}", factor * base_iters)):
            t0 = time.perf_counter()
            plan = plan_territory(
                by_id[rep_id],
                mine,
                inputs.config,
                seed=seed,
                iterations=iters,
                legs=legs,
                travel=inputs.travel,
            )
            out[label] = (plan.travel_min, len(plan.unscheduled), time.perf_counter() - t0)
        d, lng = out["default"], out[f"x{factor}"]
        rows.append(
            {
                "rep": rep_id,
                "customers": len(mine),
                "iterations": base_iters,
                "travel_min": round(d[0], 1),
                f"travel_min_x{factor}": round(lng[0], 1),
                "gap_pct": round(100.0 * (d[0] / lng[0] - 1), 2) if lng[0] else 0.0,
                "unscheduled": d[1],
                f"unscheduled_x{factor}": lng[1],
                "time_s": round(d[2], 1),
                f"time_s_x{factor}": round(lng[2], 1),
            }
        )
        print("  ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
    total = sum(r["travel_min"] for r in rows)
    total_long = sum(r[f"travel_min_x{factor}"] for r in rows)
    print(
        f"sample: routed travel {total:.1f} min at the default budget, {total_long:.1f} min at "
        f"{factor}x: gap {100.0 * (total / total_long - 1):.2f} %"
    )
    return rows


def _period_search(text: str) -> PeriodSearch:
    """``--period-search PERTURBATIONS,HISTORY`` as PyVRP's settings for the polish rounds."""
    try:
        perturbations, history = (int(v) for v in text.split(","))
        return PeriodSearch(max_perturbations=perturbations, history_length=history)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"two positive whole numbers PERTURBATIONS,HISTORY, got {text!r}"
        ) from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--instances",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "pvrp",
        help="folder with NAME.txt and bks.csv (default: ../shared/benchdata/pvrp)",
    )
    ap.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="seconds per instance (default: deterministic iterations)",
    )
    ap.add_argument("--iterations", type=int, default=None, help="iteration budget per instance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="searches at once, one process each, sharing their best solution after every "
        "polish round (solve_periodic's workers); with --baseline the baseline is the same "
        "workers without the genetic search (--genetic-workers 0: one worker)",
    )
    ap.add_argument(
        "--polish",
        action="store_true",
        help="polish with PyVRP in rounds, the search resuming between them (SearchParams.polish; "
        "with --time-limit 60 %% of it for a big period with several vehicles a day, else 50 %%)",
    )
    ap.add_argument(
        "--period-search",
        type=_period_search,
        default=SearchParams().period_search,
        metavar="PERTURBATIONS,HISTORY",
        help="with --polish: PyVRP's most perturbed visits per iteration and late-acceptance "
        "history in the rounds of a mixed period (SearchParams.period_search; default 20,100, "
        "the previous engine's 10,50)",
    )
    ap.add_argument(
        "--genetic-workers",
        type=int,
        default=SearchParams().genetic_workers,
        metavar="N",
        help="with --workers: N of the searches run the hybrid genetic search where it fits "
        "(periodic.genetic_fits: every customer scheduled, days not interchangeable, fewer "
        "visits than --genetic-max-visits; SearchParams.genetic_workers, default 1)",
    )
    ap.add_argument(
        "--genetic-max-visits",
        type=int,
        default=SearchParams().genetic_max_visits,
        metavar="N",
        help="the genetic search only for periods of fewer visits (SearchParams."
        "genetic_max_visits; default 450)",
    )
    ap.add_argument(
        "--no-template",
        action="store_true",
        help="start every search from the cheapest insertion (SearchParams.template False; "
        "default: the template of periodic_pyvrp.template_start where periodic.template_fits)",
    )
    ap.add_argument(
        "--template-baseline",
        action="store_true",
        help="with --baseline: the baseline is the same engine and workers started from the "
        "cheapest insertion (SearchParams.template False)",
    )
    ap.add_argument(
        "--baseline",
        action="store_true",
        help="also run a baseline under the same budget (same run): with --workers N, the same "
        "engine with one worker; else, with --polish, the previous engine: PyVRP's own "
        "neighbourhood and settings for the whole period, 1 or 5 rounds with 20 or 30 %% of the "
        "time limit (see baseline_params)",
    )
    ap.add_argument(
        "--sample",
        type=Path,
        default=None,
        help="instead: plan the territories of this folder (customers.csv, reps.csv, plan.toml) "
        "at the default periodic budget and at 10x, and print the routed travel gap",
    )
    ap.add_argument("--solutions", type=Path, default=None, help="write DIR/NAME.json")
    ap.add_argument("--csv", type=Path, default=None, help="write the table as CSV")
    ap.add_argument("names", nargs="*", help="instance names (default: all NAME.txt in the folder)")
    args = ap.parse_args(argv)
    if args.sample is not None:
        rows = sample_gap(args.sample, 10, args.seed)
        if args.csv:
            write_csv(rows, args.csv, list(rows[0]))
        return 0

    names = args.names or sorted(p.stem for p in args.instances.glob("*.txt"))
    bks = read_bks(args.instances / "bks.csv") if (args.instances / "bks.csv").exists() else {}
    if args.solutions:
        args.solutions.mkdir(parents=True, exist_ok=True)
    rows = []
    if names:  # compile the engine's numba kernels (cached after the first run) before timing
        first = read_pvrp(args.instances / f"{names[0]}.txt").problem
        solve_periodic(first, MaxIterations(3))
        if args.genetic_workers and args.workers > 1:
            solve_hgs(first, MaxIterations(3))
    print(
        f"{'instance':<9}{'n':>5}{'cost':>11}{'bks':>11}{'gap_%':>8}{'ref_gap%':>9}{'feasible':>9}"
        f"{'iters':>8}{'time_s':>8}{'constr':>11}{'ratio':>8}{'base_gap%':>10}"
    )
    for name in names:
        inst = read_pvrp(args.instances / f"{name}.txt")
        # baseline measured in the same run: the engine's construction alone (no search)
        t0 = time.perf_counter()
        start = solve_periodic(inst.problem, MaxIterations(0), seed=args.seed)
        start_s = time.perf_counter() - t0
        stop = stopping_criterion(args.iterations, args.time_limit)
        params = SearchParams(
            polish=args.polish,
            period_search=args.period_search,
            genetic_workers=args.genetic_workers,
            genetic_max_visits=args.genetic_max_visits,
            template=False if args.no_template else None,
        )
        base_cost = math.nan
        # the baseline: with genetic workers the same workers without them; else the same
        # engine with one worker, else (polish) the previous engine
        base_params = params if args.workers > 1 else baseline_params(inst.problem)
        base_workers = 1
        if args.genetic_workers and args.workers > 1:
            base_params = replace(params, genetic_workers=0)
            base_workers = args.workers
        if args.template_baseline:
            base_params, base_workers = replace(params, template=False), args.workers
        if args.baseline and (args.workers > 1 or args.polish):
            base = solve_periodic(
                inst.problem, stop, seed=args.seed, params=base_params, workers=base_workers
            )
            base_cost = base.cost if base.feasible else math.nan
        t0 = time.perf_counter()
        sol = solve_periodic(
            inst.problem,
            stop,
            seed=args.seed,
            params=params,
            workers=args.workers,
        )
        elapsed = time.perf_counter() - t0
        issues = check_solution(inst.problem, sol)
        ref, tabu = bks.get(name, (math.nan, math.nan))
        gap = 100.0 * (sol.cost - ref) / ref if not math.isnan(ref) else math.nan
        gap_tabu = 100.0 * (sol.cost - tabu) / tabu if not math.isnan(tabu) else math.nan
        feasible = sol.feasible and not issues
        rows.append(
            {
                "instance": name,
                "customers": inst.problem.n_customers,
                "cost": round(sol.cost, 2),
                "bks_literature": ref,
                "gap_pct": round(gap, 2),
                "gap_reference_pct": round(gap_tabu, 2),
                "feasible": feasible,
                "iterations": sol.iterations,
                "time_s": round(elapsed, 1),
                "construction_cost": round(start.cost, 2),
                "construction_feasible": start.feasible,
                "construction_time_s": round(start_s, 2),
                "cost_ratio_to_construction": round(sol.cost / start.cost, 4)
                if start.cost
                else math.nan,
                "baseline_cost": round(base_cost, 2),
                "baseline_gap_pct": round(100.0 * (base_cost - ref) / ref, 2),
            }
        )
        print(
            f"{name:<9}{inst.problem.n_customers:>5}{sol.cost:>11.2f}{ref:>11.2f}{gap:>8.2f}"
            f"{gap_tabu:>9.2f}{feasible!s:>9}{sol.iterations:>8}{elapsed:>8.1f}"
            f"{start.cost:>11.2f}{sol.cost / start.cost:>8.3f}"
            f"{100.0 * (base_cost - ref) / ref:>10.2f}",
            flush=True,
        )
        if args.solutions:
            (args.solutions / f"{name}.json").write_text(
                json.dumps(solution_json(inst, sol)) + "\n"
            )
    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] == r["gap_pct"]]
    gaps_ref = [
        r["gap_reference_pct"] for r in rows if r["gap_reference_pct"] == r["gap_reference_pct"]
    ]
    ratios = [r["cost_ratio_to_construction"] for r in rows]
    n_feas = sum(r["feasible"] for r in rows)
    base_gaps = [
        r["baseline_gap_pct"] for r in rows if r["baseline_gap_pct"] == r["baseline_gap_pct"]
    ]
    if base_gaps:
        which = "the previous engine"
        if args.workers > 1:
            which = f"{args.workers} searches" if args.genetic_workers else "one worker"
        if args.template_baseline:
            which = "the cheapest-insertion start"
        print(
            f"baseline, {which} (same run, same budget): mean gap "
            f"{np.mean(base_gaps):.2f} %, max {max(base_gaps):.2f} %"
        )
    if gaps:
        print(
            f"mean gap {np.mean(gaps):.2f} %, max {max(gaps):.2f} % (to the 1997 reference "
            f"solutions {np.mean(gaps_ref):.2f} %)"
            f"  feasible {n_feas}/{len(rows)}  mean cost ratio to construction {np.mean(ratios):.3f}"
        )
    if args.csv:
        write_csv(rows, args.csv, list(rows[0]))
    return 0 if n_feas == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
