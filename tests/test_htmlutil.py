"""Page helpers: numbers with their units in each language, dates as people read them."""

from __future__ import annotations

import pytest

from territory.columns import Column
from territory.htmlutil import (
    KPI_LABELS,
    LABELS,
    date_text,
    fmt,
    kpi_label,
    kpi_unit,
    number_format,
    plain_header,
    quantity,
)

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [
        (15491.6, "km", "en", f"15,492{NNBSP}km"),
        (15491.6, "km", "nl", f"15.492{NNBSP}km"),
        (745.69, "h", "en", f"745.7{NNBSP}h"),
        (745.69, "h", "nl", f"745,7{NNBSP}u"),
        (1234567.891, "h", "nl", f"1.234.567,9{NNBSP}u"),
        (0.7713, "share", "en", f"77{NNBSP}%"),
        ("0.0356", "share", "nl", f"4{NNBSP}%"),
        (3291100, "EUR", "en", f"€{NNBSP}3,291,100"),
        (3291100, "EUR", "nl", f"€{NNBSP}3.291.100"),
        (709, "", "nl", "709"),
        ("", "km", "en", "–"),
        ("n/a", "h", "nl", "–"),
    ],
)
def test_quantity(value: object, unit: str, lang: str, text: str) -> None:
    assert quantity(value, unit, lang) == text


def test_number_format_groups_thousands_by_language() -> None:
    assert number_format("en")(1234567.25, 2) == "1,234,567.25"
    assert number_format("nl")(1234567.25, 2) == "1.234.567,25"
    assert fmt(-0.04, 1) == "0.0"  # no negative zero
    assert fmt(float("nan")) == "–"


@pytest.mark.parametrize(
    ("date", "weekday", "week", "lang", "long", "text"),
    [
        ("2027-01-04", "mon", 1, "en", False, "Mon 4 Jan"),
        ("2027-01-04", "mon", 1, "en", True, "Monday 4 January 2027"),
        ("2027-03-03", "wed", 9, "nl", False, "wo 3 mrt"),
        ("2027-03-03", "wed", 9, "nl", True, "woensdag 3 maart 2027"),
        ("w2-fri", "fri", 2, "en", False, "Week 2 · Fri"),
        ("w2-fri", "fri", "2", "nl", True, "Week 2 · vrijdag"),
    ],
)
def test_date_text(date: str, weekday: str, week: object, lang: str, long: bool, text: str) -> None:
    assert date_text(date, weekday, week, lang, long=long) == text


def test_plain_header_drops_a_bracketed_unit_only() -> None:
    assert plain_header(Column.TRAVEL_KM, "en") == "Travel"
    assert plain_header(Column.WORKLOAD_HOURS, "nl") == "Bewerkingstijd"
    assert plain_header(Column.WORKLOAD_HOURS, "en") == "Workload hours"


def test_labels_exist_in_both_languages() -> None:
    assert set(LABELS["en"]) == set(LABELS["nl"])
    for key, (en, nl, _unit) in KPI_LABELS.items():
        assert kpi_label(key, "en") == en and kpi_label(key, "nl") == nl


def test_kpi_units_from_names() -> None:
    assert kpi_unit("travel_km") == "km"
    assert kpi_unit("scenario_travel_km_total") == "km"  # a figure another stage adds later
    assert kpi_unit("telesales_min") == "min"
    assert kpi_unit("calendar_share") == "share"
    assert kpi_unit("objective") == "x"
    assert kpi_label("unknown_key", "nl") == "unknown_key"
