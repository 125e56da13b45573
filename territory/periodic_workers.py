"""Several periodic searches at once, one process each, sharing their best solutions.

`periodic.solve_periodic` with ``workers > 1`` runs here. Worker 0 is the calling process and
searches exactly as ``workers=1`` does; worker ``k`` is a child process searching with the seed
``seed + WORKER_SEED_STEP * k``. With the polish (`periodic.SearchParams.polish`) the searches
meet after every polish round but the last: each sends its solution to worker 0, which sends
the best of them back (feasible first, then the cheapest, then the lowest worker), and a search
whose own solution is dearer continues from that one. The rounds start at the same offsets of
the time limit in every worker (the children's clocks start with the parent's), so the
meetings cost little waiting. At the end the best solution of all the workers is returned.

Why: the search's result varies a great deal with the seed (pr04 at 20 s: 1.9 % above the
best known with seed 0, 3.5 % with seed 1), and on a machine with cores to spare the best of
two searches is much better than either (the 20 classical instances at 20 s: 1.32 % and 1.40 %
mean gap with seeds 0 and 1, 1.02 % for the better of the two on each instance; two workers
meeting after every round 1.13 % against 1.40 % for one worker in the same run).

With `SearchParams.genetic_workers` (default 1) the last workers run the hybrid genetic search
of `periodic_hgs` instead where `periodic.genetic_fits` (a small mixed period): it meets worker 0
at the same points (`periodic.meeting_points`: the same offsets of the time limit, or the same
counts of its children under an iteration budget), hands over its best plan and takes the best
of all into its population.

The result depends only on the inputs, the seed and the number of workers under an iteration
budget: what a worker receives is decided by the workers' solutions, never by timing. A child
that fails or dies is left out (logged); worker 0 then goes on with the others.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any

from .periodic import (
    PeriodicProblem,
    PeriodicSolution,
    SearchParams,
    StoppingCriterion,
    genetic_fits,
    meeting_points,
    solve_worker,
    stop_or_default,
)
from .periodic_hgs import solve_hgs

__all__ = ["WORKER_SEED_STEP", "child_params", "solve_parallel"]

logger = logging.getLogger(__name__)

#: Worker ``k`` searches with ``seed + WORKER_SEED_STEP * k`` (a prime: runs with nearby seeds
#: share no worker seeds).
WORKER_SEED_STEP = 1_000_003

#: Seconds between checks that the other side is still alive while waiting for a message.
_POLL_S = 0.5

#: A message: (kind, worker, round, payload); kind "round", "final" or "failed".
_Message = tuple[str, int, int, Any]


def solve_parallel(
    problem: PeriodicProblem,
    stop: StoppingCriterion | None,
    seed: int,
    params: SearchParams,
    initial: Sequence[int] | None,
    deadline: float | None,
    *,
    workers: int,
) -> PeriodicSolution:
    """`periodic.solve_periodic` with ``workers`` searches (see the module docstring)."""
    started = time.perf_counter()
    genetic = 0
    if genetic_fits(problem, params):
        genetic = min(params.genetic_workers, workers - 1)
    ctx = _context()
    inbox = ctx.Queue()  # children -> worker 0
    outboxes = [ctx.Queue() for _ in range(workers)]  # worker 0 -> child k (index 0 unused)
    children: list[BaseProcess] = []
    others = child_params(params)
    for k in range(1, workers):
        proc = ctx.Process(
            target=_child,
            args=(problem, stop, seed + WORKER_SEED_STEP * k, others, initial, deadline),
            kwargs={
                "started": started,
                "worker": k,
                "inbox": inbox,
                "outbox": outboxes[k],
                "genetic": k >= workers - genetic,
            },
            daemon=True,
        )
        proc.start()
        children.append(proc)
    hub = _Hub(inbox, outboxes, children)
    try:
        own = solve_worker(
            problem, stop, seed, params, initial, deadline, started=started, exchange=hub.meet
        )
        return hub.finish(own)
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
            child.join()
        for q in [inbox, *outboxes]:  # a dead child's unread answer must not block the exit
            q.cancel_join_thread()
            q.close()


def child_params(params: SearchParams) -> SearchParams:
    """The settings of workers 1.. of `solve_parallel`: by default the template start
    (`SearchParams.template`) is worker 0's alone, the others start from the cheapest insertion
    and the better start goes on from the first meeting (pr06 at 20 s, seeds 0-11: 2.19 % mean
    gap against 2.24 % with a template in both workers and 2.66 % with none; pr09 2.29 %
    against 2.49 and 2.19 %); a setting given is every worker's."""
    return replace(params, template=False) if params.template is None else params


