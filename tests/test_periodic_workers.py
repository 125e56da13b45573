"""Several periodic searches at once (`solve_periodic(..., workers=N)`, `periodic_workers`)."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import read_csv
from test_periodic import PVRP_DIR, _bench_module
from test_periodic_polish import _mixed_problem

from territory import periodic_workers
from territory.periodic import (
    MaxIterations,
    MaxRuntime,
    PeriodicSolution,
    SearchParams,
    check_solution,
    solve_periodic,
)
from territory.periodic_workers import WORKER_SEED_STEP

_POLISH = SearchParams(polish=True, polish_rounds=3, polish_iterations=300)


def test_without_polish_the_workers_return_the_best_of_their_independent_searches() -> None:
    problem = _mixed_problem(36, vehicles=2, seed=5)
    alone = [
        solve_periodic(problem, MaxIterations(120), seed=4 + WORKER_SEED_STEP * k) for k in range(3)
    ]
    searches_only = SearchParams(genetic_workers=0)  # the genetic search: test_periodic_hgs
    together = solve_periodic(problem, MaxIterations(120), seed=4, params=searches_only, workers=3)
    assert together.feasible and check_solution(problem, together) == []
    assert together.cost == pytest.approx(min(s.cost for s in alone))
    assert together.cost <= alone[0].cost  # never worse than worker 0 alone (= workers=1)
    assert len({round(s.cost, 6) for s in alone}) > 1  # the workers really searched differently


def test_workers_sharing_after_the_polish_rounds_are_deterministic() -> None:
    problem = _mixed_problem(40)
    first = solve_periodic(problem, MaxIterations(150), seed=3, params=_POLISH, workers=2)
    again = solve_periodic(problem, MaxIterations(150), seed=3, params=_POLISH, workers=2)
    assert first == again
    assert first.feasible and check_solution(problem, first) == []


def test_workers_keep_the_time_limit() -> None:
    problem = _mixed_problem(40)
    t0 = time.perf_counter()
    sol = solve_periodic(problem, MaxRuntime(3.0), seed=0, params=_POLISH, workers=2)
    assert time.perf_counter() - t0 < 3.0 + 1.5
    assert sol.feasible and check_solution(problem, sol) == []


_SOLVE_WORKER = periodic_workers.solve_worker


def _failing_worker(*args: Any, **kwargs: Any) -> PeriodicSolution:
    """`solve_worker` for worker 0 (seed 3); every child fails."""
    if args[2] != 3:
        raise RuntimeError("worker broke")
    return _SOLVE_WORKER(*args, **kwargs)


def _failing_genetic_worker(*args: Any, **kwargs: Any) -> PeriodicSolution:
    """`solve_hgs` for a genetic child: it fails."""
    raise RuntimeError("worker broke")


@pytest.mark.skipif(
    periodic_workers._context().get_start_method() != "fork",
    reason="the patched function reaches forked children only",
)
def test_a_failing_worker_is_left_out(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(periodic_workers, "solve_worker", _failing_worker)
    monkeypatch.setattr(periodic_workers, "solve_hgs", _failing_genetic_worker)
    problem = _mixed_problem(40)
    sol = solve_periodic(problem, MaxIterations(150), seed=3, params=_POLISH, workers=2)
    alone = solve_periodic(problem, MaxIterations(150), seed=3, params=_POLISH)
    assert sol == alone  # worker 0 met nobody and searched as one worker does
    assert "periodic worker 1 failed" in caplog.text and "worker broke" in caplog.text


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers"):
        solve_periodic(_mixed_problem(10), MaxIterations(5), workers=0)


def test_child_processes_are_gone_after_the_call() -> None:
    problem = _mixed_problem(20)
    solve_periodic(problem, MaxIterations(30), seed=1, params=_POLISH, workers=2)
    assert mp.active_children() == []


@pytest.mark.skipif(not PVRP_DIR.is_dir(), reason=f"benchmark data folder {PVRP_DIR} is absent")
def test_bench_with_workers_has_one_worker_as_its_baseline(tmp_path: Path) -> None:
    bench = _bench_module()
    table = tmp_path / "table.csv"
    args = ["--instances", str(PVRP_DIR), "--iterations", "60", "--workers", "2", "--baseline"]
    args += ["--genetic-workers", "0"]  # with a genetic worker the baseline is two searches
    assert bench.main([*args, "--csv", str(table), "p05"]) == 0
    (row,) = read_csv(table)
    problem = bench.read_pvrp(PVRP_DIR / "p05.txt").problem
    alone = solve_periodic(problem, MaxIterations(60), seed=0)
    assert float(row["baseline_cost"]) == pytest.approx(alone.cost, abs=0.01)
    assert float(row["cost"]) <= float(row["baseline_cost"])  # no polish: the best of two
