"""The workload method (bewerkingstaak, Rustenburg & Steenbeek 6.3), checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from territory import Config, Customer, Rep
from territory.params import ClassParams, SizingParams
from territory.travel import Points
from territory.workload import (
    customer_workload,
    rep_capacity_min,
    size_team,
    travel_allowance_per_visit,
)


def textbook_customers() -> list[Customer]:
    """The textbook's worked example: 200 A, 600 B and 400 C customers on a grid.

    Visit units: A 1 visit x 0.8, B 1 x 1.0, C 2 x 1.5 per four weeks; one unit = 60 minutes.
    """
    out = []
    counts = {"A": 200, "B": 600, "C": 400}
    i = 0
    for cls, n in counts.items():
        for _ in range(n):
            out.append(
                Customer(
                    id=f"K{i}",
                    lat=51.5 + (i // 40) * 0.02,
                    lon=4.5 + (i % 40) * 0.02,
                    customer_class=cls,
                    visits={"A": 1, "B": 1, "C": 2}[cls],
                    visit_minutes={"A": 48, "B": 60, "C": 90}[cls],
                )
            )
            i += 1
    return out


def textbook_config() -> Config:
    return Config(
        classes={"A": ClassParams(1, 48), "B": ClassParams(1, 60), "C": ClassParams(2, 90)}
    )


def test_textbook_example_1960_visit_units():
    result = size_team(textbook_customers(), textbook_config())
    by_class = {r.customer_class: r for r in result.rows}
    # 200 x 1 x 0.8 + 600 x 1 x 1.0 + 400 x 2 x 1.5 = 160 + 600 + 1200 = 1960 hours of visits.
    assert by_class["A"].visit_hours == pytest.approx(160)
    assert by_class["B"].visit_hours == pytest.approx(600)
    assert by_class["C"].visit_hours == pytest.approx(1200)
    assert result.visit_hours == pytest.approx(1960)
    assert result.visits == 200 + 600 + 800


def test_reps_needed_is_hours_over_selling_time():
    cfg = textbook_config()
    result = size_team(textbook_customers(), cfg)
    selling_h = 20 * (510 - 30 - 30) / 60  # 20 days x 7.5 h
    assert result.selling_hours_per_rep == pytest.approx(selling_h)
    exact = result.total_hours / (selling_h * cfg.sizing.target_utilization)
    assert result.reps_exact == pytest.approx(exact)
    assert result.reps_recommended == math.ceil(exact)
    alts = {a["reps"]: a for a in result.alternatives}
    assert set(alts) == {
        result.reps_recommended - 1,
        result.reps_recommended,
        result.reps_recommended + 1,
    }
    n = result.reps_recommended
    assert alts[n]["utilization"] == pytest.approx(result.total_hours / (n * selling_h), abs=1e-4)


def test_travel_allowance_uses_nearest_neighbour_distance():
    cfg = Config()
    # Three customers 10 km apart on a meridian (0.08993 deg of latitude ~ 10 km).
    lat = np.array([52.0, 52.0 + 0.089932, 52.0 + 2 * 0.089932])
    lon = np.array([5.0, 5.0, 5.0])
    allowance = travel_allowance_per_visit(Points(lat, lon), cfg)
    expected = 10.0 * cfg.sizing.travel_leg_factor * cfg.travel.circuity / cfg.travel.speed_kmh * 60
    assert allowance.minutes == pytest.approx([expected] * 3, rel=0.01)
    assert allowance.km == pytest.approx([10.0 * 1.42 * cfg.travel.circuity] * 3, rel=0.01)


def test_home_leg_is_added_when_reps_are_known():
    cfg = Config()
    customers = textbook_customers()[:50]
    without = customer_workload(customers, cfg)
    rep = Rep(id="R1", lat=52.5, lon=5.5)
    with_home = customer_workload(customers, cfg, [rep])
    assert np.all(with_home.travel_min_per_visit > without.travel_min_per_visit)
    assert np.array_equal(with_home.minutes_per_visit, without.minutes_per_visit)


def test_potential_method():
    cfg = Config(sizing=SizingParams(potential_per_rep=1_000_000))
    customers = [
        Customer(id=str(i), lat=52 + i * 0.01, lon=5, customer_class="C", potential=150_000)
        for i in range(20)
    ]
    result = size_team(customers, cfg)
    assert result.potential_total == 3_000_000 and result.reps_by_potential == 3
    d = result.to_dict()
    assert d["potential"]["reps"] == 3 and d["reps_recommended"] == result.reps_recommended


def test_rep_capacity_scales_with_capacity_and_days():
    cfg = Config()
    full = rep_capacity_min(Rep(id="a", lat=52, lon=5), cfg)
    assert full == 20 * (510 - 30)
    assert rep_capacity_min(Rep(id="b", lat=52, lon=5, capacity=0.8), cfg) == pytest.approx(
        0.8 * full
    )
    assert rep_capacity_min(Rep(id="c", lat=52, lon=5, days=("mon", "tue")), cfg) == pytest.approx(
        8 * 480
    )
