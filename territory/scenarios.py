"""Scenarios: the manager's what-if questions, each a variant of the inputs through design and plan.

A sales manager's real questions are comparisons (Rustenburg & Steenbeek, *Salesmanagement*,
6.3 to 6.6 and chapter 9): one rep more or fewer, a rep who leaves, the C customers served by
phone (telesales, 6.6), how much disruption a better split is worth (re-territorying:
*herindeling*). Each scenario is the same run as ``territory plan`` on varied inputs, written to a
plan folder of its own; :func:`scenario_row` sums each up as one row of ``scenarios.csv``, and
:func:`recommendation` says which wins on what.

The scenarios (names as written in the ``scenario`` column):

``today``
    The customers' ``current_rep`` as it is: no design, no rebalancing (customers without a
    current rep among the reps go to the nearest rep's home).
``redesign``
    A free redesign (no cap on moves), as ``territory plan`` without ``max_moved``.
``moved<=5%``, ``moved<=10%``, ``moved<=20%``
    Redesigns in which at most that share of the customers changes rep, the routed rebalancing
    included (the trade-off between disruption and balance).
``reps-1`` / ``without-R3``
    The team without the rep whose leaving costs least (whose customers lie nearest to the other
    reps' homes: least extra driving), or without the rep named by ``--without``.
``reps+1``
    The team with one more full-time rep, whose home is placed where it helps most (the
    free-centre machinery of the design stage with the homes fixed) and named after the nearest
    town.
``phone-C``
    The customers of one class (default C) served by phone; the field team is sized again by the
    workload method for the customers left (the reps whose leaving costs least leave first).
    Only with ``[economics]``, where its cost can be weighed.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from . import columns, pipeline, report
from .cluster import Workers
from .columns import Column as C
from .exceptions import InputError
from .models import Customer, Design, Rep
from .travel import Points, TravelModel, project_km
from .workload import CustomerWorkload, customer_workload, size_team

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

#: Scenario families that ``--skip`` switches off (``moved`` all capped ones, ``phone`` phone-C).
SCENARIO_KEYS = ("today", "redesign", "moved", "reps-1", "reps+1", "phone")
#: Shares of customers that may change rep in the capped redesigns.
DEFAULT_MOVED = (0.05, 0.10, 0.20)


@dataclass(frozen=True)
class Scenario:
    """One variant of the inputs: its name, its folder and what it changed.

    ``today`` keeps every customer with its ``current_rep`` (no design, no rebalancing);
    ``new_rep`` is the rep added by ``reps+1``; ``left`` the reps taken out.
    """

    name: str
    folder: str
    inputs: pipeline.Inputs
    note: str = ""
    today: bool = False
    new_rep: Rep | None = None
    left: tuple[Rep, ...] = ()
    cap: float | None = None


def moved_name(cap: float) -> str:
    """``moved<=10%`` for 0.10."""
    return f"moved<={100 * cap:g}%"


def folder_name(name: str, taken: set[str]) -> str:
    """A folder name for scenario ``name``: ``moved<=10%`` -> ``moved-max-10pct``; unique."""
    slug = name.replace("<=", "-max-").replace("%", "pct")
    slug = re.sub(r"[^A-Za-z0-9+_.-]+", "_", slug).strip("._") or "scenario"
    out, n = slug, 2
    while out.lower() in taken:
        out, n = f"{slug}-{n}", n + 1
    taken.add(out.lower())
    return out


# --------------------------------------------------------------------------------------------
# Choosing who leaves and where a new rep lives


def leaving_cost_km(
    customers: Sequence[Customer], reps: Sequence[Rep], travel: TravelModel
) -> NDArray[np.float64]:
    """What each rep's leaving costs: the extra km per period to reach their customers.

    A rep's customers are those whose nearest home is theirs; had the rep left, each would be
    reached from the next-nearest home: visits per period x (road km from that home - road km
    from the rep's), summed. Zero for every rep of a one-rep team.
    """
    k = len(reps)
    if k < 2 or not customers:
        return np.zeros(k)
    points, homes = Points.of(customers), Points.of(reps)
    lat0 = float(np.mean(points.lat))
    home_xy = project_km(homes.lat, homes.lon, lat0=lat0)
    _, idx = cKDTree(home_xy).query(project_km(points.lat, points.lon, lat0=lat0), k=2)
    near = travel.pairs(homes.take(idx[:, 0]), points).km
    second = travel.pairs(homes.take(idx[:, 1]), points).km
    visits = np.array([max(c.visits, 0) for c in customers], dtype=np.float64)
    extra = visits * np.maximum(second - near, 0.0)
    return np.asarray(np.bincount(idx[:, 0], weights=extra, minlength=k), dtype=np.float64)


def cheapest_to_lose(
    customers: Sequence[Customer], reps: Sequence[Rep], travel: TravelModel
) -> Rep:
    """The rep whose leaving costs least (:func:`leaving_cost_km`; the first on a tie)."""
    return reps[int(np.argmin(leaving_cost_km(customers, reps, travel)))]


def new_rep(inputs: pipeline.Inputs, lang: str = "en") -> Rep:
    """One more full-time rep, living where the team needs one most, named after the town.

    The home is placed by :func:`territory.districting.place_new_centre` (the reps' homes
    fixed); the id is ``NEW`` (``NEW2``... when taken).
    """
    from .districting import place_new_centre
    from .geocode import nearest_place

    reps = inputs.reps or ()
    workload = customer_workload(inputs.customers, inputs.config, reps, travel=inputs.travel)
    lat, lon = place_new_centre(
        inputs.customers, reps, workload, inputs.config, travel=inputs.travel
    )
    place = nearest_place(lat, lon)
    town = place.name if place is not None else f"{lat:.3f}, {lon:.3f}"
    ids = {r.id for r in reps}
    rep_id, n = "NEW", 2
    while rep_id in ids:
        rep_id, n = f"NEW{n}", n + 1
    name = f"nieuwe vertegenwoordiger bij {town}" if lang == "nl" else f"new rep near {town}"
    return Rep(id=rep_id, lat=lat, lon=lon, name=name, city=town, located="centre")


# --------------------------------------------------------------------------------------------
# The variants


def _without(inputs: pipeline.Inputs, leaving: Sequence[Rep]) -> pipeline.Inputs:
    """The inputs without ``leaving``: their customers' locks are freed."""
    gone = {r.id for r in leaving}
    reps = tuple(r for r in inputs.reps or () if r.id not in gone)
    customers = tuple(
        replace(c, locked_rep="") if c.locked_rep in gone else c for c in inputs.customers
    )
    return replace(inputs, reps=reps, customers=customers)


def _unlocked_note(inputs: pipeline.Inputs, leaving: Sequence[Rep], lang: str) -> str:
    gone = {r.id for r in leaving}
    locked = sum(1 for c in inputs.customers if c.locked_rep in gone)
    if not locked:
        return ""
    if lang == "nl":
        return f"; {locked} vaste klant(en) krijgen een andere vertegenwoordiger"
    return f"; {locked} locked account(s) freed"


def _rep_words(rep: Rep) -> str:
    return f"{rep.id} ({rep.name})" if rep.name else rep.id


def _uncapped(inputs: pipeline.Inputs) -> pipeline.Inputs:
    """The inputs with ``[territory] max_moved`` off (a free redesign)."""
    cfg = inputs.config
    return replace(inputs, config=replace(cfg, territory=replace(cfg.territory, max_moved=None)))


#: A scenario before it has a folder: name, inputs and the fields of :class:`Scenario`.
_Variant = tuple[str, pipeline.Inputs, dict[str, Any]]


def build_scenarios(
    inputs: pipeline.Inputs,
    *,
    skip: Sequence[str] = (),
    moved: Sequence[float] = DEFAULT_MOVED,
    without: Sequence[str] = (),
    phone_class: str | None = None,
    lang: str = "en",
) -> tuple[list[Scenario], list[str]]:
    """The scenarios to run, and a sentence for each default scenario left out and why.

    Parameters
    ----------
    inputs
        The loaded inputs (with reps).
    skip
        Families to leave out, from ``SCENARIO_KEYS``.
    moved
        Shares (0..1) of customers that may change rep, one capped redesign each.
    without
        Rep ids: one scenario ``without-<id>`` each.
    phone_class
        The class served by phone in ``phone-C`` (default C, else the last class).
    lang
        Language of the notes and of the new rep's name.

    Raises
    ------
    InputError
        A ``--skip`` name, a ``--without`` rep or a ``--phone-class`` that is unknown, or no
        reps.
    """
    reps = inputs.reps
    if not reps:
        raise InputError("scenarios needs --reps: every scenario is a team of reps")
    unknown = sorted(set(skip) - set(SCENARIO_KEYS))
    if unknown:
        raise InputError(
            f"--skip {','.join(unknown)}: unknown scenario; use some of {', '.join(SCENARIO_KEYS)}"
        )
    by_id = {r.id: r for r in reps}
    for rid in without:
        if rid not in by_id:
            raise InputError(
                f"--without {rid}: not a rep in the reps file; use one of {', '.join(by_id)}"
            )
    klass = _phone_class(inputs, phone_class)
    families: list[tuple[str, Callable[[], list[_Variant] | str]]] = [
        ("today", lambda: _today(inputs, lang)),
        ("redesign", lambda: [("redesign", _uncapped(inputs), {})]),
        ("moved", lambda: _capped(inputs, moved)),
        ("reps-1", lambda: _one_fewer(inputs, None, lang)),
        *(("", lambda rid=rid: _one_fewer(inputs, by_id[rid], lang)) for rid in without),
        ("reps+1", lambda: _one_more(inputs, lang)),
        ("phone", lambda: _phone_scenario(_uncapped(inputs), klass, lang)),
    ]
    out: list[Scenario] = []
    skipped: list[str] = []
    taken: set[str] = set()
    for key, make in families:
        if key in skip:
            continue
        made = make()
        if isinstance(made, str):
            skipped.append(made)
            continue
        for name, varied, fields in made:
            out.append(Scenario(name, folder_name(name, taken), varied, **fields))
    return out, skipped


def _today(inputs: pipeline.Inputs, lang: str) -> list[_Variant] | str:
    ids = {r.id for r in inputs.reps or ()}
    if not any(c.current_rep in ids for c in inputs.customers):
        return "today: no customer has a current_rep among the reps"
    return [("today", inputs, {"note": _today_note(inputs, lang), "today": True})]


def _capped(inputs: pipeline.Inputs, moved: Sequence[float]) -> list[_Variant] | str:
    if not any(c.current_rep for c in inputs.customers):
        return "moved<=...: no customer has a current_rep to stay with"
    cfg = inputs.config
    return [
        (
            moved_name(cap),
            replace(inputs, config=replace(cfg, territory=replace(cfg.territory, max_moved=cap))),
            {"cap": cap},
        )
        for cap in sorted(set(moved))
    ]


def _one_fewer(inputs: pipeline.Inputs, leaving: Rep | None, lang: str) -> list[_Variant] | str:
    """``reps-1`` (``leaving`` None: the cheapest to lose) or ``without-<id>``."""
    reps = inputs.reps or ()
    name = "reps-1" if leaving is None else f"without-{leaving.id}"
    if len(reps) < 2:
        return f"{name}: the team has one rep"
    chosen = leaving or cheapest_to_lose(inputs.customers, reps, inputs.travel)
    if lang == "nl":
        note = f"{_rep_words(chosen)} vertrekt" + (
            " (het goedkoopst te missen)" if leaving is None else ""
        )
    else:
        note = f"{_rep_words(chosen)} leaves" + (
            " (the cheapest to lose)" if leaving is None else ""
        )
    note += _unlocked_note(inputs, [chosen], lang)
    return [(name, _without(_uncapped(inputs), [chosen]), {"note": note, "left": (chosen,)})]


def _one_more(inputs: pipeline.Inputs, lang: str) -> list[_Variant]:
    free = _uncapped(inputs)
    rep = new_rep(free, lang)
    where = f"({rep.lat:.4f}, {rep.lon:.4f})"
    note = (
        f"{rep.id}: nieuwe vertegenwoordiger, woont bij {rep.city} {where}"
        if lang == "nl"
        else f"{rep.id}: new rep living near {rep.city} {where}"
    )
    return [
        ("reps+1", replace(free, reps=(*(free.reps or ()), rep)), {"note": note, "new_rep": rep})
    ]


def _today_note(inputs: pipeline.Inputs, lang: str) -> str:
    ids = {r.id for r in inputs.reps or ()}
    lost = sum(1 for c in inputs.customers if c.current_rep not in ids)
    if not lost:
        return ""
    if lang == "nl":
        return f"{lost} klanten zonder huidige vertegenwoordiger: naar de dichtstbijzijnde"
    return f"{lost} customers without a current rep among the reps go to the nearest rep"


def _phone_class(inputs: pipeline.Inputs, phone_class: str | None) -> str:
    classes = inputs.config.classes
    if phone_class is not None:
        name = phone_class.strip().upper()
        if name not in classes:
            raise InputError(
                f"--phone-class {phone_class}: not a class of the config; use one of "
                f"{', '.join(sorted(classes))}"
            )
        return name
    return "C" if "C" in classes else sorted(classes)[-1]


def _phone_scenario(inputs: pipeline.Inputs, klass: str, lang: str) -> list[_Variant] | str:
    """``phone-C``: the class by phone, the team sized again (or why there is none)."""
    from .telesales import phone_workload, to_phone

    name = f"phone-{klass}"
    if inputs.config.economics is None:
        return f"{name}: needs [economics] in the config to weigh the cost of the calls"
    moving = [c for c in inputs.customers if c.customer_class == klass]
    if not moving:
        return f"{name}: no field customer of class {klass}"
    if len(moving) == len(inputs.customers):
        return f"{name}: every field customer is of class {klass}; nothing would be visited"
    config = inputs.config
    field = tuple(c for c in inputs.customers if c.customer_class != klass)
    phone = inputs.phone + tuple(to_phone(c, config) for c in moving)
    reps = tuple(inputs.reps or ())
    need = size_team(field, config, reps, travel=inputs.travel).reps_recommended
    left: list[Rep] = []
    while len(reps) > max(need, 1):
        leaving = cheapest_to_lose(field, reps, inputs.travel)
        left.append(leaving)
        reps = tuple(r for r in reps if r.id != leaving.id)
    varied = _without(replace(inputs, customers=field, phone=phone), left)
    varied = replace(varied, reps=reps)
    agents = phone_workload(phone, config)
    if lang == "nl":
        note = (
            f"{len(moving)} klanten van klasse {klass} telefonisch ({agents.call_hours:.0f} "
            f"beluren per periode, {agents.agents_exact:.2f} binnendienstmedewerkers)"
        )
        if left:
            note += f"; {', '.join(_rep_words(r) for r in left)} niet meer nodig"
    else:
        note = (
            f"{len(moving)} class {klass} customers by phone ({agents.call_hours:.0f} call hours "
            f"per period, {agents.agents_exact:.2f} inside-sales agents)"
        )
        if left:
            note += f"; {', '.join(_rep_words(r) for r in left)} no longer needed"
    note += _unlocked_note(inputs, left, lang)
    return [(name, varied, {"note": note, "left": tuple(left)})]


# --------------------------------------------------------------------------------------------
# Running


def estimate_s(scenarios: Sequence[Scenario], workers: int) -> tuple[float, float]:
    """Rough wall-clock seconds of running ``scenarios``: (first passes, with rebalancing).

    Each scenario as :func:`territory.rebalance.estimate_plan_s` (with its customers spread
    evenly over its territories) plus its design.
    """
    from .districting import estimate_design_s
    from .rebalance import estimate_plan_s

    first = total = 0.0
    for sc in scenarios:
        customers, k = sc.inputs.customers, len(sc.inputs.reps or ())
        if not customers or not k:
            continue
        design = estimate_design_s(len(customers), k, lp=sc.cap is not None)
        a, b = estimate_plan_s(
            customers, [i % k for i in range(len(customers))], k, sc.inputs.config, workers
        )
        first += design + a
        total += design + b
    return first, total


def today_design(inputs: pipeline.Inputs) -> tuple[Design, CustomerWorkload]:
    """Today's split (``current_rep``) as a design with its KPIs; customers without a current
    rep among the reps go to the nearest rep's home."""
    from .districting import evaluate_assignment

    reps = tuple(inputs.reps or ())
    customers = inputs.customers
    index = {r.id: t for t, r in enumerate(reps)}
    points, homes = Points.of(customers), Points.of(reps)
    lat0 = float(np.mean(points.lat)) if len(points) else 0.0
    _, nearest = cKDTree(project_km(homes.lat, homes.lon, lat0=lat0)).query(
        project_km(points.lat, points.lon, lat0=lat0)
    )
    assignment = tuple(index.get(c.current_rep, int(nearest[i])) for i, c in enumerate(customers))
    workload = customer_workload(customers, inputs.config, reps, travel=inputs.travel)
    kpis = evaluate_assignment(
        customers, reps, workload, assignment, inputs.config, travel=inputs.travel
    )
    centres = tuple((r.lat, r.lon) for r in reps)
    return Design(tuple(r.id for r in reps), assignment, centres, kpis), workload


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario once run: its row of scenarios.csv and its plan folder's summary."""

    scenario: Scenario
    row: report.Row
    summary: dict[str, Any]


def run_scenario(
    scenario: Scenario,
    out_dir: Path,
    *,
    workers: Workers,
    lang: str = "en",
    offline: bool = False,
    maps: bool = True,
    progress: Progress | None = None,
) -> ScenarioResult:
    """Design (or take today's split), plan and write one scenario's folder under ``out_dir``."""
    started = time.perf_counter()
    inputs = scenario.inputs
    if scenario.today:
        # as it is: the routed rebalancing would move customers
        cfg = inputs.config
        inputs = replace(
            inputs, config=replace(cfg, planning=replace(cfg.planning, rebalance_rounds=0))
        )
        design, workload = today_design(inputs)
    else:
        design, workload = pipeline.design(inputs, progress=progress)
    plan, design = pipeline.plan(inputs, design, workers=workers, progress=progress)
    summary = pipeline.write_outputs(
        out_dir / scenario.folder,
        "scenarios",
        inputs,
        design,
        workload,
        started,
        plan_result=plan,
        lang=lang,
        offline=offline,
        maps=maps,
        progress=progress,
        extra_kpis={"scenario": scenario.name, "scenario_note": scenario.note},
    )
    return ScenarioResult(scenario, scenario_row(scenario, design, summary), summary)


def customers_moved(customers: Sequence[Customer], design: Design) -> int:
    """Field customers whose rep is not their ``current_rep`` (of those that have one)."""
    return sum(
        1
        for c, t in zip(customers, design.assignment, strict=True)
        if c.current_rep and c.current_rep != design.rep_ids[t]
    )


def scenario_row(scenario: Scenario, design: Design, summary: dict[str, Any]) -> report.Row:
    """The scenario's row of scenarios.csv, from its design and its summary.json."""
    kpis = summary["kpis"]
    econ = kpis.get("economics") or {}
    tele = kpis.get("telesales") or {}
    travel_min = kpis.get("travel_min")
    return {
        C.SCENARIO: scenario.name,
        C.REPS: len(design.rep_ids),
        C.PHONE_CUSTOMERS: len(scenario.inputs.phone),
        C.CUSTOMERS_MOVED: customers_moved(scenario.inputs.customers, design),
        C.MAX_WORKLOAD_DEVIATION: kpis.get(
            "max_routed_deviation", kpis.get("max_workload_deviation")
        ),
        C.MIN_UTILISATION: kpis.get("utilization_min"),
        C.MAX_UTILISATION: kpis.get("utilization_max"),
        C.VISITS_UNSCHEDULED: kpis.get("visits_unscheduled"),
        C.TRAVEL_HOURS: round(travel_min / 60, 2) if travel_min is not None else None,
        C.TRAVEL_KM: kpis.get("travel_km"),
        C.AGENTS_NEEDED: tele.get("agents_needed", 0),
        C.COST_EUR: econ.get("cost_eur"),
        C.CONTRIBUTION_EUR: econ.get("contribution_eur"),
        C.REVENUE: econ.get("revenue_eur"),
        C.FOLDER: scenario.folder,
        C.NOTE: scenario.note,
    }


def write_index(
    out_dir: Path,
    results: Sequence[ScenarioResult],
    *,
    lang: str = "en",
    skipped: Sequence[str] = (),
) -> list[Path]:
    """``scenarios.csv`` and ``scenarios.html`` in ``out_dir`` (each written atomically)."""
    from .scenariopage import scenarios_page

    rows = [r.row for r in results]
    csv_path = report.write_table(out_dir, columns.SCENARIOS, rows)
    html_path = out_dir / "scenarios.html"
    tolerance = results[0].scenario.inputs.config.planning.routed_tolerance if results else 0.1
    report.write_text(
        html_path,
        scenarios_page(out_dir, results, lang=lang, tolerance=tolerance, skipped=skipped),
    )
    return [csv_path, html_path]


# --------------------------------------------------------------------------------------------
# The recommendation, in the textbook's words


def _feasible(row: report.Row) -> bool:
    """Every visit scheduled and no rep over their working time."""
    util = row.get(C.MAX_UTILISATION)
    return not row.get(C.VISITS_UNSCHEDULED) and (util is None or util <= 1.0 + 1e-9)


def _eur(value: float, lang: str) -> str:
    text = f"{value:,.0f}"
    return f"€ {text.replace(',', '.')}" if lang == "nl" else f"EUR {text}"


def _pct(value: float, lang: str) -> str:
    text = f"{100 * value:.1f}"
    return f"{text.replace('.', ',')} %" if lang == "nl" else f"{text} %"


def recommendation(rows: Sequence[report.Row], lang: str = "en", tolerance: float = 0.1) -> str:
    """Which scenario wins on what, in one line (the textbook's terms, English or Dutch).

    The winner is, among the scenarios that schedule every visit with no rep over their working
    time (all, when none does), the one with the highest contribution when the economics are
    known, else the best balanced workload (fewest customers moved, then least travel, on a tie).
    The line then names the best balance, the least travel and the least disruption among the
    other feasible scenarios (no phone customers) whose routed workload stays within
    ``tolerance``.
    """
    if not rows:
        return ""
    pool = [r for r in rows if _feasible(r)] or list(rows)
    by_name = {r[C.SCENARIO]: r for r in rows}
    today = by_name.get("today")
    nl = lang == "nl"

    def dev(r: report.Row) -> float:
        value = r.get(C.MAX_WORKLOAD_DEVIATION)
        return float(value) if value is not None else math.inf

    def travel(r: report.Row) -> float:
        value = r.get(C.TRAVEL_HOURS)
        return float(value) if value is not None else math.inf

    among = ""
    if len(pool) < len(rows):
        among = (
            " van de scenario's die elk bezoek binnen de werktijd inplannen"
            if nl
            else " of the scenarios that schedule every visit within working time"
        )
    economics = all(r.get(C.CONTRIBUTION_EUR) is not None for r in pool)
    if economics:
        win = max(pool, key=lambda r: (float(r[C.CONTRIBUTION_EUR]), -dev(r)))
        amount = float(win[C.CONTRIBUTION_EUR])
        versus = ""
        if today is not None and today is not win and today.get(C.CONTRIBUTION_EUR) is not None:
            diff = amount - float(today[C.CONTRIBUTION_EUR])
            more = ("meer" if diff >= 0 else "minder") if nl else ("more" if diff >= 0 else "less")
            versus = (
                f", {_eur(abs(diff), lang)} {more} dan nu"
                if nl
                else f", {_eur(abs(diff), lang)} {more} than today"
            )
        why = (
            f"de hoogste dekkingsbijdrage{among}: {_eur(amount, lang)} per jaar{versus}"
            if nl
            else f"the highest contribution (dekkingsbijdrage){among}: {_eur(amount, lang)} a "
            f"year{versus}"
        )
    else:
        win = min(pool, key=lambda r: (dev(r), r[C.CUSTOMERS_MOVED], travel(r)))
        why = (
            f"de best verdeelde bewerkingstaak{among}: hoogstens {_pct(dev(win), lang)} afwijking"
            if nl
            else f"the best balanced workload (bewerkingstaak){among}: at most "
            f"{_pct(dev(win), lang)} off"
        )
    balanced = min(rows, key=lambda r: (dev(r), r[C.CUSTOMERS_MOVED]))
    least_travel = min(rows, key=travel)
    parts = [
        (
            f"Advies: {win[C.SCENARIO]} – {why}"
            if nl
            else f"Recommendation: {win[C.SCENARIO]} – {why}"
        )
    ]
    parts.append(
        f"best verdeelde bewerkingstaak: {balanced[C.SCENARIO]} (±{_pct(dev(balanced), lang)})"
        if nl
        else f"best balanced workload: {balanced[C.SCENARIO]} (±{_pct(dev(balanced), lang)})"
    )
    parts.append(
        f"minste reistijd: {least_travel[C.SCENARIO]} ({travel(least_travel):.0f} uur per periode)"
        if nl
        else f"least travel: {least_travel[C.SCENARIO]} ({travel(least_travel):.0f} h per period)"
    )
    changed = [
        r
        for r in rows
        if r[C.SCENARIO] != "today"
        and dev(r) <= tolerance + 1e-9
        and r[C.PHONE_CUSTOMERS] == 0
        and _feasible(r)
    ]
    if changed:
        calm = min(changed, key=lambda r: (r[C.CUSTOMERS_MOVED], dev(r)))
        parts.append(
            f"minste herindeling binnen ±{_pct(tolerance, lang)}: {calm[C.SCENARIO]} "
            f"({calm[C.CUSTOMERS_MOVED]} klanten naar een andere vertegenwoordiger)"
            if nl
            else f"least re-territorying within ±{_pct(tolerance, lang)}: {calm[C.SCENARIO]} "
            f"({calm[C.CUSTOMERS_MOVED]} customers change rep)"
        )
    return "; ".join(parts) + "."
