"""Page helpers shared by the maps and the report: labels, escaping, numbers, colours, file names.

Every text that comes from an input file goes through :func:`esc` before it reaches a page.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from typing import Protocol

from .columns import Column
from .exceptions import InputError

# Distinct colours (Tableau 10, then its lighter companions): territories next to each other
# mostly get different hues; past 20 territories colours repeat with another marker outline.
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "decimal_mark": ".",
        "overview_title": "Territories",
        "rep_title": "Visit plan of {rep}",
        "report_title": "Territory plan report",
        "territories": "Territory areas",
        "routes": "Day routes",
        "homes": "Rep homes",
        "customer": "Customer",
        "id": "Id",
        "name": "Name",
        "class": "Class",
        "visits": "Visits per period",
        "visits_short": "Visits",
        "rep": "Rep",
        "visit_days": "Visit days",
        "workload": "Workload",
        "capacity": "Capacity",
        "utilization": "Utilisation",
        "travel": "Travel",
        "customers": "Customers",
        "home": "Home",
        "depart": "Depart",
        "return": "Back home",
        "arrival": "Arrival",
        "stop": "Stop",
        "day": "Day",
        "days": "Days",
        "all_days": "all",
        "hours": "h",
        "km": "km",
        "marker_size": "Marker size = class",
        "unscheduled": "unscheduled",
        "way_home": "way home",
        "legend_rep_map": "rep map",
        "headline": "Headline figures",
        "reps": "Reps",
        "total_workload": "Total workload",
        "balance": "Workload balance (largest deviation from the mean)",
        "utilization_range": "Utilisation range",
        "connected": "Connected territories",
        "travel_hours": "Travel time",
        "travel_km": "Travel distance",
        "unscheduled_visits": "Unscheduled visits",
        "planned_visits": "Planned visits",
        "overtime_days": "Days with overtime",
        "chart": "Workload per rep (bar) against capacity (line)",
        "maps": "Maps",
        "overview_map": "Overview map",
        "workbook": "Workbook (Excel)",
        "files": "Files",
        "table_territories": "Territories",
        "table_unscheduled": "Visits that could not be scheduled",
        "reason": "Reason",
        "plan_section": "Visit plan",
        "no_plan": "This folder holds a territory design only (no visit plan yet).",
        "kpis": "All figures from summary.json",
        "inputs": "Inputs",
        "yes": "yes",
        "no": "no",
        "more": "and {n} more (see unscheduled.csv)",
        # rep pages and print sheets
        "legend": "Legend",
        "day_list": "Days",
        "show_all_days": "Show all days",
        "navigate": "Navigate",
        "maps_link": "Google Maps",
        "address": "Address",
        "opening_hours": "Opening hours",
        "phone": "Phone",
        "visit_window": "Visit",
        "from_time": "from {t}",
        "until_time": "until {t}",
        "lunch": "Lunch",
        "week_n": "Week {n}",
        "print": "Print",
        "print_what": "Print",
        "whole_period": "whole period",
        "print_hint": "Printing gives one page per working day.",
        "print_hint_overview": "Printing gives one page per rep.",
        "no_visits": "No visits on this day.",
        "route_sketch": "Route of the day (sketch, not to scale of roads)",
        "km_total": "Travel distance",
        "period": "Period",
        # report
        "per_rep": "Per rep",
        "rep_pages": "Rep pages (map, day list, printable day sheets)",
        "rep_links": "Pages",
        "rep_page_link": "days & map",
        "notes": "Notes",
        "technical_details": "Technical details",
        "technical_intro": "The raw figures of summary.json, for checking and support.",
        "run": "Run",
        "command": "Command",
        "version": "Version",
        "seed": "Seed",
        "settings": "Settings as used (plan.toml with defaults filled in)",
        "setting": "Setting",
        "value": "Value",
        "figure": "Figure",
        "key": "Key",
        "path": "File",
        "fingerprint": "Fingerprint (SHA-256)",
        "none": "none",
        "travel_note": "Travel times: straight-line distance \u00d7 {circuity} at {speed} km/h.",
        "file_workbook": "all tables in one Excel workbook",
        "file_assignments": "customer \u2192 rep",
        "file_territories": "one row per rep",
        "file_schedule": "one row per visit",
        "file_days": "one row per rep working day",
        "file_unscheduled": "visits that could not be scheduled",
        "file_territories_geojson": "territory areas for GIS",
        "file_routes_geojson": "day routes for GIS",
        "file_summary": "inputs, settings and every figure of the run (JSON)",
        "file_edit": "move customers between reps by hand (territory edit)",
        # holidays, appointments, calendars and re-planning
        "calendar_link": "Calendar (.ics)",
        "file_changes": "visits the re-plan moved, added or dropped, with the reason",
        "changes_title": "Changes of the re-plan",
        "changes_intro": "{n} visits changed day or rep, were added or dropped; {kept} of {old} "
        "future visits kept their day and rep.",
        "changes_none": "No visit changed day or rep.",
        "changes_more": "… and {n} more rows in changes.csv",
    },
    "nl": {
        "decimal_mark": ",",
        "overview_title": "Rayons",
        "rep_title": "Bezoekplan van {rep}",
        "report_title": "Rapport rayon- en routeplan",
        "territories": "Rayongebieden",
        "routes": "Dagroutes",
        "homes": "Thuisbasis vertegenwoordigers",
        "customer": "Klant",
        "id": "Nummer",
        "name": "Naam",
        "class": "Klasse",
        "visits": "Bezoeken per periode",
        "visits_short": "Bezoeken",
        "rep": "Vertegenwoordiger",
        "visit_days": "Bezoekdagen",
        "workload": "Bewerkingstijd",
        "capacity": "Capaciteit",
        "utilization": "Bezetting",
        "travel": "Reistijd",
        "customers": "Klanten",
        "home": "Thuisbasis",
        "depart": "Vertrek",
        "return": "Terug thuis",
        "arrival": "Aankomst",
        "stop": "Stop",
        "day": "Dag",
        "days": "Dagen",
        "all_days": "alle",
        "hours": "u",
        "km": "km",
        "marker_size": "Grootte stip = klasse",
        "unscheduled": "niet ingepland",
        "way_home": "terugweg",
        "legend_rep_map": "kaart",
        "headline": "Kerncijfers",
        "reps": "Vertegenwoordigers",
        "total_workload": "Totale bewerkingstijd",
        "balance": "Balans bewerkingstijd (grootste afwijking van het gemiddelde)",
        "utilization_range": "Bereik bezetting",
        "connected": "Aaneengesloten rayons",
        "travel_hours": "Reistijd",
        "travel_km": "Reisafstand",
        "unscheduled_visits": "Niet ingeplande bezoeken",
        "planned_visits": "Ingeplande bezoeken",
        "overtime_days": "Dagen met overwerk",
        "chart": "Bewerkingstijd per vertegenwoordiger (balk) tegenover capaciteit (lijn)",
        "maps": "Kaarten",
        "overview_map": "Overzichtskaart",
        "workbook": "Werkmap (Excel)",
        "files": "Bestanden",
        "table_territories": "Rayons",
        "table_unscheduled": "Bezoeken die niet ingepland konden worden",
        "reason": "Reden",
        "plan_section": "Bezoekplan",
        "no_plan": "Deze map bevat alleen een rayonindeling (nog geen bezoekplan).",
        "kpis": "Alle cijfers uit summary.json",
        "inputs": "Invoer",
        "yes": "ja",
        "no": "nee",
        "more": "en nog {n} (zie unscheduled.csv)",
        # rep pages and print sheets
        "legend": "Legenda",
        "day_list": "Dagen",
        "show_all_days": "Alle dagen tonen",
        "navigate": "Navigeer",
        "maps_link": "Google Maps",
        "address": "Adres",
        "opening_hours": "Openingstijden",
        "phone": "Telefoon",
        "visit_window": "Bezoek",
        "from_time": "vanaf {t}",
        "until_time": "tot {t}",
        "lunch": "Lunch",
        "week_n": "Week {n}",
        "print": "Afdrukken",
        "print_what": "Afdrukken",
        "whole_period": "hele periode",
        "print_hint": "Afdrukken geeft een pagina per werkdag.",
        "print_hint_overview": "Afdrukken geeft een pagina per vertegenwoordiger.",
        "no_visits": "Geen bezoeken op deze dag.",
        "route_sketch": "Route van de dag (schets, niet op schaal van de wegen)",
        "km_total": "Reisafstand",
        "period": "Periode",
        # report
        "per_rep": "Per vertegenwoordiger",
        "rep_pages": "Pagina's per vertegenwoordiger (kaart, dagenlijst, dagbladen om af te drukken)",
        "rep_links": "Pagina's",
        "rep_page_link": "dagen & kaart",
        "notes": "Opmerkingen",
        "technical_details": "Technische details",
        "technical_intro": "De ruwe cijfers uit summary.json, voor controle en ondersteuning.",
        "run": "Berekening",
        "command": "Opdracht",
        "version": "Versie",
        "seed": "Startwaarde toeval (seed)",
        "settings": "Gebruikte instellingen (plan.toml, aangevuld met standaardwaarden)",
        "setting": "Instelling",
        "value": "Waarde",
        "figure": "Cijfer",
        "key": "Sleutel",
        "path": "Bestand",
        "fingerprint": "Vingerafdruk (SHA-256)",
        "none": "geen",
        "travel_note": "Reistijden: hemelsbrede afstand \u00d7 {circuity} bij {speed} km/u.",
        "file_workbook": "alle tabellen in een Excel-werkmap",
        "file_assignments": "klant \u2192 vertegenwoordiger",
        "file_territories": "een regel per vertegenwoordiger",
        "file_schedule": "een regel per bezoek",
        "file_days": "een regel per werkdag van een vertegenwoordiger",
        "file_unscheduled": "bezoeken die niet ingepland konden worden",
        "file_territories_geojson": "rayongebieden voor GIS",
        "file_routes_geojson": "dagroutes voor GIS",
        "file_summary": "invoer, instellingen en alle cijfers van de berekening (JSON)",
        "file_edit": "klanten met de hand naar een andere vertegenwoordiger verplaatsen (territory edit)",
        # feestdagen, afspraken, agenda's en herplannen
        "calendar_link": "Agenda (.ics)",
        "file_changes": "bezoeken die de herplanning verplaatste, toevoegde of liet vervallen, met de reden",
        "changes_title": "Wijzigingen van de herplanning",
        "changes_intro": "{n} bezoeken kregen een andere dag of vertegenwoordiger, kwamen erbij of "
        "vervielen; {kept} van {old} toekomstige bezoeken bleven op hun dag.",
        "changes_none": "Geen bezoek kreeg een andere dag of vertegenwoordiger.",
        "changes_more": "… en nog {n} regels in changes.csv",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The label set for ``lang`` ("en" or "nl").

    Raises
    ------
    InputError
        For another language.
    """
    if lang not in LABELS:
        raise InputError(f"language '{lang}' is not supported; use one of: {', '.join(LABELS)}")
    return LABELS[lang]


