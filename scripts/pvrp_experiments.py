"""Experiments on the periodic engine that were not kept (README: Periodic plan, tenth session).

Not a benchmark of the engine's defaults (that is bench_pvrp.py): two searches built from the
engine's own parts, each run next to a baseline in the same run, on the classical instances.

- ``first-starts``: the search's first phase as ``--starts`` short searches (each with its own
  construction and seed and an equal share of the phase's time); the best goes on through the
  polish rounds as in the engine. Baseline: the same harness with one start. With ``--workers
  2`` both run as the engine's two workers (this relies on forked workers, as on Linux).
- ``population``: a population of pattern assignments with crossover (a region of customers from
  one parent, the rest from the other, after the other's days are mapped onto the first's by the
  day permutation that keeps every allowed pattern and agrees most). Each child is built by
  cheapest insertion from its patterns and educated by ``--child-iterations`` iterations of the
  search (from ``--child-cooling`` of the way through the cooling), then ``--cycles`` times
  PyVRP on the whole period (``--pyvrp``: iterations, or seconds with an ``s``) and the
  reinsertion sweeps. With ``--share`` below 1 the rest of the time goes to PyVRP on the best.
  Baseline: ``solve_periodic`` with one worker, same time limit.

Examples (the README's runs)::

    python scripts/pvrp_experiments.py first-starts --starts 3 --workers 2 --seeds 0,1 \\
        pr04 pr05 pr06 pr08 pr09 pr10 p10 p08
    python scripts/pvrp_experiments.py population --child-iterations 0 --pyvrp 150 --cycles 2 \\
        --seeds 0,1 p02 p05 p08 p10
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pvrp import read_bks, read_pvrp
from benchtable import print_table, write_csv

from territory import periodic as P
from territory import periodic_workers
from territory.periodic_pyvrp import route_period

_INSTANCES = Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "pvrp"


def first_starts_worker(starts: int) -> Callable[..., P.PeriodicSolution]:
    """`periodic.solve_worker` whose first phase is ``starts`` short searches, the best kept."""

    def solve(  # the signature of periodic.solve_worker
        problem: P.PeriodicProblem,
        stop: P.MaxRuntime,
        seed: int,
        params: P.SearchParams,
        initial: Sequence[int] | None,
        deadline: float | None,
        *,
        started: float | None = None,
        exchange: P.Exchange | None = None,
    ) -> P.PeriodicSolution:
        started = time.perf_counter() if started is None else started
        data = P._Data(problem)
        phases, polish = P._polish_plan(stop, params, problem)
        seconds = phases[0][0].seconds
        it, best = 0, None
        for s in range(starts):
            search = P._Search(data, params, np.random.default_rng(seed + 7 * s))
            search.construct(initial, sweeps=True)
            annealing = P._Annealing(search.cur.objective(), data.n, params)
            budget = P._Budget(P.MaxRuntime(seconds / starts), time.perf_counter(), deadline)
            it = P._run_phase(search, annealing, budget, it, resumed=False)
            got = search.result()
            value = got.objective() if got.feasible() else math.inf
            if best is None or value < best[0]:
                best = (value, search, annealing)
        assert best is not None
        _, search, annealing = best
        solution = None
        for k, (phase_stop, offset_s) in enumerate(phases):
            if k > 0:
                budget = P._Budget(phase_stop, started + offset_s, deadline)
                it = P._run_phase(search, annealing, budget, it, resumed=True)
            solution = P.polish_and_meet(
                problem,
                search,
                polish,
                params,
                rnd=k,
                it=it,
                seed=seed,
                deadline=deadline,
                exchange=None if k == len(phases) - 1 else exchange,
            )
        return solution

    return solve


def run_first_starts(
    problem: P.PeriodicProblem, seconds: float, seed: int, starts: int, workers: int
) -> P.PeriodicSolution:
    """One run of the first-starts harness (``starts=1``: its baseline)."""
    solve = first_starts_worker(starts)
    params = P.SearchParams(polish=True)
    with mock.patch.object(periodic_workers, "solve_worker", solve):
        if workers > 1:
            return P.solve_periodic(
                problem, P.MaxRuntime(seconds), seed=seed, params=params, workers=workers
            )
        return solve(problem, P.MaxRuntime(seconds), seed, params, None, None)


def day_permutations(data: P._Data) -> list[tuple[int, ...]]:
    """The permutations of the days that map every customer's allowed patterns onto themselves."""
    t = data.t
    sets = {tuple(sorted(p)) for p in data.patterns[1:]}
    found = []
    for perm in itertools.permutations(range(t)):
        mapped = {s: tuple(sorted(_permuted(p, perm) for p in s)) for s in sets}
        if all(mapped[s] == s for s in sets):
            found.append(perm)
    return found


def _permuted(pattern: int, perm: Sequence[int]) -> int:
    return sum(1 << perm[d] for d in range(len(perm)) if pattern >> d & 1)


def _parse_pyvrp(text: str) -> P.MaxIterations | P.MaxRuntime:
    """``--pyvrp``: ``150`` (iterations) or ``0.3s`` (seconds)."""
    try:
        if text.endswith("s"):
            return P.MaxRuntime(float(text[:-1]))
        return P.MaxIterations(int(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r}: iterations (150) or seconds with an s (0.3s)"
        ) from exc


