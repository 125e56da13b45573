"""Report stage: report.html from a plan folder (headline figures, workload chart, links).

Also holds what the maps and the report share: reading a plan folder's files
(:func:`load_plan_folder`), the Dutch/English labels and the territory colours. Every text that
comes from an input file is passed through :func:`html.escape` before it reaches the page.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .exceptions import InputError

log = logging.getLogger(__name__)

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
        "not_planned": "not planned",
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
        "unplaced": "Unplaced visits",
        "planned_visits": "Planned visits",
        "overtime_days": "Days with overtime",
        "chart": "Workload per rep (bar) against capacity (line)",
        "maps": "Maps",
        "overview_map": "Overview map",
        "workbook": "Workbook (Excel)",
        "files": "Files",
        "table_territories": "Territories",
        "table_unscheduled": "Visits that could not be planned",
        "reason": "Reason",
        "plan_section": "Visit plan",
        "no_plan": "This folder holds a territory design only (no visit plan yet).",
        "kpis": "All figures from summary.json",
        "inputs": "Inputs",
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
        "not_planned": "niet ingepland",
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
        "unplaced": "Niet ingeplande bezoeken",
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


def number_format(lang: str) -> Callable[..., str]:
    """:func:`fmt` with the decimal mark of ``lang`` ("4.2" in English, "4,2" in Dutch)."""
    mark = labels(lang)["decimal_mark"]

    def formatted(value: float, decimals: int = 1) -> str:
        return fmt(value, decimals, mark)

    return formatted


@dataclass(frozen=True)
class PlanFolder:
    """The files of a plan folder, as rows of text (``None`` when a file is absent)."""

    path: Path
    assignments: list[dict[str, str]]
    territories: list[dict[str, str]]
    schedule: list[dict[str, str]] | None
    days: list[dict[str, str]] | None
    unscheduled: list[dict[str, str]] | None
    territories_geojson: dict | None
    routes_geojson: dict | None
    summary: dict | None

    @property
    def has_plan(self) -> bool:
        """True when the folder holds a visit plan (schedule.csv), not only a design."""
        return self.schedule is not None


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a plan-folder CSV as dicts of text (the writer's own format: comma, UTF-8)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


def load_plan_folder(plan_dir: Path | str) -> PlanFolder:
    """Read the files of a plan folder that exist.

    Raises
    ------
    InputError
        When the folder or its assignments.csv / territories.csv is missing.
    """
    folder = Path(plan_dir)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; give the --out folder of `territory plan`")
    for required in ("assignments.csv", "territories.csv"):
        if not (folder / required).is_file():
            raise InputError(
                f"{folder} has no {required}; run `territory design` or `territory plan` "
                "with --out pointing at this folder first"
            )

    def optional_csv(name: str) -> list[dict[str, str]] | None:
        path = folder / name
        return read_csv(path) if path.is_file() else None

    def optional_json(name: str) -> dict | None:
        path = folder / name
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None

    return PlanFolder(
        path=folder,
        assignments=read_csv(folder / "assignments.csv"),
        territories=read_csv(folder / "territories.csv"),
        schedule=optional_csv("schedule.csv"),
        days=optional_csv("days.csv"),
        unscheduled=optional_csv("unscheduled.csv"),
        territories_geojson=optional_json("territories.geojson"),
        routes_geojson=optional_json("routes.geojson"),
        summary=optional_json("summary.json"),
    )


def headline(folder: PlanFolder) -> dict[str, float]:
    """The headline figures, from the CSVs (summary.json KPIs win where they exist).

    Keys: reps, customers, workload_h, max_deviation, util_min, util_max, connected_share,
    travel_h, travel_km, unplaced, planned_visits, overtime_days (NaN when unknown).
    """
    kpis = (folder.summary or {}).get("kpis", {}) or {}
    work = [num(r.get("workload_hours")) for r in folder.territories]
    util = [num(r.get("utilization")) for r in folder.territories]
    finite_work = [w for w in work if math.isfinite(w)]
    mean_work = sum(finite_work) / len(finite_work) if finite_work else math.nan
    dev = (
        max(abs(w - mean_work) / mean_work for w in finite_work)
        if finite_work and mean_work > 0
        else math.nan
    )
    conn = [r.get("connected", "").strip().lower() for r in folder.territories]
    conn_known = [c for c in conn if c in ("true", "false")]
    connected = sum(c == "true" for c in conn_known) / len(conn_known) if conn_known else math.nan
    if folder.days is not None:
        travel_h = sum(num(d.get("travel_min"), 0.0) for d in folder.days) / 60.0
        travel_km = sum(num(d.get("travel_km"), 0.0) for d in folder.days)
        overtime = float(sum(num(d.get("overtime_min"), 0.0) > 0 for d in folder.days))
    else:
        travel_h = sum(num(r.get("travel_hours"), 0.0) for r in folder.territories)
        travel_km = sum(num(r.get("travel_km"), 0.0) for r in folder.territories)
        overtime = math.nan
    out = {
        "reps": float(len(folder.territories)),
        "customers": float(len(folder.assignments)),
        "workload_h": sum(finite_work) if finite_work else math.nan,
        # a plan folder is judged on routed workload, a design folder on the estimate
        "max_deviation": num(
            kpis.get("max_routed_deviation", kpis.get("max_workload_deviation")), dev
        ),
        "util_min": min((u for u in util if math.isfinite(u)), default=math.nan),
        "util_max": max((u for u in util if math.isfinite(u)), default=math.nan),
        "connected_share": num(kpis.get("connected_share"), connected),
        "travel_h": travel_h,
        "travel_km": travel_km,
        "unplaced": float(len(folder.unscheduled)) if folder.unscheduled is not None else math.nan,
        "planned_visits": float(len(folder.schedule)) if folder.schedule is not None else math.nan,
        "overtime_days": overtime,
    }
    return out


def workload_chart_svg(folder: PlanFolder, lang: str = "en") -> str:
    """An inline SVG bar chart: workload hours per rep, capacity as a tick, utilisation label."""
    lab = labels(lang)
    fmt = number_format(lang)
    rows = folder.territories
    bar_h, gap, left, right, top = 18, 6, 170, 140, 8
    width = 720
    height = top * 2 + len(rows) * (bar_h + gap)
    values = [(num(r.get("workload_hours"), 0.0), num(r.get("capacity_hours"), 0.0)) for r in rows]
    scale_max = max([max(w, c) for w, c in values] + [1.0])
    plot_w = width - left - right
    parts = [
        f'<svg class="chart" role="img" aria-label="{esc(lab["chart"])}" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (row, (work, cap)) in enumerate(zip(rows, values, strict=True)):
        y = top + i * (bar_h + gap)
        w_px = plot_w * work / scale_max
        c_px = left + plot_w * cap / scale_max
        util = num(row.get("utilization"))
        name = row.get("rep_name", "") or ""
        label = row.get("rep_id", "") + (f" · {name}" if name else "")
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_h * 0.72:.1f}" text-anchor="end" '
            f'font-size="12">{esc(label[:28])}</text>'
            f'<rect x="{left}" y="{y}" width="{w_px:.1f}" height="{bar_h}" '
            f'fill="{rep_color(i)}"><title>{esc(label)}: {fmt(work)} {lab["hours"]}</title></rect>'
            f'<line x1="{c_px:.1f}" x2="{c_px:.1f}" y1="{y - 2}" y2="{y + bar_h + 2}" '
            f'stroke="#222" stroke-width="2"/>'
            f'<text x="{left + max(w_px, c_px - left) + 6:.1f}" y="{y + bar_h * 0.72:.1f}" '
            f'font-size="12">{fmt(work)} {lab["hours"]}'
            f"{f' ({fmt(util * 100, 0)} %)' if math.isfinite(util) else ''}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:960px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.75rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;background:#fafafa}
.card .v{font-size:1.4rem;font-weight:600}.card .k{font-size:.85rem;color:#555}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}th,td{border-bottom:1px solid #eee;padding:.25rem .6rem;text-align:left}
td.n,th.n{text-align:right}.sw{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.3em}
"""


