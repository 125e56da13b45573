"""Routing stage: one day's routes for a rep or a small fleet (compiled search, PyVRP, OR-Tools).

Callers hand in integer matrices over one small set of nodes (node 0 = the rep's home) and get
node lists and honest times back; solver indices never leave this module (and
``routing_pyvrp``, the only module that imports PyVRP).

Which solver does what:

* **A compiled search of our own** (`routing_day`, numba) orders a rep's day whose stops are
  all required (one vehicle, the lunch break, the deterministic budget; up to ~30 stops; the
  planner's days have optional stops and go to PyVRP): an iterated local search that may cross
  days with time warp at a penalty.
* **PyVRP** (iterated local search, `routing_pyvrp`) searches the order otherwise: for one
  vehicle with the lunch break (modelled by break copies, see that module; the planner's days,
  whose stops are optional, and the fallback of the compiled search) and for a fleet without a
  break (Solomon-style VRPTW). Deterministic for a seed with an iteration budget
  (`default_iterations`; a rep's day with a break: `ONE_ROUTE_TUNING`), or timed for
  benchmarks.
* **OR-Tools' routing library** takes over where PyVRP's best order does not keep the rep's
  real day (the break may start while driving, which the copies do not express; a short budget
  can end on time warp), warm-started from that order; it alone serves several vehicles with
  a break, and ``search="ortools"`` runs it alone (the previous default, kept for benchmarks).
  The design stage uses OR-Tools' min-cost flow.
* Up to five stops on one vehicle are solved exactly by enumeration (faster than either).

The OR-Tools model is the vehicle routing problem with time windows (VRPTW) as solved by OR-Tools'
routing library: whole matrices registered with ``RegisterTransitMatrix``, a time dimension
whose transit is ``service(i) + travel(i, j)``, a lunch break as a break interval, optional
capacity, and stops that may stay unscheduled at a penalty through disjunctions. Times in the
result are recomputed here from the route order (``_schedule``): the shortest day the order
allows (latest departure, earliest return), with the break placed before departure, on a leg,
or after return.

OR-Tools' deterministic search: parallel cheapest insertion (it finds first solutions
under tight windows where path-cheapest-arc finds none), then guided local search bounded by a
solution count, never by the clock (two half-budget runs, the second from local cheapest
insertion; the better is kept); equal requests give equal results on any machine.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

log = logging.getLogger(__name__)

_BOOL_FALSE = 2  # operations_research.OptionalBoolean.BOOL_FALSE
_PARALLEL_CHEAPEST_INSERTION = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
_LOCAL_CHEAPEST_INSERTION = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION

__all__ = [
    "ONE_ROUTE_SEARCH",
    "ONE_ROUTE_TUNING",
    "PyvrpTuning",
    "RouteRequest",
    "RouteResult",
    "check_route",
    "default_iterations",
    "default_solution_limit",
    "evaluate_routes",
    "route_cost",
    "solve_routes",
]


@dataclass(frozen=True)
class RouteRequest:
    """One routing problem over a small node set; node 0 is the depot (the rep's home).

    Attributes
    ----------
    duration_s
        (N, N) travel seconds.
    service_s
        (N,) service seconds, 0 for the depot.
    window_s
        (N, 2) [earliest, latest] start of service in seconds; row 0 is the depot's
        [day start, day end] (leave no earlier than the start, be back no later than the end).
    cost
        (N, N) arc cost (default: ``duration_s``), e.g. metres.
    vehicles
        Number of vehicles (routes) available.
    demand, capacity
        (N,) demand per node and the capacity per vehicle; both or neither.
    max_route_s
        Limit on each route's duration from departure to return, seconds.
    break_s
        (earliest start, latest start, duration) of one break per vehicle, seconds.
    unscheduled_penalty
        (N,) when given, a stop may stay unscheduled at this cost (index 0 ignored).
    time_limit_s
        None (default) searches deterministically with limits counted in solutions, so equal
        requests give equal results on any machine; a number runs guided local search for that
        many seconds (for benchmarks).
    initial_routes
        A warm start: node ids per vehicle (depot excluded).
    seed
        Seed of the compiled day search or PyVRP's (OR-Tools' search is deterministic
        without one).
    solution_limit
        Search effort in the deterministic mode: the iterations of the compiled day search
        (`routing_day.DaySearch.iterations` when None) or PyVRP's (`default_iterations` when
        None) and, where OR-Tools searches, how many solutions (accepted local-search
        moves) guided local search may visit (`default_solution_limit` when None). With
        ``time_limit_s`` it is an extra stop rule for OR-Tools.
    """

    duration_s: NDArray[np.int64]
    service_s: NDArray[np.int64]
    window_s: NDArray[np.int64]
    cost: NDArray[np.int64] | None = None
    vehicles: int = 1
    demand: NDArray[np.int64] | None = None
    capacity: int | None = None
    max_route_s: int | None = None
    break_s: tuple[int, int, int] | None = None
    unscheduled_penalty: NDArray[np.int64] | None = None
    time_limit_s: float | None = None
    initial_routes: tuple[tuple[int, ...], ...] | None = None
    seed: int = 0
    solution_limit: int | None = None


@dataclass(frozen=True)
class RouteResult:
    """The routes found, with honest times in seconds.

    Attributes
    ----------
    routes
        Per vehicle, the stop node ids in visiting order (depot excluded).
    arrival_s
        Per vehicle, arrival time at each stop (leaving the previous place as soon as its
        service ends, a break taken on the way adds its duration).
    start_s
        Per vehicle, service start at each stop (>= arrival, inside the window).
    depart_s, return_s
        Per vehicle, departure from and return to the depot (equal for an unused vehicle).
    break_start_s
        Per vehicle, the start of the break (None when no break was asked or the vehicle is
        unused).
    unscheduled
        Node ids not visited, ascending.
    cost
        Sum of the arc costs of the routes (without unscheduled penalties).
    feasible
        False when no solution was found; then every stop is unscheduled.
    """

    routes: tuple[tuple[int, ...], ...]
    arrival_s: tuple[tuple[int, ...], ...]
    start_s: tuple[tuple[int, ...], ...]
    depart_s: tuple[int, ...]
    return_s: tuple[int, ...]
    break_start_s: tuple[int | None, ...]
    unscheduled: tuple[int, ...]
    cost: int
    feasible: bool


# --------------------------------------------------------------------------------------------
# Solving


#: Local-search operators switched off in the deterministic default: the insertion-based LNS
#: operators run sub-searches under ``lns_time_limit`` (wall clock), and the pair/subtrip
#: operators serve pickup-and-delivery models only.
_NONDETERMINISTIC_OR_UNUSED_OPERATORS = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
    "use_global_cheapest_insertion_expensive_chain_lns",
    "use_local_cheapest_insertion_expensive_chain_lns",
    "use_global_cheapest_insertion_close_nodes_lns",
    "use_local_cheapest_insertion_close_nodes_lns",
    "use_path_lns",
    "use_full_path_lns",
    "use_tsp_lns",
    "use_inactive_lns",
    "use_relocate_pair",
    "use_light_relocate_pair",
    "use_exchange_pair",
    "use_relocate_subtrip",
    "use_exchange_subtrip",
)

#: Growth of the solution budget when a deterministic search leaves mandatory stops out.
_ESCALATION = 4

#: Guard against guided local search churning without progress: CP branches per solution.
_BRANCHES_PER_SOLUTION = 20

#: Up to this many stops, a single-vehicle request is solved exactly by enumeration.
_EXACT_MAX_STOPS = 5


def _search_parameters(request: RouteRequest, n_stops: int) -> Any:
    """OR-Tools search parameters: deterministic by default, timed when asked."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    # Parallel cheapest insertion finds first solutions under tight windows where
    # PATH_CHEAPEST_ARC finds none (measured on Solomon R101/R105/RC101).
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    if request.time_limit_s is not None:
        params.time_limit.FromMilliseconds(max(1, round(request.time_limit_s * 1000)))
        if request.solution_limit is not None:
            params.solution_limit = int(request.solution_limit)
    else:
        # Deterministic budget: counted in solutions, never in seconds.
        operators = params.local_search_operators
        for name in _NONDETERMINISTIC_OR_UNUSED_OPERATORS:
            setattr(operators, name, _BOOL_FALSE)
        params.solution_limit = (
            int(request.solution_limit)
            if request.solution_limit is not None
            else default_solution_limit(n_stops)
        )
    return params


