"""Rebalancing: plan every territory, then rebalance the team on its routed workload.

The design stage balances an *estimated* workload (visits plus a travel allowance); the routed
plan shows what each day really costs. Per territory the ratio of routed to estimated travel
corrects every customer's allowance, the design stage reallocates from the current assignment,
only the territories whose customers changed are planned again (from their customers' previous
patterns), and the best-balanced plan is kept; pair moves between neighbouring territories,
judged on their routed plans, finish the balance. This module is the only part of visit planning
that calls the design stage: models/params <- ... <- districting <- planning <- rebalance <-
pipeline.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from .cluster import Workers, open_executor
from .districting import (
    design_territories,
    estimate_design_s,
    evaluate_assignment,
    is_band_note,
    locked_and_current,
    moved_cap,
    road_neighbour_lists,
)
from .models import Customer, Design, DesignKpis, Plan, PlanKpis, Rep
from .params import Config
from .periodic import default_iterations
from .planning import (
    Progress,
    TerritoryPlan,
    TerritoryTask,
    check_plan_period,
    plan_tasks,
    territory_legs,
    territory_seconds,
    working_window,
)
from .travel import Points, TravelModel, crow, project_km
from .workload import CustomerWorkload, customer_workload, relative_deviation, rep_capacity_min

log = logging.getLogger(__name__)


def plan_and_rebalance(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    design: Design,
    config: Config,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    workers: Workers | None = None,
    progress: Progress | None = None,
    travel: TravelModel | None = None,
) -> tuple[Plan, Design]:
    """Plan every territory's period, then rebalance territories on the routed workload.

    Parameters
    ----------
    customers, reps
        As loaded; ``design.assignment[i]`` indexes ``design.rep_ids`` for customer ``i``.
    design
        The territories to plan.
    config
        The run's configuration (``period``, ``day``, ``travel``, ``planning``, ``territory.seed``).
    jobs
        Local worker processes; results are identical for any number.
    scheduler
        A Dask scheduler address (``tcp://HOST:PORT``): the territories are planned on that
        cluster instead (``jobs`` is then not used); results are identical to a local run.
    workers
        Already opened workers (``cluster.open_executor``); then ``jobs`` and ``scheduler`` are
        not used.
    progress
        Called with a message and a fraction done.
    travel
        The travel model (default: the straight-line model of ``config.travel``): every
        territory's legs, the travel allowance and the redesigns use it.

    Returns
    -------
    plan, design
        The best plan seen and the design it belongs to (the input design when rebalancing did
        not help or was not needed).

    Notes
    -----
    The rebalancing loop (``planning.rebalance_rounds`` rounds at most): per territory the ratio
    f_t = routed travel / estimated travel corrects every customer's travel allowance, the design
    stage reallocates from the current assignment, only territories whose customers changed are
    replanned (from their customers' patterns, at half the periodic engine's iterations), and
    the best plan is kept: the least routed deviation beyond ``planning.routed_goal`` summed
    over the reps, then the fewest unscheduled visits (`_TeamPlan.fairer_than`). The rounds
    stop once every rep is within the goal with nothing unscheduled, the deviation beyond the
    goal summed over the reps is at most 0.25 (not under a ``max_moved`` cap: the pair moves
    cannot move more customers than it allows, so the rounds, which choose which customers
    move, go on), or two rounds in a row did not improve (each
    round starts from the latest plan). Then pair moves (`_PairMoves`) between
    neighbouring territories, each judged by routing both again, finish the balance.
    """
    check_plan_period(config)
    by_id = {r.id: r for r in reps}
    team = [by_id[rid] for rid in design.rep_ids]
    travel = travel if travel is not None else crow(config.travel)
    if workers is not None:
        return _plan_and_rebalance(
            customers, team, design, config, travel=travel, workers=workers, progress=progress
        )
    with open_executor(jobs, scheduler) as opened:
        return _plan_and_rebalance(
            customers, team, design, config, travel=travel, workers=opened, progress=progress
        )


def routed_deviation(
    plans: Sequence[TerritoryPlan], reps: Sequence[Rep], config: Config
) -> NDArray[np.float64]:
    """Each rep's routed workload relative to the capacity-proportional mean, minus 1.

    Visits a territory could not schedule count with their estimate (``demand_min``): a
    territory with unscheduled visits is overloaded, not light.
    """
    load = np.array([p.demand_min for p in plans])
    cap = np.array([rep_capacity_min(r, config) for r in reps])
    if load.sum() <= 0 or cap.sum() <= 0:
        return np.zeros(len(plans))
    target = load.sum() * cap / cap.sum()
    return relative_deviation(load, target)


def estimate_plan_s(
    customers: Sequence[Customer],
    assignment: Sequence[int],
    n_territories: int,
    config: Config,
    workers: int,
) -> tuple[float, float]:
    """Rough wall-clock time of :func:`plan_and_rebalance`: (first pass, with rebalancing).

    The first pass is the busiest worker's share (largest territories first onto the least
    loaded worker); each rebalancing round runs the design stage once and replans the
    territories that changed, fewer each round (at most ``planning.rebalance_rounds`` rounds; the
    loop usually stops earlier, so the second number is an upper estimate).
    """
    visits = np.zeros(n_territories)
    np.add.at(visits, np.asarray(assignment, dtype=np.intp), [max(c.visits, 0) for c in customers])
    days = config.period.working_days
    polish = config.planning.polish_iterations
    secs = sorted((territory_seconds(int(v), days, polish) for v in visits), reverse=True)
    load = [0.0] * max(1, workers)
    for x in secs:  # longest first onto the least loaded worker, as the pool does
        load[load.index(min(load))] += x
    first = max(load)
    rounds = config.planning.rebalance_rounds if n_territories > 1 else 0
    # fewer territories change from round to round (measured at 8,000 x 120: 1.0, 0.54, 0.36,
    # 0.25, 0.21 and 0.07 of the first pass); 0.75 per round keeps the estimate on the safe side
    design_s = estimate_design_s(len(customers), n_territories)
    rebalance = sum(first * 0.75**r + design_s for r in range(rounds))
    return first, first + rebalance


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TeamPlan:
    """The team's territory plans (by territory index) and the assignment they belong to."""

    plans: list[TerritoryPlan]
    assignment: list[int]
    design: Design
    max_deviation: float  # largest absolute routed deviation
    unscheduled: int  # visits
    deviation: NDArray[np.float64]  # routed deviation per territory

    @classmethod
    def of(
        cls,
        plans: list[TerritoryPlan],
        design: Design,
        team: Sequence[Rep],
        config: Config,
    ) -> _TeamPlan:
        dev = routed_deviation(plans, team, config)
        max_dev = float(np.abs(dev).max()) if len(dev) else 0.0
        unscheduled = sum(len(p.unscheduled) for p in plans)
        return cls(plans, list(design.assignment), design, max_dev, unscheduled, dev)

    def excess(self, goal: float) -> float:
        """Routed deviation beyond ``goal``, summed over the reps (0: every rep within it)."""
        return float(np.maximum(np.abs(self.deviation) - goal, 0.0).sum())

    def fairer_than(self, other: _TeamPlan, goal: float, *, unscheduled_first: bool) -> bool:
        """The furthest rep nearer, as long as it is beyond twice ``goal``; then less deviation
        beyond ``goal`` summed over the reps (a plan that brings one rep into the band counts
        even when another rep is the furthest off), then fewer unscheduled
        visits, then a smaller maximum deviation; with ``unscheduled_first`` fewer unscheduled
        visits come first (a pair move never buys balance with a visit left out)."""
        fewer = self.unscheduled < other.unscheduled
        if unscheduled_first and self.unscheduled != other.unscheduled:
            return fewer
        # a rep far off (beyond twice the goal) outweighs the sum: the sum decides only among
        # plans whose furthest rep is as near (8,000 x 120 on bench_design's geography: a
        # round that took the sum from 0.27 to 0.23 took the furthest rep from 13 % to 19 %)
        far, far_other = max(self.max_deviation, 2 * goal), max(other.max_deviation, 2 * goal)
        if abs(far - far_other) > 1e-9:
            return far < far_other
        mine, theirs = self.excess(goal), other.excess(goal)
        if abs(mine - theirs) > 1e-9:
            return mine < theirs
        if self.unscheduled != other.unscheduled:
            return fewer
        return self.max_deviation < other.max_deviation - 1e-9

    def done(self, goal: float) -> bool:
        """Every rep within ``goal`` and nothing unscheduled."""
        return self.max_deviation <= goal and self.unscheduled == 0