def rep_color(index: int) -> str:
    """The colour of territory ``index`` (cycles through :data:`PALETTE`)."""
    return PALETTE[index % len(PALETTE)]


def script_json(value: object) -> str:
    """JSON that is safe inside a <script> element (cannot close it or open a comment)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def esc(value: object) -> str:
    """HTML-escape any value from an input file (quotes included)."""
    return html.escape(str(value), quote=True)


def rep_file_name(rep_id: str) -> str:
    """A safe, unique file name for a rep's map: ``reps/<this>.html``.

    Ids made of letters, digits, ``.``, ``_`` and ``-`` are kept as they are; any other id is
    reduced to those characters and given a short hash of the original, so two ids never
    share a file and no id can climb out of the folder.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", rep_id).strip("._")[:60]
    if safe == rep_id and safe:
        return safe + ".html"
    digest = hashlib.sha1(rep_id.encode("utf-8")).hexdigest()[:8]
    return f"{safe or 'rep'}-{digest}.html"


def num(value: object, default: float = math.nan) -> float:
    """A CSV cell as a float (``default`` when empty or not a number)."""
    try:
        out = float(str(value).strip())
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def fmt(value: float, decimals: int = 1, decimal_mark: str = ".") -> str:
    """A number for display, '–' for NaN.

    The thousands separator follows the decimal mark: ``15,492.5`` with ``"."`` (English),
    ``15.492,5`` with ``","`` (Dutch). Pages call it through :func:`number_format`.
    """
    if not math.isfinite(value):
        return "–"
    thousands = "." if decimal_mark == "," else ","
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0.0"
    return text.replace(",", "\0").replace(".", decimal_mark).replace("\0", thousands)


