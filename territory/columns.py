"""Plan-folder schema: every output column once, with its type, unit and English/Dutch header.

The CSV writers (:mod:`territory.report`), the workbook (:mod:`territory.workbook`), the report
page (:mod:`territory.reporthtml`) and the maps (:mod:`territory.maps`) name a column only
through :class:`Column`, so a column is renamed, retyped or relabelled here and nowhere else.
A column name means the same thing in every file it appears in (``travel_km`` is km driven,
``visit_min`` minutes spent at customers). The CSV column names and their order are a user
contract (README, ``docs/interfaces.md``): change them only together with those.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a column's text is to be read (the CSVs hold text; the workbook holds values)."""

    TEXT = "text"  #: free text or an id; never a number, never a formula
    INT = "int"  #: a whole number (counts, week, sequence)
    FLOAT = "float"  #: a decimal number
    BOOL = "bool"  #: ``true`` / ``false``
    DATE = "date"  #: ISO date (YYYY-MM-DD), or a day label such as ``w1-mon`` (see day_label)
    TIME = "time"  #: HH:MM in the day (kept as text)


class Column(StrEnum):
    """One output column: its name (the member's value), kind, unit and headers.

    A member *is* its name (``Column.REP_ID == "rep_id"``), so it serves as a dict key in rows
    and as a key into the rows read back from a CSV. ``unit`` is one of ``""`` (none, or a
    count), ``"km"``, ``"min"``, ``"h"``, ``"EUR"``, ``"deg"`` (WGS84 degrees) or ``"share"``
    (a fraction: 0.8 = 80 %).
    """

    kind: Kind
    unit: str
    en: str
    nl: str

    def __new__(cls, name: str, kind: Kind, unit: str, en: str, nl: str) -> Column:
        member = str.__new__(cls, name)
        member._value_ = name
        member.kind = kind
        member.unit = unit
        member.en = en
        member.nl = nl
        return member

    def header(self, lang: str = "en") -> str:
        """The column's header in ``lang`` ("en" or "nl"; another language gets English)."""
        return self.nl if lang == "nl" else self.en

    # name, kind, unit, English header, Dutch header
    CUSTOMER_ID = "customer_id", Kind.TEXT, "", "Customer id", "Klantnummer"
    REP_ID = "rep_id", Kind.TEXT, "", "Rep id", "Vertegenwoordiger"
    CHANGED = "changed", Kind.BOOL, "", "Changed rep", "Andere vertegenwoordiger"
    DISTANCE_KM_HOME = (
        "distance_km_home", Kind.FLOAT, "km", "Distance from rep home (km)",
        "Afstand tot thuisbasis (km)",
    )  # fmt: skip
    NAME = "name", Kind.TEXT, "", "Name", "Naam"
    LAT = "lat", Kind.FLOAT, "deg", "Latitude", "Breedtegraad"
    LON = "lon", Kind.FLOAT, "deg", "Longitude", "Lengtegraad"
    CLASS = "class", Kind.TEXT, "", "Class", "Klasse"
    VISITS = "visits", Kind.INT, "", "Visits", "Bezoeken"
    VISIT_MINUTES = "visit_minutes", Kind.FLOAT, "min", "Minutes per visit", "Minuten per bezoek"
    POTENTIAL = "potential", Kind.FLOAT, "EUR", "Potential (EUR)", "Potentieel (EUR)"
    CURRENT_REP = "current_rep", Kind.TEXT, "", "Current rep", "Huidige vertegenwoordiger"
    LOCKED_REP = "locked_rep", Kind.TEXT, "", "Locked rep", "Vaste vertegenwoordiger"
    WORKLOAD_MIN = "workload_min", Kind.FLOAT, "min", "Workload (min)", "Bewerkingstijd (min)"
    LOCATED = "located", Kind.TEXT, "", "Located by", "Locatie via"
    CUSTOMERS = "customers", Kind.INT, "", "Customers", "Klanten"
    VISIT_HOURS = "visit_hours", Kind.FLOAT, "h", "Visit hours", "Bezoekuren"
    TRAVEL_HOURS = "travel_hours", Kind.FLOAT, "h", "Travel hours", "Reisuren"
    ADMIN_HOURS = "admin_hours", Kind.FLOAT, "h", "Admin hours", "Administratie-uren"
    WORKLOAD_HOURS = "workload_hours", Kind.FLOAT, "h", "Workload hours", "Bewerkingstijd (uur)"
    CAPACITY_HOURS = "capacity_hours", Kind.FLOAT, "h", "Capacity hours", "Capaciteit (uur)"
    UTILIZATION = "utilization", Kind.FLOAT, "share", "Utilisation", "Bezetting"
    TRAVEL_KM = "travel_km", Kind.FLOAT, "km", "Travel (km)", "Reisafstand (km)"
    REP_NAME = "rep_name", Kind.TEXT, "", "Rep name", "Naam vertegenwoordiger"
    HOME_LAT = "home_lat", Kind.FLOAT, "deg", "Home latitude", "Thuis breedtegraad"
    HOME_LON = "home_lon", Kind.FLOAT, "deg", "Home longitude", "Thuis lengtegraad"
    CONNECTED = "connected", Kind.BOOL, "", "Connected", "Aaneengesloten"
    MOVED_IN = "moved_in", Kind.INT, "", "Moved in", "Erbij"
    MOVED_OUT = "moved_out", Kind.INT, "", "Moved out", "Eraf"
    DEVIATION = "deviation", Kind.FLOAT, "share", "Deviation from target", "Afwijking van doel"
    DATE = "date", Kind.DATE, "", "Date", "Datum"
    WEEK = "week", Kind.INT, "", "Week", "Week"
    WEEKDAY = "weekday", Kind.TEXT, "", "Weekday", "Weekdag"
    SEQ = "seq", Kind.INT, "", "Stop", "Stop"
    ARRIVAL = "arrival", Kind.TIME, "", "Arrival", "Aankomst"
    START = "start", Kind.TIME, "", "Start", "Begin"
    END = "end", Kind.TIME, "", "End", "Einde"
    TRAVEL_MIN = "travel_min", Kind.FLOAT, "min", "Travel (min)", "Reistijd (min)"
    CUSTOMER_NAME = "customer_name", Kind.TEXT, "", "Customer name", "Klantnaam"
    DEPART = "depart", Kind.TIME, "", "Depart", "Vertrek"
    RETURN = "return", Kind.TIME, "", "Back home", "Terug thuis"
    VISIT_MIN = "visit_min", Kind.FLOAT, "min", "Visit (min)", "Bezoektijd (min)"
    OVERTIME_MIN = "overtime_min", Kind.FLOAT, "min", "Overtime (min)", "Overwerk (min)"
    LUNCH_START = "lunch_start", Kind.TIME, "", "Lunch", "Lunch"
    REASON = "reason", Kind.TEXT, "", "Reason", "Reden"
    VISIT = "visit", Kind.INT, "", "Visit", "Bezoek"
    OLD_DATE = "old_date", Kind.DATE, "", "Old date", "Oude datum"
    OLD_REP = "old_rep", Kind.TEXT, "", "Old rep", "Oude vertegenwoordiger"
    NEW_DATE = "new_date", Kind.DATE, "", "New date", "Nieuwe datum"
    NEW_REP = "new_rep", Kind.TEXT, "", "New rep", "Nieuwe vertegenwoordiger"
    # the customer's address, opening hours and phone, for the rep pages and day sheets
    STREET = "street", Kind.TEXT, "", "Street", "Straat"
    POSTCODE = "postcode", Kind.TEXT, "", "Postcode", "Postcode"
    CITY = "city", Kind.TEXT, "", "City", "Plaats"
    OPEN = "open", Kind.TIME, "", "Opens", "Opent"
    CLOSE = "close", Kind.TIME, "", "Closes", "Sluit"
    PHONE = "phone", Kind.TEXT, "", "Phone", "Telefoon"
    # economics (chapter 9): amounts in EUR per year
    REVENUE = "revenue", Kind.FLOAT, "EUR", "Revenue (EUR)", "Omzet (EUR)"
    MARGIN_EUR = "margin_eur", Kind.FLOAT, "EUR", "Margin (EUR)", "Brutomarge (EUR)"
    REP_COST_EUR = (
        "rep_cost_eur", Kind.FLOAT, "EUR", "Rep cost (EUR)", "Kosten vertegenwoordiger (EUR)",
    )  # fmt: skip
    TRAVEL_COST_EUR = "travel_cost_eur", Kind.FLOAT, "EUR", "Travel cost (EUR)", "Reiskosten (EUR)"
    CONTRIBUTION_EUR = (
        "contribution_eur", Kind.FLOAT, "EUR", "Contribution (EUR)", "Dekkingsbijdrage (EUR)",
    )  # fmt: skip
    COST_PER_VISIT_EUR = (
        "cost_per_visit_eur", Kind.FLOAT, "EUR", "Cost per visit (EUR)", "Kosten per bezoek (EUR)",
    )  # fmt: skip
    BREAK_EVEN_REVENUE_EUR = (
        "break_even_revenue_eur", Kind.FLOAT, "EUR", "Break-even revenue (EUR)",
        "Break-evenomzet (EUR)",
    )  # fmt: skip
    SAFETY_MARGIN = "safety_margin", Kind.FLOAT, "share", "Margin of safety", "Veiligheidsmarge"
    VISITS_YEAR = "visits_year", Kind.INT, "", "Visits per year", "Bezoeken per jaar"
    TRAVEL_KM_YEAR = (
        "travel_km_year", Kind.FLOAT, "km", "Travel per year (km)", "Reisafstand per jaar (km)",
    )  # fmt: skip
    FLAGGED_CUSTOMERS = (
        "flagged_customers", Kind.INT, "", "Customers costing more than their margin",
        "Klanten die meer kosten dan hun marge",
    )  # fmt: skip
    VISIT_COST_EUR = (
        "visit_cost_eur", Kind.FLOAT, "EUR", "Cost of visits or calls (EUR)",
        "Kosten bezoeken of gesprekken (EUR)",
    )  # fmt: skip
    CHANNEL = "channel", Kind.TEXT, "", "Channel", "Kanaal"
    COST_ABOVE_MARGIN = (
        "cost_above_margin", Kind.BOOL, "", "Costs more than its margin", "Kost meer dan de marge",
    )  # fmt: skip
    # telesales (chapter 6.6)
    CALLS = "calls", Kind.INT, "", "Calls per period", "Gesprekken per periode"
    CALL_MINUTES = "call_minutes", Kind.FLOAT, "min", "Minutes per call", "Minuten per gesprek"
    CALL_HOURS = "call_hours", Kind.FLOAT, "h", "Call hours", "Beluren"
    # scenarios: one row per variant of the plan
    SCENARIO = "scenario", Kind.TEXT, "", "Scenario", "Scenario"
    REPS = "reps", Kind.INT, "", "Reps", "Vertegenwoordigers"
    PHONE_CUSTOMERS = "phone_customers", Kind.INT, "", "Phone customers", "Telefonische klanten"
    CUSTOMERS_MOVED = (
        "customers_moved", Kind.INT, "", "Customers changing rep",
        "Klanten naar een andere vertegenwoordiger",
    )  # fmt: skip
    MAX_WORKLOAD_DEVIATION = (
        "max_workload_deviation", Kind.FLOAT, "share", "Largest workload deviation",
        "Grootste afwijking bewerkingstijd",
    )  # fmt: skip
    MIN_UTILISATION = (
        "min_utilisation", Kind.FLOAT, "share", "Lowest utilisation", "Laagste bezetting",
    )  # fmt: skip
    MAX_UTILISATION = (
        "max_utilisation", Kind.FLOAT, "share", "Highest utilisation", "Hoogste bezetting",
    )  # fmt: skip
    VISITS_UNSCHEDULED = (
        "visits_unscheduled", Kind.INT, "", "Unscheduled visits", "Niet ingeplande bezoeken",
    )  # fmt: skip
    AGENTS_NEEDED = (
        "agents_needed", Kind.INT, "", "Inside-sales agents needed",
        "Benodigde binnendienstmedewerkers",
    )  # fmt: skip
    COST_EUR = "cost_eur", Kind.FLOAT, "EUR", "Cost (EUR)", "Kosten (EUR)"
    FOLDER = "folder", Kind.TEXT, "", "Folder", "Map"
    NOTE = "note", Kind.TEXT, "", "Note", "Toelichting"


