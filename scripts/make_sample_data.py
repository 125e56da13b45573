"""Write the Dutch sample: sample_data/customers.csv, reps.csv and plan.toml (seeded).

Customers are placed the way businesses are: around towns from the bundled GeoNames gazetteer,
drawn with probability proportional to population^0.9 (so the Randstad is densest), scattered
around the town centre by a distance that grows with the town's size. The class mix is about
15 % A, 30 % B and 55 % C, with potential (EUR per year) correlated with class; about 20 % have
opening hours, about 10 % allowed weekdays. ``current_rep`` is an inherited split: mostly the
nearest rep, some the second nearest, a few anyone. A few customers carry a ``locked_rep`` and a
few have only postcode + city (no lat/lon), so the gazetteer path is used. ``revenue`` (last
year's sales, beside ``potential``) is the share of the potential a customer realised, drawn from
a random stream of its own so that every other column stays as it was.

    python scripts/make_sample_data.py --seed 0              # writes into sample_data/
    python scripts/make_sample_data.py --seed 1 --n 2000 --out /tmp/big
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GAZETTEER = ROOT / "territory" / "data" / "gazetteer_nl_be.csv"

CLASS_SHARES = {"A": 0.15, "B": 0.30, "C": 0.55}
#: Median yearly potential per class in EUR (log-normal around it).
POTENTIAL_MEDIAN = {"A": 95_000.0, "B": 38_000.0, "C": 11_000.0}

#: Share of the potential realised as last year's revenue: Beta(a, b), clipped (mean about 0.42).
REVENUE_SHARE_BETA = (1.6, 2.2)
REVENUE_SHARE_RANGE = (0.03, 0.95)

#: Opening windows (open, close, weight); each leaves >= 3 h inside an 08:30-17:00 day.
WINDOWS = (("09:00", "17:30", 0.5), ("10:00", "16:00", 0.25), ("13:00", "17:00", 0.1))
WINDOWS_MORNING = ("08:00", "12:30", 0.15)
ALLOWED_DAYS = ("mon,tue,wed,thu", "tue,wed,thu", "mon,wed,fri", "tue,thu,fri", "mon-wed")

#: Reps: (id, name, home town, offset north km, offset east km, capacity).
REPS = (
    ("R1", "Sanne de Jong", "Haren", 1.2, -0.8, 1.0),
    ("R2", "Bas Visser", "Apeldoorn", -1.5, 2.0, 1.0),
    ("R3", "Fatima El Amrani", "Amstelveen", 0.6, 0.9, 0.8),
    ("R4", "Jeroen Bakker", "Zoetermeer", -0.7, 1.1, 1.0),
    ("R5", "Lotte Mulder", "Amersfoort", 1.8, -1.0, 1.0),
    ("R6", "Ruben Smit", "Boxtel", 0.4, 0.5, 1.0),
)

#: Customers given only postcode + city (real postcode areas of these towns).
ADDRESS_ONLY = (
    ("Den Haag", "2514 EA"),
    ("'s-Hertogenbosch", "5211 HX"),
    ("Utrecht", "3511 LX"),
    ("Zwolle", "8011 PK"),
    ("Groningen", "9711 LM"),
    ("Eindhoven", "5611 EM"),
)

TRADES = (
    "Bakkerij",
    "Slagerij",
    "Autobedrijf",
    "Installatiebedrijf",
    "Bouwbedrijf",
    "Tuincentrum",
    "Drogisterij",
    "Apotheek",
    "Bloemenhandel",
    "Fietsenwinkel",
    "Garage",
    "Hotel",
    "Café",
    "Brasserie",
    "Restaurant",
    "Kapsalon",
    "Supermarkt",
    "Bouwmarkt",
    "Schildersbedrijf",
    "Loodgietersbedrijf",
    "Transportbedrijf",
    "Groothandel",
    "Boekhandel",
    "Opticien",
    "Dierenspeciaalzaak",
    "Meubelmakerij",
    "Juwelier",
    "Elektrotechniek",
    "Interieurbouw",
    "Cafetaria",
)
SURNAMES = (
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "van der Linden",
    "Kok",
    "Jacobs",
    "de Haan",
    "Vermeulen",
    "van den Heuvel",
    "van der Veen",
    "van den Broek",
    "de Bruijn",
    "Schouten",
    "van Beek",
    "Willems",
    "Hoekstra",
    "Maas",
    "Verhoeven",
    "Koster",
    "Prins",
    "Blom",
    "Huisman",
    "Kuipers",
    "Post",
    "Kramer",
    "van Dam",
    "Wouters",
    "Noël",
    "Hoëvenaars",
    "Brenninkmeijer",
    "Çelik",
)
SIGNS = (
    "De Gouden Ster",
    "'t Hoekje",
    "De Eendracht",
    "De Linde",
    "Het Anker",
    "De Zon",
    "De Molen",
    "Het Wapen",
    "De Kroon",
    "De Zwaan",
    "Overdrive",
    "Noorderlicht",
    "De Vriendschap",
    "Het Hof",
    "Belvédère",
    "Het Gildehuis",
    "Ons Genoegen",
    "De Oude Smidse",
)
SUFFIXES = ("", "", "", " B.V.", " & Zn.", " V.O.F.")
STREETS = (
    "Dorpsstraat",
    "Hoofdstraat",
    "Kerkstraat",
    "Industrieweg",
    "Stationsweg",
    "Marktplein",
    "Molenweg",
    "Nieuwstraat",
    "Schoolstraat",
    "Julianastraat",
    "Wilhelminalaan",
    "Ambachtsweg",
    "Havenstraat",
    "Parallelweg",
    "Zuiderweg",
    "Beatrixlaan",
)


def _islands(lat: float, lon: float) -> bool:
    """Wadden islands: no ferry trips in a sample meant to be driven."""
    return (
        (lat > 52.99 and lon < 4.95)  # Texel
        or (lat > 53.25 and lon < 5.5)  # Vlieland, Terschelling
        or (lat > 53.42 and lon < 6.3)  # Ameland, Schiermonnikoog
    )


def read_towns() -> list[dict]:
    """Dutch places of the gazetteer, sorted for determinism, without the Wadden islands."""
    with GAZETTEER.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["country"] == "NL"]
    towns = []
    for r in rows:
        lat, lon = float(r["lat"]), float(r["lon"])
        if _islands(lat, lon):
            continue
        name = "Den Haag" if r["name"] == "The Hague" else r["name"]
        towns.append({"name": name, "lat": lat, "lon": lon, "population": int(r["population"])})
    towns.sort(key=lambda t: (t["name"], t["lat"]))
    return towns


def _offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    dlat = north_km / 111.2
    dlon = east_km / (111.2 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def business_name(rng: np.random.Generator, town: str) -> str:
    """A Dutch-looking business name."""
    trade = TRADES[rng.integers(len(TRADES))]
    surname = SURNAMES[rng.integers(len(SURNAMES))]
    pick = rng.random()
    if pick < 0.45:
        name = f"{trade} {surname[0].upper()}{surname[1:]}"
    elif pick < 0.65:
        name = f"{surname[0].upper()}{surname[1:]} {trade.lower()}"
    elif pick < 0.85:
        name = f"{trade} {SIGNS[rng.integers(len(SIGNS))]}"
    else:
        name = f"{trade} {town}"
    return name + SUFFIXES[rng.integers(len(SUFFIXES))]


def make_reps(towns: list[dict]) -> list[dict]:
    """The six reps, homes near (not at) their town centres."""
    by_name: dict[str, dict] = {}
    for t in towns:
        if t["name"] not in by_name or t["population"] > by_name[t["name"]]["population"]:
            by_name[t["name"]] = t
    reps = []
    for rid, name, town, north, east, capacity in REPS:
        t = by_name[town]
        lat, lon = _offset(t["lat"], t["lon"], north, east)
        reps.append(
            {
                "id": rid,
                "name": name,
                "city": town,
                "lat": round(lat, 5),
                "lon": round(lon, 5),
                "capacity": capacity,
            }
        )
    return reps


def make_customers(
    towns: list[dict], reps: list[dict], n: int, rng: np.random.Generator
) -> list[dict]:
    """``n`` customers (the last few address-only), see the module docstring."""
    pop = np.array([t["population"] for t in towns], dtype=np.float64)
    weight = pop**0.9
    weight /= weight.sum()
    classes = list(CLASS_SHARES)
    shares = np.array([CLASS_SHARES[k] for k in classes])
    rep_lat = np.array([r["lat"] for r in reps])
    rep_lon = np.array([r["lon"] for r in reps])
    window_choices = (*WINDOWS, WINDOWS_MORNING)
    window_p = np.array([w[2] for w in window_choices])
    window_p /= window_p.sum()
    n_located = n - len(ADDRESS_ONLY)
    customers = []
    for i in range(n):
        cid = f"K{i + 1:04d}"
        if i < n_located:
            town = towns[rng.choice(len(towns), p=weight)]
            sigma_km = min(0.6 + 0.35 * math.sqrt(town["population"] / 10_000), 4.0)
            north, east = rng.normal(0.0, sigma_km, size=2)
            lat, lon = _offset(town["lat"], town["lon"], north, east)
            city, postcode = town["name"], ""
        else:
            city, postcode = ADDRESS_ONLY[i - n_located]
            lat = lon = math.nan
        cls = classes[rng.choice(len(classes), p=shares)]
        potential = POTENTIAL_MEDIAN[cls] * math.exp(rng.normal(0.0, 0.45))
        row = {
            "id": cid,
            "name": business_name(rng, city),
            "street": f"{STREETS[rng.integers(len(STREETS))]} {int(rng.integers(1, 180))}",
            "postcode": postcode,
            "city": city,
            "lat": "" if math.isnan(lat) else f"{lat:.5f}",
            "lon": "" if math.isnan(lon) else f"{lon:.5f}",
            "class": cls,
            "potential": f"{round(potential, -2):.0f}",
            "open": "",
            "close": "",
            "days": "",
            "current_rep": "",
            "locked_rep": "",
        }
        if rng.random() < 0.20:
            w = window_choices[rng.choice(len(window_choices), p=window_p)]
            row["open"], row["close"] = w[0], w[1]
        if rng.random() < 0.10:
            row["days"] = ALLOWED_DAYS[rng.integers(len(ALLOWED_DAYS))]
        # The inherited split: nearest rep mostly, second nearest sometimes, anyone rarely.
        if math.isnan(lat):
            ref_lat, ref_lon = _town_centre(towns, city)
        else:
            ref_lat, ref_lon = lat, lon
        d = np.hypot(
            (rep_lat - ref_lat) * 111.2, (rep_lon - ref_lon) * 111.2 * math.cos(math.radians(52))
        )
        order = np.argsort(d, kind="stable")
        u = rng.random()
        k = order[0] if u < 0.85 else order[1] if u < 0.95 else rng.integers(len(reps))
        row["current_rep"] = reps[int(k)]["id"]
        customers.append(row)
    # Key accounts that must keep their rep: the first A customers of reps R2..R5.
    locked = 0
    for rep_id in ("R2", "R3", "R4", "R5"):
        for row in customers:
            if row["class"] == "A" and row["current_rep"] == rep_id and row["lat"]:
                row["locked_rep"] = rep_id
                locked += 1
                break
    return customers


def add_revenue(customers: list[dict], seed: int) -> list[dict]:
    """Each row with ``revenue`` right after ``potential``, from a random stream of its own."""
    rng = np.random.default_rng([seed, 2027])
    share = np.clip(rng.beta(*REVENUE_SHARE_BETA, size=len(customers)), *REVENUE_SHARE_RANGE)
    out = []
    for row, s in zip(customers, share, strict=True):
        new: dict = {}
        for key, value in row.items():
            new[key] = value
            if key == "potential":
                new["revenue"] = f"{round(float(value) * s, -2):.0f}"
        out.append(new)
    return out


def _town_centre(towns: list[dict], city: str) -> tuple[float, float]:
    best = max((t for t in towns if t["name"] == city), key=lambda t: t["population"])
    return best["lat"], best["lon"]


PLAN_TOML = """\
# plan.toml for the sample: every key is optional; the values shown are the ones used here.
# Units: minutes unless a key says otherwise. See the README for every key and its default.

