"""Pipeline: load -> locate -> workload -> design -> plan -> outputs, one call per command."""

from __future__ import annotations

import datetime as dt
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__, columns, report
from .cluster import Workers
from .exceptions import InputError, TerritoryWarning
from .models import Customer, Design, DesignKpis, Plan, Rep
from .params import Config
from .travel import Points, TravelModel, travel_model, with_travel_options

if TYPE_CHECKING:
    from .replan import ReplanOutputs
from .workload import CustomerWorkload, SizingResult, customer_workload, size_team

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Inputs:
    """Everything a run reads, validated and located."""

    customers: tuple[Customer, ...]
    reps: tuple[Rep, ...] | None
    config: Config
    paths: dict[str, Path]
    travel: TravelModel  # built once from [travel]; every stage asks it
    #: Territory index (into ``reps``) per customer that the design starts from: the split of
    #: an ``--assignments`` file (see :func:`with_assignments`); None: design from scratch.
    start_from: tuple[int, ...] | None = None
    phone: tuple[Customer, ...] = ()  # served by phone (6.6): not in customers, not in the field


def load_inputs(
    customers_path: str | Path,
    reps_path: str | Path | None = None,
    config_path: str | Path | None = None,
    *,
    online: bool = False,
    start_date: dt.date | None = None,
    cache_path: str | Path | None = None,
    absences_path: str | Path | None = None,
    appointments_path: str | Path | None = None,
    config: Config | None = None,
    travel_options: dict[str, str | None] | None = None,
) -> Inputs:
    """Read the config, customers and reps; locate rows without coordinates; build the travel
    model.

    ``absences_path`` (``rep_id, from, to``) adds periods of leave to the reps;
    ``appointments_path`` (``customer_id, date, start[, minutes, purpose]``) books visits.
    Holidays, absences and appointments need a start date of the period. ``config`` is used
    instead of reading ``config_path`` when given (a re-plan takes its plan's config).
    ``travel_options``: the command line's ``source``/``osm``/``osrm``/``matrix`` over
    ``[travel]``.
    """
    from .bookings import attach_appointments, load_absences
    from .geocode import locate
    from .load import check_locked_reps, load_customers, load_reps
    from .workdays import check_calendar

    config = config if config is not None else Config.from_toml(config_path)
    if travel_options:
        config = with_travel_options(config, **travel_options)
    if start_date is not None:
        config = replace(config, period=replace(config.period, start_date=start_date))
    paths = {"customers": Path(customers_path)}
    customers = load_customers(customers_path, config)
    customers = tuple(
        locate(customers, online=online, cache_path=cache_path, source=str(customers_path))
    )
    reps = None
    if reps_path is not None:
        paths["reps"] = Path(reps_path)
        reps = tuple(
            locate(
                load_reps(reps_path, config),
                online=online,
                cache_path=cache_path,
                source=str(reps_path),
            )
        )
        check_locked_reps(customers, reps, source=str(customers_path))
    if absences_path is not None:
        if reps is None:
            raise InputError(f"{absences_path}: absences need --reps (the reps they belong to)")
        paths["absences"] = Path(absences_path)
        reps = load_absences(absences_path, reps)
    if config_path is not None:
        paths["config"] = Path(config_path)
    check_calendar(config, reps, str(config_path or ""))
    if appointments_path is not None:
        paths["appointments"] = Path(appointments_path)
        customers = attach_appointments(customers, appointments_path, config)
    if not customers:
        raise InputError(
            f"{customers_path}: the file has no customer rows; add at least one customer"
        )
    travel = travel_model(config, Points.of([*customers, *(reps or ())]))
    field = tuple(c for c in customers if c.channel != "phone")
    phone = tuple(c for c in customers if c.channel == "phone")
    _check_economics(config, customers, customers_path)
    return Inputs(
        customers=field, reps=reps, config=config, paths=paths, travel=travel, phone=phone
    )


def _check_economics(config: Config, customers: Sequence[Customer], source: str | Path) -> None:
    """Say once, in one line, why ``[economics]`` gives no figures (no revenue, no potential)."""
    from .economics import revenue_basis

    if config.economics is not None and revenue_basis(customers) is None:
        warnings.warn(
            f"{source}: [economics] is set but no customer has a revenue or potential; the "
            "economics are skipped (add a revenue column: last year's sales in EUR)",
            TerritoryWarning,
            stacklevel=3,
        )


