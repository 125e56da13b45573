"""Parameters: every default in one place, validated on creation, loaded once from plan.toml."""

from __future__ import annotations

import datetime as dt
import logging
import re
import tomllib
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .exceptions import ConfigError, TerritoryWarning
from .models import WEEKDAYS

log = logging.getLogger(__name__)


def parse_hhmm(value: object, what: str) -> int:
    """Parse 'HH:MM' (or 'H:MM', 'HH.MM') into minutes after midnight.

    Raises
    ------
    ValueError
        With a message saying what is accepted; callers wrap it with file/row/column.
    """
    text = str(value).strip()
    for sep in (":", "."):
        if sep in text:
            hh, _, mm = text.partition(sep)
            break
    else:
        hh, mm = text, "00"
    try:
        h, m = int(hh), int(mm[:2])
    except ValueError:
        raise ValueError(f"{what} '{value}' is not a time; use HH:MM such as 08:30") from None
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m != 0):
        raise ValueError(f"{what} '{value}' is not a time of day; use HH:MM from 00:00 to 24:00")
    return h * 60 + m


def format_hhmm(minutes: float) -> str:
    """Minutes after midnight as 'HH:MM' (rounded to the minute)."""
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def parse_weekdays(value: object, what: str) -> tuple[str, ...]:
    """Parse 'mon,wed,fri' (or a list, Dutch 'ma,di,wo,do,vr,za,zo', or 'mon-fri').

    Returns the days in week order without duplicates.
    """
    aliases = {
        "ma": "mon",
        "di": "tue",
        "wo": "wed",
        "do": "thu",
        "vr": "fri",
        "za": "sat",
        "zo": "sun",
        "monday": "mon",
        "tuesday": "tue",
        "wednesday": "wed",
        "thursday": "thu",
        "friday": "fri",
        "saturday": "sat",
        "sunday": "sun",
        "maandag": "mon",
        "dinsdag": "tue",
        "woensdag": "wed",
        "donderdag": "thu",
        "vrijdag": "fri",
        "zaterdag": "sat",
        "zondag": "sun",
        "tues": "tue",
        "wed": "wed",
        "thur": "thu",
        "thurs": "thu",
    }
    items = (
        value
        if isinstance(value, list | tuple)
        else str(value).replace(";", ",").replace(" ", ",").split(",")
    )
    out: set[str] = set()
    for raw in items:
        token = str(raw).strip().lower()
        if not token:
            continue
        if "-" in token:
            a, _, b = token.partition("-")
            a, b = aliases.get(a, a), aliases.get(b, b)
            if a in WEEKDAYS and b in WEEKDAYS and WEEKDAYS.index(a) <= WEEKDAYS.index(b):
                out.update(WEEKDAYS[WEEKDAYS.index(a) : WEEKDAYS.index(b) + 1])
                continue
            raise ValueError(f"{what} '{value}' has an unknown day range '{raw}'; use e.g. mon-fri")
        token = aliases.get(token, token)
        if token not in WEEKDAYS:
            raise ValueError(
                f"{what} '{value}' has an unknown weekday '{raw}'; use mon,tue,wed,thu,fri,sat,sun"
            )
        out.add(token)
    return tuple(d for d in WEEKDAYS if d in out)


