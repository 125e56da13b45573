"""Telesales: the inside-sales workload of the customers served by phone (chapter 6.6).

Rustenburg & Steenbeek, *Salesmanagement*, 6.6 (teleselling, contact and call centres): customers
whose visits cost more than they bring are called instead of visited. They leave the field plan;
their calls are a workload of their own, sized like the field force (6.3): call hours per period
against the selling hours one agent has, at a target utilisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from .models import Customer
from .params import DEFAULT_CALL_MINUTES, Config


@dataclass(frozen=True)
class PhoneClassRow:
    """One line of the inside-sales table: the phone customers of one class."""

    customer_class: str
    customers: int
    calls: int
    minutes_per_call: float
    hours: float


@dataclass(frozen=True)
class TelesalesResult:
    """The inside-sales workload per period and the agents it needs.

    ``agents_exact = call_hours / (agent_hours_per_period x utilisation)``; ``agents_needed``
    is that rounded up (0 without phone customers).
    """

    rows: tuple[PhoneClassRow, ...]
    agent_hours_per_period: float
    utilisation: float

    @property
    def customers(self) -> int:
        """Phone customers."""
        return sum(r.customers for r in self.rows)

    @property
    def calls(self) -> int:
        """Calls per period."""
        return sum(r.calls for r in self.rows)

    @property
    def call_hours(self) -> float:
        """Call hours per period."""
        return sum(r.hours for r in self.rows)

    @property
    def agents_exact(self) -> float:
        """Agents the calls need at the target utilisation (a fraction)."""
        return self.call_hours / (self.agent_hours_per_period * self.utilisation)

    @property
    def agents_needed(self) -> int:
        """Agents needed, rounded up."""
        return math.ceil(self.agents_exact - 1e-9) if self.call_hours > 0 else 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``size --json`` and summary.json (hours per period)."""
        return {
            "classes": [
                {
                    "class": r.customer_class,
                    "customers": r.customers,
                    "calls": r.calls,
                    "minutes_per_call": round(r.minutes_per_call, 2),
                    "hours": round(r.hours, 2),
                }
                for r in self.rows
            ],
            "customers": self.customers,
            "calls": self.calls,
            "call_hours": round(self.call_hours, 2),
            "agent_hours_per_period": round(self.agent_hours_per_period, 2),
            "utilisation": self.utilisation,
            "agents_exact": round(self.agents_exact, 3),
            "agents_needed": self.agents_needed,
        }


def call_hours(customer: Customer) -> float:
    """A phone customer's call hours per period (``calls x call_minutes / 60``)."""
    return customer.calls * customer.call_minutes / 60.0


def phone_workload(customers: Sequence[Customer], config: Config) -> TelesalesResult:
    """The inside-sales workload of ``customers`` (the phone customers) per class.

    Agents needed = calls x minutes per call / (an agent's hours per period x utilisation),
    with ``[phone] agent_hours_per_period`` (default: the period's working days x the day less
    lunch and admin) and ``[phone] utilisation``.
    """
    classes = sorted(
        {c.customer_class for c in customers}, key=lambda k: (k not in config.classes, k)
    )
    rows = []
    for k in classes:
        mine = [c for c in customers if c.customer_class == k]
        calls = sum(c.calls for c in mine)
        minutes = sum(c.calls * c.call_minutes for c in mine)
        rows.append(
            PhoneClassRow(
                customer_class=k,
                customers=len(mine),
                calls=calls,
                minutes_per_call=minutes / calls if calls else 0.0,
                hours=minutes / 60.0,
            )
        )
    phone = config.phone
    return TelesalesResult(
        rows=tuple(rows),
        agent_hours_per_period=phone.agent_hours(config.period, config.day),
        utilisation=phone.utilisation,
    )


def to_phone(customer: Customer, config: Config) -> Customer:
    """``customer`` served by phone: the calls and call minutes of its class."""
    spec = config.classes.get(customer.customer_class)
    calls = spec.calls_per_period if spec is not None else max(customer.visits, 1)
    minutes = spec.minutes_per_call if spec is not None else DEFAULT_CALL_MINUTES
    return replace(customer, channel="phone", calls=calls, call_minutes=minutes)
