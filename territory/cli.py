"""The ``territory`` command: thin argument parsing over ``pipeline``; the only place that prints."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import __version__, pipeline
from .cluster import check_scheduler_address, open_executor, scheduler_address
from .exceptions import TerritoryError, TerritoryWarning
from .models import DesignKpis
from .progress import Reporter, format_duration, reporter, roughly
from .telesales import TelesalesResult
from .workload import SizingResult

log = logging.getLogger("territory")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def _fraction(text: str) -> float:
    """A share as ``10``, ``10%`` or ``0.10`` (numbers above 1 are percentages)."""
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a percentage; use e.g. 10 or 10%"
        ) from None
    value = number / 100.0 if text.endswith("%") or number > 1 else number
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a percentage from 0 to 100")
    return value


def travel_arguments(sp: argparse.ArgumentParser) -> None:
    """``--travel-source``, ``--osm``, ``--osrm``, ``--matrix``: over ``[travel]`` in the config."""
    from .params import TRAVEL_SOURCES

    sp.add_argument(
        "--travel-source",
        choices=TRAVEL_SOURCES,
        help="how travel is measured (default [travel] source, else crow: straight lines)",
    )
    sp.add_argument("--osm", metavar="FILE", help="road network from this .osm.pbf extract")
    sp.add_argument("--osrm", metavar="URL", help="travel from this OSRM server's /table service")
    sp.add_argument(
        "--matrix", metavar="FILE", help="travel times from this CSV (from_id,to_id,minutes[,km])"
    )


def _travel_options(args: argparse.Namespace) -> dict[str, str | None]:
    return {
        "source": args.travel_source,
        "osm": args.osm,
        "osrm": args.osrm,
        "matrix": args.matrix,
    }


def _replan_parser(sub: Any) -> None:
    """``territory replan``'s options."""
    r = sub.add_parser(
        "replan", help="plan a plan folder again from a date on, keeping what can be kept"
    )
    r.add_argument("dir", help="a folder written by plan (or replan)")
    r.add_argument(
        "--from",
        dest="from_date",
        type=_date,
        required=True,
        help="first day planned again (YYYY-MM-DD); earlier visits are history",
    )
    r.add_argument("--customers", help="customers as they are now (default: the plan's file)")
    r.add_argument("--reps", help="reps as they are now (default: the plan's file)")
    r.add_argument("--config", help="plan.toml (default: the plan's effective config)")
    r.add_argument("--appointments", metavar="FILE", help="booked visits (as for plan)")
    r.add_argument("--absences", metavar="FILE", help="reps' leave (rep_id, from, to)")
    r.add_argument("--done", metavar="FILE", help="visits made before --from (customer_id, date)")
    r.add_argument("--online", action="store_true", help="allow online geocoding")
    r.add_argument("--jobs", type=int, default=1, help="territories re-planned in parallel")
    r.add_argument("--out", required=True, help="the new plan folder (PLAN_DIR is not changed)")
    r.add_argument("--offline", action="store_true", help="maps that render without internet")
    r.add_argument("--lang", choices=("en", "nl"), default="en", help="labels in maps and report")
    r.add_argument("--no-maps", action="store_true", help="write tables only")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; defaults come from the *Params dataclasses (one source of truth)."""
    p = argparse.ArgumentParser(
        prog="territory",
        description="Plan field-sales territories and visit routes (Rustenburg & Steenbeek, ch. 6).",
    )
    p.add_argument("--version", action="version", version=f"territory {__version__}")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress and no time estimates")
    p.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    p.add_argument(
        "--debug", action="store_true", help="on an error, also print the Python traceback"
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser, reps_required: bool = False) -> None:
        sp.add_argument("customers", help="customers file (.csv, .txt or .xlsx)")
        sp.add_argument("--reps", required=reps_required, help="reps file (.csv, .txt or .xlsx)")
        sp.add_argument("--config", help="plan.toml (every key optional; defaults in the README)")
        sp.add_argument(
            "--absences",
            metavar="FILE",
            help="reps' leave (rep_id, from, to): fewer working days, a smaller territory",
        )
        sp.add_argument(
            "--online",
            action="store_true",
            help="allow online geocoding (Nominatim) for rows the offline gazetteer cannot place",
        )
        travel_arguments(sp)

    def territory_options(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--max-moved",
            type=_fraction,
            metavar="PCT",
            help="at most this share of customers changes rep (vs current_rep)",
        )
        sp.add_argument(
            "--out", required=True, help="output folder (created; files replaced atomically)"
        )
        sp.add_argument(
            "--offline",
            action="store_true",
            help="maps that render without internet (JS/CSS inlined from the asset cache)",
        )
        sp.add_argument(
            "--lang", choices=("en", "nl"), default="en", help="labels in maps and report"
        )
        sp.add_argument("--no-maps", action="store_true", help="write tables only")
        sp.add_argument(
            "--assignments",
            metavar="FILE",
            help="start from this split (customer_id, rep_id[, locked]; e.g. edit.html's "
            "export): locked rows stay, the rest is the starting point",
        )

    s = sub.add_parser("size", help="how many reps: the workload method (bewerkingstaak)")
    common(s)
    s.add_argument("--json", action="store_true", help="the same figures as JSON")

    d = sub.add_parser("design", help="territories: balanced, compact, connected")
    common(d)
    d.add_argument("--k", type=int, help="number of territories with free centres (no reps file)")
    territory_options(d)

    pl = sub.add_parser("plan", help="territories plus a multi-week visit plan per rep")
    common(pl, reps_required=True)
    pl.add_argument(
        "--jobs", type=int, default=1, help="territories planned in parallel (default 1)"
    )
    pl.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="plan the territories on this Dask cluster, e.g. tcp://10.0.0.5:8786 "
        "(default: $DASK_SCHEDULER_ADDRESS; needs pip install 'territory[dask]')",
    )
    pl.add_argument("--start-date", type=_date, help="first day of the period (YYYY-MM-DD)")
    pl.add_argument(
        "--appointments",
        metavar="FILE",
        help="booked visits (customer_id, date, start[, minutes, purpose]): kept to the minute",
    )
    territory_options(pl)

    sc = sub.add_parser(
        "scenarios",
        help="what-if: today, redesign, capped moves, one rep fewer or more, C by phone",
    )
    common(sc, reps_required=True)
    _scenario_options(sc)

    e = sub.add_parser("evaluate", help="judge an existing split (default: the current_rep column)")
    common(e, reps_required=True)
    e.add_argument(
        "--assignments", help="assignments file (customer_id, rep_id); default current_rep"
    )
    e.add_argument("--json", action="store_true", help="the figures as JSON")

    c = sub.add_parser(
        "calibrate", help="fit the straight-line model to a road source: how wrong the crow flies"
    )
    common(c)
    c.add_argument(
        "--sample", type=int, default=5000, metavar="N", help="legs to ask for (default 5000)"
    )
    c.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    c.add_argument("--json", action="store_true", help="the figures as JSON")

    _replan_parser(sub)
    ed = sub.add_parser("edit", help="write DIR/edit.html: move customers between reps by hand")
    ed.add_argument("dir", help="a folder written by design or plan")
    ed.add_argument(
        "--offline",
        action="store_true",
        help="a page that needs no network at all (Leaflet inlined, no base-map tiles)",
    )
    ed.add_argument("--lang", choices=("en", "nl"), default="en", help="labels of the page")

    m = sub.add_parser("map", help="re-render maps, workbook and report from a plan folder")
    m.add_argument("dir", help="a folder written by design or plan")
    m.add_argument("--offline", action="store_true", help="maps that render without internet")
    m.add_argument("--lang", choices=("en", "nl"), default="en", help="labels in maps and report")
    return p


def _percentages(text: str) -> tuple[float, ...]:
    """``5,10,20`` (or ``5%,10%``) as shares."""
    return tuple(_fraction(part.strip()) for part in text.split(",") if part.strip())


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _scenario_options(sp: argparse.ArgumentParser) -> None:
    """The options of ``territory scenarios`` (those of ``plan``, and which scenarios)."""
    from .scenarios import DEFAULT_MOVED, SCENARIO_KEYS

    sp.add_argument(
        "--out", required=True, help="output folder: scenarios.csv/.html, a folder per scenario"
    )
    sp.add_argument("--jobs", type=int, default=1, help="territories planned in parallel")
    sp.add_argument("--scheduler", metavar="ADDRESS", help="plan on this Dask cluster (as `plan`)")
    sp.add_argument("--start-date", type=_date, help="first day of the period (YYYY-MM-DD)")
    sp.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="REP",
        help="also a scenario without this rep (repeatable)",
    )
    sp.add_argument(
        "--skip",
        type=_names,
        action="append",
        default=[],
        metavar="NAMES",
        help=f"scenarios to leave out, comma-separated or repeated: {','.join(SCENARIO_KEYS)}",
    )
    sp.add_argument(
        "--moved",
        type=_percentages,
        default=DEFAULT_MOVED,
        metavar="PCTS",
        help="caps of the capped redesigns, e.g. 5,10,20 (default)",
    )
    sp.add_argument(
        "--phone-class", metavar="CLASS", help="the class served by phone in phone-C (default C)"
    )
    sp.add_argument("--offline", action="store_true", help="maps that render without internet")
    sp.add_argument("--lang", choices=("en", "nl"), default="en", help="labels in pages and notes")
    sp.add_argument("--no-maps", action="store_true", help="tables only (no maps or reports)")


def format_telesales(t: TelesalesResult) -> str:
    """The inside-sales table (6.6): the phone customers' calls and the agents they need."""
    lines = [
        "Inside sales (telesales): customers served by phone, per period",
        "",
        f"{'class':<7}{'customers':>10}{'calls':>8}{'min/call':>10}{'hours':>10}",
    ]
    for row in t.rows:
        lines.append(
            f"{row.customer_class:<7}{row.customers:>10}{row.calls:>8}"
            f"{row.minutes_per_call:>10.1f}{row.hours:>10.1f}"
        )
    lines += [
        f"{'total':<7}{t.customers:>10}{t.calls:>8}{'':>10}{t.call_hours:>10.1f}",
        "",
        f"Agents needed at {t.utilisation:.0%} utilisation: {t.call_hours:.1f} h / "
        f"({t.agent_hours_per_period:.1f} h x {t.utilisation:.2f}) = {t.agents_exact:.2f}"
        f"  ->  {t.agents_needed} agent{'s' if t.agents_needed != 1 else ''}",
    ]
    return "\n".join(lines)


