"""Travel model: how far and how long between places, asked per subset of points.

Every stage that needs travel (workload allowance, design costs, day routes, reported km) asks one
:class:`TravelModel`, built once per run by :func:`travel_model` from ``[travel]`` and passed
down; no stage knows which source answered. The default source, ``crow``, is great-circle
distance x circuity at one speed, vectorised with numpy. A model is asked for *pairs* (a[i] to
b[i]) or for a *matrix* over two small sets (a territory, a day, the candidate homes), never for
an n x n matrix over the whole customer file.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .exceptions import ConfigError, InputError, TerritoryWarning
from .models import Customer, Rep
from .params import Config, TravelParams

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
    """Driving minutes for road km at ``params.speed_kmh`` (plus ``params.fixed_minutes`` on
    every leg longer than zero)."""
    km = np.asarray(km, dtype=np.float64)
    minutes: NDArray[np.float64] = km / params.speed_kmh * 60.0
    if params.fixed_minutes:
        minutes = np.where(km > 0, minutes + params.fixed_minutes, minutes)
    return minutes


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


@dataclass(frozen=True, eq=False)
class Points:
    """Places to travel between: WGS84 degrees, and the ids a travel-time file knows them by.

    ``ids`` is None for places without one (a free territory centre); a source that looks
    places up by id estimates those.
    """

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    ids: NDArray[np.object_] | None = None

    def __post_init__(self) -> None:
        if self.ids is not None and len(self.ids) != len(self.lat):
            raise ValueError(f"{len(self.ids)} ids for {len(self.lat)} points")

    @classmethod
    def of(cls, places: Sequence[Customer | Rep]) -> Points:
        """The positions and ids of customers and/or reps, in order."""
        return cls(
            np.array([p.lat for p in places], dtype=np.float64),
            np.array([p.lon for p in places], dtype=np.float64),
            np.array([p.id for p in places], dtype=object),
        )

    def __len__(self) -> int:
        return len(self.lat)

    def take(self, index: ArrayLike) -> Points:
        """The points at ``index`` (integers, repeats allowed), as a flat set."""
        idx = np.asarray(index, dtype=np.intp).ravel()
        ids = self.ids[idx] if self.ids is not None else None
        return Points(self.lat[idx], self.lon[idx], ids)

    def paired(self, other: Points) -> tuple[Points, Points]:
        """These points and ``other`` as equally long sides of ``pairs``: a side of length 1
        is repeated to the other's length."""
        a, b = self, other
        n = max(len(a), len(b))
        if len(a) == 1 and n > 1:
            a = a.take(np.zeros(n, dtype=np.intp))
        if len(b) == 1 and n > 1:
            b = b.take(np.zeros(n, dtype=np.intp))
        return a, b

    def __add__(self, other: Points) -> Points:
        """These points followed by ``other``'s (ids kept only when both have them)."""
        ids = (
            np.concatenate([self.ids, other.ids])
            if self.ids is not None and other.ids is not None
            else None
        )
        return Points(
            np.concatenate([self.lat, other.lat]), np.concatenate([self.lon, other.lon]), ids
        )


@dataclass(frozen=True)
class Legs:
    """Road km and driving minutes of legs (any shape; pairs or a matrix)."""

    km: NDArray[np.float64]
    minutes: NDArray[np.float64]


class TravelModel(Protocol):
    """What every stage asks of travel; the source behind it stays hidden.

    Implementations are deterministic: the same points give the same numbers in any order.
    """

    @property
    def source(self) -> str:
        """The ``[travel] source`` name: crow, osm, osrm or matrix."""
        ...

    def pairs(self, a: Points, b: Points) -> Legs:
        """Travel from ``a[i]`` to ``b[i]`` for every i (equal lengths, or one of length 1)."""
        ...

    def matrix(self, a: Points, b: Points | None = None) -> Legs:
        """Travel from every point of ``a`` to every point of ``b`` (default ``a``): |a| x |b|.

        For small sets only (a territory, a day, the candidate homes): O(|a| |b|) memory.
        """
        ...

    def paths(self, a: Points, b: Points) -> list[NDArray[np.float64]] | None:
        """The road geometry of each leg ``a[i]`` -> ``b[i]`` as (lat, lon) rows, from the
        place to the other place; None when the source knows no geometry (straight lines)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What answered, for ``summary.json`` and the report (source, file hash or server, ...)."""
        ...


@dataclass(frozen=True)
class CrowTravel:
    """Great-circle distance x ``circuity`` at ``speed_kmh``: needs no data (the default)."""

    params: TravelParams

    @property
    def source(self) -> str:
        """Always ``crow``."""
        return "crow"

    def pairs(self, a: Points, b: Points) -> Legs:
        """Travel from ``a[i]`` to ``b[i]`` (numpy broadcasting)."""
        km = road_km(a.lat, a.lon, b.lat, b.lon, self.params)
        return Legs(km, minutes_for_km(km, self.params))

    def matrix(self, a: Points, b: Points | None = None) -> Legs:
        """|a| x |b| km and minutes."""
        b = a if b is None else b
        km = road_km(a.lat[:, None], a.lon[:, None], b.lat[None, :], b.lon[None, :], self.params)
        return Legs(km, minutes_for_km(km, self.params))

    def paths(self, a: Points, b: Points) -> None:
        """No road geometry: the maps draw straight lines between stops."""
        return None

    def describe(self) -> dict[str, Any]:
        """Source, speed and circuity (and the fixed minutes per leg when set)."""
        about: dict[str, Any] = {
            "source": "crow",
            "speed_kmh": self.params.speed_kmh,
            "circuity": self.params.circuity,
        }
        if self.params.fixed_minutes:
            about["fixed_minutes"] = self.params.fixed_minutes
        return about


