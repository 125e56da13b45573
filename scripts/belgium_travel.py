"""Turn OptaPlanner's Belgian road matrices (.vrp) into a customers file, a travel-time file
and a plan.toml with ``[travel] source = "matrix"``, for ``territory calibrate`` and tests.

    python scripts/belgium_travel.py tests/data/belgium OUT_DIR
    territory calibrate OUT_DIR/customers.csv --config OUT_DIR/plan.toml

The .vrp files (GraphHopper on OpenStreetMap, real Belgian addresses) come from the public
repository apache/incubator-kie-drools, optaplanner-examples/data/vehiclerouting/import/
belgium/basic/road-time and road-km (Apache License 2.0); see tests/data/belgium/README.md.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


def read_vrp(path: Path) -> tuple[list[tuple[str, float, float, str]], list[list[float]]]:
    """(id, lat, lon, name) per location and the full matrix of a TSPLIB-style .vrp file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("NODE_COORD_SECTION") + 1
    weights = lines.index("EDGE_WEIGHT_SECTION")
    end = lines.index("DEMAND_SECTION")
    nodes = []
    for line in lines[start:weights]:
        ident, lat, lon, name = line.split(maxsplit=3)
        nodes.append((ident, float(lat), float(lon), name))
    matrix = [[float(x) for x in line.split()] for line in lines[weights + 1 : end]]
    return nodes, matrix


def write_instance(folder: Path, out: Path, n: int = 50) -> Path:
    """customers.csv, travel.csv (every ordered pair: minutes, km) and plan.toml in ``out``."""
    nodes, seconds = read_vrp(folder / f"belgium-road-time-n{n}-k10.vrp")
    _, km = read_vrp(folder / f"belgium-road-km-n{n}-k10.vrp")
    out.mkdir(parents=True, exist_ok=True)
    ids = [f"BE{ident}" for ident, *_ in nodes]
    with open(out / "customers.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "lat", "lon"])
        for ident, (_, lat, lon, name) in zip(ids, nodes, strict=True):
            w.writerow([ident, name, lat, lon])
    with open(out / "travel.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["from_id", "to_id", "minutes", "km"])
        for i, a in enumerate(ids):
            for j, b in enumerate(ids):
                if i != j:
                    w.writerow([a, b, round(seconds[i][j] / 60.0, 4), km[i][j]])
    (out / "plan.toml").write_text(
        '[travel]\nsource = "matrix"\nmatrix = "travel.csv"\n', encoding="utf-8"
    )
    return out


def main() -> None:
    """Command line: the folder with the .vrp files and the output folder."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("vrp_folder", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--n", type=int, default=50, help="locations: 50 (the files shipped)")
    args = p.parse_args()
    print(write_instance(args.vrp_folder, args.out, args.n))


if __name__ == "__main__":
    main()
