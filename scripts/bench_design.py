"""Benchmark territory design against nearest-home and count-balanced constrained k-means.

Generates Dutch- and Belgian-like customer sets (clustered around towns, sparse countryside, a
coastline, an island), designs territories around generated rep homes and prints one table row
per instance and method: runtime, peak memory, maximum workload deviation, connected share and
objective / lower bound, then writes the table as CSV. Example::

    PYTHONPATH=. python scripts/bench_design.py --sizes 1000x10 10000x50 --csv bench_design.csv
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
from benchtable import write_csv

from territory.districting import design_territories, evaluate_assignment
from territory.models import Customer, DesignKpis, Rep
from territory.params import Config
from territory.travel import haversine_km, project_km
from territory.workload import customer_workload

COUNTRIES = {
    # lat/lon box, a land test (coastline), towns, an island (centre, spread in degrees)
    "nl": {"box": (51.25, 53.35, 3.6, 7.1), "island": (53.42, 5.35, 0.04)},
    "be": {"box": (49.55, 51.45, 2.6, 6.3), "island": None},
}


def _on_land(country: str, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    if country == "nl":
        # North Sea coast runs north-east from Zeeland; the Wadden Sea north of 53.3
        return (lon > 3.6 + np.maximum(0.0, lat - 51.9) * 0.9) & (lat < 53.3)
    # Belgian coast: a short north-west edge
    return lon > 2.55 + np.maximum(0.0, lat - 51.0) * 1.6


def generate(
    n: int, k: int, seed: int = 0, country: str = "nl"
) -> tuple[list[Customer], list[Rep]]:
    """A reproducible Dutch- or Belgian-like instance of ``n`` customers and ``k`` reps."""
    rng = np.random.default_rng(seed)
    spec = COUNTRIES[country]
    la0, la1, lo0, lo1 = spec["box"]
    n_towns = max(8, int(np.sqrt(n)))
    towns = []
    while len(towns) < n_towns:
        lat, lon = rng.uniform(la0, la1), rng.uniform(lo0, lo1)
        if _on_land(country, np.array([lat]), np.array([lon]))[0]:
            towns.append((lat, lon))
    towns_a = np.array(towns)
    size = rng.pareto(1.2, n_towns) + 1.0
    size /= size.sum()
    lat_l: list[float] = []
    lon_l: list[float] = []
    n_island = int(0.02 * n) if spec["island"] else 0
    n_rural = int(0.2 * n)
    while len(lat_l) < n - n_island:
        m = 2 * (n - n_island - len(lat_l)) + 10
        rural = rng.random(m) < n_rural / n
        t = rng.choice(n_towns, size=m, p=size)
        spread = rng.uniform(0.02, 0.08, size=m)
        la = np.where(rural, rng.uniform(la0, la1, m), towns_a[t, 0] + rng.normal(0, 1, m) * spread)
        lo = np.where(
            rural, rng.uniform(lo0, lo1, m), towns_a[t, 1] + rng.normal(0, 1, m) * spread * 1.6
        )
        ok = _on_land(country, la, lo) & (la > la0) & (la < la1) & (lo < lo1)
        lat_l.extend(la[ok].tolist())
        lon_l.extend(lo[ok].tolist())
    lat_a = np.array(lat_l[: n - n_island])
    lon_a = np.array(lon_l[: n - n_island])
    if n_island:
        ila, ilo, isd = spec["island"]
        lat_a = np.r_[lat_a, ila + rng.normal(0, isd, n_island) * 0.4]
        lon_a = np.r_[lon_a, ilo + rng.normal(0, isd, n_island) * 2.0]
    classes = rng.choice(np.array(["A", "B", "C"]), size=n, p=[0.15, 0.35, 0.5])
    visits = {"A": 4, "B": 2, "C": 1}
    minutes = {"A": 60.0, "B": 45.0, "C": 30.0}
    potential = rng.lognormal(9.5, 0.8, n).round(0)
    customers = [
        Customer(
            id=f"C{i + 1:06d}",
            lat=float(lat_a[i]),
            lon=float(lon_a[i]),
            customer_class=str(classes[i]),
            visits=visits[str(classes[i])],
            visit_minutes=minutes[str(classes[i])],
            potential=float(potential[i]),
            row=i + 2,
        )
        for i in range(n)
    ]
    home_towns = rng.choice(n_towns, size=k, p=size)
    reps = [
        Rep(
            id=f"R{j + 1:03d}",
            lat=float(towns_a[home_towns[j], 0] + rng.normal(0, 0.03)),
            lon=float(towns_a[home_towns[j], 1] + rng.normal(0, 0.05)),
            row=j + 2,
        )
        for j in range(k)
    ]
    return customers, reps


def nearest_home(customers: list[Customer], reps: list[Rep]) -> np.ndarray:
    """Baseline: every customer to the nearest rep home (one column per rep)."""
    lat = np.array([c.lat for c in customers])
    lon = np.array([c.lon for c in customers])
    best = np.full(len(customers), np.inf)
    arg = np.zeros(len(customers), dtype=np.int64)
    for j, r in enumerate(reps):
        d = haversine_km(lat, lon, r.lat, r.lon)
        better = d < best
        best[better] = d[better]
        arg[better] = j
    return arg


def constrained_kmeans(customers: list[Customer], reps: list[Rep], seed: int) -> np.ndarray | None:
    """Baseline: count-balanced k-means (k-means-constrained), clusters matched to nearest homes."""
    try:
        from k_means_constrained import KMeansConstrained
    except ImportError:
        return None
    from scipy.optimize import linear_sum_assignment

    lat = np.array([c.lat for c in customers])
    lon = np.array([c.lon for c in customers])
    xy = project_km(lat, lon)
    n, k = len(customers), len(reps)
    km = KMeansConstrained(
        n_clusters=k, size_min=n // k, size_max=-(-n // k), random_state=seed, n_init=1
    )
    labels = km.fit_predict(xy)
    home = project_km(
        np.array([r.lat for r in reps]), np.array([r.lon for r in reps]), float(np.mean(lat))
    )
    cost = np.hypot(*(km.cluster_centers_[:, None, :] - home[None, :, :]).transpose(2, 0, 1))
    rows, cols = linear_sum_assignment(cost)
    mapping = np.empty(k, dtype=np.int64)
    mapping[rows] = cols
    return mapping[labels]


T = TypeVar("T")


def _measure(fn: Callable[[], T]) -> tuple[T, float, float]:
    """``fn()``, its wall-clock seconds and its peak traced memory in MB."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, dt, peak / 2**20