_BY_NAME: dict[str, Column] = {c.value: c for c in Column}


def column(name: str) -> Column | None:
    """The :class:`Column` called ``name``, or None for a column this tool does not write."""
    return _BY_NAME.get(name)


@dataclass(frozen=True)
class Table:
    """One table of the plan folder: its file name and its columns, in file order.

    The contract's columns come first, extra columns after them; the order is part of the
    contract (users' spreadsheets and scripts read the files by position as well as by name).
    """

    file: str
    columns: tuple[Column, ...]

    @property
    def name(self) -> str:
        """The file name without ``.csv`` (also the sheet name in plan.xlsx)."""
        return self.file.removesuffix(".csv")


C = Column

ASSIGNMENTS = Table(
    "assignments.csv",
    (
        C.CUSTOMER_ID, C.REP_ID, C.CHANGED, C.DISTANCE_KM_HOME, C.NAME, C.LAT, C.LON, C.CLASS,
        C.VISITS, C.VISIT_MINUTES, C.POTENTIAL, C.CURRENT_REP, C.LOCKED_REP, C.WORKLOAD_MIN,
        C.LOCATED, C.STREET, C.POSTCODE, C.CITY, C.OPEN, C.CLOSE, C.PHONE,
    ),
)  # fmt: skip
TERRITORIES = Table(
    "territories.csv",
    (
        C.REP_ID, C.CUSTOMERS, C.VISITS, C.VISIT_HOURS, C.TRAVEL_HOURS, C.ADMIN_HOURS,
        C.WORKLOAD_HOURS, C.CAPACITY_HOURS, C.UTILIZATION, C.POTENTIAL, C.TRAVEL_KM, C.REP_NAME,
        C.HOME_LAT, C.HOME_LON, C.CONNECTED, C.MOVED_IN, C.MOVED_OUT, C.DEVIATION,
    ),
)  # fmt: skip
SCHEDULE = Table(
    "schedule.csv",
    (
        C.REP_ID, C.DATE, C.WEEK, C.WEEKDAY, C.SEQ, C.CUSTOMER_ID, C.ARRIVAL, C.START, C.END,
        C.TRAVEL_MIN, C.TRAVEL_KM, C.CUSTOMER_NAME, C.LAT, C.LON,
    ),
)  # fmt: skip
DAYS = Table(
    "days.csv",
    (
        C.REP_ID, C.DATE, C.WEEK, C.WEEKDAY, C.DEPART, C.RETURN, C.VISITS, C.VISIT_MIN,
        C.TRAVEL_MIN, C.TRAVEL_KM, C.OVERTIME_MIN, C.LUNCH_START,
    ),
)  # fmt: skip
UNSCHEDULED = Table(
    "unscheduled.csv",
    (C.CUSTOMER_ID, C.REP_ID, C.REASON, C.CUSTOMER_NAME, C.VISIT, C.DATE),
)