def format_economics(kpis: dict[str, Any]) -> str:
    """The yearly economics of a plan folder (summary.json ``economics``), a few lines."""
    econ = kpis.get("economics")
    lines = []
    if econ:
        lines += [
            f"  {'revenue per year (' + econ['basis'] + ')':<48}EUR {econ['revenue_eur']:,.0f}",
            f"  {'cost per year (reps, travel, phone)':<48}EUR {econ['cost_eur']:,.0f}",
            f"  {'contribution per year (see economics.csv)':<48}"
            f"EUR {econ['contribution_eur']:,.0f}",
            f"  {'customers costing more than their margin':<48}"
            f"{econ['customers_cost_above_margin']}",
        ]
    tele = kpis.get("telesales")
    if tele:
        lines.append(
            f"  {'phone customers / inside-sales agents needed':<48}"
            f"{tele['customers']} / {tele['agents_needed']} ({tele['agents_exact']:.2f})"
        )
    return "\n".join(lines)


def format_scenarios(rows: Sequence[dict[str, Any]]) -> str:
    """scenarios.csv as a console table."""
    lines = [
        f"{'scenario':<16}{'reps':>5}{'phone':>7}{'moved':>7}{'max dev':>9}{'util':>11}"
        f"{'unsched':>9}{'travel h':>10}{'contribution EUR':>18}"
    ]
    for r in rows:
        contribution = r.get("contribution_eur")
        util = f"{r['min_utilisation']:.0%}-{r['max_utilisation']:.0%}"
        money = f"{contribution:,.0f}" if contribution is not None else "-"
        lines.append(
            f"{r['scenario']:<16}{r['reps']:>5}{r['phone_customers']:>7}{r['customers_moved']:>7}"
            f"{r['max_workload_deviation']:>9.1%}{util:>11}{r['visits_unscheduled']:>9}"
            f"{r['travel_hours']:>10.1f}{money:>18}"
        )
    return "\n".join(lines)


