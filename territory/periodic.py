"""Periodic vehicle routing (visit patterns + day routes): the engine behind the visit planner.

A periodic VRP (PVRP) chooses for every customer one allowed *visit pattern* (a set of days,
encoded as a bitmask: bit ``d`` set = visited on day ``d``, day 0 first) and, for every day, routes
from the depot that visit the customers whose pattern contains that day. The sales planner uses it
with one vehicle per day (the rep) and the working day as the route duration limit; the benchmark
uses it on the classical instances (Christofides & Beasley 1984; Cordeau, Gendreau & Laporte 1997).

Method: adaptive large neighbourhood search (Ropke & Pisinger 2006) over (pattern, day-route
position). A destroy operator (random, related, worst, whole routes) removes ``q`` customers from
*all* their days; the repair inserts each one again by trying every allowed pattern, each day at
its cheapest position (over all routes at once, compiled), so pattern changes are judged on real
route costs. Capacity and duration excess are penalised with self-adjusting weights instead of
being forbidden (Cordeau, Gendreau & Laporte 1997), so the search may cross infeasible space and
repair it. After each repair, route tails are exchanged between nearby routes of the same day
(2-opt*) and touched routes get 2-opt and or-opt (both compiled, `periodic_kernels`). The start
is a cheapest-insertion construction (under a time limit, where several vehicles a day serve
customers visited every day, the first worker's is a template instead: `SearchParams.template`)
polished by sweeps that reinsert every customer with its best pattern; new best solutions get
one more sweep. Acceptance is simulated annealing with
restarts from the best solution. The default budget is a deterministic iteration count (no wall
clock involved).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from .periodic_kernels import (
    best_tail_exchanges,
    cheapest_insertions,
    day_profile,
    improve_route,
    near_routes,
    removal_savings,
    splice_edges,
)

logger = logging.getLogger(__name__)

_EPS = 1e-9

#: Cached edges of all routes: (from, to, route) as rows of one array, base cost per edge,
#: the first edge of each route (plus the end) and of each day.
_EdgeCache = tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]
#: The same unpacked: from, to, route, base cost, route offsets, day offsets.
_Edges = tuple[
    NDArray[np.intp],
    NDArray[np.intp],
    NDArray[np.intp],
    NDArray[np.float64],
    NDArray[np.intp],
    NDArray[np.intp],
]


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
    unscheduled_penalty
        None: every customer must be scheduled. Otherwise the cost of leaving a customer
        unscheduled (pattern 0), in travel units: one value for every customer, or an
        ``(n+1,)`` array with one per customer (entry 0, the depot, unused), so that the
        search leaves out the cheapest customers first.
    """

    travel: NDArray[np.float64]
    service: NDArray[np.float64]
    patterns: tuple[tuple[int, ...], ...]
    days: int
    vehicles_per_day: int = 1
    demand: NDArray[np.float64] | None = None
    capacity: float | None = None
    max_duration: float | None = None
    unscheduled_penalty: float | NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        n1 = len(self.patterns) + 1
        shape = np.shape(np.asarray(self.unscheduled_penalty, dtype=np.float64))
        if self.unscheduled_penalty is not None and shape not in ((), (n1,)):
            raise ValueError(
                f"unscheduled_penalty must be one value or have shape ({n1},), got {shape}"
            )
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
            if not pats and self.unscheduled_penalty is None:
                raise ValueError(
                    f"customer {i} has no allowed pattern and must be scheduled "
                    "(unscheduled_penalty is None)"
                )
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
        Chosen bitmask per customer (index ``i-1`` for node ``i``); 0 = unscheduled.
    routes
        ``routes[day][vehicle]`` = customer nodes in visiting order (depot implicit at both ends).
    cost
        Total travel of the routes.
    feasible
        All constraints hold and every customer is scheduled, or unscheduled only where allowed.
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
    pattern (once per day), that the pattern is allowed (or 0 where unscheduled customers are
    allowed), and the capacity and duration limits of every route.
    """
    n = problem.n_customers
    if len(solution.pattern) != n:
        return [f"pattern has {len(solution.pattern)} entries for {n} customers"]
    if len(solution.routes) != problem.days:
        return [f"routes cover {len(solution.routes)} days, expected {problem.days}"]
    problems: list[str] = []
    seen = [0] * (n + 1)  # days mask per customer node
    for day, day_routes in enumerate(solution.routes):
        if len(day_routes) > problem.vehicles_per_day:
            problems.append(
                f"day {day} has {len(day_routes)} routes, at most {problem.vehicles_per_day} allowed"
            )
        for v, route in enumerate(day_routes):
            problems += _visit_problems(n, day, v, route, seen)
            problems += _limit_problems(problem, day, v, route)
    for c in range(1, n + 1):
        p = solution.pattern[c - 1]
        if p == 0:
            if problem.unscheduled_penalty is None:
                problems.append(f"customer {c} is unscheduled but every customer must be scheduled")
        elif p not in problem.patterns[c - 1]:
            problems.append(f"customer {c}: pattern {p} is not allowed")
        if seen[c] != p:
            problems.append(
                f"customer {c} is visited on days mask {seen[c]} but its pattern is {p}"
            )
    return problems


def _visit_problems(n: int, day: int, v: int, route: Sequence[int], seen: list[int]) -> list[str]:
    """Nodes of one route that are no customer or visited twice that day; marks ``seen``."""
    problems = []
    for c in route:
        if not 1 <= c <= n:
            problems.append(f"day {day} vehicle {v}: node {c} is not a customer")
            continue
        if seen[c] >> day & 1:
            problems.append(f"customer {c} is visited twice on day {day}")
        seen[c] |= 1 << day
    return problems


def _limit_problems(problem: PeriodicProblem, day: int, v: int, route: Sequence[int]) -> list[str]:
    """Capacity and duration excess of one route."""
    if not route:
        return []
    problems = []
    a = np.fromiter((0, *route, 0), dtype=np.intp)
    if problem.capacity is not None and problem.demand is not None:
        load = float(np.asarray(problem.demand)[a].sum())
        if load > problem.capacity + 1e-6:
            problems.append(
                f"day {day} vehicle {v}: load {load:g} exceeds capacity {problem.capacity:g}"
            )
    if problem.max_duration is not None:
        d = np.asarray(problem.travel, dtype=np.float64)
        dur = float(d[a[:-1], a[1:]].sum() + np.asarray(problem.service)[a].sum())
        if dur > problem.max_duration + 1e-6:
            problems.append(
                f"day {day} vehicle {v}: duration {dur:.2f} exceeds limit {problem.max_duration:g}"
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
        # None (every customer must be scheduled) or the cost per customer, (n+1,)
        penalty = problem.unscheduled_penalty
        self.unscheduled_penalty: NDArray[np.float64] | None = (
            None
            if penalty is None
            else np.broadcast_to(np.asarray(penalty, dtype=np.float64), (self.n + 1,)).copy()
        )
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

    def limits(self, alpha: float, beta: float) -> tuple[bool, float, float, bool, float, float]:
        """The route limits and their penalty weights as the compiled kernels take them
        (`periodic_kernels`): capacity on, capacity, its weight, duration on, limit, its weight."""
        return (self.has_cap, self.cap, alpha, self.has_dur, self.max_dur, beta)


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
        self._edges: _EdgeCache | None = None
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

    def n_unscheduled(self) -> int:
        return int((self.pattern[1:] == 0).sum())

    def objective(self) -> float:
        """Travel plus the cost of the unscheduled customers (the user's objective)."""
        total = float(self.travel.sum())
        penalty = self.data.unscheduled_penalty
        if penalty is not None:
            total += float(penalty[1:][self.pattern[1:] == 0].sum())
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

    def edges(self) -> _Edges:
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
    def insert(self, c: int, places: Sequence[tuple[int, int]]) -> None:
        """Insert customer ``c`` into each route ``r`` of ``places`` before index ``pos`` of its
        customer list (``(r, pos)`` pairs, routes in increasing order, one per day)."""
        data = self.data
        d = data.d
        edits = np.empty((len(places), 4), dtype=np.intp)
        for i, (r, pos) in enumerate(places):
            seq = self.seq[r]
            prev = seq[pos - 1] if pos > 0 else 0
            nxt = seq[pos] if pos < len(seq) else 0
            self.travel[r] += d[prev, c] + d[c, nxt] - d[prev, nxt]
            self.load[r] += data.q[c]
            self.svc[r] += data.s[c]
            seq.insert(pos, c)
            self.route_of[c, data.route_day[r]] = r
            edits[i] = r, pos, prev, nxt
            self._touch(r, keep_edges=True)
        self._splice(c, edits)

    def remove(self, c: int) -> None:
        """Take customer ``c`` out of every route it is in; its pattern becomes 0."""
        data = self.data
        d = data.d
        edits = []
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
            edits.append((r, pos, prev, nxt))
            self._touch(r, keep_edges=True)
        self.pattern[c] = 0
        if edits:
            self._splice(0, np.array(edits, dtype=np.intp))

    def _splice(self, c: int, edits: NDArray[np.intp]) -> None:
        """Bring the edge cache, if there is one, up to date after customer ``c``'s visits were
        inserted at ``edits`` (rows ``r, pos, prev, nxt``), or removed from there when ``c`` is
        0 (`periodic_kernels.splice_edges`)."""
        if self._edges is None:
            return
        ftr, base, offs, _ = self._edges
        ftr, base, offs = splice_edges((ftr, base, offs), self.data.d, c, edits)
        self._edges = (ftr, base, offs, offs[:: self.data.m][: self.data.t])

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
        """Travel saved by removing each customer from all its days (0 when unscheduled)."""
        frm, to, rix, _, _, _ = self.edges()
        return removal_savings(self.data.d, frm, to, rix, self.data.n)


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
    daymin, day_edge = cheapest_insertions(
        (data.dt[c], data.d[c]),
        (f, to, rix, base),
        day_starts,
        (st.load, st.travel, st.svc),
        (data.q[c], data.s[c]),
        data.limits(alpha, beta),
    )
    pc = data.pmat[c] @ daymin
    if noise > 0.0 and rng is not None:
        pc = pc * (1.0 + noise * (rng.random(len(pc)) - 0.5))
    k = int(np.argmin(pc))
    if data.unscheduled_penalty is not None and pc[k] > data.unscheduled_penalty[c]:
        st.pattern[c] = 0
        return
    pat = data.patterns[c][k]
    places = []
    for day in range(data.t):
        if (pat >> day) & 1:
            e = int(day_edge[day])
            r = int(rix[e])
            places.append((r, e - int(offs[r])))  # days in order: routes in increasing order
    st.insert(c, places)
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
# Intra-route improvement: 2-opt and or-opt (compiled: periodic_kernels.improve_route)
# --------------------------------------------------------------------------------------------


def _improve_routes(st: _State, routes: Sequence[int]) -> None:
    d = st.data.d
    for r in routes:
        if len(st.seq[r]) < 3:
            continue
        a, gain = improve_route(d, st.arr(r), st.data.symmetric, _EPS)
        if gain > _EPS:
            st.set_route(r, a[1:-1].tolist(), float(st.travel[r] - gain))


@dataclass(frozen=True)
class _DayProfile:
    """The routes of one day as padded arrays: nodes (depots incl.) and prefix sums."""

    arrs: list[NDArray[np.intp]]  # node array per route
    lens: NDArray[np.intp]  # nodes per route, depots incl.
    nodes: NDArray[np.intp]  # (routes, longest) padded with the depot
    fwd: NDArray[np.float64]  # travel up to each position
    load: NDArray[np.float64]  # demand up to and including each position
    service: NDArray[np.float64]  # service up to and including each position


def _day_profile(st: _State, routes: Sequence[int]) -> _DayProfile | None:
    """Profile of ``routes``; None when every one of them is empty."""
    data = st.data
    arrs = [st.arr(r) for r in routes]
    lens = np.array([len(a) for a in arrs])
    lmax = int(lens.max())
    if lmax <= 2 and not any(len(st.seq[r]) for r in routes):
        return None
    nodes = np.zeros((len(routes), lmax), dtype=np.intp)
    for i, a in enumerate(arrs):
        nodes[i, : len(a)] = a
    fwd, load, service = day_profile(data.d, data.q, data.s, nodes)
    return _DayProfile(arrs, lens, nodes, fwd, load, service)


def _apply_tail_exchanges(
    st: _State,
    routes: Sequence[int],
    prof: _DayProfile,
    rx: NDArray[np.intp],
    ycand: NDArray[np.intp],
    *,
    alpha: float,
    beta: float,
) -> list[int]:
    """Find the best exchange of each pair (`periodic_kernels.best_tail_exchanges`) and apply
    them, best first, to disjoint pairs; the routes moved."""
    data = st.data
    lp = prof.nodes.shape[1] - 1
    kk = ycand.shape[1]
    best_g, best_k, val = best_tail_exchanges(
        data.d,
        prof.nodes,
        prof.lens,
        prof.fwd,
        prof.load,
        prof.service,
        rx,
        ycand,
        data.limits(alpha, beta),
    )
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
        a, b = prof.arrs[x].tolist(), prof.arrs[y].tolist()
        st.replace_route(routes[x], a[1 : i + 1] + b[j + 1 : -1])
        st.replace_route(routes[y], b[1 : j + 1] + a[i + 1 : -1])
        used.update((x, y))
        moved.extend((x, y))
    return moved


def _two_opt_star_day(
    st: _State,
    day: int,
    alpha: float,
    beta: float,
    focus: set[int] | None = None,
    k_near: int = 5,
) -> bool:
    """Exchange route tails between routes of ``day`` (2-opt*), penalised.

    Cuts route A after position i and route B after j and reconnects A's head to B's tail and
    B's head to A's tail; an empty route takes a tail (a split). Every pair (with a route in
    ``focus`` if given) and every cut pair is evaluated over the day's padded route arrays
    (`periodic_kernels.best_tail_exchanges`, compiled); the best move of each pair is applied
    greedily to disjoint pairs, and rounds repeat while moves gain. Returns whether anything
    changed.
    """
    m = st.data.m
    if m < 2:
        return False
    routes = list(range(day * m, day * m + m))
    rows = [i for i, r in enumerate(routes) if focus is None or r in focus]
    changed = False
    for _ in range(4):
        if not rows:
            break
        prof = _day_profile(st, routes)
        if prof is None:
            break
        rx = np.array(rows)
        ycand = near_routes(st.data.d, prof.nodes, prof.lens, rx, k_near)  # partners per row
        moved = _apply_tail_exchanges(st, routes, prof, rx, ycand, alpha=alpha, beta=beta)
        if not moved:
            break
        changed = True
        rows = sorted(set(moved))
    return changed


# --------------------------------------------------------------------------------------------
# Destroy operators
# --------------------------------------------------------------------------------------------


def _scheduled(st: _State) -> NDArray[np.int64]:
    return np.flatnonzero(st.pattern[1:]) + 1


def _destroy_random(st: _State, q: int, rng: np.random.Generator) -> list[int]:
    scheduled = _scheduled(st)
    out: list[int] = rng.choice(scheduled, size=min(q, len(scheduled)), replace=False).tolist()
    return out


def _destroy_related(st: _State, q: int, rng: np.random.Generator) -> list[int]:
    """Shaw removal by distance: a random seed customer and its nearest scheduled neighbours."""
    scheduled = _scheduled(st)
    seed_c = int(rng.choice(scheduled))
    d = st.data.d
    dist = d[seed_c, scheduled] + d[scheduled, seed_c]
    dist = dist * (1.0 + 0.3 * rng.random(len(scheduled)))
    k = min(q, len(scheduled))
    order = np.argpartition(dist, k - 1)[:k]
    out: list[int] = scheduled[order].tolist()
    return out


def _destroy_worst(st: _State, q: int, rng: np.random.Generator) -> list[int]:
    """Worst removal, randomised (Ropke & Pisinger 2006, p = 3)."""
    scheduled = _scheduled(st)
    sav = st.removal_savings()[scheduled]
    sav = sav / np.maximum(st.data.freq[scheduled], 1)
    order = scheduled[np.argsort(-sav, kind="stable")].tolist()
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
# Search parameters and the stopping criterion
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaxIterations:
    """Stop after ``iterations`` search iterations: deterministic, no clock involved.

    The cooling schedule runs over the ``iterations`` (as ``pyvrp.stop.MaxIterations``).
    """

    iterations: int

    def __post_init__(self) -> None:
        if self.iterations < 0:
            raise ValueError(f"MaxIterations({self.iterations!r}): use 0 or more iterations")


@dataclass(frozen=True)
class MaxRuntime:
    """Stop once ``seconds`` of wall-clock time have passed since the call (construction incl.).

    The cooling schedule runs over the time, so results depend on the machine and its load
    (as ``pyvrp.stop.MaxRuntime``); for benchmarks.
    """

    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds >= 0:
            raise ValueError(f"MaxRuntime({self.seconds!r}): use 0 or more seconds")


@dataclass(frozen=True)
class FirstOf:
    """Stop at whichever criterion is met first; cooling follows the one furthest along.

    PyVRP's ``MultipleCriteria``: here only for an iteration budget under a time limit (the
    ``[planning]`` keys ``improve_iterations`` and ``improve_time_limit_s`` set together).
    """

    criteria: tuple[MaxIterations | MaxRuntime, ...]

    def __post_init__(self) -> None:
        if not self.criteria:
            raise ValueError("FirstOf() needs at least one criterion")


#: The search's one stopping criterion.
StoppingCriterion = MaxIterations | MaxRuntime | FirstOf


def stopping_criterion(iterations: int | None, seconds: float | None) -> StoppingCriterion | None:
    """The criterion for an optional iteration budget and an optional time limit.

    None when neither is given (then `solve_periodic` takes its default budget); both: whichever
    is met first.
    """
    if seconds is None:
        return None if iterations is None else MaxIterations(iterations)
    if iterations is None:
        return MaxRuntime(seconds)
    return FirstOf((MaxIterations(iterations), MaxRuntime(seconds)))


def default_iterations(n_customers: int) -> int:
    """The iteration budget when no criterion is given: 3 per customer, 200 to 800."""
    return int(min(800, max(200, 3 * n_customers)))


def stop_or_default(problem: PeriodicProblem, stop: StoppingCriterion | None) -> StoppingCriterion:
    """``stop``, or when it is None the default budget for ``problem`` (`default_iterations`)."""
    return stop if stop is not None else MaxIterations(default_iterations(problem.n_customers))


@dataclass(frozen=True)
class PeriodSearch:
    """PyVRP's settings for the whole-period polish (`periodic_pyvrp.route_period`).

    Attributes
    ----------
    neighbours
        Size of each visit's granular neighbourhood: the nearest visits *of its own day* at
        other places (a visit whose day is free: of any day); None: PyVRP's own (50 nearest
        clients, most of them visits of other days, the same place's other copies first, whose
        moves can never be feasible).
    max_perturbations
        Most visits PyVRP's iterated local search perturbs per iteration (PyVRP's default 25
        is made for one day; fewer, and more iterations, converge faster on a period).
    history_length
        Late-acceptance history of PyVRP's iterated local search (PyVRP's default 300).

    The defaults, measured on the classical instances (pr05 from the same start, 15 s): 3.6 %
    above the best known against 4.6 % with PyVRP's own neighbourhood and settings.
    """

    neighbours: int | None = 40
    max_perturbations: int = 10
    history_length: int = 50

    def __post_init__(self) -> None:
        if self.neighbours is not None and self.neighbours < 1:
            raise ValueError("PeriodSearch: neighbours must be at least 1 (or None)")
        if self.max_perturbations < 1 or self.history_length < 1:
            raise ValueError("PeriodSearch: max_perturbations and history_length must be >= 1")


#: PyVRP's own settings for the whole period (the engine before `PeriodSearch`'s defaults).
PYVRP_PERIOD_DEFAULTS = PeriodSearch(neighbours=None, max_perturbations=25, history_length=300)


@dataclass(frozen=True)
class SearchParams:
    """Tuning of the periodic search (tuned on the PVRP benchmark, scripts/bench_pvrp.py).

    Penalty weights are multiples of the base weights: one travel unit per unit of load excess
    (scaled by the mean leg over the mean demand) and per unit of duration excess.

    Attributes
    ----------
    construction_penalty
        Penalty weights of the cheapest-insertion construction.
    construction_sweeps
        Reinsertion sweeps after the construction (none when the iteration budget is 0).
    sweep_penalty
        Penalty weights after the construction (soft: cheap routes first, then feasible ones).
    sweep_penalty_step
        Factor on a penalty weight after each construction sweep (up while its limit is
        exceeded, down otherwise).
    two_opt_star
        Exchange route tails between the routes of the touched days (2-opt*).
    best_sweeps
        Full reinsertion sweeps that polish each new best solution.
    penalty_window
        Iterations per penalty weight update.
    feasible_share
        Aimed share of candidates within each limit per window.
    penalty_step
        Factor on a penalty weight per update.
    destroy_share, destroy_max
        Customers removed per iteration: at most this share of the customers (plus one) and
        at most this many (at least 4 when there are that many).
    shake_share
        Share of the customers rebuilt with noisy insertion on every other restart.
    patience_per_customer
        Iterations without a new best before a restart, per customer (at least 300).
    temperature_share
        Start temperature of the annealing as a share of the mean travel per customer.
    temperature_ratio
        Start temperature / end temperature.
    polish
        Route every day of the best solution again with PyVRP (`polish_days`): its patterns
        stay, each day's customers are routed as a capacitated VRP with the duration limit.
        The planner does not need it (its days are routed again with windows and the break).
    polish_share
        With a time limit, the share of it kept for the polish (split over the rounds and days);
        None: 0.6 for a big period with several vehicles a day, else 0.5.
    polish_iterations
        With an iteration budget, PyVRP's iterations per day (deterministic), split evenly over
        the rounds.
    polish_rounds
        Polish rounds: the search runs before each one and resumes from the polished routes
        (at a low temperature) between them, so pattern changes are judged on good routes;
        None: 5 for a big period (at least 600 visits) with several vehicles a day, else 6.
    period_polish
        Polish the whole period at once with PyVRP (`periodic_pyvrp.route_period`: the day of
        every single-day customer is searched too) instead of each day alone; None: the whole
        period when its model has at most 2,500 clients (visits and day copies).
    resume_share
        With more than one round, the share of the search's budget for the resumed searches
        (split evenly); the first search gets the rest. None: 0.8 where the period has at
        least ``genetic_max_visits`` visits (every search is this one; pr06, pr09 and pr10 at
        20 s with two workers, seeds 8-15, paired: better than 0.4 in 19 of 23 runs, 5 over 3 %
        against 16), else 0.4 (with a genetic worker 0.8 was no better: 11 mixed periods,
        seeds 0-1, 0.80 % against 0.74 % mean).
    period_search
        PyVRP's settings for the whole-period polish: `PeriodSearch`'s neighbourhood with 20
        perturbations at most and a history of 100 (`PeriodSearch`'s defaults 10 and 50 suit
        one long polish from the planner's answer; in the rounds, on pr04-pr06, pr08-pr10, p08
        and p10 with two workers at 20 s, seeds 0-3: 2.36 % mean gap against 2.63 %, pr10
        2.62-2.74 % against 3.03-3.43 %).
    educate
        Educate every candidate of the resumed searches (those after a polish round) with the
        genetic search's local search (`periodic_hgs_kernels.educate`: relocations, swaps,
        2-opt* and SWAP* among a day's routes over each customer's nearest, and pattern changes)
        under the search's penalty weights. A candidate's routes are PyVRP's there except where
        customers were taken out and put back, and routes mended by this search's own moves
        alone (2-opt and Or-opt within a route, 2-opt* between a day's routes) are worse than
        PyVRP's: the resumed search then accepted next to nothing (pr06, seeds 0-2: at most
        0.01 points gained in its last two phases), and five times its time made pr06 worse
        (3.0 % against 2.4-2.7 %). Educated, a candidate costs about three times as much, and is
        worth it: pr06 at 20 s with two workers, seeds 0-23, 2.50 % mean gap (6 runs of 24 over
        3 %) against 2.79 % (9 of 24); pr10, seeds 0-5, 2.24 % against 2.65 %; the iteration
        budget 1.55 % against 1.88 % (no instance worse by more than 0.02 points). Once the
        current solution is an educated candidate, the next candidate's education starts from
        the routes it changed (``touched``): pr06, seeds 0-23 alternated, 1.83 % mean, max
        2.51 %, against 2.03 %, max 3.16 % educating the whole plan. None: where every
        customer is scheduled (the education gives each customer a pattern).
    genetic_workers
        With ``workers`` searches at once (`solve_periodic`), how many of them (the last ones,
        never worker 0) run the hybrid genetic search of `periodic_hgs` instead of this one,
        meeting the others after every polish round all the same (where `genetic_fits`: every
        customer scheduled, days not interchangeable); it starts from nothing (``initial`` is
        worker 0's).
    genetic_max_visits
        The genetic workers only for a period of fewer visits than this (`period_visits`): at
        20 s on the classical instances the genetic search beside one search wins up to pr04
        (384 visits; pr03 0.94 % against 2.32 % for two searches, pr04 2.42 % against 3.74 %)
        and, since its education is twice as fast, on pr08 (432 visits: 1.74 % against 2.20 %
        over seeds 0-3); it was even on pr05 (480: 2.69 % both), pr06 (576: 3.33 and 3.32 %)
        and pr09 (648: 2.34 and 2.42 %) and lost on pr10 (864: 3.50 against 3.24 %), where it
        makes too few children in the time. On the slower machine of the later sessions it
        loses on pr05 too (seeds 0-11: 2.89 % mean, 5 of 12 runs over 3 %, against 2.44 %
        and 2 of 12 for two searches), hence 450.
    template
        Start the search from `periodic_pyvrp.template_start` (sectors of the average day, each
        vehicle in its sector every day, patterns balanced within a sector) instead of the
        cheapest insertion; None: under a time limit alone, where `template_fits` (several
        vehicles a day and customers visited on every day, who make every day's routes cover
        the whole area anyway; see `_template_budget`), and with several workers in worker 0
        only (`periodic_workers.child_params`: the others start from the cheapest insertion,
        the better start goes on from the first meeting). Two workers at 20 s, seeds 0-11:
        pr06 2.19 % mean gap, pr09 2.29 %, pr10 2.20 % (seeds 0-5), against 2.66, 2.19 and
        2.38 % from the cheapest insertion in both and 2.24, 2.49 and 2.29 % from a template in
        both (README, "Periodic plan, twentieth session").
    template_share, template_iterations_per_customer
        The average day's PyVRP budget: this share of a time limit, or this many iterations per
        customer under an iteration budget (deterministic; on pr06 about 1 s).
    alike_search
        The same when the days are interchangeable (`interchangeable_days`): the period is one
        capacitated VRP and PyVRP's own perturbation and history suit it (p06 at 9 s: 0.0 %
        above the best known against 1.0 % with ``period_search``).
    """

    construction_penalty: float = 100.0
    construction_sweeps: int = 8
    sweep_penalty: float = 0.2
    sweep_penalty_step: float = 1.5
    two_opt_star: bool = True
    best_sweeps: int = 1
    penalty_window: int = 20
    feasible_share: float = 0.1
    penalty_step: float = 1.5
    destroy_share: float = 0.1
    destroy_max: int = 12
    shake_share: float = 0.3
    patience_per_customer: float = 4.0
    temperature_share: float = 0.15
    temperature_ratio: float = 200.0
    polish: bool = False
    polish_share: float | None = None
    polish_iterations: int = 1500
    polish_rounds: int | None = None
    period_polish: bool | None = None
    resume_share: float | None = None
    period_search: PeriodSearch = PeriodSearch(max_perturbations=20, history_length=100)
    alike_search: PeriodSearch = PeriodSearch(max_perturbations=25, history_length=300)
    educate: bool | None = None
    genetic_workers: int = 1
    genetic_max_visits: int = 450
    template: bool | None = None
    template_share: float = 0.05
    template_iterations_per_customer: int = 2

    def __post_init__(self) -> None:
        positive = (
            "construction_penalty",
            "sweep_penalty",
            "sweep_penalty_step",
            "penalty_step",
            "penalty_window",
            "temperature_share",
            "temperature_ratio",
        )
        bad = [name for name in positive if not getattr(self, name) > 0]
        bad += [n for n in ("construction_sweeps", "best_sweeps") if getattr(self, n) < 0]
        shares = ("feasible_share", "destroy_share", "shake_share")
        bad += [name for name in shares if not 0 <= getattr(self, name) <= 1]
        for name in ("polish_share", "resume_share", "template_share"):
            share = getattr(self, name)
            bad += [name] if share is not None and not 0 <= share <= 1 else []
        bad += (
            ["polish_rounds"] if self.polish_rounds is not None and self.polish_rounds < 1 else []
        )
        bad += ["polish_iterations"] if self.polish_iterations < 0 else []
        bad += ["destroy_max"] if self.destroy_max < 1 else []
        bad += ["patience_per_customer"] if self.patience_per_customer < 0 else []
        bad += ["genetic_workers"] if self.genetic_workers < 0 else []
        bad += ["genetic_max_visits"] if self.genetic_max_visits < 0 else []
        bad += (
            ["template_iterations_per_customer"]
            if self.template_iterations_per_customer < 1
            else []
        )
        if bad:
            raise ValueError(f"SearchParams: {', '.join(bad)} out of range")


# --------------------------------------------------------------------------------------------
# Search components: budget, penalty weights, operator weights, annealing
# --------------------------------------------------------------------------------------------


class _Budget:
    """The stopping criterion at run time, plus the planner's safety deadline."""

    def __init__(self, stop: StoppingCriterion, started: float, deadline: float | None) -> None:
        parts = stop.criteria if isinstance(stop, FirstOf) else (stop,)
        counts = [c.iterations for c in parts if isinstance(c, MaxIterations)]
        seconds = [c.seconds for c in parts if isinstance(c, MaxRuntime)]
        self.iterations = min(counts) if counts else None
        self.seconds = min(seconds) if seconds else None
        self.started = started
        self.deadline = deadline

    def searches(self) -> bool:
        """Whether any search beyond the construction is asked for."""
        return self.iterations != 0

    def done(self, it: int) -> bool:
        """Whether the search stops before iteration ``it + 1``."""
        if self.iterations is not None and it >= self.iterations:
            return True
        if self.seconds is not None and time.perf_counter() - self.started >= self.seconds:
            return True
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            logger.debug("solve_periodic: stopped by the deadline after %d iterations", it)
            return True
        return False

    def fraction(self, it: int) -> float:
        """How far the search is (0 to 1 and beyond): drives the cooling, never the deadline."""
        frac = it / self.iterations if self.iterations is not None else 0.0
        if self.seconds is not None:
            frac = max(frac, (time.perf_counter() - self.started) / self.seconds)
        return frac


class _Penalties:
    """Self-adjusting weights of load excess (``alpha``) and duration excess (``beta``).

    Infeasible solutions are penalised rather than forbidden (Cordeau, Gendreau & Laporte 1997);
    the weights aim at a share of load- and duration-feasible candidates per window of
    iterations (Cordeau et al. adjust per move, Vidal et al. 2012 per window).
    """

    MIN_FACTOR = 1e-3
    MAX_FACTOR = 1e4

    def __init__(self, data: _Data, params: SearchParams) -> None:
        mean_leg = float(data.d[0, 1:].mean()) if data.n else 1.0
        alpha = mean_leg / max(float(data.q[1:].mean()), _EPS) if data.has_cap else 0.0
        beta = 1.0 if data.has_dur else 0.0
        self.alpha0, self.beta0 = max(alpha, _EPS), max(beta, _EPS)
        self.has_cap, self.has_dur = data.has_cap, data.has_dur
        self.params = params
        self.alpha = params.sweep_penalty * self.alpha0
        self.beta = params.sweep_penalty * self.beta0
        self.cap_ok = self.dur_ok = 0

    def construction(self) -> tuple[float, float]:
        """Weights of the construction: stiff, so it builds feasible routes where it can."""
        factor = self.params.construction_penalty
        return factor * self.alpha0, factor * self.beta0

    def after_sweep(self, st: _State) -> None:
        """Stiffen a weight whose limit ``st`` exceeds, relax it otherwise."""
        step = self.params.sweep_penalty_step
        if self.has_cap:
            self.alpha *= step if st.load_excess() > 1e-6 else 1.0 / step
        if self.has_dur:
            self.beta *= step if st.dur_excess() > 1e-6 else 1.0 / step

    def observe(self, cand: _State, it: int) -> None:
        """Count a candidate; at the end of each window move the weights toward the target."""
        self.cap_ok += cand.load_excess() <= 1e-6
        self.dur_ok += cand.dur_excess() <= 1e-6
        window = self.params.penalty_window
        if it % window:
            return
        if self.has_cap:
            self.alpha = self._adjusted(self.alpha, self.alpha0, self.cap_ok / window)
        if self.has_dur:
            self.beta = self._adjusted(self.beta, self.beta0, self.dur_ok / window)
        self.cap_ok = self.dur_ok = 0

    def _adjusted(self, weight: float, base: float, share: float) -> float:
        target, step = self.params.feasible_share, self.params.penalty_step
        weight *= step if share < target else (1.0 / step if share > target + 0.2 else 1.0)
        return min(max(weight, self.MIN_FACTOR * base), self.MAX_FACTOR * base)


class _OperatorWeights:
    """Adaptive choice of the destroy operator (Ropke & Pisinger 2006).

    Scores per use (3 for a new best, 1 for an improvement, 0.3 for an accepted worse
    candidate) are blended into the weights every ``UPDATE_EVERY`` iterations.
    """

    UPDATE_EVERY = 100
    REACTION = 0.3

    def __init__(self, n_operators: int) -> None:
        self.weights = np.ones(n_operators)
        self.scores = np.zeros(n_operators)
        self.uses = np.zeros(n_operators)

    def pick(self, rng: np.random.Generator) -> int:
        """An operator index drawn with probability proportional to its weight."""
        return int(rng.choice(len(self.weights), p=self.weights / self.weights.sum()))

    def record(self, op: int, score: float, it: int) -> None:
        """Credit ``op`` with ``score``; blend the mean scores in every ``UPDATE_EVERY``."""
        self.scores[op] += score
        self.uses[op] += 1
        if it % self.UPDATE_EVERY == 0:
            mean = np.where(self.uses > 0, self.scores / np.maximum(self.uses, 1), 0.0)
            self.weights = (1.0 - self.REACTION) * self.weights + self.REACTION * mean + 0.05
            self.scores[:] = 0.0
            self.uses[:] = 0.0


class _Annealing:
    """Simulated-annealing acceptance, cooling geometrically over the budget."""

    def __init__(self, objective: float, n_customers: int, params: SearchParams) -> None:
        # a few % of a detour at the start
        self.temp0 = params.temperature_share * max(objective, _EPS) / n_customers
        self.temp_end = self.temp0 / params.temperature_ratio

    def temperature(self, fraction: float) -> float:
        """The temperature ``fraction`` of the way through the budget."""
        factor: float = (self.temp_end / self.temp0) ** min(fraction, 1.0)
        return self.temp0 * factor

    @staticmethod
    def accepts(cand_val: float, cur_val: float, temp: float, rng: np.random.Generator) -> bool:
        """Accept an improvement always, a worse candidate with probability exp(-delta / T)."""
        if cand_val < cur_val - _EPS:
            return True
        return bool(rng.random() < math.exp(-(cand_val - cur_val) / max(temp, _EPS)))


# --------------------------------------------------------------------------------------------
# Construction, sweeps and the result
# --------------------------------------------------------------------------------------------


def _initial_state(
    data: _Data,
    initial: Sequence[int] | None,
    alpha: float,
    beta: float,
    rng: np.random.Generator,
) -> _State:
    """Cheapest-insertion construction: the given patterns first, then the most frequent."""
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
    st: _State,
    alpha: float,
    beta: float,
    rng: np.random.Generator,
    *,
    rounds: int,
    two_opt_star: bool,
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
        if two_opt_star:
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
    penalty = data.unscheduled_penalty
    try:
        data.patterns[c] = (pat,)
        data.pmat[c] = np.array([[(pat >> d) & 1 for d in range(data.t)]], dtype=np.float64)
        data.unscheduled_penalty = None
        _insert_best(st, c, alpha, beta, None, 0.0)
    finally:
        data.unscheduled_penalty = penalty
        data.patterns[c] = saved
        data.pmat[c] = saved_mat


def _unschedule_until_feasible(st: _State, below: float | None = None) -> list[int] | None:
    """Unschedule customers of overfull routes until every route keeps its limits: on the
    route furthest over, the customer that frees the most room per unit of its cost of leaving
    out. With ``below``, only customers that cost less than that to leave out; None when the
    route furthest over has none. Returns the customers taken out."""
    data = st.data
    cost = data.unscheduled_penalty
    taken: list[int] = []
    while not st.feasible():
        over = np.maximum(st.load - data.cap, 0.0) / max(data.cap, _EPS) if data.has_cap else 0.0
        over = over + (
            np.maximum(st.travel + st.svc - data.max_dur, 0.0) / max(data.max_dur, _EPS)
            if data.has_dur
            else 0.0
        )
        r = int(np.argmax(over))
        options = st.seq[r]
        if below is not None:
            assert cost is not None
            options = [x for x in options if cost[x] < below]
            if not options:
                return None
        sav = st.removal_savings()
        # the most room per unit of the cost of leaving the customer out
        c = max(
            options,
            key=lambda x: (
                (sav[x] + data.s[x] + data.q[x]) / (1.0 if cost is None else cost[x]),
                -x,
            ),
        )
        st.remove(c)
        taken.append(c)
    return taken


def prioritise(problem: PeriodicProblem, solution: PeriodicSolution) -> PeriodicSolution:
    """``solution`` where each unscheduled customer, the costliest to leave out first, takes
    the place of customers that cost less to leave out (per customer ``unscheduled_penalty``).

    The customer goes on each of its allowed patterns at the cheapest positions; while a route
    is over its limits, the customer of that route that frees the most room per unit of its
    own penalty, among those with a lower penalty, is taken out; what was taken out and fits
    elsewhere goes back. The best result is kept when it lowers the objective (travel plus the
    penalties). Without penalties per customer, or with nothing unscheduled, ``solution``
    itself. Deterministic.
    """
    if (
        problem.unscheduled_penalty is None
        or np.ndim(problem.unscheduled_penalty) == 0
        or all(solution.pattern)
    ):
        return solution
    data = _Data(problem)
    cost = data.unscheduled_penalty
    assert cost is not None
    st = _state_of(data, solution)
    if not st.feasible():
        return solution
    weight = float(data.d[0, 1:].mean()) if data.n else 1.0  # a detour's worth per unit of excess
    alpha = weight / max(float(data.q[1:].mean()), _EPS) if data.has_cap else 0.0
    beta = weight / max(float(data.s[1:].mean()), _EPS) if data.has_dur else 0.0
    waiting = sorted(
        (c for c in range(1, data.n + 1) if st.pattern[c] == 0 and data.patterns[c]),
        key=lambda c: (-cost[c], c),
    )
    for c in waiting:
        best: _State | None = None
        for pat in data.patterns[c]:
            trial = _displaced(st, c, pat, alpha, beta)
            if (
                trial is not None
                and trial.objective()
                < (best.objective() if best is not None else st.objective()) - _EPS
            ):
                best = trial
        if best is not None:
            st = best
    return _finish(problem, st, solution.iterations)


def _displaced(st: _State, c: int, pat: int, alpha: float, beta: float) -> _State | None:
    """A copy of ``st`` with customer ``c`` on pattern ``pat`` and customers with a lower
    penalty taken out until every route keeps its limits (`prioritise`); None when a route
    stays over them."""
    cost = st.data.unscheduled_penalty
    assert cost is not None
    trial = st.copy()
    _insert_fixed(trial, c, pat, alpha, beta)
    taken = _unschedule_until_feasible(trial, below=float(cost[c]))
    if taken is None:
        return None
    for x in taken:  # what fits elsewhere goes back
        back = trial.copy()
        _insert_best(back, x, alpha, beta, None, 0.0)
        if back.pattern[x] and back.feasible():
            trial = back
    return trial


def _infeasibility_score(st: _State) -> float:
    data = st.data
    s = 0.0
    if data.has_cap:
        s += st.load_excess() / max(data.cap, _EPS)
    if data.has_dur:
        s += st.dur_excess() / max(data.max_dur, _EPS)
    return s * 1e6 + st.objective()


def _finish(problem: PeriodicProblem, st: _State, iterations: int) -> PeriodicSolution:
    """The state as a solution value, checked against the problem."""
    data = st.data
    routes = tuple(
        tuple(tuple(int(c) for c in st.seq[day * data.m + v]) for v in range(data.m))
        for day in range(data.t)
    )
    pattern = tuple(int(p) for p in st.pattern[1:])
    travel = float(
        sum(float(data.d[st.arr(r)[:-1], st.arr(r)[1:]].sum()) for r in range(data.n_routes))
    )
    draft = PeriodicSolution(
        pattern=pattern, routes=routes, cost=travel, feasible=False, iterations=iterations
    )
    return replace(draft, feasible=not check_solution(problem, draft))


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


class _Search:
    """The ALNS state between iterations: current and best solutions and the adaptive parts."""

    def __init__(self, data: _Data, params: SearchParams, rng: np.random.Generator) -> None:
        self.data = data
        self.params = params
        self.rng = rng
        self.penalties = _Penalties(data, params)
        self.operators = _OperatorWeights(len(_DESTROY))
        n = data.n
        self.q_min = min(4, n)
        self.q_max = max(self.q_min, min(params.destroy_max, int(params.destroy_share * n) + 1))
        self.patience = max(300, int(params.patience_per_customer * n))
        self.since_best = self.restarts = 0
        self.cur = _State(data)
        self.cur_val = 0.0
        self.best_feas: _State | None = None
        self.best_any = self.cur
        self.best_any_score = math.inf
        #: whether `_candidate` educates its candidates (`SearchParams.educate`), and the
        #: education's arrays (`periodic_hgs.education_arrays`), made when first needed
        self.educating = False
        self._education: tuple[NDArray[np.int64], ...] | None = None
        #: the current solution when it is an educated candidate the search accepted: then the
        #: next candidate's education is focused on the routes it changed
        self._educated_cur: _State | None = None

    def construct(
        self,
        initial: Sequence[int] | None,
        *,
        sweeps: bool,
        start: PeriodicSolution | None = None,
    ) -> None:
        """Cheapest insertion under stiff weights (or the routes of ``start``, improved), then
        reinsertion sweeps under soft ones."""
        p = self.penalties
        if start is not None:
            cur = _state_of(self.data, start)
            _improve_routes(cur, range(self.data.n_routes))
        else:
            cur = _initial_state(self.data, initial, *p.construction(), self.rng)
        built = cur.copy() if cur.feasible() else None  # kept in case the sweeps end infeasible
        for _ in range(self.params.construction_sweeps if sweeps else 0):
            _reinsert_sweep(
                cur, p.alpha, p.beta, self.rng, rounds=1, two_opt_star=self.params.two_opt_star
            )
            p.after_sweep(cur)
        best_feas = cur.copy() if cur.feasible() else built
        if (
            built is not None
            and best_feas is not None
            and built.objective() < best_feas.objective()
        ):
            best_feas = built
        self.best_feas = best_feas
        self.best_any = cur.copy()
        self.best_any_score = _infeasibility_score(cur)
        self.cur, self.cur_val = cur, cur.penalised(p.alpha, p.beta)

    def step(self, it: int, temp: float) -> None:
        """One iteration: destroy and repair a copy, accept or not, learn, maybe restart."""
        op = self.operators.pick(self.rng)
        q = int(self.rng.integers(self.q_min, self.q_max + 1))
        cand, cand_val = self._candidate(op, q)
        score = 0.0
        if _Annealing.accepts(cand_val, self.cur_val, temp, self.rng):
            score = 1.0 if cand_val < self.cur_val - _EPS else 0.3
            self.cur, self.cur_val = cand, cand_val
            self._educated_cur = cand if self.educating else None
        cand, improved, new_best = self._record_best(cand)
        self.operators.record(op, 3.0 if new_best else score, it)
        self.penalties.observe(cand, it)
        self.cur_val = self.cur.penalised(self.penalties.alpha, self.penalties.beta)
        if logger.isEnabledFor(logging.DEBUG) and it % 50 == 0:
            self._log(it, temp, q, op)
        self.since_best = 0 if improved else self.since_best + 1
        if self.since_best >= self.patience:
            self._restart()

    def _candidate(self, op: int, q: int) -> tuple[_State, float]:
        """A copy of the current solution with ``q`` customers removed by ``op`` and reinserted
        (with every unscheduled one), its routes improved (and educated where ``educating``,
        `_educated`: around the routes it changed when the current solution is an educated
        candidate, else the whole of it); and its penalised value."""
        data, rng = self.data, self.rng
        alpha, beta = self.penalties.alpha, self.penalties.beta
        cand = self.cur.copy()
        removed = _DESTROY[op](cand, q, rng) if len(_scheduled(cand)) else []
        for c in removed:
            cand.remove(c)
        removed_set = set(removed)
        unscheduled = [
            int(c) for c in np.flatnonzero(cand.pattern[1:] == 0) + 1 if c not in removed_set
        ]
        todo = list(removed) + unscheduled
        if rng.random() < 0.5:
            rng.shuffle(todo)
        else:
            todo.sort(key=lambda c: (-data.freq[c], -data.q[c] - data.s[c]))
        _repair(cand, todo, alpha, beta, rng, 0.1 if rng.random() < 0.3 else 0.0)
        focus = set(cand.dirty)
        _improve_routes(cand, sorted(focus))
        cand_val = cand.penalised(alpha, beta)
        if self.params.two_opt_star and data.m > 1:
            cand.dirty.clear()
            for day in sorted({int(data.route_day[r]) for r in focus}):
                _two_opt_star_day(cand, day, alpha, beta, focus)
            _improve_routes(cand, sorted(cand.dirty))
            cand_val = cand.penalised(alpha, beta)
        if self.educating:
            touched = focus | cand.dirty if self.cur is self._educated_cur else None
            cand = self._educated(cand, touched)
            cand_val = cand.penalised(alpha, beta)
        return cand, cand_val

    def _educated(self, cand: _State, touched: set[int] | None = None) -> _State:
        """``cand`` educated by the genetic search's local search (`SearchParams.educate`)
        under the search's penalty weights, starting from the ``touched`` routes (all when
        None): a new state when it moved anything."""
        from .periodic_hgs import HgsParams, education_arrays  # imports this module
        from .periodic_hgs_kernels import educate

        data = self.data
        if self._education is None:
            self._education = education_arrays(data.d, data.patterns[1:], HgsParams().granular)
        offsets, flat, near = self._education
        routes = np.zeros((data.n_routes, data.n + 1), dtype=np.int64)
        rlen = np.zeros(data.n_routes, dtype=np.int64)
        for r, seq in enumerate(cand.seq):
            routes[r, : len(seq)] = seq
            rlen[r] = len(seq)
        seed = int(self.rng.integers(2**31))
        moved = educate(
            routes, rlen, data.d, data.q, data.s, data.cap, data.max_dur, data.m, data.t, near,
            flat, offsets, self.penalties.alpha, self.penalties.beta, seed, False,
            data.symmetric, True, False,
            None if touched is None else np.array(sorted(touched), dtype=np.int64),
        )  # fmt: skip
        if not moved:
            return cand
        st = _State(data)
        for r in range(data.n_routes):
            st.replace_route(r, routes[r, : rlen[r]].tolist())
            st.pattern[routes[r, : rlen[r]]] |= 1 << int(data.route_day[r])
        st.dirty.clear()
        return st

    def _record_best(self, cand: _State) -> tuple[_State, bool, bool]:
        """Keep ``cand`` if it is a new best (a feasible one polished first).

        Returns the candidate (the polished one when that is better), whether it is a new best
        of any kind and whether it is a new feasible best.
        """
        if not cand.feasible():
            if self.best_feas is None:
                s = _infeasibility_score(cand)
                if s < self.best_any_score:
                    self.best_any, self.best_any_score = cand.copy(), s
                    return cand, True, False
            return cand, False, False
        if self.best_feas is not None and cand.objective() >= self.best_feas.objective() - _EPS:
            return cand, False, False
        if self.params.best_sweeps:
            alpha, beta = self.penalties.alpha, self.penalties.beta
            polished = cand.copy()
            _reinsert_sweep(
                polished,
                alpha,
                beta,
                self.rng,
                rounds=self.params.best_sweeps,
                two_opt_star=self.params.two_opt_star,
            )
            if polished.feasible() and polished.objective() < cand.objective():
                if self.cur is cand:
                    self.cur, self.cur_val = polished, polished.penalised(alpha, beta)
                cand = polished
        self.best_feas = cand.copy()
        return cand, True, True

    def _restart(self) -> None:
        """Restart from the best, on every other restart shaken: a share rebuilt noisily."""
        self.since_best = 0
        self.restarts += 1
        alpha, beta = self.penalties.alpha, self.penalties.beta
        src = self.best_feas if self.best_feas is not None else self.best_any
        cur = src.copy()
        if self.params.shake_share > 0 and self.restarts % 2 == 0:
            scheduled = _scheduled(cur)
            n_out = max(1, int(self.params.shake_share * len(scheduled)))
            out = self.rng.choice(
                scheduled, size=min(n_out, len(scheduled)), replace=False
            ).tolist()
            for c in out:
                cur.remove(c)
            _repair(cur, out, alpha, beta, self.rng, 0.3)
            _improve_routes(cur, sorted(cur.dirty))
            cur.dirty.clear()
        self.cur, self.cur_val = cur, cur.penalised(alpha, beta)

    def _log(self, it: int, temp: float, q: int, op: int) -> None:
        cur, best = self.cur, self.best_feas
        logger.debug(
            "it %d cur %.1f load+ %.1f dur+ %.1f alpha %.3g beta %.3g best %s temp %.3g q %d op %d",
            it,
            cur.objective(),
            cur.load_excess(),
            cur.dur_excess(),
            self.penalties.alpha,
            self.penalties.beta,
            None if best is None else round(best.objective(), 1),
            temp,
            q,
            op,
        )

    def adopt(self, st: _State) -> None:
        """Continue from ``st`` (a feasible state better than the best): it becomes the
        current and the best solution, after reinsertion sweeps that change patterns where
        the new routes make that pay."""
        alpha, beta = self.penalties.alpha, self.penalties.beta
        swept = st.copy()
        _reinsert_sweep(
            swept, alpha, beta, self.rng, rounds=3, two_opt_star=self.params.two_opt_star
        )
        logger.debug("adopt: %.1f, swept %.1f", st.objective(), swept.objective())
        if swept.feasible() and swept.objective() < st.objective() - _EPS:
            st = swept
        self.cur = st
        self.cur_val = st.penalised(self.penalties.alpha, self.penalties.beta)
        self.best_feas = st.copy()
        self.since_best = 0

    def result(self) -> _State:
        """The best feasible solution, else the least infeasible one (made feasible by
        unscheduling customers where the problem allows that)."""
        if self.best_feas is not None:
            return self.best_feas
        result = self.best_any
        if self.data.unscheduled_penalty is not None:
            result = result.copy()
            _unschedule_until_feasible(result)
        return result


def solve_periodic(
    problem: PeriodicProblem,
    stop: StoppingCriterion | None = None,
    *,
    seed: int = 0,
    params: SearchParams = SearchParams(),  # frozen: one shared default is safe
    initial: Sequence[int] | None = None,
    deadline: float | None = None,
    workers: int = 1,
) -> PeriodicSolution:
    """Choose a visit pattern per customer and route every day (ALNS, see module docstring).

    Parameters
    ----------
    problem
        The instance.
    stop
        When the search stops: `MaxIterations` (deterministic), `MaxRuntime` (wall clock) or
        `FirstOf` both. None: ``MaxIterations(default_iterations(n_customers))``.
    seed
        Seed of the search's random generator; same inputs and seed give the same solution.
    params
        Search tuning; the defaults are the benchmark-tuned values.
    initial
        Optional starting pattern per customer (index ``i-1``); patterns not allowed are ignored.
    deadline
        A safety cap: stop when ``time.perf_counter()`` reaches it. Unlike `MaxRuntime` it does
        not shape the search (the cooling follows ``stop``), so a run that finishes before the
        deadline is identical to one without it.
    workers
        Searches run at once, each in its own process (`periodic_workers`): worker ``k`` has
        the seed ``seed + WORKER_SEED_STEP * k`` (worker 0 is the search of ``workers=1``);
        with the polish they share their best solution after every polish round, and the best
        of them is returned. Deterministic under an iteration budget like one search.

    Returns
    -------
    PeriodicSolution
        The best feasible solution found, or if none was found the least infeasible one.
    """
    if workers < 1:
        raise ValueError(f"solve_periodic: workers must be at least 1, got {workers}")
    if workers > 1 and problem.n_customers > 0:
        from .periodic_workers import solve_parallel

        return solve_parallel(problem, stop, seed, params, initial, deadline, workers=workers)
    return solve_worker(problem, stop, seed, params, initial, deadline)


#: An exchange between parallel searches (`periodic_workers`): called with the polish round and
#: this search's solution after it, returns the best solution of all the searches.
Exchange = Callable[[int, "PeriodicSolution"], "PeriodicSolution"]


def solve_worker(
    problem: PeriodicProblem,
    stop: StoppingCriterion | None,
    seed: int,
    params: SearchParams,
    initial: Sequence[int] | None,
    deadline: float | None,
    *,
    started: float | None = None,
    exchange: Exchange | None = None,
) -> PeriodicSolution:
    """One search of `solve_periodic`; ``started`` (a ``time.perf_counter()`` reading) is when
    its time limit began, ``exchange`` shares the solution after every polish round but the
    last and continues from the best of all the searches when that is cheaper."""
    started = time.perf_counter() if started is None else started
    data = _Data(problem)
    stop = stop_or_default(problem, stop)
    phases, polish = _polish_plan(stop, params, problem)
    if data.n == 0:
        return _finish(problem, _State(data), 0)
    search = _Search(data, params, np.random.default_rng(seed))
    start = None
    template = None if initial is not None else _template_budget(stop, params, problem)
    if template is not None:
        from .periodic_pyvrp import template_start  # PyVRP only for the template

        start = template_start(problem, template, seed=seed)
    search.construct(
        initial, sweeps=_Budget(phases[0][0], started, deadline).searches(), start=start
    )
    annealing = _Annealing(search.cur.objective(), data.n, params)
    it = 0
    solution: PeriodicSolution | None = None
    for k, (phase_stop, offset_s) in enumerate(phases):
        budget = _Budget(phase_stop, started + offset_s, deadline)
        it = _run_phase(search, annealing, budget, it, resumed=k > 0)
        if polish is None:
            solution = _finish(problem, search.result(), it)
            break
        solution = polish_and_meet(
            problem,
            search,
            polish,
            params,
            rnd=k,
            it=it,
            seed=seed,
            deadline=deadline,
            exchange=None if k == len(phases) - 1 else exchange,
        )
    logger.debug("solve_periodic: %d iterations in %.2f s", it, time.perf_counter() - started)
    assert solution is not None
    return solution


def polish_and_meet(
    problem: PeriodicProblem,
    search: _Search,
    polish: DayBudget,
    params: SearchParams,
    *,
    rnd: int,
    it: int,
    seed: int,
    deadline: float | None,
    exchange: Exchange | None,
) -> PeriodicSolution:
    """The end of search phase ``rnd`` in `solve_worker`: polish the search's best solution
    (`_polish_round`) and go on from the polished routes when they are cheaper; then share the
    solution through ``exchange`` (None after the last round) and go on from the best of all
    the searches when that is cheaper. Returns the solution the search now holds."""
    data = search.data
    solution = _finish(problem, search.result(), it)
    late = deadline is not None and time.perf_counter() >= deadline
    if solution.feasible and not late:  # else nothing to polish: the next phase searches on
        polished = _polish_round(problem, solution, polish, params, seed=seed + 7919 * rnd)
        if polished.cost < solution.cost - _EPS:
            search.adopt(_state_of(data, polished))
            solution = _finish(problem, search.result(), it)
    if exchange is not None:
        shared = exchange(rnd, solution)
        if shared.feasible and (not solution.feasible or shared.cost < solution.cost - _EPS):
            search.adopt(_state_of(data, shared))
            solution = _finish(problem, search.result(), it)
    return solution


#: The automatic choice of `SearchParams.period_polish`: the whole period at once up to this many
#: clients (visits plus day copies), else day by day (a cap on the model's size: its granular
#: neighbourhood is built from a clients x clients matrix). With each visit's neighbourhood on its
#: own day (`periodic_pyvrp.PeriodSearch`) the whole period beats the days alone on all 20
#: classical instances, pr10's 1,224 clients included (at 20 s: 3.9-4.3 % against 4.1-4.8 %).
_PERIOD_COPIES_MAX = 2500


def single_day_days(patterns: tuple[int, ...]) -> list[int] | None:
    """The days of ``patterns`` when every one is a single day, else None."""
    if not patterns or any(p & (p - 1) for p in patterns):
        return None
    return sorted(p.bit_length() - 1 for p in patterns)


def day_span(days: list[int] | None) -> tuple[int, int] | None:
    """First and last of ``days`` when they follow each other without a gap, else None."""
    if days is None or days != list(range(days[0], days[-1] + 1)):
        return None
    return days[0], days[-1]


def _period_copies(problem: PeriodicProblem, solution: PeriodicSolution) -> tuple[int, int]:
    """Clients of the whole-period model: those of the single-day customers (one per allowed
    day, or one for days without a gap), and all clients (those plus a visit per day of every
    other pattern)."""
    single = other = 0
    for pats, chosen in zip(problem.patterns, solution.pattern, strict=True):
        if not chosen:  # unscheduled: not in the model
            continue
        days = single_day_days(pats)
        if days is not None:
            single += 1 if day_span(days) is not None else len(pats)
        else:
            other += bin(chosen).count("1")
    return single, single + other


def period_fits(problem: PeriodicProblem, solution: PeriodicSolution) -> bool:
    """Whether the whole period of ``solution`` is small enough for one PyVRP model
    (`periodic_pyvrp.route_period`): at most ``_PERIOD_COPIES_MAX`` clients."""
    return _period_copies(problem, solution)[1] <= _PERIOD_COPIES_MAX


def meeting_points(
    problem: PeriodicProblem, stop: StoppingCriterion | None, params: SearchParams
) -> list[tuple[float, int]]:
    """When the searches of `solve_periodic` meet (after every polish round but the last):
    seconds after the start under a time limit, and the iterations done by then under a budget
    (`periodic_hgs` meets the others there)."""
    phases, polish = _polish_plan(stop_or_default(problem, stop), params, problem)
    points: list[tuple[float, int]] = []
    done = 0
    for k in range(len(phases) - 1 if polish is not None else 0):
        phase = phases[k][0]
        criteria = phase.criteria if isinstance(phase, FirstOf) else (phase,)
        done += sum(c.iterations for c in criteria if isinstance(c, MaxIterations))
        points.append((phases[k + 1][1], done))
    return points


def _polish_round(
    problem: PeriodicProblem,
    solution: PeriodicSolution,
    per_day: DayBudget,
    params: SearchParams,
    *,
    seed: int,
) -> PeriodicSolution:
    """One polish: each day alone (`polish_days`), or the whole period at once
    (`periodic_pyvrp.route_period`, single-day customers free) where ``params`` asks for it."""
    period = params.period_polish
    if period is None:
        period = period_fits(problem, solution)
    if period and problem.unscheduled_penalty is None:
        from .periodic_pyvrp import route_period  # PyVRP only when polishing

        whole: DayBudget = (
            MaxIterations(per_day.iterations * problem.days)
            if isinstance(per_day, MaxIterations)
            else MaxRuntime(per_day.seconds * problem.days)
        )
        settings = params.alike_search if interchangeable_days(problem) else params.period_search
        return route_period(problem, solution, whole, seed=seed, settings=settings)
    return polish_days(problem, solution, per_day, seed=seed)


def _run_phase(
    search: _Search, annealing: _Annealing, budget: _Budget, it: int, *, resumed: bool
) -> int:
    """Run search iterations until ``budget`` stops; returns the iteration count so far.

    A resumed search (after a polish) keeps the temperature low: the last 30 % of the cooling,
    and educates its candidates where `_educates`.
    """
    search.educating = resumed and _educates(search.params, search.data)
    k = 0
    while not budget.done(k):
        frac = budget.fraction(k)
        if resumed:
            frac = 0.7 + 0.3 * min(frac, 1.0)
        temp = annealing.temperature(frac)
        k += 1
        it += 1
        search.step(it, temp)
    return it


def _educates(params: SearchParams, data: _Data) -> bool:
    """`SearchParams.educate`, or its default: where every customer has patterns and must be
    scheduled."""
    if params.educate is not None:
        return params.educate
    return data.unscheduled_penalty is None and all(data.patterns[1:])


def _state_of(data: _Data, solution: PeriodicSolution) -> _State:
    """A search state holding the routes and patterns of ``solution``."""
    st = _State(data)
    for day, day_routes in enumerate(solution.routes):
        for v, route in enumerate(day_routes):
            st.replace_route(day * data.m + v, list(route))
    st.pattern[1:] = solution.pattern
    st.dirty.clear()
    return st


#: PyVRP's budget per day in `polish_days`: iterations or seconds.
DayBudget = MaxIterations | MaxRuntime


#: A search phase: its criterion and when its clock starts, in seconds after the call.
_Phase = tuple[StoppingCriterion, float]


#: Visits per period from which the polish gets five rounds and 60 % of a time limit by default
#: (six and 50 % below it).
_ROUNDS_MIN_VISITS = 600


def interchangeable_days(problem: PeriodicProblem) -> bool:
    """Whether every customer is visited once, on any day of the period: then the days are
    alike and the period is one capacitated VRP with ``days x vehicles_per_day`` vehicles
    (p01, p03, p04, p06, p07 and p09 of the classical instances)."""
    every_day = list(range(problem.days))
    return all(single_day_days(pats) == every_day for pats in problem.patterns)


def template_fits(problem: PeriodicProblem) -> bool:
    """Whether the search starts from `periodic_pyvrp.template_start` by default: several
    vehicles a day, every customer scheduled, and some customer visited on every day (pr01-pr10
    and p02, p05 and p08 of the classical instances; never the planner's one rep a day)."""
    every = (1 << problem.days) - 1
    return (
        problem.vehicles_per_day > 1
        and problem.unscheduled_penalty is None
        and all(problem.patterns)
        and any(pats == (every,) for pats in problem.patterns)
    )


def _template_budget(
    stop: StoppingCriterion, params: SearchParams, problem: PeriodicProblem
) -> DayBudget | None:
    """PyVRP's budget for the template's average day (`SearchParams.template`), or None for no
    template. By default only where `template_fits` and ``stop`` is a time limit alone: the
    template's routes exceed the limits at first, and a search of a few hundred iterations
    does not repair them as well as it goes on from the cheapest insertion (the iteration
    budget of scripts/bench_pvrp.py: 2.07 % mean gap with the template against 1.93 %).
    A time limit gives ``template_share`` of it, an iteration count (deterministic)
    ``template_iterations_per_customer`` per customer."""
    limits = _Budget(stop, 0.0, None)  # its time limit and iteration count, if any
    seconds = limits.seconds if limits.iterations is None else None  # a time limit alone
    wanted = params.template
    if wanted is None:
        wanted = seconds is not None and template_fits(problem)
    if not wanted:
        return None
    if seconds is not None:
        return MaxRuntime(params.template_share * seconds)
    return MaxIterations(params.template_iterations_per_customer * problem.n_customers)


def genetic_fits(problem: PeriodicProblem, params: SearchParams) -> bool:
    """Whether a genetic worker (`SearchParams.genetic_workers`) searches ``problem``: every
    customer must be scheduled, the days must not be interchangeable (one capacitated VRP,
    which PyVRP searches well; with a genetic worker p06 ended 0.40-0.54 % above the best known
    and p09 0.15 % where two searches gave 0.00 % in the same runs, though two searches too
    gave p06 0.40 % with another seed: inside the noise, so the previous engine stays there)
    and the period must have fewer than ``genetic_max_visits`` visits."""
    from .periodic_hgs import hgs_applies

    return (
        hgs_applies(problem)
        and not interchangeable_days(problem)
        and period_visits(problem) < params.genetic_max_visits
    )


def period_visits(problem: PeriodicProblem) -> int:
    """Visits in the period: each customer's fewest visits over its allowed patterns."""
    return sum(min(bin(p).count("1") for p in pats) for pats in problem.patterns if pats)


def _polish_shape(params: SearchParams, problem: PeriodicProblem) -> tuple[int, float]:
    """Polish rounds and the time share of the polish; the defaults by the size of the period.

    Interchangeable days (`interchangeable_days`: one capacitated VRP): one round with 90 %.
    Several vehicles a day and at least ``_ROUNDS_MIN_VISITS`` visits: five rounds with 60 % of
    the time, otherwise six rounds with 50 % (at 20 s on p02, p05, p08, p10, pr01-pr03, pr07 and
    pr08, two seeds: 1.67 % mean gap against 2.10 % with three rounds; more alternation between
    PyVRP's routes and the search's pattern changes). PyVRP routes the whole period far faster per
    second than the search's own moves (on pr05 from 7.6 % to 3.8 % above the best known in
    5 s), and the search, resumed from PyVRP's routes between the rounds, judges pattern changes
    on good routes (measured at 20 s on the 20 classical instances against one round with 20 %
    and five with 30 %).
    """
    if interchangeable_days(problem):  # nothing for the search to choose but the day
        rounds, share = 1, 0.9
    else:
        big = problem.vehicles_per_day > 1 and period_visits(problem) >= _ROUNDS_MIN_VISITS
        rounds, share = (5, 0.6) if big else (6, 0.5)
    return (
        params.polish_rounds or rounds,
        share if params.polish_share is None else params.polish_share,
    )


def _resume_share(params: SearchParams, problem: PeriodicProblem) -> float:
    """`SearchParams.resume_share`, or its default by the size of the period: 0.8 where the
    period is too big for the genetic worker (every search is this one), else 0.4."""
    if params.resume_share is not None:
        return params.resume_share
    return 0.8 if period_visits(problem) >= params.genetic_max_visits else 0.4


def _polish_plan(
    stop: StoppingCriterion, params: SearchParams, problem: PeriodicProblem
) -> tuple[list[_Phase], DayBudget | None]:
    """The search phases (one per polish round) and the polish budget per day and round.

    Without a polish: one phase, the whole criterion. With one: ``polish_rounds`` phases, the
    first with ``1 - resume_share`` of the search's budget and the others an even share of the
    rest. A time limit keeps ``polish_share`` of it for the polish; each phase's clock starts
    where the plan puts it, so time lost in one part is taken from the next.
    """
    if not params.polish:
        return [(stop, 0.0)], None
    rounds, share = _polish_shape(params, problem)
    days = problem.days
    weights = [1.0]
    if rounds > 1:
        resume = _resume_share(params, problem)
        weights = [1.0 - resume] + [resume / (rounds - 1)] * (rounds - 1)
    criteria = stop.criteria if isinstance(stop, FirstOf) else (stop,)
    timed = [c.seconds for c in criteria if isinstance(c, MaxRuntime)]
    seconds = min(timed) if timed else 0.0
    polish_s = seconds * share / rounds
    polish: DayBudget = (
        MaxRuntime(polish_s / max(days, 1))
        if timed
        else MaxIterations(max(1, params.polish_iterations // rounds))
    )
    phases: list[_Phase] = []
    offset_s = 0.0
    for w in weights:
        search_s = seconds * (1.0 - share) * w
        parts = tuple(
            MaxRuntime(search_s)
            if isinstance(c, MaxRuntime)
            else MaxIterations(round(c.iterations * w))
            for c in criteria
        )
        phases.append((parts[0] if len(parts) == 1 else FirstOf(parts), offset_s))
        offset_s += search_s + polish_s
    return phases, polish


def polish_days(
    problem: PeriodicProblem,
    solution: PeriodicSolution,
    budget: DayBudget,
    *,
    seed: int = 0,
) -> PeriodicSolution:
    """Route each day's customers again with PyVRP, keeping the patterns.

    Each day is a capacitated VRP with the route duration limit (``vehicles_per_day`` routes),
    searched by PyVRP's iterated local search from the day's current routes for ``budget``
    (iterations: deterministic). A day's new routes are kept only when they are cheaper and
    keep every limit (travel rounded to integers for PyVRP is checked again in floats).
    """
    from .routing_pyvrp import pyvrp_routes  # PyVRP lives in its own module

    travel = np.asarray(problem.travel, dtype=np.float64)
    scale = 1e6 / max(float(travel.max()), 1e-9)  # integer travel for PyVRP, fine enough
    demand = None if problem.demand is None else np.asarray(problem.demand, dtype=np.float64)
    d_scale = 1.0
    if demand is not None and not np.allclose(demand, np.round(demand)):
        d_scale = 1000.0
    routes = [list(day) for day in solution.routes]
    for day, day_routes in enumerate(solution.routes):
        nodes = [0, *sorted(c for r in day_routes for c in r)]
        if len(nodes) < 3:
            continue
        idx = np.array(nodes, dtype=np.intp)
        local = {c: k for k, c in enumerate(nodes)}
        dur = np.rint(travel[np.ix_(idx, idx)] * scale).astype(np.int64)
        service = np.rint(np.asarray(problem.service, dtype=np.float64)[idx] * scale)
        window = np.tile(np.array([0, 2**52], dtype=np.int64), (len(nodes), 1))
        found = pyvrp_routes(
            dur,
            dur,
            service.astype(np.int64),
            window,
            vehicles=problem.vehicles_per_day,
            demand=None if demand is None else np.rint(demand[idx] * d_scale).astype(np.int64),
            capacity=(
                None
                if problem.capacity is None or demand is None
                else math.floor(problem.capacity * d_scale + 1e-9)
            ),
            max_route_s=(
                None if problem.max_duration is None else math.floor(problem.max_duration * scale)
            ),
            iterations=budget.iterations if isinstance(budget, MaxIterations) else None,
            time_limit_s=budget.seconds if isinstance(budget, MaxRuntime) else None,
            initial_routes=tuple(tuple(local[c] for c in r) for r in day_routes if r),
            seed=seed + day,
        )
        new = [tuple(nodes[k] for k in r) for r in found.routes if r]
        new += [()] * (problem.vehicles_per_day - len(new))
        if sorted(c for r in new for c in r) != nodes[1:]:
            continue
        old_cost = sum(_path_cost(travel, r) for r in day_routes)
        if sum(_path_cost(travel, r) for r in new) >= old_cost - _EPS:
            continue
        if any(_limit_problems(problem, day, v, r) for v, r in enumerate(new)):
            continue
        routes[day] = new
    fixed = tuple(tuple(tuple(r) for r in day) for day in routes)
    polished = replace(solution, routes=fixed)
    polished = replace(polished, cost=route_cost(problem, polished))
    return replace(polished, feasible=not check_solution(problem, polished))


def _path_cost(travel: NDArray[np.float64], route: Sequence[int]) -> float:
    """Travel of one route from the depot and back."""
    if not route:
        return 0.0
    a = np.fromiter((0, *route, 0), dtype=np.intp)
    return float(travel[a[:-1], a[1:]].sum())
