"""Report stage: report.html from a plan folder (headline figures, workload chart, links).

Also reads a plan folder's files for the maps and the report (:func:`load_plan_folder`); the
labels, colours and escaping both pages use are in :mod:`territory.htmlutil`. Every text that
comes from an input file is passed through :func:`~territory.htmlutil.esc` before it reaches
the page.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .calendars import CALENDAR_DIR, calendar_file_name
from .changes import changes_html
from .columns import Column as C
from .exceptions import InputError
from .htmlutil import (
    esc,
    kpi_label,
    kpi_unit,
    labels,
    num,
    number_format,
    plain_header,
    quantity,
    rep_color,
)
from .report import write_text
from .reporteconomics import economics_html, section_title, telesales_html

log = logging.getLogger(__name__)


#: A JSON document read from the plan folder (territories.geojson, routes.geojson, summary.json).
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class PlanFolder:
    """The files of a plan folder, as rows of text (``None`` when a file is absent)."""

    path: Path
    assignments: list[dict[str, str]]
    territories: list[dict[str, str]]
    schedule: list[dict[str, str]] | None
    days: list[dict[str, str]] | None
    unscheduled: list[dict[str, str]] | None
    territories_geojson: JsonObject | None
    routes_geojson: JsonObject | None
    summary: JsonObject | None

    @property
    def has_plan(self) -> bool:
        """True when the folder holds a visit plan (schedule.csv), not only a design."""
        return self.schedule is not None


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a plan-folder CSV as dicts of text (the writer's own format: comma, UTF-8)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


def _read_json(path: Path) -> JsonObject | None:
    """A JSON object from the plan folder (None when the file is absent).

    Raises
    ------
    InputError
        When the file is not valid JSON or not a JSON object.
    """
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} holds a JSON {type(data).__name__}, not an object")
    return data


def load_plan_folder(plan_dir: Path | str) -> PlanFolder:
    """Read the files of a plan folder that exist.

    Raises
    ------
    InputError
        When the folder or its assignments.csv / territories.csv is missing, or a JSON file is
        not a JSON object.
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

    return PlanFolder(
        path=folder,
        assignments=read_csv(folder / "assignments.csv"),
        territories=read_csv(folder / "territories.csv"),
        schedule=optional_csv("schedule.csv"),
        days=optional_csv("days.csv"),
        unscheduled=optional_csv("unscheduled.csv"),
        territories_geojson=_read_json(folder / "territories.geojson"),
        routes_geojson=_read_json(folder / "routes.geojson"),
        summary=_read_json(folder / "summary.json"),
    )


def _kpis(folder: PlanFolder) -> dict[str, Any]:
    """The KPIs of summary.json ({} when the folder has none)."""
    kpis = (folder.summary or {}).get("kpis", {}) or {}
    return kpis if isinstance(kpis, dict) else {}


def headline(folder: PlanFolder) -> dict[str, float]:
    """The headline figures, from the CSVs (summary.json KPIs win where they exist).

    Keys: reps, customers, workload_h, max_deviation, util_min, util_max, connected_share,
    travel_h, travel_km, unscheduled, planned_visits, overtime_days (NaN when unknown).
    """
    kpis = _kpis(folder)
    work = [num(r.get(C.WORKLOAD_HOURS)) for r in folder.territories]
    util = [num(r.get(C.UTILIZATION)) for r in folder.territories]
    finite_work = [w for w in work if math.isfinite(w)]
    mean_work = sum(finite_work) / len(finite_work) if finite_work else math.nan
    dev = (
        max(abs(w - mean_work) / mean_work for w in finite_work)
        if finite_work and mean_work > 0
        else math.nan
    )
    conn = [r.get(C.CONNECTED, "").strip().lower() for r in folder.territories]
    conn_known = [c for c in conn if c in ("true", "false")]
    connected = sum(c == "true" for c in conn_known) / len(conn_known) if conn_known else math.nan
    if folder.days is not None:
        travel_h = sum(num(d.get(C.TRAVEL_MIN), 0.0) for d in folder.days) / 60.0
        travel_km = sum(num(d.get(C.TRAVEL_KM), 0.0) for d in folder.days)
        overtime = float(sum(num(d.get(C.OVERTIME_MIN), 0.0) > 0 for d in folder.days))
    else:
        travel_h = sum(num(r.get(C.TRAVEL_HOURS), 0.0) for r in folder.territories)
        travel_km = sum(num(r.get(C.TRAVEL_KM), 0.0) for r in folder.territories)
        overtime = math.nan
    return {
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
        "unscheduled": (
            float(len(folder.unscheduled)) if folder.unscheduled is not None else math.nan
        ),
        "planned_visits": float(len(folder.schedule)) if folder.schedule is not None else math.nan,
        "overtime_days": overtime,
    }


