"""Workload: per-customer workload, the workload method (bewerkingstaak) and the potential method.

Chapter 6.3 of Rustenburg & Steenbeek, *Salesmanagement*: the number of reps follows from the
total visiting time a customer base asks for (customers x visits per period x minutes per visit,
plus travel and admin) against the selling time one rep has in the same period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .models import Customer, Rep
from .params import Config
from .telesales import TelesalesResult
from .travel import Legs, Points, TravelModel, crow, haversine_km, project_km
from .workdays import period_working_days, rep_days_off

#: Beyond this straight-line distance (km) a nearest neighbour is not a neighbour on a route
#: (an island or a lone outlier); the allowance is capped there so one outlier cannot dominate.
MAX_LEG_KM = 40.0


@dataclass(frozen=True)
class CustomerWorkload:
    """Per-customer workload over one period, aligned with the customer list (minutes).

    Attributes
    ----------
    visits
        Visits per period.
    minutes_per_visit
        Length of one visit (``Customer.visit_minutes``).
    travel_min_per_visit
        Travel allowance per visit (minutes).
    travel_km_per_visit
        The road km of that allowance (what ``territories.csv`` reports before routing).
    """

    visits: NDArray[np.int64]
    minutes_per_visit: NDArray[np.float64]
    travel_min_per_visit: NDArray[np.float64]
    travel_km_per_visit: NDArray[np.float64]

    @property
    def visit_total_min(self) -> NDArray[np.float64]:
        """Visiting minutes per period."""
        return self.visits * self.minutes_per_visit

    @property
    def travel_total_min(self) -> NDArray[np.float64]:
        """Travel allowance minutes per period."""
        return self.visits * self.travel_min_per_visit

    @property
    def travel_total_km(self) -> NDArray[np.float64]:
        """Road km of the travel allowance per period."""
        return self.visits * self.travel_km_per_visit

    @property
    def workload_min(self) -> NDArray[np.float64]:
        """Visits plus travel allowance per period: what territory design balances."""
        return self.visit_total_min + self.travel_total_min


def travel_allowance_per_visit(
    points: Points, config: Config, travel: TravelModel | None = None
) -> Legs:
    """Travel to allow per visit of each customer, from the local density of customers.

    A visit costs about one route leg. In an optimal tour through n random points the mean leg is
    0.7124 sqrt(A/n) (Beardwood-Halton-Hammersley) while the mean nearest-neighbour distance is
    0.5 sqrt(A/n), so a leg is about 1.42 x the nearest-neighbour distance (``travel_leg_factor``).
    Each customer's allowance is that factor x the travel (``travel``: road km and minutes) to
    its nearest other customer, scaled down where that neighbour is more than ``MAX_LEG_KM`` away
    in a straight line. Rural customers therefore weigh more than city customers, as they do on
    the road.
    """
    n = len(points)
    if n < 2:
        return Legs(np.zeros(n), np.zeros(n))
    travel = travel if travel is not None else crow(config.travel)
    xy = project_km(points.lat, points.lon)
    # k=2: the nearest point other than itself; duplicate locations give 0, which is right.
    dist, nearest = cKDTree(xy).query(xy, k=2)
    legs = travel.pairs(points, points.take(nearest[:, 1]))
    straight = dist[:, 1]
    cap = np.where(straight > MAX_LEG_KM, MAX_LEG_KM / np.maximum(straight, 1e-9), 1.0)
    factor = config.sizing.travel_leg_factor * cap
    return Legs(legs.km * factor, legs.minutes * factor)


def customer_workload(
    customers: Sequence[Customer],
    config: Config,
    reps: Sequence[Rep] | None = None,
    *,
    travel: TravelModel | None = None,
) -> CustomerWorkload:
    """Per-customer visits, visit minutes and travel allowance for one period.

    The allowance per visit is the local leg (``travel_allowance_per_visit``) plus, when the reps'
    homes are known, each day's way out and home spread over the visits of a day
    (``home_leg_per_visit``), both from ``travel`` (default: the straight-line model of
    ``config.travel``). ``territory size`` and territory design use this one definition.
    """
    travel = travel if travel is not None else crow(config.travel)
    points = Points.of(customers)
    visits = np.array([c.visits for c in customers], dtype=np.int64)
    allowance = travel_allowance_per_visit(points, config, travel)
    km, minutes = allowance.km, allowance.minutes
    if reps:
        home = home_leg_per_visit(points, visits, reps, config, travel)
        km, minutes = km + home.km, minutes + home.minutes
    return CustomerWorkload(
        visits=visits,
        minutes_per_visit=np.array([c.visit_minutes for c in customers], dtype=np.float64),
        travel_min_per_visit=minutes,
        travel_km_per_visit=km,
    )


def relative_deviation(
    load: NDArray[np.number[Any]], target: NDArray[np.number[Any]]
) -> NDArray[np.float64]:
    """``load / target - 1`` per territory; 0 where the target is 0 (a rep without working
    time, who holds at most accounts locked to them: reported by a note, not as a deviation)."""
    return np.where(target > 0, load / np.maximum(target, 1e-12) - 1.0, 0.0)


def rep_working_days(rep: Rep, config: Config) -> int:
    """The rep's working days in the period: their own weekdays that the period works, less
    public holidays and the rep's absences (``workdays.days_off``)."""
    own = set(rep.days) if rep.days else set(config.period.days)
    days = sum(1 for d in config.period.days if d in own) * config.period.weeks
    return days - rep_days_off(rep, config)


