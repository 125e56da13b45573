"""Maps stage: map.html and reps/<rep>.html from a plan folder (the only module importing folium).

folium builds the page: the Leaflet map, the base tiles, one layer (``FeatureGroup``) per rep,
the territory and route layers and the layer control. The content of those layers is drawn by
one small script of our own from a JSON block, so that

* 10,000 customers are 10,000 canvas ``circleMarker`` s in one compact array, not 10,000
  folium ``Marker`` objects with a popup each (popups are built when clicked);
* every text from an input file reaches the page only as JSON data shown through
  ``textContent``, or HTML-escaped by :func:`html.escape` where Leaflet wants HTML (layer names,
  legend); the JSON itself is ``<``/``>``/``&``-escaped so it cannot close the script, and it
  never passes through Jinja (folium re-renders element output as a template, so the few input
  texts folium itself carries, the layer names, have their braces escaped too);
* the page needs Leaflet only (no jQuery, Bootstrap or Font Awesome), which ``offline=True``
  inlines from the asset cache (:mod:`territory.assets`).
"""

from __future__ import annotations

import html
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import folium
from branca.element import Element, Figure, MacroElement

from . import assets, sheets
from .calendars import calendar_link
from .columns import Column as C
from .columns import day_label
from .geometry import territory_polygons
from .htmlutil import (
    PALETTE,
    esc,
    labels,
    num,
    quantity,
    rep_color,
    rep_file_name,
    script_json,
)
from .report import write_text
from .reporthtml import PlanFolder, load_plan_folder, write_report
from .workbook import write_workbook

log = logging.getLogger(__name__)

CLASS_RADIUS = {"A": 7.5, "B": 5.5, "C": 4.0}
OTHER_RADIUS = 4.5
UNASSIGNED_COLOR = "#555555"
MAX_EXPANDED_LAYERS = 14

_CSS = """
.leaflet-container{background:#eef1f4;font:12px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.tp-legend{background:#fff;padding:4px 10px 8px;border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.35);max-height:70vh;max-width:min(520px,calc(100vw - 24px));box-sizing:border-box;overflow-y:auto;overflow-x:hidden}
.tp-legend h4{margin:0 0 4px;font-size:14px}.tp-legend table{border-collapse:collapse}
.tp-legend td{padding:0 4px;white-space:nowrap}.tp-legend td.n{text-align:right}
.tp-legend td.tp-name{white-space:normal;overflow-wrap:anywhere;min-width:6em}
.tp-legend>details>summary{min-height:40px;display:flex;align-items:center;cursor:pointer;font-weight:600;font-size:14px}
.tp-legend>details>summary::before{content:"▸";color:#666;width:14px}.tp-legend>details[open]>summary::before{content:"▾"}
.tp-legend table{width:100%}.tp-legend .tp-btn{min-height:40px;margin-top:6px}
.tp-legend .sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:middle;border:1px solid #333}
.tp-legend .dot{display:inline-block;border-radius:50%;background:#999;border:1px solid #222;vertical-align:middle;margin:0 2px 0 8px}
.tp-legend a{color:#0645ad;text-decoration:none}.tp-legend a:hover{text-decoration:underline}
.tp-legend tr.tp-off{opacity:.45}
.tp-pop th{text-align:left;padding-right:8px;color:#555;font-weight:normal;vertical-align:top}
.tp-pop td{max-width:260px}
.tp-home{border-radius:4px;border:2px solid #fff;box-shadow:0 0 0 1.5px #222;color:#fff;font:bold 14px/18px system-ui,sans-serif;text-align:center}
.tp-stop{border-radius:50%;border:1.5px solid #fff;box-shadow:0 0 0 1px #222;color:#fff;font:bold 11px/17px system-ui,sans-serif;text-align:center}
"""

