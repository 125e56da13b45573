"""Visit planning: each territory's period planned (patterns, day routes, repair), in parallel.

Chapter 6.5 of Rustenburg & Steenbeek, *Salesmanagement*. Per territory (independent, so on a
process pool): allowed visit patterns per customer (``schedule``), an initial pattern choice
grown as petals around the rep's home, improved by the periodic engine on real route costs
(``periodic``), every day routed with OR-Tools inside the working day, opening hours and the lunch
break (``routing``), and visits that still do not fit moved to other patterns or reported with a
reason. Over the whole team, territories are then rebalanced on the *routed* workload (visits +
routed travel + admin) through the design stage and replanned where that helps.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from .cluster import Workers, open_executor
from .exceptions import ConfigError, TerritoryError
from .models import Customer, DayRoute, Design, Plan, Rep, UnscheduledVisit, Visit
from .params import Config, format_hhmm
from .periodic import PeriodicProblem, solve_periodic, stopping_criterion
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
from .travel import matrices
from .workload import (
    CustomerWorkload,
    customer_workload,
    relative_deviation,
    rep_admin_min,
    rep_capacity_min,
)

log = logging.getLogger(__name__)

#: Working days a plan can span: the periodic engine keeps a customer's visit days as the bits
#: of a 64-bit integer (``size`` and ``design`` have no such limit).
MAX_PLAN_DAYS = 63


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


#: Cost (seconds of route time) of leaving a stop out of a day route: far above any real route,
#: so OR-Tools drops a stop only when it cannot be fitted at all.
DROP_PENALTY_S = 10_000_000

Progress = Callable[[str, float], None]


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
        Visits that could not be placed, with reasons.
    visit_min, travel_min, travel_km
        Routed totals over the period (travel includes every way home).
    admin_min
        Admin time of the period (``admin_minutes`` per working day, scaled by capacity).
    unscheduled_min
        Visit minutes of the unscheduled visits plus an estimate of their travel
        (``unscheduled_travel_min``: the drive from home to each).
    patterns
        The chosen pattern (day bitmask) per customer of the territory, in input order; 0 when
        the customer is not planned.
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
        """The work the territory asks for: routed workload plus the unplanned visits' estimate."""
        return self.workload_min + self.unscheduled_min


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


def _window_s(c: Customer, frame: _DayFrame) -> tuple[int, int]:
    """Allowed service START window in seconds, inside the working day."""
    open_min = c.open_min if c.open_min is not None else frame.start_min
    close_min = c.close_min if c.close_min is not None else frame.end_min
    lo = max(open_min, frame.start_min) * 60
    hi = int(math.floor((min(close_min, frame.end_min) - c.visit_minutes) * 60))
    return lo, hi


