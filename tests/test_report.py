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


# ---------------------------------------------------------------------------------------------
# report.html for people


def _rendered(tmp_path: Path, lang: str) -> tuple[Path, str]:
    from test_maps import make_plan_folder

    from territory.maps import render

    folder = make_plan_folder(tmp_path / lang, n_customers=48)
    render(folder, lang=lang)
    return folder, (folder / "report.html").read_text("utf-8")


def _text(page: str) -> str:
    """The page's visible text (tags and <code> ... </code> dropped, entities unescaped)."""
    import html

    page = re.sub(r"<style>.*?</style>|<code>.*?</code>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_report_figures_carry_units_in_the_languages_format(tmp_path: Path, lang: str) -> None:
    from territory.htmlutil import quantity
    from territory.reporthtml import PER_REP_COLUMNS, headline, load_plan_folder

    folder_path, page = _rendered(tmp_path, lang)
    folder = load_plan_folder(folder_path)
    fig = headline(folder)
    assert fig["travel_km"] > 1000  # the thousands separator is exercised
    km = quantity(fig["travel_km"], "km", lang)
    assert re.fullmatch(r"\d{1,3}[,.]\d{3}\u202fkm", km)
    assert (km[-7] == ",") == (lang == "en")  # 15,492 km in English, 15.492 km in Dutch
    assert km in page
    assert quantity(fig["workload_h"], "h", lang) in page
    # the per-rep table: one row per rep, every figure with its unit
    section = page[
        page.index('<section id="reps">') : page.index(
            "</section>", page.index('<section id="reps">')
        )
    ]
    rows = re.findall(r"<tr><td><span class=\"sw\".*?</tr>", section)
    assert len(rows) == len(folder.territories)
    for row, rep in zip(rows, folder.territories, strict=True):
        cells = re.findall(r'<td class="n">([^<]*)</td>', row)
        assert len(cells) == len(PER_REP_COLUMNS)
        for (col, unit), cell in zip(PER_REP_COLUMNS, cells, strict=True):
            decimals = 1 if col.value == "deviation" else None
            assert cell == quantity(rep[col], unit, lang, decimals), (col, cell)
            assert unit == "" or not re.fullmatch(r"[\d.,]+", cell)


def test_report_keeps_the_raw_summary_behind_a_fold(tmp_path: Path) -> None:
    _, page = _rendered(tmp_path, "en")
    fold = page.index('<details class="tech"')
    people, technical = page[:fold], page[fold:]
    for key in ("max_workload_deviation", "connected_share", "sha256", "summary.json</td>"):
        assert key not in people
    assert "max_workload_deviation" in technical and "Largest workload deviation" in technical
    assert "4.0\u202f%" in technical  # 0.04 as a percentage, not 0.04 or 4e-02
    # no Python or scientific notation anywhere on the page
    text = _text(page)
    assert not re.search(r"\d\.\d+e[+-]?\d|\{'|': |\[\]|None|True|False", text), text
    # no run time on the page: it is the one field that differs between identical runs
    assert "runtime" not in page


def test_report_in_dutch_has_no_english_label(tmp_path: Path) -> None:
    from territory.htmlutil import KPI_LABELS, LABELS

    _, page = _rendered(tmp_path, "nl")
    text = _text(page)
    english = {en for key, en in LABELS["en"].items() if en != LABELS["nl"][key]}
    english |= {en for en, nl, _unit in KPI_LABELS.values() if en != nl}
    english |= {c.en for c in Column if c.en != c.nl}
    # file names (unscheduled.csv) are names, not labels
    leaks = sorted(
        e
        for e in english
        if "{" not in e and len(e) > 3 and re.search(rf"\b{re.escape(e)}\b(?!\.csv)", text)
    )
    assert leaks == []
    assert "Technische details" in text and "Per vertegenwoordiger" in text


def test_report_takes_an_extra_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another stage adds its section by inserting a builder (shown only when it has data)."""
    from territory import reporthtml

    def economics(ctx: reporthtml.ReportContext) -> reporthtml.ReportSection | None:
        path = ctx.folder.path / "economics.csv"
        if not path.is_file():
            return None
        return reporthtml.ReportSection("economics", "Economics", "<p>cost per visit</p>")

    sections = list(reporthtml.REPORT_SECTIONS)
    monkeypatch.setattr(reporthtml, "REPORT_SECTIONS", (*sections[:-2], economics, *sections[-2:]))
    folder, page = _rendered(tmp_path, "en")
    assert 'id="economics"' not in page
    (folder / "economics.csv").write_text("rep_id,cost\n", "utf-8")
    reporthtml.write_report(reporthtml.load_plan_folder(folder), lang="en")
    page = (folder / "report.html").read_text("utf-8")
    assert page.index('id="plan"') < page.index('id="economics"') < page.index('id="files"')
