"""Visit scheduling: visit patterns over the period and the petal (cloverleaf) day assignment.

Chapter 6.5 of Rustenburg & Steenbeek, *Salesmanagement*: every customer is visited at the
frequency of its class, evenly spread over the period, and each day is a loop from the rep's
home through one sector around it (the cloverleaf). A customer's *pattern* is the set of days
of the period on which it is visited, encoded as a bitmask: bit ``d`` is day index
``d = (week - 1) * len(period.days) + position of the weekday in period.days``. This is the
pattern notion of the periodic VRP (Christofides & Beasley 1984; Cordeau, Gendreau & Laporte
1997).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import columns
from .models import WEEKDAYS, Customer, Rep
from .params import Config, PeriodParams, format_hhmm
from .travel import project_km
from .workdays import blocked_mask

#: At most this many weekday combinations per customer for visits more often than weekly
#: (keeps the pattern lists of very frequent customers small; combinations are kept in order).
MAX_WEEKDAY_SETS = 32


def day_index(week: int, weekday: str, period: PeriodParams) -> int:
    """Day index of ``weekday`` in ``week`` (1-based) within the period's working days."""
    return (week - 1) * len(period.days) + period.days.index(weekday)


def day_of_index(day: int, period: PeriodParams) -> tuple[int, str]:
    """``(week, weekday)`` of a day index (the inverse of ``day_index``)."""
    week, pos = divmod(day, len(period.days))
    return week + 1, period.days[pos]


def day_label(day: int, period: PeriodParams) -> str:
    """The day as the plan tables show it: ISO date when a start date is known, else ``w1-mon``.

    Week 1 begins on ``start_date``; each weekday of week ``w`` is the first such weekday on or
    after ``start_date + 7 (w - 1)`` days. The label itself is :func:`territory.columns.day_label`.
    """
    week, weekday = day_of_index(day, period)
    if period.start_date is None:
        return columns.day_label(week, weekday)
    start = period.start_date
    offset = (WEEKDAYS.index(weekday) - start.weekday()) % 7 + 7 * (week - 1)
    return columns.day_label(week, weekday, (start + dt.timedelta(days=offset)).isoformat())


def pattern_days(pattern: int) -> tuple[int, ...]:
    """Day indices set in a pattern bitmask, ascending."""
    out = []
    d = 0
    while pattern:
        if pattern & 1:
            out.append(d)
        pattern >>= 1
        d += 1
    return tuple(out)


def rep_weekdays(rep: Rep, config: Config) -> tuple[str, ...]:
    """The rep's working weekdays within the period (period order)."""
    own = set(rep.days) if rep.days else set(config.period.days)
    return tuple(d for d in config.period.days if d in own)


def usable_weekdays(customer: Customer, rep: Rep, config: Config) -> tuple[str, ...]:
    """Weekdays on which ``rep`` may visit ``customer`` (customer's days x rep's working days)."""
    rep_days = rep_weekdays(rep, config)
    if not customer.days:
        return rep_days
    return tuple(d for d in rep_days if d in customer.days)


def _min_gap(weekdays: Sequence[str]) -> int:
    """Smallest calendar gap (days) between the chosen weekdays, cyclic over the 7-day week."""
    idx = sorted(WEEKDAYS.index(d) for d in weekdays)
    if len(idx) < 2:
        return 7
    gaps = [b - a for a, b in itertools.pairwise(idx)] + [idx[0] + 7 - idx[-1]]
    return min(gaps)


def _spread_sets(weekdays: Sequence[str], m: int) -> list[tuple[str, ...]]:
    """Sets of ``m`` weekdays, none back to back when possible, else as spread as possible."""
    combos = list(itertools.combinations(weekdays, m))
    if not combos:
        return []
    gaps = [_min_gap(c) for c in combos]
    need = 2 if max(gaps) >= 2 else max(gaps)
    return [c for c, g in zip(combos, gaps, strict=True) if g >= need][:MAX_WEEKDAY_SETS]


