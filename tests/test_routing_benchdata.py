"""Tests for the benchmark readers in scripts/benchdata.py (distance conventions, parsing)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from benchdata import _isqrt_floor, read_solomon, read_tsplib

SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  2         50

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0       1000          0
    1      3          4         10        100        200         10
    2      1          1         20          0        500         10
"""

TSP = """NAME : tiny
TYPE : TSP
DIMENSION : 3
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 3 4
3 1 1
EOF
"""


def test_isqrt_floor_is_exact_at_perfect_squares_and_between() -> None:
    values = np.array([0, 1, 2, 3, 4, 99, 100, 101, 10**12 - 1, 10**12], dtype=np.int64)
    expected = np.array([0, 1, 1, 1, 2, 9, 10, 10, 999_999, 1_000_000], dtype=np.int64)
    assert (_isqrt_floor(values) == expected).all()


def test_solomon_distances_are_truncated_to_one_decimal_times_ten(tmp_path: Path) -> None:
    path = tmp_path / "TINY.txt"
    path.write_text(SOLOMON)
    inst = read_solomon(path)
    assert (inst.vehicles, inst.capacity) == (2, 50)
    assert inst.dist_x10[0, 1] == 50  # 5.0 exactly
    assert inst.dist_x10[0, 2] == 14  # sqrt(2) = 1.414.. -> 1.4
    assert inst.dist_x10[1, 2] == 36  # sqrt(13) = 3.605.. -> 3.6 (truncated, not rounded)
    assert list(inst.ready_x10) == [0, 1000, 0] and list(inst.due_x10) == [10000, 2000, 5000]
    assert list(inst.service_x10) == [0, 100, 100] and list(inst.demand) == [0, 10, 20]


def test_tsplib_rounds_each_edge_to_the_nearest_integer(tmp_path: Path) -> None:
    path = tmp_path / "tiny.tsp"
    path.write_text(TSP)
    inst = read_tsplib(path)
    assert inst.name == "tiny"
    assert inst.dist[0, 1] == 5 and inst.dist[0, 2] == 1 and inst.dist[1, 2] == 4  # 3.61 -> 4
