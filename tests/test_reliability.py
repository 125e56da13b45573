"""Issue 7, end to end through ``territory.cli.main``: bad input is one line and exit 2, nothing
is half-written, impossible visits are listed (not crashed on), two runs are byte-identical.

Every file that triggers a case lives in ``tests/data/messy`` beside ``customers_ok.csv`` /
``reps_ok.csv``, its valid neighbour, so a failing case shows exactly what the user would see.
"""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from territory import report
from territory.cli import EXIT_BAD_INPUT, EXIT_INTERNAL, main
from territory.load import load_customers
from territory.params import Config

ROOT = Path(__file__).resolve().parents[1]
MESSY = Path(__file__).parent / "data" / "messy"
OK = MESSY / "customers_ok.csv"
REPS_OK = MESSY / "reps_ok.csv"
PLAN_CUSTOMERS = MESSY / "plan_customers.csv"
REPS_TWO = MESSY / "reps_two.csv"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def error_lines(capsys) -> list[str]:
    """stderr of the last call, asserted free of tracebacks, as lines."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def unwritable_dir(tmp_path: Path) -> Path:
    """A folder the test process cannot write in (root ignores modes: use /proc/1 then)."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        return locked
    if Path("/proc/1").is_dir() and not os.access("/proc/1", os.W_OK):
        return Path("/proc/1")
    pytest.skip("no folder this (root) process cannot write in")


# --------------------------------------------------------------------------------------------
# 1. Every user error is one clear line, exit 2

# case -> (file in tests/data/messy, extra arguments, words the single error line must hold)
USER_ERRORS = {
    "missing required column": (
        "customers_no_id_column.csv",
        [],
        ["row 1", "no 'id' column", "['naam', 'lat', 'lon', 'class']", "klantnummer"],
    ),
    "coordinate out of range": (
        "customers_lat_out_of_range.csv",
        [],
        ["row 4", "column 'lat'", "'520.9074'", "out of range", "from -90 to 90"],
    ),
    "coordinates swapped": (
        "customers_swapped.csv",
        [],
        ["row 4", "'lat'/'lon'", "'5.12142'/'52.09074'", "swapped", "exchange the two values"],
    ),
    "duplicate id": (
        "customers_duplicate_id.csv",
        [],
        ["row 5", "column 'id'", "'K2'", "duplicate of row 3", "ids must be unique"],
    ),
    "class not in the config": (
        "customers_unknown_class.csv",
        [],
        ["row 5", "column 'class'", "'Z'", "not a known class", "use one of A, B, C"],
    ),
    "empty file": ("customers_empty.csv", [], ["the file is empty", "header row and data rows"]),
    "header without rows": ("customers_header_only.csv", [], ["header row but no data rows"]),
    "text where a number belongs": (
        "customers_text_in_number.csv",
        [],
        ["row 3", "column 'lat'", "'noord'", "is not a number", "WGS84 degrees such as 52.09"],
    ),
    "impossible time": (
        "customers_impossible_time.csv",
        [],
        ["row 5", "column 'open'", "'25:99'", "not a time of day", "HH:MM such as 08:30"],
    ),
    "binary garbage": (
        "customers_binary.csv",
        [],
        ["holds binary data", "export the sheet as CSV (UTF-8) or save it as .xlsx"],
    ),
    "reps file without reps": (
        "customers_ok.csv",
        ["--reps", str(MESSY / "reps_header_only.csv")],
        ["reps_header_only.csv", "header row but no data rows"],
    ),
    "malformed TOML": (
        "customers_ok.csv",
        ["--config", str(MESSY / "plan_malformed.toml")],
        ["plan_malformed.toml, line 4", "'start = 08:30'", "not valid TOML", '"08:30"'],
    ),
}


@pytest.mark.parametrize("case", sorted(USER_ERRORS))
def test_user_error_is_one_line_with_exit_2(case: str, capsys) -> None:
    name, extra, words = USER_ERRORS[case]
    path = MESSY / name
    before = digest(path)
    assert main(["size", str(path), *extra]) == EXIT_BAD_INPUT
    lines = error_lines(capsys)
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("territory: error: ")
    assert line.isprintable()
    if "customers" in name and not extra:
        assert str(path) in line
    for word in words:
        assert word in line, (word, line)
    assert digest(path) == before  # input files are never modified


