"""Compiled parts of the hybrid genetic search for the periodic plan (`periodic_hgs`).

One individual is a route table: ``routes[r, :rlen[r]]`` are the customers of route ``r``
(route ``r`` runs on day ``r // m``; the depot is implicit at both ends). The education is the
local search of Vidal, Crainic, Gendreau, Lahrichi & Rei (2012) for the periodic VRP, compiled:
route improvement (relocate of one or two visits, swap of one or two against one, 2-opt within a
route and 2-opt* between the routes of a day, each move pairing a visit with one of its
customer's nearest neighbours visited that day) and pattern improvement (each customer on its
best allowed pattern, a visit on each of its days kept in place or moved to the cheapest place
next to one of those neighbours), both under penalised load and duration excess, repeated until
neither gains. The crossover is their periodic crossover (PIX): some days from one parent, some
from the other, some mixed, the visits that keep a customer's days within an allowed pattern
taken over, each day's sequence cut into routes by a split that respects the fleet.

Hot loops call no function that takes arrays: numba counts references to every array argument
on each call, which cost more than the moves themselves when it was once per pair.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

_I = NDArray[np.int64]
_F = NDArray[np.float64]

_EPS = 1e-7


@njit(cache=True)
def _pc(
    tr: float,
    ld: float,
    sv: float,
    cap: float,
    maxd: float,
    alpha: float,
    beta: float,
) -> float:
    c = tr
    if ld > cap:
        c += alpha * (ld - cap)
    if tr + sv > maxd:
        c += beta * (tr + sv - maxd)
    return c


@njit(cache=True)
def _update(
    r: int,
    routes: _I,
    rlen: _I,
    d: _F,
    q: _F,
    s: _F,
    m: int,
    pos: _I,
    rof: _I,
    ctr: _F,
    cld: _F,
    csv: _F,
    rtr: _F,
    rld: _F,
    rsv: _F,
) -> None:
    day = r // m
    prev = 0
    tr = 0.0
    ld = 0.0
    sv = 0.0
    for i in range(rlen[r]):
        c = routes[r, i]
        tr += d[prev, c]
        ld += q[c]
        sv += s[c]
        ctr[r, i] = tr
        cld[r, i] = ld
        csv[r, i] = sv
        pos[c, day] = i
        rof[c, day] = r
        prev = c
    tr += d[prev, 0]
    rtr[r] = tr
    rld[r] = ld
    rsv[r] = sv


@njit(cache=True)
def _rebuild(
    r: int,
    routes: _I,
    rlen: _I,
    buf: _I,
    skip1: int,
    skip2: int,
    rep1: int,
    rep1a: int,
    rep1b: int,
    after: int,
    ins1: int,
    ins2: int,
) -> None:
    """Rewrite route ``r``: drop ``skip1``/``skip2``; ``rep1`` becomes ``rep1a`` (and ``rep1b``
    after it when > 0); after node ``after`` (0: at the head, -1: nowhere) come ``ins1`` and
    ``ins2`` (when > 0)."""
    k = 0
    if after == 0:
        if ins1 > 0:
            buf[k] = ins1
            k += 1
        if ins2 > 0:
            buf[k] = ins2
            k += 1
    for i in range(rlen[r]):
        c = routes[r, i]
        if c in (skip1, skip2):  # never ``after``: the callers insert after a kept node
            continue
        if c == rep1:
            buf[k] = rep1a
            k += 1
            if rep1b > 0:
                buf[k] = rep1b
                k += 1
        else:
            buf[k] = c
            k += 1
        if c == after:
            if ins1 > 0:
                buf[k] = ins1
                k += 1
            if ins2 > 0:
                buf[k] = ins2
                k += 1
    for i in range(k):
        routes[r, i] = buf[i]
    rlen[r] = k


@njit(cache=True)
def _clear(
    c: int,
    day: int,
    pos: _I,
    rof: _I,
) -> None:
    pos[c, day] = -1
    rof[c, day] = -1


@njit(cache=True)
def educate(
    routes: _I,
    rlen: _I,
    d: _F,
    q: _F,
    s: _F,
    cap: float,
    maxd: float,
    m: int,
    t: int,
    nb: _I,
    pat_flat: _I,
    pat_off: _I,
    alpha: float,
    beta: float,
    seed: int,
    random_patterns: bool,
    symmetric: bool,
    granular_pi: bool = True,
    check: bool = False,
    touched: _I | None = None,
) -> int:
    """Complete every customer's visits to an allowed pattern and run the local search in
    place; returns the number of moves applied. With ``check``, every applied move is checked
    against the penalised cost of all routes recomputed (ValueError if it did not gain; for
    the tests).

    With ``touched`` (route indices), the search starts focused on them: the other routes count
    as already searched, so a move is first tried only where it involves a touched route (or one
    a move has changed since), as if the rest were a local optimum. Without it, every route is
    searched (the same as all routes touched)."""
    np.random.seed(seed)
    n1 = d.shape[0]
    nr = routes.shape[0]
    lmax = routes.shape[1]
    pos = np.full((n1, t), -1, dtype=np.int64)
    rof = np.full((n1, t), -1, dtype=np.int64)
    ctr = np.zeros((nr, lmax))
    cld = np.zeros((nr, lmax))
    csv = np.zeros((nr, lmax))
    rtr = np.zeros(nr)
    rld = np.zeros(nr)
    rsv = np.zeros(nr)
    buf = np.zeros(lmax + 2, dtype=np.int64)
    for r in range(nr):
        _update(r, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
    mask = np.zeros(n1, dtype=np.int64)
    for c in range(1, n1):
        for day in range(t):
            if pos[c, day] >= 0:
                mask[c] |= 1 << day
    ins_cost = np.zeros(t)
    rem = np.zeros(t)
    ins_route = np.zeros(t, dtype=np.int64)
    ins_after = np.zeros(t, dtype=np.int64)
    moves = 0
    # the clock of each route's last change: 1 for those to search, 0 for those taken as
    # searched (`last_test` and `last_pi` start at 0)
    modified = np.ones(nr, dtype=np.int64)
    if touched is not None:
        modified[:] = 0
        for r in touched:
            modified[r] = 1
    # --- completion: every customer on an allowed pattern ---------------------------------
    order = np.random.permutation(n1 - 1) + 1
    for c in order:
        ok = False
        for k in range(pat_off[c], pat_off[c + 1]):
            if pat_flat[k] == mask[c]:
                ok = True
                break
        if ok:
            continue
        # the cheapest pattern containing the days already visited, else any
        _pattern_deltas(
            c, routes, rlen, d, q, s, cap, maxd, m, t, rtr, rld, rsv, alpha, beta, rem, ins_cost,
            ins_route, ins_after, nb, pos, rof, False,
        )  # fmt: skip
        best_p, best_v = _cheapest_pattern(
            c, mask[c], pat_flat, pat_off, ins_cost, t, random_patterns
        )
        if best_p < 0:  # no allowed pattern holds these days: start again from none
            for day in range(t):
                if (mask[c] >> day) & 1:
                    r = rof[c, day]
                    _rebuild(r, routes, rlen, buf, c, -1, -1, 0, 0, -1, 0, 0)
                    _clear(c, day, pos, rof)
                    _update(r, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                    modified[r] = 1
            mask[c] = 0
            _pattern_deltas(
                c, routes, rlen, d, q, s, cap, maxd, m, t, rtr, rld, rsv, alpha, beta, rem, ins_cost,
                ins_route, ins_after, nb, pos, rof, False,
            )  # fmt: skip
            best_p, best_v = _cheapest_pattern(
                c, 0, pat_flat, pat_off, ins_cost, t, random_patterns
            )
        for day in range(t):
            if (best_p >> day) & 1 and not (mask[c] >> day) & 1:
                r = ins_route[day]
                _rebuild(r, routes, rlen, buf, -1, -1, -1, 0, 0, ins_after[day], c, 0)
                _update(r, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                modified[r] = 1
        mask[c] = best_p
    # --- local search -------------------------------------------------------------------
    last_test = np.zeros((n1, t), dtype=np.int64)
    last_pi = np.zeros(n1, dtype=np.int64)
    clock = 1
    k_nb = nb.shape[1]
    while True:
        # route improvement until no move gains
        improved = True
        while improved:
            improved = False
            order = np.random.permutation(n1 - 1) + 1
            for u in order:
                for day in range(t):
                    if pos[u, day] < 0:
                        continue
                    t0 = clock
                    # the first neighbour whose pair changed since the visit was last tried
                    # (found here, without a call, as most visits have none)
                    tested = last_test[u, day]
                    k0 = 0
                    if modified[rof[u, day]] <= tested:
                        k0 = k_nb
                        for kk in range(k_nb):
                            v = nb[u, kk]
                            if pos[v, day] >= 0 and modified[rof[v, day]] > tested:
                                k0 = kk
                                break
                    while k0 < k_nb:
                        before = _total(rtr, rld, rsv, cap, maxd, alpha, beta) if check else 0.0
                        hit = _try_moves(
                            u, day, k0, tested, clock + 1, nb, modified, routes, rlen,
                            d, q, s, cap, maxd, m, pos, rof, ctr, cld, csv, rtr, rld, rsv, alpha,
                            beta, buf, symmetric,
                        )  # fmt: skip
                        if hit < 0:
                            break
                        clock += 1
                        improved = True
                        moves += 1
                        if check:
                            _gained(before, _total(rtr, rld, rsv, cap, maxd, alpha, beta))
                        k0 = hit + 1
                    # into an empty route of the day
                    ru = rof[u, day]
                    if m > 1 and rlen[ru] > 1 and modified[ru] > tested:
                        re = -1
                        for r in range(day * m, day * m + m):
                            if rlen[r] == 0:
                                re = r
                                break
                        if re >= 0:
                            i = pos[u, day]
                            pu = routes[ru, i - 1] if 0 <= i - 1 < rlen[ru] else 0
                            xu = routes[ru, i + 1] if 0 <= i + 1 < rlen[ru] else 0
                            ntr = rtr[ru] + d[pu, xu] - d[pu, u] - d[u, xu]
                            old = _pc(rtr[ru], rld[ru], rsv[ru], cap, maxd, alpha, beta)
                            new = _pc(ntr, rld[ru] - q[u], rsv[ru] - s[u], cap, maxd, alpha, beta)
                            new += _pc(d[0, u] + d[u, 0], q[u], s[u], cap, maxd, alpha, beta)
                            if new < old - _EPS:
                                before = (
                                    _total(rtr, rld, rsv, cap, maxd, alpha, beta) if check else 0.0
                                )
                                _rebuild(ru, routes, rlen, buf, u, -1, -1, 0, 0, -1, 0, 0)
                                routes[re, 0] = u
                                rlen[re] = 1
                                _update(
                                    ru, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr,
                                    rld, rsv,
                                )  # fmt: skip
                                _update(
                                    re, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr,
                                    rld, rsv,
                                )  # fmt: skip
                                clock += 1
                                modified[ru] = clock
                                modified[re] = clock
                                improved = True
                                moves += 1
                                if check:
                                    _gained(before, _total(rtr, rld, rsv, cap, maxd, alpha, beta))
                    last_test[u, day] = t0
        # pattern improvement: each customer's best pattern, a day kept in place unless
        # moving its visit gains
        pi = False
        order = np.random.permutation(n1 - 1) + 1
        for c in order:
            if granular_pi and not _pattern_stale(
                c, last_pi[c], nb, m, t, pos, rof, rlen, modified
            ):
                continue
            last_pi[c] = clock
            pi_before = _total(rtr, rld, rsv, cap, maxd, alpha, beta) if check else 0.0
            _pattern_deltas(
                c, routes, rlen, d, q, s, cap, maxd, m, t, rtr, rld, rsv, alpha, beta, rem,
                ins_cost, ins_route, ins_after, nb, pos, rof, granular_pi,
            )  # fmt: skip
            have = mask[c]
            best_p = -1
            best_v = -_EPS
            for k in range(pat_off[c], pat_off[c + 1]):
                p = pat_flat[k]
                v = 0.0
                for day in range(t):
                    if (p >> day) & 1:
                        if (have >> day) & 1:
                            v += min(0.0, rem[day] + ins_cost[day])
                        else:
                            v += ins_cost[day]
                    elif (have >> day) & 1:
                        v += rem[day]
                if v < best_v:
                    best_v = v
                    best_p = p
            if best_p < 0:
                continue
            for day in range(t):
                inp = (best_p >> day) & 1
                inc = (have >> day) & 1
                if inc and inp and rem[day] + ins_cost[day] >= 0.0:
                    continue  # kept in place
                if inc:
                    r = rof[c, day]
                    _rebuild(r, routes, rlen, buf, c, -1, -1, 0, 0, -1, 0, 0)
                    _clear(c, day, pos, rof)
                    _update(r, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                    clock += 1
                    modified[r] = clock
                if inp:
                    r = ins_route[day]
                    _rebuild(r, routes, rlen, buf, -1, -1, -1, 0, 0, ins_after[day], c, 0)
                    _update(r, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                    clock += 1
                    modified[r] = clock
            mask[c] = best_p
            pi = True
            moves += 1
            if check:
                _gained(pi_before, _total(rtr, rld, rsv, cap, maxd, alpha, beta))
        if not pi:
            break
    return moves


@njit(cache=True)
def _cheapest_pattern(
    c: int, have: int, pat_flat: _I, pat_off: _I, ins_cost: _F, t: int, random: bool
) -> tuple[int, float]:
    """Customer ``c``'s allowed pattern holding the days ``have`` whose other days cost least
    to insert (``ins_cost`` per day), or a random one of them; -1 when none holds them."""
    best_p = -1
    best_v = np.inf
    cnt = 0
    for k in range(pat_off[c], pat_off[c + 1]):
        p = pat_flat[k]
        if p & have != have:
            continue
        v = 0.0
        for day in range(t):
            if (p >> day) & 1 and not (have >> day) & 1:
                v += ins_cost[day]
        if random:
            cnt += 1
            if np.random.randint(cnt) == 0:
                best_p = p
                best_v = v
        elif v < best_v:
            best_v = v
            best_p = p
    return best_p, best_v


@njit(cache=True)
def _total(rtr: _F, rld: _F, rsv: _F, cap: float, maxd: float, alpha: float, beta: float) -> float:
    """Penalised cost of all routes."""
    total = 0.0
    for r in range(len(rtr)):
        total += _pc(rtr[r], rld[r], rsv[r], cap, maxd, alpha, beta)
    return total


@njit(cache=True)
def _gained(before: float, after: float) -> None:
    """The check of `educate`: an applied move must have lowered the penalised cost."""
    if after > before - 1e-9 * max(1.0, abs(before)):
        raise ValueError("educate: an applied move did not lower the penalised cost")


@njit(cache=True)
def _pattern_stale(
    c: int,
    tested: int,
    nb: _I,
    m: int,
    t: int,
    pos: _I,
    rof: _I,
    rlen: _I,
    modified: _I,
) -> bool:
    """Whether a route the granular pattern move of ``c`` looks at (its own, its neighbours',
    an empty one of a day) changed after ``tested``; else that move was tried on the same
    routes and gained nothing."""
    for day in range(t):
        r = rof[c, day]
        if r >= 0 and modified[r] > tested:
            return True
        for kk in range(nb.shape[1]):
            v = nb[c, kk]
            if pos[v, day] >= 0 and modified[rof[v, day]] > tested:
                return True
        for r in range(day * m, day * m + m):
            if rlen[r] == 0 and modified[r] > tested:
                return True
    return False


@njit(cache=True)
def _pattern_deltas(
    c: int,
    routes: _I,
    rlen: _I,
    d: _F,
    q: _F,
    s: _F,
    cap: float,
    maxd: float,
    m: int,
    t: int,
    rtr: _F,
    rld: _F,
    rsv: _F,
    alpha: float,
    beta: float,
    rem: _F,
    ins_cost: _F,
    ins_route: _I,
    ins_after: _I,
    nb: _I,
    pos: _I,
    rof: _I,
    granular: bool,
) -> None:
    """Per day, with the routes left as they are: ``rem``, the penalised cost change of taking
    ``c``'s visit out (0 where ``c`` is not visited), and the cheapest penalised insertion of
    ``c`` into the day without that visit (cost, route, node it follows), next to ``c``'s
    nearest neighbours visited that day and into an empty route with ``granular``, else at
    every place. The pattern moves take both; the completion of a child takes the insertions
    on the days ``c`` lacks."""
    for day in range(t):
        rc = rof[c, day]
        i = -1
        tr0 = 0.0
        ld0 = 0.0
        sv0 = 0.0
        own = 0.0
        rem[day] = 0.0
        if rc >= 0:
            i = pos[c, day]
            pc = routes[rc, i - 1] if 0 <= i - 1 < rlen[rc] else 0
            xc = routes[rc, i + 1] if 0 <= i + 1 < rlen[rc] else 0
            tr0 = rtr[rc] + d[pc, xc] - d[pc, c] - d[c, xc]
            if rlen[rc] == 1:
                tr0 = 0.0
            ld0 = rld[rc] - q[c]
            sv0 = rsv[rc] - s[c]
            own = _pc(tr0, ld0, sv0, cap, maxd, alpha, beta)
            rem[day] = own - _pc(rtr[rc], rld[rc], rsv[rc], cap, maxd, alpha, beta)
        best = np.inf
        br = -1
        ba = 0
        found = False
        if granular:
            for kk in range(nb.shape[1]):
                v = nb[c, kk]
                j = pos[v, day]
                if j < 0:
                    continue
                found = True
                r = rof[v, day]
                jp = j - 1
                jn = j + 1
                if r == rc:
                    btr = tr0
                    bld = ld0
                    bsv = sv0
                    old = own
                    if jp == i:
                        jp -= 1
                    if jn == i:
                        jn += 1
                else:
                    btr = rtr[r]
                    bld = rld[r]
                    bsv = rsv[r]
                    old = _pc(btr, bld, bsv, cap, maxd, alpha, beta)
                for side in range(2):
                    prev = (routes[r, jp] if 0 <= jp < rlen[r] else 0) if side == 0 else v
                    nxt = v if side == 0 else (routes[r, jn] if 0 <= jn < rlen[r] else 0)
                    dt = d[prev, c] + d[c, nxt] - d[prev, nxt]
                    val = _pc(btr + dt, bld + q[c], bsv + s[c], cap, maxd, alpha, beta) - old
                    if val < best:
                        best = val
                        br = r
                        ba = prev
            if found:
                for r in range(day * m, day * m + m):
                    if rlen[r] == 0:
                        val = _pc(d[0, c] + d[c, 0], q[c], s[c], cap, maxd, alpha, beta)
                        if val < best:
                            best = val
                            br = r
                            ba = 0
                        break
        if not found:
            seen_empty = False
            for r in range(day * m, day * m + m):
                L = rlen[r]
                if r == rc:
                    btr = tr0
                    bld = ld0
                    bsv = sv0
                    old = own
                    empty = L == 1
                else:
                    btr = rtr[r]
                    bld = rld[r]
                    bsv = rsv[r]
                    old = _pc(btr, bld, bsv, cap, maxd, alpha, beta)
                    empty = L == 0
                if empty:
                    if seen_empty:
                        continue
                    seen_empty = True
                prev = 0
                for k in range(L + 1):
                    nxt = routes[r, k] if k < L else 0
                    if nxt == c:
                        continue
                    dt = d[prev, c] + d[c, nxt] - d[prev, nxt]
                    val = _pc(btr + dt, bld + q[c], bsv + s[c], cap, maxd, alpha, beta) - old
                    if val < best:
                        best = val
                        br = r
                        ba = prev
                    prev = nxt
        ins_cost[day] = best
        ins_route[day] = br
        ins_after[day] = ba


@njit(cache=True)
def _try_moves(
    u: int,
    day: int,
    k0: int,
    tested: int,
    stamp: int,
    nb: _I,
    modified: _I,
    routes: _I,
    rlen: _I,
    d: _F,
    q: _F,
    s: _F,
    cap: float,
    maxd: float,
    m: int,
    pos: _I,
    rof: _I,
    ctr: _F,
    cld: _F,
    csv: _F,
    rtr: _F,
    rld: _F,
    rsv: _F,
    alpha: float,
    beta: float,
    buf: _I,
    symmetric: bool,
) -> int:
    """Try the moves between visit ``u`` of ``day`` and its neighbours (``nb[u]``, from the
    ``k0``-th on) visited that day whose routes changed after ``tested``; apply the first that
    gains, stamp its two routes ``stamp`` in ``modified`` and return that neighbour's index, or
    -1 when none gains. The pairs are looped over here, not by the caller: numba counts
    references to every array a function takes, and one call per pair cost more than the
    moves themselves."""
    for kk in range(k0, nb.shape[1]):
        v = nb[u, kk]
        if pos[u, day] < 0 or pos[v, day] < 0:
            continue
        ru = rof[u, day]
        rv = rof[v, day]
        if max(modified[ru], modified[rv]) <= tested:
            continue
        i = pos[u, day]
        j = pos[v, day]
        pu = routes[ru, i - 1] if 0 <= i - 1 < rlen[ru] else 0
        xu = routes[ru, i + 1] if 0 <= i + 1 < rlen[ru] else 0
        pv = routes[rv, j - 1] if 0 <= j - 1 < rlen[rv] else 0
        xv = routes[rv, j + 1] if 0 <= j + 1 < rlen[rv] else 0
        old_u = _pc(rtr[ru], rld[ru], rsv[ru], cap, maxd, alpha, beta)
        old_v = _pc(rtr[rv], rld[rv], rsv[rv], cap, maxd, alpha, beta)
        same = ru == rv
        # 1. relocate u after v;  2. relocate u before v (after pv)
        for variant in range(2):
            a = v if variant == 0 else pv
            an = xv if variant == 0 else v
            if a == u or (same and (a == pu or an == u)):
                continue
            rem = d[pu, xu] - d[pu, u] - d[u, xu]
            add = d[a, u] + d[u, an] - d[a, an]
            if same:
                delta = _pc(rtr[ru] + rem + add, rld[ru], rsv[ru], cap, maxd, alpha, beta) - old_u
            else:
                delta = (
                    _pc(rtr[ru] + rem, rld[ru] - q[u], rsv[ru] - s[u], cap, maxd, alpha, beta)
                    + _pc(rtr[rv] + add, rld[rv] + q[u], rsv[rv] + s[u], cap, maxd, alpha, beta)
                    - old_u
                    - old_v
                )
            if delta < -_EPS:
                if same:
                    _rebuild(ru, routes, rlen, buf, u, -1, -1, 0, 0, a, u, 0)
                else:
                    _rebuild(ru, routes, rlen, buf, u, -1, -1, 0, 0, -1, 0, 0)
                    _rebuild(rv, routes, rlen, buf, -1, -1, -1, 0, 0, a, u, 0)
                    _update(rv, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                _update(ru, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                modified[ru] = stamp
                modified[rv] = stamp
                return kk
        # 3. relocate the pair (u, xu) after v
        if xu != 0 and v not in (xu, pu):
            x = xu
            xx = routes[ru, i + 2] if 0 <= i + 2 < rlen[ru] else 0
            a = v
            an = xv
            if an != u:
                rem = d[pu, xx] - d[pu, u] - d[u, x] - d[x, xx]
                if same and a == xx:
                    an = routes[ru, i + 3] if 0 <= i + 3 < rlen[ru] else 0
                add = d[a, u] + d[u, x] + d[x, an] - d[a, an]
                if same:
                    delta = (
                        _pc(rtr[ru] + rem + add, rld[ru], rsv[ru], cap, maxd, alpha, beta) - old_u
                    )
                else:
                    delta = (
                        _pc(
                            rtr[ru] + rem,
                            rld[ru] - q[u] - q[x],
                            rsv[ru] - s[u] - s[x],
                            cap,
                            maxd,
                            alpha,
                            beta,
                        )
                        + _pc(
                            rtr[rv] + add,
                            rld[rv] + q[u] + q[x],
                            rsv[rv] + s[u] + s[x],
                            cap,
                            maxd,
                            alpha,
                            beta,
                        )
                        - old_u
                        - old_v
                    )
                if delta < -_EPS:
                    if same:
                        _rebuild(ru, routes, rlen, buf, u, x, -1, 0, 0, a, u, x)
                    else:
                        _rebuild(ru, routes, rlen, buf, u, x, -1, 0, 0, -1, 0, 0)
                        _rebuild(rv, routes, rlen, buf, -1, -1, -1, 0, 0, a, u, x)
                        _update(
                            rv, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv
                        )
                    _update(ru, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                    modified[ru] = stamp
                    modified[rv] = stamp
                    return kk
        # 4. swap u and v (not neighbours in one route)
        if not (same and (xu == v or xv == u)):
            du = d[pu, v] + d[v, xu] - d[pu, u] - d[u, xu]
            dv = d[pv, u] + d[u, xv] - d[pv, v] - d[v, xv]
            if same:
                delta = _pc(rtr[ru] + du + dv, rld[ru], rsv[ru], cap, maxd, alpha, beta) - old_u
            else:
                delta = (
                    _pc(
                        rtr[ru] + du,
                        rld[ru] - q[u] + q[v],
                        rsv[ru] - s[u] + s[v],
                        cap,
                        maxd,
                        alpha,
                        beta,
                    )
                    + _pc(
                        rtr[rv] + dv,
                        rld[rv] - q[v] + q[u],
                        rsv[rv] - s[v] + s[u],
                        cap,
                        maxd,
                        alpha,
                        beta,
                    )
                    - old_u
                    - old_v
                )
            if delta < -_EPS:
                if same:
                    # swap in place
                    routes[ru, i] = v
                    routes[ru, j] = u
                else:
                    routes[ru, i] = v
                    routes[rv, j] = u
                    _update(rv, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                _update(ru, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                modified[ru] = stamp
                modified[rv] = stamp
                return kk
        # 5. swap the pair (u, xu) with v (different routes)
        if not same and xu != 0:
            x = xu
            xx = routes[ru, i + 2] if 0 <= i + 2 < rlen[ru] else 0
            du = d[pu, v] + d[v, xx] - d[pu, u] - d[u, x] - d[x, xx]
            dv = d[pv, u] + d[u, x] + d[x, xv] - d[pv, v] - d[v, xv]
            delta = (
                _pc(
                    rtr[ru] + du,
                    rld[ru] - q[u] - q[x] + q[v],
                    rsv[ru] - s[u] - s[x] + s[v],
                    cap,
                    maxd,
                    alpha,
                    beta,
                )
                + _pc(
                    rtr[rv] + dv,
                    rld[rv] - q[v] + q[u] + q[x],
                    rsv[rv] - s[v] + s[u] + s[x],
                    cap,
                    maxd,
                    alpha,
                    beta,
                )
                - old_u
                - old_v
            )
            if delta < -_EPS:
                _rebuild(ru, routes, rlen, buf, x, -1, u, v, 0, -1, 0, 0)
                _rebuild(rv, routes, rlen, buf, -1, -1, v, u, x, -1, 0, 0)
                _update(ru, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                _update(rv, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                modified[ru] = stamp
                modified[rv] = stamp
                return kk
        if same:
            # 6. 2-opt within the route: u -> v by reversing the visits after u up to v
            if j > i + 1:
                nv = xv
                delta_tr = d[u, v] + d[xu, nv] - d[u, xu] - d[v, nv]
                if not symmetric:
                    for k in range(i + 1, j):
                        a = routes[ru, k]
                        b = routes[ru, k + 1]
                        delta_tr += d[b, a] - d[a, b]
                delta = _pc(rtr[ru] + delta_tr, rld[ru], rsv[ru], cap, maxd, alpha, beta) - old_u
                if delta < -_EPS:
                    lo = i + 1
                    hi = j
                    while lo < hi:
                        tmp = routes[ru, lo]
                        routes[ru, lo] = routes[ru, hi]
                        routes[ru, hi] = tmp
                        lo += 1
                        hi -= 1
                    _update(ru, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
                    modified[ru] = stamp
                    modified[rv] = stamp
                    return kk
            continue
        # 7. 2-opt* between the routes: u -> v and pv -> xu
        la = rlen[ru]
        lb = rlen[rv]
        head_a_tr = ctr[ru, i]
        head_a_ld = cld[ru, i]
        head_a_sv = csv[ru, i]
        tail_b_tr = rtr[rv] - ctr[rv, j]
        tail_b_ld = rld[rv] - (cld[rv, j - 1] if j > 0 else 0.0)
        tail_b_sv = rsv[rv] - (csv[rv, j - 1] if j > 0 else 0.0)
        a_tr = head_a_tr + d[u, v] + tail_b_tr
        a_ld = head_a_ld + tail_b_ld
        a_sv = head_a_sv + tail_b_sv
        head_b_tr = ctr[rv, j - 1] if j > 0 else 0.0
        head_b_ld = cld[rv, j - 1] if j > 0 else 0.0
        head_b_sv = csv[rv, j - 1] if j > 0 else 0.0
        if i + 1 < la:
            tail_a_tr = rtr[ru] - ctr[ru, i + 1]
            tail_a_ld = rld[ru] - cld[ru, i]
            tail_a_sv = rsv[ru] - csv[ru, i]
        else:
            tail_a_tr = 0.0
            tail_a_ld = 0.0
            tail_a_sv = 0.0
        b_tr = 0.0 if j == 0 and i + 1 >= la else head_b_tr + d[pv, xu] + tail_a_tr
        b_ld = head_b_ld + tail_a_ld
        b_sv = head_b_sv + tail_a_sv
        delta = (
            _pc(a_tr, a_ld, a_sv, cap, maxd, alpha, beta)
            + _pc(b_tr, b_ld, b_sv, cap, maxd, alpha, beta)
            - old_u
            - old_v
        )
        if delta < -_EPS:
            k = 0
            for p in range(i + 1):
                buf[k] = routes[ru, p]
                k += 1
            for p in range(j, lb):
                buf[k] = routes[rv, p]
                k += 1
            # B' first into a spare copy: its head stays in place, its tail is A's
            kb = j
            for p in range(i + 1, la):
                routes[rv, kb] = routes[ru, p]
                kb += 1
            rlen[rv] = kb
            for p in range(k):
                routes[ru, p] = buf[p]
            rlen[ru] = k
            _update(ru, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
            _update(rv, routes, rlen, d, q, s, m, pos, rof, ctr, cld, csv, rtr, rld, rsv)
            modified[ru] = stamp
            modified[rv] = stamp
            return kk
    return -1


@njit(cache=True)
def evaluate(
    routes: _I,
    rlen: _I,
    d: _F,
    q: _F,
    s: _F,
    cap: float,
    maxd: float,
) -> tuple[float, float, float]:
    """Travel, load excess and duration excess of a route table."""
    tr_all = 0.0
    lx = 0.0
    dx = 0.0
    for r in range(routes.shape[0]):
        prev = 0
        tr = 0.0
        ld = 0.0
        sv = 0.0
        for i in range(rlen[r]):
            c = routes[r, i]
            tr += d[prev, c]
            ld += q[c]
            sv += s[c]
            prev = c
        if rlen[r] > 0:
            tr += d[prev, 0]
        tr_all += tr
        if ld > cap:
            lx += ld - cap
        if tr + sv > maxd:
            dx += tr + sv - maxd
    return tr_all, lx, dx


@njit(cache=True)
def split_day(
    tour: _I,
    n_tour: int,
    d: _F,
    q: _F,
    s: _F,
    cap: float,
    maxd: float,
    m: int,
    alpha: float,
    beta: float,
    out: _I,
    out_len: _I,
    r0: int,
) -> None:
    """Cut ``tour[:n_tour]`` into at most ``m`` routes (rows ``r0..r0+m-1`` of ``out``) at the
    least penalised cost (Prins' split with a limited fleet, O(m n^2))."""
    n = n_tour
    for r in range(r0, r0 + m):
        out_len[r] = 0
    if n == 0:
        return
    inf = np.inf
    kmax = min(m, n)
    dp = np.full((kmax + 1, n + 1), inf)
    pred = np.zeros((kmax + 1, n + 1), dtype=np.int64)
    dp[0, 0] = 0.0
    for k in range(1, kmax + 1):
        for i in range(k - 1, n):
            if dp[k - 1, i] == inf:
                continue
            ld = 0.0
            sv = 0.0
            tr = 0.0
            prev = 0
            for j in range(i, n):
                c = tour[j]
                ld += q[c]
                sv += s[c]
                tr += d[prev, c]
                prev = c
                cost = dp[k - 1, i] + _pc(tr + d[c, 0], ld, sv, cap, maxd, alpha, beta)
                if cost < dp[k, j + 1]:
                    dp[k, j + 1] = cost
                    pred[k, j + 1] = i
                if ld > 1.5 * cap or tr + sv > 1.5 * maxd:
                    break
    best_k = -1
    best = inf
    for k in range(1, kmax + 1):
        if dp[k, n] < best:
            best = dp[k, n]
            best_k = k
    if best_k < 0:  # nothing fits the bounds: one route per share of the tour
        per = (n + m - 1) // m
        for k in range(m):
            r = r0 + k
            cnt = 0
            for j in range(k * per, min(n, (k + 1) * per)):
                out[r, cnt] = tour[j]
                cnt += 1
            out_len[r] = cnt
        return
    j = n
    k = best_k
    while k > 0:
        i = pred[k, j]
        r = r0 + k - 1
        cnt = 0
        for p in range(i, j):
            out[r, cnt] = tour[p]
            cnt += 1
        out_len[r] = cnt
        j = i
        k -= 1


@njit(cache=True)
def crossover(
    ra: _I,
    la: _I,
    rb: _I,
    lb: _I,
    d: _F,
    q: _F,
    s: _F,
    cap: float,
    maxd: float,
    m: int,
    t: int,
    pat_flat: _I,
    pat_off: _I,
    alpha: float,
    beta: float,
    seed: int,
    out: _I,
    out_len: _I,
) -> None:
    """The periodic crossover (PIX) of parents ``a`` and ``b`` into ``out``: customers whose
    visits do not make an allowed pattern are left for the education to complete."""
    np.random.seed(seed)
    n1 = d.shape[0]
    days = np.random.permutation(t)
    n_a = np.random.randint(0, t + 1)
    n_b = np.random.randint(0, t - n_a + 1)
    # days[:n_a] from a, days[n_a:n_a+n_b] from b, the rest mixed
    mask = np.zeros(n1, dtype=np.int64)
    tours = np.zeros((t, n1), dtype=np.int64)
    tl = np.zeros(t, dtype=np.int64)
    for k in range(t):
        day = days[k]
        if k >= n_a and k < n_a + n_b:
            continue
        # parent a's day as one sequence (its routes in order)
        seq = np.zeros(n1, dtype=np.int64)
        ns = 0
        for r in range(day * m, day * m + m):
            for p in range(la[r]):
                seq[ns] = ra[r, p]
                ns += 1
        if ns == 0:
            continue
        if k < n_a:
            start = 0
            length = ns
        else:
            start = np.random.randint(0, ns)
            length = np.random.randint(0, ns + 1)
        for p in range(length):
            c = seq[(start + p) % ns]
            tours[day, tl[day]] = c
            tl[day] += 1
            mask[c] |= 1 << day
    # parent b's visits where they keep the customer within an allowed pattern
    for k in range(n_a, t):
        day = days[k]
        for r in range(day * m, day * m + m):
            for p in range(lb[r]):
                c = rb[r, p]
                if (mask[c] >> day) & 1:
                    continue
                nm = mask[c] | (1 << day)
                ok = False
                for kk in range(pat_off[c], pat_off[c + 1]):
                    if pat_flat[kk] & nm == nm:
                        ok = True
                        break
                if ok:
                    tours[day, tl[day]] = c
                    tl[day] += 1
                    mask[c] = nm
    for day in range(t):
        split_day(tours[day], tl[day], d, q, s, cap, maxd, m, alpha, beta, out, out_len, day * m)


@njit(cache=True)
def broken_pairs(
    ra: _I,
    la: _I,
    rb: _I,
    lb: _I,
    n1: int,
    t: int,
    m: int,
) -> float:
    """Distance of two individuals: the share of visits that are on another day in the other
    or whose successor there is neither their successor nor their predecessor here."""
    return broken_pairs_to(successors(ra, la, n1, t, m), int(la.sum()), rb, lb, m)


@njit(cache=True)
def successors(
    ra: _I,
    la: _I,
    n1: int,
    t: int,
    m: int,
) -> _I:
    """Each customer's successor on each day of route table ``a`` (0: the depot; -1: not
    visited that day), for `broken_pairs_to`."""
    succ = np.full((n1, t), -1, dtype=np.int64)
    for r in range(ra.shape[0]):
        day = r // m
        for p in range(la[r]):
            succ[ra[r, p], day] = ra[r, p + 1] if p + 1 < la[r] else 0
    return succ


@njit(cache=True)
def broken_pairs_to(
    succ: _I,
    ta: int,
    rb: _I,
    lb: _I,
    m: int,
) -> float:
    """`broken_pairs` of ``a`` (its `successors` and its ``ta`` visits) and ``b``: one
    individual against many needs its successors once."""
    tb = 0
    diff = 0
    shared = 0
    for r in range(rb.shape[0]):
        day = r // m
        for p in range(lb[r]):
            c = rb[r, p]
            tb += 1
            sa = succ[c, day]
            if sa < 0:
                diff += 1
                continue
            shared += 1
            nx = rb[r, p + 1] if p + 1 < lb[r] else 0
            pv = rb[r, p - 1] if p > 0 else 0
            if sa not in (nx, pv):
                diff += 1
    diff += ta - shared
    return diff / max(1, ta + tb)