def default_solution_limit(n_stops: int) -> int:
    """Solutions guided local search may visit in the deterministic default.

    One solution is one accepted local-search move. Measured with scripts/bench_routes.py
    (synthetic rep days with windows and a lunch break, OR-Tools 9.15, CPU time on a shared
    2-core machine): about 15 ms at 5 stops, 30 ms at 10, 60 ms at 15, 110 ms at 20 and
    400 ms at 30, within 0.5 % (10-15 stops) to 2 % (20 stops) of a 1000-solution search.
    Pass ``RouteRequest.solution_limit`` to trade time for quality.
    """
    return 60 + 5 * n_stops


def solve_routes(request: RouteRequest, *, search: str = "territory") -> RouteResult:
    """Route the stops of one request: start and end at node 0, windows, break, capacity.

    Parameters
    ----------
    request
        The problem; see `RouteRequest`.
    search
        "territory" (the default): PyVRP's iterated local search (`routing_pyvrp`) with an
        iteration budget scaled to the size (deterministic for a seed), or for
        ``time_limit_s`` seconds; OR-Tools takes over where PyVRP's best order does not keep
        the rep's day (see `_solve_territory`) and for several vehicles with a break.
        "ortools": the OR-Tools search alone (parallel cheapest insertion with every stop
        optional, then guided local search), deterministic unless ``time_limit_s`` is given.
        "ortools-default": the plain OR-Tools recipe (mandatory stops, path cheapest arc,
        guided local search), kept as the baseline for benchmarks.

    Returns
    -------
    RouteResult
        Routes with honest times; ``feasible`` is False when no solution was found (then every
        stop is in ``unscheduled``).

    Raises
    ------
    ValueError
        An unknown ``search``, or arrays of the wrong shape.
    """
    if search not in ("territory", "ortools", "ortools-default"):
        raise ValueError(
            f"search '{search}' is unknown; use 'territory', 'ortools' or 'ortools-default'"
        )
    _check_shapes(request)
    window = np.asarray(request.window_s, dtype=np.int64)
    n = int(np.shape(request.duration_s)[0])
    vehicles = int(request.vehicles)
    day_start = int(window[0, 0])
    if n <= 1:
        return _result_from_routes(request, [() for _ in range(vehicles)])
    # A stop whose window is empty (e.g. shorter than its visit) can never be served.
    empty = [node for node in range(1, n) if window[node, 0] > window[node, 1]]
    if empty and request.unscheduled_penalty is None:
        return _infeasible_result(n, vehicles, day_start)
    baseline = search == "ortools-default"
    if not baseline and vehicles == 1 and n - 1 <= _EXACT_MAX_STOPS:
        return _solve_exact(request)
    if search == "territory" and ONE_ROUTE_SEARCH == "compiled" and _compiled_day(request):
        day = _solve_day(request)
        if day is not None:
            return day
    if search == "territory" and (vehicles == 1 or request.break_s is None):
        found, order = _solve_territory(request)
        if found is not None:
            return found
        # OR-Tools takes over from PyVRP's order (it drops the warm start if infeasible)
        request = dataclasses.replace(request, initial_routes=order)
    return _solve_ortools(request, baseline=baseline)


def _solve_ortools(request: RouteRequest, *, baseline: bool) -> RouteResult:
    """The OR-Tools search of `solve_routes` (baseline: the plain recipe)."""
    n = int(np.shape(request.duration_s)[0])
    vehicles = int(request.vehicles)
    day_start = int(np.asarray(request.window_s)[0, 0])
    model = _build_model(request, baseline=baseline)
    if baseline:
        best = model.search(model.warm)
    elif request.time_limit_s is None:
        best = _search_by_solutions(model, n - 1, mandatory=request.unscheduled_penalty is None)
    elif model.needs_time:
        best = _search_timed(model, request.time_limit_s)
    else:
        best = model.search(model.warm)
    if best is None:
        return _infeasible_result(n, vehicles, day_start)
    routes = best[1]
    if request.unscheduled_penalty is None and _stops(routes) < n - 1:
        return _infeasible_result(n, vehicles, day_start)
    return _result_from_routes(request, routes)


def default_iterations(n_stops: int) -> int:
    """Iterations of PyVRP's search in the deterministic default: 5 per stop (a rep's day with
    a break: `ONE_ROUTE_TUNING`).

    Measured with scripts/bench_routes.py on synthetic rep days (windows, a lunch break): the
    budget reaches the best of three long searches (two 1.5 s PyVRP runs and a 1.5 s OR-Tools
    run) on every day of 5-20 and 30 stops and within 0.4 % at 25 stops.
    """
    return 5 * n_stops


