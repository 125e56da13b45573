"""Tests for the routing stage: one day's routes with OR-Tools, honest times, the checker."""

from __future__ import annotations

import dataclasses
import itertools
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory import routing
from territory.routing import (
    RouteRequest,
    RouteResult,
    _schedule,
    check_route,
    evaluate_routes,
    route_cost,
    solve_routes,
)

H = 3600
DAY = (8 * H + 30 * 60, 17 * H)  # 08:30 .. 17:00
LUNCH = (11 * H + 30 * 60, 13 * H + 30 * 60, 30 * 60)  # start 11:30 .. 13:30, 30 min


def euclid_request(
    xy: np.ndarray,
    *,
    service_s: int = 1800,
    speed_m_per_s: float = 15.0,
    window_s: np.ndarray | None = None,
    **kwargs: object,
) -> RouteRequest:
    """A request over points in metres: travel at a fixed speed, cost in metres."""
    dist_m = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    n = len(xy)
    service = np.full(n, service_s, dtype=np.int64)
    service[0] = 0
    if window_s is None:
        window_s = np.tile(np.array(DAY, dtype=np.int64), (n, 1))
    return RouteRequest(
        duration_s=np.rint(dist_m / speed_m_per_s).astype(np.int64),
        service_s=service,
        window_s=window_s,
        cost=np.rint(dist_m).astype(np.int64),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def rep_day() -> RouteRequest:
    """A rep's ordinary day: home in the middle, 8 customers within 15 km, two with afternoon
    hours and one morning-only, a lunch break; everything fits comfortably."""
    rng = np.random.default_rng(7)
    xy = rng.uniform(-15_000, 15_000, (9, 2))
    xy[0] = 0
    window = np.tile(np.array(DAY, dtype=np.int64), (9, 1))
    window[2] = (13 * H, 16 * H)
    window[5] = (14 * H, 16 * H + 30 * 60)
    window[7] = (DAY[0], 10 * H)
    return euclid_request(xy, service_s=40 * 60, window_s=window, break_s=LUNCH)


def brute_force_optimum(request: RouteRequest) -> int | None:
    """Cheapest feasible single-vehicle order by trying every permutation (tiny instances)."""
    n = request.duration_s.shape[0]
    best = None
    for order in itertools.permutations(range(1, n)):
        if _schedule(request, order) is None:
            continue
        cost = route_cost(request, [order])
        best = cost if best is None else min(best, cost)
    return best


def test_rep_day_is_a_loop_from_home_visiting_each_stop_once(rep_day: RouteRequest) -> None:
    result = solve_routes(rep_day)
    assert result.feasible
    assert check_route(rep_day, result) == []
    assert sorted(result.routes[0]) == list(range(1, 9))
    assert result.unscheduled == ()
    # The time windows shape the order: the morning-only customer comes before the afternoon ones.
    order = result.routes[0]
    assert order.index(7) < order.index(2) and order.index(7) < order.index(5)
    assert 13 * H <= result.start_s[0][order.index(2)] <= 16 * H


def test_break_is_taken_inside_its_window_and_between_visits(rep_day: RouteRequest) -> None:
    result = solve_routes(rep_day)
    b = result.break_start_s[0]
    assert b is not None and LUNCH[0] <= b <= LUNCH[1]
    for start, node in zip(result.start_s[0], result.routes[0], strict=True):
        end = start + int(rep_day.service_s[node])
        assert end <= b or start >= b + LUNCH[2], "the break overlaps a visit"


def test_times_are_tight_depart_late_and_return_early() -> None:
    """One customer open only from 13:00: leave home just in time, come back straight after."""
    xy = np.array([[0.0, 0.0], [9_000.0, 0.0]])
    window = np.array([DAY, (13 * H, 15 * H)], dtype=np.int64)
    request = euclid_request(xy, window_s=window)
    result = solve_routes(request)
    travel = int(request.duration_s[0, 1])
    assert result.depart_s == (13 * H - travel,)
    assert result.arrival_s == ((13 * H,),)
    assert result.start_s == ((13 * H,),)
    assert result.return_s == (13 * H + 1800 + travel,)
    assert check_route(request, result) == []


def test_lunch_on_the_way_adds_to_the_drive_and_is_reported() -> None:
    """A long drive across lunchtime to a customer open 12:30-12:45: lunch cannot be at home
    first, so it interrupts a drive; the earliest return puts it on the way out."""
    xy = np.array([[0.0, 0.0], [100_000.0, 0.0]])  # 100 km at 15 m/s = 6667 s
    window = np.array([DAY, (12 * H + 30 * 60, 12 * H + 45 * 60)], dtype=np.int64)
    request = euclid_request(xy, window_s=window, break_s=LUNCH)
    result = solve_routes(request)
    assert check_route(request, result) == []
    travel = int(request.duration_s[0, 1])
    depart, b = result.depart_s[0], result.break_start_s[0]
    assert b is not None and depart <= b < depart + travel
    assert result.arrival_s == ((depart + travel + LUNCH[2],),)
    assert result.start_s == ((12 * H + 30 * 60,),)
    assert result.return_s[0] - depart == 2 * travel + 1800 + LUNCH[2]


def test_lunch_may_be_at_home_before_a_late_start() -> None:
    """Only an afternoon customer: lunch at home before leaving is the shortest honest day."""
    xy = np.array([[0.0, 0.0], [9_000.0, 0.0]])
    window = np.array([DAY, (14 * H, 16 * H)], dtype=np.int64)
    request = euclid_request(xy, window_s=window, break_s=LUNCH)
    result = solve_routes(request)
    assert check_route(request, result) == []
    b = result.break_start_s[0]
    assert b is not None and b + LUNCH[2] <= result.depart_s[0]
    assert result.start_s == ((14 * H,),)


def test_same_request_gives_the_same_result(rep_day: RouteRequest) -> None:
    assert solve_routes(rep_day) == solve_routes(rep_day)


def test_unscheduled_only_when_needed_and_only_cheap_stops() -> None:
    """Two far customers that cannot both fit: the one with the low penalty is unscheduled."""
    xy = np.array([[0.0, 0.0], [2_000.0, 0.0], [150_000.0, 0.0], [-150_000.0, 0.0]])
    request = euclid_request(xy, service_s=3600, break_s=LUNCH)
    penalty = np.array([0, 10**9, 10**9, 10], dtype=np.int64)
    with_penalties = dataclasses.replace(request, unscheduled_penalty=penalty)
    result = solve_routes(with_penalties)
    assert result.feasible
    assert result.unscheduled == (3,)
    assert sorted(result.routes[0]) == [1, 2]
    assert check_route(with_penalties, result) == []
    # Nothing is unscheduled when it fits and its penalty outweighs the detour (4 km here) ...
    near = euclid_request(xy[:2], service_s=3600, unscheduled_penalty=np.array([0, 5_000]))
    assert solve_routes(near).unscheduled == ()
    # ... and a stop whose penalty is below its detour is not worth the drive.
    cheap = euclid_request(xy[:2], service_s=3600, unscheduled_penalty=np.array([0, 3_000]))
    assert solve_routes(cheap).unscheduled == (1,)
    # Without penalties the same day cannot be done: no solution, every stop reported unscheduled.
    hopeless = solve_routes(request)
    assert not hopeless.feasible
    assert hopeless.unscheduled == (1, 2, 3)
    assert hopeless.routes == ((),)
    assert check_route(request, hopeless) == []


def test_capacity_and_vehicles() -> None:
    """Four customers of demand 3 and two vehicles of capacity 6: two per vehicle."""
    xy = np.array([[0, 0], [1000, 0], [2000, 0], [0, 1000], [0, 2000]], dtype=float)
    request = euclid_request(
        xy,
        vehicles=2,
        demand=np.array([0, 3, 3, 3, 3], dtype=np.int64),
        capacity=6,
    )
    result = solve_routes(request)
    assert result.feasible and check_route(request, result) == []
    assert sorted(len(r) for r in result.routes) == [2, 2]
    # The natural split: one vehicle east, one north.
    assert sorted(sorted(r) for r in result.routes) == [[1, 2], [3, 4]]


def test_max_route_duration_is_respected() -> None:
    """Windows early and late would make a long day; the limit unschedules a stop instead."""
    xy = np.array([[0, 0], [3000, 0], [-3000, 0]], dtype=float)
    window = np.array([DAY, (DAY[0], 9 * H), (15 * H, 16 * H)], dtype=np.int64)
    request = euclid_request(
        xy, window_s=window, max_route_s=4 * H, unscheduled_penalty=np.array([0, 50_000, 40_000])
    )
    result = solve_routes(request)
    assert check_route(request, result) == []
    assert result.unscheduled == (2,)  # the lower penalty goes
    assert result.return_s[0] - result.depart_s[0] <= 4 * H
    # Without the limit both fit in the day.
    assert solve_routes(dataclasses.replace(request, max_route_s=None)).unscheduled == ()


def test_warm_start_is_used_and_never_made_worse(rep_day: RouteRequest) -> None:
    plain = solve_routes(rep_day)
    warm = solve_routes(dataclasses.replace(rep_day, initial_routes=plain.routes))
    assert warm.feasible and check_route(rep_day, warm) == []
    assert warm.cost <= plain.cost
    # An impossible warm start is ignored rather than trusted.
    bad = solve_routes(dataclasses.replace(rep_day, initial_routes=((1, 1, 2),)))
    assert bad.feasible and check_route(rep_day, bad) == []


@pytest.mark.parametrize("n_nodes", [7, 8])
def test_tiny_tsp_reaches_the_brute_force_optimum(n_nodes: int) -> None:
    """A TSPLIB-style instance (EUC_2D rounding), no windows: the proven optimum. 7 nodes go
    through exact enumeration, 8 nodes through OR-Tools."""
    xy = np.array(
        [
            [565, 575],
            [25, 185],
            [345, 750],
            [945, 685],
            [845, 655],
            [880, 660],
            [25, 230],
            [525, 1000],
        ],
        dtype=float,
    )[:n_nodes]
    dist = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    request = RouteRequest(
        duration_s=dist,
        service_s=np.zeros(n_nodes, dtype=np.int64),
        window_s=np.tile(np.array([0, 10**6], dtype=np.int64), (n_nodes, 1)),
    )
    best = min(route_cost(request, [order]) for order in itertools.permutations(range(1, n_nodes)))
    result = solve_routes(request)
    assert result.cost == best
    assert check_route(request, result) == []


def test_checker_finds_dishonest_results(rep_day: RouteRequest) -> None:
    good = solve_routes(rep_day)
    assert check_route(rep_day, good) == []
    route = good.routes[0]
    twice = dataclasses.replace(
        good,
        routes=((*route, route[0]),),
        arrival_s=((*good.arrival_s[0], good.arrival_s[0][0]),),
        start_s=((*good.start_s[0], good.start_s[0][0]),),
    )
    assert any("twice" in p for p in check_route(rep_day, twice))
    early = dataclasses.replace(
        good, arrival_s=((good.arrival_s[0][0] - 60, *good.arrival_s[0][1:]),)
    )
    assert any("drive says" in p for p in check_route(rep_day, early))
    no_break = dataclasses.replace(good, break_start_s=(None,))
    assert any("no break" in p for p in check_route(rep_day, no_break))
    cheap = dataclasses.replace(good, cost=good.cost - 1)
    assert any("cost" in p for p in check_route(rep_day, cheap))
    missing = dataclasses.replace(good, unscheduled=())
    late_home = dataclasses.replace(good, return_s=(DAY[1] + 1,))
    assert check_route(rep_day, missing) == []  # nothing was unscheduled, so () is right
    assert any("after the day ends" in p for p in check_route(rep_day, late_home))


@st.composite
def small_days(draw: st.DrawFn) -> RouteRequest:
    """Random days of 1-6 stops: windows, a break, sometimes penalties, sometimes 2 vehicles."""
    n = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-30_000, 30_000, (n + 1, 2))
    window = np.tile(np.array(DAY, dtype=np.int64), (n + 1, 1))
    for i in range(1, n + 1):
        if rng.random() < 0.5:
            lo = int(rng.integers(DAY[0], DAY[1] - 2 * H))
            window[i] = (lo, lo + int(rng.integers(15 * 60, 4 * H)))
    kwargs: dict[str, object] = {}
    if draw(st.booleans()):
        kwargs["break_s"] = LUNCH
    if draw(st.booleans()):
        kwargs["unscheduled_penalty"] = rng.integers(1_000, 200_000, n + 1).astype(np.int64)
    if draw(st.booleans()):
        kwargs["max_route_s"] = int(rng.integers(3 * H, 9 * H))
    if draw(st.booleans()):
        kwargs["vehicles"] = 2
    service = int(rng.integers(10, 90)) * 60
    return euclid_request(xy, service_s=service, window_s=window, **kwargs)


@settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(small_days())
def test_property_results_are_honest_and_feasible_when_possible(request: RouteRequest) -> None:
    result = solve_routes(request)
    assert check_route(request, result) == []
    assert isinstance(result, RouteResult)
    with mock.patch.object(routing, "_EXACT_MAX_STOPS", 0):  # the same through OR-Tools
        searched = solve_routes(request)
    assert check_route(request, searched) == []
    if request.unscheduled_penalty is None:
        # A feasible order exists exactly when brute force finds one; the solver must find one too.
        optimum = brute_force_optimum(request)
        if request.vehicles == 1:
            assert result.feasible == (optimum is not None) == searched.feasible
            assert optimum is None or result.cost == optimum  # exact enumeration
        elif optimum is not None:
            assert result.feasible  # two vehicles can always do what one can
    else:
        assert (
            searched.cost + _penalty(request, searched) >= result.cost + _penalty(request, result)
            or request.vehicles > 1
        )
    assert solve_routes(request) == result


def _penalty(request: RouteRequest, result: RouteResult) -> int:
    assert request.unscheduled_penalty is not None
    return int(sum(int(request.unscheduled_penalty[i]) for i in result.unscheduled))


def test_malformed_request_is_refused_with_the_reason(rep_day: RouteRequest) -> None:
    with pytest.raises(ValueError, match="window_s has shape"):
        solve_routes(dataclasses.replace(rep_day, window_s=rep_day.window_s[:-1]))
    with pytest.raises(ValueError, match="demand and capacity"):
        solve_routes(dataclasses.replace(rep_day, capacity=10))
    with pytest.raises(ValueError, match="search 'fast' is unknown"):
        solve_routes(rep_day, search="fast")