def _plan_and_rebalance(
    customers: Sequence[Customer],
    team: Sequence[Rep],
    design: Design,
    config: Config,
    *,
    travel: TravelModel,
    workers: Workers,
    progress: Progress | None,
) -> tuple[Plan, Design]:
    workload = customer_workload(customers, config, team, travel=travel)
    estimate = workload.travel_min_per_visit
    tasks = _tasks(customers, team, list(design.assignment), estimate, config, travel=travel)
    plans = plan_tasks(tasks, workers, progress, "plan")
    first = _TeamPlan.of([plans[t] for t in range(len(team))], design, team, config)
    best = latest = first
    rounds = stale = 0
    planning = config.planning
    goal = planning.routed_goal
    for _ in range(planning.rebalance_rounds):
        if best.done(goal) or len(team) < 2 or stale >= _STALE_ROUNDS:
            break
        if best.excess(goal) <= _HANDOVER_EXCESS and config.territory.max_moved is None:
            break  # close: a few pair moves finish it sooner than a round of the whole team
        rounds += 1
        new_design = _redesign(
            customers, team, _corrected(workload, latest), config, latest.assignment, travel=travel
        )
        changed = _changed_territories(latest.assignment, new_design.assignment)
        if not changed:
            break
        replanned = plan_tasks(
            _tasks(
                customers,
                team,
                list(new_design.assignment),
                estimate,
                config,
                travel=travel,
                only=changed,
                previous=latest,
            ),
            workers,
            progress,
            f"rebalance round {rounds}",
        )
        new_plans = [replanned.get(t, latest.plans[t]) for t in range(len(team))]
        latest = _TeamPlan.of(new_plans, new_design, team, config)
        log.info(
            "rebalance round %d: %d territories replanned, max routed deviation %.3f -> %.3f, "
            "beyond the goal %.3f -> %.3f, unscheduled visits %d -> %d",
            rounds,
            len(changed),
            best.max_deviation,
            latest.max_deviation,
            best.excess(goal),
            latest.excess(goal),
            best.unscheduled,
            latest.unscheduled,
        )
        if latest.fairer_than(best, goal, unscheduled_first=False):
            best, stale = latest, 0
        else:
            stale += 1
    if planning.rebalance_rounds > 0 and len(team) > 1 and not best.done(goal):
        pairs = _PairMoves(
            customers,
            team,
            config,
            estimate=estimate,
            travel=travel,
            workers=workers,
            progress=progress,
        )
        moved = pairs.run(best)
        if moved is not best:
            # the design's figures for the assignment the pair moves left
            kpis = evaluate_assignment(
                customers, team, workload, moved.assignment, config, travel=travel
            )
            kpis = replace(
                kpis,
                infeasible_notes=_estimate_notes(
                    kpis, moved, team, config.planning.routed_tolerance
                ),
            )
            best = replace(moved, design=replace(moved.design, kpis=kpis))
    plan = Plan(
        days=tuple(d for p in best.plans for d in p.days),
        unscheduled=tuple(u for p in best.plans for u in p.unscheduled),
        kpis=_plan_kpis(customers, team, config, first=first, best=best, rounds=rounds),
    )
    return plan, best.design


