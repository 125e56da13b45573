"""The periodic engine's hottest loops, compiled with numba: a route's 2-opt / Or-opt descent,
the gains of the tail exchanges (2-opt*) of a day and a customer's cheapest insertion per day.

`periodic` evaluated them as numpy sweeps over every candidate move: a route's 2-opt and Or-opt
moves as flat index arrays, the tail exchanges as a 4-d array (route, partner, cut on the route,
cut on the partner), the insertions over every edge of every route. These kernels visit the same
candidates in the same order with the same arithmetic, so they choose the same moves (the first
best on ties, as numpy's ``argmax`` / ``argmin``) and the engine's results are unchanged to the
last bit; they skip the temporary arrays, which took most of the search's time (a search
iteration now takes 0.41-0.61x the CPU on the classical instances).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["best_tail_exchanges", "cheapest_insertions", "improve_route"]


@njit(cache=True)
def improve_route(
    d: NDArray[np.float64], route: NDArray[np.intp], symmetric: bool, eps: float
) -> tuple[NDArray[np.intp], float]:
    """Best-improvement 2-opt + Or-opt (segments of 1-3, and reversed when ``symmetric``) on the
    node array ``route`` (depot at both ends); the improved array and the travel saved.

    Per pass the best move of all is applied (2-opt first on ties, then Or-opt, then reversed
    Or-opt), until none gains more than ``eps``. With asymmetric costs 2-opt accounts for the
    reversed stretch and Or-opt keeps a segment's direction.
    """
    a = route.copy()
    total = 0.0
    n = len(a)
    while n >= 4:
        last = n - 1
        ef = np.empty(last)
        for k in range(last):
            ef[k] = d[a[k], a[k + 1]]
        cf = np.zeros(n)
        cb = np.zeros(n)
        if not symmetric:
            for k in range(last):
                cf[k + 1] = cf[k] + ef[k]
                cb[k + 1] = cb[k] + d[a[k + 1], a[k]]
        best2, bi, bj = -np.inf, -1, -1
        for i in range(last):
            for j in range(i + 2, last):
                g = ef[i] + ef[j] - d[a[i], a[j]] - d[a[i + 1], a[j + 1]]
                if not symmetric:
                    g = g + ((cf[j] - cf[i + 1]) - (cb[j] - cb[i + 1]))
                if g > best2:
                    best2, bi, bj = g, i, j
        besto, os_, ok, oj = -np.inf, -1, -1, -1
        bestr, rs, rk, rj = -np.inf, -1, -1, -1
        for k in range(1, 4):
            for s in range(1, last - k + 1):
                e = s + k - 1
                for j in range(last):
                    if not (j < s - 1 or j > e):
                        continue
                    rem = ef[s - 1] + ef[e] - d[a[s - 1], a[e + 1]] + ef[j]
                    g = rem - d[a[j], a[s]] - d[a[e], a[j + 1]]
                    if g > besto:
                        besto, os_, ok, oj = g, s, k, j
                    if symmetric:
                        g = rem - d[a[j], a[e]] - d[a[s], a[j + 1]]
                        if g > bestr:
                            bestr, rs, rk, rj = g, s, k, j
        best = max(best2, besto, bestr)
        if best <= eps:
            break
        if best == best2:
            a[bi + 1 : bj + 1] = a[bi + 1 : bj + 1][::-1].copy()
        else:
            forward = best == besto
            s, k, j = (os_, ok, oj) if forward else (rs, rk, rj)
            seg = a[s : s + k].copy()
            if not forward:
                seg = seg[::-1].copy()
            b = np.empty(n, dtype=a.dtype)
            if j < s:  # a[:j+1] + seg + a[j+1:s] + a[s+k:]
                b[: j + 1] = a[: j + 1]
                b[j + 1 : j + 1 + k] = seg
                b[j + 1 + k : s + k] = a[j + 1 : s]
                b[s + k :] = a[s + k :]
            else:  # a[:s] + a[s+k:j+1] + seg + a[j+1:]
                b[:s] = a[:s]
                b[s : j + 1 - k] = a[s + k : j + 1]
                b[j + 1 - k : j + 1] = seg
                b[j + 1 :] = a[j + 1 :]
            a = b
        total += best
    return a, total


@njit(cache=True)
def best_tail_exchanges(
    d: NDArray[np.float64],
    nodes: NDArray[np.intp],
    lens: NDArray[np.intp],
    fwd: NDArray[np.float64],
    load: NDArray[np.float64],
    service: NDArray[np.float64],
    rx: NDArray[np.intp],
    ycand: NDArray[np.intp],
    limits: tuple[bool, float, float, bool, float, float],
) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.float64]]:
    """For each focus route ``rx[r]`` and partner ``ycand[r, k]`` of one day: the penalised gain
    of the best tail exchange and its cut pair ``i * lp + j`` (cut the route after position i,
    the partner after j), and each route's penalised value.

    ``nodes`` are the day's routes padded with the depot (``lens`` nodes each), ``fwd``, ``load``
    and ``service`` their prefix sums; ``limits`` is (capacity on, capacity, its weight, duration
    limit on, the limit, its weight). A pair with no valid cut, or a route with itself, has gain
    -inf and cut 0.
    """
    has_cap, cap, alpha, has_dur, max_dur, beta = limits
    n_routes, width = nodes.shape
    lp = width - 1
    tot_t = fwd[:, lp]
    tot_q = load[:, lp]
    tot_s = service[:, lp]
    val = tot_t.copy()
    for r in range(n_routes):
        if has_cap:
            val[r] = val[r] + alpha * max(tot_q[r] - cap, 0.0)
        if has_dur:
            val[r] = val[r] + beta * max(tot_t[r] + tot_s[r] - max_dur, 0.0)
    rows, kk = ycand.shape
    best_g = np.full((rows, kk), -np.inf)
    best_k = np.zeros((rows, kk), dtype=np.intp)
    for r in range(rows):
        x = rx[r]
        for k in range(kk):
            y = ycand[r, k]
            if x == y:
                continue
            both = val[x] + val[y]
            g_best, cut = -np.inf, 0
            for i in range(lens[x] - 1):
                xi, xn = nodes[x, i], nodes[x, i + 1]
                for j in range(lens[y] - 1):
                    yj, yn = nodes[y, j], nodes[y, j + 1]
                    trav_x = fwd[x, i] + d[xi, yn] + (tot_t[y] - fwd[y, j + 1])
                    trav_y = fwd[y, j] + d[yj, xn] + (tot_t[x] - fwd[x, i + 1])
                    new = trav_x + trav_y
                    if has_cap:
                        load_x = load[x, i] + (tot_q[y] - load[y, j])
                        load_y = load[y, j] + (tot_q[x] - load[x, i])
                        new = new + alpha * (max(load_x - cap, 0.0) + max(load_y - cap, 0.0))
                    if has_dur:
                        dur_x = trav_x + service[x, i] + (tot_s[y] - service[y, j])
                        dur_y = trav_y + service[y, j] + (tot_s[x] - service[x, i])
                        new = new + beta * (max(dur_x - max_dur, 0.0) + max(dur_y - max_dur, 0.0))
                    g = both - new
                    if g > g_best:
                        g_best, cut = g, i * lp + j
            best_g[r, k] = g_best
            best_k[r, k] = cut
    return best_g, best_k, val


@njit(cache=True)
def cheapest_insertions(
    legs: tuple[NDArray[np.float64], NDArray[np.float64]],
    edges: tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]],
    day_starts: NDArray[np.intp],
    routes: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    visit: tuple[float, float],
    limits: tuple[bool, float, float, bool, float, float],
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """The penalised cost of inserting a customer on each day at its cheapest edge, and that
    edge.

    ``legs`` are the travel from every node to the customer and from the customer to every node
    (a column and a row of the travel matrix, both contiguous); ``edges`` every route's edges
    grouped by route, routes by day (from, to, route, travel); ``day_starts`` the first edge of
    each day; ``routes`` each route's (load, travel, service); ``visit`` the customer's (demand,
    service); ``limits`` as in `best_tail_exchanges`. The first cheapest edge of a day wins a
    tie.
    """
    into, out = legs
    frm, to, rix, base = edges
    load, travel, svc = routes
    q_c, s_c = visit
    has_cap, cap, alpha, has_dur, max_dur, beta = limits
    n_edges = len(frm)
    days = len(day_starts)
    day_min = np.empty(days)
    day_arg = np.empty(days, dtype=np.intp)
    for day in range(days):
        lo = day_starts[day]
        hi = day_starts[day + 1] if day + 1 < days else n_edges
        best, arg = np.inf, lo
        for e in range(lo, hi):
            delta = into[frm[e]] + out[to[e]] - base[e]
            tot = delta
            r = rix[e]
            if has_cap:
                tot = tot + alpha * (max(load[r] + q_c - cap, 0.0) - max(load[r] - cap, 0.0))
            if has_dur:
                dur = travel[r] + svc[r]
                tot = tot + beta * (max(dur + delta + s_c - max_dur, 0.0) - max(dur - max_dur, 0.0))
            if tot < best:
                best, arg = tot, e
        day_min[day] = best
        day_arg[day] = arg
    return day_min, day_arg
