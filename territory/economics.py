"""Economics: what each territory and each customer earns and costs (chapter 9).

Rustenburg & Steenbeek, *Salesmanagement*, chapter 9 (sales-related break-even calculations;
evaluating the sales organisation and its customers). Every amount is in EUR per year:

* a territory's **margin** is its customers' revenue x ``margin``; its **rep cost** is
  ``rep_cost_per_year`` x the rep's ``capacity``; its **travel cost** is its km per period x
  ``periods_per_year`` x ``cost_per_km``; its **contribution** (dekkingsbijdrage) is margin -
  rep cost - travel cost;
* its **break-even revenue** is the revenue whose margin just covers the rep and the travel:
  (rep cost + travel cost) / margin; the **margin of safety** is (revenue - break-even) / revenue;
* a **customer's cost** is its share of its territory's cost: of the rep cost by its share of the
  territory's workload minutes (visits plus travel allowance), of the travel cost by its share of
  the allowance's km, so the customers' costs add up to their territory's. A phone customer
  costs its call hours / ``[phone] utilisation`` x ``phone_cost_per_hour`` (the agent's paid
  hours). A customer whose cost exceeds its margin is flagged: the textbook's case for serving
  it by phone (6.6) or less often.

Revenue is the customers' ``revenue`` column (last year's sales) where the file has one, else
their ``potential``; with neither, there are no economics (:func:`revenue_basis` is None).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .columns import Column as C
from .models import Customer, Design, Rep
from .params import Config, EconomicsParams
from .report import Row, TerritoryFigures
from .telesales import call_hours
from .workload import CustomerWorkload


def revenue_basis(customers: Sequence[Customer]) -> str | None:
    """ "revenue" when any customer has a revenue, else "potential" when any has one, else None."""
    if any(c.revenue is not None for c in customers):
        return "revenue"
    if any(c.potential > 0 for c in customers):
        return "potential"
    return None


def customer_revenue(customers: Sequence[Customer], basis: str) -> NDArray[np.float64]:
    """Each customer's yearly revenue in EUR on ``basis`` (an empty revenue counts 0)."""
    if basis == "revenue":
        return np.array([c.revenue or 0.0 for c in customers], dtype=np.float64)
    return np.array([c.potential for c in customers], dtype=np.float64)


@dataclass(frozen=True)
class Economics:
    """The economics of one plan: per territory (``design.rep_ids`` order) and per customer.

    Amounts in EUR per year. Field customers are in load order (``design.assignment``), phone
    customers after them in theirs.
    """

    basis: str
    periods_per_year: float
    rep_ids: tuple[str, ...]
    rep_names: tuple[str, ...]
    customers: NDArray[np.int64]
    revenue: NDArray[np.float64]
    margin_eur: NDArray[np.float64]
    rep_cost_eur: NDArray[np.float64]
    travel_km_year: NDArray[np.float64]
    travel_cost_eur: NDArray[np.float64]
    visits_year: NDArray[np.float64]
    flagged: NDArray[np.int64]
    field: tuple[Customer, ...]
    field_territory: NDArray[np.int64]
    field_revenue: NDArray[np.float64]
    field_cost_eur: NDArray[np.float64]
    phone: tuple[Customer, ...]
    phone_revenue: NDArray[np.float64]
    phone_cost_eur: NDArray[np.float64]
    margin: float

    @property
    def contribution_eur(self) -> NDArray[np.float64]:
        """Per territory: margin - rep cost - travel cost."""
        out: NDArray[np.float64] = self.margin_eur - self.rep_cost_eur - self.travel_cost_eur
        return out

    @property
    def break_even_revenue_eur(self) -> NDArray[np.float64]:
        """Per territory: (rep cost + travel cost) / margin."""
        out: NDArray[np.float64] = (self.rep_cost_eur + self.travel_cost_eur) / self.margin
        return out

    def totals(self) -> dict[str, Any]:
        """The team's yearly figures (summary.json ``economics``; ``scenarios.csv``)."""
        margin = float(self.margin_eur.sum() + self.phone_revenue.sum() * self.margin)
        rep = float(self.rep_cost_eur.sum())
        travel = float(self.travel_cost_eur.sum())
        phone = float(self.phone_cost_eur.sum())
        cost = rep + travel + phone
        flagged = int(self.flagged.sum())
        phone_flagged = int(
            np.sum(self.phone_cost_eur > np.round(self.phone_revenue * self.margin, 2))
        )
        return {
            "basis": self.basis,
            "periods_per_year": round(self.periods_per_year, 4),
            "revenue_eur": round(float(self.revenue.sum() + self.phone_revenue.sum()), 2),
            "margin_eur": round(margin, 2),
            "rep_cost_eur": round(rep, 2),
            "travel_cost_eur": round(travel, 2),
            "phone_cost_eur": round(phone, 2),
            "cost_eur": round(cost, 2),
            "contribution_eur": round(margin - cost, 2),
            "break_even_revenue_eur": round(cost / self.margin, 2),
            "customers_cost_above_margin": flagged + phone_flagged,
        }