def _spaced_weeks(visits: int, weeks: int) -> list[tuple[int, ...]]:
    """Week sets (1-based) for ``visits`` <= ``weeks`` visits at equal spacing.

    Spacing ``s = weeks // visits``; the first visit falls in week ``1 + o`` for every offset
    ``o`` that keeps the last visit inside the period (4 in 4 weeks: every week; 2 in 4: weeks
    1+3 or 2+4; 1 in 4: any week).
    """
    s = weeks // visits
    return [tuple(1 + o + k * s for k in range(visits)) for o in range(weeks - (visits - 1) * s)]


def customer_patterns(
    visits: int,
    weekdays: Sequence[str],
    period: PeriodParams,
    *,
    blocked: int = 0,
    fixed: int = 0,
) -> tuple[int, ...]:
    """Allowed day-bitmask patterns for a customer with ``visits`` per period.

    Parameters
    ----------
    visits
        Visits per period.
    weekdays
        Weekdays on which the visits may fall (already intersected with the rep's working days).
    period
        The planning period; day indices follow ``day_index``.
    blocked
        Days (bitmask) on which no visit may fall: holidays, the rep's absences, the past.
    fixed
        Days (bitmask) that every pattern must contain: booked appointments, visits already
        made. They count toward ``visits`` and may lie on blocked days (the past); their
        weekdays become usable for the other visits too.

    Returns
    -------
    tuple of int
        Distinct bitmasks in a deterministic order; empty when the visits cannot be spread
        over the usable weekdays (``pattern_problem`` says why).

    Notes
    -----
    ``visits <= weeks``: different weeks at equal spacing, always the same weekday. More often
    than weekly: ``visits // weeks`` weekdays every week (none back to back when possible, the
    same days each week), and the remaining ``visits % weeks`` visits on one more weekday in
    equally spaced weeks. Then, for each of these, every ``fixed`` day takes the place of the
    pattern's nearest other day (within ``MAX_FIXED_SHIFT_DAYS`` where any pattern allows),
    and a visit on a ``blocked`` day moves to the nearest usable
    day before it or the nearest after it (both are offered; not next to another visit of the
    pattern where a day without that is as near as a week): a holiday moves a weekly visit
    within its week, a week of leave moves it to the week before or after.
    """
    base = _regular_patterns(visits, weekdays, period)
    if not blocked and not fixed:
        return base
    if _popcount(fixed) >= visits:
        return (fixed,) if fixed else ()
    fixed_weekdays = {day_of_index(d, period)[1] for d in pattern_days(fixed)}
    if not base and fixed:
        base = _regular_patterns(visits, sorted(set(weekdays) | fixed_weekdays), period)
    usable = set(weekdays) | fixed_weekdays
    ordinal = day_ordinals(period)
    free = sorted(
        (
            d
            for d in range(period.working_days)
            if period.days[d % len(period.days)] in usable and not (blocked >> d) & 1
        ),
        key=lambda d: ordinal[d],
    )
    for reach in (MAX_FIXED_SHIFT_DAYS, None):  # near days first; any day when none is near
        out: list[int] = []
        for p in base:
            forced = _force_fixed(p, fixed, ordinal, reach)
            if forced is not None:
                out.extend(_shift_blocked(forced, blocked & ~fixed, free, ordinal))
        if out:
            break
    return tuple(dict.fromkeys(out))