def format_sizing(r: SizingResult) -> str:
    """The textbook's workload-method table, as text."""
    lines = [
        f"Workload method (bewerkingstaak) per period of {r.weeks} weeks ({r.working_days} working days)",
        "",
        f"{'class':<7}{'customers':>10}{'visits/cust':>12}{'visits':>8}{'min/visit':>10}"
        f"{'visit h':>10}{'travel h':>10}{'hours':>10}",
    ]
    for row in r.rows:
        lines.append(
            f"{row.customer_class:<7}{row.customers:>10}{row.visits_per_customer:>12.2f}{row.visits:>8}"
            f"{row.minutes_per_visit:>10.1f}{row.visit_hours:>10.1f}{row.travel_hours:>10.1f}{row.hours:>10.1f}"
        )
    lines.append(
        f"{'total':<7}{sum(x.customers for x in r.rows):>10}{'':>12}{r.visits:>8}{'':>10}"
        f"{r.visit_hours:>10.1f}{r.travel_hours:>10.1f}{r.total_hours:>10.1f}"
    )
    lines += [
        "",
        f"Travel allowance: {r.travel_min_per_visit:.1f} min per visit ({r.travel_basis}).",
        f"One rep's selling time: {r.working_days} days x ({r.day_length_min} min day - "
        f"{r.lunch_min} lunch - {r.admin_min} admin) = {r.selling_hours_per_rep:.1f} h per period.",
        f"Reps needed at {r.target_utilization:.0%} utilisation: {r.total_hours:.1f} h / "
        f"({r.selling_hours_per_rep:.1f} h x {r.target_utilization:.2f}) = {r.reps_exact:.2f}"
        f"  ->  recommendation: {r.reps_recommended} reps"
        + (f" (you have {r.current_reps})" if r.current_reps is not None else ""),
        "",
        f"{'reps':>5}{'utilisation':>13}{'hours/rep':>11}{'spare h/rep':>13}",
    ]
    for alt in r.alternatives:
        mark = "  <- recommended" if alt["reps"] == r.reps_recommended else ""
        lines.append(
            f"{alt['reps']:>5}{alt['utilization']:>13.0%}{alt['hours_per_rep']:>11.1f}"
            f"{alt['spare_hours_per_rep']:>13.1f}{mark}"
        )
    if r.reps_by_potential is not None:
        lines += [
            "",
            f"Potential method: total potential EUR {r.potential_total:,.0f} / "
            f"EUR {r.potential_per_rep:,.0f} per rep = {r.reps_by_potential} reps",
        ]
    elif r.potential_total > 0:
        lines += [
            "",
            f"Potential method: total potential EUR {r.potential_total:,.0f}; set "
            "[sizing] potential_per_rep to get the number of reps it carries.",
        ]
    if r.telesales is not None:
        lines += ["", format_telesales(r.telesales)]
    return "\n".join(lines)


