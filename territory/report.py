"""Outputs: the plan folder's CSV, GeoJSON and JSON files, written atomically."""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .columns import ROUTE_PROPERTIES, Table, day_label
from .columns import Column as C
from .exceptions import InputError
from .models import Customer, DayRoute, Design, Plan, Rep
from .params import Config, format_hhmm
from .travel import Points, TravelModel, haversine_km
from .workload import CustomerWorkload, rep_admin_min, rep_capacity_min


def cell(value: Any) -> str:
    """One CSV cell: booleans as true/false, floats without float noise, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return ""
        return repr(round(v, 6)) if v != int(v) or abs(v) >= 1e15 else str(int(v))
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV table (comma, UTF-8, header row) as text.

    Cells are values, written as they are (quoted where CSV needs it): a name such as
    ``=HYPERLINK(...)`` stays that text, so ids round-trip through the files. Spreadsheet
    users get plan.xlsx, where every text is a text cell.

    Raises
    ------
    KeyError
        When a row lacks one of ``columns`` (a writer out of step with the schema).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([cell(row[c]) for c in columns])
    return buf.getvalue()


def write_table(folder: Path, table: Table, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write one plan-folder table (``folder / table.file``) as CSV; returns its path."""
    path = folder / table.file
    write_text(path, csv_text(table.columns, rows))
    return path


def json_text(data: Any) -> str:
    """Stable, human-readable JSON (sorted keys would reorder tables; insertion order is kept)."""
    return json.dumps(_plain(data), indent=2, ensure_ascii=False) + "\n"


def _plain(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_plain(v) for v in x.tolist()]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating | float):
        v = float(x)
        return None if math.isnan(v) else round(v, 6)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (inputs are fingerprinted in summary.json)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: The only output values that may differ between two runs on the same inputs and seed, per
#: file (top-level JSON keys): everything else is byte-identical. The writer uses these names
#: and the determinism test skips exactly these.
RUNTIME_FIELD = "runtime_s"
VOLATILE_FIELDS: dict[str, tuple[str, ...]] = {"summary.json": (RUNTIME_FIELD,)}


def comparable(name: str, data: bytes) -> bytes:
    """An output file's bytes without the fields in ``VOLATILE_FIELDS`` (for comparing runs)."""
    volatile = VOLATILE_FIELDS.get(name)
    if not volatile:
        return data
    parsed = json.loads(data)
    for key in volatile:
        if key not in parsed:
            raise KeyError(f"{name} has no volatile field {key!r} any more")
        parsed.pop(key)
    return json.dumps(parsed).encode()


#: Files a run of this tool writes into a plan folder (plus ``reps/<rep>.html`` and
#: ``calendars/<rep>.ics``); ``edit.html``
#: (``territory edit``) belongs to one split, so a new run into the folder removes it.
PLAN_FOLDER_FILES = (
    "assignments.csv", "territories.csv", "territories.geojson", "schedule.csv", "days.csv",
    "unscheduled.csv", "routes.geojson", "summary.json", "map.html", "report.html", "plan.xlsx",
    "edit.html", "changes.csv",
    "economics.csv", "customer_economics.csv", "phone_customers.csv",
)  # fmt: skip


def _existing_ancestor(path: Path) -> Path:
    """The nearest folder on the way up from ``path`` that exists (``path`` itself if it does)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def check_output_dir(out_dir: str | Path) -> None:
    """Refuse an output folder that cannot be written, before any long computation.

    Accepted: an existing writable folder, or a new path whose nearest existing parent is a
    writable folder (missing folders on the way are created on success).

    Raises
    ------
    InputError
        ``out_dir`` is an existing file, or the folder (or the parent it would be created in)
        is not writable.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(
            f"--out {out_dir}: is an existing file, not a folder; give a folder path "
            "(it is created if needed)"
        )
    base = _existing_ancestor(out.absolute())
    if not base.is_dir():
        raise InputError(
            f"--out {out_dir}: '{base}' is a file, so no folder can be created under it; "
            "give another folder path"
        )
    if not os.access(base, os.W_OK | os.X_OK):
        what = "the folder" if base == out.absolute() else f"'{base}', where it would be created,"
        raise InputError(
            f"--out {out_dir}: {what} is not writable (permission denied); choose a folder "
            "you can write to"
        )


