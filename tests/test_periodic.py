"""Tests for territory.periodic: the periodic VRP engine (visit patterns + day routes)."""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territory.periodic import (
    FirstOf,
    MaxIterations,
    MaxRuntime,
    PeriodicProblem,
    PeriodicSolution,
    SearchParams,
    check_solution,
    default_iterations,
    prioritise,
    route_cost,
    solve_periodic,
    stopping_criterion,
)

PVRP_DIR = Path(__file__).parents[2] / "shared" / "benchdata" / "pvrp"
REPO = Path(__file__).parents[1]


def _weekly_patterns(freq: int, days: int) -> tuple[int, ...]:
    """Evenly spaced day sets for ``freq`` visits in ``days`` days (all rotations)."""
    step = days // freq
    out = set()
    for start in range(step):
        out.add(sum(1 << (start + k * step) for k in range(freq)))
    return tuple(sorted(out))


def make_problem(
    n: int,
    *,
    days: int = 5,
    vehicles: int = 1,
    seed: int = 1,
    capacity: float | None = None,
    max_duration: float | None = None,
    unscheduled_penalty: float | None = None,
    service_min: float = 10.0,
) -> PeriodicProblem:
    """A random square instance with frequencies 1-2 (2 only on even spacings), depot at the centre."""
    rng = np.random.default_rng(seed)
    xy = np.vstack([[50.0, 50.0], rng.uniform(0, 100, size=(n, 2))])
    travel = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    service = np.r_[0.0, np.full(n, service_min)]
    demand = np.r_[0.0, rng.integers(1, 10, n).astype(float)]
    patterns = []
    for _ in range(n):
        freq = int(rng.integers(1, 3))
        patterns.append(
            _weekly_patterns(freq, days) if freq == 1 or days % 2 == 0 else (1 | 1 << 2, 2 | 1 << 3)
        )
    return PeriodicProblem(
        travel=travel,
        service=service,
        patterns=tuple(patterns),
        days=days,
        vehicles_per_day=vehicles,
        demand=demand,
        capacity=capacity,
        max_duration=max_duration,
        unscheduled_penalty=unscheduled_penalty,
    )


def _visits_match_patterns(problem: PeriodicProblem, sol: PeriodicSolution) -> None:
    for c in range(1, problem.n_customers + 1):
        days = [
            d for d, day in enumerate(sol.routes) for route in day for node in route if node == c
        ]
        mask = sum(1 << d for d in days)
        assert len(days) == len(set(days)), f"customer {c} twice on one day"
        assert mask == sol.pattern[c - 1]


def test_every_customer_visited_on_an_allowed_pattern() -> None:
    """Plain instance, no limits: all planned, visits exactly on the chosen allowed pattern."""
    problem = make_problem(30, vehicles=2, seed=3)
    sol = solve_periodic(problem, MaxIterations(150), seed=0)
    assert sol.feasible
    assert check_solution(problem, sol) == []
    for c, p in enumerate(sol.pattern, start=1):
        assert p in problem.patterns[c - 1]
    _visits_match_patterns(problem, sol)
    assert sol.cost == pytest.approx(route_cost(problem, sol))
    assert sol.iterations == 150


def test_capacity_and_duration_respected_when_feasible() -> None:
    """Binding limits: the engine must repair overloaded / overlong routes, not just avoid them."""
    problem = make_problem(40, vehicles=3, seed=5, capacity=40.0, max_duration=330.0)
    sol = solve_periodic(problem, MaxIterations(300), seed=0)
    assert sol.feasible, check_solution(problem, sol)
    d = problem.travel
    for day in sol.routes:
        for route in day:
            a = [0, *route, 0]
            assert problem.demand[a].sum() <= 40.0 + 1e-9
            dur = sum(d[x, y] for x, y in itertools.pairwise(a)) + problem.service[a].sum()
            assert dur <= 330.0 + 1e-9


def test_search_improves_on_its_start() -> None:
    """More iterations never return a worse plan than fewer (the best is kept)."""
    problem = make_problem(40, vehicles=2, seed=7)
    short = solve_periodic(problem, MaxIterations(1), seed=2)
    longer = solve_periodic(problem, MaxIterations(300), seed=2)
    assert longer.cost <= short.cost + 1e-9
    assert longer.cost < short.cost  # 300 iterations of ALNS find something on 40 customers