def travel_model(config: Config, places: Points | None = None) -> TravelModel:
    """The run's travel model, from ``[travel]`` (built once; every stage asks it).

    Parameters
    ----------
    config
        ``config.travel`` names the source and its file or server.
    places
        The run's customers and homes: a road source snaps them (and refuses places too far
        from any road), a matrix source checks its ids against them.

    Raises
    ------
    InputError
        A source without its file or server, a file that does not cover the places, a
        server that does not answer.
    """
    tp = config.travel
    if tp.source == "crow":
        return crow(tp)
    needed = getattr(tp, tp.source)
    if not needed:
        what = {
            "osm": '"roads.osm.pbf"',
            "osrm": '"http://localhost:5000"',
            "matrix": '"travel.csv"',
        }
        raise ConfigError(
            f'[travel] source = "{tp.source}" needs {tp.source} = {what[tp.source]} in the '
            f"config (or --{tp.source} on the command line)"
        )
    if tp.source == "osm":
        from .roads import osm_travel

        return osm_travel(tp, places)
    if tp.source == "osrm":
        from .osrm import osrm_travel

        return osrm_travel(tp, places)
    from .travelfile import matrix_travel

    return matrix_travel(tp, places)


def with_travel_options(
    config: Config,
    *,
    source: str | None = None,
    osm: str | None = None,
    osrm: str | None = None,
    matrix: str | None = None,
) -> Config:
    """``config`` with the command line's travel options over ``[travel]``.

    A file or server given without ``source`` selects its source (``--osm FILE`` means
    ``source = "osm"``); paths stay as given (relative to the working folder).
    """
    given = {k: v for k, v in (("osm", osm), ("osrm", osrm), ("matrix", matrix)) if v}
    if source is None and len(given) > 1:
        raise ConfigError(
            f"--{' and --'.join(given)} name two travel sources; keep one or add --travel-source"
        )
    if source is None and given:
        source = next(iter(given))
    if source is None and not given:
        return config
    tp = config.travel
    try:
        travel = replace(
            tp,
            source=source or tp.source,
            osm=osm or tp.osm,
            osrm=osrm or tp.osrm,
            matrix=matrix or tp.matrix,
        )
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("[travel] source =", "--travel-source")) from None
    return replace(config, travel=travel)


def snap_figures(
    snap_m: NDArray[np.float64], ids: Sequence[str] | None, *, far_m: float = 500.0
) -> dict[str, Any]:
    """How far the run's places lie from the road they were snapped to (for summary.json)."""
    if len(snap_m) == 0:
        return {"points": 0}
    order = np.argsort(-snap_m, kind="stable")[:5]
    return {
        "points": len(snap_m),
        "median_m": round(float(np.median(snap_m)), 1),
        "p90_m": round(float(np.percentile(snap_m, 90)), 1),
        "max_m": round(float(snap_m.max()), 1),
        f"over_{far_m:.0f}_m": int(np.sum(snap_m > far_m)),
        "farthest": [
            {"id": str(ids[i]) if ids is not None else str(i), "m": round(float(snap_m[i]), 1)}
            for i in order
        ],
    }


def check_snaps(
    snap_m: NDArray[np.float64],
    places: Points,
    params: TravelParams,
    what: str,
    *,
    far_m: float = 500.0,
) -> None:
    """Refuse places farther than ``max_snap_km`` from any road (listed); warn about far ones."""
    ids = places.ids if places.ids is not None else np.arange(len(places)).astype(object)
    too_far = np.flatnonzero(snap_m > params.max_snap_km * 1000)
    if len(too_far):
        shown = ", ".join(f"'{ids[i]}' ({snap_m[i] / 1000:.1f} km)" for i in too_far[:8]) + (
            f" and {len(too_far) - 8} more" if len(too_far) > 8 else ""
        )
        raise InputError(
            f"{what} does not cover {len(too_far)} of the places: {shown} lie more than "
            f"{params.max_snap_km:g} km from any road; use an extract that covers all customers "
            "and homes (or raise [travel] max_snap_km)"
        )
    far = np.flatnonzero(snap_m > far_m)
    if len(far):
        shown = ", ".join(f"'{ids[i]}' ({snap_m[i]:.0f} m)" for i in far[:5])
        warnings.warn(
            f"{what}: {len(far)} places lie more than {far_m:.0f} m from the nearest road "
            f"({shown}{' ...' if len(far) > 5 else ''}); check their coordinates",
            TerritoryWarning,
            stacklevel=3,
        )


def crow(params: TravelParams | None = None) -> CrowTravel:
    """The straight-line model with ``params`` (default: the ``[travel]`` defaults)."""
    return CrowTravel(params if params is not None else TravelParams())
