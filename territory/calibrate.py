"""Travel stage, calibration: how wrong the straight line is on the user's own roads.

``territory calibrate`` asks a road source (osm, osrm or matrix) for a sample of legs between
the run's customers and homes, fits the straight-line model to them and prints the per-leg
error of today's settings and of the fit, with the ``[travel]`` lines to paste. The matrix
source uses the same fit to estimate the pairs its file lacks.

Two forms are fitted to the minutes, both on great-circle km ``d``:

- *proportional*: minutes = ``a x d`` with ``a`` the median of minutes / d over the legs
  (robust to the few legs that cross water or take a ferry); circuity is the median of road km
  / d, and the speed follows as ``circuity x 60 / a`` (the config's ``speed_kmh``, ``circuity``);
- *affine*: minutes = ``b0 + b1 x d`` by least squares on relative errors (weights 1/minutes),
  so short legs count as much as long ones; ``b0`` is ``fixed_minutes`` (parking, leaving town),
  the speed ``circuity x 60 / b1``.

The error of a leg is |predicted - road minutes| / road minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .exceptions import InputError
from .params import TravelParams
from .travel import Points, TravelModel, haversine_km, minutes_for_km

#: Legs shorter than this (straight-line km) say nothing about speed: left out of the fits.
MIN_FIT_KM = 0.2


@dataclass(frozen=True)
class StraightLine:
    """A straight-line model: minutes = fixed_minutes + d x circuity / speed_kmh x 60."""

    speed_kmh: float
    circuity: float
    fixed_minutes: float = 0.0

    def minutes(self, crow_km: NDArray[np.float64]) -> NDArray[np.float64]:
        """Predicted minutes for great-circle km (0 stays 0)."""
        m: NDArray[np.float64] = crow_km * self.circuity / self.speed_kmh * 60.0
        return np.where(crow_km > 0, m + self.fixed_minutes, 0.0)

    def km(self, crow_km: NDArray[np.float64]) -> NDArray[np.float64]:
        """Predicted road km."""
        return crow_km * self.circuity

    def toml(self) -> str:
        """The ``[travel]`` lines for plan.toml."""
        lines = ["[travel]", f"speed_kmh = {self.speed_kmh:.1f}", f"circuity = {self.circuity:.3f}"]
        if self.fixed_minutes:
            lines.append(f"fixed_minutes = {self.fixed_minutes:.1f}")
        return "\n".join(lines)


@dataclass(frozen=True)
class LegErrors:
    """Relative per-leg error of a model's minutes: median, 90th percentile, max."""

    median: float
    p90: float
    max: float

    @classmethod
    def of(cls, predicted: NDArray[np.float64], minutes: NDArray[np.float64]) -> LegErrors:
        """The errors of ``predicted`` against the road ``minutes`` (legs > 0 min)."""
        ok = minutes > 0
        e = np.abs(predicted[ok] - minutes[ok]) / minutes[ok]
        if not e.size:
            return cls(0.0, 0.0, 0.0)
        return cls(float(np.median(e)), float(np.percentile(e, 90)), float(e.max()))


def _fit_legs(crow_km: NDArray[np.float64], minutes: NDArray[np.float64]) -> NDArray[np.bool_]:
    """The legs a fit uses (longer than ``MIN_FIT_KM``, with a time); at least 3 of them."""
    ok = (crow_km >= MIN_FIT_KM) & (minutes > 0)
    if ok.sum() < 3:
        raise InputError(
            "too few legs to fit (need at least 3 longer than 200 m); give more places"
        )
    return ok


def fit_proportional(
    crow_km: NDArray[np.float64], road_km: NDArray[np.float64] | None, minutes: NDArray[np.float64]
) -> StraightLine:
    """minutes = a x d (a: median minutes per straight-line km); circuity: median road/crow."""
    ok = _fit_legs(crow_km, minutes)
    a = float(np.median(minutes[ok] / crow_km[ok]))
    circuity = _circuity(crow_km, road_km, ok)
    return StraightLine(_clip_speed(circuity * 60.0 / a), circuity)


def fit_affine(
    crow_km: NDArray[np.float64], road_km: NDArray[np.float64] | None, minutes: NDArray[np.float64]
) -> StraightLine:
    """minutes = b0 + b1 x d, least squares on relative errors; b0 clipped to 0..60."""
    ok = _fit_legs(crow_km, minutes)
    d, y = crow_km[ok], minutes[ok]
    x = np.column_stack([np.ones_like(d), d]) / y[:, None]
    b0, b1 = np.linalg.lstsq(x, np.ones_like(y), rcond=None)[0]
    b0 = float(np.clip(b0, 0.0, 60.0))
    if b1 <= 0:
        return fit_proportional(crow_km, road_km, minutes)
    circuity = _circuity(crow_km, road_km, ok)
    return StraightLine(_clip_speed(circuity * 60.0 / float(b1)), circuity, round(b0, 1))


def _circuity(
    crow_km: NDArray[np.float64], road_km: NDArray[np.float64] | None, ok: NDArray[np.bool_]
) -> float:
    if road_km is None or not np.any(ok & (road_km > 0)):
        return 1.3
    sel = ok & (road_km > 0)
    return float(np.clip(np.median(road_km[sel] / crow_km[sel]), 1.0, 3.0))


def _clip_speed(kmh: float) -> float:
    return float(np.clip(kmh, 5.0, 200.0))


