"""The compiled day search: its time warp counts lateness (that it is 0 exactly when the real
schedule keeps the day is tested with the polish's check in test_routing_polish), it finds the
optimum of small days, it is seeded, and `solve_routes` hands it a rep's day and falls back when
it fails."""

from __future__ import annotations

import copy
import dataclasses
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest

from territory import routing, routing_day
from territory.routing import RouteRequest, _schedule, check_route, route_cost, solve_routes
from territory.routing_day import day_warp, solve_day

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from bench_routes import rep_day_request  # the benchmark's synthetic rep days
from test_routing import brute_force_optimum  # pytest puts tests/ on the path
from test_routing_polish import _day


def _solve(request: RouteRequest, **kwargs: object) -> tuple[int, ...] | None:
    return solve_day(
        request.duration_s,
        request.cost,  # type: ignore[arg-type]
        request.service_s,
        request.window_s,
        request.break_s,
        **kwargs,  # type: ignore[arg-type]
    )


def test_warp_counts_the_seconds_too_late() -> None:
    """One stop, no break: arriving 600 s after its window closes is 600 s of warp, and coming
    home 300 s after the day ends adds those."""
    duration = np.array([[0, 3600], [3600, 0]], dtype=np.int64)
    service = np.array([0, 1800], dtype=np.int64)
    window = np.array([[8 * 3600, 17 * 3600], [0, 8 * 3600 + 3000]], dtype=np.int64)
    assert day_warp(duration, service, window, None, (1,)) == 600
    late_day = window.copy()
    late_day[0, 1] = 8 * 3600 + 3000 + 1800 + 3600 - 300  # back 300 s late after the warp
    assert day_warp(duration, service, late_day, None, (1,)) == 900


@pytest.mark.parametrize("seed", range(6))
def test_small_days_reach_the_optimum(seed: int) -> None:
    """Days of 7 stops, mornings- and afternoons-only among them, with and without lunch: the
    order found is the shortest one that keeps the day."""
    for lunch in (True, False):
        request = _day(7, seed, lunch=lunch)
        order = _solve(request)
        best = brute_force_optimum(request)
        if best is None:
            assert order is None
            continue
        assert order is not None and sorted(order) == list(range(1, 8))
        assert _schedule(request, order) is not None
        assert route_cost(request, [order]) == best


def test_same_seed_same_order_and_every_stop_once() -> None:
    request = rep_day_request(25, 3)
    first = _solve(request, seed=4)
    assert first is not None and sorted(first) == list(range(1, 26))
    assert _solve(request, seed=4) == first
    assert _schedule(request, first) is not None
    # a negative seed too (the random first routes of the last runs are drawn from it)
    other = _solve(request, seed=-4)
    assert other is not None and sorted(other) == list(range(1, 26))
    assert _solve(request, seed=-4) == other


def test_each_run_searches_at_its_own_warp_price() -> None:
    """The runs take ``run_penalties`` in turn (repeated past the tuple's end): the first
    number scales the run's warp penalty, the second its ceiling (knob 5, a multiple of the
    run's penalty). A day of 12 stops is a small day: ``small_runs`` runs, not ``runs``."""
    request = rep_day_request(12, 2)
    search = dataclasses.replace(  # one thread: the calls in run order
        routing_day.DAY_SEARCH, runs=5, run_penalties=((1.0, 1.0), (4.0, 0.5)), threads=1
    )
    real = routing_day._search
    with mock.patch.object(routing_day, "_search", side_effect=real) as called:
        order = _solve(request, search=search)
    assert order is not None and sorted(order) == list(range(1, 13))
    penalties = [call.args[9] for call in called.call_args_list]
    ceilings = [call.args[12][5] for call in called.call_args_list]
    assert search.small_runs == 6 and search.small_day >= 12
    assert penalties == pytest.approx([penalties[0] * f for f in (1, 4) * 3])
    assert ceilings == pytest.approx([search.penalty_max * f for f in (1, 0.5) * 3])


