"""Maps stage, the part people hold: the rep page's day list and the printable sheets.

:mod:`territory.maps` draws the maps; this module writes the HTML around them, with no folium:

* the rep page's day list (:func:`rep_day_list`): one collapsible entry per working day, each
  stop with its arrival, visit window, the customer's address, opening hours and phone, a
  ``geo:`` link (RFC 5870, which Android hands to the navigation app) and an https maps link
  beside it (iPhones do not open ``geo:``);
* the rep page's day sheets (:func:`rep_day_sheets`): for print, one page per working day
  with the date, departure and return, the stops in order and a small route sketch (inline SVG);
* the overview's sheets (:func:`overview_sheets`): for print, one page per rep with the
  territory's figures and the days of the period;
* the CSS of both pages (phone, desktop and print).

Every text from an input file goes through :func:`~territory.htmlutil.esc`; the pages hold no
date of their own (which day to open is chosen in the browser), so they stay byte-identical.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .columns import Column as C
from .htmlutil import NNBSP, date_text, esc, num, plain_header, quantity

#: The https link beside each ``geo:`` link: Google Maps' documented cross-platform URL, which
#: opens the app with directions on Android and iOS and the web page elsewhere.
MAPS_DIRECTIONS_URL = "https://www.google.com/maps/dir/?api=1&destination={lat},{lon}"

#: Rows of the overview's day table above which its print uses the small type.
DENSE_DAY_ROWS = 22
#: Stops on one day above which its day sheet uses the small type.
DENSE_STOPS = 14

Day = Mapping[str, Any]
Labels = Mapping[str, str]


@dataclass(frozen=True)
class CustomerDetails:
    """What a rep needs to know at the door: address, opening hours, phone (all may be "")."""

    address: str
    hours: str
    phone: str


def customer_details(
    assignments: Sequence[Mapping[str, str]], lab: Labels
) -> dict[str, CustomerDetails]:
    """customer_id -> :class:`CustomerDetails` from assignments.csv rows.

    Folders written before the address columns existed simply give empty details.
    """
    out: dict[str, CustomerDetails] = {}
    for row in assignments:
        street = (row.get(C.STREET) or "").strip()
        place = " ".join(
            t for t in ((row.get(C.POSTCODE) or "").strip(), (row.get(C.CITY) or "").strip()) if t
        )
        opens = (row.get(C.OPEN) or "").strip()
        closes = (row.get(C.CLOSE) or "").strip()
        if opens and closes:
            hours = f"{opens}–{closes}"
        elif opens:
            hours = lab["from_time"].format(t=opens)
        elif closes:
            hours = lab["until_time"].format(t=closes)
        else:
            hours = ""
        out[row.get(C.CUSTOMER_ID, "")] = CustomerDetails(
            address=", ".join(t for t in (street, place) if t),
            hours=hours,
            phone=(row.get(C.PHONE) or "").strip(),
        )
    return out


NO_DETAILS = CustomerDetails("", "", "")


def geo_uri(lat: float, lon: float, label: str = "") -> str:
    """A ``geo:`` URI (RFC 5870) for a point; ``label`` rides along as Android's ``q`` label."""
    point = f"{lat:.6f},{lon:.6f}"
    if not label:
        return f"geo:{point}"
    return f"geo:{point}?q={point}({quote(label, safe='')})"


def maps_url(lat: float, lon: float) -> str:
    """The https directions link beside the ``geo:`` link (see :data:`MAPS_DIRECTIONS_URL`)."""
    return MAPS_DIRECTIONS_URL.format(lat=f"{lat:.6f}", lon=f"{lon:.6f}")


def tel_uri(phone: str) -> str:
    """A ``tel:`` URI of a phone number as written (digits and a leading + kept).

    The Dutch ``+31 (0)6 ...`` drops its ``(0)``, which is dialled only without the ``+31``.
    """
    digits = "".join(ch for ch in phone.replace("(0)", "") if ch.isdigit() or ch == "+")
    return f"tel:{digits}"


