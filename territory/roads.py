"""Travel stage, road source ``osm``: a driving network from an OpenStreetMap extract.

Build (once per extract, then cached):

1. read the ``highway=*`` ways of a ``.osm.pbf`` with pyosmium (libosmium, C++; node locations
   from its index), keep the ones a car may use, with their one-way direction and a speed
   (``maxspeed`` or the per-``highway`` table, overridable in ``[travel.speeds]``);
2. cut every way into *pieces* between junctions (a node shared by ways, or a way's end), so
   the graph has one node per junction instead of one per drawn vertex (about a third of them);
3. keep the largest strongly connected component (scipy.sparse.csgraph; compiled);
4. order the nodes for a customizable contraction hierarchy (RoutingKit's inertial-flow nested
   dissection, through ``routingkit-cch``): the slow step, minutes on a country.

Everything, the order included, is saved under ``~/.cache/territory/roads/<sha256 of the file>/``
(or ``$TERRITORY_ROADS_DIR``), so the next run loads arrays, rebuilds the hierarchy and
customises its metric in seconds.

Queries: a place is snapped to the nearest point of the nearest road piece (a KD-tree over
points every 80 m of road, then an exact projection onto the segments of the 8 nearest) and enters the hierarchy from both ends of
its piece (one end on a one-way piece) with the partial cost as the start distance.

**What minutes and km are.** Minutes are the fastest path's driving time at the speeds above
(no turn costs, no traffic). km is the length *of that fastest path* (the shortest one among
equally fast paths) rather than the shortest road distance: one metric ``time x M + length`` with
``M`` larger than any fastest path's length in its unit gives both in one query
(``d // M`` and ``d % M``). The units are chosen per network so that every path up to twice
a bound on the fastest paths (one forward and one backward Dijkstra from a central node) fits
RoutingKit's 31-bit weights: 1 s and 1 m on a city extract, 1-2 s and 15-40 m per road piece
on a province or a country (rounding errors of single pieces that mostly cancel along a route).

Why not networkx for the build: measured on a 146 k-node, 556 k-arc network, a networkx
MultiDiGraph with time and length costs 744 bytes per arc and its strongly-connected-components
search took 16 s (load 10 on 2 cores); a 100 MB province has some 3 M road arcs before cutting
into pieces, so networkx would need over 2 GB and minutes before any routing. The graph is built
with numpy and scipy.sparse.csgraph instead (compiled); networkx checks the paths in the tests
(on the small real extracts, where it fits easily) and :meth:`RoadNetwork.to_networkx` hands a
network to users who want to inspect it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import time
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .exceptions import InputError
from .params import TravelParams
from .travel import Legs, Points

log = logging.getLogger(__name__)

#: Bump when the cached arrays change meaning: old caches are then rebuilt, not misread.
CACHE_VERSION = 1

#: km/h where a way has no usable ``maxspeed``; ``[travel.speeds]`` overrides any of them.
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 45.0,
    "secondary": 55.0,
    "secondary_link": 40.0,
    "tertiary": 45.0,
    "tertiary_link": 35.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 30.0,
}

#: Road points are sampled at most this far apart for the nearest-road search (m); each place is
#: projected exactly onto the segments of its 8 nearest samples.
SAMPLE_SPACING_M = 80.0

_EARTH_RADIUS_M = 6_371_008.8
_MAX_WEIGHT = 2**31 - 1  # RoutingKit's infinity; every path must stay well below it
_NO_ACCESS = {"no", "private", "agricultural", "forestry", "delivery", "emergency"}
_MPH = 1.609344


def cache_dir() -> Path:
    """The road-network cache folder: ``$TERRITORY_ROADS_DIR`` or ``~/.cache/territory/roads``."""
    env = os.environ.get("TERRITORY_ROADS_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "territory" / "roads"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_maxspeed(value: str | None) -> float | None:
    """km/h from an OSM ``maxspeed`` value (``50``, ``30 mph``, ``50;70``); None when unusable.

    Zone values such as ``NL:urban`` or ``walk`` are not numbers: the ``highway`` default
    applies to them.
    """
    if not value:
        return None
    found = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph)?", value)
    if not found:
        return None
    kmh = float(found.group(1)) * (_MPH if found.group(2) else 1.0)
    return kmh if 3.0 <= kmh <= 200.0 else None


# --------------------------------------------------------------------------------------------
# reading the extract


@dataclass
class _Ways:
    """The drivable ways as flat arrays: every vertex once per way it is drawn in."""

    ref: array[int] = field(default_factory=lambda: array("q"))
    lat: array[float] = field(default_factory=lambda: array("d"))
    lon: array[float] = field(default_factory=lambda: array("d"))
    way: array[int] = field(default_factory=lambda: array("q"))  # run index per vertex
    speed_kmh: array[float] = field(default_factory=lambda: array("d"))  # per run
    two_way: array[int] = field(default_factory=lambda: array("b"))  # per run

    def add(self, nodes: list[tuple[int, float, float]], speed_kmh: float, two_way: bool) -> None:
        """One run of consecutive vertices with known locations (at least two)."""
        run = len(self.speed_kmh)
        for ref, lat, lon in nodes:
            self.ref.append(ref)
            self.lat.append(lat)
            self.lon.append(lon)
            self.way.append(run)
        self.speed_kmh.append(speed_kmh)
        self.two_way.append(1 if two_way else 0)


def _drivable(tags: Any, speeds: Mapping[str, float]) -> str | None:
    """The way's ``highway`` class when a car may drive it, else None."""
    highway = tags.get("highway")
    if highway not in speeds or tags.get("area") == "yes":
        return None
    allowed = tags.get("motor_vehicle") or tags.get("motorcar") or tags.get("vehicle")
    if allowed in _NO_ACCESS:
        return None
    if tags.get("access") in _NO_ACCESS and allowed not in {"yes", "designated", "permissive"}:
        return None
    return str(highway)


