"""Scenarios page: scenarios.html, the scenarios side by side, each with a small map of its split.

Reads what each scenario's plan folder holds (territories.geojson, territories.csv) and the rows
of scenarios.csv; every text from an input file passes through
:func:`~territory.htmlutil.esc`. The small maps are inline SVG on one common frame, so the splits
compare at a glance and the page needs no network; each links to the scenario's full map and
report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .columns import SCENARIOS
from .columns import Column as C
from .htmlutil import esc, num, number_format, rep_color
from .reporthtml import read_csv

if TYPE_CHECKING:
    from .scenarios import ScenarioResult

#: Page labels (the column headers come from the schema).
LABELS = {
    "en": {
        "title": "Scenarios",
        "intro": "Each scenario is a full plan (design, visit plan, routed workload) in a folder "
        "of its own; workload and travel per period, money per year.",
        "map": "map",
        "report": "report",
        "skipped": "Not run",
        "files": "Table",
        "homes": "square: a rep's home; star: the new rep",
    },
    "nl": {
        "title": "Scenario's",
        "intro": "Elk scenario is een volledig plan (rayonindeling, bezoekplan, gerouteerde "
        "bewerkingstijd) in een eigen map; werk en reistijd per periode, geld per jaar.",
        "map": "kaart",
        "report": "rapport",
        "skipped": "Niet doorgerekend",
        "files": "Tabel",
        "homes": "vierkant: thuisbasis; ster: de nieuwe vertegenwoordiger",
    },
}

#: The rows of the side-by-side table: a scenarios.csv column and how it is shown.
_SHOWN: tuple[tuple[C, str], ...] = (
    (C.REPS, "int"),
    (C.PHONE_CUSTOMERS, "int"),
    (C.CUSTOMERS_MOVED, "int"),
    (C.MAX_WORKLOAD_DEVIATION, "pct"),
    (C.MIN_UTILISATION, "pct"),
    (C.MAX_UTILISATION, "pct"),
    (C.VISITS_UNSCHEDULED, "int"),
    (C.TRAVEL_HOURS, "num"),
    (C.TRAVEL_KM, "int"),
    (C.AGENTS_NEEDED, "int"),
    (C.REVENUE, "eur"),
    (C.COST_EUR, "eur"),
    (C.CONTRIBUTION_EUR, "eur"),
    (C.NOTE, "text"),
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#222}
h1{font-size:1.6rem}.rec{font-size:1.05rem;background:#f3f7ee;border-left:4px solid #4a8a2a;padding:.6rem .9rem;max-width:70rem}
.wrap{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem}
th,td{border-bottom:1px solid #eee;padding:.3rem .6rem;vertical-align:top}td.n{text-align:right}
th{text-align:left;font-weight:600}th.s{text-align:center;background:#fafafa}td.note{font-size:.8rem;max-width:12rem}
svg.mini{width:170px;height:auto;background:#eef1f4;border-radius:4px}
"""


def _rings(geometry: dict[str, Any]) -> Iterator[list[list[float]]]:
    """The rings of a GeoJSON (Multi)Polygon."""
    kind = geometry.get("type")
    polygons = (
        [geometry.get("coordinates", [])]
        if kind == "Polygon"
        else geometry.get("coordinates", [])
        if kind == "MultiPolygon"
        else []
    )
    for polygon in polygons:
        yield from polygon


def _features(folder: Path) -> list[dict[str, Any]]:
    path = folder / "territories.geojson"
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("features", [])) if isinstance(data, dict) else []


class _Frame:
    """One equirectangular frame for every small map (lon/lat to SVG units)."""

    def __init__(self, points: Sequence[tuple[float, float]], width: float = 200.0) -> None:
        lons = [p[0] for p in points] or [5.0]
        lats = [p[1] for p in points] or [52.0]
        self.lon0, self.lat1 = min(lons), max(lats)
        self.k = math.cos(math.radians((min(lats) + max(lats)) / 2))
        span_x = max((max(lons) - self.lon0) * self.k, 1e-6)
        span_y = max(self.lat1 - min(lats), 1e-6)
        self.scale = (width - 8) / span_x
        self.width = width
        self.height = span_y * self.scale + 8

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (4 + (lon - self.lon0) * self.k * self.scale, 4 + (self.lat1 - lat) * self.scale)