def compute(
    field: Sequence[Customer],
    phone: Sequence[Customer],
    design: Design,
    *,
    team: Sequence[Rep],
    workload: CustomerWorkload,
    figures: TerritoryFigures,
    config: Config,
) -> Economics | None:
    """The economics of a design or plan (None without ``[economics]`` or without revenue).

    Parameters
    ----------
    field
        The customers of the design (``design.assignment`` order).
    phone
        The customers served by phone.
    design, team
        The territories and their reps (``report.team_reps``).
    workload
        The field customers' workload (visits, travel allowance: the cost shares).
    figures
        The territories' figures per period (estimated for a design, routed for a plan): the
        travel km.
    config
        ``config.economics`` (None: no economics) and the period.
    """
    econ = config.economics
    basis = revenue_basis([*field, *phone])
    if econ is None or basis is None:
        return None
    periods = econ.periods(config.period)
    k = len(design.rep_ids)
    a = np.asarray(design.assignment, dtype=np.int64)
    revenue_i = customer_revenue(field, basis)
    revenue = np.bincount(a, weights=revenue_i, minlength=k).astype(np.float64)
    rep_cost = np.array([econ.rep_cost_per_year * r.capacity for r in team], dtype=np.float64)
    travel_km_year = np.asarray(figures.travel_km, dtype=np.float64) * periods
    travel_cost = travel_km_year * econ.cost_per_km
    # customers' amounts in cents, so that the flag and the written columns agree
    cost_i = np.round(_customer_cost(a, k, workload, rep_cost, travel_cost), 2)
    flagged_i = cost_i > np.round(revenue_i * econ.margin, 2)
    phone_revenue = customer_revenue(phone, basis)
    return Economics(
        basis=basis,
        periods_per_year=periods,
        rep_ids=design.rep_ids,
        rep_names=tuple(r.name for r in team),
        customers=np.bincount(a, minlength=k).astype(np.int64),
        revenue=revenue,
        margin_eur=revenue * econ.margin,
        rep_cost_eur=rep_cost,
        travel_km_year=travel_km_year,
        travel_cost_eur=travel_cost,
        visits_year=np.asarray(
            np.bincount(a, weights=workload.visits.astype(float), minlength=k) * periods,
            dtype=np.float64,
        ),
        flagged=np.bincount(a, weights=flagged_i.astype(float), minlength=k).astype(np.int64),
        field=tuple(field),
        field_territory=a,
        field_revenue=revenue_i,
        field_cost_eur=cost_i,
        phone=tuple(phone),
        phone_revenue=phone_revenue,
        phone_cost_eur=np.round(np.array([phone_cost_eur(c, econ, config) for c in phone]), 2),
        margin=econ.margin,
    )


