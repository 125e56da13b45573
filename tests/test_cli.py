"""The command line end to end on the sample data: what a user runs and reads."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from territory.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
CUSTOMERS = SAMPLE / "customers.csv"
REPS = SAMPLE / "reps.csv"
CONFIG = SAMPLE / "plan.toml"


def sample_args(command: str, out: Path, *extra: str) -> list[str]:
    """A quiet design/plan run on the sample into ``out``, tables only."""
    return ["-q", command, str(CUSTOMERS), "--reps", str(REPS), "--config", str(CONFIG),
            "--out", str(out), "--no-maps", *extra]  # fmt: skip


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_size_prints_table_and_recommendation(capsys):
    assert main(["size", str(CUSTOMERS), "--reps", str(REPS), "--config", str(CONFIG)]) == 0
    out = capsys.readouterr().out
    assert "bewerkingstaak" in out and "recommendation:" in out
    for cls in ("A", "B", "C"):
        assert any(line.startswith(cls + " ") for line in out.splitlines())


def test_size_json_carries_the_same_numbers(capsys):
    args = ["size", str(CUSTOMERS), "--reps", str(REPS), "--config", str(CONFIG)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert f"recommendation: {data['reps_recommended']} reps" in text
    assert f"{data['totals']['hours']:.1f}" in text
    for row in data["classes"]:
        assert f"{row['visit_hours']:.1f}" in text


def test_dutch_excel_file_gives_exactly_the_plain_result(tmp_path, capsys):
    """Semicolons, decimal commas and a BOM, as Dutch Excel saves: the same sizing JSON."""
    with open(CUSTOMERS, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    dutch = tmp_path / "klanten.csv"
    with open(dutch, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";")
        for r in rows:
            w.writerow([cell.replace(".", ",") if _is_decimal(cell) else cell for cell in r])
    base = ["--reps", str(REPS), "--config", str(CONFIG), "--json"]
    assert main(["size", str(CUSTOMERS), *base]) == 0
    plain = capsys.readouterr().out
    assert main(["size", str(dutch), *base]) == 0
    assert capsys.readouterr().out == plain


def _is_decimal(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return "." in cell


def test_bad_input_gives_one_line_exit_2_and_no_outputs(tmp_path, capsys):
    lines = CUSTOMERS.read_text(encoding="utf-8").splitlines()
    header = next(csv.reader([lines[0]]))
    lat = header.index("lat")
    row = next(csv.reader([lines[5]]))
    row[lat] = "91.5"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\n".join([lines[0], *lines[1:5], ",".join(row), *lines[6:]]) + "\n", encoding="utf-8"
    )
    before = digest(bad)
    out = tmp_path / "out"
    code = main(
        ["design", str(bad), "--reps", str(REPS), "--config", str(CONFIG), "--out", str(out)]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "row 6" in err[0] and "lat" in err[0] and "91.5" in err[0]
    assert "Traceback" not in err[0]
    assert not out.exists() or not any(out.iterdir())
    assert digest(bad) == before


@pytest.mark.slow
def test_cli_module_runs_without_traceback_on_missing_file(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "territory", "size", str(tmp_path / "none.csv")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def design_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("design")
    assert main(sample_args("design", out)) == 0
    return out


def test_design_files_meet_the_criteria(design_dir):
    """Recomputed from the written files: balance, connectivity, locks, one rep per customer."""
    assign = read_csv(design_dir / "assignments.csv")
    terr = read_csv(design_dir / "territories.csv")
    customers = read_csv(CUSTOMERS)
    assert [a["customer_id"] for a in assign] == [c["id"] for c in customers]
    reps = {r["id"] for r in read_csv(REPS)}
    assert {a["rep_id"] for a in assign} <= reps and {t["rep_id"] for t in terr} == reps
    for a, c in zip(assign, customers, strict=True):
        if c.get("locked_rep"):
            assert a["rep_id"] == c["locked_rep"]
        assert a["changed"] == (
            "true" if c.get("current_rep") and c["current_rep"] != a["rep_id"] else "false"
        )
    # Workload per territory recomputed from assignments.csv against the capacity-proportional target.
    load = {r: 0.0 for r in reps}
    for a in assign:
        load[a["rep_id"]] += float(a["workload_min"])
    cap = {t["rep_id"]: float(t["capacity_hours"]) for t in terr}
    total, cap_total = sum(load.values()), sum(cap.values())
    for r in reps:
        target = total * cap[r] / cap_total
        assert abs(load[r] / target - 1) <= 0.05 + 1e-6, (r, load[r], target)
    assert all(t["connected"] == "true" for t in terr)
    summary = json.loads((design_dir / "summary.json").read_text())
    assert summary["kpis"]["connected_share"] == 1.0
    assert set(summary["inputs"]) == {"customers", "reps", "config"}


def test_same_inputs_same_outputs(design_dir, tmp_path):
    again = tmp_path / "again"
    assert main(sample_args("design", again)) == 0
    for name in ("assignments.csv", "territories.csv", "territories.geojson"):
        assert digest(design_dir / name) == digest(again / name), name
    a = json.loads((design_dir / "summary.json").read_text())
    b = json.loads((again / "summary.json").read_text())
    a.pop("runtime_s"), b.pop("runtime_s")
    assert a == b


def test_design_with_free_centres(tmp_path, capsys):
    out = tmp_path / "k"
    args = ["-q", "design", str(CUSTOMERS), "--k", "5", "--config", str(CONFIG), "--out", str(out)]
    assert main([*args, "--no-maps"]) == 0
    printed = capsys.readouterr().out
    terr = read_csv(out / "territories.csv")
    assert [t["rep_id"] for t in terr] == ["T1", "T2", "T3", "T4", "T5"]
    for t in terr:
        # Each centre is reported where it falls, named after the nearest town.
        assert t["rep_name"].startswith("centre near ")
        assert f"{t['rep_id']}: {float(t['home_lat']):.4f}" in printed and t["rep_name"] in printed


def test_evaluate_reports_todays_split(capsys):
    args = ["evaluate", str(CUSTOMERS), "--reps", str(REPS), "--config", str(CONFIG)]
    assert main([*args, "--json"]) == 0
    kpis = json.loads(capsys.readouterr().out)
    assert "max_workload_deviation" in kpis and "connected_share" in kpis
    assert kpis["rep_ids"] == [r["id"] for r in read_csv(REPS)]
    # Today's split as the file states it: customers per rep recounted from current_rep.
    current = [c["current_rep"] for c in read_csv(CUSTOMERS)]
    assert kpis["customers"] == [current.count(r) for r in kpis["rep_ids"]]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "current_rep" in text and "pieces" in text
    for rep_id, n in zip(kpis["rep_ids"], kpis["customers"], strict=True):
        assert any(line.split()[:2] == [rep_id, str(n)] for line in text.splitlines())


def test_input_files_never_modified(tmp_path):
    before = {p: digest(p) for p in (CUSTOMERS, REPS, CONFIG)}
    copy = tmp_path / "c.csv"
    shutil.copy(CUSTOMERS, copy)
    assert main(["-q", "size", str(copy), "--reps", str(REPS), "--config", str(CONFIG)]) == 0
    assert {p: digest(p) for p in (CUSTOMERS, REPS, CONFIG)} == before


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    assert main(sample_args("plan", out, "--jobs", "2")) == 0
    return out


def hhmm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


@pytest.mark.slow
def test_plan_on_the_sample_keeps_every_rule(plan_dir):
    """Issue 4's acceptance on the sample, recomputed from the written files."""
    from territory.params import Config, parse_weekdays
    from territory.travel import road_km

    cfg = Config.from_toml(CONFIG)
    customers = {c["id"]: c for c in read_csv(CUSTOMERS)}
    classes = cfg.classes
    reps = {r["id"]: r for r in read_csv(REPS)}
    assert read_csv(plan_dir / "unscheduled.csv") == []
    days = read_csv(plan_dir / "days.csv")
    sched = read_csv(plan_dir / "schedule.csv")
    by_day: dict[tuple[str, str], list[dict[str, str]]] = {}
    for v in sched:
        by_day.setdefault((v["rep_id"], v["date"]), []).append(v)
    for d in days:
        # The working day: out at or after start, back by end, lunch inside its window.
        assert hhmm(d["depart"]) >= cfg.day.start_min and hhmm(d["return"]) <= cfg.day.end_min
        assert d["overtime_min"] == "0"
        lunch = hhmm(d["lunch_start"])
        assert cfg.day.lunch_from_min <= lunch <= cfg.day.lunch_until_min - cfg.day.lunch_minutes
        visits = sorted(by_day[(d["rep_id"], d["date"])], key=lambda v: int(v["seq"]))
        assert int(d["visits"]) == len(visits)
        home = reps[d["rep_id"]]
        prev = (float(home["lat"]), float(home["lon"]))
        legs = 0.0
        for v in visits:
            here = (float(v["lat"]), float(v["lon"]))
            leg = float(road_km(*prev, *here, cfg.travel))
            assert float(v["travel_km"]) == pytest.approx(leg, abs=0.06)  # honest legs
            legs += leg
            prev = here
        legs += float(road_km(*prev, float(home["lat"]), float(home["lon"]), cfg.travel))
        assert float(d["travel_km"]) == pytest.approx(legs, abs=0.1 * (len(visits) + 1))
    # Opening hours, allowed days and frequencies with even spacing.
    seen: dict[str, list[dict[str, str]]] = {}
    for v in sched:
        c = customers[v["customer_id"]]
        seen.setdefault(v["customer_id"], []).append(v)
        if c.get("open"):
            assert hhmm(v["start"]) >= hhmm(c["open"]) and hhmm(v["end"]) <= hhmm(c["close"])
        if c.get("days"):
            assert v["weekday"] in parse_weekdays(c["days"], "days")
    for cid, c in customers.items():
        want = int(c["visits"]) if c.get("visits") else classes[c["class"] or "C"].visits
        got = seen.get(cid, [])
        assert len(got) == want, cid
        weeks = sorted(int(v["week"]) for v in got)
        if 1 < want <= cfg.period.weeks:
            assert len({v["weekday"] for v in got}) == 1, cid  # same weekday
            gaps = {b - a for a, b in itertools.pairwise(weeks)}
            assert gaps == {cfg.period.weeks // want}, (cid, weeks)
    # Routed workload within +/- 10 % between reps (capacity-proportional).
    terr = read_csv(plan_dir / "territories.csv")
    util = [float(t["workload_hours"]) / float(t["capacity_hours"]) for t in terr]
    mean = sum(float(t["workload_hours"]) for t in terr) / sum(
        float(t["capacity_hours"]) for t in terr
    )
    assert max(abs(u / mean - 1) for u in util) <= 0.10


@pytest.mark.slow
def test_a_folder_never_mixes_two_runs(plan_dir, tmp_path, capsys):
    """Design over an old plan folder removes the old plan's files; a failed run changes nothing."""
    folder = tmp_path / "reused"
    shutil.copytree(plan_dir, folder)
    before = {p.name: digest(p) for p in folder.iterdir() if p.is_file()}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lat,lon\nK1,52.1,north\n", encoding="utf-8")
    failing = sample_args("design", folder)
    failing[2] = str(bad)  # the customers file
    assert main(failing) == 2
    assert {p.name: digest(p) for p in folder.iterdir() if p.is_file()} == before
    assert main(sample_args("design", folder)) == 0
    names = {p.name for p in folder.iterdir()}
    assert {"assignments.csv", "territories.csv", "summary.json"} <= names
    assert not names & {"schedule.csv", "days.csv", "unscheduled.csv", "routes.geojson"}
    assert json.loads((folder / "summary.json").read_text())["command"] == "design"
