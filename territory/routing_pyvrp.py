"""Routing stage, search core: one day's routes by PyVRP's iterated local search.

The only module that imports PyVRP. `routing.solve_routes` builds a `RouteRequest` and hands it
here when PyVRP can express it; the answer is node lists only (the times are recomputed by
``routing`` from the order, with the break exactly as the rep takes it).

PyVRP has no break. One break per single-vehicle route is modelled by *break copies*: one
optional client per place (home and every stop) at that place, with the break's duration as its
service and the break window as its time window, all in one required, mutually exclusive group,
so the route takes exactly one of them. A copy at stop ``j`` is the break taken just before or
just after the visit at ``j`` (travel to and from a copy is that of ``j``), at home before
leaving or after coming back. Every order PyVRP finds feasible this way is feasible for the
rep's break, which may also start while driving (``routing._schedule`` places it at least as
early), so the copies restrict the search only in the rare case where the break can only be
taken by stopping between two places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from numpy.typing import NDArray
from pyvrp.IteratedLocalSearch import IteratedLocalSearch, IteratedLocalSearchParams
from pyvrp.search import (
    OPERATORS,
    LocalSearch,
    PerturbationManager,
    PerturbationParams,
    compute_neighbours,
)
from pyvrp.stop import MaxIterations, MaxRuntime

__all__ = ["PyvrpRoutes", "pyvrp_routes"]

_INT_MAX = int(np.iinfo(np.int64).max)


@dataclass(frozen=True)
class PyvrpRoutes:
    """Routes found by PyVRP: stop node ids per vehicle (depot and break copies left out),
    whether PyVRP judged the solution feasible, and the iterations it ran."""

    routes: tuple[tuple[int, ...], ...]
    feasible: bool
    iterations: int


def pyvrp_routes(
    duration_s: NDArray[np.int64],
    cost: NDArray[np.int64],
    service_s: NDArray[np.int64],
    window_s: NDArray[np.int64],
    *,
    vehicles: int = 1,
    demand: NDArray[np.int64] | None = None,
    capacity: int | None = None,
    max_route_s: int | None = None,
    break_s: tuple[int, int, int] | None = None,
    prize: NDArray[np.int64] | None = None,
    iterations: int | None = None,
    time_limit_s: float | None = None,
    initial_routes: tuple[tuple[int, ...], ...] | None = None,
    initial_break_after: int = 0,
    seed: int = 0,
    max_perturbations: int = 25,
    penalty: float | None = None,
    skip_operators: tuple[str, ...] = (),
    exhaustive_on_best: bool = True,
) -> PyvrpRoutes:
    """Search routes over nodes ``0..N-1`` (node 0 = depot) with PyVRP.

    Parameters
    ----------
    duration_s, cost
        (N, N) travel seconds and arc costs (integers).
    service_s, window_s
        (N,) service seconds and (N, 2) windows on the service start; row 0 is the working day.
        A node with an empty window is left out.
    vehicles, demand, capacity, max_route_s
        Fleet size, load per node and capacity per vehicle, limit on each route's span.
    break_s
        (earliest start, latest start, duration) of one break; only with ``vehicles == 1``.
    prize
        (N,) when given, every stop is optional and leaving it out costs this much.
    iterations, time_limit_s
        The budget: iterations (deterministic) or seconds, whichever is given (iterations win
        when both are).
    initial_routes
        A warm start (stop node ids per vehicle); ignored when PyVRP rejects it.
    initial_break_after
        With a break: the warm start takes it after this many stops of its first route (0: at
        home before leaving; the copy at the stop before it otherwise).
    seed
        Seed of PyVRP's random stream.
    max_perturbations
        Upper bound on the customers PyVRP's perturbation moves per iteration (its default is
        25). Strong perturbation pays off on one route: measured on synthetic rep days, twice
        the stops (at most 40) reaches long-search quality in fewer iterations.
    penalty
        The search's starting penalty per unit of time warp (and of excess load), in cost
        units; None: PyVRP's default (the middle of its range, 50,000, which for cost in metres
        and time in seconds all but forbids time warp). Penalties are updated every 500
        iterations, so with a short budget this is the penalty of the whole search.
    skip_operators
        Class names of PyVRP's local-search operators to leave out (e.g. ``"Swap22"``).
    exhaustive_on_best
        Whether each new best solution gets a full local search (PyVRP's default, True).

    Returns
    -------
    PyvrpRoutes
        The best solution found, by node ids.
    """
    n = int(duration_s.shape[0])
    day_start, day_end = int(window_s[0, 0]), int(window_s[0, 1])
    stops = [i for i in range(1, n) if window_s[i, 0] <= window_s[i, 1]]
    dims = 1 if demand is not None and capacity is not None else 0
    clients = []
    for i in stops:
        clients.append(
            pyvrp.Client(
                location=i,
                delivery=[int(demand[i])] if dims and demand is not None else [],
                service_duration=int(service_s[i]),
                tw_early=int(window_s[i, 0]),
                tw_late=int(window_s[i, 1]),
                prize=int(prize[i]) if prize is not None else 0,
                required=prize is None,
            )
        )
    groups = []
    if break_s is not None:
        b_lo, b_hi, b_dur = (int(x) for x in break_s)
        first = len(clients)  # client indices count from 0
        copies = [0, *stops]
        clients += [
            pyvrp.Client(
                location=place,
                service_duration=b_dur,
                tw_early=b_lo,
                tw_late=b_hi,
                required=False,
                group=0,
            )
            for place in copies
        ]
        groups.append(pyvrp.ClientGroup(list(range(first, first + len(copies))), required=True))
    # PyVRP's stubs type a matrix as ``ndarray[int]``; int64 arrays are what it reads.
    matrices: Any = ([np.asarray(cost, dtype=np.int64)], [np.asarray(duration_s, dtype=np.int64)])
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=0, y=0) for _ in range(n)],
        clients=clients,
        depots=[pyvrp.Depot(location=0, tw_early=day_start, tw_late=day_end)],
        vehicle_types=[
            pyvrp.VehicleType(
                num_available=int(vehicles),
                capacity=[int(capacity)] if dims and capacity is not None else [],
                tw_early=day_start,
                tw_late=day_end,
                shift_duration=int(max_route_s) if max_route_s is not None else _INT_MAX,
            )
        ],
        distance_matrices=matrices[0],
        duration_matrices=matrices[1],
        groups=groups,
    )
    # client index -> node id (break copies have none)
    node_of: dict[int, int] = dict(enumerate(stops))
    stop = (
        MaxIterations(int(iterations))
        if iterations is not None
        else MaxRuntime(float(time_limit_s if time_limit_s is not None else 1.0))
    )
    initial = _initial(data, initial_routes, stops, break_s is not None, initial_break_after)
    result = run_ils(
        data,
        stop,
        int(seed),
        initial,
        max_perturbations=max(1, max_perturbations),
        penalty=penalty,
        skip_operators=skip_operators,
        exhaustive_on_best=exhaustive_on_best,
    )
    best = result.best
    routes: list[tuple[int, ...]] = []
    for route in best.routes():
        visits = (a.idx for a in route if a.is_client())
        routes.append(tuple(node_of[c] for c in visits if c in node_of))
    routes += [()] * (int(vehicles) - len(routes))
    return PyvrpRoutes(tuple(routes), bool(best.is_feasible()), int(result.num_iterations))


def run_ils(
    data: pyvrp.ProblemData,
    stop: MaxIterations | MaxRuntime,
    seed: int,
    initial: pyvrp.Solution | None,
    *,
    max_perturbations: int,
    penalty: float | None = None,
    skip_operators: tuple[str, ...] = (),
    exhaustive_on_best: bool = True,
    neighbours: dict[Any, list[Any]] | None = None,
    history_length: int = 300,
) -> pyvrp.Result:
    """`pyvrp.solve`, with the starting penalties given (its own start at the midpoint of
    its range), without the operators named, with the granular ``neighbours`` given (None:
    PyVRP's own) and a late-acceptance history of ``history_length``. The whole-period polish
    (`periodic_pyvrp`) runs through here too."""
    params = pyvrp.SolveParams(
        perturbation=PerturbationParams(1, max_perturbations),
        ils=IteratedLocalSearchParams(
            history_length=history_length, exhaustive_on_best=exhaustive_on_best
        ),
    )
    if penalty is None and not skip_operators and neighbours is None:
        return pyvrp.solve(
            data,
            stop,
            seed=seed % 2**32,  # PyVRP's generator takes a 32-bit seed
            collect_stats=False,
            initial_solution=initial,
            params=params,
        )
    # pyvrp.solve, step by step
    rng = pyvrp.RandomNumberGenerator(seed=seed % 2**32)
    if neighbours is None:
        neighbours = compute_neighbours(data, params.neighbourhood)
    search = LocalSearch(data, rng, neighbours, PerturbationManager(params.perturbation))
    for op in OPERATORS:
        if op.__name__ not in skip_operators and op.supports(data):
            search.add_operator(op(data))
    if penalty is None:
        start = params.penalty.midpoint_penalties(data)
    else:
        start = ([float(penalty)] * data.num_load_dimensions, float(penalty), float(penalty))
    manager = pyvrp.PenaltyManager(start, params.penalty)
    if initial is None:
        random = pyvrp.Solution.make_random(data, rng)
        initial = search(random, manager.max_cost_evaluator(), exhaustive=True)
    algo = IteratedLocalSearch(data, manager, search, initial, params.ils)
    return algo.run(stop, collect_stats=False)


def _initial(
    data: pyvrp.ProblemData,
    initial_routes: tuple[tuple[int, ...], ...] | None,
    stops: list[int],
    has_break: bool,
    break_after: int = 0,
) -> pyvrp.Solution | None:
    """The warm start as a PyVRP solution (the break copy after ``break_after`` stops of
    the first route, at the place of the stop before it; 0: at home first), or None."""
    if not initial_routes:
        return None
    client_of = {i: k for k, i in enumerate(stops)}
    routes = []
    for r in initial_routes:
        route = [client_of[i] for i in r if i in client_of]
        if route:
            routes.append(route)
    if has_break:
        home_copy = len(stops)  # copies follow the stops: home, then one per stop
        if routes:
            at = min(max(0, break_after), len(routes[0]))
            first = routes[0]
            copy = home_copy if at == 0 else home_copy + 1 + first[at - 1]
            routes[0] = [*first[:at], copy, *first[at:]]
        else:
            routes = [[home_copy]]
    if not routes:
        return None
    try:
        return pyvrp.Solution(data, routes)
    except (RuntimeError, ValueError):
        return None
