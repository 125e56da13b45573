"""Travel stage, source ``matrix``: travel times the user already has, from a long CSV/XLSX.

One row per leg: ``from_id,to_id,minutes[,km]`` over customer and rep ids (Dutch headers and
Excel's semicolons and decimal commas accepted, as in the other input files). A leg the file
lacks is taken from the opposite direction when the file has that one, else estimated with the
straight-line model fitted to the file's own legs (:mod:`territory.calibrate`); the run
reports how many pairs were estimated. Without a km column every km is estimated.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .calibrate import StraightLine, fit_affine
from .exceptions import InputError
from .load import _map_columns, _raise, _Row, read_table
from .params import TravelParams
from .travel import Legs, Points, haversine_km

log = logging.getLogger(__name__)

MATRIX_ALIASES: dict[str, tuple[str, ...]] = {
    "from_id": ("from_id", "from", "origin", "van", "van_id", "vanaf"),
    "to_id": ("to_id", "to", "destination", "naar", "naar_id"),
    "minutes": ("minutes", "min", "minuten", "duration_min", "reistijd", "reistijd_min"),
    "km": ("km", "distance_km", "afstand", "afstand_km", "kilometers"),
}


class MatrixTravel:
    """Legs looked up in a travel-time file by the places' ids (see the module notes)."""

    def __init__(
        self,
        path: Path,
        digest: str,
        ids: list[str],
        *,
        codes: NDArray[np.int64],
        minutes: NDArray[np.float64],
        km: NDArray[np.float64] | None,
        fit: StraightLine,
    ) -> None:
        self.path, self.digest = path, digest
        self.index = {ident: k for k, ident in enumerate(ids)}
        self.n = len(ids)
        order = np.argsort(codes, kind="stable")
        self.codes, self.minutes = codes[order], minutes[order]
        self.km = None if km is None else km[order]
        self.fit = fit
        self.estimated: set[int] = set()
        self.mirrored: set[int] = set()
        self.without_id = 0

    @property
    def source(self) -> str:
        """Always ``matrix``."""
        return "matrix"

    def _index(self, p: Points) -> NDArray[np.int64]:
        if p.ids is None:
            return np.full(len(p), -1, dtype=np.int64)
        get = self.index.get
        return np.fromiter((get(str(i), -1) for i in p.ids), dtype=np.int64, count=len(p))

    def _find(self, code: NDArray[np.int64]) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        pos = np.searchsorted(self.codes, code)
        pos = np.minimum(pos, max(len(self.codes) - 1, 0))
        found = (self.codes[pos] == code) if len(self.codes) else np.zeros(len(code), dtype=bool)
        return pos, found

    def _lookup(self, ia: NDArray[np.int64], ib: NDArray[np.int64], a: Points, b: Points) -> Legs:
        """Legs for flat arrays of id positions (-1: no id) and the matching points."""
        known = (ia >= 0) & (ib >= 0)
        code = np.where(known, ia * self.n + ib, -1)
        back = np.where(known, ib * self.n + ia, -1)
        pos, found = self._find(code)
        pos_b, found_b = self._find(back)
        found &= known
        mirror = known & ~found & found_b
        use = np.where(found, pos, pos_b)
        crow_km = haversine_km(a.lat, a.lon, b.lat, b.lon)
        same = (ia == ib) & (ia >= 0)
        est = ~(found | mirror | same)
        minutes = np.where(found | mirror, self.minutes[use], self.fit.minutes(crow_km))
        km_est = self.fit.km(crow_km)
        km = km_est if self.km is None else np.where(found | mirror, self.km[use], km_est)
        minutes = np.where(same, 0.0, minutes)
        km = np.where(same, 0.0, km)
        self.mirrored.update(code[mirror].tolist())
        est_known = est & known
        self.estimated.update(code[est_known].tolist())
        self.without_id += int(np.sum(est & ~known & (crow_km > 0)))
        return Legs(np.asarray(km, dtype=np.float64), np.asarray(minutes, dtype=np.float64))

    def pairs(self, a: Points, b: Points) -> Legs:
        """Travel from ``a[i]`` to ``b[i]`` (one side may have length 1)."""
        a, b = a.paired(b)
        return self._lookup(self._index(a), self._index(b), a, b)

    def matrix(self, a: Points, b: Points | None = None) -> Legs:
        """|a| x |b| legs."""
        b = a if b is None else b
        ia, ib = self._index(a), self._index(b)
        ra = np.repeat(np.arange(len(a)), len(b))
        rb = np.tile(np.arange(len(b)), len(a))
        legs = self._lookup(ia[ra], ib[rb], a.take(ra), b.take(rb))
        shape = (len(a), len(b))
        return Legs(legs.km.reshape(shape), legs.minutes.reshape(shape))

    def paths(self, a: Points, b: Points) -> None:
        """No road geometry: the maps draw straight lines between stops."""
        return None

    def describe(self) -> dict[str, Any]:
        """Source, file and hash, its legs, the fit for missing pairs, and how many were estimated."""
        return {
            "source": "matrix",
            "file": str(self.path),
            "sha256": self.digest,
            "pairs_in_file": len(self.codes),
            "km_in_file": self.km is not None,
            "pairs_mirrored": len(self.mirrored),
            "pairs_estimated": len(self.estimated),
            "legs_estimated_without_id": self.without_id,
            "estimate": {
                "speed_kmh": round(self.fit.speed_kmh, 1),
                "circuity": round(self.fit.circuity, 3),
                "fixed_minutes": round(self.fit.fixed_minutes, 1),
            },
        }


