"""The public Python API as the README shows it, run the way a notebook runs it."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, SAMPLE, small_sample


def readme_api_example() -> str:
    """The ``python`` block of the README's "Python API" section, as a user would copy it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README's Python API section has no python example"
    return found.group(1)


@pytest.mark.slow
def test_readme_api_example_runs_twice_in_one_process(tmp_path):
    """The README's API example works a second time in the same interpreter.

    The public functions ``design`` and ``plan`` once shared their names with modules, so the
    first call's import replaced the package attribute and the second call failed
    ('module' object is not callable): a notebook cell run twice. A fresh interpreter makes the
    import order that of a notebook; the small sample keeps it to seconds.
    """
    customers, reps = small_sample(tmp_path)
    example = (
        readme_api_example()
        .replace('"customers.csv"', repr(str(customers)))
        .replace('"reps.csv"', repr(str(reps)))
        .replace('"plan.toml"', repr(str(SAMPLE / "plan.toml")))
        .replace('"out"', "out")
    )
    script = "import territory\n" + "".join(
        f"out = {str(tmp_path / f'out{run}')!r}\n{example}\n"
        f"print('run', {run}, len(design.assignment), len(plan.days) > 0, "
        "sizing.reps_recommended > 0, 0 <= kpis.connected_share <= 1)\n"
        for run in range(2)
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    runs = [line for line in done.stdout.splitlines() if line.startswith("run ")]
    assert runs == ["run 0 60 True True True", "run 1 60 True True True"]
    first = (tmp_path / "out0" / "schedule.csv").read_bytes()
    assert first == (tmp_path / "out1" / "schedule.csv").read_bytes()