class NumberFormat(Protocol):
    """A number formatter bound to a language (see :func:`number_format`)."""

    def __call__(self, value: float, decimals: int = 1) -> str: ...


def number_format(lang: str) -> NumberFormat:
    """:func:`fmt` in ``lang``: ``15,492.5`` in English, ``15.492,5`` in Dutch."""
    mark = labels(lang)["decimal_mark"]

    def formatted(value: float, decimals: int = 1) -> str:
        return fmt(value, decimals, mark)

    return formatted


#: A narrow no-break space: between a number and its unit ("77 %", "15,492 km").
NNBSP = "\u202f"

#: How each unit of :class:`territory.columns.Column` (and of summary.json's figures) is shown:
#: symbol per language, decimals by default, and whether the symbol comes first.
_UNITS: dict[str, tuple[dict[str, str], int, bool]] = {
    "km": ({"en": "km", "nl": "km"}, 0, False),
    "h": ({"en": "h", "nl": "u"}, 1, False),
    "min": ({"en": "min", "nl": "min"}, 0, False),
    "s": ({"en": "s", "nl": "s"}, 1, False),
    "EUR": ({"en": "€", "nl": "€"}, 0, True),
    "share": ({"en": "%", "nl": "%"}, 0, False),
    "": ({"en": "", "nl": ""}, 0, False),
}


