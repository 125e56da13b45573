"""Generate town-shaped (or uniform) Dutch and Belgian instances for the scale benchmarks.

``towns``: customers around the ~80 largest places of the bundled gazetteer (NL and BE), in
proportion to their population, spread more widely around larger places; rep homes in the
largest places, as many per place as its share of the population asks (several reps in one
city, a few km apart). The customer mix is that of ``bench_design.generate`` (classes A/B/C:
4 x 60, 2 x 45, 1 x 30 minutes per period), so 8,000 customers ask for about 90 full-time reps
and a team of 120 is larger than the work needs.

``uniform``: customers spread evenly over the land of the Netherlands (the same coastline test
as ``bench_design``), rep homes uniform too.

Both are reproducible for a seed. As a command it writes ``customers.csv`` and ``reps.csv``
that ``territory plan`` reads::

    python scripts/make_towns.py --customers 8000 --reps 120 --out /tmp/towns8k
    territory plan /tmp/towns8k/customers.csv --reps /tmp/towns8k/reps.csv --out OUT --jobs 2
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_design import COUNTRIES, _on_land

from territory.models import Customer, Rep

GAZETTEER = Path(__file__).resolve().parents[1] / "territory" / "data" / "gazetteer_nl_be.csv"
KM_PER_DEG_LAT = 111.2

#: Class mix of the generated customers: share, visits per period, minutes per visit.
CLASSES = {"A": (0.15, 4, 60.0), "B": (0.35, 2, 45.0), "C": (0.5, 1, 30.0)}


def largest_places(count: int) -> list[tuple[str, float, float, int]]:
    """The ``count`` most populous places of the gazetteer: (name, lat, lon, population)."""
    with GAZETTEER.open(newline="", encoding="utf-8") as fh:
        rows = [
            (r["name"], float(r["lat"]), float(r["lon"]), int(r["population"]))
            for r in csv.DictReader(fh)
        ]
    rows.sort(key=lambda r: (-r[3], r[0]))
    return rows[:count]


def _customers(lat: np.ndarray, lon: np.ndarray, rng: np.random.Generator) -> list[Customer]:
    n = len(lat)
    names = list(CLASSES)
    classes = rng.choice(np.array(names), size=n, p=[CLASSES[c][0] for c in names])
    potential = rng.lognormal(9.5, 0.8, n).round(0)
    return [
        Customer(
            id=f"C{i + 1:06d}",
            lat=round(float(lat[i]), 6),
            lon=round(float(lon[i]), 6),
            customer_class=str(classes[i]),
            visits=CLASSES[str(classes[i])][1],
            visit_minutes=CLASSES[str(classes[i])][2],
            potential=float(potential[i]),
            row=i + 2,
        )
        for i in range(n)
    ]


def _offset(
    lat0: np.ndarray, lon0: np.ndarray, sigma_km: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points normally spread ``sigma_km`` around (lat0, lon0)."""
    dlat = rng.normal(0.0, 1.0, len(lat0)) * sigma_km / KM_PER_DEG_LAT
    dlon = rng.normal(0.0, 1.0, len(lat0)) * sigma_km / (KM_PER_DEG_LAT * np.cos(np.radians(lat0)))
    return lat0 + dlat, lon0 + dlon


def generate_towns(
    n: int, k: int, seed: int = 0, n_towns: int = 80
) -> tuple[list[Customer], list[Rep]]:
    """``n`` customers around the ``n_towns`` largest places, ``k`` reps in the largest ones.

    A place of population p spreads its customers normally with 1.5 km x sqrt(p / 50,000)
    (about 7 km for Brussels, 2 km for a town of 80,000). Reps go to places by the largest
    remainder of k x population share, so the big cities get several, each home 2 km (normal)
    from the centre.
    """
    rng = np.random.default_rng(seed)
    places = largest_places(n_towns)
    pop = np.array([p[3] for p in places], dtype=float)
    share = pop / pop.sum()
    centre = np.array([(p[1], p[2]) for p in places])
    town = rng.choice(len(places), size=n, p=share)
    sigma = 1.5 * np.sqrt(pop / 50_000.0)
    lat, lon = _offset(centre[town, 0], centre[town, 1], sigma[town], rng)
    customers = _customers(lat, lon, rng)
    quota = k * share
    count = np.floor(quota).astype(int)
    for j in np.argsort(-(quota - count), kind="stable")[: k - int(count.sum())]:
        count[j] += 1
    home_town = np.repeat(np.arange(len(places)), count)
    h_lat, h_lon = _offset(centre[home_town, 0], centre[home_town, 1], np.full(k, 2.0), rng)
    return customers, _reps(h_lat, h_lon)


def _reps(h_lat: np.ndarray, h_lon: np.ndarray) -> list[Rep]:
    """Reps R001, R002, ... living at the given homes."""
    return [
        Rep(id=f"R{j + 1:03d}", lat=round(float(la), 6), lon=round(float(lo), 6), row=j + 2)
        for j, (la, lo) in enumerate(zip(h_lat, h_lon, strict=True))
    ]


def generate_uniform(n: int, k: int, seed: int = 0) -> tuple[list[Customer], list[Rep]]:
    """``n`` customers and ``k`` rep homes uniform over the land of the Netherlands."""
    rng = np.random.default_rng(seed)
    la0, la1, lo0, lo1 = COUNTRIES["nl"]["box"]

    def land_points(m: int) -> tuple[np.ndarray, np.ndarray]:
        lat_l: list[float] = []
        lon_l: list[float] = []
        while len(lat_l) < m:
            la = rng.uniform(la0, la1, 2 * m + 10)
            lo = rng.uniform(lo0, lo1, 2 * m + 10)
            ok = _on_land("nl", la, lo)
            lat_l.extend(la[ok].tolist())
            lon_l.extend(lo[ok].tolist())
        return np.array(lat_l[:m]), np.array(lon_l[:m])

    lat, lon = land_points(n)
    customers = _customers(lat, lon, rng)
    h_lat, h_lon = land_points(k)
    return customers, _reps(h_lat, h_lon)


def generate(geography: str, n: int, k: int, seed: int = 0) -> tuple[list[Customer], list[Rep]]:
    """An instance of ``geography``: "towns", "uniform" or "project" (``bench_design``'s)."""
    if geography == "towns":
        return generate_towns(n, k, seed)
    if geography == "uniform":
        return generate_uniform(n, k, seed)
    if geography == "project":
        from bench_design import generate as generate_project

        return generate_project(n, k, seed=seed)
    raise ValueError(f"geography '{geography}' is unknown; use towns, uniform or project")


def write_csvs(customers: list[Customer], reps: list[Rep], out: Path) -> None:
    """``customers.csv`` and ``reps.csv`` in the form ``territory`` reads."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "customers.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "lat", "lon", "class", "visits", "visit_minutes", "potential"])
        for c in customers:
            w.writerow(
                [c.id, c.lat, c.lon, c.customer_class, c.visits, c.visit_minutes, c.potential]
            )
    with (out / "reps.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "lat", "lon"])
        for r in reps:
            w.writerow([r.id, r.lat, r.lon])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--customers", type=int, default=8000)
    ap.add_argument("--reps", type=int, default=120)
    ap.add_argument("--geography", choices=["towns", "uniform", "project"], default="towns")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="folder to write the CSVs into")
    args = ap.parse_args(argv)
    customers, reps = generate(args.geography, args.customers, args.reps, args.seed)
    write_csvs(customers, reps, args.out)
    homes = {(r.lat, r.lon) for r in reps}
    print(
        f"wrote {len(customers)} customers and {len(reps)} reps ({len(homes)} homes) to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