def staging_base(out: Path) -> Path:
    """Where to stage a run's files: beside ``out`` (same file system), else inside it.

    Beside it when the folder that holds (or will hold) ``out`` is writable; inside an existing
    ``out`` whose parent is not writable (a home folder under a read-only ``/home``, say).
    """
    base = _existing_ancestor(out.parent)
    if out.is_dir() and not os.access(base, os.W_OK | os.X_OK):
        return out
    return base


def _umask_dir_mode() -> int:
    """The mode a plain ``mkdir`` would give (``mkdtemp`` makes 0700 folders)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


#: A staging folder older than this was left by a run that was killed (SIGKILL, power loss):
#: no run stages for that long (staging starts once the plan is computed).
STALE_STAGE_S = 24 * 3600


def _remove_stale_stages(base: Path, name: str) -> None:
    """Remove ``.territory-<name>-*`` staging folders a killed run left in ``base``."""
    now = time.time()
    for old in base.glob(f".territory-{glob.escape(name)}-*"):
        try:
            if old.is_dir() and not old.is_symlink() and now - old.stat().st_mtime > STALE_STAGE_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # gone meanwhile, or not ours to read: leave it
            continue


@contextmanager
def atomic_output(out_dir: str | Path) -> Iterator[Path]:
    """Write a run's files into a staging folder; move them into ``out_dir`` only on success.

    The staging folder is a hidden sibling of ``out_dir`` (same file system, so moves are
    renames). If anything fails inside the block, ``out_dir`` is left exactly as it was: a
    folder that did not exist is not created, an earlier run's folder keeps its files. A new
    folder is moved into place in one rename; into an existing folder the files are replaced
    one by one with ``os.replace`` (atomic per file), and plan-folder files of an earlier run
    that this run did not write (a ``schedule.csv`` under a new design, the map of a rep who
    left) are removed, so the folder never mixes two runs.

    Raises
    ------
    InputError
        ``out_dir`` cannot be written (see :func:`check_output_dir`).
    """
    out = Path(out_dir).resolve()  # a symlinked folder: stage beside its target (same disk)
    check_output_dir(out_dir)
    base = staging_base(out)
    _remove_stale_stages(base, out.name)
    stage = Path(tempfile.mkdtemp(prefix=f".territory-{out.name}-", dir=base))
    try:
        yield stage
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(stage, _umask_dir_mode())
            for sub in stage.rglob("*"):
                if sub.is_dir():
                    os.chmod(sub, _umask_dir_mode())
            try:
                os.rename(stage, out)
                return
            except OSError:  # created in the meantime: move the files in one by one
                out.mkdir(parents=True, exist_ok=True)
        written = {src.relative_to(stage) for src in stage.rglob("*") if src.is_file()}
        for rel in sorted(written):
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / rel, dst)
        ours = [out / name for name in PLAN_FOLDER_FILES] + sorted((out / "reps").glob("*.html"))
        ours += sorted((out / "calendars").glob("*.ics"))
        for path in ours:
            if path.is_file() and path.relative_to(out) not in written:
                path.unlink()
    finally:
        shutil.rmtree(stage, ignore_errors=True)


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class TerritoryFigures:
    """Per-territory figures in minutes (design estimate or routed), aligned with rep_ids."""

    visit_min: NDArray[np.float64]
    travel_min: NDArray[np.float64]
    travel_km: NDArray[np.float64]
    admin_min: NDArray[np.float64]
    capacity_min: NDArray[np.float64]

    @property
    def workload_min(self) -> NDArray[np.float64]:
        """Visits + travel + admin."""
        total: NDArray[np.float64] = self.visit_min + self.travel_min + self.admin_min
        return total


def team_reps(design: Design, reps: Sequence[Rep] | None) -> list[Rep]:
    """The reps in design order; free-centre designs get stand-in reps at their centres."""
    if reps:
        by_id = {r.id: r for r in reps}
        return [by_id[r] for r in design.rep_ids]
    from .geocode import nearest_place

    team = []
    for rid, (lat, lon) in zip(design.rep_ids, design.centres, strict=True):
        place = nearest_place(lat, lon)
        name = f"centre near {place.name}" if place else "centre"
        team.append(Rep(id=rid, lat=lat, lon=lon, name=name, located="centre"))
    return team


def estimated_figures(
    design: Design, team: Sequence[Rep], workload: CustomerWorkload, config: Config
) -> TerritoryFigures:
    """Design-stage figures: visits x minutes and the travel allowance of ``territory size``."""
    k = len(design.rep_ids)
    a = np.asarray(design.assignment, dtype=np.int64)
    # bincount with weights gives float64 (numpy's stubs say intp)
    travel_min = np.asarray(
        np.bincount(a, weights=workload.travel_total_min, minlength=k), dtype=np.float64
    )
    return TerritoryFigures(
        visit_min=np.asarray(
            np.bincount(a, weights=workload.visit_total_min, minlength=k), dtype=np.float64
        ),
        travel_min=travel_min,
        travel_km=np.asarray(
            np.bincount(a, weights=workload.travel_total_km, minlength=k), dtype=np.float64
        ),
        admin_min=np.array([rep_admin_min(r, config) for r in team]),
        capacity_min=np.array([rep_capacity_min(r, config) for r in team]),
    )


def routed_figures(
    design: Design, team: Sequence[Rep], plan: Plan, config: Config
) -> TerritoryFigures:
    """Plan-stage figures: scheduled visit minutes and routed travel including the way home."""
    index = {rid: t for t, rid in enumerate(design.rep_ids)}
    k = len(design.rep_ids)
    visit = np.zeros(k)
    travel = np.zeros(k)
    km = np.zeros(k)
    for day in plan.days:
        t = index[day.rep_id]
        visit[t] += sum(v.end_min - v.start_min for v in day.visits)
        travel[t] += day.travel_min
        km[t] += day.travel_km
    return TerritoryFigures(
        visit_min=visit,
        travel_min=travel,
        travel_km=km,
        admin_min=np.array([rep_admin_min(r, config) for r in team]),
        capacity_min=np.array([rep_capacity_min(r, config) for r in team]),
    )


#: One row of a plan-folder table: column name (a :class:`~territory.columns.Column`) -> value.
Row = dict[str, Any]


def assignment_rows(
    customers: Sequence[Customer], design: Design, team: Sequence[Rep], workload: CustomerWorkload
) -> list[Row]:
    """assignments.csv: one row per customer, in input order."""
    a = np.asarray(design.assignment, dtype=np.int64)
    hlat = np.array([team[t].lat for t in a]) if len(a) else np.zeros(0)
    hlon = np.array([team[t].lon for t in a]) if len(a) else np.zeros(0)
    clat = np.array([c.lat for c in customers])
    clon = np.array([c.lon for c in customers])
    dist = haversine_km(clat, clon, hlat, hlon) if len(a) else np.zeros(0)
    wl = workload.workload_min
    rows: list[Row] = []
    for i, c in enumerate(customers):
        rep_id = design.rep_ids[a[i]]
        rows.append(
            {
                C.CUSTOMER_ID: c.id,
                C.REP_ID: rep_id,
                C.CHANGED: bool(c.current_rep) and c.current_rep != rep_id,
                C.DISTANCE_KM_HOME: round(float(dist[i]), 2),
                C.NAME: c.name,
                C.LAT: round(c.lat, 6),
                C.LON: round(c.lon, 6),
                C.CLASS: c.customer_class,
                C.VISITS: c.visits,
                C.VISIT_MINUTES: c.visit_minutes,
                C.POTENTIAL: c.potential,
                C.CURRENT_REP: c.current_rep,
                C.LOCKED_REP: c.locked_rep,
                C.WORKLOAD_MIN: round(float(wl[i]), 1),
                C.LOCATED: c.located,
                C.STREET: c.street,
                C.POSTCODE: c.postcode,
                C.CITY: c.city,
                C.OPEN: format_hhmm(c.open_min) if c.open_min is not None else "",
                C.CLOSE: format_hhmm(c.close_min) if c.close_min is not None else "",
                C.PHONE: c.phone,
            }
        )
    return rows


def _moved(
    customers: Sequence[Customer], design: Design
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Customers each territory gains from and loses to other reps (vs ``current_rep``)."""
    k = len(design.rep_ids)
    a = np.asarray(design.assignment, dtype=np.int64)
    moved_in = np.zeros(k, dtype=np.int64)
    moved_out = np.zeros(k, dtype=np.int64)
    index = {rid: t for t, rid in enumerate(design.rep_ids)}
    for i, c in enumerate(customers):
        if c.current_rep and c.current_rep != design.rep_ids[a[i]]:
            moved_in[a[i]] += 1
            if c.current_rep in index:
                moved_out[index[c.current_rep]] += 1
    return moved_in, moved_out


