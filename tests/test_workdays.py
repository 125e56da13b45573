"""Holidays, absences and booked days: the working calendar, visit patterns and capacity."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territory.exceptions import ConfigError
from territory.models import Rep
from territory.params import Config, PeriodParams
from territory.schedule import customer_patterns, day_ordinals, pattern_days
from territory.workdays import (
    blocked_mask,
    check_calendar,
    day_of_date,
    days_off,
    holiday_dates,
    parse_absences,
    period_dates,
)
from territory.workload import rep_capacity_min, rep_working_days, size_team

START = dt.date(2027, 4, 19)  # a Monday; King's Day (Tue 27 Apr) and Ascension (Thu 6 May) follow


def nl_config(**period: object) -> Config:
    """Four weeks from 19 April 2027 with the Dutch public holidays."""
    return Config(period=PeriodParams(start_date=START, holidays="NL", **period))  # type: ignore[arg-type]


def test_dutch_holidays_of_the_period_are_kings_day_and_ascension() -> None:
    holidays = holiday_dates(nl_config().period)
    assert set(holidays) == {dt.date(2027, 4, 27), dt.date(2027, 5, 6)}
    assert "King" in holidays[dt.date(2027, 4, 27)]


def test_extra_holidays_and_subdivisions() -> None:
    period = PeriodParams(start_date=START, extra_holidays=(dt.date(2027, 4, 23),))
    assert holiday_dates(period) == {dt.date(2027, 4, 23): "company holiday"}
    bavaria = PeriodParams(start_date=dt.date(2027, 5, 24), weeks=1, holidays="DE-BY")
    # Whit Monday everywhere in Germany; Corpus Christi (27 May 2027) in Bavaria only
    assert dt.date(2027, 5, 27) in holiday_dates(bavaria)
    berlin = PeriodParams(start_date=dt.date(2027, 5, 24), weeks=1, holidays="DE-BE")
    assert dt.date(2027, 5, 27) not in holiday_dates(berlin)


@pytest.mark.parametrize(
    ("value", "words"),
    [("XX", "not a country"), ("DE-ZZ", "not a subdivision"), (12, "country code")],
)
def test_unknown_holiday_regions_are_refused(value: object, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        Config.from_dict({"period": {"holidays": value, "start_date": "2027-04-19"}})


def test_holidays_and_absences_need_a_start_date() -> None:
    config = Config(period=PeriodParams(holidays="NL"))
    with pytest.raises(ConfigError, match="need a start date"):
        check_calendar(config)
    rep = Rep("R1", 52.0, 5.0, absent=((START, START),))
    with pytest.raises(ConfigError, match="absences of rep R1"):
        check_calendar(Config(), [rep])
    check_calendar(Config())  # nothing asked: fine


def test_config_without_calendar_keys_writes_the_summary_it_always_wrote() -> None:
    d = Config().to_dict()
    assert "holidays" not in d["period"] and "calendar" not in d and "replan" not in d
    d = nl_config().to_dict()
    assert d["period"]["holidays"] == "NL" and d["period"]["extra_holidays"] == []
    assert Config.from_dict(d).period == nl_config().period


def test_period_dates_follow_the_day_labels_with_a_midweek_start() -> None:
    period = PeriodParams(start_date=dt.date(2027, 4, 21), weeks=2)  # a Wednesday
    dates = period_dates(period)
    assert dates[0] == dt.date(2027, 4, 26)  # week 1's Monday is the first Monday after
    assert dates[2] == dt.date(2027, 4, 21)
    ordinal = day_ordinals(period)
    assert sorted(range(10), key=lambda d: ordinal[d]) == sorted(range(10), key=dates.__getitem__)
    assert day_of_date(period, dt.date(2027, 4, 24)) is None  # a Saturday


def test_parse_absences() -> None:
    assert parse_absences("2027-02-15..2027-02-19, 2027-03-08") == (
        (dt.date(2027, 2, 15), dt.date(2027, 2, 19)),
        (dt.date(2027, 3, 8), dt.date(2027, 3, 8)),
    )
    assert parse_absences("15-02-2027 - 19-02-2027") == (
        (dt.date(2027, 2, 15), dt.date(2027, 2, 19)),
    )
    for bad in ("2027-02-19..2027-02-15", "next week", "2027-02-30"):
        with pytest.raises(ValueError, match=r"date|before"):
            parse_absences(bad)


def test_a_week_of_leave_and_the_holidays_are_no_capacity() -> None:
    config = nl_config()
    full = Rep("R1", 52.0, 5.0)
    away = replace(full, absent=((dt.date(2027, 5, 10), dt.date(2027, 5, 14)),))
    assert rep_working_days(Rep("R0", 52.0, 5.0), Config()) == 20
    assert rep_working_days(full, config) == 18
    assert rep_working_days(away, config) == 13
    assert rep_capacity_min(away, config) == 13 * (510 - 30)
    off = days_off(away, config)
    assert off[day_of_date(config.period, dt.date(2027, 4, 27))].startswith("holiday")  # type: ignore[index]
    assert off[day_of_date(config.period, dt.date(2027, 5, 12))] == "absent 2027-05-10..2027-05-14"  # type: ignore[index]
    # a part-timer on mon-thu loses only the holidays that fall on their days
    four_days = replace(full, days=("mon", "tue", "wed", "thu"))
    assert rep_working_days(four_days, config) == 16 - 2


def test_sizing_counts_only_days_really_worked() -> None:
    from territory.models import Customer

    customers = [
        Customer(f"K{i}", 52.0 + i / 100, 5.0, visits=4, visit_minutes=60) for i in range(40)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = size_team(customers, Config(period=PeriodParams(start_date=START)))
        nl = size_team(customers, nl_config())
    assert (plain.working_days, nl.working_days) == (20, 18)
    assert nl.reps_exact == pytest.approx(plain.reps_exact * 20 / 18)


@settings(max_examples=60, deadline=None)
@given(
    visits=st.integers(1, 8),
    weekdays=st.sets(st.sampled_from(["mon", "tue", "wed", "thu", "fri"]), min_size=1),
    blocked=st.integers(0, (1 << 20) - 1),
    fixed_day=st.one_of(st.none(), st.integers(0, 19)),
)
def test_patterns_avoid_blocked_days_and_hold_fixed_ones(visits, weekdays, blocked, fixed_day):
    period = PeriodParams(start_date=START)
    fixed = 0 if fixed_day is None else 1 << fixed_day
    blocked &= ~fixed
    for p in customer_patterns(visits, tuple(weekdays), period, blocked=blocked, fixed=fixed):
        assert bin(p).count("1") == visits
        assert not p & blocked
        assert p & fixed == fixed
        days = pattern_days(p)
        free = [d for d in days if not (fixed >> d) & 1]
        # the weekday of a booked day becomes usable too (the customer agreed to it)
        usable = set(weekdays) | {period.days[d % 5] for d in pattern_days(fixed)}
        assert all(period.days[d % 5] in usable for d in free)


def test_a_holiday_moves_a_weekly_visit_within_its_week() -> None:
    config = nl_config()
    rep = Rep("R1", 52.0, 5.0)
    blocked = blocked_mask(rep, config)
    tuesdays = customer_patterns(4, ("tue", "wed"), config.period, blocked=blocked)
    dates = period_dates(config.period)
    for p in tuesdays:
        weeks = sorted((dates[d] - START).days // 7 for d in pattern_days(p))
        assert weeks == [0, 1, 2, 3]  # still once in every week
        assert dt.date(2027, 4, 27) not in {dates[d] for d in pattern_days(p)}


def test_a_week_of_leave_moves_the_visit_to_the_week_before_or_after() -> None:
    config = nl_config()
    away = Rep("R1", 52.0, 5.0, absent=((dt.date(2027, 5, 3), dt.date(2027, 5, 7)),))
    blocked = blocked_mask(away, config)
    dates = period_dates(config.period)
    leave = {dt.date(2027, 5, 3) + dt.timedelta(days=k) for k in range(5)}
    # four visits on Mondays only, one Monday away: no pattern (said, not guessed)
    assert customer_patterns(4, ("mon",), config.period, blocked=blocked) == ()
    patterns = customer_patterns(4, ("mon", "tue", "wed"), config.period, blocked=blocked)
    shown = {
        tuple(str(dates[d]) for d in sorted(pattern_days(p), key=dates.__getitem__))
        for p in patterns
    }
    # the Monday visit of the week away goes to the nearest day before (Tue 27 Apr is
    # King's Day, so Wed 28 Apr) or after it (Tue 11 May)
    assert ("2027-04-19", "2027-04-26", "2027-04-28", "2027-05-10") in shown
    assert ("2027-04-19", "2027-04-26", "2027-05-10", "2027-05-11") in shown
    for p in patterns:
        assert len(pattern_days(p)) == 4
        assert not {dates[d] for d in pattern_days(p)} & leave


def test_a_rep_with_a_week_of_leave_gets_a_smaller_territory() -> None:
    """Two reps in mirror positions over a symmetric field: the one away for a week of the
    four gets the smaller share of the workload (13 of 13 + 18 working days, holidays incl.)."""
    from territory.districting import design_territories
    from territory.models import Customer
    from territory.workload import customer_workload

    customers = [
        Customer(f"K{i}{j}", 52.0 + 0.02 * i, 5.0 + 0.03 * j, visits=1, visit_minutes=45)
        for i in range(8)
        for j in range(10)
    ]
    config = nl_config()
    reps = [
        Rep("R1", 52.07, 5.0, absent=((dt.date(2027, 5, 10), dt.date(2027, 5, 14)),)),
        Rep("R2", 52.07, 5.27),
    ]
    workload = customer_workload(customers, config, reps)
    design = design_territories(customers, reps, workload, config)
    assert design.kpis is not None
    share = design.kpis.workload_min[0] / sum(design.kpis.workload_min)
    assert design.kpis.target_min[0] / sum(design.kpis.target_min) == pytest.approx(13 / 31)
    assert share == pytest.approx(13 / 31, abs=0.05)
