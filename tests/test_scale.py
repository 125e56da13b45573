"""Scale-out and progress: a Dask cluster gives the same files, the time cap, estimates, progress."""

from __future__ import annotations

import csv
import io
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import territory.planning as plan_mod
import territory.rebalance as rebalance_mod
from territory import cli, report
from territory.cluster import SCHEDULER_ENV, open_executor, scheduler_address
from territory.districting import estimate_design_s
from territory.models import Customer, Rep
from territory.params import Config, PlanningParams
from territory.progress import Reporter, choose_mode, format_duration

HOMES = [("R1", 52.09, 5.12), ("R2", 51.92, 4.48), ("R3", 52.37, 4.90)]


def _write_inputs(folder: Path, n: int = 75, seed: int = 3) -> tuple[Path, Path]:
    """A small team: three reps in Utrecht, Rotterdam, Amsterdam and customers around them."""
    rng = np.random.default_rng(seed)
    customers = folder / "customers.csv"
    with customers.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "lat", "lon", "class", "open", "close"])
        for i in range(n):
            _, lat, lon = HOMES[i % 3]
            cls = "ABC"[int(rng.integers(0, 3))]
            window = ("09:00", "12:30") if i % 7 == 0 else ("", "")
            w.writerow(
                [
                    f"K{i:03d}",
                    f"Klant {i}",
                    f"{lat + rng.normal(0, 0.07):.5f}",
                    f"{lon + rng.normal(0, 0.10):.5f}",
                    cls,
                    *window,
                ]
            )
    reps = folder / "reps.csv"
    reps.write_text(
        "id,name,lat,lon\n" + "".join(f"{r},Rep {r},{lat},{lon}\n" for r, lat, lon in HOMES),
        encoding="utf-8",
    )
    return customers, reps


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _same_outputs(a: Path, b: Path) -> None:
    """Every output file identical, apart from the fields of ``report.VOLATILE_FIELDS``."""
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    for name in fa:
        assert report.comparable(name, fa[name]) == report.comparable(name, fb[name]), name


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale_in")
    return _write_inputs(folder)


def _plan(customers: Path, reps: Path, out: Path, *extra: str) -> int:
    return cli.main(["-q", "plan", str(customers), "--reps", str(reps), "--out", str(out), *extra])


