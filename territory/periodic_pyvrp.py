"""The whole period as one PyVRP instance: day choice of single-visit customers included.

`periodic.solve_periodic` chooses visit patterns with its own search; this module hands the
result to PyVRP's iterated local search as *one* vehicle routing problem over all days, so that
the routes of every day and the day of every customer visited once per period are searched
together by a C++ local search (Vidal et al. 2012 route the days of a PVRP the same way).

Encoding. Day ``d`` is a vehicle type of ``vehicles_per_day`` vehicles whose shift is the time
window ``[d H, d H + D]`` (``D`` the duration limit, ``H > D``), so a vehicle of day ``d`` can only
serve visits whose window lies on day ``d``. A customer whose allowed patterns are all single days
becomes one client whose window spans those days when they follow each other without a gap (any
vehicle of those days may serve it), else one optional copy per allowed day, the copies in one
required, mutually exclusive group (PyVRP visits exactly one of them); either way its day is
chosen by the search. Every other customer keeps the pattern it has and becomes one required
copy per day of it; an unscheduled customer (where the problem allows it) stays out. When the
days are interchangeable (`periodic.interchangeable_days`: every customer once, on any day) the
period is one capacitated VRP: one vehicle type of ``days x vehicles_per_day`` vehicles, no
windows, and route ``k`` goes to day ``k // vehicles_per_day``. Travel is scaled to integers
(rounded up for durations, so PyVRP's feasible routes keep the limit in floats too), and the
result is checked again in floats; it is kept only when it is cheaper and feasible.

Search. PyVRP's iterated local search with its operators, but with a granular neighbourhood of
our own (`periodic.PeriodSearch`): PyVRP's would give each visit its 50 nearest clients, and on a
period most of those are copies on other days (the same place's other copies first, at distance
0), whose moves can never be feasible; here a visit of a fixed day gets the nearest visits of its
day at other places, and a visit whose day is free the nearest visits of any day (PyVRP's
RelocateAlternative then puts it on that neighbour's day). Fewer perturbations and a shorter
late-acceptance history than PyVRP's defaults suit the short budgets of the rounds.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pyvrp
from numpy.typing import NDArray
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import compute_neighbours
from pyvrp.stop import MaxIterations as PyvrpMaxIterations
from pyvrp.stop import MaxRuntime as PyvrpMaxRuntime

from .periodic import (
    MaxIterations,
    MaxRuntime,
    PeriodicProblem,
    PeriodicSolution,
    PeriodSearch,
    check_solution,
    day_span,
    interchangeable_days,
    route_cost,
    single_day_days,
)
from .routing_pyvrp import run_ils

__all__ = ["route_period", "template_start"]

#: Travel units per integer unit of PyVRP's distances (fine enough: 1e-4 of a unit per leg).
_SCALE = 1e4


def route_period(
    problem: PeriodicProblem,
    solution: PeriodicSolution,
    budget: MaxIterations | MaxRuntime,
    *,
    seed: int = 0,
    settings: PeriodSearch | None = None,
) -> PeriodicSolution:
    """Route all days of ``solution`` again as one PyVRP problem, single-day customers free.

    Parameters
    ----------
    problem
        The instance.
    solution
        A feasible plan: its routes are the warm start, its patterns of multi-visit customers
        stay, and so do its unscheduled customers (none are added). Returned unchanged when it
        is infeasible or schedules nobody.
    budget
        PyVRP's budget: iterations (deterministic) or seconds.
    seed
        Seed of PyVRP's random stream.
    settings
        PyVRP's neighbourhood, perturbation and acceptance settings; None: the defaults.

    Returns
    -------
    PeriodicSolution
        The cheaper of PyVRP's feasible answer and ``solution``.
    """
    if not solution.feasible or not any(solution.pattern):
        return solution
    data, copies, initial = _period_data(problem, solution)
    stop = _pyvrp_stop(budget)
    try:
        start = pyvrp.Solution(
            data,
            [pyvrp.Route(data, visits, vehicle_type=day) for day, visits in initial if visits],
        )
    except (RuntimeError, ValueError):  # pragma: no cover - the warm start is always valid
        start = None
    settings = settings if settings is not None else PeriodSearch()
    neighbours = (
        compute_neighbours(data)
        if settings.neighbours is None
        else _day_neighbours(problem, copies, settings.neighbours)
    )
    with warnings.catch_warnings():
        # the day windows drive PyVRP's time-warp penalty to its bound; the answer is checked
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = run_ils(
            data,
            stop,
            int(seed),
            start,
            max_perturbations=max(1, settings.max_perturbations),
            neighbours=neighbours,
            history_length=max(1, settings.history_length),
        )
    best = result.best
    if not best.is_feasible():
        return solution
    routes: list[list[tuple[int, ...]]] = [[] for _ in range(problem.days)]
    alike = interchangeable_days(problem)
    for k, route in enumerate(best.routes()):
        # interchangeable days: one vehicle type, route k on day k // vehicles_per_day
        day = k // problem.vehicles_per_day if alike else int(route.vehicle_type())
        routes[day].append(tuple(copies[a.idx][0] for a in route if a.is_client()))
    for day_routes in routes:
        day_routes.extend([()] * (problem.vehicles_per_day - len(day_routes)))
    pattern = [0] * problem.n_customers
    for day, day_routes in enumerate(routes):
        for r in day_routes:
            for c in r:
                pattern[c - 1] |= 1 << day
    found = PeriodicSolution(
        pattern=tuple(pattern),
        routes=tuple(tuple(day) for day in routes),
        cost=0.0,
        feasible=False,
        iterations=solution.iterations,
    )
    found = replace(found, cost=route_cost(problem, found))
    if check_solution(problem, found) or found.cost >= solution.cost - 1e-9:
        return solution
    return replace(found, feasible=True)


def _pyvrp_stop(budget: MaxIterations | MaxRuntime) -> Any:
    """PyVRP's stopping criterion for ``budget``: its iterations or its seconds."""
    if isinstance(budget, MaxIterations):
        return PyvrpMaxIterations(budget.iterations)
    return PyvrpMaxRuntime(budget.seconds)


