"""Routing stage, one rep's day: a compiled search for one route with windows and the lunch break.

One vehicle leaves home no earlier than the day's start, serves every stop inside its window,
takes the break as `routing._schedule` takes it (before leaving, on a leg: it interrupts the
drive or waits on arrival, or after coming back) and is home by the day's end; the order that
drives the least is sought. This is the travelling salesman problem with time windows and one
break: the day sheet of a rep with up to ~30 stops.

Method: an iterated local search compiled with numba. Orders
that break the time rules are allowed during the search at a penalty per second of *time warp*
(Nagata, Bräysy & Dullaert 2010; Vidal et al. 2013: arriving too late counts as travelling
back in time), so that it can cross from one family of feasible days to another; the best
feasible order is kept. The time warp of an order is a forward pass in two states (break not
yet taken / taken), each with its earliest time and its warp; with no warp it is exactly the
feasibility test of `routing_polish.forward_feasible`, and the penalty adapts (dearer while the
current route is late). Each iteration ruins the route (a string of consecutive stops, or a
stop and its nearest neighbours) and recreates it by cheapest insertion (Christiaens & Vanden
Berghe's SISR, Transportation Science 54(2), 2020), or now and then drives a random stretch the
other way round; a local search with 2-opt, Or-opt and swaps follows on the moves next to what
changed (don't-look bits) within a granular neighbourhood, and simulated annealing decides
whether the result replaces the current route. A move is only timed when its change in distance
could pay for its warp, and a timing pass stops once it is back on the current route's states.
Several independent runs share the budget (searched two at a time, on threads of their own)
and the best is kept; every other run searches the day driven backwards in time
(`backward_day`), whose orders are ours the other way round. Where no run kept the day, kicks
from the runs' orders of least warp look for one that does (`DaySearch.mend_work`), before
more runs do (`DaySearch.rescue_runs`). The best order's loop is then
turned to start at another stop and searched again (`DaySearch.turns`), kicked
(`DaySearch.kick_work`) and settled; the turns' and the kicks' descents from the best order
run several at once on the same threads and are taken in order, as one thread takes them
(`_kicks_on_threads`). Deterministic: a fixed iteration budget, a cap on the work counted in
moves and stops, and xorshift generators seeded by the caller; the threads change no order.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit
from numba.core.cpu import CPUTargetOptions
from numpy.typing import NDArray

__all__ = ["DAY_SEARCH", "DaySearch", "backward_day", "day_warp", "solve_day"]

#: The day's fixed arrays as the kernels take them: travel, service, window starts and ends,
#: and the day's rules (`_day_rules`; its last cell counts the search's work).
_Day = tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]
]

#: Warp of a state that cannot be reached (no break: the "not yet taken" state).
_OFF = 2**40

#: How the kernels that allocate nothing (the timing passes, the moves' bookkeeping, the
#: insertion) are compiled: without reference counting (numba's ``_nrt`` option, where this
#: numba has it). The counts of the arrays handed down to them took about a quarter of the
#: search's processor time (``perf`` on days of 25 stops); without them a day of 25-30 stops
#: takes 0.81-0.83 times the time, the same orders.
_LEAF: dict[str, Any] = {"cache": True}
if hasattr(CPUTargetOptions, "_nrt"):
    _LEAF["_nrt"] = False

_Kernel = TypeVar("_Kernel", bound=Callable[..., Any])


def _leaf(kernel: _Kernel) -> _Kernel:
    """Compile ``kernel`` as `_LEAF` says."""
    return cast(_Kernel, njit(**_LEAF)(kernel))


@dataclass(frozen=True)
class DaySearch:
    """How `solve_day` searches; measured on the synthetic rep days of scripts/bench_routes.py
    (README, "Day routes").

    Attributes
    ----------
    iterations_per_stop, min_iterations
        The deterministic budget: iterations per stop, at least ``min_iterations``, shared by
        the ``runs``; a small day's further runs each add a run's share (a tight day of 5
        stops needed about 100 iterations to find a feasible order). With ``work_per_stop``
        it sets how the work is spent. 30 iterations per stop with 100 units of work each,
        against 20 and 130 in the same runs (scripts/bench_routes.py,
        method day-previous; days 0-9 at 5-30 stops and days 30-59 at 20-30, request seeds
        0-5): 2 of 900 draws at 20-30 stops more than 0.5 % above the reference, 0.52 % both,
        against 2 at 1.01 and 3.07 %, for about 1.2x the CPU time. On 720 draws at 25-30 stops
        against a fixed reference: 30 and 100 left 2 over (both on the day of 0.52 %), 20 and
        130 left 3, the settings around it 3 (28 and 110, 30 and 90, 36 and 85) or 4 (40 and
        100).
    runs
        Independent searches (their own generator streams; ``small_runs`` of them on a small
        day, see there), the best kept: a single search
        sometimes settles in a family of days 1-3 % longer, and several shorter ones rarely all
        do (25-30 stops, 120 draws: 5 runs 1-2 over 0.5 %, 4 or 6 runs 3, one run 5-7). Each
        run starts from a first route of its own: the cheapest insertion of the stops in one
        of three orders (tight windows first, earliest window first, far from home first),
        and after those in a random order. When every run started from the best of the three,
        sometimes none of the five left the longer family: on 720 draws at 25-30 stops (days
        0-19 and 60-99, request seeds 0-5, against a fixed reference) 0 over 0.5 % (worst
        0.39 %) against 5 (worst 1.63 %); in the benchmark's four runs (README, "Rep days,
        fourteenth session") 1 of 1,644 draws (0.66 %) against 5. On fresh days (160-219,
        15-30 stops) 16 of 1,428 draws, two days 3.4-4.6 % above (README, "Rep days,
        fifteenth session"): five runs of this length do not leave every longer family, the
        less so when they all price warp alike (see ``run_penalties``).
    phases
        Each run's budget in this many parts; a part after the first starts from the best route
        so far driven the other way round in each of two stretches (the morning's order
        reversed and the afternoon's, split where that is cheapest): the other direction round
        the stops is sometimes the shorter day, and the windows forbid reversing the whole.
    flip
        The share of iterations whose kick reverses a random stretch of at least three stops
        instead of ruining and recreating (20-30 stops, 90 draws: 1-4 over 0.5 % with 0.1-0.3
        against 4-8 without).
    ruin_share
        A ruin removes 1 .. this share of the stops.
    t_start, t_end
        Simulated annealing's temperature at the start and the end of a part, as shares of the
        mean arc cost of the first route.
    penalty_per_travel_s
        The first penalty of a second of time warp, in cost units per second of travel (the
        mean arc cost over the mean travel time).
    penalty_up, penalty_down, penalty_max
        After each iteration the penalty grows by ``penalty_up`` while the current route has
        warp and shrinks by ``penalty_down`` while it has none, between a quarter of its start
        and ``penalty_max`` times it: with a fixed penalty the search stayed on days with a few
        minutes of warp that were cheaper in distance than any feasible one.
    granular
        Moves are tried only where a new arc joins a place to one of its this many nearest.
    work_per_stop
        The search stops early once its work (a move looked at, a stop timed, a stop copied)
        exceeds this many units per stop and iteration; it binds on most days of 25-30 stops and
        keeps a day whose routes keep warping (2-3 times the mean time without it) near the
        others' time (about 20-25 ms per million units).
    max_segment
        Or-opt moves segments of up to this many stops (2: as good as 3 on the benchmark's days,
        with fewer moves to look at).
    own_starts
        Whether each run starts from a first route of its own (see ``runs``); False: every
        run from the best of the three orders, as before the fourteenth session.
    run_penalties
        Each run's warp penalty and its ceiling, as multiples of the ones
        ``penalty_per_travel_s`` and ``penalty_max`` give, run by run (repeated when there are
        more runs): the usual price; a ceiling five times higher and a fifth; a start at four
        times and a quarter. The intent: a run to which warp costs more keeps nearer the
        feasible days, one to which it costs less crosses days with warp more freely, and
        they end in other families of days than the usual price. On 8,976 draws of 15-30
        stops (days 0-339 and 400-459, request seeds 0-5, against the best known) 34 more
        than 0.5 % above it against 61 with every run at the same price, for the same work;
        on days 340-399 of the benchmark 3 of 1,434 either way (README, "Rep days, sixteenth
        session").
    turns, turn_penalties, repair_penalty, turn_work
        After the runs, the best order's loop is turned: its last 1 .. ``turns`` stops moved to
        the front and its first ones to the back, so that the day starts at another stop near
        home. Each turned order gets a local search at each of ``turn_penalties`` (times the
        first warp penalty: at 0.1 the distance rules, the windows hardly count) and, where it
        still warps but is shorter than the best, another at ``repair_penalty`` times it; a
        shorter feasible order replaces the best. The runs' misses were often that: the best
        known day starts with the stop ours ends with, and then the windows want other stops
        moved too, a change no run made (day 249 of 20 stops: every run 1.4 % above the best
        known, one turn by three stops reaches it). The turns stop once their work exceeds
        ``turn_work`` times the runs' (at 30 stops they take 9 % of it on average, up to 26 %
        uncapped). On days 160-279 (15-30 stops, request seeds 0-5, against the best known): 3
        of 2,868 draws more than 0.5 % above it against 12 without the turns (2 with a share of
        0.15 or uncapped), for 9-10 % more CPU time (README, "Rep days, seventeenth
        session").
    rescue_runs
        When no run found an order that keeps the day and the mending kicks (``mend_work``)
        found none either, up to this many more runs (the same share of the budget each,
        prices and first routes continued, generator streams of their own), until one does.
        Day 468 of 30 stops keeps only a narrow family of orders: the five runs found none
        with 7 of 12 request seeds, ten more runs left 2 (since the backward runs: 8 of 12,
        and 4); where the day cannot be kept at all (day 351 of 30 stops) they cost about
        160 ms more before PyVRP, the fallback, takes seconds to find nothing either.
    mend_work
        When no run found an order that keeps the day: each run's order of least warp (the
        shorter of equal warp, seen while the run had no feasible one) is kicked as the kicks
        below kick the best order (`_kicks` with ``mend``: a descent, then block moves and
        double bridges from it, each with a descent at the first warp price and a repair at
        ``repair_penalty`` times it) until a descent ends on an order that keeps the day, of
        any length; the least late first, two at a time on the threads, each with this share
        of the runs' work (0: none). The first that keeps the day in that order is the best
        order, and the rescue runs do not start. On day 468 the runs' closest orders are 41 s
        late or more and a descent at any price leaves them so, while a few thousand kicks
        from them reach the day's best known order: request seeds 0-59, 60 of 60 kept, where
        the runs and the rescue runs left 8 of 24 (seeds 0-23) without an order and
        `solve_routes` then declared the day infeasible after 7-10 s of PyVRP and OR-Tools.
        On the harness's 30-stop days (400-719 and three-town days 0-39, request seeds 0-11,
        4,320 draws against the best known) 15 draws more than 0.5 % above it against 19, the
        4 draws without an order among those; the days whose runs keep them are unchanged.
        Where the day cannot be kept at all (day 351) the mends cost about 170 ms more.
    kick_work, kick_longest, kick_bridge
        Last, an iterated local search from the best order (Lourenço, Martin & Stützle 2003,
        with the kicks of Or-opt and the double bridge): each kick moves a block of 2 ..
        ``kick_longest`` stops elsewhere in the order, either way round, or (a ``kick_bridge``
        share of them) lets two neighbouring blocks change places; a local search at the first
        warp penalty follows where an arc changed, and, where warp is left and the order is
        shorter than the best, a repair at ``repair_penalty`` times it; a shorter feasible order
        replaces the best, and the next kicks start from it. They stop once their work exceeds
        ``kick_work`` times the runs' (six on a small day). The misses left after the turns
        were days whose best known order has whole blocks of ours elsewhere (day 515 of 30
        stops: every run 2.2 % above it); of all the block moves and double bridges of our
        order, 0.1-0.4 % lead, after a descent, to within 0.5 % of the best known. On 2,850
        draws of 20-30 stops (days 400-519 and three-town days 0-39, request seeds 0-5, against
        the best known) 7 more than 0.5 % above it against 12 without the kicks (a share of 0.2:
        9); on fresh days (520-559, 720 draws) 6 against 8; for about 25 % more CPU time
        (README, "Rep days, eighteenth session").
    settle_penalty
        Last of all, a local search of the best order at this many times the first warp
        penalty (so high that only orders keeping the day are taken; 0: none). The turns' and
        the kicks' descents run at the usual price and can end on a day a few seconds late
        that is shorter than any feasible neighbour, which the repair does not mend, beside a
        feasible neighbour shorter than the best (day 599 of 30 stops: 185,745 kept where one
        stop moved gives 185,554, the descents all ending 1 s late at 184,531). On 2,280 draws
        of 20-30 stops (days 400-459, 30-stop days 520-599 and three-town days 0-39, request
        seeds 0-5) it changed 3, all on day 599 and for the shorter.
    backward
        Every other run (the second, the fourth, ...) searches the day driven backwards in time
        (`backward_day`: travel transposed, a stop served from t to t + s becomes one served
        from T - t - s to T - t). An order keeps one day exactly when it, driven the other way
        round, keeps the other, at the same cost; but a search moves through them differently
        (warp counts from the other end of the day, the first routes put the latest windows
        first), and the days whose forward runs all end in one longer family are mostly other
        days than those of the backward runs (runs ending within 0.5 % of the best known,
        forwards against backwards, 30 draws each: day 441 of 30 stops 4 against 10, day 515 5
        against 9, day 608 1 against 4; yet with every run backwards other days miss). A
        backward run's order is driven forwards and timed again before it counts. On 5,520
        draws of 20-30 stops (30-stop days 400-599, days 600-719 of 20-30 stops and 400-519
        of 20-25, three-town days 0-39; request seeds 0-5, against the best known) 10 more
        than 0.5 % above it against 11 with every run forwards, the worst 0.82 % against
        1.97 %, for the same work (README, "Rep days, twenty-first session").
    threads, thread_stops
        The runs are searched this many at once (at most the processors the process may run
        on), each on a thread of its own (the compiled search runs without Python's lock);
        they are counted in run order, so the orders are those of one thread. The turns' and
        the kicks' descents, which all start from the best order, run on the same threads,
        several at once, and are taken in order until one finds a shorter order (the ones
        after it start again from that one) or the work cap is reached: the orders and the
        work of one thread (`_kicks_on_threads`). The rescue runs and the last search are one
        search each. On 2 cores a day of 20-30 stops took 0.70-0.72 times the wall-clock time
        of one thread with the runs alone on threads (README, "Rep days, twenty-third
        session"); with the turns and kicks too, see "Rep days, twenty-fourth session". A day
        of fewer than ``thread_stops`` stops is searched on one thread: there the threads'
        meetings cost more than they save (12 stops: 1.16 times one thread's wall-clock time,
        14 stops 1.01, 16 stops 0.92, 20 stops 0.84).
    small_day, small_runs
        A day of up to ``small_day`` stops takes ``small_runs`` runs instead of ``runs``, each
        as long as one of ``runs`` (the budget grows with them): such a day costs less than a
        day of 30 stops, and the misses left on fresh days were often days of 20-25 stops
        whose five runs all ended in one longer family. On 4,770 draws of 20-30 stops (days
        400-599 and 640-719, three-town days 0-39, request seeds 0-5, against the best known)
        11 more than 0.5 % above it against 20 with five runs and no last search; on days of
        20-25 stops about 1.5 times the CPU time (benchmark, days 720-759: mean 50 ms at 25
        stops, the slowest 79 ms, against 33 and 52), under a 30-stop day's slowest (95 ms)
        (README, "Rep days, nineteenth session"). Eight runs then; six since the search got
        its backward runs, turns and kicks: on 3,360 draws of 20-25 stops (days 400-519 and
        600-719, three-town days 0-39, request seeds 0-5, against the best known) none more
        than 0.5 % above it either way, 2 more than 0.1 % against 1 (both 0.31 %), for 0.76
        times the work; five runs left 3 over 0.5 % (README, "Rep days, twenty-fifth
        session").
    """

    iterations_per_stop: int = 30
    min_iterations: int = 400
    runs: int = 5
    phases: int = 2
    flip: float = 0.2
    ruin_share: float = 0.34
    t_start: float = 0.3
    t_end: float = 0.01
    penalty_per_travel_s: float = 0.5
    penalty_up: float = 1.2
    penalty_down: float = 0.97
    penalty_max: float = 20.0
    granular: int = 10
    work_per_stop: int = 100
    max_segment: int = 2
    own_starts: bool = True
    run_penalties: tuple[tuple[float, float], ...] = (
        (1.0, 1.0),
        (1.0, 5.0),
        (1.0, 0.2),
        (4.0, 1.0),
        (0.25, 1.0),
    )
    turns: int = 3
    turn_penalties: tuple[float, ...] = (0.1, 1.0)
    repair_penalty: float = 100.0
    turn_work: float = 0.1
    rescue_runs: int = 10
    kick_work: float = 0.3
    kick_longest: int = 10
    kick_bridge: float = 0.5
    settle_penalty: float = 1e6
    mend_work: float = 0.5
    small_day: int = 25
    small_runs: int = 6
    backward: bool = True
    threads: int = 2
    thread_stops: int = 16

    def run_count(self, n_stops: int) -> int:
        """The runs for a day of ``n_stops`` stops."""
        return max(1, self.small_runs if n_stops <= self.small_day else self.runs)

    def iterations(self, n_stops: int) -> int:
        """The budget for a day of ``n_stops`` stops, all its runs together."""
        base = max(self.min_iterations, self.iterations_per_stop * n_stops)
        return base * self.run_count(n_stops) // max(1, self.runs)


#: The default search (README, "Day routes").
DAY_SEARCH = DaySearch()


def _backward_run(search: DaySearch, run: int) -> bool:
    """Whether run ``run`` searches the day driven backwards (every other one)."""
    return search.backward and run % 2 == 1


#: The threads of `_map_runs` and `_descents`, per process (a forked worker starts its own) and
#: size.
_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _processors() -> int:
    """The processors this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - not on Linux


def _pool(threads: int) -> ThreadPoolExecutor:
    """This process's pool of ``threads`` threads (a forked worker starts its own)."""
    key = (os.getpid(), threads)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = ThreadPoolExecutor(threads, "day-search")
    return pool


def _own_rules(rules: NDArray[np.int64]) -> NDArray[np.int64]:
    """A copy of the day's rules with a work counter of its own (from 0) for a search on a
    thread, in an array of its own cache lines: a counter next to another thread's data (two
    small arrays side by side) would make the two threads' processors fight over the line."""
    own = np.zeros(24, dtype=np.int64)  # the counter, cell 8, more than a line from each end
    own[:8] = rules[:8]
    return own


def _threads(search: DaySearch, n_stops: int) -> int:
    """The threads the search of a day of ``n_stops`` stops uses: ``search.threads``, at most
    the processors, and one below ``search.thread_stops`` stops."""
    if n_stops < search.thread_stops:
        return 1
    return max(1, min(search.threads, _processors()))


def _map_runs(
    runs: list[tuple[Any, ...]], threads: int
) -> list[tuple[NDArray[np.int64], int, NDArray[np.int64]]]:
    """`_search` on each run's arguments, ``threads`` at once (`_threads`): each run's best
    order, its work (the counter in its own rules) and its least-warp order (`_search`)."""
    threads = min(threads, len(runs))
    if threads <= 1:
        orders = [_search(*args) for args in runs]
    else:
        orders = list(_pool(threads).map(lambda args: _search(*args), runs))
    return [(order, int(args[5][8]), args[-1]) for order, args in zip(orders, runs, strict=True)]


def _mend_misses(
    misses: list[tuple[int, int, int, NDArray[np.int64]]],
    shared: tuple[Any, ...],
    price: float,
    work: int,
    kick_shape: tuple[int, float],
    threads: int,
) -> NDArray[np.int64] | None:
    """The mending kicks (`_kicks` with ``mend``) from the runs' near misses ``misses``
    ((warp, cost, seed, order), the least warp first), ``threads`` at once, each with a work
    counter of its own and ``work`` of work: the first that keeps the day in that order, or
    None. The day's counter gets the work of the mends up to that one, as one thread taking
    them in order would have done."""
    repair, c, day, close, max_segment = shared
    tr, sv, lo, hi, brk = day
    longest, bridge = kick_shape

    def one(miss: tuple[int, int, int, NDArray[np.int64]]) -> tuple[NDArray[np.int64], int]:
        rules = _own_rules(brk)
        order = _kicks(
            miss[3], c, (tr, sv, lo, hi, rules), close, price, repair, max_segment, work,
            miss[2], longest, bridge, True,
        )  # fmt: skip
        return order, int(rules[8])

    for at in range(0, len(misses), threads):
        batch = misses[at : at + threads]
        done = list(_pool(threads).map(one, batch)) if threads > 1 else [one(batch[0])]
        for order, spent in done:
            brk[8] += spent
            if order.shape[0]:
                return order
    return None


def _descents(
    starts: NDArray[np.int64],
    dirty: NDArray[np.int64],
    prices: NDArray[np.float64],
    shared: tuple[Any, ...],
    best_cost: int,
    extra: int,
    work_cap: int,
    threads: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], int, int]:
    """`_descend_batch` of every start on ``threads`` threads (this one and the pool's), the
    j-th start on thread j mod ``threads``, each thread with a work counter of its own, then
    the results taken in order as one thread would have made them (`_take`: the day's counter
    advanced, at most to ``work_cap``): the costs, works and orders, the number taken and the
    index of the first shorter order (-1: none). ``shared``: (repair price, c, day, close,
    max_segment)."""
    repair, c, day, close, max_segment = shared
    size = starts.shape[0]
    costs = np.zeros(size, dtype=np.int64)
    works = np.full(size, -1, dtype=np.int64)  # -1: not ended
    orders = np.zeros_like(starts)
    stop = np.array([size], dtype=np.int64)
    tr, sv, lo, hi, brk = day
    budget = work_cap - int(brk[8])  # the work left

    def part(first: int) -> None:
        rules = _own_rules(brk)
        _descend_batch(
            starts, dirty, prices, first, threads, stop, repair, best_cost, c,
            (tr, sv, lo, hi, rules), close, max_segment, extra, budget, costs, works, orders,
        )  # fmt: skip

    pool = _pool(threads)
    others = [pool.submit(part, first) for first in range(1, threads)]
    part(0)
    for other in others:
        other.result()
    taken, shorter = _take(costs, works, best_cost, brk, work_cap, extra)
    return costs, works, orders, taken, shorter


def _take(
    costs: NDArray[np.int64],
    works: NDArray[np.int64],
    best_cost: int,
    counter: NDArray[np.int64],
    work_cap: int,
    extra: int,
) -> tuple[int, int]:
    """Take `_descents`' results in order, as one thread would have made them: none once the
    work ``counter[8]`` passes ``work_cap``, each adding its work and ``extra`` to it, up to
    and with the first below ``best_cost`` (the ones after it started from an order no longer
    the best). The number taken, and the index of that first shorter one (-1: none)."""
    for j in range(costs.shape[0]):
        if counter[8] > work_cap:
            return j, -1  # the share of the work is spent
        counter[8] += extra + works[j]
        if costs[j] < best_cost:
            return j + 1, j
    return costs.shape[0], -1


def _home_loop(best: NDArray[np.int64], c: NDArray[np.int64]) -> tuple[NDArray[np.int64], int]:
    """The order ``best`` with home at both ends, and its cost."""
    k = best.shape[0]
    base = np.zeros(k + 2, dtype=np.int64)
    base[1 : k + 1] = best
    return base, int(_route_cost(base, k, c))


#: At most this many descents per thread are drawn at once by `_kicks_on_threads` (each batch
#: costs the threads a meeting; the descents after one that finds a shorter order and after the
#: work cap stop early, see `_descend_batch`).
_BATCH_PER_THREAD = 128


def _turns_on_threads(
    best: NDArray[np.int64],
    shifts: NDArray[np.int64],
    prices: NDArray[np.float64],
    shared: tuple[Any, ...],
    work_cap: int,
    threads: int,
) -> NDArray[np.int64]:
    """`_turns` on ``threads`` threads, the same order: its descents (each shift at each
    price, in its order) all start from the best order, several at once; they are taken in
    order until one finds a shorter order or the work passes ``work_cap``, and the ones after
    that one start again from the new best. ``shared``: as `_descents`."""
    brk = shared[2][4]  # the work counter
    k = best.shape[0]
    base, best_cost = _home_loop(best, shared[1])
    turns = np.repeat(shifts, prices.shape[0])  # for r in shifts: for price in prices
    turn_prices = np.tile(prices, shifts.shape[0])
    done = 0
    while done < turns.shape[0] and brk[8] <= work_cap:
        size = turns.shape[0] - done
        starts = np.zeros((size, k + 2), dtype=np.int64)
        dirty = np.zeros((size, k + 1), dtype=np.int64)
        _turn_batch(base, turns[done:], starts, dirty)
        costs, _, orders, taken, shorter = _descents(
            starts, dirty, turn_prices[done:], shared, best_cost, 0, work_cap, threads
        )
        done += taken
        if shorter >= 0:  # a shorter order: the next turns turn it
            best_cost = int(costs[shorter])
            base = orders[shorter].copy()
    return base[1 : k + 1].copy()


def _kicks_on_threads(
    best: NDArray[np.int64],
    price: float,
    shared: tuple[Any, ...],
    work_cap: int,
    seed: int,
    kick_shape: tuple[int, float],
    threads: int,
) -> NDArray[np.int64]:
    """`_kicks` on ``threads`` threads, the same order: the next kicks of the best order (their
    generator advanced as if none found a shorter one) descend several at once; they are taken
    in order until one finds a shorter order, and the kicks after it are drawn again from that
    one with the generator as it was after it. ``kick_shape``: (longest block, bridge share);
    ``shared``: as `_descents`."""
    brk = shared[2][4]  # the work counter
    k = best.shape[0]
    longest, bridge = kick_shape
    base, best_cost = _home_loop(best, shared[1])
    rng = _kick_rng(seed)
    kicks = per_kick = 0
    while brk[8] <= work_cap:
        # about as many kicks as the work left pays for, by the kicks so far
        left = work_cap - int(brk[8])
        size = threads * _BATCH_PER_THREAD
        if kicks:
            size = max(threads, min(size, left * kicks // max(1, per_kick) + threads))
        starts = np.zeros((size, k + 2), dtype=np.int64)
        dirty = np.zeros((size, k + 1), dtype=np.int64)
        states = np.zeros(size, dtype=np.uint64)
        _kick_batch(base, rng, longest, bridge, starts, dirty, states)
        costs, works, orders, taken, shorter = _descents(
            starts, dirty, np.full(size, price), shared, best_cost, k, work_cap, threads
        )
        kicks += taken
        per_kick += taken * k + int(works[:taken].sum())
        if shorter >= 0:  # a new best order: the next kicks start from it
            best_cost = int(costs[shorter])
            base = orders[shorter].copy()
            rng[0] = states[shorter]
    return base[1 : k + 1].copy()


def solve_day(
    duration_s: NDArray[np.int64],
    cost: NDArray[np.int64],
    service_s: NDArray[np.int64],
    window_s: NDArray[np.int64],
    break_s: tuple[int, int, int] | None,
    *,
    iterations: int | None = None,
    seed: int = 0,
    search: DaySearch = DAY_SEARCH,
) -> tuple[int, ...] | None:
    """The shortest order found through every stop (nodes 1..N-1) of one rep's day.

    Parameters
    ----------
    duration_s
        (N, N) travel seconds; node 0 is home.
    cost
        (N, N) arc costs to minimise (e.g. metres).
    service_s
        (N,) visit seconds (home's is ignored).
    window_s
        (N, 2) earliest and latest start of service; row 0 is the day (leave no earlier, be back
        no later).
    break_s
        (earliest start, latest start, duration) of the break in seconds, or None.
    iterations
        The search's budget; None: ``search.iterations(N - 1)``.
    seed
        Seed of the search's generators.
    search
        The search's settings.

    Returns
    -------
    tuple of int or None
        The stops in visiting order, or None when the search found no order that keeps the day.
    """
    tr = np.ascontiguousarray(duration_s, dtype=np.int64)
    c = np.ascontiguousarray(cost, dtype=np.int64)
    sv = np.array(service_s, dtype=np.int64)
    win = np.asarray(window_s, dtype=np.int64)
    lo = np.ascontiguousarray(win[:, 0])
    hi = np.ascontiguousarray(win[:, 1])
    n = tr.shape[0]
    if n <= 1:
        return ()
    sv[0] = 0
    budget = search.iterations(n - 1) if iterations is None else int(iterations)
    brk = _day_rules(int(lo[0]), int(hi[0]), break_s)
    per_s = float(c.sum()) / max(1.0, float(tr.sum()))
    penalty = max(1e-3, search.penalty_per_travel_s * per_s)
    forward = (tr, c, lo, hi, brk, _first_routes(c, lo, hi))
    backward = forward
    if search.backward:
        b_tr, b_c, b_win, b_break = backward_day(tr, c, sv, win, break_s)
        b_lo = np.ascontiguousarray(b_win[:, 0])
        b_hi = np.ascontiguousarray(b_win[:, 1])
        b_rules = _day_rules(int(lo[0]), int(hi[0]), b_break)
        backward = (b_tr, b_c, b_lo, b_hi, b_rules, _first_routes(b_c, b_lo, b_hi))
    both = c + c.T
    near = np.argsort(both[:, 1:], axis=1, kind="stable") + 1
    near[0] = np.arange(1, n)
    # granular neighbourhood: an arc between a place and one of its nearest (itself last)
    g = min(search.granular, n - 1)
    apart = both.copy()
    np.fill_diagonal(apart, np.iinfo(np.int64).max)
    ranked = np.argsort(apart, axis=1, kind="stable")[:, :g]
    close = np.zeros((n, n), dtype=np.bool_)
    close[np.repeat(np.arange(n), g), ranked.ravel()] = True
    close |= close.T
    best: NDArray[np.int64] | None = None
    best_cost = 0
    runs = search.run_count(n - 1)
    knobs = np.array(
        [
            search.t_start,
            search.t_end,
            search.ruin_share,
            search.penalty_up,
            search.penalty_down,
            search.penalty_max,
            search.flip,
        ],
        dtype=np.float64,
    )
    prices = search.run_penalties or ((1.0, 1.0),)

    def run_args(run: int) -> tuple[Any, ...]:
        """`_search`'s arguments for run ``run``, with a work counter of its own (from 0)."""
        price, ceiling = prices[run % len(prices)]
        run_knobs = knobs.copy()
        run_knobs[5] = search.penalty_max * ceiling
        run_seed = int(seed) * runs + run  # the run's generator streams
        if run >= runs:
            run_seed += 2**32  # the rescue runs' own streams
        r_tr, r_c, r_lo, r_hi, r_brk, starts = backward if _backward_run(search, run) else forward
        r_brk = _own_rules(r_brk)
        # each run from a first route of its own: the orders of ``starts``, then random ones
        if not search.own_starts:
            first = starts
        elif run < starts.shape[0]:
            first = starts[run : run + 1]
        else:
            # numpy's generators take no negative seed
            shuffled = np.random.default_rng(run_seed % 2**64).permutation(n - 1) + 1
            first = shuffled[None, :].astype(np.int64)
        return (
            r_tr, r_c, sv, r_lo, r_hi, r_brk, first, near, close, penalty * price,
            budget // runs, run_seed, run_knobs, int(search.phases), int(search.work_per_stop),
            int(search.max_segment), np.zeros(n - 1, dtype=np.int64),
        )  # fmt: skip

    day = (tr, sv, lo, hi, brk)

    def forwards(run: int, order: NDArray[np.int64]) -> NDArray[np.int64]:
        """Run ``run``'s order as this day is driven: a backward run's the other way round."""
        return order[::-1].copy() if _backward_run(search, run) else order

    def warp(order: NDArray[np.int64]) -> int:
        return int(_states(np.r_[0, order, 0], n - 1, day, _scratch(n - 1)[2]))

    def length(order: NDArray[np.int64]) -> int:
        return int(c[np.r_[0, order], np.r_[order, 0]].sum())

    def counted(run: int, order: NDArray[np.int64], work: int) -> None:
        """Add run ``run``'s work to the counter and keep its order when it is the best."""
        nonlocal best, best_cost
        brk[8] += work
        if order.shape[0] == 0:
            return
        order = forwards(run, order)
        if _backward_run(search, run) and warp(order):
            return  # it keeps the backward day but not this one (cannot happen)
        value = length(order)
        if best is None or value < best_cost:
            best, best_cost = order, value

    # the runs are independent (each its own generator, counter and caps): searched at once on
    # threads, they are counted in run order, so the result does not depend on the threads
    threads = _threads(search, n - 1)
    repair = penalty * search.repair_penalty
    shared = (repair, c, day, close, int(search.max_segment))
    misses = []  # the runs' least-warp orders, driven forwards: (warp, cost, seed, order)
    for run, (order, work, least) in enumerate(
        _map_runs([run_args(r) for r in range(runs)], threads)
    ):
        counted(run, order, work)
        if best is None:
            miss = forwards(run, least)
            misses.append((warp(miss), length(miss), int(seed) * runs + run, miss))
    runs_work = int(brk[8])  # the work of the runs before any mending or rescue run
    shape = (max(2, int(search.kick_longest)), float(search.kick_bridge))  # the kicks'
    if best is None and search.mend_work > 0:
        # no run kept the day: kicks from the orders that came closest, the least warp first
        # (every run left one)
        mend_work = int(search.mend_work * runs_work)
        misses.sort(key=lambda miss: miss[:3])
        best = _mend_misses(misses, shared, penalty, mend_work, shape, threads)
    for run in range(runs, runs + max(0, search.rescue_runs)):
        if best is not None:
            break  # the rescue runs only search a day no run has kept yet
        ((order, work, _),) = _map_runs([run_args(run)], threads)  # one run: this thread
        counted(run, order, work)
    if best is None:
        return None
    # the turns, the kicks and the last search: from the best order
    shifts = np.array(
        [s for r in range(1, min(search.turns, n - 2) + 1) for s in (r, -r)], dtype=np.int64
    )
    if shifts.shape[0] and search.turn_penalties:
        turn_prices = np.array(search.turn_penalties, dtype=np.float64) * penalty
        turn_cap = int(brk[8] * (1.0 + search.turn_work))  # brk[8]: the runs' work so far
        if threads > 1:
            best = _turns_on_threads(best, shifts, turn_prices, shared, turn_cap, threads)
        else:
            best = _turns(
                best, c, day, close, shifts, turn_prices, repair, int(search.max_segment),
                turn_cap,
            )  # fmt: skip
    if search.kick_work > 0 and n > 4:
        kick_cap = int(brk[8] + search.kick_work * runs_work)
        if threads > 1:
            best = _kicks_on_threads(best, penalty, shared, kick_cap, int(seed), shape, threads)
        else:
            best = _kicks(
                best, c, day, close, penalty, repair, int(search.max_segment), kick_cap,
                int(seed), *shape,
            )  # fmt: skip
    if search.settle_penalty > 0:
        best = _settle(
            best, c, (tr, sv, lo, hi, brk), close, penalty * search.settle_penalty,
            int(search.max_segment),
        )  # fmt: skip
    return tuple(int(x) for x in best)


def backward_day(
    duration_s: NDArray[np.int64],
    cost: NDArray[np.int64],
    service_s: NDArray[np.int64],
    window_s: NDArray[np.int64],
    break_s: tuple[int, int, int] | None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], tuple[int, int, int] | None]:
    """The same day driven backwards in time: travel and costs transposed, and a stop served
    from t to t + s becomes one served from T - t - s to T - t, with T the day's start plus its
    end, so that the day keeps its bounds (Vidal et al. 2013 time their routes both ways).
    An order keeps the day exactly when it, driven the other way round, keeps the backward
    day, at the same cost.

    Takes and returns a day as `solve_day` takes it: travel, cost, windows (row 0 the day)
    and the break (earliest start, latest start, duration); ``service_s`` stays as it is.
    """
    win = np.asarray(window_s, dtype=np.int64)
    t_sum = int(win[0, 0]) + int(win[0, 1])
    sv = np.array(service_s, dtype=np.int64)
    sv[0] = 0  # home's counts as 0
    mirrored = np.stack([t_sum - win[:, 1] - sv, t_sum - win[:, 0] - sv], axis=1)
    mirrored[0] = win[0]
    b_break = None
    if break_s is not None:
        b_start, b_end, b_dur = (int(x) for x in break_s)
        b_break = (t_sum - b_end - b_dur, t_sum - b_start - b_dur, b_dur)
    return (
        np.ascontiguousarray(np.asarray(duration_s, dtype=np.int64).T),
        np.ascontiguousarray(np.asarray(cost, dtype=np.int64).T),
        mirrored,
        b_break,
    )


def _first_routes(
    c: NDArray[np.int64], lo: NDArray[np.int64], hi: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The runs' first orders of the stops: tight windows first (far from home first among
    equals), earliest window first, far from home first."""
    width = hi[1:] - lo[1:]
    far = c[0, 1:] + c[1:, 0]
    return (
        np.stack(
            [
                np.lexsort((-far, width)),
                np.lexsort((-far, lo[1:])),
                np.argsort(-far, kind="stable"),
            ]
        ).astype(np.int64)
        + 1
    )


def _day_rules(
    day_start: int, day_end: int, break_s: tuple[int, int, int] | None
) -> NDArray[np.int64]:
    """The day's rules as the kernels read them: break window and length, the day's end, the
    two states on leaving home (time, warp: break not yet taken, taken before leaving), and a
    slot for the search's work counter."""
    brk = np.zeros(9, dtype=np.int64)
    brk[3] = day_end
    if break_s is not None:
        b_lo, b_hi, b_dur = (int(x) for x in break_s)
        brk[0], brk[1], brk[2] = b_lo, b_hi, b_dur
        brk[4], brk[5] = day_start, 0
        brk[6], brk[7] = (max(day_start, b_lo + b_dur), 0) if b_lo <= b_hi else (day_start, _OFF)
    else:  # one state: "taken" from the start
        brk[4], brk[5] = day_start, _OFF
        brk[6], brk[7] = day_start, 0
    return brk


def day_warp(
    duration_s: NDArray[np.int64],
    service_s: NDArray[np.int64],
    window_s: NDArray[np.int64],
    break_s: tuple[int, int, int] | None,
    order: tuple[int, ...],
) -> int:
    """Seconds of time warp of ``order`` (0: it keeps every window, the break and the day), as
    the search counts it."""
    sv = np.array(service_s, dtype=np.int64)
    sv[0] = 0
    win = np.asarray(window_s, dtype=np.int64)
    lo, hi = np.ascontiguousarray(win[:, 0]), np.ascontiguousarray(win[:, 1])
    ro = np.array([0, *order, 0], dtype=np.int64)
    st = np.zeros((4, len(ro)), dtype=np.int64)
    brk = _day_rules(int(lo[0]), int(hi[0]), break_s)
    tr = np.ascontiguousarray(duration_s, dtype=np.int64)
    return int(_states(ro, len(order), (tr, sv, lo, hi, brk), st))


# --------------------------------------------------------------------------------------------
# Time: the forward pass in two states, with time warp


@_leaf
def _visit(t: int, w: int, lo: int, hi: int, sv: int) -> tuple[int, int]:
    """Serve a stop reached at ``t`` with warp ``w``: a late start travels back to ``hi``."""
    start = max(t, lo)
    if start > hi:
        w += start - hi
        start = hi
    return start + sv, w


@_leaf
def _break_leg(t0: int, w0: int, leg: int, home: bool, brk: NDArray[np.int64]) -> tuple[int, int]:
    """Arrival with the break taken on this leg from the not-yet-taken state (t0, w0): it
    interrupts the drive, or waits on arrival (at home: after coming back)."""
    arrive = t0 + leg
    if leg > 0 and brk[0] < arrive:
        b_start = max(t0, brk[0])
        ready = arrive + brk[2]
    else:
        b_start = max(brk[0], arrive)
        ready = arrive if home else b_start + brk[2]
    if b_start > brk[1]:
        late = b_start - brk[1]
        return ready - late, w0 + late
    return ready, w0


@_leaf
def _lex_less(ta: int, wa: int, tb: int, wb: int) -> bool:
    return wa < wb or (wa == wb and ta < tb)


@_leaf
def _step(
    t0: int,
    w0: int,
    t1: int,
    w1: int,
    leg: int,
    node: int,
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    sv: NDArray[np.int64],
    brk: NDArray[np.int64],
) -> tuple[int, int, int, int]:
    """The two states after driving ``leg`` to ``node`` and serving it."""
    rb, wb = _break_leg(t0, w0, leg, False, brk)
    r1, v1 = t1 + leg, w1
    if _lex_less(rb, wb, r1, v1):
        r1, v1 = rb, wb
    n0, m0 = _visit(t0 + leg, w0, lo[node], hi[node], sv[node])
    n1, m1 = _visit(r1, v1, lo[node], hi[node], sv[node])
    return n0, m0, n1, m1


@_leaf
def _home_warp(t0: int, w0: int, t1: int, w1: int, leg: int, brk: NDArray[np.int64]) -> int:
    """Total warp of the day after the drive home from the states (t0, w0) and (t1, w1)."""
    rb, wb = _break_leg(t0, w0, leg, True, brk)
    a: int = wb + max(0, rb - brk[3])
    b: int = w1 + max(0, t1 + leg - brk[3])
    return min(a, b)


@_leaf
def _states(
    ro: NDArray[np.int64],
    m: int,
    day: _Day,
    st: NDArray[np.int64],
) -> int:
    """Fill ``st`` (4, m + 1) with the states after each position of ``ro[0..m+1]``; the warp."""
    tr, sv, lo, hi, brk = day
    st[0, 0], st[1, 0], st[2, 0], st[3, 0] = brk[4], brk[5], brk[6], brk[7]
    brk[8] += m
    for p in range(1, m + 1):
        a, b = ro[p - 1], ro[p]
        st[0, p], st[1, p], st[2, p], st[3, p] = _step(
            st[0, p - 1], st[1, p - 1], st[2, p - 1], st[3, p - 1], tr[a, b], b, lo, hi, sv, brk
        )
    return _home_warp(st[0, m], st[1, m], st[2, m], st[3, m], tr[ro[m], 0], brk)


@_leaf
def _warp(
    nr: NDArray[np.int64],
    m: int,
    first: int,
    last: int,
    shift: int,
    bound: int,
    day: _Day,
    st: NDArray[np.int64],
    w_cur: int,
) -> int:
    """The warp of ``nr[0..m+1]``, which equals the current route (states ``st``) before
    position ``first`` and, shifted by ``shift`` positions, after ``last``; any value above
    ``bound`` once it is sure to exceed it. A pass that reaches the current route's states at
    the same place stops (the rest is the current route's: its warp ``w_cur``), and so does one
    that is no later than them without warp where ``w_cur`` is 0 (a later time is never
    better)."""
    tr, sv, lo, hi, brk = day
    t0, w0, t1, w1 = st[0, first - 1], st[1, first - 1], st[2, first - 1], st[3, first - 1]
    for p in range(first, m + 1):
        brk[8] += 1
        a, b = nr[p - 1], nr[p]
        t0, w0, t1, w1 = _step(t0, w0, t1, w1, tr[a, b], b, lo, hi, sv, brk)
        if w0 > bound and w1 > bound:
            return bound + 1
        if p > last:
            q = p - shift  # the current route's state at the same place
            if t0 == st[0, q] and w0 == st[1, q] and t1 == st[2, q] and w1 == st[3, q]:
                return w_cur  # the same state: the rest of the day as the current route's
            if (
                w_cur == 0
                and (st[1, q] > 0 or (w0 == 0 and t0 <= st[0, q]))
                and (st[3, q] > 0 or (w1 == 0 and t1 <= st[2, q]))
            ):
                return 0  # no later than the current route's usable states: no warp
    return _home_warp(t0, w0, t1, w1, tr[nr[m], 0], brk)


# --------------------------------------------------------------------------------------------
# The search


@_leaf
def _rand(state: NDArray[np.uint64]) -> int:
    """xorshift64*: the next pseudo-random 31-bit integer."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return int((x * np.uint64(2685821657736338717)) >> np.uint64(33))


@_leaf
def _uniform(state: NDArray[np.uint64]) -> float:
    return (_rand(state) + 0.5) / 2147483648.0


@_leaf
def _route_cost(ro: NDArray[np.int64], m: int, c: NDArray[np.int64]) -> int:
    total = 0
    for p in range(m + 1):
        total += c[ro[p], ro[p + 1]]
    return total


@_leaf
def _insert(
    ro: NDArray[np.int64],
    m: int,
    w_cur: int,
    node: int,
    penalty: float,
    c: NDArray[np.int64],
    day: _Day,
    st: NDArray[np.int64],
    nr: NDArray[np.int64],
    buf: NDArray[np.int64],
) -> int:
    """Insert ``node`` into ``ro`` (m stops, warp ``w_cur``, states ``st``) where distance plus
    penalised warp grow least; ``ro`` and ``st`` are updated; returns the new warp. ``buf``:
    scratch of two rows of m + 1 cells or more (the positions' distances, and their order)."""
    brk = day[4]  # the work counter
    best_pos = -1
    best_val = 0.0
    deltas = buf[0]
    order = buf[1]
    for p in range(1, m + 2):  # between positions p - 1 and p
        a, b = ro[p - 1], ro[p]
        delta = c[a, node] + c[node, b] - c[a, b]
        deltas[p - 1] = delta
        # the positions by distance, ties in position order (a stable insertion sort)
        q = p - 1
        while q > 0 and deltas[order[q - 1]] > delta:
            order[q] = order[q - 1]
            q -= 1
        order[q] = p - 1
    for rank in range(m + 1):
        idx = order[rank]
        p = idx + 1
        delta = deltas[idx]
        if best_pos >= 0 and delta + penalty * w_cur >= best_val:
            break  # inserting never takes warp away, and the rest add more distance
        brk[8] += m  # the copy
        for q in range(p):
            nr[q] = ro[q]
        nr[p] = node
        for q in range(p, m + 2):
            nr[q + 1] = ro[q]
        bound = 1 << 40
        if best_pos >= 0:
            bound = int((best_val - delta) / penalty) + 1
        w = _warp(nr, m + 1, p, p, 1, bound, day, st, w_cur)
        val = delta + penalty * w
        if best_pos < 0 or val < best_val:
            best_pos, best_val = p, val
    for q in range(m + 1, best_pos - 1, -1):
        ro[q + 1] = ro[q]
    ro[best_pos] = node
    return _states(ro, m + 1, day, st)


@_leaf
def _prefix(
    ro: NDArray[np.int64],
    m: int,
    c: NDArray[np.int64],
    pf: NDArray[np.int64],
    pb: NDArray[np.int64],
) -> None:
    """pf[p]: cost of ro[0..p] driven forwards; pb[p]: the same arcs driven backwards."""
    pf[0] = 0
    pb[0] = 0
    for p in range(m + 1):
        pf[p + 1] = pf[p] + c[ro[p], ro[p + 1]]
        pb[p + 1] = pb[p] + c[ro[p + 1], ro[p]]


@_leaf
def _try(
    ro: NDArray[np.int64],
    nr: NDArray[np.int64],
    m: int,
    first: int,
    last: int,
    delta: int,
    w_cur: int,
    penalty: float,
    day: _Day,
    st: NDArray[np.int64],
) -> int:
    """Take the candidate ``nr`` (``ro`` with positions first..last rewritten, distance change
    ``delta``) if it lowers distance plus penalised warp: ``ro`` and ``st`` updated, its warp
    returned; else -1 and ``nr`` restored to ``ro``."""
    bound_f = w_cur - delta / penalty  # the candidate's warp must stay below this
    if bound_f > 0.0:
        bound = int(np.ceil(bound_f)) - 1
        w = _warp(nr, m, first, last, 0, bound, day, st, w_cur)
        if w <= bound and delta + penalty * (w - w_cur) < 0.0:
            for q in range(first, last + 1):
                ro[q] = nr[q]
            return _states(ro, m, day, st)
    for q in range(first, last + 1):
        nr[q] = ro[q]
    return -1


@_leaf
def _mark(
    ro: NDArray[np.int64], m: int, first: int, last: int, dirty: NDArray[np.int64], v: int
) -> None:
    """Mark the stops at positions first - 1 .. last + 1 (home excluded) with ``v``."""
    for q in range(max(1, first - 1), min(m, last + 1) + 1):
        dirty[ro[q]] = v


@_leaf
def _dirty_arcs(
    ro: NDArray[np.int64],
    m: int,
    dirty: NDArray[np.int64],
    p: int,
    da: NDArray[np.bool_],
    dl: NDArray[np.int64],
) -> int:
    """Flag the arcs (g, g + 1) at a dirty stop in ``da`` and list them in ``dl``; the count."""
    nd = 0
    for g in range(m + 1):
        da[g] = dirty[ro[g]] >= p or dirty[ro[g + 1]] >= p
        if da[g]:
            dl[nd] = g
            nd += 1
    return nd


@_leaf
def _or_opt_candidate(
    ro: NDArray[np.int64], nr: NDArray[np.int64], s: int, e: int, g: int, rev: int
) -> tuple[int, int]:
    """Rewrite ``nr`` (equal to ``ro``) as the route with positions s..e moved between g and
    g + 1 (reversed when ``rev``); the first and last changed positions."""
    length = e - s + 1
    if g < s:  # ..., ro[g], seg, ro[g+1..s-1], ro[e+1], ...
        for q in range(length):
            nr[g + 1 + q] = ro[e - q] if rev else ro[s + q]
        for q in range(g + 1, s):
            nr[q + length] = ro[q]
        return g + 1, e
    # ..., ro[s-1], ro[e+1..g], seg, ro[g+1], ...
    for q in range(e + 1, g + 1):
        nr[q - length] = ro[q]
    for q in range(length):
        nr[g - length + 1 + q] = ro[e - q] if rev else ro[s + q]
    return s, g


@njit(cache=True)
def _local_search(
    ro: NDArray[np.int64],
    m: int,
    w_cur: int,
    penalty: float,
    c: NDArray[np.int64],
    day: _Day,
    st: NDArray[np.int64],
    nr: NDArray[np.int64],
    pf: NDArray[np.int64],
    pb: NDArray[np.int64],
    close: NDArray[np.bool_],
    dirty: NDArray[np.int64],
    max_segment: int,
) -> int:
    """2-opt, Or-opt (segments of up to ``max_segment`` stops) and swaps, first improvement of
    distance plus penalised warp, until no move helps; returns the warp (``ro``'s states kept
    current).

    Only moves that change an arc at a *dirty* stop are tried (don't-look bits): a stop is
    dirty in pass ``p`` when ``dirty[stop] >= p``; the caller marks the stops whose arcs it
    changed with 1 (home too, where its arcs changed), and each move taken marks the stops
    around it for the next pass. ``dirty`` is cleared on return.
    """
    brk = day[4]  # the work counter
    da = np.zeros(m + 1, dtype=np.bool_)
    dl = np.zeros(m + 1, dtype=np.int64)
    for q in range(m + 2):  # candidates rewrite only what they change
        nr[q] = ro[q]
    brk[8] += m
    p = 1
    improved = True
    while improved:
        improved = False
        nxt = p + 1
        _prefix(ro, m, c, pf, pb)
        nd = _dirty_arcs(ro, m, dirty, p, da, dl)
        if nd == 0:
            break
        # 2-opt: reverse positions i..j (new arcs at g = i - 1 and g = j)
        for i in range(1, m):
            all_j = da[i - 1]
            idx = 0
            j = i
            while True:
                if all_j:
                    j += 1
                    if j > m:
                        break
                else:
                    while idx < nd and dl[idx] <= i:
                        idx += 1
                    if idx >= nd:
                        break
                    j = dl[idx]
                    idx += 1
                brk[8] += 1
                if not (close[ro[i - 1], ro[j]] or close[ro[i], ro[j + 1]]):
                    continue  # granular: a new arc joins near places
                delta = (
                    c[ro[i - 1], ro[j]]
                    + c[ro[i], ro[j + 1]]
                    - c[ro[i - 1], ro[i]]
                    - c[ro[j], ro[j + 1]]
                    + (pb[j] - pb[i])
                    - (pf[j] - pf[i])
                )
                if delta >= penalty * w_cur:
                    continue
                for q in range(i, j + 1):
                    nr[q] = ro[i + j - q]
                w = _try(ro, nr, m, i, j, delta, w_cur, penalty, day, st)
                if w >= 0:
                    w_cur = w
                    _prefix(ro, m, c, pf, pb)
                    brk[8] += 2 * m  # the prefix sums and the dirty arcs again
                    _mark(ro, m, i, j, dirty, nxt)
                    nd = _dirty_arcs(ro, m, dirty, p, da, dl)
                    improved = True
                    break
        # Or-opt: positions s..e moved between positions g and g + 1, forwards or reversed
        for length in range(1, max_segment + 1):
            for s in range(1, m - length + 2):
                e = s + length - 1
                all_g = da[s - 1] or da[e]
                removed = c[ro[s - 1], ro[s]] + c[ro[e], ro[e + 1]] - c[ro[s - 1], ro[e + 1]]
                inner = (pb[e] - pb[s]) - (pf[e] - pf[s])
                count = m + 1 if all_g else nd
                for t in range(count):
                    g = t if all_g else dl[t]
                    if s - 1 <= g <= e:
                        continue
                    u, v = ro[g], ro[g + 1]
                    brk[8] += 1
                    if not (
                        close[u, ro[s]] or close[ro[e], v] or close[u, ro[e]] or close[ro[s], v]
                    ):
                        continue
                    moved = False
                    for rev in range(2 if length > 1 else 1):
                        if rev == 0:
                            delta = c[u, ro[s]] + c[ro[e], v] - c[u, v] - removed
                        else:
                            delta = c[u, ro[e]] + c[ro[s], v] - c[u, v] - removed + inner
                        if delta >= penalty * w_cur:
                            continue
                        first, last = _or_opt_candidate(ro, nr, s, e, g, rev)
                        w = _try(ro, nr, m, first, last, delta, w_cur, penalty, day, st)
                        if w >= 0:
                            w_cur = w
                            _prefix(ro, m, c, pf, pb)
                            brk[8] += 2 * m
                            _mark(ro, m, first, last, dirty, nxt)
                            nd = _dirty_arcs(ro, m, dirty, p, da, dl)
                            improved = True
                            moved = True
                            break
                    if moved:
                        break  # other stops now hold positions s..e: on to the next
        # swap the stops at positions i < j (new arcs at i - 1, i, j - 1, j)
        for i in range(1, m):
            all_j = da[i - 1] or da[i]
            idx = 0
            j = i
            last_j = i
            while True:
                if all_j:
                    j += 1
                    if j > m:
                        break
                else:  # j next to a dirty arc: g = j - 1 or g = j
                    found = False
                    while idx < 2 * nd:
                        g = dl[idx // 2]
                        j = g + (idx % 2)
                        idx += 1
                        if i < j <= m and j > last_j:
                            found = True
                            break
                    if not found:
                        break
                    last_j = j
                a, b = ro[i], ro[j]
                brk[8] += 1
                if not (
                    close[ro[i - 1], b]
                    or close[b, ro[i + 1]]
                    or close[ro[j - 1], a]
                    or close[a, ro[j + 1]]
                ):
                    continue
                if j == i + 1:
                    delta = (
                        c[ro[i - 1], b]
                        + c[b, a]
                        + c[a, ro[j + 1]]
                        - c[ro[i - 1], a]
                        - c[a, b]
                        - c[b, ro[j + 1]]
                    )
                else:
                    delta = (
                        c[ro[i - 1], b]
                        + c[b, ro[i + 1]]
                        + c[ro[j - 1], a]
                        + c[a, ro[j + 1]]
                        - c[ro[i - 1], a]
                        - c[a, ro[i + 1]]
                        - c[ro[j - 1], b]
                        - c[b, ro[j + 1]]
                    )
                if delta >= penalty * w_cur:
                    continue
                nr[i] = b
                nr[j] = a
                w = _try(ro, nr, m, i, j, delta, w_cur, penalty, day, st)
                if w >= 0:
                    w_cur = w
                    _prefix(ro, m, c, pf, pb)
                    brk[8] += 2 * m  # the prefix sums and the dirty arcs again
                    _mark(ro, m, i, i, dirty, nxt)
                    _mark(ro, m, j, j, dirty, nxt)
                    nd = _dirty_arcs(ro, m, dirty, p, da, dl)
                    improved = True
                    break
        p = nxt
    dirty[:] = 0
    return w_cur


@njit(cache=True)
def _scratch(
    k: int,
) -> tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]
]:
    """A day of ``k`` stops' working arrays: a route, a candidate, the states (4 rows) and the
    forward and backward prefix sums."""
    return (
        np.zeros(k + 2, dtype=np.int64),
        np.zeros(k + 3, dtype=np.int64),
        np.zeros((4, k + 2), dtype=np.int64),
        np.zeros(k + 3, dtype=np.int64),
        np.zeros(k + 3, dtype=np.int64),
    )


@njit(cache=True)
def _descend(
    ro: NDArray[np.int64],
    k: int,
    price: float,
    repair: float,
    base: NDArray[np.int64],
    best_cost: int,
    c: NDArray[np.int64],
    day: _Day,
    work: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    close: NDArray[np.bool_],
    dirty: NDArray[np.int64],
    max_segment: int,
) -> int:
    """A local search of the order ``ro`` at the warp ``price`` from the stops ``dirty`` marks
    and, where warp is left and the order is shorter than ``best_cost``, one at the ``repair``
    price from every stop; when the order keeps the day and is shorter than ``best_cost`` it
    is copied into ``base`` (the best order, home at both ends). Returns the best cost, new or
    not. ``work``: the states and the working arrays of `_local_search` (`_scratch`)."""
    st, nr, pf, pb = work
    w = _states(ro, k, day, st)
    w = _local_search(ro, k, w, price, c, day, st, nr, pf, pb, close, dirty, max_segment)
    if w > 0:
        if _route_cost(ro, k, c) >= best_cost:
            return best_cost  # the repair would only lengthen it
        dirty[:] = 1
        w = _local_search(ro, k, w, repair, c, day, st, nr, pf, pb, close, dirty, max_segment)
    cost = _route_cost(ro, k, c)
    if w > 0 or cost >= best_cost:
        return best_cost
    base[:] = ro
    return cost


@_leaf
def _turn_into(base: NDArray[np.int64], k: int, r: int, ro: NDArray[np.int64]) -> None:
    """Write into ``ro[1..k]`` the order ``base`` turned by ``r``: its last r stops moved to
    the front, or its first -r to the back."""
    for q in range(k):
        ro[1 + (q + r) % k] = base[1 + q]


@njit(cache=True)
def _turns(
    best: NDArray[np.int64],
    c: NDArray[np.int64],
    day: _Day,
    close: NDArray[np.bool_],
    shifts: NDArray[np.int64],
    prices: NDArray[np.float64],
    repair: float,
    max_segment: int,
    work_cap: int,
) -> NDArray[np.int64]:
    """The best order ``best`` (feasible) started elsewhere on its loop: for each shift ``r``
    (its last ``r`` stops moved to the front, or its first ``-r`` to the back) and each warp
    price, a local search at that price and, where warp is left and the order is shorter than
    the best, one at the ``repair`` price; a shorter feasible order found replaces the best,
    and the next turns turn it. No new turn once the work counter passes ``work_cap``."""
    brk = day[4]  # the work counter
    k = best.shape[0]
    ro, nr, st, pf, pb = _scratch(k)
    dirty = np.zeros(k + 1, dtype=np.int64)
    base = np.zeros(k + 2, dtype=np.int64)
    base[1 : k + 1] = best
    best_cost = _route_cost(base, k, c)
    for r in shifts:
        for price in prices:
            if brk[8] > work_cap:
                break  # the turns' share of the work is spent
            _turn_into(base, k, r, ro)
            dirty[:] = 1
            best_cost = _descend(
                ro, k, price, repair, base, best_cost, c, day, (st, nr, pf, pb), close, dirty,
                max_segment,
            )  # fmt: skip
    return base[1 : k + 1].copy()


@_leaf
def _kick_into(
    base: NDArray[np.int64],
    k: int,
    rng: NDArray[np.uint64],
    longest: int,
    bridge: float,
    rest: NDArray[np.int64],
    ro: NDArray[np.int64],
) -> None:
    """Write into ``ro`` (home at both ends, as ``base``) a kick of the order ``base``: a block
    of 2 .. ``longest`` stops moved elsewhere (either way round), or (a ``bridge`` share of them)
    two neighbouring blocks exchanged (a double bridge); ``rest``: scratch of ``k`` cells."""
    if _uniform(rng) < bridge:
        # cut points 1 <= a < b < e <= k + 1: base's blocks [a, b) and [b, e) change places
        a = 1 + _rand(rng) % (k - 1)
        b = a + 1 + _rand(rng) % (k - a)
        e = b + 1 + _rand(rng) % (k + 1 - b)
        w = 1
        for q in range(1, a):
            ro[w] = base[q]
            w += 1
        for q in range(b, e):
            ro[w] = base[q]
            w += 1
        for q in range(a, b):
            ro[w] = base[q]
            w += 1
        for q in range(e, k + 1):
            ro[w] = base[q]
            w += 1
        return
    size = min(k - 1, 2 + _rand(rng) % (longest - 1))
    i = 1 + _rand(rng) % (k - size + 1)  # the block: base[i : i + size]
    left = 0
    for q in range(1, k + 1):
        if q < i or q >= i + size:
            rest[left] = base[q]
            left += 1
    at = _rand(rng) % left
    if at >= i - 1:
        at += 1  # never back where it was
    turned = _rand(rng) % 2 == 1
    w = 1
    for q in range(left + 1):
        if q == at:
            for z in range(size):
                ro[w] = base[i + size - 1 - z] if turned else base[i + z]
                w += 1
        if q < left:
            ro[w] = rest[q]
            w += 1


@_leaf
def _successors(base: NDArray[np.int64], k: int, succ: NDArray[np.int64]) -> None:
    """Write each place's successor in the order ``base`` (home at both ends) into ``succ``."""
    for q in range(k + 1):
        succ[base[q]] = base[q + 1]


@_leaf
def _mark_changed(
    ro: NDArray[np.int64], k: int, succ: NDArray[np.int64], dirty: NDArray[np.int64]
) -> None:
    """Mark in ``dirty`` (cleared first) the stops of ``ro`` at an arc the best order
    (successors ``succ``) does not have: the local search starts only there."""
    dirty[:] = 0
    for q in range(k + 1):
        if succ[ro[q]] != ro[q + 1]:
            dirty[ro[q]] = 1
            dirty[ro[q + 1]] = 1


@njit(cache=True, nogil=True)
def _kicks(
    best: NDArray[np.int64],
    c: NDArray[np.int64],
    day: _Day,
    close: NDArray[np.bool_],
    price: float,
    repair: float,
    max_segment: int,
    work_cap: int,
    seed: int,
    longest: int,
    bridge: float,
    mend: bool = False,
) -> NDArray[np.int64]:
    """Iterated local search from the best order ``best`` (feasible): each kick (`_kick_into`)
    moves a block of 2 .. ``longest`` stops elsewhere (either way round), or (a ``bridge``
    share of them) exchanges two neighbouring blocks (a double bridge); a local search at
    ``price`` follows, only where an arc changed, and where warp is left and the order is
    shorter than the best, one at the ``repair`` price; a shorter feasible order replaces the
    best, and the next kicks start from it. No new kick once the work counter passes
    ``work_cap``. `_kicks_on_threads` gives the same order on several threads.

    With ``mend`` (`DaySearch.mend_work`), ``best`` is an order that does not keep the day:
    it is searched first itself, every kick starts from it, and the first order a search
    ends on that keeps the day is returned, of any length; empty when there was none before
    the work ran out."""
    brk = day[4]  # the work counter
    k = best.shape[0]
    ro, nr, st, pf, pb = _scratch(k)
    dirty = np.zeros(k + 1, dtype=np.int64)
    base = np.zeros(k + 2, dtype=np.int64)
    base[1 : k + 1] = best
    rest = np.zeros(k, dtype=np.int64)
    succ = np.zeros(k + 1, dtype=np.int64)
    none = np.iinfo(np.int64).max
    best_cost = none if mend else _route_cost(base, k, c)
    rng = _kick_rng(seed)
    _successors(base, k, succ)  # the best order's arcs
    if mend:  # the order itself first
        ro[:] = base
        dirty[:] = 1
        cost = _descend(
            ro, k, price, repair, base, none, c, day, (st, nr, pf, pb), close, dirty,
            max_segment,
        )  # fmt: skip
        if cost < none:
            return base[1 : k + 1].copy()
    while brk[8] <= work_cap:
        _kick_into(base, k, rng, longest, bridge, rest, ro)
        brk[8] += k
        _mark_changed(ro, k, succ, dirty)
        cost = _descend(
            ro, k, price, repair, base, best_cost, c, day, (st, nr, pf, pb), close, dirty,
            max_segment,
        )  # fmt: skip
        if cost < best_cost:
            if mend:  # ``base`` holds it
                return base[1 : k + 1].copy()
            best_cost = cost  # a new best order: its arcs
            _successors(base, k, succ)
    return np.zeros(0, dtype=np.int64) if mend else base[1 : k + 1].copy()


@njit(cache=True)
def _kick_rng(seed: int) -> NDArray[np.uint64]:
    """The kicks' generator state for the request seed ``seed``."""
    return np.array([np.uint64(seed % 2**62 + 1) * np.uint64(0x9E3779B97F4A7C15)], dtype=np.uint64)


# --------------------------------------------------------------------------------------------
# The turns and the kicks on several threads: descents from one best order, committed in order


@njit(cache=True)
def _kick_batch(
    base: NDArray[np.int64],
    rng: NDArray[np.uint64],
    longest: int,
    bridge: float,
    starts: NDArray[np.int64],
    dirty: NDArray[np.int64],
    states: NDArray[np.uint64],
) -> None:
    """The next ``len(starts)`` kicks of `_kicks` from the best order ``base`` (home at both
    ends), as if none found a shorter one: kick j into ``starts[j]``, the stops its local
    search starts from into ``dirty[j]``, the generator's state after it into ``states[j]``
    (``rng`` is left after the last)."""
    k = base.shape[0] - 2
    rest = np.zeros(k, dtype=np.int64)
    succ = np.zeros(k + 1, dtype=np.int64)
    _successors(base, k, succ)
    for j in range(starts.shape[0]):
        _kick_into(base, k, rng, longest, bridge, rest, starts[j])
        _mark_changed(starts[j], k, succ, dirty[j])
        states[j] = rng[0]


@njit(cache=True)
def _turn_batch(
    base: NDArray[np.int64],
    shifts: NDArray[np.int64],
    starts: NDArray[np.int64],
    dirty: NDArray[np.int64],
) -> None:
    """The turns of `_turns` from the best order ``base`` (home at both ends): ``starts[j]`` is
    ``base`` turned by ``shifts[j]`` (its last r stops moved to the front, or its first -r to
    the back); every stop dirty."""
    k = base.shape[0] - 2
    for j in range(starts.shape[0]):
        _turn_into(base, k, shifts[j], starts[j])
        starts[j, 0] = 0
        starts[j, k + 1] = 0
        dirty[j] = 1


@njit(cache=True, nogil=True)
def _descend_batch(
    starts: NDArray[np.int64],
    dirty: NDArray[np.int64],
    prices: NDArray[np.float64],
    first: int,
    step: int,
    stop: NDArray[np.int64],
    repair: float,
    best_cost: int,
    c: NDArray[np.int64],
    day: _Day,
    close: NDArray[np.bool_],
    max_segment: int,
    extra: int,
    budget: int,
    costs: NDArray[np.int64],
    works: NDArray[np.int64],
    orders: NDArray[np.int64],
) -> None:
    """`_descend` from ``starts[j]`` (local search from the stops ``dirty[j]`` at the warp price
    ``prices[j]``) for j = first, first + step, ...: its result in ``costs[j]`` (below
    ``best_cost`` when it found a shorter order keeping the day, that order in ``orders[j]``)
    and its work in ``works[j]`` (counted in ``day``'s counter too). Each descent starts from
    the same best order, as if none before it had found a shorter one; once one has, the
    later ones are of no use: the first such j is lowered into ``stop[0]`` (shared by the
    threads; a stale read only costs a descent) and no j above it starts. Nor does one once
    the descents before it that have ended (on any thread), with ``extra`` more each, have
    spent more than ``budget``: taken in order, they leave it no work (a descent not yet seen
    to end, its work still -1, counts 0, so the sum is never too high)."""
    k = starts.shape[1] - 2
    ro, nr, st, pf, pb = _scratch(k)
    marks = np.zeros(k + 1, dtype=np.int64)
    brk = day[4]
    for j in range(first, starts.shape[0], step):
        if j > stop[0]:
            break
        spent = 0
        for i in range(j):
            if works[i] >= 0:  # ended
                spent += extra + works[i]
        if spent > budget:
            break
        before = brk[8]
        ro[:] = starts[j]
        marks[:] = dirty[j]
        costs[j] = _descend(
            ro, k, prices[j], repair, orders[j], best_cost, c, day, (st, nr, pf, pb), close,
            marks, max_segment,
        )  # fmt: skip
        works[j] = brk[8] - before
        if costs[j] < best_cost and j < stop[0]:
            stop[0] = j


@njit(cache=True)
def _settle(
    best: NDArray[np.int64],
    c: NDArray[np.int64],
    day: _Day,
    close: NDArray[np.bool_],
    price: float,
    max_segment: int,
) -> NDArray[np.int64]:
    """A last local search of the best order ``best`` (feasible) from every stop at the warp
    ``price`` (high enough that only orders keeping the day are taken): a turn by no stop at
    all. The shorter order found, or ``best``."""
    no_turn = np.zeros(1, dtype=np.int64)
    return _turns(best, c, day, close, no_turn, np.array([price]), price, max_segment, 2**62)


@njit(cache=True, nogil=True)
def _search(
    tr: NDArray[np.int64],
    c: NDArray[np.int64],
    sv: NDArray[np.int64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    brk: NDArray[np.int64],
    starts: NDArray[np.int64],
    near: NDArray[np.int64],
    close: NDArray[np.bool_],
    penalty: float,
    iterations: int,
    seed: int,
    knobs: NDArray[np.float64],
    phases: int,
    work_per_stop: int,
    max_segment: int,
    least: NDArray[np.int64],
) -> NDArray[np.int64]:
    """The iterated local search; the best feasible order (empty when none was found). While
    none is found, ``least`` (``k`` cells) holds the order of least warp seen (the shorter of
    equal warp), for the mending kicks (`_kicks` with ``mend``)."""
    day = (tr, sv, lo, hi, brk)
    t_start_share, t_end_share, ruin_share = knobs[0], knobs[1], knobs[2]
    penalty_up, penalty_down, p_max_share, flip = knobs[3], knobs[4], knobs[5], knobs[6]
    n = tr.shape[0]
    k = n - 1
    ro, nr, st, pf, pb = _scratch(k)
    ins = np.zeros((2, k + 2), dtype=np.int64)  # `_insert`'s scratch
    best = np.zeros(k + 2, dtype=np.int64)
    best_cost = -1
    dirty = np.zeros(n, dtype=np.int64)
    far = c[0, 1:] + c[1:, 0]
    width = hi[1:] - lo[1:]
    # the first route: the best of the cheapest insertions in the ``starts`` orders
    low_w = np.iinfo(np.int64).max
    low_cost = 0
    cur_val = np.inf
    cur = ro.copy()
    cur_cost = 0
    cur_w = 0
    for row in range(starts.shape[0]):
        ro[0] = 0
        ro[1] = 0
        w = _states(ro, 0, day, st)
        for m in range(k):
            w = _insert(ro, m, w, starts[row, m], penalty, c, day, st, nr, ins)
        dirty[:] = 1
        w = _local_search(ro, k, w, penalty, c, day, st, nr, pf, pb, close, dirty, max_segment)
        cost = _route_cost(ro, k, c)
        val = cost + penalty * w
        if w == 0 and (best_cost < 0 or cost < best_cost):
            best_cost = cost
            best[:] = ro
        if best_cost < 0 and (w < low_w or (w == low_w and cost < low_cost)):
            low_w = w
            low_cost = cost
            least[:] = ro[1 : k + 1]
        if val < cur_val:
            cur_val = val
            cur_cost = cost
            cur_w = w
            cur[:] = ro
    if k < 3 or iterations <= 0:
        return best[1 : k + 1].copy() if best_cost >= 0 else np.zeros(0, dtype=np.int64)
    rng = np.zeros(1, dtype=np.uint64)
    rng[0] = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x2545F4914F6CDD1D)
    if rng[0] == 0:
        rng[0] = np.uint64(1)
    mean_arc = max(1.0, _route_cost(cur, k, c) / (k + 1))
    t_start = t_start_share * mean_arc
    t_end = t_end_share * mean_arc
    trial = ro.copy()
    pool = np.zeros(k, dtype=np.int64)
    out = np.zeros(n, dtype=np.bool_)
    keys = np.zeros(k, dtype=np.float64)
    max_ruin = max(1, min(k - 1, int(ruin_share * k)))
    p_min = penalty * 0.25
    p_max = penalty * p_max_share
    p_first = penalty
    phase_its = iterations // phases
    work_cap = brk[8] + work_per_stop * k * iterations
    for it in range(phase_its * phases):
        if brk[8] > work_cap:
            break  # the work budget is spent (it binds on most days of 25-30 stops)
        phase, it_in = divmod(it, phase_its)
        if it_in == 0 and phase > 0:
            # a new phase starts from the best route driven the other way round in each of its
            # two parts (the morning's order reversed, and the afternoon's), split where that
            # is cheapest
            base = best.copy() if best_cost >= 0 else cur.copy()
            penalty = p_first
            best_split_val = np.inf
            for split in range(1, k):
                trial[0] = 0
                trial[k + 1] = 0
                for q in range(1, split + 1):
                    trial[q] = base[split + 1 - q]
                for q in range(split + 1, k + 1):
                    trial[q] = base[k + split + 1 - q]
                w = _states(trial, k, day, st)
                val = _route_cost(trial, k, c) + penalty * w
                if val < best_split_val:
                    best_split_val = val
                    cur[:] = trial
            cur_cost = _route_cost(cur, k, c)
            cur_w = _states(cur, k, day, st)
            dirty[:] = 1
            cur_w = _local_search(
                cur,
                k,
                cur_w,
                penalty,
                c,
                day,
                st,
                nr,
                pf,
                pb,
                close,
                dirty,
                max_segment,
            )
            cur_cost = _route_cost(cur, k, c)
            cur_val = cur_cost + penalty * cur_w
            if cur_w == 0 and cur_cost < best_cost:
                best_cost = cur_cost
                best[:] = cur
        temp = t_start * (t_end / t_start) ** (it_in / phase_its)
        trial[:] = cur
        flipped = flip > 0.0 and _uniform(rng) < flip
        if flipped:
            # kick: drive a stretch of the route the other way round (at least 3 stops)
            a = 1 + _rand(rng) % (k - 2)
            b = a + 2 + _rand(rng) % (k - a - 1)
            for q in range(a, b + 1):
                trial[q] = cur[a + b - q]
            dirty[trial[a - 1]] = 1
            dirty[trial[a]] = 1
            dirty[trial[b]] = 1
            dirty[trial[b + 1]] = 1
            w = _states(trial, k, day, st)
        else:
            # ruin
            q_n = 1 + _rand(rng) % max_ruin
            out[:] = False
            if _rand(rng) % 2 == 0:  # a string of consecutive stops
                start = 1 + _rand(rng) % (k - q_n + 1)
                for q in range(q_n):
                    out[trial[start + q]] = True
            else:  # a stop and its nearest neighbours
                seed_node = 1 + _rand(rng) % k
                for q in range(q_n):
                    out[near[seed_node, q]] = True
            r = 0
            m = 0
            for p in range(1, k + 1):
                if out[trial[p]]:
                    pool[r] = trial[p]
                    r += 1
                    dirty[trial[p - 1]] = 1  # its neighbours get new arcs
                    dirty[trial[p + 1]] = 1
                else:
                    m += 1
                    trial[m] = trial[p]
            trial[m + 1] = 0
            w = _states(trial, m, day, st)
            # recreate: random order, far from home first, or tight windows first
            mode = _rand(rng) % 4
            for q in range(r):
                node = pool[q]
                if mode <= 1:
                    keys[q] = _uniform(rng)
                elif mode == 2:
                    keys[q] = -far[node - 1]
                else:
                    keys[q] = width[node - 1]
            order = np.argsort(keys[:r], kind="mergesort")
            for q in order:
                w = _insert(trial, m, w, pool[q], penalty, c, day, st, nr, ins)
                m += 1
            for p in range(1, k + 1):  # the inserted stops and their neighbours
                if out[trial[p]]:
                    dirty[trial[p - 1]] = 1
                    dirty[trial[p]] = 1
                    dirty[trial[p + 1]] = 1
        w = _local_search(trial, k, w, penalty, c, day, st, nr, pf, pb, close, dirty, max_segment)
        cost = _route_cost(trial, k, c)
        val = cost + penalty * w
        if w == 0 and (best_cost < 0 or cost < best_cost):
            best_cost = cost
            best[:] = trial
        if best_cost < 0 and (w < low_w or (w == low_w and cost < low_cost)):
            low_w = w
            low_cost = cost
            least[:] = trial[1 : k + 1]
        if val < cur_val or _uniform(rng) < np.exp(-(val - cur_val) / temp):
            cur[:] = trial
            cur_cost = cost
            cur_w = w
        # a current route with warp for long makes warp dearer, a feasible one cheaper; on the
        # ruin-and-recreate iterations (adapting after the flips too left 3 draws of 240 more
        # than 0.5 % off at 25-30 stops instead of 1)
        if not flipped:
            if cur_w > 0:
                penalty = min(penalty * penalty_up, p_max)
            else:
                penalty = max(penalty * penalty_down, p_min)
        cur_val = cur_cost + penalty * cur_w
    if best_cost < 0:
        return np.zeros(0, dtype=np.int64)
    return best[1 : k + 1].copy()
