"""Data model: the plain, frozen values passed between stages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Appointment:
    """A booked visit: the customer is visited on ``date`` from ``start_min`` exactly.

    Attributes
    ----------
    customer_id
        The customer.
    date
        The day of the visit.
    start_min
        Start in minutes after midnight (local time of ``[calendar] timezone``).
    minutes
        Length of the visit; None = the customer's ``visit_minutes``.
    purpose
        What the visit is for ("" when not given); shown in the rep's calendar.
    row
        Data row in appointments.csv (header = row 1), for messages.
    """

    customer_id: str
    date: dt.date
    start_min: int
    minutes: float | None = None
    purpose: str = ""
    row: int = 0


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer as loaded and validated.

    Attributes
    ----------
    id, name
        Unique id and display name (text from the input file: escape before HTML).
    lat, lon
        WGS84 degrees.
    customer_class
        Class label (A/B/C/...), as in the input or the configured default.
    visits
        Visits per planning period (class default unless overridden in the file).
    visit_minutes
        Minutes per visit (class default unless overridden in the file).
    potential
        Yearly sales potential in EUR (0 when not given).
    open_min, close_min
        Opening window in minutes after midnight, or None when not given.
    days
        Weekdays the customer may be visited (empty = any working day).
    current_rep, locked_rep
        Rep id today and rep id this customer must keep ("" when not given).
    located
        How lat/lon were obtained: "input", "gazetteer" (town centre), "cache" or "online".
    row
        1-based data row in the source file (the header is row 1, so the first customer is row 2).
    appointments
        Booked visits (``--appointments``), by date; each counts as one of ``visits``.
    phone
        Phone number as written in the file ("" when not given); shown on the day sheets.
    revenue
        Last year's sales in EUR, or None when the file does not say (the economics then use
        ``potential``).
    channel
        "field" (visited by a rep) or "phone" (called by inside sales; not in the field plan).
    calls, call_minutes
        Calls per period and minutes per call of a phone customer (0 for a field customer).
    """

    id: str
    lat: float
    lon: float
    name: str = ""
    customer_class: str = ""
    visits: int = 1
    visit_minutes: float = 30.0
    potential: float = 0.0
    open_min: int | None = None
    close_min: int | None = None
    days: tuple[str, ...] = ()
    current_rep: str = ""
    locked_rep: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    located: str = "input"
    row: int = 0
    appointments: tuple[Appointment, ...] = ()
    phone: str = ""
    revenue: float | None = None
    channel: str = "field"
    calls: int = 0
    call_minutes: float = 0.0


@dataclass(frozen=True, slots=True)
class Rep:
    """One sales rep: home base and working time.

    ``start_min``/``end_min``/``days`` are None/empty when the config's defaults apply;
    ``absent`` holds the periods of leave as (first, last) dates, both included.
    """

    id: str
    lat: float
    lon: float
    name: str = ""
    start_min: int | None = None
    end_min: int | None = None
    days: tuple[str, ...] = ()
    capacity: float = 1.0
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    located: str = "input"
    row: int = 0
    absent: tuple[tuple[dt.date, dt.date], ...] = ()


@dataclass(frozen=True, slots=True)
class Visit:
    """One planned visit in a rep's day (times in minutes after midnight)."""

    customer_id: str
    arrival_min: int
    start_min: int
    end_min: int
    travel_min: float
    travel_km: float


@dataclass(frozen=True, slots=True)
class DayRoute:
    """One rep's working day: a loop from home through the visits and back.

    ``date`` is the ISO date when the period has a start date, else a label such as ``w1-mon``;
    ``lunch_start_min`` is when the lunch break starts (None when the day has none); ``day`` is
    the day index in the period (``(week - 1) * len(period.days) + weekday position``).
    """

    rep_id: str
    week: int
    weekday: str
    depart_min: int
    return_min: int
    visits: tuple[Visit, ...]
    home_travel_min: float
    home_travel_km: float
    date: str = ""
    lunch_start_min: int | None = None
    day: int = -1

    @property
    def visit_min(self) -> int:
        """Minutes spent visiting (sum of the visits' durations)."""
        return sum(v.end_min - v.start_min for v in self.visits)

    @property
    def travel_min(self) -> float:
        """Travel of the whole day including the way home, in minutes."""
        return sum(v.travel_min for v in self.visits) + self.home_travel_min

    @property
    def travel_km(self) -> float:
        """Distance of the whole day including the way home, in km."""
        return sum(v.travel_km for v in self.visits) + self.home_travel_km


@dataclass(frozen=True, slots=True)
class UnscheduledVisit:
    """A visit the plan could not place, with the reason in words.

    ``visit`` numbers the customer's visits in the period from 1 (0 = not known); ``date`` is the
    day it was meant for, when one was chosen ("" otherwise).
    """

    customer_id: str
    rep_id: str
    reason: str
    visit: int = 0
    date: str = ""