def _day_neighbours(
    problem: PeriodicProblem,
    copies: list[tuple[int, int]],
    size: int,
) -> dict[Any, list[Any]]:
    """Each client copy's granular neighbourhood: the ``size`` nearest copies at other places
    on its own day, or on any day for a copy whose day is free (PyVRP's RelocateAlternative
    then moves it to a neighbour's day). Ties break by copy index (deterministic)."""
    acts = [pyvrp.Activity(pyvrp.ActivityType.CLIENT, i) for i in range(len(copies))]
    loc = np.fromiter((c for c, _ in copies), dtype=np.intp, count=len(copies))
    day = np.fromiter((d for _, d in copies), dtype=np.intp, count=len(copies))
    free = np.fromiter(
        (single_day_days(problem.patterns[c - 1]) is not None for c, _ in copies),
        dtype=bool,
        count=len(copies),
    )
    travel = np.asarray(problem.travel, dtype=np.float64)
    prox = travel[np.ix_(loc, loc)]
    prox = prox + prox.T
    out: dict[Any, list[Any]] = {}
    for i in range(len(copies)):
        ok = loc != loc[i]
        if not free[i]:  # its own day, and the visits whose window spans several days
            ok &= (day == day[i]) | (day < 0)
        cand = np.flatnonzero(ok)
        near = cand[np.argsort(prox[i, cand], kind="stable")[:size]]
        out[acts[i]] = [acts[j] for j in near.tolist()]
    return out


def _scaled_span(dur: NDArray[np.int64], svc: NDArray[np.int64], route: tuple[int, ...]) -> int:
    """Duration of ``route`` in PyVRP's integer units (0 when empty)."""
    if not route:
        return 0
    a = np.array([0, *route, 0], dtype=np.intp)
    return int(dur[a[:-1], a[1:]].sum() + svc[a].sum())


