"""The public Python API as the README shows it, run the way a notebook runs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, SAMPLE, small_sample


@pytest.mark.slow
def test_notebook_flow_twice_in_one_process(tmp_path):
    """Every call of the README's API section works a second time in the same interpreter.

    The public functions ``design`` and ``plan`` once shared their names with modules, so the
    first call's import replaced the package attribute and the second call failed
    ('module' object is not callable): a notebook cell run twice. A fresh interpreter makes the
    import order that of a notebook.
    """
    customers, reps = small_sample(tmp_path)
    script = textwrap.dedent(
        f"""
        import territory
        for run in range(2):
            inputs = territory.load_inputs({str(customers)!r}, {str(reps)!r},
                                           {str(SAMPLE / "plan.toml")!r})
            sizing = territory.size(inputs)
            design, workload = territory.design(inputs)
            plan, design = territory.plan(inputs, design)
            territory.write_outputs({str(tmp_path)!r} + f"/out{{run}}", "plan", inputs, design,
                                    workload, 0.0, plan_result=plan, maps=False)
            print(run, len(design.assignment), len(plan.days) > 0, sizing.reps_recommended > 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["0 60 True True", "1 60 True True"]
    first = (tmp_path / "out0" / "schedule.csv").read_bytes()
    assert first == (tmp_path / "out1" / "schedule.csv").read_bytes()