#: A replanned territory starts from its customers' patterns: this share of the engine's
#: default iterations (when neither ``rebalance_iterations`` nor ``improve_iterations`` is set).
_REPLAN_SHARE = 0.5
#: Deviation beyond the goal (summed over the reps) from which the pair moves take over from
#: the redesign rounds (measured at 8,000 x 120: a pair move removes 0.01-0.03 of it, in about
#: a second; a round replans most territories, about 45 s, and may not improve).
_HANDOVER_EXCESS = 0.25
#: Rounds in a row without a better plan after which the loop stops.
_STALE_ROUNDS = 2
#: Pair moves tried after the redesign rounds, per territory in the team (at least 12).
_PAIR_MOVES_PER_TERRITORY = 1.0
#: A pair move is tried with this share of the load gap, then half of it.
_PAIR_SHARES = (0.5, 0.25)
#: A pair move skips a customer that would take it past this multiple of its amount, unless
#: both territories stay within the goal with it (the room of the nearer one to its edge).
_PAIR_OVERSHOOT = 1.5


class _PairMoves:
    """The last step of rebalancing: moves between two neighbouring territories, each judged by
    routing both again.

    The redesign rounds correct every territory's travel estimate by its routed/estimated
    ratio and reallocate the whole team; a customer that changes territory changes its real
    cost in ways the estimate cannot see (another home, another day's loop), so they approach
    the goal but can oscillate around it. Here the rep furthest off hands customers to (or takes
    them from) its neighbouring territory furthest off the other way: the customers of the
    busier territory that touch the other one in the neighbourhood graph, nearest first, about
    ``share`` of the routed gap between the two; the busier territory must stay connected. Both
    are planned again (from their customers' patterns) and the move is kept when the team plan
    is fairer (`_TeamPlan.fairer_than` with unscheduled visits first: no fewer visits planned,
    then less deviation beyond the goal summed over the reps). A customer that would take the
    move past 1.5 times its share is skipped, unless both territories stay within the goal
    with it (a rep just over the goal whose border customers are all bigger than its small
    share). Once every rep is within the goal, a territory
    that still leaves visits unscheduled gives customers worth at least those visits to its
    least loaded neighbour; such a move is kept only when more visits are scheduled.
    """

    def __init__(
        self,
        customers: Sequence[Customer],
        team: Sequence[Rep],
        config: Config,
        *,
        estimate: NDArray[np.float64],
        travel: TravelModel,
        workers: Workers,
        progress: Progress | None,
    ) -> None:
        self.customers, self.team, self.config = customers, team, config
        self.estimate, self.travel = estimate, travel
        self.workers, self.progress = workers, progress
        points = Points.of(customers)
        self.xy = project_km(points.lat, points.lon)
        self.nbrs = road_neighbour_lists(self.xy, points, travel)  # the design's graph
        self.home_xy = project_km(np.array([r.lat for r in team]), np.array([r.lon for r in team]))
        self.cap = np.array([rep_capacity_min(r, config) for r in team])
        self.goal = config.planning.routed_goal
        self.points, self.homes = points, Points.of(team)
        # a pair move never moves a locked customer nor takes more customers away from their
        # current rep than [territory] max_moved allows (the design's own rule)
        locked, current = locked_and_current(customers, tuple(r.id for r in team))
        self.locked = set(np.flatnonzero(locked >= 0).tolist())
        self.current = current.tolist()
        self.moved_limit = moved_cap(current, locked, config.territory.max_moved)
        self.selling_min = np.zeros(len(team))
        for t, r in enumerate(team):
            start, end, lunch = working_window(r, config)
            self.selling_min[t] = end - start - (lunch[2] if lunch else 0)

    def run(self, best: _TeamPlan) -> _TeamPlan:
        """Pair moves until every rep is within the goal or the tries run out."""
        tries = max(12, int(_PAIR_MOVES_PER_TERRITORY * len(self.team)))
        failed: set[tuple[int, int]] = set()
        for step in range(tries):
            if best.done(self.goal):
                break
            picked = self._pick(best, failed)
            if picked is None:
                break
            pair, left_out = picked[:2], picked[2]
            for share in _PAIR_SHARES:
                trial = self._move(best, *pair, share, step, left_out=left_out)
                if (
                    trial is not None
                    and trial.fairer_than(best, self.goal, unscheduled_first=True)
                    # a move for visits left out must schedule more, not only shift the balance
                    and (not left_out or trial.unscheduled < best.unscheduled)
                ):
                    log.info(
                        "pair move %d: %s -> %s, max routed deviation %.3f -> %.3f, beyond "
                        "the goal %.3f -> %.3f, unscheduled visits %d -> %d",
                        step + 1,
                        self.team[pair[0]].id,
                        self.team[pair[1]].id,
                        best.max_deviation,
                        trial.max_deviation,
                        best.excess(self.goal),
                        trial.excess(self.goal),
                        best.unscheduled,
                        trial.unscheduled,
                    )
                    best = trial
                    # the two loads changed: pairs with either may work now
                    failed = {f for f in failed if not set(f) & set(pair)}
                    break
            else:
                failed.add(pair)
        return best

    def _pick(self, best: _TeamPlan, failed: set[tuple[int, int]]) -> tuple[int, int, bool] | None:
        """(from, to, for visits left out): the rep furthest off and its neighbouring territory
        furthest the other way; the busier one gives. Once every rep is within the goal, a
        territory with visits left unscheduled gives to its least loaded neighbour (measured on
        bench_design's geography at 8,000 x 120: every rep within 4.8 %, but one rep's
        Thursdays and Fridays full, four visits of two weekly customers left out). None when no
        untried pair is left."""
        dev = best.deviation
        a = best.assignment
        off = [
            t for t in np.argsort(-np.abs(dev), kind="stable").tolist() if abs(dev[t]) > self.goal
        ]
        short = sorted(
            (t for t, p in enumerate(best.plans) if p.unscheduled and t not in off),
            key=lambda t: (-len(best.plans[t].unscheduled), t),
        )
        for t in off + short:
            touching = {a[j] for i in range(len(a)) if a[i] == t for j in self.nbrs[i]} - {t}
            over = dev[t] > 0 or t in short
            options = sorted(touching, key=lambda u: (dev[u] if over else -dev[u], u))
            for u in options:
                pair = (t, u) if over else (u, t)
                if dev[pair[0]] > dev[pair[1]] and pair not in failed:
                    return (*pair, t in short)
        return None

    def _move(
        self, best: _TeamPlan, src: int, dst: int, share: float, step: int, *, left_out: bool
    ) -> _TeamPlan | None:
        """The team plan after ``src`` gives ``share`` of the routed gap to ``dst`` (with
        ``left_out``, at least the work of the visits ``src`` leaves unscheduled)."""
        plans, a, dev = best.plans, list(best.assignment), best.deviation
        load = np.array([p.demand_min for p in plans])
        target = load.sum() * self.cap / self.cap.sum()
        amount = share * (dev[src] - dev[dst]) * min(target[src], target[dst])
        if left_out:  # picked for its visits left out: it gives at least their work
            amount = max(amount, share * 2 * plans[src].unscheduled_min)
        # as much as keeps both within the goal: the giver above -goal, the taker below +goal
        room = min((self.goal - dev[dst]) * target[dst], (dev[src] + self.goal) * target[src])
        limit = max(_PAIR_OVERSHOOT * amount, room)
        moving = self._boundary(a, src, dst, amount, plans[src], limit)
        if not moving:
            return None
        for i in moving:
            a[i] = dst
        replanned = plan_tasks(
            _tasks(
                self.customers,
                self.team,
                a,
                self.estimate,
                self.config,
                travel=self.travel,
                only={src, dst},
                previous=best,
            ),
            self.workers,
            self.progress,
            f"pair move {step + 1}",
        )
        new_plans = [replanned.get(t, plans[t]) for t in range(len(self.team))]
        design = replace(best.design, assignment=tuple(a))
        return _TeamPlan.of(new_plans, design, self.team, self.config)

    def _boundary(
        self,
        a: list[int],
        src: int,
        dst: int,
        amount_min: float,
        plan: TerritoryPlan,
        limit_min: float,
    ) -> list[int]:
        """Customers of ``src`` next to ``dst`` (breadth first from the shared border, nearest
        to ``dst``'s home first) worth about ``amount_min`` routed minutes and at most
        ``limit_min``, leaving ``src`` connected: where they cut a pocket of ``src`` off its
        biggest piece, the pocket goes with them within the limit."""
        customers = self.customers
        mine = [i for i in range(len(a)) if a[i] == src]
        visits = sum(max(customers[i].visits, 0) for i in mine) or 1
        travel_per_visit = plan.travel_min / visits

        def worth_of(i: int) -> float:  # routed minutes customer i takes with it
            return max(customers[i].visits, 0) * (customers[i].visit_minutes + travel_per_visit)

        def moved_by(i: int) -> int:  # change in customers away from their current rep
            cur = self.current[i]
            return int(cur not in (-1, dst)) - int(cur not in (-1, src))

        home = self.home_xy[dst]
        frontier = sorted(
            {i for i in mine if any(a[j] == dst for j in self.nbrs[i])},
            key=lambda i: (float(np.hypot(*(self.xy[i] - home))), i),
        )
        chosen: list[int] = []
        taken: set[int] = set()
        worth = 0.0
        moved = self._moved(a)
        while frontier and worth < amount_min:
            i = frontier.pop(0)
            if i in taken or i in self.locked or not self._reachable(i, dst):
                continue
            its = worth_of(i)
            if worth + its > limit_min:
                continue  # would overshoot the gap: a smaller customer further on may fit
            more_moved = moved_by(i)
            if self.moved_limit is not None and more_moved > 0 and moved >= self.moved_limit:
                continue
            moved += more_moved
            taken.add(i)
            chosen.append(i)
            worth += its
            more = [j for j in self.nbrs[i] if a[j] == src and j not in taken]
            frontier.extend(sorted(more, key=lambda j: (float(np.hypot(*(self.xy[j] - home))), j)))
        rest = set(mine) - taken
        if chosen and rest and not _connected(rest, self.nbrs):
            # the border customers cut a pocket off: it goes with them if the limit allows
            pocket = sorted(set().union(*_pieces(rest, self.nbrs)[1:]))
            its = sum(worth_of(i) for i in pocket)
            more_moved = sum(moved_by(i) for i in pocket)
            if (
                worth + its <= limit_min
                and all(i not in self.locked and self._reachable(i, dst) for i in pocket)
                and (
                    self.moved_limit is None
                    or more_moved <= 0
                    or moved + more_moved <= self.moved_limit
                )
            ):
                chosen += pocket
                rest -= set(pocket)
        if not chosen or not rest or not _connected(rest, self.nbrs):
            return []
        return chosen

    def _moved(self, a: Sequence[int]) -> int:
        """Customers of ``a`` not with their current rep (of those that have one)."""
        return sum(1 for i, t in enumerate(a) if self.current[i] != -1 and self.current[i] != t)

    def _reachable(self, i: int, t: int) -> bool:
        """Whether rep ``t`` can drive to customer ``i``, visit and come back within a day."""
        idx = np.array([i])
        home = self.homes.take(np.array([t]))
        there = self.travel.pairs(home, self.points.take(idx)).minutes[0]
        back = self.travel.pairs(self.points.take(idx), home).minutes[0]
        visit = max(self.customers[i].visit_minutes, 0.0)
        return bool(there + back + visit <= self.selling_min[t])


