"""Territory polygons: non-overlapping, holding their own customers, clipped near them."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape

from territory.geometry import non_overlap_area_km2, territory_polygons
from territory.travel import haversine_km

TOL_DEG = 2e-5  # output is snapped to 1e-5 degrees (about a metre)


def _sectors(n: int, k: int, seed: int = 0):
    """Customers in a 150 x 140 km box split into k angular sectors around its centre."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(51.5, 52.8, n)
    lon = rng.uniform(4.5, 6.5, n)
    angle = np.arctan2(lat - 52.15, lon - 5.5) + np.pi
    return lat, lon, (angle / (2 * np.pi) * k).astype(int) % k


def rounding_slack_km2(geoms) -> float:
    """Overlap that rounding to 1e-5 degrees can cause: a 1 m wide strip along every border."""
    perimeter_deg = sum(shape(g).length for g in geoms if g is not None)
    return perimeter_deg * 111.2 * 0.001


def _check_partition(lat, lon, assignment, geoms) -> None:
    shapes = [shape(g) if g is not None else None for g in geoms]
    assert non_overlap_area_km2(geoms) <= rounding_slack_km2(geoms)
    inner = [s.buffer(-TOL_DEG) if s is not None else None for s in shapes]
    for i, (y, x, t) in enumerate(zip(lat, lon, assignment, strict=True)):
        own = shapes[t]
        assert own is not None, f"territory {t} of customer {i} has no area"
        assert own.distance(Point(x, y)) <= TOL_DEG, f"customer {i} outside its territory"
        for u, other in enumerate(inner):
            if u != t and other is not None:
                # a customer may sit on a shared border, never inside another territory
                assert not other.contains(Point(x, y)), (i, u)


def test_sectors_partition_without_overlap() -> None:
    lat, lon, a = _sectors(600, 6)
    geoms = territory_polygons(lat, lon, a, 7)
    assert geoms[6] is None  # a territory without customers has no area
    assert all(g["type"] in ("Polygon", "MultiPolygon") for g in geoms[:6])
    _check_partition(lat, lon, a, geoms[:6])


def test_areas_end_within_the_buffer() -> None:
    lat, lon, a = _sectors(300, 4, seed=1)
    buffer_km = 3.0
    geoms = territory_polygons(lat, lon, a, 4, buffer_km=buffer_km)
    for t, g in enumerate(geoms):
        coords = np.array(shapely.get_coordinates(shape(g)))
        mine = a == t
        for x, y in coords[::7]:
            nearest = haversine_km(y, x, lat[mine], lon[mine]).min()
            assert nearest <= buffer_km * 1.02 + 0.01


def test_duplicates_nan_and_tiny_inputs() -> None:
    lat = np.array([52.0, 52.0, 52.1, np.nan, 52.2])
    lon = np.array([5.0, 5.0, 5.1, 5.0, 5.2])
    a = np.array([0, 1, 1, 0, -1])  # a shared address, a missing location, an unassigned row
    geoms = territory_polygons(lat, lon, a, 2)
    assert geoms[0] is not None and geoms[1] is not None
    assert non_overlap_area_km2(geoms) <= rounding_slack_km2(geoms)
    one = territory_polygons([52.0], [5.0], [0], 1)
    assert shape(one[0]).contains(Point(5.0, 52.0))
    line = territory_polygons([52.0, 52.0, 52.0], [5.0, 5.1, 5.2], [0, 0, 1], 2)
    _check_partition([52.0, 52.0, 52.0], [5.0, 5.1, 5.2], [0, 0, 1], line)
    assert territory_polygons([np.nan], [np.nan], [0], 1) == [None]


def test_same_input_same_output() -> None:
    lat, lon, a = _sectors(200, 3, seed=5)
    assert territory_polygons(lat, lon, a, 3) == territory_polygons(lat, lon, a, 3)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(51.0, 51.5, allow_nan=False),
            st.floats(4.0, 4.6, allow_nan=False),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_property_every_customer_in_its_own_area_only(rows) -> None:
    lat = np.array([r[0] for r in rows])
    lon = np.array([r[1] for r in rows])
    a = np.array([r[2] for r in rows])
    # one territory per location: the first row at a location decides (documented behaviour)
    seen: dict = {}
    for i, key in enumerate(zip(np.round(lat, 5), np.round(lon, 5), strict=True)):
        a[i] = seen.setdefault(key, a[i])
    geoms = territory_polygons(lat, lon, a, 4, buffer_km=2.0)
    for t in range(4):
        assert (geoms[t] is None) == (not (a == t).any())
    _check_partition(lat, lon, a, geoms)


def signed_area(ring: list[list[float]]) -> float:
    """Shoelace area of a closed lon/lat ring: positive when it runs counter-clockwise."""
    x, y = np.asarray(ring, dtype=float).T
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def assert_rfc7946_rings(geometry: dict) -> int:
    """Every exterior ring counter-clockwise, every hole clockwise; returns the number of holes."""
    assert geometry["type"] in ("Polygon", "MultiPolygon")
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    holes = 0
    for rings in polygons:
        assert signed_area(rings[0]) > 0, "exterior ring is clockwise"
        for hole in rings[1:]:
            assert signed_area(hole) < 0, "hole is counter-clockwise"
            holes += 1
    return holes


def ring_around_a_core(n_ring: int = 24, n_core: int = 6) -> tuple[np.ndarray, ...]:
    """Territory 0 on a circle around territory 1: territory 0's area has a hole."""
    a = 2 * np.pi * np.arange(n_ring) / n_ring
    b = 2 * np.pi * np.arange(n_core) / n_core
    lat = np.concatenate([52.0 + 0.12 * np.sin(a), 52.0 + 0.01 * np.sin(b)])
    lon = np.concatenate([5.0 + 0.2 * np.cos(a), 5.0 + 0.016 * np.cos(b)])
    return lat, lon, np.array([0] * n_ring + [1] * n_core)


def test_rings_follow_rfc7946_with_a_hole() -> None:
    lat, lon, a = ring_around_a_core()
    geoms = territory_polygons(lat, lon, a, 2, buffer_km=20.0)
    assert assert_rfc7946_rings(geoms[0]) == 1  # the core sits in a hole of the ring
    assert assert_rfc7946_rings(geoms[1]) == 0
    assert shape(geoms[0]).is_valid and not shape(geoms[0]).contains(Point(5.0, 52.0))


def test_rings_follow_rfc7946_on_sectors_and_multipolygons() -> None:
    lat, lon, a = _sectors(400, 5, seed=3)
    # swap a few customers far into other sectors: their territories become MultiPolygons
    a[:6] = (a[:6] + 2) % 5
    geoms = territory_polygons(lat, lon, a, 5, buffer_km=4.0)
    assert any(g["type"] == "MultiPolygon" for g in geoms)
    for g in geoms:
        assert_rfc7946_rings(g)