# The map's own script: draws every layer from the JSON data D onto the folium map and groups.
# Text from input files is only ever set through textContent (el()).
_JS = r"""
(function (D, map, G) {
  "use strict";
  var LB = D.labels;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function table(title, rows) {
    var box = el("div", "tp-pop");
    box.appendChild(el("strong", null, title));
    var t = el("table");
    rows.forEach(function (r) {
      if (r[1] === "" || r[1] === null || r[1] === undefined) return;
      var tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      tr.appendChild(el("td", null, r[1]));
      t.appendChild(tr);
    });
    box.appendChild(t);
    return box;
  }
  function repLabel(r) { return r.name ? r.id + " · " + r.name : r.id; }
  var counts = {polygons: 0, customers: 0, homes: 0, routes: 0, stops: 0};
  var bounds = L.latLngBounds([]);

  D.polygons.forEach(function (p) {
    var r = D.reps[p.t];
    var layer = L.geoJSON(p.geometry, {style: {color: r.color, weight: 2, opacity: 0.9,
      fillColor: r.color, fillOpacity: 0.18}});
    layer.bindTooltip(function () { return el("span", null, repLabel(r)); }, {sticky: true});
    G.territories.addLayer(layer);
    counts.polygons += 1;
  });

  var C = D.customers;
  function customerPopup(i) {
    var t = C.t[i], rep = t >= 0 ? repLabel(D.reps[t]) : C.rep[i];
    return table(LB.customer + " " + C.id[i], [
      [LB.id, C.id[i]], [LB.name, C.name[i]], [LB["class"], C.cls[i]],
      [LB.visits, C.visits[i]], [LB.rep, rep],
      [LB.visit_days, C.days ? (C.days[i] || LB.unscheduled) : ""]]);
  }
  for (var i = 0; i < C.lat.length; i++) {
    var t = C.t[i];
    var m = L.circleMarker([C.lat[i], C.lon[i]], {radius: C.r[i], weight: 1, color: "#222",
      opacity: 0.8, fillColor: t >= 0 ? D.reps[t].color : D.unassigned_color, fillOpacity: 0.9});
    m.bindPopup(customerPopup.bind(null, i));
    (t >= 0 && G.reps[t] ? G.reps[t] : G.other).addLayer(m);
    bounds.extend([C.lat[i], C.lon[i]]);
    counts.customers += 1;
  }

  D.reps.forEach(function (r, t) {
    if (r.lat === null || r.lon === null || !G.reps[t]) return;
    var icon = L.divIcon({className: "", html: '<div class="tp-home" style="background:' +
      r.color + '">\u2302</div>', iconSize: [22, 22], iconAnchor: [11, 11]});
    var h = L.marker([r.lat, r.lon], {icon: icon, zIndexOffset: 1000, keyboard: false});
    h.bindTooltip(function () { return el("span", null, LB.home + ": " + repLabel(r)); });
    h.bindPopup(function () {
      return table(LB.rep + " " + r.id, [[LB.name, r.name], [LB.customers, r.customers],
        [LB.visits, r.visits], [LB.workload, r.workload], [LB.capacity, r.capacity],
        [LB.utilization, r.utilization], [LB.travel, r.travel]]);
    });
    G.reps[t].addLayer(h);
    bounds.extend([r.lat, r.lon]);
    counts.homes += 1;
  });

  D.routes.forEach(function (d, j) {
    var group = G.days ? G.days[j] : G.routes;
    if (!group || d.coords.length < 2) return;
    var n = d.coords.length;
    var out = d.home_leg ? d.coords.slice(0, d.home_from + 1) : d.coords;
    var line = L.polyline(out, {color: d.color, weight: G.days ? 4 : 2.5, opacity: 0.85});
    var info = function () {
      return table(LB.day + " " + d.label, [[LB.rep, d.rep], [LB.depart, d.depart],
        [LB["return"], d["return"]], [LB.visits, d.visits], [LB.travel, d.travel]]);
    };
    line.bindPopup(info);
    group.addLayer(line);
    if (d.home_leg) {
      var home = L.polyline(d.coords.slice(d.home_from), {color: d.color, weight: G.days ? 3 : 2,
        opacity: 0.85, dashArray: "6 6"});
      home.bindTooltip(function () { return el("span", null, d.label + ": " + LB.way_home); });
      group.addLayer(home);
    }
    counts.routes += 1;
    (d.stops || []).forEach(function (s) {
      var icon = L.divIcon({className: "", html: '<div class="tp-stop" style="background:' +
        d.color + '">' + Number(s.seq) + "</div>", iconSize: [20, 20], iconAnchor: [10, 10]});
      var mk = L.marker([s.lat, s.lon], {icon: icon, keyboard: false});
      mk.bindTooltip(function () {
        return el("span", null, d.label + " #" + s.seq + " " + s.arrival + " " + (s.name || s.id));
      });
      mk.bindPopup(function () {
        return table(LB.stop + " " + s.seq + " · " + d.label, [[LB.id, s.id], [LB.name, s.name],
          [LB.arrival, s.arrival], [LB.visits, s.start + "–" + s.end]]);
      });
      group.addLayer(mk);
      bounds.extend([s.lat, s.lon]);
      counts.stops += 1;
    });
  });

  var narrow = window.matchMedia("(max-width: 600px)").matches;
  /* clear of the zoom buttons (left) and the layer switch (right) */
  var pad = {paddingTopLeft: [52, 30], paddingBottomRight: [52, 30]};
  if (D.legend_html) {
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "tp-legend");
      div.innerHTML = D.legend_html;  /* built in Python with every input text html-escaped */
      L.DomEvent.disableScrollPropagation(div);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(map);
    var legendBox = legend.getContainer();
    var fold = legendBox.querySelector("details");
    if (fold && narrow) fold.open = false;  /* a phone starts with the map, the legend one tap away */
    /* keep the data clear of the legend at the left when fitting the view */
    pad.paddingTopLeft = [Math.min(legendBox.offsetWidth + 20, map.getSize().x / 2), 30];
  }
  if (narrow && G.layers) {
    /* an expanded layer list would cover a phone's map: fold it into its icon */
    window.addEventListener("load", function () {
      var lc = G.layers();
      if (lc && !lc.options.collapsed) { lc.remove(); lc.options.collapsed = true; lc.addTo(map); }
    });
  }
  /* Leaflet drops a new view while a zoom animation runs: the first view is set at once */
  var still = L.extend({animate: false}, pad);
  function showDay(k, instant) {
    G.days.forEach(function (g, j) {
      if (k === "all" || j === k) { map.addLayer(g); } else { map.removeLayer(g); }
    });
    var layers = k === "all" ? [] : G.days[k].getLayers();
    var how = instant ? still : pad;
    if (layers.length) { map.fitBounds(L.featureGroup(layers).getBounds(), how); }
    else if (bounds.isValid()) { map.fitBounds(bounds, how); }
  }
  var opened = null;
  if (G.days) {
    var dayEls = Array.prototype.slice.call(document.querySelectorAll("details.tp-day"));
    dayEls.forEach(function (d) {
      d.addEventListener("toggle", function () {
        var k = +d.getAttribute("data-day");
        if (d.open) {
          dayEls.forEach(function (o) { if (o !== d) o.open = false; });
          showDay(k);
        } else if (!dayEls.some(function (o) { return o.open; })) {
          showDay("all");
        }
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-day='all']"), function (b) {
      b.addEventListener("click", function (ev) {
        ev.preventDefault();
        dayEls.forEach(function (o) { o.open = false; });
        showDay("all");
      });
    });
    /* open on the day in the address (#2027-01-13), else today's (or the next working day
       when today falls inside the period), else the first day */
    var keys = dayEls.map(function (d) { return d.getAttribute("data-date"); });
    var wanted = decodeURIComponent(location.hash.replace(/^#(day-)?/, ""));
    var now = new Date();
    var today = now.getFullYear() + "-" + ("0" + (now.getMonth() + 1)).slice(-2) + "-" +
      ("0" + now.getDate()).slice(-2);
    opened = keys.indexOf(wanted);
    if (opened < 0 && keys.length && /^\d{4}-\d{2}-\d{2}$/.test(keys[0]) &&
        today >= keys[0] && today <= keys[keys.length - 1]) {
      opened = keys.findIndex(function (k) { return k >= today; });
    }
    if (opened < 0) opened = keys.length ? 0 : null;
    if (opened !== null) {
      dayEls[opened].open = true;
      if (opened > 0) dayEls[opened].scrollIntoView({block: "start"});
    }
  }
  var printChoice = document.getElementById("tp-print-week");
  var printStyle = document.getElementById("tp-print-style");
  if (printChoice && printStyle) {
    printChoice.addEventListener("change", function () {
      var w = printChoice.value;
      printStyle.textContent = /^\d+$/.test(w) ? "@media print{.tp-sheet:not([data-weeks~='" + w +
        "']){display:none!important}tr[data-week]:not([data-week='" + w + "']){display:none}}" : "";
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  /* one sheet, one printed page: shrink a sheet that would not fit A4 less its margins (the
     print part is laid out at the printed width, out of sight) */
  var pageHeight = 275 * 96 / 25.4 * 0.98;
  Array.prototype.forEach.call(document.querySelectorAll(".tp-sheet"), function (s) {
    var h = s.getBoundingClientRect().height;
    if (h > pageHeight) s.style.zoom = String(Math.floor(pageHeight / h * 1000) / 1000);
  });
  if (opened !== null) { showDay(opened, true); }
  else if (bounds.isValid()) { map.fitBounds(bounds, still); }
  window.territoryMap = {map: map, groups: G, counts: counts, openDay: opened};
})
"""