def _read_rows(
    path: Path, known: dict[str, int]
) -> tuple[list[int], list[int], list[float], list[float] | None]:
    """The file's legs as id positions, minutes and km; every bad row is one problem line."""
    table = read_table(path)
    columns = _map_columns(table, MATRIX_ALIASES, required=("from_id", "to_id", "minutes"))
    has_km = "km" in columns
    problems: list[str] = []
    fr: list[int] = []
    to: list[int] = []
    mins: list[float] = []
    kms: list[float] = []
    seen: dict[tuple[int, int], int] = {}
    for number, values in table.rows:
        row = _Row(table, columns, number, values, problems)
        ends = []
        for name in ("from_id", "to_id"):
            ident = row.text(name)
            if ident not in known:
                row.problem(
                    name, row.raw(name), "is not a customer or rep id of this run; check the ids"
                )
            ends.append(known.get(ident, -1))
        minutes = row.number_or_none("minutes", "give the driving minutes, e.g. 12.5")
        if minutes is None and row.ok():
            problems.append(f"{row.where('minutes')}: is empty; give the driving minutes")
        elif minutes is not None and minutes < 0:
            row.problem("minutes", row.raw("minutes"), "is negative; give minutes of 0 or more")
        km = row.number_or_none("km", "give road km, e.g. 8.4") if has_km else None
        if km is not None and km < 0:
            row.problem("km", row.raw("km"), "is negative; give km of 0 or more")
        if not row.ok():
            continue
        key = (ends[0], ends[1])
        if key in seen:
            problems.append(
                f"{table.source}, row {number}: the leg '{row.text('from_id')}' -> "
                f"'{row.text('to_id')}' is also on row {seen[key]}; give each leg once"
            )
            continue
        seen[key] = number
        fr.append(ends[0])
        to.append(ends[1])
        mins.append(float(minutes or 0.0))
        kms.append(float("nan") if km is None else km)
    _raise(problems, table.source, "travel-time file")
    return fr, to, mins, (kms if has_km else None)


def matrix_travel(params: TravelParams, places: Points | None) -> MatrixTravel:
    """The ``matrix`` source of ``params.matrix`` over the run's places (ids must be known).

    Raises
    ------
    InputError
        Missing or unreadable file, ids that are no customer or rep of the run, negative or
        non-numeric minutes or km, a leg given twice (one line each).
    """
    from .roads import sha256_file

    path = Path(str(params.matrix))
    if places is None or places.ids is None:
        raise InputError(f"{path}: the matrix source needs the run's customer and rep ids")
    ids = [str(i) for i in places.ids]
    known: dict[str, int] = {}
    for k, ident in enumerate(ids):
        known.setdefault(ident, k)
    if len(known) < len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise InputError(
            f"{path}: the ids {', '.join(repr(d) for d in dup)} name both a customer and a rep; "
            "the matrix source needs ids that are unique over customers and reps"
        )
    fr, to, mins, kms = _read_rows(path, known)
    fa, ta = np.array(fr, dtype=np.int64), np.array(to, dtype=np.int64)
    minutes = np.array(mins, dtype=np.float64)
    km = None if kms is None else np.array(kms, dtype=np.float64)
    if km is not None and np.isnan(km).any():  # rows without km: estimated like missing legs
        km = None
        log.info("%s: some rows have no km; every km is estimated", path)
    crow_km = haversine_km(places.lat[fa], places.lon[fa], places.lat[ta], places.lon[ta])
    try:
        fit = fit_affine(crow_km, km, minutes)
    except InputError:  # too few legs to fit: today's settings estimate the rest
        fit = StraightLine(params.speed_kmh, params.circuity, params.fixed_minutes)
    return MatrixTravel(
        path, sha256_file(path), ids, codes=fa * len(ids) + ta, minutes=minutes, km=km, fit=fit
    )