def _never_longer(
    without: routing_day.DaySearch,
    search: routing_day.DaySearch,
    seed: int,
    days: tuple[tuple[int, int], ...] = ((20, 5), (25, 9), (30, 13)),
) -> None:
    """On three-town days of (stops, day) ``days``, ``search`` keeps the day and is never
    longer than ``without`` with the same request seed."""
    for n, day in days:
        request = rep_day_request(n, day, "towns")
        plain = _solve(request, seed=seed, search=without)
        found = _solve(request, seed=seed, search=search)
        assert plain is not None and found is not None
        assert _schedule(request, found) is not None
        assert route_cost(request, (found,)) <= route_cost(request, (plain,))


def test_turning_the_best_loop_finds_the_shorter_day() -> None:
    """Day 249 of 20 stops, every run searching forwards: every run ends in the same family of
    days, 1.4 % longer than the best known (150,931), whose loop starts at another stop;
    turning the best order's loop (its last stops to the front or its first to the back, a
    descent at a low warp price and a repair) reaches it. The turns only ever replace the
    answer with a shorter feasible one: on other days the answer is never longer than without
    them."""
    request = rep_day_request(20, 249)
    # the turns alone, after runs that all search the day forwards (the backward runs find it)
    turning = dataclasses.replace(routing_day.DAY_SEARCH, kick_work=0.0, backward=False)
    without = dataclasses.replace(turning, turns=0)
    for seed in range(3):
        plain = _solve(request, seed=seed, search=without)
        turned = _solve(request, seed=seed, search=turning)
        assert plain is not None and turned is not None
        assert sorted(turned) == list(range(1, 21))
        assert _schedule(request, turned) is not None
        assert route_cost(request, (plain,)) == 152_990
        assert route_cost(request, (turned,)) == 150_931
    _never_longer(without, turning, seed=1, days=((15, 3), (25, 7), (30, 11)))


def test_kicks_from_the_best_order_find_the_shorter_day() -> None:
    """Day 515 of 30 stops with request seed 5, every run searching forwards: every run and
    every turn ends 2.2 % above the best known (188,268), which has whole blocks of our order
    elsewhere; the kicks (a block moved, or two blocks exchanged, then a descent) reach it.
    They only ever replace the answer with a shorter feasible one (three-town days), and
    without any kick work they do not run."""
    request = rep_day_request(30, 515)
    # after runs that all search the day forwards (the backward runs find it)
    forwards = dataclasses.replace(routing_day.DAY_SEARCH, backward=False)
    without = dataclasses.replace(forwards, kick_work=0.0)
    plain = _solve(request, seed=5, search=without)
    kicked = _solve(request, seed=5, search=forwards)
    assert plain is not None and kicked is not None
    assert sorted(kicked) == list(range(1, 31))
    assert _schedule(request, kicked) is not None
    assert route_cost(request, (plain,)) == 192_331
    assert route_cost(request, (kicked,)) == 188_268
    assert _solve(request, seed=5, search=forwards) == kicked  # deterministic
    _never_longer(without, routing_day.DAY_SEARCH, seed=2)
    request = rep_day_request(30, 13, "towns")
    with mock.patch.object(routing_day, "_kicks") as kicks:
        _solve(request, seed=2, search=without)
    kicks.assert_not_called()