def test_evaluate_routes_times_a_given_order_and_refuses_impossible_ones(
    rep_day: RouteRequest,
) -> None:
    solved = solve_routes(rep_day)
    # The solver's order, evaluated without search, gives the very same result.
    assert evaluate_routes(rep_day, solved.routes) == solved
    # The morning-only customer (7) last cannot be on time.
    late = (*(x for x in solved.routes[0] if x != 7), 7)
    assert evaluate_routes(rep_day, (late,)) is None
    # Leaving a stop out is allowed here and reported as unscheduled.
    partial = evaluate_routes(rep_day, (solved.routes[0][1:],))
    assert partial is not None and partial.unscheduled == (solved.routes[0][0],)
    with pytest.raises(ValueError, match="repeat a stop"):
        evaluate_routes(rep_day, ((1, 1),))


def test_a_stop_with_an_empty_window_is_unscheduled_or_makes_the_day_infeasible(
    rep_day: RouteRequest,
) -> None:
    window = rep_day.window_s.copy()
    window[3] = (15 * H, 14 * H)  # e.g. open for less time than the visit takes
    request = dataclasses.replace(rep_day, window_s=window)
    assert not solve_routes(request).feasible
    optional = dataclasses.replace(request, unscheduled_penalty=np.full(9, 10**7, dtype=np.int64))
    result = solve_routes(optional)
    assert result.feasible and result.unscheduled == (3,)
    assert check_route(optional, result) == []


