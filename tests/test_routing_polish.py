"""The one-route polish: its fast time check agrees with the real schedule, and its moves."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from territory.routing import RouteRequest, _schedule, evaluate_routes, route_cost
from territory.routing_day import day_warp
from territory.routing_polish import forward_feasible, polish_route


def _day(n: int, seed: int, *, lunch: bool = True) -> RouteRequest:
    """A rep's day: n stops in a 20 km square, some open mornings or afternoons only."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20_000, (n + 1, 2))
    xy[0] = 10_000
    metres = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.3)
    duration = np.rint(metres / 1000 / 50 * 3600).astype(np.int64)
    service = np.full(n + 1, 1200, dtype=np.int64)
    service[0] = 0
    window = np.tile(np.array([8 * 3600, 17 * 3600], dtype=np.int64), (n + 1, 1))
    for i in range(1, n + 1):
        r = rng.random()
        if r < 0.2:
            window[i] = (8 * 3600, 12 * 3600)
        elif r < 0.4:
            window[i] = (13 * 3600, 16 * 3600)
    return RouteRequest(
        duration_s=duration,
        service_s=service,
        window_s=window,
        cost=metres.astype(np.int64),
        break_s=(11 * 3600 + 1800, 13 * 3600 + 1800, 1800) if lunch else None,
    )


@pytest.mark.parametrize("lunch", [True, False])
def test_the_fast_check_agrees_with_the_exact_schedule(lunch: bool) -> None:
    """On random orders of random days (windows, the lunch taken anywhere, days that do and
    do not fit), the two-state forward pass says feasible exactly when `_schedule` finds a
    schedule, and so does the compiled day search's time warp (0 exactly then, else
    positive)."""
    rng = np.random.default_rng(7)
    agree = feasible = 0
    for seed in range(12):
        request = _day(int(rng.integers(3, 14)), seed, lunch=lunch)
        n = request.duration_s.shape[0] - 1
        check = forward_feasible(
            request.duration_s, request.service_s, request.window_s, request.break_s
        )
        for _ in range(150):
            order = [int(x) for x in rng.permutation(np.arange(1, n + 1))]
            exact = _schedule(request, order) is not None
            assert check(order) == exact, (seed, order)
            warp = day_warp(
                request.duration_s,
                request.service_s,
                request.window_s,
                request.break_s,
                tuple(order),
            )
            assert (warp == 0) == exact and warp >= 0, (seed, order, warp)
            agree += 1
            feasible += exact
    assert feasible > 50 and agree - feasible > 50  # both answers were exercised


def test_the_fast_check_takes_the_lunch_before_leaving_and_after_coming_back() -> None:
    """A day that starts after the lunch window opens (lunch at home first) and a stop that
    ends just before it closes (lunch at home after returning)."""
    request = _day(1, 3)
    late = dataclasses.replace(
        request,
        window_s=np.array([[12 * 3600, 17 * 3600], [12 * 3600, 17 * 3600]], dtype=np.int64),
    )
    check = forward_feasible(late.duration_s, late.service_s, late.window_s, late.break_s)
    assert check([1]) and _schedule(late, [1]) is not None
    tight = dataclasses.replace(
        request,
        window_s=np.array([[8 * 3600, 13 * 3600], [8 * 3600, 8 * 3600]], dtype=np.int64),
    )
    check = forward_feasible(tight.duration_s, tight.service_s, tight.window_s, tight.break_s)
    assert check([1]) == (_schedule(tight, [1]) is not None)


def test_polish_reverses_a_stretch_and_moves_a_segment_on_a_circle() -> None:
    """Stops on a circle around home, no windows: the best tour goes round the circle; a tour
    with a stretch driven backwards and a pair moved elsewhere is repaired to it."""
    n = 12
    angle = 2 * math.pi * np.arange(n) / n
    xy = np.vstack([[0.0, 0.0], np.column_stack([np.cos(angle), np.sin(angle)]) * 10_000])
    cost = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    best = list(range(1, n + 1))
    bad = [1, 2, 7, 6, 5, 4, 3, 8, 11, 12, 9, 10]  # 3..7 backwards, 9-10 moved to the end
    polished = polish_route(bad, cost, lambda order: True)
    assert sorted(polished) == best
    value = route_cost(RouteRequest(cost, np.zeros(n + 1), np.zeros((n + 1, 2))), [polished])
    optimum = route_cost(RouteRequest(cost, np.zeros(n + 1), np.zeros((n + 1, 2))), [best])
    assert value == optimum
    assert polish_route(bad, cost, lambda order: list(order) == bad) == tuple(bad)


def test_polish_keeps_the_day_never_costs_more_and_is_deterministic() -> None:
    for seed in range(6):
        request = _day(14, seed)
        check = forward_feasible(
            request.duration_s, request.service_s, request.window_s, request.break_s
        )
        rng = np.random.default_rng(seed)
        start = None
        for _ in range(2000):  # a random feasible order to start from
            order = [int(x) for x in rng.permutation(np.arange(1, 15))]
            if _schedule(request, order) is not None:
                start = order
                break
        if start is None:
            continue
        polished = polish_route(start, request.cost, check)  # type: ignore[arg-type]
        assert polished == polish_route(start, request.cost, check)  # type: ignore[arg-type]
        assert sorted(polished) == list(range(1, 15))
        assert evaluate_routes(request, [polished]) is not None
        assert route_cost(request, [polished]) <= route_cost(request, [start])
