"""plan.toml loading: every key optional, defaults documented, bad values refused in one line."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from territory import Config, ConfigError, TerritoryWarning
from territory.params import format_hhmm, parse_hhmm, parse_weekdays

FULL_TOML = """
[period]
weeks = 4
days = ["mon", "tue", "wed", "thu", "fri"]
start_date = "2027-01-04"

[day]
start = "08:30"
end = "17:00"
lunch_minutes = 30
admin_minutes = 30

[travel]
speed_kmh = 60
circuity = 1.3

[classes.A]
visits = 4
visit_minutes = 60

[classes.B]
visits = 2
visit_minutes = 45

[territory]
balance = ["workload", "potential"]
tolerance = 0.05
contiguous = true
seed = 7
"""


def test_defaults_match_architecture_note():
    c = Config()
    assert c.period.weeks == 4 and c.period.days == ("mon", "tue", "wed", "thu", "fri")
    assert (c.day.start_min, c.day.end_min) == (510, 1020)
    assert (c.day.lunch_minutes, c.day.admin_minutes) == (30, 30)
    assert (c.travel.speed_kmh, c.travel.circuity) == (60.0, 1.3)
    assert c.territory.tolerance == 0.05 and c.territory.balance == ("workload",)
    assert c.day.selling_min == 510 - 60


def test_full_toml_round_trip(tmp_path):
    p = tmp_path / "plan.toml"
    p.write_text(FULL_TOML, encoding="utf-8")
    c = Config.from_toml(p)
    assert c.period.start_date == dt.date(2027, 1, 4)
    assert set(c.classes) == {"A", "B"}
    assert c.classes["B"].visit_minutes == 45
    assert c.territory.balance == ("workload", "potential") and c.territory.seed == 7
    # The default class falls back to an existing class when C is not configured.
    assert c.sizing.default_class in c.classes
    d = c.to_dict()
    assert d["day"]["start"] == "08:30" and d["period"]["start_date"] == "2027-01-04"


def test_unknown_keys_are_warned_not_silently_ignored(tmp_path):
    p = tmp_path / "plan.toml"
    p.write_text("[day]\nstrat = '08:00'\n[colours]\nx = 1\n", encoding="utf-8")
    with pytest.warns(TerritoryWarning) as record:
        Config.from_toml(p)
    messages = " | ".join(str(w.message) for w in record)
    assert "[day] strat" in messages and "colours" in messages


@pytest.mark.parametrize(
    "toml, fragment",
    [
        ("[period]\nweeks = 0\n", "weeks"),
        ("[period]\ndays = ['mon', 'funday']\n", "funday"),
        ("[period]\nstart_date = '2027-13-01'\n", "start_date"),
        ("[day]\nstart = '17:00'\nend = '08:00'\n", "start"),
        ("[day]\nstart = 'noon'\n", "noon"),
        ("[travel]\nspeed_kmh = 0\n", "speed_kmh"),
        ("[travel]\ncircuity = 0.5\n", "circuity"),
        ("[classes.A]\nvisits = -1\n", "visits"),
        ("[territory]\ntolerance = 2\n", "tolerance"),
        ("[territory]\nbalance = ['beauty']\n", "balance"),
        ("[sizing]\ndefault_class = 'Z'\n", "default_class"),
        ("not toml at all = = =\n", "TOML"),
    ],
)
def test_bad_values_give_one_clear_line(tmp_path, toml, fragment):
    p = tmp_path / "plan.toml"
    p.write_text(toml, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TerritoryWarning)
        with pytest.raises(ConfigError) as info:
            Config.from_toml(p)
    msg = str(info.value)
    assert "\n" not in msg and str(p) in msg and fragment in msg


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Config.from_toml(tmp_path / "nope.toml")


def test_time_and_weekday_parsing():
    assert parse_hhmm("8:05", "t") == 485 and parse_hhmm("17.30", "t") == 1050
    assert format_hhmm(485) == "08:05"
    with pytest.raises(ValueError, match="HH:MM"):
        parse_hhmm("25:00", "open")
    assert parse_weekdays("ma, wo,vr", "days") == ("mon", "wed", "fri")
    assert parse_weekdays("mon-wed", "days") == ("mon", "tue", "wed")
    assert parse_weekdays(["fri", "mon", "mon"], "days") == ("mon", "fri")
    with pytest.raises(ValueError, match="unknown weekday"):
        parse_weekdays("mon,xyz", "days")