def _rep_label(row: dict[str, str]) -> str:
    """'R1 · Anna' (the rep's id, and name when known) from a territories.csv row."""
    name = row.get(C.REP_NAME, "") or ""
    return row.get(C.REP_ID, "") + (f" · {name}" if name else "")


def workload_chart_svg(folder: PlanFolder, lang: str = "en") -> str:
    """An inline SVG bar chart: workload hours per rep, capacity as a tick, utilisation label."""
    lab = labels(lang)
    fmt = number_format(lang)
    rows = folder.territories
    bar_h, gap, left, right, top = 18, 6, 170, 140, 8
    width = 720
    height = top * 2 + len(rows) * (bar_h + gap)
    values = [(num(r.get(C.WORKLOAD_HOURS), 0.0), num(r.get(C.CAPACITY_HOURS), 0.0)) for r in rows]
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
        util = num(row.get(C.UTILIZATION))
        label = _rep_label(row)
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
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin:.2rem 0 .6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1rem}
nav.top{display:flex;flex-wrap:wrap;gap:.25rem .5rem}
nav.top a{display:inline-flex;align-items:center;min-height:40px;padding:0 .6rem;border:1px solid #c8d0d8;border-radius:6px;text-decoration:none;color:#0645ad;background:#f6f8fa}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.75rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;background:#fafafa}
.card .v{font-size:1.4rem;font-weight:600}.card .k{font-size:.85rem;color:#555}
.notes{color:#444;font-size:.9rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}th,td{border-bottom:1px solid #eee;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{font-weight:600;border-bottom:1.5px solid #bbb}
td.n,th.n{text-align:right}td.n{white-space:nowrap}.sw{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.3em}
ul.files li{margin:.2rem 0}code{font-size:.85em;overflow-wrap:anywhere}
details.tech{margin-top:2rem;border-top:1px solid #ddd}details.tech>summary{min-height:44px;display:flex;align-items:center;font-size:1.2rem;font-weight:600;cursor:pointer}
details.tech td{overflow-wrap:anywhere}
@media print{nav.top{display:none}details.tech{display:none}}
"""


@dataclass(frozen=True)
class ReportContext:
    """What a section of the report may use: the folder, the language and its labels."""

    folder: PlanFolder
    lang: str
    lab: dict[str, str]
    #: rep_id -> file name of the rep's page under ``reps/``
    rep_files: dict[str, str]


@dataclass(frozen=True)
class ReportSection:
    """One section of report.html: its anchor, its heading and its body (escaped HTML)."""

    key: str
    title: str
    body_html: str


#: A report section: built from the context, or None when it has nothing to show (a file that
#: the folder does not hold, say).
SectionBuilder = Callable[[ReportContext], ReportSection | None]


def _quantity(ctx: ReportContext, value: object, unit: str, decimals: int | None = None) -> str:
    return quantity(value, unit, ctx.lang, decimals)


def _cards(ctx: ReportContext) -> str:
    """The headline figures as cards, each with its unit."""
    lab, folder = ctx.lab, ctx.folder
    fig = headline(folder)
    count = number_format(ctx.lang)

    def card(key: str, value: str) -> str:
        return f'<div class="card"><div class="v">{value}</div><div class="k">{esc(lab[key])}</div></div>'

    spread = f"{count(fig['util_min'] * 100, 0)}–{_quantity(ctx, fig['util_max'], 'share')}"
    cards = [
        card("reps", count(fig["reps"], 0)),
        card("customers", count(fig["customers"], 0)),
        card("total_workload", _quantity(ctx, fig["workload_h"], "h")),
        card("balance", "±" + _quantity(ctx, fig["max_deviation"], "share", 1)),
        card("utilization_range", spread if math.isfinite(fig["util_min"]) else "–"),
        card("connected", _quantity(ctx, fig["connected_share"], "share")),
        card("travel_hours", _quantity(ctx, fig["travel_h"], "h")),
        card("travel_km", _quantity(ctx, fig["travel_km"], "km")),
    ]
    if folder.has_plan:
        unscheduled = fig["unscheduled"]
        cards += [
            card("planned_visits", count(fig["planned_visits"], 0)),
            card(
                "unscheduled_visits", count(unscheduled, 0) if math.isfinite(unscheduled) else "0"
            ),
            card("overtime_days", count(fig["overtime_days"], 0)),
        ]
    return "".join(cards)


def _travel_note(ctx: ReportContext) -> str | None:
    """How travel was estimated, from the run's settings (summary.json's config); with a road
    source, which one answered."""
    about = (ctx.folder.summary or {}).get("travel")
    if isinstance(about, dict) and about.get("source", "crow") != "crow":
        words = TRAVEL_LABELS.get(ctx.lang, TRAVEL_LABELS["en"])
        return words["travel_note_roads"].format(text=_travel_text(about, ctx.lang))
    travel = ((ctx.folder.summary or {}).get("config") or {}).get("travel")
    if not isinstance(travel, dict) or "speed_kmh" not in travel or "circuity" not in travel:
        return None
    count = number_format(ctx.lang)
    return ctx.lab["travel_note"].format(
        circuity=count(num(travel["circuity"]), 2), speed=count(num(travel["speed_kmh"]), 0)
    )


#: One-line notes under the headline figures (each None when it does not apply).
NOTES: tuple[Callable[[ReportContext], str | None], ...] = (_travel_note,)


def headline_section(ctx: ReportContext) -> ReportSection:
    """The headline figures, and the notes that say how to read them."""
    notes = [n for n in (note(ctx) for note in NOTES) if n]
    note_html = "".join(f'<p class="notes">{esc(n)}</p>' for n in notes)
    return ReportSection(
        "headline", ctx.lab["headline"], f'<div class="cards">{_cards(ctx)}</div>{note_html}'
    )


def _rep_page_link(rep_id: str, ctx: ReportContext) -> str | None:
    file_name = ctx.rep_files.get(rep_id)
    return f"reps/{file_name}" if file_name else None


#: Links per rep in the per-rep table: (label key, rep_id -> path in the plan folder or None).
#: A link is shown when its file exists (the rep pages: when they are written).
def _calendar_path(rep_id: str, ctx: ReportContext) -> str | None:
    path = f"{CALENDAR_DIR}/{calendar_file_name(rep_id)}"
    return path if (ctx.folder.path / path).is_file() else None


REP_LINKS: tuple[tuple[str, Callable[[str, ReportContext], str | None]], ...] = (
    ("rep_page_link", _rep_page_link),
    ("calendar_link", _calendar_path),
)

#: The per-rep table's figures: a territories.csv column and the unit its cells show.
PER_REP_COLUMNS: tuple[tuple[C, str], ...] = (
    (C.CUSTOMERS, ""), (C.VISITS, ""), (C.WORKLOAD_HOURS, "h"), (C.CAPACITY_HOURS, "h"),
    (C.UTILIZATION, "share"), (C.DEVIATION, "share"), (C.TRAVEL_HOURS, "h"), (C.TRAVEL_KM, "km"),
    (C.POTENTIAL, "EUR"),
)  # fmt: skip


def _rep_links(rep_id: str, ctx: ReportContext, *, written: bool) -> str:
    links = []
    for key, path_of in REP_LINKS:
        path = path_of(rep_id, ctx)
        if path and (written or (ctx.folder.path / path).is_file()):
            href = "/".join(quote(part) for part in path.split("/"))
            links.append(f'<a class="rep-link" href="{esc(href)}">{esc(ctx.lab[key])}</a>')
    return " ".join(links)


def per_rep_section(ctx: ReportContext) -> ReportSection:
    """One row per rep: the territory's figures, each with its unit, and the rep's pages."""
    lab, folder = ctx.lab, ctx.folder
    head = (
        f"<th>{esc(lab['rep'])}</th>"
        + "".join(
            f'<th class="n">{esc(plain_header(col, ctx.lang))}</th>' for col, _ in PER_REP_COLUMNS
        )
        + f"<th>{esc(C.CONNECTED.header(ctx.lang))}</th><th>{esc(lab['rep_links'])}</th>"
    )
    rows = []
    for i, r in enumerate(folder.territories):
        rid = r.get(C.REP_ID, "")
        cells = "".join(
            f'<td class="n">{_quantity(ctx, r.get(col), unit, 1 if col is C.DEVIATION else None)}</td>'
            for col, unit in PER_REP_COLUMNS
        )
        conn = r.get(C.CONNECTED, "").strip().lower()
        connected = lab["yes"] if conn == "true" else lab["no"] if conn == "false" else "–"
        rows.append(
            f'<tr><td><span class="sw" style="background:{rep_color(i)}"></span>{esc(_rep_label(r))}</td>'
            f"{cells}<td>{esc(connected)}</td>"
            f"<td>{_rep_links(rid, ctx, written=rid in ctx.rep_files)}</td></tr>"
        )
    table = f'<div class="scroll"><table><tr>{head}</tr>{"".join(rows)}</table></div>'
    return ReportSection("reps", lab["per_rep"], table)


def chart_section(ctx: ReportContext) -> ReportSection:
    """Workload per rep against capacity, as a bar chart."""
    return ReportSection("chart", ctx.lab["chart"], workload_chart_svg(ctx.folder, ctx.lang))


def plan_section(ctx: ReportContext) -> ReportSection:
    """The unscheduled visits (the first 100), or a line saying the folder has no plan."""
    lab, folder = ctx.lab, ctx.folder
    if not folder.has_plan:
        return ReportSection("plan", lab["plan_section"], f"<p>{esc(lab['no_plan'])}</p>")
    unscheduled = folder.unscheduled or []
    if not unscheduled:
        return ReportSection(
            "plan", lab["plan_section"], f"<p>{esc(lab['unscheduled_visits'])}: 0</p>"
        )
    shown = unscheduled[:100]
    cols = (C.CUSTOMER_ID, C.CUSTOMER_NAME, C.REP_ID, C.DATE, C.REASON)
    head = "".join(f"<th>{esc(c.header(ctx.lang))}</th>" for c in cols)
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(u.get(c, '') or '')}</td>" for c in cols) + "</tr>"
        for u in shown
    )
    more = (
        f"<p>{esc(lab['more'].format(n=len(unscheduled) - len(shown)))}</p>"
        if len(unscheduled) > len(shown)
        else ""
    )
    body = (
        f"<h3>{esc(lab['table_unscheduled'])}</h3>"
        f'<div class="scroll"><table><tr>{head}</tr>{rows}</table></div>{more}'
    )
    return ReportSection("plan", lab["plan_section"], body)


#: The folder's files listed in the report, with the label key of their description. A file is
#: listed when it exists (plan.xlsx always: it is written right after the report).
FILE_LINKS: tuple[tuple[str, str], ...] = (
    ("plan.xlsx", "file_workbook"),
    ("assignments.csv", "file_assignments"),
    ("territories.csv", "file_territories"),
    ("schedule.csv", "file_schedule"),
    ("days.csv", "file_days"),
    ("unscheduled.csv", "file_unscheduled"),
    ("territories.geojson", "file_territories_geojson"),
    ("routes.geojson", "file_routes_geojson"),
    ("summary.json", "file_summary"),
    ("edit.html", "file_edit"),
    ("changes.csv", "file_changes"),
)


def files_section(ctx: ReportContext) -> ReportSection:
    """The maps and the folder's files, each with what it holds."""
    lab, folder = ctx.lab, ctx.folder
    items = [f'<li><a href="map.html">{esc(lab["overview_map"])}</a> (map.html)</li>']
    if ctx.rep_files:
        items.append(f"<li>{esc(lab['rep_pages'])}: reps/</li>")
    for name, key in FILE_LINKS:
        if name == "plan.xlsx" or (folder.path / name).is_file():
            items.append(f'<li><a href="{esc(quote(name))}">{esc(name)}</a>: {esc(lab[key])}</li>')
    return ReportSection("files", lab["files"], f'<ul class="files">{"".join(items)}</ul>')


def _kpi_value(ctx: ReportContext, key: str, value: object) -> str:
    """A summary.json value as text: its unit, the language's number format, no Python syntax."""
    unit = kpi_unit(key)
    count = number_format(ctx.lang)
    if isinstance(value, bool):
        return ctx.lab["yes"] if value else ctx.lab["no"]
    if isinstance(value, int | float):
        x = float(value)
        if unit == "x":
            return count(x, 0 if x.is_integer() else 3)
        if unit == "":
            return count(x, 0 if x.is_integer() else 2)
        return quantity(x, unit, ctx.lang, 1 if unit in ("share", "min", "km") else None)
    if isinstance(value, dict):
        return (
            " · ".join(f"{k}: {_kpi_value(ctx, key, v)}" for k, v in value.items())
            or ctx.lab["none"]
        )
    if isinstance(value, list):
        return "; ".join(_kpi_value(ctx, key, v) for v in value) or ctx.lab["none"]
    return "–" if value is None else str(value)


def _flat(prefix: str, value: object) -> list[tuple[str, str]]:
    """Nested settings as ``section.key`` = value lines (lists comma-separated)."""
    if isinstance(value, dict):
        return [
            pair
            for k, v in value.items()
            for pair in _flat(f"{prefix}.{k}" if prefix else str(k), v)
        ]
    if isinstance(value, list):
        return [(prefix, ", ".join(str(v) for v in value))]
    if isinstance(value, bool):
        return [(prefix, "true" if value else "false")]
    return [(prefix, "–" if value is None else str(value))]


def technical_section(ctx: ReportContext) -> ReportSection | None:
    """summary.json behind a fold: the run, every figure by name, the inputs, the settings."""
    summary = ctx.folder.summary
    if not summary:
        return None
    lab = ctx.lab
    run = [
        (lab["command"], summary.get("command")),
        (lab["version"], summary.get("version")),
        (lab["seed"], summary.get("seed")),
    ]  # not runtime_s: the page is byte-identical for the same inputs (see report.VOLATILE_FIELDS)
    run_rows = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in run if v is not None
    )
    kpi_rows = "".join(
        f"<tr><td>{esc(kpi_label(k, ctx.lang))}</td><td><code>{esc(k)}</code></td>"
        f"<td>{esc(_kpi_value(ctx, k, v))}</td></tr>"
        for k, v in _kpis(ctx.folder).items()
    )
    inputs = summary.get("inputs") or {}
    input_rows = "".join(
        f"<tr><td>{esc(k)}</td><td><code>{esc(v.get('path', ''))}</code></td>"
        f"<td><code>{esc(str(v.get('sha256', ''))[:16])}</code></td></tr>"
        for k, v in (inputs.items() if isinstance(inputs, dict) else [])
        if isinstance(v, dict)
    )
    travel = summary.get("travel")
    if isinstance(travel, dict):
        input_rows += (
            f"<tr><td>{esc(TRAVEL_LABELS.get(ctx.lang, TRAVEL_LABELS['en'])['travel_source'])}</td>"
            f"<td>{esc(_travel_text(travel, ctx.lang))}</td>"
            f"<td><code>{esc(str(travel.get('sha256') or '')[:16])}</code></td></tr>"
        )
    config = summary.get("config")
    setting_rows = "".join(
        f"<tr><td><code>{esc(k)}</code></td><td>{esc(v)}</td></tr>"
        for k, v in (_flat("", config) if isinstance(config, dict) else [])
    )
    parts = [
        f"<p>{esc(lab['technical_intro'])}</p>",
        f"<h3>{esc(lab['run'])}</h3><table>{run_rows}</table>",
    ]
    if kpi_rows:
        parts.append(
            f'<h3>{esc(lab["kpis"])}</h3><div class="scroll"><table><tr><th>{esc(lab["figure"])}</th>'
            f"<th>{esc(lab['key'])}</th><th>{esc(lab['value'])}</th></tr>{kpi_rows}</table></div>"
        )
    if input_rows:
        parts.append(
            f'<h3>{esc(lab["inputs"])}</h3><div class="scroll"><table><tr><th></th><th>{esc(lab["path"])}</th>'
            f"<th>{esc(lab['fingerprint'])}</th></tr>{input_rows}</table></div>"
        )
    if setting_rows:
        parts.append(
            f'<h3>{esc(lab["settings"])}</h3><div class="scroll"><table><tr><th>{esc(lab["setting"])}</th>'
            f"<th>{esc(lab['value'])}</th></tr>{setting_rows}</table></div>"
        )
    return ReportSection("technical", lab["technical_details"], "".join(parts))


#: The report's sections in page order. To add one (economics.csv, say): write a
#: :data:`SectionBuilder` that returns None when its file is absent, give its texts label keys
#: in :data:`territory.htmlutil.LABELS` (English and Dutch), and insert it here. The section
#: keyed ``technical`` is shown folded, as the page's last part.
def changes_section(ctx: ReportContext) -> ReportSection | None:
    """A re-plan's changes (changes.csv), or None when the folder has none."""
    body = changes_html(ctx.folder.path, ctx.lab, ctx.lang)
    return None if body is None else ReportSection("changes", ctx.lab["changes_title"], body)


def economics_section(ctx: ReportContext) -> ReportSection | None:
    """Contribution and break-even per rep, flagged customers (economics.csv), or None."""
    body = economics_html(ctx.folder.path, ctx.folder.summary, ctx.lang)
    title = section_title("economics", ctx.lang)
    return None if body is None else ReportSection("economics", title, body)


def telesales_section(ctx: ReportContext) -> ReportSection | None:
    """The phone customers' calls and the agents they need, or None without phone customers."""
    body = telesales_html(ctx.folder.path, ctx.folder.summary, ctx.lang)
    title = section_title("telesales", ctx.lang)
    return None if body is None else ReportSection("telesales", title, body)


REPORT_SECTIONS: tuple[SectionBuilder, ...] = (
    headline_section,
    per_rep_section,
    chart_section,
    plan_section,
    changes_section,
    economics_section,
    telesales_section,
    files_section,
    technical_section,
)


def _section_html(section: ReportSection) -> str:
    if section.key == "technical":
        return (
            f'<details class="tech" id="{esc(section.key)}"><summary>{esc(section.title)}</summary>'
            f"{section.body_html}</details>"
        )
    return f'<section id="{esc(section.key)}"><h2>{esc(section.title)}</h2>{section.body_html}</section>'


def write_report(
    folder: PlanFolder, *, lang: str = "en", rep_files: dict[str, str] | None = None
) -> Path:
    """Write ``report.html`` into the plan folder.

    Parameters
    ----------
    folder
        The plan folder as read by :func:`load_plan_folder`.
    lang
        "en" or "nl" (labels and number formats only; file and column names never change).
    rep_files
        rep_id -> file name under ``reps/`` of the rep pages to link to.

    Returns
    -------
    Path
        The report's path.
    """
    lab = labels(lang)
    ctx = ReportContext(folder=folder, lang=lang, lab=lab, rep_files=rep_files or {})
    sections = [s for s in (build(ctx) for build in REPORT_SECTIONS) if s is not None]
    nav = [
        f'<a href="map.html">{esc(lab["overview_map"])}</a>',
        f'<a href="plan.xlsx">{esc(lab["workbook"])}</a>',
    ]
    nav += [f'<a href="#{esc(s.key)}">{esc(s.title)}</a>' for s in sections if s.key == "technical"]
    title = lab["report_title"]
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
<nav class="top">{"".join(nav)}</nav>
{"".join(_section_html(s) for s in sections)}
</body></html>
"""
    out = folder.path / "report.html"
    write_text(out, page)
    return out


#: The report's words for the travel source (kept here, not in htmlutil's labels that every
#: map page embeds).
TRAVEL_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "travel_source": "travel source",
        "travel_crow": "straight lines x {circuity} at {speed} km/h",
        "travel_snapped": "{n} places snapped to a road (median {median} m, max {max} m)",
        "travel_estimated": "{n} pairs estimated with the straight line",
        "travel_note_roads": "Travel times and km: fastest paths on the roads ({text}).",
    },
    "nl": {
        "travel_source": "reistijdenbron",
        "travel_crow": "rechte lijnen x {circuity} bij {speed} km/u",
        "travel_snapped": "{n} adressen aan de weg gekoppeld (mediaan {median} m, max {max} m)",
        "travel_estimated": "{n} paren geschat met de rechte lijn",
        "travel_note_roads": "Reistijden en km: snelste routes over de weg ({text}).",
    },
}


def _travel_text(about: dict[str, Any], lang: str) -> str:
    """The travel source in words: what answered, how far places were snapped, estimates."""
    lab = TRAVEL_LABELS.get(lang, TRAVEL_LABELS["en"])
    source = str(about.get("source", "crow"))
    if source == "crow":
        return "crow: " + lab["travel_crow"].format(
            circuity=about.get("circuity"), speed=about.get("speed_kmh")
        )
    parts = [f"{source}: {about.get('file') or about.get('server') or ''}"]
    snapped = about.get("snapped")
    if isinstance(snapped, dict) and snapped.get("points"):
        parts.append(
            lab["travel_snapped"].format(
                n=snapped["points"],
                median=f"{snapped.get('median_m', 0):.0f}",
                max=f"{snapped.get('max_m', 0):.0f}",
            )
        )
    parts.append(lab["travel_estimated"].format(n=about.get("pairs_estimated", 0)))
    return "; ".join(parts)
