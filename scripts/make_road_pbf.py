"""Write a synthetic road network as an .osm.pbf, for the road benchmarks (no real extract needed).

Two layouts over a bounding box (default: the Netherlands, where bench_plan.py puts its
customers):

- ``towns`` (default, road-like): ``--towns`` towns of Pareto-distributed size, each a street
  grid (120 m blocks, residential at 30 km/h, every 5th street tertiary, one street in ten
  one-way, one drawn vertex per block), joined to their four nearest towns by secondary roads
  (80 km/h, a vertex every 400 m), the largest 60 towns by motorway pairs (two one-way
  carriageways at 120), and a rural grid of unclassified roads every ``--rural-km``, so no
  place is far from a road;
- ``grid``: one street grid of ``--grid`` x ``--grid`` junctions over the whole box with lakes
  cut out (a worst case for the hierarchy: a grid has no small separators).

``--buildings`` adds closed building ways (4 vertices each) that the road reader must read past,
to give the file the size of a real extract.

    python scripts/make_road_pbf.py --towns 2500 --buildings 2000000 --out nl-synthetic.osm.pbf
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import osmium


class _Out:
    """The writer with running node and way ids."""

    def __init__(self, path: Path) -> None:
        if path.exists():
            path.unlink()
        self.writer = osmium.SimpleWriter(str(path))
        self.node_id = 1
        self.way_id = 1
        self.road_ways = 0

    def node(self, lat: float, lon: float) -> int:
        self.writer.add_node(osmium.osm.mutable.Node(id=self.node_id, location=(lon, lat)))
        self.node_id += 1
        return self.node_id - 1

    def way(self, refs: list[int], tags: dict[str, str]) -> None:
        self.writer.add_way(osmium.osm.mutable.Way(id=self.way_id, nodes=refs, tags=tags))
        self.way_id += 1
        self.road_ways += "highway" in tags


def _line(out: _Out, a: int, pa: tuple, b: int, pb: tuple, step_km: float, tags: dict) -> None:
    """A road from node a to node b with a drawn vertex every ``step_km``."""
    km = np.hypot((pb[0] - pa[0]) * 111.2, (pb[1] - pa[1]) * 111.2 * 0.62)
    n = max(0, int(km / step_km))
    refs = [a]
    for t in range(1, n + 1):
        f = t / (n + 1)
        refs.append(out.node(pa[0] + f * (pb[0] - pa[0]), pa[1] + f * (pb[1] - pa[1])))
    refs.append(b)
    out.way(refs, tags)


def towns_layout(out: _Out, args: argparse.Namespace, rng: np.random.Generator) -> None:
    """Town street grids, roads between towns, motorways and a rural grid (see the notes)."""
    from scipy.spatial import cKDTree

    la0, la1, lo0, lo1 = args.box
    n_t = args.towns
    centre = np.column_stack([rng.uniform(la0, la1, n_t), rng.uniform(lo0, lo1, n_t)])
    size = np.clip((rng.pareto(1.3, n_t) + 1) * 8, 6, 120).astype(int)  # junctions per side
    block_lat, block_lon = 0.12 / 111.2, 0.12 / (111.2 * 0.62)
    anchor: list[tuple[int, tuple[float, float]]] = []  # a junction per town to join roads to
    for t in range(n_t):
        s = int(size[t])
        lat0 = centre[t, 0] - s / 2 * block_lat
        lon0 = centre[t, 1] - s / 2 * block_lon
        ids = np.zeros((s, s), dtype=np.int64)
        for i in range(s):
            for j in range(s):
                ids[i, j] = out.node(lat0 + i * block_lat, lon0 + j * block_lon)
        for horizontal in (True, False):
            for line in range(s):
                cls = "tertiary" if line % 5 == 0 else "residential"
                refs = [int(ids[line, 0] if horizontal else ids[0, line])]
                for k in range(s - 1):
                    b = ids[line, k + 1] if horizontal else ids[k + 1, line]
                    f = (k + 0.5) * (block_lon if horizontal else block_lat)
                    if horizontal:
                        mid = out.node(lat0 + line * block_lat + rng.normal(0, 1e-5), lon0 + f)
                    else:
                        mid = out.node(lat0 + f, lon0 + line * block_lon + rng.normal(0, 1e-5))
                    refs += [mid, int(b)]
                tags = {"highway": cls}
                if cls == "residential" and rng.random() < 0.1:
                    tags["oneway"] = "yes"
                out.way(refs, tags)
        m = s // 2
        anchor.append((int(ids[m, m]), (lat0 + m * block_lat, lon0 + m * block_lon)))
    tree = cKDTree(centre * [1.0, 0.62])
    _, near = tree.query(centre * [1.0, 0.62], k=5)
    done = set()
    for t in range(n_t):
        for u in near[t, 1:]:
            key = (min(t, int(u)), max(t, int(u)))
            if key in done:
                continue
            done.add(key)
            a, pa = anchor[t]
            b, pb = anchor[int(u)]
            _line(out, a, pa, b, pb, 0.4, {"highway": "secondary", "maxspeed": "80"})
    big = np.argsort(-size)[:60]
    btree = cKDTree(centre[big] * [1.0, 0.62])
    _, bnear = btree.query(centre[big] * [1.0, 0.62], k=3)
    for x in range(len(big)):
        for y in bnear[x, 1:]:
            a, pa = anchor[int(big[x])]
            b, pb = anchor[int(big[int(y)])]
            tags = {"highway": "motorway", "maxspeed": "120", "oneway": "yes"}
            _line(out, a, pa, b, pb, 1.0, tags)
            _line(out, b, pb, a, pa, 1.0, tags)
    # the rural grid, joined to the towns' anchors by their nearest rural junction
    step_lat = args.rural_km / 111.2
    step_lon = args.rural_km / (111.2 * 0.62)
    lats = np.arange(la0, la1 + step_lat, step_lat)
    lons = np.arange(lo0, lo1 + step_lon, step_lon)
    rid = np.zeros((len(lats), len(lons)), dtype=np.int64)
    for i, la in enumerate(lats):
        for j, lo in enumerate(lons):
            rid[i, j] = out.node(la, lo)
    tags = {"highway": "unclassified"}
    for i in range(len(lats)):
        for j in range(len(lons)):
            if j + 1 < len(lons):
                _line(
                    out,
                    int(rid[i, j]),
                    (lats[i], lons[j]),
                    int(rid[i, j + 1]),
                    (lats[i], lons[j + 1]),
                    0.5,
                    tags,
                )
            if i + 1 < len(lats):
                _line(
                    out,
                    int(rid[i, j]),
                    (lats[i], lons[j]),
                    int(rid[i + 1, j]),
                    (lats[i + 1], lons[j]),
                    0.5,
                    tags,
                )
    for a, pa in anchor:
        i = int(np.clip(round((pa[0] - la0) / step_lat), 0, len(lats) - 1))
        j = int(np.clip(round((pa[1] - lo0) / step_lon), 0, len(lons) - 1))
        _line(out, a, pa, int(rid[i, j]), (lats[i], lons[j]), 0.5, tags)


def main(argv: list[str] | None = None) -> int:
    """Write the file and print its size and counts."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", choices=("towns", "grid"), default="towns")
    ap.add_argument("--towns", type=int, default=2500, help="towns (towns layout)")
    ap.add_argument("--rural-km", type=float, default=2.0, help="rural road spacing (towns)")
    ap.add_argument("--grid", type=int, default=1000, help="junctions per side (grid layout)")
    ap.add_argument("--shape", type=int, default=2, help="extra vertices per block")
    ap.add_argument("--buildings", type=int, default=0, help="building ways to add")
    ap.add_argument("--box", type=float, nargs=4, default=(50.75, 53.55, 3.35, 7.20))
    ap.add_argument("--lakes", type=int, default=60, help="round lakes without streets")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    if args.layout == "towns":
        out = _Out(args.out)
        towns_layout(out, args, rng)
        _buildings(out, args, rng)
        out.writer.close()
        print(
            f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB, {out.node_id - 1:,} nodes, "
            f"{out.road_ways:,} road ways, {args.buildings:,} buildings, "
            f"{time.perf_counter() - started:.0f} s"
        )
        return 0
    la0, la1, lo0, lo1 = args.box
    g, s = args.grid, args.shape
    lats = np.linspace(la0, la1, g)
    lons = np.linspace(lo0, lo1, g)
    lake_c = np.column_stack([rng.uniform(la0, la1, args.lakes), rng.uniform(lo0, lo1, args.lakes)])
    lake_r = rng.uniform(0.02, 0.12, args.lakes)

    def wet(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        d = (lat[:, None] - lake_c[None, :, 0]) ** 2 + (
            (lon[:, None] - lake_c[None, :, 1]) * 0.62
        ) ** 2
        return (d < lake_r[None, :] ** 2).any(axis=1)

    if args.out.exists():
        args.out.unlink()
    writer = osmium.SimpleWriter(str(args.out))
    node_id = 1
    junction = np.arange(g * g, dtype=np.int64).reshape(g, g) + 1  # ids 1..g*g
    glat, glon = np.meshgrid(lats, lons, indexing="ij")
    for i in range(g):
        for j in range(g):
            writer.add_node(
                osmium.osm.mutable.Node(id=int(junction[i, j]), location=(glon[i, j], glat[i, j]))
            )
    node_id = g * g + 1
    way_id = 1
    n_ways = 0
    for horizontal in (True, False):
        for line in range(g):
            cls = "residential"
            tags: dict[str, str] = {}
            if line % 200 == 100:
                cls = "motorway"
                tags["maxspeed"] = "120"
            elif line % 40 == 0:
                cls = "primary"
                tags["maxspeed"] = "80"
            elif line % 10 == 0:
                cls = "tertiary"
            for k in range(g - 1):
                a = junction[line, k] if horizontal else junction[k, line]
                b = junction[line, k + 1] if horizontal else junction[k + 1, line]
                pa = (
                    (glat[line, k], glon[line, k]) if horizontal else (glat[k, line], glon[k, line])
                )
                pb = (
                    (glat[line, k + 1], glon[line, k + 1])
                    if horizontal
                    else (glat[k + 1, line], glon[k + 1, line])
                )
                mid_lat = (pa[0] + pb[0]) / 2
                mid_lon = (pa[1] + pb[1]) / 2
                if wet(np.array([mid_lat]), np.array([mid_lon]))[0]:
                    continue
                refs = [int(a)]
                for t in range(1, s + 1):
                    f = t / (s + 1)
                    jitter = rng.normal(0, 0.0002, 2)
                    loc = (
                        pa[1] + f * (pb[1] - pa[1]) + jitter[1],
                        pa[0] + f * (pb[0] - pa[0]) + jitter[0],
                    )
                    writer.add_node(osmium.osm.mutable.Node(id=node_id, location=loc))
                    refs.append(node_id)
                    node_id += 1
                refs.append(int(b))
                way_tags = {"highway": cls, **tags}
                if cls == "motorway" or (cls == "residential" and rng.random() < 0.1):
                    way_tags["oneway"] = "yes" if cls == "motorway" or rng.random() < 0.5 else "-1"
                writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=way_tags))
                way_id += 1
                n_ways += 1
                if cls == "motorway":  # the other carriageway
                    writer.add_way(
                        osmium.osm.mutable.Way(id=way_id, nodes=refs[::-1], tags=way_tags)
                    )
                    way_id += 1
                    n_ways += 1
    for _ in range(args.buildings):
        lat, lon = rng.uniform(la0, la1), rng.uniform(lo0, lo1)
        refs = []
        for dlat, dlon in ((0, 0), (0.0001, 0), (0.0001, 0.00015), (0, 0.00015)):
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon + dlon, lat + dlat)))
            refs.append(node_id)
            node_id += 1
        refs.append(refs[0])
        writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags={"building": "yes"}))
        way_id += 1
    writer.close()
    size_mb = args.out.stat().st_size / 1e6
    print(
        f"{args.out}: {size_mb:.1f} MB, {node_id - 1:,} nodes, {n_ways:,} road ways, "
        f"{args.buildings:,} buildings, {time.perf_counter() - started:.0f} s"
    )
    return 0


def _buildings(out: _Out, args: argparse.Namespace, rng: np.random.Generator) -> None:
    la0, la1, lo0, lo1 = args.box
    for _ in range(args.buildings):
        lat, lon = rng.uniform(la0, la1), rng.uniform(lo0, lo1)
        refs = [
            out.node(lat + dlat, lon + dlon)
            for dlat, dlon in ((0, 0), (0.0001, 0), (0.0001, 0.00015), (0, 0.00015))
        ]
        out.way([*refs, refs[0]], {"building": "yes"})


if __name__ == "__main__":
    raise SystemExit(main())
