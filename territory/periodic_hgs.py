"""A hybrid genetic search for the periodic plan (Vidal, Crainic, Gendreau, Lahrichi & Rei 2012).

A population of route tables, each educated by a compiled local search that improves the
routes of every day and the customers' patterns together (`periodic_hgs_kernels.educate`);
parents picked by binary tournament on biased fitness (cost rank plus diversity rank), children
made by the periodic crossover, infeasible children repaired half of the time under ten-fold
penalties, the load and duration penalties adjusted toward a share of feasible children, and
the population cut back to its best and most diverse members when it grows past its size.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .periodic import (
    Exchange,
    PeriodicProblem,
    PeriodicSolution,
    SearchParams,
    StoppingCriterion,
    _Budget,
    _Penalties,
    check_solution,
)
from .periodic import _Data as _SearchData
from .periodic_hgs_kernels import broken_pairs_to, crossover, educate, evaluate, successors

__all__ = ["HgsParams", "education_arrays", "hgs_applies", "solve_hgs"]


def hgs_applies(problem: PeriodicProblem) -> bool:
    """Whether `solve_hgs` takes ``problem``: every customer must be scheduled."""
    return problem.unscheduled_penalty is None and all(problem.patterns) and problem.n_customers > 1


@dataclass(frozen=True)
class HgsParams:
    """Population sizes and settings of the hybrid genetic search (Vidal et al.'s values).

    Attributes
    ----------
    mu, lam
        Each subpopulation (feasible, infeasible) is cut back to ``mu`` plans when it reaches
        ``mu + lam``: clones first, then the worst biased fitness.
    n_elite
        Plans whose cost rank the diversity cannot outweigh in the biased fitness.
    n_close
        Diversity of a plan: its mean broken-pairs distance to this many closest plans.
    granular
        Neighbours per customer (nearest by travel both ways) that the route moves and the
        pattern moves' insertions consider.
    target_feasible
        Share of children within each limit that the penalty weights aim at.
    repair_probability
        Chance that an infeasible child is educated again under ten-fold penalties.
    penalty_window
        Children per penalty weight update.
    initial
        Plans of the first population, built from nothing (time allowing; at least two).
    """

    mu: int = 25
    lam: int = 40
    n_elite: int = 4
    n_close: int = 5
    granular: int = 20
    target_feasible: float = 0.2
    repair_probability: float = 0.5
    penalty_window: int = 100
    initial: int = 100

    def __post_init__(self) -> None:
        sizes = ("mu", "n_elite", "n_close", "granular", "penalty_window", "initial")
        bad = [name for name in sizes if getattr(self, name) < 1]
        bad += ["lam"] if self.lam < 0 else []
        shares = ("target_feasible", "repair_probability")
        bad += [name for name in shares if not 0 <= getattr(self, name) <= 1]
        if bad:
            raise ValueError(f"HgsParams: {', '.join(bad)} out of range")


class _Data:
    """Arrays of the problem as the kernels take them: the search's own (`periodic._Data`:
    travel, demand, service, limits; its base penalty weights) plus the patterns as flat
    arrays and each customer's nearest neighbours."""

    def __init__(self, problem: PeriodicProblem, granular: int) -> None:
        base = _SearchData(problem)
        self.problem = problem
        self.d, self.q, self.s = base.d, base.q, base.s
        self.n, self.t, self.m = base.n, base.t, base.m
        self.cap, self.maxd = base.cap, base.max_dur  # inf where there is no limit
        self.symmetric = base.symmetric
        weights = _Penalties(base, SearchParams())
        self.alpha0, self.beta0 = weights.alpha0, weights.beta0
        self.pat_off, self.pat_flat, self.nb = education_arrays(self.d, problem.patterns, granular)


