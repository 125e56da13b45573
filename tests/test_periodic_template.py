"""The template start of the periodic search: sectors of the average day, each vehicle in its
sector every day (`periodic_pyvrp.template_start`, `SearchParams.template`)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from territory import periodic_pyvrp
from territory.periodic import (
    FirstOf,
    MaxIterations,
    MaxRuntime,
    PeriodicProblem,
    SearchParams,
    check_solution,
    solve_periodic,
    template_fits,
)
from territory.periodic_pyvrp import template_start


def make_daily_problem(
    n: int = 48,
    *,
    vehicles: int = 3,
    seed: int = 1,
    capacity: float | None = 80.0,
    unscheduled_penalty: float | None = None,
) -> PeriodicProblem:
    """Four days, as Cordeau's pr instances: a quarter of the customers every day, a quarter
    on days 0 and 2 or 1 and 3, half once on any day; the depot in the middle."""
    rng = np.random.default_rng(seed)
    xy = np.vstack([[50.0, 50.0], rng.uniform(0, 100, size=(n, 2))])
    travel = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    kinds = [(15,), (5, 10), (1, 2, 4, 8), (1, 2, 4, 8)]
    return PeriodicProblem(
        travel=travel,
        service=np.r_[0.0, np.full(n, 5.0)],
        patterns=tuple(kinds[c % 4] for c in range(n)),
        days=4,
        vehicles_per_day=vehicles,
        demand=np.r_[0.0, rng.integers(1, 10, n).astype(float)],
        capacity=capacity,
        max_duration=None,
        unscheduled_penalty=unscheduled_penalty,
    )


def _vehicle_customers(routes, k: int) -> set[int]:
    return {c for day in routes for c in day[k]}


def test_each_vehicle_keeps_to_its_sector_every_day() -> None:
    """Vehicle k serves the same customers' area on every day: the sets of customers of two
    vehicles never meet, a customer visited every day is on one vehicle every day, and two
    customers on one vehicle are in the same order on every day they share."""
    problem = make_daily_problem()
    plan = template_start(problem, MaxIterations(200), seed=0)
    assert plan is not None
    for c, pattern in enumerate(plan.pattern, start=1):
        assert pattern in problem.patterns[c - 1]
    m = problem.vehicles_per_day
    sectors = [_vehicle_customers(plan.routes, k) for k in range(m)]
    assert sum(len(s) for s in sectors) == problem.n_customers  # each customer in one sector
    for a, b in itertools.combinations(sectors, 2):
        assert not a & b
    for k in range(m):
        seen: dict[tuple[int, int], bool] = {}
        for day in plan.routes:
            place = {c: i for i, c in enumerate(day[k])}
            for a, b in itertools.combinations(sorted(place), 2):
                before = place[a] < place[b]
                assert seen.setdefault((a, b), before) == before
    # the checker agrees on the visits (limits may be exceeded: the search repairs them)
    assert not [p for p in check_solution(problem, plan) if "exceeds" not in p]


def test_the_patterns_balance_each_sectors_days() -> None:
    """Within a sector the flexible customers take the least used days: the fullest
    vehicle-day carries less than with every customer on its first allowed pattern."""
    problem = make_daily_problem(60, seed=4)
    plan = template_start(problem, MaxIterations(200), seed=0)
    assert plan is not None
    demand = problem.demand
    assert demand is not None
    m, days = problem.vehicles_per_day, problem.days

    def loads(pattern: tuple[int, ...]) -> np.ndarray:
        out = np.zeros((m, days))
        for k in range(m):
            for c in _vehicle_customers(plan.routes, k):
                for d in range(days):
                    out[k, d] += demand[c] * (pattern[c - 1] >> d & 1)
        return out

    balanced = loads(plan.pattern)
    naive = loads(tuple(p[0] for p in problem.patterns))
    assert balanced.max() < naive.max()
    spread = balanced.max(axis=1) - balanced.min(axis=1)
    assert spread.max() <= 2 * demand.max()


def test_where_the_template_fits() -> None:
    """Several vehicles a day, every customer scheduled, someone visited on every day."""
    assert template_fits(make_daily_problem())
    assert not template_fits(make_daily_problem(vehicles=1))
    assert not template_fits(make_daily_problem(unscheduled_penalty=100.0))
    problem = make_daily_problem()
    no_daily = tuple((5, 10) if p == (15,) else p for p in problem.patterns)
    assert not template_fits(replace(problem, patterns=no_daily))


def test_the_search_starts_from_the_template_where_it_fits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """By default solve_periodic builds the template under a time limit alone (its share of
    it), where it fits; asked to, under an iteration budget too (two PyVRP iterations per
    customer: deterministic); never with start patterns given, one vehicle a day, or when
    told not to. The plans are feasible, the same for the same seed, and another start gives
    another search."""
    calls: list[object] = []
    real = periodic_pyvrp.template_start

    def spy(problem, budget, *, seed=0):
        calls.append(budget)
        return real(problem, budget, seed=seed)

    monkeypatch.setattr(periodic_pyvrp, "template_start", spy)
    problem = make_daily_problem()
    solve_periodic(problem, MaxRuntime(0.4), seed=3)
    assert calls == [MaxRuntime(0.4 * SearchParams().template_share)]
    calls.clear()
    plain = solve_periodic(problem, MaxIterations(40), seed=3)
    solve_periodic(problem, FirstOf((MaxIterations(10), MaxRuntime(5.0))), seed=3)
    solve_periodic(make_daily_problem(vehicles=1, capacity=None), MaxRuntime(0.4), seed=3)
    solve_periodic(problem, MaxRuntime(0.4), seed=3, initial=plain.pattern)
    off = SearchParams(template=False)
    solve_periodic(problem, MaxRuntime(0.4), seed=3, params=off)
    assert calls == []
    on = SearchParams(template=True)
    a = solve_periodic(problem, MaxIterations(40), seed=3, params=on)
    assert calls == [MaxIterations(2 * problem.n_customers)]
    assert a.feasible and not check_solution(problem, a)
    assert solve_periodic(problem, MaxIterations(40), seed=3, params=on) == a
    assert plain.feasible and plain != a


def test_the_template_is_the_first_workers_alone_by_default() -> None:
    """With several workers the others start from the cheapest insertion unless told."""
    from territory.periodic_workers import child_params

    assert child_params(SearchParams()).template is False
    assert child_params(SearchParams(template=True)).template is True
    assert child_params(SearchParams(template=False)).template is False
    assert child_params(SearchParams(polish=True)) == SearchParams(polish=True, template=False)
