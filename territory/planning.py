"""Visit planning: one territory's period planned (patterns, day routes, repair), and many at once.

Chapter 6.5 of Rustenburg & Steenbeek, *Salesmanagement*. Per territory: the reasons why a
customer cannot be planned at all, the allowed visit patterns of the others (``schedule``), an
initial pattern choice grown as petals around the rep's home, improved by the periodic engine on
real route costs (``periodic``), every day routed with OR-Tools inside the working day, opening
hours and the lunch break (``routing``), and visits that still do not fit moved to another
pattern or made room for by moving a once-a-period customer; what remains is reported as
unscheduled, with a reason. Territories are independent, so :func:`plan_tasks` runs them on any
executor. Rebalancing the team on the routed workload is the next stage, ``rebalance``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Container, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from .cluster import Workers
from .exceptions import ConfigError, TerritoryError
from .models import Customer, DayRoute, Rep, UnscheduledVisit, Visit
from .params import Config, format_hhmm
from .periodic import (
    MaxIterations,
    PeriodicProblem,
    period_fits,
    prioritise,
    solve_periodic,
    stopping_criterion,
)
from .routing import RouteRequest, RouteResult, solve_routes
from .schedule import (
    PetalInput,
    customer_patterns,
    day_label,
    day_of_index,
    pattern_days,
    pattern_problem,
    petal_patterns,
    rep_weekdays,
    usable_weekdays,
    window_problem,
)
from .travel import Legs, Points, TravelModel, crow
from .workdays import blocked_mask, day_of_date
from .workload import customer_workload, rep_admin_min

log = logging.getLogger(__name__)

#: Working days a plan can span: the periodic engine keeps a customer's visit days as the bits
#: of a 64-bit integer (``size`` and ``design`` have no such limit).
MAX_PLAN_DAYS = 63

#: Cost (seconds of route time) of leaving a stop unscheduled on a day route: far above any
#: real route, so OR-Tools leaves a stop out only when it cannot be fitted at all.
UNSCHEDULED_PENALTY_S = 10_000_000

#: How many times more it costs to leave out a visit of one customer class than one of the next
#: less important class (:func:`class_priority`; used by `periodic.prioritise` after the search
#: and by the repair's displacement): a team too small for its work leaves out C visits before
#: B visits, and B visits before A visits.
CLASS_PRIORITY_STEP = 10.0

#: Visits of less important customers a day may lose, at most, to make room for a visit of a
#: more important one (:meth:`_Days.by_displacing`; one route call each).
DISPLACE_TRIES = 6

#: Shares of a territory's time limit: the periodic search stops at the first, repair at the
#: second, and from the second on days get quick routes (their first solutions only).
SEARCH_SHARE = 0.6
REPAIR_SHARE = 0.8

Progress = Callable[[str, float], None]


def check_plan_period(config: Config, source: str = "plan.toml") -> None:
    """Refuse a period longer than :data:`MAX_PLAN_DAYS` working days, before any work.

    Raises
    ------
    ConfigError
        The period's weeks x days exceed the limit; the message names the largest weeks.
    """
    period = config.period
    if period.working_days > MAX_PLAN_DAYS:
        raise ConfigError(
            f"{source}: [period] weeks = {period.weeks} of {len(period.days)} days gives "
            f"{period.working_days} working days; plan handles at most {MAX_PLAN_DAYS} (weeks "
            f"= {MAX_PLAN_DAYS // len(period.days)} or fewer); size and design take longer periods"
        )


@dataclass(frozen=True)
class TerritoryPlan:
    """One territory's plan over the period, with its routed totals (minutes, km).

    Attributes
    ----------
    rep_id
        The rep.
    days
        The rep's working days that have visits, in period order.
    unscheduled
        Visits that could not be scheduled, with reasons.
    visit_min, travel_min, travel_km
        Routed totals over the period (travel includes every way home).
    admin_min
        Admin time of the period (``admin_minutes`` per working day, scaled by capacity).
    unscheduled_min
        Visit minutes of the unscheduled visits plus an estimate of their travel
        (``unscheduled_travel_min``: the drive from home to each).
    patterns
        The chosen pattern (day bitmask) per customer of the territory, in input order; 0 when
        the customer is unscheduled.
    unscheduled_travel_min
        The travel part of ``unscheduled_min``.
    time_capped
        True when ``planning.territory_time_limit_s`` cut the search short.
    """

    rep_id: str
    days: tuple[DayRoute, ...]
    unscheduled: tuple[UnscheduledVisit, ...]
    visit_min: float
    travel_min: float
    travel_km: float
    admin_min: float
    unscheduled_min: float
    patterns: tuple[int, ...] = ()
    unscheduled_travel_min: float = 0.0
    time_capped: bool = False

    @property
    def workload_min(self) -> float:
        """Routed workload: visits + routed travel + admin (minutes per period)."""
        return self.visit_min + self.travel_min + self.admin_min

    @property
    def demand_min(self) -> float:
        """The work the territory asks for: routed workload plus the unscheduled estimate."""
        return self.workload_min + self.unscheduled_min


# --------------------------------------------------------------------------------------------
# The territory: its working day, matrices and day routing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DayFrame:
    """The working day of one rep in minutes: leave home, back home (before admin), lunch."""

    start_min: int
    end_min: int  # back home by this time; admin follows at home
    selling_min: int  # end - start - lunch
    lunch: tuple[int, int, int] | None  # (earliest start, latest start, minutes)


def _day_frame(rep: Rep, config: Config) -> _DayFrame:
    d = config.day
    start = rep.start_min if rep.start_min is not None else d.start_min
    full_end = rep.end_min if rep.end_min is not None else d.end_min
    # A part-time rep (capacity < 1) works the same days, each shortened in proportion, so the
    # plan matches workload.rep_capacity_min and rep_admin_min (both scale with capacity).
    work = full_end - start - d.lunch_minutes - d.admin_minutes
    end = min(full_end - d.admin_minutes, start + d.lunch_minutes + round(rep.capacity * work))
    lunch = None
    if d.lunch_minutes > 0:
        lo = max(d.lunch_from_min, start)
        hi = min(d.lunch_until_min, end) - d.lunch_minutes
        if hi >= lo:
            lunch = (lo, hi, d.lunch_minutes)
    selling = end - start - (d.lunch_minutes if lunch else 0)
    return _DayFrame(start, end, max(selling, 0), lunch)


def working_window(rep: Rep, config: Config) -> tuple[int, int, tuple[int, int, int] | None]:
    """The rep's planned working day: leave home, back home (before admin), and the lunch break
    as (earliest start, latest start, minutes) or None; minutes after midnight."""
    frame = _day_frame(rep, config)
    return frame.start_min, frame.end_min, frame.lunch


def _window_s(c: Customer, frame: _DayFrame) -> tuple[int, int]:
    """Allowed service START window in seconds, inside the working day."""
    open_min = c.open_min if c.open_min is not None else frame.start_min
    close_min = c.close_min if c.close_min is not None else frame.end_min
    lo = max(open_min, frame.start_min) * 60
    hi = math.floor((min(close_min, frame.end_min) - c.visit_minutes) * 60)
    return lo, hi


@dataclass(frozen=True)
class _RoutedDay:
    """One routed day: the visiting order (territory customer positions) and the route."""

    order: list[int]
    result: RouteResult

    @property
    def span_s(self) -> int:
        """Seconds from departure to return (0 for an infeasible route)."""
        r = self.result
        return (r.return_s[0] - r.depart_s[0]) if r.feasible and r.depart_s else 0


def class_priority(config: Config) -> dict[str, float]:
    """Weight per customer class of leaving one of its visits out: the least important class
    1, each more important class :data:`CLASS_PRIORITY_STEP` times the one below it.

    A class's importance is the time the ABC policy gives one of its customers per period
    (visits x minutes per visit, from ``[classes]``; on a tie the name, A before B): A before
    B before C in the default classes and the sample's. A class not in ``[classes]`` counts
    as the least important.
    """
    ranked = sorted(
        config.classes.items(), key=lambda kv: (-kv[1].visits * kv[1].visit_minutes, kv[0])
    )
    top = len(ranked) - 1
    return {name: CLASS_PRIORITY_STEP ** (top - rank) for rank, (name, _) in enumerate(ranked)}


class _Territory:
    """One territory while it is planned: the rep's day, matrices over home + customers (node
    0 is home, node ``i + 1`` customer ``i``), the time cap, and routing one day."""

    def __init__(
        self,
        rep: Rep,
        customers: Sequence[Customer],
        config: Config,
        *,
        seed: int,
        limit_s: float,
        legs: Legs,
    ) -> None:
        self.started = time.perf_counter()
        self.limit_s = limit_s
        self.rep = rep
        self.customers = tuple(customers)
        self.config = config
        self.seed = seed
        self.frame = _day_frame(rep, config)
        # Per territory only (home + its customers): never the whole file.
        self.km, self.minutes = legs.km, legs.minutes
        self.seconds = np.rint(self.minutes * 60.0).astype(np.int64)
        self.service_s = np.array(
            [0] + [round(c.visit_minutes * 60) for c in customers], dtype=np.int64
        )
        win = [(self.frame.start_min * 60, self.frame.end_min * 60)]
        win += [_window_s(c, self.frame) for c in customers]
        self.window_s = np.array(win, dtype=np.int64)
        period = config.period
        self.n_days = period.working_days
        weekdays = set(rep_weekdays(rep, config))
        # holidays and absences: no visit on those days (workdays.days_off)
        self.blocked = blocked_mask(rep, config)
        self.working_days = tuple(
            d
            for d in range(self.n_days)
            if day_of_index(d, period)[1] in weekdays and not (self.blocked >> d) & 1
        )
        # booked visits: day -> {customer position: (start s, service s)}
        self.fixed: dict[int, dict[int, tuple[int, int]]] = {}
        self.fixed_mask = [0] * len(self.customers)
        for i, c in enumerate(self.customers):
            for a in c.appointments:
                day = day_of_date(period, a.date)
                if day is None:
                    continue
                minutes = a.minutes if a.minutes is not None else c.visit_minutes
                self.fixed.setdefault(day, {})[i] = (a.start_min * 60, round(minutes * 60))
                self.fixed_mask[i] |= 1 << day
        self.capped = False  # the time cap cut something short
        # cost of leaving out one visit, relative: the class's priority (class_priority) once
        # the territory asks for more time than the rep has (prioritise_classes), else 1
        self.priority = [1.0] * len(customers)
        self.overloaded = False

    def prioritise_classes(
        self, travel_estimate_min: Sequence[float] | NDArray[np.float64]
    ) -> None:
        """Give the customers their class's priority when the territory asks for more time
        than the rep has (visits x (minutes + estimated travel) over the working days' selling
        time): only then does a visit left out mean a visit the team cannot make, and the
        least important ones go first. Where everything should fit, the plan is as without."""
        demand = sum(
            c.visits * (c.visit_minutes + float(est))
            for c, est in zip(self.customers, travel_estimate_min, strict=True)
        )
        self.overloaded = demand > len(self.working_days) * self.frame.selling_min
        if self.overloaded:
            weights = class_priority(self.config)
            self.priority = [weights.get(c.customer_class, 1.0) for c in self.customers]

    def minutes_on(self, day: int, i: int) -> float:
        """Minutes customer ``i`` is visited on ``day`` (an appointment's own length)."""
        booked = self.fixed.get(day, {}).get(i)
        return booked[1] / 60 if booked is not None else self.customers[i].visit_minutes

    def service_on(self, day: int, i: int) -> int:
        """Seconds customer ``i`` is visited on ``day`` (an appointment's own length)."""
        booked = self.fixed.get(day, {}).get(i)
        return booked[1] if booked is not None else int(self.service_s[i + 1])

    def past(self, share: float) -> bool:
        """Whether ``share`` of the territory's time limit has passed (then it is capped)."""
        if time.perf_counter() >= self.deadline(share):
            self.capped = True
            return True
        return False

    def deadline(self, share: float) -> float:
        """The ``time.perf_counter()`` value at ``share`` of the time limit."""
        return self.started + share * self.limit_s

    def route(
        self,
        day: int,
        stops: Sequence[int],
        initial: Sequence[int] | None = None,
        keep: Container[int] = (),
    ) -> tuple[_RoutedDay, list[int]]:
        """Route one day through ``stops`` (customer positions), warm-started from ``initial``.

        Stops in ``keep`` are left out only after every other stop (a re-plan keeps the visits
        that were there). Returns the routed day and the stops that did not fit (all of them
        when no route was found).
        """
        nodes = np.array([0] + [s + 1 for s in stops], dtype=np.intp)
        local = {s + 1: k + 1 for k, s in enumerate(stops)}
        init = None
        if initial:
            init = (tuple(local[s + 1] for s in initial if s + 1 in local),)
        lunch = self.frame.lunch
        quick = self.past(REPAIR_SHARE)  # past the cap: the first solutions only
        service, window = self.service_s[nodes], self.window_s[nodes]
        penalty = np.full(len(nodes), UNSCHEDULED_PENALTY_S, dtype=np.int64)
        for k, s in enumerate(stops, start=1):
            if s in keep:
                penalty[k] = 10 * UNSCHEDULED_PENALTY_S
        booked = self.fixed.get(day, {})
        if booked:  # an appointment starts exactly then, lasts its own length, stays on
            service, window = service.copy(), window.copy()
            for k, s in enumerate(stops, start=1):
                if s in booked:
                    start_s, service[k] = booked[s]
                    window[k] = (start_s, start_s)
                    penalty[k] = 100 * UNSCHEDULED_PENALTY_S
        request = RouteRequest(
            duration_s=self.seconds[np.ix_(nodes, nodes)],
            service_s=service,
            window_s=window,
            vehicles=1,
            break_s=(lunch[0] * 60, lunch[1] * 60, lunch[2] * 60) if lunch else None,
            # One stop needs no penalty (infeasible = unscheduled), and OR-Tools' guided local
            # search with a solution limit was seen not to stop on a one-stop model with one.
            unscheduled_penalty=penalty if len(stops) > 1 else None,
            time_limit_s=self.config.planning.route_time_limit_s,
            initial_routes=init,
            seed=self.seed + day,
            solution_limit=2 if quick else None,
        )
        result = solve_routes(request)
        if not result.feasible:
            return _RoutedDay([], result), list(stops)
        order = [stops[k - 1] for k in result.routes[0]] if result.routes else []
        return _RoutedDay(order, result), [stops[k - 1] for k in result.unscheduled if k > 0]


# --------------------------------------------------------------------------------------------
# Planning one territory, step by step
# --------------------------------------------------------------------------------------------


def plan_territory(
    rep: Rep,
    customers: Sequence[Customer],
    config: Config,
    *,
    seed: int = 0,
    travel_estimate_min: Sequence[float] | None = None,
    initial_patterns: Sequence[int] | None = None,
    iterations: int | None = None,
    time_limit_s: float | None = None,
    legs: Legs | None = None,
    travel: TravelModel | None = None,
) -> TerritoryPlan:
    """Plan one rep's period: patterns, petal construction, periodic improvement, day routes.

    Parameters
    ----------
    rep
        The rep; every day starts and ends at the rep's home.
    customers
        The territory's customers.
    config
        ``period``, ``day``, ``travel`` and ``planning`` are used.
    seed
        Seed for the periodic engine and the day routes.
    travel_estimate_min
        Estimated travel minutes per visit of each customer (for the initial day loads); the
        nearest-neighbour allowance of ``workload.customer_workload`` when None.
    initial_patterns
        A pattern per customer to start from (e.g. from the previous plan while rebalancing);
        0 or a pattern not allowed for this rep falls back to the petal construction.
    iterations
        Periodic-engine iterations; ``planning.improve_iterations`` (or the engine's default)
        when None. With ``planning.improve_time_limit_s`` the search stops at whichever of the
        two comes first.
    time_limit_s
        Safety cap on this call's wall-clock time (default ``planning.territory_time_limit_s``):
        the periodic search stops at 60 % of it, repair at 80 %, and later days get quick routes.
        Below the cap the result does not depend on it.
    legs
        Travel km and minutes over home + customers (node 0 is home, node ``i + 1`` customer
        ``i``), as :func:`territory_legs` gives them; computed from ``travel`` when None.
    travel
        The travel model (default: the straight-line model of ``config.travel``); used only
        when ``legs`` or ``travel_estimate_min`` is not given.

    Returns
    -------
    TerritoryPlan
        Day routes in period order and the unscheduled visits, with reasons.
    """
    limit_s = time_limit_s if time_limit_s is not None else config.planning.territory_time_limit_s
    travel = travel if travel is not None else crow(config.travel)
    if legs is None:
        legs = territory_legs(rep, customers, travel)
    t = _Territory(rep, customers, config, seed=seed, limit_s=limit_s, legs=legs)
    reasons, patterns = _reasons_and_patterns(t)
    plannable = [i for i, p in enumerate(patterns) if p]
    chosen = [0] * len(customers)
    day_stops: dict[int, list[int]] = {}
    if plannable:
        estimate = (
            travel_estimate_min
            if travel_estimate_min is not None
            else customer_workload(customers, config, travel=travel).travel_min_per_visit
        )
        t.prioritise_classes(estimate)
        start = _petal_start(t, plannable, patterns, estimate, initial_patterns)
        chosen, day_stops = _improve_patterns(t, plannable, patterns, start, iterations)
    days = _Days(t, patterns, chosen)
    days.route_all(day_stops)
    # customers the periodic engine found no room for: repaired like visits that fell out
    days.repair(dropped=[i for i in plannable if chosen[i] == 0])
    return _assemble(t, days, reasons)


def territory_legs(rep: Rep, customers: Sequence[Customer], travel: TravelModel) -> Legs:
    """Travel over the rep's home (node 0) and the territory's customers (nodes 1..n)."""
    return travel.matrix(Points.of([rep, *customers]))


def _reasons_and_patterns(t: _Territory) -> tuple[list[str], list[tuple[int, ...]]]:
    """Per customer: why it cannot be planned at all ("" when it can), and its allowed
    patterns (empty when it has a reason or no visits)."""
    reasons = [""] * len(t.customers)
    patterns: list[tuple[int, ...]] = [()] * len(t.customers)
    for i, c in enumerate(t.customers):
        if c.visits <= 0:
            continue
        fixed = t.fixed_mask[i]
        # an appointment was checked against the rep's day when it was loaded
        reasons[i] = "" if fixed else _reason(t, i, c)
        if not reasons[i]:
            patterns[i] = customer_patterns(
                c.visits,
                usable_weekdays(c, t.rep, t.config),
                t.config.period,
                blocked=t.blocked & ~fixed,
                fixed=fixed,
            )
            if not patterns[i]:
                reasons[i] = pattern_problem(c, t.rep, t.config) or "no visit pattern fits"
    return reasons, patterns


def _reason(t: _Territory, i: int, c: Customer) -> str:
    """Why customer ``i`` cannot be visited by the rep at all ("" when it can): no pattern,
    no room in its window, or a visit (with the round trip) longer than a working day."""
    fr, rep = t.frame, t.rep
    why = pattern_problem(c, rep, t.config) or window_problem(c, fr.start_min, fr.end_min)
    if why:
        return why
    round_trip = t.minutes[0, i + 1] + t.minutes[i + 1, 0]
    if c.visit_minutes > fr.selling_min:
        return (
            f"the {c.visit_minutes:g}-minute visit is longer than the {fr.selling_min} "
            f"minutes of a working day of rep {rep.id}"
        )
    if round_trip + c.visit_minutes > fr.selling_min:
        return (
            f"a round trip from the home of rep {rep.id} ({round_trip:.0f} min) plus the "
            f"{c.visit_minutes:g}-minute visit does not fit the {fr.selling_min} minutes "
            "of a working day"
        )
    lo_s, hi_s = t.window_s[i + 1]
    earliest_start = max(fr.start_min + t.minutes[0, i + 1], lo_s / 60)
    back = earliest_start + c.visit_minutes + t.minutes[i + 1, 0]
    if earliest_start > hi_s / 60 or back > fr.end_min:
        return (
            f"window {format_hhmm(c.open_min or 0)}-{format_hhmm(c.close_min or 1440)} "
            f"cannot be reached from the home of rep {rep.id} within the working day"
        )
    return ""


def _petal_start(
    t: _Territory,
    plannable: Sequence[int],
    patterns: Sequence[tuple[int, ...]],
    travel_estimate_min: Sequence[float] | NDArray[np.float64],
    initial_patterns: Sequence[int] | None,
) -> tuple[int, ...]:
    """The periodic engine's start per plannable customer: petals (sectors) around home, or
    the given pattern where it is allowed."""
    customers, period = t.customers, t.config.period
    est = np.asarray(travel_estimate_min, dtype=np.float64)
    idx = np.array(plannable, dtype=np.intp)
    load = np.array([customers[i].visit_minutes for i in plannable]) + est[idx]
    start = petal_patterns(
        PetalInput(
            lat=np.array([customers[i].lat for i in plannable]),
            lon=np.array([customers[i].lon for i in plannable]),
            home_lat=t.rep.lat,
            home_lon=t.rep.lon,
            patterns=tuple(patterns[i] for i in plannable),
            load_min=load,
            days_per_week=len(period.days),
            weeks=period.weeks,
            day_capacity_min=float(t.frame.selling_min),
            working_days=t.working_days,
        )
    )
    if initial_patterns is None:
        return start
    return tuple(
        int(initial_patterns[i]) if initial_patterns[i] in patterns[i] else p
        for i, p in zip(plannable, start, strict=True)
    )


def _improve_patterns(
    t: _Territory,
    plannable: Sequence[int],
    patterns: Sequence[tuple[int, ...]],
    start: Sequence[int],
    iterations: int | None,
) -> tuple[list[int], dict[int, list[int]]]:
    """Periodic improvement on real route costs: the pattern per customer (0 = unscheduled)
    and each day's stops in the engine's route order."""
    fr, planning = t.frame, t.config.planning
    nodes = np.concatenate([[0], np.array(plannable, dtype=np.intp) + 1])
    service = np.concatenate([[0.0], [t.customers[i].visit_minutes for i in plannable]])
    leave_out = float(10 * fr.selling_min * t.config.period.working_days)
    problem = PeriodicProblem(
        travel=t.minutes[np.ix_(nodes, nodes)],
        service=service,
        patterns=tuple(patterns[i] for i in plannable),
        days=t.n_days,
        max_duration=float(fr.selling_min),
        # an unscheduled customer costs far more than any detour: only when nothing fits
        unscheduled_penalty=leave_out,
    )
    budget = iterations if iterations is not None else planning.improve_iterations
    solution = solve_periodic(
        problem,
        stopping_criterion(budget, planning.improve_time_limit_s),
        seed=t.seed,
        initial=start,
        deadline=t.deadline(SEARCH_SHARE),
    )
    if t.overloaded and not all(solution.pattern):
        # a team too small for the work: customers left out that matter more than ones
        # scheduled take their place (a visit of a more important class costs more to leave
        # out, class_priority); the search itself, and every plan where all fits, as before
        weights = [t.customers[i].visits * t.priority[i] for i in plannable]
        weighted = replace(
            problem,
            unscheduled_penalty=leave_out * np.array([0.0, *weights]),
        )
        solution = prioritise(weighted, solution)
    polish = planning.polish_iterations
    if polish and solution.feasible and period_fits(problem, solution) and not t.past(SEARCH_SHARE):
        # PyVRP on the whole period: the routes of every day and the day of every customer
        # visited once searched together (the sample: 5 % less driving for 1.4x the run time)
        from .periodic_pyvrp import route_period  # PyVRP only when polishing

        solution = route_period(problem, solution, MaxIterations(polish), seed=t.seed)
    t.past(SEARCH_SHARE)  # marks the territory capped when the search was stopped by the cap
    chosen = [0] * len(t.customers)
    for k, i in enumerate(plannable):
        chosen[i] = solution.pattern[k]
    day_stops: dict[int, list[int]] = {}
    for d, day_routes in enumerate(solution.routes):
        stops = [plannable[node - 1] for route in day_routes for node in route]
        if stops:
            day_stops[d] = stops
    return chosen, day_stops


class _Days:
    """The territory's routed days while visits that did not fit are repaired.

    ``chosen`` is the pattern per customer, ``routed`` the routed day by day index, and
    ``unscheduled`` maps a customer to the days from whose route its visit fell out. Repair
    spends at most ``planning.repair_routes`` route calls (``budget``).
    """

    def __init__(
        self, t: _Territory, patterns: Sequence[tuple[int, ...]], chosen: list[int]
    ) -> None:
        self.t = t
        self.patterns = patterns
        self.chosen = chosen
        self.routed: dict[int, _RoutedDay] = {}
        self.unscheduled: dict[int, list[int]] = {}
        self.budget = t.config.planning.repair_routes

    def route_all(self, day_stops: dict[int, list[int]]) -> None:
        """Route every day in the engine's order; collect the visits that did not fit."""
        for d in sorted(day_stops):
            stops = day_stops[d]
            self.routed[d], out = self.t.route(d, stops, initial=stops)
            for i in out:
                self.unscheduled.setdefault(i, []).append(d)

    def order(self, day: int) -> list[int]:
        """The visiting order of ``day`` (empty when it has no route)."""
        return self.routed[day].order if day in self.routed else []

    def day_load_s(self) -> dict[int, int]:
        """Route seconds per routed day (departure to return)."""
        return {d: day.span_s for d, day in self.routed.items()}

    def repair(self, dropped: Sequence[int] = ()) -> None:
        """Each customer with a visit that fell out, and each customer in ``dropped`` (no
        pattern yet): another pattern whose days all take it, else (a customer in ``dropped``
        first gets its least loaded pattern, on the days that take it) room by ejection."""
        for i in dropped:
            self.unscheduled.setdefault(i, [])
        # the most important customers first, while the route budget lasts
        for i in sorted(self.unscheduled, key=lambda i: (-self.t.priority[i], i)):
            if self.budget <= 0 or self.t.past(REPAIR_SHARE):
                break
            if i not in self.unscheduled:  # placed meanwhile, after making room for another
                continue
            if self.by_other_pattern(i):
                continue
            if self.chosen[i] == 0 and not self.place_partly(i):
                continue
            self.by_ejection(i)
            if self.unscheduled[i]:
                self.by_displacing(i)
            if not self.unscheduled[i]:
                del self.unscheduled[i]

    def place_partly(self, i: int) -> bool:
        """Give customer ``i`` (no pattern) its least loaded pattern: each of its days that
        takes the visit gets it, the others are left for ejection. False when no allowed
        pattern is left or the route budget runs out first."""
        day_load = self.day_load_s()
        options = sorted(
            self.patterns[i], key=lambda p: (sum(day_load.get(d, 0) for d in pattern_days(p)), p)
        )
        if not options or self.budget < len(pattern_days(options[0])):
            return False
        self.chosen[i] = options[0]
        missed = []
        for d in pattern_days(options[0]):
            self.budget -= 1
            routed, out = self.t.route(d, [*self.order(d), i])
            if out:
                missed.append(d)
            else:
                self.routed[d] = routed
        self.unscheduled[i] = missed
        return True

    def by_other_pattern(self, i: int) -> bool:
        """Move customer ``i`` to another allowed pattern whose days all take it (each tried
        day routed with it; the least loaded patterns first). Returns whether it moved."""
        current = set(pattern_days(self.chosen[i]))
        day_load = self.day_load_s()
        options = sorted(
            (p for p in self.patterns[i] if p != self.chosen[i]),
            key=lambda p: (sum(day_load.get(d, 0) for d in pattern_days(p)), p),
        )
        for p in options:
            trial = self._trial(i, pattern_days(p))
            if trial is None:
                continue
            for d in sorted(current - set(trial)):
                self._take_off(i, d)
            self.routed.update(trial)
            self.chosen[i] = p
            del self.unscheduled[i]
            return True
        return False

    def _trial(self, i: int, days: Sequence[int]) -> dict[int, _RoutedDay] | None:
        """The days of a pattern routed with customer ``i``; None when one does not take it or
        the route budget runs out."""
        trial: dict[int, _RoutedDay] = {}
        for d in days:
            if self.budget <= 0:
                return None
            stops = [s for s in self.order(d) if s != i] + [i]
            self.budget -= 1
            routed, out = self.t.route(d, stops)
            if out:
                return None
            trial[d] = routed
        return trial

    def _take_off(self, i: int, d: int) -> None:
        """Take customer ``i`` off day ``d`` and route what remains."""
        if d not in self.routed:
            return
        stops = [s for s in self.routed[d].order if s != i]
        if not stops:
            del self.routed[d]
            return
        self.routed[d], out = self.t.route(d, stops, initial=stops)
        for j in out:  # removing a stop should never unschedule another; say so if it does
            self.unscheduled.setdefault(j, []).append(d)

    def by_ejection(self, i: int) -> None:
        """Make room on each day where a visit of ``i`` fell out by moving a once-a-period
        customer of that day to another day that takes it (the longest visits first, to the
        three least loaded days)."""
        customers = self.t.customers
        for d in sorted(set(self.unscheduled[i])):
            if d not in self.routed:
                continue
            day_load = self.day_load_s()
            movable = sorted(
                (
                    j
                    for j in self.routed[d].order
                    if customers[j].visits == 1 and len(self.patterns[j]) > 1
                ),
                key=lambda j: (-customers[j].visit_minutes, j),
            )
            fixed = False
            for j in movable:
                fixed = self._eject(i, d, j, day_load)
                if fixed or self.budget < 2:
                    break
            if fixed:
                self.unscheduled[i] = [x for x in self.unscheduled[i] if x != d]

    def by_displacing(self, i: int) -> None:
        """On each day where a visit of ``i`` fell out, make room by taking off visits of less
        important customers (:func:`class_priority`; the least important and longest first,
        at most :data:`DISPLACE_TRIES`). What was taken off and does not fit back moves to
        another pattern whose days take it, else stays unscheduled (a team too small for the
        work leaves out C visits before A visits)."""
        priority = self.t.priority
        for d in sorted(set(self.unscheduled[i])):
            if d not in self.routed:
                continue
            booked = self.t.fixed.get(d, {})
            lower = sorted(
                (j for j in self.routed[d].order if priority[j] < priority[i] and j not in booked),
                key=lambda j: (priority[j], -self.t.minutes_on(d, j), j),
            )[:DISPLACE_TRIES]
            taken: list[int] = []
            for j in lower:
                if self.budget <= 0:
                    return
                taken.append(j)
                self.budget -= 1
                stops = [s for s in self.routed[d].order if s not in taken] + [i]
                routed, out = self.t.route(d, stops)
                if out:
                    continue
                self.routed[d] = routed
                self.unscheduled[i] = [x for x in self.unscheduled[i] if x != d]
                for j2 in reversed(taken):  # what fits back goes back
                    if self.budget > 0:
                        self.budget -= 1
                        back, out = self.t.route(d, [*self.routed[d].order, j2])
                        if not out:
                            self.routed[d] = back
                            continue
                    # off the day: listed as unscheduled unless another pattern takes it
                    self.unscheduled.setdefault(j2, []).append(d)
                    if self.budget > 0:
                        self.by_other_pattern(j2)
                break

    def _eject(self, i: int, d: int, j: int, day_load: dict[int, int]) -> bool:
        """Move customer ``j`` off day ``d`` to one of its three least loaded other days and
        put ``i`` on ``d`` instead, if both routes take it (two route calls per try)."""
        targets = sorted(
            (pattern_days(p)[0] for p in self.patterns[j] if p != self.chosen[j]),
            key=lambda dd: (day_load.get(dd, 0), dd),
        )
        for dj in targets[:3]:
            if self.budget < 2:
                return False
            self.budget -= 2
            routed_j, out_j = self.t.route(dj, [*self.order(dj), j])
            if out_j:
                continue
            routed_d, out_d = self.t.route(d, [s for s in self.routed[d].order if s != j] + [i])
            if out_d:
                continue
            self.routed[dj] = routed_j
            self.routed[d] = routed_d
            self.chosen[j] = 1 << dj
            return True
        return False


def _assemble(t: _Territory, days: _Days, reasons: Sequence[str]) -> TerritoryPlan:
    """Day routes as values, and the unscheduled visits with their reasons."""
    routes: list[DayRoute] = []
    visit_min = 0.0
    for d in sorted(days.routed):
        order = days.routed[d].order
        if order:
            routes.append(_day_route(t, d, days.routed[d]))
            visit_min += sum(t.minutes_on(d, i) for i in order)
    out = _unscheduled_visits(t, days, reasons)
    unscheduled_min = unscheduled_travel = 0.0  # visits without a reason of their own
    for i, _, _ in out:
        if not reasons[i]:
            unscheduled_min += t.customers[i].visit_minutes + float(t.minutes[0, i + 1])
            unscheduled_travel += float(t.minutes[0, i + 1])
    return TerritoryPlan(
        rep_id=t.rep.id,
        days=tuple(routes),
        unscheduled=_with_reasons(t, out, reasons, unscheduled_min),
        visit_min=visit_min,
        travel_min=sum((r.travel_min for r in routes), 0.0),
        travel_km=sum((r.travel_km for r in routes), 0.0),
        admin_min=rep_admin_min(t.rep, t.config),
        unscheduled_min=unscheduled_min,
        patterns=tuple(days.chosen),
        unscheduled_travel_min=unscheduled_travel,
        time_capped=t.capped,
    )


def _day_route(t: _Territory, d: int, day: _RoutedDay) -> DayRoute:
    """One routed day as a value: visits with their times and the legs travelled."""
    period, res = t.config.period, day.result
    week, weekday = day_of_index(d, period)
    visits = []
    prev = 0
    for k, i in enumerate(day.order):
        node = i + 1
        start_s = res.start_s[0][k]
        visits.append(
            Visit(
                customer_id=t.customers[i].id,
                arrival_min=round(res.arrival_s[0][k] / 60),
                start_min=round(start_s / 60),
                end_min=round((start_s + t.service_on(d, i)) / 60),
                travel_min=float(t.minutes[prev, node]),
                travel_km=float(t.km[prev, node]),
            )
        )
        prev = node
    brk = res.break_start_s[0] if res.break_start_s else None
    return DayRoute(
        rep_id=t.rep.id,
        week=week,
        weekday=weekday,
        depart_min=round(res.depart_s[0] / 60),
        return_min=round(res.return_s[0] / 60),
        visits=tuple(visits),
        home_travel_min=float(t.minutes[prev, 0]),
        home_travel_km=float(t.km[prev, 0]),
        date=day_label(d, period),
        lunch_start_min=round(brk / 60) if brk is not None else None,
        day=d,
    )


def _unscheduled_visits(
    t: _Territory, days: _Days, reasons: Sequence[str]
) -> list[tuple[int, int, int | None]]:
    """(customer, visit number, day or None) of every unscheduled visit: all visits of a
    customer with a reason or without a pattern, and the visits that fell out of a route."""
    out: list[tuple[int, int, int | None]] = []
    for i, c in enumerate(t.customers):
        if c.visits <= 0:
            continue
        if reasons[i] or days.chosen[i] == 0:
            out += [(i, v + 1, None) for v in range(c.visits)]
        elif i in days.unscheduled:
            days_i = pattern_days(days.chosen[i])
            for d in sorted(set(days.unscheduled[i])):
                out.append((i, days_i.index(d) + 1 if d in days_i else 0, d))
    return out


def _with_reasons(
    t: _Territory,
    out: Sequence[tuple[int, int, int | None]],
    reasons: Sequence[str],
    unscheduled_min: float,
) -> tuple[UnscheduledVisit, ...]:
    """The unscheduled visits as values; those without a reason of their own say how many
    more working days the territory needs."""
    period = t.config.period
    extra_days = math.ceil(unscheduled_min / t.frame.selling_min - 1e-9) if unscheduled_min else 0
    visits = []
    for i, v, d in out:
        c = t.customers[i]
        if reasons[i]:
            why = reasons[i]
        elif d is not None and (c.open_min is not None or c.close_min is not None):
            why = (
                f"no room for the {c.visit_minutes:g}-minute visit in its window "
                f"{format_hhmm(c.open_min or 0)}-{format_hhmm(c.close_min or 1440)} on a full "
                f"day: territory needs ~{extra_days} more working days"
            )
        else:
            why = f"day capacity exhausted: territory needs ~{extra_days} more working days"
        visits.append(
            UnscheduledVisit(
                customer_id=c.id,
                rep_id=t.rep.id,
                reason=why,
                visit=v,
                date=day_label(d, period) if d is not None else "",
            )
        )
    return tuple(visits)


# --------------------------------------------------------------------------------------------
# Many territories at once
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TerritoryTask:
    """One territory's planning job: plain data only (it crosses process boundaries).

    ``index`` keys the result; the other fields are :func:`plan_territory`'s arguments. The
    travel legs are computed before the task is sent (the travel model stays in this process:
    a road network does not travel to a worker).
    """

    index: int
    rep: Rep
    customers: tuple[Customer, ...]
    travel_estimate_min: tuple[float, ...]
    config: Config
    seed: int
    legs: Legs
    initial_patterns: tuple[int, ...] | None = None
    iterations: int | None = None

    @property
    def visits(self) -> int:
        """Visits the territory's customers ask for."""
        return sum(max(c.visits, 0) for c in self.customers)


def _run_task(task: TerritoryTask) -> TerritoryPlan:
    return plan_territory(
        task.rep,
        task.customers,
        task.config,
        seed=task.seed,
        travel_estimate_min=task.travel_estimate_min,
        initial_patterns=task.initial_patterns,
        iterations=task.iterations,
        legs=task.legs,
    )


def plan_tasks(
    tasks: Sequence[TerritoryTask], workers: Workers, progress: Progress | None, label: str
) -> dict[int, TerritoryPlan]:
    """Plan the territories of ``tasks`` on ``workers``; results by task index.

    The results do not depend on where or in which order the tasks ran. ``progress`` gets
    ``"{label}: territory {rep id}"`` and the share done after each territory.
    """
    out: dict[int, TerritoryPlan] = {}
    total = len(tasks)
    if workers.executor is None or total <= 1:
        for k, task in enumerate(tasks):
            out[task.index] = _run_task(task)
            if progress:
                progress(f"{label}: territory {task.rep.id}", (k + 1) / total)
        return out
    # Largest territories first, so no big one starts last (results do not depend on order).
    ordered = sorted(tasks, key=lambda task: (-task.visits, task.index))
    futures = {workers.executor.submit(_run_task, task): task for task in ordered}
    try:
        for k, fut in enumerate(as_completed(futures)):
            task = futures[fut]
            try:
                out[task.index] = fut.result()
            except ModuleNotFoundError as exc:  # a cluster worker without territory installed
                raise TerritoryError(
                    f"a worker of {workers.where} cannot import {exc.name!r}: install territory "
                    "(and its dependencies) on every worker"
                ) from None
            if progress:
                progress(f"{label}: territory {task.rep.id}", (k + 1) / total)
    finally:
        for fut in futures:
            fut.cancel()
    return out


#: Calibration of :func:`territory_seconds` (seconds; measured on a 2-core 2026 machine with
#: scripts/bench_scale.py): a territory costs about ``_S_PER_VISIT`` per visit, more when days
#: are full (routing grows with the stops per day), plus a fixed ``_S_PER_TERRITORY``.
_S_PER_TERRITORY = 0.1
_S_PER_VISIT = 0.0025
_STOPS_PER_DAY_REF = 6.0
#: The whole-period polish: seconds per visit and PyVRP iteration (the sample: 1.9 s for its
#: 709 visits at 500 iterations).
_S_PER_POLISH_VISIT = 5.4e-6


def territory_seconds(visits: int, working_days: int, polish_iterations: int = 0) -> float:
    """Rough planning time of one territory pass (seconds), with ``polish_iterations`` of the
    whole-period polish."""
    per_day = visits / max(working_days, 1)
    search = _S_PER_VISIT * visits * max(1.0, per_day / _STOPS_PER_DAY_REF)
    return _S_PER_TERRITORY + search + _S_PER_POLISH_VISIT * polish_iterations * visits
