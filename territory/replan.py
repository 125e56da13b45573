"""Re-planning: a plan folder planned again from a date on, keeping every visit it can.

``territory replan PLAN_DIR --from DATE``. Visits before ``--from`` are history (``done.csv``
when given, else as planned): they count toward each customer's visits and spacing and are not
touched. From ``--from`` on, a visit keeps its day and rep unless it cannot: its customer is
new, gone or moved to another rep, its day became a holiday or an absence of the rep, an
appointment needs another day, the visits made differ from the plan, or its day is too full
after the other changes. Only the customers that must change are placed again; each one takes
the allowed pattern (``schedule.customer_patterns`` with the history and appointments fixed)
that costs least in travel plus ``[replan] change_penalty_min`` for every visit on another day
than before. Days whose visits did not change keep their routes as they were; the others are
routed again with OR-Tools. What cannot be placed is unscheduled, with its reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import changes
from .calendars import CancelledVisit
from .cluster import Workers, open_executor
from .columns import Column as C
from .exceptions import InputError
from .models import Customer, DayRoute, Design, Plan, Rep, UnscheduledVisit, Visit
from .params import Config, format_hhmm, parse_hhmm
from .planning import (
    TerritoryPlan,
    _day_route,
    _Territory,
    territory_legs,
    working_window,
)
from .schedule import (
    customer_patterns,
    day_label,
    day_of_index,
    day_ordinals,
    pattern_days,
    usable_weekdays,
)
from .travel import Legs, TravelModel, haversine_km
from .workdays import blocked_mask, day_of_date, days_off, format_range, period_dates
from .workload import rep_admin_min

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

#: An estimated minute past the end of a day weighs this many minutes of travel when a changed
#: customer's days are chosen (routing then decides what really fits).
OVERFLOW_WEIGHT = 10.0

#: A day whose travel and visits would run more than this over its selling time (minutes, in
#: the current order) is not routed to find out: it cannot take the visit.
SLACK_MIN = 10.0

#: Other patterns tried (each routed) for a visit that fell out of a day after the changes.
REPAIR_OPTIONS = 4

#: The reason of a customer the previous plan left (partly) unscheduled.
UNSCHEDULED_BEFORE = "unscheduled in the previous plan: placed where there is room now"


@dataclass(frozen=True)
class ReplanOutputs:
    """What a re-plan adds to the plan folder (``pipeline.write_outputs(replan=...)``).

    Attributes
    ----------
    revision
        1 for the first re-plan of a plan, 2 for a re-plan of that, ... (the events' SEQUENCE).
    issued
        The ``--from`` date (the events' DTSTAMP).
    cancelled
        Visits of the previous plan that left their rep's day: cancelled events.
    changes
        The rows of changes.csv.
    summary
        summary.json's ``replan`` section.
    """

    revision: int
    issued: dt.date
    cancelled: Sequence[CancelledVisit] = ()
    changes: Sequence[dict[str, Any]] = ()
    summary: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# The previous plan folder
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviousPlan:
    """A plan folder as the re-plan needs it.

    Attributes
    ----------
    path
        The folder.
    config
        The effective configuration recorded in its summary.json.
    inputs
        Input name -> path recorded in summary.json (customers, reps, config, ...).
    rep_of
        Customer id -> rep id (assignments.csv).
    location
        Customer id -> (lat, lon, visit_minutes) as planned (assignments.csv).
    days
        Every rep day of schedule.csv / days.csv as a DayRoute (times as written).
    revision
        How many re-plans led to this plan (0 for a plan).
    """

    path: Path
    config: Config
    inputs: dict[str, str]
    rep_of: dict[str, str]
    location: dict[str, tuple[float, float, float]]
    days: tuple[DayRoute, ...]
    revision: int
    unscheduled: frozenset[str] = frozenset()


def read_previous(plan_dir: str | Path, config: Config | None = None) -> PreviousPlan:
    """Read a plan folder written by ``territory plan`` (or ``replan``).

    Parameters
    ----------
    plan_dir
        The folder.
    config
        A configuration to use instead of the one in its summary.json (its period must be the
        plan's: same start date, weeks and days).

    Raises
    ------
    InputError
        Not a plan folder, no visit plan in it, no start date, or another period in ``config``.
    """
    from .reporthtml import load_plan_folder

    folder = load_plan_folder(plan_dir)
    path = folder.path
    if folder.schedule is None or folder.days is None or folder.summary is None:
        raise InputError(
            f"{path} holds no visit plan (schedule.csv, days.csv, summary.json); replan needs "
            "the --out folder of `territory plan`"
        )
    recorded = folder.summary.get("config")
    if not isinstance(recorded, dict):
        raise InputError(f"{path}/summary.json has no config; run `territory plan` again")
    try:
        planned = Config.from_dict(recorded, source=f"{path}/summary.json")
    except InputError as exc:
        raise InputError(f"{path}/summary.json: its config cannot be read ({exc})") from None
    if planned.period.start_date is None:
        raise InputError(
            f"{path} was planned without a start date; replan works on dates: plan again "
            "with [period] start_date or --start-date"
        )
    if config is None:
        config = planned
    else:
        if config.period.start_date is None:
            config = replace(
                config, period=replace(config.period, start_date=planned.period.start_date)
            )
        same = (config.period.start_date, config.period.weeks, config.period.days) == (
            planned.period.start_date,
            planned.period.weeks,
            planned.period.days,
        )
        if not same:
            raise InputError(
                f"--config: its [period] ({config.period.start_date}, {config.period.weeks} "
                f"weeks, {','.join(config.period.days)}) is not the period of {path} "
                f"({planned.period.start_date}, {planned.period.weeks} weeks, "
                f"{','.join(planned.period.days)}); replan keeps the plan's period"
            )
    inputs = {
        name: str(value.get("path", ""))
        for name, value in (folder.summary.get("inputs") or {}).items()
        if isinstance(value, dict)
    }
    rep_of = {r[C.CUSTOMER_ID]: r[C.REP_ID] for r in folder.assignments}
    location = {
        r[C.CUSTOMER_ID]: (
            _float(r.get(C.LAT)),
            _float(r.get(C.LON)),
            _float(r.get(C.VISIT_MINUTES)),
        )
        for r in folder.assignments
    }
    days = _day_routes(path, folder.schedule, folder.days, config)
    replanned = folder.summary.get("replan")
    revision = int(replanned.get("revision", 0)) if isinstance(replanned, dict) else 0
    unscheduled = frozenset(u[C.CUSTOMER_ID] for u in folder.unscheduled or ())
    return PreviousPlan(path, config, inputs, rep_of, location, days, revision, unscheduled)


def _float(text: object) -> float:
    try:
        return float(str(text))
    except ValueError:
        return math.nan


def _day_routes(
    path: Path, schedule: list[dict[str, str]], days: list[dict[str, str]], config: Config
) -> tuple[DayRoute, ...]:
    """The plan's rep days rebuilt from schedule.csv and days.csv (times as written)."""
    period = config.period
    visits: dict[tuple[str, str], list[tuple[int, Visit]]] = {}
    for row in schedule:
        visit = Visit(
            customer_id=row[C.CUSTOMER_ID],
            arrival_min=parse_hhmm(row[C.ARRIVAL], "arrival"),
            start_min=parse_hhmm(row[C.START], "start"),
            end_min=parse_hhmm(row[C.END], "end"),
            travel_min=_float(row[C.TRAVEL_MIN]),
            travel_km=_float(row[C.TRAVEL_KM]),
        )
        visits.setdefault((row[C.REP_ID], row[C.DATE]), []).append((int(row[C.SEQ]), visit))
    out = []
    for row in days:
        key = (row[C.REP_ID], row[C.DATE])
        try:
            date = dt.date.fromisoformat(row[C.DATE])
        except ValueError:
            raise InputError(f"{path}/days.csv: '{row[C.DATE]}' is not a date") from None
        day = day_of_date(period, date)
        if day is None:
            raise InputError(f"{path}/days.csv: {date} is not a day of the plan's period")
        stops = tuple(v for _, v in sorted(visits.pop(key, []), key=lambda x: x[0]))
        week, weekday = day_of_index(day, period)
        lunch = row.get(C.LUNCH_START, "")
        out.append(
            DayRoute(
                rep_id=row[C.REP_ID],
                week=week,
                weekday=weekday,
                depart_min=parse_hhmm(row[C.DEPART], "depart"),
                return_min=parse_hhmm(row[C.RETURN], "return"),
                visits=stops,
                home_travel_min=max(
                    _float(row[C.TRAVEL_MIN]) - sum(v.travel_min for v in stops), 0.0
                ),
                home_travel_km=max(_float(row[C.TRAVEL_KM]) - sum(v.travel_km for v in stops), 0.0),
                date=date.isoformat(),
                lunch_start_min=parse_hhmm(lunch, "lunch") if lunch else None,
                day=day,
            )
        )
    if visits:
        (rep_id, label), _ = next(iter(visits.items()))
        raise InputError(
            f"{path}/schedule.csv: rep {rep_id} on {label} has visits but no row in days.csv"
        )
    return tuple(out)


def load_done(path: str | Path, known: set[str]) -> dict[str, set[dt.date]]:
    """Visits made (``customer_id, date``): customer id -> dates.

    Raises
    ------
    InputError
        One line per row naming an unknown customer or a cell that is not a date.
    """
    from .load import _map_columns, _raise, _Row, read_table
    from .workdays import parse_date

    table = read_table(path)
    aliases: dict[str, tuple[str, ...]] = {
        "customer_id": ("customer_id", "customer", "klant", "klantnummer", "klantnr", "id"),
        "date": ("date", "datum", "dag", "day", "visited", "bezocht"),
    }
    columns = _map_columns(table, aliases, required=("customer_id", "date"))
    problems: list[str] = []
    done: dict[str, set[dt.date]] = {}
    for number, values in table.rows:
        row = _Row(table, columns, number, values, problems)
        cid = row.text("customer_id")
        if cid not in known:
            row.problem(
                "customer_id",
                row.raw("customer_id"),
                "is not a customer of the plan or the customers file",
            )
            continue
        try:
            date = parse_date(row.raw("date"))
        except ValueError:
            row.problem("date", row.raw("date"), "is not a date; use YYYY-MM-DD")
            continue
        done.setdefault(cid, set()).add(date)
    _raise(problems, table.source, "done file")
    return done


# --------------------------------------------------------------------------------------------
# One territory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplanTask:
    """One rep's re-plan: plain data only (it crosses process boundaries).

    Per customer of the territory (in order): ``history`` the days (bitmask) of visits made
    before ``--from``, ``old_future`` the days this rep visited it in the previous plan from
    ``--from`` on, ``reasons`` why it must be placed again regardless ("" = keep what can be
    kept), ``reroute`` whether its days must be routed again (its place or visit length
    changed). ``old_days`` are the rep's previous day routes from ``--from`` on,
    ``history_days`` the ones before (kept as they are); ``unscheduled_before`` marks the
    customers the previous plan left in part unscheduled (their planned visits stay where
    they can, the missing ones look for a day).
    """

    index: int
    rep: Rep
    customers: tuple[Customer, ...]
    config: Config
    seed: int
    legs: Legs
    past: int
    history: tuple[int, ...]
    old_future: tuple[int, ...]
    reasons: tuple[str, ...]
    reroute: tuple[bool, ...]
    old_days: tuple[DayRoute, ...]
    history_days: tuple[DayRoute, ...]
    unscheduled_before: tuple[bool, ...] = ()


@dataclass(frozen=True)
class ReplanResult:
    """One rep's re-plan: the territory plan and why customers' visits changed (by id)."""

    plan: TerritoryPlan
    reasons: dict[str, str]


class _Replan:
    """A territory while it is re-planned: kept days, changed customers placed, days routed."""

    def __init__(self, task: ReplanTask) -> None:
        config = task.config
        self.task = task
        self.t = _Territory(
            task.rep,
            task.customers,
            config,
            seed=task.seed,
            limit_s=config.planning.territory_time_limit_s,
            legs=task.legs,
        )
        self.period = config.period
        self.dates = period_dates(self.period)
        self.blocked = self.t.blocked | task.past
        self.off = days_off(task.rep, config)
        self.penalty = config.replan.change_penalty_min
        n = len(task.customers)
        self.pos = {c.id: i for i, c in enumerate(task.customers)}
        self.appt = [m & ~task.past for m in self.t.fixed_mask]
        self.chosen = [0] * n
        self.reasons = list(task.reasons)
        # customers the previous plan left (in part) unscheduled: their planned visits stay
        self.unscheduled_before = {i for i, b in enumerate(task.unscheduled_before) if b}
        self.patterns: dict[int, tuple[int, ...]] = {}
        self.orders: dict[int, list[int]] = {}
        self.dirty: set[int] = set()
        self.unscheduled: dict[int, list[int]] = {}
        self.unplannable: dict[int, str] = {}
        self.routed: dict[int, Any] = {}
        self.old_route = {d.day: d for d in task.old_days}
        self.budget = max(config.planning.repair_routes, 1) * 2
        self.kept: set[int] = set()  # customers on their previous days: routed first
        self.must_route: set[int] = set()  # an appointment's time or a customer changed

    # ---- what stays --------------------------------------------------------------------
    def why_changed(self, i: int) -> str:
        """Why customer ``i`` cannot keep its previous days ("" when it can). For a customer
        the previous plan left in part unscheduled, only what changed since (a day off, an
        appointment, its allowed days): its visits count is short by design."""
        c = self.task.customers[i]
        old, hist, appt = self.task.old_future[i], self.task.history[i], self.appt[i]
        for d in pattern_days(old & self.blocked):
            return self.off.get(d, "its day is no working day any more")
        for d in pattern_days(appt & ~old):
            start = self.t.fixed[d][i][0] // 60
            return f"appointment on {self.dates[d].isoformat()} at {format_hhmm(start)}"
        made, planned = _bits(hist), _bits(old)
        if made + planned != c.visits and i not in self.unscheduled_before:
            if old == 0 and hist == 0:
                return "new customer"
            return (
                f"{c.visits} visits in the period, {made} made before the re-plan and {planned} "
                "planned after it"
            )
        usable = set(usable_weekdays(c, self.task.rep, self.task.config))
        for d in pattern_days(old):
            if day_of_index(d, self.period)[1] not in usable:
                return f"allowed days are now {','.join(sorted(usable)) or 'none'}"
        return ""

    def keep(self) -> list[int]:
        """Keep every customer that can keep its days; return the others (to place again)."""
        todo = []
        for i, c in enumerate(self.task.customers):
            if c.visits <= 0:
                continue
            if i in self.unscheduled_before:
                why = self.why_changed(i)
                self.reasons[i] = f"{why}; {UNSCHEDULED_BEFORE}" if why else UNSCHEDULED_BEFORE
            elif not self.reasons[i]:
                self.reasons[i] = self.why_changed(i)
            if not self.reasons[i]:
                self.chosen[i] = self.task.history[i] | self.task.old_future[i]
                self.kept.add(i)
                continue
            todo.append(i)
        for d, route in self.old_route.items():
            order = [self.pos[v.customer_id] for v in route.visits if v.customer_id in self.pos]
            kept = [i for i in order if self.chosen[i] and (self.chosen[i] >> d) & 1]
            self.orders[d] = kept
            booked = self.t.fixed.get(d, {})
            moved_time = any(
                self.pos.get(v.customer_id, -1) in booked
                and booked[self.pos[v.customer_id]][0] // 60 != v.start_min
                for v in route.visits
            )
            if moved_time or any(self.task.reroute[i] for i in kept):
                self.must_route.add(d)
            if len(kept) != len(route.visits) or d in self.must_route:
                self.dirty.add(d)
        return todo

    # ---- placing the changed customers ---------------------------------------------------
    def options(self, i: int) -> tuple[int, ...]:
        """Customer ``i``'s allowed patterns with its history and appointments fixed."""
        if i not in self.patterns:
            c = self.task.customers[i]
            fixed = self.task.history[i] | self.appt[i]
            patterns = customer_patterns(
                c.visits,
                usable_weekdays(c, self.task.rep, self.task.config),
                self.period,
                blocked=self.blocked & ~fixed,
                fixed=fixed,
            )
            if i in self.unscheduled_before:
                # scheduled in part before: its visits stay on their days where a pattern
                # allows it, only the missing ones look for a day
                keep = self.task.old_future[i] & ~self.blocked
                patterns = tuple(p for p in patterns if p & keep == keep) or patterns
            self.patterns[i] = patterns
        return self.patterns[i]

    def insertion(self, d: int, i: int) -> tuple[float, int]:
        """(cost in minutes, position) of inserting ``i`` into day ``d``'s current order."""
        delta, k, over = self.estimate(d, i)
        return delta + OVERFLOW_WEIGHT * over, k

    def estimate(self, d: int, i: int) -> tuple[float, int, float]:
        """Inserting ``i`` into day ``d``'s current order at its cheapest place: (detour in
        minutes, position, minutes the day's travel and visits then run over its selling time
        beyond what they already did)."""
        m = self.t.minutes
        order = self.orders.get(d, [])
        nodes = np.array([0, *[s + 1 for s in order], 0], dtype=np.intp)
        node = i + 1
        delta = m[nodes[:-1], node] + m[node, nodes[1:]] - m[nodes[:-1], nodes[1:]]
        k = int(np.argmin(delta))
        duration = float(m[nodes[:-1], nodes[1:]].sum()) + sum(
            self.t.minutes_on(d, s) for s in order
        )
        extra = float(delta[k]) + self.t.minutes_on(d, i)
        selling = self.t.frame.selling_min
        over = max(duration + extra - selling, 0.0) - max(duration - selling, 0.0)
        return float(delta[k]), k, over

    def cost(self, i: int, pattern: int) -> float:
        """Travel added by ``pattern``'s future days plus the change penalty for each visit
        on a day it did not have before."""
        future = pattern & ~self.task.past
        total = sum(self.insertion(d, i)[0] for d in pattern_days(future))
        return total + self.penalty * _bits(future & ~self.task.old_future[i])

    def place(self, i: int) -> None:
        """Put customer ``i`` on its cheapest pattern (unplannable when it has none)."""
        options = self.options(i)
        if not options:
            self.unplannable[i] = self.reasons[i] and (
                f"{self.reasons[i]}; no allowed day is left in the period"
            )
            return
        best = min(options, key=lambda p: (self.cost(i, p), p))
        self.assign(i, best)

    def assign(self, i: int, pattern: int) -> None:
        """Customer ``i`` on ``pattern``: off the days it leaves, into the days it joins."""
        past = self.task.past
        old = self.chosen[i] & ~past
        new = pattern & ~past
        for d in pattern_days(old & ~new):
            self.orders[d] = [s for s in self.orders.get(d, []) if s != i]
            self.dirty.add(d)
        for d in pattern_days(new & ~old):
            _, k = self.insertion(d, i)
            self.orders.setdefault(d, []).insert(k, i)
            self.dirty.add(d)
        self.chosen[i] = pattern

    # ---- routing and repair -------------------------------------------------------------
    def route_dirty(self) -> None:
        """Route every changed day; the visits that did not fit wait for repair."""
        for d in sorted(self.dirty):
            stops = self.orders.get(d, [])
            if not stops:
                self.routed.pop(d, None)
                continue
            self.routed[d], out = self.t.route(d, stops, initial=stops, keep=self.kept)
            self.orders[d] = list(self.routed[d].order)
            for i in out:
                self.unscheduled.setdefault(i, []).append(d)

    def repair(self) -> None:
        """A visit that fell out: the next cheapest patterns of its customer, each routed."""
        for i in sorted(self.unscheduled):
            options = sorted(
                (p for p in self.options(i) if p != self.chosen[i]),
                key=lambda p: (self.cost(i, p), p),
            )[:REPAIR_OPTIONS]
            for p in options:
                trial = self.trial(i, p)
                if trial is None:
                    continue
                for d in pattern_days(self.chosen[i] & ~p & ~self.task.past):
                    self.orders[d] = [s for s in self.orders.get(d, []) if s != i]
                    stops = self.orders[d]
                    if stops:
                        self.routed[d], _ = self.t.route(d, stops, initial=stops)
                        self.orders[d] = list(self.routed[d].order)
                    else:
                        self.routed.pop(d, None)
                    self.dirty.add(d)
                for d, routed in trial.items():
                    self.routed[d] = routed
                    self.orders[d] = list(routed.order)
                    self.dirty.add(d)
                self.chosen[i] = p
                day = self.unscheduled.pop(i)[0]
                self.reasons[i] = self.reasons[i] or (
                    f"no room left on {self.dates[day].isoformat()} after the other changes"
                )
                break

    def trial(self, i: int, pattern: int) -> dict[int, Any] | None:
        """The future days of ``pattern`` routed with ``i``; None when one does not take it."""
        out: dict[int, Any] = {}
        for d in pattern_days(pattern & ~self.task.past):
            if self.budget <= 0:
                return None
            current = [s for s in self.orders.get(d, []) if s != i]
            if i in self.orders.get(d, []):
                k = len(current)
            else:
                _, k, over = self.estimate(d, i)
                if over > SLACK_MIN:  # cannot fit, whatever the order: no route needed
                    return None
            stops = [*current[:k], i, *current[k:]]
            self.budget -= 1
            routed, dropped = self.t.route(d, stops, initial=stops, keep=self.kept)
            if dropped:
                return None
            out[d] = routed
        return out

    # ---- the result ---------------------------------------------------------------------
    def result(self) -> ReplanResult:
        """The territory plan: history days, kept days as they were, routed days anew."""
        t, task = self.t, self.task
        routes = list(task.history_days)
        for d in sorted(set(self.orders) | set(self.old_route)):
            if (task.past >> d) & 1:
                continue
            if d in self.old_route and (d not in self.dirty or self.unchanged(d)):
                routes.append(self.old_route[d])
            elif d in self.routed and self.routed[d].order:
                routes.append(_day_route(t, d, self.routed[d]))
        routes.sort(key=lambda r: self.dates[r.day])
        unscheduled = self.unscheduled_visits()
        unscheduled_min = unscheduled_travel = 0.0
        for u in unscheduled:
            i = self.pos[u.customer_id]
            unscheduled_min += task.customers[i].visit_minutes + float(t.minutes[0, i + 1])
            unscheduled_travel += float(t.minutes[0, i + 1])
        plan = TerritoryPlan(
            rep_id=task.rep.id,
            days=tuple(routes),
            unscheduled=unscheduled,
            visit_min=sum(v.end_min - v.start_min for r in routes for v in r.visits),
            travel_min=sum((r.travel_min for r in routes), 0.0),
            travel_km=sum((r.travel_km for r in routes), 0.0),
            admin_min=rep_admin_min(task.rep, task.config),
            unscheduled_min=unscheduled_min,
            patterns=tuple(self.chosen),
            unscheduled_travel_min=unscheduled_travel,
            time_capped=t.capped,
        )
        reasons = {task.customers[i].id: why for i, why in enumerate(self.reasons) if why}
        return ReplanResult(plan=plan, reasons=reasons)

    def unchanged(self, d: int) -> bool:
        """Whether day ``d`` ends with the customers it had (then its route is kept as it was)."""
        if d in self.must_route:
            return False
        before = {v.customer_id for v in self.old_route[d].visits}
        order = self.routed[d].order if d in self.routed else self.orders.get(d, [])
        return before == {self.task.customers[i].id for i in order}

    def unscheduled_visits(self) -> tuple[UnscheduledVisit, ...]:
        """Future visits with no day: unplannable customers, and visits that fell out."""
        out = []
        task = self.task
        for i, c in enumerate(task.customers):
            if c.visits <= 0:
                continue
            if i in self.unplannable or (self.chosen[i] == 0 and self.reasons[i]):
                missing = c.visits - _bits(task.history[i])
                why = self.unplannable.get(i) or self.reasons[i]
                out += [
                    UnscheduledVisit(c.id, task.rep.id, why, visit=_bits(task.history[i]) + k + 1)
                    for k in range(max(missing, 0))
                ]
            for d in sorted(set(self.unscheduled.get(i, ()))):
                days = pattern_days(self.chosen[i])
                out.append(
                    UnscheduledVisit(
                        c.id,
                        task.rep.id,
                        "day capacity exhausted after the re-plan: no other allowed day of the "
                        "rep takes it",
                        visit=days.index(d) + 1 if d in days else 0,
                        date=day_label(d, self.period),
                    )
                )
        return tuple(out)


def replan_territory(task: ReplanTask) -> ReplanResult:
    """Re-plan one rep's period from ``--from`` on (see the module docstring)."""
    state = _Replan(task)
    todo = state.keep()
    todo.sort(key=lambda i: (len(state.options(i)) or 10**9, -task.customers[i].visits, i))
    for i in todo:
        state.place(i)
    state.route_dirty()
    state.repair()
    return state.result()


def _bits(mask: int) -> int:
    return bin(mask).count("1")


# --------------------------------------------------------------------------------------------
# The team
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replanned:
    """A re-plan of the team: the plan, the design it belongs to and the folder's extras."""

    plan: Plan
    design: Design
    outputs: ReplanOutputs


def replan(
    previous: PreviousPlan,
    inputs_customers: Sequence[Customer],
    reps: Sequence[Rep],
    config: Config,
    travel: TravelModel,
    from_date: dt.date,
    *,
    done: Mapping[str, set[dt.date]] | None = None,
    jobs: int = 1,
    workers: Workers | None = None,
    progress: Progress | None = None,
) -> Replanned:
    """Re-plan the team from ``from_date`` on.

    Parameters
    ----------
    previous
        The plan folder read by :func:`read_previous`.
    inputs_customers, reps
        The customers and reps as they are now (with appointments and absences).
    config
        The run's configuration (the plan's period).
    travel
        The travel model.
    from_date
        The first day that is planned again; earlier visits are history.
    done
        Visits made before ``from_date`` (customer id -> dates); None = as planned.
    jobs, workers
        Local processes, or already opened workers, for the territories.
    progress
        Called with a message and the share done.

    Returns
    -------
    Replanned
        The plan over the whole period (history included), its design, and changes.csv,
        cancelled events and summary facts.
    """
    period = config.period
    dates = period_dates(period)
    first, last = min(dates), max(dates)
    if not first <= from_date <= last:
        raise InputError(
            f"--from {from_date} is outside the plan's period {format_range(first, last)}; "
            "plan a new period with `territory plan`"
        )
    past = sum(1 << d for d, date in enumerate(dates) if date < from_date)
    customers = tuple(inputs_customers)
    rep_ids = [r.id for r in reps]
    assignment, reasons = _assign(previous, customers, reps, config, travel)
    before = [cid for cid in previous.unscheduled if cid not in reasons]  # in the file's order
    for cid in before:
        reasons[cid] = UNSCHEDULED_BEFORE
    reasons_before = set(before)
    history, history_days = _history(previous, past, done, dates, {c.id for c in customers})
    _check_appointments(customers, reps, assignment, config, travel)
    old_future: dict[tuple[str, str], int] = {}
    for day in previous.days:
        if not (past >> day.day) & 1:
            for v in day.visits:
                key = (v.customer_id, day.rep_id)
                old_future[key] = old_future.get(key, 0) | (1 << day.day)
    tasks = []
    for t, rep in enumerate(reps):
        members = [i for i, a in enumerate(assignment) if a == t]
        mine = tuple(customers[i] for i in members)
        tasks.append(
            ReplanTask(
                index=t,
                rep=rep,
                customers=mine,
                config=config,
                seed=config.territory.seed,
                legs=territory_legs(rep, mine, travel),
                past=past,
                history=tuple(history.get(customers[i].id, 0) for i in members),
                old_future=tuple(old_future.get((customers[i].id, rep.id), 0) for i in members),
                reasons=tuple(reasons.get(customers[i].id, "") for i in members),
                reroute=tuple(_moved(previous, customers[i]) for i in members),
                unscheduled_before=tuple(customers[i].id in reasons_before for i in members),
                old_days=tuple(
                    d for d in previous.days if d.rep_id == rep.id and not (past >> d.day) & 1
                ),
                history_days=tuple(d for d in history_days if d.rep_id == rep.id),
            )
        )
    if workers is not None:
        results = _run(tasks, workers, progress)
    else:
        with open_executor(jobs) as opened:
            results = _run(tasks, opened, progress)
    plans = [results[t].plan for t in range(len(reps))]
    for r in results.values():
        reasons.update(r.reasons)
    old_days = {
        (v.customer_id, d.rep_id): d.day
        for d in previous.days
        if not (past >> d.day) & 1
        for v in d.visits
    }
    plans = _cover(
        plans,
        customers,
        reps,
        config=config,
        travel=travel,
        past=past,
        old_days=old_days,
        reasons=reasons,
    )
    design = _design(customers, reps, assignment, config, travel)
    plan = _team_plan(customers, reps, design, plans, config)
    outputs = _outputs(
        previous, plan, customers, rep_ids, reasons, from_date=from_date, past=past, config=config
    )
    return Replanned(plan=plan, design=design, outputs=outputs)


def _run(
    tasks: Sequence[ReplanTask], workers: Workers, progress: Progress | None
) -> dict[int, ReplanResult]:
    """Every territory's re-plan on ``workers``; results by task index (order-independent)."""
    out: dict[int, ReplanResult] = {}
    total = len(tasks)
    if workers.executor is None or total <= 1:
        for k, task in enumerate(tasks):
            out[task.index] = replan_territory(task)
            if progress:
                progress(f"replan: territory {task.rep.id}", (k + 1) / total)
        return out
    futures = {workers.executor.submit(replan_territory, task): task for task in tasks}
    for k, fut in enumerate(as_completed(futures)):
        task = futures[fut]
        out[task.index] = fut.result()
        if progress:
            progress(f"replan: territory {task.rep.id}", (k + 1) / total)
    return out


#: A visit its rep cannot place is offered to this many other reps (nearest home first), on the
#: days within ``COVER_DAYS`` calendar days of the day it was meant for.
COVER_REPS = 3
COVER_DAYS = 4

_NO_COVER = f"nor had one of the {COVER_REPS} nearest colleagues room within {COVER_DAYS} days"


def _cover(
    plans: list[TerritoryPlan],
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    *,
    config: Config,
    travel: TravelModel,
    past: int,
    old_days: Mapping[tuple[str, str], int],
    reasons: dict[str, str],
) -> list[TerritoryPlan]:
    """Visits a rep could not place after the re-plan, done by a colleague instead.

    Each unscheduled visit (of a customer that has a place) is tried with the nearest other reps
    on their working days closest to the day it was meant for (the day in the previous plan,
    else the day it fell out of), the colleague's day routed again with the visit added and
    every visit already there kept. The customer stays in its territory; only that visit moves.
    """
    by_id = {c.id: c for c in customers}
    plans = list(plans)
    homes = np.array([[r.lat, r.lon] for r in reps])
    for t, plan in enumerate(plans):
        left: list[UnscheduledVisit] = []
        for u in plan.unscheduled:
            c = by_id[u.customer_id]
            target = old_days.get((c.id, plan.rep_id))
            if target is None and u.date:
                target = day_of_date(config.period, dt.date.fromisoformat(u.date))
            covered = None
            if target is not None and c.visits > 0:
                covered = _cover_one(
                    plans,
                    c,
                    (t, target),
                    reps,
                    homes,
                    by_id,
                    config=config,
                    travel=travel,
                    past=past,
                )
            if covered is None:
                tried = target is not None and c.visits > 0
                left.append(replace(u, reason=f"{u.reason}; {_NO_COVER}") if tried else u)
                continue
            b, new_plan, date = covered
            plans[b] = new_plan
            why = reasons.get(c.id) or "no room left with its rep"
            reasons[c.id] = f"{why}: visit on {date} by rep {reps[b].id}"
        if len(left) != len(plan.unscheduled):
            plans[t] = _with_unscheduled(plans[t], tuple(left), customers)
    return plans


def _cover_one(
    plans: Sequence[TerritoryPlan],
    c: Customer,
    meant: tuple[int, int],
    reps: Sequence[Rep],
    homes: NDArray[np.float64],
    by_id: Mapping[str, Customer],
    *,
    config: Config,
    travel: TravelModel,
    past: int,
) -> tuple[int, TerritoryPlan, str] | None:
    """The first colleague's day that takes customer ``c``'s visit, meant for territory
    ``meant[0]`` on day ``meant[1]``: (territory, its new plan, the date), or None."""
    owner, target = meant
    ordinal = day_ordinals(config.period)
    visited = {d.day for p in plans for d in p.days for v in d.visits if v.customer_id == c.id}
    far = haversine_km(homes[:, 0], homes[:, 1], c.lat, c.lon)
    order = [int(b) for b in np.argsort(far, kind="stable") if int(b) != owner][:COVER_REPS]
    for b in order:
        rep = reps[b]
        weekdays = set(usable_weekdays(c, rep, config))
        blocked = blocked_mask(rep, config) | past
        days = sorted(
            (
                d
                for d in range(config.period.working_days)
                if abs(ordinal[d] - ordinal[target]) <= COVER_DAYS
                and not (blocked >> d) & 1
                and day_of_index(d, config.period)[1] in weekdays
                and d not in visited
                and not any(abs(ordinal[d] - ordinal[v]) < 2 for v in visited)
            ),
            key=lambda d: (abs(ordinal[d] - ordinal[target]), ordinal[d]),
        )
        for d in days:
            routed = _route_with(plans[b], rep, c, d, by_id, config=config, travel=travel)
            if routed is not None:
                return b, routed, period_dates(config.period)[d].isoformat()
    return None


def _route_with(
    plan: TerritoryPlan,
    rep: Rep,
    c: Customer,
    d: int,
    by_id: Mapping[str, Customer],
    *,
    config: Config,
    travel: TravelModel,
) -> TerritoryPlan | None:
    """``plan`` with rep day ``d`` routed again with customer ``c`` added (every visit already
    there kept), or None when the day cannot take it."""
    current = next((day for day in plan.days if day.day == d), None)
    ids = [v.customer_id for v in current.visits] if current is not None else []
    stops_of = {cid: k for k, cid in enumerate(ids)}
    members = [by_id[cid] for cid in ids] + [c]
    legs = territory_legs(rep, members, travel)
    if current is not None:  # a full day cannot take it: no route needed to find out
        start, end, _ = working_window(rep, config)
        m = legs.minutes
        path = np.arange(len(ids) + 1)
        detour = m[path, -1] + m[-1, np.roll(path, -1)] - m[path, np.roll(path, -1)]
        span = current.return_min - current.depart_min
        if span + float(detour.min()) + c.visit_minutes > end - start + SLACK_MIN:
            return None
    t = _Territory(
        rep,
        members,
        config,
        seed=config.territory.seed,
        limit_s=config.planning.territory_time_limit_s,
        legs=legs,
    )
    stops = [*range(len(ids)), len(ids)]
    routed, dropped = t.route(
        d, stops, initial=list(stops_of.values()), keep=set(stops_of.values())
    )
    if dropped:
        return None
    day = _day_route(t, d, routed)
    ordinal = day_ordinals(config.period)
    days = sorted([x for x in plan.days if x.day != d] + [day], key=lambda x: ordinal[x.day])
    return _totals(replace(plan, days=tuple(days)))


def _totals(plan: TerritoryPlan) -> TerritoryPlan:
    """``plan`` with its routed totals recomputed from its days."""
    return replace(
        plan,
        visit_min=float(sum(v.end_min - v.start_min for r in plan.days for v in r.visits)),
        travel_min=sum((r.travel_min for r in plan.days), 0.0),
        travel_km=sum((r.travel_km for r in plan.days), 0.0),
    )


def _with_unscheduled(
    plan: TerritoryPlan, left: tuple[UnscheduledVisit, ...], customers: Sequence[Customer]
) -> TerritoryPlan:
    """``plan`` with only ``left`` unscheduled (the estimate of the rest removed)."""
    by_id = {c.id: c for c in customers}
    gone = len(plan.unscheduled) - len(left)
    if gone <= 0:
        return plan
    share = sum(by_id[u.customer_id].visit_minutes for u in left)
    total = sum(by_id[u.customer_id].visit_minutes for u in plan.unscheduled)
    scale = share / total if total else 0.0
    return replace(
        plan,
        unscheduled=left,
        unscheduled_min=plan.unscheduled_min * scale,
        unscheduled_travel_min=plan.unscheduled_travel_min * scale,
    )


def _check_appointments(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    assignment: Sequence[int],
    config: Config,
    travel: TravelModel,
) -> None:
    """Every appointment against the day of the rep who has its customer now."""
    if any(c.appointments for c in customers):
        from .bookings import check_appointments

        rep_of = {c.id: reps[a].id for c, a in zip(customers, assignment, strict=True)}
        check_appointments(customers, reps, rep_of, config, travel)


def _moved(previous: PreviousPlan, c: Customer) -> bool:
    """Whether the customer's place or visit length changed since the plan (its days are
    routed again)."""
    was = previous.location.get(c.id)
    if was is None:
        return False
    lat, lon, minutes = was
    return not (
        math.isclose(lat, round(c.lat, 6), abs_tol=1e-6)
        and math.isclose(lon, round(c.lon, 6), abs_tol=1e-6)
        and math.isclose(minutes, c.visit_minutes, abs_tol=1e-6)
    )


def _assign(
    previous: PreviousPlan,
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    config: Config,
    travel: TravelModel,
) -> tuple[list[int], dict[str, str]]:
    """Each customer's territory (rep index): the previous rep where it is still there and the
    customer is not locked elsewhere; the others (new customers, those of a rep who left) are
    placed by the design stage with every other customer locked where it is."""
    index = {r.id: t for t, r in enumerate(reps)}
    assignment: list[int] = []
    reasons: dict[str, str] = {}
    free = []
    for i, c in enumerate(customers):
        old = previous.rep_of.get(c.id, "")
        if c.locked_rep and c.locked_rep != old:
            assignment.append(index[c.locked_rep])
            reasons[c.id] = f"locked to rep {c.locked_rep}"
        elif old in index:
            assignment.append(index[old])
        else:
            assignment.append(-1)
            free.append(i)
            reasons[c.id] = (
                "new customer" if not old else f"rep {old} is no longer in the reps file"
            )
    if free:
        from .districting import design_territories
        from .workload import customer_workload

        locked = tuple(
            c if a < 0 else replace(c, locked_rep=reps[a].id)
            for c, a in zip(customers, assignment, strict=True)
        )
        workload = customer_workload(locked, config, reps, travel=travel)
        placed = design_territories(locked, reps, workload, config, travel=travel)
        for i in free:
            assignment[i] = placed.assignment[i]
            old = previous.rep_of.get(customers[i].id, "")
            if old:
                reasons[customers[i].id] += f": now with rep {reps[assignment[i]].id}"
    return assignment, reasons


def _history(
    previous: PreviousPlan,
    past: int,
    done: Mapping[str, set[dt.date]] | None,
    dates: Sequence[dt.date],
    known: set[str],
) -> tuple[dict[str, int], list[DayRoute]]:
    """Visits made before ``--from`` (days bitmask per customer id) and the rep days that
    show them: as planned, or only the visits in ``done`` (a visit made on a day the plan did
    not have counts, but has no route to show; nor has the visit of a customer no longer in
    ``known``, the customers file)."""
    history: dict[str, int] = {}
    days: list[DayRoute] = []
    for day in previous.days:
        if not (past >> day.day) & 1:
            continue
        date = dates[day.day]
        kept = tuple(
            v
            for v in day.visits
            if (done is None or date in done.get(v.customer_id, set())) and v.customer_id in known
        )
        for v in kept:
            history[v.customer_id] = history.get(v.customer_id, 0) | (1 << day.day)
        if kept and len(kept) == len(day.visits):
            days.append(day)
        elif kept:
            days.append(replace(day, visits=kept))
    if done is not None:
        for cid, made in done.items():
            for date in made:
                if date in dates and (past >> dates.index(date)) & 1:
                    history[cid] = history.get(cid, 0) | (1 << dates.index(date))
    return history, days


def _design(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    assignment: Sequence[int],
    config: Config,
    travel: TravelModel,
) -> Design:
    """The re-plan's division as a Design with its KPIs (judged like an existing split)."""
    from .districting import evaluate_assignment
    from .workload import customer_workload

    workload = customer_workload(customers, config, reps, travel=travel)
    kpis = evaluate_assignment(customers, reps, workload, list(assignment), config, travel=travel)
    return Design(
        rep_ids=tuple(r.id for r in reps),
        assignment=tuple(assignment),
        centres=tuple((r.lat, r.lon) for r in reps),
        kpis=kpis,
    )


def _team_plan(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    design: Design,
    plans: list[TerritoryPlan],
    config: Config,
) -> Plan:
    """The team's plan with the plan KPIs of ``territory plan`` (no rebalancing rounds)."""
    from .rebalance import _plan_kpis, _TeamPlan

    team = _TeamPlan.of(plans, design, reps, config)
    return Plan(
        days=tuple(d for p in plans for d in p.days),
        unscheduled=tuple(u for p in plans for u in p.unscheduled),
        kpis=_plan_kpis(customers, reps, config, first=team, best=team, rounds=0),
    )


def _outputs(
    previous: PreviousPlan,
    plan: Plan,
    customers: Sequence[Customer],
    rep_ids: Sequence[str],
    reasons: dict[str, str],
    *,
    from_date: dt.date,
    past: int,
    config: Config,
) -> ReplanOutputs:
    """changes.csv, the cancelled events and summary.json's ``replan`` section."""
    known = {c.id for c in customers}
    old: dict[str, list[tuple[str, str]]] = {}
    for day in previous.days:
        if not (past >> day.day) & 1:
            for v in day.visits:
                old.setdefault(v.customer_id, []).append((day.date, day.rep_id))
                if v.customer_id not in known:
                    reasons[v.customer_id] = "no longer in the customers file"
                elif day.rep_id not in rep_ids and v.customer_id not in reasons:
                    reasons[v.customer_id] = f"rep {day.rep_id} is no longer in the reps file"
    new: dict[str, list[tuple[str, str]]] = {}
    for day in plan.days:
        if not (past >> day.day) & 1:
            for v in day.visits:
                new.setdefault(v.customer_id, []).append((day.date, day.rep_id))
    unscheduled = {u.customer_id: u.reason for u in plan.unscheduled}
    rows = changes.change_rows(old, new, reasons)
    for row in rows:
        if not row[C.NEW_DATE] and row[C.CUSTOMER_ID] in unscheduled:
            row[C.REASON] = f"{row[C.REASON]}; unscheduled: {unscheduled[row[C.CUSTOMER_ID]]}"
    cancelled = [
        CancelledVisit(
            row[C.OLD_REP],
            row[C.CUSTOMER_ID],
            dt.date.fromisoformat(row[C.OLD_DATE]),
            row[C.REASON],
        )
        for row in rows
        if row[C.OLD_DATE] and row[C.OLD_REP] in rep_ids
    ]
    before = sum(len(v) for v in old.values())
    kept = before - sum(1 for r in rows if r[C.OLD_DATE])
    summary = {
        "previous": str(previous.path),
        "from": from_date.isoformat(),
        "revision": previous.revision + 1,
        "change_penalty_min": config.replan.change_penalty_min,
        "future_visits_before": before,
        "future_visits_kept": kept,
        "future_visits_kept_share": round(changes.kept_share(old, new), 4),
        "changes": len(rows),
    }
    return ReplanOutputs(
        revision=previous.revision + 1,
        issued=from_date,
        cancelled=tuple(cancelled),
        changes=tuple(rows),
        summary=summary,
    )