def education_arrays(
    d: NDArray[np.float64], patterns: Sequence[Sequence[int]], granular: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """What `educate` takes beside the problem's arrays: the customers' allowed patterns as
    offsets (customer ``c``'s from ``offsets[c]`` to ``offsets[c + 1]``) into one flat array,
    and each customer's ``granular`` nearest customers by travel both ways (row 0 unused)."""
    n = d.shape[0] - 1
    offsets = np.zeros(n + 2, dtype=np.int64)
    offsets[2:] = np.cumsum([len(p) for p in patterns])
    flat = np.array([x for p in patterns for x in p], dtype=np.int64)
    sym = d[1:, 1:] + d[1:, 1:].T
    np.fill_diagonal(sym, np.inf)
    k = max(1, min(granular, n - 1))
    nb = np.zeros((n + 1, k), dtype=np.int64)
    if n > 1:
        nb[1:] = np.argsort(sym, axis=1, kind="stable")[:, :k] + 1
    return offsets, flat, nb


class _Ind:
    """A plan: its route table, travel, load excess and duration excess."""

    __slots__ = ("dx", "lx", "rlen", "routes", "travel")

    def __init__(self, routes: NDArray[np.int64], rlen: NDArray[np.int64], data: _Data) -> None:
        self.routes = routes
        self.rlen = rlen
        self.travel, self.lx, self.dx = evaluate(
            routes, rlen, data.d, data.q, data.s, data.cap, data.maxd
        )

    @property
    def feasible(self) -> bool:
        return self.lx <= 1e-9 and self.dx <= 1e-9

    def cost(self, alpha: float, beta: float) -> float:
        return float(self.travel + alpha * self.lx + beta * self.dx)


class _Sub:
    """A subpopulation (feasible or infeasible individuals) with its distance matrix."""

    def __init__(self) -> None:
        self.inds: list[_Ind] = []
        self.dist = np.zeros((0, 0))
        self.fit: list[float] | None = None


class _Population:
    """The feasible and the infeasible subpopulation."""

    def __init__(self, data: _Data, params: HgsParams) -> None:
        self.data = data
        self.params = params
        self.feas = _Sub()
        self.infeas = _Sub()

    def add(self, ind: _Ind, alpha: float, beta: float) -> None:
        sub = self.feas if ind.feasible else self.infeas
        data = self.data
        n = len(sub.inds)
        succ = successors(ind.routes, ind.rlen, data.n + 1, data.t, data.m)
        visits = int(ind.rlen.sum())
        row = np.array([broken_pairs_to(succ, visits, o.routes, o.rlen, data.m) for o in sub.inds])
        dist = np.zeros((n + 1, n + 1))
        dist[:n, :n] = sub.dist
        dist[n, :n] = row
        dist[:n, n] = row
        sub.dist = dist
        sub.inds.append(ind)
        sub.fit = None
        if len(sub.inds) > self.params.mu + self.params.lam:
            while len(sub.inds) > self.params.mu:
                self._remove_worst(sub, alpha, beta)

    def penalties_changed(self) -> None:
        self.infeas.fit = None

    def _remove_worst(self, sub: _Sub, alpha: float, beta: float) -> None:
        fit = np.array(self._fitness(sub, alpha, beta))
        dd = sub.dist + np.diag(np.full(len(sub.inds), np.inf))
        clone = dd.min(axis=1) < 1e-9
        worst = int(np.lexsort((fit, clone))[-1])
        sub.inds.pop(worst)
        sub.dist = np.delete(np.delete(sub.dist, worst, axis=0), worst, axis=1)
        sub.fit = None

    def _fitness(self, sub: _Sub, alpha: float, beta: float) -> list[float]:
        """Biased fitness: rank of the penalised cost plus (1 - elite / size) x rank of the
        diversity (mean distance to the ``n_close`` nearest), both scaled to [0, 1]."""
        n = len(sub.inds)
        if n == 1:
            return [0.0]
        costs = np.array([ind.cost(alpha, beta) for ind in sub.inds])
        k = min(self.params.n_close, n - 1)
        dd = sub.dist + np.diag(np.full(n, np.inf))
        div = np.partition(dd, k - 1, axis=1)[:, :k].mean(axis=1)
        rc = np.empty(n)
        rc[np.argsort(costs, kind="stable")] = np.arange(n) / (n - 1)
        rd = np.empty(n)
        rd[np.argsort(-div, kind="stable")] = np.arange(n) / (n - 1)
        w = max(0.0, 1.0 - self.params.n_elite / n)
        out: list[float] = (rc + w * rd).tolist()
        return out

    def fitness(self, sub: _Sub, alpha: float, beta: float) -> list[float]:
        if sub.fit is None:
            sub.fit = self._fitness(sub, alpha, beta) if sub.inds else []
        return sub.fit

    def members(self) -> list[_Ind]:
        return self.feas.inds + self.infeas.inds

    def tournament(self, rng: np.random.Generator, alpha: float, beta: float) -> _Ind:
        allp = self.members()
        fit = self.fitness(self.feas, alpha, beta) + self.fitness(self.infeas, alpha, beta)
        i, j = rng.integers(len(allp)), rng.integers(len(allp))
        return allp[i] if fit[i] <= fit[j] else allp[j]


def solve_hgs(
    problem: PeriodicProblem,
    stop: StoppingCriterion,
    *,
    seed: int = 0,
    params: HgsParams = HgsParams(),
    started: float | None = None,
    deadline: float | None = None,
    exchange: Exchange | None = None,
    meetings: Sequence[tuple[float, int]] = (),
) -> PeriodicSolution:
    """Hybrid genetic search for the periodic plan; every customer is scheduled.

    Parameters
    ----------
    problem
        The instance (`hgs_applies` must hold: no optional customers).
    stop
        Children to make (`MaxIterations`, deterministic) or seconds from ``started``
        (`MaxRuntime`), or the first of both.
    seed
        Seed of the search; same inputs and seed give the same solution under a child budget.
    params
        Population sizes and settings.
    started
        A ``time.perf_counter()`` reading where the time limit starts; now when None.
    deadline
        A safety cap on ``time.perf_counter()``.
    exchange, meetings
        Meeting ``k`` of ``meetings`` (seconds after ``started`` under a time limit, else a
        child count) calls ``exchange(k, best)`` and adds the solution it returns to the
        population when that is better; meetings not reached when the search stops are held
        at the end all the same.

    Returns
    -------
    PeriodicSolution
        The best feasible solution found, else the least infeasible one.
    """
    if not hgs_applies(problem):
        raise ValueError(
            "solve_hgs: two customers or more, each scheduled (no unscheduled penalty)"
        )
    search = _Genetic(problem, stop, seed, params, started, deadline)
    for k in range(params.initial):
        if k >= 2 and search.done():
            break
        search.child(initial=k)
        search.meet(exchange, meetings)
    while not search.done():
        search.child(initial=None)
        search.meet(exchange, meetings)
    result = search.result()
    while exchange is not None and search.meeting < len(meetings):  # stopped early
        exchange(search.meeting, result)
        search.meeting += 1
    return result


class _Genetic:
    """The search between children: population, penalty weights, best solution, clock."""

    def __init__(
        self,
        problem: PeriodicProblem,
        stop: StoppingCriterion,
        seed: int,
        params: HgsParams,
        started: float | None,
        deadline: float | None,
    ) -> None:
        self.problem = problem
        self.params = params
        now = time.perf_counter() if started is None else started
        self.budget = _Budget(stop, now, deadline)
        self.data = _Data(problem, params.granular)
        self.rng = np.random.default_rng(seed)
        self.alpha, self.beta = self.data.alpha0, self.data.beta0
        self.pop = _Population(self.data, params)
        self.best: _Ind | None = None
        self.it = 0
        self.meeting = 0
        self.feasible_log: list[tuple[bool, bool]] = []

    def done(self) -> bool:
        return self.budget.done(self.it)

    def child(self, *, initial: int | None) -> None:
        """One more individual: the ``initial``-th of the first population (built from none,
        every other one with random patterns), else a child of two parents."""
        data = self.data
        routes = np.zeros((data.t * data.m, data.n + 1), dtype=np.int64)
        rlen = np.zeros(data.t * data.m, dtype=np.int64)
        if initial is None:
            p1 = self.pop.tournament(self.rng, self.alpha, self.beta)
            p2 = self.pop.tournament(self.rng, self.alpha, self.beta)
            crossover(
                p1.routes, p1.rlen, p2.routes, p2.rlen, data.d, data.q, data.s, data.cap,
                data.maxd, data.m, data.t, data.pat_flat, data.pat_off, self.alpha, self.beta,
                self._seed(), routes, rlen,
            )  # fmt: skip
        self._educated(routes, rlen, random_patterns=initial is not None and initial % 2 == 0)
        self.it += 1

    def _seed(self) -> int:
        return int(self.rng.integers(2**31))

    def _educate(
        self, routes: NDArray[np.int64], rlen: NDArray[np.int64], factor: float, random: bool
    ) -> _Ind:
        data = self.data
        # every argument given: an omitted default sends numba's call down its slow path
        # (about 1 ms a call, a tenth of an education on the big periods)
        educate(
            routes, rlen, data.d, data.q, data.s, data.cap, data.maxd, data.m, data.t,
            data.nb, data.pat_flat, data.pat_off, factor * self.alpha, factor * self.beta,
            self._seed(), random, data.symmetric, True, False,
        )  # fmt: skip
        return _Ind(routes, rlen, data)

    def _educated(
        self, routes: NDArray[np.int64], rlen: NDArray[np.int64], *, random_patterns: bool
    ) -> None:
        """Educate, keep; an infeasible one is also repaired (ten-fold penalties) half of the
        time and the repaired one kept when feasible."""
        ind = self._educate(routes, rlen, 1.0, random_patterns)
        self.feasible_log.append((ind.lx <= 1e-9, ind.dx <= 1e-9))
        self.pop.add(ind, self.alpha, self.beta)
        if not ind.feasible and self.rng.random() < self.params.repair_probability:
            repaired = self._educate(routes.copy(), rlen.copy(), 10.0, False)
            if repaired.feasible:
                self.pop.add(repaired, self.alpha, self.beta)
                ind = repaired
        if ind.feasible and (self.best is None or ind.travel < self.best.travel - 1e-9):
            self.best = ind
        if len(self.feasible_log) >= self.params.penalty_window:
            self._adjust_penalties()

    def _adjust_penalties(self) -> None:
        """Move each weight toward ``target_feasible`` children within its limit."""
        log = self.feasible_log
        target = self.params.target_feasible
        cap_ok = sum(a for a, _ in log) / len(log)
        dur_ok = sum(b for _, b in log) / len(log)
        self.alpha = _adjusted(self.alpha, cap_ok, target)
        self.beta = _adjusted(self.beta, dur_ok, target)
        log.clear()
        self.pop.penalties_changed()

    def meet(self, exchange: Exchange | None, meetings: Sequence[tuple[float, int]]) -> None:
        """Hold the meetings that are due; a better solution handed over joins."""
        while exchange is not None and self.meeting < len(meetings):
            at_s, at_it = meetings[self.meeting]
            if self.budget.seconds is None:
                due = self.it >= at_it
            else:
                due = time.perf_counter() - self.budget.started >= at_s
            if not due:
                return
            shared = exchange(self.meeting, self.result())
            self.meeting += 1
            if shared.feasible and (self.best is None or shared.cost < self.best.travel - 1e-9):
                ind = _individual(self.data, shared)
                self.pop.add(ind, self.alpha, self.beta)
                self.best = ind

    def result(self) -> PeriodicSolution:
        best = self.best if self.best is not None else _least_bad(self.pop)
        return _solution(self.problem, self.data, best, self.it)


def _adjusted(weight: float, share_ok: float, target: float) -> float:
    if share_ok < target - 0.05:
        return min(weight * 1.2, 1e6)
    if share_ok > target + 0.05:
        return max(weight * 0.85, 1e-6)
    return weight


def _least_bad(pop: _Population) -> _Ind:
    return min(pop.members(), key=lambda i: (i.lx + i.dx, i.travel))


def _individual(data: _Data, sol: PeriodicSolution) -> _Ind:
    """The route table of ``sol``."""
    routes = np.zeros((data.t * data.m, data.n + 1), dtype=np.int64)
    rlen = np.zeros(data.t * data.m, dtype=np.int64)
    for day, day_routes in enumerate(sol.routes):
        for v, seq in enumerate(day_routes):
            r = day * data.m + v
            routes[r, : len(seq)] = seq
            rlen[r] = len(seq)
    return _Ind(routes, rlen, data)


def _solution(problem: PeriodicProblem, data: _Data, ind: _Ind, it: int) -> PeriodicSolution:
    pattern = [0] * data.n
    days = []
    for day in range(data.t):
        vs = []
        for v in range(data.m):
            r = day * data.m + v
            seq = tuple(int(c) for c in ind.routes[r, : ind.rlen[r]])
            for c in seq:
                pattern[c - 1] |= 1 << day
            vs.append(seq)
        days.append(tuple(vs))
    draft = PeriodicSolution(
        pattern=tuple(pattern),
        routes=tuple(days),
        cost=float(ind.travel),
        feasible=False,
        iterations=it,
    )
    return PeriodicSolution(
        draft.pattern, draft.routes, draft.cost, not check_solution(problem, draft), it
    )