def format_kpis(kpis: dict[str, Any]) -> str:
    """Headline KPIs of a design or plan, one per line."""
    labels = [
        ("territories", "territories", "{}"),
        ("customers", "customers", "{}"),
        ("max_workload_deviation", "max workload deviation from target (estimate)", "{:.1%}"),
        ("connected_share", "customers in connected territories", "{:.1%}"),
        ("moved", "customers changing rep", "{}"),
        ("objective_ratio", "compactness objective / lower bound", "{:.3f}"),
        ("utilization_min", "lowest utilisation", "{:.0%}"),
        ("utilization_max", "highest utilisation", "{:.0%}"),
        ("visits_planned", "visits planned", "{}"),
        ("visits_unscheduled", "visits unscheduled (see unscheduled.csv)", "{}"),
        ("max_routed_deviation_before", "routed workload deviation before rebalancing", "{:.1%}"),
        ("max_routed_deviation", "routed workload deviation from the mean", "{:.1%}"),
        ("travel_hours", "travel hours (routed)", "{:.1f}"),
        ("travel_km", "travel km (routed)", "{:.0f}"),
        ("reps_needed", "reps needed for the routed workload", "{}"),
        ("located_by_town", "customers located at a town centre", "{}"),
    ]
    out = []
    kpis = dict(kpis)
    if kpis.get("travel_min") is not None:
        kpis["travel_hours"] = kpis["travel_min"] / 60
    for key, label, fmt in labels:
        if kpis.get(key) is not None:
            out.append(f"  {label:<48}{fmt.format(kpis[key])}")
    for note in kpis.get("infeasible_notes") or []:
        out.append(f"  note: {note}")
    for note in kpis.get("notes") or []:
        out.append(f"  note: {note}")
    return "\n".join(out)


