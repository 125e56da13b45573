"""Working calendar: public holidays, reps' absences and the dates of the period's days.

The plan's days are indices over the period (``schedule.day_index``: week x the period's
weekdays). With a ``start_date`` every index has a date; this module says which of those dates
no one works (``[period] holidays`` through the ``holidays`` package, and ``extra_holidays``)
and which a rep does not work (``Rep.absent``). Planning removes those days from a rep's
working days and from every visit pattern; capacity, sizing and the design targets count only
the days that are really worked (``workload.rep_working_days``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from .exceptions import ConfigError
from .models import WEEKDAYS, Rep
from .params import Config, PeriodParams


def period_dates(period: PeriodParams) -> tuple[dt.date, ...]:
    """The date of every day index of the period (the rule of ``schedule.day_label``).

    Week 1 begins on ``start_date``; each weekday of week ``w`` is the first such weekday on or
    after ``start_date + 7 (w - 1)`` days.

    Raises
    ------
    ConfigError
        When the period has no start date.
    """
    return _period_dates(period)


@lru_cache(maxsize=64)
def _period_dates(period: PeriodParams) -> tuple[dt.date, ...]:
    start = period.start_date
    if start is None:
        raise ConfigError(
            "dates need [period] start_date (or --start-date): holidays, absences, "
            "appointments and calendars are tied to real days"
        )
    out = []
    for week in range(1, period.weeks + 1):
        for weekday in period.days:
            offset = (WEEKDAYS.index(weekday) - start.weekday()) % 7 + 7 * (week - 1)
            out.append(start + dt.timedelta(days=offset))
    return tuple(out)


def day_of_date(period: PeriodParams, date: dt.date) -> int | None:
    """The day index of ``date`` in the period, or None when the period does not work it."""
    return _index_of_date(period).get(date)


@lru_cache(maxsize=64)
def _index_of_date(period: PeriodParams) -> dict[dt.date, int]:
    return {d: i for i, d in enumerate(period_dates(period))}


def period_span(period: PeriodParams) -> tuple[dt.date, dt.date]:
    """First and last date of the period (its working days)."""
    dates = period_dates(period)
    return min(dates), max(dates)


def uses_dates(config: Config, reps: Sequence[Rep] | None = None) -> bool:
    """Whether holidays or absences are asked for (then the period needs a start date)."""
    period = config.period
    return bool(period.holidays or period.extra_holidays or any(r.absent for r in reps or ()))


def check_calendar(config: Config, reps: Sequence[Rep] | None = None, source: str = "") -> None:
    """Refuse holidays or absences without a start date, before any work.

    Raises
    ------
    ConfigError
        Naming what needs the start date and how to give one.
    """
    if config.period.start_date is not None:
        return
    period = config.period
    asked = []
    if period.holidays:
        asked.append(f'[period] holidays = "{period.holidays}"')
    if period.extra_holidays:
        asked.append("[period] extra_holidays")
    absent = [r.id for r in reps or () if r.absent]
    if absent:
        asked.append(f"absences of rep {', '.join(absent[:3])}")
    if asked:
        prefix = f"{source}: " if source else ""
        raise ConfigError(
            f"{prefix}{' and '.join(asked)} need a start date to know which days they are; "
            'set [period] start_date = "YYYY-MM-DD" in plan.toml (or give plan --start-date)'
        )


def holiday_dates(period: PeriodParams) -> dict[dt.date, str]:
    """Public holidays (``holidays`` + ``extra_holidays``) on the period's days, with names."""
    return dict(_holiday_dates(period))


@lru_cache(maxsize=64)
def _holiday_dates(period: PeriodParams) -> tuple[tuple[dt.date, str], ...]:
    if not period.holidays and not period.extra_holidays:
        return ()
    dates = period_dates(period)
    out: dict[dt.date, str] = {}
    if period.holidays:
        import holidays

        country, _, subdivision = period.holidays.partition("-")
        country = country.upper()
        subdivs = holidays.list_supported_countries().get(country, [])
        subdiv = next((s for s in subdivs if s.casefold() == subdivision.casefold()), None)
        calendar = holidays.country_holidays(
            country, subdiv=subdiv, years=sorted({d.year for d in dates})
        )
        for d in dates:
            name = calendar.get(d)
            if name:
                out[d] = str(name)
    for d in period.extra_holidays:
        out.setdefault(d, "company holiday")
    return tuple(sorted((d, name) for d, name in out.items() if d in set(dates)))


