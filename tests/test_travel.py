"""Travel model: great-circle x circuity at a speed, checked against geopy's geodesic distance."""

from __future__ import annotations

import numpy as np
import pytest

from territory.params import TravelParams
from territory.travel import (
    geodesic_km,
    haversine_km,
    matrices,
    project_km,
    road_km,
    solver_matrices,
    travel_minutes,
)

# Pairs of Dutch and Belgian places (lat, lon): short, regional and cross-border distances.
PAIRS = [
    ((52.3676, 4.9041), (51.9244, 4.4777)),  # Amsterdam - Rotterdam
    ((53.2194, 6.5665), (51.4416, 5.4697)),  # Groningen - Eindhoven
    ((51.0543, 3.7174), (50.6326, 5.5797)),  # Gent - Liege
    ((52.0907, 5.1214), (52.0930, 5.1300)),  # two points in Utrecht
    ((50.8503, 4.3517), (53.4400, 6.8300)),  # Brussels - Delfzijl
]


@pytest.mark.parametrize("a, b", PAIRS)
def test_haversine_within_half_a_percent_of_geodesic(a, b):
    h = float(haversine_km(a[0], a[1], b[0], b[1]))
    g = geodesic_km(a[0], a[1], b[0], b[1])
    assert abs(h - g) / g < 0.005


def test_road_km_and_minutes_follow_circuity_and_speed():
    p = TravelParams(speed_kmh=50, circuity=1.25)
    (a, b) = PAIRS[0]
    gc = float(haversine_km(*a, *b))
    assert float(road_km(*a, *b, p)) == pytest.approx(gc * 1.25)
    assert float(travel_minutes(*a, *b, p)) == pytest.approx(gc * 1.25 / 50 * 60)


def test_matrices_are_symmetric_zero_diagonal_and_integral_at_solver_boundary():
    rng = np.random.default_rng(1)
    lat = 51 + rng.random(12) * 2
    lon = 4 + rng.random(12) * 2
    p = TravelParams()
    km, minutes = matrices(lat, lon, p)
    assert km.shape == (12, 12) and np.allclose(km, km.T) and np.all(np.diag(km) == 0)
    s, m = solver_matrices(lat, lon, p)
    assert s.dtype == np.int64 and m.dtype == np.int64
    assert np.all(np.abs(s - minutes * 60) <= 0.5) and np.all(np.abs(m - km * 1000) <= 0.5)
    # Triangle inequality holds on the straight-line model.
    i, j, k = 0, 5, 9
    assert km[i, k] <= km[i, j] + km[j, k] + 1e-9


def test_projection_preserves_local_distances():
    lat = np.array([52.0, 52.1, 51.9])
    lon = np.array([5.0, 5.2, 4.9])
    xy = project_km(lat, lon)
    for i in range(3):
        for j in range(3):
            planar = float(np.hypot(*(xy[i] - xy[j])))
            assert planar == pytest.approx(
                float(haversine_km(lat[i], lon[i], lat[j], lon[j])), rel=0.01, abs=1e-9
            )