def with_assignments(inputs: Inputs, assignments_path: str | Path) -> Inputs:
    """The inputs with an assignments file (e.g. ``edit.html``'s export) as the split in force.

    Each customer's ``current_rep`` becomes its rep in the file and, where the file has a
    ``locked`` column, its lock replaces ``locked_rep``; the design then starts from this split
    (``previous``), keeps the locked customers with their rep, and ``--max-moved`` counts
    against it (``0``: the split exactly as in the file).

    Raises
    ------
    InputError
        No reps (free centres have no rep ids to start from), or the file does not fit the
        customers and reps (one line per problem).
    """
    from .load import apply_split, load_split

    if not inputs.reps:
        raise InputError(
            f"--assignments {assignments_path}: starting from a split needs --reps (the file "
            "names reps; free centres with --k have none)"
        )
    split = load_split(assignments_path, inputs.customers)
    rep_ids = [r.id for r in inputs.reps]
    customers = apply_split(inputs.customers, split, rep_ids)
    index = {rid: t for t, rid in enumerate(rep_ids)}
    return replace(
        inputs,
        customers=customers,
        paths={**inputs.paths, "assignments": Path(assignments_path)},
        start_from=tuple(index[c.current_rep] for c in customers),
    )


def size(inputs: Inputs) -> SizingResult:
    """Question 1: how many reps (the workload method and the potential method), and how many
    inside-sales agents for the customers served by phone (6.6)."""
    result = size_team(inputs.customers, inputs.config, inputs.reps, travel=inputs.travel)
    if inputs.phone:
        from .telesales import phone_workload

        result = replace(result, telesales=phone_workload(inputs.phone, inputs.config))
    return result


def design(
    inputs: Inputs,
    *,
    k: int | None = None,
    max_moved: float | None = None,
    progress: Progress | None = None,
) -> tuple[Design, CustomerWorkload]:
    """Question 2: who gets which customers."""
    from .districting import design_territories

    customers = inputs.customers
    if not customers:
        raise InputError(
            f"{inputs.paths['customers']}: every customer is served by phone (channel); there "
            'is no field work to divide (set channel = "field" for some)'
        )
    if k is not None and any(c.locked_rep for c in customers):
        # Free centres have no rep ids to lock to: say so rather than fail or guess.
        locked = sum(1 for c in customers if c.locked_rep)
        warnings.warn(
            f"{inputs.paths['customers']}: {locked} locked_rep values are ignored with --k "
            "(free centres have no reps); give --reps to honour them",
            TerritoryWarning,
            stacklevel=2,
        )
        customers = tuple(replace(c, locked_rep="") for c in customers)
    workload = customer_workload(customers, inputs.config, inputs.reps, travel=inputs.travel)
    result = design_territories(
        customers,
        inputs.reps,
        workload,
        inputs.config,
        k=k,
        previous=inputs.start_from if k is None else None,
        max_moved=max_moved,
        progress=progress,
        travel=inputs.travel,
    )
    return result, workload


def centre_rows(design_result: Design) -> list[str]:
    """One line per free territory centre: id, lat/lon and the nearest town."""
    team = report.team_reps(design_result, None)
    return [f"{r.id}: {r.lat:.4f}, {r.lon:.4f} ({r.name})" for r in team]


def evaluate(inputs: Inputs, assignments_path: str | Path | None = None) -> DesignKpis:
    """Judge an existing split: by default the customers' ``current_rep`` column."""
    from .districting import evaluate_assignment
    from .load import load_assignments

    if not inputs.reps:
        raise InputError("evaluate needs --reps: the reps file names the territories to judge")
    rep_index = {r.id: t for t, r in enumerate(inputs.reps)}
    if assignments_path is not None:
        mapping = load_assignments(assignments_path, inputs.customers)
    else:
        mapping = {c.id: c.current_rep for c in inputs.customers}
    assignment = []
    for c in inputs.customers:
        rep_id = mapping.get(c.id, "")
        if rep_id not in rep_index:
            known = ", ".join(sorted(rep_index))
            where = (
                f"{assignments_path}: customer '{c.id}'"
                if assignments_path is not None
                else f"{inputs.paths['customers']}, row {c.row}, column 'current_rep': "
                f"customer '{c.id}'"
            )
            raise InputError(
                f"{where} has rep '{rep_id}', which is not in the reps file; use one of {known}"
            )
        assignment.append(rep_index[rep_id])
    workload = customer_workload(inputs.customers, inputs.config, inputs.reps, travel=inputs.travel)
    return evaluate_assignment(
        inputs.customers, inputs.reps, workload, assignment, inputs.config, travel=inputs.travel
    )