def territory_rows(
    customers: Sequence[Customer],
    design: Design,
    team: Sequence[Rep],
    workload: CustomerWorkload,
    figures: TerritoryFigures,
) -> list[Row]:
    """territories.csv: one row per rep (territory)."""
    k = len(design.rep_ids)
    a = np.asarray(design.assignment, dtype=np.int64)
    n_cust = np.bincount(a, minlength=k)
    visits = np.bincount(a, weights=workload.visits.astype(float), minlength=k)
    potential = np.bincount(a, weights=np.array([c.potential for c in customers]), minlength=k)
    wl = figures.workload_min
    cap = figures.capacity_min
    target = wl.sum() * cap / cap.sum() if cap.sum() > 0 else wl
    connected = design.kpis.connected if design.kpis is not None else None
    moved_in, moved_out = _moved(customers, design)
    rows: list[Row] = []
    for t in range(k):
        r = team[t]
        rows.append(
            {
                C.REP_ID: design.rep_ids[t],
                C.CUSTOMERS: int(n_cust[t]),
                C.VISITS: int(visits[t]),
                C.VISIT_HOURS: round(figures.visit_min[t] / 60, 2),
                C.TRAVEL_HOURS: round(figures.travel_min[t] / 60, 2),
                C.ADMIN_HOURS: round(figures.admin_min[t] / 60, 2),
                C.WORKLOAD_HOURS: round(wl[t] / 60, 2),
                C.CAPACITY_HOURS: round(cap[t] / 60, 2),
                C.UTILIZATION: round(wl[t] / cap[t], 4) if cap[t] > 0 else None,
                C.POTENTIAL: round(float(potential[t]), 2),
                C.TRAVEL_KM: round(float(figures.travel_km[t]), 1),
                C.REP_NAME: r.name,
                C.HOME_LAT: round(r.lat, 6),
                C.HOME_LON: round(r.lon, 6),
                C.CONNECTED: bool(connected[t]) if connected is not None else None,
                C.MOVED_IN: int(moved_in[t]),
                C.MOVED_OUT: int(moved_out[t]),
                C.DEVIATION: round(wl[t] / target[t] - 1, 4) if target[t] > 0 else None,
            }
        )
    return rows