def _day_title(day: Day, lang: str, *, long: bool = False) -> str:
    return date_text(day["date"], day["weekday"], day["week"], lang, long=long)


def _day_facts(day: Day, lab: Labels, lang: str) -> str:
    """'08:30–16:26 · 7 visits · 250 km' (for the day list and the print header)."""
    visits = int(num(day["visits"], 0))
    return (
        f"{esc(day['depart'])}–{esc(day['return'])} · {visits}{NNBSP}{esc(lab['visits_short'].lower())}"
        f" · {quantity(day['km'], 'km', lang)}"
    )


def _stop_item(stop: Mapping[str, Any], details: CustomerDetails, lab: Labels, color: str) -> str:
    """One stop of the screen list: time, name, window, address, hours, phone, navigation."""
    name = stop["name"] or stop["id"]
    lines = [
        f'<div class="tp-stop-head"><span class="tp-num" style="background:{color}">'
        f"{int(stop['seq'])}</span> <strong>{esc(stop['arrival'])}</strong> {esc(name)}"
        f' <span class="tp-id">{esc(stop["id"])}</span></div>',
        f"<div>{esc(lab['visit_window'])}: {esc(stop['start'])}–{esc(stop['end'])}"
        + (f" · {esc(lab['opening_hours'])}: {esc(details.hours)}" if details.hours else "")
        + "</div>",
    ]
    if details.address:
        lines.append(f'<div class="tp-addr">{esc(details.address)}</div>')
    if details.phone:
        lines.append(
            f'<div>{esc(lab["phone"])}: <a class="tp-tel" href="{esc(tel_uri(details.phone))}">'
            f"{esc(details.phone)}</a></div>"
        )
    lat, lon = float(stop["lat"]), float(stop["lon"])
    lines.append(
        '<div class="tp-nav">'
        f'<a class="tp-btn tp-geo" href="{esc(geo_uri(lat, lon, name))}">{esc(lab["navigate"])}</a>'
        f'<a class="tp-btn" href="{esc(maps_url(lat, lon))}" target="_blank" rel="noopener">'
        f"{esc(lab['maps_link'])}</a></div>"
    )
    return f'<li class="tp-stop-item">{"".join(lines)}</li>'


def rep_header(
    rep: Mapping[str, Any], lab: Labels, weeks: Sequence[int], more_links: str = ""
) -> str:
    """The rep page's header: title, figures, links (``more_links`` after the report's: the
    rep's calendar) and the print control."""
    title = lab["rep_title"].format(rep=rep["id"] + (f" · {rep['name']}" if rep["name"] else ""))
    summary = (
        f"{esc(lab['workload'])}: {esc(rep['workload'])} · {esc(lab['utilization'])}: "
        f"{esc(rep['utilization'])} · {esc(lab['travel'])}: {esc(rep['travel'])}"
    )
    links = (
        f'<a class="tp-btn" href="../map.html">{esc(lab["overview_map"])}</a>'
        f'<a class="tp-btn" href="../report.html">{esc(lab["report_title"])}</a>'
        f"{more_links}"
    )
    return (
        f'<header class="tp-bar"><h1>{esc(title)}</h1><div class="tp-sum">{summary}</div>'
        f'<nav class="tp-links">{links}{print_control(lab, weeks, lab["print_hint"])}</nav></header>'
    )


def print_control(lab: Labels, weeks: Sequence[int], hint: str) -> str:
    """A print button with a choice of what to print: the whole period or one week."""
    options = f'<option value="all">{esc(lab["whole_period"])}</option>' + "".join(
        f'<option value="{int(w)}">{esc(lab["week_n"].format(n=int(w)))}</option>' for w in weeks
    )
    choice = (
        f'<select id="tp-print-week" class="tp-btn" aria-label="{esc(lab["print_what"])}">{options}</select>'
        if len(weeks) > 1
        else ""
    )
    return (
        f'<span class="tp-print-ctl" title="{esc(hint)}"><button type="button" class="tp-btn" '
        f'data-print="1">{esc(lab["print"])}</button>{choice}</span>'
        '<style id="tp-print-style"></style>'
    )