class _Territory:
    """Working state of one territory's planning: matrices over home + customers, day routes."""

    def __init__(
        self,
        rep: Rep,
        customers: Sequence[Customer],
        config: Config,
        seed: int,
        limit_s: float = math.inf,
    ):
        self.started = time.perf_counter()
        self.limit_s = limit_s
        self.rep = rep
        self.customers = tuple(customers)
        self.config = config
        self.seed = seed
        self.frame = _day_frame(rep, config)
        lat = np.array([rep.lat] + [c.lat for c in customers], dtype=np.float64)
        lon = np.array([rep.lon] + [c.lon for c in customers], dtype=np.float64)
        # Per territory only (home + its customers): never the whole file.
        self.km, self.minutes = matrices(lat, lon, config.travel)
        self.seconds = np.rint(self.minutes * 60.0).astype(np.int64)
        self.service_s = np.array(
            [0] + [int(round(c.visit_minutes * 60)) for c in customers], dtype=np.int64
        )
        win = [(self.frame.start_min * 60, self.frame.end_min * 60)]
        win += [_window_s(c, self.frame) for c in customers]
        self.window_s = np.array(win, dtype=np.int64)
        period = config.period
        self.n_days = period.working_days
        weekdays = set(rep_weekdays(rep, config))
        self.working_days = tuple(
            d for d in range(self.n_days) if day_of_index(d, period)[1] in weekdays
        )
        self.routes_called = 0
        self.capped = False  # the time cap cut something short

    def past(self, share: float) -> bool:
        """Whether ``share`` of the territory's time limit has passed (then it is capped)."""
        if time.perf_counter() >= self.started + share * self.limit_s:
            self.capped = True
            return True
        return False

    def route(
        self, day: int, stops: Sequence[int], initial: Sequence[int] | None = None
    ) -> RouteResult:
        """Route one day through ``stops`` (customer positions 0..n-1 in this territory)."""
        nodes = np.array([0] + [s + 1 for s in stops], dtype=np.intp)
        local = {s + 1: k + 1 for k, s in enumerate(stops)}
        init = None
        if initial:
            init = (tuple(local[s + 1] for s in initial if s + 1 in local),)
        fr = self.frame
        planning = self.config.planning
        quick = self.past(0.8)  # past the cap: the first solutions only, not the full search
        request = RouteRequest(
            duration_s=self.seconds[np.ix_(nodes, nodes)],
            service_s=self.service_s[nodes],
            window_s=self.window_s[nodes],
            vehicles=1,
            break_s=(fr.lunch[0] * 60, fr.lunch[1] * 60, fr.lunch[2] * 60) if fr.lunch else None,
            # One stop needs no drop option (infeasible = dropped), and OR-Tools' guided local
            # search with a solution limit was seen not to stop on a one-stop model with one.
            unscheduled_penalty=(
                np.full(len(nodes), DROP_PENALTY_S, dtype=np.int64) if len(stops) > 1 else None
            ),
            time_limit_s=planning.route_time_limit_s,
            initial_routes=init,
            seed=self.seed + day,
            solution_limit=2 if quick else None,
        )
        self.routes_called += 1
        return solve_routes(request)


