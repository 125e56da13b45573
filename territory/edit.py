"""Editing stage: ``edit.html``, one self-contained page to move customers between reps by hand.

``territory edit DIR`` reads a design or plan folder (assignments.csv, territories.csv,
summary.json) and writes ``DIR/edit.html``. The page draws the territories and customers on a
canvas over a Leaflet map and lets a manager select customers (click, shift-click, rectangle,
lasso), give them to another rep, lock and unlock them, undo and redo, and export the split as
``customer_id,rep_id,locked``, which ``design``/``plan``/``evaluate --assignments`` read.

The figures it shows follow every move and are those of ``territory evaluate`` (the design
stage's workload model): per territory the sum of the customers' ``workload_min`` (visits x
(minutes + travel allowance); the allowance does not depend on the split), the target as the
territory's share of the team's working time (``workload.rep_capacity_min``, from
territories.csv's ``capacity_hours``), and whether the territory is one connected piece of the
design's neighbourhood graph (:func:`territory.districting.neighbour_lists` over the same
coordinates; its edges are embedded in the page).

Every text from an input file reaches the page only as JSON data shown through
``textContent`` or drawn on the canvas; the JSON is ``<``/``>``/``&``-escaped so it cannot
close its script element. A Content-Security-Policy allows no connection at all: with
``offline=True`` Leaflet is inlined from the asset cache and there are no base-map tiles, so
the page asks nothing of the network; online it loads Leaflet from jsDelivr (with subresource
integrity) and tiles from tile.openstreetmap.org, and nothing else.
"""

from __future__ import annotations

import html
import logging
import math
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import assets
from .columns import Column as C
from .exceptions import InputError
from .htmlutil import num, rep_color, script_json
from .params import Config
from .report import write_text
from .reporthtml import PlanFolder, load_plan_folder

log = logging.getLogger(__name__)