class _Raw(Element):
    """A piece of page text that is inserted as it is (never run through Jinja again)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: object) -> str:
        return self._text


class _Layers(MacroElement):
    """Adds the map's own script after the map and its groups exist in the page.

    ``after`` is HTML for the page's body after the map's element (which folium adds to the
    body only while the map renders, hence here).
    """

    def __init__(self, script: Callable[[], str], after: str = "") -> None:
        # branca ships py.typed but leaves MacroElement.__init__ unannotated
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "TerritoryLayers"
        self._script = script
        self._after = after

    def render(self, **kwargs: object) -> None:  # type: ignore[override]
        figure = _figure(self)
        figure.script.add_child(_Raw(self._script()), name=self.get_name())
        if self._after:
            figure.html.add_child(_Raw(self._after), name="territory_after")


def _figure(element: Element) -> Figure:
    figure = element.get_root()
    assert isinstance(figure, Figure)  # folium.Map always sits in a Figure
    return figure


def _folium_text(text: str) -> str:
    """Input text for a folium element (layer names, page title): HTML-escaped, braces too.

    folium renders a macro's output and branca renders that output again as a Jinja template,
    so ``{{ ... }}`` in a rep's name would be evaluated (template injection). As HTML entities
    the braces are inert for Jinja and still show as braces where Leaflet uses innerHTML.
    """
    return html.escape(text, quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _coord(value: object) -> float | None:
    x = num(value)
    return round(x, 6) if math.isfinite(x) else None


#: Data handed to the page's script as JSON (a rep, a day route, a stop, the customer arrays).
JsonDict = dict[str, Any]
Row = dict[str, str]


def _day_label(row: Row) -> str:
    """The ``date`` label of a schedule.csv / days.csv row (see :func:`columns.day_label`)."""
    return day_label(row.get(C.WEEK, ""), row.get(C.WEEKDAY, ""), row.get(C.DATE) or "")


NL_WEEKDAYS = {
    "mon": "ma",
    "tue": "di",
    "wed": "wo",
    "thu": "do",
    "fri": "vr",
    "sat": "za",
    "sun": "zo",
}


def _day_title(row: Row, lang: str) -> str:
    """The day as a manager reads it: 'wed 2027-01-06' (or 'w1-wed' without a start date)."""
    date = (row.get(C.DATE) or "").strip()
    weekday = (row.get(C.WEEKDAY) or "").strip()
    if lang == "nl":
        weekday = NL_WEEKDAYS.get(weekday, weekday)
    return f"{weekday} {date}".strip() if date else _day_label(row)


def _hours(value: object, lang: str) -> str:
    return quantity(value, "h", lang) if math.isfinite(num(value)) else ""


def _percent(value: object, lang: str) -> str:
    return quantity(value, "share", lang) if math.isfinite(num(value)) else ""


def _reps_data(folder: PlanFolder, lang: str) -> list[JsonDict]:
    reps = []
    for i, r in enumerate(folder.territories):
        travel = _hours(r.get(C.TRAVEL_HOURS), lang)
        km = num(r.get(C.TRAVEL_KM))
        if math.isfinite(km):
            travel = f"{travel} · {quantity(km, 'km', lang)}"
        reps.append(
            {
                "id": r.get(C.REP_ID, ""),
                "name": r.get(C.REP_NAME, ""),
                "color": rep_color(i),
                "lat": _coord(r.get(C.HOME_LAT)),
                "lon": _coord(r.get(C.HOME_LON)),
                "customers": r.get(C.CUSTOMERS, ""),
                "visits": r.get(C.VISITS, ""),
                "workload": _hours(r.get(C.WORKLOAD_HOURS), lang),
                "capacity": _hours(r.get(C.CAPACITY_HOURS), lang),
                "utilization": _percent(r.get(C.UTILIZATION), lang),
                "travel": travel,
            }
        )
    return reps


def _visit_days(folder: PlanFolder, lang: str) -> dict[str, list[str]]:
    days: dict[str, list[str]] = defaultdict(list)
    for row in folder.schedule or []:
        days[row.get(C.CUSTOMER_ID, "")].append(_day_title(row, lang))
    return days


def _customers_data(
    folder: PlanFolder,
    rep_index: dict[str, int],
    visit_days: dict[str, list[str]] | None,
) -> dict[str, list[Any]]:
    """Customers as parallel arrays (compact for 10k+ customers)."""
    cols: dict[str, list[Any]] = {
        k: [] for k in ("lat", "lon", "t", "r", "id", "name", "cls", "visits", "rep")
    }
    if visit_days is not None:
        cols["days"] = []
    for row in folder.assignments:
        lat, lon = _coord(row.get(C.LAT)), _coord(row.get(C.LON))
        if lat is None or lon is None:
            continue
        t = rep_index.get(row.get(C.REP_ID, ""), -1)
        cls = (row.get(C.CLASS) or "").strip()
        cols["lat"].append(lat)
        cols["lon"].append(lon)
        cols["t"].append(t)
        cols["r"].append(CLASS_RADIUS.get(cls.upper(), OTHER_RADIUS))
        cols["id"].append(row.get(C.CUSTOMER_ID, ""))
        cols["name"].append(row.get(C.NAME, ""))
        cols["cls"].append(cls)
        cols["visits"].append(row.get(C.VISITS, ""))
        cols["rep"].append(row.get(C.REP_ID, ""))
        if visit_days is not None:
            cols["days"].append(", ".join(visit_days.get(row.get(C.CUSTOMER_ID, ""), [])))
    return cols


def _polygons(folder: PlanFolder, rep_index: dict[str, int]) -> list[JsonDict]:
    """Territory areas: from territories.geojson when present, else computed here."""
    out: list[JsonDict] = []
    gj = folder.territories_geojson
    if gj and gj.get("features"):
        for feature in gj["features"]:
            t = rep_index.get(str((feature.get("properties") or {}).get(C.REP_ID, "")), -1)
            if t >= 0 and feature.get("geometry"):
                out.append({"t": t, "geometry": feature["geometry"]})
        return out
    lat, lon, assignment = [], [], []
    for row in folder.assignments:
        lat.append(num(row.get(C.LAT)))
        lon.append(num(row.get(C.LON)))
        assignment.append(rep_index.get(row.get(C.REP_ID, ""), -1))
    geoms = territory_polygons(lat, lon, assignment, len(rep_index))
    return [{"t": t, "geometry": g} for t, g in enumerate(geoms) if g is not None]


def _home_from(coords: list[list[float]], day_stops: list[JsonDict]) -> int:
    """Index in a day's line where the way home starts: the last stop (a road line passes
    through every stop's own coordinates; a straight one is home, stops, home)."""
    if day_stops:
        last = [round(day_stops[-1]["lat"], 6), round(day_stops[-1]["lon"], 6)]
        for i in range(len(coords) - 2, -1, -1):
            if [round(coords[i][0], 6), round(coords[i][1], 6)] == last:
                return i
    return max(len(coords) - 2, 0)