def _estimate_notes(
    kpis: DesignKpis, moved: _TeamPlan, team: Sequence[Rep], routed_tolerance: float
) -> tuple[str, ...]:
    """The design's notes after the pair moves: the estimate's band misses are no failure of
    the design then (the pair moves balance the routed workload), so one sentence says so."""
    notes = [n for n in kpis.infeasible_notes if not is_band_note(n, "workload")]
    dev = np.asarray(kpis.deviation, dtype=np.float64)
    if dev.size and float(np.abs(dev).max()) > kpis.tolerance + 1e-9:
        worst = int(np.argmax(np.abs(dev)))
        routed = moved.max_deviation * 100
        done = (
            f"balanced the real workload (routed, within {routed:.1f} %)"
            if moved.max_deviation <= routed_tolerance + 1e-9
            else f"brought the real workload to within {routed:.1f} % (routed; the goal is "
            f"+/- {routed_tolerance * 100:.0f} %)"
        )
        notes.append(
            f"The routed rebalancing {done}; the design's estimate of it, which only "
            f"approximates the driving, is now off its target by up to {dev[worst] * 100:+.1f} % "
            f"('{team[worst].id}')."
        )
    return tuple(notes)


def _connected(members: set[int], nbrs: list[list[int]]) -> bool:
    """Whether ``members`` form one piece of the neighbourhood graph."""
    return len(_piece(min(members), members, nbrs)) == len(members)