# --------------------------------------------------------------------------------------------
# PyVRP searches the order; OR-Tools takes over where that order does not keep the day


@pytest.mark.parametrize("engine", ["compiled", "pyvrp"])
def test_default_search_matches_brute_force_on_a_rep_day_with_lunch(
    rep_day: RouteRequest, engine: str
) -> None:
    """8 stops with windows and the break, by the compiled day search (the default) and by
    PyVRP (break copies; the previous default and the fallback): the optimum."""
    with mock.patch.object(routing, "ONE_ROUTE_SEARCH", engine):
        result = solve_routes(rep_day)
    assert check_route(rep_day, result) == []
    assert result.cost == brute_force_optimum(rep_day)
    # OR-Tools alone, the previous default, is never better here
    assert result.cost <= solve_routes(rep_day, search="ortools").cost


def test_default_search_depends_on_the_seed_only(rep_day: RouteRequest) -> None:
    for seed in (0, 5):
        request = dataclasses.replace(rep_day, seed=seed)
        assert solve_routes(request) == solve_routes(request)


@mock.patch.object(routing, "ONE_ROUTE_SEARCH", "pyvrp")
def test_or_tools_takes_over_when_pyvrps_order_does_not_keep_the_day(
    rep_day: RouteRequest,
) -> None:
    """An order that breaks a window is refused by the real schedule (so is the second
    search's, started from it driven the other way round); OR-Tools then searches from it and
    the result keeps every window."""
    from territory import routing_pyvrp

    bad = routing_pyvrp.PyvrpRoutes(routes=(tuple(range(8, 0, -1)),), feasible=False, iterations=1)
    assert evaluate_routes(rep_day, bad.routes) is None
    with mock.patch.object(routing_pyvrp, "pyvrp_routes", return_value=bad) as called:
        result = solve_routes(rep_day)
    assert called.call_count == 2
    second = called.call_args_list[1].kwargs
    assert second["initial_routes"] == (tuple(range(1, 9)),)
    assert second["initial_break_after"] == 4
    assert second["iterations"] == routing.ONE_ROUTE_TUNING.reverse_iterations_per_stop * 8
    assert second["exhaustive_on_best"] is routing.ONE_ROUTE_TUNING.reverse_exhaustive
    assert result.feasible and check_route(rep_day, result) == []
    assert result.cost == solve_routes(rep_day).cost