@dataclass(frozen=True)
class Calibration:
    """The straight-line model against a road source on a sample of legs."""

    source: str
    legs: int
    ratio: dict[str, float]  # road km / straight-line km: p10, median, p90, max
    speed_kmh: dict[str, float]  # road km / hour: median, median under 30 km
    today: StraightLine
    today_errors: LegErrors
    proportional: StraightLine
    proportional_errors: LegErrors
    affine: StraightLine
    affine_errors: LegErrors

    @property
    def best(self) -> StraightLine:
        """The fitted form with the lower median error (ties: the simpler one)."""
        if self.affine_errors.median < self.proportional_errors.median - 0.005:
            return self.affine
        return self.proportional

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``calibrate --json``)."""

        def form(m: StraightLine, e: LegErrors) -> dict[str, Any]:
            return {
                "speed_kmh": round(m.speed_kmh, 1),
                "circuity": round(m.circuity, 3),
                "fixed_minutes": round(m.fixed_minutes, 1),
                "error_median": round(e.median, 4),
                "error_p90": round(e.p90, 4),
                "error_max": round(e.max, 4),
            }

        return {
            "source": self.source,
            "legs": self.legs,
            "road_over_straight_km": {k: round(v, 3) for k, v in self.ratio.items()},
            "road_speed_kmh": {k: round(v, 1) for k, v in self.speed_kmh.items()},
            "today": form(self.today, self.today_errors),
            "proportional": form(self.proportional, self.proportional_errors),
            "affine": form(self.affine, self.affine_errors),
            "toml": self.best.toml(),
        }


def sample_pairs(n: int, sample: int, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Every ordered pair of ``n`` places when there are at most ``sample``, else ``sample``
    distinct random ones (seeded)."""
    if n < 2:
        raise InputError("calibrate needs at least two places (customers and homes)")
    total = n * (n - 1)
    if total <= sample:
        i, j = np.nonzero(~np.eye(n, dtype=bool))
        return i.astype(np.intp), j.astype(np.intp)
    rng = np.random.default_rng(seed)
    codes = rng.choice(total, size=sample, replace=False)
    codes.sort()
    i = codes // (n - 1)
    j = codes % (n - 1)
    j = j + (j >= i)
    return i.astype(np.intp), j.astype(np.intp)


def calibrate(
    places: Points, travel: TravelModel, params: TravelParams, *, sample: int = 5000, seed: int = 0
) -> Calibration:
    """Ask ``travel`` for a sample of legs between ``places`` and fit the straight line to them.

    Raises
    ------
    InputError
        ``travel`` is the straight-line model itself, or there are too few places.
    """
    if travel.source == "crow":
        raise InputError(
            'calibrate needs a road source: set [travel] source = "osm", "osrm" or "matrix" '
            "(or give --osm FILE, --osrm URL or --matrix FILE)"
        )
    i, j = sample_pairs(len(places), sample, seed)
    a, b = places.take(i), places.take(j)
    legs = travel.pairs(a, b)
    crow_km = haversine_km(a.lat, a.lon, b.lat, b.lon)
    minutes, road_km = np.asarray(legs.minutes), np.asarray(legs.km)
    ok = (crow_km >= MIN_FIT_KM) & (minutes > 0) & (road_km > 0)
    ratio = road_km[ok] / crow_km[ok]
    speed = road_km[ok] / (minutes[ok] / 60.0)
    short = crow_km[ok] < 30
    today = StraightLine(params.speed_kmh, params.circuity, params.fixed_minutes)
    prop = fit_proportional(crow_km, road_km, minutes)
    aff = fit_affine(crow_km, road_km, minutes)
    return Calibration(
        source=travel.source,
        legs=len(i),
        ratio={
            "p10": float(np.percentile(ratio, 10)),
            "median": float(np.median(ratio)),
            "p90": float(np.percentile(ratio, 90)),
            "max": float(ratio.max()),
        },
        speed_kmh={
            "median": float(np.median(speed)),
            "median_under_30_km": float(np.median(speed[short])) if short.any() else float("nan"),
        },
        today=today,
        today_errors=LegErrors.of(minutes_for_km(crow_km * params.circuity, params), minutes),
        proportional=prop,
        proportional_errors=LegErrors.of(prop.minutes(crow_km), minutes),
        affine=aff,
        affine_errors=LegErrors.of(aff.minutes(crow_km), minutes),
    )


def format_calibration(c: Calibration) -> str:
    """The calibration as the text ``territory calibrate`` prints."""

    def row(name: str, m: StraightLine, e: LegErrors) -> str:
        fixed = f"{m.fixed_minutes:>6.1f}" if m.fixed_minutes else f"{'':>6}"
        return (
            f"  {name:<22}{m.speed_kmh:>7.1f}{m.circuity:>7.3f}{fixed}"
            f"{e.median:>9.1%}{e.p90:>8.1%}{e.max:>8.1%}"
        )

    r, s = c.ratio, c.speed_kmh
    lines = [
        f"Straight line against the {c.source} source on {c.legs:,} legs",
        "",
        f"  road km / straight-line km: median {r['median']:.2f}, p10 {r['p10']:.2f}, "
        f"p90 {r['p90']:.2f}, max {r['max']:.2f}",
        f"  road speed: median {s['median']:.0f} km/h, "
        f"{s['median_under_30_km']:.0f} km/h on legs under 30 km",
        "",
        f"  {'model':<22}{'km/h':>7}{'circ.':>7}{'fixed':>6}{'median':>9}{'p90':>8}{'max':>8}"
        "   (error of a leg's minutes)",
        row("today's settings", c.today, c.today_errors),
        row("fitted, proportional", c.proportional, c.proportional_errors),
        row("fitted, affine", c.affine, c.affine_errors),
        "",
        "Paste into plan.toml to plan on the fitted straight line without a road source:",
        "",
        c.best.toml(),
    ]
    return "\n".join(lines)