[period]
weeks = 4                                   # the planning period: four weeks ("per vier weken")
days = ["mon", "tue", "wed", "thu", "fri"]  # working weekdays
start_date = "2027-01-04"                   # a Monday; schedule.csv gets real dates from it

[day]
start = "08:30"                             # leave home
end = "17:00"                               # back home
lunch_minutes = 30
admin_minutes = 30                          # office work per working day, counted in workload

[travel]
speed_kmh = 60                              # average door-to-door speed
circuity = 1.3                              # road km per straight-line km

# Customer classes (ABC policy): visits per period and minutes per visit.
# Calibrated so that `territory size ... --reps sample_data/reps.csv` recommends five reps at
# 90 % utilisation; the six sample reps (5.8 FTE) are then about 75 % busy.
[classes.A]
visits = 2                                  # every other week
visit_minutes = {a_min}

[classes.B]
visits = 1                                  # every four weeks
visit_minutes = {b_min}

[classes.C]
visits = 1                                  # every four weeks, a short call
visit_minutes = {c_min}
calls = 1                                   # served by phone (channel = "phone", or the
call_minutes = 10                           # phone-C scenario): one 10-minute call per period

[territory]
balance = ["workload"]                      # also possible: "potential", "customers"
tolerance = 0.05                            # allowed relative deviation from the mean workload
contiguous = true
seed = 0

