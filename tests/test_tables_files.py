"""Files as ministries have them: Dutch CSV (';' and decimal comma), spreadsheets, errors."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from waarborg import score
from waarborg.audit import build_cube
from waarborg.cli import app
from waarborg.errors import DataError
from waarborg.tables import csv_dialect, fingerprint, read_table

ROWS = [
    (1, "mbo", 19, 0.4),
    (2, "wo", 30, 50.0),
    (3, "hbo", 22, 36.6),
]
HEADER = ("case_id", "education_type", "age", "distance_to_parents_km")


def _write(path: Path, sep: str, decimal: str, encoding: str = "utf-8") -> Path:
    lines = [sep.join(HEADER)]
    for row in ROWS:
        cells = [str(v).replace(".", decimal) if isinstance(v, float) else str(v) for v in row]
        lines.append(sep.join(cells))
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def _plain(tmp_path: Path) -> list[str]:
    return _bands(_write(tmp_path / "plain.csv", ",", "."))


def _bands(data: object) -> list[str]:
    return score("generic-selection", data).column("band_selection").to_pylist()


def test_dutch_excel_csv_is_read_as_the_plain_one(tmp_path: Path) -> None:
    dutch = _write(tmp_path / "dutch.csv", ";", ",")
    table, _ = read_table(dutch)
    assert table.column("distance_to_parents_km").to_pylist() == [0.4, 50.0, 36.6]
    assert table.column("age").to_pylist() == [19, 30, 22]
    assert _bands(dutch) == _plain(tmp_path)


def test_windows_1252_and_tabs_are_read(tmp_path: Path) -> None:
    path = tmp_path / "tabs.csv"
    lines = ["\t".join((*HEADER, "note"))]
    lines += [
        "\t".join((str(a), b, str(c), str(d).replace(".", ","), "café")) for a, b, c, d in ROWS
    ]
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    table, _ = read_table(path)
    assert table.column("note").to_pylist() == ["café"] * 3
    assert table.column("distance_to_parents_km").to_pylist() == [0.4, 50.0, 36.6]


def test_explicit_dialect_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("a|b\n1|2,5\n3|4,0\n", encoding="utf-8")
    with csv_dialect(sep="|", decimal=","):
        table, _ = read_table(path)
    assert table.column("b").to_pylist() == [2.5, 4.0]
    with csv_dialect(sep="|", decimal="."):
        table, _ = read_table(path)
    assert table.column("b").to_pylist() == ["2,5", "4,0"]


def test_a_parse_error_says_what_was_found_and_which_option_fixes_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("a;b,c\n1;2,3\n4;5;6;7\n", encoding="utf-8")
    with pytest.raises(DataError) as caught, csv_dialect(sep=";"):
        read_table(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot read the CSV file")
    assert "separated by ';'" in message and "--sep" in message and "','" in message


def test_xlsx_is_read_with_types(tmp_path: Path) -> None:
    path = tmp_path / "cases.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    book.save(path)
    table, source = read_table(path)
    assert source == str(path)
    assert table.column("age").to_pylist() == [19, 30, 22]
    assert table.column("education_type").to_pylist() == ["mbo", "wo", "hbo"]
    assert _bands(path) == _plain(tmp_path)


def test_a_spreadsheet_column_without_a_name_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "cases.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["age", None, "x"])
    book.active.append([1, 2, 3])
    book.save(path)
    with pytest.raises(DataError, match="column 2 of the first row has no name"):
        read_table(path)


def test_cli_takes_sep_and_decimal(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(
        "case_id|education_type|age|distance_to_parents_km\n1|mbo|19|0,4\n", encoding="utf-8"
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app,
        ["--sep", "|", "--decimal", ",", "score", "generic-selection", str(path), "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.exists()
    bad = CliRunner().invoke(
        app, ["--sep", ";;", "score", "generic-selection", str(path), "-o", "x.csv"]
    )
    assert bad.exit_code == 2 and "one character" in bad.output


def test_explain_names_the_case_file_and_the_offending_value(tmp_path: Path) -> None:
    case = tmp_path / "bad.json"
    case.write_text(json.dumps({"education_type": "hbo", "age": 230, "distance_to_parents_km": 3}))
    result = CliRunner().invoke(app, ["explain", "generic-selection", "--case", str(case)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert f"{case}, column age: value 230 is outside the range" in text
    assert "<table>" not in text


def test_the_same_data_has_one_fingerprint_whatever_lies_under_its_nulls(tmp_path: Path) -> None:
    def ints(under_null: int) -> pa.Array:  # [1, null, 3] with a chosen byte under the null
        values = pa.py_buffer(bytes([1, under_null, 3]))
        return pa.Array.from_buffers(pa.int8(), 3, [pa.py_buffer(bytes([0b101])), values])

    other = {
        "f": pa.array([0.5, None, 2.0]),
        "s": pa.array(["a", None, "c"]),
        "b": pa.array([True, None, False]),
        "d": pa.array([dt.date(2020, 1, 1), None, dt.date(2021, 1, 1)]),
        "t": pa.array([dt.datetime(2020, 1, 1), None, None], pa.timestamp("us")),
    }
    first = pa.table({"i": ints(7), **other})
    second = pa.table({"i": ints(99), **other})
    assert first.equals(second)
    assert fingerprint(first) == fingerprint(second)
    pq.write_table(first, tmp_path / "t.parquet")
    assert fingerprint(pq.read_table(tmp_path / "t.parquet")) == fingerprint(first)
    zero_not_null = first.set_column(0, "i", pa.array([1, 0, 3], pa.int8()))
    assert fingerprint(zero_not_null) != fingerprint(first)


class _OtherFrame:
    """A data frame of another library: it converts itself to Arrow, nothing more."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def to_arrow(self) -> pa.Table:
        return self.table


@pytest.mark.parametrize("shared", [False, True])
def test_objects_with_to_arrow_that_are_no_polars_frames_are_read_by_it(shared: bool) -> None:
    rows = pa.table({"g": ["a", "b", "a"], "y": [1, 0, 1]})
    built = build_cube(rows, group=["g"], outcome="y")
    assert read_table(built, shared_categories=shared)[0].equals(built.to_arrow())
    assert read_table(_OtherFrame(rows), shared_categories=shared)[0].equals(rows)
    with pytest.raises(TypeError, match="cannot read Series"):
        read_table(pl.Series("g", ["a", "b"]), shared_categories=shared)


def test_reading_another_frame_does_not_import_polars() -> None:
    code = (
        "import sys, pyarrow as pa\n"
        "from waarborg.tables import read_table\n"
        "class Frame:\n"
        "    def to_arrow(self):\n"
        "        return pa.table({'x': [1]})\n"
        "assert read_table(Frame(), shared_categories=True)[0].num_rows == 1\n"
        "print('polars' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