@dataclass(frozen=True)
class DesignKpis:
    """How good a division of customers over territories is: balance, compactness, continuity.

    A territory's target is its share of the total in proportion to its working time in the
    period (``Rep.capacity`` x working days x hours; equal shares for free centres). Deviations
    are fractions of the target (0.05 = 5 %). Per-territory tuples follow ``Design.rep_ids`` and
    hold the values as reported (rounded as stated).

    Attributes
    ----------
    balanced
        The criteria balanced on, in the configured order ("workload", "potential",
        "customers"; "workload" alone when every balanced value is 0).
    max_workload_deviation
        Largest |workload / target - 1| over the territories.
    max_potential_deviation, max_customers_deviation
        The same for sales potential and the number of customers; None unless balanced on.
    tolerance
        Allowed deviation from the target (``[territory] tolerance``).
    within_tolerance
        Every balanced criterion of every territory lies within ``tolerance``.
    connected_share
        Share (0..1) of the customers whose territory is one connected piece.
    territories_connected
        Number of territories that are one connected piece.
    moved
        Customers whose territory is not their ``current_rep`` (of those that have one).
    objective
        Compactness in km: the workload-weighted mean road km from each customer to its
        territory's centre (the rep's home or the free centre).
    lower_bound
        Lower bound on ``objective`` in km for any division within the band (the Lagrangian
        bound of the balanced allocation; 0 when there is nothing to allocate).
    objective_ratio
        ``objective / lower_bound``; None when the bound is 0.
    infeasible_notes
        Sentences on what kept the division from the criteria (heavy customers, locks, pieces).
    workload_min
        Workload per territory in minutes per period (visits and travel allowance, no admin),
        rounded to 0.001.
    target_min
        Workload target per territory in minutes per period, rounded to 0.001.
    deviation
        ``workload_min / target_min - 1`` per territory, rounded to 0.00001.
    customers
        Number of customers per territory.
    connected
        Per territory: one connected piece.
    pieces
        Per territory: the number of connected pieces.
    potential
        Yearly sales potential per territory in EUR, rounded to 0.01.
    moved_in, moved_out
        Per territory: customers that join it from another ``current_rep`` and customers that
        leave it (counted at their ``current_rep``).
    lp_value
        Weighted mean road km of the relaxed allocation before rounding and local search; None
        for a division that was evaluated, not designed.
    lp_split_customers
        Customers the relaxed allocation split over several territories; None when evaluated.
    centres
        The free centres as (lat, lon) in WGS84 degrees, one per territory; None with reps.
    """

    balanced: tuple[str, ...]
    max_workload_deviation: float
    tolerance: float
    within_tolerance: bool
    connected_share: float
    territories_connected: int
    moved: int
    objective: float
    lower_bound: float
    objective_ratio: float | None
    infeasible_notes: tuple[str, ...]
    workload_min: tuple[float, ...]
    target_min: tuple[float, ...]
    deviation: tuple[float, ...]
    customers: tuple[int, ...]
    connected: tuple[bool, ...]
    pieces: tuple[int, ...]
    potential: tuple[float, ...]
    moved_in: tuple[int, ...]
    moved_out: tuple[int, ...]
    max_potential_deviation: float | None = None
    max_customers_deviation: float | None = None
    lp_value: float | None = None
    lp_split_customers: int | None = None
    centres: tuple[tuple[float, float], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values under the summary.json keys, in the order they are written.

        ``max_potential_deviation``/``max_customers_deviation`` follow in the order of
        ``balanced`` and only when balanced on; ``lp_value``/``lp_split_customers`` and
        ``centres`` only when not None. ``balanced`` itself is not written.
        """
        out: dict[str, Any] = {"max_workload_deviation": self.max_workload_deviation}
        other = {
            "potential": self.max_potential_deviation,
            "customers": self.max_customers_deviation,
        }
        for criterion in self.balanced:
            if criterion != "workload":
                out[f"max_{criterion}_deviation"] = other[criterion]
        out.update(
            {
                "tolerance": self.tolerance,
                "within_tolerance": self.within_tolerance,
                "connected_share": self.connected_share,
                "territories_connected": self.territories_connected,
                "moved": self.moved,
                "objective": self.objective,
                "workload_min": list(self.workload_min),
                "target_min": list(self.target_min),
                "deviation": list(self.deviation),
                "customers": list(self.customers),
                "connected": list(self.connected),
                "pieces": list(self.pieces),
                "potential": list(self.potential),
                "moved_in": list(self.moved_in),
                "moved_out": list(self.moved_out),
                "lower_bound": self.lower_bound,
                "objective_ratio": self.objective_ratio,
            }
        )
        if self.lp_value is not None:
            out["lp_value"] = self.lp_value
        if self.lp_split_customers is not None:
            out["lp_split_customers"] = self.lp_split_customers
        out["infeasible_notes"] = list(self.infeasible_notes)
        if self.centres is not None:
            out["centres"] = [[lat, lon] for lat, lon in self.centres]
        return out


@dataclass(frozen=True)
class Design:
    """A division of customers over territories.

    ``assignment[i]`` is the territory index (into ``rep_ids``) of customer ``i`` in load order.
    ``rep_ids`` are the territories' ids: the reps' ids, or ``T1..Tk`` for free centres.
    ``kpis`` are the design's KPIs (None for a division made by hand).
    """

    rep_ids: tuple[str, ...]
    assignment: tuple[int, ...]
    centres: tuple[tuple[float, float], ...]
    kpis: DesignKpis | None = field(default=None, hash=False, compare=False)


@dataclass(frozen=True)
class Plan:
    """The visit plan of the whole team over the period, with its headline figures."""

    days: tuple[DayRoute, ...]
    unscheduled: tuple[UnscheduledVisit, ...]
    kpis: PlanKpis = field(hash=False, compare=False)


@dataclass(frozen=True)
class PlanKpis:
    """Headline figures of a team's visit plan (summary.json, the console, the report).

    Minutes and km are totals over the planning period, as routed (every way home included);
    `to_dict` rounds them for summary.json.

    Attributes
    ----------
    notes
        Remarks in words: unscheduled visits, territories cut short by the time cap, reps
        outside the routed workload band.
    visits
        Visits the customers ask for in the period.
    visits_planned, visits_unscheduled
        Visits on a day route, and visits in unscheduled.csv.
    customers_unscheduled
        Customers with at least one unscheduled visit.
    working_days_used
        Rep working days with at least one visit.
    visit_min, travel_min, travel_km, admin_min
        Team totals: minutes visiting, travel minutes and km, admin minutes.
    routed_workload_min
        Per rep id: visit + travel + admin minutes.
    routed_travel_min, routed_travel_km
        Per rep id: travel minutes and km.
    capacity_min
        Per rep id: working minutes in the period (capacity-scaled, lunch excluded).
    routed_deviation
        Per rep id: routed workload plus the estimate of its unscheduled visits, relative to
        the capacity-proportional share of the team's, minus 1 (0.04 = 4 % above).
    max_routed_deviation_before, max_routed_deviation
        Largest absolute routed deviation of the first plan and of the plan kept.
    rebalance_rounds
        Rebalancing rounds run.
    rebalance_moved
        Customers whose rep the rebalancing changed.
    reps_needed_exact, reps_needed
        Full-time reps the routed workload (unscheduled visits incl.) asks for, and that
        number rounded up; None when a full-time rep has no working time.
    """

    notes: tuple[str, ...]
    visits: int
    visits_planned: int
    visits_unscheduled: int
    customers_unscheduled: int
    working_days_used: int
    visit_min: float
    travel_min: float
    travel_km: float
    admin_min: float
    routed_workload_min: dict[str, float]
    routed_travel_min: dict[str, float]
    routed_travel_km: dict[str, float]
    capacity_min: dict[str, float]
    routed_deviation: dict[str, float]
    max_routed_deviation_before: float
    max_routed_deviation: float
    rebalance_rounds: int
    rebalance_moved: int
    reps_needed_exact: float | None
    reps_needed: int | None

    def to_dict(self) -> dict[str, Any]:
        """summary.json's plan KPIs: minutes and km to 0.1, deviations to 1e-4."""

        def by_rep(values: dict[str, float], digits: int) -> dict[str, float]:
            return {rep_id: round(x, digits) for rep_id, x in values.items()}

        exact = self.reps_needed_exact
        return {
            "notes": list(self.notes),
            "visits": self.visits,
            "visits_planned": self.visits_planned,
            "visits_unscheduled": self.visits_unscheduled,
            "customers_unscheduled": self.customers_unscheduled,
            "working_days_used": self.working_days_used,
            "visit_min": round(self.visit_min, 1),
            "travel_min": round(self.travel_min, 1),
            "travel_km": round(self.travel_km, 1),
            "admin_min": round(self.admin_min, 1),
            "routed_workload_min": by_rep(self.routed_workload_min, 1),
            "routed_travel_min": by_rep(self.routed_travel_min, 1),
            "routed_travel_km": by_rep(self.routed_travel_km, 1),
            "capacity_min": by_rep(self.capacity_min, 1),
            "routed_deviation": by_rep(self.routed_deviation, 4),
            "max_routed_deviation_before": round(self.max_routed_deviation_before, 4),
            "max_routed_deviation": round(self.max_routed_deviation, 4),
            "rebalance_rounds": self.rebalance_rounds,
            "rebalance_moved": self.rebalance_moved,
            "reps_needed_exact": round(exact, 3) if exact is not None else None,
            "reps_needed": self.reps_needed,
        }
