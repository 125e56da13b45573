"""The periodic engine's compiled loops against plain enumerations of the same moves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from territory.periodic_kernels import (
    best_tail_exchanges,
    cheapest_insertions,
    day_profile,
    improve_route,
    near_routes,
    removal_savings,
    splice_edges,
)


def _travel(d: np.ndarray, nodes: list[int]) -> float:
    return float(sum(d[a, b] for a, b in itertools.pairwise(nodes)))


def _neighbours(route: list[int], symmetric: bool) -> list[list[int]]:
    """Every 2-opt and Or-opt (1-3 stops, reversed too when symmetric) neighbour of a route
    with the depot at both ends."""
    out = []
    last = len(route) - 1
    for i in range(last):
        for j in range(i + 2, last):
            out.append(route[: i + 1] + route[i + 1 : j + 1][::-1] + route[j + 1 :])
    for k in (1, 2, 3):
        for s in range(1, last - k + 1):
            seg = route[s : s + k]
            rest = route[:s] + route[s + k :]
            for pos in range(1, len(rest)):
                for piece in (seg, seg[::-1]) if symmetric else (seg,):
                    out.append(rest[:pos] + piece + rest[pos:])
    return out


@pytest.mark.parametrize("symmetric", [True, False])
def test_route_descent_ends_in_a_local_optimum_and_reports_its_gain(symmetric: bool) -> None:
    rng = np.random.default_rng(5)
    for trial in range(30):
        n = int(rng.integers(3, 14))
        pts = rng.random((n + 1, 2)) * 100
        d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
        if not symmetric:
            d = d * (1.0 + 0.4 * rng.random(d.shape))
        route = [0, *(rng.permutation(n) + 1).tolist(), 0]
        better, gain = improve_route(d, np.array(route, dtype=np.intp), symmetric, 1e-9)
        better = better.tolist()
        assert better[0] == better[-1] == 0 and sorted(better) == sorted(route), trial
        assert gain == pytest.approx(_travel(d, route) - _travel(d, better), abs=1e-7)
        best_neighbour = min(_travel(d, r) for r in _neighbours(better, symmetric))
        assert best_neighbour >= _travel(d, better) - 1e-7, trial


def _penalised(route: list[int], d, q, s, cap, alpha, max_dur, beta) -> float:
    travel = _travel(d, route)
    load = sum(q[c] for c in route)
    dur = travel + sum(s[c] for c in route)
    return travel + alpha * max(load - cap, 0.0) + beta * max(dur - max_dur, 0.0)


def test_tail_exchange_gains_match_the_exchanged_routes() -> None:
    rng = np.random.default_rng(8)
    n = 24
    pts = rng.random((n + 1, 2)) * 100
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    q = np.r_[0.0, rng.integers(1, 10, n).astype(float)]
    s = np.r_[0.0, rng.integers(5, 20, n).astype(float)]
    cap, alpha, max_dur, beta = 40.0, 3.0, 260.0, 2.0
    custs = (rng.permutation(n) + 1).tolist()
    routes = [[0, *custs[:9], 0], [0, *custs[9:14], 0], [0, *custs[14:], 0], [0, 0]]
    width = max(len(r) for r in routes)
    nodes = np.zeros((len(routes), width), dtype=np.intp)
    for i, r in enumerate(routes):
        nodes[i, : len(r)] = r
    legs = d[nodes[:, :-1], nodes[:, 1:]]
    fwd = np.zeros(nodes.shape)
    np.cumsum(legs, axis=1, out=fwd[:, 1:])
    rx = np.array([0, 1, 2], dtype=np.intp)
    ycand = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 2]], dtype=np.intp)
    best_g, best_k, val = best_tail_exchanges(
        d,
        nodes,
        np.array([len(r) for r in routes], dtype=np.intp),
        fwd,
        np.cumsum(q[nodes], axis=1),
        np.cumsum(s[nodes], axis=1),
        rx,
        ycand,
        (True, cap, alpha, True, max_dur, beta),
    )
    args = (d, q, s, cap, alpha, max_dur, beta)
    for r, route in enumerate(routes):
        assert val[r] == pytest.approx(_penalised(route, *args))
    lp = width - 1
    for row, x in enumerate(rx):
        for k, y in enumerate(ycand[row]):
            if x == y:  # a route with itself is no exchange
                assert best_g[row, k] == -np.inf
                continue
            a, b = routes[x], routes[y]
            before = _penalised(a, *args) + _penalised(b, *args)
            gains = {
                i * lp + j: before
                - _penalised(a[: i + 1] + b[j + 1 :], *args)
                - _penalised(b[: j + 1] + a[i + 1 :], *args)
                for i in range(len(a) - 1)
                for j in range(len(b) - 1)
            }
            cut = int(best_k[row, k])
            assert best_g[row, k] == pytest.approx(max(gains.values()))
            assert gains[cut] == pytest.approx(best_g[row, k])


def test_cheapest_insertion_per_day_matches_inserting_everywhere() -> None:
    rng = np.random.default_rng(11)
    n, days, per_day = 30, 3, 2
    pts = rng.random((n + 1, 2)) * 100
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    q = np.r_[0.0, rng.integers(1, 10, n).astype(float)]
    s = np.r_[0.0, rng.integers(5, 20, n).astype(float)]
    cap, alpha, max_dur, beta = 35.0, 3.0, 250.0, 2.0
    c = n  # the customer to insert; the others are spread over the routes of the days
    routes = [[] for _ in range(days * per_day)]
    for k in range(1, n):
        routes[int(rng.integers(len(routes)))].append(k)
    routes[1] = []  # an empty route: its one edge is depot -> depot
    arrs = [[0, *r, 0] for r in routes]
    frm = np.array([a for arr in arrs for a in arr[:-1]], dtype=np.intp)
    to = np.array([b for arr in arrs for b in arr[1:]], dtype=np.intp)
    rix = np.array([i for i, arr in enumerate(arrs) for _ in arr[:-1]], dtype=np.intp)
    offs = np.cumsum([0] + [len(arr) - 1 for arr in arrs])
    load = np.array([sum(q[k] for k in r) for r in routes])
    travel = np.array([_travel(d, arr) for arr in arrs])
    svc = np.array([sum(s[k] for k in r) for r in routes])
    day_min, day_edge = cheapest_insertions(
        (np.ascontiguousarray(d[:, c]), d[c]),
        (frm, to, rix, d[frm, to]),
        offs[:-1:per_day].astype(np.intp),
        (load, travel, svc),
        (q[c], s[c]),
        (True, cap, alpha, True, max_dur, beta),
    )
    args = (d, q, s, cap, alpha, max_dur, beta)
    for day in range(days):
        costs = {}
        for r in range(day * per_day, (day + 1) * per_day):
            arr = arrs[r]
            for pos in range(1, len(arr)):
                after = [*arr[:pos], c, *arr[pos:]]
                costs[int(offs[r]) + pos - 1] = _penalised(after, *args) - _penalised(arr, *args)
        assert day_min[day] == pytest.approx(min(costs.values()))
        assert costs[int(day_edge[day])] == pytest.approx(day_min[day])


def _random_day(seed: int, n: int = 30, n_routes: int = 8) -> tuple[np.ndarray, list[list[int]]]:
    """A travel matrix (asymmetric) and ``n_routes`` routes over customers 1..n, two empty."""
    rng = np.random.default_rng(seed)
    pts = rng.random((n + 1, 2)) * 100
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)) * (1 + 0.2 * rng.random((n + 1, n + 1)))
    routes: list[list[int]] = [[] for _ in range(n_routes)]
    for k in rng.permutation(n) + 1:
        routes[int(rng.integers(n_routes - 2))].append(int(k))
    routes[n_routes - 2], routes[2] = routes[2], []  # empty routes in the middle and at the end
    return d, routes


def _padded(routes: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    arrs = [[0, *r, 0] for r in routes]
    nodes = np.zeros((len(arrs), max(len(a) for a in arrs)), dtype=np.intp)
    for i, a in enumerate(arrs):
        nodes[i, : len(a)] = a
    return nodes, np.array([len(a) for a in arrs], dtype=np.intp)


def test_day_profile_is_the_running_sum_along_each_route() -> None:
    d, routes = _random_day(3)
    rng = np.random.default_rng(4)
    q, s = rng.random(len(d)), rng.random(len(d))
    nodes, _ = _padded(routes)
    fwd, load, service = day_profile(d, q, s, nodes)
    for i in range(len(routes)):
        row = nodes[i].tolist()
        assert fwd[i, 0] == 0.0
        for j in range(1, len(row)):
            assert fwd[i, j] == pytest.approx(_travel(d, row[: j + 1]))
        assert load[i] == pytest.approx(np.cumsum(q[row]))
        assert service[i] == pytest.approx(np.cumsum(s[row]))


@pytest.mark.parametrize("k", [2, 5, 7])
def test_near_routes_orders_routes_by_their_nearest_sample_stops(k: int) -> None:
    d, routes = _random_day(5)
    nodes, lens = _padded(routes)
    rows = np.array([0, 1, 3, 6], dtype=np.intp)
    near = near_routes(d, nodes, lens, rows, k)
    if len(routes) - 1 <= k:  # every route is a neighbour
        assert near.tolist() == [list(range(len(routes)))] * len(rows)
        return

    def samples(r: list[int]) -> list[int]:
        return [r[min(len(r) * f // 4, len(r) - 1)] for f in (1, 2, 3)]

    for row, x in zip(near, rows, strict=True):
        dist = {
            y: min(d[a, b] for a in samples(routes[x]) for b in samples(routes[y]))
            for y in range(len(routes))
            if routes[y] and y != x
        }
        expected = [int(x), *sorted(dist, key=lambda y: (dist[y], y))][: k + 1]
        assert row.tolist() == [*expected, 2]  # the first empty route is always a partner


def _edge_arrays(routes: list[list[int]], d: np.ndarray) -> tuple[np.ndarray, ...]:
    arrs = [[0, *r, 0] for r in routes]
    ftr = np.array(
        [
            [a for arr in arrs for a in arr[:-1]],
            [b for arr in arrs for b in arr[1:]],
            [i for i, arr in enumerate(arrs) for _ in arr[:-1]],
        ],
        dtype=np.intp,
    )
    offs = np.cumsum([0] + [len(arr) - 1 for arr in arrs]).astype(np.intp)
    return ftr, d[ftr[0], ftr[1]], offs


def test_edge_updates_match_the_edges_of_the_edited_routes() -> None:
    d, routes = _random_day(6)
    before = _edge_arrays(routes, d)
    c = routes[1][2]
    routes[5].insert(1, c)  # visited on two routes (two days)
    two = _edge_arrays(routes, d)
    places = np.array([[1, 2, routes[1][1], routes[1][3]], [5, 1, routes[5][0], routes[5][2]]])
    for r, pos in ((5, 1), (1, 2)):
        del routes[r][pos]
    after = _edge_arrays(routes, d)
    for got, want in zip(splice_edges(two, d, 0, places), after, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(splice_edges(before, d, 0, places[:1]), after, strict=True):
        np.testing.assert_array_equal(got, want)
    # an empty route, the end of a route, the middle of another: one by one and all at once
    chosen = ((0, len(routes[0])), (2, 0), (4, 1))
    edited = [list(x) for x in routes]
    rows = []
    for r, pos in chosen:
        seq = routes[r]
        stops = [r, pos, seq[pos - 1] if pos else 0, seq[pos] if pos < len(seq) else 0]
        rows.append(stops)
        edited[r].insert(pos, c)
        one = [list(x) for x in routes]
        one[r].insert(pos, c)
        got = splice_edges(after, d, c, np.array([stops]))
        for g, want in zip(got, _edge_arrays(one, d), strict=True):
            np.testing.assert_array_equal(g, want)
    for g, want in zip(
        splice_edges(after, d, c, np.array(rows)), _edge_arrays(edited, d), strict=True
    ):
        np.testing.assert_array_equal(g, want)


def test_removal_savings_are_the_travel_saved_by_each_removal() -> None:
    d, routes = _random_day(7, n=25)
    routes[5].append(routes[0][0])  # a customer on two routes (two days) saves both
    ftr, _, _ = _edge_arrays(routes, d)
    sav = removal_savings(d, ftr[0], ftr[1], ftr[2], 26)
    assert sav[26] == 0.0 and sav[0] == 0.0  # not on any route; the depot
    for c in range(1, 26):
        saved = 0.0
        for r in routes:
            if c in r:
                arr = [0, *r, 0]
                saved += _travel(d, arr) - _travel(d, [x for x in arr if x != c])
        assert sav[c] == pytest.approx(saved)
