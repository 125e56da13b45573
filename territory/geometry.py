"""Territory geometry: non-overlapping territory areas from the customers' locations.

Each customer gets its Voronoi cell (shapely/GEOS, in local planar km so cells are not
distorted by longitude), the cells of one territory are merged, and the result is clipped
to a buffer around that territory's customers so areas end near the last customer instead of
running to the edge of the map. Cells partition the plane, so two territories can share a
border but never overlap. Everything is O(n log n): no n x n matrix is built.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import mapping

from .travel import EARTH_RADIUS_KM, project_km

log = logging.getLogger(__name__)


def _to_lonlat(geom: shapely.Geometry, lat0: float, coord_decimals: int) -> shapely.Geometry:
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    cos0 = np.cos(np.radians(lat0))

    def inverse(xy: np.ndarray) -> np.ndarray:
        lon = xy[:, 0] / (k * cos0)
        lat = xy[:, 1] / k
        return np.column_stack([lon, lat])

    # Snapping to a common grid keeps shared borders identical in every territory (rounding
    # each coordinate on its own would let neighbours cross by a metre here and there).
    return shapely.set_precision(shapely.transform(geom, inverse), 10.0**-coord_decimals)


def territory_polygons(
    lat: ArrayLike,
    lon: ArrayLike,
    assignment: ArrayLike,
    n_territories: int,
    *,
    buffer_km: float = 5.0,
    simplify_km: float = 0.05,
    coord_decimals: int = 5,
) -> list[dict | None]:
    """GeoJSON geometries of the territories: Voronoi cells merged per territory, clipped.

    Parameters
    ----------
    lat, lon
        Customer locations in WGS84 degrees (NaN rows are ignored).
    assignment
        Territory index (0 .. n_territories-1) per customer; negative = unassigned (ignored).
    n_territories
        Number of territories; the result has one entry per territory.
    buffer_km
        Each territory is clipped to this distance around its own customers.
    simplify_km
        Douglas-Peucker tolerance applied to every merged area (keeps files small); 0 = off.
    coord_decimals
        Decimals of the output degrees (5 decimals is about 1 m).

    Returns
    -------
    list of dict or None
        A GeoJSON ``Polygon``/``MultiPolygon`` geometry (``mapping``-style dict, lon/lat
        order) per territory, or None for a territory without located customers. The
        areas are pairwise non-overlapping (they may touch).
    """
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    terr = np.asarray(assignment, dtype=np.int64)
    if not (lat_a.shape == lon_a.shape == terr.shape):
        raise ValueError("lat, lon and assignment must have the same length")
    ok = np.isfinite(lat_a) & np.isfinite(lon_a) & (terr >= 0) & (terr < n_territories)
    out: list[dict | None] = [None] * n_territories
    if not ok.any():
        return out
    lat0 = float(np.mean(lat_a[ok]))
    xy = project_km(lat_a[ok], lon_a[ok], lat0)
    terr = terr[ok]

    # Customers at one address share a cell: keep one point per location (the first row's
    # territory wins, deterministically), because Voronoi cells need distinct sites.
    xy_key = np.round(xy, 6)
    _, first = np.unique(xy_key, axis=0, return_index=True)
    first.sort()
    sites = xy[first]
    site_terr = terr[first]

    cells = _voronoi_cells(sites, pad_km=buffer_km * 4 + 1.0)
    disks = shapely.buffer(shapely.points(xy), buffer_km, quad_segs=6)
    areas: list[shapely.Geometry | None] = [None] * n_territories
    for t in range(n_territories):
        mine = site_terr == t
        if not mine.any():
            continue
        area = shapely.coverage_union_all(cells[mine])
        reach = shapely.union_all(disks[terr == t])
        areas[t] = _polygonal(shapely.intersection(area, reach))
    present = [t for t in range(n_territories) if areas[t] is not None]
    geoms = np.array([areas[t] for t in present], dtype=object)
    if simplify_km > 0 and len(geoms):
        # Simplify the territories together so shared borders stay shared (no gaps, no overlap).
        geoms = shapely.coverage_simplify(geoms, simplify_km, simplify_boundary=False)
    for t, geom in zip(present, geoms, strict=True):
        geom = _polygonal(_to_lonlat(geom, lat0, coord_decimals))
        if geom is not None and not geom.is_empty:
            out[t] = mapping(geom)
    return out


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Keep only the polygonal parts (make_valid may add stray lines after rounding)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)


def _voronoi_cells(sites: np.ndarray, pad_km: float) -> np.ndarray:
    """One Voronoi polygon per site (in site order), bounded by the padded extent."""
    n = len(sites)
    lo = sites.min(axis=0) - pad_km
    hi = sites.max(axis=0) + pad_km
    frame = shapely.box(lo[0], lo[1], hi[0], hi[1])
    if n == 1:
        return np.array([frame], dtype=object)
    cells = shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=frame, ordered=True)
    parts = shapely.get_parts(cells)
    if len(parts) != n:  # pragma: no cover - GEOS returns one cell per distinct site
        raise RuntimeError(f"Voronoi returned {len(parts)} cells for {n} sites")
    return shapely.intersection(parts, frame)


def non_overlap_area_km2(geometries: Sequence[dict | None]) -> float:
    """Total pairwise overlap area of GeoJSON geometries in km^2 (a check, 0 for a partition)."""
    from shapely.geometry import shape

    geoms = [shape(g) for g in geometries if g is not None]
    if len(geoms) < 2:
        return 0.0
    lat0 = float(np.mean([g.centroid.y for g in geoms]))
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    cos0 = np.cos(np.radians(lat0))
    planar = [
        shapely.transform(g, lambda c: np.column_stack([c[:, 0] * k * cos0, c[:, 1] * k]))
        for g in geoms
    ]
    tree = shapely.STRtree(planar)
    pairs = tree.query(planar, predicate="intersects")
    total = 0.0
    for i, j in pairs.T:
        if i < j:
            total += shapely.intersection(planar[i], planar[j]).area
    return float(total)