def days_off(rep: Rep, config: Config) -> dict[int, str]:
    """Day indices of the period the rep does not work for a holiday or an absence, with the
    reason in words (``holiday: King's Day``, ``absent 2027-05-10..2027-05-14``).

    Days outside the rep's own weekdays are not listed (they are no working days anyway).
    """
    if not uses_dates(config, (rep,)):
        return {}
    return dict(_days_off(config.period, rep.absent))


@lru_cache(maxsize=4096)
def _days_off(
    period: PeriodParams, absent: tuple[tuple[dt.date, dt.date], ...]
) -> tuple[tuple[int, str], ...]:
    holidays = holiday_dates(period)
    out = []
    for day, date in enumerate(period_dates(period)):
        if date in holidays:
            out.append((day, f"holiday: {holidays[date]}"))
            continue
        for first, last in absent:
            if first <= date <= last:
                out.append((day, f"absent {format_range(first, last)}"))
                break
    return tuple(out)


def blocked_mask(rep: Rep, config: Config) -> int:
    """The rep's days off (holidays and absences) as a bitmask of day indices."""
    mask = 0
    for day in days_off(rep, config):
        mask |= 1 << day
    return mask


def rep_days_off(rep: Rep, config: Config) -> int:
    """How many of the rep's own working weekdays in the period are holidays or absences."""
    own = set(rep.days) if rep.days else set(config.period.days)
    period = config.period
    return sum(1 for day in days_off(rep, config) if period.days[day % len(period.days)] in own)


def period_working_days(config: Config) -> int:
    """Working days of a full-time rep in the period: the period's weekdays less holidays."""
    if not (config.period.holidays or config.period.extra_holidays):
        return config.period.working_days
    return config.period.working_days - len(holiday_dates(config.period))


def format_range(first: dt.date, last: dt.date) -> str:
    """``2027-05-10..2027-05-14``, or one date when both are the same."""
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


_DATE_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


def parse_date(value: object) -> dt.date:
    """A date from a cell: a date or datetime, ISO ``2027-02-15``, or Dutch ``15-02-2027``.

    Raises
    ------
    ValueError
        Saying what is accepted.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    found = _DATE_DMY.match(text)
    if found:
        day, month, year = (int(g) for g in found.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise ValueError(f"'{text}' is not a date; use YYYY-MM-DD (or DD-MM-YYYY)")


def parse_absences(value: object) -> tuple[tuple[dt.date, dt.date], ...]:
    """Periods of leave from text such as ``2027-02-15..2027-02-19, 2027-03-08``.

    Items are separated by ``,`` or ``;``; an item is one date or ``first..last`` (both
    included; ``first - last`` with spaces around the dash is read the same).

    Raises
    ------
    ValueError
        Naming the item that is not a date or a range, or a range that ends before it starts.
    """
    if isinstance(value, dt.date):
        day = parse_date(value)
        return ((day, day),)
    out = []
    for raw in re.split(r"[,;]", str(value)):
        item = raw.strip()
        if not item:
            continue
        parts = re.split(r"\s*\.\.\s*|\s+-\s+|\s+tot\s+|\s+to\s+", item)
        if len(parts) > 2:
            raise ValueError(f"'{item}' is not a date or a range first..last")
        first = parse_date(parts[0])
        last = parse_date(parts[-1])
        if last < first:
            raise ValueError(f"'{item}' ends before it starts; write first..last")
        out.append((first, last))
    return tuple(sorted(set(out)))


def merge_absences(
    *groups: Iterable[tuple[dt.date, dt.date]],
) -> tuple[tuple[dt.date, dt.date], ...]:
    """Periods of leave from several sources, sorted and without duplicates."""
    return tuple(sorted({span for group in groups for span in group}))