#: The page's file name inside the plan folder.
EDIT_FILE = "edit.html"
#: Subresource integrity of Leaflet 1.9.4 on the CDN (the hashes leafletjs.com publishes;
#: a test checks them against the files of the asset cache).
LEAFLET_JS_SRI = "sha256-20nQCchB9co0qIjJZRGuk2/Z9VM+kNiyxNV1lvTlZBo="
LEAFLET_CSS_SRI = "sha256-p4NxAoJBhIIN+hmNHrzRCf9tD/miZyoHS5obTRR9BMY="
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILE_ORIGIN = "https://tile.openstreetmap.org"
CDN_ORIGIN = "https://cdn.jsdelivr.net"
#: Marker radius (px) by customer class on the page.
CLASS_RADIUS = {"A": 5.5, "B": 4.5, "C": 3.5}
OTHER_RADIUS = 4.0

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "lang": "en",
        "decimal_mark": ".",
        "thousands": ",",
        "title": "Edit territories",
        "summary": "{customers} customers · {reps} territories · from {folder}",
        "figures_note": "Figures as territory evaluate computes them: visits x (minutes + "
        "travel allowance); utilisation includes admin time. Routed figures of a plan are in "
        "report.html.",
        "tool_pan": "Click / pan",
        "tool_rect": "Rectangle",
        "tool_lasso": "Lasso",
        "undo": "Undo",
        "redo": "Redo",
        "export": "Export CSV",
        "export_title": "Save the split as customer_id,rep_id,locked for --assignments",
        "selected": "Selected",
        "none_selected": "No customers selected: click one, shift-click to add, or draw a "
        "rectangle or lasso.",
        "selection": "{n} customers selected · {visits} visits · {hours} h",
        "give_to": "Give to",
        "give": "Give",
        "give_here": "Give the selection to {rep}",
        "lock": "Lock",
        "unlock": "Unlock",
        "clear": "Clear",
        "rep": "Rep",
        "customers": "Customers",
        "visits": "Visits",
        "workload_h": "Workload h",
        "utilisation": "Utilisation",
        "deviation": "Deviation",
        "potential": "Potential k€",
        "connected": "Connected (pieces when not)",
        "headers": "Rep|Cust.|Visits|Work h|Util.|Dev.|Pot. k€|Conn.",
        "yes": "yes",
        "no_pieces": "no ({pieces})",
        "total": "Total",
        "worst_deviation": "Largest deviation from target: {dev} ({rep}); band ±{tol}",
        "connected_count": "Connected territories: {n} of {k}",
        "changed_count": "Customers with another rep than in the folder: {n}",
        "locked_count": "Locked customers: {n}",
        "moved_status": "Gave {n} customers to {rep}.",
        "kept_status": "{n} locked customers stayed with their rep.",
        "nothing_moved": "Nothing to move: the selected customers are locked or already there.",
        "locked_status": "Locked {n} customers.",
        "unlocked_status": "Unlocked {n} customers.",
        "undone": "Undone.",
        "redone": "Redone.",
        "nothing_undo": "Nothing to undo.",
        "nothing_redo": "Nothing to redo.",
        "exported": "Saved {file}. Use it with --assignments.",
        "legend_customer": "customer (size: class A > B > C)",
        "legend_locked": "locked customer",
        "legend_selected": "selected",
        "legend_home": "rep home",
        "help": "Click a customer to select it, shift-click to add or remove one, or pick "
        "Rectangle or Lasso and drag. Click a rep's name to select the whole territory. Give "
        "moves the selection (locked customers stay). Ctrl+Z / Ctrl+Y undo and redo, Esc "
        "clears the selection.",
        "class": "class",
        "rep_of": "rep",
        "no_leaflet": "The map library (Leaflet) could not be loaded from the internet. Write "
        "the page with: territory edit DIR --offline",
    },
    "nl": {
        "lang": "nl",
        "decimal_mark": ",",
        "thousands": ".",
        "title": "Rayons bewerken",
        "summary": "{customers} klanten · {reps} rayons · uit {folder}",
        "figures_note": "Cijfers zoals territory evaluate ze berekent: bezoeken x (minuten + "
        "reistijdtoeslag); bezetting inclusief administratie. Gerouteerde cijfers van een "
        "planning staan in report.html.",
        "tool_pan": "Klik / schuif",
        "tool_rect": "Rechthoek",
        "tool_lasso": "Lasso",
        "undo": "Ongedaan maken",
        "redo": "Opnieuw",
        "export": "CSV opslaan",
        "export_title": "De verdeling opslaan als customer_id,rep_id,locked voor --assignments",
        "selected": "Geselecteerd",
        "none_selected": "Geen klanten geselecteerd: klik er een aan, shift-klik om toe te "
        "voegen, of trek een rechthoek of lasso.",
        "selection": "{n} klanten geselecteerd · {visits} bezoeken · {hours} uur",
        "give_to": "Geef aan",
        "give": "Geef",
        "give_here": "Geef de selectie aan {rep}",
        "lock": "Vastzetten",
        "unlock": "Vrijgeven",
        "clear": "Wissen",
        "rep": "Vertegenwoordiger",
        "customers": "Klanten",
        "visits": "Bezoeken",
        "workload_h": "Werklast uur",
        "utilisation": "Bezetting",
        "deviation": "Afwijking",
        "potential": "Potentieel k€",
        "connected": "Aaneengesloten (anders: aantal delen)",
        "headers": "Verteg.|Klant.|Bez.|Werk u|Bezet.|Afw.|Pot. k€|Aaneen",
        "yes": "ja",
        "no_pieces": "nee ({pieces})",
        "total": "Totaal",
        "worst_deviation": "Grootste afwijking van het doel: {dev} ({rep}); band ±{tol}",
        "connected_count": "Aaneengesloten rayons: {n} van {k}",
        "changed_count": "Klanten met een andere vertegenwoordiger dan in de map: {n}",
        "locked_count": "Vastgezette klanten: {n}",
        "moved_status": "{n} klanten gegeven aan {rep}.",
        "kept_status": "{n} vastgezette klanten bleven bij hun vertegenwoordiger.",
        "nothing_moved": "Niets te verplaatsen: de geselecteerde klanten staan vast of zijn er al.",
        "locked_status": "{n} klanten vastgezet.",
        "unlocked_status": "{n} klanten vrijgegeven.",
        "undone": "Ongedaan gemaakt.",
        "redone": "Opnieuw gedaan.",
        "nothing_undo": "Niets om ongedaan te maken.",
        "nothing_redo": "Niets om opnieuw te doen.",
        "exported": "{file} opgeslagen. Gebruik het met --assignments.",
        "legend_customer": "klant (grootte: klasse A > B > C)",
        "legend_locked": "vastgezette klant",
        "legend_selected": "geselecteerd",
        "legend_home": "thuisbasis",
        "help": "Klik een klant aan om hem te selecteren, shift-klik om er een toe te voegen "
        "of weg te halen, of kies Rechthoek of Lasso en sleep. Klik op de naam van een "
        "vertegenwoordiger om het hele rayon te selecteren. Geef verplaatst de selectie "
        "(vastgezette klanten blijven). Ctrl+Z / Ctrl+Y: ongedaan maken en opnieuw, Esc wist "
        "de selectie.",
        "class": "klasse",
        "rep_of": "vertegenwoordiger",
        "no_leaflet": "De kaartbibliotheek (Leaflet) kon niet van internet worden geladen. "
        "Maak de pagina met: territory edit MAP --offline",
    },
}