def _map_result(result: RouteResult, stops: Sequence[int]) -> tuple[list[int], list[int]]:
    """Route order and dropped stops as territory customer positions."""
    order = [stops[k - 1] for k in result.routes[0]] if result.routes else []
    dropped = [stops[k - 1] for k in result.unscheduled if k > 0]
    if not result.feasible:
        order, dropped = [], list(stops)
    return order, dropped


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
        when None.
    time_limit_s
        Safety cap on this call's wall-clock time (default ``planning.territory_time_limit_s``):
        the periodic search stops at 60 % of it, repair at 80 %, and later days get quick routes.
        Below the cap the result does not depend on it.

    Returns
    -------
    TerritoryPlan
        Day routes in period order and the visits that could not be placed, with reasons.
    """
    limit_s = time_limit_s if time_limit_s is not None else config.planning.territory_time_limit_s
    t = _Territory(rep, customers, config, seed, limit_s)
    period = config.period
    n = len(customers)
    fr = t.frame
    reasons = [""] * n
    patterns: list[tuple[int, ...]] = [()] * n
    for i, c in enumerate(customers):
        if c.visits <= 0:
            continue
        why = pattern_problem(c, rep, config) or window_problem(c, fr.start_min, fr.end_min)
        if not why:
            round_trip = t.minutes[0, i + 1] + t.minutes[i + 1, 0]
            if c.visit_minutes > fr.selling_min:
                why = (
                    f"the {c.visit_minutes:g}-minute visit is longer than the {fr.selling_min} "
                    f"minutes of a working day of rep {rep.id}"
                )
            elif round_trip + c.visit_minutes > fr.selling_min:
                why = (
                    f"a round trip from the home of rep {rep.id} ({round_trip:.0f} min) plus the "
                    f"{c.visit_minutes:g}-minute visit does not fit the {fr.selling_min} minutes "
                    "of a working day"
                )
            else:
                lo_s, hi_s = t.window_s[i + 1]
                earliest_start = max(fr.start_min + t.minutes[0, i + 1], lo_s / 60)
                back = earliest_start + c.visit_minutes + t.minutes[i + 1, 0]
                if earliest_start > hi_s / 60 or back > fr.end_min:
                    why = (
                        f"window {format_hhmm(c.open_min or 0)}-{format_hhmm(c.close_min or 1440)} "
                        f"cannot be reached from the home of rep {rep.id} within the working day"
                    )
        if why:
            reasons[i] = why
        else:
            patterns[i] = customer_patterns(c.visits, usable_weekdays(c, rep, config), period)

    plannable = [i for i in range(n) if patterns[i]]
    chosen = [0] * n
    day_stops: dict[int, list[int]] = {}
    if plannable:
        if travel_estimate_min is None:
            travel_estimate_min = customer_workload(customers, config).travel_min_per_visit
        est = np.asarray(travel_estimate_min, dtype=np.float64)
        idx = np.array(plannable, dtype=np.intp)
        nodes = np.concatenate([[0], idx + 1])
        load = np.array([customers[i].visit_minutes for i in plannable]) + est[idx]
        initial = petal_patterns(
            PetalInput(
                lat=np.array([customers[i].lat for i in plannable]),
                lon=np.array([customers[i].lon for i in plannable]),
                home_lat=rep.lat,
                home_lon=rep.lon,
                patterns=tuple(patterns[i] for i in plannable),
                load_min=load,
                days_per_week=len(period.days),
                weeks=period.weeks,
                day_capacity_min=float(fr.selling_min),
                working_days=t.working_days,
            )
        )
        if initial_patterns is not None:
            initial = tuple(
                int(initial_patterns[i]) if initial_patterns[i] in patterns[i] else p
                for i, p in zip(plannable, initial, strict=True)
            )
        service = np.concatenate([[0.0], [customers[i].visit_minutes for i in plannable]])
        problem = PeriodicProblem(
            travel=t.minutes[np.ix_(nodes, nodes)],
            service=service,
            patterns=tuple(patterns[i] for i in plannable),
            days=t.n_days,
            max_duration=float(fr.selling_min),
            # leaving a customer out costs far more than any detour: only when nothing fits
            unscheduled_penalty=float(10 * fr.selling_min * period.working_days),
        )
        solution = solve_periodic(
            problem,
            stopping_criterion(
                iterations if iterations is not None else config.planning.improve_iterations,
                config.planning.improve_time_limit_s,
            ),
            seed=seed,
            initial=initial,
            deadline=t.started + 0.6 * t.limit_s,
        )
        t.past(0.6)  # marks the territory capped when the search was stopped by the cap
        for k, i in enumerate(plannable):
            chosen[i] = solution.pattern[k]
        for d, day_routes in enumerate(solution.routes):
            stops = [plannable[node - 1] for route in day_routes for node in route]
            if stops:
                day_stops[d] = stops

    # Route every day; collect visits that did not fit.
    routed: dict[int, tuple[list[int], RouteResult]] = {}
    dropped: dict[int, list[int]] = {}  # customer -> days its visit was dropped
    for d in sorted(day_stops):
        stops = day_stops[d]
        res = t.route(d, stops, initial=stops)
        order, lost = _map_result(res, stops)
        routed[d] = (order, res, stops)  # type: ignore[assignment]
        for i in lost:
            dropped.setdefault(i, []).append(d)

    # Repair: move a customer with a dropped visit to another allowed pattern whose days all
    # take it (each tried day is re-routed with it); a bounded number of route calls.
    budget = config.planning.repair_routes
    for i in sorted(dropped):
        if budget <= 0 or t.past(0.8):
            break
        current = set(pattern_days(chosen[i]))
        day_load = {
            d: (r.return_s[0] - r.depart_s[0]) if r.feasible and r.depart_s else 0
            for d, (_, r, _) in routed.items()
        }
        options = sorted(
            (p for p in patterns[i] if p != chosen[i]),
            key=lambda p: (sum(day_load.get(d, 0) for d in pattern_days(p)), p),
        )
        for p in options:
            days = pattern_days(p)
            trial: dict[int, tuple[list[int], RouteResult, list[int]]] = {}
            ok = True
            for d in days:
                if budget <= 0:
                    ok = False
                    break
                base = [s for s in (routed[d][0] if d in routed else []) if s != i]
                stops = base + [i]
                budget -= 1
                res = t.route(d, stops, initial=None)
                order, lost = _map_result(res, stops)
                if lost:
                    ok = False
                    break
                trial[d] = (order, res, stops)
            if not ok:
                continue
            # Accept: take the customer off its old days, put the trial routes in.
            for d in sorted(current - set(days)):
                if d not in routed:
                    continue
                stops = [s for s in routed[d][0] if s != i]
                if stops:
                    res = t.route(d, stops, initial=stops)
                    order, lost = _map_result(res, stops)
                    routed[d] = (order, res, stops)  # type: ignore[assignment]
                    for j in lost:  # removing a stop should never lose another; say so if it does
                        dropped.setdefault(j, []).append(d)
                else:
                    del routed[d]
            routed.update(trial)  # type: ignore[arg-type]
            chosen[i] = p
            del dropped[i]
            break
        if i not in dropped:
            continue
        # Ejection: make room on a day where the visit was dropped by moving a once-a-period
        # customer of that day to another day that takes it.
        for d in sorted(set(dropped[i])):
            if d not in routed:
                continue
            day_load = {
                dd: (r.return_s[0] - r.depart_s[0]) if r.feasible and r.depart_s else 0
                for dd, (_, r, _) in routed.items()
            }
            movable = sorted(
                (j for j in routed[d][0] if customers[j].visits == 1 and len(patterns[j]) > 1),
                key=lambda j: (-customers[j].visit_minutes, j),
            )
            fixed = False
            for j in movable:
                targets = sorted(
                    (pattern_days(p)[0] for p in patterns[j] if p != chosen[j]),
                    key=lambda dd: (day_load.get(dd, 0), dd),
                )
                for dj in targets[:3]:
                    if budget < 2:
                        break
                    budget -= 2
                    stops_j = (routed[dj][0] if dj in routed else []) + [j]
                    res_j = t.route(dj, stops_j)
                    order_j, lost_j = _map_result(res_j, stops_j)
                    if lost_j:
                        continue
                    stops_d = [s for s in routed[d][0] if s != j] + [i]
                    res_d = t.route(d, stops_d)
                    order_d, lost_d = _map_result(res_d, stops_d)
                    if lost_d:
                        continue
                    routed[dj] = (order_j, res_j, stops_j)  # type: ignore[assignment]
                    routed[d] = (order_d, res_d, stops_d)  # type: ignore[assignment]
                    chosen[j] = 1 << dj
                    fixed = True
                    break
                if fixed or budget < 2:
                    break
            if fixed:
                dropped[i] = [x for x in dropped[i] if x != d]
        if not dropped[i]:
            del dropped[i]
    return _assemble(t, chosen, routed, dropped, reasons)


def _assemble(
    t: _Territory,
    chosen: list[int],
    routed: dict,
    dropped: dict[int, list[int]],
    reasons: list[str],
) -> TerritoryPlan:
    """Day routes as values, and the unscheduled visits with their reasons."""
    config, rep, customers = t.config, t.rep, t.customers
    period = config.period
    days: list[DayRoute] = []
    visit_min = travel_min = travel_km = 0.0
    for d in sorted(routed):
        order, res = routed[d][0], routed[d][1]
        if not order:
            continue
        week, weekday = day_of_index(d, period)
        visits = []
        prev = 0
        for k, i in enumerate(order):
            node = i + 1
            start_s = res.start_s[0][k]
            visits.append(
                Visit(
                    customer_id=customers[i].id,
                    arrival_min=int(round(res.arrival_s[0][k] / 60)),
                    start_min=int(round(start_s / 60)),
                    end_min=int(round((start_s + t.service_s[node]) / 60)),
                    travel_min=float(t.minutes[prev, node]),
                    travel_km=float(t.km[prev, node]),
                )
            )
            prev = node
        brk = res.break_start_s[0] if res.break_start_s else None
        day = DayRoute(
            rep_id=rep.id,
            week=week,
            weekday=weekday,
            depart_min=int(round(res.depart_s[0] / 60)),
            return_min=int(round(res.return_s[0] / 60)),
            visits=tuple(visits),
            home_travel_min=float(t.minutes[prev, 0]),
            home_travel_km=float(t.km[prev, 0]),
            date=day_label(d, period),
            lunch_start_min=int(round(brk / 60)) if brk is not None else None,
            day=d,
        )
        days.append(day)
        visit_min += sum(customers[i].visit_minutes for i in order)
        travel_min += day.travel_min
        travel_km += day.travel_km

    # Unscheduled visits: customers without any pattern (all visits), customers the periodic
    # engine left out (all visits), and visits dropped from a day route.
    lost: list[tuple[int, int, int | None]] = []  # (customer, visit number, day)
    for i, c in enumerate(customers):
        if c.visits <= 0:
            continue
        if reasons[i] or chosen[i] == 0:
            lost += [(i, v + 1, None) for v in range(c.visits)]
        elif i in dropped:
            days_i = pattern_days(chosen[i])
            for d in sorted(set(dropped[i])):
                lost.append((i, days_i.index(d) + 1 if d in days_i else 0, d))
    unscheduled_min = unscheduled_travel = 0.0
    for i, _, _ in lost:
        if not reasons[i]:
            c = customers[i]
            unscheduled_min += c.visit_minutes + float(t.minutes[0, i + 1])
            unscheduled_travel += float(t.minutes[0, i + 1])
    extra_days = math.ceil(unscheduled_min / t.frame.selling_min - 1e-9) if unscheduled_min else 0
    out = []
    for i, v, d in lost:
        c = customers[i]
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
        out.append(
            UnscheduledVisit(
                customer_id=c.id,
                rep_id=rep.id,
                reason=why,
                visit=v,
                date=day_label(d, period) if d is not None else "",
            )
        )
    return TerritoryPlan(
        rep_id=rep.id,
        days=tuple(days),
        unscheduled=tuple(out),
        visit_min=visit_min,
        travel_min=travel_min,
        travel_km=travel_km,
        admin_min=rep_admin_min(rep, config),
        unscheduled_min=unscheduled_min,
        patterns=tuple(chosen),
        unscheduled_travel_min=unscheduled_travel,
        time_capped=t.capped,
    )


@dataclass(frozen=True)
class _Task:
    """One territory's planning job: plain data only (it crosses process boundaries)."""

    index: int
    rep: Rep
    customers: tuple[Customer, ...]
    travel_estimate_min: tuple[float, ...]
    config: Config
    seed: int
    initial_patterns: tuple[int, ...] | None = None
    iterations: int | None = None