def _period_data(
    problem: PeriodicProblem, solution: PeriodicSolution
) -> tuple[pyvrp.ProblemData, list[tuple[int, int]], list[tuple[int, list[int]]]]:
    """PyVRP's data, the (customer, day) of each client copy, and the warm start's routes
    as (day, client copies) per route."""
    travel = np.asarray(problem.travel, dtype=np.float64)
    service = np.asarray(problem.service, dtype=np.float64)
    dist = np.rint(travel * _SCALE).astype(np.int64)
    dur: NDArray[np.int64] = np.ceil(travel * _SCALE - 1e-6).astype(np.int64)
    svc = np.ceil(service * _SCALE - 1e-6).astype(np.int64)
    if problem.max_duration is not None:
        limit = math.floor(problem.max_duration * _SCALE + 1e-6)
    else:  # no limit: twice the longest route so far (days far apart confuse PyVRP's penalties)
        longest = max(
            (_scaled_span(dur, svc, route) for day in solution.routes for route in day),
            default=0,
        )
        limit = 2 * longest + 1
    span = limit + 1  # days never overlap
    demand = problem.demand
    dims = 1 if demand is not None and problem.capacity is not None else 0
    d_scale = 1.0
    if demand is not None and not np.allclose(demand, np.round(demand)):
        d_scale = 1000.0
    alike = interchangeable_days(problem)
    copies: list[tuple[int, int]] = []
    copy_of: dict[tuple[int, int], int] = {}
    clients: list[pyvrp.Client] = []
    groups: list[pyvrp.ClientGroup] = []

    def client(c: int, early: int, late: int, group: int | None) -> pyvrp.Client:
        return pyvrp.Client(
            location=c,
            delivery=[round(float(demand[c]) * d_scale)] if dims and demand is not None else [],
            service_duration=int(svc[c]),
            tw_early=early,
            tw_late=late,
            required=group is None,
            group=group,
        )

    for c in range(1, problem.n_customers + 1):
        if not solution.pattern[c - 1]:  # unscheduled (where allowed): stays so
            continue
        free = single_day_days(problem.patterns[c - 1])
        days = (
            free
            if free is not None
            else [d for d in range(problem.days) if solution.pattern[c - 1] >> d & 1]
        )
        wide = day_span(free)
        if wide is not None:  # one client whose window spans its days (day -1: not fixed)
            copy_of.update({(c, d): len(clients) for d in days})
            copies.append((c, -1))
            late = 2**62 if alike else wide[1] * span + limit
            clients.append(client(c, 0 if alike else wide[0] * span, late, None))
            continue
        first = len(clients)
        for d in days:
            copy_of[c, d] = len(clients)
            copies.append((c, d))
            group = len(groups) if free is not None else None
            clients.append(client(c, d * span, d * span + limit, group))
        if free is not None:
            groups.append(pyvrp.ClientGroup(list(range(first, len(clients))), required=True))
    capacity = (
        [math.floor(float(problem.capacity) * d_scale + 1e-9)]
        if dims and problem.capacity is not None
        else []
    )
    if alike:  # no windows: any vehicle serves any day
        vehicle_types = [
            pyvrp.VehicleType(
                num_available=problem.vehicles_per_day * problem.days,
                capacity=capacity,
                shift_duration=limit if problem.max_duration is not None else 2**62,
                name="day",
            )
        ]
    else:
        vehicle_types = [
            pyvrp.VehicleType(
                num_available=problem.vehicles_per_day,
                capacity=capacity,
                tw_early=d * span,
                tw_late=d * span + limit,
                shift_duration=limit,
                name=f"day{d}",
            )
            for d in range(problem.days)
        ]
    matrices: Any = ([dist], [dur])
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=0, y=0) for _ in range(problem.n_customers + 1)],
        clients=clients,
        depots=[pyvrp.Depot(location=0, tw_early=0, tw_late=problem.days * span)],
        vehicle_types=vehicle_types,
        distance_matrices=matrices[0],
        duration_matrices=matrices[1],
        groups=groups,
    )
    initial = [
        (0 if alike else day, [copy_of[c, day] for c in route])
        for day, day_routes in enumerate(solution.routes)
        for route in day_routes
    ]
    return data, copies, initial