def format_evaluation(kpis: DesignKpis, rep_ids: Sequence[str], source: str) -> str:
    """An existing split judged by the design criteria: a line per rep, then the headline."""
    lines = [
        f"Evaluation of the existing split ({source})",
        "",
        f"{'rep':<10}{'customers':>10}{'workload h':>12}{'target h':>10}{'deviation':>11}{'pieces':>8}",
    ]
    for t, rep_id in enumerate(rep_ids):
        lines.append(
            f"{rep_id:<10}{kpis.customers[t]:>10}{kpis.workload_min[t] / 60:>12.1f}"
            f"{kpis.target_min[t] / 60:>10.1f}{kpis.deviation[t]:>+11.1%}{kpis.pieces[t]:>8}"
        )
    headline = {
        "max_workload_deviation": kpis.max_workload_deviation,
        "connected_share": kpis.connected_share,
        "objective_ratio": kpis.objective_ratio,
    }
    lines += ["", format_kpis(headline)]
    lines.append(
        f"  {'within the +/-' + format(kpis.tolerance, '.0%') + ' band':<48}"
        f"{'yes' if kpis.within_tolerance else 'no'}"
    )
    lines.append(
        "  (pieces > 1: the territory is split into separate areas; design proposes a better split)"
    )
    return "\n".join(lines)


def run(argv: Sequence[str] | None = None) -> int:
    """Parse and run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    progress = reporter(args.quiet)
    try:
        if progress.mode == "bar" and args.verbose:
            from tqdm.contrib.logging import logging_redirect_tqdm

            with logging_redirect_tqdm(loggers=[logging.getLogger("territory")]):
                return _run(args, progress)
        return _run(args, progress)
    finally:
        progress.close()


def _design_estimate(inputs: pipeline.Inputs, k: int | None, max_moved: float | None) -> str:
    from .districting import estimate_design_s

    tp = inputs.config.territory
    n_terr = k if k is not None else len(inputs.reps or ())
    lp = len(tp.balance) > 1 or max_moved is not None or tp.max_moved is not None
    seconds = estimate_design_s(len(inputs.customers), n_terr, lp=lp)
    return (
        f"design: {len(inputs.customers):,} customers into {n_terr} territories, {roughly(seconds)}"
    )


def _rerender(folder: Path, *, lang: str, offline: bool) -> list[Path]:
    """``territory map DIR``: maps, report and workbook rendered in a staging copy of the
    folder's tables and moved in only when all succeed (a failure leaves DIR as it was)."""
    import shutil

    from .maps import render
    from .report import PLAN_FOLDER_FILES, atomic_output
    from .reporthtml import load_plan_folder

    load_plan_folder(folder)  # not a plan folder: say so naming DIR, before staging anything
    rendered = {"map.html", "report.html", "plan.xlsx"}
    with atomic_output(folder) as stage:
        for name in PLAN_FOLDER_FILES:
            if name not in rendered and (folder / name).is_file():
                shutil.copy2(folder / name, stage / name)
        if (folder / "calendars").is_dir():  # kept, and linked from the rep maps
            shutil.copytree(folder / "calendars", stage / "calendars")
        paths = render(stage, lang=lang, offline=offline)
    return [folder / p.relative_to(stage) for p in paths]


def _run(args: argparse.Namespace, progress: Reporter) -> int:
    """Dispatch one parsed command (usage is checked before any file is read)."""
    started = time.perf_counter()
    if args.command == "map":
        for path in _rerender(Path(args.dir), lang=args.lang, offline=args.offline):
            print(path)
        return 0
    if args.command == "edit":
        from .edit import write_editor

        print(write_editor(args.dir, lang=args.lang, offline=args.offline))
        return 0
    scheduler = _check_usage(args)
    if args.command == "replan":
        return _replan(args, progress, started)
    inputs = pipeline.load_inputs(
        args.customers,
        args.reps,
        args.config,
        online=args.online,
        start_date=getattr(args, "start_date", None),
        absences_path=args.absences,
        appointments_path=getattr(args, "appointments", None),
        travel_options=_travel_options(args),
    )
    inputs = _starting_point(args, inputs)
    reports = {"size": _size, "evaluate": _evaluate, "calibrate": _calibrate}
    if args.command in reports:
        return reports[args.command](args, inputs)
    if args.command == "scenarios":
        return _scenarios(args, inputs, progress, scheduler)
    progress.say(_design_estimate(inputs, getattr(args, "k", None), args.max_moved))
    if args.command == "design":
        return _design(args, inputs, progress, started)
    if args.command == "plan":
        return _plan(args, inputs, progress, started, scheduler)
    raise AssertionError(args.command)


