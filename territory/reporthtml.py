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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .columns import TABLES
from .columns import Column as C
from .exceptions import InputError
from .htmlutil import esc, labels, num, number_format, rep_color
from .report import write_text

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
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:960px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.75rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;background:#fafafa}
.card .v{font-size:1.4rem;font-weight:600}.card .k{font-size:.85rem;color:#555}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}th,td{border-bottom:1px solid #eee;padding:.25rem .6rem;text-align:left}
td.n,th.n{text-align:right}.sw{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.3em}
"""

_PCT = "\u202f%"


def _cards(folder: PlanFolder, lang: str) -> str:
    """The headline figures as cards."""
    lab = labels(lang)
    fmt = number_format(lang)
    fig = headline(folder)

    def card(key: str, value: str) -> str:
        return f'<div class="card"><div class="v">{value}</div><div class="k">{esc(lab[key])}</div></div>'

    cards = [
        card("reps", fmt(fig["reps"], 0)),
        card("customers", fmt(fig["customers"], 0)),
        card("total_workload", f"{fmt(fig['workload_h'])} {lab['hours']}"),
        card("balance", f"±{fmt(fig['max_deviation'] * 100)}{_PCT}"),
        card(
            "utilization_range",
            f"{fmt(fig['util_min'] * 100, 0)}–{fmt(fig['util_max'] * 100, 0)}{_PCT}",
        ),
        card("connected", f"{fmt(fig['connected_share'] * 100, 0)}{_PCT}"),
        card("travel_hours", f"{fmt(fig['travel_h'])} {lab['hours']}"),
        card("travel_km", f"{fmt(fig['travel_km'], 0)} {lab['km']}"),
    ]
    if folder.has_plan:
        unscheduled = fig["unscheduled"]
        cards += [
            card("planned_visits", fmt(fig["planned_visits"], 0)),
            card("unscheduled_visits", fmt(unscheduled, 0) if math.isfinite(unscheduled) else "0"),
            card("overtime_days", fmt(fig["overtime_days"], 0)),
        ]
    return "".join(cards)


def _links(folder: PlanFolder, lab: dict[str, str], rep_files: dict[str, str]) -> str:
    """The list of maps: the overview, then one per rep that has one."""
    links = [f'<li><a href="map.html">{esc(lab["overview_map"])}</a></li>']
    for row in folder.territories:
        rid = row.get(C.REP_ID, "")
        if rid in rep_files:
            name = row.get(C.REP_NAME, "")
            links.append(
                f'<li><a href="reps/{esc(quote(rep_files[rid]))}">{esc(rid)}'
                f"{' · ' + esc(name) if name else ''}</a></li>"
            )
    return "".join(links)


def _file_links(folder: PlanFolder) -> str:
    """Links to the folder's files (plan.xlsx is written after the report, so always listed)."""
    files = [
        "plan.xlsx",
        *(table.file for table in TABLES),
        "territories.geojson",
        "routes.geojson",
        "summary.json",
    ]
    return " · ".join(
        f'<a href="{f}">{f}</a>' for f in files if (folder.path / f).is_file() or f == "plan.xlsx"
    )


def _territory_table(folder: PlanFolder, lang: str) -> str:
    """One row per territory: the rep, its size, its workload against capacity, its travel."""
    lab = labels(lang)
    fmt = number_format(lang)
    trows = []
    for i, r in enumerate(folder.territories):
        conn = r.get(C.CONNECTED, "").strip().lower()
        trows.append(
            "<tr>"
            f'<td><span class="sw" style="background:{rep_color(i)}"></span>{esc(r.get(C.REP_ID, ""))}</td>'
            f"<td>{esc(r.get(C.REP_NAME, ''))}</td>"
            f'<td class="n">{fmt(num(r.get(C.CUSTOMERS)), 0)}</td>'
            f'<td class="n">{fmt(num(r.get(C.VISITS)), 0)}</td>'
            f'<td class="n">{fmt(num(r.get(C.WORKLOAD_HOURS)))}</td>'
            f'<td class="n">{fmt(num(r.get(C.CAPACITY_HOURS)))}</td>'
            f'<td class="n">{fmt(num(r.get(C.UTILIZATION)) * 100, 0)}{_PCT}</td>'
            f'<td class="n">{fmt(num(r.get(C.TRAVEL_HOURS)))}</td>'
            f'<td class="n">{fmt(num(r.get(C.TRAVEL_KM)), 0)}</td>'
            f"<td>{esc(lab['yes'] if conn == 'true' else lab['no'] if conn == 'false' else '–')}</td>"
            "</tr>"
        )
    hours = f" ({lab['hours']})"
    head = [
        ("rep", lab["rep"]),
        ("name", lab["name"]),
        ("customers", lab["customers"]),
        ("visits", lab["visits"]),
        ("workload", lab["workload"] + hours),
        ("capacity", lab["capacity"] + hours),
        ("utilization", lab["utilization"]),
        ("travel", lab["travel"] + hours),
        ("km", lab["km"]),
        ("connected", lab["connected"]),
    ]
    thead = "".join(
        f'<th class="{"n" if key not in ("rep", "name", "connected") else ""}">{esc(text)}</th>'
        for key, text in head
    )
    return f"<table><tr>{thead}</tr>{''.join(trows)}</table>"


def _plan_section(folder: PlanFolder, lab: dict[str, str]) -> str:
    """The unscheduled visits (the first 100), or a line saying the folder has no plan."""
    if not folder.has_plan:
        return f"<p>{esc(lab['no_plan'])}</p>"
    unscheduled = folder.unscheduled or []
    if not unscheduled:
        return f"<p>{esc(lab['unscheduled_visits'])}: 0</p>"
    shown = unscheduled[:100]
    rows = "".join(
        f"<tr><td>{esc(u.get(C.CUSTOMER_ID, ''))}</td><td>{esc(u.get(C.CUSTOMER_NAME, ''))}</td>"
        f"<td>{esc(u.get(C.REP_ID, ''))}</td><td>{esc(u.get(C.REASON, ''))}</td></tr>"
        for u in shown
    )
    more = (
        f"<p>{esc(lab['more'].format(n=len(unscheduled) - len(shown)))}</p>"
        if len(unscheduled) > len(shown)
        else ""
    )
    return (
        f"<h3>{esc(lab['table_unscheduled'])}</h3><table><tr><th>{esc(lab['id'])}</th>"
        f"<th>{esc(lab['name'])}</th><th>{esc(lab['rep'])}</th><th>{esc(lab['reason'])}</th></tr>"
        f"{rows}</table>{more}"
    )


def _summary_tables(folder: PlanFolder, lab: dict[str, str]) -> tuple[str, str]:
    """Every KPI of summary.json, and the inputs with their fingerprints."""
    summary = folder.summary or {}
    kpi_rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(_kpi_text(v))}</td></tr>"
        for k, v in sorted(_kpis(folder).items())
    )
    inputs = summary.get("inputs", {}) or {}

    def field(value: object, key: str) -> str:
        return str(value.get(key, "")) if isinstance(value, dict) else ""

    input_rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(field(v, 'path') if isinstance(v, dict) else v)}</td>"
        f"<td><code>{esc(field(v, 'sha256')[:16])}</code></td></tr>"
        for k, v in sorted(inputs.items())
    )
    kpi_html = f"<h2>{esc(lab['kpis'])}</h2><table>{kpi_rows}</table>" if kpi_rows else ""
    input_html = f"<h2>{esc(lab['inputs'])}</h2><table>{input_rows}</table>" if input_rows else ""
    return kpi_html, input_html


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
    from .reporteconomics import economics_section

    lab = labels(lang)
    title = lab["report_title"]
    kpi_html, input_html = _summary_tables(folder, lab)
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
<h2>{esc(lab["headline"])}</h2>
<div class="cards">{_cards(folder, lang)}</div>
<h2>{esc(lab["chart"])}</h2>
{workload_chart_svg(folder, lang)}
<h2>{esc(lab["maps"])}</h2>
<ul>{_links(folder, lab, rep_files or {})}</ul>
<p>{esc(lab["files"])}: {_file_links(folder)}</p>
<h2>{esc(lab["table_territories"])}</h2>
{_territory_table(folder, lang)}
<h2>{esc(lab["plan_section"])}</h2>
{_plan_section(folder, lab)}{economics_section(folder.path, folder.summary, lang)}
{kpi_html}
{input_html}
</body></html>
"""
    out = folder.path / "report.html"
    write_text(out, page)
    return out


def _kpi_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)[:300]
    return str(value)