def quantity(value: object, unit: str, lang: str, decimals: int | None = None) -> str:
    """A figure with its unit, formatted for ``lang``: ``15,492 km``, ``745,7 u``, ``77 %``.

    Parameters
    ----------
    value
        A number or a CSV cell (text); empty or not a number gives ``–``.
    unit
        One of the schema's units: ``km``, ``h``, ``min``, ``s``, ``EUR``, ``share`` (a fraction,
        shown as a percentage), or ``""`` for a count.
    lang
        "en" or "nl".
    decimals
        Decimals to show (the unit's default when None: 0 for km, min, EUR, % and counts, 1 for h).
    """
    x = num(value)
    symbols, default_decimals, before = _UNITS.get(unit, ({"en": unit, "nl": unit}, 1, False))
    if not math.isfinite(x):
        return "–"
    if unit == "share":
        x *= 100
    text = fmt(x, default_decimals if decimals is None else decimals, labels(lang)["decimal_mark"])
    symbol = symbols.get(lang, symbols["en"])
    if not symbol:
        return text
    return f"{symbol}{NNBSP}{text}" if before else f"{text}{NNBSP}{symbol}"


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("Mon", "Monday"), ("Tue", "Tuesday"), ("Wed", "Wednesday"), ("Thu", "Thursday"),
        ("Fri", "Friday"), ("Sat", "Saturday"), ("Sun", "Sunday"),
    ),
    "nl": (
        ("ma", "maandag"), ("di", "dinsdag"), ("wo", "woensdag"), ("do", "donderdag"),
        ("vr", "vrijdag"), ("za", "zaterdag"), ("zo", "zondag"),
    ),
}  # fmt: skip
_MONTH_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("Jan", "January"), ("Feb", "February"), ("Mar", "March"), ("Apr", "April"),
        ("May", "May"), ("Jun", "June"), ("Jul", "July"), ("Aug", "August"),
        ("Sep", "September"), ("Oct", "October"), ("Nov", "November"), ("Dec", "December"),
    ),
    "nl": (
        ("jan", "januari"), ("feb", "februari"), ("mrt", "maart"), ("apr", "april"),
        ("mei", "mei"), ("jun", "juni"), ("jul", "juli"), ("aug", "augustus"),
        ("sep", "september"), ("okt", "oktober"), ("nov", "november"), ("dec", "december"),
    ),
}  # fmt: skip