def test_same_seed_same_solution() -> None:
    problem = make_problem(35, vehicles=2, seed=11, capacity=50.0)
    a = solve_periodic(problem, MaxIterations(120), seed=4)
    b = solve_periodic(problem, MaxIterations(120), seed=4)
    assert a == b


def test_initial_patterns_are_used() -> None:
    """With zero search iterations, the given start patterns come back unchanged."""
    problem = make_problem(20, seed=2)
    initial = [pats[-1] for pats in problem.patterns]
    sol = solve_periodic(problem, MaxIterations(0), initial=initial)
    assert list(sol.pattern) == initial
    assert sol.feasible


def test_understaffed_leaves_customers_unscheduled() -> None:
    """One short day for far too much work: customers are unscheduled (pattern 0), not an error."""
    problem = make_problem(30, days=2, seed=9, max_duration=200.0, unscheduled_penalty=500.0)
    sol = solve_periodic(problem, MaxIterations(100), seed=0)
    assert sol.feasible, check_solution(problem, sol)
    unscheduled = [c for c, p in enumerate(sol.pattern, start=1) if p == 0]
    assert 0 < len(unscheduled) < 30
    for c in unscheduled:
        assert all(c not in route for day in sol.routes for route in day)
    assert check_solution(problem, sol) == []


def test_checker_flags_violations() -> None:
    problem = make_problem(4, days=2, seed=1, capacity=5.0)
    pats = [p[0] for p in problem.patterns]
    routes = [[[] for _ in range(1)] for _ in range(2)]
    for c, p in enumerate(pats, start=1):
        for d in range(2):
            if p >> d & 1:
                routes[d][0].append(c)
    sol = PeriodicSolution(
        tuple(pats), tuple(tuple(tuple(r) for r in day) for day in routes), 0.0, True, 0
    )
    msgs = check_solution(problem, sol)
    assert any("exceeds capacity" in m for m in msgs) == (
        max(problem.demand[[0, *r]].sum() for day in routes for r in day) > 5.0
    )
    missing = PeriodicSolution(tuple(pats), ((), ()), 0.0, True, 0)
    assert check_solution(problem, missing)  # wrong vehicle grid / visits missing
    empty_routes = PeriodicSolution(tuple(pats), (((),), ((),)), 0.0, True, 0)
    assert any("visited on days mask 0" in m for m in check_solution(problem, empty_routes))


@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 12), vehicles=st.integers(1, 3), seed=st.integers(0, 1000))
def test_property_plans_are_consistent(n: int, vehicles: int, seed: int) -> None:
    """Any small instance: visits match the chosen pattern and the reported cost is the routes'."""
    problem = make_problem(n, vehicles=vehicles, seed=seed, capacity=30.0)
    sol = solve_periodic(problem, MaxIterations(20), seed=seed)
    _visits_match_patterns(problem, sol)
    assert sol.cost == pytest.approx(route_cost(problem, sol))
    assert sol.feasible == (check_solution(problem, sol) == [])


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_pvrp", REPO / "scripts" / "bench_pvrp.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_pvrp"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not PVRP_DIR.is_dir(), reason=f"benchmark data folder {PVRP_DIR} is absent")
@pytest.mark.parametrize("name", ["p01", "pr07"])
def test_reference_solution_cost_and_feasibility(name: str) -> None:
    """The .res reference solutions re-cost exactly to their stated totals and pass the checker."""
    bench = _bench_module()
    inst = bench.read_pvrp(PVRP_DIR / f"{name}.txt")
    ref = bench.read_res(PVRP_DIR / f"{name}.res", inst)
    stated = float((PVRP_DIR / f"{name}.res").read_text().split()[0])
    assert route_cost(inst.problem, ref) == pytest.approx(stated, abs=0.006)
    assert check_solution(inst.problem, ref) == []


def test_asymmetric_travel_is_costed_exactly() -> None:
    """One-way streets: route moves must use the direction actually driven."""
    base = make_problem(25, vehicles=2, seed=13, capacity=40.0)
    rng = np.random.default_rng(0)
    travel = base.travel + rng.uniform(0.0, 15.0, size=base.travel.shape)
    np.fill_diagonal(travel, 0.0)
    problem = PeriodicProblem(
        travel=travel,
        service=base.service,
        patterns=base.patterns,
        days=base.days,
        vehicles_per_day=2,
        demand=base.demand,
        capacity=40.0,
    )
    sol = solve_periodic(problem, MaxIterations(80), seed=1)
    assert sol.feasible, check_solution(problem, sol)
    _visits_match_patterns(problem, sol)
    assert sol.cost == pytest.approx(route_cost(problem, sol))


