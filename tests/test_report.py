"""The plan folder as the writers leave it: the schema's columns, values as written, RFC 7946 rings."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from test_geometry import assert_rfc7946_rings

from territory import columns
from territory.cli import main
from territory.columns import Column, Kind
from territory.report import csv_text, write_text

#: Customer names a spreadsheet would treat as formulas (or error codes) if they were not text.
FORMULA_NAMES = (
    '=HYPERLINK("http://example.com/x","click")',
    "+31 20 123",
    "-5",
    "@SUM(A1)",
    "#N/A",
)


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def ring_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A planned folder (maps and workbook too) whose rep R1 serves a ring around R2's core.

    Locked reps make R1's territory an annulus, so territories.geojson holds a polygon with a
    hole; a few ring customers have names that start with = + - @ or read as an error code.
    """
    base = tmp_path_factory.mktemp("ring")
    rows = []
    for i in range(24):
        a = 2 * math.pi * i / 24
        name = FORMULA_NAMES[i] if i < len(FORMULA_NAMES) else f"Outer {i}"
        rows.append(
            {"id": f"O{i:02d}", "name": name, "lat": round(52.0 + 0.12 * math.sin(a), 6),
             "lon": round(5.0 + 0.2 * math.cos(a), 6), "visits": 1, "visit_minutes": 30,
             "locked_rep": "R1"}
        )  # fmt: skip
    for i in range(6):
        a = 2 * math.pi * i / 6
        rows.append(
            {"id": f"I{i}", "name": f"Inner {i}", "lat": round(52.0 + 0.01 * math.sin(a), 6),
             "lon": round(5.0 + 0.016 * math.cos(a), 6), "visits": 4, "visit_minutes": 30,
             "locked_rep": "R2"}
        )  # fmt: skip
    customers = base / "customers.csv"
    with customers.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    reps = base / "reps.csv"
    reps.write_text("id,name,lat,lon\nR1,Ring rep,52.12,5.0\nR2,Core rep,52.0,5.0\n", "utf-8")
    out = base / "plan"
    assert main(["-q", "plan", str(customers), "--reps", str(reps), "--out", str(out)]) == 0
    return out


def test_territories_geojson_rings_follow_rfc7946(ring_plan: Path) -> None:
    features = json.loads((ring_plan / "territories.geojson").read_text("utf-8"))["features"]
    holes = {f["properties"]["rep_id"]: assert_rfc7946_rings(f["geometry"]) for f in features}
    assert holes == {"R1": 1, "R2": 0}


def _parses_as(kind: Kind, text: str) -> bool:
    if kind is Kind.INT:
        return re.fullmatch(r"-?\d+", text) is not None
    if kind is Kind.FLOAT:
        return math.isfinite(float(text))
    if kind is Kind.BOOL:
        return text in ("true", "false")
    if kind is Kind.TIME:
        return re.fullmatch(r"\d\d:\d\d", text) is not None
    if kind is Kind.DATE:
        return re.fullmatch(r"\d{4}-\d\d-\d\d|w\d+-[a-z]{3}", text) is not None
    return True


def test_tables_hold_the_schema_columns_and_kinds(ring_plan: Path) -> None:
    for table in columns.TABLES:
        header, rows = _read_csv(ring_plan / table.file)
        assert header == [c.value for c in table.columns]
        for row in rows:
            for c in table.columns:
                text = row[c]
                assert text == "" or _parses_as(c.kind, text), (table.file, c, text)
    routes = json.loads((ring_plan / "routes.geojson").read_text("utf-8"))["features"]
    assert routes
    assert all(list(f["properties"]) == list(columns.ROUTE_PROPERTIES) for f in routes)
    territories = json.loads((ring_plan / "territories.geojson").read_text("utf-8"))["features"]
    assert all(list(f["properties"]) == list(columns.TERRITORY_PROPERTIES) for f in territories)


def test_formula_like_names_are_values_in_csv_and_text_in_the_workbook(ring_plan: Path) -> None:
    """CSV is plain data (the exact text, so ids round-trip); plan.xlsx stores text as text."""
    _, assignments = _read_csv(ring_plan / "assignments.csv")
    names = {r[Column.CUSTOMER_ID]: r[Column.NAME] for r in assignments}
    assert [names[f"O{i:02d}"] for i in range(len(FORMULA_NAMES))] == list(FORMULA_NAMES)
    _, schedule = _read_csv(ring_plan / "schedule.csv")
    assert set(FORMULA_NAMES) <= {r[Column.CUSTOMER_NAME] for r in schedule}
    wb = load_workbook(ring_plan / "plan.xlsx")
    for sheet, col in (("assignments", Column.NAME), ("schedule", Column.CUSTOMER_NAME)):
        ws = wb[sheet]
        at = [c.value for c in ws[1]].index(col.header("en"))
        cells = [row[at] for row in ws.iter_rows(min_row=2)]
        formula_like = [c for c in cells if c.value in FORMULA_NAMES]
        assert {c.value for c in formula_like} == set(FORMULA_NAMES)
        assert {c.data_type for c in formula_like} == {"s"}


def test_csv_text_quotes_and_keeps_text_and_refuses_a_missing_column() -> None:
    cols = (Column.CUSTOMER_ID, Column.NAME, Column.VISITS)
    rows = [{Column.CUSTOMER_ID: "=1+1", Column.NAME: 'A, "B"\nC', Column.VISITS: 2.0}]
    text = csv_text(cols, rows)
    back = list(csv.DictReader(text.splitlines(keepends=True)))
    assert back == [{"customer_id": "=1+1", "name": 'A, "B"\nC', "visits": "2"}]
    with pytest.raises(KeyError):
        csv_text(cols, [{Column.CUSTOMER_ID: "C1", Column.NAME: "x"}])


def test_write_text_replaces_atomically_and_keeps_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "page.html"
    write_text(path, "one\r\ntwo\n")
    write_text(path, "three\nfour\n")
    assert path.read_bytes() == b"three\nfour\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["page.html"]


def test_pages_say_unscheduled(ring_plan: Path) -> None:
    """One word for a visit the plan could not place: 'unscheduled', on every page."""
    report = (ring_plan / "report.html").read_text("utf-8")
    assert "Unscheduled visits" in report
    for page in [ring_plan / "report.html", ring_plan / "map.html", *ring_plan.glob("reps/*")]:
        text = page.read_text("utf-8").lower()
        assert not re.search(r"unplaced|unplanned|not planned|could not be planned", text), page