@dataclass(frozen=True)
class PyvrpTuning:
    """How PyVRP searches one rep's day with a lunch break and every stop required, in the
    deterministic default.

    Days whose stops are optional (the planner's days: a stop that does not fit is left out)
    keep the previous setting, every operator at `default_iterations` with PyVRP's own
    penalties: on the national plan of 8,000 customers x 120 reps (scripts/bench_plan.py
    --geography towns, --jobs 2) this tuning took 228 s instead of 128 s with 4 % more
    travel (913 h against 877 h) and left one rep outside the 5 % band.

    An iteration of PyVRP's iterated local search perturbs the route (moves up to
    ``perturbations_per_stop`` customers per stop) and repairs it by local search; nearly all
    of a call's time is spent there (profiled: building the model, the break copies and the
    Python loop took under 5 %). Rep days need strong perturbation (the search otherwise keeps
    the direction in which it first drove round the stops), and the perturbation is also an
    iteration's main cost, so the tuning buys iterations by dropping operators instead, makes
    the moves PyVRP lacks in a cheap polish, and spends part of the budget on a second search
    from the route driven the other way round (measured with scripts/bench_routes.py, see
    README, "Day routes": 5 + 3 iterations per stop with the polish reach about the quality
    of 10 per stop without it at 0.6x the CPU time).

    Attributes
    ----------
    iterations_per_stop
        The first search's iteration budget per stop.
    perturbations_per_stop
        Customers moved by the perturbation, at most, per stop (at least 2, at most
        ``max_perturbations``).
    max_perturbations
        The cap on the perturbation: 30 instead of 40 made 25-30 stop days 0.8x as costly
        with the search from the reversed route and the polish (0.24 % against 0.18 % mean
        gap at 25 stops, 0.21 % against 0.10 % at 30, 60 draws each).
    penalty_per_travel_s
        The search's starting penalty for a second of time warp, in arc-cost units per second
        of travel (the mean arc cost over the mean travel time); None: PyVRP's own start
        (50,000 cost units, which all but forbids time warp so that the search cannot cross
        infeasible orders). PyVRP updates penalties every 500 iterations, so with a short
        budget this is the penalty of the whole search. Only where every stop is required:
        with optional stops (the planner's days) the search then settled on feasible orders
        that leave more stops out (the sample's 276 days of 6-12 stops: 34 stops unscheduled
        instead of 25), so those keep PyVRP's own start.
    skip_operators
        PyVRP local-search operators left out (class names): without the two-customer swaps,
        the two-customer relocate and the group relocate an iteration on a 30-stop day took
        0.3-0.5 ms instead of 1.1 ms, and twice the iterations then find better days than the
        full set does in the same time; without the one-customer swap as well, 0.7x the time
        again at the same quality once the polish runs.
    reverse_iterations_per_stop
        When positive, a second search of this many iterations per stop starts from the first
        one's route driven the other way round (late where it was early, the break in the
        middle); the better route is kept. The first search keeps the direction in which it
        first drove round the stops, and the other direction is sometimes the shorter day.
        Two searches of 5 and 3 iterations per stop found better days than one of 10 (25
        stops: 0.30 % against 1.22 % mean gap without the second search, 0.90 % with 8
        iterations per stop and no second search).
    reverse_exhaustive
        Whether the second search gives each new best route PyVRP's full local search (the
        same routes without, on 60 draws, at 0.9x the time).
    polish
        Whether the routes found are polished by 2-opt and Or-opt (`routing_polish`): moves
        PyVRP does not make (reversing a stretch of the route) or leaves out here (moving two
        or three consecutive stops), a few milliseconds on a 30-stop day.
    """

    iterations_per_stop: int = 5
    perturbations_per_stop: float = 2.0
    max_perturbations: int = 30
    penalty_per_travel_s: float | None = 0.5
    skip_operators: tuple[str, ...] = (
        "Relocate2",
        "Swap21",
        "Swap22",
        "RelocateAlternative",
        "Swap11",
    )
    reverse_iterations_per_stop: int = 3
    reverse_exhaustive: bool = False
    polish: bool = True


#: The deterministic default for one vehicle with a break (figures: README, "Day routes").
ONE_ROUTE_TUNING = PyvrpTuning()


def _pyvrp_tuning(request: RouteRequest, n_stops: int, *, timed: bool) -> dict[str, Any]:
    """PyVRP's budget, perturbation, starting penalty and operators for ``request``."""
    limit = request.solution_limit
    if request.vehicles != 1:
        return {
            "iterations": None if timed else limit or default_iterations(n_stops),
            "max_perturbations": 25,
        }
    if timed or request.break_s is None or request.unscheduled_penalty is not None:
        # optional stops (the planner's days): PyVRP's full operator set at the engine's
        # default budget; the tuning below made the national plan slower and longer
        return {
            "iterations": None if timed else limit or default_iterations(n_stops),
            "max_perturbations": min(40, max(2, 2 * n_stops)),
        }
    tuning = ONE_ROUTE_TUNING
    cap = min(tuning.max_perturbations, round(tuning.perturbations_per_stop * n_stops))
    penalty = None
    if tuning.penalty_per_travel_s is not None:
        duration = np.asarray(request.duration_s, dtype=np.float64)
        cost = duration if request.cost is None else np.asarray(request.cost, dtype=np.float64)
        per_s = float(cost.sum()) / max(1.0, float(duration.sum()))
        penalty = max(1e-3, tuning.penalty_per_travel_s * per_s)
    return {
        "iterations": limit or max(1, tuning.iterations_per_stop * n_stops),
        "max_perturbations": max(2, cap),
        "penalty": penalty,
        "skip_operators": tuning.skip_operators,
    }


def _one_route_tuned(request: RouteRequest) -> bool:
    """Whether ``request`` is searched with `ONE_ROUTE_TUNING`: one vehicle, a break, every
    stop required, the deterministic budget."""
    return (
        request.vehicles == 1
        and request.break_s is not None
        and request.unscheduled_penalty is None
        and request.time_limit_s is None
    )


#: How a rep's day with every stop required is searched (`_compiled_day`): "compiled" (the
#: default: `routing_day`, a compiled iterated local search) or "pyvrp" (PyVRP with
#: `ONE_ROUTE_TUNING`, the previous default, also the fallback when the compiled search finds
#: no order that keeps the day). README, "Day routes".
ONE_ROUTE_SEARCH = "compiled"