#: changes.csv of ``territory replan``: one row per future visit that changed day or rep, was
#: added or was dropped (an empty old or new date), with the reason.
CHANGES = Table(
    "changes.csv",
    (C.CUSTOMER_ID, C.OLD_DATE, C.OLD_REP, C.NEW_DATE, C.NEW_REP, C.REASON),
)

#: The plan folder's tables in file order.
TABLES: tuple[Table, ...] = (ASSIGNMENTS, TERRITORIES, SCHEDULE, DAYS, UNSCHEDULED)
#: Tables only some commands write (``replan``: changes.csv).
OPTIONAL_TABLES: tuple[Table, ...] = (CHANGES,)

#: economics.csv: one row per territory, amounts in EUR per year (chapter 9).
ECONOMICS = Table(
    "economics.csv",
    (
        C.REP_ID, C.CUSTOMERS, C.REVENUE, C.MARGIN_EUR, C.REP_COST_EUR, C.TRAVEL_COST_EUR,
        C.CONTRIBUTION_EUR, C.COST_PER_VISIT_EUR, C.BREAK_EVEN_REVENUE_EUR, C.REP_NAME,
        C.VISITS_YEAR, C.TRAVEL_KM_YEAR, C.SAFETY_MARGIN, C.FLAGGED_CUSTOMERS,
    ),
)  # fmt: skip
#: customer_economics.csv: one row per customer (field and phone), amounts in EUR per year.
CUSTOMER_ECONOMICS = Table(
    "customer_economics.csv",
    (
        C.CUSTOMER_ID, C.REP_ID, C.REVENUE, C.MARGIN_EUR, C.VISITS, C.VISIT_COST_EUR,
        C.CONTRIBUTION_EUR, C.CHANNEL, C.COST_ABOVE_MARGIN, C.NAME, C.CLASS, C.CALLS,
    ),
)  # fmt: skip
#: phone_customers.csv: one row per customer served by phone (telesales, chapter 6.6).
PHONE_CUSTOMERS = Table(
    "phone_customers.csv",
    (
        C.CUSTOMER_ID, C.NAME, C.CLASS, C.CALLS, C.CALL_MINUTES, C.CALL_HOURS, C.CURRENT_REP,
        C.LAT, C.LON,
    ),
)  # fmt: skip
#: The plan folder's tables written only when used: economics with ``[economics]``, the phone
#: list when customers are served by phone (also in :data:`OPTIONAL_TABLES`).
ECONOMICS_TABLES: tuple[Table, ...] = (ECONOMICS, CUSTOMER_ECONOMICS, PHONE_CUSTOMERS)
OPTIONAL_TABLES += ECONOMICS_TABLES