def _direction(tags: Any, highway: str) -> int:
    """1: drawn direction only, -1: against it only, 0: both ways."""
    oneway = tags.get("oneway", "")
    if oneway in {"yes", "true", "1"}:
        return 1
    if oneway in {"-1", "reverse"}:
        return -1
    if oneway == "no":
        return 0
    roundabout = tags.get("junction") in {"roundabout", "circular"}
    return 1 if roundabout or highway in {"motorway", "motorway_link"} else 0


def read_ways(path: Path, speeds: Mapping[str, float]) -> tuple[_Ways, dict[str, int]]:
    """The drivable ways of an extract, with a speed and direction each.

    Ways are drawn in their driving direction (``oneway=-1`` ways reversed); vertices without a
    location (outside a cut extract) split a way into runs.
    """
    import osmium

    out = _Ways()
    counts = {"ways": 0, "vertices": 0, "vertices_missing": 0}
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for obj in processor:
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = obj.tags
        highway = _drivable(tags, speeds)
        if highway is None:
            continue
        counts["ways"] += 1
        speed = parse_maxspeed(tags.get("maxspeed")) or speeds[highway]
        direction = _direction(tags, highway)
        run: list[tuple[int, float, float]] = []
        runs = [run]
        for n in obj.nodes:
            loc = n.location
            if loc.valid():
                run.append((n.ref, loc.lat, loc.lon))
            else:
                counts["vertices_missing"] += 1
                run = []
                runs.append(run)
        for part in runs:
            if len(part) >= 2:
                counts["vertices"] += len(part)
                out.add(part[::-1] if direction < 0 else part, speed, direction == 0)
    return out, counts


# --------------------------------------------------------------------------------------------
# the graph


def _haversine_m(
    lat1: NDArray[np.float64],
    lon1: NDArray[np.float64],
    lat2: NDArray[np.float64],
    lon2: NDArray[np.float64],
) -> NDArray[np.float64]:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    m: NDArray[np.float64] = 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return m


