"""Loading: customers, reps and assignments from CSV or XLSX, validated once at this edge.

The reader accepts what people actually have: files written by Excel in Dutch (``;`` as the
delimiter, ``52,09`` as the number, UTF-8 with a byte-order mark or cp1252), tab-separated
exports, plain CSV, and ``.xlsx`` workbooks (first sheet). Header names are matched
case-insensitively, ignoring spaces, ``_`` and ``-``, against English and Dutch aliases.

Every problem found in the rows is reported, one line each, in one :class:`InputError`
(at most ``MAX_PROBLEMS`` lines, then a count of the rest); its ``problems`` attribute holds the
lines as a list. Problems with the file as a whole (unknown type, empty, unreadable, a missing
required column) are raised at once. Each line names the file, the spreadsheet row (the header
is row 1, or the first row below a title), the column as written in the file, quotes the value
and says what is accepted.
Input files are only ever opened for reading.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .exceptions import InputError, TerritoryWarning
from .models import Customer, Rep
from .params import Config, format_hhmm, parse_hhmm, parse_weekdays
from .travel import haversine_km

log = logging.getLogger(__name__)

#: At most this many problem lines are listed in one InputError.
MAX_PROBLEMS = 20

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")

#: A row whose lat/lon is this far (km) from the middle of the file, while the swapped pair
#: would lie within ``SWAP_NEAR_KM`` of it, is reported as swapped.
SWAP_FAR_KM = 500.0
SWAP_NEAR_KM = 300.0

_ADDRESS = {
    "street": ("street", "straat", "adres", "address", "straatnaam"),
    "house_number": ("house_number", "huisnummer", "huisnr", "housenumber", "nr", "number"),
    "postcode": ("postcode", "zip", "zipcode", "postal_code", "postalcode", "post_code"),
    "city": ("city", "plaats", "woonplaats", "stad", "town", "plaatsnaam", "gemeente"),
    "country": ("country", "land"),
}
_LATLON = {
    "lat": ("lat", "latitude", "breedtegraad"),
    "lon": ("lon", "lng", "long", "longitude", "lengtegraad"),
}

#: Accepted header names per customer field (compared without case, spaces, '_' or '-').
CUSTOMER_ALIASES: dict[str, tuple[str, ...]] = {
    "id": (
        "id",
        "customer_id",
        "customerid",
        "klantnummer",
        "klantnr",
        "klant_id",
        "nummer",
        "code",
        "klantcode",
    ),
    "name": (
        "name",
        "naam",
        "klantnaam",
        "bedrijfsnaam",
        "customer_name",
        "company",
        "bedrijf",
    ),
    **_LATLON,
    "class": (
        "class",
        "klasse",
        "categorie",
        "category",
        "abc",
        "customer_class",
        "klantklasse",
        "segment",
    ),
    "visits": ("visits", "bezoeken", "bezoekfrequentie", "frequency", "frequentie"),
    "visit_minutes": (
        "visit_minutes",
        "bezoekduur",
        "duur",
        "duration",
        "visit_duration",
        "minutes",
        "minuten",
    ),
    "potential": ("potential", "omzetpotentieel", "potentieel", "potential_eur"),
    "revenue": (
        "revenue",
        "omzet",
        "omzet_vorig_jaar",
        "jaaromzet",
        "revenue_eur",
        "sales",
        "turnover",
    ),
    "channel": ("channel", "kanaal", "verkoopkanaal", "sales_channel"),
    **_ADDRESS,
    "open": ("open", "openingstijd", "opening", "van", "opens", "open_from"),
    "close": ("close", "sluitingstijd", "sluiting", "tot", "closes", "open_until"),
    "days": ("days", "dagen", "bezoekdagen", "visit_days", "weekdays"),
    "current_rep": (
        "current_rep",
        "vertegenwoordiger",
        "accountmanager",
        "rep",
        "rep_id",
        "huidige_rep",
        "sales_rep",
    ),
    "locked_rep": ("locked_rep", "vaste_rep", "vast", "locked"),
    "phone": ("phone", "telefoon", "tel", "telefoonnummer", "telnr", "phone_number", "telephone"),
}

#: Accepted header names per rep field.
REP_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "rep_id", "rep", "code", "nummer", "vertegenwoordiger", "medewerker"),
    "name": ("name", "naam", "rep_name"),
    **_LATLON,
    **_ADDRESS,
    "start": ("start", "begin", "starttijd", "start_time", "vertrek"),
    "end": ("end", "eind", "einde", "eindtijd", "end_time", "terug"),
    "days": ("days", "dagen", "werkdagen", "working_days"),
    "capacity": ("capacity", "fte", "capaciteit"),
    "absent": ("absent", "absences", "afwezig", "verlof", "leave"),
}

#: Accepted header names in an assignments file.
ASSIGNMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id",
        "customerid",
        "customer",
        "klant",
        "klantnummer",
        "klantnr",
        "klant_id",
        "id",
    ),
    "rep_id": (
        "rep_id",
        "rep",
        "vertegenwoordiger",
        "accountmanager",
        "territory",
        "rayon",
        "current_rep",
    ),
    # the editor's column (edit.html): true keeps the customer with this rep in every design
    "locked": ("locked", "lock", "vast", "vergrendeld", "fixed"),
}

#: Cell values read as a lock (``locked`` column of an assignments file); empty is no lock.
LOCKED_TRUE = frozenset(("true", "yes", "y", "ja", "j", "1", "x", "waar", "locked", "vast"))
LOCKED_FALSE = frozenset(("false", "no", "n", "nee", "0", "onwaar", ""))


def _key(header: str) -> str:
    """Header comparison key: accents dropped, case folded, only letters and digits kept."""
    text = unicodedata.normalize("NFKD", str(header))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^a-z0-9]", "", text)


# --------------------------------------------------------------------------------------------
# Reading a table (CSV dialects or the first sheet of a workbook)


@dataclass(frozen=True)
class Table:
    """A read file: header cells, data rows with their spreadsheet row numbers, the dialect."""

    source: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    decimal_comma: bool
    dialect: str
    header_row: int = 1


def read_table(path: str | Path) -> Table:
    """Read a CSV (``,`` ``;`` or tab; UTF-8 with/without BOM or cp1252) or XLSX file.

    Raises
    ------
    InputError
        Unknown file type, missing or empty file, unreadable workbook, no data rows.
    """
    p = Path(path)
    source = str(path)
    suffix = p.suffix.lower()
    if suffix not in CSV_SUFFIXES + XLSX_SUFFIXES:
        hint = " (old .xls workbooks: save as .xlsx or CSV)" if suffix == ".xls" else ""
        raise InputError(
            f"{source}: unknown file type '{p.suffix}'{hint}; use a .csv, .tsv, .txt or .xlsx file"
        )
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{source}: the file does not exist; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{source}: is a folder, not a file; give a .csv or .xlsx file") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot be read ({exc.strerror})") from None
    if not data.strip():
        raise InputError(f"{source}: the file is empty; it needs a header row and data rows")
    table = _read_xlsx(data, source) if suffix in XLSX_SUFFIXES else _read_csv(data, source)
    if not table.rows:
        raise InputError(f"{source}: has a header row but no data rows")
    return table


def _decode(data: bytes, source: str) -> tuple[str, str]:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # What Excel writes in Western Europe with "CSV (comma delimited)".
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _binary_problem(data: bytes, text: str, source: str) -> str:
    """Why bytes with a text-file name are not a table ("" when they look like text)."""
    if data[:4] == b"PK\x03\x04":
        return (
            f"{source}: is a zip archive (an .xlsx workbook?) with a text-file name; rename it "
            "to .xlsx, or export the sheet as CSV"
        )
    control = sum(1 for c in text[:65536] if c < " " and c not in "\t\r\n")
    if "\x00" in text or control > max(2, len(text[:65536]) // 100):
        return (
            f"{source}: holds binary data (NUL or control bytes), not text; export the sheet "
            "as CSV (UTF-8) or save it as .xlsx"
        )
    return ""


def _read_csv(data: bytes, source: str) -> Table:
    text, encoding = _decode(data, source)
    problem = _binary_problem(data, text, source)
    if problem:
        raise InputError(problem)
    lines = text.splitlines()
    skip = 0
    delimiter = None
    # Excel honours (and sometimes writes) a first line "sep=;".
    first = lines[0].strip() if lines else ""
    if first.lower().startswith("sep=") and len(first) == 5:
        delimiter, skip = first[4], 1
        text = text.split("\n", 1)[1] if "\n" in text else ""
    if delimiter is None:
        # The header line decides (data rows may hold decimal commas); a title line above it
        # without any delimiter (Excel pads its title rows with delimiters, hand-made files
        # may not) is passed over.
        def widths(line: str) -> dict[str, int]:
            return {d: len(next(csv.reader([line], delimiter=d), [])) for d in (",", ";", "\t")}

        head = [ln for ln in lines[:50] if ln.strip()][: TITLE_ROWS_MAX + 1] or [""]
        counts = next((w for w in map(widths, head) if max(w.values()) >= 2), widths(head[0]))
        delimiter = max((",", ";", "\t"), key=lambda d: (counts[d], d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, tuple[Any, ...]]] = []
    try:
        for index, record in enumerate(reader, start=1 + skip):
            if any(cell.strip() for cell in record):
                records.append((index, tuple(record)))
    except csv.Error as exc:
        raise InputError(f"{source}: not a readable CSV file ({exc})") from None
    if not records:
        raise InputError(f"{source}: the file is empty; it needs a header row and data rows")
    header_row, header, rows = _split_header(records, source)
    name = {",": "comma", ";": "semicolon", "\t": "tab"}.get(delimiter, repr(delimiter))
    log.debug("%s: %s-separated, %s, %d rows", source, name, encoding, len(rows))
    return Table(
        source=source,
        header=header,
        rows=tuple(rows),
        decimal_comma=delimiter != ",",
        dialect=f"{name}, {encoding}",
        header_row=header_row,
    )


#: Leading rows with a single filled cell (a report title, an export date) above a row with
#: more filled cells are skipped, looking this many filled rows down for the header.
TITLE_ROWS_MAX = 5


def _filled(values: tuple[Any, ...]) -> int:
    return sum(1 for v in values if v is not None and str(v).strip())


def _split_header(
    records: list[tuple[int, tuple[Any, ...]]], source: str
) -> tuple[int, tuple[str, ...], list[tuple[int, tuple[Any, ...]]]]:
    """The header's row number, the header and the data rows, skipping title rows above it.

    A spreadsheet export often starts with a title ("Klantenoverzicht 2026") in the first cell;
    such rows (one filled cell) are skipped when a row with two or more filled cells follows.
    """
    start = 0
    for k, (_, values) in enumerate(records[: TITLE_ROWS_MAX + 1]):
        if _filled(values) >= 2:
            start = k
            break
    for number, _ in records[:start]:
        log.info("%s: row %d skipped as a title row above the header", source, number)
    header = tuple("" if v is None else str(v).strip() for v in records[start][1])
    return records[start][0], header, records[start + 1 :]


def _unreadable_xlsx(source: str, exc: Exception) -> str:
    return (
        f"{source}: not a readable .xlsx workbook ({type(exc).__name__}); "
        "open it in Excel and save it again as .xlsx, or export it as CSV"
    )


def _read_xlsx(data: bytes, source: str) -> Table:
    from openpyxl import load_workbook

    # openpyxl raises many kinds of errors on damaged files (zip, XML, key, value errors); at
    # this edge any of them means the same to the user: the workbook cannot be read.
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(_unreadable_xlsx(source, exc)) from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong sheet size; read to the end
        records: list[tuple[int, tuple[Any, ...]]] = []
        for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            records.append((index, tuple(values)))
    except Exception as exc:
        raise InputError(_unreadable_xlsx(source, exc)) from None
    finally:
        workbook.close()
    if not records:
        raise InputError(f"{source}: the first sheet is empty; it needs a header row and data rows")
    header_row, header, rows = _split_header(records, source)
    return Table(
        source=source,
        header=header,
        rows=tuple(rows),
        decimal_comma=True,
        dialect="xlsx",
        header_row=header_row,
    )


# --------------------------------------------------------------------------------------------
# Columns


def _map_columns(
    table: Table, aliases: dict[str, tuple[str, ...]], required: Iterable[str]
) -> dict[str, int]:
    """Field -> column index. Raises on a missing required field or two columns for one field."""
    lookup: dict[str, tuple[str, int]] = {}
    for fieldname, names in aliases.items():
        for rank, name in enumerate(names):
            lookup.setdefault(_key(name), (fieldname, rank))
    found: dict[str, int] = {}
    ranks: dict[str, int] = {}
    for index, cell in enumerate(table.header):
        fieldname, rank = lookup.get(_key(cell), ("", -1))
        if not fieldname:
            if cell:
                log.info("%s: column '%s' is not used", table.source, cell)
            continue
        if fieldname in found:
            # Two columns for one field: the more specific name wins ('klantnummer' over
            # 'nummer'); two equally good names are ambiguous.
            other = table.header[found[fieldname]]
            if rank == ranks[fieldname]:
                raise InputError(
                    f"{table.source}, row {table.header_row}: columns '{other}' and '{cell}' "
                    f"both mean '{fieldname}'; keep one of them"
                )
            if rank > ranks[fieldname]:
                log.info(
                    "%s: column '%s' is not used ('%s' is the %s)",
                    table.source,
                    cell,
                    other,
                    fieldname,
                )
                continue
            log.info(
                "%s: column '%s' is not used ('%s' is the %s)", table.source, other, cell, fieldname
            )
        found[fieldname] = index
        ranks[fieldname] = rank
    for fieldname in required:
        if fieldname not in found:
            accepted = ", ".join(aliases[fieldname])
            one = [cell for cell in table.header if cell]
            hint = (
                "; separate the columns with a comma, semicolon or tab"
                if len(one) == 1 and re.search(r"[|: ]", one[0])
                else ""
            )
            raise InputError(
                f"{table.source}, row {table.header_row}: no '{fieldname}' column in the header "
                f"{list(table.header)}; name it one of: {accepted}{hint}"
            )
    return found


class _Row:
    """One data row with the helpers that turn cells into checked values."""

    def __init__(
        self,
        table: Table,
        columns: dict[str, int],
        number: int,
        values: tuple[Any, ...],
        problems: list[str],
    ) -> None:
        self.table = table
        self.columns = columns
        self.number = number
        self.values = values
        self.problems = problems
        self._problems_before = len(problems)

    def ok(self) -> bool:
        """True while no problem has been recorded for this row."""
        return len(self.problems) == self._problems_before

    def where(self, fieldname: str) -> str:
        column = self.table.header[self.columns[fieldname]]
        return f"{self.table.source}, row {self.number}, column '{column}'"

    def problem(self, fieldname: str, raw: Any, what: str) -> None:
        self.problems.append(f"{self.where(fieldname)}: '{_show(raw)}' {what}")

    def raw(self, fieldname: str) -> Any:
        index = self.columns.get(fieldname)
        if index is None or index >= len(self.values):
            return None
        value = self.values[index]
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def text(self, fieldname: str) -> str:
        return _text(self.raw(fieldname))

    def street(self) -> str:
        """Street with the house number when that has a column of its own."""
        return " ".join(t for t in (self.text("street"), self.text("house_number")) if t)

    def number_or_none(self, fieldname: str, accepted: str) -> float | None:
        raw = self.raw(fieldname)
        if raw is None:
            return None
        value = _number(raw, self.table.decimal_comma)
        if value is None or not math.isfinite(value):
            self.problem(fieldname, raw, f"is not a number; {accepted}")
            return None
        return value

    def time_or_none(self, fieldname: str) -> int | None:
        raw = self.raw(fieldname)
        if raw is None:
            return None
        if isinstance(raw, dt.datetime):
            raw = raw.time()
        if isinstance(raw, dt.time):
            return raw.hour * 60 + raw.minute
        if isinstance(raw, float) and 0 <= raw < 1:  # an Excel time stored as a day fraction
            return round(raw * 24 * 60)
        if isinstance(raw, float) and not raw.is_integer():  # 9.30 typed as a number: 09:30
            raw = f"{int(raw)}:{round((raw - int(raw)) * 100):02d}"
        try:
            return parse_hhmm(raw, "time")
        except ValueError:
            self.problem(fieldname, raw, "is not a time of day; use HH:MM such as 08:30")
            return None

    def days(self, fieldname: str) -> tuple[str, ...]:
        raw = self.raw(fieldname)
        if raw is None:
            return ()
        try:
            return parse_weekdays(raw, "days")
        except ValueError:
            self.problem(
                fieldname,
                raw,
                "is not a list of weekdays; use e.g. mon,wed,fri or ma,wo,vr or mon-thu",
            )
            return ()

    def has_extra_cells(self) -> bool:
        """Record a problem (and return True) when the row has more values than the header."""
        extra = [v for v in self.values[len(self.table.header) :] if _text(v)]
        if extra:
            self.problems.append(
                f"{self.table.source}, row {self.number}: has {len(self.values)} cells but the "
                f"header has {len(self.table.header)} columns (extra value '{_show(extra[0])}'); "
                "quote values that contain the delimiter, or check the decimal separator"
            )
            return True
        return False


def _show(value: Any) -> str:
    """A cell for a message: at most 40 characters, control characters escaped."""
    text = _text(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _text(value: Any) -> str:
    """A cell as text: whole floats without '.0' (ids and postcodes typed as numbers in Excel)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value).strip()  # also strips non-breaking spaces (Excel) at either end