def rep_capacity_min(rep: Rep, config: Config) -> float:
    """Working minutes (excluding lunch) a rep has in the period, scaled by ``capacity``."""
    days = rep_working_days(rep, config)
    start = rep.start_min if rep.start_min is not None else config.day.start_min
    end = rep.end_min if rep.end_min is not None else config.day.end_min
    return rep.capacity * days * (end - start - config.day.lunch_minutes)


def rep_admin_min(rep: Rep, config: Config) -> float:
    """Admin minutes a rep spends in the period (``admin_minutes`` per working day)."""
    days = rep_working_days(rep, config)
    return rep.capacity * days * config.day.admin_minutes


@dataclass(frozen=True)
class ClassRow:
    """One line of the workload-method table."""

    customer_class: str
    customers: int
    visits_per_customer: float
    visits: int
    minutes_per_visit: float
    visit_hours: float
    travel_hours: float

    @property
    def hours(self) -> float:
        """Visit plus travel hours for the class."""
        return self.visit_hours + self.travel_hours


@dataclass(frozen=True)
class SizingResult:
    """The workload method's answer, and the potential method's where configured."""

    rows: tuple[ClassRow, ...]
    weeks: int
    working_days: int
    day_length_min: int
    lunch_min: int
    admin_min: int
    selling_hours_per_rep: float
    target_utilization: float
    travel_min_per_visit: float
    travel_basis: str
    reps_exact: float
    reps_recommended: int
    current_reps: int | None
    alternatives: tuple[dict[str, float], ...]
    potential_total: float
    potential_per_rep: float | None
    reps_by_potential: int | None
    telesales: TelesalesResult | None = None  # the phone customers' calls (6.6), when any

    @property
    def visits(self) -> int:
        """Visits per period, all classes."""
        return sum(r.visits for r in self.rows)

    @property
    def visit_hours(self) -> float:
        """Visiting hours per period, all classes."""
        return sum(r.visit_hours for r in self.rows)

    @property
    def travel_hours(self) -> float:
        """Travel allowance hours per period, all classes."""
        return sum(r.travel_hours for r in self.rows)

    @property
    def total_hours(self) -> float:
        """Visits plus travel per period: the bewerkingstaak in hours."""
        return self.visit_hours + self.travel_hours

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: the same numbers the table prints."""
        return {
            "period": {"weeks": self.weeks, "working_days": self.working_days},
            "classes": [
                {
                    "class": r.customer_class,
                    "customers": r.customers,
                    "visits_per_customer": round(r.visits_per_customer, 3),
                    "visits": r.visits,
                    "minutes_per_visit": round(r.minutes_per_visit, 2),
                    "visit_hours": round(r.visit_hours, 2),
                    "travel_hours": round(r.travel_hours, 2),
                    "hours": round(r.hours, 2),
                }
                for r in self.rows
            ],
            "totals": {
                "customers": sum(r.customers for r in self.rows),
                "visits": self.visits,
                "visit_hours": round(self.visit_hours, 2),
                "travel_hours": round(self.travel_hours, 2),
                "hours": round(self.total_hours, 2),
            },
            "travel_allowance": {
                "minutes_per_visit": round(self.travel_min_per_visit, 2),
                "basis": self.travel_basis,
            },
            "rep": {
                "day_length_min": self.day_length_min,
                "lunch_min": self.lunch_min,
                "admin_min": self.admin_min,
                "selling_hours_per_period": round(self.selling_hours_per_rep, 2),
                "target_utilization": self.target_utilization,
            },
            "reps_exact": round(self.reps_exact, 3),
            "reps_recommended": self.reps_recommended,
            "current_reps": self.current_reps,
            "alternatives": list(self.alternatives),
            "potential": {
                "total": round(self.potential_total, 2),
                "per_rep_target": self.potential_per_rep,
                "reps": self.reps_by_potential,
            },
            **({"telesales": self.telesales.to_dict()} if self.telesales is not None else {}),
        }


def size_team(
    customers: Sequence[Customer],
    config: Config,
    reps: Sequence[Rep] | None = None,
    *,
    travel: TravelModel | None = None,
) -> SizingResult:
    """The workload method (bewerkingstaak, chapter 6.3) and the potential method.

    Reps needed = (visit hours + travel hours) / (selling hours per rep x target utilisation),
    where one rep's selling hours per period = working days x (day length - lunch - admin).
    """
    wl = customer_workload(customers, config, reps, travel=travel)
    classes = sorted(
        {c.customer_class for c in customers}, key=lambda k: (k not in config.classes, k)
    )
    rows = []
    for k in classes:
        idx = np.array(
            [i for i, c in enumerate(customers) if c.customer_class == k], dtype=np.int64
        )
        visits = int(wl.visits[idx].sum())
        rows.append(
            ClassRow(
                customer_class=k,
                customers=len(idx),
                visits_per_customer=visits / len(idx),
                visits=visits,
                minutes_per_visit=float(wl.visit_total_min[idx].sum() / visits) if visits else 0.0,
                visit_hours=float(wl.visit_total_min[idx].sum() / 60.0),
                travel_hours=float(wl.travel_total_min[idx].sum() / 60.0),
            )
        )
    total_visits = int(wl.visits.sum())
    travel_per_visit = float(wl.travel_total_min.sum() / total_visits) if total_visits else 0.0
    basis = f"{config.sizing.travel_leg_factor:g} x {_travel_words(travel, config)}"
    if reps:
        home = home_leg_per_visit(Points.of(customers), wl.visits, reps, config, travel)
        basis += (
            f", plus {float(home.minutes):.1f} min per visit for each day's way out from and "
            "back to the nearest rep home"
        )

    d = config.day
    working_days = period_working_days(config)  # public holidays are no working days
    selling_h = working_days * d.selling_min / 60.0
    total_h = sum(r.hours for r in rows)
    util = config.sizing.target_utilization
    exact = total_h / (selling_h * util)
    recommended = max(1, math.ceil(exact - 1e-9))
    alternatives = []
    for n in sorted({max(1, recommended - 1), recommended, recommended + 1}):
        alternatives.append(
            {
                "reps": n,
                "utilization": round(total_h / (n * selling_h), 4),
                "hours_per_rep": round(total_h / n, 2),
                "spare_hours_per_rep": round(selling_h - total_h / n, 2),
            }
        )
    potential_total = float(sum(c.potential for c in customers))
    ppr = config.sizing.potential_per_rep
    reps_by_potential = (
        max(1, math.ceil(potential_total / ppr - 1e-9)) if ppr and potential_total > 0 else None
    )
    return SizingResult(
        rows=tuple(rows),
        weeks=config.period.weeks,
        working_days=working_days,
        day_length_min=d.length_min,
        lunch_min=d.lunch_minutes,
        admin_min=d.admin_minutes,
        selling_hours_per_rep=selling_h,
        target_utilization=util,
        travel_min_per_visit=travel_per_visit,
        travel_basis=basis,
        reps_exact=exact,
        reps_recommended=recommended,
        current_reps=len(reps) if reps else None,
        alternatives=tuple(alternatives),
        potential_total=potential_total,
        potential_per_rep=ppr,
        reps_by_potential=reps_by_potential,
    )


def home_leg_per_visit(
    points: Points,
    visits: NDArray[np.int64],
    reps: Sequence[Rep],
    config: Config,
    travel: TravelModel | None = None,
) -> Legs:
    """Travel per visit for the daily drive from home to the first and from the last customer.

    Each day starts and ends at home; the out-and-back is estimated as the mean travel from the
    nearest rep home (straight line) to a customer and back, once per working day, spread over
    the visits of a day (at least one). Returns one (km, minutes) pair, the same for every visit (0-d arrays).
    """
    total_visits = int(np.sum(visits))
    if len(points) == 0 or not reps or total_visits == 0:
        return Legs(np.zeros(()), np.zeros(()))
    travel = travel if travel is not None else crow(config.travel)
    best = np.full(len(points), np.inf)
    nearest = np.zeros(len(points), dtype=np.intp)
    for j, r in enumerate(reps):  # one column per rep: never an n x n matrix
        d = haversine_km(points.lat, points.lon, r.lat, r.lon)
        closer = d < best
        best = np.where(closer, d, best)
        nearest[closer] = j
    homes = Points.of(reps).take(nearest)
    out, back = travel.pairs(homes, points), travel.pairs(points, homes)
    working_days = max(period_working_days(config), 1)
    visits_per_day = max(total_visits / (len(reps) * working_days), 1.0)
    return Legs(
        np.asarray(np.mean(out.km + back.km) / visits_per_day, dtype=np.float64),
        np.asarray(np.mean(out.minutes + back.minutes) / visits_per_day, dtype=np.float64),
    )


def _travel_words(travel: TravelModel | None, config: Config) -> str:
    """How the leg to the nearest other customer is measured, in words."""
    about = travel.describe() if travel is not None else {"source": "crow"}
    if about["source"] == "crow":
        tp = config.travel
        return (
            f"distance to the nearest other customer x circuity {tp.circuity:g} "
            f"at {tp.speed_kmh:g} km/h"
        )
    return f"travel time to the nearest other customer ({about['source']} travel source)"
