"""Calendars: ``calendars/<rep_id>.ics`` per rep from a dated plan (RFC 5545, ``icalendar``).

One event per planned visit: the customer's name and address, class, the purpose of a booked
appointment, and the drive from the previous stop in the description; times in the zone of
``[calendar] timezone``. A visit's UID depends on the customer and the date only, so importing
the calendar of a re-plan updates the events of visits that kept their day (``SEQUENCE`` counts
the re-plans) instead of adding them twice; a re-plan also carries the visits that moved away as
cancelled events (``STATUS:CANCELLED``) under their old UIDs, so they leave the calendar.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .htmlutil import rep_file_name
from .models import Appointment, Customer, DayRoute, Plan, Rep
from .params import Config
from .report import write_text
from .workdays import period_span

if TYPE_CHECKING:
    from icalendar import Event

#: The calendars' folder inside the plan folder.
CALENDAR_DIR = "calendars"

PRODID = "-//territory//visit plan//EN"


@dataclass(frozen=True)
class CancelledVisit:
    """A visit of an earlier plan that a re-plan moved or dropped: its event is cancelled."""

    rep_id: str
    customer_id: str
    date: dt.date
    reason: str = ""


def calendar_file_name(rep_id: str) -> str:
    """The file of a rep's calendar under ``calendars/`` (safe like ``reps/<rep>.html``)."""
    return rep_file_name(rep_id).removesuffix(".html") + ".ics"


def calendar_link(plan_dir: Path, rep_id: str, text: str) -> str:
    """The link to the rep's calendar on the rep's page (``text`` its label), "" when the plan
    folder holds no calendar of the rep."""
    from urllib.parse import quote

    from .htmlutil import esc

    name = calendar_file_name(rep_id)
    if not (plan_dir / CALENDAR_DIR / name).is_file():
        return ""
    return f'<a class="tp-btn" href="../{CALENDAR_DIR}/{quote(name)}" download>{esc(text)}</a>'


def visit_uid(customer_id: str, date: dt.date | str) -> str:
    """The event UID of a customer's visit on a date: the same in every run and re-plan."""
    day = date.isoformat() if isinstance(date, dt.date) else str(date)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", customer_id).strip("._")[:40]
    digest = hashlib.sha1(f"{customer_id}\x1f{day}".encode()).hexdigest()[:10]
    return f"visit-{day}-{safe or 'customer'}-{digest}@territory"


def address(c: Customer) -> str:
    """The customer's address in one line (lat, lon when the file has none)."""
    town = " ".join(t for t in (c.postcode, c.city) if t)
    text = ", ".join(t for t in (c.street, town, c.country) if t)
    return text or f"{c.lat:.5f}, {c.lon:.5f}"


def rep_calendars(
    plan: Plan,
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    config: Config,
    *,
    revision: int = 0,
    issued: dt.date | None = None,
    cancelled: Sequence[CancelledVisit] = (),
) -> dict[str, str]:
    """The calendar of every rep as iCalendar text, by rep id (every rep, also one without
    visits).

    Parameters
    ----------
    plan
        A plan of a period with a start date (``DayRoute.date`` is ISO).
    customers, reps
        As loaded; the customers give names, addresses, classes and appointments.
    config
        ``calendar.timezone`` and the period (the time zone's span).
    revision
        0 for a plan, 1 for its first re-plan and so on (``SEQUENCE``).
    issued
        ``DTSTAMP`` (midnight UTC of that day); the period's start date when None. A date, not
        the clock, so the same inputs give the same bytes.
    cancelled
        Visits of the previous plan that are gone from their rep's day.
    """
    import icalendar

    zone = ZoneInfo(config.calendar.timezone)
    first, last = period_span(config.period)
    stamp_day = issued or first
    stamp = dt.datetime(stamp_day.year, stamp_day.month, stamp_day.day, tzinfo=dt.UTC)
    by_id = {c.id: c for c in customers}
    by_rep: dict[str, list[DayRoute]] = {r.id: [] for r in reps}
    for day in plan.days:
        by_rep.setdefault(day.rep_id, []).append(day)
    out: dict[str, str] = {}
    names = {r.id: r.name for r in reps}
    for rep_id, days in by_rep.items():
        cal = icalendar.Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        title = f"Visits {rep_id}" + (f" {names[rep_id]}" if names.get(rep_id) else "")
        cal.add("x-wr-calname", title)
        cal.add("x-wr-timezone", config.calendar.timezone)
        for day in sorted(days, key=lambda d: d.date):
            for event in _day_events(day, by_id, zone):
                event.add("dtstamp", stamp)
                event.add("sequence", revision)
                cal.add_component(event)
        for gone in sorted(
            (c for c in cancelled if c.rep_id == rep_id), key=lambda c: (c.date, c.customer_id)
        ):
            cal.add_component(_cancelled_event(gone, by_id, stamp, revision))
        cal.add_missing_timezones(
            first_date=dt.date(first.year, 1, 1), last_date=dt.date(last.year + 1, 1, 1)
        )
        out[rep_id] = cal.to_ical().decode("utf-8")
    return out