def rep_day_list(
    days: Sequence[Day], details: Mapping[str, CustomerDetails], lab: Labels, lang: str
) -> str:
    """The rep page's list of working days: each a ``<details>`` with its stops."""
    entries = []
    for j, day in enumerate(days):
        stops = "".join(
            _stop_item(s, details.get(s["id"], NO_DETAILS), lab, day["color"]) for s in day["stops"]
        )
        body = f'<ol class="tp-stops">{stops}</ol>' if stops else f"<p>{esc(lab['no_visits'])}</p>"
        entries.append(
            f'<details class="tp-day" data-day="{j}" data-date="{esc(day["key"])}" '
            f'id="day-{esc(day["key"])}"><summary class="tp-tap">'
            f'<span class="sw" style="background:{day["color"]}"></span>'
            f"<strong>{esc(_day_title(day, lang))}</strong> <span>{_day_facts(day, lab, lang)}</span>"
            f"</summary>{body}</details>"
        )
    return (
        '<section class="tp-side"><details class="tp-daylist" open>'
        f'<summary class="tp-tap"><strong>{esc(lab["day_list"])}</strong> ({len(days)})</summary>'
        f'<button type="button" class="tp-btn" data-day="all">{esc(lab["show_all_days"])}</button>'
        f"{''.join(entries)}</details></section>"
    )


def route_sketch(
    home: tuple[float, float] | None,
    stops: Sequence[Mapping[str, Any]],
    color: str,
    *,
    width: int = 240,
    height: int = 170,
    label: str = "",
) -> str:
    """A small static map of one day (inline SVG): home, the numbered stops, the loop.

    Positions are projected equirectangularly around the day's middle (longitudes shrunk by
    the cosine of the latitude), which is true enough for the few tens of km of a day.
    """
    points = [(float(s["lat"]), float(s["lon"])) for s in stops]
    every = points + ([home] if home else [])
    if not every:
        return ""
    lat0 = (min(p[0] for p in every) + max(p[0] for p in every)) / 2
    shrink = math.cos(math.radians(lat0))
    xs = [p[1] * shrink for p in every]
    ys = [-p[0] for p in every]
    pad = 16.0
    span_x = max(max(xs) - min(xs), 1e-6)
    span_y = max(max(ys) - min(ys), 1e-6)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    off_x = (width - scale * (max(xs) - min(xs))) / 2
    off_y = (height - scale * (max(ys) - min(ys))) / 2

    def xy(p: tuple[float, float]) -> tuple[float, float]:
        return (
            round(off_x + (p[1] * shrink - min(xs)) * scale, 1),
            round(off_y + (-p[0] - min(ys)) * scale, 1),
        )

    parts = [
        f'<svg class="tp-sketch" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="{width}" height="{height}" fill="#fff" stroke="#999"/>'
    ]
    out = ([home] if home else []) + points
    if len(out) > 1:
        coords = " ".join(f"{x},{y}" for x, y in map(xy, out))
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2.5"/>'
        )
    if home and points:
        (x1, y1), (x2, y2) = xy(points[-1]), xy(home)
        parts.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{color}" '
            'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    if home:
        x, y = xy(home)
        parts.append(
            f'<rect x="{x - 6}" y="{y - 6}" width="12" height="12" fill="#222"/>'
            f'<text x="{x}" y="{y + 3.5}" font-size="9" text-anchor="middle" fill="#fff">⌂</text>'
        )
    for seq, p in enumerate(points, start=1):
        x, y = xy(p)
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="7" fill="#fff" stroke="{color}" stroke-width="2.5"/>'
            f'<text x="{x}" y="{y + 3}" font-size="8.5" font-weight="bold" '
            f'text-anchor="middle" fill="#000">{seq}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _sheet_stop_rows(
    stops: Sequence[Mapping[str, Any]], details: Mapping[str, CustomerDetails]
) -> str:
    rows = []
    for s in stops:
        d = details.get(s["id"], NO_DETAILS)
        rows.append(
            f'<tr><td class="n">{int(s["seq"])}</td><td>{esc(s["arrival"])}</td>'
            f"<td>{esc(s['start'])}–{esc(s['end'])}</td>"
            f'<td><strong>{esc(s["name"] or s["id"])}</strong> <span class="tp-id">{esc(s["id"])}</span>'
            + (f'<div class="tp-addr">{esc(d.address)}</div>' if d.address else "")
            + f"</td><td>{esc(d.hours)}</td><td>{esc(d.phone)}</td></tr>"
        )
    return "".join(rows)


