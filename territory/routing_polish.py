"""Routing stage, polish: 2-opt and Or-opt on one rep's route with windows and the break.

PyVRP's local search has no move that reverses a stretch of a route, and its relocation of
two or three consecutive stops is costly there (`routing.PyvrpTuning` leaves it out). On one
route of up to ~30 stops both are cheap to try here: every move's change in arc cost is
computed at once with numpy, and only the moves that shorten the route are checked for time,
best first, by a forward pass over the new order (`_feasible`, O(stops)); the move taken is
confirmed by ``routing``'s exact scheduler before it is kept. Deterministic: no randomness,
ties broken by move order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["polish_route"]

#: Or-opt moves segments of up to this many consecutive stops.
_MAX_SEGMENT = 3

#: Upper bound on improving moves taken (a guard; a 30-stop day takes a handful).
_MAX_MOVES = 200


def polish_route(
    route: Sequence[int],
    cost: NDArray[np.int64],
    feasible: Callable[[Sequence[int]], bool],
) -> tuple[int, ...]:
    """Improve one route by 2-opt and Or-opt moves that keep it feasible, until none does.

    Parameters
    ----------
    route
        Stop node ids in visiting order (home, node 0, left out); assumed feasible.
    cost
        (N, N) arc costs.
    feasible
        Whether an order keeps every window, the break and the day.

    Returns
    -------
    tuple of int
        The improved order (the given one when no move helps).
    """
    order = [int(x) for x in route]
    c = np.asarray(cost, dtype=np.int64)
    for _ in range(_MAX_MOVES):
        for kind, args in _improving_moves(order, c):
            new = _apply(order, kind, args)
            if feasible(new):
                order = new
                break
        else:
            break
    return tuple(order)


def _improving_moves(
    order: list[int], c: NDArray[np.int64]
) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Every 2-opt and Or-opt move that shortens ``order`` as (kind, arguments) for `_apply`,
    best first (ties: 2-opt by position, then Or-opt by length, start, direction, gap)."""
    k = len(order)
    if k < 3:
        return
    path = np.array([0, *order, 0], dtype=np.int64)
    fwd = c[path[:-1], path[1:]]  # fwd[t]: arc from position t to t + 1
    bwd = c[path[1:], path[:-1]]  # bwd[t]: arc from position t + 1 to t
    pf = np.concatenate(([0], np.cumsum(fwd)))  # pf[t]: cost of positions 0..t
    pb = np.concatenate(([0], np.cumsum(bwd)))
    deltas: list[NDArray[np.int64]] = []
    kinds: list[NDArray[np.int64]] = []
    args: list[NDArray[np.int64]] = []
    # 2-opt: reverse positions i..j (1 <= i < j <= k)
    i, j = np.triu_indices(k + 1, 1)
    keep = i >= 1
    i, j = i[keep], j[keep]
    delta = (
        c[path[i - 1], path[j]]
        + c[path[i], path[j + 1]]
        - fwd[i - 1]
        - fwd[j]
        + (pb[j] - pb[i])
        - (pf[j] - pf[i])
    )
    deltas.append(delta)
    kinds.append(np.zeros(len(i), dtype=np.int64))
    args.append(np.column_stack([i, j, np.zeros(len(i), dtype=np.int64)]))
    # Or-opt: move positions s..e (e = s + length - 1) between positions q and q + 1 of the
    # rest, forwards (kind 1) or backwards (kind 2)
    for length in range(1, _MAX_SEGMENT + 1):
        s = np.arange(1, k - length + 2)[:, None]
        e = s + length - 1
        q = np.arange(k - length + 1)[None, :]
        u = path[np.where(q < s, q, q + length)]
        v = path[np.where(q + 1 < s, q + 1, q + 1 + length)]
        a, b = path[s], path[e]
        removed = fwd[s - 1] + fwd[e] - c[path[s - 1], path[e + 1]]
        add_f = c[u, a] + c[b, v] - c[u, v] - removed
        add_b = c[u, b] + c[a, v] - c[u, v] + (pb[e] - pb[s]) - (pf[e] - pf[s]) - removed
        other = np.broadcast_to(q != s - 1, add_f.shape)
        ss, qq = np.broadcast_arrays(s, q)
        both = [add_f] if length == 1 else [add_f, add_b]
        stacked = np.stack(both, axis=1)  # (start, direction, gap): the tie order
        n_dir = len(both)
        deltas.append(
            np.where(np.broadcast_to(other[:, None, :], stacked.shape), stacked, 0).ravel()
        )
        kinds.append(np.broadcast_to(np.arange(1, n_dir + 1)[None, :, None], stacked.shape).ravel())
        args.append(
            np.column_stack(
                [
                    np.broadcast_to(ss[:, None, :], stacked.shape).ravel(),
                    np.broadcast_to((ss + length - 1)[:, None, :], stacked.shape).ravel(),
                    np.broadcast_to(qq[:, None, :], stacked.shape).ravel(),
                ]
            )
        )
    all_delta = np.concatenate(deltas)
    all_kind = np.concatenate(kinds)
    all_args = np.concatenate(args)
    better = np.flatnonzero(all_delta < 0)
    ranked = better[np.argsort(all_delta[better], kind="stable")]
    for m in ranked.tolist():
        kind = int(all_kind[m])
        yield kind, tuple(all_args[m, : 2 if kind == 0 else 3].tolist())


