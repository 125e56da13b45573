"""Territory design (rayonering, chapter 6.4): balanced, compact, connected territories.

Method: location-allocation for balanced districting (Hess et al. 1965; Kalcsics & Ríos-Mercado,
"Districting problems", 2019).

1. *Allocation* with the centres fixed is a transportation problem: every customer's workload is
   supplied to the territories, each territory must receive between target x (1 - tolerance) and
   target x (1 + tolerance), at the cost of workload x road km from the centre. Arcs are sparse:
   each customer to its ``candidates`` nearest centres plus its current and previous territory
   (a locked customer only to its own); arcs the prices favour are added (column generation).
   Balancing workload only, it is a min-cost flow (OR-Tools); with several criteria (potential,
   customers) or a cap on moved customers the flow carries the other criteria and the cap as
   prices found by Lagrangian relaxation (``_allocate_lagrange``; an LP with HiGHS where
   workload is not the first criterion). Band violations are soft (a high
   price) so impossible locks give the best achievable balance instead of no answer. An optimal
   basic solution splits only a few customers (at most about k - 1); each goes to its largest
   share.
2. *Location* (free centres only, ``k`` without reps): each centre moves to the weighted medoid of
   its territory and the allocation is repeated, like Hess's alternating heuristic.
3. *Local search* on the customers' neighbourhood graph (Delaunay triangulation, long shortcuts over
   water inside a cluster dropped, towns and islands joined) restores contiguity (fragments join a neighbour),
   then moves boundary customers (and swaps pairs the band blocks one at a time) to repair balance
   and to improve compactness without leaving the band or disconnecting a territory.

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
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .exceptions import InputError
from .models import Customer, Design, DesignKpis, Rep
from .params import Config
from .travel import Points, TravelModel, crow, haversine_km, project_km
from .workload import CustomerWorkload, relative_deviation, rep_capacity_min

log = logging.getLogger(__name__)

#: A Delaunay edge longer than this many times the local spacing at both ends (and longer than
#: ``MIN_DROP_KM``) crosses water or empty land; it is dropped from the neighbourhood graph.
LONG_EDGE_FACTOR = 3.0
#: Edges shorter than this (km) are never dropped, whatever the local spacing.
MIN_DROP_KM = 3.0
#: Long edges kept between each pair of clusters of short edges (towns apart, an island).
_BRIDGES_PER_PAIR = 2
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
#: An arc to a home that cannot reach the customer within a day costs this many times the
#: longest arc more.
_UNREACHABLE_KM_FACTOR = 4.0
#: Flows per allocation with several criteria or a cap on moves (`_allocate_lagrange`).
_LAGRANGE_ROUNDS = 20
#: First subgradient step (in units of one customer's km cost per band share) and its factor
#: per round.
_LAGRANGE_STEP = 0.02
_LAGRANGE_STEP_DECAY = 0.95
#: The priced flows stop once the other criteria's band excess, summed over the territories,
#: is at most this share of the band per territory (the local search repairs that in a pass or
#: two; measured on 10,000 uniform customers x 50: 20 flows took the excess from 1.36 to 0.74
#: in 4.9 s, and the local search repaired either in one pass).
_LAGRANGE_HANDOVER = 0.5
#: ... or once two flows in a row brought it down by less than this share (the prices creep:
#: on 30,000 town-shaped customers x 80, eight flows took it from 1.56 to 1.18 and the local
#: search started from the same violation, 2.89 against 2.88, after one flow as after eight;
#: at 100,000 x 200 the twenty flows were 155 of the design's 335 s).
_LAGRANGE_STALL = 0.05
#: Flow units per workload minute in the min-cost flow (integer flows).
_FLOW_PER_MIN = 10.0
#: The allocation aims inside this share of the band, leaving room to round split customers.
_BAND_FACTOR = 0.8
#: The same with several balanced criteria: a move shifts all of them, so aim tighter (measured
#: on generated Dutch/Belgian inputs: 0.6 kept every criterion in band where 0.8 missed some).
_BAND_FACTOR_MULTI = 0.6
#: Rounds of the local search: contiguity repair, then balance and compactness sweeps; the first
#: ``_STRICT_ROUNDS`` never push a fragment into a territory that is over its band.
_SEARCH_ROUNDS = 4
_STRICT_ROUNDS = 2
#: Fragment merges per contiguity repair (a merge can leave new fragments behind).
_MERGE_PASSES = 20
#: A band violation this small counts as none.
_EPS = 1e-12

Progress = Callable[[str, float], None]
#: Sweep modes of the local search: lexicographic descent, or diffusion of load along chains.
_SweepMode = Literal["descent", "diffuse"]


@dataclass(frozen=True)
class _Problem:
    """Arrays of one design problem (customers in load order, territories in id order)."""

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    xy: NDArray[np.float64]  # projected km
    workload_min: NDArray[np.float64]
    criteria: tuple[str, ...]  # balanced criteria, in the configured order
    values: NDArray[np.float64]  # (criteria, n)
    targets: NDArray[np.float64]  # (criteria, k)
    tolerance: float
    potential: NDArray[np.float64]  # EUR per customer (reported, balanced only when asked)
    locked: NDArray[np.int64]  # territory index or -1
    current: NDArray[np.int64]  # territory index, -1 = none given, -2 = a rep not in the team
    territory_ids: tuple[str, ...]
    points: Points  # the customers as places to travel to
    travel: TravelModel  # every road km of the design comes from here
    visit_min: NDArray[np.float64] | None = None  # minutes of one visit per customer
    day_min: NDArray[np.float64] | None = None  # per territory: selling minutes of its rep's day

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.lat)

    @property
    def k(self) -> int:
        """Number of territories."""
        return len(self.territory_ids)

    @property
    def weight(self) -> NDArray[np.float64]:
        """Each customer's weight in the distance objective: its workload (1 each when all are 0)."""
        return self.workload_min if self.workload_min.sum() > 0 else np.ones(self.n)

    @property
    def lat0(self) -> float:
        """Reference latitude of the km projection: the customers' mean."""
        return float(np.mean(self.lat)) if self.n else 0.0