def _routes(
    folder: PlanFolder,
    rep_index: dict[str, int],
    reps: list[JsonDict],
    lang: str,
) -> list[JsonDict]:
    """One entry per rep day: the line (home -> stops -> home) and its stops."""
    if not folder.has_plan:
        return []
    stops: dict[tuple[str, str], list[JsonDict]] = defaultdict(list)
    for row in folder.schedule or []:
        lat, lon = _coord(row.get(C.LAT)), _coord(row.get(C.LON))
        if lat is None or lon is None:
            continue
        stops[(row.get(C.REP_ID, ""), _day_label(row))].append(
            {
                "seq": int(num(row.get(C.SEQ), 0)),
                "lat": lat,
                "lon": lon,
                "id": row.get(C.CUSTOMER_ID, ""),
                "name": row.get(C.CUSTOMER_NAME, ""),
                "arrival": row.get(C.ARRIVAL, ""),
                "start": row.get(C.START, ""),
                "end": row.get(C.END, ""),
            }
        )
    lines: dict[tuple[str, str], list[list[float]]] = {}
    for feature in (folder.routes_geojson or {}).get("features", []) or []:
        props = feature.get("properties") or {}
        geom = feature.get("geometry") or {}
        if geom.get("type") != "LineString":
            continue
        key = (str(props.get(C.REP_ID, "")), _day_label({k: str(v) for k, v in props.items()}))
        lines[key] = [[round(c[1], 6), round(c[0], 6)] for c in geom.get("coordinates", [])]
    out = []
    day_rows = folder.days
    if day_rows is None:  # schedule without days.csv: derive the days from the stops
        day_rows = [
            {C.REP_ID: rid, C.DATE: label, C.VISITS: str(len(s))}
            for (rid, label), s in stops.items()
        ]
    for row in day_rows:
        rid = row.get(C.REP_ID, "")
        t = rep_index.get(rid, -1)
        if t < 0:
            continue
        label = _day_label(row)
        day_stops = sorted(stops.get((rid, label), []), key=lambda s: s["seq"])
        coords = lines.get((rid, label))
        rep = reps[t]
        if coords is None:
            home = [[rep["lat"], rep["lon"]]] if rep["lat"] is not None else []
            coords = home + [[s["lat"], s["lon"]] for s in day_stops] + home
        km = num(row.get(C.TRAVEL_KM))
        travel = _hours(num(row.get(C.TRAVEL_MIN)) / 60.0, lang)
        if math.isfinite(km):
            travel = f"{travel} · {quantity(km, 'km', lang, 1)}"
        out.append(
            {
                "t": t,
                "rep": rid + (f" · {rep['name']}" if rep["name"] else ""),
                "key": label,
                "label": _day_title(row, lang) if folder.days is not None else label,
                "coords": coords,
                "home_leg": bool(day_stops) and rep["lat"] is not None,
                "home_from": _home_from(coords, day_stops),
                "depart": row.get(C.DEPART, ""),
                "return": row.get(C.RETURN, ""),
                "visits": row.get(C.VISITS, ""),
                "travel": travel,
                "stops": day_stops,
                # for the day list and the print sheets (not sent to the overview's script)
                "date": row.get(C.DATE) or "",
                "week": row.get(C.WEEK) or "",
                "weekday": row.get(C.WEEKDAY) or "",
                "km": row.get(C.TRAVEL_KM) or "",
                "minutes": row.get(C.TRAVEL_MIN) or "",
                "lunch": row.get(C.LUNCH_START) or "",
            }
        )
    return out