def weekday_name(weekday: str, lang: str, *, long: bool = False) -> str:
    """``mon`` as ``Mon``/``Monday`` (English) or ``ma``/``maandag`` (Dutch); unknown as given."""
    key = weekday.strip().lower()[:3]
    if key not in _WEEKDAYS:
        return weekday
    return _DAY_NAMES[lang][_WEEKDAYS.index(key)][1 if long else 0]


def date_text(date: str, weekday: str, week: object, lang: str, *, long: bool = False) -> str:
    """A working day as people read it.

    With an ISO date: ``Mon 4 Jan`` / ``ma 4 jan`` (``long``: ``Monday 4 January 2027`` /
    ``maandag 4 januari 2027``). Without one (a period with no start date, ``date`` such as
    ``w1-mon``): ``Week 1 · Mon`` (``long``: ``Week 1 · Monday``).
    """
    date = date.strip()
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date)
    if match and 1 <= int(match.group(2)) <= 12:
        year, month, day = (int(g) for g in match.groups())
        wd = weekday_name(weekday, lang, long=long)
        month_name = _MONTH_NAMES[lang][month - 1][1 if long else 0]
        return f"{wd} {day} {month_name} {year}" if long else f"{wd} {day} {month_name}"
    week_text = labels(lang)["week_n"].format(n=str(week).strip() or "?")
    return f"{week_text} · {weekday_name(weekday, lang, long=long)}"


