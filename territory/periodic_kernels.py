"""The periodic engine's hottest loops, compiled with numba: a route's 2-opt / Or-opt descent,
the gains of the tail exchanges (2-opt*) of a day and a customer's cheapest insertion per day;
and the bookkeeping around them: a day's prefix sums and neighbouring routes for 2-opt*, the
edge cache that cheapest insertion reads (a customer's visits spliced in or out) and the travel
each customer's removal saves.

`periodic` evaluated them as numpy sweeps over every candidate move: a route's 2-opt and Or-opt
moves as flat index arrays, the tail exchanges as a 4-d array (route, partner, cut on the route,
cut on the partner), the insertions over every edge of every route. These kernels visit the same
candidates in the same order with the same arithmetic, so they choose the same moves (the first
best on ties, as numpy's ``argmax`` / ``argmin``) and the engine's results are unchanged to the
last bit; they skip the temporary arrays, which took most of the search's time (a search
iteration took 0.41-0.61x the CPU on the classical instances with the first three, and
0.53-0.80x of that again with the bookkeeping compiled too).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = [
    "best_tail_exchanges",
    "cheapest_insertions",
    "day_profile",
    "improve_route",
    "near_routes",
    "removal_savings",
    "splice_edges",
]


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


@njit(cache=True)
def day_profile(
    d: NDArray[np.float64], q: NDArray[np.float64], s: NDArray[np.float64], nodes: NDArray[np.intp]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Prefix sums along each padded route of ``nodes``: travel up to each position, demand
    and service up to and including it (the running sums of ``numpy.cumsum``)."""
    n_routes, width = nodes.shape
    fwd = np.zeros((n_routes, width))
    load = np.empty((n_routes, width))
    service = np.empty((n_routes, width))
    for r in range(n_routes):
        acc = 0.0
        for j in range(width - 1):
            acc += d[nodes[r, j], nodes[r, j + 1]]
            fwd[r, j + 1] = acc
        acc_q = 0.0
        acc_s = 0.0
        for j in range(width):
            acc_q += q[nodes[r, j]]
            acc_s += s[nodes[r, j]]
            load[r, j] = acc_q
            service[r, j] = acc_s
    return fwd, load, service


@njit(cache=True)
def near_routes(
    d: NDArray[np.float64],
    nodes: NDArray[np.intp],
    lens: NDArray[np.intp],
    rows: NDArray[np.intp],
    k: int,
) -> NDArray[np.intp]:
    """The ``k`` routes of a day nearest to each route in ``rows``, itself first, plus the first
    empty route when there is one (every route when the day has at most ``k + 1``).

    Two routes are as near as their nearest pair of sample stops, three per route at a quarter,
    half and three quarters of it; an empty route is infinitely far. Ties keep the route order
    (a stable sort). Tails are only exchanged between such neighbours (a granular neighbourhood,
    Toth & Vigo 2003), which keeps 2-opt* affordable with many vehicles per day.
    """
    m = nodes.shape[0]
    n_rows = len(rows)
    if m - 1 <= k:
        every = np.empty((n_rows, m), dtype=np.intp)
        for i in range(n_rows):
            for j in range(m):
                every[i, j] = j
        return every
    reps = np.empty((m, 3), dtype=np.intp)
    first_empty = -1
    for r in range(m):
        cust = max(lens[r] - 2, 0)
        last = max(lens[r] - 2, 1)
        for f in range(3):
            reps[r, f] = nodes[r, min(1 + cust * (f + 1) // 4, last)]
        if cust == 0 and first_empty < 0:
            first_empty = r
    extra = 1 if first_empty >= 0 else 0
    near = np.empty((n_rows, k + 1 + extra), dtype=np.intp)
    dist = np.empty(m)
    order = np.empty(m, dtype=np.intp)
    for i in range(n_rows):
        x = rows[i]
        for y in range(m):
            best = np.inf
            if lens[y] > 2:
                for a in range(3):
                    for b in range(3):
                        best = min(best, d[reps[x, a], reps[y, b]])
            dist[y] = best
        dist[x] = -1.0
        for j in range(m):  # a stable insertion sort (a day has few routes)
            p = j
            while p > 0 and dist[order[p - 1]] > dist[j]:
                order[p] = order[p - 1]
                p -= 1
            order[p] = j
        for j in range(k + 1):
            near[i, j] = order[j]
        if first_empty >= 0:
            near[i, k + 1] = first_empty
    return near


@njit(cache=True)
def _copy_edges(
    old: tuple[NDArray[np.intp], NDArray[np.float64]],
    start: int,
    stop: int,
    out: tuple[NDArray[np.intp], NDArray[np.float64]],
    dst: int,
) -> int:
    """Copy edges ``start .. stop - 1`` (from, to, route rows and travel) to ``out`` from
    position ``dst``; the position after them."""
    ftr, base = old
    new, nb = out
    for j in range(start, stop):
        new[0, dst], new[1, dst], new[2, dst] = ftr[0, j], ftr[1, j], ftr[2, j]
        nb[dst] = base[j]
        dst += 1
    return dst


@njit(cache=True)
def splice_edges(
    edges: tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]],
    d: NDArray[np.float64],
    c: int,
    places: NDArray[np.intp],
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    """The edge cache after one customer's visits are inserted or removed.

    ``edges`` are (from, to, route) as rows, each edge's travel and each route's first edge;
    ``places`` one row ``(r, pos, prev, nxt)`` per visit, routes in increasing order. With a
    customer ``c`` (> 0) edge ``pos`` of route ``r``, (prev, nxt), becomes (prev, c), (c, nxt);
    with ``c`` 0 edges ``pos`` and ``pos + 1``, (prev, c) and (c, nxt), become (prev, nxt).
    New arrays, never in place (a copied state shares them).
    """
    ftr, base, offs = edges
    k = places.shape[0]
    grow = 1 if c > 0 else -1
    n_new = ftr.shape[1] + grow * k
    new = np.empty((3, n_new), dtype=np.intp)
    nb = np.empty(n_new)
    new_offs = offs.copy()
    src = dst = 0
    for i in range(k):
        r, pos, prev, nxt = places[i, 0], places[i, 1], places[i, 2], places[i, 3]
        e = offs[r] + pos
        dst = _copy_edges((ftr, base), src, e, (new, nb), dst)
        if c > 0:
            new[0, dst], new[1, dst], new[2, dst] = prev, c, r
            new[0, dst + 1], new[1, dst + 1], new[2, dst + 1] = c, nxt, r
            nb[dst] = d[prev, c]
            nb[dst + 1] = d[c, nxt]
            dst += 2
            src = e + 1
        else:
            new[0, dst], new[1, dst], new[2, dst] = prev, nxt, r
            nb[dst] = d[prev, nxt]
            dst += 1
            src = e + 2
        for j in range(r + 1, len(new_offs)):
            new_offs[j] += grow
    _copy_edges((ftr, base), src, ftr.shape[1], (new, nb), dst)
    return new, nb, new_offs


@njit(cache=True)
def removal_savings(
    d: NDArray[np.float64],
    frm: NDArray[np.intp],
    to: NDArray[np.intp],
    rix: NDArray[np.intp],
    n: int,
) -> NDArray[np.float64]:
    """Travel saved by taking each of the ``n`` customers out of all its routes (0 when it is in
    none), from every route's edges grouped by route (from, to, route), routes in order."""
    sav = np.zeros(n + 1)
    for e in range(len(frm) - 1):
        if rix[e] == rix[e + 1]:
            c = to[e]
            sav[c] += d[frm[e], c] + d[c, to[e + 1]] - d[frm[e], to[e + 1]]
    return sav
