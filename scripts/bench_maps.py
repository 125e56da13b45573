"""Benchmark the maps: HTML size, render time and headless-Chromium load and pan time.

Compares ``territory.maps.render`` (canvas circle markers from one JSON block) with a naive
folium baseline built in the same run (one ``folium.Marker`` with a tooltip per customer,
SVG/DOM rendering), both offline with Leaflet inlined and no base tiles, for each size.

    python scripts/bench_maps.py --sizes 1000 10000 --csv bench_maps.csv

Needs Debian's ``chromium`` and the asset cache (``python -m territory.assets fetch``).
"""

from __future__ import annotations

import argparse
import csv
import html
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import folium  # noqa: E402
from test_maps import make_plan_folder  # noqa: E402
from test_maps_browser import CHROMIUM, Browser  # noqa: E402

from territory import assets  # noqa: E402
from territory.maps import render  # noqa: E402
from territory.reporthtml import load_plan_folder, num  # noqa: E402

PAN_JS = """(async () => {
  const key = Object.keys(window).find(k => k.startsWith("map_") && window[k] instanceof L.Map);
  const m = window[key], frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  await frame();
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) { m.panBy([i % 2 ? -160 : 160, 90], {animate: false}); await frame(); }
  for (let i = 0; i < 4; i++) { m.zoomIn(1, {animate: false}); await frame(); }
  return performance.now() - t0;
})()"""


def naive_folium(folder: Path, out: Path) -> None:
    """The baseline: what a first folium script does (a Marker per customer)."""
    plan = load_plan_folder(folder)
    inline = assets.load_inline()
    m = folium.Map(location=[52.1, 5.3], zoom_start=8, tiles=None)
    m.default_js, m.default_css = [], []  # Leaflet is inlined below, as in the offline maps
    page_head = f"<style>{inline.css}</style><script>{inline.js}</script>"
    for row in plan.assignments:
        folium.Marker([num(row["lat"]), num(row["lon"])], tooltip=html.escape(row["name"])).add_to(
            m
        )
    text = m.get_root().render().replace("<head>", "<head>" + page_head, 1)
    out.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--reps", type=int, default=0, help="reps (default: customers / 250)")
    parser.add_argument("--csv", type=Path, default=Path("bench_maps.csv"))
    parser.add_argument("--repeat", type=int, default=2, help="browser loads per page (best kept)")
    args = parser.parse_args(argv)
    if CHROMIUM is None or assets.missing():
        print("needs chromium and the asset cache (python -m territory.assets fetch)")
        return 1
    rows = []
    work = Path(tempfile.mkdtemp(prefix="bench-maps-"))
    browser = Browser(CHROMIUM, extra_args=("--host-resolver-rules=MAP * ~NOTFOUND",))
    try:
        for n in args.sizes:
            folder = make_plan_folder(
                work / f"n{n}", n_customers=n, n_reps=args.reps or max(n // 250, 3),
                hostile=False, weeks=4, with_territories_geojson=True,
            )  # fmt: skip
            t0 = time.perf_counter()
            render(folder, offline=True, tiles=None)
            ours_render_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            naive_folium(folder, work / f"naive{n}.html")
            naive_render_s = time.perf_counter() - t0
            for name, page, render_s, ready in (
                ("naive folium Markers", work / f"naive{n}.html", naive_render_s,
                 f"document.querySelectorAll('.leaflet-marker-icon').length >= {n}"),
                ("territory.maps", folder / "map.html", ours_render_s, "window.territoryMap"),
            ):  # fmt: skip
                print(f"{n} customers: {name} ...", file=sys.stderr, flush=True)
                loads = [browser.open(page, ready=ready, timeout_s=300) for _ in range(args.repeat)]
                pan_ms = browser.evaluate(PAN_JS, await_promise=True, timeout_s=900)
                rows.append(
                    {
                        "customers": n, "method": name, "html_mb": page.stat().st_size / 1e6,
                        "render_s": render_s, "load_s": min(loads), "pan_zoom_ms": pan_ms,
                    }
                )  # fmt: skip
    finally:
        browser.close()
        shutil.rmtree(work, ignore_errors=True)
    base = {r["customers"]: r for r in rows if r["method"].startswith("naive")}
    header = f"{'customers':>9}  {'method':<22}{'html MB':>9}{'render s':>10}{'load s':>9}{'pan+zoom ms':>13}  ratio load / pan (vs naive)"
    print(header)
    for r in rows:
        b = base[r["customers"]]
        r["load_ratio"] = r["load_s"] / b["load_s"]
        r["pan_ratio"] = r["pan_zoom_ms"] / b["pan_zoom_ms"]
        print(
            f"{r['customers']:>9}  {r['method']:<22}{r['html_mb']:>9.2f}{r['render_s']:>10.2f}"
            f"{r['load_s']:>9.2f}{r['pan_zoom_ms']:>13.0f}  {r['load_ratio']:.2f} / {r['pan_ratio']:.2f}"
        )
    print(
        "render s: ours writes map.html, every rep map, report.html and plan.xlsx; naive writes one page."
    )
    with args.csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