def plan(
    inputs: Inputs,
    design_result: Design,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    workers: Workers | None = None,
    progress: Progress | None = None,
) -> tuple[Plan, Design]:
    """Question 3: which customer on which day, in what order (and the routed rebalance).

    ``jobs`` local processes, or the Dask cluster at ``scheduler``, or already opened
    ``workers``; the same result either way.
    """
    from .rebalance import plan_and_rebalance

    if not inputs.reps:
        raise InputError("plan needs --reps: every day is a loop from a rep's home")
    return plan_and_rebalance(
        keep_appointments(inputs, design_result),
        inputs.reps,
        design_result,
        inputs.config,
        jobs=jobs,
        scheduler=scheduler,
        workers=workers,
        progress=progress,
        travel=inputs.travel,
    )


def keep_appointments(inputs: Inputs, design_result: Design) -> tuple[Customer, ...]:
    """The customers to plan: each appointment checked against the day of the rep the design
    gave its customer (``bookings.check_appointments``), and a customer with appointments kept
    with that rep while the plan rebalances (as if locked to them)."""
    customers = inputs.customers
    if not any(c.appointments for c in customers) or not inputs.reps:
        return customers
    from .bookings import check_appointments

    rep_of = {
        c.id: design_result.rep_ids[t]
        for c, t in zip(customers, design_result.assignment, strict=True)
    }
    check_appointments(
        customers,
        inputs.reps,
        rep_of,
        inputs.config,
        inputs.travel,
        source=str(inputs.paths.get("appointments", "appointments.csv")),
    )
    return tuple(
        replace(c, locked_rep=c.locked_rep or rep_of[c.id]) if c.appointments else c
        for c in customers
    )


def summary(command: str, inputs: Inputs, kpis: dict[str, Any], started: float) -> dict[str, Any]:
    """summary.json: inputs with hashes, effective config, seed, KPIs, runtime."""
    return {
        "command": command,
        "version": __version__,
        "inputs": {
            name: {"path": str(p), "sha256": report.sha256_file(p)}
            for name, p in inputs.paths.items()
        },
        "config": inputs.config.to_dict(),
        "seed": inputs.config.territory.seed,
        "travel": inputs.travel.describe(),
        "kpis": kpis,
        report.RUNTIME_FIELD: round(time.perf_counter() - started, 2),
    }


def design_kpis(
    design_result: Design, figures: report.TerritoryFigures, customers: Sequence[Customer]
) -> dict[str, Any]:
    """Headline design KPIs for summary.json and the console."""
    keep = (
        "max_workload_deviation",
        "connected_share",
        "territories_connected",
        "moved",
        "objective",
        "lower_bound",
        "objective_ratio",
        "infeasible_notes",
        "max_potential_deviation",
        "max_customers_deviation",
    )
    kpis = design_result.kpis.to_dict() if design_result.kpis is not None else {}
    k = {key: kpis[key] for key in keep if key in kpis}
    k["customers"] = len(customers)
    k["territories"] = len(design_result.rep_ids)
    k["located_by_town"] = sum(1 for c in customers if c.located == "gazetteer")
    k["workload_hours_total"] = round(float(figures.workload_min.sum()) / 60, 2)
    return k


def _write_calendars(
    stage: Path,
    inputs: Inputs,
    plan_result: Plan,
    team: Sequence[Rep],
    replan: ReplanOutputs | None,
) -> None:
    """calendars/<rep>.ics (with a start date), and changes.csv of a re-plan."""
    from .calendars import write_calendars

    write_calendars(
        stage,
        plan_result,
        inputs.customers,
        team,
        inputs.config,
        revision=replan.revision if replan else 0,
        issued=replan.issued if replan else None,
        cancelled=replan.cancelled if replan else (),
    )
    if replan is not None:
        report.write_table(stage, columns.CHANGES, replan.changes)