def _run_task(task: _Task) -> TerritoryPlan:
    return plan_territory(
        task.rep,
        task.customers,
        task.config,
        seed=task.seed,
        travel_estimate_min=task.travel_estimate_min,
        initial_patterns=task.initial_patterns,
        iterations=task.iterations,
    )


def _plan_tasks(
    tasks: Sequence[_Task], workers: Workers, progress: Progress | None, label: str
) -> dict[int, TerritoryPlan]:
    """Run the territory jobs on ``workers``; results by task index (so never order-dependent)."""
    out: dict[int, TerritoryPlan] = {}
    total = len(tasks)
    if workers.executor is None or total <= 1:
        for k, task in enumerate(tasks):
            out[task.index] = _run_task(task)
            if progress:
                progress(f"{label}: territory {task.rep.id}", (k + 1) / total)
        return out
    # Largest territories first, so no big one starts last (results do not depend on order).
    ordered = sorted(tasks, key=lambda task: (-_task_visits(task), task.index))
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


def _task_visits(task: _Task) -> int:
    return sum(max(c.visits, 0) for c in task.customers)


#: Calibration of :func:`estimate_plan_s` (seconds; measured on a 2-core 2026 machine with
#: scripts/bench_scale.py): a territory costs about ``_S_PER_VISIT`` per visit, more when days
#: are full (routing grows with the stops per day), plus a fixed ``_S_PER_TERRITORY``.
_S_PER_TERRITORY = 0.1
_S_PER_VISIT = 0.0025
_STOPS_PER_DAY_REF = 6.0