def _number(raw: Any, decimal_comma: bool, *, amount: bool = False) -> float | None:
    """Parse a number cell.

    With ``decimal_comma`` (semicolon/tab files, workbooks) '52,09' is 52.09 and '12.500,50' is
    12500.5, while '52.09' stays 52.09. For an ``amount`` (EUR) '12.500' there means 12500, as
    Dutch Excel exports a number formatted with thousands separators.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip().replace("\u20ac", "").replace("\u00a0", "").replace(" ", "")
    if decimal_comma and "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif decimal_comma and amount and _THOUSANDS.match(text):
        text = text.replace(".", "")
    try:
        return float(text)
    except ValueError:
        return None


_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


# --------------------------------------------------------------------------------------------
# Shared checks


def _latlon(row: _Row) -> tuple[float, float]:
    """lat/lon of a row, NaN when both are empty; problems recorded for the rest."""
    raw_lat, raw_lon = row.raw("lat"), row.raw("lon")
    if raw_lat is None and raw_lon is None:
        if not any(row.text(f) for f in ("street", "postcode", "city")):
            row.problems.append(
                f"{row.table.source}, row {row.number}: has no lat/lon and no street, postcode "
                "or city to locate it by; fill in lat and lon (WGS84 degrees) or the city"
            )
        return math.nan, math.nan
    if raw_lat is None or raw_lon is None:
        missing = "lat" if raw_lat is None else "lon"
        given = "lon" if missing == "lat" else "lat"
        row.problem(
            given,
            row.raw(given),
            f"has no {missing} beside it; fill in both lat and lon, or leave both empty to "
            "locate the row by its city",
        )
        return math.nan, math.nan
    lat = row.number_or_none("lat", "use WGS84 degrees such as 52.09")
    lon = row.number_or_none("lon", "use WGS84 degrees such as 5.12")
    if lat is None or lon is None:
        return math.nan, math.nan
    if not (-90 <= lat <= 90):
        if -90 <= lon <= 90 and -180 <= lat <= 180:
            row.problem(
                "lat",
                raw_lat,
                f"is not a latitude but would be a longitude (and lon '{_show(raw_lon)}' a "
                "latitude): lat and lon look swapped; exchange the two columns' values",
            )
        else:
            row.problem("lat", raw_lat, "is out of range; a latitude lies from -90 to 90")
        return math.nan, math.nan
    if not (-180 <= lon <= 180):
        row.problem("lon", raw_lon, "is out of range; a longitude lies from -180 to 180")
        return math.nan, math.nan
    if lat == 0 and lon == 0:
        row.problem(
            "lat",
            raw_lat,
            "with lon 0 is a placeholder, not a place; fill in the real lat/lon or leave "
            "both empty to locate the row by its city",
        )
        return math.nan, math.nan
    return lat, lon


def _check_swapped(
    source: str,
    header: tuple[str, ...],
    columns: dict[str, int],
    points: Sequence[tuple[int, float, float, str, str]],
    problems: list[str],
) -> set[int]:
    """Flag rows whose lat/lon look exchanged compared with the rest of the file.

    The middle of the file is the coordinate-wise median (robust to a few swapped rows). A row
    far from it whose swapped pair lies near it is named. Returns the flagged row numbers.
    """
    if len(points) < 3:
        return set()
    lat = np.array([p[1] for p in points])
    lon = np.array([p[2] for p in points])
    mid_lat, mid_lon = float(np.median(lat)), float(np.median(lon))
    far = haversine_km(lat, lon, mid_lat, mid_lon)
    # Only rows far from the middle whose swapped pair is a latitude can be swapped.
    candidates = np.flatnonzero((far > SWAP_FAR_KM) & (np.abs(lon) <= 90))
    near = haversine_km(lon[candidates], lat[candidates], mid_lat, mid_lon)
    flagged = set()
    for k in candidates[near <= SWAP_NEAR_KM]:
        number, _, _, raw_lat, raw_lon = points[int(k)]
        problems.append(
            f"{source}, row {number}, columns '{header[columns['lat']]}'/"
            f"'{header[columns['lon']]}': '{raw_lat}'/'{raw_lon}' look swapped (lat and lon "
            f"exchanged: the other rows lie near {mid_lat:.2f}, {mid_lon:.2f}); exchange the "
            "two values"
        )
        flagged.add(number)
    return flagged


def _raise(problems: list[str], source: str, what: str) -> None:
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(
            f"{source}: ... and {len(problems) - MAX_PROBLEMS} more problems in the {what}"
        )
    exc = InputError("\n".join(shown))
    exc.problems = list(problems)  # type: ignore[attr-defined]
    raise exc


def _check_id(row: _Row, seen: dict[str, int]) -> str:
    raw = row.raw("id")
    ident = row.text("id")
    if not ident:
        row.problems.append(
            f"{row.where('id')}: is empty; every row needs a unique id (text or number)"
        )
        return ""
    if ident in seen:
        row.problem("id", raw, f"is a duplicate of row {seen[ident]}; ids must be unique")
    else:
        seen[ident] = row.number
    return ident


# --------------------------------------------------------------------------------------------
# Customers


#: Ids that mark the totals row of a spreadsheet export (compared as header names are).
TOTALS_IDS = frozenset(
    ("totaal", "total", "totals", "totalen", "subtotaal", "subtotal", "eindtotaal", "grandtotal")
)


class _Rows:
    """The row loop the customers and reps files share.

    Iterating yields ``(row, id, lat, lon)`` for every row whose cells line up with the header,
    with the id checked for uniqueness and lat/lon parsed (NaN when empty); ``finish`` adds the
    swapped-coordinates check over all rows and raises every problem found.
    """

    def __init__(self, table: Table, columns: dict[str, int]) -> None:
        self.table = table
        self.columns = columns
        self.problems: list[str] = []
        self.seen: dict[str, int] = {}
        self.points: list[tuple[int, float, float, str, str]] = []

    def __iter__(self) -> Iterator[tuple[_Row, str, float, float]]:
        for number, values in self.table.rows:
            row = _Row(self.table, self.columns, number, values, self.problems)
            if row.has_extra_cells():
                continue  # the other cells are shifted: more messages would only mislead
            if _key(row.text("id")) in TOTALS_IDS:
                self.problems.append(
                    f"{row.where('id')}: '{_show(row.raw('id'))}' looks like a totals row of a "
                    "spreadsheet export, not a data row; delete that row"
                )
                continue
            ident = _check_id(row, self.seen)
            lat, lon = _latlon(row)
            if math.isfinite(lat):
                self.points.append((number, lat, lon, row.text("lat"), row.text("lon")))
            yield row, ident, lat, lon

    def finish(self, what: str) -> None:
        """Check for swapped coordinates, then raise every problem found (if any)."""
        if "lat" in self.columns:
            _check_swapped(
                self.table.source, self.table.header, self.columns, self.points, self.problems
            )
        _raise(self.problems, self.table.source, what)


def load_customers(path: str | Path, config: Config) -> tuple[Customer, ...]:
    """Load and validate customers from a CSV or XLSX file.

    ``class`` sets visits per period and minutes per visit from ``config.classes``; a ``visits``
    or ``visit_minutes`` value in the row overrides it; an empty class is
    ``config.sizing.default_class``. Rows without lat/lon get NaN (``geocode.locate`` fills them).

    Parameters
    ----------
    path
        The customers file (.csv, .tsv, .txt or .xlsx).
    config
        The effective configuration (classes, default class).

    Returns
    -------
    tuple of Customer
        In file order; ``Customer.row`` is the spreadsheet row (header = row 1).

    Raises
    ------
    InputError
        One line per problem, see the module docstring.
    """
    table = read_table(path)
    columns = _map_columns(table, CUSTOMER_ALIASES, required=("id",))
    if ("lat" in columns) != ("lon" in columns):
        have, need = ("lat", "lon") if "lat" in columns else ("lon", "lat")
        raise InputError(
            f"{table.source}, row {table.header_row}: there is a '{have}' column but no "
            f"'{need}' column; name it one of: {', '.join(CUSTOMER_ALIASES[need])}"
        )
    if "lat" not in columns and not ({"city", "postcode", "street"} & set(columns)):
        raise InputError(
            f"{table.source}, row {table.header_row}: no 'lat'/'lon' columns and no address "
            f"columns in the header {list(table.header)}; add lat and lon (accepted names: "
            f"{', '.join(CUSTOMER_ALIASES['lat'])} / {', '.join(CUSTOMER_ALIASES['lon'])}) or a "
            f"city column ({', '.join(CUSTOMER_ALIASES['city'])})"
        )
    classes = config.classes
    known = ", ".join(sorted(classes))
    rows = _Rows(table, columns)
    customers: list[Customer] = []
    for row, ident, lat, lon in rows:
        raw_class = row.raw("class")
        cls = row.text("class").upper() or config.sizing.default_class
        if cls not in classes:
            row.problem("class", raw_class, f"is not a known class; use one of {known}")
            spec = classes[config.sizing.default_class]
        else:
            spec = classes[cls]

        visits = spec.visits
        raw_visits = row.raw("visits")
        if raw_visits is not None:
            value = _number(raw_visits, table.decimal_comma)
            if value is None or not value.is_integer() or value < 0:
                row.problem(
                    "visits",
                    raw_visits,
                    "is not accepted; use a whole number 0 or more, or leave the cell empty for "
                    f"class {cls}'s {spec.visits}",
                )
            else:
                visits = int(value)

        visit_minutes = float(spec.visit_minutes)
        raw_minutes = row.raw("visit_minutes")
        if raw_minutes is not None:
            value = _number(raw_minutes, table.decimal_comma)
            if value is None or not (0 < value <= 24 * 60):
                row.problem(
                    "visit_minutes",
                    raw_minutes,
                    "is not accepted; use minutes per visit above 0 (at most 1440), or leave "
                    f"the cell empty for class {cls}'s {spec.visit_minutes:g} minutes",
                )
            else:
                visit_minutes = value

        potential = 0.0
        raw_potential = row.raw("potential")
        if raw_potential is not None:
            value = _number(raw_potential, table.decimal_comma, amount=True)
            if value is None or not math.isfinite(value) or value < 0:
                row.problem(
                    "potential",
                    raw_potential,
                    "is not accepted; use an amount in EUR, 0 or more (or leave the cell empty)",
                )
            else:
                potential = value

        revenue = _revenue(row, table.decimal_comma)
        channel = _channel(row, spec.channel)
        open_min, close_min = _window(row, "open", "close", visit_minutes)
        days = row.days("days")

        if not row.ok():
            continue
        customers.append(
            Customer(
                id=ident,
                lat=lat,
                lon=lon,
                name=row.text("name"),
                customer_class=cls,
                visits=visits,
                visit_minutes=visit_minutes,
                potential=potential,
                open_min=open_min,
                close_min=close_min,
                days=days,
                current_rep=row.text("current_rep"),
                locked_rep=row.text("locked_rep"),
                street=row.street(),
                postcode=row.text("postcode"),
                city=row.text("city"),
                country=row.text("country"),
                located="input" if math.isfinite(lat) else "",
                row=row.number,
                phone=row.text("phone"),
                revenue=revenue,
                channel=channel,
                calls=spec.calls_per_period if channel == "phone" else 0,
                call_minutes=spec.minutes_per_call if channel == "phone" else 0.0,
            )
        )
    rows.finish("customers file")
    log.info("%s: %d customers (%s)", table.source, len(customers), table.dialect)
    return tuple(customers)


#: Words of the ``channel`` column (compared as header names are) and the channel they mean.
CHANNEL_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("field", "visit", "visits", "bezoek", "buitendienst", "veld", "rep", "accountmanager"),
        "field",
    ),
    **dict.fromkeys(
        ("phone", "telephone", "tel", "telefoon", "telefonisch", "telesales", "binnendienst",
         "callcenter", "callcentre", "inside", "insidesales"),
        "phone",
    ),
}  # fmt: skip


def _channel(row: _Row, default: str) -> str:
    """The row's channel: its ``channel`` cell, else its class's channel."""
    raw = row.raw("channel")
    if raw is None:
        return default
    channel = CHANNEL_WORDS.get(_key(str(raw)))
    if channel is None:
        row.problem(
            "channel",
            raw,
            "is not a sales channel; use field (visited by a rep) or phone (called by inside "
            "sales), or leave the cell empty for the class's channel",
        )
        return default
    return channel


def _revenue(row: _Row, decimal_comma: bool) -> float | None:
    """Last year's sales in EUR, or None when the cell is empty or the file has no column."""
    raw = row.raw("revenue")
    if raw is None:
        return None
    value = _number(raw, decimal_comma, amount=True)
    if value is None or not math.isfinite(value) or value < 0:
        row.problem(
            "revenue",
            raw,
            "is not accepted; use last year's sales in EUR, 0 or more (or leave the cell empty)",
        )
        return None
    return value