def _class_key(lab: dict[str, str], classes: Iterable[str]) -> str:
    dots = "".join(
        f'<span class="dot" style="width:{2 * CLASS_RADIUS.get(c, OTHER_RADIUS):.0f}px;'
        f'height:{2 * CLASS_RADIUS.get(c, OTHER_RADIUS):.0f}px"></span>{esc(c)}'
        for c in sorted(set(classes))
        if c
    )
    return f"<div>{esc(lab['marker_size'])}: {dots}</div>" if dots else ""


def _overview_legend(
    reps: list[JsonDict],
    lab: dict[str, str],
    rep_files: dict[str, str],
    classes: Iterable[str],
    weeks: list[int],
) -> str:
    rows = []
    for r in reps:
        name = esc(r["id"]) + (f" · {esc(r['name'])}" if r["name"] else "")
        link = (
            f' <a href="reps/{esc(quote(rep_files[r["id"]]))}">{esc(lab["legend_rep_map"])}</a>'
            if r["id"] in rep_files
            else ""
        )
        rows.append(
            f'<tr><td><span class="sw" style="background:{r["color"]}"></span></td>'
            f'<td class="tp-name">{name}{link}</td><td class="n">{esc(r["workload"])}</td>'
            f'<td class="n">{esc(r["utilization"])}</td></tr>'
        )
    return (
        f"<details open><summary>{esc(lab['overview_title'])}</summary>"
        f"<table><tr><th></th><th>{esc(lab['rep'])}</th>"
        f"<th>{esc(lab['workload'])}</th><th>{esc(lab['utilization'])}</th></tr>"
        + "".join(rows)
        + "</table>"
        + _class_key(lab, classes)
        + sheets.print_control(lab, weeks, lab["print_hint_overview"])
        + "</details>"
    )


