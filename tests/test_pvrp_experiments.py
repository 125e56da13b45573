"""The periodic experiments script (scripts/pvrp_experiments.py): both experiments run, their
answers are valid plans, and each is measured next to its baseline."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
PVRP_DIR = REPO.parent / "shared" / "benchdata" / "pvrp"

pytestmark = pytest.mark.skipif(
    not PVRP_DIR.is_dir(), reason=f"benchmark data folder {PVRP_DIR} is absent"
)


def _script():
    sys.path.insert(0, str(REPO / "scripts"))
    spec = importlib.util.spec_from_file_location(
        "pvrp_experiments", REPO / "scripts" / "pvrp_experiments.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_first_starts_runs_with_its_baseline_and_keeps_plans_valid(tmp_path: Path) -> None:
    script = _script()
    out = tmp_path / "starts.csv"
    code = script.main(
        [
            *("first-starts", "--time-limit", "1", "--starts", "2", "--workers", "1"),
            *("--seeds", "0,1", "--csv", str(out), "p02"),
        ]
    )
    assert code == 0
    rows = _rows(out)
    assert [(r["instance"], r["seed"]) for r in rows] == [("p02", "0"), ("p02", "1")]
    for r in rows:  # feasible answers (else "infeasible"), never below the best known
        assert float(r["gap_%"]) >= -0.01
        assert float(r["base_gap_%"]) >= -0.01


def test_population_makes_children_and_keeps_plans_valid(tmp_path: Path) -> None:
    script = _script()
    out = tmp_path / "population.csv"
    code = script.main(
        [
            *("population", "--time-limit", "2", "--population", "2", "--first-iterations", "20"),
            *("--pyvrp", "20", "--cycles", "1", "--csv", str(out), "p02"),
        ]
    )
    assert code == 0
    (row,) = _rows(out)
    assert int(row["children"]) > 0  # the crossover ran, not only the founders
    assert float(row["gap_%"]) >= -0.01
    assert float(row["base_gap_%"]) >= -0.01


def test_day_permutations_keep_every_allowed_pattern() -> None:
    """p02's patterns ({0,2}, {1,3}, {2,4}, single days, every day): the permutations that
    keep the pairs, i.e. swap days 0 and 4, swap days 1 and 3, both, or neither."""
    script = _script()
    bench = sys.modules["bench_pvrp"]
    data = script.P._Data(bench.read_pvrp(PVRP_DIR / "p02.txt").problem)
    assert sorted(script.day_permutations(data)) == [
        (0, 1, 2, 3, 4),
        (0, 3, 2, 1, 4),
        (4, 1, 2, 3, 0),
        (4, 3, 2, 1, 0),
    ]


def test_a_bad_pyvrp_budget_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    script = _script()
    with pytest.raises(SystemExit) as exc:
        script.main(["population", "--pyvrp", "many", "p02"])
    assert exc.value.code == 2
    assert "iterations (150) or seconds with an s (0.3s)" in capsys.readouterr().err