def territory_seconds(visits: int, working_days: int) -> float:
    """Rough planning time of one territory pass (seconds)."""
    per_day = visits / max(working_days, 1)
    return _S_PER_TERRITORY + _S_PER_VISIT * visits * max(1.0, per_day / _STOPS_PER_DAY_REF)


def estimate_plan_s(
    customers: Sequence[Customer],
    assignment: Sequence[int],
    n_territories: int,
    config: Config,
    workers: int,
) -> tuple[float, float]:
    """Rough wall-clock time of :func:`plan_territories`: (first pass, with rebalancing).

    The first pass is the busiest worker's share (largest territories first onto the least
    loaded worker); each rebalancing round runs the design stage once and replans the
    territories that changed, fewer each round (at most ``planning.rebalance_rounds`` rounds; the
    loop usually stops earlier, so the second number is an upper estimate).
    """
    visits = np.zeros(n_territories)
    np.add.at(visits, np.asarray(assignment, dtype=np.intp), [max(c.visits, 0) for c in customers])
    days = config.period.working_days
    secs = sorted((territory_seconds(int(v), days) for v in visits), reverse=True)
    load = [0.0] * max(1, workers)
    for x in secs:  # longest first onto the least loaded worker, as the pool does
        load[load.index(min(load))] += x
    first = max(load)
    rounds = config.planning.rebalance_rounds if n_territories > 1 else 0
    from .districting import estimate_design_s

    # fewer territories change from round to round (measured at 8,000 x 120: 1.0, 0.54, 0.36,
    # 0.25, 0.21 and 0.07 of the first pass); 0.75 per round keeps the estimate on the safe side
    design_s = estimate_design_s(len(customers), n_territories)
    rebalance = sum(first * 0.75**r + design_s for r in range(rounds))
    return first, first + rebalance