def _starting_point(args: argparse.Namespace, inputs: pipeline.Inputs) -> pipeline.Inputs:
    """``design``/``plan``: ``--max-moved`` into the effective config (so the routed
    rebalancing keeps to it as well) and the ``--assignments`` split as the start."""
    if args.command not in ("design", "plan"):
        return inputs
    if args.max_moved is not None:
        tp = replace(inputs.config.territory, max_moved=args.max_moved)
        inputs = replace(inputs, config=replace(inputs.config, territory=tp))
    if args.assignments is not None:
        inputs = pipeline.with_assignments(inputs, args.assignments)
    return inputs


def _check_usage(args: argparse.Namespace) -> str | None:
    """Refuse impossible option combinations and unwritable outputs before any work.

    Returns the Dask scheduler address to plan on (None: local).
    """
    if args.command == "design" and (args.reps is None) == (args.k is None):
        raise TerritoryError("design needs either --reps FILE or --k N, not both")
    if args.command == "design" and args.k is not None and args.assignments is not None:
        raise TerritoryError(
            "design --assignments needs --reps, not --k: the file names reps, free centres have none"
        )
    if getattr(args, "k", None) is not None and args.k < 1:
        raise TerritoryError(f"--k {args.k} is not accepted; use a whole number of at least 1")
    scheduler = scheduler_address(getattr(args, "scheduler", None))
    if args.command in ("plan", "scenarios") and scheduler:
        check_scheduler_address(scheduler)  # before the design, not after it
    if getattr(args, "sample", 2) < 2:
        raise TerritoryError(f"--sample {args.sample} is not accepted; use at least 2 legs")
    if getattr(args, "jobs", 1) < 1:
        raise TerritoryError(
            f"--jobs {args.jobs} is not accepted; use a whole number of at least 1"
        )
    if getattr(args, "out", None) is not None:
        from .report import check_output_dir

        check_output_dir(args.out)  # refuse before the long computation, not after it
    return scheduler


def _size(args: argparse.Namespace, inputs: pipeline.Inputs) -> int:
    """``territory size``: the workload method's table (and the inside-sales one)."""
    sizing = pipeline.size(inputs)
    print(json.dumps(sizing.to_dict(), indent=2) if args.json else format_sizing(sizing))
    return 0


def _evaluate(args: argparse.Namespace, inputs: pipeline.Inputs) -> int:
    """``territory evaluate``: the design KPIs of an existing split."""
    evaluation = pipeline.evaluate(inputs, args.assignments)
    rep_ids = [r.id for r in inputs.reps or ()]
    if args.json:
        print(json.dumps({**evaluation.to_dict(), "rep_ids": rep_ids}, indent=2))
    else:
        source = args.assignments or f"the current_rep column of {args.customers}"
        print(format_evaluation(evaluation, rep_ids, source))
    return 0


def _calibrate(args: argparse.Namespace, inputs: pipeline.Inputs) -> int:
    """``territory calibrate``: the straight line against the road source, and a fit."""
    from .calibrate import calibrate, format_calibration
    from .travel import Points

    places = Points.of([*inputs.customers, *(inputs.reps or ())])
    result = calibrate(
        places, inputs.travel, inputs.config.travel, sample=args.sample, seed=args.seed
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_calibration(result))
    return 0


def format_travel(about: dict[str, Any]) -> str:
    """One line on the travel source of a run (its file or server, snaps, estimated pairs)."""
    source = about.get("source", "crow")
    if source == "crow":
        return (
            f"  travel: straight lines x {about.get('circuity')} at {about.get('speed_kmh')} km/h"
        )
    where = about.get("file") or about.get("server") or ""
    parts = [f"  travel: {source} ({where})"]
    snapped = about.get("snapped") or {}
    if snapped.get("points"):
        parts.append(
            f"{snapped['points']} places snapped, median {snapped['median_m']:.0f} m, "
            f"max {snapped['max_m']:.0f} m"
        )
    network = about.get("network") or {}
    if network.get("cache"):
        parts.append(f"network {'from the cache' if network['cache'] == 'hit' else 'built'}")
    parts.append(f"{about.get('pairs_estimated', 0)} pairs estimated")
    return ", ".join(parts)