def write_report(
    folder: PlanFolder, *, lang: str = "en", rep_files: dict[str, str] | None = None
) -> Path:
    """Write ``report.html`` into the plan folder.

    Parameters
    ----------
    folder
        The plan folder as read by :func:`load_plan_folder`.
    lang
        "en" or "nl" (labels only; file and column names never change).
    rep_files
        rep_id -> file name under ``reps/`` of the per-rep maps to link to.

    Returns
    -------
    Path
        The report's path.
    """
    lab = labels(lang)
    fmt = number_format(lang)
    fig = headline(folder)
    rep_files = rep_files or {}
    title = lab["report_title"]

    def card(key: str, value: str) -> str:
        return f'<div class="card"><div class="v">{value}</div><div class="k">{esc(lab[key])}</div></div>'

    pct = "\u202f%"
    cards = [
        card("reps", fmt(fig["reps"], 0)),
        card("customers", fmt(fig["customers"], 0)),
        card("total_workload", f"{fmt(fig['workload_h'])} {lab['hours']}"),
        card("balance", f"±{fmt(fig['max_deviation'] * 100)}{pct}"),
        card(
            "utilization_range",
            f"{fmt(fig['util_min'] * 100, 0)}–{fmt(fig['util_max'] * 100, 0)}{pct}",
        ),
        card("connected", f"{fmt(fig['connected_share'] * 100, 0)}{pct}"),
        card("travel_hours", f"{fmt(fig['travel_h'])} {lab['hours']}"),
        card("travel_km", f"{fmt(fig['travel_km'], 0)} {lab['km']}"),
    ]
    if folder.has_plan:
        cards += [
            card("planned_visits", fmt(fig["planned_visits"], 0)),
            card("unplaced", fmt(fig["unplaced"], 0) if math.isfinite(fig["unplaced"]) else "0"),
            card("overtime_days", fmt(fig["overtime_days"], 0)),
        ]

    links = [f'<li><a href="map.html">{esc(lab["overview_map"])}</a></li>']
    for row in folder.territories:
        rid = row.get("rep_id", "")
        if rid in rep_files:
            name = row.get("rep_name", "")
            links.append(
                f'<li><a href="reps/{esc(quote(rep_files[rid]))}">{esc(rid)}'
                f"{' · ' + esc(name) if name else ''}</a></li>"
            )
    files = ["plan.xlsx", "assignments.csv", "territories.csv", "schedule.csv", "days.csv",
             "unscheduled.csv", "territories.geojson", "routes.geojson", "summary.json"]  # fmt: skip
    file_links = " · ".join(
        f'<a href="{f}">{f}</a>' for f in files if (folder.path / f).is_file() or f == "plan.xlsx"
    )

    head = ["rep", "name", "customers", "visits", "workload", "capacity", "utilization", "travel", "km", "connected"]  # fmt: skip
    trows = []
    for i, r in enumerate(folder.territories):
        conn = r.get("connected", "").strip().lower()
        trows.append(
            "<tr>"
            f'<td><span class="sw" style="background:{rep_color(i)}"></span>{esc(r.get("rep_id", ""))}</td>'
            f"<td>{esc(r.get('rep_name', ''))}</td>"
            f'<td class="n">{fmt(num(r.get("customers")), 0)}</td>'
            f'<td class="n">{fmt(num(r.get("visits")), 0)}</td>'
            f'<td class="n">{fmt(num(r.get("workload_hours")))}</td>'
            f'<td class="n">{fmt(num(r.get("capacity_hours")))}</td>'
            f'<td class="n">{fmt(num(r.get("utilization")) * 100, 0)}{pct}</td>'
            f'<td class="n">{fmt(num(r.get("travel_hours")))}</td>'
            f'<td class="n">{fmt(num(r.get("travel_km")), 0)}</td>'
            f"<td>{esc(lab['yes'] if conn == 'true' else lab['no'] if conn == 'false' else '–')}</td>"
            "</tr>"
        )
    head_labels = {"name": lab["name"], "km": lab["km"], "travel": lab["travel"] + f" ({lab['hours']})",
                   "workload": lab["workload"] + f" ({lab['hours']})",
                   "capacity": lab["capacity"] + f" ({lab['hours']})"}  # fmt: skip
    thead = "".join(
        f'<th class="{"n" if k not in ("rep", "name", "connected") else ""}">'
        f"{esc(head_labels.get(k, lab.get(k, k)))}</th>"
        for k in head
    )

    plan_html = f"<p>{esc(lab['no_plan'])}</p>"
    if folder.has_plan:
        plan_html = ""
        unsched = folder.unscheduled or []
        if unsched:
            shown = unsched[:100]
            rows_u = "".join(
                f"<tr><td>{esc(u.get('customer_id', ''))}</td><td>{esc(u.get('customer_name', ''))}</td>"
                f"<td>{esc(u.get('rep_id', ''))}</td><td>{esc(u.get('reason', ''))}</td></tr>"
                for u in shown
            )
            more = (
                f"<p>{esc(lab['more'].format(n=len(unsched) - len(shown)))}</p>"
                if len(unsched) > len(shown)
                else ""
            )
            plan_html += (
                f"<h3>{esc(lab['table_unscheduled'])}</h3><table><tr><th>{esc(lab['id'])}</th>"
                f"<th>{esc(lab['name'])}</th><th>{esc(lab['rep'])}</th><th>{esc(lab['reason'])}</th></tr>"
                f"{rows_u}</table>{more}"
            )
        else:
            plan_html += f"<p>{esc(lab['unplaced'])}: 0</p>"

    summary = folder.summary or {}
    kpis = summary.get("kpis", {}) or {}
    kpi_rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(_kpi_text(v))}</td></tr>" for k, v in sorted(kpis.items())
    )
    inputs = summary.get("inputs", {}) or {}
    input_rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc((v or {}).get('path', '') if isinstance(v, dict) else v)}</td>"
        f"<td><code>{esc(((v or {}).get('sha256', '') if isinstance(v, dict) else '')[:16])}</code></td></tr>"
        for k, v in sorted(inputs.items())
    )

    kpi_title, input_title = esc(lab["kpis"]), esc(lab["inputs"])
    kpi_html = f"<h2>{kpi_title}</h2><table>{kpi_rows}</table>" if kpi_rows else ""
    input_html = f"<h2>{input_title}</h2><table>{input_rows}</table>" if input_rows else ""
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
<h2>{esc(lab["headline"])}</h2>
<div class="cards">{"".join(cards)}</div>
<h2>{esc(lab["chart"])}</h2>
{workload_chart_svg(folder, lang)}
<h2>{esc(lab["maps"])}</h2>
<ul>{"".join(links)}</ul>
<p>{esc(lab["files"])}: {file_links}</p>
<h2>{esc(lab["table_territories"])}</h2>
<table><tr>{thead}</tr>{"".join(trows)}</table>
<h2>{esc(lab["plan_section"])}</h2>
{plan_html}
{kpi_html}
{input_html}
</body></html>
"""
    out = folder.path / "report.html"
    _write_text_atomic(out, page)
    return out


def _kpi_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)[:300]
    return str(value)


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