def _warm_iterations(config: Config, n_customers: int) -> int | None:
    """Periodic-engine iterations for a territory replanned from its previous patterns."""
    planning = config.planning
    if planning.rebalance_iterations is not None:
        return planning.rebalance_iterations
    return planning.improve_iterations  # None: the engine's own default


def _members(assignment: Sequence[int], k: int) -> list[list[int]]:
    members: list[list[int]] = [[] for _ in range(k)]
    for i, t in enumerate(assignment):
        members[t].append(i)
    return members


def _tasks(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    assignment: Sequence[int],
    estimate: NDArray[np.float64],
    config: Config,
    only: set[int] | None = None,
    previous: dict[int, int] | None = None,
) -> list[_Task]:
    members = _members(assignment, len(reps))
    return [
        _Task(
            index=t,
            rep=reps[t],
            customers=tuple(customers[i] for i in members[t]),
            travel_estimate_min=tuple(float(estimate[i]) for i in members[t]),
            config=config,
            seed=config.territory.seed,
            initial_patterns=(
                tuple(previous.get(i, 0) for i in members[t]) if previous is not None else None
            ),
            iterations=_warm_iterations(config, len(members[t])) if previous is not None else None,
        )
        for t in range(len(reps))
        if only is None or t in only
    ]


def routed_deviation(
    plans: Sequence[TerritoryPlan], reps: Sequence[Rep], config: Config
) -> NDArray:
    """Each rep's routed workload relative to the capacity-proportional mean, minus 1.

    Visits a territory could not place count with their estimate (``demand_min``): a territory
    that drops visits is overloaded, not light.
    """
    load = np.array([p.demand_min for p in plans])
    cap = np.array([rep_capacity_min(r, config) for r in reps])
    if load.sum() <= 0 or cap.sum() <= 0:
        return np.zeros(len(plans))
    target = load.sum() * cap / cap.sum()
    return relative_deviation(load, target)


def _redesign(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    workload: CustomerWorkload,
    config: Config,
    previous: Sequence[int],
) -> Design:
    """Territory design started from ``previous`` with a routing-corrected workload."""
    from .districting import design_territories  # the design stage comes before planning

    return design_territories(customers, reps, workload, config, previous=previous)