def _compiled_day(request: RouteRequest) -> bool:
    """Whether ``request`` goes to the compiled day search: `_one_route_tuned` (one vehicle, a
    break, every stop required, the deterministic budget), no limit on the day's span (the
    search times the order from the earliest departure) and a load that fits (with one
    vehicle and every stop required, the order cannot change it)."""
    n = int(np.shape(request.duration_s)[0])
    return (
        _one_route_tuned(request)
        and request.max_route_s is None
        and not _over_capacity(request, range(1, n))
    )


def _solve_day(request: RouteRequest) -> RouteResult | None:
    """`routing_day.solve_day` on ``request``, its order scheduled by `_schedule`; None when it
    found no order that keeps the day."""
    from .routing_day import solve_day  # numba lives in its own module

    order = solve_day(
        request.duration_s,
        request.duration_s if request.cost is None else request.cost,
        request.service_s,
        request.window_s,
        request.break_s,
        iterations=request.solution_limit,
        seed=request.seed,
    )
    # the schedule is a safeguard: zero warp and a schedule agree on random orders (tested)
    if order is None or _schedule(request, order) is None:
        log.debug("the compiled day search found no order that keeps the day; PyVRP searches")
        return None
    return _result_from_routes(request, [order])


def _solve_territory(
    request: RouteRequest,
) -> tuple[RouteResult | None, tuple[tuple[int, ...], ...]]:
    """PyVRP's search, its best order scheduled by `_schedule` (the rep's real day).

    Returns the result and PyVRP's order; the result is None (OR-Tools takes over,
    warm-started from that order) when the order leaves a mandatory stop out or does not keep
    the day: PyVRP judged it with break copies and penalised time warp, so a short budget can
    end on an infeasible order.
    """
    from .routing_pyvrp import pyvrp_routes  # PyVRP lives in its own module

    n = int(np.shape(request.duration_s)[0])
    timed = request.time_limit_s is not None
    n_stops = n - 1
    penalty = None
    if request.unscheduled_penalty is not None:
        penalty = np.asarray(request.unscheduled_penalty, dtype=np.int64)
    duration = np.asarray(request.duration_s, dtype=np.int64)
    search_args: dict[str, Any] = {
        "duration_s": duration,
        "cost": duration if request.cost is None else np.asarray(request.cost, dtype=np.int64),
        "service_s": np.asarray(request.service_s, dtype=np.int64),
        "window_s": np.asarray(request.window_s, dtype=np.int64),
        "vehicles": int(request.vehicles),
        "demand": request.demand,
        "capacity": request.capacity,
        "max_route_s": request.max_route_s,
        "break_s": request.break_s,
        "prize": penalty,
        "time_limit_s": request.time_limit_s,
        "initial_routes": request.initial_routes,
        "seed": request.seed,
        **_pyvrp_tuning(request, n_stops, timed=timed),
    }
    found = pyvrp_routes(**search_args)
    routes = found.routes
    if _one_route_tuned(request):
        return _improve_one_route(request, routes, search_args)
    if (
        any(_over_capacity(request, r) for r in routes)
        or any(r and _schedule(request, r) is None for r in routes)
        or (request.unscheduled_penalty is None and _stops(routes) < n_stops)
    ):
        log.debug("PyVRP's order does not keep the day; OR-Tools takes over")
        return None, routes
    return _result_from_routes(request, routes), routes


def _improve_one_route(
    request: RouteRequest,
    routes: tuple[tuple[int, ...], ...],
    search_args: dict[str, Any],
) -> tuple[RouteResult | None, tuple[tuple[int, ...], ...]]:
    """`ONE_ROUTE_TUNING` after the first search: the search from the route driven the other
    way round, the polish, the shortest feasible route kept (None when neither keeps the day:
    OR-Tools takes over from the first order)."""
    from .routing_polish import forward_feasible, polish_route
    from .routing_pyvrp import pyvrp_routes

    tuning = ONE_ROUTE_TUNING
    n_stops = int(np.shape(request.duration_s)[0]) - 1
    quick = forward_feasible(
        request.duration_s, request.service_s, request.window_s, request.break_s
    )

    def quick_keeps_day(order: Sequence[int]) -> bool:
        # the fast forward pass agrees with _schedule except on a span limit
        if not quick(order) or _over_capacity(request, order):
            return False
        return request.max_route_s is None or _schedule(request, order) is not None

    candidates = [routes[0]]
    if tuning.reverse_iterations_per_stop > 0 and routes[0]:
        args = {
            **search_args,
            "iterations": tuning.reverse_iterations_per_stop * n_stops,
            "initial_routes": (tuple(reversed(routes[0])),),
            "initial_break_after": len(routes[0]) // 2,
            "exhaustive_on_best": tuning.reverse_exhaustive,
        }
        candidates.append(pyvrp_routes(**args).routes[0])
    cost = np.asarray(request.duration_s if request.cost is None else request.cost, dtype=np.int64)
    best: tuple[int, tuple[int, ...]] | None = None
    for found in candidates:
        if len(found) != n_stops or _over_capacity(request, found):
            continue
        if _schedule(request, found) is None:
            continue
        order = found
        if tuning.polish:
            order = polish_route(found, cost, quick_keeps_day)
            if _schedule(request, order) is None:  # a safeguard: the checks agree (tested)
                order = found
        value = route_cost(request, [order])
        if best is None or value < best[0]:
            best = (value, order)
    if best is None:
        log.debug("PyVRP's order does not keep the day; OR-Tools takes over")
        return None, routes
    return _result_from_routes(request, [best[1]]), routes


# --------------------------------------------------------------------------------------------
# Model building


#: One search's outcome: the objective and the routes as node ids.
_Found = tuple[int, list[tuple[int, ...]]]


@dataclass
class _Model:
    """A closed OR-Tools routing model, its search parameters (changed between the searches of
    a regime) and the warm start, if any."""

    routing: Any
    manager: Any
    params: Any
    needs_time: bool
    warm: Any

    def search(self, start: Any) -> _Found | None:
        """One search from ``start`` (if given) under the current parameters."""
        return _search(self.routing, self.manager, self.params, start)