#: scenarios.csv (``territory scenarios``): one row per scenario; per period unless EUR (per year).
SCENARIOS = Table(
    "scenarios.csv",
    (
        C.SCENARIO, C.REPS, C.PHONE_CUSTOMERS, C.CUSTOMERS_MOVED, C.MAX_WORKLOAD_DEVIATION,
        C.MIN_UTILISATION, C.MAX_UTILISATION, C.VISITS_UNSCHEDULED, C.TRAVEL_HOURS, C.TRAVEL_KM,
        C.AGENTS_NEEDED, C.COST_EUR, C.CONTRIBUTION_EUR, C.REVENUE, C.FOLDER, C.NOTE,
    ),
)  # fmt: skip

#: territories.geojson: each feature's properties are its territories.csv row.
TERRITORY_PROPERTIES: tuple[Column, ...] = TERRITORIES.columns
#: routes.geojson: each feature's properties, a subset of its days.csv row.
ROUTE_PROPERTIES: tuple[Column, ...] = (
    C.REP_ID, C.DATE, C.WEEK, C.WEEKDAY, C.DEPART, C.RETURN, C.VISITS, C.TRAVEL_MIN, C.TRAVEL_KM,
)  # fmt: skip


def day_label(week: int | str, weekday: str, date: str = "") -> str:
    """A day as the ``date`` column shows it: the ISO date when known, else ``w1-mon``.

    Parameters
    ----------
    week
        Week of the period, counted from 1.
    weekday
        Three-letter weekday (``mon`` .. ``sun``).
    date
        ISO date of the day, or "" when the period has no start date.
    """
    date = date.strip()
    return date or f"w{week}-{weekday}"
