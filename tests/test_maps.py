"""Maps, report and workbook rendered from plan folders built here with the contract's columns."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from territory import assets
from territory.exceptions import InputError
from territory.htmlutil import rep_file_name
from territory.reporthtml import load_plan_folder

PAYLOAD_SCRIPT = "<script>window.__pwned=1</script>"
PAYLOAD_IMG = '<img src=x onerror="window.__pwned=1">'
# folium re-renders element output as a Jinja template: this must stay text, never become 49
PAYLOAD_JINJA = "Rep {{ 7*7 }} {{ this.__class__.__name__ }}"
PAYLOADS = (PAYLOAD_SCRIPT, PAYLOAD_IMG)

ASSIGNMENT_COLUMNS = [
    "customer_id", "rep_id", "changed", "distance_km_home", "name", "lat", "lon", "class",
    "visits", "visit_minutes", "potential", "current_rep", "locked_rep", "workload_min", "located",
]  # fmt: skip
#: The customer's address, opening hours and phone (after the contract's columns).
DETAIL_COLUMNS = ["street", "postcode", "city", "open", "close", "phone"]
TERRITORY_COLUMNS = [
    "rep_id", "customers", "visits", "visit_hours", "travel_hours", "admin_hours",
    "workload_hours", "capacity_hours", "utilization", "potential", "travel_km", "rep_name",
    "home_lat", "home_lon", "connected", "moved_in", "moved_out", "deviation",
]  # fmt: skip
SCHEDULE_COLUMNS = [
    "rep_id", "date", "week", "weekday", "seq", "customer_id", "arrival", "start", "end",
    "travel_min", "travel_km", "customer_name", "lat", "lon",
]  # fmt: skip
DAY_COLUMNS = [
    "rep_id", "date", "week", "weekday", "depart", "return", "visits", "visit_min",
    "travel_min", "travel_km", "overtime_min", "lunch_start",
]  # fmt: skip
UNSCHEDULED_COLUMNS = ["customer_id", "rep_id", "reason", "customer_name", "visit"]
CLASSES = {"A": (4, 60), "B": (2, 45), "C": (1, 30)}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _hhmm(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def _km(lat1, lon1, lat2, lon2) -> float:
    dy = (lat2 - lat1) * 111.2
    dx = (lon2 - lon1) * 111.2 * math.cos(math.radians(52.0))
    return math.hypot(dx, dy) * 1.3


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)


def make_plan_folder(
    out: Path,
    *,
    n_customers: int = 36,
    n_reps: int = 3,
    planned: bool = True,
    hostile: bool = True,
    with_territories_geojson: bool = False,
    weeks: int = 2,
    seed: int = 0,
    details: bool = True,
    max_stops: int = 7,
) -> Path:
    """Write a small but complete plan folder with exactly the contract's columns.

    Customers are scattered around three or more Dutch towns and assigned to the nearest rep
    home; each rep's visits are spread over ``weeks`` x 5 days and ordered by angle around
    home (a cloverleaf), at most ``max_stops`` a day (the rest is unscheduled). ``hostile``
    puts HTML payloads in rep and customer names, a rep id, an address and an unscheduled
    reason, to prove they are shown as text everywhere. ``details`` adds the customers'
    address, opening hours and phone (every third customer has hours, every fourth a phone);
    without it the folder has only the contract's older columns.
    """
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    towns = [
        (52.09, 5.12),
        (51.92, 4.48),
        (52.37, 4.90),
        (51.44, 5.48),
        (52.22, 6.89),
        (53.22, 6.57),
    ]
    reps = []
    for r in range(n_reps):
        lat, lon = towns[r % len(towns)]
        rid = f"R{r + 1}"
        name = f"Rep {r + 1}"
        if hostile and r == 0:
            name = PAYLOAD_SCRIPT
        if hostile and r == 1:
            rid, name = "R/<b>2</b>", PAYLOAD_IMG
        if hostile and r == 2:
            name = PAYLOAD_JINJA
        ring = r // len(towns)  # more reps than towns: further homes around the same towns
        reps.append({"id": rid, "name": name, "lat": lat + 0.03 + 0.09 * ring, "lon": lon - 0.02})
    homes = np.array([[r["lat"], r["lon"]] for r in reps])
    centre_idx = rng.integers(0, n_reps, n_customers)
    lat = homes[centre_idx, 0] + rng.normal(0, 0.12, n_customers)
    lon = homes[centre_idx, 1] + rng.normal(0, 0.18, n_customers)
    classes = rng.choice(["A", "B", "C"], n_customers, p=[0.2, 0.3, 0.5])
    d2 = (lat[:, None] - homes[None, :, 0]) ** 2 + (lon[:, None] - homes[None, :, 1]) ** 2
    assign = d2.argmin(axis=1)
    customers = []
    for i in range(n_customers):
        name = f"Klant {i + 1} B.V."
        if hostile and i == 0:
            name = PAYLOAD_IMG
        if hostile and i == 1:
            name = PAYLOAD_SCRIPT + " & {{7*7}}"
        cid = f"C{i + 1:04d}" if not (hostile and i == 2) else "C\"3'<i>"
        rep = reps[assign[i]]
        visits, minutes = CLASSES[classes[i]]
        customers.append(
            {
                "customer_id": cid, "rep_id": rep["id"], "changed": "false",
                "distance_km_home": round(_km(lat[i], lon[i], rep["lat"], rep["lon"]), 1),
                "name": name, "lat": round(lat[i], 6), "lon": round(lon[i], 6),
                "class": classes[i], "visits": visits, "visit_minutes": minutes,
                "potential": int(rng.integers(5, 80)) * 1000, "current_rep": rep["id"],
                "locked_rep": "", "workload_min": visits * (minutes + 15), "located": "input",
                "street": f"Dorpsstraat {i + 1}", "postcode": f"{1000 + i} AB",
                "city": ("Utrecht", "Gouda", "Zwolle")[i % 3],
                "open": "09:00" if i % 3 == 0 else "", "close": "17:30" if i % 3 == 0 else "",
                "phone": f"+31 30 555 {i:04d}" if i % 4 == 0 else "",
            }
        )  # fmt: skip
        if hostile and i == 0:
            customers[-1]["street"] = PAYLOAD_SCRIPT
    columns = ASSIGNMENT_COLUMNS + (DETAIL_COLUMNS if details else [])
    _write_csv(out / "assignments.csv", columns, [{k: c[k] for k in columns} for c in customers])

    schedule, days, routes, unscheduled = [], [], [], []
    travel = {r["id"]: [0.0, 0.0] for r in reps}
    n_days = weeks * len(WEEKDAYS)
    for rep in reps:
        mine = [c for c in customers if c["rep_id"] == rep["id"]]
        mine.sort(key=lambda c: math.atan2(c["lat"] - rep["lat"], c["lon"] - rep["lon"]))
        day_visits: list[list[dict]] = [[] for _ in range(n_days)]
        for k, c in enumerate(mine):
            f = min(int(c["visits"]) * weeks // 4 or 1, n_days)
            first = (k * n_days) // max(len(mine), 1)
            for v in range(f):
                day_visits[(first + v * (n_days // f)) % n_days].append(c)
        for d, planned_stops in enumerate(day_visits):
            stops = planned_stops[:max_stops]
            week, weekday = d // len(WEEKDAYS) + 1, WEEKDAYS[d % len(WEEKDAYS)]
            date = f"2027-01-{4 + (week - 1) * 7 + d % len(WEEKDAYS):02d}"
            if len(planned_stops) > max_stops:  # an over-full day: the rest is unscheduled
                for c in planned_stops[max_stops:]:
                    unscheduled.append(
                        {
                            "customer_id": c["customer_id"], "rep_id": rep["id"],
                            "reason": "day full",
                            "customer_name": c["name"], "visit": 1,
                        }
                    )  # fmt: skip
            if not stops:
                continue
            clock = 8 * 60 + 30
            here = (rep["lat"], rep["lon"])
            coords = [[rep["lon"], rep["lat"]]]
            day_km = day_min = visit_min = 0.0
            for seq, c in enumerate(stops, start=1):
                km = _km(here[0], here[1], c["lat"], c["lon"])
                minutes = km / 60 * 60
                clock += minutes
                schedule.append(
                    {
                        "rep_id": rep["id"], "date": date, "week": week, "weekday": weekday,
                        "seq": seq, "customer_id": c["customer_id"], "arrival": _hhmm(clock),
                        "start": _hhmm(clock), "end": _hhmm(clock + c["visit_minutes"]),
                        "travel_min": round(minutes, 1), "travel_km": round(km, 1),
                        "customer_name": c["name"], "lat": c["lat"], "lon": c["lon"],
                    }
                )  # fmt: skip
                clock += c["visit_minutes"]
                visit_min += c["visit_minutes"]
                day_km += km
                day_min += minutes
                here = (c["lat"], c["lon"])
                coords.append([c["lon"], c["lat"]])
            km = _km(here[0], here[1], rep["lat"], rep["lon"])
            day_km += km
            day_min += km
            clock += km
            coords.append([rep["lon"], rep["lat"]])
            days.append(
                {
                    "rep_id": rep["id"], "date": date, "week": week, "weekday": weekday,
                    "depart": "08:30", "return": _hhmm(clock), "visits": len(stops),
                    "visit_min": visit_min, "travel_min": round(day_min, 1),
                    "travel_km": round(day_km, 1), "overtime_min": max(0, round(clock - 17 * 60)),
                    "lunch_start": "12:00",
                }
            )  # fmt: skip
            routes.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {
                        "rep_id": rep["id"], "date": date, "week": week, "weekday": weekday,
                        "depart": "08:30", "return": _hhmm(clock), "visits": len(stops),
                        "travel_min": round(day_min, 1), "travel_km": round(day_km, 1),
                    },
                }
            )  # fmt: skip
            travel[rep["id"]][0] += day_min
            travel[rep["id"]][1] += day_km

    if hostile:
        c = customers[0]
        unscheduled.append(
            {
                "customer_id": c["customer_id"], "rep_id": c["rep_id"],
                "reason": "opening hours <b>no room</b>", "customer_name": c["name"], "visit": 2,
            }
        )  # fmt: skip
    territories = []
    for rep in reps:
        mine = [c for c in customers if c["rep_id"] == rep["id"]]
        visit_h = sum(int(c["visits"]) * c["visit_minutes"] for c in mine) / 60
        travel_h = travel[rep["id"]][0] / 60 if planned else len(mine) * 0.3
        admin_h = 10.0
        work = visit_h + travel_h + admin_h
        cap = 136.0
        territories.append(
            {
                "rep_id": rep["id"], "customers": len(mine),
                "visits": sum(int(c["visits"]) for c in mine), "visit_hours": round(visit_h, 2),
                "travel_hours": round(travel_h, 2), "admin_hours": admin_h,
                "workload_hours": round(work, 2), "capacity_hours": cap,
                "utilization": round(work / cap, 3),
                "potential": sum(c["potential"] for c in mine),
                "travel_km": round(travel[rep["id"]][1], 1), "rep_name": rep["name"],
                "home_lat": rep["lat"], "home_lon": rep["lon"], "connected": "true",
                "moved_in": 0, "moved_out": 0, "deviation": 0.0,
            }
        )  # fmt: skip
    _write_csv(out / "territories.csv", TERRITORY_COLUMNS, territories)
    if with_territories_geojson:
        from territory.geometry import territory_polygons

        geoms = territory_polygons(
            [c["lat"] for c in customers],
            [c["lon"] for c in customers],
            [int(a) for a in assign],
            n_reps,
        )
        features = [
            {"type": "Feature", "geometry": g, "properties": territories[t]}
            for t, g in enumerate(geoms)
            if g is not None
        ]
        (out / "territories.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
        )
    summary = {
        "command": "plan" if planned else "design",
        "inputs": {"customers": {"path": "customers <x>.csv", "sha256": "ab" * 32}},
        "config": {},
        "seed": 0,
        "kpis": {"max_workload_deviation": 0.04, "connected_share": 1.0, "note <i>": PAYLOAD_IMG},
        "runtime_s": 1.0,
        "version": "0.1.0",
    }
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    if planned:
        _write_csv(out / "schedule.csv", SCHEDULE_COLUMNS, schedule)
        _write_csv(out / "days.csv", DAY_COLUMNS, days)
        _write_csv(out / "unscheduled.csv", UNSCHEDULED_COLUMNS, unscheduled)
        (out / "routes.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": routes}), encoding="utf-8"
        )
    return out


@pytest.fixture(scope="module")
def asset_cache() -> Path:
    """The real Leaflet asset cache; offline tests skip with the fill command when it is empty."""
    if assets.missing():
        pytest.skip(f"map assets not cached; run `{assets.FETCH_COMMAND}`")
    return assets.cache_dir()


@pytest.fixture(scope="module")
def planned_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A planned folder with hostile names, rendered once online (no cache needed)."""
    from territory.maps import render

    folder = make_plan_folder(tmp_path_factory.mktemp("planned"))
    render(folder)
    return folder