def _ecef(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points on the sphere in metres (chord distances are great-circle ones to 0.1 mm/km)."""
    p, q = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(p) * np.cos(q), np.cos(p) * np.sin(q), np.sin(p)]) * (
        _EARTH_RADIUS_M
    )


def _pieces(ways: _Ways) -> dict[str, NDArray[Any]]:
    """Cut the ways into pieces between junctions; arrays per segment and per piece."""
    ref = np.frombuffer(ways.ref, dtype=np.int64)
    lat = np.frombuffer(ways.lat, dtype=np.float64)
    lon = np.frombuffer(ways.lon, dtype=np.float64)
    way = np.frombuffer(ways.way, dtype=np.int64)
    n = len(ref)
    first = np.r_[True, way[1:] != way[:-1]]
    last = np.r_[way[1:] != way[:-1], True]
    _, inverse, count = np.unique(ref, return_inverse=True, return_counts=True)
    junction = first | last | (count[inverse.ravel()] > 1)
    # segments: consecutive vertices of one way (repeated vertices dropped)
    s = np.flatnonzero(~last)
    s = s[ref[s] != ref[s + 1]]
    seg_len = _haversine_m(lat[s], lon[s], lat[s + 1], lon[s + 1])
    # the piece of a segment: count of junctions at or before its start, per the whole array
    piece_no = np.cumsum(junction) - 1
    seg_piece = piece_no[s]
    used, seg_piece = np.unique(seg_piece, return_inverse=True)
    seg_piece = seg_piece.ravel()
    n_pieces = len(used)
    piece_len = np.bincount(seg_piece, weights=seg_len, minlength=n_pieces)
    # tail: the piece's first junction vertex; head: the next junction vertex after it
    junction_pos = np.flatnonzero(junction)
    tail_pos = junction_pos[used]
    head_pos = junction_pos[np.minimum(used + 1, len(junction_pos) - 1)]
    offset = np.cumsum(seg_len) - seg_len
    start_of_piece = np.r_[0, np.flatnonzero(np.diff(seg_piece)) + 1]
    seg_off = offset - np.repeat(offset[start_of_piece], np.diff(np.r_[start_of_piece, len(s)]))
    speed = np.frombuffer(ways.speed_kmh, dtype=np.float64)[way[tail_pos]]
    del n
    return {
        "seg_piece": seg_piece.astype(np.int32),
        "seg_lat0": lat[s],
        "seg_lon0": lon[s],
        "seg_lat1": lat[s + 1],
        "seg_lon1": lon[s + 1],
        "seg_off_m": seg_off,
        "seg_len_m": seg_len,
        "piece_tail_ref": ref[tail_pos],
        "piece_head_ref": ref[head_pos],
        "piece_len_m": piece_len,
        "piece_time_s": piece_len / (speed / 3.6),
        "piece_two_way": np.frombuffer(ways.two_way, dtype=np.int8)[way[tail_pos]].astype(bool),
        "node_ref_lat": lat[junction_pos],
        "node_ref_lon": lon[junction_pos],
        "node_ref": ref[junction_pos],
    }


def _largest_component(p: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """Nodes and arcs of the largest strongly connected component; pieces fully inside it."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    refs, first = np.unique(p["node_ref"], return_index=True)
    node_lat, node_lon = p["node_ref_lat"][first], p["node_ref_lon"][first]
    tail = np.searchsorted(refs, p["piece_tail_ref"])
    head = np.searchsorted(refs, p["piece_head_ref"])
    two = p["piece_two_way"]
    n = len(refs)
    a_t = np.r_[tail, head[two]]
    a_h = np.r_[head, tail[two]]
    g = coo_matrix((np.ones(len(a_t)), (a_t, a_h)), shape=(n, n)).tocsr()
    _, label = connected_components(g, directed=True, connection="strong")
    keep_node = label == np.bincount(label).argmax()
    keep_piece = keep_node[tail] & keep_node[head]
    new_id = np.cumsum(keep_node) - 1
    old_pieces = np.flatnonzero(keep_piece)
    piece_new = np.full(len(tail), -1)
    piece_new[old_pieces] = np.arange(len(old_pieces))
    keep_seg = keep_piece[p["seg_piece"]]
    out = {k: v[keep_seg] for k, v in p.items() if k.startswith("seg_")}
    out["seg_piece"] = piece_new[p["seg_piece"][keep_seg]].astype(np.int32)
    out["piece_tail"] = new_id[tail[keep_piece]].astype(np.int32)
    out["piece_head"] = new_id[head[keep_piece]].astype(np.int32)
    for k in ("piece_len_m", "piece_time_s", "piece_two_way"):
        out[k] = p[k][keep_piece]
    out["node_lat"], out["node_lon"] = node_lat[keep_node], node_lon[keep_node]
    return out


def _arcs(g: Mapping[str, NDArray[Any]]) -> tuple[NDArray[np.int64], ...]:
    """Arcs (tail, head, piece, forward) of the pieces: one per direction a car may drive."""
    two = np.flatnonzero(g["piece_two_way"])
    n_p = len(g["piece_tail"])
    piece = np.r_[np.arange(n_p), two]
    forward = np.r_[np.ones(n_p, dtype=bool), np.zeros(len(two), dtype=bool)]
    tail = np.where(forward, g["piece_tail"][piece], g["piece_head"][piece])
    head = np.where(forward, g["piece_head"][piece], g["piece_tail"][piece])
    loop = tail == head  # a closed piece leads nowhere: keep it for snapping only
    return (
        tail[~loop].astype(np.int64),
        head[~loop].astype(np.int64),
        piece[~loop].astype(np.int64),
        forward[~loop],
    )


def _time_bound_s(g: Mapping[str, NDArray[Any]]) -> float:
    """An upper bound on every fastest path's seconds: out- plus in-eccentricity of one node."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    tail, head, piece, _ = _arcs(g)
    n = len(g["node_lat"])
    w = np.maximum(g["piece_time_s"][piece], 1e-3)
    m = coo_matrix((w, (tail, head)), shape=(n, n)).tocsr()
    centre = int(
        np.argmin(
            (g["node_lat"] - np.median(g["node_lat"])) ** 2
            + (g["node_lon"] - np.median(g["node_lon"])) ** 2
        )
    )
    out = dijkstra(m, indices=centre)
    back = dijkstra(m.T.tocsr(), indices=centre)
    return float(np.max(out[np.isfinite(out)]) + np.max(back[np.isfinite(back)]))


def _units(bound_s: float, max_speed_kmh: float) -> tuple[int, int, int]:
    """(seconds per time unit, metres per length unit, M) so that ``time x M + length`` fits.

    Every path up to twice ``bound_s`` (the bound, plus the snapped places' partial pieces
    with room to spare) keeps its length below M and its combined weight below 2**31 - 1,
    RoutingKit's infinity.
    """
    span_s = 2 * (max(bound_s, 60.0) + 60.0)
    v = max_speed_kmh / 3.6
    unit_s = 1
    unit_m = max(1, math.ceil(span_s * span_s * v / _MAX_WEIGHT))
    while unit_m > 50:  # very large networks: coarser seconds rather than coarser metres
        unit_s *= 2
        unit_m = max(1, math.ceil((span_s / unit_s) * span_s * v / _MAX_WEIGHT))
    big_m = math.ceil(span_s * v / unit_m) + 1
    return unit_s, unit_m, big_m


def build_network_arrays(
    path: Path, speeds: Mapping[str, float]
) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
    """Read, cut, clean and order an extract: the arrays the cache holds, and build figures."""
    import routingkit_cch as rk

    started = time.perf_counter()
    ways, counts = read_ways(path, speeds)
    if len(ways.speed_kmh) == 0:
        raise InputError(
            f"{path}: the extract has no road a car may drive; give an .osm.pbf with highways"
        )
    read_s = time.perf_counter() - started
    g = _largest_component(_pieces(ways))
    del ways
    tail, head, _piece, _ = _arcs(g)
    order_started = time.perf_counter()
    order = rk.compute_order_inertial(
        len(g["node_lat"]),
        tail.tolist(),
        head.tolist(),
        g["node_lat"].tolist(),
        g["node_lon"].tolist(),
    )
    g["order"] = np.asarray(order, dtype=np.int64)
    bound_s = _time_bound_s(g)
    max_speed = float(np.max(g["piece_len_m"] / np.maximum(g["piece_time_s"], 1e-9))) * 3.6
    unit_s, unit_m, big_m = _units(bound_s, max_speed)
    info = {
        "version": CACHE_VERSION,
        **counts,
        "nodes": len(g["node_lat"]),
        "arcs": len(tail),
        "pieces": len(g["piece_tail"]),
        "road_km": round(float(g["piece_len_m"].sum()) / 1000, 1),
        "time_bound_s": round(bound_s, 1),
        "unit_s": unit_s,
        "unit_m": unit_m,
        "big_m": big_m,
        "read_s": round(read_s, 2),
        "order_s": round(time.perf_counter() - order_started, 2),
        "build_s": round(time.perf_counter() - started, 2),
    }
    log.info("road network of %s: %s", path, info)
    return g, info


# --------------------------------------------------------------------------------------------
# the loaded network and its queries


#: Pairs sharing a source (or target) with at least this many others go into one sweep.
_GROUP_MIN = 24


@dataclass(frozen=True)
class Snapped:
    """Places snapped onto road pieces: piece, offset from its tail (m, s), snap distance (m)."""

    piece: NDArray[np.int64]
    off_m: NDArray[np.float64]
    off_s: NDArray[np.float64]
    snap_m: NDArray[np.float64]


def _take(s: Snapped, idx: NDArray[Any]) -> Snapped:
    return Snapped(s.piece[idx], s.off_m[idx], s.off_s[idx], s.snap_m[idx])


class RoadNetwork:
    """A cleaned, ordered driving network with its hierarchy customised to time and length.

    Use :func:`load_network` (from the cache, or built and cached).
    """

    def __init__(self, arrays: Mapping[str, NDArray[Any]], info: Mapping[str, Any]) -> None:
        import routingkit_cch as rk
        from scipy.spatial import cKDTree

        self.info = dict(info)
        self.g = dict(arrays)
        self.unit_s, self.unit_m = int(info["unit_s"]), int(info["unit_m"])
        self.big_m = int(info["big_m"])
        tail, head, piece, _ = _arcs(self.g)
        self.piece_weight = self._combined(self.g["piece_time_s"], self.g["piece_len_m"])
        self._cch = rk.CCH(self.g["order"].tolist(), tail.tolist(), head.tolist(), False)
        self._metric = rk.CCHMetric(self._cch, self.piece_weight[piece].tolist())
        self._query = rk.CCHQuery(self._metric)
        self._rk = rk
        # nearest-road search: points at most SAMPLE_SPACING_M apart along every segment
        n_samples = np.maximum(1, np.ceil(self.g["seg_len_m"] / SAMPLE_SPACING_M)).astype(np.int64)
        self._sample_seg = np.repeat(np.arange(len(n_samples)), n_samples)
        starts = np.cumsum(n_samples) - n_samples
        frac = (np.arange(len(self._sample_seg)) - np.repeat(starts, n_samples)) / np.repeat(
            n_samples, n_samples
        )
        s = self._sample_seg
        lat = self.g["seg_lat0"][s] + frac * (self.g["seg_lat1"][s] - self.g["seg_lat0"][s])
        lon = self.g["seg_lon0"][s] + frac * (self.g["seg_lon1"][s] - self.g["seg_lon0"][s])
        self._tree = cKDTree(_ecef(lat, lon))

    def _combined(self, seconds: NDArray[np.float64], metres: NDArray[np.float64]) -> NDArray[Any]:
        """``time x M + length`` in the network's units (int64)."""
        t = np.rint(np.asarray(seconds) / self.unit_s).astype(np.int64)
        m = np.rint(np.asarray(metres) / self.unit_m).astype(np.int64)
        return t * self.big_m + m

    def decode(self, d: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Minutes and km of combined distances (inf stays inf: unreachable)."""
        d = np.asarray(d, dtype=np.float64)
        finite = np.isfinite(d)
        safe = np.where(finite, d, 0.0)
        t = np.floor(safe / self.big_m)
        minutes = np.where(finite, t * self.unit_s / 60.0, np.inf)
        km = np.where(finite, (safe - t * self.big_m) * self.unit_m / 1000.0, np.inf)
        return minutes, km

    # ---- snapping

    def snap(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> Snapped:
        """The nearest point on a road piece for each place (exact projection on 8 candidates)."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        if lat.size == 0:
            z = np.zeros(0)
            return Snapped(np.zeros(0, dtype=np.int64), z, z, z)
        k = min(8, len(self._sample_seg))
        _, idx = self._tree.query(_ecef(lat, lon), k=k)
        seg = self._sample_seg[np.asarray(idx).reshape(len(lat), k)]
        g = self.g
        cos = np.cos(np.radians(lat))[:, None]
        r = np.pi / 180 * _EARTH_RADIUS_M
        ax = (g["seg_lon0"][seg] - lon[:, None]) * cos * r
        ay = (g["seg_lat0"][seg] - lat[:, None]) * r
        bx = (g["seg_lon1"][seg] - lon[:, None]) * cos * r
        by = (g["seg_lat1"][seg] - lat[:, None]) * r
        dx, dy = bx - ax, by - ay
        t = np.clip(-(ax * dx + ay * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
        dist = np.hypot(ax + t * dx, ay + t * dy)
        best = np.argmin(dist, axis=1)
        rows = np.arange(len(lat))
        s = seg[rows, best]
        tt = t[rows, best]
        piece = g["seg_piece"][s].astype(np.int64)
        off_m = g["seg_off_m"][s] + tt * g["seg_len_m"][s]
        plen = np.maximum(g["piece_len_m"][piece], 1e-9)
        off_s = g["piece_time_s"][piece] * off_m / plen
        return Snapped(piece, off_m, off_s, dist[rows, best])

    # ---- legs in and out of a snapped place

    def _legs(self, sn: Snapped, outgoing: bool) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Per place, two (node, start distance) legs; node -1 where there is none.

        Out of a place: to the piece's head (always), to its tail (two-way pieces).
        Into a place: from the piece's tail (always), from its head (two-way pieces).
        """
        g = self.g
        p = sn.piece
        to_head = self._combined(g["piece_time_s"][p] - sn.off_s, g["piece_len_m"][p] - sn.off_m)
        to_tail = self._combined(sn.off_s, sn.off_m)
        two = g["piece_two_way"][p]
        head, tail = g["piece_head"][p].astype(np.int64), g["piece_tail"][p].astype(np.int64)
        if outgoing:
            nodes = np.column_stack([head, np.where(two, tail, -1)])
            cost = np.column_stack([to_head, to_tail])
        else:
            nodes = np.column_stack([tail, np.where(two, head, -1)])
            cost = np.column_stack([to_tail, to_head])
        return nodes, cost

    def _direct(self, a: Snapped, b: Snapped, ia: NDArray[Any], ib: NDArray[Any]) -> NDArray[Any]:
        """Combined distance along one shared piece (inf where the pieces differ or it is
        against a one-way piece)."""
        same = a.piece[ia] == b.piece[ib]
        fwd = b.off_m[ib] >= a.off_m[ia]
        two = self.g["piece_two_way"][a.piece[ia]]
        ok = same & (fwd | two)
        d = self._combined(np.abs(b.off_s[ib] - a.off_s[ia]), np.abs(b.off_m[ib] - a.off_m[ia]))
        return np.where(ok, d.astype(np.float64), np.inf)

    def matrix(self, a: Snapped, b: Snapped) -> NDArray[np.float64]:
        """Combined distances |a| x |b| (float64, inf: unreachable).

        One sweep per place of the smaller side, over the other side's pinned nodes
        (RoutingKit's one-to-many or many-to-one).
        """
        out_n, out_c = self._legs(a, outgoing=True)
        in_n, in_c = self._legs(b, outgoing=False)
        if len(a.piece) <= len(b.piece):
            res = self._sweep(out_n, out_c, in_n, in_c, many_to_one=False)
        else:
            res = self._sweep(in_n, in_c, out_n, out_c, many_to_one=True).T
        ia, ib = np.meshgrid(np.arange(len(a.piece)), np.arange(len(b.piece)), indexing="ij")
        direct = self._direct(a, b, ia.ravel(), ib.ravel()).reshape(res.shape)
        out: NDArray[np.float64] = np.minimum(res, direct)
        return out

    def _sweep(
        self,
        run_n: NDArray[np.int64],
        run_c: NDArray[np.int64],
        pin_n: NDArray[np.int64],
        pin_c: NDArray[np.int64],
        *,
        many_to_one: bool,
    ) -> NDArray[np.float64]:
        """One query per row of ``run_n`` (its legs as start distances) to every row of
        ``pin_n`` (legs pinned once); |run| x |pin| combined distances."""
        pinned, idx = np.unique(pin_n[pin_n >= 0], return_inverse=True)
        col = np.full(pin_n.shape, len(pinned), dtype=np.int64)  # the extra column: no leg
        col[pin_n >= 0] = idx.ravel()
        res = np.full((len(run_n), len(pin_n)), np.inf)
        if not len(pinned):
            return res
        cost = np.where(pin_n >= 0, pin_c, 0).astype(np.float64)
        rk = self._rk
        query = (
            rk.CCHManyToOne(self._metric, pinned.tolist())
            if many_to_one
            else rk.CCHOneToMany(self._metric, pinned.tolist())
        )
        ask = query.distances_to_multi if many_to_one else query.distances_from_multi
        for i in range(len(run_n)):
            starts = [(int(n), int(c)) for n, c in zip(run_n[i], run_c[i], strict=True) if n >= 0]
            d = np.array(ask(starts), dtype=np.float64)
            d[np.isnan(d)] = np.inf
            d = np.append(d, np.inf)
            res[i] = np.minimum(d[col[:, 0]] + cost[:, 0], d[col[:, 1]] + cost[:, 1])
        del query
        return res

    def pairs(self, a: Snapped, b: Snapped) -> NDArray[np.float64]:
        """Combined distances a[i] -> b[i] (equal lengths).

        Pairs that share a source (or a target) with many others are answered by one sweep
        per shared place; the rest by a one-to-one query each.
        """
        n = len(a.piece)
        res = np.full(n, np.inf)
        if n == 0:
            return res
        ka = np.unique(np.column_stack([a.piece, a.off_m]), axis=0, return_inverse=True)[1]
        kb = np.unique(np.column_stack([b.piece, b.off_m]), axis=0, return_inverse=True)[1]
        ka, kb = ka.ravel(), kb.ravel()
        todo = np.ones(n, dtype=bool)
        for key, by_source in ((ka, True), (kb, False)):
            groups = np.bincount(key[todo], minlength=int(key.max()) + 1)
            for g in np.flatnonzero(groups >= _GROUP_MIN):
                members = np.flatnonzero(todo & (key == g))
                one = members[:1]
                if by_source:
                    d = self.matrix(_take(a, one), _take(b, members))[0]
                else:
                    d = self.matrix(_take(a, members), _take(b, one))[:, 0]
                res[members] = d
                todo[members] = False
        rest = np.flatnonzero(todo)
        if len(rest):
            res[rest] = self._one_to_one(_take(a, rest), _take(b, rest))
        return res

    def _one_to_one(self, a: Snapped, b: Snapped) -> NDArray[np.float64]:
        out_n, out_c = self._legs(a, outgoing=True)
        in_n, in_c = self._legs(b, outgoing=False)
        res = np.empty(len(a.piece))
        q = self._query
        for i in range(len(a.piece)):
            src = [(int(n), int(c)) for n, c in zip(out_n[i], out_c[i], strict=True) if n >= 0]
            dst = [(int(n), int(c)) for n, c in zip(in_n[i], in_c[i], strict=True) if n >= 0]
            d = q.run_multi(src, dst).distance
            res[i] = np.inf if d is None else float(d)
        idx = np.arange(len(a.piece))
        out: NDArray[np.float64] = np.minimum(res, self._direct(a, b, idx, idx))
        return out

    # ---- geometry of a leg

    def path(self, a: Snapped, b: Snapped) -> NDArray[np.float64]:
        """The road polyline of the fastest path from one snapped place to another.

        ``a`` and ``b`` hold one place each. Returns (lat, lon) rows from ``a``'s point on its
        road to ``b``'s: along ``a``'s piece to the first junction, the hierarchy's arcs (each a
        piece of road, unpacked to its segments), along ``b``'s piece to its point.
        """
        out_n, out_c = self._legs(a, outgoing=True)
        in_n, in_c = self._legs(b, outgoing=False)
        src = [(int(n), int(c)) for n, c in zip(out_n[0], out_c[0], strict=True) if n >= 0]
        dst = [(int(n), int(c)) for n, c in zip(in_n[0], in_c[0], strict=True) if n >= 0]
        res = self._query.run_multi(src, dst)
        zero = np.zeros(1, dtype=np.intp)
        direct = float(self._direct(a, b, zero, zero)[0])
        pa, pb = int(a.piece[0]), int(b.piece[0])
        if res.distance is None or direct <= float(res.distance) or not res.node_path:
            return self._piece_part(pa, float(a.off_m[0]), float(b.off_m[0]))
        first, last = res.node_path[0], res.node_path[-1]
        g = self.g
        parts = [self._piece_part(pa, float(a.off_m[0]), self._end_m(pa, first))]
        arc_piece, arc_forward = self._arc_pieces()
        for arc in res.arc_path:
            p = int(arc_piece[arc])
            length = float(g["piece_len_m"][p])
            parts.append(
                self._piece_part(p, 0.0, length)
                if arc_forward[arc]
                else self._piece_part(p, length, 0.0)
            )
        parts.append(self._piece_part(pb, self._end_m(pb, last), float(b.off_m[0])))
        return np.vstack(parts)

    def _end_m(self, piece: int, node: int) -> float:
        """Offset (m) of ``node`` on ``piece``: 0 at its tail, its length at its head."""
        return (
            0.0 if int(self.g["piece_tail"][piece]) == node else float(self.g["piece_len_m"][piece])
        )

    def _arc_pieces(self) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Piece and direction of every arc the hierarchy was built on (computed once)."""
        if not hasattr(self, "_arc_piece"):
            _, _, piece, forward = _arcs(self.g)
            self._arc_piece, self._arc_forward = piece, forward.astype(bool)
        return self._arc_piece, self._arc_forward

    def _piece_part(self, piece: int, from_m: float, to_m: float) -> NDArray[np.float64]:
        """(lat, lon) rows along ``piece`` from offset ``from_m`` to ``to_m`` (either way)."""
        g = self.g
        lo = int(np.searchsorted(g["seg_piece"], piece, side="left"))
        hi = int(np.searchsorted(g["seg_piece"], piece, side="right"))
        off = np.r_[g["seg_off_m"][lo:hi], g["seg_off_m"][hi - 1] + g["seg_len_m"][hi - 1]]
        lat = np.r_[g["seg_lat0"][lo:hi], g["seg_lat1"][hi - 1]]
        lon = np.r_[g["seg_lon0"][lo:hi], g["seg_lon1"][hi - 1]]
        a, b = sorted((from_m, to_m))
        inside = (off > a) & (off < b)
        at = np.r_[a, off[inside], b]
        rows = np.column_stack([np.interp(at, off, lat), np.interp(at, off, lon)])
        return rows if from_m <= to_m else rows[::-1]

    def to_networkx(self) -> Any:
        """The network as a networkx MultiDiGraph (arcs carry ``seconds``, ``metres``, ``weight``,
        the combined metric). For inspection and checks on small networks: ~1 KB per arc."""
        import networkx as nx

        tail, head, piece, _ = _arcs(self.g)
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(range(len(self.g["node_lat"])))
        for t, h, p in zip(tail.tolist(), head.tolist(), piece.tolist(), strict=True):
            graph.add_edge(
                t,
                h,
                seconds=float(self.g["piece_time_s"][p]),
                metres=float(self.g["piece_len_m"][p]),
                weight=int(self.piece_weight[p]),
            )
        return graph


def _params_key(speeds: Mapping[str, float]) -> str:
    """Short hash of what the build depends on besides the file (speeds, cache version)."""
    text = json.dumps({"v": CACHE_VERSION, "speeds": dict(sorted(speeds.items()))})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_network(
    path: Path, speeds: Mapping[str, float] | None = None, *, digest: str | None = None
) -> tuple[RoadNetwork, dict[str, Any]]:
    """The network of an extract: from the cache, or built and cached.

    Returns
    -------
    network, about
        ``about`` says where it came from (``cache``: ``hit`` or ``built``), the file's
        SHA-256 and the build figures.
    """
    speeds = dict(DEFAULT_SPEEDS_KMH if speeds is None else speeds)
    digest = digest or sha256_file(path)
    folder = cache_dir() / digest
    stem = folder / f"network-{_params_key(speeds)}"
    started = time.perf_counter()
    arrays: dict[str, NDArray[Any]] | None = None
    info: dict[str, Any] = {}
    try:
        info = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(stem.with_suffix(".npz")) as data:
            arrays = {k: data[k] for k in data.files}
        if info.get("version") != CACHE_VERSION:
            arrays = None
    except (OSError, ValueError, KeyError):
        arrays = None
    cache = "hit"
    if arrays is None:
        cache = "built"
        arrays, info = build_network_arrays(path, speeds)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = stem.with_name(stem.name + f".{os.getpid()}.tmp.npz")
            save: Any = np.savez  # numpy's stub reads the arrays as its keyword options
            save(tmp, **arrays)
            os.replace(tmp, stem.with_suffix(".npz"))
            stem.with_suffix(".json").write_text(json.dumps(info, indent=1), encoding="utf-8")
        except OSError as exc:  # a read-only cache costs the next run a rebuild, nothing more
            log.warning("could not cache the road network in %s (%s)", folder, exc)
    network = RoadNetwork(arrays, info)
    about: dict[str, Any] = {
        "cache": cache,
        "cache_dir": str(folder),
        "sha256": digest,
        "load_s": round(time.perf_counter() - started, 2),
        **{k: info[k] for k in ("nodes", "arcs", "road_km", "build_s", "unit_m") if k in info},
    }
    return network, about


# --------------------------------------------------------------------------------------------
# the travel model

#: Answers kept per model (a design asks the same homes x customers matrix in every round).
_MEMO_SIZE = 8


class OsmTravel:
    """The ``osm`` travel source: fastest paths on an extract's roads (see the module notes).

    Places are snapped on every ask (a KD-tree query, microseconds per place); pairs the
    network cannot join (none after the cleaning, but a guard) fall back to the straight-line
    model and are counted.
    """

    def __init__(
        self, network: RoadNetwork, about: dict[str, Any], params: TravelParams, path: Path
    ) -> None:
        self.network = network
        self.about = about
        self.params = params
        self.path = path
        self.snapped: dict[str, Any] = {"points": 0}
        self.estimated_pairs = 0
        self._memo: dict[bytes, Legs] = {}  # the last few answers: the design asks again

    @property
    def source(self) -> str:
        """Always ``osm``."""
        return "osm"

    def _remember(self, kind: str, a: Points, b: Points) -> tuple[bytes, Legs | None]:
        h = hashlib.sha1(kind.encode())
        for arr in (a.lat, a.lon, b.lat, b.lon):
            h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
            h.update(b"|")
        key = h.digest()
        return key, self._memo.get(key)

    def _keep(self, key: bytes, legs: Legs) -> Legs:
        legs.km.setflags(write=False)  # shared with later askers: nobody may change them
        legs.minutes.setflags(write=False)
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = legs
        return legs

    def _legs(self, d: NDArray[np.float64], a: Points, b: Points, *, grid: bool) -> Legs:
        minutes, km = self.network.decode(d)
        bad = ~np.isfinite(d)
        if bad.any():
            from .travel import crow

            self.estimated_pairs += int(bad.sum())
            est = crow(self.params).matrix(a, b) if grid else crow(self.params).pairs(a, b)
            minutes = np.where(bad, np.broadcast_to(est.minutes, d.shape), minutes)
            km = np.where(bad, np.broadcast_to(est.km, d.shape), km)
        return Legs(km, minutes)

    def pairs(self, a: Points, b: Points) -> Legs:
        """Travel from ``a[i]`` to ``b[i]`` (one side may have length 1)."""
        a, b = a.paired(b)
        key, known = self._remember("pairs", a, b)
        if known is not None:
            return known
        net = self.network
        d = net.pairs(net.snap(a.lat, a.lon), net.snap(b.lat, b.lon))
        return self._keep(key, self._legs(d, a, b, grid=False))

    def matrix(self, a: Points, b: Points | None = None) -> Legs:
        """|a| x |b| km and minutes of the fastest paths."""
        b = a if b is None else b
        key, known = self._remember("matrix", a, b)
        if known is not None:
            return known
        net = self.network
        d = net.matrix(net.snap(a.lat, a.lon), net.snap(b.lat, b.lon))
        return self._keep(key, self._legs(d, a, b, grid=True))

    def paths(self, a: Points, b: Points) -> list[NDArray[np.float64]]:
        """The road polyline of each leg ``a[i]`` -> ``b[i]``: (lat, lon) rows from the place,
        onto its road, along the fastest path, off the road to the other place."""
        net = self.network
        sa, sb = net.snap(a.lat, a.lon), net.snap(b.lat, b.lon)
        out = []
        for i in range(len(a)):
            one = np.array([i])
            road = net.path(_take(sa, one), _take(sb, one))
            ends_a = np.array([[a.lat[i], a.lon[i]]])
            ends_b = np.array([[b.lat[i], b.lon[i]]])
            out.append(np.vstack([ends_a, road, ends_b]))
        return out

    def describe(self) -> dict[str, Any]:
        """Source, file and hash, the network, the cache, snapping figures, estimated pairs."""
        return {
            "source": "osm",
            "file": str(self.path),
            "sha256": self.about.get("sha256"),
            "network": {
                k: self.about[k]
                for k in ("cache", "nodes", "arcs", "road_km", "build_s", "load_s")
                if k in self.about
            },
            "km": "length of the fastest path",
            "snapped": self.snapped,
            "pairs_estimated": self.estimated_pairs,
        }


def osm_travel(params: TravelParams, places: Points | None = None) -> OsmTravel:
    """The ``osm`` source of ``params.osm``: the network from the cache or built, places snapped.

    Raises
    ------
    InputError
        The file is missing or not an extract; a place lies more than ``max_snap_km`` from
        any road (the extract does not cover it).
    """
    from .travel import check_snaps, snap_figures

    path = Path(str(params.osm))
    if not path.is_file():
        raise InputError(
            f"{path}: the road extract does not exist; give an .osm.pbf file (e.g. a Geofabrik "
            "province extract) in [travel] osm or --osm"
        )
    speeds = {**DEFAULT_SPEEDS_KMH, **params.speeds}
    try:
        network, about = load_network(path, speeds)
    except RuntimeError as exc:  # libosmium: not a PBF/OSM file, truncated data
        raise InputError(
            f"{path}: not an OpenStreetMap extract that can be read ({exc}); give an .osm.pbf"
        ) from None
    model = OsmTravel(network, about, params, path)
    if places is not None and len(places):
        snap = network.snap(places.lat, places.lon)
        check_snaps(snap.snap_m, places, params, f"{path}")
        model.snapped = snap_figures(snap.snap_m, None if places.ids is None else list(places.ids))
    return model