def _context() -> ForkContext | SpawnContext:
    """Fork where it is safe (no threads in this process but the queues' own, and the platform
    has it): the children then start at once, with the compiled kernels; else spawn."""
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    if all(t.name == "QueueFeederThread" for t in others) and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return mp.get_context("spawn")


def _wanted(msg: _Message, kind: str, rnd: int) -> bool:
    """Whether ``msg`` answers a wait for ``kind`` of round ``rnd`` (a failure always does)."""
    return msg[0] == "failed" or (msg[0] == kind and msg[2] == rnd)


def _better(a: PeriodicSolution, b: PeriodicSolution) -> bool:
    """Whether ``a`` beats ``b``: feasible first, then cheaper (ties keep ``b``)."""
    if a.feasible != b.feasible:
        return a.feasible
    return a.cost < b.cost - 1e-9


def _best(own: PeriodicSolution, got: dict[int, PeriodicSolution]) -> PeriodicSolution:
    """The best of worker 0's ``own`` and the children's ``got`` (ties: the lowest worker)."""
    best = own
    for k in sorted(got):
        if _better(got[k], best):
            best = got[k]
    return best


class _Hub:
    """Worker 0's side of the meetings: collects the children's solutions, answers the best."""

    def __init__(self, inbox: Any, outboxes: list[Any], children: list[BaseProcess]) -> None:
        self.inbox = inbox
        self.outboxes = outboxes
        self.children = children
        self.alive = set(range(1, len(children) + 1))
        self.pending: list[_Message] = []

    def _collect(self, kind: str, rnd: int) -> dict[int, PeriodicSolution]:
        """The ``kind`` message of round ``rnd`` from every live child (dead ones dropped)."""
        got: dict[int, PeriodicSolution] = {}
        while True:
            for msg in [m for m in self.pending if _wanted(m, kind, rnd)]:
                self.pending.remove(msg)
                self._take(msg, got)
            waiting = self.alive - set(got)
            if not waiting:
                return got
            try:
                msg = self.inbox.get(timeout=_POLL_S)
            except queue.Empty:
                for k in sorted(waiting):
                    if not self.children[k - 1].is_alive():
                        logger.warning("periodic worker %d died; going on without it", k)
                        self.alive.discard(k)
                continue
            if _wanted(msg, kind, rnd):
                self._take(msg, got)
            else:
                self.pending.append(msg)

    def _take(self, msg: _Message, got: dict[int, PeriodicSolution]) -> None:
        kind, k, _, payload = msg
        if kind == "failed":
            logger.warning("periodic worker %d failed; going on without it:\n%s", k, payload)
            self.alive.discard(k)
        else:
            got[k] = payload

    def meet(self, rnd: int, own: PeriodicSolution) -> PeriodicSolution:
        """Round ``rnd``: the best of ``own`` and the children's solutions, sent to each."""
        got = self._collect("round", rnd)
        best = _best(own, got)
        for k in sorted(got):
            self.outboxes[k].put(best)
        return best

    def finish(self, own: PeriodicSolution) -> PeriodicSolution:
        """The best of ``own`` and the children's final solutions."""
        return _best(own, self._collect("final", -1))


def _child(
    problem: PeriodicProblem,
    stop: StoppingCriterion | None,
    seed: int,
    params: SearchParams,
    initial: Sequence[int] | None,
    deadline: float | None,
    *,
    started: float,
    worker: int,
    inbox: Any,
    outbox: Any,
    genetic: bool = False,
) -> None:
    """A child worker: search, meeting worker 0 after each polish round; send the result.
    A ``genetic`` worker runs the hybrid genetic search (`periodic_hgs`) instead and meets
    worker 0 at the same points of the time limit (or of the iteration budget)."""

    def meet(rnd: int, own: PeriodicSolution) -> PeriodicSolution:
        inbox.put(("round", worker, rnd, own))
        parent = mp.parent_process()
        while True:
            try:
                best: PeriodicSolution = outbox.get(timeout=_POLL_S)
                return best
            except queue.Empty:
                if parent is not None and not parent.is_alive():
                    return own

    try:
        if genetic:
            result = solve_hgs(
                problem,
                stop_or_default(problem, stop),
                seed=seed,
                started=started,
                deadline=deadline,
                exchange=meet,
                meetings=meeting_points(problem, stop, params),
            )
        else:
            result = solve_worker(
                problem, stop, seed, params, initial, deadline, started=started, exchange=meet
            )
    except Exception:  # reported to worker 0, which goes on without this worker
        inbox.put(("failed", worker, -1, traceback.format_exc()))
        return
    inbox.put(("final", worker, -1, result))