def rep_day_sheets(
    rep: Mapping[str, Any],
    days: Sequence[Day],
    details: Mapping[str, CustomerDetails],
    lab: Labels,
    lang: str,
) -> str:
    """The rep page's print part: one sheet (one printed page) per working day."""
    who = rep["id"] + (f" · {rep['name']}" if rep["name"] else "")
    home = (rep["lat"], rep["lon"]) if rep["lat"] is not None and rep["lon"] is not None else None
    head = (
        f"<tr><th>#</th><th>{esc(C.ARRIVAL.header(lang))}</th><th>{esc(lab['visit_window'])}</th>"
        f"<th>{esc(lab['customer'])} · {esc(lab['address'])}</th>"
        f"<th>{esc(lab['opening_hours'])}</th><th>{esc(lab['phone'])}</th></tr>"
    )
    sheets = []
    for day in days:
        facts = [
            (C.DEPART.header(lang), esc(day["depart"])),
            (C.RETURN.header(lang), esc(day["return"])),
            (lab["visits_short"], esc(str(int(num(day["visits"], 0))))),
            (lab["km_total"], quantity(day["km"], "km", lang)),
            (lab["travel"], quantity(num(day["minutes"]) / 60, "h", lang)),
        ]
        if day.get("lunch"):
            facts.append((lab["lunch"], esc(day["lunch"])))
        fact_html = "".join(
            f"<div><span>{esc(k)}</span> <strong>{v}</strong></div>" for k, v in facts
        )
        stops = day["stops"]
        table = (
            f'<table class="tp-sheet-stops">{head}{_sheet_stop_rows(stops, details)}</table>'
            if stops
            else f"<p>{esc(lab['no_visits'])}</p>"
        )
        dense = " tp-dense" if len(stops) > DENSE_STOPS else ""
        sketch = route_sketch(home, stops, day["color"], label=lab["route_sketch"])
        sheets.append(
            f'<article class="tp-sheet{dense}" data-weeks="{esc(day["week"])}">'
            f'<div class="tp-sheet-top"><div class="tp-sheet-facts">'
            f'<div class="tp-sheet-who">{esc(who)} · {esc(lab["week_n"].format(n=day["week"]))}</div>'
            f"<h2>{esc(_day_title(day, lang, long=True))}</h2>{fact_html}</div>{sketch}</div>"
            f"{table}</article>"
        )
    return f'<section class="tp-print">{"".join(sheets)}</section>'


