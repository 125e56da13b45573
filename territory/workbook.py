"""Workbook stage: plan.xlsx from the plan folder's CSVs (openpyxl), for managers who live in Excel.

One sheet per table (territories, assignments, schedule, days, unscheduled) with readable
headers, a frozen header row, an autofilter, column widths that fit the content, and numbers
stored as numbers. Ids, postcodes and times stay text so that "0012" keeps its zeros.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import math
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

log = logging.getLogger(__name__)

SHEETS: tuple[str, ...] = ("territories", "assignments", "schedule", "days", "unscheduled")

# Columns whose cells are numbers (everything else stays text).
INT_COLUMNS = frozenset(
    {"customers", "visits", "week", "seq", "moved_in", "moved_out", "visit"}
)  # fmt: skip
FLOAT_COLUMNS = frozenset(
    {
        "distance_km_home", "lat", "lon", "visit_minutes", "potential", "workload_min",
        "visit_hours", "travel_hours", "admin_hours", "workload_hours", "capacity_hours",
        "utilization", "travel_km", "home_lat", "home_lon", "deviation", "travel_min",
        "visit_min", "overtime_min",
    }
)  # fmt: skip
BOOL_COLUMNS = frozenset({"changed", "connected"})
PERCENT_COLUMNS = frozenset({"utilization", "deviation"})

HEADERS: dict[str, dict[str, str]] = {
    "en": {
        "customer_id": "Customer id", "rep_id": "Rep id", "changed": "Changed rep",
        "distance_km_home": "Distance from rep home (km)", "name": "Name", "lat": "Latitude",
        "lon": "Longitude", "class": "Class", "visits": "Visits", "visit_minutes": "Minutes per visit",
        "potential": "Potential (EUR)", "current_rep": "Current rep", "locked_rep": "Locked rep",
        "workload_min": "Workload (min)", "located": "Located by", "customers": "Customers",
        "visit_hours": "Visit hours", "travel_hours": "Travel hours", "admin_hours": "Admin hours",
        "workload_hours": "Workload hours", "capacity_hours": "Capacity hours",
        "utilization": "Utilisation", "travel_km": "Travel (km)", "rep_name": "Rep name",
        "home_lat": "Home latitude", "home_lon": "Home longitude", "connected": "Connected",
        "moved_in": "Moved in", "moved_out": "Moved out", "deviation": "Deviation from target",
        "date": "Date", "week": "Week", "weekday": "Weekday", "seq": "Stop", "arrival": "Arrival",
        "start": "Start", "end": "End", "travel_min": "Travel (min)", "customer_name": "Customer name",
        "depart": "Depart", "return": "Back home", "visit_min": "Visit (min)",
        "overtime_min": "Overtime (min)", "lunch_start": "Lunch", "reason": "Reason", "visit": "Visit",
    },
    "nl": {
        "customer_id": "Klantnummer", "rep_id": "Vertegenwoordiger", "changed": "Andere vertegenwoordiger",
        "distance_km_home": "Afstand tot thuisbasis (km)", "name": "Naam", "lat": "Breedtegraad",
        "lon": "Lengtegraad", "class": "Klasse", "visits": "Bezoeken", "visit_minutes": "Minuten per bezoek",
        "potential": "Potentieel (EUR)", "current_rep": "Huidige vertegenwoordiger",
        "locked_rep": "Vaste vertegenwoordiger", "workload_min": "Bewerkingstijd (min)",
        "located": "Locatie via", "customers": "Klanten", "visit_hours": "Bezoekuren",
        "travel_hours": "Reisuren", "admin_hours": "Administratie-uren",
        "workload_hours": "Bewerkingstijd (uur)", "capacity_hours": "Capaciteit (uur)",
        "utilization": "Bezetting", "travel_km": "Reisafstand (km)", "rep_name": "Naam vertegenwoordiger",
        "home_lat": "Thuis breedtegraad", "home_lon": "Thuis lengtegraad", "connected": "Aaneengesloten",
        "moved_in": "Erbij", "moved_out": "Eraf", "deviation": "Afwijking van doel", "date": "Datum",
        "week": "Week", "weekday": "Weekdag", "seq": "Stop", "arrival": "Aankomst", "start": "Begin",
        "end": "Einde", "travel_min": "Reistijd (min)", "customer_name": "Klantnaam", "depart": "Vertrek",
        "return": "Terug thuis", "visit_min": "Bezoektijd (min)", "overtime_min": "Overwerk (min)",
        "lunch_start": "Lunch", "reason": "Reden", "visit": "Bezoek",
    },
}  # fmt: skip

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")


def _cell(column: str, text: str) -> object:
    """A CSV cell as the value Excel should hold (numbers as numbers, ISO dates as dates)."""
    value = text.strip()
    if value == "":
        return None
    if column in BOOL_COLUMNS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if column in INT_COLUMNS or column in FLOAT_COLUMNS:
        try:
            number = float(value)
        except ValueError:
            return text
        if not math.isfinite(number):
            return text
        if column in INT_COLUMNS and number.is_integer():
            return int(number)
        return number
    if column == "date" and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return text
    return text


def _number_format(column: str) -> str | None:
    if column in PERCENT_COLUMNS:
        return "0.0%"
    if column in ("lat", "lon", "home_lat", "home_lon"):
        return "0.00000"
    if column in FLOAT_COLUMNS:
        return "#,##0.0"
    if column in INT_COLUMNS:
        return "0"
    if column == "date":
        return "yyyy-mm-dd"
    return None


def write_workbook(plan_dir: Path | str, *, lang: str = "en") -> Path:
    """Write ``plan.xlsx`` from the CSVs present in a plan folder.

    Parameters
    ----------
    plan_dir
        The plan folder; each of territories/assignments/schedule/days/unscheduled.csv that
        exists becomes a sheet of the same name (the sheet names never change).
    lang
        Header labels in "en" or "nl"; unknown columns keep their CSV name.

    Returns
    -------
    Path
        ``plan_dir/plan.xlsx``.
    """
    folder = Path(plan_dir)
    headers = HEADERS.get(lang, HEADERS["en"])
    # Write-only mode streams rows to disk: 10x faster and far leaner at 10k+ customers.
    wb = Workbook(write_only=True)
    for sheet in SHEETS:
        path = folder / f"{sheet}.csv"
        if not path.is_file():
            continue
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            columns = next(reader, [])
            rows = [
                [_cell(c, row[i] if i < len(row) else "") for i, c in enumerate(columns)]
                for row in reader
            ]
        ws = wb.create_sheet(sheet)
        # Widths, frozen row and filter must be known before the first row is streamed.
        for i, column in enumerate(columns):
            width = len(headers.get(column, column))
            for values in rows:
                v = values[i]
                if v is not None:
                    width = max(width, 8 if isinstance(v, float) else len(str(v)))
            ws.column_dimensions[get_column_letter(i + 1)].width = min(max(width + 2, 8), 50)
        ws.freeze_panes = "A2"
        if columns:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
        header_cells = []
        for column in columns:
            cell = WriteOnlyCell(ws, value=headers.get(column, column))
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
            cell.alignment = _HEADER_ALIGNMENT
            header_cells.append(cell)
        ws.append(header_cells)
        formats = [_number_format(c) for c in columns]
        for values in rows:
            out_row: list[object] = []
            for value, fmt in zip(values, formats, strict=True):
                if fmt is None or value is None:
                    out_row.append(value)
                else:
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = fmt
                    out_row.append(cell)
            ws.append(out_row)
    if not wb.sheetnames:
        wb.create_sheet("territories")
    out = folder / "plan.xlsx"
    tmp = folder / "plan.xlsx.tmp"
    wb.save(tmp)
    _make_reproducible(tmp)
    tmp.replace(out)
    return out


_FIXED_STAMP = "2000-01-01T00:00:00Z"


def _make_reproducible(path: Path) -> None:
    """Drop the save time openpyxl and zipfile put in the file: same folder, same bytes."""
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                for tag in ("dcterms:created", "dcterms:modified"):
                    text = re.sub(
                        rf"(<{tag}[^>]*>)[^<]*(</{tag}>)", rf"\g<1>{_FIXED_STAMP}\g<2>", text
                    )
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