def plan_territories(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    design: Design,
    config: Config,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    workers: Workers | None = None,
    progress: Progress | None = None,
) -> tuple[Plan, Design]:
    """Plan every territory's period, then rebalance territories on the routed workload.

    Parameters
    ----------
    customers, reps
        As loaded; ``design.assignment[i]`` indexes ``design.rep_ids`` for customer ``i``.
    design
        The territories to plan.
    config
        The run's configuration (``period``, ``day``, ``travel``, ``planning``, ``territory.seed``).
    jobs
        Local worker processes; results are identical for any number.
    scheduler
        A Dask scheduler address (``tcp://HOST:PORT``): the territories are planned on that
        cluster instead (``jobs`` is then not used); results are identical to a local run.
    workers
        Already opened workers (``cluster.open_executor``); then ``jobs`` and ``scheduler`` are
        not used.
    progress
        Called with a message and a fraction done.

    Returns
    -------
    plan, design
        The best plan seen and the design it belongs to (the input design when rebalancing did
        not help or was not needed).

    Notes
    -----
    The rebalancing loop (``planning.rebalance_rounds`` rounds at most): per territory the ratio
    f_t = routed travel / estimated travel corrects every customer's travel allowance, the design
    stage reallocates from the current assignment, only territories whose customers changed are
    replanned, and the plan with the smallest maximum routed-workload deviation is kept. It stops
    once every rep is within ``planning.routed_goal`` or two rounds in a row did not improve
    (each round starts from the latest plan; a plan counts as better when its maximum deviation
    is smaller and it leaves no more visits unplanned).
    """
    check_plan_period(config)
    by_id = {r.id: r for r in reps}
    team = [by_id[rid] for rid in design.rep_ids]
    if workers is not None:
        return _plan_and_rebalance(customers, team, design, config, workers, progress)
    with open_executor(jobs, scheduler) as opened:
        return _plan_and_rebalance(customers, team, design, config, opened, progress)


def _plan_and_rebalance(
    customers: Sequence[Customer],
    team: Sequence[Rep],
    design: Design,
    config: Config,
    workers: Workers,
    progress: Progress | None,
) -> tuple[Plan, Design]:
    workload = customer_workload(customers, config, team)
    estimate = workload.travel_min_per_visit
    assignment = list(design.assignment)
    plans = _plan_tasks(
        _tasks(customers, team, assignment, estimate, config), workers, progress, "plan"
    )
    current = [plans[t] for t in range(len(team))]
    dev = routed_deviation(current, team, config)
    first_dev = float(np.abs(dev).max()) if len(dev) else 0.0
    best = (first_dev, current, design, assignment)
    best_lost = _lost(current)
    state = (current, assignment)  # where the next round starts (the latest plan)
    rounds = 0
    stale = 0
    planning = config.planning
    for _ in range(planning.rebalance_rounds):
        if best[0] <= planning.routed_goal or len(team) < 2 or stale >= 2:
            break
        rounds += 1
        plans_now, assign_now = state
        est_travel = np.zeros(len(team))
        np.add.at(est_travel, np.array(assign_now), workload.travel_total_min)
        routed_travel = np.array([p.travel_min + p.unscheduled_travel_min for p in plans_now])
        factor = np.where(est_travel > 0, routed_travel / np.maximum(est_travel, 1e-9), 1.0)
        corrected = replace(
            workload, travel_min_per_visit=workload.travel_min_per_visit * factor[assign_now]
        )
        new_design = _redesign(customers, team, corrected, config, assign_now)
        new_assign = list(new_design.assignment)
        changed = {t for i, t in enumerate(new_assign) if assign_now[i] != t}
        changed |= {assign_now[i] for i, t in enumerate(new_assign) if assign_now[i] != t}
        if not changed:
            break
        # start every replanned territory from the patterns its customers had (warm start)
        known: dict[int, int] = {}
        for t_old, members_old in enumerate(_members(assign_now, len(team))):
            for i, p in zip(members_old, plans_now[t_old].patterns, strict=True):
                known[i] = p
        replanned = _plan_tasks(
            _tasks(customers, team, new_assign, estimate, config, only=changed, previous=known),
            workers,
            progress,
            f"rebalance round {rounds}",
        )
        new_plans = [replanned.get(t, plans_now[t]) for t in range(len(team))]
        new_dev = float(np.abs(routed_deviation(new_plans, team, config)).max())
        new_lost = _lost(new_plans)
        log.info(
            "rebalance round %d: max routed deviation %.3f -> %.3f, unscheduled visits %d -> %d",
            rounds,
            best[0],
            new_dev,
            best_lost,
            new_lost,
        )
        state = (new_plans, new_assign)
        # A better plan is better balanced and leaves no more visits unplanned.
        if new_dev < best[0] - 1e-9 and new_lost <= best_lost:
            best = (new_dev, new_plans, new_design, new_assign)
            best_lost = new_lost
            stale = 0
        else:
            stale += 1

    final_dev, final_plans, final_design, final_assign = best
    plan = Plan(
        days=tuple(d for p in final_plans for d in p.days),
        unscheduled=tuple(u for p in final_plans for u in p.unscheduled),
        kpis=_kpis(
            customers, team, final_plans, config, first_dev, final_dev, rounds, design, final_design
        ),
    )
    return plan, final_design


