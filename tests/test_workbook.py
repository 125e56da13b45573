"""plan.xlsx: one sheet per table, readable headers, frozen header, numbers as numbers, text as text."""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from test_maps import make_plan_folder

from territory.columns import column
from territory.workbook import write_workbook

#: Texts a spreadsheet would run or misread if they were stored as anything but text.
FORMULA_LIKE = (
    '=HYPERLINK("http://example.com/x","click")',
    "=1+1",
    "+31 20 123 4567",
    "-5",
    "-dash first",
    "@SUM(A1:A2)",
    "#N/A",
    "=",
)


def _header(name: str, lang: str = "en") -> str:
    col = column(name)
    return col.header(lang) if col is not None else name


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _rewrite(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_planned_folder_workbook(tmp_path: Path) -> None:
    folder = make_plan_folder(tmp_path / "p")
    # an id that looks like a number must keep its leading zeros
    rows = _csv(folder / "assignments.csv")
    rows[3]["customer_id"] = "0012"
    _rewrite(folder / "assignments.csv", rows)
    path = write_workbook(folder)
    wb = load_workbook(path)
    assert wb.sheetnames == ["territories", "assignments", "schedule", "days", "unscheduled"]
    for name in wb.sheetnames:
        ws = wb[name]
        columns = list(_csv(folder / f"{name}.csv")[0])
        assert [c.value for c in ws[1]] == [_header(c) for c in columns]
        assert ws.freeze_panes == "A2"
        assert ws.max_row == len(_csv(folder / f"{name}.csv")) + 1
        assert all(
            ws.column_dimensions[chr(65 + i)].width >= 8 for i in range(min(len(columns), 26))
        )
    terr = wb["territories"]
    header = [c.value for c in terr[1]]
    work = terr.cell(row=2, column=header.index("Workload hours") + 1)
    assert isinstance(work.value, float)
    assert work.value == float(_csv(folder / "territories.csv")[0]["workload_hours"])
    assert isinstance(terr.cell(row=2, column=header.index("Customers") + 1).value, int)
    assert terr.cell(row=2, column=header.index("Connected") + 1).value is True
    util = terr.cell(row=2, column=header.index("Utilisation") + 1)
    assert util.number_format == "0.0%"
    ids = [r[0].value for r in wb["assignments"].iter_rows(min_row=2)]
    assert "0012" in ids
    sched = wb["schedule"]
    sh = [c.value for c in sched[1]]
    assert isinstance(sched.cell(row=2, column=sh.index("Date") + 1).value, dt.datetime)
    assert sched.cell(row=2, column=sh.index("Arrival") + 1).value.count(":") == 1


def test_design_only_and_dutch(tmp_path: Path) -> None:
    folder = make_plan_folder(tmp_path / "d", planned=False)
    wb = load_workbook(write_workbook(folder, lang="nl"))
    assert wb.sheetnames == ["territories", "assignments"]
    assert wb["territories"]["A1"].value == "Vertegenwoordiger"
    assert "Bewerkingstijd (uur)" in [c.value for c in wb["territories"][1]]


def test_workbook_is_reproducible(tmp_path: Path) -> None:
    folder = make_plan_folder(tmp_path / "r")
    first = write_workbook(folder).read_bytes()
    assert write_workbook(folder).read_bytes() == first


def test_formula_like_text_is_stored_as_text(tmp_path: Path) -> None:
    """Names and ids that start with = + - @ (or read as an error code) stay exactly that text."""
    folder = make_plan_folder(tmp_path / "f", hostile=False)
    customers = _csv(folder / "assignments.csv")
    for row, text in zip(customers, FORMULA_LIKE, strict=False):
        row["name"] = text
    customers[-1]["customer_id"] = "=2*3"
    _rewrite(folder / "assignments.csv", customers)
    territories = _csv(folder / "territories.csv")
    territories[0]["rep_name"] = FORMULA_LIKE[0]
    territories[0]["deviation"] = "-0.05"  # a negative number in a number column stays a number
    _rewrite(folder / "territories.csv", territories)
    schedule = _csv(folder / "schedule.csv")
    schedule[0]["customer_name"] = "@home"
    _rewrite(folder / "schedule.csv", schedule)

    path = write_workbook(folder)
    wb = load_workbook(path)
    names = wb["assignments"]
    header = [c.value for c in names[1]]
    name_col = header.index(_header("name")) + 1
    for i, text in enumerate(FORMULA_LIKE):
        cell = names.cell(row=i + 2, column=name_col)
        assert (cell.data_type, cell.value) == ("s", text)
    last = names.cell(row=len(customers) + 1, column=header.index(_header("customer_id")) + 1)
    assert (last.data_type, last.value) == ("s", "=2*3")
    terr = wb["territories"]
    th = [c.value for c in terr[1]]
    rep_name = terr.cell(row=2, column=th.index(_header("rep_name")) + 1)
    assert (rep_name.data_type, rep_name.value) == ("s", FORMULA_LIKE[0])
    deviation = terr.cell(row=2, column=th.index(_header("deviation")) + 1)
    assert (deviation.data_type, deviation.value) == ("n", -0.05)
    sched = wb["schedule"]
    sh = [c.value for c in sched[1]]
    assert sched.cell(row=2, column=sh.index(_header("customer_name")) + 1).value == "@home"
    # No formula anywhere in the file: no <f> element in any sheet's XML.
    with zipfile.ZipFile(path) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/")]
        assert len(sheets) == 5
        for name in sheets:
            assert not re.search(r"<(\w+:)?f[ >/]", zf.read(name).decode("utf-8")), name
