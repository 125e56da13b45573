"""Benchmark the re-plan: share of future visits kept and runtime, against a fresh plan's runtime.

Plans a four-week period from 2027-04-19 with the Dutch public holidays (the sample, or a
generated Dutch-like team of ``--customers`` x ``--reps`` as bench_plan.py makes it), writes the
plan folder, then re-plans it from ``--from`` twice: with nothing changed, and with the rep who has
the most future visits absent for the week ``--absent``. For each run it reports the runtime
(the plan's own runtime in the same run is the baseline), the future visits kept on their day and
rep, the visits moved, moved visits of other reps than the absent one, covered by a colleague,
and unscheduled visits.

Example::

    nice python scripts/bench_replan.py --sample --out bench_replan_sample.csv
    nice python scripts/bench_replan.py --customers 8000 --reps 120 --jobs 2 --out bench_replan.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchtable import print_table, write_csv

from territory import pipeline
from territory.params import Config, PeriodParams
from territory.replan import read_previous, replan
from territory.travel import travel_model
from territory.workload import customer_workload

ROOT = Path(__file__).resolve().parents[1]


def _inputs(args: argparse.Namespace) -> pipeline.Inputs:
    period = PeriodParams(start_date=dt.date(2027, 4, 19), holidays="NL")
    if args.sample:
        config = Config.from_toml(ROOT / "sample_data" / "plan.toml")
        config = replace(config, period=replace(period, days=config.period.days))
        return pipeline.load_inputs(
            ROOT / "sample_data" / "customers.csv", ROOT / "sample_data" / "reps.csv", config=config
        )
    from bench_design import generate

    customers, reps = generate(args.customers, args.reps, seed=args.seed)
    config = replace(Config(), period=period)
    return pipeline.Inputs(
        customers=tuple(customers),
        reps=tuple(reps),
        config=config,
        paths={},
        travel=travel_model(config),
    )


def _future(days: object, since: str) -> set[tuple[str, str, str]]:
    return {
        (v.customer_id, d.date, d.rep_id)
        for d in days  # type: ignore[attr-defined]
        if d.date >= since
        for v in d.visits
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", action="store_true", help="the sample instead of a generated team")
    ap.add_argument("--customers", type=int, default=8000, help="customers to generate")
    ap.add_argument("--reps", type=int, default=120, help="reps to generate")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--seed", type=int, default=0, help="generator and planner seed")
    ap.add_argument("--from", dest="since", default="2027-04-28", help="first day re-planned")
    ap.add_argument("--absent", default="2027-05-10", help="first day of the week of leave")
    ap.add_argument("--out", type=Path, default=Path("bench_replan.csv"), help="CSV to write")
    ap.add_argument("-v", "--verbose", action="store_true", help="log progress")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    since = dt.date.fromisoformat(args.since)
    first_absent = dt.date.fromisoformat(args.absent)
    leave = (first_absent, first_absent + dt.timedelta(days=4))

    inputs = _inputs(args)
    name = "sample" if args.sample else f"{args.customers}x{args.reps}"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "plan"
        t = time.perf_counter()
        design, workload = pipeline.design(inputs)
        plan, design = pipeline.plan(inputs, design, jobs=args.jobs)
        plan_s = time.perf_counter() - t
        pipeline.write_outputs(
            folder, "plan", inputs, design, workload, t, plan_result=plan, maps=False
        )
        rows.append(
            {"instance": name, "run": "plan", "runtime_s": round(plan_s, 1), "vs_plan": 1.0,
             "future_visits": len(_future(plan.days, args.since)),
             "unscheduled": plan.kpis.visits_unscheduled}
        )  # fmt: skip
        previous = read_previous(folder)
        before = _future(previous.days, args.since)
        counts: dict[str, int] = {}
        for _, _, rep_id in before:
            counts[rep_id] = counts.get(rep_id, 0) + 1
        absent_rep = max(sorted(counts), key=lambda r: counts[r])
        assert inputs.reps is not None
        away = tuple(replace(r, absent=(leave,)) if r.id == absent_rep else r for r in inputs.reps)
        for run, reps in (
            ("replan, nothing changed", inputs.reps),
            (f"replan, {absent_rep} absent", away),
        ):
            t = time.perf_counter()
            result = replan(
                previous,
                inputs.customers,
                reps,
                inputs.config,
                inputs.travel,
                since,
                jobs=args.jobs,
            )
            replan_s = time.perf_counter() - t
            after = _future(result.plan.days, args.since)
            moved = before - after
            covered = sum(
                1 for c in result.outputs.changes if c["new_rep"] and c["new_rep"] != c["old_rep"]
            )
            rows.append(
                {
                    "instance": name,
                    "run": run,
                    "runtime_s": round(replan_s, 1),
                    "vs_plan": round(replan_s / plan_s, 3),
                    "future_visits": len(before),
                    "kept": len(before & after),
                    "kept_share": round(len(before & after) / max(len(before), 1), 4),
                    "moved": len(moved),
                    "moved_other_reps": sum(1 for v in moved if v[2] != absent_rep or run.endswith("changed")),
                    "moved_in_leave_week": sum(1 for v in moved if leave[0].isoformat() <= v[1] <= leave[1].isoformat()),
                    "covered_by_colleague": covered,
                    "unscheduled": result.plan.kpis.visits_unscheduled,
                }
            )  # fmt: skip
            out = Path(tmp) / run.split(",")[1].strip().replace(" ", "_")
            wl = customer_workload(inputs.customers, inputs.config, reps, travel=inputs.travel)
            pipeline.write_outputs(
                out, "replan", replace(inputs, reps=reps), result.design, wl, t,
                plan_result=result.plan, maps=False, replan=result.outputs,
            )  # fmt: skip
    columns = [
        "instance", "run", "runtime_s", "vs_plan", "future_visits", "kept", "kept_share", "moved",
        "moved_other_reps", "moved_in_leave_week", "covered_by_colleague", "unscheduled",
    ]  # fmt: skip
    print_table(rows, columns)
    write_csv(rows, args.out, columns)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