def test_the_valid_neighbours_pass(capsys) -> None:
    assert main(["size", str(OK), "--reps", str(REPS_OK)]) == 0
    assert "recommendation" in capsys.readouterr().out


def test_out_is_an_existing_file_refused_before_reading_anything(tmp_path, capsys) -> None:
    target = tmp_path / "plan.csv"
    target.write_text("keep me\n", encoding="utf-8")
    # The customers file is bad too: the --out line must come first, before any work.
    bad = MESSY / "customers_header_only.csv"
    code = main(["plan", str(bad), "--reps", str(REPS_OK), "--out", str(target), "--no-maps"])
    assert code == EXIT_BAD_INPUT
    assert error_lines(capsys) == [
        f"territory: error: --out {target}: is an existing file, not a folder; give a folder "
        "path (it is created if needed)"
    ]
    assert target.read_text(encoding="utf-8") == "keep me\n"


def test_out_under_a_file_refused(tmp_path, capsys) -> None:
    target = tmp_path / "plan.csv"
    target.write_text("x", encoding="utf-8")
    code = main(["design", str(OK), "--k", "2", "--out", str(target / "run1"), "--no-maps"])
    assert code == EXIT_BAD_INPUT
    (line,) = error_lines(capsys)
    assert f"'{target}' is a file, so no folder can be created under it" in line


def test_out_not_writable_refused(tmp_path, capsys) -> None:
    locked = unwritable_dir(tmp_path)
    out = locked / "run1"
    code = main(["design", str(OK), "--k", "2", "--out", str(out), "--no-maps"])
    assert code == EXIT_BAD_INPUT
    (line,) = error_lines(capsys)
    assert f"--out {out}:" in line and "is not writable (permission denied)" in line
    assert not out.exists()


