"""Benchmark the osm travel source: network build, cached load, per-territory matrices, and
the national plan on roads against the straight line in the same run.

    python scripts/make_road_pbf.py --grid 1000 --out nl-grid.osm.pbf      # or a real extract
    nice python scripts/bench_roads.py --pbf nl-grid.osm.pbf --out bench_roads.csv
    nice python scripts/bench_roads.py --pbf nl-grid.osm.pbf --plan --customers 8000 --reps 120

``build`` runs in a child process under ``/usr/bin/time -v`` with an empty cache (wall time and
peak memory of the whole build); ``load`` reads the cache; ``matrix`` times 150-stop matrices
(snapping included) around random centres; ``--plan`` generates bench_plan.py's team, then
sizes, designs and plans it once with the straight line and once with the roads.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import print_table, write_csv

from territory import roads
from territory.params import Config, TravelParams
from territory.travel import Points, travel_model


def _load() -> str:
    return open("/proc/loadavg").read().split()[0]


def bench_build(pbf: Path) -> dict:
    """Build from scratch in a child process: wall seconds and peak RSS from /usr/bin/time -v.

    The child builds into an empty folder; the result then joins the real cache, so the next
    steps load it."""
    import shutil

    with tempfile.TemporaryDirectory(dir=roads.cache_dir().parent) as cache:
        env = {**os.environ, "TERRITORY_ROADS_DIR": cache}
        code = (
            "import json,sys; from pathlib import Path; from territory import roads; "
            f"n,a=roads.load_network(Path({str(pbf)!r})); print(json.dumps(n.info))"
        )
        load = _load()
        run = subprocess.run(
            ["/usr/bin/time", "-v", sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        import json

        info = json.loads(run.stdout.strip().splitlines()[-1])
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
        cpu_s = sum(
            float(re.search(rf"{what} time \(seconds\): ([\d.]+)", run.stderr).group(1))
            for what in ("User", "System")
        )
        wall = re.search(r"Elapsed \(wall clock\) time.*: (.+)", run.stderr).group(1).strip()
        parts = [float(x) for x in wall.split(":")]
        wall_s = sum(p * 60 ** (len(parts) - 1 - k) for k, p in enumerate(parts))
        for entry in Path(cache).iterdir():
            target = roads.cache_dir() / entry.name
            if not target.exists():
                roads.cache_dir().mkdir(parents=True, exist_ok=True)
                shutil.move(str(entry), target)
    return {
        "step": "build",
        "pbf_mb": round(pbf.stat().st_size / 1e6, 1),
        "vertices": info["vertices"],
        "nodes": info["nodes"],
        "arcs": info["arcs"],
        "seconds": round(wall_s, 1),
        "cpu_s": round(cpu_s, 1),
        "read_s": info["read_s"],
        "order_s": info["order_s"],
        "peak_mb": round(rss / 1024),
        "load_avg": load,
    }


def bench_matrix(pbf: Path, stops: int, repeats: int, seed: int) -> list[dict]:
    """Cached load, then ``repeats`` matrices of ``stops`` places within 20 km of a centre."""
    load = _load()
    t = time.perf_counter()
    net, about = roads.load_network(pbf)
    load_s = time.perf_counter() - t
    model = roads.OsmTravel(net, about, TravelParams(source="osm", osm=str(pbf)), pbf)
    rng = np.random.default_rng(seed)
    g = net.g
    times = []
    for _ in range(repeats):
        c = rng.integers(len(g["node_lat"]))
        lat = g["node_lat"][c] + rng.uniform(-0.18, 0.18, stops)
        lon = g["node_lon"][c] + rng.uniform(-0.28, 0.28, stops)
        pts = Points(lat, lon, None)
        t = time.perf_counter()
        legs = model.matrix(pts)
        times.append(time.perf_counter() - t)
        assert np.isfinite(legs.minutes).all()
    return [
        {
            "step": "load (cache)",
            "seconds": round(load_s, 2),
            "nodes": about["nodes"],
            "load_avg": load,
        },
        {
            "step": f"matrix {stops}x{stops}",
            "seconds": round(float(np.median(times)), 3),
            "max_s": round(float(np.max(times)), 3),
            "repeats": repeats,
            "load_avg": _load(),
        },
    ]


def bench_plan(pbf: Path, customers: int, reps: int, jobs: int, rounds: int | None) -> list[dict]:
    """The generated national team planned with crow and with osm (network already cached)."""
    from bench_design import generate

    from territory.districting import design_territories
    from territory.rebalance import plan_and_rebalance
    from territory.workload import customer_workload

    cust, team = generate(customers, reps, seed=0)
    rows = []
    for source in ("crow", "osm"):
        config = Config(
            travel=TravelParams(source=source, osm=str(pbf) if source == "osm" else None)
        )
        if rounds is not None:
            config = replace(config, planning=replace(config.planning, rebalance_rounds=rounds))
        load = _load()
        t0 = time.perf_counter()
        travel = travel_model(config, Points.of([*cust, *team]))
        t1 = time.perf_counter()
        workload = customer_workload(cust, config, team, travel=travel)
        design = design_territories(cust, team, workload, config, travel=travel)
        t2 = time.perf_counter()
        plan, _ = plan_and_rebalance(cust, team, design, config, jobs=jobs, travel=travel)
        t3 = time.perf_counter()
        k = plan.kpis
        rows.append(
            {
                "step": f"plan {customers}x{reps} {source}",
                "seconds": round(t3 - t0, 1),
                "model_s": round(t1 - t0, 1),
                "design_s": round(t2 - t1, 1),
                "plan_s": round(t3 - t2, 1),
                "travel_h": round(k.travel_min / 60, 1),
                "travel_km": round(k.travel_km, 0),
                "unscheduled": k.visits_unscheduled,
                "load_avg": load,
            }
        )
    rows[1]["osm_over_crow"] = round(rows[1]["seconds"] / rows[0]["seconds"], 2)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the asked steps; print a table and write the CSV."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pbf", type=Path, required=True)
    ap.add_argument("--no-build", action="store_true", help="skip the from-scratch build")
    ap.add_argument("--stops", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--plan", action="store_true", help="also the national plan, crow vs osm")
    ap.add_argument("--customers", type=int, default=8000)
    ap.add_argument("--reps", type=int, default=120)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=None, help="override rebalance_rounds")
    ap.add_argument("--out", type=Path, default=Path("bench_roads.csv"))
    args = ap.parse_args(argv)
    rows = [] if args.no_build else [bench_build(args.pbf)]
    rows += bench_matrix(args.pbf, args.stops, args.repeats, seed=0)
    if args.plan:
        rows += bench_plan(args.pbf, args.customers, args.reps, args.jobs, args.rounds)
    print_table(rows)
    write_csv(rows, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