def schedule_rows(plan: Plan, customers: Sequence[Customer]) -> list[Row]:
    """schedule.csv: one row per scheduled visit, by rep, day and sequence."""
    by_id = {c.id: c for c in customers}
    rows: list[Row] = []
    for day in plan.days:
        for seq, v in enumerate(day.visits, start=1):
            c = by_id[v.customer_id]
            rows.append(
                {
                    C.REP_ID: day.rep_id,
                    C.DATE: day_label(day.week, day.weekday, day.date),
                    C.WEEK: day.week,
                    C.WEEKDAY: day.weekday,
                    C.SEQ: seq,
                    C.CUSTOMER_ID: v.customer_id,
                    C.ARRIVAL: format_hhmm(v.arrival_min),
                    C.START: format_hhmm(v.start_min),
                    C.END: format_hhmm(v.end_min),
                    C.TRAVEL_MIN: round(v.travel_min, 1),
                    C.TRAVEL_KM: round(v.travel_km, 1),
                    C.CUSTOMER_NAME: c.name,
                    C.LAT: round(c.lat, 6),
                    C.LON: round(c.lon, 6),
                }
            )
    return rows


def day_row(day: DayRoute, end_min: int | None = None) -> Row:
    """One rep day as a days.csv row (routes.geojson properties are a subset of it).

    ``end_min`` is the rep's end of day, for ``overtime_min`` (None leaves it empty).
    """
    lunch = day.lunch_start_min
    return {
        C.REP_ID: day.rep_id,
        C.DATE: day_label(day.week, day.weekday, day.date),
        C.WEEK: day.week,
        C.WEEKDAY: day.weekday,
        C.DEPART: format_hhmm(day.depart_min),
        C.RETURN: format_hhmm(day.return_min),
        C.VISITS: len(day.visits),
        C.VISIT_MIN: round(sum(v.end_min - v.start_min for v in day.visits), 1),
        C.TRAVEL_MIN: round(day.travel_min, 1),
        C.TRAVEL_KM: round(day.travel_km, 1),
        C.OVERTIME_MIN: None if end_min is None else max(0, day.return_min - end_min),
        C.LUNCH_START: format_hhmm(lunch) if lunch is not None else "",
    }