def test_time_limit_stops_the_search() -> None:
    """A wall-clock budget bounds the run (used by the benchmark; not deterministic)."""
    problem = make_problem(30, vehicles=2, seed=4)
    started = time.perf_counter()
    sol = solve_periodic(problem, MaxRuntime(0.3), seed=0)
    assert time.perf_counter() - started < 5.0
    assert sol.feasible
    assert sol.iterations >= 1


def test_default_budget_is_the_iteration_count_by_size() -> None:
    """No criterion: the deterministic default budget (3 per customer, 200 to 800)."""
    problem = make_problem(12, seed=6)
    sol = solve_periodic(problem, seed=1)
    assert sol.iterations == default_iterations(12) == 200
    assert sol == solve_periodic(problem, MaxIterations(200), seed=1)
    assert default_iterations(100) == 300 and default_iterations(1000) == 800


def test_first_of_stops_at_the_iteration_budget_under_a_loose_time_limit() -> None:
    """Iterations under a time limit: the run ends at the budget, well before the clock."""
    problem = make_problem(15, seed=8)
    sol = solve_periodic(problem, FirstOf((MaxIterations(7), MaxRuntime(600.0))), seed=2)
    assert sol.iterations == 7


def test_stopping_criterion_from_the_planning_keys() -> None:
    """improve_iterations / improve_time_limit_s map to one criterion each, or both."""
    assert stopping_criterion(None, None) is None
    assert stopping_criterion(50, None) == MaxIterations(50)
    assert stopping_criterion(None, 2.5) == MaxRuntime(2.5)
    assert stopping_criterion(50, 2.5) == FirstOf((MaxIterations(50), MaxRuntime(2.5)))
    with pytest.raises(ValueError, match="MaxIterations"):
        MaxIterations(-1)
    with pytest.raises(ValueError, match="MaxRuntime"):
        MaxRuntime(-0.5)


def test_a_passed_deadline_stops_after_the_construction() -> None:
    """The safety deadline: already past, so no search iteration runs, and the plan is whole."""
    problem = make_problem(20, seed=3)
    sol = solve_periodic(problem, MaxIterations(500), seed=0, deadline=time.perf_counter())
    assert sol.iterations == 0
    assert sol.feasible and all(sol.pattern)


def test_search_params_change_the_search_and_are_checked() -> None:
    """The tuning is a value passed in: other settings give another (still valid) search."""
    problem = make_problem(30, vehicles=2, seed=12, capacity=45.0)
    default = solve_periodic(problem, MaxIterations(60), seed=0)
    plain = solve_periodic(
        problem, MaxIterations(60), seed=0, params=SearchParams(construction_sweeps=0)
    )
    assert default.feasible and plain.feasible
    assert default != plain
    with pytest.raises(ValueError, match="destroy_share"):
        SearchParams(destroy_share=1.5)


@pytest.mark.skipif(not PVRP_DIR.is_dir(), reason=f"benchmark data folder {PVRP_DIR} is absent")
def test_bench_script_writes_solution_files(tmp_path: Path) -> None:
    """bench_pvrp writes NAME.json with the file's customer ids and a CSV row per instance."""
    bench = _bench_module()
    out = tmp_path / "sol"
    table = tmp_path / "table.csv"
    args = ["--instances", str(PVRP_DIR), "--iterations", "3", "--solutions", str(out)]
    assert bench.main([*args, "--csv", str(table), "p01"]) == 0
    routes = json.loads((out / "p01.json").read_text())["routes"]
    served = sorted(c for r in routes for c in r["customers"])
    assert served == list(range(1, 51))  # p01: 50 customers served once (2 days, frequency 1)
    assert {r["day"] for r in routes} <= {1, 2}
    assert all(1 <= r["vehicle"] <= 3 for r in routes)
    rows = table.read_text().splitlines()
    assert rows[0].startswith("instance,") and rows[1].startswith("p01,")


