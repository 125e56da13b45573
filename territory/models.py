"""Data model: the plain, frozen values passed between stages."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    """The visit plan of the whole team over the period."""

    days: tuple[DayRoute, ...]
    unscheduled: tuple[UnscheduledVisit, ...]
    kpis: dict = field(default_factory=dict, hash=False, compare=False)
