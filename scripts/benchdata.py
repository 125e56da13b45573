"""Readers for the public benchmark sets in ../shared/benchdata (TSPLIB, Solomon).

Each reader returns plain arrays in the integer units the set's best-known values are quoted
in (see each set's README): TSPLIB EUC_2D rounds each edge to the nearest integer; Solomon
truncates each distance to one decimal, so distances and times are scaled by 10.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

#: Default location of the benchmark data, next to the worktrees.
BENCHDATA = Path(__file__).resolve().parents[2] / "shared" / "benchdata"


@dataclass(frozen=True)
class TspInstance:
    """A symmetric TSP; node 0 is the file's node 1 (the start)."""

    name: str
    xy: NDArray[np.float64]
    dist: NDArray[np.int64]  # TSPLIB EUC_2D: nint(euclid)


@dataclass(frozen=True)
class SolomonInstance:
    """A Solomon VRPTW; node 0 is the depot. Distances, times and windows are x10 integers."""

    name: str
    vehicles: int
    capacity: int
    xy: NDArray[np.float64]
    demand: NDArray[np.int64]
    ready_x10: NDArray[np.int64]
    due_x10: NDArray[np.int64]
    service_x10: NDArray[np.int64]
    dist_x10: NDArray[np.int64]  # floor(10 * euclid): the distance truncated to 1 decimal, x10


def _isqrt_floor(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Exact floor(sqrt(v)) for non-negative integers (float sqrt corrected both ways)."""
    root = np.floor(np.sqrt(values.astype(np.float64))).astype(np.int64)
    root -= (root * root > values).astype(np.int64)
    root += ((root + 1) * (root + 1) <= values).astype(np.int64)
    return root


def read_tsplib(path: str | Path) -> TspInstance:
    """Read a TSPLIB ``.tsp`` file with ``EDGE_WEIGHT_TYPE: EUC_2D`` and NODE_COORD_SECTION."""
    p = Path(path)
    name, coords, in_coords = p.stem, [], False
    edge_type = ""
    for raw in p.read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if in_coords:
            parts = line.split()
            coords.append((float(parts[1]), float(parts[2])))
            continue
        key, _, value = line.partition(":")
        key, value = key.strip().upper(), value.strip()
        if key == "NAME":
            name = value
        elif key == "EDGE_WEIGHT_TYPE":
            edge_type = value
        elif key == "NODE_COORD_SECTION":
            in_coords = True
    if edge_type != "EUC_2D":
        raise ValueError(f"{p}: EDGE_WEIGHT_TYPE '{edge_type}' is not supported; use EUC_2D")
    xy = np.array(coords, dtype=np.float64)
    diff = xy[:, None, :] - xy[None, :, :]
    dist = np.floor(np.hypot(diff[..., 0], diff[..., 1]) + 0.5).astype(np.int64)
    return TspInstance(name=name, xy=xy, dist=dist)


def read_solomon(path: str | Path) -> SolomonInstance:
    """Read a Solomon VRPTW ``.txt`` file (VEHICLE block, then one row per customer)."""
    p = Path(path)
    lines = [line.split() for line in p.read_text().splitlines()]
    name = lines[0][0] if lines and lines[0] else p.stem
    vehicles = capacity = None
    rows = []
    for i, parts in enumerate(lines):
        if parts[:2] == ["NUMBER", "CAPACITY"]:
            vehicles, capacity = int(lines[i + 1][0]), int(lines[i + 1][1])
        elif len(parts) == 7 and all(x.lstrip("-").replace(".", "", 1).isdigit() for x in parts):
            rows.append([float(x) for x in parts])
    if vehicles is None or capacity is None or not rows:
        raise ValueError(f"{p}: not a Solomon instance (no VEHICLE block or no customer rows)")
    data = np.array(rows)
    xy = data[:, 1:3]
    d2 = np.rint(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)).astype(np.int64)
    return SolomonInstance(
        name=name,
        vehicles=vehicles,
        capacity=capacity,
        xy=xy,
        demand=data[:, 3].astype(np.int64),
        ready_x10=np.rint(data[:, 4] * 10).astype(np.int64),
        due_x10=np.rint(data[:, 5] * 10).astype(np.int64),
        service_x10=np.rint(data[:, 6] * 10).astype(np.int64),
        dist_x10=_isqrt_floor(100 * d2),
    )


def read_bks(path: str | Path) -> dict[str, float]:
    """``bks.csv`` of a set: instance name -> best-known (or optimal) value."""
    with open(path, newline="") as fh:
        return {row["instance"]: float(row["bks"]) for row in csv.DictReader(fh)}


def read_solution_routes(path: str | Path) -> list[list[int]]:
    """``Route #k: ids`` lines of a CVRPLIB-style ``.sol`` file, ids as in the instance."""
    routes = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("Route"):
            routes.append([int(x) for x in line.partition(":")[2].split()])
    return routes


def main(argv: list[str] | None = None) -> int:
    """Print a one-line summary of each given instance file (a reader self-check)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", type=Path, help=".tsp (TSPLIB) or .txt (Solomon) files")
    args = parser.parse_args(argv)
    for path in args.files:
        if path.suffix == ".tsp":
            tsp = read_tsplib(path)
            print(f"{tsp.name}: TSP, {len(tsp.xy)} nodes, EUC_2D")
        else:
            vrp = read_solomon(path)
            print(
                f"{vrp.name}: VRPTW, {len(vrp.xy) - 1} customers, {vrp.vehicles} vehicles "
                f"of capacity {vrp.capacity}, depot due {vrp.due_x10[0] / 10:g}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
