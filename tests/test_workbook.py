"""plan.xlsx: one sheet per table, readable headers, frozen header, numbers as numbers."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from openpyxl import load_workbook
from test_maps import make_plan_folder

from territory.workbook import HEADERS, write_workbook


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_planned_folder_workbook(tmp_path: Path) -> None:
    folder = make_plan_folder(tmp_path / "p")
    # an id that looks like a number must keep its leading zeros
    rows = _csv(folder / "assignments.csv")
    rows[3]["customer_id"] = "0012"
    with (folder / "assignments.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    path = write_workbook(folder)
    wb = load_workbook(path)
    assert wb.sheetnames == ["territories", "assignments", "schedule", "days", "unscheduled"]
    for name in wb.sheetnames:
        ws = wb[name]
        columns = list(_csv(folder / f"{name}.csv")[0])
        assert [c.value for c in ws[1]] == [HEADERS["en"].get(c, c) for c in columns]
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