def test_turns_and_kicks_on_threads_take_the_orders_and_work_of_one_thread() -> None:
    """On threads, the turns' and the kicks' descents start several at once from the best order
    and are taken in order until one finds a shorter order: the same order and the same work
    counted as one after the other, also where the work cap stops them mid-way. Day 515 of 30
    stops with request seed 5 and every run forwards is a day whose kicks find a shorter
    order (see above); a day of 25 stops one whose turns and kicks do not."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def kept(name: str, real: Any) -> Any:
        def wrapped(*args: Any) -> Any:
            calls.append((name, copy.deepcopy(args)))
            return real(*args)

        return wrapped

    forwards = dataclasses.replace(routing_day.DAY_SEARCH, backward=False, threads=2)
    with (
        mock.patch.object(
            routing_day, "_turns_on_threads", kept("turns", routing_day._turns_on_threads)
        ),
        mock.patch.object(
            routing_day, "_kicks_on_threads", kept("kicks", routing_day._kicks_on_threads)
        ),
    ):
        if routing_day._processors() < 2:
            pytest.skip("one processor: the search runs on one thread")
        _solve(rep_day_request(30, 515), seed=5, search=forwards)
        _solve(rep_day_request(25, 7), seed=0, search=forwards)
    assert [name for name, _ in calls] == ["turns", "kicks", "turns", "kicks"]
    shorter = 0
    for name, args in calls:
        best = args[0]
        repair, c, day, close, max_segment = args[2] if name == "kicks" else args[3]
        start = int(day[4][8])
        cap = args[3] if name == "kicks" else args[4]
        for share in (0.2, 1.0):
            work_cap = start + int(share * (cap - start))
            one_day = copy.deepcopy(day)
            if name == "kicks":
                price, seed, (longest, bridge) = args[1], args[4], args[5]
                alone = routing_day._kicks(
                    best, c, one_day, close, price, repair, max_segment, work_cap, seed, longest,
                    bridge,
                )  # fmt: skip
            else:
                shifts, prices = args[1], args[2]
                alone = routing_day._turns(
                    best, c, one_day, close, shifts, prices, repair, max_segment, work_cap
                )
            shorter += share == 1.0 and list(alone) != list(best)
            for threads in (2, 3):
                threaded_day = copy.deepcopy(day)
                shared = (repair, c, threaded_day, close, max_segment)
                if name == "kicks":
                    got = routing_day._kicks_on_threads(
                        best, price, shared, work_cap, seed, (longest, bridge), threads
                    )
                else:
                    got = routing_day._turns_on_threads(
                        best, shifts, prices, shared, work_cap, threads
                    )
                assert list(got) == list(alone)
                assert threaded_day[4][8] == one_day[4][8]  # the same work counted
    assert shorter >= 1  # a kick found a shorter order: the descents after it started again


def test_rescue_runs_search_on_only_while_no_run_kept_the_day() -> None:
    """Day 468 of 30 stops keeps only a narrow family of orders: with request seeds 0, 2 and 5
    the five runs find none, and (without the mending kicks) the rescue runs find one that
    keeps the day. With seed 1 the five runs keep it, and no rescue run starts."""
    request = rep_day_request(30, 468)
    no_mend = dataclasses.replace(routing_day.DAY_SEARCH, mend_work=0.0)
    without = dataclasses.replace(no_mend, rescue_runs=0)
    real = routing_day._search
    for seed in (0, 2, 5):
        assert _solve(request, seed=seed, search=without) is None
        with mock.patch.object(routing_day, "_search", side_effect=real) as called:
            order = _solve(request, seed=seed, search=no_mend)
        assert 5 < called.call_count <= 15
        assert order is not None and sorted(order) == list(range(1, 31))
        assert _schedule(request, order) is not None
    with mock.patch.object(routing_day, "_search", side_effect=real) as called:
        kept = _solve(request, seed=1)
    assert called.call_count == 5
    assert kept is not None and kept == _solve(request, seed=1, search=without)


def test_kicks_from_the_runs_near_misses_keep_a_day_no_run_kept() -> None:
    """With request seeds 7, 8, 10 and 11 neither the five runs of day 468 (30 stops) nor the
    ten rescue runs find an order that keeps the day, and `solve_routes` went on to PyVRP and
    OR-Tools, which found none in 7-10 s either. The runs' orders of least warp are 41 s or
    more late, and a local search at any warp price leaves them so; kicks from them (`_kicks`
    with ``mend``) find the day's best known order (209,589 m, as the runs find with seed 1),
    before any rescue run, and on two threads the same order as on one."""
    request = rep_day_request(30, 468)
    no_mend = dataclasses.replace(routing_day.DAY_SEARCH, mend_work=0.0)
    one_thread = dataclasses.replace(routing_day.DAY_SEARCH, threads=1)
    kept = _solve(request, seed=1)
    assert kept is not None
    real = routing_day._search
    for seed in (7, 8, 10, 11):
        assert _solve(request, seed=seed, search=no_mend) is None
        with mock.patch.object(routing_day, "_search", side_effect=real) as called:
            order = _solve(request, seed=seed)
        assert called.call_count == 5  # the runs alone: no rescue run
        assert order is not None and sorted(order) == list(range(1, 31))
        assert _schedule(request, order) is not None
        assert route_cost(request, [order]) == route_cost(request, [kept])
        assert _solve(request, seed=seed, search=one_thread) == order
    result = solve_routes(dataclasses.replace(request, seed=7))
    assert result.feasible and result.cost == route_cost(request, [kept])


def test_mending_kicks_end_on_an_order_that_keeps_the_day_or_none() -> None:
    """The mending kicks (`_kicks` with ``mend``) from an order that is late: the order they
    return keeps the day. Day 468's best order driven the other way round is mended by the
    first descent alone; the runs' order of least warp (seed 7) is not, and with no work to
    spend on kicks there is none. `_mend_misses` on two and three threads takes the near
    misses' mends in order as one thread does: the same order and the same work counted."""
    request = rep_day_request(30, 468)
    kept = _solve(request, seed=1)
    assert kept is not None
    calls: list[tuple[Any, ...]] = []
    real = routing_day._mend_misses

    def wrapped(*args: Any) -> Any:
        calls.append(copy.deepcopy(args))
        return real(*args)

    with mock.patch.object(routing_day, "_mend_misses", wrapped):
        _solve(request, seed=7)
    ((misses, shared, price, work, (longest, bridge), _),) = calls
    repair, c, day, close, max_segment = shared
    assert [m[0] for m in misses] == sorted(m[0] for m in misses) and misses[0][0] > 0
    late = np.array(kept[::-1], dtype=np.int64)

    def warp(order: Any) -> int:
        return day_warp(
            request.duration_s, request.service_s, request.window_s, request.break_s, tuple(order)
        )

    kicks = routing_day._kicks
    for start, descent_enough in ((late, True), (misses[0][3], False)):
        assert warp(start) > 0
        for cap in (10**8, -1):
            mend_day = copy.deepcopy(day)
            got = kicks(start, c, mend_day, close, price, repair, max_segment, cap, 3, longest,
                        bridge, True)  # fmt: skip
            if cap > 0 or descent_enough:
                assert sorted(got) == list(range(1, 31)) and warp(got) == 0
            else:
                assert got.size == 0  # a descent leaves it late, and no kick may follow
    results = []
    for threads in (1, 2, 3):
        threaded = copy.deepcopy(shared)
        order = routing_day._mend_misses(misses, threaded, price, work, (longest, bridge), threads)
        results.append((None if order is None else list(order), int(threaded[2][4][8])))
    assert results[0][0] is not None and warp(results[0][0]) == 0
    assert results[1] == results[0] and results[2] == results[0]


