"""Periodic vehicle routing (visit patterns + day routes): the engine behind the visit planner.

A periodic VRP (PVRP) chooses for every customer one allowed *visit pattern* (a set of days,
encoded as a bitmask: bit ``d`` set = visited on day ``d``, day 0 first) and, for every day, routes
from the depot that visit the customers whose pattern contains that day. The sales planner uses it
with one vehicle per day (the rep) and the working day as the route duration limit; the benchmark
uses it on the classical instances (Christofides & Beasley 1984; Cordeau, Gendreau & Laporte 1997).

Method: adaptive large neighbourhood search (Ropke & Pisinger 2006) over (pattern, day-route
position). A destroy operator (random, related, worst, whole routes) removes ``q`` customers from
*all* their days; the repair inserts each one again by trying every allowed pattern, each day at
its cheapest position (vectorised over all routes at once), so pattern changes are judged on real
route costs. Capacity and duration excess are penalised with self-adjusting weights instead of
being forbidden (Cordeau, Gendreau & Laporte 1997), so the search may cross infeasible space and
repair it. After each repair, route tails are exchanged between nearby routes of the same day
(2-opt*) and touched routes get 2-opt and or-opt. The start is a cheapest-insertion construction
polished by sweeps that reinsert every customer with its best pattern; new best solutions get
one more sweep. Acceptance is simulated annealing with restarts from the best solution. The
default budget is a deterministic iteration count (no wall clock involved).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

_EPS = 1e-9


@dataclass(frozen=True)
class PeriodicProblem:
    """A periodic VRP instance.

    Parameters
    ----------
    travel
        ``(n+1, n+1)`` travel cost (= time) between nodes; node 0 is the depot.
    service
        ``(n+1,)`` service time per visit; 0 for the depot.
    patterns
        Allowed day bitmasks per customer node ``1..n`` (index ``i-1``); bit ``d`` = day ``d``.
    days
        Number of days in the period.
    vehicles_per_day
        Routes available per day.
    demand
        ``(n+1,)`` demand per visit, or None (no capacity).
    capacity
        Load limit per route (vehicle-day), or None.
    max_duration
        Limit per route on travel + service, depot to depot, or None.
    unplanned_penalty
        None: every customer must be planned. Otherwise the cost of leaving one customer out
        (pattern 0), in travel units.
    """

    travel: NDArray[np.float64]
    service: NDArray[np.float64]
    patterns: tuple[tuple[int, ...], ...]
    days: int
    vehicles_per_day: int = 1
    demand: NDArray[np.float64] | None = None
    capacity: float | None = None
    max_duration: float | None = None
    unplanned_penalty: float | None = None

    def __post_init__(self) -> None:
        n1 = len(self.patterns) + 1
        if np.shape(self.travel) != (n1, n1):
            raise ValueError(
                f"travel must be ({n1}, {n1}) for {n1 - 1} customers, got {np.shape(self.travel)}"
            )
        if np.shape(self.service) != (n1,):
            raise ValueError(f"service must have shape ({n1},), got {np.shape(self.service)}")
        if self.demand is not None and np.shape(self.demand) != (n1,):
            raise ValueError(f"demand must have shape ({n1},), got {np.shape(self.demand)}")
        if self.days < 1 or self.vehicles_per_day < 1:
            raise ValueError("days and vehicles_per_day must be at least 1")
        full = (1 << self.days) - 1
        for i, pats in enumerate(self.patterns, start=1):
            if not pats and self.unplanned_penalty is None:
                raise ValueError(f"customer {i} has no allowed pattern and cannot be left out")
            for p in pats:
                if p <= 0 or p & ~full:
                    raise ValueError(
                        f"customer {i}: pattern {p} is not a non-empty {self.days}-day bitmask"
                    )

    @property
    def n_customers(self) -> int:
        """Number of customers (nodes 1..n)."""
        return len(self.patterns)


@dataclass(frozen=True)
class PeriodicSolution:
    """A plan for a :class:`PeriodicProblem`.

    Attributes
    ----------
    pattern
        Chosen bitmask per customer (index ``i-1`` for node ``i``); 0 = left out.
    routes
        ``routes[day][vehicle]`` = customer nodes in visiting order (depot implicit at both ends).
    cost
        Total travel of the routes.
    feasible
        All constraints hold and nobody is left out, or left out only where allowed.
    iterations
        Search iterations performed.
    """

    pattern: tuple[int, ...]
    routes: tuple[tuple[tuple[int, ...], ...], ...]
    cost: float
    feasible: bool
    iterations: int


def route_cost(problem: PeriodicProblem, solution: PeriodicSolution) -> float:
    """Total travel of all routes of ``solution`` (depot to depot)."""
    d = np.asarray(problem.travel, dtype=np.float64)
    total = 0.0
    for day_routes in solution.routes:
        for route in day_routes:
            if route:
                a = np.fromiter((0, *route, 0), dtype=np.intp)
                total += float(d[a[:-1], a[1:]].sum())
    return total


def check_solution(problem: PeriodicProblem, solution: PeriodicSolution) -> list[str]:
    """List every constraint ``solution`` breaks (empty list = feasible).

    Checks the route grid shape, that every customer is visited exactly on the days of its chosen
    pattern (once per day), that the pattern is allowed (or 0 where leaving out is allowed),
    and the capacity and duration limits of every route.
    """
    problems: list[str] = []
    n = problem.n_customers
    if len(solution.pattern) != n:
        return [f"pattern has {len(solution.pattern)} entries for {n} customers"]
    if len(solution.routes) != problem.days:
        return [f"routes cover {len(solution.routes)} days, expected {problem.days}"]
    seen = [0] * (n + 1)
    d = np.asarray(problem.travel, dtype=np.float64)
    for day, day_routes in enumerate(solution.routes):
        if len(day_routes) > problem.vehicles_per_day:
            problems.append(
                f"day {day} has {len(day_routes)} routes, at most {problem.vehicles_per_day} allowed"
            )
        for v, route in enumerate(day_routes):
            for c in route:
                if not 1 <= c <= n:
                    problems.append(f"day {day} vehicle {v}: node {c} is not a customer")
                    continue
                if seen[c] >> day & 1:
                    problems.append(f"customer {c} is visited twice on day {day}")
                seen[c] |= 1 << day
            if not route:
                continue
            a = np.fromiter((0, *route, 0), dtype=np.intp)
            if problem.capacity is not None and problem.demand is not None:
                load = float(np.asarray(problem.demand)[a].sum())
                if load > problem.capacity + 1e-6:
                    problems.append(
                        f"day {day} vehicle {v}: load {load:g} exceeds capacity {problem.capacity:g}"
                    )
            if problem.max_duration is not None:
                dur = float(d[a[:-1], a[1:]].sum() + np.asarray(problem.service)[a].sum())
                if dur > problem.max_duration + 1e-6:
                    problems.append(
                        f"day {day} vehicle {v}: duration {dur:.2f} exceeds limit {problem.max_duration:g}"
                    )
    for c in range(1, n + 1):
        p = solution.pattern[c - 1]
        if p == 0:
            if problem.unplanned_penalty is None:
                problems.append(f"customer {c} is left out but every customer must be planned")
        elif p not in problem.patterns[c - 1]:
            problems.append(f"customer {c}: pattern {p} is not allowed")
        if seen[c] != p:
            problems.append(
                f"customer {c} is visited on days mask {seen[c]} but its pattern is {p}"
            )
    return problems


# --------------------------------------------------------------------------------------------
# Search state
# --------------------------------------------------------------------------------------------


class _Data:
    """Immutable arrays derived once from the problem."""

    def __init__(self, problem: PeriodicProblem) -> None:
        self.d = np.ascontiguousarray(problem.travel, dtype=np.float64)
        self.dt = np.ascontiguousarray(self.d.T)  # rows of dt = columns of d (fast gathers)
        self.s = np.asarray(problem.service, dtype=np.float64)
        self.n = problem.n_customers
        self.t = problem.days
        self.m = problem.vehicles_per_day
        self.n_routes = self.t * self.m
        self.q = (
            np.zeros(self.n + 1)
            if problem.demand is None
            else np.asarray(problem.demand, dtype=np.float64)
        )
        cap, max_dur = problem.capacity, problem.max_duration
        self.has_cap = cap is not None and problem.demand is not None
        self.cap = float(cap) if cap is not None and self.has_cap else math.inf
        self.has_dur = max_dur is not None
        self.max_dur = float(max_dur) if max_dur is not None else math.inf
        self.unplanned = problem.unplanned_penalty
        self.patterns: list[tuple[int, ...]] = [()] + [tuple(p) for p in problem.patterns]
        # per customer: (k, t) 0/1 matrix of its allowed patterns
        self.pmat: list[NDArray[np.float64]] = [np.zeros((0, self.t))]
        for pats in self.patterns[1:]:
            mat = np.array([[(p >> d) & 1 for d in range(self.t)] for p in pats], dtype=np.float64)
            self.pmat.append(mat.reshape(len(pats), self.t))
        self.freq = np.array(
            [0]
            + [min(bin(p).count("1") for p in pats) if pats else 0 for pats in self.patterns[1:]]
        )
        self.route_day = np.repeat(np.arange(self.t), self.m)
        self.symmetric = bool(np.allclose(self.d, self.d.T))


class _State:
    """Mutable solution: routes (customer lists), cached per-route loads, travel and service."""

    def __init__(self, data: _Data) -> None:
        self.data = data
        r = data.n_routes
        self.seq: list[list[int]] = [[] for _ in range(r)]
        self.load = np.zeros(r)
        self.travel = np.zeros(r)
        self.svc = np.zeros(r)
        self.pattern = np.zeros(data.n + 1, dtype=np.int64)
        self.route_of = np.full((data.n + 1, data.t), -1, dtype=np.int64)
        self._arr: list[NDArray[np.intp] | None] = [None] * r
        self._edges: tuple | None = None
        self.dirty: set[int] = set()

    def copy(self) -> _State:
        new = _State.__new__(_State)
        new.data = self.data
        new.seq = [list(s) for s in self.seq]
        new.load = self.load.copy()
        new.travel = self.travel.copy()
        new.svc = self.svc.copy()
        new.pattern = self.pattern.copy()
        new.route_of = self.route_of.copy()
        new._arr = list(self._arr)
        new._edges = self._edges
        new.dirty = set()
        return new

    # --- measures -----------------------------------------------------------------------
    def load_excess(self) -> float:
        return float(np.maximum(self.load - self.data.cap, 0.0).sum()) if self.data.has_cap else 0.0

    def dur_excess(self) -> float:
        if not self.data.has_dur:
            return 0.0
        return float(np.maximum(self.travel + self.svc - self.data.max_dur, 0.0).sum())

    def n_unplanned(self) -> int:
        return int((self.pattern[1:] == 0).sum())

    def objective(self) -> float:
        """Travel plus the cost of customers left out (the user's objective)."""
        total = float(self.travel.sum())
        if self.data.unplanned is not None:
            total += self.data.unplanned * self.n_unplanned()
        return total

    def penalised(self, alpha: float, beta: float) -> float:
        return self.objective() + alpha * self.load_excess() + beta * self.dur_excess()

    def feasible(self) -> bool:
        return self.load_excess() <= 1e-6 and self.dur_excess() <= 1e-6

    # --- arrays ---------------------------------------------------------------------------
    def arr(self, r: int) -> NDArray[np.intp]:
        a = self._arr[r]
        if a is None:
            a = np.array([0, *self.seq[r], 0], dtype=np.intp)
            self._arr[r] = a
        return a

    def _touch(self, r: int, keep_edges: bool = False) -> None:
        self._arr[r] = None
        if not keep_edges:
            self._edges = None
        self.dirty.add(r)

    def _edges_insert(self, r: int, pos: int, prev: int, c: int, nxt: int) -> None:
        # edge (prev, nxt) at e becomes (prev, c), (c, nxt); new arrays, never in place (shared)
        if self._edges is None:
            return
        ftr, base, offs, _ = self._edges
        e = int(offs[r]) + pos
        n_e = ftr.shape[1]
        new = np.empty((3, n_e + 1), dtype=np.intp)
        new[:, :e] = ftr[:, :e]
        new[:, e + 1 :] = ftr[:, e:]
        new[0, e], new[1, e], new[2, e] = prev, c, r
        new[0, e + 1] = c
        d = self.data.d
        nb = np.empty(n_e + 1)
        nb[:e] = base[:e]
        nb[e] = d[prev, c]
        nb[e + 1] = d[c, nxt]
        nb[e + 2 :] = base[e + 1 :]
        offs = offs.copy()
        offs[r + 1 :] += 1
        self._edges = (new, nb, offs, offs[:: self.data.m][: self.data.t])

    def _edges_remove(self, r: int, pos: int, prev: int, nxt: int) -> None:
        # edges (prev, c) at e and (c, nxt) at e + 1 become (prev, nxt) at e
        if self._edges is None:
            return
        ftr, base, offs, _ = self._edges
        e = int(offs[r]) + pos
        n_e = ftr.shape[1]
        new = np.empty((3, n_e - 1), dtype=np.intp)
        new[:, :e] = ftr[:, :e]
        new[:, e + 1 :] = ftr[:, e + 2 :]
        new[0, e], new[1, e], new[2, e] = prev, nxt, r
        nb = np.empty(n_e - 1)
        nb[:e] = base[:e]
        nb[e] = self.data.d[prev, nxt]
        nb[e + 1 :] = base[e + 2 :]
        offs = offs.copy()
        offs[r + 1 :] -= 1
        self._edges = (new, nb, offs, offs[:: self.data.m][: self.data.t])

    def edges(self) -> tuple:
        """All route edges, grouped by route (routes ordered by day): from, to, route, base cost."""
        if self._edges is None:
            arrs = [self.arr(r) for r in range(self.data.n_routes)]
            lens = np.fromiter((len(a) - 1 for a in arrs), dtype=np.intp, count=len(arrs))
            ftr = np.empty((3, int(lens.sum())), dtype=np.intp)
            ftr[0] = np.concatenate([a[:-1] for a in arrs])
            ftr[1] = np.concatenate([a[1:] for a in arrs])
            ftr[2] = np.repeat(np.arange(len(arrs)), lens)
            offs = np.zeros(len(arrs) + 1, dtype=np.intp)
            np.cumsum(lens, out=offs[1:])
            day_starts = offs[:: self.data.m][: self.data.t]
            base = self.data.d[ftr[0], ftr[1]]
            self._edges = (ftr, base, offs, day_starts)
        ftr, base, offs, day_starts = self._edges
        return ftr[0], ftr[1], ftr[2], base, offs, day_starts

    # --- edits ----------------------------------------------------------------------------
    def insert(self, c: int, r: int, pos: int) -> None:
        """Insert customer ``c`` into route ``r`` before index ``pos`` of its customer list."""
        data = self.data
        seq = self.seq[r]
        prev = seq[pos - 1] if pos > 0 else 0
        nxt = seq[pos] if pos < len(seq) else 0
        d = data.d
        self.travel[r] += d[prev, c] + d[c, nxt] - d[prev, nxt]
        self.load[r] += data.q[c]
        self.svc[r] += data.s[c]
        seq.insert(pos, c)
        self.route_of[c, data.route_day[r]] = r
        self._edges_insert(r, pos, prev, c, nxt)
        self._touch(r, keep_edges=True)

    def remove(self, c: int) -> None:
        """Take customer ``c`` out of every route it is in; its pattern becomes 0."""
        data = self.data
        d = data.d
        for day in range(data.t):
            r = int(self.route_of[c, day])
            if r < 0:
                continue
            seq = self.seq[r]
            pos = seq.index(c)
            prev = seq[pos - 1] if pos > 0 else 0
            nxt = seq[pos + 1] if pos + 1 < len(seq) else 0
            self.travel[r] -= d[prev, c] + d[c, nxt] - d[prev, nxt]
            self.load[r] -= data.q[c]
            self.svc[r] -= data.s[c]
            del seq[pos]
            self.route_of[c, day] = -1
            self._edges_remove(r, pos, prev, nxt)
            self._touch(r, keep_edges=True)
        self.pattern[c] = 0

    def set_route(self, r: int, seq: list[int], travel: float) -> None:
        self.seq[r] = seq
        self.travel[r] = travel
        self._touch(r)

    def replace_route(self, r: int, seq: list[int]) -> None:
        """Give route ``r`` a new customer list (any customers of its day)."""
        data = self.data
        a = np.array([0, *seq, 0], dtype=np.intp)
        self.seq[r] = list(seq)
        self.travel[r] = float(data.d[a[:-1], a[1:]].sum())
        self.load[r] = float(data.q[a].sum())
        self.svc[r] = float(data.s[a].sum())
        if seq:
            self.route_of[a[1:-1], data.route_day[r]] = r
        self._touch(r)
        self._arr[r] = a

    def removal_savings(self) -> NDArray[np.float64]:
        """Travel saved by removing each customer from all its days (0 for unplanned)."""
        d = self.data.d
        sav = np.zeros(self.data.n + 1)
        for r in range(self.data.n_routes):
            if not self.seq[r]:
                continue
            a = self.arr(r)
            mid = a[1:-1]
            sav[mid] += d[a[:-2], mid] + d[mid, a[2:]] - d[a[:-2], a[2:]]
        return sav


# --------------------------------------------------------------------------------------------
# Repair: best pattern by cheapest insertion
# --------------------------------------------------------------------------------------------


def _insert_best(
    st: _State, c: int, alpha: float, beta: float, rng: np.random.Generator | None, noise: float
) -> None:
    """Insert customer ``c`` with its best allowed pattern, each day at its cheapest position."""
    data = st.data
    if not data.patterns[c]:
        return
    f, to, rix, base, offs, day_starts = st.edges()
    delta = data.dt[c][f] + data.d[c][to] - base
    tot = delta
    if data.has_cap:
        lr = np.maximum(st.load + data.q[c] - data.cap, 0.0) - np.maximum(st.load - data.cap, 0.0)
        tot = tot + alpha * lr[rix]
    if data.has_dur:
        dur = st.travel + st.svc
        ov0 = np.maximum(dur - data.max_dur, 0.0)
        tot = tot + beta * (np.maximum(dur[rix] + delta + data.s[c] - data.max_dur, 0.0) - ov0[rix])
    daymin = np.minimum.reduceat(tot, day_starts)
    pc = data.pmat[c] @ daymin
    if noise > 0.0 and rng is not None:
        pc = pc * (1.0 + noise * (rng.random(len(pc)) - 0.5))
    k = int(np.argmin(pc))
    if data.unplanned is not None and pc[k] > data.unplanned:
        st.pattern[c] = 0
        return
    pat = data.patterns[c][k]
    n_edges = len(tot)
    for day in range(data.t):
        if not (pat >> day) & 1:
            continue
        lo = int(day_starts[day])
        hi = int(day_starts[day + 1]) if day + 1 < data.t else n_edges
        e = lo + int(np.argmin(tot[lo:hi]))
        r = int(rix[e])
        # positions are not shifted by inserting on other days: different routes
        st.insert(c, r, e - int(offs[r]))
    st.pattern[c] = pat


def _repair(
    st: _State,
    customers: Sequence[int],
    alpha: float,
    beta: float,
    rng: np.random.Generator,
    noise: float,
) -> None:
    for c in customers:
        _insert_best(st, int(c), alpha, beta, rng, noise)


# --------------------------------------------------------------------------------------------
# Intra-route improvement: 2-opt and or-opt, vectorised per route
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _ls_index(n_nodes: int) -> tuple[NDArray[np.intp], ...]:
    """Flat candidate index arrays for 2-opt and or-opt on a route of ``n_nodes`` (depots incl.)."""
    last = n_nodes - 1
    # 2-opt: reverse a[i+1..j], 0 <= i, i + 2 <= j <= last - 1
    ii, jj = np.triu_indices(last, k=2)
    # or-opt: segment a[s..s+k-1], 1 <= s, s + k <= last; insert on edge j not touching it
    ss, kk, js = [], [], []
    for k in (1, 2, 3):
        for s in range(1, last - k + 1):
            for j in range(last):
                if j < s - 1 or j > s + k - 1:
                    ss.append(s)
                    kk.append(k)
                    js.append(j)
    s_arr = np.array(ss, dtype=np.intp)
    k_arr = np.array(kk, dtype=np.intp)
    j_arr = np.array(js, dtype=np.intp)
    e_arr = s_arr + k_arr - 1  # last node of the segment
    n = n_nodes
    return (
        ii,
        jj,
        ii * n + jj,  # (a_i, a_j)
        (ii + 1) * n + (jj + 1),  # (a_{i+1}, a_{j+1})
        s_arr,
        k_arr,
        j_arr,
        (s_arr - 1) * n + (e_arr + 1),  # (prev, next) of the segment
        j_arr * n + s_arr,  # (a_j, first)
        e_arr * n + (j_arr + 1),  # (last, a_{j+1})
        j_arr * n + e_arr,  # reversed: (a_j, last)
        s_arr * n + (j_arr + 1),  # reversed: (first, a_{j+1})
    )


def _improve_route(
    d: NDArray[np.float64], seq: list[int], symmetric: bool = True
) -> tuple[list[int], float]:
    """Best-improvement 2-opt + or-opt (segments of 1-3) on one route; returns (seq, gain).

    Every candidate move of a pass is evaluated in one vectorised sweep over cached flat index
    arrays; the best one is applied until none gains. With asymmetric costs 2-opt accounts for
    the reversed segment, and or-opt moves segments without reversing them.
    """
    total_gain = 0.0
    a = np.array([0, *seq, 0], dtype=np.intp)
    while len(a) >= 4:
        n_nodes = len(a)
        ii, jj, ij, i1j1, s_arr, k_arr, j_arr, pn, jf, lj1, jl, fj1 = _ls_index(n_nodes)
        mat = d[a[:, None], a[None, :]]
        flat = mat.ravel()
        ef = np.diagonal(mat, 1)
        g2 = ef[ii] + ef[jj] - flat[ij] - flat[i1j1]
        if not symmetric:
            eb = np.diagonal(mat, -1)
            cf = np.concatenate(([0.0], np.cumsum(ef)))
            cb = np.concatenate(([0.0], np.cumsum(eb)))
            g2 = g2 + (cf[jj] - cf[ii + 1]) - (cb[jj] - cb[ii + 1])
        e_arr = s_arr + k_arr - 1
        rem = ef[s_arr - 1] + ef[e_arr] - flat[pn] + ef[j_arr]
        go = rem - flat[jf] - flat[lj1]
        k2 = int(np.argmax(g2)) if len(g2) else -1
        ko = int(np.argmax(go))
        best2 = g2[k2] if k2 >= 0 else -np.inf
        besto = go[ko]
        bestr, kr = -np.inf, -1
        if symmetric:
            gr = rem - flat[jl] - flat[fj1]
            kr = int(np.argmax(gr))
            bestr = gr[kr]
        best = max(best2, besto, bestr)
        if best <= _EPS:
            break
        lst = a.tolist()
        if best == best2:
            i, j = int(ii[k2]), int(jj[k2])
            lst[i + 1 : j + 1] = lst[i + 1 : j + 1][::-1]
        else:
            k = ko if best == besto else kr
            s, seg, j = int(s_arr[k]), int(k_arr[k]), int(j_arr[k])
            segment = lst[s : s + seg]
            if best != besto:
                segment = segment[::-1]
            if j < s:
                lst = lst[: j + 1] + segment + lst[j + 1 : s] + lst[s + seg :]
            else:
                lst = lst[:s] + lst[s + seg : j + 1] + segment + lst[j + 1 :]
        a = np.array(lst, dtype=np.intp)
        total_gain += float(best)
    return a[1:-1].tolist(), total_gain


def _improve_routes(st: _State, routes: Sequence[int]) -> None:
    d = st.data.d
    for r in routes:
        if len(st.seq[r]) < 3:
            continue
        seq, gain = _improve_route(d, st.seq[r], st.data.symmetric)
        if gain > _EPS:
            st.set_route(r, seq, float(st.travel[r] - gain))


def _route_profile(st: _State, r: int) -> tuple:
    """Prefix travel, load and service along route ``r`` (node positions incl. both depots)."""
    data = st.data
    a = st.arr(r)
    legs = data.d[a[:-1], a[1:]]
    f = np.concatenate(([0.0], np.cumsum(legs)))
    ql = np.cumsum(data.q[a])
    sv = np.cumsum(data.s[a])
    return a, f, ql, sv


def _near_routes(
    d: NDArray[np.float64], nodes: NDArray[np.intp], lens: NDArray, rows: NDArray, k: int
) -> NDArray[np.intp]:
    """The ``k`` routes nearest to each route in ``rows`` (by three sample stops), plus one empty.

    Route tails are only exchanged between neighbouring routes (a granular neighbourhood,
    Toth & Vigo 2003), which keeps 2-opt* affordable with many vehicles per day.
    """
    m = len(nodes)
    if m - 1 <= k:
        return np.tile(np.arange(m), (len(rows), 1))
    cust = np.maximum(lens - 2, 0)
    picks = np.stack([1 + (cust * f).astype(np.intp) // 4 for f in (1, 2, 3)], axis=1)
    reps = np.take_along_axis(nodes, np.minimum(picks, np.maximum(lens - 2, 1)[:, None]), axis=1)
    dist = d[reps[rows][:, None, :, None], reps[None, :, None, :]].min(axis=(2, 3))
    empty = cust == 0
    dist[:, empty] = np.inf
    dist[np.arange(len(rows)), rows] = -1.0  # itself, masked later
    near = np.argsort(dist, axis=1, kind="stable")[:, : k + 1]
    if empty.any():
        first_empty = int(np.flatnonzero(empty)[0])
        near = np.concatenate([near, np.full((len(rows), 1), first_empty)], axis=1)
    return near


def _two_opt_star_day(
    st: _State,
    day: int,
    alpha: float,
    beta: float,
    focus: set[int] | None = None,
    k_near: int = 5,
) -> bool:
    """Exchange route tails between routes of ``day`` (2-opt*), penalised, vectorised.

    Cuts route A after position i and route B after j and reconnects A's head to B's tail and
    B's head to A's tail; an empty route takes a tail (a split). Every pair (with a route in
    ``focus`` if given) and every cut pair is evaluated in one padded array sweep; the best
    move of each pair is applied greedily to disjoint pairs, and rounds repeat while moves
    gain. Returns whether anything changed.
    """
    data = st.data
    m = data.m
    if m < 2:
        return False
    d = data.d
    cap, max_dur = data.cap, data.max_dur
    routes = list(range(day * m, day * m + m))
    rows = [i for i, r in enumerate(routes) if focus is None or r in focus]
    changed = False
    for _ in range(4):
        if not rows:
            break
        arrs = [st.arr(r) for r in routes]
        lens = np.array([len(a) for a in arrs])
        lmax = int(lens.max())
        if lmax <= 2 and not any(len(st.seq[r]) for r in routes):
            break
        nodes = np.zeros((m, lmax), dtype=np.intp)
        for i, a in enumerate(arrs):
            nodes[i, : len(a)] = a
        legs = d[nodes[:, :-1], nodes[:, 1:]]
        fwd = np.zeros((m, lmax))
        np.cumsum(legs, axis=1, out=fwd[:, 1:])
        ql = np.cumsum(data.q[nodes], axis=1)
        sv = np.cumsum(data.s[nodes], axis=1)
        tot_t = fwd[:, -1]
        tot_q = ql[:, -1]
        tot_s = sv[:, -1]
        lp = lmax - 1
        rx = np.array(rows)
        ycand = _near_routes(d, nodes, lens, rx, k_near)  # (f, K) candidate partners per row
        kk = ycand.shape[1]
        # x = focus route (axis 0), y = partner (axis 1), i = cut on x (axis 2), j on y (axis 3)
        xi = nodes[rx, :lp][:, None, :, None]
        xn = nodes[rx, 1:][:, None, :, None]
        yj = nodes[ycand, :lp][:, :, None, :]
        yn = nodes[ycand, 1:][:, :, None, :]
        fx_i = fwd[rx, :lp][:, None, :, None]
        fx_n = fwd[rx, 1:][:, None, :, None]
        fy_j = fwd[ycand, :lp][:, :, None, :]
        fy_n = fwd[ycand, 1:][:, :, None, :]
        trav_x = fx_i + d[xi, yn] + (tot_t[ycand][:, :, None, None] - fy_n)
        trav_y = fy_j + d[yj, xn] + (tot_t[rx][:, None, None, None] - fx_n)
        new = trav_x + trav_y
        val = tot_t.copy()
        if data.has_cap:
            qx_i = ql[rx, :lp][:, None, :, None]
            qy_j = ql[ycand, :lp][:, :, None, :]
            load_x = qx_i + (tot_q[ycand][:, :, None, None] - qy_j)
            load_y = qy_j + (tot_q[rx][:, None, None, None] - qx_i)
            new = new + alpha * (np.maximum(load_x - cap, 0.0) + np.maximum(load_y - cap, 0.0))
            val = val + alpha * np.maximum(tot_q - cap, 0.0)
        if data.has_dur:
            sx_i = sv[rx, :lp][:, None, :, None]
            sy_j = sv[ycand, :lp][:, :, None, :]
            dur_x = trav_x + sx_i + (tot_s[ycand][:, :, None, None] - sy_j)
            dur_y = trav_y + sy_j + (tot_s[rx][:, None, None, None] - sx_i)
            new = new + beta * (np.maximum(dur_x - max_dur, 0.0) + np.maximum(dur_y - max_dur, 0.0))
            val = val + beta * np.maximum(tot_t + tot_s - max_dur, 0.0)
        gain = (val[rx][:, None] + val[ycand])[:, :, None, None] - new
        valid = np.arange(lp)[None, :] < (lens - 1)[:, None]  # (m, lp): cut positions
        mask = valid[rx][:, None, :, None] & valid[ycand][:, :, None, :]
        mask &= (rx[:, None] != ycand)[:, :, None, None]
        gain = np.where(mask, gain, -np.inf).reshape(len(rx), kk, lp * lp)
        best_k = gain.argmax(axis=2)
        best_g = np.take_along_axis(gain, best_k[:, :, None], axis=2)[:, :, 0]
        order = np.argsort(-best_g, axis=None, kind="stable")
        used: set[int] = set()
        moved: list[int] = []
        for flat in order.tolist():
            xr, yk = divmod(flat, kk)
            y = int(ycand[xr, yk])
            g = best_g[xr, yk]
            if g <= 1e-7 * max(abs(val[y]), 1.0):
                break
            x = int(rx[xr])
            if x in used or y in used:
                continue
            i, j = divmod(int(best_k[xr, yk]), lp)
            a, b = arrs[x].tolist(), arrs[y].tolist()
            st.replace_route(routes[x], a[1 : i + 1] + b[j + 1 : -1])
            st.replace_route(routes[y], b[1 : j + 1] + a[i + 1 : -1])
            used.update((x, y))
            moved.extend((x, y))
        if not moved:
            break
        changed = True
        rows = sorted(set(moved))
    return changed


# --------------------------------------------------------------------------------------------
# Destroy operators
# --------------------------------------------------------------------------------------------


def _planned(st: _State) -> NDArray[np.int64]:
    return np.flatnonzero(st.pattern[1:]) + 1


def _destroy_random(st: _State, q: int, rng: np.random.Generator) -> list[int]:
    planned = _planned(st)
    return rng.choice(planned, size=min(q, len(planned)), replace=False).tolist()


def _destroy_related(st: _State, q: int, rng: np.random.Generator) -> list[int]:
    """Shaw removal by distance: a random seed customer and its nearest planned neighbours."""
    planned = _planned(st)
    seed_c = int(rng.choice(planned))
    d = st.data.d
    dist = d[seed_c, planned] + d[planned, seed_c]
    dist = dist * (1.0 + 0.3 * rng.random(len(planned)))
    k = min(q, len(planned))
    order = np.argpartition(dist, k - 1)[:k]
    return planned[order].tolist()


def _destroy_worst(st: _State, q: int, rng: np.random.Generator) -> list[int]:
    """Worst removal, randomised (Ropke & Pisinger 2006, p = 3)."""
    planned = _planned(st)
    sav = st.removal_savings()[planned]
    sav = sav / np.maximum(st.data.freq[planned], 1)
    order = planned[np.argsort(-sav, kind="stable")].tolist()
    out: list[int] = []
    for _ in range(min(q, len(order))):
        k = int(len(order) * rng.random() ** 3)
        out.append(order.pop(k))
    return out


def _destroy_routes(st: _State, q: int, rng: np.random.Generator) -> list[int]:
    """Remove every customer of a few random routes (from all their days)."""
    data = st.data
    chosen: list[int] = []
    seen: set[int] = set()
    order = rng.permutation(data.n_routes)
    for r in order:
        for c in st.seq[int(r)]:
            if c not in seen:
                seen.add(c)
                chosen.append(c)
        if len(chosen) >= q:
            break
    return chosen


_DESTROY = (_destroy_random, _destroy_related, _destroy_worst, _destroy_routes)


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


#: Search settings (tuned on the PVRP benchmark, scripts/bench_pvrp.py).
_TUNE: dict[str, float] = {
    "init_mult": 100.0,  # construction penalty weights, x the base weights
    "init_sweeps": 8,  # reinsertion sweeps after construction
    "w_start": 0.2,  # penalty weights after construction, x the base weights
    "w_step_init": 1.5,  # weight factor per construction sweep
    "tos": 1,  # inter-route 2-opt* on the touched days
    "best_sweep": 1,  # full reinsertion sweeps on each new best solution
    "w_window": 20,  # iterations per penalty weight update
    "w_target": 0.1,  # aimed share of candidates within each limit
    "q_frac": 0.1,  # destroy size: up to this share of the customers ...
    "q_cap": 12,  # ... and at most this many
    "w_step": 1.5,  # penalty weight factor per update
    "shake": 0.3,  # share of customers rebuilt on every other restart
    "patience": 4.0,  # iterations without a new best before a restart, x customers (>= 300)
    "temp_frac": 0.15,  # start temperature, x the mean travel per customer
    "temp_ratio": 200.0,  # start / end temperature
}


def _default_iterations(n: int) -> int:
    return int(min(800, max(200, 3 * n)))


def _initial_state(
    data: _Data,
    initial: Sequence[int] | None,
    alpha: float,
    beta: float,
    rng: np.random.Generator,
) -> _State:
    st = _State(data)
    order = sorted(range(1, data.n + 1), key=lambda c: (-data.freq[c], -data.q[c] - data.s[c], c))
    free: list[int] = []
    if initial is not None:
        for c in order:
            p = int(initial[c - 1])
            if p in data.patterns[c]:
                _insert_fixed(st, c, p, alpha, beta)
            else:
                free.append(c)
    else:
        free = order
    _repair(st, free, alpha, beta, rng, 0.0)
    _improve_routes(st, range(data.n_routes))
    return st


def _reinsert_sweep(
    st: _State, alpha: float, beta: float, rng: np.random.Generator, rounds: int = 3
) -> None:
    """Take each customer out of all its days and put it back with its best pattern.

    A steepest pattern-and-position move per customer, never worse under the current penalty
    weights (the old positions are among the candidates). Repeated while it gains.
    """
    data = st.data
    for _ in range(rounds):
        before = st.penalised(alpha, beta)
        for c in rng.permutation(np.arange(1, data.n + 1)).tolist():
            st.remove(c)
            _insert_best(st, c, alpha, beta, None, 0.0)
        if _TUNE["tos"]:
            for day in range(data.t):
                _two_opt_star_day(st, day, alpha, beta)
        _improve_routes(st, sorted(st.dirty))
        st.dirty.clear()
        if before - st.penalised(alpha, beta) <= 1e-4 * abs(before):
            break


def _insert_fixed(st: _State, c: int, pat: int, alpha: float, beta: float) -> None:
    """Insert ``c`` on the days of ``pat``, each at its cheapest position."""
    data = st.data
    saved = data.patterns[c]
    saved_mat = data.pmat[c]
    try:
        data.patterns[c] = (pat,)
        data.pmat[c] = np.array([[(pat >> d) & 1 for d in range(data.t)]], dtype=np.float64)
        unplanned, data.unplanned = data.unplanned, None
        _insert_best(st, c, alpha, beta, None, 0.0)
    finally:
        data.unplanned = unplanned
        data.patterns[c] = saved
        data.pmat[c] = saved_mat


def _to_solution(st: _State, iterations: int) -> PeriodicSolution:
    data = st.data
    routes = tuple(
        tuple(tuple(int(c) for c in st.seq[day * data.m + v]) for v in range(data.m))
        for day in range(data.t)
    )
    pattern = tuple(int(p) for p in st.pattern[1:])
    travel = float(
        sum(float(data.d[st.arr(r)[:-1], st.arr(r)[1:]].sum()) for r in range(data.n_routes))
    )
    return PeriodicSolution(
        pattern=pattern, routes=routes, cost=travel, feasible=False, iterations=iterations
    )


def _drop_until_feasible(st: _State) -> None:
    """Leave customers out of overfull routes until every route keeps its limits."""
    data = st.data
    while not st.feasible():
        over = np.maximum(st.load - data.cap, 0.0) / max(data.cap, _EPS) if data.has_cap else 0.0
        over = over + (
            np.maximum(st.travel + st.svc - data.max_dur, 0.0) / max(data.max_dur, _EPS)
            if data.has_dur
            else 0.0
        )
        r = int(np.argmax(over))
        sav = st.removal_savings()
        c = max(st.seq[r], key=lambda x: (sav[x] + data.s[x] + data.q[x], -x))
        st.remove(c)


def solve_periodic(
    problem: PeriodicProblem,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    iterations: int | None = None,
    initial: Sequence[int] | None = None,
    stop_at: float | None = None,
) -> PeriodicSolution:
    """Choose a visit pattern per customer and route every day (ALNS, see module docstring).

    Parameters
    ----------
    problem
        The instance.
    seed
        Seed of the search's random generator; same inputs and seed give the same solution.
    time_limit_s
        Wall-clock budget. None (default): a deterministic iteration budget instead.
    iterations
        Iteration budget; default grows with the number of customers (3 per customer, 200-800).
        With ``time_limit_s`` set, the search stops at whichever comes first (unbounded if None).
    initial
        Optional starting pattern per customer (index ``i-1``); patterns not allowed are ignored.
    stop_at
        A safety cap: stop when ``time.perf_counter()`` reaches it. Unlike ``time_limit_s`` it does
        not shape the search (the cooling schedule stays tied to ``iterations``), so a run that
        finishes before the cap is identical to one without it.

    Returns
    -------
    PeriodicSolution
        The best feasible solution found, or if none was found the least infeasible one.
    """
    t0 = time.perf_counter()
    data = _Data(problem)
    rng = np.random.default_rng(seed)
    if time_limit_s is None and iterations is None:
        iterations = _default_iterations(data.n)
    max_iter = iterations if iterations is not None else 1 << 62

    if data.n == 0:
        empty = _State(data)
        return _finish(problem, empty, 0)

    # penalty weights start at one travel unit per unit of excess (scaled) and self-adjust
    mean_leg = float(data.d[0, 1:].mean()) if data.n else 1.0
    alpha = mean_leg / max(float(data.q[1:].mean()), _EPS) if data.has_cap else 0.0
    beta = 1.0 if data.has_dur else 0.0
    w_min, w_max = 1e-3, 1e4
    alpha0, beta0 = max(alpha, _EPS), max(beta, _EPS)

    k = _TUNE
    cur = _initial_state(data, initial, k["init_mult"] * alpha0, k["init_mult"] * beta0, rng)
    built = cur.copy() if cur.feasible() else None  # kept in case the sweeps end infeasible
    # reinsertion sweeps under soft, self-stiffening weights: cheap routes first, then feasible
    alpha, beta = k["w_start"] * alpha0, k["w_start"] * beta0
    for _ in range(int(k["init_sweeps"]) if max_iter > 0 else 0):
        _reinsert_sweep(cur, alpha, beta, rng, rounds=1)
        if data.has_cap:
            alpha *= k["w_step_init"] if cur.load_excess() > 1e-6 else 1.0 / k["w_step_init"]
        if data.has_dur:
            beta *= k["w_step_init"] if cur.dur_excess() > 1e-6 else 1.0 / k["w_step_init"]
    best_feas: _State | None = cur.copy() if cur.feasible() else built
    if built is not None and best_feas is not None and built.objective() < best_feas.objective():
        best_feas = built
    best_any = cur.copy()
    best_any_score = _infeasibility_score(cur)
    cur_val = cur.penalised(alpha, beta)

    n_planned_max = data.n
    q_min = min(4, n_planned_max)
    q_max = max(q_min, min(int(k["q_cap"]), int(k["q_frac"] * n_planned_max) + 1))
    weights = np.ones(len(_DESTROY))
    scores = np.zeros(len(_DESTROY))
    uses = np.zeros(len(_DESTROY))
    temp0 = k["temp_frac"] * max(cur.objective(), _EPS) / data.n  # a few % of a detour
    temp_end = temp0 / k["temp_ratio"]
    since_best = restarts = 0
    cap_ok = dur_ok = 0
    patience = max(300, int(k["patience"] * data.n))
    it = 0
    while it < max_iter:
        if time_limit_s is not None and time.perf_counter() - t0 >= time_limit_s:
            break
        if stop_at is not None and time.perf_counter() >= stop_at:
            logger.debug("solve_periodic: stopped by the time cap after %d iterations", it)
            break
        frac = it / max_iter if iterations is not None else 0.0
        if time_limit_s is not None:
            frac = max(frac, (time.perf_counter() - t0) / time_limit_s)
        temp = temp0 * (temp_end / temp0) ** min(frac, 1.0)
        it += 1

        op = int(rng.choice(len(_DESTROY), p=weights / weights.sum()))
        q = int(rng.integers(q_min, q_max + 1))
        cand = cur.copy()
        removed = _DESTROY[op](cand, q, rng) if len(_planned(cand)) else []
        for c in removed:
            cand.remove(c)
        removed_set = set(removed)
        unplanned = [
            int(c) for c in np.flatnonzero(cand.pattern[1:] == 0) + 1 if c not in removed_set
        ]
        todo = list(removed) + unplanned
        if rng.random() < 0.5:
            rng.shuffle(todo)
        else:
            todo.sort(key=lambda c: (-data.freq[c], -data.q[c] - data.s[c]))
        _repair(cand, todo, alpha, beta, rng, 0.1 if rng.random() < 0.3 else 0.0)
        focus = set(cand.dirty)
        _improve_routes(cand, sorted(focus))
        cand_val = cand.penalised(alpha, beta)
        if k["tos"] and data.m > 1:
            cand.dirty.clear()
            for day in sorted({int(data.route_day[r]) for r in focus}):
                _two_opt_star_day(cand, day, alpha, beta, focus)
            _improve_routes(cand, sorted(cand.dirty))
            cand_val = cand.penalised(alpha, beta)
        score = 0.0
        if cand_val < cur_val - _EPS or rng.random() < math.exp(
            -(cand_val - cur_val) / max(temp, _EPS)
        ):
            score = 1.0 if cand_val < cur_val - _EPS else 0.3
            cur, cur_val = cand, cand_val
        improved = False
        if cand.feasible():
            if best_feas is None or cand.objective() < best_feas.objective() - _EPS:
                if k["best_sweep"]:
                    polished = cand.copy()
                    _reinsert_sweep(polished, alpha, beta, rng, rounds=int(k["best_sweep"]))
                    if polished.feasible() and polished.objective() < cand.objective():
                        if cur is cand:
                            cur, cur_val = polished, polished.penalised(alpha, beta)
                        cand = polished
                best_feas = cand.copy()
                improved = True
                score = 3.0
        elif best_feas is None:
            s = _infeasibility_score(cand)
            if s < best_any_score:
                best_any, best_any_score = cand.copy(), s
                improved = True
        scores[op] += score
        uses[op] += 1
        if it % 100 == 0:
            weights = (
                0.7 * weights + 0.3 * np.where(uses > 0, scores / np.maximum(uses, 1), 0.0) + 0.05
            )
            scores[:] = 0.0
            uses[:] = 0.0

        # self-adjusting penalty weights: aim at a share of load- / duration-feasible
        # candidates (Cordeau et al. 1997 adjust per move; Vidal et al. 2012 per window)
        cap_ok += cand.load_excess() <= 1e-6
        dur_ok += cand.dur_excess() <= 1e-6
        if it % int(k["w_window"]) == 0:
            target, step = k["w_target"], k["w_step"]
            if data.has_cap:
                share = cap_ok / k["w_window"]
                alpha *= step if share < target else (1.0 / step if share > target + 0.2 else 1.0)
                alpha = min(max(alpha, w_min * alpha0), w_max * alpha0)
            if data.has_dur:
                share = dur_ok / k["w_window"]
                beta *= step if share < target else (1.0 / step if share > target + 0.2 else 1.0)
                beta = min(max(beta, w_min * beta0), w_max * beta0)
            cap_ok = dur_ok = 0
        cur_val = cur.penalised(alpha, beta)

        if logger.isEnabledFor(logging.DEBUG) and it % 50 == 0:
            logger.debug(
                "it %d cur %.1f load+ %.1f dur+ %.1f alpha %.3g beta %.3g best %s temp %.3g q %d op %d",
                it,
                cur.objective(),
                cur.load_excess(),
                cur.dur_excess(),
                alpha,
                beta,
                None if best_feas is None else round(best_feas.objective(), 1),
                temp,
                q,
                op,
            )
        since_best = 0 if improved else since_best + 1
        if since_best >= patience:
            # restart from the best, shaken: a large random share rebuilt with noisy insertion
            since_best = 0
            restarts += 1
            src = best_feas if best_feas is not None else best_any
            cur = src.copy()
            if k["shake"] > 0 and restarts % 2 == 0:
                planned = _planned(cur)
                n_out = max(1, int(k["shake"] * len(planned)))
                out = rng.choice(planned, size=min(n_out, len(planned)), replace=False).tolist()
                for c in out:
                    cur.remove(c)
                _repair(cur, out, alpha, beta, rng, 0.3)
                _improve_routes(cur, sorted(cur.dirty))
                cur.dirty.clear()
            cur_val = cur.penalised(alpha, beta)

    result = best_feas if best_feas is not None else best_any
    if best_feas is None and data.unplanned is not None:
        result = result.copy()
        _drop_until_feasible(result)
    logger.debug("solve_periodic: %d iterations in %.2f s", it, time.perf_counter() - t0)
    return _finish(problem, result, it)


def _infeasibility_score(st: _State) -> float:
    data = st.data
    s = 0.0
    if data.has_cap:
        s += st.load_excess() / max(data.cap, _EPS)
    if data.has_dur:
        s += st.dur_excess() / max(data.max_dur, _EPS)
    return s * 1e6 + st.objective()


def _finish(problem: PeriodicProblem, st: _State, iterations: int) -> PeriodicSolution:
    sol = _to_solution(st, iterations)
    ok = not check_solution(problem, sol)
    return PeriodicSolution(
        pattern=sol.pattern, routes=sol.routes, cost=sol.cost, feasible=ok, iterations=iterations
    )
