"""changes.csv: visits paired per customer in date order, kept ones not listed."""

from __future__ import annotations

from territory.changes import change_rows, kept_share


def test_moved_added_and_dropped_visits_are_paired_in_date_order() -> None:
    old = {
        "K1": [("2027-05-03", "R1"), ("2027-05-10", "R1")],
        "K2": [("2027-05-04", "R2")],
        "K3": [("2027-05-05", "R1")],
    }
    new = {
        "K1": [("2027-05-03", "R1"), ("2027-05-07", "R1")],
        "K2": [("2027-05-04", "R2")],
        "K4": [("2027-05-06", "R2")],
    }
    rows = change_rows(old, new, {"K1": "absent 2027-05-10..2027-05-14", "K4": "new customer"})
    assert [(r["customer_id"], r["old_date"], r["new_date"], r["reason"]) for r in rows] == [
        ("K3", "2027-05-05", "", "re-planned"),
        ("K4", "", "2027-05-06", "new customer"),
        ("K1", "2027-05-10", "2027-05-07", "absent 2027-05-10..2027-05-14"),
    ]
    assert kept_share(old, new) == 2 / 4
    assert change_rows(old, old, {}) == [] and kept_share(old, old) == 1.0