@pytest.mark.slow
def test_dask_cluster_gives_the_serial_files(small, tmp_path):
    """A local Dask cluster (scheduler + two worker processes on loopback) plans the same files."""
    distributed = pytest.importorskip("distributed")
    customers, reps = small
    assert _plan(customers, reps, tmp_path / "serial", "--jobs", "1") == 0
    assert _plan(customers, reps, tmp_path / "pool", "--jobs", "2") == 0
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with distributed.Client(cluster.scheduler_address) as client:
            assert len(client.nthreads()) == 2  # two separate worker processes
        code = _plan(customers, reps, tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    assert code == 0
    _same_outputs(tmp_path / "serial", tmp_path / "pool")
    _same_outputs(tmp_path / "serial", tmp_path / "dask")
    assert (tmp_path / "serial" / "schedule.csv").stat().st_size > 1000


def test_scheduler_from_the_dask_environment_variable(monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, " tcp://10.1.2.3:8786 ")
    assert scheduler_address(None) == "tcp://10.1.2.3:8786"
    assert scheduler_address("tcp://h:1") == "tcp://h:1"  # the option wins
    monkeypatch.setenv(SCHEDULER_ENV, "")
    assert scheduler_address(None) is None


def test_unreachable_scheduler_is_one_line(small, tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("territory.cluster.CONNECT_TIMEOUT_S", 1)
    customers, reps = small
    code = _plan(customers, reps, tmp_path / "out", "--scheduler", "tcp://127.0.0.1:9")
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "schedule.csv").exists()


def test_scheduler_without_dask_installed_says_how_to_install(monkeypatch):
    for name in ("distributed", "distributed.comm.addressing"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed
    with pytest.raises(Exception) as info, open_executor(1, "tcp://127.0.0.1:8786"):
        pass
    assert "pip install 'territory[dask]'" in str(info.value)


def test_local_pool_and_in_process_workers():
    with open_executor(1) as one:
        assert one.executor is None and one.count == 1
    with open_executor(2) as two:
        assert two.executor is not None and two.count == 2
        assert two.executor.submit(pow, 2, 10).result() == 1024


# ---------------------------------------------------------------------- the time cap


def _territory(n: int = 40, seed: int = 5) -> tuple[Rep, list[Customer]]:
    rng = np.random.default_rng(seed)
    rep = Rep(id="R1", lat=52.09, lon=5.12)
    customers = [
        Customer(
            id=f"C{i}",
            lat=52.09 + float(rng.normal(0, 0.08)),
            lon=5.12 + float(rng.normal(0, 0.12)),
            customer_class="B",
            visits=2,
            visit_minutes=45.0,
        )
        for i in range(n)
    ]
    return rep, customers


def test_time_cap_bounds_a_territory_and_is_reported():
    rep, customers = _territory(60)
    config = Config(planning=PlanningParams(improve_iterations=5000, repair_routes=0))
    import time

    t0 = time.perf_counter()
    capped = plan_mod.plan_territory(rep, customers, config, time_limit_s=0.3)
    took = time.perf_counter() - t0
    assert capped.time_capped
    # the search stops at 60 % of the cap; what is left is the quick routing of each day
    assert took < 0.3 + 0.05 * len(capped.days) + 1.0
    planned = sum(len(d.visits) for d in capped.days) + len(capped.unscheduled)
    assert planned == sum(c.visits for c in customers)  # every visit scheduled or reported
    for day in capped.days:
        assert day.return_min <= config.day.end_min

    free = plan_mod.plan_territory(
        rep, customers, Config(planning=PlanningParams(improve_iterations=200, repair_routes=0))
    )
    assert not free.time_capped


def test_a_cap_that_does_not_bind_changes_nothing():
    rep, customers = _territory(30)
    config = Config(planning=PlanningParams(improve_iterations=200))
    a = plan_mod.plan_territory(rep, customers, config)
    b = plan_mod.plan_territory(rep, customers, config, time_limit_s=3000.0)
    assert a == b


def test_capped_territory_is_named_in_the_notes():
    rep, customers = _territory(40)
    other = Rep(id="R2", lat=52.3, lon=4.9)
    config = Config(
        planning=PlanningParams(
            improve_iterations=5000, territory_time_limit_s=0.2, rebalance_rounds=0
        )
    )
    from territory.models import Design

    design = Design(
        rep_ids=("R1", "R2"),
        assignment=tuple(0 for _ in customers),
        centres=((rep.lat, rep.lon), (other.lat, other.lon)),
    )
    plan, _ = rebalance_mod.plan_and_rebalance(customers, [rep, other], design, config)
    notes = " ".join(plan.kpis.notes)
    assert "territory R1 reached [planning] territory_time_limit_s = 0.2 s" in notes


def test_time_limit_key_is_validated():
    from territory.exceptions import ConfigError

    for bad in (0, -1, "fast", True, 10**6):
        with pytest.raises(ConfigError, match="territory_time_limit_s"):
            PlanningParams(territory_time_limit_s=bad)


# ---------------------------------------------------------------------- estimates


def test_estimates_grow_with_size_and_shrink_with_workers():
    assert estimate_design_s(100_000, 200) > estimate_design_s(10_000, 50) > 0
    assert estimate_design_s(10_000, 50, lp=True) > estimate_design_s(10_000, 50)
    _, customers = _territory(60)
    config = Config()
    assignment = [i % 4 for i in range(len(customers))]
    one = rebalance_mod.estimate_plan_s(customers, assignment, 4, config, 1)
    two = rebalance_mod.estimate_plan_s(customers, assignment, 4, config, 2)
    assert one[0] == pytest.approx(2 * two[0])  # four equal territories on two workers
    assert one[1] > one[0]  # rebalancing rounds add time
    unpolished = replace(config, planning=replace(config.planning, polish_iterations=0))
    assert rebalance_mod.estimate_plan_s(customers, assignment, 4, unpolished, 1)[0] < one[0]
    assert format_duration(40) == "40 s" and format_duration(240) == "4 min"
    assert format_duration(0.2) == "under 1 s" and format_duration(5400) == "1.5 h"


@pytest.mark.slow
def test_cli_says_how_long_it_will_take(small, tmp_path, capsys):
    customers, reps = small
    code = cli.main(["plan", str(customers), "--reps", str(reps), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 0
    assert "design: 75 customers into 3 territories, " in err
    assert "plan: 3 territories, " in err and "on this process: " in err
    assert "with rebalancing" in err
    assert "plan: done in" in err and "write: done in" in err
    code = _plan(customers, reps, tmp_path / "q")  # -q: no progress, no estimate
    assert code == 0
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------- progress


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lines_are_sparse_and_every_step_ends_with_a_line():
    out, clock = io.StringIO(), _Clock()
    show = Reporter("lines", out, interval_s=30.0, clock=clock)
    for k in range(1, 201):  # 200 territories, one per second
        clock.now = float(k)
        show(f"plan: territory R{k}", k / 200)
    show("rebalance round 1: territory R3", 0.5)
    clock.now = 205.0
    show("rebalance round 1: territory R4", 1.0)
    show.close()
    lines = out.getvalue().splitlines()
    assert len(lines) <= 200 / 30 + 3
    assert lines[0] == "territory: plan: 16% after 30 s, about 3 min left"
    assert "territory: plan: done in 3 min" in lines
    assert lines[-1] == "territory: rebalance round 1: done in 5 s"


def test_quiet_shows_nothing_and_bar_draws_on_a_terminal():
    out = io.StringIO()
    quiet = Reporter("off", out)
    quiet("plan: territory R1", 0.5)
    quiet.say("estimate")
    assert out.getvalue() == ""
    bar = Reporter("bar", out)
    for k in range(1, 5):
        bar(f"plan: territory R{k}", k / 4)
    bar.say("an estimate line")
    bar.close()
    text = out.getvalue()
    assert "plan: 100%" in text and "territory R4" in text
    assert "territory: an estimate line" in text


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_mode_follows_the_terminal(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert choose_mode(False, _Tty()) == "bar"
    assert choose_mode(False, io.StringIO()) == "lines"  # a log file or a pipe
    assert choose_mode(True, _Tty()) == "off"
    monkeypatch.setenv("CI", "true")
    assert choose_mode(False, _Tty()) == "lines"


# ---------------------------------------------------------------------- no n x n matrix


@pytest.mark.slow
def test_no_distance_matrix_over_the_whole_file():
    """Design and plan of the 600-customer sample: every travel array stays per territory.

    Every stage asks the run's travel model, so a model that records the size of each answer
    sees all of them (and the haversine formula is watched too, for anything that bypasses it).
    """
    from dataclasses import replace

    from territory import pipeline, travel

    root = Path(__file__).resolve().parent.parent / "sample_data"
    inputs = pipeline.load_inputs(root / "customers.csv", root / "reps.csv", root / "plan.toml")
    config = replace(
        inputs.config,
        planning=replace(inputs.config.planning, rebalance_rounds=0, improve_iterations=30),
    )
    largest = [0]

    class Recording(travel.CrowTravel):
        def pairs(self, a, b):
            out = super().pairs(a, b)
            largest[0] = max(largest[0], out.km.size)
            return out

        def matrix(self, a, b=None):
            out = super().matrix(a, b)
            largest[0] = max(largest[0], out.km.size)
            return out

    inputs = replace(inputs, config=config, travel=Recording(config.travel))
    design, _ = pipeline.design(inputs)
    plan, _ = pipeline.plan(inputs, design)
    n = len(inputs.customers)
    assert len(plan.days) > 0 and largest[0] > 0, largest
    biggest_territory = max(np.bincount(np.asarray(design.assignment)))
    # pairs over all customers are n long; a matrix is at most home + a territory squared
    assert largest[0] <= max((biggest_territory + 1) ** 2, 64 * n) < n * n / 4


def test_verbose_logs_each_stage_and_quiet_does_not():
    import subprocess

    root = Path(__file__).resolve().parent.parent
    args = [sys.executable, "-m", "territory"]
    tail = ["size", str(root / "sample_data" / "customers.csv")]
    env = {**os.environ, "PYTHONPATH": str(root)}
    loud = subprocess.run(
        [*args, "-v", *tail], check=False, capture_output=True, text=True, env=env
    )
    quiet = subprocess.run(
        [*args, "-q", *tail], check=False, capture_output=True, text=True, env=env
    )
    assert loud.returncode == quiet.returncode == 0
    assert "INFO territory.load:" in loud.stderr and "600 customers" in loud.stderr
    assert quiet.stderr == ""
    assert loud.stdout == quiet.stdout  # the figures do not depend on the noise level


@pytest.mark.parametrize(
    "address, words",
    [
        ("foo", "missing port number"),
        ("localhost:87x", "is not a scheduler address"),
        ("inproc://x", "is not a scheduler address"),
        ("inproc://x:1", "cannot reach a scheduler in another process"),
    ],
)
def test_malformed_scheduler_address_is_one_line_at_once(small, tmp_path, capsys, address, words):
    pytest.importorskip("distributed")
    import time

    customers, reps = small
    t0 = time.perf_counter()
    code = _plan(customers, reps, tmp_path / "out", "--scheduler", address)
    err = capsys.readouterr().err
    assert code == 2 and words in err and err.count("\n") == 1
    assert time.perf_counter() - t0 < 10  # refused before any connection attempt