def test_a_day_that_cannot_be_kept_has_no_order_and_solve_routes_says_so() -> None:
    """Eight visits of two hours cannot fit in nine hours: no order, and the whole request is
    infeasible (PyVRP and OR-Tools, the fallbacks, find none either)."""
    request = _day(8, 2)
    request = dataclasses.replace(request, service_s=np.r_[0, np.full(8, 7200)].astype(np.int64))
    assert _solve(request) is None
    result = solve_routes(request)
    assert not result.feasible and result.unscheduled == tuple(range(1, 9))


def test_solve_routes_hands_a_rep_day_to_the_compiled_search() -> None:
    """A rep's day with every stop required goes to `solve_day` with the request's seed and
    budget; optional stops (the planner's days) and a limit on the day's span do not."""
    request = dataclasses.replace(rep_day_request(12, 1), seed=3, solution_limit=40)
    real = routing_day.solve_day
    with mock.patch.object(routing_day, "solve_day", side_effect=real) as called:
        result = solve_routes(request)
        assert called.call_count == 1
        assert called.call_args.kwargs["seed"] == 3
        assert called.call_args.kwargs["iterations"] == 40
        assert result.feasible and check_route(request, result) == []
        optional = dataclasses.replace(
            request, unscheduled_penalty=np.full(13, 10**7, dtype=np.int64)
        )
        solve_routes(optional)
        solve_routes(dataclasses.replace(request, max_route_s=9 * 3600))
        assert called.call_count == 1