def _toml_problem(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    """One line for a TOML syntax error: the file, the line number, the line, a hint."""
    reason = str(exc)
    found = re.search(r"\(at line (\d+), column (\d+)\)", reason)
    if not found:
        return f"{path}: not valid TOML ({reason}); see sample_data/plan.toml for the format"
    number = int(found.group(1))
    reason = reason[: found.start()].strip()
    lines = text.splitlines()
    line = lines[number - 1].strip() if 0 < number <= len(lines) else ""
    shown = line if len(line) <= 60 else line[:57] + "..."
    quoted = f" '{shown}'" if shown else ""
    hint = 'text values need quotes (start = "08:30"); ' if "=" in line else ""
    return (
        f"{path}, line {number}{quoted}: not valid TOML ({reason}); {hint}see "
        "sample_data/plan.toml for the format"
    )


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(message)


@dataclass(frozen=True)
class PeriodParams:
    """The planning period: ``weeks`` weeks of working ``days``, optionally from ``start_date``.

    ``holidays`` names the public holidays no one works: a country code the ``holidays``
    package knows (``"NL"``, ``"BE"``), optionally with a subdivision (``"DE-BY"``; "" = none);
    ``extra_holidays`` adds dates of one's own (a company day off). Both need ``start_date``
    (``workdays.check_calendar`` says so before any work).
    """

    weeks: int = 4
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start_date: dt.date | None = None
    holidays: str = ""
    extra_holidays: tuple[dt.date, ...] = ()

    def __post_init__(self) -> None:
        _check(
            isinstance(self.weeks, int) and 1 <= self.weeks <= 52,
            f"[period] weeks = {self.weeks!r} is not accepted; use a whole number from 1 to 52",
        )
        _check(
            len(self.days) > 0 and all(d in WEEKDAYS for d in self.days),
            f"[period] days = {list(self.days)!r} is not accepted; use a non-empty list of mon..sun",
        )

        _check(
            isinstance(self.holidays, str) and _holiday_region_problem(self.holidays) == "",
            _holiday_region_problem(self.holidays),
        )

    @property
    def working_days(self) -> int:
        """Working days in the period (the calendar's weekdays; holidays not subtracted)."""
        return self.weeks * len(self.days)


@dataclass(frozen=True)
class DayParams:
    """The working day (minutes after midnight) and its breaks."""

    start_min: int = 8 * 60 + 30
    end_min: int = 17 * 60
    lunch_minutes: int = 30
    admin_minutes: int = 30
    lunch_from_min: int = 11 * 60 + 30
    lunch_until_min: int = 14 * 60

    def __post_init__(self) -> None:
        _check(
            0 <= self.start_min < self.end_min <= 24 * 60,
            f"[day] start {format_hhmm(self.start_min)} must come before end {format_hhmm(self.end_min)}",
        )
        _check(
            0 <= self.lunch_minutes <= 180,
            f"[day] lunch_minutes = {self.lunch_minutes!r} is not accepted; use 0 to 180",
        )
        _check(
            0 <= self.admin_minutes <= 480,
            f"[day] admin_minutes = {self.admin_minutes!r} is not accepted; use 0 to 480",
        )
        _check(
            self.lunch_from_min + self.lunch_minutes <= self.lunch_until_min,
            "[day] lunch_from .. lunch_until must leave room for lunch_minutes",
        )
        _check(
            self.length_min - self.lunch_minutes - self.admin_minutes > 0,
            "[day] the day is shorter than lunch and admin together; no selling time is left",
        )

    @property
    def length_min(self) -> int:
        """Length of the working day in minutes, home to home."""
        return self.end_min - self.start_min

    @property
    def selling_min(self) -> int:
        """Minutes per day left for visits and travel (day length - lunch - admin)."""
        return self.length_min - self.lunch_minutes - self.admin_minutes


#: The travel sources ``[travel] source`` accepts.
TRAVEL_SOURCES = ("crow", "osm", "osrm", "matrix")


@dataclass(frozen=True)
class TravelParams:
    """How travel is measured: ``source`` and its file or server, and the straight-line model.

    The straight-line model (great-circle km x ``circuity`` at ``speed_kmh``, plus
    ``fixed_minutes`` per leg between two different places) is the ``crow`` source and
    estimates what a road source cannot answer. ``osm`` / ``matrix`` are paths (relative ones
    resolve against the config file's folder), ``osrm`` a server's base URL; ``speeds`` overrides
    the per-``highway`` km/h of the osm source, ``max_snap_km`` is how far a place may lie from
    the nearest road.
    """

    speed_kmh: float = 60.0
    circuity: float = 1.3
    fixed_minutes: float = 0.0
    source: str = "crow"
    osm: str | None = None
    osrm: str | None = None
    matrix: str | None = None
    speeds: dict[str, float] = field(default_factory=dict)
    max_snap_km: float = 5.0
    osrm_batch: int = 100
    osrm_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        _check(
            isinstance(self.speed_kmh, int | float) and 5 <= self.speed_kmh <= 200,
            f"[travel] speed_kmh = {self.speed_kmh!r} is not accepted; use a number from 5 to 200",
        )
        _check(
            isinstance(self.circuity, int | float) and 1.0 <= self.circuity <= 3.0,
            f"[travel] circuity = {self.circuity!r} is not accepted; use a number from 1.0 to 3.0",
        )
        _check(
            isinstance(self.fixed_minutes, int | float) and 0 <= self.fixed_minutes <= 60,
            f"[travel] fixed_minutes = {self.fixed_minutes!r} is not accepted; use 0 to 60",
        )
        _check(
            self.source in TRAVEL_SOURCES,
            f"[travel] source = {self.source!r} is not accepted; use one of "
            + ", ".join(f'"{s}"' for s in TRAVEL_SOURCES),
        )
        for key in ("osm", "osrm", "matrix"):
            value = getattr(self, key)
            _check(
                value is None or (isinstance(value, str) and value.strip() != ""),
                f"[travel] {key} = {value!r} is not accepted; give a path or URL as text",
            )
        _check(
            isinstance(self.speeds, dict)
            and all(
                isinstance(v, int | float) and not isinstance(v, bool) and 3 <= v <= 200
                for v in self.speeds.values()
            ),
            f"[travel.speeds] {self.speeds!r} is not accepted; give km/h from 3 to 200 per "
            "highway class, e.g. residential = 30",
        )
        _check(
            isinstance(self.max_snap_km, int | float) and 0.01 <= self.max_snap_km <= 100,
            f"[travel] max_snap_km = {self.max_snap_km!r} is not accepted; use 0.01 to 100",
        )
        _check(
            isinstance(self.osrm_batch, int) and 2 <= self.osrm_batch <= 10000,
            f"[travel] osrm_batch = {self.osrm_batch!r} is not accepted; use 2 to 10000",
        )
        _check(
            isinstance(self.osrm_timeout_s, int | float) and 0.1 <= self.osrm_timeout_s <= 3600,
            f"[travel] osrm_timeout_s = {self.osrm_timeout_s!r} is not accepted; use 0.1 to 3600",
        )


#: How a customer is served: visited by a field rep, or called by inside sales (telesales, 6.6).
CHANNELS = ("field", "phone")
#: Minutes of one sales call when neither the class nor the file says (telesales, 6.6).
DEFAULT_CALL_MINUTES = 10.0


@dataclass(frozen=True)
class ClassParams:
    """Visits per period and minutes per visit for one customer class.

    ``channel`` is "field" (visited by a rep) or "phone" (called by inside sales, chapter 6.6);
    ``calls`` per period and ``call_minutes`` per call say what a phone customer of the class
    asks for (None: as many calls as visits, at least one, of ``DEFAULT_CALL_MINUTES``).
    """

    visits: int
    visit_minutes: float
    channel: str = "field"
    calls: int | None = None
    call_minutes: float | None = None

    @property
    def calls_per_period(self) -> int:
        """Calls per period of a phone customer of this class."""
        return self.calls if self.calls is not None else max(self.visits, 1)

    @property
    def minutes_per_call(self) -> float:
        """Minutes per call of a phone customer of this class."""
        return float(self.call_minutes) if self.call_minutes is not None else DEFAULT_CALL_MINUTES

    def __post_init__(self) -> None:
        _check(
            self.channel in CHANNELS,
            f'class channel = {self.channel!r} is not accepted; use "field" or "phone"',
        )
        _check(
            self.calls is None
            or (
                (isinstance(self.calls, int) and not isinstance(self.calls, bool))
                and 0 <= self.calls <= 100
            ),
            f"class calls = {self.calls!r} is not accepted; use a whole number from 0 to 100",
        )
        _check(
            self.call_minutes is None
            or (
                isinstance(self.call_minutes, int | float)
                and not isinstance(self.call_minutes, bool)
                and 0 < self.call_minutes <= 240
            ),
            f"class call_minutes = {self.call_minutes!r} is not accepted; use 1 to 240",
        )
        _check(
            isinstance(self.visits, int) and 0 <= self.visits <= 100,
            f"class visits = {self.visits!r} is not accepted; use a whole number from 0 to 100",
        )
        _check(
            isinstance(self.visit_minutes, int | float) and 0 < self.visit_minutes <= 600,
            f"class visit_minutes = {self.visit_minutes!r} is not accepted; use 1 to 600",
        )


DEFAULT_CLASSES: dict[str, ClassParams] = {
    # A customers every week, B every other week, C once per four weeks (textbook-style ABC policy).
    "A": ClassParams(visits=4, visit_minutes=60),
    "B": ClassParams(visits=2, visit_minutes=45),
    "C": ClassParams(visits=1, visit_minutes=30),
}

BALANCE_CRITERIA = ("workload", "potential", "customers")


@dataclass(frozen=True)
class TerritoryParams:
    """Territory design criteria (chapter 6.4)."""

    balance: tuple[str, ...] = ("workload",)
    tolerance: float = 0.05
    contiguous: bool = True
    seed: int = 0
    keep_current_weight: float = 0.0
    max_moved: float | None = None
    candidates: int = 8

    def __post_init__(self) -> None:
        _check(
            len(self.balance) > 0 and all(b in BALANCE_CRITERIA for b in self.balance),
            f"[territory] balance = {list(self.balance)!r} is not accepted; use a list of workload, potential, customers",
        )
        _check(
            isinstance(self.tolerance, int | float) and 0.001 <= self.tolerance <= 0.5,
            f"[territory] tolerance = {self.tolerance!r} is not accepted; use a fraction from 0.001 to 0.5",
        )
        _check(
            isinstance(self.seed, int) and 0 <= self.seed < 2**63,
            f"[territory] seed = {self.seed!r} is not accepted; use a whole number 0 or more",
        )
        _check(
            isinstance(self.keep_current_weight, int | float) and self.keep_current_weight >= 0,
            f"[territory] keep_current_weight = {self.keep_current_weight!r} is not accepted; use a number >= 0",
        )
        _check(
            self.max_moved is None or 0 <= self.max_moved <= 1,
            f"[territory] max_moved = {self.max_moved!r} is not accepted; use a fraction from 0 to 1",
        )
        _check(
            isinstance(self.candidates, int) and 2 <= self.candidates <= 50,
            f"[territory] candidates = {self.candidates!r} is not accepted; use 2 to 50",
        )


@dataclass(frozen=True)
class SizingParams:
    """The workload method (chapter 6.3): utilisation target, default class, potential per rep."""

    target_utilization: float = 0.9
    default_class: str = "C"
    potential_per_rep: float | None = None
    travel_leg_factor: float = 1.42

    def __post_init__(self) -> None:
        _check(
            0.1 <= self.target_utilization <= 1.0,
            f"[sizing] target_utilization = {self.target_utilization!r} is not accepted; use 0.1 to 1.0",
        )
        _check(
            self.potential_per_rep is None or self.potential_per_rep > 0,
            f"[sizing] potential_per_rep = {self.potential_per_rep!r} is not accepted; use a positive amount",
        )
        _check(
            0.5 <= self.travel_leg_factor <= 5,
            f"[sizing] travel_leg_factor = {self.travel_leg_factor!r} is not accepted; use 0.5 to 5",
        )


#: Working weeks in a year (52 less about six weeks of holidays and leave): the default
#: ``[economics] periods_per_year`` is this divided by ``[period] weeks`` (11.5 for four weeks).
WORKING_WEEKS_PER_YEAR = 46.0


def _positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class EconomicsParams:
    """Territory economics (chapter 9: break-even, the sales organisation and its customers).

    All amounts in EUR. ``margin`` is the gross margin on sales (a share); ``rep_cost_per_year``
    the full yearly cost of one full-time rep (salary, car, expenses; a rep's own cost is this x
    ``Rep.capacity``); ``cost_per_km`` the running cost of a driven km; ``phone_cost_per_hour``
    the fully loaded cost of an inside-sales hour; ``periods_per_year`` the planning periods in a
    year (None: ``WORKING_WEEKS_PER_YEAR`` / ``[period] weeks``).
    """

    margin: float = 0.30
    rep_cost_per_year: float = 85_000.0
    cost_per_km: float = 0.23
    phone_cost_per_hour: float = 45.0
    periods_per_year: float | None = None

    def __post_init__(self) -> None:
        _check(
            isinstance(self.margin, int | float)
            and not isinstance(self.margin, bool)
            and 0 < self.margin <= 1,
            f"[economics] margin = {self.margin!r} is not accepted; use a share above 0 and at "
            "most 1 (0.30 = 30 %)",
        )
        for key in ("rep_cost_per_year", "cost_per_km", "phone_cost_per_hour"):
            value = getattr(self, key)
            _check(
                _positive_number(value),
                f"[economics] {key} = {value!r} is not accepted; use an amount in EUR, 0 or more",
            )
        _check(
            self.periods_per_year is None
            or (_positive_number(self.periods_per_year) and 0 < self.periods_per_year <= 366),
            f"[economics] periods_per_year = {self.periods_per_year!r} is not accepted; use a "
            "number above 0 and at most 366",
        )

    def periods(self, period: PeriodParams) -> float:
        """Planning periods per year (``periods_per_year``, else from the period's weeks)."""
        if self.periods_per_year is not None:
            return float(self.periods_per_year)
        return WORKING_WEEKS_PER_YEAR / period.weeks


@dataclass(frozen=True)
class PhoneParams:
    """Inside sales (telesales, chapter 6.6): the selling time of one call-centre agent.

    ``agent_hours_per_period`` are an agent's working hours in a period (None: the period's
    working days x the working day less lunch and admin, as a field rep's selling time);
    ``utilisation`` the share of them spent on calls.
    """

    agent_hours_per_period: float | None = None
    utilisation: float = 0.8

    def __post_init__(self) -> None:
        _check(
            self.agent_hours_per_period is None
            or (
                _positive_number(self.agent_hours_per_period)
                and 0 < self.agent_hours_per_period <= 2000
            ),
            f"[phone] agent_hours_per_period = {self.agent_hours_per_period!r} is not "
            "accepted; use hours above 0 (at most 2000)",
        )
        _check(
            _positive_number(self.utilisation) and 0.1 <= self.utilisation <= 1.0,
            f"[phone] utilisation = {self.utilisation!r} is not accepted; use 0.1 to 1.0",
        )

    def agent_hours(self, period: PeriodParams, day: DayParams) -> float:
        """An agent's working hours in the period (``agent_hours_per_period`` or the default)."""
        if self.agent_hours_per_period is not None:
            return float(self.agent_hours_per_period)
        return period.working_days * day.selling_min / 60.0


#: Upper bound of ``improve_iterations``/``rebalance_iterations`` (about 100 times the largest
#: default): a typo such as 1e12 would otherwise run for days.
MAX_ITERATIONS = 100_000


@dataclass(frozen=True)
class PlanningParams:
    """Visit planning (chapter 6.5): search effort and the routed-balance loop.

    The defaults are deterministic budgets: ``route_time_limit_s`` and ``improve_time_limit_s``
    are None (iteration/solution limits inside the solvers); set them only for benchmarks, as
    wall-clock limits make results depend on machine load. ``improve_iterations`` overrides the
    periodic engine's own iteration budget per territory; ``rebalance_iterations`` the budget of a
    territory replanned during rebalancing, which starts from its customers' previous patterns
    (default ``improve_iterations``, else half the engine's default). ``repair_routes`` bounds the day routes
    tried per territory when moving a customer whose visit did not fit to other days.
    ``polish_iterations`` is PyVRP's budget for routing a territory's whole period again after
    the periodic search (days of single visits included; 0 = off).
    ``routed_goal`` is where the rebalancing loop stops early; ``routed_tolerance`` is the band
    every rep's routed workload should be in. ``territory_time_limit_s`` is a safety cap on one
    territory's planning (each pass): past it the search stops and the remaining days get quick
    routes, and the run says so; a territory that finishes within it is not affected, so the
    deterministic budgets decide the result whenever the cap does not bind.
    """

    route_time_limit_s: float | None = None
    improve_time_limit_s: float | None = None
    rebalance_rounds: int = 6
    routed_tolerance: float = 0.10
    routed_goal: float = 0.05
    improve_iterations: int | None = None
    rebalance_iterations: int | None = None
    repair_routes: int = 60
    territory_time_limit_s: float = 300.0
    polish_iterations: int = 500

    def __post_init__(self) -> None:
        _check(
            isinstance(self.territory_time_limit_s, int | float)
            and not isinstance(self.territory_time_limit_s, bool)
            and 0 < self.territory_time_limit_s <= 86400,
            f"[planning] territory_time_limit_s = {self.territory_time_limit_s!r} is not accepted; use 0 < s <= 86400",
        )
        _check(
            self.route_time_limit_s is None or 0 < self.route_time_limit_s <= 600,
            f"[planning] route_time_limit_s = {self.route_time_limit_s!r} is not accepted; use 0 < s <= 600",
        )
        _check(
            self.improve_time_limit_s is None or 0 <= self.improve_time_limit_s <= 3600,
            f"[planning] improve_time_limit_s = {self.improve_time_limit_s!r} is not accepted; use 0 to 3600",
        )
        _check(
            isinstance(self.rebalance_rounds, int) and 0 <= self.rebalance_rounds <= 20,
            f"[planning] rebalance_rounds = {self.rebalance_rounds!r} is not accepted; use 0 to 20",
        )
        _check(
            0.01 <= self.routed_tolerance <= 0.5,
            f"[planning] routed_tolerance = {self.routed_tolerance!r} is not accepted; use 0.01 to 0.5",
        )
        _check(
            0.0 <= self.routed_goal <= self.routed_tolerance,
            f"[planning] routed_goal = {self.routed_goal!r} is not accepted; use 0 to routed_tolerance",
        )
        _check(
            self.improve_iterations is None
            or (
                isinstance(self.improve_iterations, int)
                and 0 <= self.improve_iterations <= MAX_ITERATIONS
            ),
            f"[planning] improve_iterations = {self.improve_iterations!r} is not accepted; "
            f"use a whole number from 0 to {MAX_ITERATIONS}",
        )
        _check(
            self.rebalance_iterations is None
            or (
                isinstance(self.rebalance_iterations, int)
                and 0 <= self.rebalance_iterations <= MAX_ITERATIONS
            ),
            f"[planning] rebalance_iterations = {self.rebalance_iterations!r} is not accepted; "
            f"use a whole number from 0 to {MAX_ITERATIONS}",
        )
        _check(
            isinstance(self.polish_iterations, int)
            and not isinstance(self.polish_iterations, bool)
            and 0 <= self.polish_iterations <= MAX_ITERATIONS,
            f"[planning] polish_iterations = {self.polish_iterations!r} is not accepted; "
            f"use a whole number from 0 to {MAX_ITERATIONS}",
        )
        _check(
            isinstance(self.repair_routes, int) and 0 <= self.repair_routes <= 100000,
            f"[planning] repair_routes = {self.repair_routes!r} is not accepted; use 0 to 100000",
        )


@dataclass(frozen=True)
class CalendarParams:
    """The calendars (``calendars/<rep_id>.ics``): the time zone the plan's clock times are in."""

    timezone: str = "Europe/Amsterdam"

    def __post_init__(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ConfigError(
                f"[calendar] timezone = {self.timezone!r} is not a time zone; use an IANA name "
                'such as "Europe/Amsterdam" or "Europe/Brussels"'
            ) from None


@dataclass(frozen=True)
class ReplanParams:
    """``territory replan``: what one changed visit costs, against minutes of travel saved.

    ``change_penalty_min`` is added for every future visit that changes day or rep: a change
    is made only when it saves more travel than this, or when the old day cannot hold the visit
    any more (a holiday, an absence, an appointment, a full day).
    """

    change_penalty_min: float = 120.0

    def __post_init__(self) -> None:
        _check(
            isinstance(self.change_penalty_min, int | float)
            and not isinstance(self.change_penalty_min, bool)
            and 0 <= self.change_penalty_min <= 100_000,
            f"[replan] change_penalty_min = {self.change_penalty_min!r} is not accepted; use "
            "minutes from 0 to 100000",
        )


@dataclass(frozen=True)
class Config:
    """The effective configuration of a run (plan.toml over the defaults)."""

    period: PeriodParams = field(default_factory=PeriodParams)
    day: DayParams = field(default_factory=DayParams)
    travel: TravelParams = field(default_factory=TravelParams)
    classes: dict[str, ClassParams] = field(default_factory=lambda: dict(DEFAULT_CLASSES))
    territory: TerritoryParams = field(default_factory=TerritoryParams)
    sizing: SizingParams = field(default_factory=SizingParams)
    planning: PlanningParams = field(default_factory=PlanningParams)
    calendar: CalendarParams = field(default_factory=CalendarParams)
    replan: ReplanParams = field(default_factory=ReplanParams)
    economics: EconomicsParams | None = None  # None: no [economics] table, no economics
    phone: PhoneParams = field(default_factory=PhoneParams)

    def __post_init__(self) -> None:
        _check(len(self.classes) > 0, "[classes] must define at least one class")
        _check(
            self.sizing.default_class in self.classes,
            f"[sizing] default_class = '{self.sizing.default_class}' is not one of the classes {sorted(self.classes)}",
        )

    @classmethod
    def from_toml(cls, path: str | Path | None) -> Config:
        """Load plan.toml (every key optional); unknown keys are warned about, never silently ignored."""
        if path is None:
            return cls()
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
            data = tomllib.loads(text)
        except FileNotFoundError:
            raise ConfigError(
                f"{p}: the config file does not exist; give a path to a plan.toml"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(_toml_problem(p, text, exc)) from None
        except UnicodeDecodeError:
            raise ConfigError(f"{p}: not UTF-8 text; save plan.toml as UTF-8") from None
        try:
            config = cls.from_dict(data, source=str(p))
        except ConfigError as exc:
            raise ConfigError(f"{p}: {exc}") from None
        return replace(config, travel=_travel_paths_from(config.travel, p.parent))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> Config:
        """Build a Config from a parsed TOML mapping (one reader per ``[section]``)."""
        known = {
            "period", "day", "travel", "classes", "territory", "sizing", "planning", "calendar",
            "replan", "economics", "phone",
        }  # fmt: skip
        _warn_unknown(source, "", data, known)

        def table(name: str) -> dict[str, Any]:
            value = data.get(name, {})
            _check(isinstance(value, dict), f"[{name}] must be a table")
            return dict(value)

        classes = _classes(table("classes"), source)
        try:
            return cls(
                period=PeriodParams(**_period_kwargs(table("period"), source)),
                day=DayParams(**_day_kwargs(table("day"), source)),
                travel=TravelParams(
                    **_known_kwargs(table("travel"), TravelParams, "travel", source)
                ),
                classes=classes,
                territory=TerritoryParams(**_territory_kwargs(table("territory"), source)),
                sizing=SizingParams(**_sizing_kwargs(table("sizing"), classes, source)),
                planning=PlanningParams(
                    **_known_kwargs(table("planning"), PlanningParams, "planning", source)
                ),
                calendar=CalendarParams(
                    **_known_kwargs(table("calendar"), CalendarParams, "calendar", source)
                ),
                replan=ReplanParams(
                    **_known_kwargs(table("replan"), ReplanParams, "replan", source)
                ),
                economics=(
                    EconomicsParams(
                        **_known_kwargs(table("economics"), EconomicsParams, "economics", source)
                    )
                    if "economics" in data
                    else None
                ),
                phone=PhoneParams(**_phone_kwargs(table("phone"), source)),
            )
        except ConfigError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:  # slipped past a check
            raise ConfigError(f"a config value has the wrong type or size ({exc})") from None

    def to_dict(self) -> dict[str, Any]:
        """The effective config as plain JSON-able data (for summary.json)."""
        d = asdict(self)
        d["period"]["start_date"] = (
            self.period.start_date.isoformat() if self.period.start_date else None
        )
        d["period"]["days"] = list(self.period.days)
        d["day"] = {
            "start": format_hhmm(self.day.start_min),
            "end": format_hhmm(self.day.end_min),
            "lunch_minutes": self.day.lunch_minutes,
            "admin_minutes": self.day.admin_minutes,
            "lunch_from": format_hhmm(self.day.lunch_from_min),
            "lunch_until": format_hhmm(self.day.lunch_until_min),
        }
        d["territory"]["balance"] = list(self.territory.balance)
        # Keys of the calendar features only when used: a plan without them writes the
        # summary.json it always wrote.
        if self.period.holidays or self.period.extra_holidays:
            d["period"]["extra_holidays"] = [x.isoformat() for x in self.period.extra_holidays]
        else:
            del d["period"]["holidays"], d["period"]["extra_holidays"]
        for name, default in (("calendar", CalendarParams()), ("replan", ReplanParams())):
            if getattr(self, name) == default:
                del d[name]
        # Keys of the telesales and economics tables only where used, so that the summary of a
        # run without them reads as before.
        for spec in d["classes"].values():
            if (
                spec["channel"] == "field"
                and spec["calls"] is None
                and spec["call_minutes"] is None
            ):
                for key in ("channel", "calls", "call_minutes"):
                    del spec[key]
        if self.economics is None:
            del d["economics"]
        if self.phone == PhoneParams():
            del d["phone"]
        return d


def _travel_paths_from(travel: TravelParams, folder: Path) -> TravelParams:
    """``[travel] osm`` and ``matrix`` relative to the config file's folder (absolute ones kept)."""

    def resolved(value: str | None) -> str | None:
        if value is None or Path(value).is_absolute():
            return value
        return str(folder / value)

    return replace(travel, osm=resolved(travel.osm), matrix=resolved(travel.matrix))


def _known_kwargs(section: dict[str, Any], params: type, name: str, source: str) -> dict[str, Any]:
    """The keys of ``[name]`` that ``params`` (a dataclass) has; the others are warned about."""
    keys = {f.name for f in fields(params)}
    _warn_unknown(source, name, section, keys)
    return {k: v for k, v in section.items() if k in keys}


def _period_kwargs(period: dict[str, Any], source: str) -> dict[str, Any]:
    """``[period]``: weeks, working weekdays and the optional start date."""
    _warn_unknown(
        source, "period", period, {"weeks", "days", "start_date", "holidays", "extra_holidays"}
    )
    pkw: dict[str, Any] = {}
    if "weeks" in period:
        pkw["weeks"] = period["weeks"]
    if "days" in period:
        pkw["days"] = _wrap(parse_weekdays, period["days"], "[period] days")
    if "start_date" in period:
        sd = period["start_date"]
        if isinstance(sd, str):
            try:
                sd = dt.date.fromisoformat(sd)
            except ValueError:
                raise ConfigError(
                    f"[period] start_date = '{sd}' is not a date; use YYYY-MM-DD"
                ) from None
        _check(
            isinstance(sd, dt.date) and not isinstance(sd, dt.datetime),
            f"[period] start_date = {sd!r} is not a date; use YYYY-MM-DD",
        )
        pkw["start_date"] = sd
    if "holidays" in period:
        region = period["holidays"]
        _check(
            isinstance(region, str),
            f"[period] holidays = {region!r} is not accepted; use a country code such as "
            '"NL", or "DE-BY" with a subdivision',
        )
        pkw["holidays"] = region.strip()
    if "extra_holidays" in period:
        pkw["extra_holidays"] = _dates(period["extra_holidays"], "[period] extra_holidays")
    return pkw


def _dates(value: Any, what: str) -> tuple[dt.date, ...]:
    """A TOML list of dates (TOML dates or YYYY-MM-DD text), sorted, without duplicates."""
    _check(
        isinstance(value, list),
        f'{what} = {value!r} is not accepted; use a list of dates such as ["2027-12-24"]',
    )
    out = set()
    for raw in value:
        item = raw
        if isinstance(raw, str):
            try:
                item = dt.date.fromisoformat(raw.strip())
            except ValueError:
                raise ConfigError(f"{what}: '{raw}' is not a date; use YYYY-MM-DD") from None
        _check(
            isinstance(item, dt.date) and not isinstance(item, dt.datetime),
            f"{what}: {item!r} is not a date; use YYYY-MM-DD",
        )
        out.add(item)
    return tuple(sorted(out))


def _holiday_region_problem(region: str) -> str:
    """Why ``region`` is not a country (or country-subdivision) of the ``holidays`` package
    ("" when it is, or when it is empty)."""
    if not isinstance(region, str):
        return f"[period] holidays = {region!r} is not accepted; use a country code such as NL"
    if not region:
        return ""
    import holidays

    country, _, subdivision = region.partition("-")
    supported = holidays.list_supported_countries()
    if country.upper() not in supported:
        return (
            f"[period] holidays = '{region}' is not a country the holidays package knows; use a "
            "code such as NL, BE, DE or FR (with a subdivision: DE-BY)"
        )
    subdivisions = supported[country.upper()]
    if subdivision and subdivision.casefold() not in {s.casefold() for s in subdivisions}:
        shown = ", ".join(subdivisions[:12]) + (", ..." if len(subdivisions) > 12 else "")
        return (
            f"[period] holidays = '{region}': '{subdivision}' is not a subdivision of "
            f"{country.upper()}; use one of {shown or 'none (the country alone)'}"
        )
    return ""


def _day_kwargs(day: dict[str, Any], source: str) -> dict[str, Any]:
    """``[day]``: times as HH:MM text, lunch and admin as whole minutes."""
    _warn_unknown(
        source,
        "day",
        day,
        {"start", "end", "lunch_minutes", "admin_minutes", "lunch_from", "lunch_until"},
    )
    dkw: dict[str, Any] = {}
    for key, attr in (
        ("start", "start_min"),
        ("end", "end_min"),
        ("lunch_from", "lunch_from_min"),
        ("lunch_until", "lunch_until_min"),
    ):
        if key in day:
            dkw[attr] = _wrap(parse_hhmm, day[key], f"[day] {key}")
    for key in ("lunch_minutes", "admin_minutes"):
        if key in day:
            _check(
                isinstance(day[key], int),
                f"[day] {key} = {day[key]!r} is not accepted; use whole minutes",
            )
            dkw[key] = day[key]
    return dkw


def _classes(classes_raw: dict[str, Any], source: str) -> dict[str, ClassParams]:
    """``[classes.X]`` tables; the default A/B/C when the config has none."""
    classes: dict[str, ClassParams] = dict(DEFAULT_CLASSES) if not classes_raw else {}
    for name, spec in classes_raw.items():
        _check(
            isinstance(spec, dict),
            f"[classes.{name}] must be a table with visits and visit_minutes",
        )
        _warn_unknown(
            source,
            f"classes.{name}",
            spec,
            {"visits", "visit_minutes", "channel", "calls", "call_minutes"},
        )
        base = DEFAULT_CLASSES.get(str(name).upper(), ClassParams(1, 30))
        try:
            classes[str(name).upper()] = ClassParams(
                visits=spec.get("visits", base.visits),
                visit_minutes=spec.get("visit_minutes", base.visit_minutes),
                channel=str(spec.get("channel", "field")).strip().lower(),
                calls=spec.get("calls"),
                call_minutes=spec.get("call_minutes"),
            )
        except ConfigError as exc:
            raise ConfigError(f"[classes.{name}] {exc}") from None
    return classes


def _territory_kwargs(terr: dict[str, Any], source: str) -> dict[str, Any]:
    """``[territory]``; ``balance`` may be one name or a list."""
    tkw = _known_kwargs(terr, TerritoryParams, "territory", source)
    if "balance" in tkw:
        b = tkw["balance"]
        _check(
            isinstance(b, str | list | tuple),
            f"[territory] balance = {b!r} is not accepted; use a list such as "
            '["workload", "potential"]',
        )
        tkw["balance"] = tuple([b] if isinstance(b, str) else b)
    return tkw


def _sizing_kwargs(
    sizing: dict[str, Any], classes: dict[str, ClassParams], source: str
) -> dict[str, Any]:
    """``[sizing]``; the default class is C, else the last configured class."""
    skw = _known_kwargs(sizing, SizingParams, "sizing", source)
    if "default_class" in skw:
        skw["default_class"] = str(skw["default_class"]).upper()
    elif "C" not in classes:
        skw["default_class"] = sorted(classes)[-1]
    return skw


def _phone_kwargs(phone: dict[str, Any], source: str) -> dict[str, Any]:
    """``[phone]``; ``utilisation`` may also be spelled ``utilization`` (as in ``[sizing]``)."""
    if "utilization" in phone and "utilisation" not in phone:
        phone = {("utilisation" if k == "utilization" else k): v for k, v in phone.items()}
    return _known_kwargs(phone, PhoneParams, "phone", source)


def _wrap(fn: Any, value: Any, what: str) -> Any:
    try:
        return fn(value, what)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _warn_unknown(source: str, section: str, table: dict[str, Any], known: set[str]) -> None:
    for key, value in table.items():
        if key not in known:
            where = (
                f"[{section}] {key}" if section else f"[{key}]" if isinstance(value, dict) else key
            )
            warnings.warn(
                f"{source}: unknown config key {where} is ignored; known keys here: {', '.join(sorted(known))}",
                TerritoryWarning,
                stacklevel=3,
            )