[sizing]
target_utilization = 0.9                    # share of selling time a rep should be busy
default_class = "C"                         # class of rows whose class is empty
potential_per_rep = 4500000                 # EUR potential one rep can manage (potential method)

[planning]
rebalance_rounds = 6                        # re-balance territories on routed workload
routed_tolerance = 0.10                     # allowed deviation of routed workload

[economics]                                 # chapter 9: what territories earn and cost (EUR a year)
margin = 0.30                               # gross margin on sales
rep_cost_per_year = 85000                   # salary, car and expenses of one full-time rep
cost_per_km = 0.23                          # running cost of a driven km
phone_cost_per_hour = 45                    # fully loaded cost of an inside-sales hour
periods_per_year = 11.5                     # planning periods a year (46 working weeks / 4)

[phone]                                     # inside sales (6.6): an agent's selling time
utilisation = 0.8                           # share of an agent's hours spent calling
# agent_hours_per_period = 150              # default: working days x (day - lunch - admin)
"""

#: Minutes per visit per class, calibrated so ``territory size`` recommends about five reps.
CLASS_MINUTES = {"A": 50, "B": 40, "C": 25}


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    """Plain CSV: comma, UTF-8 without BOM, '\\n' line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--n", type=int, default=600, help="number of customers (default 600)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "sample_data", help="folder to write (sample_data/)"
    )
    args = parser.parse_args(argv)
    if args.n <= len(ADDRESS_ONLY):
        parser.error(f"--n must be above {len(ADDRESS_ONLY)}")
    rng = np.random.default_rng(args.seed)
    towns = read_towns()
    reps = make_reps(towns)
    customers = add_revenue(make_customers(towns, reps, args.n, rng), args.seed)
    write_csv(args.out / "customers.csv", customers, list(customers[0]))
    write_csv(args.out / "reps.csv", reps, ["id", "name", "city", "lat", "lon", "capacity"])
    (args.out / "plan.toml").write_text(
        PLAN_TOML.format(
            a_min=CLASS_MINUTES["A"], b_min=CLASS_MINUTES["B"], c_min=CLASS_MINUTES["C"]
        ),
        encoding="utf-8",
    )
    mix = {k: sum(c["class"] == k for c in customers) for k in CLASS_SHARES}
    print(f"wrote {args.out}/customers.csv ({len(customers)} customers, classes {mix})")
    print(f"wrote {args.out}/reps.csv ({len(reps)} reps) and {args.out}/plan.toml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