def _customer_cost(
    a: NDArray[np.int64],
    k: int,
    workload: CustomerWorkload,
    rep_cost: NDArray[np.float64],
    travel_cost: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Each field customer's share of its territory's rep cost (by workload minutes) and
    travel cost (by travel-allowance km); a territory whose customers have no minutes (or no
    km) shares equally."""
    cost = np.zeros(len(a))
    for weights, total in (
        (workload.workload_min, rep_cost),
        (workload.travel_total_km, travel_cost),
    ):
        w = np.asarray(weights, dtype=np.float64)
        count = np.bincount(a, minlength=k).astype(np.float64)
        mass = np.bincount(a, weights=w, minlength=k)
        share = np.where(
            mass[a] > 0, w / np.maximum(mass[a], 1e-12), 1.0 / np.maximum(count[a], 1.0)
        )
        cost += share * total[a]
    return cost


def phone_cost_eur(customer: Customer, econ: EconomicsParams, config: Config) -> float:
    """A phone customer's yearly cost: its call hours / utilisation x the phone hour's cost."""
    hours = call_hours(customer) * econ.periods(config.period) / config.phone.utilisation
    return hours * econ.phone_cost_per_hour


def territory_rows(econ: Economics) -> list[Row]:
    """economics.csv: one row per territory."""
    rows: list[Row] = []
    for t, rep_id in enumerate(econ.rep_ids):
        # the written amounts add up exactly: each derived one from the rounded parts
        revenue = round(float(econ.revenue[t]), 2)
        margin = round(float(econ.margin_eur[t]), 2)
        rep_cost = round(float(econ.rep_cost_eur[t]), 2)
        travel_cost = round(float(econ.travel_cost_eur[t]), 2)
        cost = rep_cost + travel_cost
        break_even = round(cost / econ.margin, 2)
        visits = round(float(econ.visits_year[t]))
        rows.append(
            {
                C.REP_ID: rep_id,
                C.CUSTOMERS: int(econ.customers[t]),
                C.REVENUE: revenue,
                C.MARGIN_EUR: margin,
                C.REP_COST_EUR: rep_cost,
                C.TRAVEL_COST_EUR: travel_cost,
                C.CONTRIBUTION_EUR: round(margin - cost, 2),
                C.COST_PER_VISIT_EUR: round(cost / visits, 2) if visits > 0 else None,
                C.BREAK_EVEN_REVENUE_EUR: break_even,
                C.REP_NAME: econ.rep_names[t],
                C.VISITS_YEAR: visits,
                C.TRAVEL_KM_YEAR: round(float(econ.travel_km_year[t]), 1),
                C.SAFETY_MARGIN: round((revenue - break_even) / revenue, 4)
                if revenue > 0
                else None,
                C.FLAGGED_CUSTOMERS: int(econ.flagged[t]),
            }
        )
    return rows


def customer_rows(econ: Economics) -> list[Row]:
    """customer_economics.csv: the field customers in load order, then the phone customers."""
    rows: list[Row] = []
    m = econ.margin
    for i, c in enumerate(econ.field):
        revenue, cost = float(econ.field_revenue[i]), float(econ.field_cost_eur[i])
        rows.append(
            _customer_row(c, econ.rep_ids[econ.field_territory[i]], revenue, m, cost, c.visits)
        )
    for i, c in enumerate(econ.phone):
        revenue, cost = float(econ.phone_revenue[i]), float(econ.phone_cost_eur[i])
        rows.append(_customer_row(c, "", revenue, m, cost, 0))
    return rows


def _customer_row(
    c: Customer, rep_id: str, revenue: float, margin: float, cost: float, visits: int
) -> Row:
    margin_eur = round(revenue * margin, 2)
    return {
        C.CUSTOMER_ID: c.id,
        C.REP_ID: rep_id,
        C.REVENUE: round(revenue, 2),
        C.MARGIN_EUR: margin_eur,
        C.VISITS: visits,
        C.VISIT_COST_EUR: cost,
        C.CONTRIBUTION_EUR: round(margin_eur - cost, 2),
        C.CHANNEL: c.channel,
        C.COST_ABOVE_MARGIN: cost > margin_eur,
        C.NAME: c.name,
        C.CLASS: c.customer_class,
        C.CALLS: c.calls,
    }


def phone_rows(phone: Sequence[Customer]) -> list[Row]:
    """phone_customers.csv: one row per customer served by phone, in load order."""
    return [
        {
            C.CUSTOMER_ID: c.id,
            C.NAME: c.name,
            C.CLASS: c.customer_class,
            C.CALLS: c.calls,
            C.CALL_MINUTES: c.call_minutes,
            C.CALL_HOURS: round(call_hours(c), 3),
            C.CURRENT_REP: c.current_rep,
            C.LAT: round(c.lat, 6),
            C.LON: round(c.lon, 6),
        }
        for c in phone
    ]