def _build_model(request: RouteRequest, *, baseline: bool) -> _Model:
    """The OR-Tools model of ``request``: arc costs, time, capacity, optional stops, limits."""
    duration = np.asarray(request.duration_s, dtype=np.int64)
    n = duration.shape[0]
    service = np.asarray(request.service_s, dtype=np.int64)
    window = np.asarray(request.window_s, dtype=np.int64)
    cost = duration if request.cost is None else np.asarray(request.cost, dtype=np.int64)
    manager = pywrapcp.RoutingIndexManager(n, int(request.vehicles), 0)
    routing = pywrapcp.RoutingModel(manager)
    cost_cb = routing.RegisterTransitMatrix(cost.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)

    # A time dimension only where time can bind: a pure TSP/VRP searches much faster without.
    needs_time = _time_can_bind(request, duration, service, window)
    if needs_time:
        _add_time(routing, manager, request, duration + service[:, None], window)
    has_capacity = False
    if request.demand is not None and request.capacity is not None:
        has_capacity = True
        demand_cb = routing.RegisterUnaryTransitVector(
            np.asarray(request.demand, dtype=np.int64).tolist()
        )
        routing.AddDimensionWithVehicleCapacity(
            demand_cb, 0, [int(request.capacity)] * int(request.vehicles), True, "load"
        )
    # Where constraints can bind, every stop is optional to the search: insertion heuristics
    # then always find a first solution (with mandatory stops they often find none under
    # windows and a break). Without penalties, leaving a stop unscheduled costs more than any
    # route, and a result with one is infeasible.
    if request.unscheduled_penalty is not None or ((needs_time or has_capacity) and not baseline):
        penalty = _unscheduled_penalties(request, cost)
        for node in range(1, n):
            routing.AddDisjunction([manager.NodeToIndex(node)], penalty[node])

    params = _search_parameters(request, n - 1)
    if not needs_time or baseline:
        # Without windows the classic start is better (and cannot fail); the baseline uses it.
        params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    if request.time_limit_s is None:
        # Guided local search can churn without accepting a move (e.g. when every remaining
        # move is a costly unscheduled stop); a branch limit stops that deterministically.
        branches = _BRANCHES_PER_SOLUTION * params.solution_limit * _ESCALATION + 5_000
        routing.AddSearchMonitor(routing.solver().Limit(2**62, branches, 2**62, 2**62))
    routing.CloseModelWithParameters(params)

    warm = None
    if request.initial_routes is not None:
        warm = routing.ReadAssignmentFromRoutes([list(r) for r in request.initial_routes], True)
        if warm is None:
            log.debug("warm start routes are not feasible; solving from scratch")
    return _Model(routing, manager, params, needs_time, warm)


def _add_time(
    routing: Any,
    manager: Any,
    request: RouteRequest,
    transit: NDArray[np.int64],
    window: NDArray[np.int64],
) -> None:
    """The time dimension: windows, the working day, route duration and the break.

    ``transit[i, j]`` = service(i) + travel(i, j), so the cumul is the service start at a node.
    """
    n = window.shape[0]
    day_start, day_end = int(window[0, 0]), int(window[0, 1])
    time_cb = routing.RegisterTransitMatrix(transit.tolist())
    horizon = max(day_end, int(window[:, 1].max()))
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for node in range(1, n):
        index = manager.NodeToIndex(node)
        if window[node, 0] > window[node, 1]:
            routing.ActiveVar(index).SetValue(0)  # unscheduled, at its penalty
        else:
            time_dim.CumulVar(index).SetRange(int(window[node, 0]), int(window[node, 1]))
    vehicles = int(request.vehicles)
    for v in range(vehicles):
        time_dim.CumulVar(routing.Start(v)).SetRange(day_start, day_end)
        time_dim.CumulVar(routing.End(v)).SetRange(day_start, day_end)
        if request.max_route_s is not None:
            time_dim.SetSpanUpperBoundForVehicle(int(request.max_route_s), v)
    if request.break_s is None:
        return
    b_lo, b_hi, b_dur = (int(x) for x in request.break_s)
    solver = routing.solver()
    service = np.asarray(request.service_s, dtype=np.int64)
    visit_transit = [0] * routing.Size()
    for index in range(routing.Size()):
        visit_transit[index] = int(service[manager.IndexToNode(index)])
    for v in range(vehicles):
        interval = solver.FixedDurationIntervalVar(b_lo, b_hi, b_dur, False, f"break_{v}")
        time_dim.SetBreakIntervalsOfVehicle([interval], v, visit_transit)


def _unscheduled_penalties(request: RouteRequest, cost: NDArray[np.int64]) -> list[int]:
    """Per node, the cost of leaving it unscheduled: the request's, else above any route."""
    n = cost.shape[0]
    if request.unscheduled_penalty is not None:
        return [int(x) for x in np.asarray(request.unscheduled_penalty, dtype=np.int64)]
    big = int(np.abs(cost).max(initial=0)) * (n + 1) * 4 + 1_000_000
    return [big] * n


# --------------------------------------------------------------------------------------------
# Search regimes