def _regular_patterns(
    visits: int, weekdays: Sequence[str], period: PeriodParams
) -> tuple[int, ...]:
    """The evenly spread patterns of :func:`customer_patterns` (no blocked or fixed days)."""
    weeks = period.weeks
    weekdays = [d for d in period.days if d in set(weekdays)]
    if visits <= 0 or not weekdays:
        return ()
    out: list[int] = []

    def mask(week_days: Sequence[tuple[int, str]]) -> int:
        m = 0
        for w, d in week_days:
            m |= 1 << day_index(w, d, period)
        return m

    if visits <= weeks:
        for wd in weekdays:
            for ws in _spaced_weeks(visits, weeks):
                out.append(mask([(w, wd) for w in ws]))
    else:
        per_week, extra = divmod(visits, weeks)
        if per_week + (1 if extra else 0) > len(weekdays):
            return ()
        if extra == 0:
            for ds in _spread_sets(weekdays, per_week):
                out.append(mask([(w, d) for w in range(1, weeks + 1) for d in ds]))
        else:
            for ds in _spread_sets(weekdays, per_week + 1):
                # the extra weekday is each member of the set in turn: the rest every week
                for j in range(len(ds)):
                    rest = ds[:j] + ds[j + 1 :]
                    base = mask([(w, d) for w in range(1, weeks + 1) for d in rest])
                    for ws in _spaced_weeks(extra, weeks):
                        out.append(base | mask([(w, ds[j]) for w in ws]))
    return tuple(dict.fromkeys(out))  # unique, in order


def _popcount(mask: int) -> int:
    return bin(mask).count("1")