def test_when_the_compiled_search_finds_nothing_pyvrp_searches() -> None:
    request = rep_day_request(12, 1)
    with mock.patch.object(routing_day, "solve_day", return_value=None):
        result = solve_routes(request)
    assert result.feasible and check_route(request, result) == []
    with mock.patch.object(routing, "ONE_ROUTE_SEARCH", "pyvrp"):
        assert solve_routes(request).cost == result.cost


def test_a_hard_rep_day_is_no_longer_than_pyvrps() -> None:
    """25 stops of the benchmark's rep days (the day where PyVRP's tuned default was 1.9 %
    above a long search): the compiled default is at least as short as PyVRP's."""
    request = rep_day_request(25, 6)
    compiled = solve_routes(request)
    with mock.patch.object(routing, "ONE_ROUTE_SEARCH", "pyvrp"):
        pyvrp = solve_routes(request)
    assert check_route(request, compiled) == []
    assert compiled.cost <= pyvrp.cost


def test_the_benchmark_runs_the_previous_settings_as_their_own_method() -> None:
    """bench_routes' ``day-previous`` routes a day with `PREVIOUS_DAY_SEARCH` (eight runs on a
    day of up to 25 stops), ``one-thread`` with `ONE_THREAD_DAY_SEARCH` (the same order as the
    default) and ``deterministic`` with the default settings (six runs), each row's cost that
    setting's order's; and the default is back afterwards."""
    from bench_routes import ONE_THREAD_DAY_SEARCH, PREVIOUS_DAY_SEARCH, run_one

    assert PREVIOUS_DAY_SEARCH.run_count(25) == 8 > routing_day.DAY_SEARCH.run_count(25) == 6
    assert ONE_THREAD_DAY_SEARCH.threads == 1 < routing_day.DAY_SEARCH.threads
    request = dataclasses.replace(rep_day_request(25, 6), seed=1)
    costs = {}
    for method, search, runs in (
        ("deterministic", routing_day.DAY_SEARCH, 6),
        ("one-thread", ONE_THREAD_DAY_SEARCH, 6),
        ("day-previous", PREVIOUS_DAY_SEARCH, 8),
    ):
        order = _solve(request, seed=1, search=search)
        assert order is not None
        real = routing_day._search
        with mock.patch.object(routing_day, "_search", side_effect=real) as called:
            row = run_one("repday", "n25-s6", request, method, None, None, 1.0)
        assert called.call_count == runs
        assert row["feasible"] and row["problems"] == 0
        assert row["cost"] == route_cost(request, (order,))
        costs[method] = row["cost"]
    assert costs["deterministic"] == costs["one-thread"]
    assert solve_day.__kwdefaults__["search"] is routing_day.DAY_SEARCH