def day_rows(plan: Plan, team: Sequence[Rep], config: Config) -> list[Row]:
    """days.csv: one row per rep working day, travel including the way home."""
    ends = {r.id: (r.end_min if r.end_min is not None else config.day.end_min) for r in team}
    return [day_row(day, ends.get(day.rep_id, config.day.end_min)) for day in plan.days]


def unscheduled_rows(plan: Plan, customers: Sequence[Customer]) -> list[Row]:
    """unscheduled.csv: one row per visit that could not be scheduled, with its reason."""
    names = {c.id: c.name for c in customers}
    counter: dict[str, int] = {}
    rows: list[Row] = []
    for u in plan.unscheduled:
        counter[u.customer_id] = counter.get(u.customer_id, 0) + 1
        rows.append(
            {
                C.CUSTOMER_ID: u.customer_id,
                C.REP_ID: u.rep_id,
                C.REASON: u.reason,
                C.CUSTOMER_NAME: names.get(u.customer_id, ""),
                C.VISIT: u.visit or counter[u.customer_id],
                C.DATE: u.date,
            }
        )
    return rows


#: A GeoJSON document (FeatureCollection) as plain dicts and lists, ready for :func:`json_text`.
GeoJson = dict[str, Any]


def routes_geojson(
    plan: Plan,
    customers: Sequence[Customer],
    team: Sequence[Rep],
    travel: TravelModel | None = None,
) -> GeoJson:
    """routes.geojson: one LineString per rep day, home -> stops -> home.

    With a travel source that knows the roads (``travel.paths``), each leg follows them (and
    passes through every stop's own coordinates); else the line joins the stops straight.
    """
    by_id = {c.id: c for c in customers}
    homes = {r.id: r for r in team}
    stops: list[list[Customer | Rep]] = [
        [homes[day.rep_id], *(by_id[v.customer_id] for v in day.visits), homes[day.rep_id]]
        for day in plan.days
    ]
    legs = _leg_paths(stops, travel)
    features = []
    for k, day in enumerate(plan.days):
        row = day_row(day)
        if legs is None:
            coords = [[round(p.lon, 6), round(p.lat, 6)] for p in stops[k]]
        else:
            coords = []
            for leg in legs[k]:
                rows = [[round(float(lon), 6), round(float(lat), 6)] for lat, lon in leg]
                coords += rows if not coords else rows[1:]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {k2: row[k2] for k2 in ROUTE_PROPERTIES},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _leg_paths(
    stops: Sequence[Sequence[Customer | Rep]], travel: TravelModel | None
) -> list[list[NDArray[np.float64]]] | None:
    """Per day, the road polyline of each leg (home -> first stop ... last stop -> home); None
    when the travel source knows no roads. One batch for the whole plan."""
    if travel is None or not stops:
        return None
    a = [p for day in stops for p in day[:-1]]
    b = [p for day in stops for p in day[1:]]
    paths = travel.paths(Points.of(a), Points.of(b))
    if paths is None:
        return None
    out, k = [], 0
    for day in stops:
        out.append(paths[k : k + len(day) - 1])
        k += len(day) - 1
    return out


def territories_geojson(
    customers: Sequence[Customer], design: Design, rows: Sequence[Mapping[str, Any]]
) -> GeoJson:
    """territories.geojson: one non-overlapping (Multi)Polygon per territory, properties = its row.

    Rings follow RFC 7946 (3.1.6): exteriors counter-clockwise, holes clockwise.
    """
    from .geometry import territory_polygons

    lat = np.array([c.lat for c in customers])
    lon = np.array([c.lon for c in customers])
    geoms = territory_polygons(lat, lon, np.asarray(design.assignment), len(design.rep_ids))
    features = []
    for geom, row in zip(geoms, rows, strict=True):
        if geom is None:
            continue
        features.append({"type": "Feature", "geometry": geom, "properties": dict(row)})
    return {"type": "FeatureCollection", "features": features}


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically: a temporary file beside ``path``, then one rename.

    The one text writer of the plan folder (tables, GeoJSON, JSON, pages); line ends are
    written as they are (``\\n`` on every platform), so a folder's bytes do not depend on it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(path)