def write_outputs(
    out_dir: str | Path,
    command: str,
    inputs: Inputs,
    design_result: Design,
    workload: CustomerWorkload,
    started: float,
    *,
    plan_result: Plan | None = None,
    lang: str = "en",
    offline: bool = False,
    maps: bool = True,
    progress: Progress | None = None,
    replan: ReplanOutputs | None = None,
    extra_kpis: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the plan folder atomically: tables, GeoJSON, summary.json, calendars, maps and report.

    ``replan`` (from ``territory replan``) adds changes.csv, the calendars' revision and the
    cancelled events of moved visits, and a ``replan`` section in summary.json. With
    ``[economics]`` (and revenue or potential) the folder also gets economics.csv and
    customer_economics.csv; with phone customers phone_customers.csv. ``extra_kpis`` are added
    to summary.json's KPIs (``scenarios`` names the scenario there).
    """
    from .economics import compute, customer_rows, phone_rows
    from .economics import territory_rows as economics_rows

    if progress is not None:
        progress("write: tables", 0.0)
    team = report.team_reps(design_result, inputs.reps)
    if plan_result is None:
        figures = report.estimated_figures(design_result, team, workload, inputs.config)
    else:
        figures = report.routed_figures(design_result, team, plan_result, inputs.config)
    t_rows = report.territory_rows(inputs.customers, design_result, team, workload, figures)
    kpis = design_kpis(design_result, figures, inputs.customers)
    if plan_result is not None:
        kpis.update(plan_result.kpis.to_dict())
    util = np.array([r["utilization"] or 0.0 for r in t_rows])
    kpis["utilization_min"] = round(float(util.min()), 4) if len(util) else None
    kpis["utilization_max"] = round(float(util.max()), 4) if len(util) else None
    econ = compute(
        inputs.customers,
        inputs.phone,
        design_result,
        team=team,
        workload=workload,
        figures=figures,
        config=inputs.config,
    )
    if inputs.phone:
        from .telesales import phone_workload

        kpis["phone_customers"] = len(inputs.phone)
        kpis["telesales"] = phone_workload(inputs.phone, inputs.config).to_dict()
    if econ is not None:
        kpis["economics"] = econ.totals()
    kpis.update(extra_kpis or {})
    with report.atomic_output(out_dir) as stage:
        report.write_table(
            stage,
            columns.ASSIGNMENTS,
            report.assignment_rows(inputs.customers, design_result, team, workload),
        )
        report.write_table(stage, columns.TERRITORIES, t_rows)
        report.write_text(
            stage / "territories.geojson",
            report.json_text(report.territories_geojson(inputs.customers, design_result, t_rows)),
        )
        if plan_result is not None:
            report.write_table(
                stage, columns.SCHEDULE, report.schedule_rows(plan_result, inputs.customers)
            )
            report.write_table(
                stage, columns.DAYS, report.day_rows(plan_result, team, inputs.config)
            )
            report.write_table(
                stage,
                columns.UNSCHEDULED,
                report.unscheduled_rows(plan_result, inputs.customers),
            )
            report.write_text(
                stage / "routes.geojson",
                report.json_text(
                    report.routes_geojson(plan_result, inputs.customers, team, inputs.travel)
                ),
            )
            _write_calendars(stage, inputs, plan_result, team, replan)
        if econ is not None:
            report.write_table(stage, columns.ECONOMICS, economics_rows(econ))
            report.write_table(stage, columns.CUSTOMER_ECONOMICS, customer_rows(econ))
        if inputs.phone:
            report.write_table(stage, columns.PHONE_CUSTOMERS, phone_rows(inputs.phone))
        result = summary(command, inputs, kpis, started)
        if replan is not None:
            result["replan"] = replan.summary
        report.write_text(stage / "summary.json", report.json_text(result))
        if maps:
            from .maps import render

            if progress is not None:
                progress("write: maps, report and workbook", 0.3)
            render(stage, lang=lang, offline=offline)
    if progress is not None:
        progress("write: done", 1.0)
    return result