def _window(
    row: _Row, open_field: str, close_field: str, visit_minutes: float
) -> tuple[int | None, int | None]:
    """Opening window of a customer; one end alone leaves the other end of the day open."""
    open_min = row.time_or_none(open_field)
    close_min = row.time_or_none(close_field)
    if open_min is None and close_min is None:
        return None, None
    if row.raw(open_field) is not None and open_min is None:
        return None, None
    if row.raw(close_field) is not None and close_min is None:
        return None, None
    lo = open_min if open_min is not None else 0
    hi = close_min if close_min is not None else 24 * 60
    if hi <= lo:
        row.problem(
            close_field,
            row.raw(close_field),
            f"is not after the opening time {format_hhmm(lo)}; closing must come after opening",
        )
        return None, None
    if hi - lo < visit_minutes:
        # Possible data, impossible visit: the run goes on and plan lists its visits in
        # unscheduled.csv with this reason; the user is told now, not only in that file.
        fieldname = close_field if close_min is not None else open_field
        warnings.warn(
            f"{row.where(fieldname)}: '{_show(row.raw(fieldname))}' leaves {hi - lo} minutes "
            f"open ({format_hhmm(lo)}-{format_hhmm(hi)}), shorter than the "
            f"{visit_minutes:g}-minute visit; plan lists its visits in unscheduled.csv (widen "
            "the opening hours or shorten the visit)",
            TerritoryWarning,
            stacklevel=2,
        )
    return lo, hi