def _mini_map(folder: Path, frame: _Frame, new_rep: str | None, index: dict[str, int]) -> str:
    """An SVG of the scenario's territories (areas in the rep colours) and the reps' homes.

    ``index`` gives each rep id its colour, the same in every scenario.
    """
    parts = [
        f'<svg class="mini" viewBox="0 0 {frame.width:.0f} {frame.height:.0f}" '
        'xmlns="http://www.w3.org/2000/svg" role="img">'
    ]
    for feature in _features(folder):
        rep_id = str(feature.get("properties", {}).get(C.REP_ID, ""))
        colour = rep_color(index.get(rep_id, 0))
        path = []
        for ring in _rings(feature.get("geometry") or {}):
            pts = [frame.xy(float(x), float(y)) for x, y, *_ in ring]
            if pts:
                path.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in pts) + "Z")
        if path:
            parts.append(
                f'<path d="{"".join(path)}" fill="{colour}" fill-opacity="0.55" '
                f'stroke="{colour}" stroke-width="0.6" fill-rule="evenodd">'
                f"<title>{esc(rep_id)}</title></path>"
            )
    for row in _territory_rows(folder):
        lat, lon = num(row.get(C.HOME_LAT)), num(row.get(C.HOME_LON))
        if not (math.isfinite(lat) and math.isfinite(lon)):
            continue
        x, y = frame.xy(lon, lat)
        rep_id = row.get(C.REP_ID, "")
        title = f"<title>{esc(rep_id)} {esc(row.get(C.REP_NAME, ''))}</title>"
        if rep_id == new_rep:
            star = " ".join(
                f"{x + r * math.sin(a):.1f},{y - r * math.cos(a):.1f}"
                for i in range(10)
                for r, a in [(7.0 if i % 2 == 0 else 3.0, i * math.pi / 5)]
            )
            parts.append(
                f'<polygon points="{star}" fill="#ffd400" stroke="#222" stroke-width="1">'
                f"{title}</polygon>"
            )
        else:
            parts.append(
                f'<rect x="{x - 2.5:.1f}" y="{y - 2.5:.1f}" width="5" height="5" fill="#fff" '
                f'stroke="#222" stroke-width="1">{title}</rect>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _territory_rows(folder: Path) -> list[dict[str, str]]:
    path = folder / "territories.csv"
    return read_csv(path) if path.is_file() else []


def _colour_index(out_dir: Path, results: Sequence[ScenarioResult]) -> dict[str, int]:
    """A colour per rep id, in order of first appearance over the scenarios."""
    index: dict[str, int] = {}
    for result in results:
        for row in _territory_rows(out_dir / result.scenario.folder):
            index.setdefault(row.get(C.REP_ID, ""), len(index))
    return index


def _frame(out_dir: Path, results: Sequence[ScenarioResult]) -> _Frame:
    points: list[tuple[float, float]] = []
    for result in results:
        for feature in _features(out_dir / result.scenario.folder):
            for ring in _rings(feature.get("geometry") or {}):
                points += [(float(p[0]), float(p[1])) for p in ring]
    return _Frame(points)


def _links(out_dir: Path, folder: str, lab: dict[str, str]) -> str:
    """Links to the scenario's map and report (where written: not with --no-maps)."""
    links = [
        f'<a href="{esc(quote(folder))}/{page}.html">{esc(lab[page])}</a>'
        for page in ("map", "report")
        if (out_dir / folder / f"{page}.html").is_file()
    ]
    return "<br>" + " · ".join(links) if links else ""


def _cell(value: Any, how: str, lang: str) -> str:
    fmt = number_format(lang)
    if value is None or value == "":
        return '<td class="n">–</td>'
    if how == "text":
        return f'<td class="note">{esc(value)}</td>'
    x = float(value)
    text = {
        "int": lambda: fmt(x, 0),
        "pct": lambda: f"{fmt(100 * x, 1)}\u202f%",
        "num": lambda: fmt(x, 1),
        "eur": lambda: f"€\u202f{fmt(x, 0)}",
    }[how]()
    return f'<td class="n">{text}</td>'


def scenarios_page(
    out_dir: Path,
    results: Sequence[ScenarioResult],
    *,
    lang: str = "en",
    tolerance: float = 0.1,
    skipped: Sequence[str] = (),
) -> str:
    """The HTML of scenarios.html: the recommendation, then the scenarios side by side."""
    from .scenarios import recommendation

    lab = LABELS["nl" if lang == "nl" else "en"]
    rows = [r.row for r in results]
    frame = _frame(out_dir, results)
    colours = _colour_index(out_dir, results)
    head = "".join(f'<th class="s">{esc(r.scenario.name)}</th>' for r in results)
    maps = "".join(
        "<td>"
        + _mini_map(
            out_dir / r.scenario.folder,
            frame,
            r.scenario.new_rep.id if r.scenario.new_rep is not None else None,
            colours,
        )
        + _links(out_dir, r.scenario.folder, lab)
        + "</td>"
        for r in results
    )
    body = [f"<tr><th></th>{head}</tr>", f"<tr><td>{esc(lab['homes'])}</td>{maps}</tr>"]
    for column, how in _SHOWN:
        cells = "".join(_cell(row.get(column), how, lang) for row in rows)
        body.append(f"<tr><th>{esc(column.header(lang))}</th>{cells}</tr>")
    skipped_html = (
        f"<h2>{esc(lab['skipped'])}</h2><ul>"
        + "".join(f"<li>{esc(s)}</li>" for s in skipped)
        + "</ul>"
        if skipped
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(lab["title"])}</title><style>{_CSS}</style></head>
<body>
<h1>{esc(lab["title"])}</h1>
<p class="rec">{esc(recommendation(rows, lang, tolerance))}</p>
<p>{esc(lab["intro"])}</p>
<div class="wrap"><table>{"".join(body)}</table></div>
<p>{esc(lab["files"])}: <a href="{SCENARIOS.file}">{SCENARIOS.file}</a></p>
{skipped_html}
</body></html>
"""