def _lost(plans: Sequence[TerritoryPlan]) -> int:
    return sum(len(p.unscheduled) for p in plans)


def _kpis(
    customers: Sequence[Customer],
    team: Sequence[Rep],
    plans: Sequence[TerritoryPlan],
    config: Config,
    first_dev: float,
    final_dev: float,
    rounds: int,
    design: Design,
    final_design: Design,
) -> dict:
    dev = routed_deviation(plans, team, config)
    visits_total = int(sum(max(c.visits, 0) for c in customers))
    unscheduled = sum(len(p.unscheduled) for p in plans)
    routed = sum(p.workload_min for p in plans) + sum(p.unscheduled_min for p in plans)
    one_rep = rep_capacity_min(Rep(id="", lat=0.0, lon=0.0), config)
    moved = sum(
        1 for a, b in zip(design.assignment, final_design.assignment, strict=True) if a != b
    )
    notes = []
    if unscheduled:
        notes.append(
            f"{unscheduled} visits could not be planned (see unscheduled.csv); the routed "
            f"workload asks for about {routed / one_rep:.1f} full-time reps"
        )
    capped = [p.rep_id for p in plans if p.time_capped]
    if capped:
        notes.append(
            f"planning of territor{'y' if len(capped) == 1 else 'ies'} {', '.join(capped)} reached "
            f"[planning] territory_time_limit_s = {config.planning.territory_time_limit_s:g} s and "
            "was finished with quick routes; raise the limit for a better (and reproducible) plan"
        )
    tol = config.planning.routed_tolerance
    for p, x in zip(plans, dev, strict=True):
        if abs(x) > tol:
            notes.append(
                f"routed workload of rep {p.rep_id} is {100 * x:+.1f} % from the "
                f"capacity-proportional mean (allowed +/- {100 * tol:.0f} %)"
            )
    return {
        "notes": notes,
        "visits": visits_total,
        "visits_planned": sum(len(d.visits) for p in plans for d in p.days),
        "visits_unscheduled": unscheduled,
        "customers_unscheduled": len({u.customer_id for p in plans for u in p.unscheduled}),
        "working_days_used": sum(len(p.days) for p in plans),
        "visit_min": round(sum(p.visit_min for p in plans), 1),
        "travel_min": round(sum(p.travel_min for p in plans), 1),
        "travel_km": round(sum(p.travel_km for p in plans), 1),
        "admin_min": round(sum(p.admin_min for p in plans), 1),
        "routed_workload_min": {p.rep_id: round(p.workload_min, 1) for p in plans},
        "routed_travel_min": {p.rep_id: round(p.travel_min, 1) for p in plans},
        "routed_travel_km": {p.rep_id: round(p.travel_km, 1) for p in plans},
        "capacity_min": {r.id: round(rep_capacity_min(r, config), 1) for r in team},
        "routed_deviation": {p.rep_id: round(float(x), 4) for p, x in zip(plans, dev, strict=True)},
        "max_routed_deviation_before": round(first_dev, 4),
        "max_routed_deviation": round(final_dev, 4),
        "rebalance_rounds": rounds,
        "rebalance_moved": moved,
        "reps_needed_exact": round(routed / one_rep, 3) if one_rep else None,
        "reps_needed": math.ceil(routed / one_rep - 1e-9) if one_rep else None,
    }