def _weeks(days: Iterable[JsonDict]) -> list[int]:
    """The weeks of the period that have days, in order (for the print choice)."""
    return sorted({int(num(d["week"], 0)) for d in days if num(d["week"], 0) > 0})


def _new_map(
    title: str,
    center: tuple[float, float],
    offline_assets: assets.InlineAssets | None,
    tiles: str | None,
) -> folium.Map:
    m = folium.Map(
        location=list(center),
        zoom_start=9,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        zoom_snap=0.25,  # fit the data closely, not to the next whole zoom level
    )
    # Leaflet is the only library the page needs (see the module docstring).
    if offline_assets is None:
        m.default_js = [("leaflet", assets.LEAFLET_CDN_JS)]
        m.default_css = [("leaflet_css", assets.LEAFLET_CDN_CSS)]
    else:
        m.default_js = []
        m.default_css = []
        js = offline_assets.js.replace("</script", "<\\/script")
        _figure(m).header.add_child(
            _Raw(f"<style>{offline_assets.css}</style>\n<script>{js}</script>"), name="leaflet"
        )
    _figure(m).header.add_child(_Raw(f"<style>{_CSS}</style>"), name="territory_css")
    _figure(m).title = _folium_text(title)
    if tiles:
        folium.TileLayer(
            tiles, name="OpenStreetMap" if tiles == "OpenStreetMap" else tiles, control=False
        ).add_to(m)
    return m


def _deterministic_ids(m: folium.Map) -> None:
    """Replace folium's random element ids by a counter: same folder, same bytes."""
    counter = 0
    stack = [m.get_root()]
    while stack:
        element = stack.pop(0)
        element._id = f"{counter:08d}"
        counter += 1
        stack.extend(element._children.values())