def _piece(start: int, members: set[int], nbrs: list[list[int]]) -> set[int]:
    """The members reachable from ``start`` through members of the neighbourhood graph."""
    seen, stack = {start}, [start]
    while stack:
        i = stack.pop()
        for j in nbrs[i]:
            if j in members and j not in seen:
                seen.add(j)
                stack.append(j)
    return seen


def _pieces(members: set[int], nbrs: list[list[int]]) -> list[set[int]]:
    """The connected pieces of ``members``, the biggest first (ties: the lowest index)."""
    left, pieces = set(members), []
    while left:
        piece = _piece(min(left), left, nbrs)
        pieces.append(piece)
        left -= piece
    return sorted(pieces, key=lambda piece: (-len(piece), min(piece)))


def _corrected(workload: CustomerWorkload, latest: _TeamPlan) -> CustomerWorkload:
    """The workload with each customer's travel allowance scaled by its territory's ratio of
    routed travel (unscheduled visits' estimate incl.) to estimated travel."""
    assign = latest.assignment
    est_travel = np.zeros(len(latest.plans))
    np.add.at(est_travel, np.array(assign), workload.travel_total_min)
    routed_travel = np.array([p.travel_min + p.unscheduled_travel_min for p in latest.plans])
    factor = np.where(est_travel > 0, routed_travel / np.maximum(est_travel, 1e-9), 1.0)
    return replace(workload, travel_min_per_visit=workload.travel_min_per_visit * factor[assign])


