"""The osm travel source on real extracts: network, cache, snapping, paths checked by networkx."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from conftest import DATA

from territory import roads
from territory.exceptions import InputError, TerritoryWarning
from territory.params import TravelParams
from territory.travel import Points

HELSINKI = DATA / "osm" / "helsinki.osm.pbf"
KOTKA = DATA / "osm" / "kotka.osm.pbf"


@pytest.fixture(autouse=True)
def road_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test builds into its own cache folder, never the user's ~/.cache."""
    folder = tmp_path / "roads-cache"
    monkeypatch.setenv("TERRITORY_ROADS_DIR", str(folder))
    return folder


def _places(n: int, seed: int, box: tuple[float, float, float, float]) -> Points:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(box[0], box[1], n)
    lon = rng.uniform(box[2], box[3], n)
    return Points(lat, lon, np.array([f"P{i}" for i in range(n)], dtype=object))


def _one_rep_team(folder: Path, places: Points, customer_class: str) -> tuple[Path, Path]:
    """customers.csv and reps.csv in ``folder``: rep H lives at the first place, a customer of
    ``customer_class`` at each other one (P1, P2, ...)."""
    reps = folder / "reps.csv"
    reps.write_text(f"id,lat,lon\nH,{places.lat[0]:.6f},{places.lon[0]:.6f}\n")
    customers = folder / "customers.csv"
    customers.write_text(
        "id,lat,lon,class\n"
        + "".join(
            f"P{i},{places.lat[i]:.6f},{places.lon[i]:.6f},{customer_class}\n"
            for i in range(1, len(places.lat))
        )
    )
    return customers, reps


HELSINKI_BOX = (60.166, 60.177, 24.937, 24.951)
KOTKA_BOX = (60.522, 60.538, 26.933, 26.967)


def _reference(
    net: roads.RoadNetwork, sn: roads.Snapped, weight: str
) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs costs by networkx Dijkstra over the network plus each place's own legs: the
    combined metric (``weight``) or plain metres; the second array is the metres of the
    networkx path chosen for the combined metric."""
    graph = net.to_networkx()
    n = len(sn.piece)
    for i in range(n):
        one = roads._take(sn, np.array([i]))
        for node, cost in zip(*(x[0] for x in net._legs(one, outgoing=True)), strict=True):
            if node >= 0:
                metres = net.decode(np.array([cost]))[1][0] * 1000
                graph.add_edge(("s", i), int(node), weight=int(cost), metres=metres)
        for node, cost in zip(*(x[0] for x in net._legs(one, outgoing=False)), strict=True):
            if node >= 0:
                metres = net.decode(np.array([cost]))[1][0] * 1000
                graph.add_edge(int(node), ("t", i), weight=int(cost), metres=metres)
    out = np.full((n, n), np.inf)
    for i in range(n):
        dist = nx.single_source_dijkstra_path_length(graph, ("s", i), weight=weight)
        for j in range(n):
            out[i, j] = dist.get(("t", j), np.inf)
    return out, graph


@pytest.mark.parametrize(("pbf", "box"), [(HELSINKI, HELSINKI_BOX), (KOTKA, KOTKA_BOX)])
def test_hierarchy_matches_dijkstra_on_real_extracts(pbf: Path, box: tuple) -> None:
    """Every matrix entry equals networkx's Dijkstra on the same graph (one-ways, snapped places
    entering from their piece's ends), and every km is at least the shortest road distance."""
    net, about = roads.load_network(pbf)
    assert about["cache"] == "built" and about["nodes"] > 200
    places = _places(30, 1, box)
    sn = net.snap(places.lat, places.lon)
    got = net.matrix(sn, sn)
    ref, _ = _reference(net, sn, "weight")
    off = ~np.eye(30, dtype=bool)
    direct = net._direct(sn, sn, *np.nonzero(np.ones((30, 30), dtype=bool))).reshape(30, 30)
    assert np.array_equal(got[off], np.minimum(ref, direct)[off])
    _, km = net.decode(got)
    shortest_m, _ = _reference(net, sn, "metres")
    direct_m = np.where(np.isfinite(direct), net.decode(direct)[1] * 1000, np.inf)
    shortest_km = np.minimum(shortest_m, direct_m) / 1000
    # the km of the fastest path: never below the shortest road km (1 m per piece rounding)
    assert np.all(km[off] >= shortest_km[off] - 0.02)
    assert np.any(km[off] > shortest_km[off] + 0.05)  # and sometimes a longer, faster road