def day_ordinals(period: PeriodParams) -> tuple[int, ...]:
    """Calendar days from the period's first day to each day index (the order of the dates).

    With a start date that is not the first of ``period.days`` (a Wednesday start of a
    mon..fri period), index order and date order differ; this is the date order.
    """
    first = period.start_date.weekday() if period.start_date is not None else 0
    return tuple(
        (WEEKDAYS.index(period.days[d % len(period.days)]) - first) % 7
        + 7 * (d // len(period.days))
        for d in range(period.working_days)
    )


def _nearest(day: int, days: Sequence[int], ordinal: Sequence[int]) -> int:
    """The member of ``days`` nearest to ``day`` in calendar days (the earlier on a tie)."""
    return min(days, key=lambda d: (abs(ordinal[d] - ordinal[day]), ordinal[d]))


#: A fixed day (an appointment, a visit made) takes the place of a pattern's day at most this
#: many calendar days away, so the other visits keep their spacing; only when no pattern has
#: such a day does it take the nearest day wherever it is.
MAX_FIXED_SHIFT_DAYS = 3


def _force_fixed(pattern: int, fixed: int, ordinal: Sequence[int], reach: int | None) -> int | None:
    """``pattern`` with every fixed day in place of the nearest day that is not fixed (None
    when that day is more than ``reach`` calendar days away)."""
    for f in pattern_days(fixed & ~pattern):
        movable = [d for d in pattern_days(pattern) if not (fixed >> d) & 1]
        if not movable:
            break
        near = _nearest(f, movable, ordinal)
        if reach is not None and abs(ordinal[near] - ordinal[f]) > reach:
            return None
        pattern = (pattern & ~(1 << near)) | (1 << f)
    return pattern


#: At most this many variants of one pattern when its blocked days move (two choices each).
MAX_SHIFT_VARIANTS = 16


def _shift_blocked(
    pattern: int, blocked: int, free: Sequence[int], ordinal: Sequence[int]
) -> list[int]:
    """Variants of ``pattern`` with each visit on a blocked day moved to the nearest free day
    before it or after it (``free`` in date order); [] when a visit has nowhere to go."""
    todo = pattern_days(pattern & blocked)
    variants = [pattern & ~blocked]
    for b in todo:
        grown: list[int] = []
        for v in variants:
            for c in _neighbours(b, v, free, ordinal):
                grown.append(v | (1 << c))
        variants = list(dict.fromkeys(grown))[:MAX_SHIFT_VARIANTS]
        if not variants:
            return []
    return variants


def _neighbours(b: int, pattern: int, free: Sequence[int], ordinal: Sequence[int]) -> list[int]:
    """The free day nearest before ``b`` and nearest after it that ``pattern`` does not use,
    within ``b``'s week when that has one, each preferring one not next to another visit of
    the pattern (within a week)."""
    taken = [ordinal[d] for d in pattern_days(pattern)]
    week = ordinal[b] // 7  # the period week (ordinals count from the start date)
    same_week = [d for d in free if ordinal[d] // 7 == week and not (pattern >> d) & 1]
    if same_week:  # stay in the visit's week where it can
        free = same_week
    out = []
    for side in (-1, 1):
        options = [
            d for d in free if (ordinal[d] - ordinal[b]) * side > 0 and not (pattern >> d) & 1
        ]
        options.sort(key=lambda d: abs(ordinal[d] - ordinal[b]))
        if not options:
            continue
        spaced = [
            d
            for d in options
            if abs(ordinal[d] - ordinal[b]) <= 7 and all(abs(ordinal[d] - t) >= 2 for t in taken)
        ]
        out.append(spaced[0] if spaced else options[0])
    return out


def pattern_problem(customer: Customer, rep: Rep, config: Config) -> str:
    """Why ``customer`` has no visit pattern with ``rep`` ("" when it has one)."""
    rep_days = rep_weekdays(rep, config)
    usable = usable_weekdays(customer, rep, config)
    if not rep_days:
        return (
            f"rep {rep.id} has no working day in the period (days {','.join(rep.days)}; "
            f"the period works {','.join(config.period.days)})"
        )
    if not usable:
        return (
            f"allowed days {','.join(customer.days)} are not working days of rep {rep.id} "
            f"({','.join(rep_days) or 'none'})"
        )
    blocked = blocked_mask(rep, config)
    if not customer_patterns(customer.visits, usable, config.period, blocked=blocked):
        available = len(usable) * config.period.weeks
        off = sum(1 for d in pattern_days(blocked) if day_of_index(d, config.period)[1] in usable)
        less = f", less {off} days of holidays and absence" if off else ""
        return (
            f"{customer.visits} visits per period cannot be spread over the {available - off} "
            f"usable days ({','.join(usable)} in {config.period.weeks} weeks{less})"
        )
    return ""


def window_problem(customer: Customer, day_start_min: int, day_end_min: int) -> str:
    """Why the customer's opening hours cannot hold a visit within the working day ("" if fine)."""
    if customer.open_min is None and customer.close_min is None:
        return ""
    open_min = customer.open_min if customer.open_min is not None else 0
    close_min = customer.close_min if customer.close_min is not None else 24 * 60
    visit = customer.visit_minutes
    if close_min - open_min < visit:
        return (
            f"window {format_hhmm(open_min)}-{format_hhmm(close_min)} shorter than the "
            f"{visit:g}-minute visit"
        )
    lo, hi = max(open_min, day_start_min), min(close_min, day_end_min)
    if hi - lo < visit:
        return (
            f"window {format_hhmm(open_min)}-{format_hhmm(close_min)} leaves no room for the "
            f"{visit:g}-minute visit within the working day "
            f"{format_hhmm(day_start_min)}-{format_hhmm(day_end_min)}"
        )
    return ""


@dataclass(frozen=True)
class PetalInput:
    """What the petal construction needs for one territory (plain arrays, minutes).

    Attributes
    ----------
    lat, lon
        Customer positions (degrees), aligned with ``patterns``.
    home_lat, home_lon
        The rep's home.
    patterns
        Allowed bitmasks per customer (empty tuple = not plannable).
    load_min
        Minutes one visit of each customer costs a day (visit + a travel estimate).
    days_per_week, weeks
        Shape of the period (``days_per_week`` = len(period.days)).
    day_capacity_min
        Minutes a day can hold (day length - lunch - admin).
    working_days
        Day indices the rep works (others get no load).
    """

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    home_lat: float
    home_lon: float
    patterns: tuple[tuple[int, ...], ...]
    load_min: NDArray[np.float64]
    days_per_week: int
    weeks: int
    day_capacity_min: float
    working_days: tuple[int, ...]


def sweep_position(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    home_lat: float,
    home_lon: float,
    weight: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Each customer's position in the angular sweep around home, as a load fraction in [0, 1).

    Customers are ordered by angle around the home, starting just after the widest empty
    angle (so no sector straddles an empty gap), and placed at the midpoint of their share of
    the cumulative ``weight``: equal-load sectors are then equal intervals of this position.
    """
    n = len(lat)
    if n == 0:
        return np.zeros(0)
    xy = project_km(np.append(lat, home_lat), np.append(lon, home_lon))
    d = xy[:n] - xy[n]
    angle = np.mod(np.arctan2(d[:, 1], d[:, 0]), 2 * np.pi)
    order = np.lexsort((np.arange(n), angle))
    a = angle[order]
    gaps = np.diff(np.append(a, a[0] + 2 * np.pi))
    start = (int(np.argmax(gaps)) + 1) % n
    order = np.roll(order, -start)
    w = np.maximum(weight[order], 1e-9)
    cum = np.cumsum(w)
    mid = (cum - w / 2) / cum[-1]
    pos = np.empty(n)
    pos[order] = mid
    return pos


def petal_patterns(inp: PetalInput) -> tuple[int, ...]:
    """Initial pattern per customer: days grown as petals (sectors) around the rep's home.

    Each working weekday owns one sector of equal load of the angular sweep around the home,
    split again into one sub-sector per week; a customer's pattern costs the distance (in sweep
    position) from the customer to the sectors of its days, plus a heavy penalty for every
    minute a day would run over ``day_capacity_min``. Customers are placed greedily, the least
    flexible first (fewest patterns, then most visits), each on its cheapest pattern. The
    result seeds the periodic engine, which judges patterns on real route costs.

    Returns
    -------
    tuple of int
        A pattern per customer, 0 for customers without patterns.
    """
    n = len(inp.patterns)
    out = [0] * n
    if n == 0:
        return tuple(out)
    n_days = inp.days_per_week * inp.weeks
    visits = np.array([bin(p[0]).count("1") if p else 0 for p in inp.patterns], dtype=np.float64)
    pos = sweep_position(inp.lat, inp.lon, inp.home_lat, inp.home_lon, inp.load_min * visits)
    working_weekdays = sorted({d % inp.days_per_week for d in inp.working_days})
    n_sectors = max(len(working_weekdays), 1)
    sector_of_weekday = {wd: k for k, wd in enumerate(working_weekdays)}
    # Sector interval per day, and the week sub-sector inside it.
    lo = np.zeros(n_days)
    hi = np.zeros(n_days)
    sub_lo = np.zeros(n_days)
    sub_hi = np.zeros(n_days)
    for d in range(n_days):
        week, wd = divmod(d, inp.days_per_week)
        k = sector_of_weekday.get(wd, 0)
        lo[d], hi[d] = k / n_sectors, (k + 1) / n_sectors
        width = (hi[d] - lo[d]) / inp.weeks
        sub_lo[d], sub_hi[d] = lo[d] + week * width, lo[d] + (week + 1) * width

    def interval_distance(
        p: float, a: NDArray[np.float64], b: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        inside = (p >= a) & (p < b)
        dist = np.minimum(np.abs(p - a), np.abs(p - b))
        dist = np.minimum(dist, 1.0 - dist)  # the sweep is a circle
        return np.where(inside, 0.0, dist)

    load = np.zeros(n_days)
    cap = inp.day_capacity_min
    order = sorted(range(n), key=lambda i: (len(inp.patterns[i]) or 10**9, -visits[i], pos[i], i))
    for i in order:
        pats = inp.patterns[i]
        if not pats:
            continue
        day_cost = interval_distance(pos[i], lo, hi) + 0.25 * interval_distance(
            pos[i], sub_lo, sub_hi
        )
        li = float(inp.load_min[i])
        best, best_cost = pats[0], math.inf
        for p in pats:
            days = list(pattern_days(p))
            over = np.maximum(load[days] + li - cap, 0.0) - np.maximum(load[days] - cap, 0.0)
            # one minute over capacity weighs as much as a whole sector of detour
            cost = float(day_cost[days].sum()) + float(over.sum()) + 1e-6 * float(load[days].sum())
            if cost < best_cost - 1e-12:
                best, best_cost = p, cost
        out[i] = best
        load[list(pattern_days(best))] += li
    return tuple(out)