def _changed_territories(old: Sequence[int], new: Sequence[int]) -> set[int]:
    """Territories that gained or lost a customer."""
    changed = {t for i, t in enumerate(new) if old[i] != t}
    changed |= {old[i] for i, t in enumerate(new) if old[i] != t}
    return changed


def _redesign(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    workload: CustomerWorkload,
    config: Config,
    previous: Sequence[int],
    *,
    travel: TravelModel,
) -> Design:
    """Territory design started from ``previous`` with a routing-corrected workload."""
    return design_territories(customers, reps, workload, config, previous=previous, travel=travel)


def _members(assignment: Sequence[int], k: int) -> list[list[int]]:
    members: list[list[int]] = [[] for _ in range(k)]
    for i, t in enumerate(assignment):
        members[t].append(i)
    return members


def _tasks(
    customers: Sequence[Customer],
    reps: Sequence[Rep],
    assignment: Sequence[int],
    estimate: NDArray[np.float64],
    config: Config,
    *,
    travel: TravelModel,
    only: set[int] | None = None,
    previous: _TeamPlan | None = None,
) -> list[TerritoryTask]:
    """One task per territory (those in ``only``); with ``previous`` a replanned territory
    starts from the patterns its customers had there, with ``rebalance_iterations``."""
    members = _members(assignment, len(reps))
    known: dict[int, int] | None = None
    iterations = None
    if previous is not None:
        known = {}
        for t_old, members_old in enumerate(_members(previous.assignment, len(reps))):
            for i, p in zip(members_old, previous.plans[t_old].patterns, strict=True):
                known[i] = p
        planning = config.planning
        iterations = (
            planning.rebalance_iterations
            if planning.rebalance_iterations is not None
            else planning.improve_iterations  # None: a share of the engine's own default
        )
    tasks = []
    for t in range(len(reps)):
        if only is not None and t not in only:
            continue
        mine = tuple(customers[i] for i in members[t])
        tasks.append(
            TerritoryTask(
                index=t,
                rep=reps[t],
                customers=mine,
                travel_estimate_min=tuple(float(estimate[i]) for i in members[t]),
                config=config,
                seed=config.territory.seed,
                legs=territory_legs(reps[t], mine, travel),
                initial_patterns=(
                    tuple(known.get(i, 0) for i in members[t]) if known is not None else None
                ),
                iterations=(
                    iterations
                    if iterations is not None or known is None
                    else int(_REPLAN_SHARE * default_iterations(len(mine)))
                ),
            )
        )
    return tasks


