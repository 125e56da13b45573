"""Holidays, appointments, calendars and re-planning, end to end on a part of the sample.

Everything is recomputed from the files the commands wrote: no visit on a public holiday and no
capacity for it, appointments kept to the minute with every other visit at its frequency and
spacing, every .ics read by two independent parsers (icalendar and vobject) with one event per
visit of schedule.csv and stable UIDs, and re-plans that keep what they can.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import CONFIG, CUSTOMERS, REPS, read_csv

from territory.cli import main
from territory.params import Config, parse_weekdays
from territory.schedule import customer_patterns, pattern_days
from territory.workdays import day_of_date, period_dates

pytestmark = pytest.mark.slow  # whole commands

KINGS_DAY, ASCENSION = "2027-04-27", "2027-05-06"
TEAM = ("R2", "R5")
APPOINTMENTS = [
    # customer, date, start, minutes, purpose
    ("K0003", "2027-04-21", "11:00", "", "Annual review"),
    ("K0022", "2027-04-29", "13:45", "60", "Demo of the new range"),
]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two central reps and today's customers of theirs, four weeks from 19 April 2027 with the
    Dutch holidays, and two booked appointments."""
    folder = tmp_path_factory.mktemp("calendar")
    with open(CUSTOMERS, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    current = header.index("current_rep")
    body = [r for r in rows[1:] if r[current] in TEAM]
    for r in body:
        r[header.index("locked_rep")] = ""
    with open(REPS, encoding="utf-8", newline="") as f:
        reps = list(csv.reader(f))
    text = CONFIG.read_text(encoding="utf-8").replace(
        'start_date = "2027-01-04"', 'start_date = "2027-04-19"\nholidays = "NL"'
    )
    (folder / "plan.toml").write_text(text, encoding="utf-8")
    paths = {
        "customers": _write(folder / "customers.csv", header, body),
        "reps": _write(folder / "reps.csv", reps[0], [r for r in reps[1:] if r[0] in TEAM]),
        "config": folder / "plan.toml",
        "appointments": _write(
            folder / "appointments.csv",
            ["customer_id", "date", "start", "minutes", "purpose"],
            [list(a) for a in APPOINTMENTS],
        ),
        "folder": folder,
    }
    assert {a[0] for a in APPOINTMENTS} <= {r[0] for r in body}
    return paths


def _plan(team: dict[str, Path], out: Path, *extra: str) -> None:
    code = main(
        [
            "-q",
            "plan",
            str(team["customers"]),
            "--reps",
            str(team["reps"]),
            "--config",
            str(team["config"]),
            "--appointments",
            str(team["appointments"]),
            "--out",
            str(out),
            *extra,
        ]
    )
    assert code == 0


@pytest.fixture(scope="module")
def planned(team: dict[str, Path]) -> Path:
    out = team["folder"] / "plan"
    _plan(team, out)
    return out


def test_no_visit_on_a_holiday_and_holidays_are_no_capacity(team, planned) -> None:
    schedule = read_csv(planned / "schedule.csv")
    days = read_csv(planned / "days.csv")
    assert schedule and days
    assert not {r["date"] for r in schedule} & {KINGS_DAY, ASCENSION}
    assert not {r["date"] for r in days} & {KINGS_DAY, ASCENSION}
    # capacity recomputed from the written files: 20 weekdays less the 2 holidays, each
    # (17:00 - 08:30 - 30 min lunch) = 8 h, times the rep's capacity
    reps = {r["id"]: float(r["capacity"]) for r in read_csv(team["reps"])}
    for row in read_csv(planned / "territories.csv"):
        assert float(row["capacity_hours"]) == pytest.approx(18 * 8 * reps[row["rep_id"]], abs=0.01)
    assert all(dt.date.fromisoformat(r["date"]).weekday() < 5 for r in schedule)


def test_appointments_are_kept_to_the_minute(planned) -> None:
    schedule = read_csv(planned / "schedule.csv")
    for cid, date, start, minutes, _ in APPOINTMENTS:
        (row,) = [r for r in schedule if r["customer_id"] == cid and r["date"] == date]
        assert row["start"] == start
        if minutes:
            end = dt.datetime.strptime(start, "%H:%M") + dt.timedelta(minutes=int(minutes))
            assert row["end"] == end.strftime("%H:%M")
    unscheduled = {u["customer_id"] for u in read_csv(planned / "unscheduled.csv")}
    assert not unscheduled & {a[0] for a in APPOINTMENTS}


def test_every_other_visit_keeps_its_frequency_and_spacing(team, planned) -> None:
    config = Config.from_toml(team["config"])
    period = config.period
    booked = {a[0]: day_of_date(period, dt.date.fromisoformat(a[1])) for a in APPOINTMENTS}
    by_customer: dict[str, list[int]] = {}
    for r in read_csv(planned / "schedule.csv"):
        by_customer.setdefault(r["customer_id"], []).append(
            day_of_date(period, dt.date.fromisoformat(r["date"]))  # type: ignore[arg-type]
        )
    unscheduled: dict[str, int] = {}
    for u in read_csv(planned / "unscheduled.csv"):
        unscheduled[u["customer_id"]] = unscheduled.get(u["customer_id"], 0) + 1
    holidays = sum(
        1 << d for d, date in enumerate(period_dates(period)) if str(date) in {KINGS_DAY, ASCENSION}
    )
    for c in read_csv(team["customers"]):
        cls = config.classes[c["class"] or "C"]
        days = by_customer.get(c["id"], [])
        assert len(days) == len(set(days)), c["id"]
        assert len(days) + unscheduled.get(c["id"], 0) == cls.visits, c["id"]
        if c["id"] in unscheduled:
            continue  # said in unscheduled.csv, with its reason
        mask = sum(1 << d for d in days)
        fixed = 1 << booked[c["id"]] if c["id"] in booked else 0  # type: ignore[operator]
        allowed = customer_patterns(
            cls.visits,
            parse_weekdays(c["days"], "days") if c["days"] else period.days,
            period,
            blocked=holidays & ~fixed,
            fixed=fixed,
        )
        assert mask in allowed, (
            c["id"],
            [str(period_dates(period)[d]) for d in pattern_days(mask)],
        )


def _events_icalendar(path: Path) -> list[tuple[str, dt.datetime, dt.datetime, str]]:
    import icalendar

    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return [
        (str(e["UID"]), e.decoded("DTSTART"), e.decoded("DTEND"), str(e.get("STATUS", "")))
        for e in cal.walk("VEVENT")
    ]


def _events_vobject(path: Path) -> list[tuple[str, dt.datetime, dt.datetime]]:
    import vobject

    cal = vobject.readOne(path.read_text(encoding="utf-8"))
    return [
        (e.uid.value, e.dtstart.value, e.dtend.value)
        for e in cal.contents.get("vevent", [])
        if getattr(e, "status", None) is None or e.status.value != "CANCELLED"
    ]


def test_every_calendar_parses_twice_with_one_event_per_visit(planned) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Amsterdam")
    schedule = read_csv(planned / "schedule.csv")
    for rep_id in TEAM:
        path = planned / "calendars" / f"{rep_id}.ics"
        expected = sorted(
            (
                r["customer_id"],
                dt.datetime.fromisoformat(f"{r['date']}T{r['start']}").replace(tzinfo=zone),
                dt.datetime.fromisoformat(f"{r['date']}T{r['end']}").replace(tzinfo=zone),
            )
            for r in schedule
            if r["rep_id"] == rep_id
        )
        first = _events_icalendar(path)
        second = _events_vobject(path)
        assert len(first) == len(second) == len(expected) > 0
        assert len({uid for uid, *_ in first}) == len(first)
        for parsed in (first, second):
            starts = sorted((s, e) for _, s, e, *_ in parsed)
            assert starts == sorted((s, e) for _, s, e in expected)
            for _, start, end, *_ in parsed:  # Dutch summer time, as the zone says
                assert start.utcoffset() == end.utcoffset() == dt.timedelta(hours=2)
        assert {uid for uid, *_ in first} == {uid for uid, *_ in second}
    page = (planned / "reps" / "R2.html").read_text(encoding="utf-8")
    assert "../calendars/R2.ics" in page


def test_a_rerun_gives_the_same_uids_and_bytes(team, planned) -> None:
    again = team["folder"] / "again"
    _plan(team, again, "--no-maps")
    for rep_id in TEAM:
        a = (planned / "calendars" / f"{rep_id}.ics").read_bytes()
        b = (again / "calendars" / f"{rep_id}.ics").read_bytes()
        assert a == b
    assert {u for u, *_ in _events_icalendar(planned / "calendars" / "R2.ics")} == {
        u for u, *_ in _events_icalendar(again / "calendars" / "R2.ics")
    }


# ------------------------------------------------------------------------------- replan


def _replan(
    team, planned, out: Path, *extra: str, maps: bool = False
) -> dict[str, list[dict[str, str]]]:
    flags = [] if maps else ["--no-maps"]
    code = main(
        ["-q", "replan", str(planned), "--from", "2027-04-28", "--out", str(out), *flags, *extra]
    )
    assert code == 0
    return {name: read_csv(out / f"{name}.csv") for name in ("schedule", "changes", "unscheduled")}


def _future(rows: list[dict[str, str]]) -> set[tuple[str, str, str]]:
    return {(r["customer_id"], r["date"], r["rep_id"]) for r in rows if r["date"] >= "2027-04-28"}


def test_replan_with_nothing_changed_keeps_every_future_visit(team, planned) -> None:
    out = _replan(
        team, planned, team["folder"] / "same", "--appointments", str(team["appointments"])
    )
    before = read_csv(planned / "schedule.csv")
    assert _future(before) <= _future(out["schedule"])
    # nothing moved; the only rows are visits the plan could not schedule, now placed
    missed = {u["customer_id"] for u in read_csv(planned / "unscheduled.csv")}
    for row in out["changes"]:
        assert not row["old_date"] and row["customer_id"] in missed, row
        assert row["reason"].startswith("unscheduled in the previous plan")
    # a day that got none of them is kept exactly as it was, times included
    touched = {(r["new_rep"], r["new_date"]) for r in out["changes"]}
    untouched = [r for r in before if (r["rep_id"], r["date"]) not in touched]
    assert untouched == [r for r in out["schedule"] if (r["rep_id"], r["date"]) not in touched]
    assert len(untouched) > len(before) // 2
    ics = (team["folder"] / "same" / "calendars" / "R2.ics").read_text(encoding="utf-8")
    assert "SEQUENCE:1" in ics and "STATUS:CANCELLED" not in ics


def test_replan_with_a_week_of_leave_moves_only_that_reps_visits(team, planned) -> None:
    absences = _write(
        team["folder"] / "absences.csv",
        ["rep_id", "from", "to"],
        [["R2", "2027-05-10", "2027-05-14"]],
    )
    out = _replan(
        team, planned, team["folder"] / "leave", "--absences", str(absences),
        "--appointments", str(team["appointments"]), maps=True,
    )  # fmt: skip
    before = _future(read_csv(planned / "schedule.csv"))
    after = _future(out["schedule"])
    week = {f"2027-05-{d}" for d in range(10, 15)}
    assert not {v for v in after if v[2] == "R2" and v[1] in week}
    moved = before - after
    assert moved  # R2 had visits that week
    assert all(rep == "R2" for _, _, rep in moved)
    of_week = {v for v in before if v[2] == "R2" and v[1] in week}
    assert of_week <= moved
    # what had to follow: only R2's visits, each listed with its reason
    rows = out["changes"]
    assert {(r["customer_id"], r["old_date"], r["old_rep"]) for r in rows if r["old_date"]} == moved
    assert all(r["reason"] for r in rows)
    assert all(
        "absent 2027-05-10..2027-05-14" in r["reason"] for r in rows if r["old_date"] in week
    )
    for r in rows:
        if r["new_date"]:
            assert (r["customer_id"], r["new_date"], r["new_rep"]) in after
    # the history is untouched and the cancelled events name the moved visits
    past = {
        (r["customer_id"], r["date"], r["rep_id"])
        for r in read_csv(planned / "schedule.csv")
        if r["date"] < "2027-04-28"
    }
    assert past <= {(r["customer_id"], r["date"], r["rep_id"]) for r in out["schedule"]}
    ics = (team["folder"] / "leave" / "calendars" / "R2.ics").read_text(encoding="utf-8")
    assert ics.count("STATUS:CANCELLED") == sum(1 for r in rows if r["old_rep"] == "R2")
    summary = (team["folder"] / "leave" / "summary.json").read_text(encoding="utf-8")
    assert '"future_visits_kept_share"' in summary
    page = (team["folder"] / "leave" / "report.html").read_text(encoding="utf-8")
    assert "Changes of the re-plan" in page and f"{len(rows)} visits changed" in page
    assert all(r["customer_id"] in page for r in rows[:20])


def test_replan_catches_up_a_visit_that_was_not_done(team, planned) -> None:
    schedule = read_csv(planned / "schedule.csv")
    history = [r for r in schedule if r["date"] < "2027-04-28"]
    # a visit on the way (the shortest leg), not one a day's drive away: the team's days are
    # nearly full (the pair moves schedule every visit they can), a far one may not fit again
    missed = min(history, key=lambda r: (float(r["travel_min"]), r["date"], r["customer_id"]))
    done = _write(
        team["folder"] / "done.csv",
        ["customer_id", "date"],
        [[r["customer_id"], r["date"]] for r in history if r is not missed],
    )
    out = _replan(
        team,
        planned,
        team["folder"] / "done",
        "--done",
        str(done),
        "--appointments",
        str(team["appointments"]),
    )
    visits = [r for r in out["schedule"] if r["customer_id"] == missed["customer_id"]]
    assert missed["date"] not in {r["date"] for r in visits}
    config = Config.from_toml(team["config"])
    cls = next(c for c in read_csv(team["customers"]) if c["id"] == missed["customer_id"])["class"]
    unscheduled = [u for u in out["unscheduled"] if u["customer_id"] == missed["customer_id"]]
    assert len(visits) + len(unscheduled) == config.classes[cls].visits
    assert any(r["customer_id"] == missed["customer_id"] for r in out["changes"])


def test_replan_refuses_its_own_folder_and_a_date_outside_the_period(team, planned, capsys) -> None:
    assert main(["replan", str(planned), "--from", "2027-04-28", "--out", str(planned)]) == 2
    assert "plan folder itself" in capsys.readouterr().err
    out = team["folder"] / "never"
    assert main(["replan", str(planned), "--from", "2027-06-01", "--out", str(out)]) == 2
    assert "outside the plan's period" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (["K0003", KINGS_DAY, "11:00", "", ""], "public holiday"),
        (["K0003", "2027-04-24", "11:00", "", ""], "not a working day"),
        (["K0003", "2027-04-21", "07:00", "", ""], "outside the working day"),
        (["K0061", "2027-04-21", "11:15", "", ""], "overlaps the appointment in row 2"),
        (["K9999", "2027-04-21", "11:00", "", ""], "not a customer"),
    ],
)
def test_an_appointment_that_cannot_hold_is_an_input_error_naming_the_row(
    team, tmp_path, capsys, row, words
) -> None:
    path = tmp_path / "appointments.csv"
    rows = (
        [["K0003", "2027-04-21", "11:00", "", ""], row] if words.startswith("overlaps") else [row]
    )
    _write(path, ["customer_id", "date", "start", "minutes", "purpose"], rows)
    code = main(
        ["plan", str(team["customers"]), "--reps", str(team["reps"]), "--config", str(team["config"]),
         "--appointments", str(path), "--out", str(tmp_path / "out"), "--no-maps"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"row {len(rows) + 1}" in err and words in err, err
    assert "Traceback" not in err


def test_holidays_without_a_start_date_are_one_clear_error(team, tmp_path, capsys) -> None:
    config = tmp_path / "plan.toml"
    config.write_text(
        team["config"].read_text(encoding="utf-8").replace('start_date = "2027-04-19"\n', ""),
        encoding="utf-8",
    )
    code = main(
        ["plan", str(team["customers"]), "--reps", str(team["reps"]), "--config", str(config),
         "--out", str(tmp_path / "out")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "need a start date" in err and err.count("\n") == 1, err
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_replan_with_a_customer_gone_and_one_new(team, planned) -> None:
    rows = read_csv(team["customers"])
    future = [r for r in read_csv(planned / "schedule.csv") if r["date"] >= "2027-05-03"]
    gone = future[0]["customer_id"]
    # a new customer at the place of the one gone (a shop under a new owner): the team's days
    # are nearly full (the pair moves schedule every visit they can), the room is the one freed
    newcomer = dict(next(r for r in rows if r["id"] == gone), id="K9001")
    kept = [r for r in rows if r["id"] != gone] + [newcomer]
    path = _write(
        team["folder"] / "customers_new.csv", list(rows[0]), [list(r.values()) for r in kept]
    )
    out = _replan(
        team, planned, team["folder"] / "changed", "--customers", str(path),
        "--appointments", str(team["appointments"]),
    )  # fmt: skip
    changes = out["changes"]
    dropped = [r for r in changes if r["customer_id"] == gone]
    assert dropped and all(not r["new_date"] for r in dropped)
    assert all(r["reason"] == "no longer in the customers file" for r in dropped)
    assert gone not in {r["customer_id"] for r in out["schedule"] if r["date"] >= "2027-04-28"}
    added = [r for r in changes if r["customer_id"] == "K9001"]
    assert added and all(
        not r["old_date"] and r["reason"].startswith("new customer") for r in added
    )
    visits = [r for r in out["schedule"] if r["customer_id"] == "K9001"]
    assert visits and all(r["date"] >= "2027-04-28" for r in visits)
    # nobody else moved except where a day had to make room
    others = {r["customer_id"] for r in changes} - {gone, "K9001"}
    for r in changes:
        if r["customer_id"] in others:
            assert r["reason"].startswith(("no room left", "unscheduled in the previous plan")), r


def test_a_replan_gives_the_same_bytes_twice(team, planned) -> None:
    absences = _write(
        team["folder"] / "absences2.csv",
        ["rep_id", "from", "to"],
        [["R5", "2027-05-03", "2027-05-07"]],
    )
    runs = []
    for name in ("twice_a", "twice_b"):
        out = team["folder"] / name
        _replan(team, planned, out, "--absences", str(absences), "--jobs", "2")
        runs.append(out)
    for name in ("schedule.csv", "days.csv", "changes.csv", "unscheduled.csv", "calendars/R5.ics"):
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    assert read_csv(runs[0] / "changes.csv")  # R5 had visits that week