@pytest.mark.skipif(not PVRP_DIR.is_dir(), reason=f"benchmark data folder {PVRP_DIR} is absent")
def test_bench_script_takes_the_polish_settings_and_refuses_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--period-search PERTURBATIONS,HISTORY sets the rounds' PyVRP settings; a bad value is
    one usage line and exit code 2."""
    from territory.periodic import PeriodSearch

    bench = _bench_module()
    used = []
    real = bench.solve_periodic

    def spy(*args, **kw):
        used.append(kw.get("params"))
        return real(*args, **kw)

    monkeypatch.setattr(bench, "solve_periodic", spy)
    table = tmp_path / "table.csv"
    args = ["--instances", str(PVRP_DIR), "--iterations", "20", "--polish", "--csv", str(table)]
    assert bench.main([*args, "--period-search", "10,50", "p02"]) == 0
    searched = [p for p in used if p is not None]  # the construction alone has no params
    assert searched and all(
        p.period_search == PeriodSearch(max_perturbations=10, history_length=50) for p in searched
    )
    header, row = (line.split(",") for line in table.read_text().splitlines())
    assert dict(zip(header, row, strict=True))["feasible"] == "True"
    for bad in ("10", "0,50", "ten,50"):
        with pytest.raises(SystemExit) as exit_info:
            bench.main([*args, "--period-search", bad, "p02"])
        assert exit_info.value.code == 2
        assert "--period-search: two positive whole numbers" in capsys.readouterr().err


def test_two_opt_star_keeps_days_and_never_worsens() -> None:
    """2-opt*: scrambled day routes get better (penalised), visits stay on their days."""
    from territory.periodic import _Data, _State, _two_opt_star_day

    problem = make_problem(60, vehicles=4, seed=3, capacity=60.0, max_duration=300.0)
    data = _Data(problem)
    state = _State(data)
    rng = np.random.default_rng(0)
    for c in range(1, data.n + 1):  # every customer on its first pattern, routes at random
        pat = data.patterns[c][0]
        for day in range(data.t):
            if pat >> day & 1:
                r = day * data.m + int(rng.integers(data.m))
                state.insert(c, [(r, len(state.seq[r]))])
        state.pattern[c] = pat
    alpha, beta = 1.0, 1.0
    before = state.penalised(alpha, beta)
    visits = [
        sorted(c for r in range(day * 4, day * 4 + 4) for c in state.seq[r]) for day in range(5)
    ]
    assert any([_two_opt_star_day(state, day, alpha, beta) for day in range(data.t)])
    after = state.penalised(alpha, beta)
    assert after < before - 1e-6
    for day in range(5):
        routes = range(day * 4, day * 4 + 4)
        assert sorted(c for r in routes for c in state.seq[r]) == visits[day]
        for r in routes:  # cached travel and load match the new sequences
            a = [0, *state.seq[r], 0]
            assert state.travel[r] == pytest.approx(sum(problem.travel[a[:-1], a[1:]]))
            assert state.load[r] == pytest.approx(problem.demand[a].sum())
            assert all(state.route_of[c, day] == r for c in state.seq[r])


def test_prioritise_puts_the_costliest_unscheduled_customers_in_place_of_cheaper_ones() -> None:
    """Penalties per customer: where a cheap search left costly customers out, `prioritise`
    takes out cheaper ones to make room, keeps every limit and lowers the objective."""
    base = make_problem(30, days=2, seed=9, max_duration=200.0)
    penalty = np.r_[0.0, np.where(np.arange(1, 31) % 3 == 0, 50_000.0, 500.0)]
    problem = dataclasses.replace(base, unscheduled_penalty=penalty)
    flat = dataclasses.replace(base, unscheduled_penalty=500.0)
    sol = solve_periodic(flat, MaxIterations(30), seed=0)  # blind to the penalties
    assert sol.feasible

    def costly_out(s: PeriodicSolution) -> int:
        return sum(1 for c, p in enumerate(s.pattern, start=1) if p == 0 and penalty[c] > 500)

    def objective(s: PeriodicSolution) -> float:
        return s.cost + sum(penalty[c] for c, p in enumerate(s.pattern, start=1) if p == 0)

    assert costly_out(sol) > 0
    better = prioritise(problem, sol)
    assert better.feasible and check_solution(problem, better) == []
    assert costly_out(better) < costly_out(sol)
    assert objective(better) < objective(sol)
    assert prioritise(flat, sol) is sol  # one penalty for all: nothing to reorder
    assert prioritise(problem, better) == prioritise(problem, better)  # deterministic


def test_a_penalty_per_customer_must_have_one_entry_per_node() -> None:
    with pytest.raises(ValueError, match="unscheduled_penalty"):
        make_problem(5, unscheduled_penalty=np.ones(3))  # type: ignore[arg-type]