def overview_sheets(
    reps: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, str]],
    days: Sequence[Day],
    lab: Labels,
    lang: str,
) -> str:
    """The overview's print part: one sheet per rep, its territory's figures and its days.

    ``rows`` are territories.csv rows aligned with ``reps``; ``days`` every rep day (with
    ``t``, the rep's index, and its stops).
    """
    by_rep: dict[int, list[Day]] = {}
    for day in days:
        by_rep.setdefault(int(day["t"]), []).append(day)
    figures = (
        (C.CUSTOMERS, ""), (C.VISITS, ""), (C.WORKLOAD_HOURS, "h"), (C.CAPACITY_HOURS, "h"),
        (C.UTILIZATION, "share"), (C.TRAVEL_HOURS, "h"), (C.TRAVEL_KM, "km"), (C.POTENTIAL, "EUR"),
    )  # fmt: skip
    head = (
        f"<tr><th>{esc(C.DATE.header(lang))}</th><th>{esc(C.DEPART.header(lang))}–"
        f'{esc(C.RETURN.header(lang))}</th><th class="n">{esc(lab["visits_short"])}</th>'
        f'<th class="n">{esc(lab["km_total"])}</th><th>{esc(lab["customers"])}</th></tr>'
    )
    sheets = []
    for t, (rep, row) in enumerate(zip(reps, rows, strict=True)):
        who = rep["id"] + (f" · {rep['name']}" if rep["name"] else "")
        fig_html = "".join(
            f"<div><span>{esc(plain_header(col, lang))}</span> <strong>{quantity(row.get(col), unit, lang)}</strong></div>"
            for col, unit in figures
            if row.get(col, "") != ""
        )
        mine = by_rep.get(t, [])
        body = "".join(
            f'<tr data-week="{esc(d["week"])}"><td class="nw">{esc(_day_title(d, lang))}</td>'
            f'<td class="nw">{esc(d["depart"])}–{esc(d["return"])}</td>'
            f'<td class="n">{int(num(d["visits"], 0))}</td>'
            f'<td class="n">{quantity(d["km"], "km", lang)}</td><td class="tp-names">'
            + " · ".join(f"{int(s['seq'])}{NNBSP}{esc(s['name'] or s['id'])}" for s in d["stops"])
            + "</td></tr>"
            for d in mine
        )
        weeks = sorted({str(d["week"]) for d in mine}, key=lambda w: int(num(w, 0)))
        table = f'<table class="tp-sheet-days">{head}{body}</table>' if mine else ""
        dense = " tp-dense" if len(mine) > DENSE_DAY_ROWS else ""
        sheets.append(
            f'<article class="tp-sheet{dense}" data-weeks="{esc(" ".join(weeks))}">'
            f'<h2><span class="sw" style="background:{rep["color"]}"></span>{esc(who)}</h2>'
            f'<div class="tp-sheet-facts tp-figs">{fig_html}</div>{table}</article>'
        )
    return f'<section class="tp-print">{"".join(sheets)}</section>'


#: Shared by both pages: buttons, the print part and the print rules. On screen the print part
#: is laid out out of sight at the printed width, so that the page's script can measure each
#: sheet and shrink one that would not fit its page (see ``fitSheets`` in :mod:`territory.maps`).
BASE_CSS = """
.tp-btn{display:inline-flex;align-items:center;justify-content:center;min-height:44px;min-width:44px;box-sizing:border-box;padding:0 12px;margin:2px 6px 2px 0;border:1px solid #b8c2cc;border-radius:6px;background:#f6f8fa;color:#0645ad;font:inherit;text-decoration:none;cursor:pointer}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:middle;border:1px solid #333;margin-right:6px}
.tp-print{position:absolute;left:-10000px;top:0;width:186mm;height:0;overflow:hidden;visibility:hidden;font:9.5pt/1.3 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#000;background:#fff}
.tp-sheet{overflow:hidden}
.tp-sheet h2{font-size:15pt;margin:0 0 4px}
.tp-sheet table{border-collapse:collapse;width:100%;margin-top:8px}
.tp-sheet th{text-align:left;border-bottom:1.5px solid #000;padding:3px 4px;font-size:8.5pt;vertical-align:bottom}
.tp-sheet td{border-bottom:.5px solid #888;padding:3px 4px;vertical-align:top}
.tp-sheet td.n,.tp-sheet th.n{text-align:right}
.tp-sheet tr{break-inside:avoid}
.tp-sheet-facts div{display:inline-block;margin:0 14px 3px 0}.tp-sheet-facts span{color:#444}
.tp-sheet-top{display:flex;justify-content:space-between;gap:10px;align-items:flex-start}
.tp-sheet-who{font-size:10pt;color:#333}
.tp-sketch{width:62mm;height:44mm;flex:none}
.tp-sheet .tp-id{color:#555;font-size:8pt}.tp-sheet .tp-addr{color:#222}
.tp-sheet .nw{white-space:nowrap}
.tp-names{font-size:7.5pt}
.tp-dense{font-size:8pt}.tp-dense td{padding:2px 4px}.tp-dense .tp-names{font-size:7pt}
@page{size:A4 portrait;margin:11mm 12mm}
@media print{
 html,body{height:auto!important;width:auto!important;display:block!important;overflow:visible!important;background:#fff}
 body>*:not(.tp-print){display:none!important}
 .tp-print{position:static;visibility:visible;width:auto;height:auto;overflow:visible}
 .tp-sheet{break-after:page;page-break-after:always}
 .tp-sheet:last-child{break-after:auto;page-break-after:auto}
}
"""