def test_fleet_without_a_break_goes_through_pyvrp_with_capacity() -> None:
    """A small VRPTW fleet: every stop served, loads within capacity, the times honest."""
    rng = np.random.default_rng(3)
    xy = rng.uniform(-10_000, 10_000, (13, 2))
    xy[0] = 0
    demand = np.array([0] + [3] * 12, dtype=np.int64)
    request = euclid_request(xy, service_s=600, vehicles=3, demand=demand, capacity=15)
    result = solve_routes(request)
    assert result.feasible and result.unscheduled == ()
    assert check_route(request, result) == []
    assert all(len(r) <= 5 for r in result.routes)
    assert result.cost <= solve_routes(request, search="ortools").cost


@mock.patch.object(routing, "ONE_ROUTE_SEARCH", "pyvrp")
def test_a_rep_day_with_a_break_searches_with_the_one_route_tuning(rep_day: RouteRequest) -> None:
    """The rep-day tuning reaches PyVRP: its budget, its operators left out and a starting
    time-warp penalty scaled to the cost of a second of travel; the previous tuning (every
    operator, PyVRP's own penalties) finds the same optimum here."""
    from territory import routing_pyvrp

    tuning = routing.ONE_ROUTE_TUNING
    real = routing_pyvrp.pyvrp_routes
    with mock.patch.object(routing_pyvrp, "pyvrp_routes", side_effect=real) as called:
        result = solve_routes(rep_day)
    assert called.call_count == 2  # the search, then the one from its route reversed
    kwargs = called.call_args_list[0].kwargs
    assert kwargs["iterations"] == tuning.iterations_per_stop * 8
    assert kwargs["skip_operators"] == tuning.skip_operators
    per_s = rep_day.cost.sum() / rep_day.duration_s.sum()  # type: ignore[union-attr]
    assert kwargs["penalty"] == pytest.approx(tuning.penalty_per_travel_s * per_s)
    # with optional stops (the planner's days) PyVRP keeps the previous setting: every
    # operator, the default budget, its own starting penalty
    optional = dataclasses.replace(rep_day, unscheduled_penalty=np.full(9, 10**7, dtype=np.int64))
    with mock.patch.object(routing_pyvrp, "pyvrp_routes", side_effect=real) as called:
        assert solve_routes(optional).unscheduled == ()
    kwargs = called.call_args.kwargs
    assert kwargs.get("penalty") is None and not kwargs.get("skip_operators")
    assert kwargs["iterations"] == routing.default_iterations(8)
    previous = routing.PyvrpTuning(
        5, 2.0, 40, None, (), reverse_iterations_per_stop=0, polish=False
    )
    with mock.patch.object(routing, "ONE_ROUTE_TUNING", previous):
        before = solve_routes(rep_day)
    assert result.cost == before.cost == brute_force_optimum(rep_day)


def test_pyvrp_search_without_some_operators_is_deterministic_and_keeps_its_budget(
    rep_day: RouteRequest,
) -> None:
    from territory.routing_pyvrp import pyvrp_routes

    def run() -> object:
        return pyvrp_routes(
            rep_day.duration_s,
            rep_day.cost,  # type: ignore[arg-type]
            rep_day.service_s,
            rep_day.window_s,
            break_s=rep_day.break_s,
            iterations=30,
            seed=3,
            penalty=5.0,
            skip_operators=("Swap21", "Swap22", "Relocate2", "RelocateAlternative"),
        )

    first = run()
    assert first == run()
    assert first.iterations == 30  # type: ignore[attr-defined]
    assert first.feasible and sorted(first.routes[0]) == list(range(1, 9))  # type: ignore[attr-defined]