def _design(
    args: argparse.Namespace, inputs: pipeline.Inputs, progress: Reporter, started: float
) -> int:
    """``territory design``: territories only, written to ``--out``."""
    design_result, workload = pipeline.design(
        inputs, k=args.k, max_moved=args.max_moved, progress=progress
    )
    result = pipeline.write_outputs(
        args.out,
        "design",
        inputs,
        design_result,
        workload,
        started,
        lang=args.lang,
        offline=args.offline,
        maps=not args.no_maps,
        progress=progress,
    )
    print(f"Territories written to {args.out}")
    print(format_travel(result["travel"]))
    if args.k is not None:
        print("Territory centres (free, placed by the design):")
        for row in pipeline.centre_rows(design_result):
            print(f"  {row}")
    print(format_kpis(result["kpis"]))
    return 0


def _plan(
    args: argparse.Namespace,
    inputs: pipeline.Inputs,
    progress: Reporter,
    started: float,
    scheduler: str | None,
) -> int:
    """``territory plan``: design, then every territory's visits, written to ``--out``."""
    from .planning import check_plan_period
    from .rebalance import estimate_plan_s

    check_plan_period(inputs.config, args.config or "plan.toml")  # before the design
    design_result, workload = pipeline.design(inputs, max_moved=args.max_moved, progress=progress)
    with open_executor(args.jobs, scheduler) as workers:
        first_s, total_s = estimate_plan_s(
            inputs.customers,
            design_result.assignment,
            len(design_result.rep_ids),
            inputs.config,
            workers.count,
        )
        visits = sum(max(c.visits, 0) for c in inputs.customers)
        progress.say(
            f"plan: {len(design_result.rep_ids)} territories, {visits:,} visits on "
            f"{workers.where}: {roughly(first_s)}, up to "
            f"{format_duration(total_s)} with rebalancing"
        )
        plan_result, design_result = pipeline.plan(
            inputs, design_result, workers=workers, progress=progress
        )
    result = pipeline.write_outputs(
        args.out,
        "plan",
        inputs,
        design_result,
        workload,
        started,
        plan_result=plan_result,
        lang=args.lang,
        offline=args.offline,
        maps=not args.no_maps,
        progress=progress,
    )
    print(f"Plan written to {args.out}")
    print(format_travel(result["travel"]))
    print(format_kpis(result["kpis"]))
    if result["kpis"].get("economics") or result["kpis"].get("telesales"):
        print(format_economics(result["kpis"]))
    return 0


def _scenarios(
    args: argparse.Namespace,
    inputs: pipeline.Inputs,
    progress: Reporter,
    scheduler: str | None,
) -> int:
    """``territory scenarios``: each variant designed, planned and written to its folder."""
    from .planning import check_plan_period
    from .scenarios import (
        build_scenarios,
        estimate_s,
        recommendation,
        run_scenario,
        write_index,
    )

    check_plan_period(inputs.config, args.config or "plan.toml")
    scenarios, skipped = build_scenarios(
        inputs,
        skip=tuple(name for names in args.skip for name in names),
        moved=args.moved,
        without=args.without,
        phone_class=args.phone_class,
        lang=args.lang,
    )
    for line in skipped:
        progress.say(f"scenarios: not run: {line}")
    out = Path(args.out)
    results = []
    with open_executor(args.jobs, scheduler) as workers:
        first_s, total_s = estimate_s(scenarios, workers.count)
        progress.say(
            f"scenarios: {len(scenarios)} variants ({', '.join(s.name for s in scenarios)}), "
            f"each designed and planned on {workers.where}: {roughly(first_s)}, up to "
            f"{format_duration(total_s)} with rebalancing"
        )
        for n, scenario in enumerate(scenarios, start=1):
            progress.say(
                f"scenario {n}/{len(scenarios)}: {scenario.name}"
                + (f" ({scenario.note})" if scenario.note else "")
            )
            results.append(
                run_scenario(
                    scenario,
                    out,
                    workers=workers,
                    lang=args.lang,
                    offline=args.offline,
                    maps=not args.no_maps,
                    progress=progress,
                )
            )
    write_index(out, results, lang=args.lang, skipped=skipped)
    rows = [r.row for r in results]
    print(f"Scenarios written to {out} (scenarios.csv, scenarios.html, one folder each)")
    print(format_scenarios(rows))
    print(recommendation(rows, args.lang, inputs.config.planning.routed_tolerance))
    return 0