def test_pairs_equal_the_matrix_whatever_the_grouping() -> None:
    """pairs() answers through sweeps (shared sources or targets) or one-to-one queries; all
    give the matrix's numbers."""
    net, _ = roads.load_network(HELSINKI)
    places = _places(40, 2, HELSINKI_BOX)
    sn = net.snap(places.lat, places.lon)
    full = net.matrix(sn, sn)
    i = np.r_[np.zeros(30, dtype=int), np.arange(40)]  # 30 pairs from place 0: one sweep
    j = np.r_[np.arange(30), np.roll(np.arange(40), 3)]
    got = net.pairs(roads._take(sn, i), roads._take(sn, j))
    assert np.array_equal(got, full[i, j])
    back = net.pairs(roads._take(sn, j), roads._take(sn, np.zeros(len(j), dtype=int)))
    assert np.array_equal(back, full[j, 0])


def test_one_way_streets_make_legs_asymmetric() -> None:
    """Central Helsinki has one-way streets: some legs differ by direction, by minutes."""
    net, _ = roads.load_network(HELSINKI)
    assert not net.g["piece_two_way"].all()
    places = _places(30, 3, HELSINKI_BOX)
    model = roads.osm_travel(TravelParams(source="osm", osm=str(HELSINKI)), places)
    legs = model.matrix(places)
    assert np.abs(legs.minutes - legs.minutes.T).max() > 0.5
    assert np.all(np.diag(legs.minutes) == 0) and np.all(np.diag(legs.km) == 0)
    assert model.describe()["snapped"]["points"] == 30


