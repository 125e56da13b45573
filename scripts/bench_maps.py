"""Benchmark the maps: HTML size, render time and headless-Chromium load and pan time.

Compares ``territory.maps.render`` (canvas circle markers from one JSON block) with a naive
folium baseline built in the same run (one ``folium.Marker`` with a tooltip per customer,
SVG/DOM rendering), both offline with Leaflet inlined and no base tiles, for each size.

    python scripts/bench_maps.py --sizes 1000 10000 --csv bench_maps.csv

Needs Debian's ``chromium`` and the asset cache (``python -m territory.assets fetch``).
``--polygons 10000 100000`` times ``geometry.territory_polygons`` instead (no browser), against
convex hulls per territory (the cheap answer that overlaps), reporting the overlap of each.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import folium  # noqa: E402
from benchtable import write_csv  # noqa: E402
from test_maps import make_plan_folder  # noqa: E402
from test_maps_browser import CHROMIUM, Browser  # noqa: E402

from territory import assets  # noqa: E402
from territory.htmlutil import num  # noqa: E402
from territory.maps import render  # noqa: E402
from territory.reporthtml import load_plan_folder  # noqa: E402

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


def bench_polygons(sizes: list[int], territories: int, csv_path: Path) -> int:
    """Time territory_polygons against convex hulls; report the overlap area of both."""
    import numpy as np
    import shapely
    from shapely.geometry import mapping

    from territory.geometry import non_overlap_area_km2, territory_polygons

    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        # customers around 40 towns spread over the Netherlands
        towns = np.column_stack([rng.uniform(51.3, 53.3, 40), rng.uniform(3.8, 7.0, 40)])
        pick = rng.integers(0, 40, n)
        lat = towns[pick, 0] + rng.normal(0, 0.08, n)
        lon = towns[pick, 1] + rng.normal(0, 0.12, n)
        centres = np.column_stack(
            [rng.uniform(51.3, 53.3, territories), rng.uniform(3.8, 7.0, territories)]
        )
        # whole towns go to the centre nearest the town: territories interlock like real ones
        town_terr = (
            (towns[:, None, 0] - centres[None, :, 0]) ** 2
            + (towns[:, None, 1] - centres[None, :, 1]) ** 2
        ).argmin(1)
        assignment = town_terr[pick]
        t0 = time.perf_counter()
        hulls = [
            mapping(
                shapely.convex_hull(
                    shapely.multipoints(np.column_stack([lon, lat])[assignment == t])
                )
            )
            for t in range(territories)
        ]
        hull_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = territory_polygons(lat, lon, assignment, territories)
        ours_s = time.perf_counter() - t0
        for name, geoms, secs in (
            ("convex hulls", hulls, hull_s),
            ("territory_polygons", ours, ours_s),
        ):
            rows.append(
                {"customers": n, "method": name, "seconds": secs, "overlap_km2": non_overlap_area_km2(geoms),
                 "geojson_mb": len(json.dumps(geoms)) / 1e6}
            )  # fmt: skip
    print(
        f"{'customers':>9}  {'method':<20}{'seconds':>9}{'overlap km2':>13}{'GeoJSON MB':>12}  time ratio vs hulls"
    )
    base = {r["customers"]: r["seconds"] for r in rows if r["method"] == "convex hulls"}
    for r in rows:
        r["time_ratio"] = r["seconds"] / max(base[r["customers"]], 1e-9)
        print(
            f"{r['customers']:>9}  {r['method']:<20}{r['seconds']:>9.2f}{r['overlap_km2']:>13.3f}"
            f"{r['geojson_mb']:>12.2f}  {r['time_ratio']:.0f}"
        )
    write_csv(rows, csv_path, list(rows[0]))
    print(f"wrote {csv_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--reps", type=int, default=0, help="reps (default: customers / 250)")
    parser.add_argument("--csv", type=Path, default=Path("bench_maps.csv"))
    parser.add_argument("--repeat", type=int, default=2, help="browser loads per page (best kept)")
    parser.add_argument(
        "--polygons",
        type=int,
        nargs="+",
        metavar="N",
        help="time territory polygons for N customers",
    )
    parser.add_argument("--territories", type=int, default=30, help="territories for --polygons")
    args = parser.parse_args(argv)
    if args.polygons:
        return bench_polygons(args.polygons, args.territories, args.csv)
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
    write_csv(rows, args.csv, list(rows[0]))
    print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