def _replan(args: argparse.Namespace, progress: Reporter, started: float) -> int:
    """``territory replan``: the plan of ``DIR`` again from ``--from`` on, into ``--out``."""
    from .params import Config
    from .replan import load_done, read_previous, replan
    from .workload import customer_workload

    if Path(args.out).resolve() == Path(args.dir).resolve():
        raise TerritoryError(
            f"--out {args.out} is the plan folder itself; write the re-plan to a new folder "
            "(the plan stays as it was, changes.csv compares the two)"
        )
    previous = read_previous(args.dir, Config.from_toml(args.config) if args.config else None)
    paths = {}
    for name, given in (("customers", args.customers), ("reps", args.reps)):
        path = given or previous.inputs.get(name, "")
        if not path or not Path(path).is_file():
            raise TerritoryError(
                f"{args.dir}/summary.json names {name} file '{path}', which is not there; "
                f"give --{name} FILE"
            )
        paths[name] = path
    inputs = pipeline.load_inputs(
        paths["customers"],
        paths["reps"],
        None,
        online=args.online,
        absences_path=args.absences,
        appointments_path=args.appointments,
        config=previous.config,
    )
    if args.config:
        inputs.paths["config"] = Path(args.config)
    done = None
    if args.done:
        known = set(previous.rep_of) | {c.id for c in inputs.customers}
        done = load_done(args.done, known)
        inputs.paths["done"] = Path(args.done)
    assert inputs.reps is not None  # a reps file is always given here
    result = replan(
        previous,
        inputs.customers,
        inputs.reps,
        inputs.config,
        inputs.travel,
        args.from_date,
        done=done,
        jobs=args.jobs,
        progress=progress,
    )
    workload = customer_workload(inputs.customers, inputs.config, inputs.reps, travel=inputs.travel)
    written = pipeline.write_outputs(
        args.out,
        "replan",
        inputs,
        result.design,
        workload,
        started,
        plan_result=result.plan,
        lang=args.lang,
        offline=args.offline,
        maps=not args.no_maps,
        progress=progress,
        replan=result.outputs,
    )
    facts = result.outputs.summary
    print(f"Re-plan written to {args.out} (changes in {args.out}/changes.csv)")
    print(
        f"  future visits kept on their day and rep{'':<9}{facts['future_visits_kept']} of "
        f"{facts['future_visits_before']} ({facts['future_visits_kept_share']:.1%})"
    )
    print(f"  visits that changed, were added or dropped{'':<5}{facts['changes']}")
    print(format_kpis(written["kpis"]))
    return 0


#: Exit codes: 0 done, 2 bad input or usage (one line per problem), 3 internal error (a bug:
#: one line, ``--debug`` for the traceback), 130 interrupted.
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


def _debug_requested(argv: Sequence[str]) -> bool:
    """``--debug`` anywhere before a ``--`` (also after the command, where argparse has no slot)."""
    tokens = list(argv)
    end = tokens.index("--") if "--" in tokens else len(tokens)
    return "--debug" in tokens[:end]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: one clear line and a non-zero exit for bad input, never a traceback.

    ``--debug`` adds the traceback (to stderr, before the line) and debug logging.
    """
    tokens = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(tokens)
    if debug:  # accepted anywhere: move it before the command, where the parser knows it
        end = tokens.index("--") if "--" in tokens else len(tokens)
        tokens = ["--debug"] + [t for t in tokens[:end] if t != "--debug"] + tokens[end:]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        failure: BaseException | None = None
        message = ""
        try:
            code = run(tokens)
        except TerritoryError as exc:
            code, message, failure = EXIT_BAD_INPUT, str(exc), exc
        except BrokenPipeError:  # output piped into `head` and the like: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = 0
        except OSError as exc:  # unreadable input, unwritable output folder
            code, failure = EXIT_BAD_INPUT, exc
            message = f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
        except KeyboardInterrupt as exc:
            code, message, failure = 130, "interrupted", exc
        except Exception as exc:  # a bug: one line, the traceback only with --debug
            code, failure = EXIT_INTERNAL, exc
            text = str(exc).strip().splitlines()
            detail = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
            hint = "" if debug else " (run with --debug for details)"
            message = f"internal error: {detail}{hint}"
        if code and debug and failure is not None:
            traceback.print_exception(failure, file=sys.stderr)
    for w in caught:
        if issubclass(w.category, TerritoryWarning):
            print(f"territory: warning: {w.message}", file=sys.stderr)
        else:
            log.debug("library warning: %s", w.message)
    if code:
        print(f"territory: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
