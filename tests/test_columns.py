"""The plan-folder schema: the contract's columns in the contract's order, one label rule."""

from __future__ import annotations

import datetime as dt

import pytest

from territory import columns
from territory.columns import Column, Kind, column, day_label
from territory.params import PeriodParams
from territory.schedule import day_index
from territory.schedule import day_label as schedule_day_label

#: The plan folder's columns as the README and docs/interfaces.md promise them (a user contract:
#: spreadsheets and scripts read these files by name and by position).
CONTRACT = {
    "assignments.csv": (
        "customer_id", "rep_id", "changed", "distance_km_home", "name", "lat", "lon", "class",
        "visits", "visit_minutes", "potential", "current_rep", "locked_rep", "workload_min",
        "located", "street", "postcode", "city", "open", "close", "phone",
    ),
    "territories.csv": (
        "rep_id", "customers", "visits", "visit_hours", "travel_hours", "admin_hours",
        "workload_hours", "capacity_hours", "utilization", "potential", "travel_km", "rep_name",
        "home_lat", "home_lon", "connected", "moved_in", "moved_out", "deviation",
    ),
    "schedule.csv": (
        "rep_id", "date", "week", "weekday", "seq", "customer_id", "arrival", "start", "end",
        "travel_min", "travel_km", "customer_name", "lat", "lon",
    ),
    "days.csv": (
        "rep_id", "date", "week", "weekday", "depart", "return", "visits", "visit_min",
        "travel_min", "travel_km", "overtime_min", "lunch_start",
    ),
    "unscheduled.csv": ("customer_id", "rep_id", "reason", "customer_name", "visit", "date"),
}  # fmt: skip
#: The tables written only when used (economics, phone customers) and scenarios.csv.
EXTRA_CONTRACT = {
    "economics.csv": (
        "rep_id", "customers", "revenue", "margin_eur", "rep_cost_eur", "travel_cost_eur",
        "contribution_eur", "cost_per_visit_eur", "break_even_revenue_eur", "rep_name",
        "visits_year", "travel_km_year", "safety_margin", "flagged_customers",
    ),
    "customer_economics.csv": (
        "customer_id", "rep_id", "revenue", "margin_eur", "visits", "visit_cost_eur",
        "contribution_eur", "channel", "cost_above_margin", "name", "class", "calls",
    ),
    "phone_customers.csv": (
        "customer_id", "name", "class", "calls", "call_minutes", "call_hours", "current_rep",
        "lat", "lon",
    ),
    "scenarios.csv": (
        "scenario", "reps", "phone_customers", "customers_moved", "max_workload_deviation",
        "min_utilisation", "max_utilisation", "visits_unscheduled", "travel_hours", "travel_km",
        "agents_needed", "cost_eur", "contribution_eur", "revenue", "folder", "note",
    ),
}  # fmt: skip
ROUTE_PROPERTIES = (
    "rep_id", "date", "week", "weekday", "depart", "return", "visits", "travel_min", "travel_km",
)  # fmt: skip
UNITS = {"", "km", "min", "h", "EUR", "deg", "share"}


def test_tables_keep_the_contract_columns_in_order() -> None:
    assert {t.file: tuple(c.value for c in t.columns) for t in columns.TABLES} == CONTRACT
    assert tuple(c.value for c in columns.ROUTE_PROPERTIES) == ROUTE_PROPERTIES
    assert columns.TERRITORIES.columns == columns.TERRITORY_PROPERTIES
    assert [t.name for t in columns.TABLES] == [f.removesuffix(".csv") for f in CONTRACT]


def test_the_extra_tables_keep_their_contract_columns_in_order() -> None:
    extra = (*columns.ECONOMICS_TABLES, columns.SCENARIOS)
    assert {t.file: tuple(c.value for c in t.columns) for t in extra} == EXTRA_CONTRACT


def test_every_column_is_written_somewhere_and_fully_described() -> None:
    tables = (*columns.TABLES, *columns.OPTIONAL_TABLES, columns.SCENARIOS)
    used = {c for t in tables for c in t.columns}
    assert used == set(Column)
    for c in Column:
        assert c.en and c.nl, c
        assert c.unit in UNITS, c
        # every decimal quantity has a unit; counts, ids, flags, dates and times have none
        assert (c.unit != "") == (c.kind is Kind.FLOAT), c
    # a unit named in a column's name is its unit
    for suffix, unit in (("_km", "km"), ("_min", "min"), ("_hours", "h")):
        for c in Column:
            if c.value.endswith(suffix) or f"{suffix}_" in c.value:
                assert c.unit == unit, c


def test_a_column_is_its_name() -> None:
    assert Column.REP_ID == "rep_id" and f"{Column.REP_ID}" == "rep_id"
    assert {"rep_id": "R1"}[Column.REP_ID] == "R1"
    assert column("travel_km") is Column.TRAVEL_KM
    assert column("not a column") is None
    assert Column.WORKLOAD_HOURS.header("nl") == "Bewerkingstijd (uur)"
    assert Column.WORKLOAD_HOURS.header("fr") == Column.WORKLOAD_HOURS.header("en")


@pytest.mark.parametrize(
    ("week", "weekday", "date", "label"),
    [
        (1, "mon", "", "w1-mon"),
        ("3", "fri", "", "w3-fri"),
        (2, "wed", "2027-01-13", "2027-01-13"),
        (2, "wed", " 2027-01-13 ", "2027-01-13"),
    ],
)
def test_day_label(week: int | str, weekday: str, date: str, label: str) -> None:
    assert day_label(week, weekday, date) == label


def test_the_schedule_labels_days_by_the_same_rule() -> None:
    for start in (None, dt.date(2027, 1, 4), dt.date(2027, 1, 6)):
        period = PeriodParams(weeks=3, start_date=start)
        for week in (1, 2, 3):
            for weekday in period.days:
                label = schedule_day_label(day_index(week, weekday, period), period)
                date = label if start is not None else ""
                assert label == day_label(week, weekday, date)
                assert (start is None) == label.startswith("w")
