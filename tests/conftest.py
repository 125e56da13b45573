"""Shared paths and builders for the tests, and the ``slow`` marker.

``pytest -m "not slow"`` is the fast loop: it leaves out the tests that open a real browser,
start a Dask cluster or run the whole command on the full sample. CI runs everything.
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
CUSTOMERS = SAMPLE / "customers.csv"
REPS = SAMPLE / "reps.csv"
CONFIG = SAMPLE / "plan.toml"
DATA = Path(__file__).resolve().parent / "data"
BENCHDATA = ROOT.parent / "shared" / "benchdata"


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV the tool wrote (UTF-8, one header row) as dicts."""
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def small_sample(folder: Path, n_customers: int = 60, n_reps: int = 2) -> tuple[Path, Path]:
    """The sample's first customers and reps, written into ``folder``: a whole run in seconds.

    Locks are cleared (a lock to a rep that is not kept would be an input error) and today's
    reps that are not kept become the first rep (``evaluate`` judges only kept reps).
    """
    paths = []
    kept: list[str] = []
    for name, keep in (("reps.csv", n_reps), ("customers.csv", n_customers)):
        with open(SAMPLE / name, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1 : keep + 1]
        if name == "reps.csv":
            kept = [row[header.index("id")] for row in body]
        if "locked_rep" in header:
            j = header.index("locked_rep")
            for row in body:
                row[j] = ""
        if "current_rep" in header:
            j = header.index("current_rep")
            for row in body:
                row[j] = row[j] if row[j] in kept else kept[0]
        path = folder / name
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([header, *body])
        paths.append(path)
    return paths[1], paths[0]
