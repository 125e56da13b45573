"""One bad input file per failure mode (tests/data/bad), each beside a valid neighbour.

``customers_ok.csv`` and ``reps_ok.csv`` are the valid neighbours: every bad row file differs
from its neighbour in exactly the row the message must name, so the test proves that this one
change, and nothing else, is what the loader refuses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from territory.exceptions import InputError
from territory.load import load_customers, load_reps
from territory.params import Config

BAD = Path(__file__).parent / "data" / "bad"

# mode -> (spreadsheet row, column as written, quoted value, words of what is accepted)
CUSTOMER_ROW_CASES = {
    "empty_id": (3, "id", None, "every row needs a unique id"),
    "duplicate_id": (4, "id", "K1", "duplicate of row 2"),
    "lat_not_number": (2, "lat", "52.3x", "WGS84 degrees"),
    "lat_out_of_range": (4, "lat", "952.09", "from -90 to 90"),
    "lon_out_of_range": (5, "lon", "547.8", "from -180 to 180"),
    "swapped_out_of_range": (4, "lat", "-122.42", "look swapped"),
    "visits_negative": (4, "visits", "-1", "whole number 0 or more"),
    "visits_fraction": (4, "visits", "1.5", "whole number 0 or more"),
    "visit_minutes_zero": (5, "visit_minutes", "0", "above 0"),
    "potential_negative": (3, "potential", "-500", "0 or more"),
    "potential_not_number": (3, "potential", "veel", "amount in EUR"),
    "bad_time": (2, "open", "9u", "HH:MM"),
    "close_before_open": (6, "close", "09:00", "after opening"),
    "bad_weekday": (3, "days", "mon,fir", "mon,wed,fri"),
    "unknown_class": (4, "class", "D", "one of A, B, C"),
    "lat_without_lon": (5, "lat", "51.44083", "fill in both lat and lon"),
}
REP_ROW_CASES = {
    "capacity_zero": (3, "capacity", "0", "above 0 and at most 2"),
    "capacity_too_big": (4, "capacity", "2.5", "above 0 and at most 2"),
    "end_before_start": (2, "end", "07:30", "end must come after the start"),
    "bad_weekday": (3, "days", "maandag-vrijdagg", "mon,wed,fri"),
}


@pytest.fixture
def config() -> Config:
    """Default classes A/B/C: A visits last 60 minutes (the window case relies on it)."""
    return Config()


def _differing_rows(a: Path, b: Path) -> list[int]:
    la = a.read_text(encoding="utf-8").splitlines()
    lb = b.read_text(encoding="utf-8").splitlines()
    assert len(la) == len(lb)
    return [i + 1 for i, (x, y) in enumerate(zip(la, lb, strict=True)) if x != y]


def _assert_one_line(message: str, path: Path, row: int | None, column: str | None, value) -> None:
    assert "\n" not in message
    assert message.startswith(str(path))
    if row is not None:
        assert f"row {row}" in message
    if column is not None:
        assert f"column '{column}'" in message or f"'{column}'" in message
    if value is not None:
        assert f"'{value}'" in message


def test_valid_neighbours_load(config: Config) -> None:
    assert len(load_customers(BAD / "customers_ok.csv", config)) == 6
    assert len(load_reps(BAD / "reps_ok.csv", config)) == 3


@pytest.mark.parametrize("mode", sorted(CUSTOMER_ROW_CASES))
def test_bad_customer_rows(config: Config, mode: str) -> None:
    row, column, value, accepted = CUSTOMER_ROW_CASES[mode]
    path = BAD / f"customers_{mode}.csv"
    assert _differing_rows(path, BAD / "customers_ok.csv") == [row]
    with pytest.raises(InputError) as info:
        load_customers(path, config)
    message = str(info.value)
    _assert_one_line(message, path, row, column, value)
    assert accepted in message


@pytest.mark.parametrize("mode", sorted(REP_ROW_CASES))
def test_bad_rep_rows(config: Config, mode: str) -> None:
    row, column, value, accepted = REP_ROW_CASES[mode]
    path = BAD / f"reps_{mode}.csv"
    assert _differing_rows(path, BAD / "reps_ok.csv") == [row]
    with pytest.raises(InputError) as info:
        load_reps(path, config)
    message = str(info.value)
    _assert_one_line(message, path, row, column, value)
    assert accepted in message


def test_swapped_coordinates_within_range_are_named(config: Config) -> None:
    """lat 6.57 / lon 53.22 is a valid point (in the Indian Ocean) but not beside the other rows."""
    path = BAD / "customers_swapped_in_range.csv"
    assert _differing_rows(path, BAD / "customers_ok.csv") == [6]
    with pytest.raises(InputError) as info:
        load_customers(path, config)
    message = str(info.value)
    _assert_one_line(message, path, 6, "lat", "6.56667")
    assert "'53.21917'" in message and "look swapped" in message


def test_row_without_any_location(config: Config) -> None:
    path = BAD / "customers_no_location.csv"
    assert _differing_rows(path, BAD / "customers_ok.csv") == [7]
    with pytest.raises(InputError) as info:
        load_customers(path, config)
    _assert_one_line(str(info.value), path, 7, None, None)
    assert "no lat/lon and no street, postcode or city" in str(info.value)


def test_extra_cells_from_decimal_commas_in_a_comma_file(config: Config) -> None:
    """'52,09083' unquoted in a comma file shifts the cells: one message, not a cascade."""
    path = BAD / "customers_extra_cells.csv"
    assert _differing_rows(path, BAD / "customers_ok.csv") == [4]
    with pytest.raises(InputError) as info:
        load_customers(path, config)
    _assert_one_line(str(info.value), path, 4, None, "Utrecht")
    assert "has 14 cells but the header has 12 columns" in str(info.value)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("customers_missing_id_column.csv", "no 'id' column in the header"),
        ("customers_empty.csv", "the file is empty"),
        ("customers_header_only.csv", "no data rows"),
        ("customers_unknown_type.json", "unknown file type '.json'"),
        ("customers_unreadable.xlsx", "not a readable .xlsx workbook"),
    ],
)
def test_bad_files(config: Config, name: str, words: str) -> None:
    """Whole-file problems; the neighbour is customers_ok.csv (same content, where any)."""
    path = BAD / name
    with pytest.raises(InputError) as info:
        load_customers(path, config)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path)) and words in message
    if name == "customers_missing_id_column.csv":
        assert "row 1" in message and "klantnummer" in message
    if name in ("customers_unknown_type.json", "customers_unreadable.xlsx"):
        assert path.read_bytes() == (BAD / "customers_ok.csv").read_bytes()


def test_missing_file_and_folder(config: Config, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_customers(tmp_path / "nope.csv", config)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        load_customers(tmp_path / "dir.csv", config)


def test_old_xls_gets_advice(config: Config, tmp_path: Path) -> None:
    path = tmp_path / "klanten.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"save as .xlsx or CSV"):
        load_customers(path, config)


def test_damaged_workbooks(config: Config, tmp_path: Path) -> None:
    """A zip that is not a workbook, and a workbook with broken XML, give the same one line."""
    import zipfile

    from openpyxl import Workbook

    not_a_workbook = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(not_a_workbook, "w") as zf:
        zf.writestr("hello.txt", "hello")
    good = tmp_path / "good.xlsx"
    wb = Workbook()
    wb.active.append(["id", "lat", "lon"])
    wb.active.append(["K1", 52.0, 5.0])
    wb.save(good)
    assert load_customers(good, config)[0].id == "K1"
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]
            dst.writestr(item, data)
    for path in (not_a_workbook, broken):
        with pytest.raises(InputError) as info:
            load_customers(path, config)
        assert str(info.value).startswith(f"{path}: not a readable .xlsx workbook")
