"""Territory geometry: non-overlapping territory areas from the customers' locations.

Each customer gets its Voronoi cell (shapely/GEOS, in local planar km so cells are not
distorted by longitude), the cells of one territory are merged and simplified together with
their neighbours (shared borders stay shared), and each area is clipped to a buffer around
that territory's customers so it ends near the last customer instead of running to the edge
of the map. Cells partition the plane, so two territories share borders but do not overlap
(up to sub-metre slivers from rounding the output to 1e-5 degrees). Everything is
O(n log n): no n x n matrix is built; 100,000 customers take a few seconds. Rings are oriented
as RFC 7946 (3.1.6) asks: exteriors counter-clockwise, holes clockwise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree
from shapely.geometry import mapping

from .travel import EARTH_RADIUS_KM, project_km

log = logging.getLogger(__name__)

#: A GeoJSON geometry as a ``mapping``-style dict (``type`` and ``coordinates``, lon/lat).
Geometry = dict[str, Any]


def _to_lonlat(geom: shapely.Geometry, lat0: float, coord_decimals: int) -> shapely.Geometry:
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    cos0 = np.cos(np.radians(lat0))

    def inverse(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon = xy[:, 0] / (k * cos0)
        lat = xy[:, 1] / k
        return np.column_stack([lon, lat])

    # Snapping to the output grid (1e-5 degrees, about a metre) leaves valid polygons; where a
    # border vertex exists on one side only, neighbours may cross by under a metre.
    return shapely.set_precision(
        shapely.make_valid(shapely.transform(geom, inverse)), 10.0**-coord_decimals
    )


def territory_polygons(
    lat: ArrayLike,
    lon: ArrayLike,
    assignment: ArrayLike,
    n_territories: int,
    *,
    buffer_km: float | None = None,
    simplify_km: float = 0.05,
    coord_decimals: int = 5,
) -> list[Geometry | None]:
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
        Each territory is clipped to this distance around its own customers. None (default)
        adapts it to the customers' spacing (:func:`auto_buffer_km`), so sparse national
        files get areas rather than halos around points.
    simplify_km
        Douglas-Peucker tolerance applied to every merged area (keeps files small); 0 = off.
    coord_decimals
        Decimals of the output degrees (5 decimals is about 1 m).

    Returns
    -------
    list of dict or None
        A GeoJSON ``Polygon``/``MultiPolygon`` geometry (``mapping``-style dict, lon/lat
        order) per territory, or None for a territory without located customers. The
        areas are pairwise non-overlapping (they may touch); exterior rings run
        counter-clockwise and holes clockwise (RFC 7946, 3.1.6).
    """
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    terr = np.asarray(assignment, dtype=np.int64)
    if not (lat_a.shape == lon_a.shape == terr.shape):
        raise ValueError("lat, lon and assignment must have the same length")
    ok = np.isfinite(lat_a) & np.isfinite(lon_a) & (terr >= 0) & (terr < n_territories)
    out: list[Geometry | None] = [None] * n_territories
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

    if buffer_km is None:
        buffer_km = auto_buffer_km(sites)
    cells = _voronoi_cells(sites, pad_km=buffer_km * 4 + 1.0)
    # Within its Voronoi cell a site is the nearest of all, so "cells clipped to the buffer
    # around the territory's customers" is each cell clipped to its own site's disk. Only
    # cells reaching further than buffer_km need that (few, unless customers are sparse):
    # cut their outer parts away instead of building a union of every customer's disk.
    coords, owner = shapely.get_coordinates(cells, return_index=True)
    reach_km = np.zeros(len(sites))
    np.maximum.at(reach_km, owner, np.hypot(*(coords - sites[owner]).T))
    far = np.flatnonzero(reach_km > buffer_km)
    disks = shapely.buffer(shapely.points(sites[far]), buffer_km, quad_segs=8)
    outer = shapely.difference(cells[far], disks)
    present = [t for t in range(n_territories) if (site_terr == t).any()]
    # The merged cells are an exact coverage (shared borders have identical vertices), so
    # simplifying them together keeps borders shared: no gaps, no overlap. The cuts come
    # after, and removing area from a partition cannot make two parts overlap.
    merged = np.array(
        [shapely.coverage_union_all(cells[site_terr == t]) for t in present], dtype=object
    )
    if simplify_km > 0 and len(merged):
        merged = shapely.coverage_simplify(merged, simplify_km, simplify_boundary=False)
    far_terr = site_terr[far]
    for t, area in zip(present, merged, strict=True):
        cut = outer[far_terr == t]
        clipped = shapely.difference(area, shapely.union_all(cut)) if len(cut) else area
        geom = _polygonal(clipped)
        if geom is not None:
            geom = _polygonal(_to_lonlat(geom, lat0, coord_decimals))
        if geom is not None and not geom.is_empty:
            out[t] = mapping(shapely.orient_polygons(geom, exterior_cw=False))
    return out


def auto_buffer_km(xy_km: NDArray[np.float64]) -> float:
    """A clip distance that turns the customers' spread into areas, in km (2 to 30).

    The 90th percentile of the distance to the 4th-nearest customer: towns with customers
    merge into one area while a lone customer far out does not drag a large area with it.
    """
    if len(xy_km) < 2:
        return 5.0
    k = min(4, len(xy_km) - 1)
    distance, _ = cKDTree(xy_km).query(xy_km, k=k + 1)
    return float(np.clip(np.percentile(distance[:, k], 90), 2.0, 30.0))


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Keep only the polygonal parts (make_valid may add stray lines after rounding)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)


def _voronoi_cells(sites: NDArray[np.float64], pad_km: float) -> NDArray[np.object_]:
    """One Voronoi polygon per site (in site order), bounded by the padded extent."""
    n = len(sites)
    lo = sites.min(axis=0) - pad_km
    hi = sites.max(axis=0) + pad_km
    frame = shapely.box(lo[0], lo[1], hi[0], hi[1])
    if n == 1:
        return np.array([frame], dtype=object)
    voronoi = shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=frame, ordered=True)
    parts = shapely.get_parts(voronoi)
    if len(parts) != n:  # pragma: no cover - GEOS returns one cell per distinct site
        raise RuntimeError(f"Voronoi returned {len(parts)} cells for {n} sites")
    cells: NDArray[np.object_] = shapely.intersection(parts, frame)
    return cells


def non_overlap_area_km2(geometries: Sequence[Geometry | None]) -> float:
    """Total pairwise overlap area of GeoJSON geometries in km^2 (a check, 0 for a partition)."""
    from shapely.geometry import shape

    geoms = [shape(g) for g in geometries if g is not None]
    geoms = [g for g in geoms if not g.is_empty]
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
