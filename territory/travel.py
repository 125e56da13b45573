"""Travel model: great-circle distance x circuity at a speed, vectorised, per subset of points."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .params import TravelParams

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distance in km between points, broadcasting like numpy.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        WGS84 degrees; any shapes that broadcast together.
    """
    p1, l1, p2, l2 = (np.radians(np.asarray(a, dtype=np.float64)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    km: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return km


def road_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike, params: TravelParams
) -> NDArray[np.float64]:
    """Estimated road distance in km: great-circle distance x ``params.circuity``."""
    return haversine_km(lat1, lon1, lat2, lon2) * params.circuity


def minutes_for_km(km: ArrayLike, params: TravelParams) -> NDArray[np.float64]:
    """Driving minutes for road km at ``params.speed_kmh``."""
    return np.asarray(km, dtype=np.float64) / params.speed_kmh * 60.0


def travel_minutes(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike, params: TravelParams
) -> NDArray[np.float64]:
    """Driving minutes between points (broadcasting)."""
    return minutes_for_km(road_km(lat1, lon1, lat2, lon2, params), params)


def matrices(
    lat: ArrayLike, lon: ArrayLike, params: TravelParams
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Road-km and minutes matrices over one subset of points (a territory, a day, a candidate set).

    Never call this on a whole customer file: it is O(n^2) in memory by design.

    Returns
    -------
    km, minutes
        Square float64 arrays, zero on the diagonal.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    km = road_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :], params)
    return km, minutes_for_km(km, params)


def solver_matrices(
    lat: ArrayLike, lon: ArrayLike, params: TravelParams
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Integer seconds and metres over one subset, the form handed to OR-Tools."""
    km, minutes = matrices(lat, lon, params)
    return np.rint(minutes * 60.0).astype(np.int64), np.rint(km * 1000.0).astype(np.int64)


def project_km(lat: ArrayLike, lon: ArrayLike, lat0: float | None = None) -> NDArray[np.float64]:
    """Equirectangular projection to local planar km (x east, y north), for neighbour searches.

    Accurate to well under 1 % over a country the size of the Benelux; used for KD-trees and
    triangulations, never for the distances the plan reports.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if lat0 is None:
        lat0 = float(np.mean(lat)) if lat.size else 0.0
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    return np.column_stack([lon * k * np.cos(np.radians(lat0)), lat * k])


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Ellipsoidal (WGS84) distance in km for one pair, through geopy; the accuracy reference."""
    from geopy.distance import geodesic

    return float(geodesic((lat1, lon1), (lat2, lon2)).km)
