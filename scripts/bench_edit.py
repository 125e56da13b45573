"""Benchmark edit.html: how fast a move of customers updates the figures, in headless Chromium.

For each size a design folder is generated (customers around Dutch towns, one territory per rep,
``tests/test_maps.make_plan_folder``), ``territory edit --offline`` writes its page, and the page
is driven through ``window.territoryEditor``: ``--moves`` times, a block of ``--block``
neighbouring customers (the nearest ones to a random customer) is given to another rep and the
time is taken from the call to the moment the figures, the table and the canvas are updated
(``move_ms``: one synchronous call) and to the next painted frame (``frame_ms``). The baseline,
measured in the same run, is what answers the same question without the page: Python's
``districting.evaluate_assignment`` (``territory evaluate``'s figures) on the moved split.

    python scripts/bench_edit.py --sizes 1000 10000 --csv bench_edit.csv
    python scripts/bench_edit.py --screenshot docs/img/edit.png   # the README's picture

Needs Debian's ``chromium`` and the asset cache (``python -m territory.assets fetch``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from benchtable import print_table, write_csv  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402
from test_maps import make_plan_folder  # noqa: E402
from test_maps_browser import CHROMIUM, Browser  # noqa: E402

from territory import assets, pipeline  # noqa: E402
from territory.districting import evaluate_assignment  # noqa: E402
from territory.edit import EDIT_FILE, write_editor  # noqa: E402
from territory.models import Customer, Rep  # noqa: E402
from territory.params import Config  # noqa: E402
from territory.reporthtml import load_plan_folder  # noqa: E402
from territory.travel import project_km  # noqa: E402
from territory.workload import customer_workload  # noqa: E402

MOVE_JS = """(async (blocks, reps) => {
  const E = window.territoryEditor, frame = () => new Promise(r => requestAnimationFrame(() =>
    requestAnimationFrame(r)));
  const out = [];
  await frame();
  for (let b = 0; b < blocks.length; b++) {
    const t0 = performance.now();
    const res = E.move(blocks[b], reps[b]);
    const t1 = performance.now(), parts = E.timings();
    await frame();
    const t2 = performance.now();
    const m0 = performance.now(); E.metrics(); const m1 = performance.now();
    out.push({moved: res.moved, move_ms: t1 - t0, frame_ms: t2 - t0, metrics_ms: m1 - m0,
              figures_ms: parts.figures_ms, panel_ms: parts.panel_ms, draw_ms: parts.draw_ms});
    E.undo();
    await frame();
  }
  return out;
})"""


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _blocks(
    folder: Path, block: int, moves: int, seed: int, pattern: str
) -> tuple[list, list, list]:
    """``moves`` blocks of ``block`` customer ids (``pattern`` "block": neighbours, drawn
    again in their part of the canvas; "scattered": anywhere, the whole canvas is drawn), a rep
    to give each to, and the assignment after each move (territory index per customer)."""
    plan = load_plan_folder(folder)
    rows = plan.assignments
    rep_ids = [r["rep_id"] for r in plan.territories]
    index = {rid: t for t, rid in enumerate(rep_ids)}
    xy = project_km([float(r["lat"]) for r in rows], [float(r["lon"]) for r in rows])
    tree = cKDTree(xy)
    rng = np.random.default_rng(seed)
    start = np.array([index[r["rep_id"]] for r in rows])
    blocks, reps, splits = [], [], []
    for _ in range(moves):
        if pattern == "block":
            _, near = tree.query(xy[int(rng.integers(0, len(rows)))], k=min(block, len(rows)))
        else:
            near = rng.choice(len(rows), min(block, len(rows)), replace=False)
        to = int(rng.integers(0, len(rep_ids)))
        blocks.append([rows[int(i)]["customer_id"] for i in near])
        reps.append(rep_ids[to])
        split = start.copy()
        split[near] = to
        splits.append(split)
    return blocks, reps, splits


def _baseline_s(folder: Path, splits: list) -> float:
    """Median seconds of evaluate_assignment (territory evaluate's figures) per moved split."""
    plan = load_plan_folder(folder)
    customers = [
        Customer(id=r["customer_id"], lat=float(r["lat"]), lon=float(r["lon"]),
                 visits=int(r["visits"]), visit_minutes=float(r["visit_minutes"]),
                 potential=float(r["potential"]))
        for r in plan.assignments
    ]  # fmt: skip
    reps = [Rep(id=r["rep_id"], lat=float(r["home_lat"]), lon=float(r["home_lon"]))
            for r in plan.territories]  # fmt: skip
    config = Config()
    workload = customer_workload(customers, config, reps)
    times = []
    for split in splits[:3]:
        t0 = time.perf_counter()
        evaluate_assignment(customers, reps, workload, split.tolist(), config)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(sizes: list[int], block: int, moves: int, reps_per: int, csv_path: Path) -> int:
    rows = []
    work = Path(tempfile.mkdtemp(prefix="bench-edit-"))
    browser = Browser(CHROMIUM, extra_args=("--host-resolver-rules=MAP * ~NOTFOUND",))
    try:
        for n in sizes:
            k = max(n // reps_per, 3)
            folder = make_plan_folder(work / f"n{n}", n_customers=n, n_reps=k, planned=False,
                                      hostile=False)  # fmt: skip
            t0 = time.perf_counter()
            write_editor(folder, offline=True)
            write_s = time.perf_counter() - t0
            print(f"{n} customers, {k} reps: page ... (load {_load()})", file=sys.stderr)
            load_s = min(browser.open(folder / EDIT_FILE, ready="window.territoryEditor",
                                      timeout_s=300) for _ in range(2))  # fmt: skip
            for pattern in ("block", "scattered"):
                blocks, to, splits = _blocks(folder, block, moves, n, pattern)
                load_before = _load()
                runs = browser.evaluate(
                    f"{MOVE_JS}({json.dumps(blocks)}, {json.dumps(to)})",
                    await_promise=True,
                    timeout_s=600,
                )
                print(f"{n} customers: baseline evaluate_assignment ...", file=sys.stderr)
                base_s = _baseline_s(folder, splits)
                rows.append(_row(n, k, pattern, runs, folder, write_s, load_s, base_s, load_before))
    finally:
        browser.close()
        shutil.rmtree(work, ignore_errors=True)
    print_table(rows)
    print(
        "move_ms: E.move() of a block until figures, table and canvas are updated (one call); "
        "frame_ms: until the next painted frame; evaluate_ms: Python's evaluate_assignment on "
        "the same split (the baseline: territory evaluate's figures); load_avg: 1/5/15-min load."
    )
    write_csv(rows, csv_path)
    print(f"wrote {csv_path}")
    return 0


def _row(
    n: int, k: int, pattern: str, runs: list, folder: Path, write_s: float, load_s: float,
    base_s: float, load_avg: str,
) -> dict:  # fmt: skip
    """One line of the table: medians (and the slowest move) over the runs of one pattern."""
    move = [r["move_ms"] for r in runs]
    frame = [r["frame_ms"] for r in runs]
    return {
        "customers": n, "reps": k, "pattern": pattern, "moves": len(runs),
        "moved_median": int(statistics.median(r["moved"] for r in runs)),
        "html_mb": round((folder / EDIT_FILE).stat().st_size / 1e6, 2),
        "write_s": round(write_s, 2), "load_s": round(load_s, 2),
        "move_ms_median": round(statistics.median(move), 1),
        "move_ms_max": round(max(move), 1),
        "frame_ms_median": round(statistics.median(frame), 1),
        "figures_ms_median": round(statistics.median(r["figures_ms"] for r in runs), 1),
        "panel_ms_median": round(statistics.median(r["panel_ms"] for r in runs), 1),
        "draw_ms_median": round(statistics.median(r["draw_ms"] for r in runs), 1),
        "evaluate_ms": round(base_s * 1000, 1),
        "ratio_move_vs_evaluate": round(statistics.median(move) / (base_s * 1000), 4),
        "load_avg": load_avg,
    }  # fmt: skip


def screenshot(out: Path) -> int:
    """The README's picture: the sample's design, a block of R5's customers given to R2."""
    work = Path(tempfile.mkdtemp(prefix="edit-shot-"))
    browser = Browser(CHROMIUM, extra_args=("--host-resolver-rules=MAP * ~NOTFOUND",))
    try:
        inputs = pipeline.load_inputs(
            ROOT / "sample_data/customers.csv", ROOT / "sample_data/reps.csv",
            ROOT / "sample_data/plan.toml",
        )  # fmt: skip
        design, workload = pipeline.design(inputs)
        folder = work / "design"
        pipeline.write_outputs(folder, "design", inputs, design, workload, 0.0, maps=False)
        write_editor(folder, offline=True)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": 1400, "height": 820, "deviceScaleFactor": 1, "mobile": False})  # fmt: skip
        browser.open(folder / EDIT_FILE, ready="window.territoryEditor")
        # give R5's customers nearest to R2's home to R2, lock a few, select them
        status = browser.evaluate(
            """(() => {
          const D = JSON.parse(document.getElementById('te-data').textContent), C = D.customers;
          const E = window.territoryEditor, r2 = D.reps.find(r => r.id === 'R2');
          const r5 = C.id.map((id, i) => [id, i]).filter(x => D.reps[C.t[x[1]]].id === 'R5');
          r5.sort((a, b) => ((C.lat[a[1]] - r2.lat) ** 2 + (C.lon[a[1]] - r2.lon) ** 2) -
                            ((C.lat[b[1]] - r2.lat) ** 2 + (C.lon[b[1]] - r2.lon) ** 2));
          const block = r5.slice(0, 14).map(x => x[0]);
          E.lock(C.id.filter((id, i) => D.reps[C.t[i]].id === 'R1').slice(0, 4), true);
          E.select(block);
          return E.give('R2');
        })()"""
        )
        print(status)
        time.sleep(0.3)
        shot = browser.call("Page.captureScreenshot", {"format": "png"})
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        print(f"wrote {out}")
    finally:
        browser.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], metavar="N")
    parser.add_argument("--block", type=int, default=200, help="customers per move")
    parser.add_argument("--moves", type=int, default=20, help="moves per size")
    parser.add_argument("--per-rep", type=int, default=200, help="customers per rep")
    parser.add_argument("--csv", type=Path, default=Path("bench_edit.csv"))
    parser.add_argument("--screenshot", type=Path, metavar="PNG", help="only write the picture")
    args = parser.parse_args(argv)
    if CHROMIUM is None or assets.missing():
        print("needs chromium and the asset cache (python -m territory.assets fetch)")
        return 1
    if args.screenshot:
        return screenshot(args.screenshot)
    return bench(args.sizes, args.block, args.moves, args.per_rep, args.csv)


if __name__ == "__main__":
    raise SystemExit(main())
