"""Visit patterns and the petal construction (schedule stage)."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from territory.models import WEEKDAYS, Customer, Rep
from territory.params import Config, PeriodParams
from territory.schedule import (
    PetalInput,
    customer_patterns,
    day_index,
    day_label,
    day_of_index,
    pattern_days,
    pattern_problem,
    petal_patterns,
    window_problem,
)

FOUR_WEEKS = PeriodParams()  # 4 weeks, mon-fri


def _week_days(pattern: int, period: PeriodParams) -> list[tuple[int, str]]:
    return [day_of_index(d, period) for d in pattern_days(pattern)]


def test_weekly_customer_gets_the_same_weekday_every_week():
    pats = customer_patterns(4, FOUR_WEEKS.days, FOUR_WEEKS)
    assert len(pats) == 5
    for p in pats:
        wd = _week_days(p, FOUR_WEEKS)
        assert [w for w, _ in wd] == [1, 2, 3, 4]
        assert len({d for _, d in wd}) == 1


def test_fortnightly_customer_every_other_week_same_weekday():
    pats = customer_patterns(2, FOUR_WEEKS.days, FOUR_WEEKS)
    assert len(pats) == 10
    for p in pats:
        wd = _week_days(p, FOUR_WEEKS)
        assert [w for w, _ in wd] in ([1, 3], [2, 4])
        assert wd[0][1] == wd[1][1]


def test_monthly_customer_any_one_day():
    pats = customer_patterns(1, FOUR_WEEKS.days, FOUR_WEEKS)
    assert sorted(pats) == [1 << d for d in range(20)]


def test_twice_weekly_not_back_to_back_same_days_each_week():
    pats = customer_patterns(8, FOUR_WEEKS.days, FOUR_WEEKS)
    assert pats
    for p in pats:
        wd = _week_days(p, FOUR_WEEKS)
        per_week = {w: sorted(WEEKDAYS.index(d) for ww, d in wd if ww == w) for w in range(1, 5)}
        assert all(v == per_week[1] for v in per_week.values())
        a, b = per_week[1]
        assert b - a >= 2


def test_allowed_days_restrict_the_patterns():
    pats = customer_patterns(2, ("wed",), FOUR_WEEKS)
    assert sorted(pats) == sorted(
        [
            (1 << day_index(1, "wed", FOUR_WEEKS)) | (1 << day_index(3, "wed", FOUR_WEEKS)),
            (1 << day_index(2, "wed", FOUR_WEEKS)) | (1 << day_index(4, "wed", FOUR_WEEKS)),
        ]
    )


def test_too_many_visits_for_the_days_gives_no_pattern_and_a_reason():
    assert customer_patterns(12, ("mon", "tue"), FOUR_WEEKS) == ()
    cfg = Config()
    c = Customer(id="c1", lat=52.0, lon=5.0, visits=12, days=("mon", "tue"))
    reason = pattern_problem(c, Rep(id="R1", lat=52.0, lon=5.0), cfg)
    assert "12 visits" in reason and "mon,tue" in reason
    assert (
        pattern_problem(Customer(id="ok", lat=52.0, lon=5.0, visits=4), Rep("R1", 52, 5), cfg) == ""
    )


def test_allowed_days_outside_the_reps_working_days_are_named():
    cfg = Config()
    c = Customer(id="c1", lat=52.0, lon=5.0, visits=1, days=("sat",))
    reason = pattern_problem(c, Rep(id="R3", lat=52.0, lon=5.0), cfg)
    assert reason.startswith("allowed days sat are not working days of rep R3")


def test_window_shorter_than_visit_is_named():
    c = Customer(id="c", lat=0, lon=0, visit_minutes=45, open_min=12 * 60, close_min=12 * 60 + 30)
    assert window_problem(c, 510, 990) == "window 12:00-12:30 shorter than the 45-minute visit"
    late = Customer(id="c", lat=0, lon=0, visit_minutes=45, open_min=18 * 60, close_min=21 * 60)
    assert "within the working day" in window_problem(late, 510, 990)
    fine = Customer(id="c", lat=0, lon=0, visit_minutes=45, open_min=9 * 60, close_min=10 * 60)
    assert window_problem(fine, 510, 990) == ""


def test_day_label_follows_the_start_date():
    p = PeriodParams(start_date=dt.date(2027, 1, 4))  # a Monday
    assert day_label(0, p) == "2027-01-04"
    assert day_label(day_index(2, "wed", p), p) == "2027-01-13"
    assert day_label(day_index(2, "wed", FOUR_WEEKS), FOUR_WEEKS) == "w2-wed"
    wed_start = PeriodParams(start_date=dt.date(2027, 1, 6))  # a Wednesday: week 1 mon is the 11th
    assert day_label(day_index(1, "mon", wed_start), wed_start) == "2027-01-11"
    assert day_label(day_index(1, "wed", wed_start), wed_start) == "2027-01-06"


@settings(max_examples=60, deadline=None)
@given(
    visits=st.integers(1, 15),
    weeks=st.integers(1, 6),
    days=st.lists(st.sampled_from(WEEKDAYS[:6]), min_size=1, max_size=6, unique=True),
)
def test_patterns_have_the_right_count_days_and_spacing(visits, weeks, days):
    period = PeriodParams(weeks=weeks, days=tuple(d for d in WEEKDAYS if d in days))
    pats = customer_patterns(visits, period.days, period)
    if visits > weeks * len(period.days):
        assert pats == ()
    for p in pats:
        assert p < (1 << period.working_days)
        wd = _week_days(p, period)
        assert len(wd) == visits
        weeks_used = [w for w, _ in wd]
        if visits <= weeks:
            # different weeks, equally spaced, one weekday
            assert len(set(weeks_used)) == visits
            gaps = {b - a for a, b in itertools.pairwise(weeks_used)}
            assert len(gaps) <= 1
            assert len({d for _, d in wd}) == 1
        else:
            # the same weekdays every week (at most one extra weekday in some weeks)
            per_week = [frozenset(d for w, d in wd if w == week) for week in range(1, weeks + 1)]
            common = frozenset.intersection(*per_week)
            assert len(common) == visits // weeks
            assert all(len(s - common) <= 1 for s in per_week)


def test_petals_put_each_day_in_one_sector_and_respect_capacity():
    """Monthly customers on a ring around home: every day's customers lie in one narrow sector."""
    n = 100
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    lat = 52.0 + 0.1 * np.sin(angle)
    lon = 5.0 + 0.16 * np.cos(angle)
    pats = tuple(customer_patterns(1, FOUR_WEEKS.days, FOUR_WEEKS) for _ in range(n))
    load = np.full(n, 40.0)
    chosen = petal_patterns(
        PetalInput(
            lat=lat,
            lon=lon,
            home_lat=52.0,
            home_lon=5.0,
            patterns=pats,
            load_min=load,
            days_per_week=5,
            weeks=4,
            day_capacity_min=450.0,
            working_days=tuple(range(20)),
        )
    )
    assert all(p in pats[i] for i, p in enumerate(chosen))
    per_day: dict[int, list[float]] = {}
    for i, p in enumerate(chosen):
        (d,) = pattern_days(p)
        per_day.setdefault(d, []).append(angle[i])
    assert len(per_day) == 20
    for d, angles in per_day.items():
        assert len(angles) * 40.0 <= 450.0
        a = np.sort(np.array(angles))
        gaps = np.diff(np.append(a, a[0] + 2 * np.pi))
        spread = 2 * np.pi - gaps.max()
        assert spread <= 2 * np.pi / 20 * 1.5 + 1e-9, (d, math.degrees(spread))