def test_a_last_search_among_the_orders_that_keep_the_day_settles_the_best() -> None:
    """Day 599 of 30 stops with request seed 1: the kicks' and the turns' descents, at the
    usual warp price, go from our best order (185,745) to a day 1 s late that is 1,214 shorter,
    which the repair does not mend, so they keep 185,745; one stop moved (stop 1 after stop 2)
    gives 185,554 and keeps the day. The last search, at a price that takes no warp, finds it.
    It only ever replaces the answer with a shorter feasible one, and at a price of 0 it does
    not run."""
    request = rep_day_request(30, 599)
    unsettled = dataclasses.replace(routing_day.DAY_SEARCH, settle_penalty=0.0)
    plain = _solve(request, seed=1, search=unsettled)
    settled = _solve(request, seed=1)
    assert plain is not None and settled is not None
    assert route_cost(request, (plain,)) == 185_745
    assert route_cost(request, (settled,)) == 185_554
    assert [s for s in settled if s != 1] == [s for s in plain if s != 1]
    assert settled.index(1) == settled.index(2) + 1
    assert _schedule(request, settled) is not None
    _never_longer(unsettled, routing_day.DAY_SEARCH, seed=3)
    with mock.patch.object(routing_day, "_settle") as settle:
        _solve(request, seed=3, search=unsettled)
    settle.assert_not_called()


def test_small_days_take_more_runs_of_the_same_length() -> None:
    """A day of up to ``small_day`` stops takes ``small_runs`` runs, a longer one ``runs``;
    each run gets the same iterations either way (a fifth of ``iterations_per_stop`` per stop:
    the budget's share of one of the ``runs``)."""
    search = routing_day.DAY_SEARCH
    assert search.small_day == 25 and search.small_runs == 6 and search.runs == 5
    real = routing_day._search
    for n, runs in ((25, 6), (26, 5)):
        request = rep_day_request(n, 1)
        with mock.patch.object(routing_day, "_search", side_effect=real) as called:
            order = _solve(request, seed=0)
        assert order is not None and sorted(order) == list(range(1, n + 1))
        assert called.call_count == runs
        per_run = search.iterations_per_stop * n // search.runs
        assert {call.args[10] for call in called.call_args_list} == {per_run}


def _backward(request: RouteRequest) -> RouteRequest:
    """``request``'s day driven backwards in time (`routing_day.backward_day`)."""
    tr, cost, window, lunch = routing_day.backward_day(
        request.duration_s,
        request.cost,  # type: ignore[arg-type]
        request.service_s,
        request.window_s,
        request.break_s,
    )
    return dataclasses.replace(request, duration_s=tr, cost=cost, window_s=window, break_s=lunch)


@pytest.mark.parametrize("lunch", [True, False])
def test_the_backward_day_keeps_exactly_the_orders_that_keep_the_day(lunch: bool) -> None:
    """On random orders of random days with one-way travel times (windows, the lunch anywhere,
    days that do and do not fit, the lunch window touching the day's start and end), an
    order keeps the day (`_schedule`) exactly when it, driven the other way round, keeps the
    backward day, and costs the same there."""
    rng = np.random.default_rng(11)
    agree = feasible = 0
    for seed in range(14):
        request = _day(int(rng.integers(3, 12)), seed, lunch=lunch)
        n = request.duration_s.shape[0] - 1
        # one-way streets: travel differs by direction
        skew = rng.integers(0, 240, request.duration_s.shape)
        request = dataclasses.replace(
            request, duration_s=request.duration_s + skew * (1 - np.eye(n + 1, dtype=np.int64))
        )
        if lunch and seed % 3 == 0:  # lunch may start before the day does, or end after it
            request = dataclasses.replace(
                request, break_s=(7 * 3600 + 1800, 16 * 3600 + 1800, 1800)
            )
        back = _backward(request)
        for _ in range(120):
            order = tuple(int(x) for x in rng.permutation(np.arange(1, n + 1)))
            keeps = _schedule(request, order) is not None
            assert (_schedule(back, order[::-1]) is not None) == keeps, (seed, order)
            warp = day_warp(
                back.duration_s, back.service_s, back.window_s, back.break_s, order[::-1]
            )
            assert (warp == 0) == keeps
            assert route_cost(back, [order[::-1]]) == route_cost(request, [order])
            agree += 1
            feasible += keeps
    assert feasible > 40 and agree - feasible > 40  # both answers were exercised