# --------------------------------------------------------------------------------------------
# KPIs
# --------------------------------------------------------------------------------------------


def _plan_kpis(
    customers: Sequence[Customer],
    team: Sequence[Rep],
    config: Config,
    *,
    first: _TeamPlan,
    best: _TeamPlan,
    rounds: int,
) -> PlanKpis:
    plans = best.plans
    dev = routed_deviation(plans, team, config)
    unscheduled = sum(len(p.unscheduled) for p in plans)
    routed = sum(p.workload_min for p in plans) + sum(p.unscheduled_min for p in plans)
    one_rep = rep_capacity_min(Rep(id="", lat=0.0, lon=0.0), config)
    moved = sum(
        1 for a, b in zip(first.design.assignment, best.design.assignment, strict=True) if a != b
    )
    notes = _notes(plans, dev, config)
    if unscheduled:
        notes.insert(
            0,
            f"{unscheduled} visits could not be scheduled (see unscheduled.csv); the routed "
            f"workload asks for about {routed / one_rep:.1f} full-time reps",
        )
    return PlanKpis(
        notes=tuple(notes),
        visits=int(sum(max(c.visits, 0) for c in customers)),
        visits_planned=sum(len(d.visits) for p in plans for d in p.days),
        visits_unscheduled=unscheduled,
        customers_unscheduled=len({u.customer_id for p in plans for u in p.unscheduled}),
        working_days_used=sum(len(p.days) for p in plans),
        visit_min=sum(p.visit_min for p in plans),
        travel_min=sum(p.travel_min for p in plans),
        travel_km=sum(p.travel_km for p in plans),
        admin_min=sum(p.admin_min for p in plans),
        routed_workload_min={p.rep_id: p.workload_min for p in plans},
        routed_travel_min={p.rep_id: p.travel_min for p in plans},
        routed_travel_km={p.rep_id: p.travel_km for p in plans},
        capacity_min={r.id: rep_capacity_min(r, config) for r in team},
        routed_deviation={p.rep_id: float(x) for p, x in zip(plans, dev, strict=True)},
        max_routed_deviation_before=first.max_deviation,
        max_routed_deviation=best.max_deviation,
        rebalance_rounds=rounds,
        rebalance_moved=moved,
        reps_needed_exact=routed / one_rep if one_rep else None,
        reps_needed=math.ceil(routed / one_rep - 1e-9) if one_rep else None,
    )


def _notes(plans: Sequence[TerritoryPlan], dev: NDArray[np.float64], config: Config) -> list[str]:
    """Territories cut short by the time cap, and reps outside the routed workload band."""
    notes = []
    capped = [p.rep_id for p in plans if p.time_capped]
    if capped:
        notes.append(
            f"planning of territor{'y' if len(capped) == 1 else 'ies'} {', '.join(capped)} reached "
            f"[planning] territory_time_limit_s = {config.planning.territory_time_limit_s:g} s and "
            "was finished with quick routes; raise the limit for a better (and reproducible) plan"
        )
    tol = config.planning.routed_tolerance
    for p, x in zip(plans, dev, strict=True):
        if abs(x) <= tol:
            continue
        # with visits left out, the deviation is of the work asked (routed_deviation)
        what = (
            f"work asked of rep {p.rep_id} (routed workload plus {len(p.unscheduled)} "
            f"unscheduled visit{'' if len(p.unscheduled) == 1 else 's'})"
            if p.unscheduled
            else f"routed workload of rep {p.rep_id}"
        )
        notes.append(
            f"{what} is {100 * x:+.1f} % from the capacity-proportional mean "
            f"(allowed +/- {100 * tol:.0f} %)"
        )
    return notes