#: The name the page's export is saved under (not assignments.csv: saved into the plan folder,
#: that name would replace the folder's own, richer table).
EXPORT_FILE = "edited-assignments.csv"


def write_editor(
    plan_dir: str | Path, *, lang: str = "en", offline: bool = False, tiles: bool | None = None
) -> Path:
    """Write ``edit.html`` into a design or plan folder.

    Parameters
    ----------
    plan_dir
        A folder written by ``territory design`` or ``territory plan``.
    lang
        Labels in "en" or "nl".
    offline
        Inline Leaflet from the asset cache and draw no base-map tiles: the page then makes no
        network request at all.
    tiles
        Base-map tiles from tile.openstreetmap.org; default: on unless ``offline``.

    Returns
    -------
    Path
        The page written.

    Raises
    ------
    InputError
        Not a plan folder, an unknown ``lang``, or a customer without coordinates or with a
        rep that territories.csv does not list.
    AssetsMissingError
        ``offline`` with an empty asset cache (one line saying how to fill it).
    """
    if lang not in LABELS:
        raise InputError(f"language '{lang}' is not supported; use one of: {', '.join(LABELS)}")
    inline = assets.load_inline() if offline else None
    folder = load_plan_folder(plan_dir)
    data = editor_data(folder, lang=lang, tiles=(not offline) if tiles is None else tiles)
    out = folder.path / EDIT_FILE
    write_text(out, editor_page(data, inline))
    n_customers, n_reps = len(data["customers"]["id"]), len(data["reps"])
    log.info("edit: %d customers, %d territories -> %s", n_customers, n_reps, out)
    return out


def editor_data(folder: PlanFolder, *, lang: str = "en", tiles: bool = True) -> dict[str, Any]:
    """The page's data: reps, customers as parallel arrays, the neighbourhood graph, labels.

    Raises
    ------
    InputError
        A customer without coordinates or workload, or with a rep territories.csv lacks.
    """
    reps = _reps(folder)
    index = {r["id"]: t for t, r in enumerate(reps)}
    customers = _customers(folder, index)
    lat = np.array(customers["lat"], dtype=np.float64)
    lon = np.array(customers["lon"], dtype=np.float64)
    edges, triangles = neighbourhood(lat, lon)
    return {
        "version": 1,
        "folder": folder.path.resolve().name,
        "kind": "plan" if folder.has_plan else "design",
        "labels": LABELS[lang],
        "tolerance": _tolerance(folder),
        "tiles": bool(tiles),
        "tile_url": TILE_URL,
        "export_file": EXPORT_FILE,
        "reps": reps,
        "customers": customers,
        "edges": edges.ravel().tolist(),
        "triangles": triangles.ravel().tolist(),
    }