def test_second_load_comes_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache is keyed by the file's hash; the second load does not build."""
    _, first = roads.load_network(KOTKA)
    assert first["cache"] == "built"
    assert (Path(first["cache_dir"]).name) == roads.sha256_file(KOTKA)

    def no_build(*_: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(roads, "build_network_arrays", no_build)
    net, second = roads.load_network(KOTKA)
    assert second["cache"] == "hit" and second["nodes"] == first["nodes"]
    places = _places(5, 4, KOTKA_BOX)
    sn = net.snap(places.lat, places.lon)
    assert np.isfinite(net.matrix(sn, sn)).all()


def test_other_speeds_are_another_network(road_cache: Path) -> None:
    """[travel.speeds] changes the weights: a cache entry of its own, slower minutes."""
    places = _places(10, 5, KOTKA_BOX)
    fast = roads.osm_travel(TravelParams(source="osm", osm=str(KOTKA)), places).matrix(places)
    slow_params = TravelParams(
        source="osm", osm=str(KOTKA), speeds={k: 20.0 for k in roads.DEFAULT_SPEEDS_KMH}
    )
    slow = roads.osm_travel(slow_params, places).matrix(places)
    assert len(list(road_cache.rglob("*.npz"))) == 2
    assert slow.minutes.sum() > fast.minutes.sum() * 1.5


def test_places_off_the_extract_are_refused_by_id() -> None:
    """A customer 10 km from the extract: one error naming it and the distance."""
    places = _places(5, 6, HELSINKI_BOX)
    far = Points(
        np.r_[places.lat, 60.26], np.r_[places.lon, 24.95], np.r_[places.ids, np.array(["FAR"])]
    )
    with pytest.raises(InputError, match=r"does not cover 1 of the places: 'FAR' \(9\.\d km\)"):
        roads.osm_travel(TravelParams(source="osm", osm=str(HELSINKI)), far)


def test_far_snaps_are_warned() -> None:
    """A place 1 km off the roads is accepted with a warning naming it."""
    places = Points(np.array([60.17, 60.1795 + 0.009]), np.array([24.945, 24.945]), None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        roads.osm_travel(TravelParams(source="osm", osm=str(HELSINKI)), places)
    assert any(
        issubclass(w.category, TerritoryWarning) and "from the nearest road" in str(w.message)
        for w in caught
    )


def test_not_an_extract_is_one_clear_error(tmp_path: Path) -> None:
    """A file that is no PBF, or no file at all, is an InputError naming it."""
    bad = tmp_path / "roads.osm.pbf"
    bad.write_bytes(b"this is not a protobuf")
    with pytest.raises(InputError, match="not an OpenStreetMap extract"):
        roads.osm_travel(TravelParams(source="osm", osm=str(bad)), None)
    with pytest.raises(InputError, match="does not exist"):
        roads.osm_travel(TravelParams(source="osm", osm=str(tmp_path / "none.pbf")), None)


def test_units_keep_paths_inside_31_bits() -> None:
    """The combined metric's units leave every bounded path under RoutingKit's infinity."""
    for bound_s in (600.0, 4 * 3600.0, 12 * 3600.0, 60 * 3600.0):
        unit_s, unit_m, big_m = roads._units(bound_s, 130.0)
        span_s = 2 * (bound_s + 60)  # any path up to twice the bound (and its snapped ends)
        assert big_m > span_s * 130 / 3.6 / unit_m  # length never carries into the time part
        assert (span_s / unit_s + 1) * big_m < 2**31 - 1
    assert roads._units(600.0, 130.0)[:2] == (1, 1)


def test_maxspeed_parsing() -> None:
    """Numbers, mph and lists parse; zone names fall back to the highway default."""
    assert roads.parse_maxspeed("50") == 50
    assert roads.parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert roads.parse_maxspeed("50;70") == 50
    assert roads.parse_maxspeed("NL:urban") is None
    assert roads.parse_maxspeed("none") is None


@pytest.mark.slow
def test_plan_on_helsinki_roads(tmp_path: Path) -> None:
    """A whole plan with --osm on a real extract: every leg's km is at least the shortest road
    distance between its stops (networkx over the same network), the plan is valid (no day
    past working hours, nothing unscheduled), and the second run loads the cached network."""
    from conftest import read_csv

    from territory.cli import main

    places = _places(21, 8, HELSINKI_BOX)
    customers, reps = _one_rep_team(tmp_path, places, "B")
    outs = [tmp_path / "first", tmp_path / "second"]
    for out in outs:
        args = ["-q", "plan", str(customers), "--reps", str(reps), "--osm", str(HELSINKI)]
        maps = ["--offline"] if out == outs[0] else ["--no-maps"]
        assert main([*args, "--out", str(out), *maps]) == 0
    report = (outs[0] / "report.html").read_text(encoding="utf-8")
    assert "osm: " in report and "helsinki.osm.pbf" in report and "21 places snapped" in report
    first, second = (json.loads((o / "summary.json").read_text())["travel"] for o in outs)
    assert first["network"]["cache"] == "built" and second["network"]["cache"] == "hit"
    assert first["sha256"] == roads.sha256_file(HELSINKI) and first["pairs_estimated"] == 0
    assert (outs[0] / "schedule.csv").read_bytes() == (outs[1] / "schedule.csv").read_bytes()

    net, _ = roads.load_network(HELSINKI)
    pos = {"H": 0, **{f"P{i}": i for i in range(1, 21)}}
    snapped = net.snap(np.round(places.lat, 6), np.round(places.lon, 6))
    shortest_m, _ = _reference(net, snapped, "metres")
    idx = np.arange(21)
    direct = net._direct(snapped, snapped, np.repeat(idx, 21), np.tile(idx, 21)).reshape(21, 21)
    direct_m = np.where(np.isfinite(direct), net.decode(direct)[1] * 1000, np.inf)
    shortest_km = np.minimum(shortest_m, direct_m) / 1000
    schedule = read_csv(outs[0] / "schedule.csv")
    days = read_csv(outs[0] / "days.csv")
    assert read_csv(outs[0] / "unscheduled.csv") == []
    assert len(schedule) == 40  # class B: two visits each
    legs = 0
    for day in days:
        visits = sorted(
            (v for v in schedule if v["date"] == day["date"]), key=lambda v: int(v["seq"])
        )
        stops = ["H", *(v["customer_id"] for v in visits), "H"]
        need = [shortest_km[pos[stops[k]], pos[stops[k + 1]]] for k in range(len(stops) - 1)]
        for v, least in zip(visits, need, strict=False):  # each leg (tables round to 0.1 km)
            assert float(v["travel_km"]) >= least - 0.051, (v["customer_id"], day["date"])
            legs += 1
        # the whole day, the way home included (rounded once)
        assert float(day["travel_km"]) >= sum(need) - 0.051
        assert day["return"] <= "17:00" and float(day["overtime_min"]) == 0
    assert legs == 40


@pytest.mark.slow
def test_route_lines_follow_the_roads(tmp_path: Path) -> None:
    """With the osm source, routes.geojson draws each day along its roads: the line passes
    through every stop, each vertex between them lies on a road segment of the network, and
    the line's length on the road matches the day's reported km; the maps draw the way home
    from the last stop. The crow source keeps straight lines (home, stops, home)."""
    from conftest import read_csv

    from territory.cli import main
    from territory.travel import haversine_km

    places = _places(13, 3, HELSINKI_BOX)
    customers, reps = _one_rep_team(tmp_path, places, "C")
    args = ["-q", "plan", str(customers), "--reps", str(reps)]
    assert main([*args, "--osm", str(HELSINKI), "--out", str(tmp_path / "osm")]) == 0
    assert main([*args, "--out", str(tmp_path / "crow"), "--no-maps"]) == 0

    net, _ = roads.load_network(HELSINKI)
    g = net.g
    seg_lat = np.r_[g["seg_lat0"], g["seg_lat1"]]
    seg_lon = np.r_[g["seg_lon0"], g["seg_lon1"]]
    routes = json.loads((tmp_path / "osm" / "routes.geojson").read_text())["features"]
    days = {d["date"]: d for d in read_csv(tmp_path / "osm" / "days.csv")}
    schedule = read_csv(tmp_path / "osm" / "schedule.csv")
    pos = {f"P{i}": (round(places.lat[i], 6), round(places.lon[i], 6)) for i in range(1, 13)}
    assert routes and len(routes) == len(days)
    for feature in routes:
        coords = np.array(feature["geometry"]["coordinates"])  # lon, lat
        date = feature["properties"]["date"]
        stops = [v["customer_id"] for v in sorted(
            (v for v in schedule if v["date"] == date), key=lambda v: int(v["seq"]))]  # fmt: skip
        assert len(coords) > len(stops) + 2  # more than the straight home-stops-home line
        seen = {(round(lat, 6), round(lon, 6)) for lon, lat in coords}
        assert all(pos[s] in seen for s in stops)
        # every vertex that is not a place lies on the network (on a segment's line)
        inner = [
            (lat, lon)
            for lon, lat in coords[1:-1]
            if (round(lat, 6), round(lon, 6)) not in set(pos.values())
        ]
        for lat, lon in inner[:: max(1, len(inner) // 40)]:
            near = np.argsort(haversine_km(lat, lon, seg_lat, seg_lon))[:1]
            d_vertex = float(haversine_km(lat, lon, seg_lat[near], seg_lon[near])[0]) * 1000
            snapped = net.snap(np.array([lat]), np.array([lon])).snap_m[0]
            assert snapped < 1.0 or d_vertex < 1.0, (lat, lon)
        lat, lon = coords[:, 1], coords[:, 0]
        length = float(np.sum(haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])))
        # every leg steps from its place onto the road and off it again: not driven km
        visited = [pos[s] for s in stops] + [(round(places.lat[0], 6), round(places.lon[0], 6))]
        steps = 2 * net.snap(*np.array(visited).T).snap_m.sum() / 1000
        reported = float(days[date]["travel_km"])
        assert abs(length - steps - reported) <= 0.06 + 0.002 * reported, (date, length, steps)
    crow = json.loads((tmp_path / "crow" / "routes.geojson").read_text())["features"]
    for feature in crow:
        assert len(feature["geometry"]["coordinates"]) == int(feature["properties"]["visits"]) + 2
    page = (tmp_path / "osm" / "reps" / "H.html").read_text(encoding="utf-8")
    assert '"home_from"' in page