# --------------------------------------------------------------------------------------------
# Reps


def load_reps(path: str | Path, config: Config) -> tuple[Rep, ...]:
    """Load and validate reps (home base, working day, capacity) from a CSV or XLSX file.

    ``start``/``end``/``days`` left empty mean the config's working day; ``capacity`` is the
    share of a full-time job, in (0, 2], default 1.0.

    Raises
    ------
    InputError
        One line per problem, see the module docstring.
    """
    table = read_table(path)
    columns = _map_columns(table, REP_ALIASES, required=("id",))
    if ("lat" in columns) != ("lon" in columns) or (
        "lat" not in columns and not ({"city", "postcode", "street"} & set(columns))
    ):
        raise InputError(
            f"{table.source}, row {table.header_row}: reps need 'lat' and 'lon' columns "
            f"(accepted names: {', '.join(REP_ALIASES['lat'])} / "
            f"{', '.join(REP_ALIASES['lon'])}) or an address column "
            f"({', '.join(REP_ALIASES['city'])}); the header is {list(table.header)}"
        )
    rows = _Rows(table, columns)
    reps: list[Rep] = []
    for row, ident, lat, lon in rows:
        start = row.time_or_none("start")
        end = row.time_or_none("end")
        lo = start if start is not None else config.day.start_min
        hi = end if end is not None else config.day.end_min
        if (start is not None or end is not None) and hi <= lo:
            fieldname = "end" if end is not None else "start"
            row.problem(
                fieldname,
                row.raw(fieldname),
                f"gives a working day from {format_hhmm(lo)} to {format_hhmm(hi)}; the end must "
                "come after the start",
            )
        days = row.days("days")
        if days and not set(days) & set(config.period.days):
            # A rep on leave for the whole period: kept, not refused. Their working time is
            # zero, so the design gives them no customers; accounts locked to them are planned
            # by nobody and listed in unscheduled.csv with the reason.
            warnings.warn(
                f"{row.where('days')}: '{_show(row.raw('days'))}' has no working day in the "
                f"period ({','.join(config.period.days)}); rep '{ident}' gets no customers "
                "(accounts locked to them go to unscheduled.csv in plan)",
                TerritoryWarning,
                stacklevel=2,
            )
        capacity = 1.0
        raw_capacity = row.raw("capacity")
        if raw_capacity is not None:
            value = _number(raw_capacity, table.decimal_comma)
            if value is None or not (0 < value <= 2):
                row.problem(
                    "capacity",
                    raw_capacity,
                    "is not accepted; use the share of a full-time job above 0 and at most 2 "
                    "(1.0 = full time, 0.8 = four days)",
                )
            else:
                capacity = value
        absent = _absences(row)
        if not row.ok():
            continue
        reps.append(
            Rep(
                id=ident,
                lat=lat,
                lon=lon,
                name=row.text("name"),
                start_min=start,
                end_min=end,
                days=days,
                capacity=capacity,
                street=row.street(),
                postcode=row.text("postcode"),
                city=row.text("city"),
                country=row.text("country"),
                located="input" if math.isfinite(lat) else "",
                row=row.number,
                absent=absent,
            )
        )
    rows.finish("reps file")
    log.info("%s: %d reps (%s)", table.source, len(reps), table.dialect)
    return tuple(reps)