#: summary.json's KPIs as people read them: key -> (English, Dutch, unit). A key missing here
#: is shown by its name, with a unit read from its suffix (see :func:`kpi_unit`).
KPI_LABELS: dict[str, tuple[str, str, str]] = {
    "max_workload_deviation": (
        "Largest workload deviation (design)", "Grootste afwijking bewerkingstijd (indeling)",
        "share",
    ),
    "connected_share": ("Connected territories", "Aaneengesloten rayons", "share"),
    "territories_connected": ("Territories in one piece", "Rayons uit een stuk", ""),
    "moved": ("Customers moved to another rep", "Klanten naar een andere vertegenwoordiger", ""),
    "objective": ("Compactness (design objective)", "Compactheid (doelfunctie indeling)", "x"),
    "lower_bound": ("Lower bound of the objective", "Ondergrens van de doelfunctie", "x"),
    "objective_ratio": ("Objective / lower bound", "Doelfunctie / ondergrens", "x"),
    "infeasible_notes": ("Notes on infeasible demands", "Opmerkingen over onhaalbare eisen", ""),
    "customers": ("Customers", "Klanten", ""),
    "territories": ("Territories", "Rayons", ""),
    "located_by_town": (
        "Customers located at a town centre", "Klanten geplaatst op het centrum van hun plaats", "",
    ),
    "workload_hours_total": ("Total workload (estimate)", "Totale bewerkingstijd (schatting)", "h"),
    "notes": ("Notes", "Opmerkingen", ""),
    "visits": ("Visits in the period", "Bezoeken in de periode", ""),
    "visits_planned": ("Planned visits", "Ingeplande bezoeken", ""),
    "visits_unscheduled": ("Unscheduled visits", "Niet ingeplande bezoeken", ""),
    "customers_unscheduled": (
        "Customers with an unscheduled visit", "Klanten met een niet ingepland bezoek", "",
    ),
    "working_days_used": ("Working days with visits", "Werkdagen met bezoeken", ""),
    "visit_min": ("Time at customers", "Tijd bij klanten", "min"),
    "travel_min": ("Travel time", "Reistijd", "min"),
    "travel_km": ("Travel distance", "Reisafstand", "km"),
    "admin_min": ("Admin time", "Administratietijd", "min"),
    "routed_workload_min": ("Workload per rep (routed)", "Bewerkingstijd per vertegenwoordiger", "min"),
    "routed_travel_min": ("Travel time per rep", "Reistijd per vertegenwoordiger", "min"),
    "routed_travel_km": ("Travel distance per rep", "Reisafstand per vertegenwoordiger", "km"),
    "capacity_min": ("Capacity per rep", "Capaciteit per vertegenwoordiger", "min"),
    "routed_deviation": (
        "Deviation from target per rep", "Afwijking van het doel per vertegenwoordiger", "share",
    ),
    "max_routed_deviation_before": (
        "Largest deviation before rebalancing", "Grootste afwijking voor het herverdelen", "share",
    ),
    "max_routed_deviation": ("Largest deviation (routed)", "Grootste afwijking (gerouteerd)", "share"),
    "rebalance_rounds": ("Rebalancing rounds", "Herverdelingsrondes", ""),
    "rebalance_moved": ("Customers moved while rebalancing", "Klanten verplaatst bij herverdelen", ""),
    "reps_needed_exact": ("Reps needed (exact)", "Benodigde vertegenwoordigers (exact)", "x"),
    "reps_needed": ("Reps needed", "Benodigde vertegenwoordigers", ""),
    "utilization_min": ("Lowest utilisation", "Laagste bezetting", "share"),
    "utilization_max": ("Highest utilisation", "Hoogste bezetting", "share"),
    "economics": ("Economics per year (EUR)", "Rendement per jaar (EUR)", ""),
    "telesales": ("Inside sales (telesales)", "Binnendienst (telefonische verkoop)", ""),
    "phone_customers": ("Customers served by phone", "Telefonisch bediende klanten", ""),
    "scenario": ("Scenario", "Scenario", ""),
    "scenario_note": ("What the scenario changed", "Wat het scenario veranderde", ""),
}  # fmt: skip


def plain_header(column: Column, lang: str) -> str:
    """A column's header without a unit in brackets, for cells that show their unit.

    ``Travel (km)`` becomes ``Travel`` beside ``3,355 km``; ``Workload hours`` stays as it is.
    """
    return re.sub(r"\s*\([^)]*\)$", "", column.header(lang))


def kpi_label(key: str, lang: str) -> str:
    """A summary.json KPI's name for people (its key when this module does not know it)."""
    known = KPI_LABELS.get(key)
    return (known[1] if lang == "nl" else known[0]) if known else key


def kpi_unit(key: str) -> str:
    """The unit of a summary.json KPI: from :data:`KPI_LABELS`, else from its name's suffix.

    ``"x"`` is a plain ratio or score (shown with decimals, no unit); ``""`` a count.
    """
    if key in KPI_LABELS:
        return KPI_LABELS[key][2]
    for suffix, unit in (("_km", "km"), ("_min", "min"), ("_hours", "h"), ("_h", "h"), ("_s", "s")):
        if key.endswith(suffix) or f"{suffix}_" in key:
            return unit
    if any(word in key for word in ("share", "deviation", "utilization", "utilisation")):
        return "share"
    return "x"