def _script_json(page: str) -> dict:
    """The JSON data block handed to the map script."""
    match = re.search(r"\}\)\n\((\{.*\}), map_", page)
    assert match, "map data block not found"
    return json.loads(match.group(1))


def _all_pages(folder: Path) -> list[Path]:
    return [folder / "map.html", folder / "report.html", *sorted((folder / "reps").glob("*.html"))]


def test_render_writes_every_output(planned_folder: Path) -> None:
    files = sorted(p.relative_to(planned_folder).as_posix() for p in planned_folder.rglob("*"))
    assert "map.html" in files and "report.html" in files and "plan.xlsx" in files
    rep_maps = [f for f in files if f.startswith("reps/")]
    assert len(rep_maps) == 3
    # the rep id "R/<b>2</b>" cannot climb out of reps/ nor carry markup into the file name
    assert all(re.fullmatch(r"reps/[A-Za-z0-9_.-]+\.html", f) for f in rep_maps)
    assert not list(planned_folder.rglob("*.tmp"))


def test_stale_rep_maps_are_removed(tmp_path: Path) -> None:
    from territory.maps import render

    folder = make_plan_folder(tmp_path / "s", n_customers=10, hostile=False)
    (folder / "reps").mkdir()
    (folder / "reps" / "R99.html").write_text("old", encoding="utf-8")
    render(folder)
    assert sorted(p.name for p in (folder / "reps").iterdir()) == ["R1.html", "R2.html", "R3.html"]