def _day_events(day: DayRoute, by_id: dict[str, Customer], zone: ZoneInfo) -> list[Event]:
    """The events of one rep day, in visiting order."""
    import icalendar

    date = dt.date.fromisoformat(day.date)
    events = []
    previous = "home"
    for seq, v in enumerate(day.visits, start=1):
        c = by_id[v.customer_id]
        booked = _appointment(c, date)
        event = icalendar.Event()
        event.add("uid", visit_uid(c.id, date))
        event.add("dtstart", _at(date, v.start_min, zone))
        event.add("dtend", _at(date, v.end_min, zone))
        label = c.name or c.id
        event.add("summary", f"{label}: {booked.purpose}" if booked and booked.purpose else label)
        event.add("location", address(c))
        event.add("geo", (round(c.lat, 6), round(c.lon, 6)))
        lines = [f"Customer {c.id}" + (f", class {c.customer_class}" if c.customer_class else "")]
        if booked is not None:
            lines.append("Booked appointment" + (f": {booked.purpose}" if booked.purpose else ""))
        lines.append(
            f"Travel from {previous}: {v.travel_min:.0f} min, {v.travel_km:.1f} km "
            f"(arrival {_hhmm(v.arrival_min)})"
        )
        lines.append(f"Stop {seq} of {len(day.visits)} on {day.weekday} {day.date}")
        event.add("description", "\n".join(lines))
        if c.customer_class:
            event.add("categories", [f"class {c.customer_class}"])
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        events.append(event)
        previous = f"{label} ({c.id})"
    return events


def _cancelled_event(
    gone: CancelledVisit, by_id: dict[str, Customer], stamp: dt.datetime, revision: int
) -> Event:
    """A cancelled all-day event under the UID of a visit that left this rep's day."""
    import icalendar

    c = by_id.get(gone.customer_id)
    event = icalendar.Event()
    event.add("uid", visit_uid(gone.customer_id, gone.date))
    event.add("dtstamp", stamp)
    event.add("sequence", revision)
    event.add("dtstart", gone.date)
    event.add("summary", f"Cancelled: {c.name if c and c.name else gone.customer_id}")
    event.add("description", gone.reason or "moved by a re-plan")
    event.add("status", "CANCELLED")
    event.add("transp", "TRANSPARENT")
    return event


def _appointment(c: Customer, date: dt.date) -> Appointment | None:
    return next((a for a in c.appointments if a.date == date), None)


def _at(date: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    """Wall-clock time ``minutes`` after midnight of ``date`` in ``zone``."""
    return dt.datetime.combine(date, dt.time(0), tzinfo=zone) + dt.timedelta(minutes=minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def write_calendars(
    folder: Path,
    plan: Plan,
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    config: Config,
    *,
    revision: int = 0,
    issued: dt.date | None = None,
    cancelled: Sequence[CancelledVisit] = (),
) -> list[Path]:
    """Write ``calendars/<rep_id>.ics`` for every rep into ``folder``; nothing without a start
    date (the plan's days are then labels such as ``w1-mon``, not dates)."""
    if config.period.start_date is None:
        return []
    texts = rep_calendars(
        plan, customers, reps, config, revision=revision, issued=issued, cancelled=cancelled
    )
    paths = []
    for rep_id, text in texts.items():
        path = folder / CALENDAR_DIR / calendar_file_name(rep_id)
        write_text(path, text)
        paths.append(path)
    return paths
