"""Shared output of the benchmark scripts: an aligned text table and a CSV of the same rows."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path


def columns_of(rows: Sequence[dict]) -> list[str]:
    """Every key of the rows, in first-seen order."""
    cols: list[str] = []
    for row in rows:
        cols += [c for c in row if c not in cols]
    return cols


def print_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> None:
    """The rows as right-aligned columns under a header line."""
    if not rows:
        return
    cols = list(columns) if columns is not None else columns_of(rows)
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    print("  ".join(c.rjust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r.get(c, "")).rjust(widths[c]) for c in cols))


def write_csv(rows: Sequence[dict], path: str | Path, columns: Sequence[str] | None = None) -> None:
    """The rows as a UTF-8 CSV with a header (missing values left empty)."""
    cols = list(columns) if columns is not None else columns_of(rows)
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, restval="")
        writer.writeheader()
        writer.writerows(rows)