#: The rep page: header, map and day list; the map above the list on a phone (and sticky, so
#: the stops scroll under it), beside it on a wide screen.
REP_CSS = """
html,body{height:auto!important}
body{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0}
.tp-bar{padding:8px 12px 4px}.tp-bar h1{font-size:18px;margin:0 0 2px;overflow-wrap:anywhere}
.tp-sum{font-size:13px;color:#444;overflow-wrap:anywhere}
.tp-links{display:flex;flex-wrap:wrap;align-items:center;margin-top:4px}
.tp-print-ctl{display:inline-flex;flex-wrap:wrap}
.folium-map{position:sticky!important;top:0;height:42vh!important;min-height:220px;z-index:1;border-top:1px solid #ccc;border-bottom:1px solid #ccc}
.tp-side{padding:4px 12px 40px}
.tp-tap{min-height:44px;display:flex;flex-wrap:wrap;align-items:center;gap:0 8px;cursor:pointer;padding:2px 0}
.tp-tap::before{content:"▸";color:#666;width:12px}details[open]>.tp-tap::before{content:"▾"}
.tp-daylist>summary{font-size:16px}
.tp-day{border-bottom:1px solid #e2e6ea;scroll-margin-top:calc(42vh + 8px)}
.tp-day>summary{padding-left:4px}.tp-day>summary>span:last-child{font-size:13px;color:#333}.tp-day[open]>summary{background:#eef4fb}
.tp-stops{list-style:none;margin:0;padding:0 0 8px}
.tp-stop-item{padding:8px 0;border-top:1px dashed #d5dbe1;overflow-wrap:anywhere}
.tp-num{display:inline-block;min-width:22px;height:22px;border-radius:11px;color:#fff;text-align:center;font:bold 12px/22px system-ui,sans-serif;border:1px solid #222}
.tp-id{color:#666;font-size:12px}.tp-addr{color:#333}
.tp-nav{margin-top:4px}.tp-tel{display:inline-flex;align-items:center;min-height:44px}
.leaflet-bar a{width:40px!important;height:40px!important;line-height:40px!important}
@media (max-width:600px){.tp-print-ctl{display:none}}
@media (min-width:900px){
 html,body{height:100%!important}
 body{display:grid;grid-template-columns:minmax(0,1fr) minmax(360px,34%);grid-template-rows:auto minmax(0,1fr);grid-template-areas:"map bar" "map side"}
 .folium-map{grid-area:map;position:relative!important;height:100%!important;border:0}
 .tp-bar{grid-area:bar;border-left:1px solid #ccc}
 .tp-side{grid-area:side;overflow-y:auto;border-left:1px solid #ccc}
 .tp-day{scroll-margin-top:0}
}
"""

#: The overview map page: the map fills the window (the legend's rules are in maps' CSS); on a
#: phone the zoom buttons grow to a finger's size.
OVERVIEW_CSS = """
@media (max-width:600px){.leaflet-bar a{width:40px!important;height:40px!important;line-height:40px!important}}
"""