def run_population(
    problem: P.PeriodicProblem, seconds: float, seed: int, args: argparse.Namespace
) -> tuple[P.PeriodicSolution, int]:
    """One population search; returns its best solution and the number of children."""
    started = time.perf_counter()
    data = P._Data(problem)
    params = P.SearchParams(polish=True)
    settings = params.alike_search if P.interchangeable_days(problem) else params.period_search
    perms = day_permutations(data)
    rng = np.random.default_rng(seed)

    def educate(initial: list[int] | None) -> P.PeriodicSolution | None:
        search = P._Search(data, params, rng)
        search.construct(initial, sweeps=True)
        n_iter = args.first_iterations if initial is None else args.child_iterations
        annealing = P._Annealing(search.cur.objective(), data.n, params)
        start = 0.0 if initial is None else args.child_cooling
        for k in range(n_iter):
            search.step(k + 1, annealing.temperature(start + (1 - start) * k / n_iter))
        solution = P._finish(problem, search.result(), 0)
        for _ in range(args.cycles if solution.feasible else 0):
            polished = route_period(
                problem, solution, args.pyvrp, seed=int(rng.integers(1 << 30)), settings=settings
            )
            if polished.cost < solution.cost - 1e-9:
                search.adopt(P._state_of(data, polished))
            solution = P._finish(problem, search.result(), 0)
        return solution if solution.feasible else None

    population: list[P.PeriodicSolution] = []
    children = 0
    founders = 0  # a feasible founder is tried for even when the time is up, a few times
    while time.perf_counter() - started < args.share * seconds or (
        not population and founders < args.population
    ):
        if len(population) < max(2, args.population):  # two parents at least
            found = educate(None)
            founders += 1
        else:
            # binary tournaments (the population is sorted by cost), two different parents
            i = int(min(rng.choice(len(population), 2, replace=False)))
            others = [k for k in range(len(population)) if k != i]
            j = min(rng.choice(others, min(2, len(others)), replace=False))
            pa = np.array(population[i].pattern)
            pb = np.array(population[int(j)].pattern)
            perm = max(
                perms, key=lambda pm: int((np.array([_permuted(p, pm) for p in pb]) == pa).sum())
            )
            pb = np.array([_permuted(int(p), perm) for p in pb])
            near = np.argsort(data.d[int(rng.integers(1, data.n + 1)), 1:])
            k = int(rng.integers(data.n // 4, 3 * data.n // 4 + 1))
            child = pb.copy()
            child[near[:k]] = pa[near[:k]]
            found = educate([int(p) for p in child])
            children += 1
        if found is not None and all(abs(found.cost - s.cost) > 1e-6 for s in population):
            population = sorted([*population, found], key=lambda s: s.cost)[: 2 * args.population]
    if not population:
        raise SystemExit(f"population: no feasible plan among {founders} founders")
    best = population[0]
    rest = seconds - (time.perf_counter() - started)
    if args.share < 1 and rest > 0:
        best = route_period(problem, best, P.MaxRuntime(rest), seed=seed, settings=settings)
    return best, children


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("experiment", choices=["first-starts", "population"])
    ap.add_argument("--instances", type=Path, default=_INSTANCES, help="folder of NAME.txt")
    ap.add_argument("--time-limit", type=float, default=20.0, help="seconds per run")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds")
    ap.add_argument("--starts", type=int, default=3, help="first-starts: short first searches")
    ap.add_argument("--workers", type=int, default=2, help="first-starts: the engine's workers")
    ap.add_argument("--population", type=int, default=8, help="population: size (kept: twice)")
    ap.add_argument("--first-iterations", type=int, default=300, help="population: per founder")
    ap.add_argument("--child-iterations", type=int, default=0, help="population: per child")
    ap.add_argument(
        "--pyvrp",
        type=_parse_pyvrp,
        default=P.MaxIterations(150),
        help="population: PyVRP's budget per cycle, iterations (150) or seconds (0.3s)",
    )
    ap.add_argument("--cycles", type=int, default=2, help="population: PyVRP and sweeps")
    ap.add_argument(
        "--child-cooling", type=float, default=0.8, help="population: where a child's search starts"
    )
    ap.add_argument("--share", type=float, default=1.0, help="population: its share of the time")
    ap.add_argument("--csv", type=Path, default=None, help="write the table as CSV")
    ap.add_argument("names", nargs="+", help="instance names")
    args = ap.parse_args(argv)
    bks = read_bks(args.instances / "bks.csv")
    seeds = [int(s) for s in args.seeds.split(",")]
    P.solve_periodic(read_pvrp(args.instances / f"{args.names[0]}.txt").problem, P.MaxIterations(5))
    rows = []
    for name in args.names:
        problem = read_pvrp(args.instances / f"{name}.txt").problem
        best_known = bks[name][0]
        for seed in seeds:
            row: dict[str, object] = {"instance": name, "seed": seed}
            if args.experiment == "first-starts":
                got = run_first_starts(problem, args.time_limit, seed, args.starts, args.workers)
                base = run_first_starts(problem, args.time_limit, seed, 1, args.workers)
            else:
                got, row["children"] = run_population(problem, args.time_limit, seed, args)
                base = P.solve_periodic(
                    problem,
                    P.MaxRuntime(args.time_limit),
                    seed=seed,
                    params=P.SearchParams(polish=True),
                )
            for key, sol in (("gap_%", got), ("base_gap_%", base)):
                ok = sol.feasible and not P.check_solution(problem, sol)
                row[key] = (
                    round(100 * (sol.cost - best_known) / best_known, 2) if ok else "infeasible"
                )
            rows.append(row)
            print(", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    print_table(rows)
    for key in ("gap_%", "base_gap_%"):
        gaps = [float(r[key]) for r in rows if isinstance(r[key], float)]
        if gaps:
            print(f"{key}: mean {np.mean(gaps):.2f}, max {max(gaps):.2f} ({len(gaps)} runs)")
    if args.csv is not None:
        write_csv(rows, args.csv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