def test_every_other_run_searches_the_day_backwards() -> None:
    """With ``backward`` the odd runs search the backward day (its windows, transposed
    travel), the even ones the day itself; the order kept keeps the day, and without
    ``backward`` every run searches the day itself."""
    request = rep_day_request(20, 4)
    back = _backward(request)
    real = routing_day._search
    for backward in (True, False):
        # one thread: the calls in run order
        search = dataclasses.replace(routing_day.DAY_SEARCH, backward=backward, threads=1)
        with mock.patch.object(routing_day, "_search", side_effect=real) as called:
            order = _solve(request, search=search)
        assert order is not None and _schedule(request, order) is not None
        window_starts = [call.args[3] for call in called.call_args_list]
        assert len(window_starts) == search.run_count(20)
        for run, lo in enumerate(window_starts):
            expected = back if backward and run % 2 else request
            assert np.array_equal(lo, np.asarray(expected.window_s)[:, 0])


def test_the_backward_runs_find_a_shorter_day_than_runs_all_forwards() -> None:
    """Day 515 of 30 stops, request seed 1: with every run searching the day forwards the
    search ends 2.0 % longer than the default, whose backward runs find the shorter order."""
    request = dataclasses.replace(rep_day_request(30, 515), seed=1)
    forwards = dataclasses.replace(routing_day.DAY_SEARCH, backward=False)
    default = _solve(request, seed=1)
    plain = _solve(request, seed=1, search=forwards)
    assert default is not None and plain is not None
    assert _schedule(request, default) is not None
    assert route_cost(request, (default,)) * 1.015 < route_cost(request, (plain,))


def _orders_in_a_child(days: list[tuple[int, int]], conn: Any) -> None:
    """The default search's orders of ``days`` (stops, day; seed 0), sent back over ``conn``."""
    conn.send([_solve(rep_day_request(n, day), seed=0) for n, day in days])
    conn.close()


def test_the_runs_on_threads_give_the_orders_of_one_thread() -> None:
    """The runs are searched on ``threads`` threads at once and counted in run order: the
    same orders with 1, 2 or 3 threads, and in a process forked after the threads started
    (it starts threads of its own)."""
    days = [(16, 2), (25, 7), (30, 11)]
    one = dataclasses.replace(routing_day.DAY_SEARCH, threads=1)
    alone = {}
    for n, day in days:
        request = rep_day_request(n, day)
        for seed in (0, 3):
            alone[n, day, seed] = _solve(request, seed=seed, search=one)
            assert alone[n, day, seed] is not None
            for threads in (2, 3):
                search = dataclasses.replace(routing_day.DAY_SEARCH, threads=threads)
                assert _solve(request, seed=seed, search=search) == alone[n, day, seed]
    assert routing_day.DAY_SEARCH.threads == 2
    assert (os.getpid(), 2) in routing_day._POOLS or routing_day._processors() < 2
    # a day under ``thread_stops`` stops is searched on this thread alone
    assert routing_day._threads(routing_day.DAY_SEARCH, 15) == 1
    assert routing_day._threads(routing_day.DAY_SEARCH, 16) == min(2, routing_day._processors())
    fork = multiprocessing.get_context("fork")
    parent, child = fork.Pipe()
    process = fork.Process(target=_orders_in_a_child, args=(days, child))
    process.start()
    got = parent.recv() if parent.poll(120) else "no answer"
    process.join(10)
    assert got == [alone[n, day, 0] for n, day in days]
