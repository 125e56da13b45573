"""Territory design (rayonering, chapter 6.4): balanced, compact, connected territories.

Method: location-allocation for balanced districting (Hess et al. 1965; Kalcsics & Ríos-Mercado,
"Districting problems", 2019).

1. *Allocation* with the centres fixed is a transportation problem: every customer's workload is
   supplied to the territories, each territory must receive between target x (1 - tolerance) and
   target x (1 + tolerance), at the cost of workload x road km from the centre. Arcs are sparse:
   each customer to its ``candidates`` nearest centres, plus its current, previous or locked rep.
   Balancing workload only, it is a min-cost flow (OR-Tools); with several criteria (potential,
   customers) or a cap on moved customers it is an LP (HiGHS). Band violations are soft (a high
   price) so impossible locks give the best achievable balance instead of no answer. An optimal
   basic solution splits only a few customers (at most about k - 1); each goes to its largest
   share.
2. *Location* (free centres only, ``k`` without reps): each centre moves to the weighted medoid of
   its territory and the allocation is repeated, like Hess's alternating heuristic.
3. *Local search* on the customers' neighbourhood graph (Delaunay triangulation, long edges over
   water dropped but islands kept reachable) restores contiguity (fragments join a neighbour),
   then moves boundary customers to repair balance and to improve compactness without leaving the
   band or disconnecting a territory.

The LP duals (or, for the flow, territory prices from shortest paths in its residual graph)
give a Lagrangian lower bound on the compactness objective at the user's tolerance, with every
centre allowed for every customer, so the candidate restriction does not weaken it;
``objective_ratio`` = objective / lower bound. Everything is deterministic for equal inputs and seed.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .exceptions import InputError
from .models import Customer, Design, Rep
from .params import Config
from .travel import project_km, road_km
from .workload import CustomerWorkload, relative_deviation, rep_capacity_min

log = logging.getLogger(__name__)

#: A Delaunay edge longer than this many times the local spacing at both ends (and longer than
#: ``MIN_DROP_KM``) crosses water or empty land; it is dropped from the neighbourhood graph.
LONG_EDGE_FACTOR = 3.0
#: Edges shorter than this (km) are never dropped, whatever the local spacing.
MIN_DROP_KM = 3.0
#: Rounds of medoid relocation for free centres.
LOCATION_ROUNDS = 6
#: Passes of the local search (each pass visits every boundary customer once).
LOCAL_SEARCH_PASSES = 30
#: Rounds of pricing out arcs that the candidate restriction left out (column generation).
PRICING_ROUNDS = 4
#: Penalty weight (in units of the mean distance to the nearest centre) for leaving ``previous``.
PREVIOUS_WEIGHT = 2.0

#: HiGHS method for the allocation LP (interior point with crossover: a basic solution).
_LP_METHOD = "highs-ipm"
_LP_DISP = False
#: Allocation solver when only workload is balanced: "flow" (OR-Tools min-cost flow) or "lp".
_ALLOCATOR = "flow"
#: Flow units per workload minute in the min-cost flow (integer flows).
_FLOW_PER_MIN = 10.0
#: The allocation aims inside this share of the band, leaving room to round split customers.
_BAND_FACTOR = 0.8
#: The same with several balanced criteria: a move shifts all of them, so aim tighter (measured
#: on generated Dutch/Belgian inputs: 0.6 kept every criterion in band where 0.8 missed some).
_BAND_FACTOR_MULTI = 0.6

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class _Problem:
    """Arrays of one design problem (customers in load order, territories in rep order)."""

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    xy: NDArray[np.float64]  # projected km
    workload_min: NDArray[np.float64]
    criteria: tuple[str, ...]  # balanced criteria, workload first when listed
    values: NDArray[np.float64]  # (criteria, n)
    targets: NDArray[np.float64]  # (criteria, k)
    tolerance: float
    potential: NDArray[np.float64]  # EUR per customer (reported, balanced only when asked)
    locked: NDArray[np.int64]  # territory index or -1
    current: NDArray[np.int64]  # territory index, -1 = none given, -2 = a rep not in the team
    rep_ids: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.lat)

    @property
    def k(self) -> int:
        return len(self.rep_ids)


# --------------------------------------------------------------------------------------------
# public API


def design_territories(
    customers: Sequence[Customer],
    reps: Sequence[Rep] | None,
    workload: CustomerWorkload,
    config: Config,
    *,
    k: int | None = None,
    previous: Sequence[int] | None = None,
    max_moved: float | None = None,
    progress: Progress | None = None,
) -> Design:
    """Divide customers over territories that are balanced, compact and connected.

    Parameters
    ----------
    customers
        The customers, in load order (``Design.assignment`` follows this order).
    reps
        The team: one territory per rep around the rep's home (a fixed centre). ``None`` with
        ``k``: ``k`` free centres placed at weighted medoids, territories named ``T1..Tk``.
    workload
        ``territory.workload.customer_workload(customers, config, reps)``; balanced on
        ``workload.workload_min``. Targets are proportional to the reps' working time in the
        period (``workload.rep_capacity_min``: working days x hours x ``capacity``).
    config
        ``config.territory`` holds balance, tolerance, contiguous, seed, keep_current_weight,
        max_moved and candidates.
    k
        Number of territories when ``reps`` is None.
    previous
        A territory index per customer to start from and stay close to (the planner's
        rebalancing on routed workload).
    max_moved
        Fraction of the customers with a ``current_rep`` that may change rep (overrides
        ``config.territory.max_moved``).
    progress
        Called as ``progress(step, fraction_done)``.

    Returns
    -------
    Design
        ``rep_ids``, ``assignment``, ``centres`` (lat, lon: the reps' homes, or the medoid
        customers of free centres) and ``kpis``: those of :func:`evaluate_assignment` plus
        ``lp_value`` (the relaxed allocation's weighted mean km before rounding and local
        search), ``lp_split_customers`` and, for free centres, ``centres``. With free centres
        the lower bound holds for the final centres.

    Raises
    ------
    InputError
        A customer's ``locked_rep`` is not one of the reps (or territories ``T1..Tk``).
    """
    tp = config.territory
    rng = np.random.default_rng(tp.seed)
    t_start = time.perf_counter()

    def say(step: str, frac: float) -> None:
        log.info("design: %s (%.0f %%) at %.1f s", step, frac * 100, time.perf_counter() - t_start)
        if progress is not None:
            progress(f"design: {step}", frac)

    free = reps is None
    if free:
        if k is None or k < 1:
            raise InputError("territory design without reps needs k >= 1 territories (--k N)")
        if k > len(customers):
            raise InputError(
                f"k = {k} territories for {len(customers)} customers; use k <= {len(customers)}"
            )
        rep_ids = tuple(f"T{j + 1}" for j in range(k))
        capacity = np.ones(k)
    else:
        if not reps:
            raise InputError("the reps file lists no reps; give at least one rep or use --k N")
        rep_ids = tuple(r.id for r in reps)
        capacity = np.array([rep_capacity_min(r, config) for r in reps], dtype=np.float64)
        for r in reps:
            if not (math.isfinite(r.lat) and math.isfinite(r.lon)):
                raise InputError(
                    f"reps, row {r.row}: rep '{r.id}' has no home coordinates (lat '{r.lat}', "
                    f"lon '{r.lon}'); give lat/lon or an address to geocode"
                )
    prob = _problem(customers, rep_ids, capacity, workload, config)
    n, kk = prob.n, prob.k
    notes = _input_notes(prob, customers)
    if n == 0:
        kpis = {"max_workload_deviation": 0.0, "connected_share": 1.0, "moved": 0}
        kpis["infeasible_notes"] = notes
        return Design(rep_ids, (), _centres_of(reps, prob), kpis)

    prev = None
    if previous is not None:
        prev = np.asarray(previous, dtype=np.int64)
        if prev.shape != (n,) or (n and (prev.min() < 0 or prev.max() >= kk)):
            raise InputError(
                f"previous assignment has {prev.size} entries or indices outside 0..{kk - 1}; "
                f"give one territory index per customer ({n})"
            )
    mm = tp.max_moved if max_moved is None else max_moved
    moved_limit = _moved_limit(prob, mm)

    say("neighbourhood graph", 0.0)
    nbrs = neighbour_lists(prob.xy)

    if free:
        say("placing centres", 0.05)
        centre_idx = _free_centres(prob, nbrs, config, rng, say)
        clat, clon = prob.lat[centre_idx], prob.lon[centre_idx]
    else:
        assert reps is not None
        clat = np.array([r.lat for r in reps], dtype=np.float64)
        clon = np.array([r.lon for r in reps], dtype=np.float64)
    say("allocating", 0.4)
    alloc = _allocate(prob, clat, clon, config, prev=prev, moved_limit=moved_limit)
    assignment = alloc.assignment
    say("local search", 0.6)
    dist = _AssignedDistance(prob, clat, clon, config)
    assignment = _local_search(
        prob,
        nbrs,
        assignment,
        dist,
        contiguous=tp.contiguous,
        moved_limit=moved_limit,
        keep_weight=tp.keep_current_weight,
        prev=prev,
    )
    say("evaluating", 0.95)
    kpis = _kpis(prob, nbrs, assignment, dist)
    kpis["lower_bound"] = alloc.lower_bound
    kpis["objective_ratio"] = (
        kpis["objective"] / alloc.lower_bound if alloc.lower_bound > 1e-12 else None
    )
    kpis["lp_value"] = alloc.lp_value
    kpis["lp_split_customers"] = alloc.split
    kpis["infeasible_notes"] = notes + _outcome_notes(prob, assignment, kpis, moved_limit)
    if free:
        kpis["centres"] = [[float(a), float(b)] for a, b in zip(clat, clon, strict=True)]
    say("done", 1.0)
    return Design(
        rep_ids=rep_ids,
        assignment=tuple(int(t) for t in assignment),
        centres=tuple((float(a), float(b)) for a, b in zip(clat, clon, strict=True)),
        kpis=kpis,
    )


#: Calibration of :func:`estimate_design_s`, measured with scripts/bench_scale.py on a 2-core
#: machine (1k x 10: 0.1 s, 10k x 50: 1.9-2.0 s, 100k x 200: 68-77 s): time ~ c (n sqrt(k))^1.25.
_DESIGN_S_COEF = 1.7e-6
_DESIGN_S_EXP = 1.25


def estimate_design_s(n_customers: int, n_territories: int, lp: bool = False) -> float:
    """Rough wall-clock seconds of :func:`design_territories` (min-cost flow path).

    The LP path (several balance criteria or a move cap) is about 25 times slower (``lp=True``).
    """
    size = n_customers * math.sqrt(max(n_territories, 1))
    base = 0.05 + _DESIGN_S_COEF * size**_DESIGN_S_EXP
    return base * (25.0 if lp else 1.0)


def evaluate_assignment(
    customers: Sequence[Customer],
    reps: Sequence[Rep] | None,
    workload: CustomerWorkload,
    assignment: Sequence[int],
    config: Config,
) -> dict:
    """The design KPIs of an existing division (``territory evaluate``: how good is today's split?).

    Parameters
    ----------
    assignment
        Territory index per customer: an index into ``reps`` (or into ``T1..Tk`` when ``reps`` is
        None, in which case ``k = max(assignment) + 1`` and centres are the weighted medoids).

    Returns
    -------
    dict
        Plain JSON-able values: ``max_workload_deviation`` (max |load / target - 1|),
        ``max_potential_deviation`` / ``max_customers_deviation`` when balanced on them,
        ``tolerance``, ``within_tolerance`` (every balanced criterion in band),
        ``connected_share`` (share of customers whose territory is one connected piece),
        ``territories_connected``, ``moved`` (customers whose rep differs from
        ``current_rep``), ``objective`` (workload-weighted mean road km from the home/centre),
        ``lower_bound`` (same unit: the balanced allocation's LP relaxation), ``objective_ratio``,
        ``infeasible_notes`` (sentences) and per-territory lists in rep order: ``workload_min``
        (visits + travel allowance, no admin), ``target_min``, ``deviation``, ``customers``,
        ``potential`` (EUR), ``connected``, ``pieces``,
        ``moved_in``, ``moved_out``.
    """
    a = np.asarray(assignment, dtype=np.int64)
    if reps is None:
        k = int(a.max()) + 1 if a.size else 1
        rep_ids = tuple(f"T{j + 1}" for j in range(k))
        capacity = np.ones(k)
    else:
        rep_ids = tuple(r.id for r in reps)
        capacity = np.array([rep_capacity_min(r, config) for r in reps], dtype=np.float64)
    prob = _problem(customers, rep_ids, capacity, workload, config)
    if a.shape != (prob.n,) or (a.size and (a.min() < 0 or a.max() >= prob.k)):
        raise InputError(
            f"the assignment must give every one of the {prob.n} customers a territory 0..{prob.k - 1}"
        )
    notes = _input_notes(prob, customers)
    if prob.n == 0:
        return {"infeasible_notes": notes}
    nbrs = neighbour_lists(prob.xy)
    if reps is None:
        cidx = _medoids(prob, a, np.zeros(prob.k, dtype=np.int64))
        clat, clon = prob.lat[cidx], prob.lon[cidx]
    else:
        clat = np.array([r.lat for r in reps], dtype=np.float64)
        clon = np.array([r.lon for r in reps], dtype=np.float64)
    dist = _AssignedDistance(prob, clat, clon, config)
    kpis = _kpis(prob, nbrs, a, dist)
    alloc = _allocate(prob, clat, clon, config, prev=None, moved_limit=None)
    kpis["lower_bound"] = alloc.lower_bound
    kpis["objective_ratio"] = (
        kpis["objective"] / alloc.lower_bound if alloc.lower_bound > 1e-12 else None
    )
    kpis["infeasible_notes"] = notes + _outcome_notes(prob, a, kpis, None)
    return kpis


def neighbour_lists(xy: NDArray[np.float64]) -> list[list[int]]:
    """Neighbourhood graph of points (planar km): Delaunay edges without long water crossings.

    Coincident points (customers geocoded to one town centre) are spread on a 1 m spiral so
    each is a node of its own. A Delaunay edge longer than ``LONG_EDGE_FACTOR`` times the local
    spacing (third-shortest incident edge) at both of its ends (and longer than ``MIN_DROP_KM``) is dropped; the dropped
    edges are then added back shortest first wherever they join two components (Kruskal), so
    an island stays reachable through its shortest crossing and the graph stays connected.

    Returns
    -------
    list of list of int
        Sorted neighbour indices per point.
    """
    n = len(xy)
    if n <= 1:
        return [[] for _ in range(n)]
    pts = _spread_duplicates(np.asarray(xy, dtype=np.float64))
    edges = _delaunay_edges(pts)
    if edges is None:  # fewer than 4 points or all on a line: nearest neighbours instead
        kk = min(n - 1, 4)
        _, idx = cKDTree(pts).query(pts, k=kk + 1)
        e = np.column_stack([np.repeat(np.arange(n), kk), idx[:, 1:].ravel()])
        edges = np.unique(np.sort(e, axis=1), axis=0)
        edges = _connect(pts, edges, np.zeros((0, 2), dtype=np.int64))
    else:
        length = np.hypot(*(pts[edges[:, 0]] - pts[edges[:, 1]]).T)
        local = _local_spacing(n, edges, length)
        scale = np.maximum(local[edges[:, 0]], local[edges[:, 1]])
        long_ = (length > LONG_EDGE_FACTOR * scale) & (length > MIN_DROP_KM)
        edges = _connect(pts, edges[~long_], edges[long_])
    out: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges.tolist():
        out[u].append(v)
        out[v].append(u)
    for lst in out:
        lst.sort()
    return out


# --------------------------------------------------------------------------------------------
# problem set-up


def _lat0(prob: _Problem) -> float:
    return float(np.mean(prob.lat)) if prob.n else 0.0


def _problem(
    customers: Sequence[Customer],
    rep_ids: tuple[str, ...],
    capacity: NDArray[np.float64],
    workload: CustomerWorkload,
    config: Config,
) -> _Problem:
    tp = config.territory
    n, k = len(customers), len(rep_ids)
    lat = np.array([c.lat for c in customers], dtype=np.float64)
    lon = np.array([c.lon for c in customers], dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(lat) & np.isfinite(lon)))
    if bad.size:
        c0 = customers[int(bad[0])]
        raise InputError(
            f"customers, row {c0.row}: customer '{c0.id}' has no coordinates (lat '{c0.lat}', "
            f"lon '{c0.lon}'){f' and {bad.size - 1} more' if bad.size > 1 else ''}; locate "
            "customers (lat/lon or an address to geocode) before designing territories"
        )
    index = {rid: j for j, rid in enumerate(rep_ids)}
    locked = np.full(n, -1, dtype=np.int64)
    current = np.full(n, -1, dtype=np.int64)
    for i, c in enumerate(customers):
        if c.locked_rep:
            if c.locked_rep not in index:
                raise InputError(
                    f"customers, row {c.row}, column 'locked_rep': '{c.locked_rep}' (customer "
                    f"'{c.id}') is not one of the reps; use one of {', '.join(rep_ids[:10])}"
                    + (" ..." if k > 10 else "")
                )
            locked[i] = index[c.locked_rep]
        if c.current_rep:
            current[i] = index.get(c.current_rep, -2)
    wl = np.asarray(workload.workload_min, dtype=np.float64)
    rows, names = [], []
    for crit in tp.balance:
        if crit == "workload":
            vals = wl
        elif crit == "potential":
            vals = np.array([c.potential for c in customers], dtype=np.float64)
        else:
            vals = np.ones(n)
        if vals.sum() <= 0:
            log.warning("balance on %s skipped: every customer has 0", crit)
            continue
        rows.append(vals)
        names.append(crit)
    if not rows:  # nothing to balance on: fall back to workload
        rows, names = [wl if wl.sum() > 0 else np.ones(n)], ["workload"]
    values = np.vstack(rows)
    share = capacity / capacity.sum() if capacity.sum() > 0 else np.full(k, 1.0 / k)
    targets = values.sum(axis=1)[:, None] * share[None, :]
    return _Problem(
        lat=lat,
        lon=lon,
        xy=project_km(lat, lon) if n else np.zeros((0, 2)),
        workload_min=wl,
        criteria=tuple(names),
        values=values,
        targets=targets,
        tolerance=float(tp.tolerance),
        potential=np.array([c.potential for c in customers], dtype=np.float64),
        locked=locked,
        current=current,
        rep_ids=rep_ids,
    )


def _moved_limit(prob: _Problem, max_moved: float | None) -> int | None:
    """Maximum number of customers that may leave their current rep (forced moves included)."""
    if max_moved is None:
        return None
    has = prob.current != -1
    forced = int(
        np.sum((prob.current == -2) | ((prob.locked >= 0) & has & (prob.locked != prob.current)))
    )
    return max(int(math.floor(max_moved * int(has.sum()) + 1e-9)), forced)


def _input_notes(prob: _Problem, customers: Sequence[Customer]) -> list[str]:
    """Sentences on what makes balance impossible before any solving (heavy customers, locks)."""
    notes: list[str] = []
    tol = prob.tolerance
    for c, crit in enumerate(prob.criteria):
        vals, tgt = prob.values[c], prob.targets[c]
        if tgt.max() <= 0:
            continue
        width = 2 * tol * tgt[tgt > 0].min()
        heavy = np.flatnonzero(vals > width)
        unit = "min" if crit == "workload" else ""
        for i in heavy[:5]:
            notes.append(
                f"Customer '{customers[i].id}' alone has {crit} {vals[i]:.1f}{unit}, more than the "
                f"whole tolerance band ({width:.1f}{unit}); exact balance may be impossible."
            )
        if heavy.size > 5:
            notes.append(f"{heavy.size - 5} more customers are heavier than the tolerance band.")
        lock_load = np.bincount(
            prob.locked[prob.locked >= 0], weights=vals[prob.locked >= 0], minlength=prob.k
        )
        for r in np.flatnonzero(lock_load > tgt * (1 + tol) + 1e-9):
            if tgt[r] <= 0:
                if c == 0:
                    n_locked = int(np.sum(prob.locked == r))
                    notes.append(
                        f"Rep '{prob.rep_ids[r]}' has no working time in the period: only the "
                        f"{n_locked} customer{'' if n_locked == 1 else 's'} locked to them "
                        f"stay{'s' if n_locked == 1 else ''} theirs."
                    )
                continue
            notes.append(
                f"Locked customers of '{prob.rep_ids[r]}' alone have {crit} {lock_load[r]:.1f}, "
                f"{(lock_load[r] / tgt[r] - 1) * 100:+.1f} % against the target {tgt[r]:.1f}; "
                f"the best achievable deviation there is {(lock_load[r] / tgt[r] - 1) * 100:+.1f} %."
            )
        free_total = vals[prob.locked < 0].sum()
        for r in range(prob.k):
            # even with every free customer, a territory whose locks are too light elsewhere
            need = tgt[r] * (1 - tol) - lock_load[r]
            if need > free_total + 1e-9:
                notes.append(
                    f"'{prob.rep_ids[r]}' cannot reach its lower band on {crit}: the locks leave "
                    f"too little free {crit}."
                )
    return notes


# --------------------------------------------------------------------------------------------
# neighbourhood graph helpers


def _spread_duplicates(pts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Move coincident points apart on a tiny (1 m) golden-angle spiral, deterministically."""
    _, inverse, counts = np.unique(pts, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    if counts.max() == 1:
        return pts
    out = pts.copy()
    order = np.argsort(inverse, kind="stable")
    grp = inverse[order]
    starts = np.r_[0, np.flatnonzero(np.diff(grp)) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    ang = rank * 2.399963229728653  # golden angle
    rad = 0.001 * np.sqrt(rank)  # km
    out[order, 0] += rad * np.cos(ang)
    out[order, 1] += rad * np.sin(ang)
    return out


def _delaunay_edges(pts: NDArray[np.float64]) -> NDArray[np.int64] | None:
    from scipy.spatial import Delaunay, QhullError

    if len(pts) < 4:
        return None
    try:
        tri = Delaunay(pts)
    except QhullError:
        return None
    s = tri.simplices
    if len(s) == 0:
        return None
    e = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    e = np.unique(np.sort(e, axis=1), axis=0).astype(np.int64)
    # points Qhull left out (coplanar) still need a node: join them to their nearest point
    used = np.zeros(len(pts), dtype=bool)
    used[e.ravel()] = True
    if not used.all():
        miss = np.flatnonzero(~used)
        have = np.flatnonzero(used)
        _, j = cKDTree(pts[have]).query(pts[miss])
        e = np.vstack([e, np.sort(np.column_stack([miss, have[j]]), axis=1)])
    return e


def _local_spacing(n: int, edges: NDArray[np.int64], length: NDArray[np.float64]) -> NDArray:
    ends = np.r_[edges[:, 0], edges[:, 1]]
    lens = np.r_[length, length]
    order = np.lexsort((lens, ends))
    ends, lens = ends[order], lens[order]
    counts = np.bincount(ends, minlength=n)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    # the third-shortest incident edge: a hull point's long fan edges do not inflate it
    mid = starts + np.minimum(np.maximum(counts - 1, 0), 2)
    out = np.zeros(n)
    has = counts > 0
    out[has] = lens[mid[has]]
    return out


def _connect(
    pts: NDArray[np.float64], kept: NDArray[np.int64], spare: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Add ``spare`` edges shortest first where they join components; then bridge any rest."""
    n = len(pts)
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    g = coo_matrix((np.ones(len(kept)), (kept[:, 0], kept[:, 1])), shape=(n, n))
    ncomp, labels = connected_components(g, directed=False)
    if ncomp == 1:
        return kept
    parent[:] = labels  # component label as representative: labels < n are valid node ids here
    # make labels self-parented representatives
    rep_of = np.full(ncomp, -1)
    for i in range(n):
        if rep_of[labels[i]] < 0:
            rep_of[labels[i]] = i
    parent = rep_of[labels].copy()
    added = []
    if len(spare):
        ln = np.hypot(*(pts[spare[:, 0]] - pts[spare[:, 1]]).T)
        for j in np.argsort(ln, kind="stable"):
            u, v = int(spare[j, 0]), int(spare[j, 1])
            ru, rv = find(u), find(v)
            if ru != rv:
                parent[max(ru, rv)] = min(ru, rv)
                added.append((u, v))
                ncomp -= 1
                if ncomp == 1:
                    break
    while ncomp > 1:  # only for the nearest-neighbour fallback: bridge the closest pair
        roots = np.array([find(i) for i in range(n)])
        first = roots == roots[0]
        a_idx, b_idx = np.flatnonzero(first), np.flatnonzero(~first)
        d, j = cKDTree(pts[b_idx]).query(pts[a_idx])
        s = int(np.argmin(d))
        u, v = int(a_idx[s]), int(b_idx[j[s]])
        parent[find(v)] = find(u)
        added.append((min(u, v), max(u, v)))
        ncomp -= 1
    if added:
        kept = np.vstack([kept, np.array(added, dtype=np.int64)])
    return kept


# --------------------------------------------------------------------------------------------
# allocation (transportation LP) and its lower bound


@dataclass(frozen=True)
class _Allocation:
    assignment: NDArray[np.int64]
    lp_value: float
    lower_bound: float
    split: int
    priced: NDArray[np.int64] | None = None  # cheapest territory per customer at the prices


class _AssignedDistance:
    """Road km from each customer to any centre, one column at a time (never n x k at once)."""

    def __init__(
        self, prob: _Problem, clat: NDArray[np.float64], clon: NDArray[np.float64], config: Config
    ) -> None:
        self.prob, self.clat, self.clon, self.travel = prob, clat, clon, config.travel
        self.total_w = float(prob.workload_min.sum()) or 1.0

    def km(self, i: NDArray[np.int64] | int, r: NDArray[np.int64] | int) -> NDArray[np.float64]:
        p = self.prob
        return road_km(p.lat[i], p.lon[i], self.clat[r], self.clon[r], self.travel)

    def objective(self, assignment: NDArray[np.int64]) -> float:
        """Workload-weighted mean road km from each customer to its territory's centre."""
        idx = np.arange(self.prob.n)
        w = self.prob.workload_min
        if w.sum() <= 0:
            w = np.ones(self.prob.n)
        return float(np.sum(w * self.km(idx, assignment)) / w.sum())


def _candidate_arcs(
    prob: _Problem,
    centre_xy: NDArray[np.float64],
    n_candidates: int,
    prev: NDArray[np.int64] | None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sparse arcs (customer, territory): nearest centres plus current/previous; locks only."""
    n, k = prob.n, prob.k
    c = min(n_candidates, k)
    _, idx = cKDTree(centre_xy).query(prob.xy, k=c)
    idx = np.asarray(idx, dtype=np.int64).reshape(n, c)
    cust = [np.repeat(np.arange(n), c)]
    terr = [idx.ravel()]
    for extra in (prob.current, prev):
        if extra is None:
            continue
        has = np.flatnonzero(extra >= 0)
        cust.append(has)
        terr.append(extra[has])
    ci, ti = np.concatenate(cust), np.concatenate(terr)
    free = prob.locked[ci] < 0
    lk = np.flatnonzero(prob.locked >= 0)
    ci = np.concatenate([ci[free], lk])
    ti = np.concatenate([ti[free], prob.locked[lk]])
    key = np.unique(ci * k + ti)
    return key // k, key % k


def _allocate(
    prob: _Problem,
    clat: NDArray[np.float64],
    clon: NDArray[np.float64],
    config: Config,
    *,
    prev: NDArray[np.int64] | None,
    moved_limit: int | None,
    candidates: int | None = None,
) -> _Allocation:
    """Solve the balanced transportation problem on sparse arcs, round, and bound it below."""
    tp = config.territory
    n = prob.n
    centre_xy = project_km(clat, clon, lat0=_lat0(prob))
    ci, ti = _candidate_arcs(prob, centre_xy, candidates or tp.candidates, prev)
    w = prob.workload_min if prob.workload_min.sum() > 0 else np.ones(n)
    total_w = float(w.sum())
    # keep today's relations: leaving the current (or previous) rep costs like being
    # ``weight`` x the mean distance to the nearest centre further away
    ref_km = float(
        np.mean(
            road_km(
                prob.lat, prob.lon, *_nearest_centre(prob, centre_xy, clat, clon), config.travel
            )
        )
    )
    ref_km = max(ref_km, 1e-3)
    tol = prob.tolerance
    # tighten the allocation band a little so rounding the few split customers rarely leaves it
    lp_tol = tol * (_BAND_FACTOR if len(prob.criteria) == 1 else _BAND_FACTOR_MULTI)
    workload_only = (
        _ALLOCATOR == "flow" and prob.criteria == ("workload",) and prob.workload_min.sum() > 0
    )
    k = prob.k
    penalised = prev is not None or (
        tp.keep_current_weight > 0 and bool(np.any(prob.current != -1))
    )

    def solve(
        ci: NDArray[np.int64], ti: NDArray[np.int64], band: float, *, bound_only: bool = False
    ) -> _Allocation:
        km = road_km(prob.lat[ci], prob.lon[ci], clat[ti], clon[ti], config.travel)
        pen_km = np.zeros(len(ci))
        if not bound_only:  # the bound is on distance alone, over every balanced split
            if tp.keep_current_weight > 0:
                leave = (prob.current[ci] != -1) & (prob.current[ci] != ti)
                pen_km += leave * tp.keep_current_weight * ref_km
            if prev is not None:
                pen_km += (prev[ci] != ti) * PREVIOUS_WEIGHT * ref_km
        cap = None if bound_only else moved_limit
        if workload_only and cap is None:
            return _allocate_flow(prob, ci, ti, km, pen_km, clat, clon, config, band)
        cost = w[ci] * km / total_w
        pen = pen_km * w[ci] / total_w
        return _allocate_lp(prob, ci, ti, km, cost, pen, ref_km, clat, clon, config, band, cap)

    def priced(
        ci: NDArray[np.int64], ti: NDArray[np.int64], band: float, *, bound_only: bool = False
    ) -> tuple[_Allocation, NDArray[np.int64], NDArray[np.int64]]:
        """Solve, then add the arcs the prices favour (column generation) and solve again."""
        for _round in range(PRICING_ROUNDS):
            sol = solve(ci, ti, band, bound_only=bound_only)
            if sol.priced is None:
                break
            have = ci * k + ti
            key = np.arange(n) * k + sol.priced
            new = np.unique(key[~np.isin(key, have)])
            if new.size == 0:
                break
            log.info("allocation: %d arcs priced in (round %d)", new.size, _round + 1)
            key = np.union1d(have, new)
            ci, ti = key // k, key % k
        return sol, ci, ti

    alloc, ci, ti = priced(ci, ti, lp_tol)
    # the bound at the user's own band (valid with every centre allowed, whatever the arcs);
    # with continuity penalties or a cap on moves, from the plain distance problem
    if penalised or moved_limit is not None:
        at_tol = priced(ci, ti, tol, bound_only=True)[0]
        lower = at_tol.lower_bound
    else:
        lower = max(alloc.lower_bound, solve(ci, ti, tol).lower_bound)
    return _Allocation(alloc.assignment, alloc.lp_value, lower, alloc.split)


def _allocate_lp(
    prob: _Problem,
    ci: NDArray[np.int64],
    ti: NDArray[np.int64],
    km: NDArray[np.float64],
    cost: NDArray[np.float64],
    pen: NDArray[np.float64],
    ref_km: float,
    clat: NDArray[np.float64],
    clon: NDArray[np.float64],
    config: Config,
    lp_tol: float,
    moved_limit: int | None,
) -> _Allocation:
    """The allocation as an LP (HiGHS): any balance criteria and a cap on moved customers."""
    from scipy.optimize import linprog

    tp = config.territory
    n, k, nc = prob.n, prob.k, len(prob.criteria)
    m = len(ci)
    w = prob.workload_min if prob.workload_min.sum() > 0 else np.ones(n)
    total_w = float(w.sum())
    tol = prob.tolerance
    # relative loads a[c, r] = sum values x / target; slack price dominates any distance trade
    big = (
        4.0
        * float(km.max() + ref_km * (PREVIOUS_WEIGHT + tp.keep_current_weight))
        * float(prob.targets[0].max() / prob.targets[0].sum())
        * k
        + 1.0
    )
    rows_ub, cols_ub, vals_ub = [], [], []
    b_ub = []
    nrow = 0
    nvar = m + 2 * nc * k
    for c in range(nc):
        tgt = np.maximum(prob.targets[c], 1e-12)
        coef = prob.values[c][ci] / tgt[ti]
        # upper: a - s+ <= 1 + tol
        rows_ub += [nrow + ti, nrow + np.arange(k)]
        cols_ub += [np.arange(m), m + (2 * c) * k + np.arange(k)]
        vals_ub += [coef, -np.ones(k)]
        b_ub.append(np.full(k, 1 + lp_tol))
        nrow += k
        # lower: -a - s- <= -(1 - tol)
        rows_ub += [nrow + ti, nrow + np.arange(k)]
        cols_ub += [np.arange(m), m + (2 * c + 1) * k + np.arange(k)]
        vals_ub += [-coef, -np.ones(k)]
        b_ub.append(np.full(k, -(1 - lp_tol)))
        nrow += k
    if moved_limit is not None:
        leave = np.flatnonzero((prob.current[ci] != -1) & (prob.current[ci] != ti))
        rows_ub.append(np.full(leave.size, nrow))
        cols_ub.append(leave)
        vals_ub.append(np.ones(leave.size))
        b_ub.append(np.array([float(moved_limit)]))
        nrow += 1
    a_ub = csr_matrix(
        (np.concatenate(vals_ub), (np.concatenate(rows_ub), np.concatenate(cols_ub))),
        shape=(nrow, nvar),
    )
    a_eq = csr_matrix((np.ones(m), (ci, np.arange(m))), shape=(n, nvar))
    # costs in km x (workload / mean workload): O(1) numbers suit the interior-point method
    scale = float(n)
    c_vec = np.concatenate([cost + pen, np.full(2 * nc * k, big)]) * scale
    res = linprog(
        c_vec,
        A_ub=a_ub,
        b_ub=np.concatenate(b_ub),
        A_eq=a_eq,
        b_eq=np.ones(n),
        bounds=(0, None),
        method=_LP_METHOD,
        options={"disp": _LP_DISP},
    )
    if res.status != 0:  # pragma: no cover - the soft band keeps the LP feasible
        log.warning("allocation LP ended with status %s: %s", res.status, res.message)
        assignment = _nearest_allowed(prob, project_km(clat, clon, lat0=_lat0(prob)))
        return _Allocation(assignment, float("nan"), 0.0, 0)
    x = res.x[:m]
    # round: each customer to its largest share (ties to the lower territory index)
    order = np.lexsort((ti, -x, ci))
    first = np.r_[True, ci[order][1:] != ci[order][:-1]]
    assignment = np.empty(n, dtype=np.int64)
    assignment[ci[order][first]] = ti[order][first]
    split = int(np.sum(np.bincount(ci[x > 1e-7], minlength=n) > 1))
    # Lagrangian bound with the band multipliers of the true tolerance (duals of the LP are
    # feasible multipliers for it too); the distance-only objective, every centre allowed
    y = -np.asarray(res.ineqlin.marginals) / scale
    y = np.clip(y, 0.0, big)
    lam = np.zeros((nc, k))
    const = 0.0
    for c in range(nc):
        yu = y[(2 * c) * k : (2 * c + 1) * k]
        yl = y[(2 * c + 1) * k : (2 * c + 2) * k]
        lam[c] = (yu - yl) / np.maximum(prob.targets[c], 1e-12)
        const += float(np.sum(yu * (1 + tol)) - np.sum(yl * (1 - tol)))
    lb, priced = _lagrangian_bound(prob, clat, clon, config, lam, w, total_w)
    lb -= const
    return _Allocation(assignment, float(res.fun) / scale, max(float(lb), 0.0), split, priced)


def _allocate_flow(
    prob: _Problem,
    ci: NDArray[np.int64],
    ti: NDArray[np.int64],
    km: NDArray[np.float64],
    pen_km: NDArray[np.float64],
    clat: NDArray[np.float64],
    clon: NDArray[np.float64],
    config: Config,
    band: float,
) -> _Allocation:
    """Workload-only allocation as a min-cost flow (OR-Tools), with its exact Lagrangian bound.

    Network: customer -> territory arcs (capacity = the customer's workload in integer units,
    cost = road metres + continuity penalty), territory -> sink in three segments (up to the
    lower band at cost 0, up to the upper band at cost B, beyond at cost 2B). Since the total
    flow is fixed, B charges every unit of deficit below a lower band and 2B - B every unit of
    excess, with B above any distance trade: a soft band that keeps the problem feasible.

    The territory prices for the bound come from shortest paths in the residual graph reduced
    to the k territories and the sink (Bellman-Ford on k + 1 nodes): they satisfy complementary
    slackness, so the Lagrangian bound equals the flow optimum on the candidate arcs and stays
    valid when every centre is allowed.
    """
    from ortools.graph.python import min_cost_flow

    n, k = prob.n, prob.k
    w = prob.workload_min
    m = len(ci)
    supply = np.rint(w * _FLOW_PER_MIN).astype(np.int64)
    total = int(supply.sum())
    unit_cost = np.rint((km + pen_km) * 1000.0).astype(np.int64)
    big = int(2 * unit_cost.max() + 1) if m else 1
    tgt = prob.targets[0] * _FLOW_PER_MIN
    lo = np.ceil(tgt * (1 - band)).astype(np.int64)
    hi = np.maximum(np.floor(tgt * (1 + band)).astype(np.int64), lo)
    terr_node = n + np.arange(k)
    sink = n + k
    tails = np.concatenate([ci, terr_node, terr_node, terr_node])
    heads = np.concatenate([n + ti, np.full(3 * k, sink)])
    caps = np.concatenate([supply[ci], lo, hi - lo, np.full(k, max(total, 1))])
    costs = np.concatenate([unit_cost, np.zeros(k, np.int64), np.full(k, big), np.full(k, 2 * big)])
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n + k + 1, dtype=np.int64)
    supplies[:n] = supply
    supplies[sink] = -total
    mcf.set_nodes_supplies(np.arange(n + k + 1), supplies)
    status = mcf.solve()
    if status != mcf.OPTIMAL:  # pragma: no cover - the soft band keeps it feasible
        log.warning("allocation flow ended with status %s", status)
        return _Allocation(
            _nearest_allowed(prob, project_km(clat, clon, _lat0(prob))), float("nan"), 0.0, 0
        )
    flow = mcf.flows(np.arange(m)).astype(np.int64)
    # round: each customer to its largest flow; customers without workload to the cheapest arc
    key = np.where(supply[ci] > 0, -flow, unit_cost)
    order = np.lexsort((ti, key, ci))
    first = np.r_[True, ci[order][1:] != ci[order][:-1]]
    assignment = np.empty(n, dtype=np.int64)
    assignment[ci[order][first]] = ti[order][first]
    split = int(np.sum(np.bincount(ci[flow > 0], minlength=n) > 1))
    value = float(np.sum(flow * km) / max(total, 1))
    # territory prices from the residual graph (k territories + sink)
    load = np.bincount(ti, weights=flow, minlength=k)
    inf = np.iinfo(np.int64).max // 4
    edge = np.full((k + 1, k + 1), inf, dtype=np.int64)
    deg = np.bincount(ci, minlength=n)
    start = np.r_[0, np.cumsum(deg)[:-1]]
    pos = np.arange(m) - start[ci]
    for d in range(1, int(deg.max()) if m else 0):
        a_idx = np.flatnonzero(pos + d < deg[ci])
        b_idx = a_idx + d
        for x, y in ((a_idx, b_idx), (b_idx, a_idx)):
            # residual r -> i (flow on x) -> s (room on y): cost c_y - c_x
            ok = (flow[x] > 0) & (flow[y] < supply[ci[y]])
            np.minimum.at(edge, (ti[x[ok]], ti[y[ok]]), unit_cost[y[ok]] - unit_cost[x[ok]])
    fwd = np.where(load < lo, 0, np.where(load < hi, big, 2 * big))
    edge[np.arange(k), k] = fwd
    bwd = np.where(load > hi, -2 * big, np.where(load > lo, -big, np.where(load > 0, 0, inf)))
    edge[k, np.arange(k)] = np.minimum(edge[k, np.arange(k)], bwd)
    dist = np.zeros(k + 1, dtype=np.int64)
    for _ in range(k + 1):  # Bellman-Ford from a virtual source joined to every node at 0
        cand = np.where(edge < inf, dist[:, None] + edge, inf).min(axis=0)
        new = np.minimum(dist, cand)
        if np.array_equal(new, dist):
            break
        dist = new
    price_km = ((dist[k] - big) - dist[:k]).astype(np.float64) / 1000.0  # per workload unit
    tol = prob.tolerance
    t_min = prob.targets[0]
    total_w = float(w.sum())
    lam = price_km[None, :] / total_w  # per workload minute, over the weighted mean
    const = (
        float(np.sum(np.maximum(price_km * t_min * (1 + tol), price_km * t_min * (1 - tol))))
        / total_w
    )
    lb, priced = _lagrangian_bound(prob, clat, clon, config, lam, w, total_w)
    lb -= const
    return _Allocation(assignment, value, max(float(lb), 0.0), split, priced)


def _nearest_centre(
    prob: _Problem, centre_xy: NDArray[np.float64], clat: NDArray, clon: NDArray
) -> tuple[NDArray, NDArray]:
    _, j = cKDTree(centre_xy).query(prob.xy)
    return clat[j], clon[j]


def _nearest_allowed(prob: _Problem, centre_xy: NDArray[np.float64]) -> NDArray[np.int64]:
    _, j = cKDTree(centre_xy).query(prob.xy)
    a = np.asarray(j, dtype=np.int64)
    return np.where(prob.locked >= 0, prob.locked, a)


def _lagrangian_bound(
    prob: _Problem,
    clat: NDArray[np.float64],
    clon: NDArray[np.float64],
    config: Config,
    lam: NDArray[np.float64],
    w: NDArray[np.float64],
    total_w: float,
) -> tuple[float, NDArray[np.int64]]:
    """sum_i min_r [w_i d_ir / W + sum_c lam_cr v_ci], over all territories (locks respected).

    Also returns the minimising territory of each customer (for pricing out missing arcs).

    Computed in chunks of customers so memory stays O(chunk x k).
    """
    n, k = prob.n, prob.k
    chunk = max(1, 2_000_000 // max(k, 1))
    total = 0.0
    arg = np.empty(n, dtype=np.int64)
    for s in range(0, n, chunk):
        sl = slice(s, min(n, s + chunk))
        km = road_km(
            prob.lat[sl, None], prob.lon[sl, None], clat[None, :], clon[None, :], config.travel
        )
        val = w[sl, None] * km / total_w
        for c in range(len(prob.criteria)):
            val = val + prob.values[c][sl, None] * lam[c][None, :]
        j = val.argmin(axis=1)
        lk = prob.locked[sl]
        j = np.where(lk >= 0, lk, j)
        arg[sl] = j
        total += float(val[np.arange(len(j)), j].sum())
    return total, arg


# --------------------------------------------------------------------------------------------
# location (free centres)


def _free_centres(
    prob: _Problem,
    nbrs: list[list[int]],
    config: Config,
    rng: np.random.Generator,
    say: Progress,
) -> NDArray[np.int64]:
    """Weighted k-means++ seeding, then alternate allocation and medoid relocation."""
    k, n = prob.k, prob.n
    w = prob.workload_min if prob.workload_min.sum() > 0 else np.ones(n)
    # seeding (Arthur & Vassilvitskii 2007), weighted by workload, from the seeded generator
    first = int(rng.choice(n, p=w / w.sum()))
    idx = [first]
    d2 = np.sum((prob.xy - prob.xy[first]) ** 2, axis=1)
    for _ in range(1, k):
        p = w * d2
        if p.sum() <= 0:
            nxt = int(rng.integers(n))
        else:
            nxt = int(rng.choice(n, p=p / p.sum()))
        idx.append(nxt)
        d2 = np.minimum(d2, np.sum((prob.xy - prob.xy[nxt]) ** 2, axis=1))
    centres = np.array(idx, dtype=np.int64)
    for rnd in range(LOCATION_ROUNDS):
        say("placing centres", 0.05 + 0.35 * rnd / LOCATION_ROUNDS)
        alloc = _allocate(
            prob,
            prob.lat[centres],
            prob.lon[centres],
            config,
            prev=None,
            moved_limit=None,
            candidates=min(config.territory.candidates, 5),
        )
        new = _medoids(prob, alloc.assignment, centres)
        if np.array_equal(new, centres):
            break
        centres = new
    return centres


def _medoids(
    prob: _Problem, assignment: NDArray[np.int64], fallback: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Weighted medoid of each territory, searched among the 30 customers nearest its mean."""
    w = prob.workload_min if prob.workload_min.sum() > 0 else np.ones(prob.n)
    out = fallback.copy()
    order = np.argsort(assignment, kind="stable")
    bounds = np.searchsorted(assignment[order], np.arange(prob.k + 1))
    for r in range(prob.k):
        members = order[bounds[r] : bounds[r + 1]]
        if members.size == 0:
            continue
        pts, wm = prob.xy[members], w[members]
        mean = (pts * wm[:, None]).sum(axis=0) / max(wm.sum(), 1e-12)
        near = np.argsort(np.sum((pts - mean) ** 2, axis=1), kind="stable")[:30]
        costs = [float(np.sum(wm * np.hypot(*(pts - pts[j]).T))) for j in near]
        out[r] = members[near[int(np.argmin(costs))]]
    return out


def _centres_of(reps: Sequence[Rep] | None, prob: _Problem) -> tuple:
    if reps:
        return tuple((float(r.lat), float(r.lon)) for r in reps)
    return tuple((float("nan"), float("nan")) for _ in range(prob.k))


# --------------------------------------------------------------------------------------------
# local search on the neighbourhood graph


def _local_search(
    prob: _Problem,
    nbrs: list[list[int]],
    assignment: NDArray[np.int64],
    dist: _AssignedDistance,
    *,
    contiguous: bool,
    moved_limit: int | None,
    keep_weight: float,
    prev: NDArray[np.int64] | None,
) -> NDArray[np.int64]:
    """Contiguity repair, then balance repair and compactness moves (boundary customers only).

    Lexicographic descent: first the total band violation (relative, summed over criteria and
    territories), then the workload-weighted distance. A customer only leaves a territory when
    its neighbours there stay connected among themselves (so the territory stays connected) and
    only joins a territory it touches.
    """
    n, k = prob.n, prob.k
    a = assignment.copy()
    tol = prob.tolerance
    nc = len(prob.criteria)
    vals = [prob.values[c].tolist() for c in range(nc)]
    tgt = [[max(t, 1e-12) for t in prob.targets[c].tolist()] for c in range(nc)]
    loads = [np.bincount(a, weights=prob.values[c], minlength=k).tolist() for c in range(nc)]
    locked = prob.locked.tolist()
    current = prob.current.tolist()
    prev_l = prev.tolist() if prev is not None else None
    w = prob.workload_min if prob.workload_min.sum() > 0 else np.ones(n)
    wl = (w / w.sum()).tolist()
    nbr_sets = [set(x) for x in nbrs]
    al = a.tolist()  # a plain-list mirror of ``a`` for the hot loops (kept in step by apply)
    src = np.repeat(np.arange(n), [len(x) for x in nbrs])
    dst = np.fromiter((j for x in nbrs for j in x), dtype=np.int64, count=len(src))

    def boundary() -> list[int]:
        """Free customers with a neighbour in another territory, in index order."""
        cut = np.zeros(n, dtype=bool)
        cut[src[a[src] != a[dst]]] = True
        cut &= prob.locked < 0
        return np.flatnonzero(cut).tolist()

    ref = float(np.mean(dist.km(np.arange(n), a))) or 1.0
    moved = sum(1 for i in range(n) if current[i] != -1 and current[i] != a[i])

    def viol(c: int, r: int, load: float) -> float:
        q = load / tgt[c][r]
        return max(0.0, q - 1 - tol) + max(0.0, 1 - tol - q)

    dcache: dict[tuple[int, int], float] = {}

    def km(i: int, r: int) -> float:
        key = (i, r)
        v = dcache.get(key)
        if v is None:
            v = float(dist.km(i, r))
            dcache[key] = v
        return v

    def cost(i: int, r: int) -> float:
        c_ = wl[i] * km(i, r)
        if keep_weight > 0 and current[i] != -1 and current[i] != r:
            c_ += keep_weight * ref * wl[i]
        if prev_l is not None and prev_l[i] != r:
            c_ += PREVIOUS_WEIGHT * ref * wl[i]
        return c_

    def removable(i: int, t: int) -> bool:
        same = [j for j in nbrs[i] if al[j] == t]
        if len(same) <= 1:
            return True
        seen = {same[0]}
        todo = [same[0]]
        rest = set(same)
        while todo:
            u = todo.pop()
            for v in nbr_sets[u]:
                if v in rest and v not in seen:
                    seen.add(v)
                    todo.append(v)
        return len(seen) == len(same)

    def apply(i: int, t: int) -> None:
        nonlocal moved
        s = al[i]
        for c in range(nc):
            loads[c][s] -= vals[c][i]
            loads[c][t] += vals[c][i]
        if current[i] != -1:
            moved += (current[i] != t) - (current[i] != s)
        a[i] = t
        al[i] = t

    def move_delta(i: int, s: int, t: int) -> tuple[float, float]:
        dv = 0.0
        for c in range(nc):
            v = vals[c][i]
            dv += (
                viol(c, s, loads[c][s] - v)
                + viol(c, t, loads[c][t] + v)
                - viol(c, s, loads[c][s])
                - viol(c, t, loads[c][t])
            )
        return dv, cost(i, t) - cost(i, s)

    def group_moved_ok(group: list[int], s: int, t: int) -> bool:
        if moved_limit is None:
            return True
        delta = sum((current[i] != t) - (current[i] != s) for i in group if current[i] != -1)
        return moved + delta <= moved_limit

    def moved_ok(i: int, s: int, t: int) -> bool:
        if moved_limit is None or current[i] == -1:
            return True
        return moved + (current[i] != t) - (current[i] != s) <= moved_limit

    eps = 1e-12

    def near_violation(depth: int = 2) -> set[int]:
        """Territories out of band and those within ``depth`` steps of them (adjacency)."""
        out = {r for r in range(k) for c in range(nc) if viol(c, r, loads[c][r]) > eps}
        cut = a[src] != a[dst]
        pairs = np.unique(np.column_stack([a[src[cut]], a[dst[cut]]]), axis=0).tolist()
        adj: dict[int, set[int]] = {}
        for u, v in pairs:
            adj.setdefault(u, set()).add(v)
        frontier = set(out)
        for _ in range(depth):
            frontier = {v for u in frontier for v in adj.get(u, ())} - out
            out |= frontier
        return out

    def sweep(mode: str, depth: int = 2) -> int:
        """One pass over the boundary customers; returns the number of moves made."""
        improved = 0
        active = near_violation(depth) if mode == "diffuse" else None
        for i in boundary():
            s = al[i]
            cand = {al[j] for j in nbrs[i]} - {s}
            if not cand:
                continue
            best = None
            for t in sorted(cand):
                if active is not None and s not in active and t not in active:
                    continue  # diffuse only around the territories out of band
                dv, dc = move_delta(i, s, t)
                if mode == "descent":
                    ok = dv < -1e-9 or (dv <= eps and dc < -1e-12)
                    key = (dv, dc)
                else:  # spread load along chains: no new violation, squared deviation down
                    if dv > eps:
                        continue
                    dq = _sq_delta(nc, vals, loads, tgt, i, s, t)
                    ok = dq < -1e-9
                    key = (dq, dc)
                if ok and (best is None or key < best[0]):
                    best = (key, t)
            if best is None:
                continue
            t = best[1]
            if not moved_ok(i, s, t):
                continue
            if contiguous and not removable(i, s):
                continue
            apply(i, t)
            improved += 1
        return improved

    for rnd in range(4):
        # 1. contiguity: every fragment that is not its territory's main piece joins a
        # neighbour; in the first rounds never one that is already over its band
        if contiguous:
            for _ in range(20):
                if not _merge_fragments(
                    prob,
                    nbrs,
                    a,
                    locked,
                    loads,
                    vals,
                    tgt,
                    viol,
                    cost,
                    apply,
                    strict=rnd < 2,
                    group_ok=group_moved_ok,
                ):
                    break
        # 2. balance, then compactness: lexicographic descent over boundary customers, with a
        # diffusion step (squared deviation) when single moves cannot reduce the violation
        for mode in ("descent", "diffuse", "descent"):
            for _pass in range(LOCAL_SEARCH_PASSES):
                moves = sweep(mode, depth=2 + _pass)  # diffusion reaches further each pass
                log.info(
                    "local search round %d %s pass %d: %d moves, violation %.4f",
                    rnd,
                    mode,
                    _pass,
                    moves,
                    _total_violation(nc, k, loads, viol),
                )
                if not moves:
                    break
                if mode == "diffuse" and _total_violation(nc, k, loads, viol) <= eps:
                    break
            if mode == "descent" and _total_violation(nc, k, loads, viol) <= eps:
                break  # balanced: the compactness descent has run to a local optimum
        if not contiguous or _fragments_left(nbrs, a, locked) == 0:
            break

    def swap_sweep(repair: bool = False) -> int:
        """Pairs of moves i: s -> t and j: t -> s that the band blocks one at a time.

        With ``repair``, any pair that lowers the band violation (a heavy customer for a light
        one, or one that trades workload for customers when several criteria are balanced).
        """
        swaps = 0
        for i in boundary():
            s = al[i]
            for t in sorted({al[j] for j in nbrs[i]} - {s}):
                if al[i] != s:
                    break
                dv_i, dc_i = move_delta(i, s, t)
                if not repair and (dc_i >= -1e-12 or dv_i <= 1e-9):
                    continue  # not blocked, or not worth it
                partners = sorted(
                    {u for u in nbrs[i] if al[u] == t}
                    | {x for u in nbrs[i] if al[u] == t for x in nbrs[u] if al[x] == t}
                )
                best = None
                for j in partners:
                    if locked[j] >= 0 or not any(al[x] == s for x in nbrs[j] if x != i):
                        continue
                    dv = 0.0
                    for c in range(nc):
                        d_load = vals[c][i] - vals[c][j]
                        dv += (
                            viol(c, s, loads[c][s] - d_load)
                            + viol(c, t, loads[c][t] + d_load)
                            - viol(c, s, loads[c][s])
                            - viol(c, t, loads[c][t])
                        )
                    dc = dc_i + cost(j, s) - cost(j, t)
                    if repair:
                        if dv < -1e-9 and (best is None or (dv, dc) < best[0]):
                            best = ((dv, dc), j)
                    elif dv <= eps and dc < -1e-12 and (best is None or dc < best[0]):
                        best = (dc, j)
                if best is None:
                    continue
                j = best[1]
                if not (moved_ok(i, s, t) and (not contiguous or removable(i, s))):
                    continue
                apply(i, t)
                if moved_ok(j, t, s) and (not contiguous or removable(j, t)):
                    apply(j, s)
                    swaps += 1
                else:
                    apply(i, s)  # undo: the state before was connected
        return swaps

    # balance still off (several criteria, heavy customers): pairs of moves, then descent
    for _pass in range(LOCAL_SEARCH_PASSES):
        if _total_violation(nc, k, loads, viol) <= eps:
            break
        if not (swap_sweep(repair=True) + sweep("descent")):
            break
    if _total_violation(nc, k, loads, viol) <= eps:
        for _pass in range(LOCAL_SEARCH_PASSES):
            if not (swap_sweep() + sweep("descent")):
                break
    return a


def _sq_delta(nc, vals, loads, tgt, i, s, t) -> float:  # noqa: ANN001 - hot inner helper
    d = 0.0
    for c in range(nc):
        v = vals[c][i]
        ts, tt = tgt[c][s], tgt[c][t]
        d += ((loads[c][s] - v) / ts - 1) ** 2 + ((loads[c][t] + v) / tt - 1) ** 2
        d -= (loads[c][s] / ts - 1) ** 2 + (loads[c][t] / tt - 1) ** 2
    return d


def _total_violation(nc, k, loads, viol) -> float:  # noqa: ANN001
    return sum(viol(c, r, loads[c][r]) for c in range(nc) for r in range(k))


def _components(nbrs: list[list[int]], a: NDArray[np.int64]) -> tuple[int, NDArray[np.int64]]:
    """Connected pieces of each territory: components of the same-territory subgraph."""
    n = len(nbrs)
    if n == 0:
        return 0, np.zeros(0, dtype=np.int64)
    src = np.repeat(np.arange(n), [len(x) for x in nbrs])
    dst = np.fromiter((j for x in nbrs for j in x), dtype=np.int64, count=len(src))
    same = a[src] == a[dst]
    g = coo_matrix((np.ones(int(same.sum())), (src[same], dst[same])), shape=(n, n))
    ncomp, labels = connected_components(g, directed=False)
    return ncomp, labels.astype(np.int64)


def _fragments_left(nbrs: list[list[int]], a: NDArray[np.int64], locked: list[int]) -> int:
    """Number of customers in non-main pieces that hold no locked customer (movable fragments)."""
    ncomp, labels = _components(nbrs, a)
    if ncomp == len(set(a.tolist())):
        return 0
    size = np.bincount(labels, minlength=ncomp)
    comp_terr = np.zeros(ncomp, dtype=np.int64)
    comp_terr[labels] = a
    has_lock = np.zeros(ncomp, dtype=bool)
    lk = np.asarray(locked) >= 0
    has_lock[labels[lk]] = True
    main: dict[int, int] = {}
    for comp in np.lexsort((np.arange(ncomp), -size)):
        main.setdefault(int(comp_terr[comp]), int(comp))
    return int(
        sum(size[c] for c in range(ncomp) if main[int(comp_terr[c])] != c and not has_lock[c])
    )


def _merge_fragments(  # noqa: ANN001
    prob, nbrs, a, locked, loads, vals, tgt, viol, cost, apply, strict, group_ok
) -> bool:  # noqa: ANN001
    """Give every fragment without locked customers to the neighbouring territory that suits best."""
    w = prob.workload_min
    ncomp, labels = _components(nbrs, a)
    if ncomp == len(set(a.tolist())):
        return False
    comp_w = np.bincount(labels, weights=w + 1e-9, minlength=ncomp)
    comp_terr = np.zeros(ncomp, dtype=np.int64)
    comp_terr[labels] = a
    # the main piece of a territory: most workload (ties: lowest label)
    main = {}
    for comp in np.lexsort((np.arange(ncomp), -comp_w)):
        main.setdefault(int(comp_terr[comp]), int(comp))
    members: dict[int, list[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        if lab != main[int(a[i])]:
            members.setdefault(lab, []).append(i)
    changed = False
    nc = len(vals)
    lk = prob.locked >= 0
    overlocked = np.zeros(prob.k, dtype=bool)
    for c in range(nc):
        lock_load = np.bincount(prob.locked[lk], weights=prob.values[c][lk], minlength=prob.k)
        overlocked |= lock_load > prob.targets[c] * (1 + prob.tolerance)
    for lab in sorted(members, key=lambda x: (comp_w[x], x)):
        group = members[lab]
        s = int(a[group[0]])
        if any(locked[i] >= 0 for i in group) or any(a[i] != s for i in group):
            continue
        touch = sorted({int(a[j]) for i in group for j in nbrs[i]} - {s})
        if not touch:
            continue
        gv = [sum(vals[c][i] for i in group) for c in range(nc)]
        best = None
        for t in touch:
            if not group_ok(group, s, t):
                continue  # would exceed the cap on moved customers
            dv = sum(
                viol(c, s, loads[c][s] - gv[c])
                + viol(c, t, loads[c][t] + gv[c])
                - viol(c, s, loads[c][s])
                - viol(c, t, loads[c][t])
                for c in range(nc)
            )
            # prefer joining the territory's main piece (it then stays one piece)
            touches_main = any(labels[j] == main.get(t, -1) for i in group for j in nbrs[i])
            dc = sum(cost(i, t) - cost(i, s) for i in group)
            # never push a territory that is already over its band further over in the first
            # rounds, and never one whose locks alone exceed it: the fragment then stays where
            # it is and is reported
            over = (
                (strict or overlocked[t])
                and dv > 1e-12
                and any(loads[c][t] > tgt[c][t] * (1 + prob.tolerance) for c in range(nc))
            )
            if over:
                continue
            key = (not touches_main, dv, dc, t)
            if best is None or key < best:
                best = key
        if best is None:
            continue
        for i in group:
            apply(i, best[3])
        changed = True
    return changed


# --------------------------------------------------------------------------------------------
# KPIs


def _kpis(
    prob: _Problem, nbrs: list[list[int]], a: NDArray[np.int64], dist: _AssignedDistance
) -> dict:
    k, n = prob.k, prob.n
    tol = prob.tolerance
    out: dict = {}
    wl_load = np.bincount(a, weights=prob.workload_min, minlength=k)
    cap_share = prob.targets[0] / max(prob.targets[0].sum(), 1e-12)
    wl_target = prob.workload_min.sum() * cap_share
    dev = relative_deviation(wl_load, wl_target)
    out["max_workload_deviation"] = float(np.max(np.abs(dev))) if k else 0.0
    for c, crit in enumerate(prob.criteria):
        if crit == "workload":
            continue
        d = relative_deviation(np.bincount(a, weights=prob.values[c], minlength=k), prob.targets[c])
        out[f"max_{crit}_deviation"] = float(np.max(np.abs(d)))
    out["tolerance"] = tol
    out["within_tolerance"] = bool(
        all(
            np.all(
                np.abs(
                    relative_deviation(
                        np.bincount(a, weights=prob.values[c], minlength=k), prob.targets[c]
                    )
                )
                <= tol + 1e-9
            )
            for c in range(len(prob.criteria))
        )
    )
    ncomp, labels = _components(nbrs, a)
    pieces = np.zeros(k, dtype=np.int64)
    comp_terr = np.zeros(ncomp, dtype=np.int64)
    comp_terr[labels] = a
    np.add.at(pieces, comp_terr, 1)
    counts = np.bincount(a, minlength=k)
    connected = pieces <= 1
    out["connected_share"] = float(counts[connected].sum() / n) if n else 1.0
    out["territories_connected"] = int(np.sum(connected))
    has = prob.current != -1
    out["moved"] = int(np.sum(has & (prob.current != a))) if has.any() else 0
    out["objective"] = dist.objective(a)
    # per territory, for territories.csv
    out["workload_min"] = [round(float(x), 3) for x in wl_load]
    out["target_min"] = [round(float(x), 3) for x in wl_target]
    out["deviation"] = [round(float(x), 5) for x in dev]
    out["customers"] = [int(x) for x in counts]
    out["connected"] = [bool(x) for x in connected]
    out["pieces"] = [int(x) for x in pieces]
    out["potential"] = [
        round(float(x), 2) for x in np.bincount(a, weights=prob.potential, minlength=k)
    ]
    move_in = np.zeros(k, dtype=np.int64)
    move_out = np.zeros(k, dtype=np.int64)
    ch = np.flatnonzero(has & (prob.current != a))
    np.add.at(move_in, a[ch], 1)
    cur_ok = ch[prob.current[ch] >= 0]
    np.add.at(move_out, prob.current[cur_ok], 1)
    out["moved_in"] = [int(x) for x in move_in]
    out["moved_out"] = [int(x) for x in move_out]
    return out


def _outcome_notes(
    prob: _Problem, a: NDArray[np.int64], kpis: dict, moved_limit: int | None
) -> list[str]:
    notes = []
    tol = prob.tolerance
    for c, crit in enumerate(prob.criteria):
        load = np.bincount(a, weights=prob.values[c], minlength=prob.k)
        dev = relative_deviation(load, prob.targets[c])
        for r in np.flatnonzero(np.abs(dev) > tol + 1e-9):
            notes.append(
                f"Territory '{prob.rep_ids[r]}' ends at {dev[r] * 100:+.1f} % {crit} against its "
                f"target (band +/-{tol * 100:g} %): the best found under the locks, the "
                "contiguity and the limits on moves."
            )
    bad = [prob.rep_ids[r] for r, ok in enumerate(kpis.get("connected", [])) if not ok]
    if bad:
        notes.append(
            f"{len(bad)} territories are not one connected piece ({', '.join(bad[:10])}"
            f"{' ...' if len(bad) > 10 else ''}): locked customers or a coastline separate them."
        )
    if moved_limit is not None and kpis.get("moved", 0) > moved_limit:
        notes.append(f"{kpis['moved']} customers change rep, above the limit of {moved_limit}.")
    return notes