def _absences(row: _Row) -> tuple[tuple[dt.date, dt.date], ...]:
    """The rep's periods of leave from the ``absent`` cell (``2027-02-15..2027-02-19, ...``)."""
    from .workdays import parse_absences

    raw = row.raw("absent")
    if raw is None:
        return ()
    try:
        return parse_absences(raw)
    except ValueError as exc:
        row.problem(
            "absent",
            raw,
            f"is not a list of absences ({exc}); use dates and ranges such as "
            "2027-02-15..2027-02-19, 2027-03-08",
        )
        return ()


# --------------------------------------------------------------------------------------------
# Assignments


@dataclass(frozen=True)
class Split:
    """A division of the customers over reps read from a file, e.g. the editor's export.

    Attributes
    ----------
    rep_ids
        customer_id -> rep_id, in the order of the customers.
    rows
        customer_id -> the row of the file that gave it (for messages).
    locked
        The customer ids whose ``locked`` cell is true; None when the file has no ``locked``
        column (the customers file's ``locked_rep`` then stays as it is).
    source
        The file, as given.
    """

    rep_ids: dict[str, str]
    rows: dict[str, int]
    locked: frozenset[str] | None
    source: str


def load_split(path: str | Path, customers: Sequence[Customer]) -> Split:
    """Read an assignments file: a rep per customer and, where the file has the column, a lock.

    Every customer must appear exactly once with a non-empty rep id; ids not among
    ``customers`` are errors. The optional ``locked`` column (``true``/``false``, ``yes``/``no``,
    ``ja``/``nee``, ``1``/``0``; empty = not locked) is what ``territory edit``'s page exports.

    Raises
    ------
    InputError
        One line per problem, naming the file, row and column and quoting the value.
    """
    table = read_table(path)
    columns = _map_columns(table, ASSIGNMENT_ALIASES, required=("customer_id", "rep_id"))
    known = {c.id for c in customers}
    problems: list[str] = []
    seen: dict[str, int] = {}
    found: dict[str, str] = {}
    locked: set[str] = set()
    for number, values in table.rows:
        row = _Row(table, columns, number, values, problems)
        raw = row.raw("customer_id")
        cid = row.text("customer_id")
        rep = row.text("rep_id")
        if not cid:
            problems.append(f"{row.where('customer_id')}: is empty; give a customer id")
            continue
        if cid in seen:
            row.problem("customer_id", raw, f"is a duplicate of row {seen[cid]}; one row each")
            continue
        seen[cid] = number
        if cid not in known:
            row.problem("customer_id", raw, "is not a customer in the customers file")
            continue
        if not rep:
            problems.append(f"{row.where('rep_id')}: is empty for customer '{cid}'; give a rep id")
            continue
        if "locked" in columns and _locked_cell(row):
            locked.add(cid)
        found[cid] = rep
    missing = [c for c in customers if c.id not in found and c.id not in seen]
    if missing:
        ids = ", ".join(f"'{c.id}'" for c in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        problems.append(
            f"{table.source}: {len(missing)} customers have no row ({ids}{more}); every customer "
            "needs a rep"
        )
    _raise(problems, table.source, "assignments file")
    return Split(
        rep_ids={c.id: found[c.id] for c in customers if c.id in found},
        rows={cid: seen[cid] for cid in found},
        locked=frozenset(locked) if "locked" in columns else None,
        source=table.source,
    )


def _locked_cell(row: _Row) -> bool:
    """The ``locked`` cell as a bool (a problem is recorded for anything else)."""
    raw = row.raw("locked")
    if isinstance(raw, bool):
        return raw
    text = _text(raw).casefold()
    if text in LOCKED_TRUE:
        return True
    if text not in LOCKED_FALSE:
        row.problem(
            "locked",
            raw,
            "is not true or false; use true/false, yes/no, ja/nee or 1/0 (empty: not locked)",
        )
    return False


def load_assignments(path: str | Path, customers: Sequence[Customer]) -> dict[str, str]:
    """Read an assignment (customer id -> rep id), e.g. a plan's assignments.csv or today's split.

    Every customer must appear exactly once with a non-empty rep id; ids not among
    ``customers`` are errors (see :func:`load_split`, which also reads the ``locked`` column).

    Returns
    -------
    dict
        customer_id -> rep_id, in the order of ``customers``.
    """
    return load_split(path, customers).rep_ids


def apply_split(
    customers: Sequence[Customer], split: Split, rep_ids: Sequence[str]
) -> tuple[Customer, ...]:
    """The customers with ``split`` as the split in force: the start of a new design.

    Each customer's ``current_rep`` becomes its rep in the file (so ``changed``, ``moved`` and
    ``--max-moved`` count against the file); where the file has a ``locked`` column, its
    ``locked_rep`` becomes that rep when locked and empty when not.

    Raises
    ------
    InputError
        A rep id in the file that is not one of ``rep_ids``, one line per row (naming it).
    """
    known = set(rep_ids)
    listed = ", ".join(rep_ids[:10]) + (" ..." if len(rep_ids) > 10 else "")
    problems = [
        f"{split.source}, row {split.rows[cid]}: customer '{cid}' has rep '{rep}', which is "
        f"not in the reps file; use one of {listed}"
        for cid, rep in split.rep_ids.items()
        if rep not in known
    ]
    _raise(problems, split.source, "assignments file")
    out = []
    for c in customers:
        rep = split.rep_ids[c.id]
        lock = c.locked_rep if split.locked is None else (rep if c.id in split.locked else "")
        out.append(replace(c, current_rep=rep, locked_rep=lock))
    return tuple(out)


def check_locked_reps(
    customers: Sequence[Customer], reps: Sequence[Rep], source: str = "customers.csv"
) -> None:
    """Every ``locked_rep`` must be one of the reps; ``current_rep`` may name a rep who left.

    Raises
    ------
    InputError
        One line per customer locked to an unknown rep, naming the known rep ids.
    """
    rep_ids = {r.id for r in reps}
    known = ", ".join(sorted(rep_ids))
    problems = [
        f"{source}, row {c.row}, column 'locked_rep': '{c.locked_rep}' is not a rep in the reps "
        f"file; use one of {known} or leave it empty"
        for c in customers
        if c.locked_rep and c.locked_rep not in rep_ids
    ]
    _raise(problems, source, "customers file")
    gone = sorted({c.current_rep for c in customers if c.current_rep} - rep_ids)
    if gone:
        log.info("%s: current_rep ids not among the reps (counted as changes): %s", source, gone)
