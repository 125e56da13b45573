"""Write a synthetic road network as an .osm.pbf, for the road benchmarks (no real extract needed).

A grid of streets over a bounding box (default: the Netherlands, where bench_plan.py puts its
customers): ``--grid`` x ``--grid`` junctions joined by ways drawn with ``--shape`` extra
vertices per block (as real streets are drawn), residential at 30 km/h, every 10th line
tertiary, every 40th primary with ``maxspeed=80``, every 200th a motorway pair (one-way both
ways, 120); one block in ten is one-way; round lakes remove the streets inside them, so some
neighbours are far apart by road. ``--buildings`` adds closed building ways (4 vertices each)
that the road reader must skip, to give the file the size of a real extract.

    python scripts/make_road_pbf.py --grid 1000 --buildings 1500000 --out nl-synthetic.osm.pbf
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import osmium


def main(argv: list[str] | None = None) -> int:
    """Write the file and print its size and counts."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=1000, help="junctions per side")
    ap.add_argument("--shape", type=int, default=2, help="extra vertices per block")
    ap.add_argument("--buildings", type=int, default=0, help="building ways to add")
    ap.add_argument("--box", type=float, nargs=4, default=(50.75, 53.55, 3.35, 7.20))
    ap.add_argument("--lakes", type=int, default=60, help="round lakes without streets")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
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


if __name__ == "__main__":
    raise SystemExit(main())
