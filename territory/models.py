"""Data model: the plain, frozen values passed between stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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


@dataclass(frozen=True, slots=True)
class Rep:
    """One sales rep: home base and working time.

    ``start_min``/``end_min``/``days`` are None/empty when the config's defaults apply.
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
class Design:
    """A division of customers over territories.

    ``assignment[i]`` is the territory index (into ``rep_ids``) of customer ``i`` in load order.
    """

    rep_ids: tuple[str, ...]
    assignment: tuple[int, ...]
    centres: tuple[tuple[float, float], ...]
    kpis: dict = field(default_factory=dict, hash=False, compare=False)


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