def _page(
    m: folium.Map,
    groups: dict[str, Any],
    data: JsonDict,
    layer_control_size: int,
    *,
    css: str = "",
    before: str = "",
    after: str = "",
) -> str:
    """The page's HTML: the map, ``before``/``after`` it in the body, ``css`` in the head."""
    layer_control = folium.LayerControl(collapsed=layer_control_size > MAX_EXPANDED_LAYERS)

    def script() -> str:
        names = {
            key: (
                [g.get_name() if g is not None else "null" for g in value]
                if isinstance(value, list)
                else value.get_name()
            )
            for key, value in groups.items()
        }
        g_js = (
            "{"
            + ",".join(
                f"{key}:[{','.join(v)}]" if isinstance(v, list) else f"{key}:{v}"
                for key, v in names.items()
            )
            + "}"
        )
        # the layer control is declared later in the page: handed over as a getter
        g_js = g_js[:-1] + f",layers:function(){{return {layer_control.get_name()};}}}}"
        return f"{_JS}({script_json(data)}, {m.get_name()}, {g_js});\n"

    _Layers(script, after).add_to(m)
    layer_control.add_to(m)
    figure = _figure(m)
    if css:
        figure.header.add_child(_Raw(f"<style>{css}</style>"), name="territory_page_css")
    if before:
        figure.html.add_child(_Raw(before), name="territory_before", index=0)
    _deterministic_ids(m)
    return m.get_root().render()


def _center(lat: list[float], lon: list[float]) -> tuple[float, float]:
    if not lat:
        return (52.1, 5.3)
    return (round((min(lat) + max(lat)) / 2, 6), round((min(lon) + max(lon)) / 2, 6))


#: Day fields that the day list and the print sheets use and the map's script does not.
_PAGE_ONLY = frozenset({"stops", "date", "week", "weekday", "km", "minutes", "lunch"})


def _script_days(days: list[JsonDict], *, stops: bool) -> list[JsonDict]:
    keep_stops = {"stops"} if stops else set()
    return [{k: v for k, v in d.items() if k not in _PAGE_ONLY - keep_stops} for d in days]


@dataclass
class _Pages:
    """What every page of one render shares; writes the overview and the rep pages."""

    folder: PlanFolder
    lab: dict[str, str]
    lang: str
    inline: assets.InlineAssets | None
    tiles: str | None
    reps: list[JsonDict]
    polygons: list[JsonDict]
    customers: dict[str, list[Any]]

    def overview(self, routes: list[JsonDict], rep_files: dict[str, str]) -> Path:
        """map.html: every territory, customer and home; one printed page per rep."""
        lab, reps, customers = self.lab, self.reps, self.customers
        lat = customers["lat"] + [r["lat"] for r in reps if r["lat"] is not None]
        lon = customers["lon"] + [r["lon"] for r in reps if r["lon"] is not None]
        m = _new_map(lab["overview_title"], _center(lat, lon), self.inline, self.tiles)
        territories_fg = folium.FeatureGroup(name=_folium_text(lab["territories"])).add_to(m)
        rep_fgs: list[Element | None] = []
        for r in reps:
            label = r["id"] + (f" · {r['name']}" if r["name"] else "")
            rep_fgs.append(folium.FeatureGroup(name=_folium_text(label)).add_to(m))
        other_fg = folium.FeatureGroup(name="–", control=False).add_to(m)
        groups: dict[str, Any] = {"territories": territories_fg, "reps": rep_fgs, "other": other_fg}
        if routes:
            groups["routes"] = folium.FeatureGroup(
                name=_folium_text(lab["routes"]), show=False
            ).add_to(m)
        weeks = _weeks(routes)
        data = {
            "labels": lab,
            "reps": reps,
            "polygons": self.polygons,
            "customers": customers,
            "routes": _script_days(routes, stops=False),
            "unassigned_color": UNASSIGNED_COLOR,
            "legend_html": _overview_legend(reps, lab, rep_files, customers["cls"], weeks),
        }
        printed = sheets.overview_sheets(reps, self.folder.territories, routes, lab, self.lang)
        out = self.folder.path / "map.html"
        html_text = _page(
            m, groups, data, len(reps) + 2, css=sheets.BASE_CSS + sheets.OVERVIEW_CSS, after=printed
        )
        write_text(out, html_text)
        return out

    def rep_page(
        self,
        t: int,
        days: list[JsonDict],
        details: dict[str, sheets.CustomerDetails],
        file_name: str,
    ) -> Path:
        """reps/<rep>.html: the rep's map and day list; one printed page per working day."""
        lab, rep, customers = self.lab, self.reps[t], self.customers
        keep = [i for i, owner in enumerate(customers["t"]) if owner == t]
        mine = {key: [values[i] for i in keep] for key, values in customers.items()}
        lat = mine["lat"] + ([rep["lat"]] if rep["lat"] is not None else [])
        lon = mine["lon"] + ([rep["lon"]] if rep["lon"] is not None else [])
        m = _new_map(
            lab["rep_title"].format(rep=rep["id"]), _center(lat, lon), self.inline, self.tiles
        )
        territories_fg = folium.FeatureGroup(name=_folium_text(lab["territories"])).add_to(m)
        label = rep["id"] + (f" · {rep['name']}" if rep["name"] else "")
        own_fg = folium.FeatureGroup(name=_folium_text(f"{lab['customers']}: {label}")).add_to(m)
        # the script indexes groups by territory: only this rep's slot holds a layer
        rep_fgs = [own_fg if i == t else None for i in range(len(self.reps))]
        other_fg = folium.FeatureGroup(name="–", control=False).add_to(m)
        day_fgs = [
            folium.FeatureGroup(name=_folium_text(f"{d['label']} ({d['visits']})")).add_to(m)
            for d in days
        ]
        groups = {
            "territories": territories_fg,
            "reps": rep_fgs,
            "other": other_fg,
            "days": day_fgs,
        }
        data = {
            "labels": lab,
            "reps": self.reps,
            "polygons": [p for p in self.polygons if p["t"] == t],
            "customers": mine,
            "routes": _script_days(days, stops=True),
            "unassigned_color": UNASSIGNED_COLOR,
            "legend_html": "",
        }
        calendar = calendar_link(self.folder.path, rep["id"], lab["calendar_link"])
        header = sheets.rep_header(rep, lab, _weeks(days), calendar)
        day_list = sheets.rep_day_list(days, details, lab, self.lang)
        printed = sheets.rep_day_sheets(rep, days, details, lab, self.lang)
        out = self.folder.path / "reps" / file_name
        html_text = _page(
            m,
            groups,
            data,
            len(days) + 2,
            css=sheets.BASE_CSS + sheets.REP_CSS,
            before=header,
            after=day_list + printed,
        )
        write_text(out, html_text)
        return out