def _apply(order: list[int], kind: int, args: tuple[int, ...]) -> list[int]:
    """The order after one move (positions count from 1 for the first stop)."""
    if kind == 0:
        i, j = args
        return order[: i - 1] + order[i - 1 : j][::-1] + order[j:]
    start, end, q = args
    seg = order[start - 1 : end]
    if kind == 2:
        seg = seg[::-1]
    rest = order[: start - 1] + order[end:]
    return rest[:q] + seg + rest[q:]


def forward_feasible(
    travel_s: NDArray[np.int64],
    service_s: NDArray[np.int64],
    window_s: NDArray[np.int64],
    break_s: tuple[int, int, int] | None,
) -> Callable[[Sequence[int]], bool]:
    """A fast test whether an order keeps its windows, the day and the break.

    Earliest times in two states (the break not yet taken, taken), leaving home as early as the
    day allows: a later time is never better, so the earliest arrival in each state decides.
    The break is taken as ``routing._schedule`` takes it: before leaving, on a leg (it
    interrupts the drive or waits on arrival), or after coming back. A limit on the route's
    span is not checked here.
    """
    tr: list[list[int]] = np.asarray(travel_s, dtype=np.int64).tolist()
    sv: list[int] = np.asarray(service_s, dtype=np.int64).tolist()
    lo = [int(x) for x in np.asarray(window_s)[:, 0]]
    hi = [int(x) for x in np.asarray(window_s)[:, 1]]
    day_start, day_end = lo[0], hi[0]
    none = 2**62

    def check(order: Sequence[int]) -> bool:
        if break_s is None:
            t = day_start
            prev = 0
            for node in order:
                t = max(t + tr[prev][node], lo[node])
                if t > hi[node]:
                    return False
                t += sv[node]
                prev = node
            return t + tr[prev][0] <= day_end
        b_lo, b_hi, b_dur = break_s
        t0 = day_start  # leave time, break not taken
        t1 = max(day_start, b_lo + b_dur) if b_lo <= b_hi else none  # break before leaving
        prev = 0
        for node in (*order, 0):
            leg = tr[prev][node]
            arrive0 = t0 + leg
            # the break on this leg, from the no-break state
            if leg > 0 and b_lo < arrive0:
                b_start, ready = max(t0, b_lo), arrive0 + b_dur
            else:
                b_start = max(b_lo, arrive0)
                ready = arrive0 if node == 0 else b_start + b_dur
            via = ready if b_start <= b_hi and t0 < none else none
            r1 = min(t1 + leg, via)
            if node == 0:
                if r1 <= day_end:
                    return True
                # after coming back
                return arrive0 <= day_end and max(b_lo, arrive0) <= b_hi
            s0 = max(arrive0, lo[node])
            s1 = max(r1, lo[node])
            t0 = s0 + sv[node] if s0 <= hi[node] else none
            t1 = s1 + sv[node] if s1 <= hi[node] else none
            if t0 >= none and t1 >= none:
                return False
            prev = node
        return False  # unreachable: the loop returns at home

    return check