def _search_by_solutions(model: _Model, n_stops: int, *, mandatory: bool) -> _Found | None:
    """The deterministic default: two half-budget searches, escalated if stops stay out.

    Two half-budget searches from different starts (parallel, then local cheapest insertion)
    beat one full search at the same cost: on 12 synthetic 20-stop rep days the mean gap to the
    best known fell from 2.7 % to 1.3 % and the worst from 17 % to 8.5 % (25 stops: 2.4 % ->
    2.1 %, worst 11.8 % -> 7.8 %).
    """
    params = model.params
    limit = params.solution_limit
    params.solution_limit = max(1, limit // 2)
    found = [model.search(model.warm)]
    params.first_solution_strategy = _LOCAL_CHEAPEST_INSERTION
    found.append(model.search(None))
    best = _best(found)
    if best is None or not mandatory or _stops(best[1]) == n_stops:
        return best
    # Mandatory stops are still out: search again with a larger budget from both starts
    # (afresh: continuing from a stuck solution was seen to stay stuck).
    params.solution_limit = limit * _ESCALATION
    for strategy in (_PARALLEL_CHEAPEST_INSERTION, _LOCAL_CHEAPEST_INSERTION):
        params.first_solution_strategy = strategy
        more = model.search(None)
        if more is not None and more[0] < best[0]:
            best = more
        if _stops(best[1]) == n_stops:
            break
    return best


def _search_timed(model: _Model, time_limit_s: float) -> _Found | None:
    """Timed (benchmarks): half the time from parallel cheapest insertion, half from path
    cheapest arc (with every stop optional it does not fail on tight windows); the better is kept.
    On the 8 Solomon instances at 2 s: mean gap 5.6 % -> 3.8 %, all feasible either way."""
    model.params.time_limit.FromMilliseconds(max(1, round(time_limit_s * 500)))
    found = [model.search(model.warm)]
    model.params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    found.append(model.search(None))
    return _best(found)


def _best(found: Sequence[_Found | None]) -> _Found | None:
    """The lowest objective among the searches that found a solution (the first on ties)."""
    return min((f for f in found if f is not None), key=lambda f: f[0], default=None)


def _check_shapes(request: RouteRequest) -> None:
    """Cheap shape checks: a wrong array shape would otherwise fail deep inside OR-Tools."""
    n = int(np.shape(request.duration_s)[0]) if np.ndim(request.duration_s) == 2 else -1
    problems = []
    if n < 1 or np.shape(request.duration_s) != (n, n):
        problems.append(f"duration_s has shape {np.shape(request.duration_s)}, not (N, N)")
    if np.shape(request.service_s) != (n,):
        problems.append(f"service_s has shape {np.shape(request.service_s)}, not ({n},)")
    if np.shape(request.window_s) != (n, 2):
        problems.append(f"window_s has shape {np.shape(request.window_s)}, not ({n}, 2)")
    for name in ("cost",):
        value = getattr(request, name)
        if value is not None and np.shape(value) != (n, n):
            problems.append(f"{name} has shape {np.shape(value)}, not ({n}, {n})")
    for name in ("demand", "unscheduled_penalty"):
        value = getattr(request, name)
        if value is not None and np.shape(value) != (n,):
            problems.append(f"{name} has shape {np.shape(value)}, not ({n},)")
    if (request.demand is None) != (request.capacity is None):
        problems.append("demand and capacity come together; give both or neither")
    if request.vehicles < 1:
        problems.append(f"vehicles = {request.vehicles}; at least 1 is needed")
    if problems:
        raise ValueError("RouteRequest: " + "; ".join(problems))


def _time_can_bind(
    request: RouteRequest,
    duration: NDArray[np.int64],
    service: NDArray[np.int64],
    window: NDArray[np.int64],
) -> bool:
    """False when no route can miss a window: every window spans the day and even the longest
    possible route (all services plus the longest leg out of every node) fits in the day."""
    if request.break_s is not None or request.max_route_s is not None:
        return True
    day_start, day_end = int(window[0, 0]), int(window[0, 1])
    if (window[1:, 0] > day_start).any() or (window[1:, 1] < day_end).any():
        return True
    longest_s = int(service.sum()) + int(duration.max(axis=1).sum())
    return day_start + longest_s > min(day_end, int(window[1:, 1].min(initial=day_end)))


def _solve_exact(request: RouteRequest) -> RouteResult:
    """Best single-vehicle route by enumerating every order of every allowed subset.

    For a handful of stops this is faster than building a model and exact; the objective is
    the one OR-Tools minimises (arc cost plus the penalties of the unscheduled stops).
    """
    n = int(np.asarray(request.duration_s).shape[0])
    stops = range(1, n)
    sizes = range(n - 1, -1, -1) if request.unscheduled_penalty is not None else (n - 1,)
    best: tuple[int, tuple[int, ...]] | None = None
    for size in sizes:
        for subset in itertools.combinations(stops, size):
            if _over_capacity(request, subset):
                continue
            penalty = 0
            if request.unscheduled_penalty is not None:
                penalty = sum(int(request.unscheduled_penalty[i]) for i in stops if i not in subset)
            for order in itertools.permutations(subset):
                value = route_cost(request, [order]) + penalty
                if best is not None and value >= best[0]:
                    continue
                if order and _schedule(request, order) is None:
                    continue
                best = (value, order)
    if best is None:
        return _infeasible_result(n, 1, int(request.window_s[0, 0]))
    return _result_from_routes(request, [best[1]])


def _over_capacity(request: RouteRequest, stops: Sequence[int]) -> bool:
    """Whether ``stops`` on one vehicle exceed the request's capacity (False without one)."""
    if request.demand is None or request.capacity is None:
        return False
    return sum(int(request.demand[i]) for i in stops) > request.capacity


def _search(
    routing: Any, manager: Any, params: Any, start: Any
) -> tuple[int, list[tuple[int, ...]]] | None:
    """One OR-Tools search (from ``start`` if given): objective and routes as node ids, read
    out at once because the model reuses its assignment on the next solve."""
    solution = None
    if start is not None:
        solution = routing.SolveFromAssignmentWithParameters(start, params)
    if solution is None:
        solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    routes = []
    for v in range(routing.vehicles()):
        nodes = []
        index = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            nodes.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routes.append(tuple(nodes))
    return int(solution.ObjectiveValue()), routes


def _stops(routes: Sequence[Sequence[int]]) -> int:
    return sum(len(r) for r in routes)


def _infeasible_result(n: int, vehicles: int, day_start: int) -> RouteResult:
    return RouteResult(
        routes=tuple(() for _ in range(vehicles)),
        arrival_s=tuple(() for _ in range(vehicles)),
        start_s=tuple(() for _ in range(vehicles)),
        depart_s=(day_start,) * vehicles,
        return_s=(day_start,) * vehicles,
        break_start_s=(None,) * vehicles,
        unscheduled=tuple(range(1, n)),
        cost=0,
        feasible=False,
    )


def evaluate_routes(request: RouteRequest, routes: Sequence[Sequence[int]]) -> RouteResult | None:
    """Times and cost of given routes without searching (no OR-Tools), or None if infeasible.

    Cheap enough to judge many candidate orders (e.g. inserting a customer into a day): the
    same tight schedule `solve_routes` reports. Stops not on a route count as unscheduled.

    Parameters
    ----------
    request
        The problem; ``time_limit_s``, ``initial_routes`` and ``unscheduled_penalty`` are
        ignored.
    routes
        One sequence of stop node ids per vehicle (depot excluded).

    Returns
    -------
    RouteResult or None
        None when a window, the break, the day, the route duration or the capacity cannot be
        kept in the given order.

    Raises
    ------
    ValueError
        When the routes do not match the vehicles or name a node twice or a non-stop.
    """
    _check_shapes(request)
    n = int(np.shape(request.duration_s)[0])
    fixed = [tuple(int(x) for x in r) for r in routes]
    if len(fixed) != request.vehicles:
        raise ValueError(f"{len(fixed)} routes given for {request.vehicles} vehicles")
    flat = [node for r in fixed for node in r]
    if len(set(flat)) != len(flat) or any(not 1 <= node < n for node in flat):
        raise ValueError(f"routes {fixed} repeat a stop or name a node outside 1..{n - 1}")
    if any(_over_capacity(request, r) for r in fixed):
        return None
    if any(r and _schedule(request, r) is None for r in fixed):
        return None
    return _result_from_routes(request, fixed)


def _result_from_routes(request: RouteRequest, routes: Sequence[tuple[int, ...]]) -> RouteResult:
    """Times, cost and unscheduled stops for fixed routes known to be feasible."""
    duration = np.asarray(request.duration_s, dtype=np.int64)
    n = duration.shape[0]
    window = np.asarray(request.window_s, dtype=np.int64)
    day_start = int(window[0, 0])
    arrivals: list[tuple[int, ...]] = []
    starts: list[tuple[int, ...]] = []
    departs: list[int] = []
    returns: list[int] = []
    breaks: list[int | None] = []
    for route in routes:
        if not route:
            arrivals.append(())
            starts.append(())
            departs.append(day_start)
            returns.append(day_start)
            breaks.append(None)
            continue
        sched = _schedule(request, route)
        if sched is None:
            # OR-Tools accepted this order, so a schedule exists; reaching here is a bug.
            raise RuntimeError(f"no schedule found for the route {route} that the solver accepted")
        dep, arr, st, ret, brk = sched
        arrivals.append(tuple(arr))
        starts.append(tuple(st))
        departs.append(dep)
        returns.append(ret)
        breaks.append(brk)
    visited = {node for route in routes for node in route}
    return RouteResult(
        routes=tuple(tuple(int(x) for x in r) for r in routes),
        arrival_s=tuple(arrivals),
        start_s=tuple(starts),
        depart_s=tuple(departs),
        return_s=tuple(returns),
        break_start_s=tuple(breaks),
        unscheduled=tuple(node for node in range(1, n) if node not in visited),
        cost=route_cost(request, routes),
        feasible=True,
    )


def route_cost(request: RouteRequest, routes: Sequence[Sequence[int]]) -> int:
    """Sum of arc costs (``request.cost`` or ``duration_s``) over routes from and to node 0."""
    cost = request.duration_s if request.cost is None else request.cost
    total = 0
    for route in routes:
        if not route:
            continue
        path = [0, *route, 0]
        total += int(sum(int(cost[a, b]) for a, b in itertools.pairwise(path)))
    return total


# --------------------------------------------------------------------------------------------
# Scheduling a fixed order: earliest return, then latest departure


_Schedule = tuple[int, list[int], list[int], int, int | None]


@dataclass(frozen=True)
class _Order:
    """One route order as plain lists: leg ``g`` leads to stop ``g`` (leg ``k`` runs home)."""

    travel: list[int]  # k + 1 legs, seconds
    service: list[int]  # per stop, seconds
    early: list[int]  # earliest service start per stop
    late: list[int]  # latest service start per stop


def _schedule(request: RouteRequest, route: Sequence[int]) -> _Schedule | None:
    """Tightest times for one route order: shortest day, then earliest return.

    Every placement of the break (before departure, on any leg, after return) is tried; for
    each, a forward pass from the earliest departure gives the earliest return and a backward
    pass from that return gives the latest departure. The day length is then as short as
    the order allows (the span is non-increasing in the departure time up to that point).
    Returns (depart, arrivals, starts, return, break_start) or None when no schedule fits.
    """
    window = request.window_s
    day_start, day_end = int(window[0, 0]), int(window[0, 1])
    order = _Order(
        travel=[int(request.duration_s[a, b]) for a, b in itertools.pairwise([0, *route, 0])],
        service=[int(request.service_s[node]) for node in route],
        early=[int(window[node, 0]) for node in route],
        late=[int(window[node, 1]) for node in route],
    )
    brk = request.break_s
    # -1 = before departure, 0..k = on leg g (leg k runs home), k + 1 = after return.
    options: list[int | None] = [None] if brk is None else list(range(-1, len(route) + 2))
    best: tuple[tuple[int, int, int], _Schedule] | None = None
    for option in options:
        s_min = day_start
        if option == -1:
            assert brk is not None
            s_min = max(day_start, brk[0] + brk[2])
        first = _forward(s_min, option, order, brk, day_end)
        if first is None:
            continue
        end = first[3]
        s_latest = _latest_departure(end, option, order, brk)
        sched = first
        if s_latest > s_min:
            tight = _forward(s_latest, option, order, brk, day_end)
            if tight is not None and tight[3] == end:
                sched = tight
        span = sched[3] - sched[0]
        if request.max_route_s is not None and span > request.max_route_s:
            continue
        key = (span, sched[3], options.index(option))
        if best is None or key < best[0]:
            best = (key, sched)
    return None if best is None else best[1]


def _forward(
    depart: int,
    option: int | None,
    order: _Order,
    brk: tuple[int, int, int] | None,
    day_end: int,
) -> _Schedule | None:
    """Earliest times leaving home at ``depart`` with the break placed by ``option``."""
    travel = order.travel
    k = len(order.service)
    b_start: int | None = None
    if option == -1:
        assert brk is not None
        b_start = min(brk[1], depart - brk[2])
        if b_start < brk[0]:
            return None
    arrivals: list[int] = []
    starts: list[int] = []
    t = depart
    for g in range(k + 1):
        arrive = t + travel[g]
        ready = arrive
        if option == g:
            assert brk is not None
            if travel[g] > 0 and brk[0] < arrive:
                b_start = max(t, brk[0])  # the break interrupts the drive
                arrive += brk[2]
                ready = arrive
            else:
                # Waits for the break on arrival; at home that is after the day's return.
                b_start = max(brk[0], arrive)
                ready = arrive if g == k else b_start + brk[2]
            if b_start > brk[1]:
                return None
        if g == k:
            ret = ready
            if ret > day_end:
                return None
            break
        start = max(ready, order.early[g])
        if start > order.late[g]:
            return None
        arrivals.append(arrive)
        starts.append(start)
        t = start + order.service[g]
    if option is not None and option == k + 1:
        assert brk is not None
        b_start = max(brk[0], ret)
        if b_start > brk[1]:
            return None
    return depart, arrivals, starts, ret, b_start


def _latest_departure(
    end: int, option: int | None, order: _Order, brk: tuple[int, int, int] | None
) -> int:
    """Latest departure from home that still lets the route be back by ``end``."""
    travel = order.travel
    k = len(order.service)
    latest_next = end  # latest start of the place after leg g (home for g = k)
    for g in range(k, -1, -1):
        if option == g:
            assert brk is not None
            b_lo, b_hi, b_dur = brk
            leave = None
            if travel[g] > 0:
                x = min(latest_next - travel[g] - b_dur, b_hi)
                if x >= b_lo - travel[g] + 1:
                    leave = x
            top = min(b_hi, latest_next - b_dur)
            if top >= b_lo:
                x = top - travel[g]
                leave = x if leave is None else max(leave, x)
            if leave is None:
                return -(2**62)
        else:
            leave = latest_next - travel[g]
        if g == 0:
            return leave
        latest_next = min(order.late[g - 1], leave - order.service[g - 1])
    return latest_next  # unreachable: the loop returns at g == 0


# --------------------------------------------------------------------------------------------
# Checking


def check_route(request: RouteRequest, result: RouteResult) -> list[str]:
    """Problems of a result against its request, in words (empty list = all honest).

    Checks that every stop is visited at most once or unscheduled (and unscheduled only when
    the request allows it), times follow from the travel and service times, windows, the
    working day, the break, capacity and route duration hold, and the reported cost is the
    arcs' sum.
    """
    vehicles = int(request.vehicles)
    fields = ("routes", "arrival_s", "start_s", "depart_s", "return_s", "break_start_s")
    problems = [
        f"{name} has {len(getattr(result, name))} entries for {vehicles} vehicles"
        for name in fields
        if len(getattr(result, name)) != vehicles
    ]
    if problems:
        return problems
    problems += _check_visits(request, result)
    if request.demand is not None and request.capacity is not None:
        for v, route in enumerate(result.routes):
            load = sum(int(request.demand[node]) for node in route)
            if load > request.capacity:
                problems.append(f"vehicle {v} carries {load}, over the capacity {request.capacity}")
    for v, route in enumerate(result.routes):
        problems.extend(_check_times(request, result, v, route))
    if result.feasible and result.cost != route_cost(request, result.routes):
        problems.append(
            f"cost {result.cost} is not the arcs' sum {route_cost(request, result.routes)}"
        )
    return problems


def _check_visits(request: RouteRequest, result: RouteResult) -> list[str]:
    """Every stop visited at most once, the others reported unscheduled (where allowed)."""
    n = int(np.asarray(request.duration_s).shape[0])
    problems: list[str] = []
    seen: dict[int, int] = {}
    for v, route in enumerate(result.routes):
        for node in route:
            if not 1 <= node < n:
                problems.append(f"vehicle {v} visits node {node}, which is not a stop")
            elif node in seen:
                problems.append(f"stop {node} is visited twice (vehicles {seen[node]} and {v})")
            else:
                seen[node] = v
    expected = tuple(node for node in range(1, n) if node not in seen)
    if tuple(result.unscheduled) != expected:
        problems.append(
            f"unscheduled {result.unscheduled} should be the unvisited stops {expected}"
        )
    if result.unscheduled and result.feasible and request.unscheduled_penalty is None:
        problems.append(
            f"stops {result.unscheduled} are unscheduled but the request allows none to be"
        )
    if not result.feasible and any(result.routes):
        problems.append("an infeasible result has routes")
    return problems


def _check_times(
    request: RouteRequest, result: RouteResult, v: int, route: tuple[int, ...]
) -> list[str]:
    """Times of vehicle ``v``: the day, the route duration, the break and every leg."""
    arrivals, starts = result.arrival_s[v], result.start_s[v]
    depart, ret, b_start = result.depart_s[v], result.return_s[v], result.break_start_s[v]
    if len(arrivals) != len(route) or len(starts) != len(route):
        return [
            f"vehicle {v} has {len(route)} stops but {len(arrivals)} arrivals and {len(starts)} starts"
        ]
    if not route:
        return [f"vehicle {v} is unused but has a break"] if b_start is not None else []
    problems: list[str] = []
    day_start, day_end = int(request.window_s[0, 0]), int(request.window_s[0, 1])
    if depart < day_start:
        problems.append(f"vehicle {v} departs at {depart}, before the day starts at {day_start}")
    if ret > day_end:
        problems.append(f"vehicle {v} returns at {ret}, after the day ends at {day_end}")
    if request.max_route_s is not None and ret - depart > request.max_route_s:
        problems.append(
            f"vehicle {v} is out {ret - depart} s, over the limit {request.max_route_s} s"
        )
    brk = request.break_s
    if brk is None:
        if b_start is not None:
            problems.append(f"vehicle {v} has a break that was not asked for")
    elif b_start is None:
        problems.append(f"vehicle {v} has no break")
    elif not brk[0] <= b_start <= brk[1]:
        problems.append(f"vehicle {v} breaks at {b_start}, outside its window {brk[0]}..{brk[1]}")
    return problems + _check_legs(request, result, v, route)


def _check_legs(
    request: RouteRequest, result: RouteResult, v: int, route: tuple[int, ...]
) -> list[str]:
    """Each arrival follows from leaving the previous place (plus a break taken on the way),
    each start is in its window, and the break overlaps no visit."""
    problems: list[str] = []
    arrivals, starts = result.arrival_s[v], result.start_s[v]
    depart, ret, b_start = result.depart_s[v], result.return_s[v], result.break_start_s[v]
    b_end = None
    if request.break_s is not None and b_start is not None:
        b_end = b_start + request.break_s[2]
    path = [0, *route, 0]
    leave = depart
    break_placed = b_start is None or (b_end is not None and b_end <= depart) or b_start >= ret
    for g in range(len(route) + 1):
        travel = int(request.duration_s[path[g], path[g + 1]])
        expected = leave + travel
        next_start = ret if g == len(route) else starts[g]
        if b_start is not None and b_end is not None and leave <= b_start and b_end <= next_start:
            # the break falls between leaving this place and the next start
            if not break_placed and b_start < leave + travel:
                expected += b_end - b_start  # the break interrupts this drive
            break_placed = True
        if g == len(route):
            if ret != expected:
                problems.append(
                    f"vehicle {v} returns at {ret} but its drive home ends at {expected}"
                )
            break
        node = route[g]
        if arrivals[g] != expected:
            problems.append(
                f"vehicle {v} arrives at stop {node} at {arrivals[g]}, the drive says {expected}"
            )
        if starts[g] < arrivals[g]:
            problems.append(f"vehicle {v} starts stop {node} at {starts[g]}, before arriving")
        lo, hi = int(request.window_s[node, 0]), int(request.window_s[node, 1])
        if not lo <= starts[g] <= hi:
            problems.append(f"vehicle {v} starts stop {node} at {starts[g]}, outside {lo}..{hi}")
        leave = starts[g] + int(request.service_s[node])
    if not break_placed:
        problems.append(f"vehicle {v}'s break at {b_start} overlaps a visit")
    return problems
