"""Bookings: ``appointments.csv`` and ``absences.csv`` loaded and checked at the edge.

Same tolerance as the customers and reps files (Dutch Excel, ``;``, ``.xlsx``, header aliases)
and the same one-line messages naming the file, row and column. An appointment is checked twice:
on loading against the period and the working day (a holiday, a day the period does not work,
before the day starts or after it ends, two on one day for one customer), and once the
customers have reps against that rep's own day (absent, unreachable from home in time,
overlapping another appointment of the same rep, no room left for lunch).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from .exceptions import InputError
from .load import _map_columns, _number, _raise, _Row, read_table
from .models import Appointment, Customer, Rep
from .params import Config, format_hhmm
from .planning import working_window
from .travel import Points, TravelModel
from .workdays import (
    day_of_date,
    days_off,
    format_range,
    holiday_dates,
    merge_absences,
    parse_date,
    period_span,
)

log = logging.getLogger(__name__)

APPOINTMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id", "customer", "klant", "klantnummer", "klantnr", "klant_id", "id",
    ),
    "date": ("date", "datum", "dag", "day"),
    "start": ("start", "begin", "time", "tijd", "starttijd", "start_time", "aanvang"),
    "minutes": ("minutes", "minuten", "duration", "duur", "visit_minutes", "bezoekduur"),
    "purpose": (
        "purpose", "doel", "subject", "onderwerp", "note", "notitie", "opmerking", "reason",
    ),
}  # fmt: skip

ABSENCE_ALIASES: dict[str, tuple[str, ...]] = {
    "rep_id": ("rep_id", "rep", "id", "vertegenwoordiger", "medewerker"),
    "from": ("from", "van", "start", "first", "begin", "vanaf", "date", "datum"),
    "to": ("to", "tot", "end", "last", "until", "einde", "tot_en_met", "tm"),
}


def load_absences(path: str | Path, reps: Sequence[Rep]) -> tuple[Rep, ...]:
    """The reps with the periods of leave of ``absences.csv`` (``rep_id, from, to``) added.

    ``to`` may be empty for a single day; both dates are included.

    Raises
    ------
    InputError
        One line per problem: an unknown rep, a cell that is not a date, ``to`` before ``from``.
    """
    table = read_table(path)
    columns = _map_columns(table, ABSENCE_ALIASES, required=("rep_id", "from"))
    known = {r.id for r in reps}
    problems: list[str] = []
    found: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for number, values in table.rows:
        row = _Row(table, columns, number, values, problems)
        rep_id = row.text("rep_id")
        if rep_id not in known:
            row.problem(
                "rep_id", row.raw("rep_id"), f"is not a rep in the reps file; use one of "
                f"{', '.join(sorted(known))}",
            )  # fmt: skip
            continue
        first = _date_cell(row, "from")
        last = _date_cell(row, "to") if row.raw("to") is not None else first
        if first is None or last is None:
            continue
        if last < first:
            row.problem("to", row.raw("to"), f"comes before 'from' {first.isoformat()}")
            continue
        found.setdefault(rep_id, []).append((first, last))
    _raise(problems, table.source, "absences file")
    return tuple(
        replace(r, absent=merge_absences(r.absent, found[r.id])) if r.id in found else r
        for r in reps
    )


def _date_cell(row: _Row, fieldname: str) -> dt.date | None:
    raw = row.raw(fieldname)
    if raw is None:
        row.problems.append(f"{row.where(fieldname)}: is empty; give a date (YYYY-MM-DD)")
        return None
    try:
        return parse_date(raw)
    except ValueError:
        row.problem(fieldname, raw, "is not a date; use YYYY-MM-DD (or DD-MM-YYYY)")
        return None


def load_appointments(
    path: str | Path, customers: Sequence[Customer], config: Config
) -> tuple[Customer, ...]:
    """The customers with the booked visits of ``appointments.csv`` attached.

    Columns ``customer_id, date, start`` and optionally ``minutes`` (default: the customer's
    visit minutes) and ``purpose``. A customer with more appointments than visits per period
    gets as many visits as appointments.

    Raises
    ------
    InputError
        One line per appointment that cannot hold: an unknown customer, a date outside the
        period, on a day the period does not work or on a public holiday, a start or end
        outside the working day, two appointments of one customer on one day.
    """
    table = read_table(path)
    columns = _map_columns(table, APPOINTMENT_ALIASES, required=("customer_id", "date", "start"))
    if config.period.start_date is None:
        raise InputError(
            f"{table.source}: appointments need a start date of the period; set [period] "
            'start_date = "YYYY-MM-DD" or give --start-date'
        )
    by_id = {c.id: c for c in customers}
    problems: list[str] = []
    found: dict[str, list[Appointment]] = {}
    for number, values in table.rows:
        row = _Row(table, columns, number, values, problems)
        appointment = _appointment(row, by_id, config)
        if appointment is None:
            continue
        mine = found.setdefault(appointment.customer_id, [])
        same_day = [a for a in mine if a.date == appointment.date]
        if same_day:
            row.problem(
                "date",
                row.raw("date"),
                f"is the day of customer '{appointment.customer_id}''s appointment in row "
                f"{same_day[0].row}; a customer is visited at most once a day",
            )
            continue
        mine.append(appointment)
    _raise(problems, table.source, "appointments file")
    out = []
    for c in customers:
        booked = tuple(sorted(found.get(c.id, ()), key=lambda a: (a.date, a.start_min)))
        if not booked:
            out.append(c)
            continue
        visits = max(c.visits, len(booked))
        if visits > c.visits:
            log.warning(
                "customer %s has %d appointments and %d visits per period: planned with %d",
                c.id,
                len(booked),
                c.visits,
                visits,
            )
        out.append(replace(c, appointments=booked, visits=visits))
    return tuple(out)


def _appointment(
    row: _Row, customers: Mapping[str, Customer], config: Config
) -> Appointment | None:
    """One row as an appointment checked against the period and the working day."""
    customer_id = row.text("customer_id")
    customer = customers.get(customer_id)
    if customer is None:
        row.problem(
            "customer_id", row.raw("customer_id"), "is not a customer in the customers file"
        )
        return None
    date = _date_cell(row, "date")
    start = row.time_or_none("start")
    if start is None and row.raw("start") is None:
        row.problems.append(f"{row.where('start')}: is empty; give the start time (HH:MM)")
    minutes = None
    raw_minutes = row.raw("minutes")
    if raw_minutes is not None:
        minutes = _number(raw_minutes, row.table.decimal_comma)
        if minutes is None or not (0 < minutes <= 24 * 60):
            row.problem("minutes", raw_minutes, "is not accepted; use minutes above 0")
            return None
    if date is None or start is None:
        return None
    period = config.period
    if day_of_date(period, date) is None:
        first, last = period_span(period)
        inside = first <= date <= last
        why = (
            f"is a {date.strftime('%A')}, not a working day of the period ({','.join(period.days)})"
            if inside
            else f"is outside the period {format_range(first, last)}"
        )
        row.problem("date", row.raw("date"), why)
        return None
    holiday = holiday_dates(period).get(date)
    if holiday:
        row.problem("date", row.raw("date"), f"is a public holiday ({holiday}); no one works")
        return None
    length = minutes if minutes is not None else customer.visit_minutes
    day = config.day
    last_end = day.end_min - day.admin_minutes
    if start < day.start_min or start + length > last_end:
        row.problem(
            "start",
            row.raw("start"),
            f"with {length:g} minutes ({format_hhmm(start)}-{format_hhmm(start + length)}) "
            f"lies outside the working day {format_hhmm(day.start_min)}-"
            f"{format_hhmm(last_end)} (the day ends at {format_hhmm(day.end_min)} less "
            f"{day.admin_minutes} minutes of admin)",
        )
        return None
    return Appointment(
        customer_id=customer_id,
        date=date,
        start_min=start,
        minutes=minutes,
        purpose=row.text("purpose"),
        row=row.number,
    )


def check_appointments(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    rep_of: Mapping[str, str],
    config: Config,
    travel: TravelModel,
    source: str = "appointments.csv",
) -> None:
    """Check every appointment against the day of the rep who has its customer.

    Parameters
    ----------
    customers, reps
        As loaded (with appointments and absences).
    rep_of
        customer id -> rep id (the design).
    config
        ``period`` and ``day``.
    travel
        The run's travel model (the drive from the rep's home and between appointments).
    source
        The appointments file, for messages.

    Raises
    ------
    InputError
        One line per appointment the rep cannot keep: absent or not working that day, not
        reachable from home within the working day, overlapping another appointment of the
        rep (the drive between them included), or leaving no room for lunch.
    """
    by_rep = {r.id: r for r in reps}
    booked: dict[tuple[str, dt.date], list[tuple[Appointment, Customer]]] = {}
    for c in customers:
        for a in c.appointments:
            booked.setdefault((rep_of[c.id], a.date), []).append((a, c))
    problems: list[str] = []
    for (rep_id, date), items in sorted(booked.items()):
        rep = by_rep[rep_id]
        problems += _rep_day_problems(rep, date, items, config, travel, source)
    _raise(problems, source, "appointments file")


def _rep_day_problems(
    rep: Rep,
    date: dt.date,
    items: list[tuple[Appointment, Customer]],
    config: Config,
    travel: TravelModel,
    source: str,
) -> list[str]:
    """What keeps ``rep`` from the appointments of one day (one line each)."""
    period = config.period
    day = day_of_date(period, date)
    where = [f"{source}, row {a.row}: appointment of customer '{c.id}' on {date}" for a, c in items]
    own = set(rep.days) if rep.days else set(period.days)
    off = days_off(rep, config).get(day) if day is not None else None
    if off or period.days[(day or 0) % len(period.days)] not in own:
        why = off or f"does not work on {date.strftime('%A')}s"
        return [
            f"{w}: rep {rep.id}, who has this customer, {why.replace('absent', 'is absent')}; "
            "move the appointment, or give the customer a locked_rep who works that day"
            for w in where
        ]
    start, end, lunch = working_window(rep, config)
    items = sorted(items, key=lambda x: x[0].start_min)
    home = Points.of([rep])
    points = Points.of([c for _, c in items])
    out_legs = travel.matrix(home, points).minutes[0]
    back_legs = travel.matrix(points, home).minutes[:, 0]
    between = travel.matrix(points).minutes
    problems = []
    spans = []
    for k, (a, c) in enumerate(items):
        length = a.minutes if a.minutes is not None else c.visit_minutes
        spans.append((a.start_min, a.start_min + length))
        if (
            a.start_min - out_legs[k] < start - 0.5
            or a.start_min + length + back_legs[k] > end + 0.5
        ):
            problems.append(
                f"{where[k]} at {format_hhmm(a.start_min)}: rep {rep.id} cannot get there from "
                f"home and back within the working day {format_hhmm(start)}-{format_hhmm(end)} "
                f"({out_legs[k]:.0f} min there, {back_legs[k]:.0f} min back)"
            )
        if k and spans[k - 1][1] + between[k - 1, k] > a.start_min + 0.5:
            prev = items[k - 1][0]
            problems.append(
                f"{where[k]} at {format_hhmm(a.start_min)} overlaps the appointment in row "
                f"{prev.row} (until {format_hhmm(spans[k - 1][1])}, then "
                f"{between[k - 1, k]:.0f} min to drive) for rep {rep.id}"
            )
    if lunch is not None and not problems and not _lunch_fits(spans, lunch):
        lo, hi, minutes = lunch
        problems.append(
            f"{where[0]}: the appointments of rep {rep.id} that day leave no {minutes} minutes "
            f"for lunch starting between {format_hhmm(lo)} and {format_hhmm(hi)}"
        )
    return problems


def _lunch_fits(spans: Sequence[tuple[float, float]], lunch: tuple[int, int, int]) -> bool:
    """Whether a lunch of ``lunch[2]`` minutes starting in [lunch[0], lunch[1]] misses every span."""
    lo, hi, minutes = lunch
    starts = [lo] + [e for _, e in spans if lo <= e <= hi]
    return any(all(s + minutes <= a or s >= b for a, b in spans) for s in starts)


def attach_appointments(
    customers: Sequence[Customer], appointments_path: str | Path | None, config: Config
) -> tuple[Customer, ...]:
    """``load_appointments`` when a file is given, else the customers as they are."""
    if appointments_path is None:
        return tuple(customers)
    return load_appointments(appointments_path, customers, config)