@dataclass(frozen=True)
class _Centres:
    """One centre per territory in WGS84 degrees: the reps' homes or the free centres."""

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    ids: NDArray[np.object_] | None = None  # the reps' or medoid customers' ids (travel keys)

    @classmethod
    def of_homes(cls, reps: Sequence[Rep]) -> _Centres:
        """The reps' homes."""
        home = Points.of(reps)
        return cls(home.lat, home.lon, home.ids)

    @classmethod
    def of_customers(cls, prob: _Problem, index: NDArray[np.int64]) -> _Centres:
        """The locations of the customers ``index`` (medoids)."""
        at = prob.points.take(index)
        return cls(at.lat, at.lon, at.ids)

    @property
    def points(self) -> Points:
        """The centres as places to travel from."""
        return Points(self.lat, self.lon, self.ids)

    def xy(self, prob: _Problem) -> NDArray[np.float64]:
        """The centres in the customers' km projection."""
        return project_km(self.lat, self.lon, lat0=prob.lat0)

    def as_tuples(self) -> tuple[tuple[float, float], ...]:
        """(lat, lon) per territory."""
        return tuple((float(a), float(b)) for a, b in zip(self.lat, self.lon, strict=True))


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
    travel: TravelModel | None = None,
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
    travel
        The travel model for the road km from each home (or centre) to its customers (default:
        the straight-line model of ``config.travel``).

    Returns
    -------
    Design
        ``rep_ids`` (the territory ids), ``assignment``, ``centres`` (lat, lon: the reps'
        homes, or the medoid customers of free centres) and ``kpis``: those of
        :func:`evaluate_assignment` plus ``lp_value``, ``lp_split_customers`` and, for free
        centres, ``centres``. With free centres the lower bound holds for the final centres.

    Raises
    ------
    InputError
        ``k`` missing or above the number of customers, no reps, a rep without home
        coordinates, a customer without coordinates, a ``previous`` of the wrong shape, or a
        customer's ``locked_rep`` that is not one of the reps (or territories ``T1..Tk``).
    """
    tp = config.territory
    rng = np.random.default_rng(tp.seed)
    say = _step_reporter(progress)
    if reps is None:
        territory_ids, capacity = _free_territories(k, len(customers))
    else:
        _check_reps(reps)
        territory_ids, capacity = _rep_territories(reps, config)
    day_min = None if reps is None else np.array([_selling_day_min(r, config) for r in reps])
    prob = _problem(customers, territory_ids, capacity, workload, config, travel, day_min=day_min)
    notes = _input_notes(prob, customers)
    if prob.n == 0:  # only with reps: free territories need k <= n
        assert reps is not None
        homes = _Centres.of_homes(reps).as_tuples()
        return Design(territory_ids, (), homes, _empty_kpis(prob, notes))
    prev = _previous_territories(previous, prob)
    moved_limit = moved_cap(
        prob.current, prob.locked, tp.max_moved if max_moved is None else max_moved
    )

    say("neighbourhood graph", 0.0)
    nbrs = road_neighbour_lists(prob.xy, prob.points, prob.travel)
    if reps is None:
        say("placing centres", 0.05)
        centres = _free_centres(prob, config, rng, say)
    else:
        centres = _Centres.of_homes(reps)
    say("allocating", 0.4)
    alloc = _allocate(prob, centres, config, prev=prev, moved_limit=moved_limit)
    say("local search", 0.6)
    dist = _AssignedDistance(prob, centres)
    search = _LocalSearch(
        prob,
        nbrs,
        alloc.assignment,
        dist,
        contiguous=tp.contiguous,
        moved_limit=moved_limit,
        keep_weight=tp.keep_current_weight,
        prev=prev,
    )
    assignment = search.run()
    say("evaluating", 0.95)
    kpis = _kpis(
        prob,
        nbrs,
        assignment,
        objective=dist.objective(assignment),
        lower_bound=alloc.lower_bound,
        input_notes=notes,
        moved_limit=moved_limit,
    )
    kpis = replace(
        kpis,
        lp_value=alloc.lp_value,
        lp_split_customers=alloc.split,
        centres=centres.as_tuples() if reps is None else None,
    )
    say("done", 1.0)
    return Design(
        rep_ids=territory_ids,
        assignment=tuple(int(t) for t in assignment),
        centres=centres.as_tuples(),
        kpis=kpis,
    )


#: Calibration of :func:`estimate_design_s`, measured with scripts/bench_scale.py on a 2-core
#: machine (1k x 10: 0.1 s, 10k x 50: 1.9-2.0 s, 100k x 200: 68-77 s): time ~ c (n sqrt(k))^1.25.
_DESIGN_S_COEF = 1.7e-6
_DESIGN_S_EXP = 1.25


def estimate_design_s(n_customers: int, n_territories: int, lp: bool = False) -> float:
    """Rough wall-clock seconds of :func:`design_territories` (min-cost flow path).

    Several balance criteria or a move cap (``lp=True``: priced flows, `_allocate_lagrange`)
    take about twice as long (1.3x measured at 4,000 x 25; the LP they replaced took 20x).
    """
    size = n_customers * math.sqrt(max(n_territories, 1))
    base: float = 0.05 + _DESIGN_S_COEF * size**_DESIGN_S_EXP
    return base * (2.0 if lp else 1.0)


def evaluate_assignment(
    customers: Sequence[Customer],
    reps: Sequence[Rep] | None,
    workload: CustomerWorkload,
    assignment: Sequence[int],
    config: Config,
    *,
    travel: TravelModel | None = None,
) -> DesignKpis:
    """The design KPIs of an existing division (``territory evaluate``: how good is today's split?).

    Parameters
    ----------
    assignment
        Territory index per customer: an index into ``reps`` (or into ``T1..Tk`` when ``reps`` is
        None, in which case ``k = max(assignment) + 1`` and centres are the weighted medoids).

    Returns
    -------
    DesignKpis
        Balance, contiguity, moves and compactness against the lower bound (the balanced
        allocation's LP relaxation around the same centres), with the notes on where the
        division misses the criteria; ``lp_value``, ``lp_split_customers`` and ``centres``
        are None.

    Raises
    ------
    InputError
        The assignment does not give every customer a territory, or a customer has no
        coordinates or an unknown ``locked_rep``.
    """
    a = np.asarray(assignment, dtype=np.int64)
    if reps is None:
        territory_ids, capacity = _numbered_territories(int(a.max()) + 1 if a.size else 1)
    else:
        territory_ids, capacity = _rep_territories(reps, config)
    prob = _problem(customers, territory_ids, capacity, workload, config, travel)
    if a.shape != (prob.n,) or (a.size and (a.min() < 0 or a.max() >= prob.k)):
        raise InputError(
            f"the assignment must give every one of the {prob.n} customers a territory 0..{prob.k - 1}"
        )
    notes = _input_notes(prob, customers)
    if prob.n == 0:
        return _empty_kpis(prob, notes)
    nbrs = road_neighbour_lists(prob.xy, prob.points, prob.travel)
    if reps is None:
        centres = _Centres.of_customers(prob, _medoids(prob, a, np.zeros(prob.k, dtype=np.int64)))
    else:
        centres = _Centres.of_homes(reps)
    dist = _AssignedDistance(prob, centres)
    alloc = _allocate(prob, centres, config, prev=None, moved_limit=None)
    return _kpis(
        prob,
        nbrs,
        a,
        objective=dist.objective(a),
        lower_bound=alloc.lower_bound,
        input_notes=notes,
        moved_limit=None,
    )


def neighbour_lists(xy: NDArray[np.float64]) -> list[list[int]]:
    """Neighbourhood graph of points (planar km): Delaunay edges without long water crossings.

    Coincident points (customers geocoded to one town centre) are spread on a 1 m spiral so
    each is a node of its own. A Delaunay edge longer than ``LONG_EDGE_FACTOR`` times the local
    spacing (third-shortest incident edge) at both of its ends (and longer than
    ``MIN_DROP_KM``) is dropped when it runs inside one cluster (a shortcut over water that the
    cluster goes around); long edges between clusters (towns apart on land, an island) are
    kept, and any remaining components are joined shortest edge first (Kruskal), so the graph
    stays connected. The clusters are joined by the edges that are short at *both* ends: a lone
    customer between two towns keeps its own edges (they are short next to its sparse
    surroundings) but does not make the two towns one cluster, which would drop every edge from
    either town to the towns beside it as a shortcut.

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
        dense = np.minimum(local[edges[:, 0]], local[edges[:, 1]])
        strong = (length <= LONG_EDGE_FACTOR * dense) | (length <= MIN_DROP_KM)  # so never long_
        edges = _connect(pts, *_between_clusters(pts, edges[~long_], edges[long_], edges[strong]))
    out: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges.tolist():
        out[u].append(v)
        out[v].append(u)
    for lst in out:
        lst.sort()
    return out


#: With a road source, a neighbourhood edge whose road km exceed this many times the straight
#: line (and the straight line by DETOUR_MIN_KM) joins two places across water: dropped.
DETOUR_FACTOR = 3.0
DETOUR_MIN_KM = 2.0


def road_neighbour_lists(
    xy: NDArray[np.float64], points: Points, travel: TravelModel
) -> list[list[int]]:
    """:func:`neighbour_lists`, and with a road source without the edges that are much longer
    by road than on the map (two customers across a river or an estuary).

    An edge goes when its road km (the shorter direction) exceed ``DETOUR_FACTOR`` x the
    straight line and the straight line by ``DETOUR_MIN_KM``; dropped edges come back
    shortest first where they are needed to keep the graph connected (Kruskal, as for long
    edges over water).
    """
    nbrs = neighbour_lists(xy)
    if travel.source == "crow" or len(xy) < 2:
        return nbrs
    src, dst = _edge_arrays(nbrs)
    once = src < dst
    edges = np.column_stack([src[once], dst[once]])
    if not len(edges):
        return nbrs
    a, b = points.take(edges[:, 0]), points.take(edges[:, 1])
    road = np.minimum(travel.pairs(a, b).km, travel.pairs(b, a).km)
    straight = haversine_km(a.lat, a.lon, b.lat, b.lon)
    detour = (road > DETOUR_FACTOR * straight) & (road - straight > DETOUR_MIN_KM)
    if not detour.any():
        return nbrs
    log.info("neighbourhood graph: %d edges are detours by road", int(detour.sum()))
    kept = _connect(np.asarray(xy, dtype=np.float64), edges[~detour], edges[detour])
    out: list[list[int]] = [[] for _ in range(len(xy))]
    for u, v in kept.tolist():
        out[u].append(v)
        out[v].append(u)
    for lst in out:
        lst.sort()
    return out


# --------------------------------------------------------------------------------------------
# problem set-up


def _step_reporter(progress: Progress | None) -> Progress:
    """``say(step, fraction)``: logs a design step with the seconds since now, and reports it."""
    t_start = time.perf_counter()

    def say(step: str, frac: float) -> None:
        log.info("design: %s (%.0f %%) at %.1f s", step, frac * 100, time.perf_counter() - t_start)
        if progress is not None:
            progress(f"design: {step}", frac)

    return say


def _numbered_territories(k: int) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    """Ids ``T1..Tk`` and equal capacities of ``k`` territories without reps."""
    return tuple(f"T{j + 1}" for j in range(k)), np.ones(k)


def _free_territories(
    k: int | None, n_customers: int
) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    """:func:`_numbered_territories` after checking ``k`` against the customers."""
    if k is None or k < 1:
        raise InputError("territory design without reps needs k >= 1 territories (--k N)")
    if k > n_customers:
        raise InputError(f"k = {k} territories for {n_customers} customers; use k <= {n_customers}")
    return _numbered_territories(k)


def _check_reps(reps: Sequence[Rep]) -> None:
    """A team to design for: at least one rep, every rep with home coordinates."""
    if not reps:
        raise InputError("the reps file lists no reps; give at least one rep or use --k N")
    for r in reps:
        if not (math.isfinite(r.lat) and math.isfinite(r.lon)):
            raise InputError(
                f"reps, row {r.row}: rep '{r.id}' has no home coordinates (lat '{r.lat}', "
                f"lon '{r.lon}'); give lat/lon or an address to geocode"
            )


def _rep_territories(
    reps: Sequence[Rep], config: Config
) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    """One territory per rep: the rep ids and their working minutes in the period."""
    capacity = np.array([rep_capacity_min(r, config) for r in reps], dtype=np.float64)
    return tuple(r.id for r in reps), capacity


def _problem(
    customers: Sequence[Customer],
    territory_ids: tuple[str, ...],
    capacity: NDArray[np.float64],
    workload: CustomerWorkload,
    config: Config,
    travel: TravelModel | None = None,
    *,
    day_min: NDArray[np.float64] | None = None,
) -> _Problem:
    """The arrays of one design problem; targets are proportional to ``capacity``.

    ``travel`` gives every road km (default: the straight-line model of ``config.travel``);
    ``day_min`` the selling minutes of each territory's rep per day (reps only).
    """
    n, k = len(customers), len(territory_ids)
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
    locked, current = locked_and_current(customers, territory_ids)
    wl = np.asarray(workload.workload_min, dtype=np.float64)
    names, values = _balanced_values(customers, wl, config.territory.balance)
    share = capacity / capacity.sum() if capacity.sum() > 0 else np.full(k, 1.0 / k)
    targets = values.sum(axis=1)[:, None] * share[None, :]
    return _Problem(
        lat=lat,
        lon=lon,
        xy=project_km(lat, lon) if n else np.zeros((0, 2)),
        workload_min=wl,
        criteria=names,
        values=values,
        targets=targets,
        tolerance=float(config.territory.tolerance),
        potential=np.array([c.potential for c in customers], dtype=np.float64),
        locked=locked,
        current=current,
        territory_ids=territory_ids,
        points=Points(lat, lon, np.array([c.id for c in customers], dtype=object)),
        travel=travel if travel is not None else crow(config.travel),
        visit_min=np.array([max(c.visit_minutes, 0.0) for c in customers], dtype=np.float64),
        day_min=day_min,
    )


def _selling_day_min(rep: Rep, config: Config) -> float:
    """Minutes a rep can spend driving and visiting on one working day (as the planner's day:
    back home before admin, lunch taken, a part-time day shortened by ``capacity``)."""
    d = config.day
    start = rep.start_min if rep.start_min is not None else d.start_min
    full_end = rep.end_min if rep.end_min is not None else d.end_min
    work = full_end - start - d.lunch_minutes - d.admin_minutes
    end = min(full_end - d.admin_minutes, start + d.lunch_minutes + round(rep.capacity * work))
    return float(max(end - start - d.lunch_minutes, 0))


def locked_and_current(
    customers: Sequence[Customer], territory_ids: tuple[str, ...]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Territory index of each customer's ``locked_rep`` (-1: none) and ``current_rep`` (-1:
    none, -2: a rep that is not one of the territories)."""
    n, k = len(customers), len(territory_ids)
    index = {tid: j for j, tid in enumerate(territory_ids)}
    locked = np.full(n, -1, dtype=np.int64)
    current = np.full(n, -1, dtype=np.int64)
    for i, c in enumerate(customers):
        if c.locked_rep:
            if c.locked_rep not in index:
                raise InputError(
                    f"customers, row {c.row}, column 'locked_rep': '{c.locked_rep}' (customer "
                    f"'{c.id}') is not one of the reps; use one of {', '.join(territory_ids[:10])}"
                    + (" ..." if k > 10 else "")
                )
            locked[i] = index[c.locked_rep]
        if c.current_rep:
            current[i] = index.get(c.current_rep, -2)
    return locked, current


def _balanced_values(
    customers: Sequence[Customer], workload_min: NDArray[np.float64], balance: Sequence[str]
) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    """The balanced criteria and their value per customer, shape (criteria, n).

    A criterion on which every customer has 0 is skipped; with none left, workload (or the
    number of customers when every workload is 0) is balanced.
    """
    n = len(customers)
    rows, names = [], []
    for crit in balance:
        if crit == "workload":
            vals = workload_min
        elif crit == "potential":
            vals = np.array([c.potential for c in customers], dtype=np.float64)
        else:
            vals = np.ones(n)
        if vals.sum() <= 0:
            log.warning("balance on %s skipped: every customer has 0", crit)
            continue
        rows.append(vals)
        names.append(crit)
    if not rows:
        rows, names = [workload_min if workload_min.sum() > 0 else np.ones(n)], ["workload"]
    return tuple(names), np.vstack(rows)


def _previous_territories(
    previous: Sequence[int] | None, prob: _Problem
) -> NDArray[np.int64] | None:
    """``previous`` as an index array, checked: one territory index per customer."""
    if previous is None:
        return None
    prev = np.asarray(previous, dtype=np.int64)
    n, k = prob.n, prob.k
    if prev.shape != (n,) or (n and (prev.min() < 0 or prev.max() >= k)):
        raise InputError(
            f"previous assignment has {prev.size} entries or indices outside 0..{k - 1}; "
            f"give one territory index per customer ({n})"
        )
    return prev


def moved_cap(
    current: NDArray[np.int64], locked: NDArray[np.int64], max_moved: float | None
) -> int | None:
    """Maximum number of customers that may leave their current rep (forced moves included),
    from `locked_and_current`'s indices; None without ``max_moved``."""
    if max_moved is None:
        return None
    has = current != -1
    forced = int(np.sum((current == -2) | ((locked >= 0) & has & (locked != current))))
    return max(math.floor(max_moved * int(has.sum()) + 1e-9), forced)


def _input_notes(prob: _Problem, customers: Sequence[Customer]) -> list[str]:
    """Sentences on what makes balance impossible before any solving (heavy customers, locks)."""
    notes: list[str] = []
    for c in range(len(prob.criteria)):
        if prob.targets[c].max() <= 0:
            continue
        notes += _heavy_customer_notes(prob, customers, c)
        notes += _lock_notes(prob, c)
    return notes


def _heavy_customer_notes(prob: _Problem, customers: Sequence[Customer], c: int) -> list[str]:
    """Customers heavier on criterion ``c`` than the whole band of the lightest territory."""
    crit, vals, tgt = prob.criteria[c], prob.values[c], prob.targets[c]
    width = 2 * prob.tolerance * tgt[tgt > 0].min()
    heavy = np.flatnonzero(vals > width)
    unit = "min" if crit == "workload" else ""
    notes = [
        f"Customer '{customers[i].id}' alone has {crit} {vals[i]:.1f}{unit}, more than the "
        f"whole tolerance band ({width:.1f}{unit}); exact balance may be impossible."
        for i in heavy[:5]
    ]
    if heavy.size > 5:
        notes.append(f"{heavy.size - 5} more customers are heavier than the tolerance band.")
    return notes


def _lock_notes(prob: _Problem, c: int) -> list[str]:
    """Territories whose locked customers alone leave the band on criterion ``c``."""
    crit, vals, tgt, tol = prob.criteria[c], prob.values[c], prob.targets[c], prob.tolerance
    ids = prob.territory_ids
    notes: list[str] = []
    lk = prob.locked >= 0
    lock_load = np.bincount(prob.locked[lk], weights=vals[lk], minlength=prob.k)
    for r in np.flatnonzero(lock_load > tgt * (1 + tol) + 1e-9):
        if tgt[r] <= 0:
            if c == 0:
                n_locked = int(np.sum(prob.locked == r))
                notes.append(
                    f"Rep '{ids[r]}' has no working time in the period: only the "
                    f"{n_locked} customer{'' if n_locked == 1 else 's'} locked to them "
                    f"stay{'s' if n_locked == 1 else ''} theirs."
                )
            continue
        notes.append(
            f"Locked customers of '{ids[r]}' alone have {crit} {lock_load[r]:.1f}, "
            f"{(lock_load[r] / tgt[r] - 1) * 100:+.1f} % against the target {tgt[r]:.1f}; "
            f"the best achievable deviation there is {(lock_load[r] / tgt[r] - 1) * 100:+.1f} %."
        )
    free_total = vals[~lk].sum()
    for t in range(prob.k):
        # even with every free customer, a territory whose locks are too light elsewhere
        need = tgt[t] * (1 - tol) - lock_load[t]
        if need > free_total + 1e-9:
            notes.append(
                f"'{ids[t]}' cannot reach its lower band on {crit}: the locks leave "
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
    """Edges (i < j) of the Delaunay triangulation; None when there is none (< 4 or collinear)."""
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


def _local_spacing(
    n: int, edges: NDArray[np.int64], length: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per point, the length of its third-shortest incident edge (0 for a point without edges)."""
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


def _between_clusters(
    pts: NDArray[np.float64],
    kept: NDArray[np.int64],
    long_: NDArray[np.int64],
    strong: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Keep the shortest long edges between each pair of clusters; the rest stay spare.

    A long edge inside one cluster of the ``strong`` edges (short at both ends) is a shortcut
    over a bay or a lake (the cluster is connected around it) and is dropped. (Clusters of all
    the short edges let one lone customer 20 km from Namur and from Brussels join the two:
    on 100,000 customers around Dutch and Belgian towns the edges from Namur to Charleroi then
    went as shortcuts, Namur's only way out was that customer, and its two reps ended 5-7 %
    under their band; with clusters of the strong edges every territory is within 5 %.)
    Between two clusters (towns apart on land, an island off the coast) the ``_BRIDGES_PER_PAIR`` shortest Delaunay edges are kept, so
    neighbouring towns are joined pairwise; an edge that passes by another town on its way
    (`_passes_by`: along a coast, over the sea) is not a crossing. Joining them only by a
    spanning tree (Kruskal, one
    bridge per town) made the towns a tree: measured on 8,000 customers around 80 Dutch and
    Belgian towns with 120 reps, the design then ended 33 % off its workload band, where with
    the pairwise bridges it holds 5 %, connected.
    """
    n = len(pts)
    if not len(long_):
        return kept, long_
    g = coo_matrix((np.ones(len(strong)), (strong[:, 0], strong[:, 1])), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    a, b = labels[long_[:, 0]], labels[long_[:, 1]]
    between = np.flatnonzero((a != b) & ~_passes_by(pts, long_))
    if not len(between):
        return kept, long_
    # per pair of clusters, its shortest crossings (ties broken by the edge ends)
    lo, hi = np.minimum(a, b)[between], np.maximum(a, b)[between]
    length = np.hypot(*(pts[long_[between, 0]] - pts[long_[between, 1]]).T)
    order = np.lexsort((long_[between, 1], long_[between, 0], length, hi, lo))
    pair = lo[order] * (int(labels.max()) + 1) + hi[order]
    first = np.r_[0, np.flatnonzero(np.diff(pair)) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    keep = np.zeros(len(long_), dtype=bool)
    keep[between[order[rank < _BRIDGES_PER_PAIR]]] = True
    return np.vstack([kept, long_[keep]]), long_[~keep]


#: A long edge passes by a point that sees its two ends at more than this angle (degrees).
_PASS_BY_DEG = 120.0
#: Points along a long edge at which the nearest customer is looked for.
_PASS_BY_SAMPLES = 9


def _passes_by(pts: NDArray[np.float64], edges: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Per edge: whether it passes close by another point (one that sees both ends at more than
    ``_PASS_BY_DEG``): a hull edge of the triangulation along a coast (Ostend to Den Helder
    over the sea, past The Hague) rather than a crossing between neighbouring towns.

    Such an edge is not kept as a bridge between clusters: the towns it passes by join the
    two ends (and `_connect` brings it back if the graph would fall apart without it). Found by
    the nearest point to ``_PASS_BY_SAMPLES`` points along the edge.
    """
    if not len(edges):
        return np.zeros(0, dtype=bool)
    u, v = pts[edges[:, 0]], pts[edges[:, 1]]
    frac = (np.arange(_PASS_BY_SAMPLES) + 1.0) / (_PASS_BY_SAMPLES + 1.0)
    probe = u[:, None, :] + frac[None, :, None] * (v - u)[:, None, :]  # (edges, samples, 2)
    _, w = cKDTree(pts).query(probe.reshape(-1, 2))
    w = np.asarray(w).reshape(len(edges), _PASS_BY_SAMPLES)
    wu = u[:, None, :] - pts[w]
    wv = v[:, None, :] - pts[w]
    norm = np.linalg.norm(wu, axis=2) * np.linalg.norm(wv, axis=2)
    cos = np.einsum("esk,esk->es", wu, wv) / np.maximum(norm, _EPS)
    ends = (w == edges[:, :1]) | (w == edges[:, 1:])
    by = (cos < np.cos(np.radians(_PASS_BY_DEG))) & ~ends
    out: NDArray[np.bool_] = by.any(axis=1)
    return out


def _connect(
    pts: NDArray[np.float64], kept: NDArray[np.int64], spare: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Add ``spare`` edges shortest first where they join components; then bridge any rest."""
    n = len(pts)
    g = coo_matrix((np.ones(len(kept)), (kept[:, 0], kept[:, 1])), shape=(n, n))
    ncomp, labels = connected_components(g, directed=False)
    if ncomp == 1:
        return kept
    # union-find over the components, each starting as its lowest node
    root_of = np.full(ncomp, -1)
    for i in range(n):
        if root_of[labels[i]] < 0:
            root_of[labels[i]] = i
    parent = root_of[labels].copy()

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

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


def _edge_arrays(nbrs: list[list[int]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The neighbourhood graph as arrays of edge ends (each edge in both directions)."""
    src = np.repeat(np.arange(len(nbrs)), [len(x) for x in nbrs])
    dst = np.fromiter((j for x in nbrs for j in x), dtype=np.int64, count=len(src))
    return src, dst


# --------------------------------------------------------------------------------------------
# allocation (transportation problem) and its lower bound


@dataclass(frozen=True)
class _Allocation:
    """A rounded allocation with its relaxed value and lower bound (both weighted mean km)."""

    assignment: NDArray[np.int64]
    lp_value: float
    lower_bound: float
    split: int  # customers the relaxed allocation split over several territories
    priced: NDArray[np.int64] | None = None  # cheapest territory per customer at the prices


@dataclass(frozen=True)
class _Arcs:
    """Candidate (customer, territory) arcs, sorted by customer, with their km costs."""

    customer: NDArray[np.int64]
    territory: NDArray[np.int64]
    km: NDArray[np.float64]  # road km from the customer to the territory's centre
    penalty_km: NDArray[np.float64]  # continuity penalty, in km


@dataclass(frozen=True)
class _AllocationModel:
    """What every solve of one allocation shares: the problem, centres and continuity terms."""

    prob: _Problem
    centres: _Centres
    config: Config
    prev: NDArray[np.int64] | None
    moved_limit: int | None
    ref_km: float  # mean road km to the nearest centre: the unit of the continuity penalties
    use_flow: bool  # workload only: a min-cost flow instead of the LP (when moves are not capped)


class _AssignedDistance:
    """Road km from centres to customers, for given pairs (never n x k at once)."""

    def __init__(self, prob: _Problem, centres: _Centres) -> None:
        self.prob, self.centres = prob, centres
        self.centre_points = centres.points

    def km(self, i: NDArray[np.int64] | int, r: NDArray[np.int64] | int) -> NDArray[np.float64]:
        """Road km from the centre(s) of territory(ies) ``r`` to customer(s) ``i``."""
        shape = np.broadcast(i, r).shape
        ii, rr = (np.broadcast_to(x, shape).ravel() for x in (i, r))
        legs = self.prob.travel.pairs(self.centre_points.take(rr), self.prob.points.take(ii))
        return legs.km.reshape(shape)

    def reachable(self, i: int, r: int) -> bool:
        """Whether territory ``r``'s rep can drive to customer ``i``, visit and come back
        within a working day (always, for free centres)."""
        prob = self.prob
        if prob.day_min is None or prob.visit_min is None:
            return True
        ii, rr = np.array([i]), np.array([r])
        minutes = float(
            prob.travel.pairs(self.centre_points.take(rr), prob.points.take(ii)).minutes[0]
        )
        return 2 * minutes + float(prob.visit_min[i]) <= float(prob.day_min[r])

    def objective(self, assignment: NDArray[np.int64]) -> float:
        """Workload-weighted mean road km from each customer to its territory's centre."""
        w = self.prob.weight
        return float(np.sum(w * self.km(np.arange(self.prob.n), assignment)) / w.sum())


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
    centres: _Centres,
    config: Config,
    *,
    prev: NDArray[np.int64] | None,
    moved_limit: int | None,
    candidates: int | None = None,
) -> _Allocation:
    """Solve the balanced transportation problem on sparse arcs, round, and bound it below."""
    tp = config.territory
    centre_xy = centres.xy(prob)
    ci, ti = _candidate_arcs(prob, centre_xy, candidates or tp.candidates, prev)
    model = _AllocationModel(
        prob,
        centres,
        config,
        prev,
        moved_limit,
        ref_km=_continuity_unit_km(prob, centres, centre_xy),
        use_flow=(
            _ALLOCATOR == "flow" and prob.criteria == ("workload",) and prob.workload_min.sum() > 0
        ),
    )
    tol = prob.tolerance
    # tighten the allocation band a little so rounding the few split customers rarely leaves it
    lp_tol = tol * (_BAND_FACTOR if len(prob.criteria) == 1 else _BAND_FACTOR_MULTI)
    alloc, ci, ti = _solve_priced(model, ci, ti, lp_tol)
    # the bound at the user's own band (valid with every centre allowed, whatever the arcs);
    # with continuity penalties or a cap on moves, from the plain distance problem
    penalised = prev is not None or (
        tp.keep_current_weight > 0 and bool(np.any(prob.current != -1))
    )
    if penalised or moved_limit is not None or not model.use_flow:
        lower = _solve_priced(model, ci, ti, tol, bound_only=True)[0].lower_bound
    else:
        lower = max(alloc.lower_bound, _solve(model, ci, ti, tol).lower_bound)
    return _Allocation(alloc.assignment, alloc.lp_value, lower, alloc.split)


def _continuity_unit_km(prob: _Problem, centres: _Centres, centre_xy: NDArray[np.float64]) -> float:
    """Mean road km from each customer to its nearest centre (at least 1 m).

    Leaving the current (or previous) territory costs like being ``weight`` x this further away.
    """
    _, j = cKDTree(centre_xy).query(prob.xy)
    km = prob.travel.pairs(centres.points.take(j), prob.points).km
    return max(float(np.mean(km)), 1e-3)


def _solve(
    model: _AllocationModel,
    ci: NDArray[np.int64],
    ti: NDArray[np.int64],
    band: float,
    *,
    bound_only: bool = False,
) -> _Allocation:
    """One allocation on the arcs ``(ci, ti)`` within ``band``; ``bound_only``: distance alone.

    The bound is on distance alone, over every balanced split: without continuity penalties
    and without the cap on moves.
    """
    prob, tp = model.prob, model.config.territory
    legs = prob.travel.pairs(model.centres.points.take(ti), prob.points.take(ci))
    km = legs.km
    pen_km = np.zeros(len(ci))
    if not bound_only and prob.day_min is not None and prob.visit_min is not None:
        # a home the rep cannot drive to, visit and come back from within a working day
        # (twice the way out, as the planner's reason says): priced out of the allocation
        unreachable = 2 * legs.minutes + prob.visit_min[ci] > prob.day_min[ti]
        if unreachable.any() and not unreachable.all():
            pen_km += unreachable * _UNREACHABLE_KM_FACTOR * float(km.max(initial=0) + 1)
    if not bound_only:
        if tp.keep_current_weight > 0:
            leave = (prob.current[ci] != -1) & (prob.current[ci] != ti)
            pen_km += leave * tp.keep_current_weight * model.ref_km
        if model.prev is not None:
            pen_km += (model.prev[ci] != ti) * PREVIOUS_WEIGHT * model.ref_km
    arcs = _Arcs(ci, ti, km, pen_km)
    cap = None if bound_only else model.moved_limit
    if model.use_flow and cap is None:
        return _allocate_flow(model, arcs, band)
    if _flow_relaxes(model):
        if bound_only:
            # workload alone relaxes the other criteria: its bound holds for all of them
            return _allocate_flow(model, arcs, band)
        return _allocate_lagrange(model, arcs, band, cap)
    return _allocate_lp(model, arcs, band, cap)


def _flow_relaxes(model: _AllocationModel) -> bool:
    """Whether the min-cost flow can carry this allocation: workload is the first balanced
    criterion (the others and a cap on moves then go into its costs, `_allocate_lagrange`)."""
    prob = model.prob
    return _ALLOCATOR == "flow" and prob.criteria[0] == "workload" and prob.workload_min.sum() > 0


def _solve_priced(
    model: _AllocationModel,
    ci: NDArray[np.int64],
    ti: NDArray[np.int64],
    band: float,
    *,
    bound_only: bool = False,
) -> tuple[_Allocation, NDArray[np.int64], NDArray[np.int64]]:
    """Solve, then add the arcs the prices favour (column generation) and solve again.

    Returns the last allocation and the arcs with those its prices favour (after the last
    round these include arcs it was not solved with: the next solve starts from them).
    """
    n, k = model.prob.n, model.prob.k
    for rnd in range(PRICING_ROUNDS):
        sol = _solve(model, ci, ti, band, bound_only=bound_only)
        if sol.priced is None:
            break
        have = ci * k + ti
        key = np.arange(n) * k + sol.priced
        new = np.unique(key[~np.isin(key, have)])
        if new.size == 0:
            break
        log.info("allocation: %d arcs priced in (round %d)", new.size, rnd + 1)
        key = np.union1d(have, new)
        ci, ti = key // k, key % k
    return sol, ci, ti


def _largest_share(
    n: int, ci: NDArray[np.int64], ti: NDArray[np.int64], key: NDArray[Any]
) -> NDArray[np.int64]:
    """Round a split allocation: each customer to its arc with the smallest ``key`` (ties: the
    lower territory index)."""
    order = np.lexsort((ti, key, ci))
    first = np.r_[True, ci[order][1:] != ci[order][:-1]]
    assignment = np.empty(n, dtype=np.int64)
    assignment[ci[order][first]] = ti[order][first]
    return assignment


def _allocate_lp(
    model: _AllocationModel, arcs: _Arcs, band: float, moved_limit: int | None
) -> _Allocation:
    """The allocation as an LP (HiGHS): any balance criteria and a cap on moved customers."""
    from scipy.optimize import linprog

    prob = model.prob
    n, k, nc = prob.n, prob.k, len(prob.criteria)
    ci, ti = arcs.customer, arcs.territory
    m = len(ci)
    w = prob.weight
    total_w = float(w.sum())
    big = _lp_slack_price(model, arcs.km)
    a_ub, b_ub = _lp_band_rows(prob, arcs, band, moved_limit)
    a_eq = csr_matrix((np.ones(m), (ci, np.arange(m))), shape=(n, a_ub.shape[1]))
    # costs in km x (workload / mean workload): O(1) numbers suit the interior-point method
    cost = w[ci] * arcs.km / total_w
    pen = arcs.penalty_km * w[ci] / total_w
    scale = float(n)
    c_vec = np.concatenate([cost + pen, np.full(2 * nc * k, big)]) * scale
    res = linprog(
        c_vec,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=np.ones(n),
        bounds=(0, None),
        method=_LP_METHOD,
        options={"disp": _LP_DISP},
    )
    if res.status != 0:  # pragma: no cover - the soft band keeps the LP feasible
        log.warning("allocation LP ended with status %s: %s", res.status, res.message)
        return _Allocation(_nearest_allowed(prob, model.centres.xy(prob)), float("nan"), 0.0, 0)
    x = res.x[:m]
    # round: each customer to its largest share (ties to the lower territory index)
    assignment = _largest_share(n, ci, ti, -x)
    split = int(np.sum(np.bincount(ci[x > 1e-7], minlength=n) > 1))
    # Lagrangian bound with the band multipliers of the true tolerance (duals of the LP are
    # feasible multipliers for it too); the distance-only objective, every centre allowed
    lam, const = _lp_multipliers(prob, np.asarray(res.ineqlin.marginals), scale, big)
    lb, priced = _lagrangian_bound(prob, model.centres, lam)
    lb -= const
    return _Allocation(assignment, float(res.fun) / scale, max(float(lb), 0.0), split, priced)


def _allocate_lagrange(
    model: _AllocationModel, arcs: _Arcs, band: float, moved_limit: int | None
) -> _Allocation:
    """Several balance criteria (and a cap on moves) as a min-cost flow with priced side terms.

    Workload is balanced by the flow's own soft band (`_allocate_flow`); every other criterion
    ``c`` gets a price per territory on the arcs, ``lambda_ct x v_ci / target_ct`` (its share of
    the territory's band), and leaving the current rep a price ``mu`` per customer: Lagrangian
    relaxation of the LP's side rows (Fisher 1981), the prices moved by subgradient steps
    (up where a territory is over its band or moves exceed the cap, down where it is under) for
    at most ``_LAGRANGE_ROUNDS`` flows, fewer once the excess is small (``_LAGRANGE_HANDOVER``)
    or two flows in a row gained little (``_LAGRANGE_STALL``).
    The rounded allocation with the least band violation
    (then fewest moves over the cap, then km) is kept; the local search repairs what is left.
    Measured on 4,000 generated customers x 25 territories balanced on workload and customers:
    the LP (HiGHS) took 11 s per solve and the design 59 s, a flow 0.1-0.2 s and the design
    3.8 s (the flow path alone: 3.0 s), every criterion within its band either way.
    """
    prob = model.prob
    n, k = prob.n, prob.k
    ci, ti = arcs.customer, arcs.territory
    net = _flow_network(prob, arcs, band)
    units = np.maximum(net.supply[ci], 1).astype(np.float64)
    side = range(1, len(prob.criteria))
    share = [prob.values[c][ci] / np.maximum(prob.targets[c][ti], 1e-12) for c in side]
    leave = (prob.current[ci] != -1) & (prob.current[ci] != ti)
    # a price of `scale` per unit of band share is about one customer's km cost
    scale = float(np.mean(net.unit_cost * units)) * n / max(k, 1) + 1.0
    step = _LAGRANGE_STEP * scale
    lam_up = np.zeros((len(share), k))
    lam_down = np.zeros((len(share), k))
    mu = 0.0
    best: tuple[tuple[float, int, float], NDArray[np.int64], NDArray[np.int64]] | None = None
    best_excess: list[float] = []  # the best side excess after each flow
    for _ in range(_LAGRANGE_ROUNDS):
        extra = np.zeros(len(ci))
        for c, sh in enumerate(share):
            extra += (lam_up[c] - lam_down[c])[ti] * sh
        extra += mu * leave
        # prices beyond a few times the largest distance change nothing but risk overflow
        bound = 8.0 * float(net.unit_cost.max(initial=0) + 1)
        cost = net.unit_cost + np.rint(np.clip(extra / units, -bound, bound)).astype(np.int64)
        cost -= _per_customer_min(ci, cost, n)[ci]  # each customer's cheapest arc at 0
        priced = replace(net, unit_cost=cost, big=int(2 * cost.max() + 1) if len(cost) else 1)
        flow = _solve_flow(prob, arcs, priced)
        if flow is None:  # pragma: no cover - the soft band keeps it feasible
            break
        assignment = _largest_share(n, ci, ti, np.where(net.supply[ci] > 0, -flow, cost))
        over, under, moved = _side_excess(prob, assignment, band)
        excess = max(0, moved - moved_limit) if moved_limit is not None else 0
        km = float(np.sum(flow * arcs.km) / max(int(net.supply.sum()), 1))
        key = (float(over.sum() + under.sum()), excess, km)
        log.debug("priced flow: side excess %.4f, moves over the cap %d, km %.3f", *key)
        if best is None or key < best[0]:
            best = (key, assignment, flow)
        best_excess.append(best[0][0])
        if excess == 0 and (
            key[0] <= _LAGRANGE_HANDOVER * band * k
            or (
                len(best_excess) > 2 and best_excess[-1] > (1.0 - _LAGRANGE_STALL) * best_excess[-3]
            )
        ):
            break  # near enough, or the prices creep: the local search repairs the rest sooner
        lam_up = np.maximum(0.0, lam_up + step * (over - (over <= 0) * band))
        lam_down = np.maximum(0.0, lam_down + step * (under - (under <= 0) * band))
        if moved_limit is not None:
            mu = max(0.0, mu + step / max(n / max(k, 1), 1.0) * (moved - moved_limit) / k)
        step *= _LAGRANGE_STEP_DECAY
    if best is None:  # pragma: no cover
        return _Allocation(_nearest_allowed(prob, model.centres.xy(prob)), float("nan"), 0.0, 0)
    key, assignment, flow = best
    log.info("allocation: priced flow, side excess %.4f, moves over the cap %d", *key[:2])
    if moved_limit is not None and key[1] > 0:
        assignment = _within_move_cap(model, assignment, moved_limit)
    split = int(np.sum(np.bincount(ci[flow > 0], minlength=n) > 1))
    return _Allocation(assignment, key[2], 0.0, split)


def _within_move_cap(
    model: _AllocationModel, assignment: NDArray[np.int64], moved_limit: int
) -> NDArray[np.int64]:
    """Back to their current rep, the moved customers whose move saves the fewest km, until
    at most ``moved_limit`` are moved (the cap is hard; the local search restores balance)."""
    prob = model.prob
    moved = np.flatnonzero((prob.current >= 0) & (prob.current != assignment))
    excess = len(moved) - max(moved_limit, 0)
    if excess <= 0:
        return assignment
    dist = _AssignedDistance(prob, model.centres)
    saving = dist.km(moved, prob.current[moved]) - dist.km(moved, assignment[moved])
    back = moved[np.lexsort((moved, saving))[:excess]]
    out = assignment.copy()
    out[back] = prob.current[back]
    return out


def _per_customer_min(ci: NDArray[np.int64], cost: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """The cheapest arc cost of each customer (0 for a customer without arcs)."""
    low = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(low, ci, cost)
    return np.where(low == np.iinfo(np.int64).max, 0, low)


def _side_excess(
    prob: _Problem, assignment: NDArray[np.int64], band: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """Per side criterion and territory, the relative load above and below ``band``, and the
    customers away from their current rep."""
    k = prob.k
    over, under = [], []
    for c in range(1, len(prob.criteria)):
        rel = np.bincount(assignment, weights=prob.values[c], minlength=k) / np.maximum(
            prob.targets[c], 1e-12
        )
        over.append(np.maximum(0.0, rel - 1 - band))
        under.append(np.maximum(0.0, 1 - band - rel))
    moved = int(np.sum((prob.current != -1) & (prob.current != assignment)))
    shape = (len(over), k)
    return np.reshape(over, shape), np.reshape(under, shape), moved


def _lp_slack_price(model: _AllocationModel, km: NDArray[np.float64]) -> float:
    """Price of a unit of relative load outside the band: above any distance trade."""
    prob, tp = model.prob, model.config.territory
    return (
        4.0
        * float(km.max() + model.ref_km * (PREVIOUS_WEIGHT + tp.keep_current_weight))
        * float(prob.targets[0].max() / prob.targets[0].sum())
        * prob.k
        + 1.0
    )


def _lp_band_rows(
    prob: _Problem, arcs: _Arcs, band: float, moved_limit: int | None
) -> tuple[csr_matrix, NDArray[np.float64]]:
    """``A_ub x <= b_ub`` of the allocation LP: the soft band per criterion and territory.

    Variables: the arc shares, then per criterion ``c`` the slacks above (block ``2c``) and
    below (block ``2c + 1``) the band of each territory; relative loads are sums of values x
    share / target. With ``moved_limit`` one more row caps the shares on arcs that leave the
    current rep.
    """
    ci, ti = arcs.customer, arcs.territory
    k, nc, m = prob.k, len(prob.criteria), len(ci)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    b_ub: list[NDArray[np.float64]] = []
    nrow = 0
    for c in range(nc):
        tgt = np.maximum(prob.targets[c], 1e-12)
        coef = prob.values[c][ci] / tgt[ti]
        # upper: a - s+ <= 1 + band
        rows += [nrow + ti, nrow + np.arange(k)]
        cols += [np.arange(m), m + (2 * c) * k + np.arange(k)]
        vals += [coef, -np.ones(k)]
        b_ub.append(np.full(k, 1 + band))
        nrow += k
        # lower: -a - s- <= -(1 - band)
        rows += [nrow + ti, nrow + np.arange(k)]
        cols += [np.arange(m), m + (2 * c + 1) * k + np.arange(k)]
        vals += [-coef, -np.ones(k)]
        b_ub.append(np.full(k, -(1 - band)))
        nrow += k
    if moved_limit is not None:
        leave = np.flatnonzero((prob.current[ci] != -1) & (prob.current[ci] != ti))
        rows.append(np.full(leave.size, nrow))
        cols.append(leave)
        vals.append(np.ones(leave.size))
        b_ub.append(np.array([float(moved_limit)]))
        nrow += 1
    a_ub = csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(nrow, m + 2 * nc * k),
    )
    return a_ub, np.concatenate(b_ub)


def _lp_multipliers(
    prob: _Problem, marginals: NDArray[np.float64], scale: float, big: float
) -> tuple[NDArray[np.float64], float]:
    """Band multipliers per criterion and territory from the LP duals, and the bound's constant.

    The duals are feasible multipliers for the band at the user's tolerance too.
    """
    k, nc, tol = prob.k, len(prob.criteria), prob.tolerance
    y = np.clip(-marginals / scale, 0.0, big)
    lam = np.zeros((nc, k))
    const = 0.0
    for c in range(nc):
        yu = y[(2 * c) * k : (2 * c + 1) * k]
        yl = y[(2 * c + 1) * k : (2 * c + 2) * k]
        lam[c] = (yu - yl) / np.maximum(prob.targets[c], 1e-12)
        const += float(np.sum(yu * (1 + tol)) - np.sum(yl * (1 - tol)))
    return lam, const


@dataclass(frozen=True)
class _FlowNetwork:
    """The integer data of a workload-only allocation as a min-cost flow."""

    supply: NDArray[np.int64]  # flow units per customer
    unit_cost: NDArray[np.int64]  # per arc: road metres plus continuity penalty
    big: int  # price of a unit between the bands (twice that above the upper band)
    lo: NDArray[np.int64]  # per territory: the lower band in flow units
    hi: NDArray[np.int64]  # per territory: the upper band in flow units


def _allocate_flow(model: _AllocationModel, arcs: _Arcs, band: float) -> _Allocation:
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
    prob = model.prob
    n = prob.n
    ci, ti = arcs.customer, arcs.territory
    net = _flow_network(prob, arcs, band)
    flow = _solve_flow(prob, arcs, net)
    if flow is None:  # pragma: no cover - the soft band keeps it feasible
        return _Allocation(_nearest_allowed(prob, model.centres.xy(prob)), float("nan"), 0.0, 0)
    # round: each customer to its largest flow; customers without workload to the cheapest arc
    assignment = _largest_share(n, ci, ti, np.where(net.supply[ci] > 0, -flow, net.unit_cost))
    split = int(np.sum(np.bincount(ci[flow > 0], minlength=n) > 1))
    value = float(np.sum(flow * arcs.km) / max(int(net.supply.sum()), 1))
    price_km = _territory_prices_km(prob, arcs, net, flow)  # per workload unit
    tol = prob.tolerance
    t_min = prob.targets[0]
    total_w = float(prob.weight.sum())
    lam = price_km[None, :] / total_w  # per workload minute, over the weighted mean
    const = (
        float(np.sum(np.maximum(price_km * t_min * (1 + tol), price_km * t_min * (1 - tol))))
        / total_w
    )
    lb, priced = _lagrangian_bound(prob, model.centres, lam)
    lb -= const
    return _Allocation(assignment, value, max(float(lb), 0.0), split, priced)


def _flow_network(prob: _Problem, arcs: _Arcs, band: float) -> _FlowNetwork:
    """Supplies, arc costs and band capacities in integer units (see :func:`_allocate_flow`)."""
    unit_cost = np.rint((arcs.km + arcs.penalty_km) * 1000.0).astype(np.int64)
    tgt = prob.targets[0] * _FLOW_PER_MIN
    lo = np.ceil(tgt * (1 - band)).astype(np.int64)
    return _FlowNetwork(
        supply=np.rint(prob.workload_min * _FLOW_PER_MIN).astype(np.int64),
        unit_cost=unit_cost,
        big=int(2 * unit_cost.max() + 1) if len(unit_cost) else 1,
        lo=lo,
        hi=np.maximum(np.floor(tgt * (1 + band)).astype(np.int64), lo),
    )


def _solve_flow(prob: _Problem, arcs: _Arcs, net: _FlowNetwork) -> NDArray[np.int64] | None:
    """The optimal flow on each customer -> territory arc; None if OR-Tools finds none."""
    from ortools.graph.python import min_cost_flow

    n, k = prob.n, prob.k
    ci, ti = arcs.customer, arcs.territory
    total = int(net.supply.sum())
    terr_node = n + np.arange(k)
    sink = n + k
    tails = np.concatenate([ci, terr_node, terr_node, terr_node])
    heads = np.concatenate([n + ti, np.full(3 * k, sink)])
    caps = np.concatenate([net.supply[ci], net.lo, net.hi - net.lo, np.full(k, max(total, 1))])
    costs = np.concatenate(
        [net.unit_cost, np.zeros(k, np.int64), np.full(k, net.big), np.full(k, 2 * net.big)]
    )
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n + k + 1, dtype=np.int64)
    supplies[:n] = net.supply
    supplies[sink] = -total
    mcf.set_nodes_supplies(np.arange(n + k + 1), supplies)
    status = mcf.solve()
    if status != mcf.OPTIMAL:  # pragma: no cover - the soft band keeps it feasible
        log.warning("allocation flow ended with status %s", status)
        return None
    flow: NDArray[np.int64] = mcf.flows(np.arange(len(ci))).astype(np.int64)
    return flow


def _territory_prices_km(
    prob: _Problem, arcs: _Arcs, net: _FlowNetwork, flow: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Territory prices in km per workload unit, complementary slack with the optimal ``flow``.

    Shortest-path distances in the residual graph reduced to the k territories and the sink.
    """
    k = prob.k
    inf = np.iinfo(np.int64).max // 4
    edge = _residual_edges(prob, arcs, net, flow, inf)
    dist = np.zeros(k + 1, dtype=np.int64)
    for _ in range(k + 1):  # Bellman-Ford from a virtual source joined to every node at 0
        cand = np.where(edge < inf, dist[:, None] + edge, inf).min(axis=0)
        new = np.minimum(dist, cand)
        if np.array_equal(new, dist):
            break
        dist = new
    prices: NDArray[np.float64] = ((dist[k] - net.big) - dist[:k]).astype(np.float64) / 1000.0
    return prices


def _residual_edges(
    prob: _Problem, arcs: _Arcs, net: _FlowNetwork, flow: NDArray[np.int64], inf: int
) -> NDArray[np.int64]:
    """Cheapest residual path cost between territories (and the sink, node k); ``inf``: none.

    Territory r reaches territory s through a customer with flow to r and room towards s at
    cost c_s - c_r; the sink segments follow each territory's load against its bands.
    """
    n, k = prob.n, prob.k
    ci, ti = arcs.customer, arcs.territory
    m = len(ci)
    load = np.bincount(ti, weights=flow, minlength=k)
    edge = np.full((k + 1, k + 1), inf, dtype=np.int64)
    deg = np.bincount(ci, minlength=n)
    start = np.r_[0, np.cumsum(deg)[:-1]]
    pos = np.arange(m) - start[ci]  # the arc's rank among its customer's arcs
    for d in range(1, int(deg.max()) if m else 0):
        a_idx = np.flatnonzero(pos + d < deg[ci])
        b_idx = a_idx + d
        for x, y in ((a_idx, b_idx), (b_idx, a_idx)):
            # residual r -> i (flow on x) -> s (room on y): cost c_y - c_x
            ok = (flow[x] > 0) & (flow[y] < net.supply[ci[y]])
            np.minimum.at(edge, (ti[x[ok]], ti[y[ok]]), net.unit_cost[y[ok]] - net.unit_cost[x[ok]])
    big, lo, hi = net.big, net.lo, net.hi
    edge[np.arange(k), k] = np.where(load < lo, 0, np.where(load < hi, big, 2 * big))
    bwd = np.where(load > hi, -2 * big, np.where(load > lo, -big, np.where(load > 0, 0, inf)))
    edge[k, np.arange(k)] = np.minimum(edge[k, np.arange(k)], bwd)
    return edge


def _nearest_allowed(prob: _Problem, centre_xy: NDArray[np.float64]) -> NDArray[np.int64]:
    """Each customer to its nearest centre (locked customers to their own)."""
    _, j = cKDTree(centre_xy).query(prob.xy)
    a = np.asarray(j, dtype=np.int64)
    return np.where(prob.locked >= 0, prob.locked, a)


def _lagrangian_bound(
    prob: _Problem, centres: _Centres, lam: NDArray[np.float64]
) -> tuple[float, NDArray[np.int64]]:
    """sum_i min_r [w_i d_ir / W + sum_c lam_cr v_ci], over all territories (locks respected).

    Also returns the minimising territory of each customer (for pricing out missing arcs).

    Computed in chunks of customers so memory stays O(chunk x k).
    """
    n, k = prob.n, prob.k
    w = prob.weight
    total_w = float(w.sum())
    chunk = max(1, 2_000_000 // max(k, 1))
    total = 0.0
    arg = np.empty(n, dtype=np.int64)
    homes = centres.points
    for s in range(0, n, chunk):
        sl = slice(s, min(n, s + chunk))
        km = prob.travel.matrix(homes, prob.points.take(np.arange(s, sl.stop))).km.T
        val = w[sl, None] * km / total_w
        for c in range(len(lam)):  # criteria without a row of multipliers: 0
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
    prob: _Problem, config: Config, rng: np.random.Generator, say: Progress
) -> _Centres:
    """Weighted k-means++ seeding, then alternate allocation and medoid relocation."""
    centres = _seed_centres(prob, rng)
    for rnd in range(LOCATION_ROUNDS):
        say("placing centres", 0.05 + 0.35 * rnd / LOCATION_ROUNDS)
        alloc = _allocate(
            prob,
            _Centres.of_customers(prob, centres),
            config,
            prev=None,
            moved_limit=None,
            candidates=min(config.territory.candidates, 5),
        )
        new = _medoids(prob, alloc.assignment, centres)
        if np.array_equal(new, centres):
            break
        centres = new
    return _Centres.of_customers(prob, centres)


def place_new_centre(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    workload: CustomerWorkload,
    config: Config,
    *,
    capacity: float = 1.0,
    travel: TravelModel | None = None,
) -> tuple[float, float]:
    """Where one more rep's home helps the team most: the free-centre machinery, homes fixed.

    Hess's alternation (as for free centres) with the reps' homes fixed and one free centre:
    it starts at the customer with the largest workload x squared distance to the nearest home
    (the k-means++ choice, taken deterministically), allocates the balanced transportation
    problem over the ``len(reps) + 1`` territories (the new one with ``capacity``), moves the
    free centre to the weighted medoid of its territory, and repeats until it stays
    (``LOCATION_ROUNDS`` at most).

    Returns
    -------
    lat, lon
        The place (a customer's location, the medoid) in WGS84 degrees.

    Raises
    ------
    InputError
        No reps, a rep without home coordinates, or no customers.
    """
    _check_reps(reps)
    if not customers:
        raise InputError("a new rep's home is placed among the customers; there are none")
    ids, cap = _rep_territories(reps, config)
    new_rep = Rep(id="\x00new", lat=0.0, lon=0.0, capacity=capacity)
    cap = np.append(cap, rep_capacity_min(new_rep, config))
    prob = _problem(customers, (*ids, new_rep.id), cap, workload, config, travel)
    homes = _Centres.of_homes(reps)
    home_xy = homes.xy(prob)
    d2 = cKDTree(home_xy).query(prob.xy)[0] ** 2
    free = np.array([int(np.argmax(prob.weight * d2))], dtype=np.int64)
    fallback = np.zeros(prob.k, dtype=np.int64)
    for _ in range(LOCATION_ROUNDS):
        at = prob.points.take(free)
        centres = _Centres(
            np.concatenate([homes.lat, at.lat]),
            np.concatenate([homes.lon, at.lon]),
            np.concatenate([homes.ids, at.ids]) if homes.ids is not None else None,
        )
        alloc = _allocate(prob, centres, config, prev=None, moved_limit=None)
        fallback[-1] = free[0]
        new = _medoids(prob, alloc.assignment, fallback)[-1:]
        if np.array_equal(new, free):
            break
        free = new
    return float(prob.lat[free[0]]), float(prob.lon[free[0]])


def _seed_centres(prob: _Problem, rng: np.random.Generator) -> NDArray[np.int64]:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) weighted by workload: customer indices."""
    n = prob.n
    w = prob.weight
    first = int(rng.choice(n, p=w / w.sum()))
    idx = [first]
    d2 = np.sum((prob.xy - prob.xy[first]) ** 2, axis=1)
    for _ in range(1, prob.k):
        p = w * d2
        nxt = int(rng.integers(n)) if p.sum() <= 0 else int(rng.choice(n, p=p / p.sum()))
        idx.append(nxt)
        d2 = np.minimum(d2, np.sum((prob.xy - prob.xy[nxt]) ** 2, axis=1))
    return np.array(idx, dtype=np.int64)


def _medoids(
    prob: _Problem, assignment: NDArray[np.int64], fallback: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Weighted medoid of each territory, searched among the 30 customers nearest its mean.

    An empty territory keeps its ``fallback`` customer.
    """
    w = prob.weight
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


# --------------------------------------------------------------------------------------------
# local search on the neighbourhood graph


class _LocalSearch:
    """Contiguity repair, then balance repair and compactness moves of boundary customers.

    Lexicographic descent: first the total band violation (relative, summed over criteria and
    territories), then the workload-weighted distance. A customer only leaves a territory when
    its neighbours there stay connected among themselves (so the territory stays connected) and
    only joins a territory it touches.

    The state (the assignment, each territory's load per criterion, the number of customers
    away from their current rep) changes only through :meth:`apply`. The hot loops read plain
    lists rather than numpy arrays: indexing a list element is several times faster.
    """

    def __init__(
        self,
        prob: _Problem,
        nbrs: list[list[int]],
        assignment: NDArray[np.int64],
        dist: _AssignedDistance,
        *,
        contiguous: bool,
        moved_limit: int | None,
        keep_weight: float,
        prev: NDArray[np.int64] | None,
    ) -> None:
        n, k, nc = prob.n, prob.k, len(prob.criteria)
        self.prob = prob
        self.nbrs = nbrs
        self.nbr_sets = [set(x) for x in nbrs]
        self.src, self.dst = _edge_arrays(nbrs)
        self.dist = dist
        self.contiguous = contiguous
        self.moved_limit = moved_limit
        self.keep_weight = keep_weight
        self.k, self.nc, self.tol = k, nc, prob.tolerance
        self.values: list[list[float]] = [prob.values[c].tolist() for c in range(nc)]
        self.targets: list[list[float]] = [
            [max(t, 1e-12) for t in prob.targets[c].tolist()] for c in range(nc)
        ]
        self.locked: list[int] = prob.locked.tolist()
        self.current: list[int] = prob.current.tolist()
        self.prev: list[int] | None = prev.tolist() if prev is not None else None
        w = prob.weight
        self.weight_share: list[float] = (w / w.sum()).tolist()
        self.overlocked = _overlocked(prob)
        self._km: dict[tuple[int, int], float] = {}
        self._reach: dict[tuple[int, int], bool] = {}
        # the state
        self.assignment = assignment.copy()
        self.territory_of: list[int] = self.assignment.tolist()  # a list mirror of assignment
        self.loads: list[list[float]] = [
            np.bincount(self.assignment, weights=prob.values[c], minlength=k).tolist()
            for c in range(nc)
        ]
        self.moved = sum(
            1 for i in range(n) if self.current[i] != -1 and self.current[i] != self.territory_of[i]
        )
        # unit of the continuity penalties: the mean road km to the allocated centre
        self.ref_km = float(np.mean(dist.km(np.arange(n), self.assignment))) or 1.0

    # ---- the search

    def run(self) -> NDArray[np.int64]:
        """Search to a local optimum; returns the improved assignment."""
        for rnd in range(_SEARCH_ROUNDS):
            if self.contiguous:
                self.repair_contiguity(strict=rnd < _STRICT_ROUNDS)
            self.balance_and_compact(rnd)
            if not self.contiguous or _fragments_left(self.nbrs, self.assignment, self.locked) == 0:
                break
        # balance still off (several criteria, heavy customers): pairs of moves, then descent
        for _ in range(LOCAL_SEARCH_PASSES):
            if self.total_violation() <= _EPS:
                break
            if not (self.swap_sweep(repair=True) + self.sweep("descent")):
                break
        if self.total_violation() <= _EPS:
            for _ in range(LOCAL_SEARCH_PASSES):
                if not (self.swap_sweep() + self.sweep("descent")):
                    break
        return self.assignment

    def repair_contiguity(self, *, strict: bool) -> None:
        """Let every fragment that is not its territory's main piece join a neighbour.

        With ``strict``, never one that is already over its band.
        """
        for _ in range(_MERGE_PASSES):
            if not self.merge_fragments(strict=strict):
                break

    def balance_and_compact(self, rnd: int) -> None:
        """Balance, then compactness: lexicographic descent over boundary customers, with a
        diffusion step (squared deviation) when single moves cannot reduce the violation."""
        modes: tuple[_SweepMode, ...] = ("descent", "diffuse", "descent")
        for mode in modes:
            for pass_ in range(LOCAL_SEARCH_PASSES):
                moves = self.sweep(mode, depth=2 + pass_)  # diffusion reaches further each pass
                log.info(
                    "local search round %d %s pass %d: %d moves, violation %.4f",
                    rnd,
                    mode,
                    pass_,
                    moves,
                    self.total_violation(),
                )
                if not moves:
                    break
                if mode == "diffuse" and self.total_violation() <= _EPS:
                    break
            if mode == "descent" and self.total_violation() <= _EPS:
                break  # balanced: the compactness descent has run to a local optimum

    # ---- single moves

    def sweep(self, mode: _SweepMode, depth: int = 2) -> int:
        """One pass over the boundary customers; returns the number of moves made.

        ``descent`` moves a customer where the violation falls, or stays and the distance
        falls; ``diffuse`` spreads load along chains of territories (no new violation, squared
        deviation down), only within ``depth`` steps of a territory out of band.
        """
        moves = 0
        active = self.near_violation(depth) if mode == "diffuse" else None
        for i in self.boundary():
            s = self.territory_of[i]
            t = self.best_move(i, s, mode, active)
            if t is None or not self.within_cap(i, s, t):
                continue
            if self.contiguous and not self.removable(i, s):
                continue
            self.apply(i, t)
            moves += 1
        return moves

    def best_move(self, i: int, s: int, mode: _SweepMode, active: set[int] | None) -> int | None:
        """The neighbouring territory customer ``i`` should move to from ``s``, if any."""
        best_key: tuple[float, float] | None = None
        best_t = -1
        for t in sorted({self.territory_of[j] for j in self.nbrs[i]} - {s}):
            if active is not None and s not in active and t not in active:
                continue  # diffuse only around the territories out of band
            if not self.reachable(i, t):
                continue
            dv, dc = self.move_delta(i, s, t)
            if mode == "descent":
                ok = dv < -1e-9 or (dv <= _EPS and dc < -1e-12)
                key = (dv, dc)
            else:
                if dv > _EPS:
                    continue
                dq = self.squared_delta(i, s, t)
                ok = dq < -1e-9
                key = (dq, dc)
            if ok and (best_key is None or key < best_key):
                best_key, best_t = key, t
        return None if best_key is None else best_t

    def near_violation(self, depth: int = 2) -> set[int]:
        """Territories out of band and those within ``depth`` steps of them (adjacency)."""
        loads = self.loads
        out = {
            r
            for r in range(self.k)
            for c in range(self.nc)
            if self.violation(c, r, loads[c][r]) > _EPS
        }
        a, src, dst = self.assignment, self.src, self.dst
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

    # ---- pairs of moves

    def swap_sweep(self, *, repair: bool = False) -> int:
        """Pairs of moves i: s -> t and j: t -> s that the band blocks one at a time.

        With ``repair``, any pair that lowers the band violation (a heavy customer for a light
        one, or one that trades workload for customers when several criteria are balanced).
        Returns the number of swaps made.
        """
        swaps = 0
        for i in self.boundary():
            swaps += self.swap_from(i, repair=repair)
        return swaps

    def swap_from(self, i: int, *, repair: bool) -> int:
        """Swap customer ``i`` with a partner in a neighbouring territory; 1 if it did."""
        s = self.territory_of[i]
        for t in sorted({self.territory_of[j] for j in self.nbrs[i]} - {s}):
            dv_i, dc_i = self.move_delta(i, s, t)
            if not repair and (dc_i >= -1e-12 or dv_i <= 1e-9):
                continue  # not blocked, or not worth it
            j = self.swap_partner(i, s, t, dc_i, repair=repair)
            if j is not None and self.try_swap(i, j, s, t):
                return 1
        return 0

    def swap_partner(self, i: int, s: int, t: int, dc_i: float, *, repair: bool) -> int | None:
        """The customer of ``t`` (near ``i`` and touching ``s``) best swapped with ``i``."""
        terr, nbrs, values = self.territory_of, self.nbrs, self.values
        partners = sorted(
            {u for u in nbrs[i] if terr[u] == t}
            | {x for u in nbrs[i] if terr[u] == t for x in nbrs[u] if terr[x] == t}
        )
        best_key: tuple[float, ...] | None = None
        best_j = -1
        for j in partners:
            if self.locked[j] >= 0 or not any(terr[x] == s for x in nbrs[j] if x != i):
                continue
            dv = 0.0
            for c in range(self.nc):
                dv += self.shift_violation(c, s, t, values[c][i] - values[c][j])
            dc = dc_i + self.cost(j, s) - self.cost(j, t)
            key: tuple[float, ...]
            if repair:
                ok, key = dv < -1e-9, (dv, dc)
            else:
                ok, key = dv <= _EPS and dc < -1e-12, (dc,)
            if ok and (best_key is None or key < best_key):
                best_key, best_j = key, j
        return None if best_key is None else best_j

    def try_swap(self, i: int, j: int, s: int, t: int) -> bool:
        """Move ``i`` to ``t`` and ``j`` to ``s`` if both moves keep the cap and contiguity."""
        if not (self.within_cap(i, s, t) and (not self.contiguous or self.removable(i, s))):
            return False
        if not (self.reachable(i, t) and self.reachable(j, s)):
            return False
        self.apply(i, t)
        if self.within_cap(j, t, s) and (not self.contiguous or self.removable(j, t)):
            self.apply(j, s)
            return True
        self.apply(i, s)  # undo: the state before was connected
        return False

    # ---- fragments

    def merge_fragments(self, *, strict: bool) -> bool:
        """Give every fragment without locked customers to the neighbouring territory that
        suits best; returns whether any moved.

        A fragment is a connected piece of a territory other than its main piece (the one with
        the most workload; ties: the lowest label). Lightest fragments go first.
        """
        a = self.assignment
        ncomp, labels = _components(self.nbrs, a)
        if ncomp == len(set(a.tolist())):
            return False
        comp_w = np.bincount(labels, weights=self.prob.workload_min + 1e-9, minlength=ncomp)
        comp_terr = np.zeros(ncomp, dtype=np.int64)
        comp_terr[labels] = a
        main = _main_pieces(comp_terr, comp_w)
        members: dict[int, list[int]] = {}
        for i, lab in enumerate(labels.tolist()):
            if lab != main[int(a[i])]:
                members.setdefault(lab, []).append(i)
        changed = False
        for lab in sorted(members, key=lambda x: (comp_w[x], x)):
            group = members[lab]
            t = self.fragment_destination(group, labels, main, strict=strict)
            if t is None:
                continue
            for i in group:
                self.apply(i, t)
            changed = True
        return changed

    def fragment_destination(
        self, group: list[int], labels: NDArray[np.int64], main: dict[int, int], *, strict: bool
    ) -> int | None:
        """The touching territory the fragment ``group`` should join, if any.

        Preferred: one whose main piece it touches, then the least band violation, then the
        least distance. Never one that the move pushes further over its band when ``strict``
        or when its locks alone exceed the band: the fragment then stays and is reported.
        """
        terr, nbrs = self.territory_of, self.nbrs
        s = terr[group[0]]
        if any(self.locked[i] >= 0 for i in group) or any(terr[i] != s for i in group):
            return None
        touch = sorted({terr[j] for i in group for j in nbrs[i]} - {s})
        group_load = [sum(self.values[c][i] for i in group) for c in range(self.nc)]
        best: tuple[bool, bool, float, float, int] | None = None
        for t in touch:
            if not self.group_within_cap(group, s, t):
                continue
            dv = sum(self.shift_violation(c, s, t, group_load[c]) for c in range(self.nc))
            touches_main = any(labels[j] == main.get(t, -1) for i in group for j in nbrs[i])
            dc = sum(self.cost(i, t) - self.cost(i, s) for i in group)
            if (strict or self.overlocked[t]) and dv > 1e-12 and self.over_band(t):
                continue
            unreachable = not all(self.reachable(i, t) for i in group)
            key = (unreachable, not touches_main, dv, dc, t)
            if best is None or key < best:
                best = key
        return None if best is None else best[4]

    # ---- the state

    def apply(self, i: int, t: int) -> None:
        """Move customer ``i`` to territory ``t``: the one place the state changes."""
        s = self.territory_of[i]
        for c in range(self.nc):
            self.loads[c][s] -= self.values[c][i]
            self.loads[c][t] += self.values[c][i]
        cur = self.current[i]
        if cur != -1:
            self.moved += (cur != t) - (cur != s)
        self.assignment[i] = t
        self.territory_of[i] = t

    def boundary(self) -> list[int]:
        """Free customers with a neighbour in another territory, in index order."""
        a, src, dst = self.assignment, self.src, self.dst
        cut = np.zeros(self.prob.n, dtype=bool)
        cut[src[a[src] != a[dst]]] = True
        cut &= self.prob.locked < 0
        boundary: list[int] = np.flatnonzero(cut).tolist()
        return boundary

    def removable(self, i: int, t: int) -> bool:
        """Whether ``i``'s neighbours in territory ``t`` stay connected among themselves
        without ``i`` (so ``t`` stays connected when ``i`` leaves it)."""
        terr = self.territory_of
        same = [j for j in self.nbrs[i] if terr[j] == t]
        if len(same) <= 1:
            return True
        seen = {same[0]}
        todo = [same[0]]
        rest = set(same)
        while todo:
            u = todo.pop()
            for v in self.nbr_sets[u]:
                if v in rest and v not in seen:
                    seen.add(v)
                    todo.append(v)
        return len(seen) == len(same)

    def within_cap(self, i: int, s: int, t: int) -> bool:
        """Whether moving ``i`` from ``s`` to ``t`` keeps the cap on moved customers."""
        cur = self.current[i]
        if self.moved_limit is None or cur == -1:
            return True
        return self.moved + (cur != t) - (cur != s) <= self.moved_limit

    def group_within_cap(self, group: list[int], s: int, t: int) -> bool:
        """Whether moving all of ``group`` from ``s`` to ``t`` keeps the cap on moved customers."""
        if self.moved_limit is None:
            return True
        current = self.current
        delta = sum((current[i] != t) - (current[i] != s) for i in group if current[i] != -1)
        return self.moved + delta <= self.moved_limit

    # ---- costs

    def violation(self, c: int, r: int, load: float) -> float:
        """Relative distance of ``load`` outside territory ``r``'s band on criterion ``c``."""
        q = load / self.targets[c][r]
        return max(0.0, q - 1 - self.tol) + max(0.0, 1 - self.tol - q)

    def total_violation(self) -> float:
        """Band violation summed over criteria and territories."""
        loads = self.loads
        return sum(self.violation(c, r, loads[c][r]) for c in range(self.nc) for r in range(self.k))

    def over_band(self, t: int) -> bool:
        """Whether territory ``t`` is above its band on any criterion."""
        factor = 1 + self.prob.tolerance
        return any(self.loads[c][t] > self.targets[c][t] * factor for c in range(self.nc))

    def shift_violation(self, c: int, s: int, t: int, load: float) -> float:
        """Change of the violation on criterion ``c`` when ``load`` moves from ``s`` to ``t``."""
        ls, lt = self.loads[c][s], self.loads[c][t]
        return (
            self.violation(c, s, ls - load)
            + self.violation(c, t, lt + load)
            - self.violation(c, s, ls)
            - self.violation(c, t, lt)
        )

    def move_delta(self, i: int, s: int, t: int) -> tuple[float, float]:
        """Change of (violation, cost) when customer ``i`` moves from ``s`` to ``t``."""
        dv = 0.0
        for c in range(self.nc):
            dv += self.shift_violation(c, s, t, self.values[c][i])
        return dv, self.cost(i, t) - self.cost(i, s)

    def squared_delta(self, i: int, s: int, t: int) -> float:
        """Change of the squared relative deviations of ``s`` and ``t`` when ``i`` moves."""
        d = 0.0
        for c in range(self.nc):
            v = self.values[c][i]
            load, tgt = self.loads[c], self.targets[c]
            ts, tt = tgt[s], tgt[t]
            d += ((load[s] - v) / ts - 1) ** 2 + ((load[t] + v) / tt - 1) ** 2
            d -= (load[s] / ts - 1) ** 2 + (load[t] / tt - 1) ** 2
        return d

    def reachable(self, i: int, r: int) -> bool:
        """Whether ``r``'s rep reaches customer ``i`` and back within a day (cached)."""
        key = (i, r)
        v = self._reach.get(key)
        if v is None:
            v = self.dist.reachable(i, r)
            self._reach[key] = v
        return v

    def km(self, i: int, r: int) -> float:
        """Road km from customer ``i`` to territory ``r``'s centre (cached)."""
        key = (i, r)
        v = self._km.get(key)
        if v is None:
            v = float(self.dist.km(i, r))
            self._km[key] = v
        return v

    def cost(self, i: int, r: int) -> float:
        """Customer ``i``'s share of the objective in territory ``r``, continuity included."""
        share = self.weight_share[i]
        c_ = share * self.km(i, r)
        cur = self.current[i]
        if self.keep_weight > 0 and cur not in (-1, r):
            c_ += self.keep_weight * self.ref_km * share
        if self.prev is not None and self.prev[i] != r:
            c_ += PREVIOUS_WEIGHT * self.ref_km * share
        return c_


def _overlocked(prob: _Problem) -> NDArray[np.bool_]:
    """Territories whose locked customers alone exceed the band on some criterion."""
    lk = prob.locked >= 0
    out = np.zeros(prob.k, dtype=bool)
    for c in range(len(prob.criteria)):
        lock_load = np.bincount(prob.locked[lk], weights=prob.values[c][lk], minlength=prob.k)
        out |= lock_load > prob.targets[c] * (1 + prob.tolerance)
    return out


def _components(nbrs: list[list[int]], a: NDArray[np.int64]) -> tuple[int, NDArray[np.int64]]:
    """Connected pieces of each territory: components of the same-territory subgraph."""
    n = len(nbrs)
    if n == 0:
        return 0, np.zeros(0, dtype=np.int64)
    src, dst = _edge_arrays(nbrs)
    same = a[src] == a[dst]
    g = coo_matrix((np.ones(int(same.sum())), (src[same], dst[same])), shape=(n, n))
    ncomp, labels = connected_components(g, directed=False)
    return ncomp, labels.astype(np.int64)


def _main_pieces(comp_terr: NDArray[np.int64], size: NDArray[Any]) -> dict[int, int]:
    """Territory -> its main piece: the component with the largest ``size`` (ties: lowest)."""
    main: dict[int, int] = {}
    for comp in np.lexsort((np.arange(len(size)), -size)):
        main.setdefault(int(comp_terr[comp]), int(comp))
    return main


def _fragments_left(nbrs: list[list[int]], a: NDArray[np.int64], locked: list[int]) -> int:
    """Customers in pieces other than their territory's largest that hold no locked customer."""
    ncomp, labels = _components(nbrs, a)
    if ncomp == len(set(a.tolist())):
        return 0
    size = np.bincount(labels, minlength=ncomp)
    comp_terr = np.zeros(ncomp, dtype=np.int64)
    comp_terr[labels] = a
    has_lock = np.zeros(ncomp, dtype=bool)
    has_lock[labels[np.asarray(locked) >= 0]] = True
    main = _main_pieces(comp_terr, size)
    return int(
        sum(size[c] for c in range(ncomp) if main[int(comp_terr[c])] != c and not has_lock[c])
    )


# --------------------------------------------------------------------------------------------
# KPIs


def _kpis(
    prob: _Problem,
    nbrs: list[list[int]],
    a: NDArray[np.int64],
    *,
    objective: float,
    lower_bound: float,
    input_notes: list[str],
    moved_limit: int | None,
) -> DesignKpis:
    """The KPIs of the division ``a`` with its ``objective`` and ``lower_bound`` (km)."""
    k, n, tol = prob.k, prob.n, prob.tolerance
    wl_load = _sum_by_territory(a, prob.workload_min, k)
    cap_share = prob.targets[0] / max(prob.targets[0].sum(), 1e-12)
    wl_target = prob.workload_min.sum() * cap_share
    dev = relative_deviation(wl_load, wl_target)
    devs = [
        relative_deviation(_sum_by_territory(a, prob.values[c], k), prob.targets[c])
        for c in range(len(prob.criteria))
    ]
    max_dev = {crit: float(np.max(np.abs(d))) for crit, d in zip(prob.criteria, devs, strict=True)}
    counts = np.bincount(a, minlength=k)
    pieces = _pieces(nbrs, a, k)
    connected = pieces <= 1
    moved_in, moved_out = _moves(prob, a)
    moved = int(moved_in.sum())  # every customer that moved joins one territory
    return DesignKpis(
        balanced=prob.criteria,
        max_workload_deviation=float(np.max(np.abs(dev))) if k else 0.0,
        max_potential_deviation=max_dev.get("potential"),
        max_customers_deviation=max_dev.get("customers"),
        tolerance=tol,
        within_tolerance=all(bool(np.all(np.abs(d) <= tol + 1e-9)) for d in devs),
        connected_share=float(counts[connected].sum() / n) if n else 1.0,
        territories_connected=int(np.sum(connected)),
        moved=moved,
        objective=objective,
        lower_bound=lower_bound,
        objective_ratio=objective / lower_bound if lower_bound > 1e-12 else None,
        infeasible_notes=tuple(
            input_notes + _outcome_notes(prob, devs, connected, moved, moved_limit)
        ),
        workload_min=tuple(round(float(x), 3) for x in wl_load),
        target_min=tuple(round(float(x), 3) for x in wl_target),
        deviation=tuple(round(float(x), 5) for x in dev),
        customers=tuple(int(x) for x in counts),
        connected=tuple(bool(x) for x in connected),
        pieces=tuple(int(x) for x in pieces),
        potential=tuple(round(float(x), 2) for x in _sum_by_territory(a, prob.potential, k)),
        moved_in=tuple(int(x) for x in moved_in),
        moved_out=tuple(int(x) for x in moved_out),
    )


def _empty_kpis(prob: _Problem, input_notes: list[str]) -> DesignKpis:
    """The KPIs of a division of no customers: balanced, connected, nothing to bound."""
    no_customers = np.zeros(0, dtype=np.int64)
    return _kpis(
        prob,
        [],
        no_customers,
        objective=0.0,
        lower_bound=0.0,
        input_notes=input_notes,
        moved_limit=None,
    )


def _sum_by_territory(
    a: NDArray[np.int64], weights: NDArray[np.float64], k: int
) -> NDArray[np.float64]:
    """Sum of ``weights`` per territory of the division ``a``."""
    return np.bincount(a, weights=weights, minlength=k).astype(np.float64, copy=False)


def _pieces(nbrs: list[list[int]], a: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """Number of connected pieces of each territory."""
    ncomp, labels = _components(nbrs, a)
    comp_terr = np.zeros(ncomp, dtype=np.int64)
    comp_terr[labels] = a
    pieces = np.zeros(k, dtype=np.int64)
    np.add.at(pieces, comp_terr, 1)
    return pieces


def _moves(prob: _Problem, a: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per territory: customers that join it from another current rep, and that leave it."""
    changed = np.flatnonzero((prob.current != -1) & (prob.current != a))
    moved_in = np.zeros(prob.k, dtype=np.int64)
    np.add.at(moved_in, a[changed], 1)
    moved_out = np.zeros(prob.k, dtype=np.int64)
    from_team = changed[prob.current[changed] >= 0]
    np.add.at(moved_out, prob.current[from_team], 1)
    return moved_in, moved_out


def band_note(territory: str, criterion: str, deviation: float, tolerance: float) -> str:
    """The design's note on a territory outside the band of one criterion (`is_band_note`)."""
    return (
        f"Territory '{territory}' ends at {deviation * 100:+.1f} % {criterion} "
        f"against its target (band +/-{tolerance * 100:g} %): the best found under the locks, "
        "the contiguity and the limits on moves."
    )


def is_band_note(note: str, criterion: str) -> bool:
    """Whether ``note`` is a `band_note` on ``criterion``."""
    return note.startswith("Territory '") and f" % {criterion} against its target (band " in note


def _outcome_notes(
    prob: _Problem,
    devs: list[NDArray[np.float64]],
    connected: NDArray[np.bool_],
    moved: int,
    moved_limit: int | None,
) -> list[str]:
    """Sentences on where the division misses the criteria: band, pieces, cap on moves.

    ``devs`` holds the relative deviation per balanced criterion and territory.
    """
    notes = []
    tol = prob.tolerance
    for crit, dev in zip(prob.criteria, devs, strict=True):
        for r in np.flatnonzero(np.abs(dev) > tol + 1e-9):
            notes.append(band_note(prob.territory_ids[r], crit, float(dev[r]), tol))
    bad = [prob.territory_ids[r] for r in np.flatnonzero(~connected)]
    if bad:
        notes.append(
            f"{len(bad)} territor{'y is' if len(bad) == 1 else 'ies are'} not one connected "
            f"piece ({', '.join(bad[:10])}"
            f"{' ...' if len(bad) > 10 else ''}): locked customers or a coastline separate them."
        )
    if moved_limit is not None and moved > moved_limit:
        notes.append(f"{moved} customers change rep, above the limit of {moved_limit}.")
    return notes