def _time_only(fn: Callable[[], T]) -> tuple[T, float, float]:
    """``fn()`` and its wall-clock seconds (memory not traced: NaN)."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes",
        nargs="+",
        default=["1000x10", "10000x50", "100000x200"],
        help="instances as NxK (customers x reps); default: 1000x10 10000x50 100000x200",
    )
    ap.add_argument("--country", choices=sorted(COUNTRIES), default="nl")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--free",
        action="store_true",
        help="also design with k free centres (territory design --k): centres placed, not homes",
    )
    ap.add_argument("--sample", type=Path, help="a folder with customers.csv, reps.csv, plan.toml")
    ap.add_argument(
        "--no-kmeans", action="store_true", help="skip the constrained k-means baseline"
    )
    ap.add_argument(
        "--kmeans-max-n",
        type=int,
        default=20_000,
        help="skip constrained k-means above this many customers (it builds n x k arcs); default 20000",
    )
    ap.add_argument("--no-tracemalloc", action="store_true", help="skip tracemalloc (faster)")
    ap.add_argument("--csv", type=Path, default=Path("bench_design.csv"))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    config = Config()
    instances = []
    for spec in args.sizes:
        n, k = (int(x) for x in spec.lower().split("x"))
        instances.append(
            (f"{args.country}-{n}x{k}", *generate(n, k, args.seed, args.country), config)
        )
    if args.sample:
        # the pipeline's loader (load + locate offline through the gazetteer), once merged
        from territory.pipeline import load_inputs

        toml = args.sample / "plan.toml"
        inputs = load_inputs(
            args.sample / "customers.csv",
            args.sample / "reps.csv",
            toml if toml.exists() else None,
        )
        cu, rp, cfg = list(inputs.customers), list(inputs.reps), inputs.config
        instances.append(("sample", cu, rp, cfg))
    rows = []
    header = [
        "instance",
        "n",
        "k",
        "method",
        "runtime_s",
        "peak_mb",
        "max_workload_dev",
        "connected_share",
        "objective_km",
        "lower_bound_km",
        "objective_ratio",
        "ratio_vs_design",
    ]
    print(" ".join(f"{h:>16}" for h in header))
    for name, customers, reps, cfg in instances:
        wl = customer_workload(customers, cfg, reps)
        measure = _measure if not args.no_tracemalloc else _time_only
        design, dt, peak = measure(partial(design_territories, customers, reps, wl, cfg))
        results = [("design", np.array(design.assignment), dt, peak)]
        base, dt, peak = measure(partial(nearest_home, customers, reps))
        results.append(("nearest_home", base, dt, peak))
        if len(customers) > args.kmeans_max_n and not args.no_kmeans:
            print(f"{name}: constrained k-means skipped above --kmeans-max-n", file=sys.stderr)
        elif not args.no_kmeans:
            base, dt, peak = measure(partial(constrained_kmeans, customers, reps, args.seed))
            if base is None:
                print("k-means-constrained is not installed: column skipped", file=sys.stderr)
            else:
                results.append(("kmeans_constrained", base, dt, peak))
        kpis_of: dict[str, DesignKpis | None] = {"design": design.kpis}
        if args.free:
            # free centres (--k): the same customers without the reps' homes
            wl_free = customer_workload(customers, cfg, None)
            free, dt, peak = measure(
                partial(design_territories, customers, None, wl_free, cfg, k=len(reps))
            )
            results.append(("design_free_k", np.array(free.assignment), dt, peak))
            kpis_of["design_free_k"] = free.kpis
        design_obj = design.kpis.objective
        for method, assign, dt, peak in results:
            kp = kpis_of.get(method) or evaluate_assignment(customers, reps, wl, assign, cfg)
            row = {
                "instance": name,
                "n": len(customers),
                "k": len(reps),
                "method": method,
                "runtime_s": round(dt, 2),
                "peak_mb": round(peak, 1),
                "max_workload_dev": round(kp.max_workload_deviation, 4),
                "connected_share": round(kp.connected_share, 4),
                "objective_km": round(kp.objective, 3),
                "lower_bound_km": round(kp.lower_bound, 3),
                "objective_ratio": round(kp.objective_ratio, 4) if kp.objective_ratio else "",
                "ratio_vs_design": round(kp.objective / design_obj, 4) if design_obj else "",
            }
            rows.append(row)
            print(" ".join(f"{row[h]!s:>16}" for h in header), flush=True)
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS: {ru:.0f} MB")
    write_csv(rows, args.csv, header)
    print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
