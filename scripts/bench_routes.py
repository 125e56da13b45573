"""Benchmark the single-day routing core (`territory.routing.solve_routes`).

Sets:
  tsplib   symmetric TSPs (one vehicle, no windows), gap to the proven optimum
  solomon  VRPTW with the instance's fleet, capacity, windows and service times, distances
           truncated to 1 decimal (x10 integers), gap to the distance-minimising optimum
  repday   synthetic rep days (5-30 stops, windows, a lunch break): the deterministic default
           that the planner calls, its time per call and its gap to a timed search

Methods, all in the same run:
  territory        solve_routes with --time-limit: PyVRP's iterated local search for the time
                   (OR-Tools takes over if its order does not keep the day)
  ortools          the previous default, OR-Tools alone with the same time limit (stops
                   optional to the search; half the time guided local search from parallel
                   cheapest insertion, half from path cheapest arc, the better kept): the
                   baseline of the same run
  ortools-default  the plain OR-Tools recipe with the same time limit (mandatory stops,
                   PATH_CHEAPEST_ARC, guided local search)
  deterministic    solve_routes without a time limit (on a rep's day the compiled day search,
                   routing_day; elsewhere PyVRP with an iteration budget); repday only unless
                   --deterministic is given
  pyvrp            repday: the deterministic default before the compiled day search (PyVRP
                   with routing.ONE_ROUTE_TUNING, routing.ONE_ROUTE_SEARCH = "pyvrp"), the
                   baseline of the same run
  day-previous     repday: the compiled day search with its previous settings
                   (PREVIOUS_DAY_SEARCH: eight runs on a day of up to 25 stops, where
                   the default has six)
  one-thread       repday: the compiled day search as the default but all of it on one
                   thread (DaySearch.threads = 1; the same orders): the baseline of the
                   wall-clock time
  ortools-det      the deterministic default before PyVRP (OR-Tools, a solution budget), repday

On repday the reference ("bks" column) is the best of three long searches of --repday-ref
seconds each: PyVRP with seeds 1 and 2 and OR-Tools alone. With --search-seeds K the
deterministic methods also run with request seeds 1..K-1 (the planner seeds each day
differently), so that the figures do not rest on one draw per day.

Every result is verified with `check_route`; the `problems` column counts what it found.

Example:
  PYTHONPATH=. python scripts/bench_routes.py --sets solomon --time-limit 5 --out routes.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchdata import BENCHDATA, read_bks, read_solomon, read_tsplib
from benchtable import write_csv

from territory import routing, routing_day
from territory.routing import RouteRequest, check_route, solve_routes

#: The compiled day search before the twenty-fifth session (method "day-previous"): eight runs
#: on a day of up to 25 stops (``DaySearch.small_runs``; six since).
PREVIOUS_DAY_SEARCH = dataclasses.replace(routing_day.DAY_SEARCH, small_runs=8)

#: The default on one thread (method "one-thread"): the same orders, the baseline of the
#: wall-clock time of the runs, turns and kicks on threads (``DaySearch.threads``).
ONE_THREAD_DAY_SEARCH = dataclasses.replace(routing_day.DAY_SEARCH, threads=1)

#: The methods on a rep day, every request seed; OR-Tools' budgeted search with seed 0 only.
REPDAY_METHODS = ("deterministic", "one-thread", "day-previous", "pyvrp")
REPDAY_SEED_0_ONLY = ("ortools-det",)

FIELDS = [
    "set",
    "instance",
    "stops",
    "method",
    "search_seed",
    "time_limit_s",
    "feasible",
    "cost",
    "bks",
    "gap_pct",
    "vehicles_used",
    "wall_s",
    "cpu_s",
    "problems",
]


def tsplib_request(path: Path) -> RouteRequest:
    inst = read_tsplib(path)
    n = len(inst.xy)
    return RouteRequest(
        duration_s=inst.dist,
        service_s=np.zeros(n, dtype=np.int64),
        window_s=np.tile(np.array([0, 10**9], dtype=np.int64), (n, 1)),
    )


def solomon_request(path: Path) -> RouteRequest:
    inst = read_solomon(path)
    return RouteRequest(
        duration_s=inst.dist_x10,
        service_s=inst.service_x10,
        window_s=np.column_stack([inst.ready_x10, inst.due_x10]),
        cost=inst.dist_x10,
        vehicles=inst.vehicles,
        demand=inst.demand,
        capacity=inst.capacity,
    )


def rep_day_request(n: int, seed: int, geography: str = "uniform") -> RouteRequest:
    """A rep's day: home in the middle of a 25 km square, n stops, the day about 85 % full,
    30 % of the stops open only in the morning or only in the afternoon, a 30-min lunch.

    ``geography``: "uniform" (stops spread evenly over the square) or "towns" (stops around
    three town centres in the square, 1.5 km apart on average, and one remote stop 40 km from
    home: the day's shape is two or three clusters and a long drive)."""
    rng = np.random.default_rng(seed)
    area_km = 25.0
    xy = rng.uniform(0, area_km * 1000, (n + 1, 2))
    xy[0] = area_km * 500
    if geography == "towns":
        towns = rng.uniform(0, area_km * 1000, (3, 2))
        which = rng.integers(0, 3, n)
        xy[1:] = towns[which] + rng.normal(0, 1500, (n, 2))
        angle = rng.uniform(0, 2 * np.pi)
        xy[n] = xy[0] + 40_000 * np.array([np.cos(angle), np.sin(angle)])
    elif geography != "uniform":
        raise ValueError(f"geography '{geography}' is unknown; use 'uniform' or 'towns'")
    km = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1000 * 1.3
    duration = np.rint(km / 60 * 3600).astype(np.int64)
    day = (8 * 3600 + 1800, 17 * 3600)
    tour_s = 0.75 * np.sqrt((n + 1) * area_km**2) * 1.3 / 60 * 3600
    visit_s = max(300, int(((day[1] - day[0] - 1800) * 0.85 - tour_s) / n) // 60 * 60)
    service = np.full(n + 1, visit_s, dtype=np.int64)
    service[0] = 0
    window = np.tile(np.array(day, dtype=np.int64), (n + 1, 1))
    for i in range(1, n + 1):
        r = rng.random()
        if r < 0.15:
            window[i] = (day[0], 12 * 3600)
        elif r < 0.3:
            window[i] = (13 * 3600, day[1] - visit_s)
    return RouteRequest(
        duration_s=duration,
        service_s=service,
        window_s=window,
        cost=np.rint(km * 1000).astype(np.int64),
        break_s=(11 * 3600 + 1800, 13 * 3600 + 1800, 1800),
    )


def run_one(
    set_name: str,
    name: str,
    request: RouteRequest,
    method: str,
    time_limit_s: float | None,
    bks: float | None,
    scale: float,
) -> dict:
    req = dataclasses.replace(request, time_limit_s=time_limit_s)
    search = {"ortools-default": "ortools-default", "ortools": "ortools", "ortools-det": "ortools"}
    search = search.get(method, "territory")
    engine = "pyvrp" if method == "pyvrp" else routing.ONE_ROUTE_SEARCH
    day_search = {"day-previous": PREVIOUS_DAY_SEARCH, "one-thread": ONE_THREAD_DAY_SEARCH}.get(
        method, routing_day.DAY_SEARCH
    )
    with (
        mock.patch.object(routing, "ONE_ROUTE_SEARCH", engine),
        mock.patch.dict(routing_day.solve_day.__kwdefaults__, {"search": day_search}),
    ):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = solve_routes(req, search=search)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    problems = check_route(req, result)
    cost = result.cost / scale if result.feasible else None
    return {
        "set": set_name,
        "instance": name,
        "stops": int(request.duration_s.shape[0]) - 1,
        "method": method,
        "search_seed": int(request.seed),
        "time_limit_s": "" if time_limit_s is None else time_limit_s,
        "feasible": result.feasible,
        "cost": "" if cost is None else round(cost, 1),
        "bks": "" if bks is None else bks,
        "gap_pct": "" if cost is None or not bks else round(100 * (cost / bks - 1), 2),
        "vehicles_used": sum(1 for r in result.routes if r),
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "problems": len(problems),
    }


def repday_rows(
    n: int, seed: int, ref_s: float, search_seeds: int = 1, geography: str = "uniform"
) -> list[dict]:
    """One synthetic rep day: the long reference searches, then the deterministic defaults
    (new and previous, with request seeds 0..search_seeds-1) judged against the best of the
    references."""
    request = rep_day_request(n, seed, geography)
    name = f"n{n}-s{seed}" + ("" if geography == "uniform" else f"-{geography}")
    refs = [
        run_one("repday", name, dataclasses.replace(request, seed=s), "reference", ref_s, None, 1)
        for s in (1, 2)
    ]
    refs.append(run_one("repday", name, request, "ortools", ref_s, None, 1.0))
    costs = [r["cost"] for r in refs if r["feasible"]]
    best = min(costs) if costs else None
    rows = [*refs]
    for search_seed in range(search_seeds):
        seeded = dataclasses.replace(request, seed=search_seed)
        methods = REPDAY_METHODS + (REPDAY_SEED_0_ONLY if search_seed == 0 else ())
        for method in methods:
            rows.append(run_one("repday", name, seeded, method, None, best, 1.0))
    for row in rows:
        if best is not None and row["feasible"]:
            row["bks"] = best
            row["gap_pct"] = round(100 * (row["cost"] / best - 1), 2)
        print_row(row)
    return rows


def print_row(row: dict) -> None:
    print(
        f"{row['set']:8s} {row['instance']:10s} {row['stops']:5d} {row['method']:16s} "
        f"{'yes' if row['feasible'] else 'NO ':3s} {row['cost']!s:>10s} {row['bks']!s:>10s} "
        f"{row['gap_pct']!s:>7s} {row['vehicles_used']:3d} {row['wall_s']:8.3f} "
        f"{row['cpu_s']:8.3f} {row['problems']:3d}",
        flush=True,
    )


def summarise(rows: list[dict]) -> None:
    print("\nsummary (mean over instances; gaps over feasible results)")
    keys = sorted({(r["set"], r["method"]) for r in rows})
    for set_name, method in keys:
        sel = [r for r in rows if r["set"] == set_name and r["method"] == method]
        gaps = [r["gap_pct"] for r in sel if r["gap_pct"] != ""]
        feas = sum(1 for r in sel if r["feasible"])
        wall = np.mean([r["wall_s"] for r in sel])
        cpu = np.mean([r["cpu_s"] for r in sel])
        gap = f"{np.mean(gaps):6.2f} % max {max(gaps):6.2f} %" if gaps else "   n/a  "
        wall_max = max(r["wall_s"] for r in sel)
        print(
            f"  {set_name:8s} {method:16s} feasible {feas:3d}/{len(sel):<3d} mean gap {gap}  "
            f"mean wall {wall:7.3f} s (max {wall_max:7.3f})  mean cpu {cpu:7.3f} s"
        )
    repday = [r for r in rows if r["set"] == "repday" and r["method"] != "reference"]
    if not repday:
        return
    print(
        "\nrepday by size: gap to the best reference (mean / max, days over 0.5 %), "
        "CPU ms per day (mean / max), wall ms (mean / max; days at 100 ms or more)"
    )
    seeds = sorted({r["search_seed"] for r in repday})
    groups = [("request seed 0", [0])] + ([("all request seeds", seeds)] if len(seeds) > 1 else [])
    for label, wanted in groups:
        print(f" {label}")
        for n in sorted({r["stops"] for r in repday}):
            for method in REPDAY_METHODS + REPDAY_SEED_0_ONLY:
                sel = [
                    r
                    for r in repday
                    if r["stops"] == n and r["method"] == method and r["search_seed"] in wanted
                ]
                gaps = [r["gap_pct"] for r in sel if r["gap_pct"] != ""]
                if not sel or not gaps:
                    continue
                cpus = [1000 * r["cpu_s"] for r in sel]
                walls = [1000 * r["wall_s"] for r in sel]
                over = sum(1 for g in gaps if g > 0.5)
                slow = sum(1 for w in walls if w >= 100)
                print(
                    f"  {n:3d} stops  {method:14s} {np.mean(gaps):5.2f} / {max(gaps):5.2f} % "
                    f"({over:2d}/{len(gaps):2d} over 0.5 %)  cpu {np.mean(cpus):6.1f} / "
                    f"{max(cpus):6.1f} ms  wall {np.mean(walls):6.1f} / {max(walls):6.1f} ms "
                    f"({slow} at 100 ms or more)"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("instances", nargs="*", help="instance names (default: all in the sets)")
    parser.add_argument("--sets", default="tsplib,solomon,repday", help="comma-separated sets")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per timed solve")
    parser.add_argument("--data", type=Path, default=BENCHDATA, help="benchdata directory")
    parser.add_argument("--out", type=Path, default=Path("bench_routes.csv"), help="CSV to write")
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="also run the deterministic default on tsplib/solomon (slow on large TSPs)",
    )
    parser.add_argument(
        "--repday-sizes", default="5,10,15,20,25,30", help="stops per synthetic rep day"
    )
    parser.add_argument("--repday-seeds", type=int, default=10, help="days per size")
    parser.add_argument(
        "--repday-first",
        type=int,
        default=0,
        help="repday: the first day's seed (days FIRST .. FIRST + REPDAY_SEEDS - 1; default 0)",
    )
    parser.add_argument(
        "--repday-geography",
        choices=("uniform", "towns"),
        default="uniform",
        help="repday: stops spread evenly, or around three towns with one remote stop",
    )
    parser.add_argument(
        "--repday-ref", type=float, default=1.0, help="seconds of the timed reference on repday"
    )
    parser.add_argument(
        "--search-seeds",
        type=int,
        default=1,
        help="repday: run the deterministic methods with request seeds 0..K-1 (default 1)",
    )
    args = parser.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    wanted = set(args.instances)
    rows: list[dict] = []
    print(
        f"{'set':8s} {'instance':10s} {'stops':>5s} {'method':16s} ok  {'cost':>10s} {'bks':>10s} "
        f"{'gap%':>7s} {'veh':>3s} {'wall_s':>8s} {'cpu_s':>8s} {'bad':>3s}"
    )
    for set_name in sets:
        if set_name in ("tsplib", "solomon"):
            bks = read_bks(args.data / set_name / "bks.csv")
            for name in bks:
                if wanted and name not in wanted:
                    continue
                if set_name == "tsplib":
                    request, scale = tsplib_request(args.data / set_name / f"{name}.tsp"), 1.0
                else:
                    request, scale = solomon_request(args.data / set_name / f"{name}.txt"), 10.0
                methods: list[tuple[str, float | None]] = [
                    ("territory", args.time_limit),
                    ("ortools", args.time_limit),
                    ("ortools-default", args.time_limit),
                ]
                if args.deterministic:
                    methods.append(("deterministic", None))
                for method, limit in methods:
                    row = run_one(set_name, name, request, method, limit, bks[name], scale)
                    rows.append(row)
                    print_row(row)
        elif set_name == "repday":
            # the compiled day search is compiled (or loaded from numba's cache) once per
            # process, before any day is timed: on one thread and on several
            solve_routes(rep_day_request(8, 0))
            solve_routes(rep_day_request(max(8, routing_day.DAY_SEARCH.thread_stops), 0))
            for n in (int(x) for x in args.repday_sizes.split(",")):
                for seed in range(args.repday_first, args.repday_first + args.repday_seeds):
                    rows.extend(
                        repday_rows(
                            n, seed, args.repday_ref, args.search_seeds, args.repday_geography
                        )
                    )
        else:
            parser.error(f"unknown set '{set_name}'; use tsplib, solomon or repday")
    write_csv(rows, args.out, FIELDS)
    summarise(rows)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