def test_unexpected_error_is_one_line_exit_3_and_debug_shows_the_traceback(
    tmp_path, capsys, monkeypatch
) -> None:
    from territory import pipeline

    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(pipeline, "size", broken)
    assert main(["size", str(OK)]) == EXIT_INTERNAL
    assert error_lines(capsys) == [
        "territory: error: internal error: ZeroDivisionError: float division by zero "
        "(run with --debug for details)"
    ]
    # --debug anywhere on the line: the traceback first, then the same one line.
    assert main(["size", str(OK), "--debug"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last)")
    assert "in broken" in err
    assert err.strip().splitlines()[-1] == (
        "territory: error: internal error: ZeroDivisionError: float division by zero"
    )


def test_debug_adds_a_traceback_to_user_errors_too(capsys) -> None:
    assert main(["--debug", "size", str(MESSY / "customers_duplicate_id.csv")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "InputError" in err
    assert err.strip().splitlines()[-1].endswith("ids must be unique")


@pytest.mark.slow
def test_no_traceback_from_the_real_command(tmp_path) -> None:
    """A subprocess, as a user runs it: the binary file and the bad TOML, no traceback."""
    for args in (
        ["size", str(MESSY / "customers_binary.csv")],
        ["size", str(OK), "--config", str(MESSY / "plan_malformed.toml")],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "territory", *args],
            check=False,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------------
# The messy real-world export a new user has


def test_dutch_excel_export_first_error_says_what_to_fix(capsys) -> None:
    """Title row, trailing empty rows/columns, totals row, 1.234,50, 'a ', NBSP, n.v.t., a
    repeated id: the tolerable things pass, each real problem is one line saying the fix."""
    path = MESSY / "customers_dutch_export.csv"
    assert main(["size", str(path)]) == EXIT_BAD_INPUT
    lines = error_lines(capsys)
    assert lines == [
        f"territory: error: {path}, row 6, column 'Bezoekduur': 'n.v.t.' is not accepted; use "
        "minutes per visit above 0 (at most 1440), or leave the cell empty for class C's 30 "
        "minutes",
        f"{path}, row 7, column 'Klantnummer': '1002' is a duplicate of row 5; ids must be unique",
        f"{path}, row 9, column 'Klantnummer': 'Totaal' looks like a totals row of a "
        "spreadsheet export, not a data row; delete that row",
    ]


def test_dutch_excel_export_once_fixed_loads_as_meant() -> None:
    """The same export with those three rows fixed: title row, trailing empties, spaces, NBSP,
    lower-case classes and thousands separators are simply accepted."""
    customers = load_customers(MESSY / "customers_dutch_export_fixed.csv", Config())
    assert [c.id for c in customers] == ["1001", "1002", "1003", "1004", "1005"]
    first = customers[0]
    # Spaces and non-breaking spaces around values go; inside a name they are kept as written.
    assert (first.name, first.city, first.customer_class) == (
        "Bakkerij\u00a0de Vries",
        "Amsterdam",
        "A",
    )
    assert [c.potential for c in customers] == [1234.5, 12500.0, 800.0, 3000.0, 22000.0]
    assert [c.visit_minutes for c in customers] == [45.0, 45.0, 30.0, 30.0, 60.0]
    assert customers[0].row == 4  # rows as Excel numbers them: the title row counts


# --------------------------------------------------------------------------------------------
# 2. Nothing half-written


def test_failed_run_into_a_new_folder_leaves_nothing(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "new" / "run1"
    bad = MESSY / "customers_duplicate_id.csv"
    assert main(["design", str(bad), "--k", "2", "--out", str(out), "--no-maps"]) == 2
    assert "duplicate of row 3" in error_lines(capsys)[0]
    assert list(tmp_path.iterdir()) == []

    import territory.maps

    def broken(*a, **k):  # a bug in the last stage, after every table was staged
        raise KeyError("rep")

    monkeypatch.setattr(territory.maps, "render", broken)
    assert main(["-q", "design", str(OK), "--k", "2", "--out", str(out)]) == EXIT_INTERNAL
    assert error_lines(capsys) == [
        "territory: error: internal error: KeyError: 'rep' (run with --debug for details)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_keeps_the_earlier_folder_intact(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    args = ["-q", "plan", str(PLAN_CUSTOMERS), "--reps", str(REPS_TWO), "--out", str(out)]
    assert main([*args, "--no-maps"]) == 0
    before = folder_digest(out)
    assert "schedule.csv" in before

    def broken(*a, **k):  # fails after the tables are staged, as a full disk would
        raise OSError(28, "No space left on device", str(out / "map.html"))

    import territory.maps

    monkeypatch.setattr(territory.maps, "render", broken)
    assert main(args) == EXIT_BAD_INPUT
    assert error_lines(capsys)[-1] == (
        f"territory: error: {out / 'map.html'}: No space left on device"
    )
    assert folder_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left


def test_map_rerender_that_fails_leaves_the_folder_as_it_was(tmp_path, capsys, monkeypatch):
    """`territory map DIR` renders in a staging copy: a failure halfway changes nothing."""
    out = tmp_path / "run"
    args = ["-q", "plan", str(PLAN_CUSTOMERS), "--reps", str(REPS_TWO), "--out", str(out)]
    assert main(args) == 0
    (out / "notes.txt").write_text("the manager's own file\n", encoding="utf-8")
    before = folder_digest(out)
    assert {"map.html", "report.html", "plan.xlsx", "reps/R1.html"} <= set(before)

    def full_disk(*a, **k):  # the maps are written, then the workbook fails
        raise OSError(28, "No space left on device", "plan.xlsx")

    monkeypatch.setattr("territory.maps.write_workbook", full_disk)
    assert main(["map", str(out), "--lang", "nl"]) == EXIT_BAD_INPUT
    assert error_lines(capsys)[-1] == "territory: error: plan.xlsx: No space left on device"
    assert folder_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left
    monkeypatch.undo()
    assert main(["-q", "map", str(out), "--lang", "nl"]) == 0
    after = folder_digest(out)
    assert after["map.html"] != before["map.html"]  # Dutch labels now
    assert {k: v for k, v in after.items() if not k.endswith((".html", ".xlsx"))} == {
        k: v for k, v in before.items() if not k.endswith((".html", ".xlsx"))
    }  # tables and the manager's own file untouched


def test_a_killed_runs_staging_folder_is_cleared_by_the_next_run(tmp_path) -> None:
    out = tmp_path / "run"
    stale = tmp_path / ".territory-run-abc123"  # left by a run killed a day ago
    stale.mkdir()
    (stale / "schedule.csv").write_text("half", encoding="utf-8")
    fresh = tmp_path / ".territory-run-def456"  # a run writing right now: not touched
    fresh.mkdir()
    other = tmp_path / ".territory-other-abc123"  # another output folder's: not touched
    other.mkdir()
    day_ago = time.time() - report.STALE_STAGE_S - 60
    os.utime(stale, (day_ago, day_ago))
    os.utime(other, (day_ago, day_ago))
    with report.atomic_output(out) as stage:
        (stage / "assignments.csv").write_text("whole\n", encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".territory-other-abc123",
        ".territory-run-def456",
        "run",
    ]


def test_failure_inside_atomic_output_for_a_new_folder(tmp_path) -> None:
    out = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError), report.atomic_output(out) as stage:
        (stage / "assignments.csv").write_text("half", encoding="utf-8")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
    with report.atomic_output(out) as stage:
        (stage / "assignments.csv").write_text("whole\n", encoding="utf-8")
    assert (out / "assignments.csv").read_text(encoding="utf-8") == "whole\n"
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask  # as mkdir makes it, not mkdtemp's 0700


# --------------------------------------------------------------------------------------------
# 3. Impossible is not a crash


def test_impossible_visits_are_unscheduled_with_reasons(tmp_path, capsys) -> None:
    """A 600-minute visit, a 20-minute window for a 60-minute visit, a customer in Madrid."""
    out = tmp_path / "run"
    path = MESSY / "impossible_customers.csv"
    code = main(["-q", "plan", str(path), "--reps", str(REPS_TWO), "--out", str(out), "--no-maps"])
    assert code == 0
    err = error_lines(capsys)
    assert err == [
        f"territory: warning: {path}, row 19, column 'close': '10:20' leaves 20 minutes open "
        "(10:00-10:20), shorter than the 60-minute visit; plan lists its visits in "
        "unscheduled.csv (widen the opening hours or shorten the visit)"
    ]
    lost: dict[str, list[str]] = {}
    for row in read_csv(out / "unscheduled.csv"):
        lost.setdefault(row["customer_id"], []).append(row["reason"])
    assert set(lost) == {"LONG1", "WIN1", "SPAIN1"}
    assert lost["LONG1"] == [
        "the 600-minute visit is longer than the 450 minutes of a working day of rep R1"
    ]
    assert lost["WIN1"] == ["window 10:00-10:20 shorter than the 60-minute visit"] * 4
    (spain,) = lost["SPAIN1"]
    assert spain.startswith("a round trip from the home of rep R")
    assert spain.endswith("plus the 30-minute visit does not fit the 450 minutes of a working day")
    planned = {row["customer_id"] for row in read_csv(out / "schedule.csv")}
    assert planned.isdisjoint(lost) and len(planned) == 16


def test_rep_without_working_days_gets_no_customers_but_their_locked_ones(tmp_path, capsys):
    out = tmp_path / "run"
    reps = MESSY / "reps_no_days.csv"
    customers = MESSY / "plan_customers_locked.csv"  # K0015 is locked to R2
    code = main(["-q", "plan", str(customers), "--reps", str(reps), "--out", str(out),
                 "--no-maps"])  # fmt: skip
    assert code == 0
    assert error_lines(capsys) == [
        f"territory: warning: {reps}, row 3, column 'days': 'za zo' has no working day in the "
        "period (mon,tue,wed,thu,fri); rep 'R2' gets no customers (accounts locked to them go "
        "to unscheduled.csv in plan)"
    ]
    assignments = read_csv(out / "assignments.csv")
    assert {row["customer_id"] for row in assignments if row["rep_id"] == "R2"} == {"K0015"}
    lost = read_csv(out / "unscheduled.csv")
    assert [row["reason"] for row in lost if row["rep_id"] == "R2"] == [
        "rep R2 has no working day in the period (days sat,sun; the period works "
        "mon,tue,wed,thu,fri)"
    ]  # K0015's one visit; R1 alone now covers the south, some of it out of a day's reach
    assert {row["customer_id"] for row in lost if row["rep_id"] == "R2"} == {"K0015"}
    assert all("does not fit" in row["reason"] for row in lost if row["rep_id"] == "R1")
    assert all(row["rep_id"] == "R1" for row in read_csv(out / "days.csv"))
    territories = {row["rep_id"]: row for row in read_csv(out / "territories.csv")}
    assert float(territories["R2"]["capacity_hours"]) == 0.0


# --------------------------------------------------------------------------------------------
# 5. Determinism


def test_same_plan_twice_is_byte_identical(tmp_path) -> None:
    """With maps, workbook and report: every file, byte for byte, runtime excepted."""
    inputs = {p: digest(p) for p in (PLAN_CUSTOMERS, REPS_TWO)}
    folders = []
    for name in ("a", "b"):
        out = tmp_path / name
        args = ["-q", "plan", str(PLAN_CUSTOMERS), "--reps", str(REPS_TWO), "--out", str(out)]
        assert main(args) == 0
        folders.append(out)
    a, b = (sorted(p.relative_to(f) for p in f.rglob("*") if p.is_file()) for f in folders)
    assert a == b and {"plan.xlsx", "report.html", "map.html", "summary.json"} <= {
        str(p) for p in a
    }
    for rel in a:
        x = (folders[0] / rel).read_bytes()
        y = (folders[1] / rel).read_bytes()
        assert report.comparable(str(rel), x) == report.comparable(str(rel), y), rel
    assert {p: digest(p) for p in inputs} == inputs  # input files are only read


def test_title_row_without_delimiters_does_not_choose_the_delimiter(tmp_path, capsys) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "Klantenoverzicht regio Midden\n\nid;naam;lat;lon;klasse\nK1;Bakker;52,1;5,1;A\n"
        "K2;Slager;52,2;5,2;b\nK2;Visser;52,3;5,3;C\n",
        encoding="utf-8",
    )
    assert main(["size", str(path)]) == EXIT_BAD_INPUT
    assert error_lines(capsys) == [
        f"territory: error: {path}, row 6, column 'id': 'K2' is a duplicate of row 5; ids must "
        "be unique"
    ]


def test_header_problems_name_the_header_row_below_a_title(tmp_path, capsys) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Export 2026\nnaam,lat,lon\nBakker,52.1,5.1\n", encoding="utf-8")
    assert main(["size", str(path)]) == EXIT_BAD_INPUT
    (line,) = error_lines(capsys)
    assert f"{path}, row 2: no 'id' column in the header ['naam', 'lat', 'lon']" in line


def test_an_unknown_delimiter_is_named(tmp_path, capsys) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id|naam|lat|lon\nK1|Bakker|52.1|5.1\n", encoding="utf-8")
    assert main(["size", str(path)]) == EXIT_BAD_INPUT
    (line,) = error_lines(capsys)
    assert f"{path}, row 1: no 'id' column in the header ['id|naam|lat|lon']" in line
    assert line.endswith("separate the columns with a comma, semicolon or tab")


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["plan", str(OK)])
    assert info.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        "territory plan: error: the following arguments are required: --reps, --out"
    )


def test_out_may_be_a_symlink_to_a_folder(tmp_path, capsys) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert main(["-q", "design", str(OK), "--k", "2", "--out", str(link), "--no-maps"]) == 0
    assert link.is_symlink() and (real / "assignments.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_a_period_plan_cannot_hold_is_refused_before_the_design(tmp_path, capsys) -> None:
    config = MESSY / "plan_13_weeks.toml"
    out = tmp_path / "run"
    args = ["-q", "plan", str(PLAN_CUSTOMERS), "--reps", str(REPS_TWO), "--config", str(config),
            "--out", str(out), "--no-maps"]  # fmt: skip
    assert main(args) == EXIT_BAD_INPUT
    assert error_lines(capsys) == [
        f"territory: error: {config}: [period] weeks = 13 of 5 days gives 65 working days; plan "
        "handles at most 63 (weeks = 12 or fewer); size and design take longer periods"
    ]
    assert not out.exists()
    assert main(["-q", "size", str(PLAN_CUSTOMERS), "--config", str(config)]) == 0


def test_an_existing_out_in_a_read_only_parent_is_staged_inside_itself(tmp_path, monkeypatch):
    """Only ``out`` is writable: the staging folder goes inside it, and the run still lands."""
    out = tmp_path / "home"
    out.mkdir()
    real_access = os.access

    def access(path, mode, **kw):
        return False if Path(path) == tmp_path else real_access(path, mode, **kw)

    monkeypatch.setattr(os, "access", access)
    assert report.staging_base(out) == out
    assert report.staging_base(tmp_path / "new") == tmp_path  # then check_output_dir refuses
    with report.atomic_output(out) as stage:
        assert stage.parent == out
        (stage / "summary.json").write_text("{}\n", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    monkeypatch.undo()
    assert report.staging_base(out) == tmp_path