def test_payloads_are_escaped_in_every_page(planned_folder: Path) -> None:
    for page_path in _all_pages(planned_folder):
        page = page_path.read_text(encoding="utf-8")
        for payload in PAYLOADS:
            assert payload not in page, f"raw payload in {page_path.name}"
        assert "<b>2</b>" not in page
        assert "Rep 49" not in page  # the Jinja payload was not evaluated
        if page_path.name != "report.html":
            # the names are there, as JSON data that the page shows through textContent
            data = _script_json(page)
            names = {r["name"] for r in data["reps"]}
            assert PAYLOAD_SCRIPT in names
            if page_path.name == "map.html":
                assert html_escaped(PAYLOAD_SCRIPT) in data["legend_html"]
                assert html_escaped(PAYLOAD_IMG) in data["legend_html"]
    report = (planned_folder / "report.html").read_text(encoding="utf-8")
    assert html_escaped(PAYLOAD_SCRIPT) in report
    assert html_escaped("opening hours <b>no room</b>") in report


def html_escaped(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_jinja_is_not_applied_to_input_text(planned_folder: Path) -> None:
    page = (planned_folder / "map.html").read_text(encoding="utf-8")
    data = _script_json(page)
    assert any("{{7*7}}" in n for n in data["customers"]["name"])


def test_overview_holds_every_customer_rep_and_day(planned_folder: Path) -> None:
    folder = load_plan_folder(planned_folder)
    data = _script_json((planned_folder / "map.html").read_text(encoding="utf-8"))
    assert len(data["customers"]["id"]) == len(folder.assignments)
    assert [r["id"] for r in data["reps"]] == [t["rep_id"] for t in folder.territories]
    assert len(data["routes"]) == len(folder.days)
    assert {p["t"] for p in data["polygons"]} == {0, 1, 2}
    # visit days in the popup data come from schedule.csv
    by_id = dict(zip(data["customers"]["id"], data["customers"]["days"], strict=True))
    first = folder.schedule[0]
    assert first["date"] in by_id[first["customer_id"]]
    # class A markers are larger than class C markers
    radius = dict(zip(data["customers"]["cls"], data["customers"]["r"], strict=False))
    assert radius["A"] > radius["C"]


def test_rep_map_has_only_that_reps_days_in_order(planned_folder: Path) -> None:
    folder = load_plan_folder(planned_folder)
    rid = folder.territories[1]["rep_id"]
    page = (planned_folder / "reps" / rep_file_name(rid)).read_text(encoding="utf-8")
    data = _script_json(page)
    days = [d for d in folder.days if d["rep_id"] == rid]
    assert [d["key"] for d in data["routes"]] == [d["date"] for d in days]
    for d in data["routes"]:
        assert [s["seq"] for s in d["stops"]] == list(range(1, len(d["stops"]) + 1))
        assert d["coords"][0] == d["coords"][-1]  # the loop ends at home
    assert set(data["customers"]["rep"]) == {rid}


def test_design_only_folder(tmp_path: Path) -> None:
    from territory.maps import render

    folder = make_plan_folder(tmp_path / "design", planned=False, hostile=False)
    written = render(folder, lang="nl")
    assert (folder / "map.html") in written and (folder / "report.html") in written
    data = _script_json((folder / "map.html").read_text(encoding="utf-8"))
    assert data["routes"] == [] and "days" not in data["customers"]
    assert len(data["polygons"]) == 3  # computed here: the folder has no territories.geojson
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "Kerncijfers" in report and "alleen een rayonindeling" in report


def test_polygons_come_from_territories_geojson_when_present(tmp_path: Path) -> None:
    from territory.maps import render

    folder = make_plan_folder(tmp_path / "g", with_territories_geojson=True, hostile=False)
    gj = json.loads((folder / "territories.geojson").read_text(encoding="utf-8"))
    render(folder)
    data = _script_json((folder / "map.html").read_text(encoding="utf-8"))
    assert [p["geometry"] for p in data["polygons"]] == [f["geometry"] for f in gj["features"]]


def test_same_folder_same_bytes(tmp_path: Path) -> None:
    from territory.maps import render

    outputs = []
    for name in ("a", "b"):
        folder = make_plan_folder(tmp_path / name)
        render(folder)
        outputs.append(
            {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*.html"))}
        )
        outputs[-1]["plan.xlsx"] = (folder / "plan.xlsx").read_bytes()
    assert outputs[0] == outputs[1]


def test_offline_inlines_leaflet_and_links_nothing(tmp_path: Path, asset_cache: Path) -> None:
    from territory.maps import render

    folder = make_plan_folder(tmp_path / "off")
    render(folder, offline=True, tiles=None)
    leaflet_head = assets.load_inline().js[:300]
    for page_path in [folder / "map.html", *(folder / "reps").glob("*.html")]:
        page = page_path.read_text(encoding="utf-8")
        assert leaflet_head in page
        assert not re.search(r"<(script|link)[^>]+(src|href)=", page), page_path.name
        assert "sourceMappingURL" not in page
        assert "cdn." not in page and "code.jquery" not in page


def test_offline_without_cache_is_one_clear_line(tmp_path: Path, monkeypatch) -> None:
    from territory.maps import render

    monkeypatch.setenv(assets.ENV_VAR, str(tmp_path / "empty-cache"))
    folder = make_plan_folder(tmp_path / "x", n_customers=8)
    with pytest.raises(assets.AssetsMissingError) as info:
        render(folder, offline=True)
    message = str(info.value)
    assert "\n" not in message and assets.FETCH_COMMAND in message and "empty-cache" in message
    assert not (folder / "map.html").exists()


def test_online_page_needs_leaflet_only(planned_folder: Path) -> None:
    page = (planned_folder / "map.html").read_text(encoding="utf-8")
    srcs = re.findall(r'<script[^>]+src="([^"]+)"', page)
    hrefs = re.findall(r'<link[^>]+href="([^"]+)"', page)
    assert srcs == [assets.LEAFLET_CDN_JS]
    assert hrefs == [assets.LEAFLET_CDN_CSS]


def test_not_a_plan_folder(tmp_path: Path) -> None:
    from territory.maps import render

    with pytest.raises(InputError, match=r"assignments\.csv"):
        render(tmp_path)
    folder = make_plan_folder(tmp_path / "p", n_customers=6)
    with pytest.raises(InputError, match="language"):
        render(folder, lang="fr")


def test_rep_file_names_are_safe_and_distinct() -> None:
    ids = ["R1", "R/1", "R\\1", "../R1", "R 1", "", "<script>", "a" * 200, "R_1"]
    names = [rep_file_name(i) for i in ids]
    assert len(set(names)) == len(names)
    assert names[0] == "R1.html"
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+\.html", name) and not name.startswith(".")
        assert len(name) < 90


def test_dutch_labels_keep_csv_names(tmp_path: Path) -> None:
    from territory.maps import render

    folder = make_plan_folder(tmp_path / "nl", n_customers=12, hostile=False)
    before = (folder / "schedule.csv").read_bytes()
    render(folder, lang="nl")
    data = _script_json((folder / "map.html").read_text(encoding="utf-8"))
    assert data["labels"]["visit_days"] == "Bezoekdagen"
    assert data["routes"][0]["label"] == "ma 2027-01-04"
    assert re.fullmatch(r"\d+,\d\u202fu", data["reps"][0]["workload"])  # Dutch decimal comma
    assert (folder / "schedule.csv").read_bytes() == before  # the tables are never rewritten
    assert "Kerncijfers" in (folder / "report.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Rep pages: the day list (navigation, address, hours, phone) and the print sheets


def _rep_page(folder: Path, rid: str) -> str:
    return (folder / "reps" / rep_file_name(rid)).read_text(encoding="utf-8")


def _body_parts(page: str, css_class: str) -> list[str]:
    """The HTML of each element whose class list starts with ``css_class`` (no nesting)."""
    starts = [m.start() for m in re.finditer(rf'<(?:li|article) class="{css_class}[ "]', page)]
    return [page[a:b] for a, b in zip(starts, [*starts[1:], len(page)], strict=True)]


def test_every_stop_has_navigation_address_hours_and_phone(planned_folder: Path) -> None:
    import html

    folder = load_plan_folder(planned_folder)
    by_id = {row["customer_id"]: row for row in folder.assignments}
    for rep in folder.territories:
        rid = rep["rep_id"]
        stops = [s for s in folder.schedule if s["rep_id"] == rid]
        items = _body_parts(_rep_page(planned_folder, rid), "tp-stop-item")
        assert len(items) == len(stops) > 0
        for stop, item in zip(stops, items, strict=True):  # the list keeps the schedule's order
            lat, lon = float(stop["lat"]), float(stop["lon"])
            customer = by_id[stop["customer_id"]]
            hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', item)]
            geo = [h for h in hrefs if h.startswith("geo:")]
            assert len(geo) == 1 and geo[0].startswith(f"geo:{lat:.6f},{lon:.6f}")
            assert f"destination={lat:.6f},{lon:.6f}" in next(h for h in hrefs if "https:" in h)
            assert html.escape(stop["arrival"]) in item
            assert f"{stop['start']}–{stop['end']}" in item
            assert html.escape(customer["street"]) in item and customer["city"] in item
            if customer["open"]:
                assert f"{customer['open']}–{customer['close']}" in item
            if customer["phone"]:
                digits = customer["phone"].replace(" ", "")
                assert f'href="tel:{digits}"' in item and customer["phone"] in item
            else:
                assert "tel:" not in item


def test_geo_uri_carries_the_coordinates_and_an_encoded_label() -> None:
    from territory.sheets import geo_uri, maps_url

    assert geo_uri(52.0907374, 5.1214201) == "geo:52.090737,5.121420"
    uri = geo_uri(52.1, 5.2, 'Café "De <b>Boer</b>" & Zn.')
    assert uri.startswith("geo:52.100000,5.200000?q=52.100000,5.200000(")
    assert re.fullmatch(r"geo:[0-9.,]+\?q=[0-9.,]+\([A-Za-z0-9%._~-]+\)", uri)
    assert maps_url(52.1, 5.2).startswith("https://") and "52.100000,5.200000" in maps_url(
        52.1, 5.2
    )


def test_tel_uri_keeps_what_is_dialled() -> None:
    from territory.sheets import tel_uri

    assert tel_uri("+31 (0)6 1234 5678") == "tel:+31612345678"
    assert tel_uri("050-123 45 67") == "tel:0501234567"


def test_rep_page_prints_one_sheet_per_working_day(planned_folder: Path) -> None:
    folder = load_plan_folder(planned_folder)
    rid = folder.territories[2]["rep_id"]
    days = [d for d in folder.days if d["rep_id"] == rid]
    sheets = _body_parts(_rep_page(planned_folder, rid), "tp-sheet")
    assert len(sheets) == len(days) > 1
    for day, sheet in zip(days, sheets, strict=True):
        stops = [s for s in folder.schedule if s["rep_id"] == rid and s["date"] == day["date"]]
        assert (
            f"<strong>{day['depart']}</strong>" in sheet
            and f"<strong>{day['return']}</strong>" in sheet
        )
        assert f'data-weeks="{day["week"]}"' in sheet
        # the stops in order, each with its arrival and visit window; a sketch with a dot each
        rows = re.findall(r'<tr><td class="n">(\d+)</td><td>([\d:]+)</td><td>([\d:–]+)</td>', sheet)
        assert rows == [(s["seq"], s["arrival"], f"{s['start']}–{s['end']}") for s in stops]
        assert sheet.count("<svg") == 1 and sheet.count("<circle") == len(stops)
    # the long date of a day with a start date
    assert "Monday 4 January 2027" in sheets[0]


def test_overview_prints_one_sheet_per_rep(planned_folder: Path) -> None:
    folder = load_plan_folder(planned_folder)
    page = (planned_folder / "map.html").read_text(encoding="utf-8")
    sheets = _body_parts(page, "tp-sheet")
    assert len(sheets) == len(folder.territories)
    for rep, sheet in zip(folder.territories, sheets, strict=True):
        days = [d for d in folder.days if d["rep_id"] == rep["rep_id"]]
        assert sheet.count("<tr data-week=") == len(days)
        assert html_escaped(rep["rep_name"]) in sheet


def test_a_folder_without_address_columns_still_renders(tmp_path: Path) -> None:
    from territory.maps import render

    folder = make_plan_folder(tmp_path / "old", n_customers=12, hostile=False, details=False)
    render(folder)
    page = _rep_page(folder, "R1")
    assert "geo:" in page and "tel:" not in page and "tp-addr" not in page.split("<body>")[1]


def test_many_stops_a_day_are_marked_dense(tmp_path: Path) -> None:
    """A day too long for the normal type gets the small one (the browser test prints it)."""
    from territory.maps import render

    folder = make_plan_folder(
        tmp_path / "dense", n_customers=90, n_reps=1, weeks=1, hostile=False, max_stops=30
    )
    render(folder)
    sheets = _body_parts(_rep_page(folder, "R1"), "tp-sheet")
    assert any("tp-dense" in s.split(">", 1)[0] for s in sheets)