def neighbourhood(
    lat: NDArray[np.float64], lon: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The design's neighbourhood graph over the customers, and triangles to fill areas with.

    Returns
    -------
    edges
        (m, 2) customer index pairs, i < j: the graph of
        :func:`territory.districting.neighbour_lists` over the same projected coordinates as
        the design and ``evaluate``, so connectedness on the page is theirs.
    triangles
        (t, 3) customer indices of the Delaunay triangles (over distinct locations) whose three
        sides are edges of that graph: the page fills those whose corners share a territory,
        so the areas follow every move and long crossings (water) stay empty.
    """
    from .districting import neighbour_lists
    from .travel import project_km

    n = len(lat)
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros((0, 3), dtype=np.int64)
    xy = project_km(lat, lon)
    nbrs = neighbour_lists(xy)
    pairs = [(i, j) for i, lst in enumerate(nbrs) for j in lst if i < j]
    edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return edges, _triangles(xy, edges)


def _triangles(xy: NDArray[np.float64], edges: NDArray[np.int64]) -> NDArray[np.int64]:
    """Delaunay triangles of the distinct locations whose sides are all graph edges."""
    from scipy.spatial import Delaunay, QhullError

    n = len(xy)
    _, first, rep_of = np.unique(xy, axis=0, return_index=True, return_inverse=True)
    rep_of = rep_of.ravel()
    points = xy[first]
    if len(points) < 3:
        return np.zeros((0, 3), dtype=np.int64)
    try:
        simplices = Delaunay(points).simplices
    except QhullError:  # all on a line
        return np.zeros((0, 3), dtype=np.int64)
    tri: NDArray[np.int64] = first[simplices].astype(np.int64)  # a customer per location
    # graph edges between locations (duplicates fold onto their location's first customer)
    a, b = first[rep_of[edges[:, 0]]], first[rep_of[edges[:, 1]]]
    known = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    keep = np.ones(len(tri), dtype=bool)
    for u, v in ((0, 1), (1, 2), (0, 2)):
        lo, hi = np.minimum(tri[:, u], tri[:, v]), np.maximum(tri[:, u], tri[:, v])
        keep &= np.isin(lo * n + hi, known)
    return tri[keep]


def _tolerance(folder: PlanFolder) -> float:
    """``[territory] tolerance`` of the run (summary.json), else the default."""
    config = (folder.summary or {}).get("config") or {}
    territory = config.get("territory") if isinstance(config, dict) else None
    value = num((territory or {}).get("tolerance")) if isinstance(territory, dict) else math.nan
    return value if math.isfinite(value) and value >= 0 else Config().territory.tolerance


def _reps(folder: PlanFolder) -> list[dict[str, Any]]:
    reps = []
    for t, row in enumerate(folder.territories):
        cap = num(row.get(C.CAPACITY_HOURS), 0.0)
        admin = num(row.get(C.ADMIN_HOURS), 0.0)
        lat, lon = num(row.get(C.HOME_LAT)), num(row.get(C.HOME_LON))
        reps.append(
            {
                "id": row.get(C.REP_ID, ""),
                "name": row.get(C.REP_NAME, ""),
                "color": rep_color(t),
                "lat": round(lat, 6) if math.isfinite(lat) else None,
                "lon": round(lon, 6) if math.isfinite(lon) else None,
                "capacity_min": round(cap * 60, 3) if math.isfinite(cap) else 0.0,
                "admin_min": round(admin * 60, 3) if math.isfinite(admin) else 0.0,
            }
        )
    return reps


def _customers(folder: PlanFolder, index: dict[str, int]) -> dict[str, list[Any]]:
    """Customers as parallel arrays in input order (compact for 10,000+ customers)."""
    cols: dict[str, list[Any]] = {
        key: []
        for key in ("id", "name", "cls", "lat", "lon", "r", "visits", "workload_min",
                    "potential", "t", "locked")
    }  # fmt: skip
    source = folder.path / "assignments.csv"
    for number, row in enumerate(folder.assignments, start=2):
        cid = row.get(C.CUSTOMER_ID, "")
        rep = row.get(C.REP_ID, "")
        lat, lon = num(row.get(C.LAT)), num(row.get(C.LON))
        workload = num(row.get(C.WORKLOAD_MIN))
        where = f"{source}, row {number}: customer '{cid}'"
        if rep not in index:
            raise InputError(
                f"{where} has rep '{rep}', which territories.csv does not list; "
                "run design or plan again"
            )
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise InputError(f"{where} has no lat/lon; run design or plan again")
        if not math.isfinite(workload):
            raise InputError(f"{where} has no workload_min; run design or plan again")
        cls = (row.get(C.CLASS) or "").strip()
        locked_rep = (row.get(C.LOCKED_REP) or "").strip()
        cols["id"].append(cid)
        cols["name"].append(row.get(C.NAME, ""))
        cols["cls"].append(cls)
        cols["lat"].append(round(lat, 6))
        cols["lon"].append(round(lon, 6))
        cols["r"].append(CLASS_RADIUS.get(cls.upper(), OTHER_RADIUS))
        cols["visits"].append(_whole(num(row.get(C.VISITS), 0.0)))
        cols["workload_min"].append(workload)
        cols["potential"].append(_whole(num(row.get(C.POTENTIAL), 0.0)))
        cols["t"].append(index[rep])
        cols["locked"].append(1 if locked_rep and locked_rep == rep else 0)
    return cols


def _whole(x: float) -> float | int:
    """A number for the JSON: whole numbers without '.0', NaN as 0."""
    if not math.isfinite(x):
        return 0
    return int(x) if x == int(x) else x


def _package_text(name: str) -> str:
    return resources.files("territory").joinpath("data", name).read_text(encoding="utf-8")


def content_security_policy(*, online_leaflet: bool, tiles: bool) -> str:
    """The page's policy: inline script and style, data/blob images, no connections at all;
    online also Leaflet from the CDN and, with ``tiles``, images from the tile server."""
    script = "'unsafe-inline'" + (f" {CDN_ORIGIN}" if online_leaflet else "")
    img = "data: blob:" + (f" {TILE_ORIGIN}" if tiles else "")
    return (
        f"default-src 'none'; script-src {script}; style-src {script}; img-src {img}; "
        "connect-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'"
    )


def editor_page(data: dict[str, Any], inline: assets.InlineAssets | None) -> str:
    """The whole page: Leaflet (inlined or from the CDN), the editor's CSS, data and script."""
    if inline is None:
        leaflet = (
            f'<link rel="stylesheet" href="{assets.LEAFLET_CDN_CSS}" '
            f'integrity="{LEAFLET_CSS_SRI}" crossorigin="anonymous">\n'
            f'<script src="{assets.LEAFLET_CDN_JS}" integrity="{LEAFLET_JS_SRI}" '
            'crossorigin="anonymous"></script>'
        )
    else:
        js = inline.js.replace("</script", "<\\/script")
        leaflet = f"<style>{inline.css}</style>\n<script>{js}</script>"
    policy = content_security_policy(online_leaflet=inline is None, tiles=bool(data["tiles"]))
    labels = data["labels"]
    title = f"{labels['title']} · {data['folder']}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(labels["lang"])}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"{leaflet}\n<style>{_package_text('edit.css')}</style>\n</head>\n<body>\n"
        '<div id="te-map"></div>\n<aside id="te-panel"></aside>\n'
        f'<script id="te-data" type="application/json">{script_json(data)}</script>\n'
        f"<script>{_package_text('edit.js')}</script>\n</body>\n</html>\n"
    )