def template_start(
    problem: PeriodicProblem, budget: MaxIterations | MaxRuntime, *, seed: int = 0
) -> PeriodicSolution | None:
    """A first plan whose vehicles keep to one area every day (`SearchParams.template`).

    The *average day* is routed first: one capacitated VRP over every customer, each with its
    demand and visit time times its visits over the days (a customer visited on two days of
    four counts half), ``vehicles_per_day`` vehicles, the duration limit; PyVRP for ``budget``.
    Each of its routes is a sector. Within a sector the customers visited every day are on
    every day; the others, those with the most visits first and then in the order of the
    sector's route, take the allowed pattern whose days are least used so far (load over the
    capacity plus visit time over the duration limit), so each sector's days carry about the
    same. Vehicle ``k`` of day ``d`` then drives sector ``k``'s route through the customers
    visited on day ``d``. The limits may be exceeded; the search starts from it under its
    penalties. None when the average day's routes leave a customer out.
    """
    n, days, m = problem.n_customers, problem.days, problem.vehicles_per_day
    if n == 0 or not all(problem.patterns):
        return None
    travel = np.asarray(problem.travel, dtype=np.float64)
    service = np.asarray(problem.service, dtype=np.float64)[1:]
    visits = np.array([min(bin(p).count("1") for p in pats) for pats in problem.patterns])
    share = visits / days
    demand = (
        np.asarray(problem.demand, dtype=np.float64)[1:]
        if problem.demand is not None and problem.capacity is not None
        else None
    )
    dist: Any = np.rint(travel * _SCALE).astype(np.int64)  # PyVRP's stubs want another shape
    clients = [
        pyvrp.Client(
            location=c + 1,
            delivery=[round(1000.0 * float(demand[c] * share[c]))] if demand is not None else [],
            service_duration=math.ceil(float(service[c] * share[c]) * _SCALE - 1e-6),
        )
        for c in range(n)
    ]
    vehicle = pyvrp.VehicleType(
        num_available=m,
        capacity=[math.floor(1000.0 * float(problem.capacity or 0.0) + 1e-6)]
        if demand is not None
        else [],
        shift_duration=(
            math.floor(problem.max_duration * _SCALE + 1e-6)
            if problem.max_duration is not None
            else 2**62
        ),
    )
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=0, y=0) for _ in range(n + 1)],
        clients=clients,
        depots=[pyvrp.Depot(location=0)],
        vehicle_types=[vehicle],
        distance_matrices=[dist],
        duration_matrices=[dist],
    )
    stop = _pyvrp_stop(budget)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp.solve(data, stop, seed=int(seed) % 2**32, collect_stats=False)
    tours = [[a.idx + 1 for a in r if a.is_client()] for r in result.best.routes()]
    if sum(len(t) for t in tours) != n:
        return None
    # what a visit uses of a vehicle-day: load over the capacity plus time over the limit
    use = np.zeros(n + 1)
    if demand is not None:
        use[1:] += demand / max(float(problem.capacity or 0.0), 1e-9)
    if problem.max_duration is not None:
        use[1:] += service / max(float(problem.max_duration), 1e-9)
    if not use.any():
        use[1:] = 1.0
    pattern = [0] * n
    for tour in tours:
        used = np.zeros(days)
        rank = {c: k for k, c in enumerate(tour)}
        for c in sorted(
            tour, key=lambda c: (len(problem.patterns[c - 1]) > 1, -visits[c - 1], rank[c])
        ):
            pats = problem.patterns[c - 1]
            best_p, best_key = pats[0], (math.inf, math.inf)
            for p in pats:
                on = [d for d in range(days) if p >> d & 1]
                key = (max(used[d] for d in on) + use[c], sum(used[d] for d in on))
                if key < best_key:
                    best_p, best_key = p, key
            pattern[c - 1] = best_p
            for d in range(days):
                if best_p >> d & 1:
                    used[d] += use[c]
    routes = tuple(
        tuple(
            [tuple(c for c in tour if pattern[c - 1] >> d & 1) for tour in tours]
            + [()] * (m - len(tours))
        )
        for d in range(days)
    )
    plan = PeriodicSolution(tuple(pattern), routes, 0.0, False, 0)
    plan = replace(plan, cost=route_cost(problem, plan))
    return replace(plan, feasible=not check_solution(problem, plan))
