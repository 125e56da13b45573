"""appointments.csv and absences.csv: Dutch-Excel tolerance and one line per problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from territory.bookings import check_appointments, load_absences, load_appointments
from territory.exceptions import InputError
from territory.models import Customer, Rep
from territory.params import Config, PeriodParams
from territory.travel import crow

CONFIG = Config(period=PeriodParams(start_date=dt.date(2027, 4, 19), holidays="NL"))
CUSTOMERS = (
    Customer("K1", 52.10, 5.10, visits=2, visit_minutes=45),
    Customer("K2", 52.11, 5.12, visits=1, visit_minutes=30),
)
REPS = (Rep("R1", 52.09, 5.11), Rep("R2", 52.30, 4.90))


def _file(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_appointments_from_a_dutch_excel_export(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "Klant;Datum;Tijd;Duur;Doel\nK1;21-04-2027;10:15;60;Jaargesprek\nK2;2027-04-22;9.30;;\n",
    )
    k1, k2 = load_appointments(path, CUSTOMERS, CONFIG)
    (a,) = k1.appointments
    assert (a.date, a.start_min, a.minutes, a.purpose, a.row) == (
        dt.date(2027, 4, 21), 615, 60.0, "Jaargesprek", 2,
    )  # fmt: skip
    assert k2.appointments[0].start_min == 570 and k2.appointments[0].minutes is None


def test_more_appointments_than_visits_give_more_visits(tmp_path: Path) -> None:
    path = _file(tmp_path, "customer_id,date,start\nK2,2027-04-21,10:00\nK2,2027-05-04,10:00\n")
    _, k2 = load_appointments(path, CUSTOMERS, CONFIG)
    assert k2.visits == 2 and len(k2.appointments) == 2


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("K1,2027-04-27,10:00", "public holiday (King's Day)"),
        ("K1,2027-04-25,10:00", "is a Sunday, not a working day"),
        ("K1,2027-06-01,10:00", "outside the period 2027-04-19..2027-05-14"),
        ("K1,2027-04-21,16:30", "outside the working day 08:30-16:30"),
        ("K1,2027-04-21,25:00", "not a time of day"),
        ("K1,21 april,10:00", "not a date"),
        ("K9,2027-04-21,10:00", "not a customer"),
    ],
)
def test_an_appointment_that_cannot_hold_names_its_row(
    tmp_path: Path, row: str, words: str
) -> None:
    path = _file(tmp_path, f"customer_id,date,start\nK2,2027-04-21,10:00\n{row}\n")
    with pytest.raises(InputError) as caught:
        load_appointments(path, CUSTOMERS, CONFIG)
    assert str(caught.value).startswith(f"{path}, row 3") and words in str(caught.value)


def test_two_appointments_of_one_customer_on_one_day(tmp_path: Path) -> None:
    path = _file(tmp_path, "customer_id,date,start\nK1,2027-04-21,10:00\nK1,2027-04-21,14:00\n")
    with pytest.raises(InputError, match=r"row 3.*at most once a day"):
        load_appointments(path, CUSTOMERS, CONFIG)


def test_appointments_need_a_start_date(tmp_path: Path) -> None:
    path = _file(tmp_path, "customer_id,date,start\nK1,2027-04-21,10:00\n")
    with pytest.raises(InputError, match="need a start date"):
        load_appointments(path, CUSTOMERS, Config())


def test_the_reps_day_decides_absent_overlap_and_lunch(tmp_path: Path) -> None:
    away = (Rep("R1", 52.09, 5.11, absent=((dt.date(2027, 4, 21), dt.date(2027, 4, 21)),)), REPS[1])
    one = _file(tmp_path, "customer_id,date,start\nK1,2027-04-21,10:00\n", "one.csv")
    customers = load_appointments(one, CUSTOMERS, CONFIG)
    rep_of = {"K1": "R1", "K2": "R1"}
    travel = crow(CONFIG.travel)
    check_appointments(customers, REPS, rep_of, CONFIG, travel)  # R1 is there: fine
    with pytest.raises(InputError, match=r"row 2.*rep R1, who has this customer, is absent"):
        check_appointments(customers, away, rep_of, CONFIG, travel)
    both = _file(
        tmp_path, "customer_id,date,start,minutes\nK1,2027-04-21,10:00\nK2,2027-04-21,10:30,\n"
    )
    customers = load_appointments(both, CUSTOMERS, CONFIG)
    with pytest.raises(InputError, match=r"row 3.*overlaps the appointment in row 2"):
        check_appointments(customers, REPS, rep_of, CONFIG, travel)
    lunch = _file(
        tmp_path,
        "customer_id,date,start,minutes\nK1,2027-04-21,11:30,120\nK2,2027-04-21,13:40,30\n",
        "lunch.csv",
    )
    customers = load_appointments(lunch, CUSTOMERS, CONFIG)
    with pytest.raises(InputError, match="no 30 minutes for lunch"):
        check_appointments(customers, REPS, rep_of, CONFIG, travel)


def test_absences_file_adds_leave_to_the_reps(tmp_path: Path) -> None:
    path = _file(tmp_path, "rep_id;van;tot\nR1;10-05-2027;14-05-2027\nR1;2027-04-30;\n")
    r1, r2 = load_absences(path, REPS)
    assert r1.absent == (
        (dt.date(2027, 4, 30), dt.date(2027, 4, 30)),
        (dt.date(2027, 5, 10), dt.date(2027, 5, 14)),
    )
    assert r2.absent == ()


def test_absences_file_problems_name_their_rows(tmp_path: Path) -> None:
    path = _file(tmp_path, "rep_id,from,to\nR9,2027-05-10,2027-05-14\nR1,2027-05-14,2027-05-10\n")
    with pytest.raises(InputError) as caught:
        load_absences(path, REPS)
    lines = str(caught.value).splitlines()
    assert "row 2" in lines[0] and "not a rep" in lines[0]
    assert "row 3" in lines[1] and "comes before 'from'" in lines[1]
