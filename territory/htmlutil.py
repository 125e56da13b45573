"""Page helpers shared by the maps and the report: labels, escaping, numbers, colours, file names.

Every text that comes from an input file goes through :func:`esc` before it reaches a page.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from typing import Protocol

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
        "travel_source": "travel source",
        "travel_crow": "straight lines x {circuity} at {speed} km/h",
        "travel_snapped": "{n} places snapped to a road (median {median} m, max {max} m)",
        "travel_estimated": "{n} pairs estimated with the straight line",
        "yes": "yes",
        "no": "no",
        "more": "and {n} more (see unscheduled.csv)",
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
        "travel_source": "reistijdenbron",
        "travel_crow": "rechte lijnen x {circuity} bij {speed} km/u",
        "travel_snapped": "{n} adressen aan de weg gekoppeld (mediaan {median} m, max {max} m)",
        "travel_estimated": "{n} paren geschat met de rechte lijn",
        "yes": "ja",
        "no": "nee",
        "more": "en nog {n} (zie unscheduled.csv)",
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
    """A number for display (thin-space thousands, '–' for NaN; Dutch labels use ',')."""
    if not math.isfinite(value):
        return "–"
    return f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", decimal_mark)


class NumberFormat(Protocol):
    """A number formatter bound to a language (see :func:`number_format`)."""

    def __call__(self, value: float, decimals: int = 1) -> str: ...


def number_format(lang: str) -> NumberFormat:
    """:func:`fmt` with the decimal mark of ``lang`` ("4.2" in English, "4,2" in Dutch)."""
    mark = labels(lang)["decimal_mark"]

    def formatted(value: float, decimals: int = 1) -> str:
        return fmt(value, decimals, mark)

    return formatted