def render(
    plan_dir: Path | str,
    *,
    lang: str = "en",
    offline: bool = False,
    tiles: str | None = "OpenStreetMap",
) -> list[Path]:
    """Render the maps, the report and the workbook of a plan folder.

    Parameters
    ----------
    plan_dir
        A folder written by ``territory design`` or ``territory plan``; only its files are read
        (assignments.csv and territories.csv at least; schedule/days/routes when planned).
    lang
        Labels in "en" or "nl".
    offline
        Inline Leaflet from the asset cache so the pages need no network (base tiles aside).
    tiles
        Base map tiles (a folium tiles name or URL template); None for no base map.

    Returns
    -------
    list of Path
        ``map.html``, ``reps/<rep>.html`` per rep, ``report.html`` and ``plan.xlsx``.

    Raises
    ------
    InputError
        When the folder is not a plan folder or ``lang`` is unknown.
    AssetsMissingError
        With ``offline=True`` and an empty asset cache (one line saying how to fill it).
    """
    lab = labels(lang)
    inline = assets.load_inline() if offline else None
    folder = load_plan_folder(plan_dir)
    rep_index = {r.get("rep_id", ""): i for i, r in enumerate(folder.territories)}
    reps = _reps_data(folder, lang)
    rep_files = {r["id"]: rep_file_name(r["id"]) for r in reps}
    polygons = _polygons(folder, rep_index)
    visit_days = _visit_days(folder, lang) if folder.has_plan else None
    customers = _customers_data(folder, rep_index, visit_days)
    routes = _routes(folder, rep_index, reps, lang)
    for d in routes:
        d["color"] = reps[d["t"]]["color"]
    page = _Pages(folder, lab, lang, inline, tiles, reps, polygons, customers)
    written = [page.overview(routes, rep_files)]
    (folder.path / "reps").mkdir(exist_ok=True)
    details = sheets.customer_details(folder.assignments, lab)
    for t, rep in enumerate(reps):
        days = [dict(d) for d in routes if d["t"] == t]
        for j, d in enumerate(days):
            d["color"] = PALETTE[j % len(PALETTE)]
        written.append(page.rep_page(t, days, details, rep_files[rep["id"]]))

    # Maps of reps no longer in the folder's plan would mislead: remove them.
    current = {p.name for p in written}
    for stale in sorted((folder.path / "reps").glob("*.html")):
        if stale.name not in current:
            stale.unlink()
    written.append(write_report(folder, lang=lang, rep_files=rep_files))
    written.append(write_workbook(folder.path, lang=lang))
    return written
