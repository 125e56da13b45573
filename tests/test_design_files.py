"""Territory design through the CLI on generated Dutch- and Belgian-like files.

Balance, connectivity and locks are recomputed from the written files, not from internal state.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from territory.cli import main
from territory.districting import neighbour_lists
from territory.travel import project_km

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def _bench_design():
    """The benchmark's generator: towns, countryside, a coastline and (NL) an island."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))  # the script imports its sibling benchtable
    spec = importlib.util.spec_from_file_location("bench_design", SCRIPTS / "bench_design.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_inputs(tmp: Path, country: str, n: int, k: int, seed: int) -> tuple[Path, Path, dict]:
    customers, reps = _bench_design().generate(n, k, seed=seed, country=country)
    # Key accounts locked to a rep: the customer nearest to each of five reps' homes.
    lat = np.array([c.lat for c in customers])
    lon = np.array([c.lon for c in customers])
    locked = {}
    for r in reps[:5]:
        i = int(np.argmin((lat - r.lat) ** 2 + ((lon - r.lon) * 0.62) ** 2))
        locked[customers[i].id] = r.id
    cpath, rpath = tmp / f"{country}_customers.csv", tmp / f"{country}_reps.csv"
    with open(cpath, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            ["id", "lat", "lon", "class", "visits", "visit_minutes", "potential", "locked_rep"]
        )
        for c in customers:
            w.writerow(
                [
                    c.id,
                    c.lat,
                    c.lon,
                    c.customer_class,
                    c.visits,
                    c.visit_minutes,
                    c.potential,
                    locked.get(c.id, ""),
                ]
            )
    with open(rpath, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "lat", "lon", "capacity"])
        for j, r in enumerate(reps):
            w.writerow([r.id, r.lat, r.lon, 0.8 if j == 0 else 1.0])
    return cpath, rpath, locked


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("country, n, k, seed", [("be", 700, 7, 3), ("nl", 1500, 12, 5)])
def test_generated_inputs_meet_the_design_criteria(tmp_path, country, n, k, seed):
    cpath, rpath, locked = write_inputs(tmp_path, country, n, k, seed)
    out = tmp_path / "out"
    assert (
        main(["-q", "design", str(cpath), "--reps", str(rpath), "--out", str(out), "--no-maps"])
        == 0
    )
    assign = read_csv(out / "assignments.csv")
    terr = {t["rep_id"]: t for t in read_csv(out / "territories.csv")}
    assert len(assign) == n and len(terr) == k
    # Every customer in exactly one territory, locks kept.
    assert len({a["customer_id"] for a in assign}) == n
    for a in assign:
        assert a["rep_id"] in terr
        if a["customer_id"] in locked:
            assert a["rep_id"] == locked[a["customer_id"]]
    # Workload within +/- 5 % of the capacity-proportional target.
    load = {r: 0.0 for r in terr}
    for a in assign:
        load[a["rep_id"]] += float(a["workload_min"])
    cap = {r: float(t["capacity_hours"]) for r, t in terr.items()}
    total, cap_total = sum(load.values()), sum(cap.values())
    for r in terr:
        assert abs(load[r] / (total * cap[r] / cap_total) - 1) <= 0.05 + 1e-6, r
    # Connected: each territory is one component of the neighbourhood graph of the written points.
    lat = np.array([float(a["lat"]) for a in assign])
    lon = np.array([float(a["lon"]) for a in assign])
    nbrs = neighbour_lists(project_km(lat, lon))
    owner = [a["rep_id"] for a in assign]
    for r in terr:
        members = [i for i in range(n) if owner[i] == r]
        seen, stack = {members[0]}, [members[0]]
        while stack:
            i = stack.pop()
            for j in nbrs[i]:
                if owner[j] == r and j not in seen:
                    seen.add(j)
                    stack.append(j)
        assert len(seen) == len(members), f"territory {r} is not one piece"
        assert terr[r]["connected"] == "true"
