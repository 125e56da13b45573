"""Benchmark the whole ``territory scenarios`` command: the sample, and a generated 8,000 x 120.

Each instance runs the real command in a child process (``python -m territory scenarios ...
--jobs N``), timed as a whole (maps, reports and workbooks included unless ``--no-maps``), with
the peak memory of the child and of its worker processes. As the baseline, measured in the same
run, ``territory plan`` on the same instance: the scenarios' time is also given as a multiple of
one plan's. The generated instance comes from ``bench_design.generate`` (Dutch-like towns,
countryside, coast, an island) with an inherited split (``current_rep``: the nearest home for
85 %, the second nearest for 10 %, any rep for 5 %, seeded) and ``revenue`` (a share of the
potential), so that every scenario runs; its plan.toml is the default one with ``[economics]``.

Prints one row per scenario (from scenarios.csv and the scenario's summary.json) and one per
instance, and writes them as CSV. Example::

    nice -n 10 python scripts/bench_scenarios.py --sizes sample 8000x120 --jobs 2 \\
        --csv bench_scenarios.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchtable import print_table, write_csv

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLE = ROOT / "sample_data"

GENERATED_TOML = """\
# bench_scenarios.py: the default plan.toml (A/B/C every week / fortnight / four weeks) with
# economics, so that every scenario runs.
[economics]
margin = 0.30
rep_cost_per_year = 85000
cost_per_km = 0.23
phone_cost_per_hour = 45
"""


def write_generated(n: int, k: int, seed: int, folder: Path) -> tuple[Path, Path, Path]:
    """customers.csv, reps.csv and plan.toml of a generated instance in ``folder``."""
    sys.path.insert(0, str(HERE))
    from bench_design import generate

    from territory.travel import haversine_km

    customers, reps = generate(n, k, seed=seed)
    rng = np.random.default_rng([seed, 13])
    lat = np.array([c.lat for c in customers])
    lon = np.array([c.lon for c in customers])
    dist = np.column_stack([haversine_km(lat, lon, r.lat, r.lon) for r in reps])
    order = np.argsort(dist, axis=1, kind="stable")
    u = rng.random(n)
    anyone = rng.integers(k, size=n)
    current = np.where(u < 0.85, order[:, 0], np.where(u < 0.95, order[:, 1], anyone))
    share = np.clip(rng.beta(1.6, 2.2, size=n), 0.03, 0.95)
    folder.mkdir(parents=True, exist_ok=True)
    cpath, rpath, tpath = folder / "customers.csv", folder / "reps.csv", folder / "plan.toml"
    with cpath.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "lat", "lon", "class", "potential", "revenue", "current_rep"])
        for i, c in enumerate(customers):
            w.writerow(
                [
                    c.id,
                    f"{c.lat:.6f}",
                    f"{c.lon:.6f}",
                    c.customer_class,
                    f"{c.potential:.0f}",
                    f"{round(c.potential * share[i], -1):.0f}",
                    reps[int(current[i])].id,
                ]
            )
    with rpath.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "lat", "lon"])
        for r in reps:
            w.writerow([r.id, f"{r.lat:.6f}", f"{r.lon:.6f}"])
    tpath.write_text(GENERATED_TOML, encoding="utf-8")
    return cpath, rpath, tpath


def _run(args: list[str]) -> tuple[float, float]:
    """Run ``python -m territory ARGS`` in a child; (seconds, peak MB of the child and workers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "territory", "-q", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"territory {' '.join(args)} failed:\n{done.stderr}")
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024.0
    return seconds, peak


def bench(
    name: str, files: tuple[Path, Path, Path], out: Path, jobs: int, maps: bool
) -> list[dict]:
    """The rows of one instance: one per scenario, then the whole run and the baseline plan."""
    customers, reps, config = files
    common = [str(customers), "--reps", str(reps), "--config", str(config), "--jobs", str(jobs)]
    extra = [] if maps else ["--no-maps"]
    plan_s, plan_mb = _run(["plan", *common, "--out", str(out / "plan"), *extra])
    total_s, total_mb = _run(["scenarios", *common, "--out", str(out / "scenarios"), *extra])
    rows = []
    with (out / "scenarios" / "scenarios.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            summary = json.loads(
                (out / "scenarios" / row["folder"] / "summary.json").read_text("utf-8")
            )
            rows.append(
                {
                    "instance": name,
                    "scenario": row["scenario"],
                    "seconds": summary["runtime_s"],
                    "reps": row["reps"],
                    "moved": row["customers_moved"],
                    "max_dev": f"{float(row['max_workload_deviation']):.3f}",
                    "util": f"{float(row['min_utilisation']):.2f}-{float(row['max_utilisation']):.2f}",
                    "unscheduled": row["visits_unscheduled"],
                    "travel_h": row["travel_hours"],
                    "agents": row["agents_needed"],
                    "contribution_eur": row["contribution_eur"],
                }
            )
    rows.append(
        {
            "instance": name,
            "scenario": "(whole command)",
            "seconds": round(total_s, 1),
            "peak_mb": round(total_mb),
            "x_plan": round(total_s / plan_s, 2),
        }
    )
    rows.append(
        {
            "instance": name,
            "scenario": "(baseline: territory plan)",
            "seconds": round(plan_s, 1),
            "peak_mb": round(plan_mb),
            "x_plan": 1.0,
        }
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes", nargs="+", default=["sample", "8000x120"], help="'sample' and/or NxK"
    )
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--seed", type=int, default=0, help="generator seed")
    ap.add_argument("--no-maps", action="store_true", help="tables only")
    ap.add_argument("--keep", type=Path, help="keep the outputs in this folder")
    ap.add_argument("--csv", type=Path, default=Path("bench_scenarios.csv"), help="CSV to write")
    args = ap.parse_args(argv)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-scenarios-") as tmp:
        base = args.keep or Path(tmp)
        for size in args.sizes:
            out = base / size
            if size == "sample":
                files = (SAMPLE / "customers.csv", SAMPLE / "reps.csv", SAMPLE / "plan.toml")
            else:
                n, k = (int(x) for x in size.lower().split("x"))
                files = write_generated(n, k, args.seed, out / "input")
            load = os.getloadavg()[0]
            rows += [
                {**r, "load": f"{load:.1f}"}
                for r in bench(size, files, out, args.jobs, not args.no_maps)
            ]
    print_table(rows)
    write_csv(rows, args.csv)
    print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
