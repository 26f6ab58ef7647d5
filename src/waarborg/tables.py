"""Reading and writing tables: one place that turns every accepted input into Arrow.

waarborg accepts pandas and polars data frames, pyarrow tables, and CSV, Parquet and
spreadsheet (.xlsx, .xlsm, .xls, .ods) files. Everything is converted to a
:class:`pyarrow.Table` here, so the rest of the code sees one type. Writing is atomic:
a file is written next to its destination and renamed into place only when complete,
so a failure never leaves a half-written file.

CSV files as Dutch spreadsheet programs write them (``;`` between fields, a decimal
comma) are read without options: the separator is detected from the first lines and a
text column whose every value is a number with a decimal comma becomes a number. Both
can be set instead (:func:`csv_dialect`, or ``waarborg --sep ';' --decimal ','``).
Missing values in a CSV file are empty fields and the usual null spellings (``NA``,
``N/A``, ``NULL``, ``null``, ``NaN``, ``nan``, ``#N/A``, ``-NaN``, …: pyarrow's
defaults); in a spreadsheet, empty cells.
"""

from __future__ import annotations

import contextvars
import csv
import datetime as dt
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc
import pyarrow.parquet as pq

from waarborg.errors import DataError
from waarborg.i18n import Message

TableLike = Any
"""pandas / polars DataFrame, pyarrow Table, or a path to a CSV, Parquet or spreadsheet file."""

SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
SEPARATORS = ",;\t|"
_SAMPLE_BYTES = 1 << 16
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+(,\d+)?([eE][+-]?\d+)?\s*$")


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is written: field separator and decimal mark (None: detect)."""

    sep: str | None = None
    decimal: str | None = None


_dialect: contextvars.ContextVar[CsvDialect | None] = contextvars.ContextVar(
    "csv_dialect", default=None
)


@contextmanager
def csv_dialect(sep: str | None = None, decimal: str | None = None) -> Iterator[CsvDialect]:
    """Read CSV files with this separator and decimal mark inside the ``with`` block.

    Examples
    --------
    >>> with csv_dialect(sep=";", decimal=","):
    ...     pass  # read_table("cases.csv") reads "1;36,6" as 1 and 36.6
    """
    if sep is not None and len(sep) != 1:
        raise ValueError(f"a CSV separator is one character, not {sep!r}")
    if decimal not in (None, ".", ","):
        raise ValueError(f"the decimal mark is '.' or ',', not {decimal!r}")
    token = _dialect.set(CsvDialect(sep, decimal))
    try:
        yield CsvDialect(sep, decimal)
    finally:
        _dialect.reset(token)


def read_table(data: TableLike, *, shared_categories: bool = False) -> tuple[pa.Table, str]:
    """Convert ``data`` to a pyarrow Table; also return a name for it used in errors.

    ``shared_categories``: a polars Categorical column becomes a dictionary column over
    all the categories it shares with other columns (:func:`polars_table`), which costs
    nothing, instead of polars' ``to_arrow``, which renumbers every row to the categories
    the column uses. For readers that count by category and keep only non-empty cells
    (the cube); a dictionary there may hold values that no row has.

    Examples
    --------
    >>> table, source = read_table({"case_id": [1, 2]})
    >>> table.num_rows, source
    (2, '<table>')
    """
    if isinstance(data, pa.Table):
        return data, "<table>"
    if isinstance(data, str | os.PathLike):
        return _read_file(Path(data)), str(data)
    if isinstance(data, dict):
        return pa.table(data), "<table>"
    if shared_categories and _is_polars_frame(data):
        return polars_table(data), "<table>"
    arrow = data.to_arrow() if hasattr(data, "to_arrow") else None  # polars, a Cube, ...
    if isinstance(arrow, pa.Table):
        return arrow, "<table>"
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):  # pandas
        return pa.Table.from_pandas(data, preserve_index=False), "<table>"
    raise TypeError(
        f"cannot read {type(data).__name__}: give a pandas or polars DataFrame, a pyarrow "
        "Table, or the path of a .csv or .parquet file"
    )


def _is_polars_frame(data: Any) -> bool:
    """Whether ``data`` is a polars DataFrame, without importing polars: if polars is
    not loaded, nothing can be one of its frames.
    """
    polars = sys.modules.get("polars")
    return polars is not None and isinstance(data, polars.DataFrame)


def polars_table(frame: Any) -> pa.Table:
    """A polars DataFrame as Arrow, Categorical columns as their physical codes.

    polars numbers a Categorical column's values in a mapping it shares with other
    columns (its ``Categories``); the codes index that mapping's list of values, so the
    codes and the list make an Arrow dictionary column without touching a row. The
    dictionary may hold values of other columns. Enum and other columns are converted by
    polars (an Enum's codes already index its own categories).

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({"g": pl.Series(["b", "a", None, "b"], dtype=pl.Categorical)})
    >>> polars_table(frame).column("g").cast(pa.string()).to_pylist()
    ['b', 'a', None, 'b']
    """
    import polars as pl

    shared = [name for name, kind in frame.schema.items() if isinstance(kind, pl.Categorical)]
    table = frame.with_columns(pl.col(shared).to_physical()).to_arrow()
    for name in shared:  # the categories after the codes: the list only grows
        values = frame.schema[name].categories.to_series().to_arrow()
        codes = table.column(name)
        chunks = [pa.DictionaryArray.from_arrays(c, values, safe=False) for c in codes.chunks]
        kind = pa.dictionary(codes.type, values.type)
        table = table.set_column(
            table.schema.get_field_index(name), name, pa.chunked_array(chunks, kind)
        )
    return table


def _read_file(path: Path) -> pa.Table:
    if not path.exists():
        raise DataError(Message("no such file", domain="reports"), str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(path)
        if suffix in (".csv", ".tsv"):
            return _read_csv(path, _dialect.get() or CsvDialect())
        if suffix in SPREADSHEETS:
            return _read_spreadsheet(path)
    except (OSError, pa.ArrowInvalid) as exc:
        reason = Message("cannot read the file: %(error)s", domain="reports", error=exc)
        raise DataError(reason, str(path)) from None
    unknown = Message(
        "unknown file type %(suffix)s: use .csv, .parquet or a spreadsheet (%(spreadsheets)s)",
        domain="reports",
        suffix=suffix or Message("(none)", domain="reports"),
        spreadsheets=", ".join(SPREADSHEETS),
    )
    raise DataError(unknown, str(path))


def _read_csv(path: Path, dialect: CsvDialect) -> pa.Table:
    """A CSV file with the given or detected separator and decimal mark."""
    sample, encoding = _sample(path)
    sep = dialect.sep or ("\t" if path.suffix.lower() == ".tsv" else _detect_separator(sample))
    parse = pacsv.ParseOptions(delimiter=sep)
    read = pacsv.ReadOptions(encoding=encoding)
    convert = pacsv.ConvertOptions(strings_can_be_null=True)
    try:
        table = pacsv.read_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )
    except pa.ArrowInvalid as exc:
        raise DataError(_csv_advice(exc, sep, sample), str(path)) from None
    decimal = dialect.decimal or ("," if sep != "," else ".")
    return _decimal_commas(table) if decimal == "," else table


def _sample(path: Path) -> tuple[str, str]:
    """The first lines of a file as text, and its encoding (UTF-8, else Windows-1252)."""
    with path.open("rb") as handle:
        raw = handle.read(_SAMPLE_BYTES)
    try:
        return raw.decode("utf-8-sig"), "utf8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 4:  # a character cut off by the sample's end
            return raw[: exc.start].decode("utf-8-sig"), "utf8"
        return raw.decode("cp1252", errors="replace"), "cp1252"


def _detect_separator(sample: str) -> str:
    """The separator of a CSV sample: csv.Sniffer, else the most frequent in line one."""
    lines = sample.splitlines()[:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=SEPARATORS).delimiter
    except csv.Error:
        counts = {sep: lines[0].count(sep) for sep in SEPARATORS}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","


def _csv_advice(exc: Exception, sep: str, sample: str) -> str:
    """A CSV parse error, with what was found and which option would fix it."""
    shown = {"\t": "tab", ",": "','", ";": "';'", "|": "'|'"}.get(sep, repr(sep))
    header = sample.splitlines()[0] if sample.splitlines() else ""
    fields = len(next(csv.reader([header], delimiter=sep), []))
    others = [x for x in SEPARATORS if x != sep and header.count(x)]
    hint = (
        f"; the first line also contains {', '.join(repr(x) for x in others)}: "
        f"if that is the separator, give --sep (for example --sep '{others[0]}')"
        if others
        else "; check the quoting of fields that contain the separator, or give --sep"
    )
    return f"cannot read the CSV file ({exc}); found {fields} column(s) separated by {shown}{hint}"


def _decimal_commas(table: pa.Table) -> pa.Table:
    """Text columns whose every value is a number with a decimal comma, as numbers."""
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            continue
        values = [v for v in column.to_pylist() if v is not None and v.strip() != ""]
        if not values or not all(_DECIMAL_COMMA.match(v) for v in values):
            continue
        numbers = [
            None if v is None or v.strip() == "" else float(v.replace(",", "."))
            for v in column.to_pylist()
        ]
        table = table.set_column(i, name, pa.array(numbers, pa.float64()))
    return table


def _read_spreadsheet(path: Path) -> pa.Table:
    """The first sheet of a spreadsheet: header in row 1, one typed column per header."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        rows = workbook.get_sheet_by_index(0).to_python()
    except (CalamineError, ValueError) as exc:
        raise DataError(f"cannot read the spreadsheet: {exc}", str(path)) from None
    if not rows:
        raise DataError("the first sheet is empty", str(path))
    header = [str(h).strip() for h in rows[0]]
    while header and header[-1] == "":
        header.pop()
    for number, name in enumerate(header, start=1):
        if name == "":
            raise DataError(f"column {number} of the first row has no name", str(path), row=0)
    body = [row for row in rows[1:] if any(v != "" for v in row)]
    columns = {
        name: _spreadsheet_column([row[i] if i < len(row) else "" for row in body])
        for i, name in enumerate(header)
    }
    return pa.table(columns)


def _spreadsheet_column(values: list[Any]) -> pa.Array:
    """One column's cells as an Arrow array: numbers, booleans, dates, else text."""
    cells = [None if v == "" else v for v in values]
    present = [v for v in cells if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(cells, pa.bool_())
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        whole = all(float(v).is_integer() for v in present)
        return pa.array(
            [None if v is None else int(v) if whole else float(v) for v in cells],
            pa.int64() if whole else pa.float64(),
        )
    if present and all(isinstance(v, dt.datetime) for v in present):
        return pa.array(cells, pa.timestamp("us"))
    if present and all(isinstance(v, dt.date) for v in present):
        return pa.array(cells, pa.date32())
    return pa.array([None if v is None else _text(v) for v in cells], pa.string())


def _text(value: Any) -> str:
    """A cell as text; whole numbers without a trailing '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` to ``path`` (.csv or .parquet) atomically; return the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataError("unknown output type: use .csv or .parquet", str(path))
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            pq.write_table(table, tmp)
        else:
            pacsv.write_csv(_plain(table), tmp)
    return path


def _plain(table: pa.Table) -> pa.Table:
    """Decode dictionary columns, which the CSV writer does not take."""
    columns = [
        col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col
        for col in table.columns
    ]
    return pa.table(columns, names=table.column_names)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # as an ordinary new file, not mkstemp's private 0600
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_private_once(path: Path, data: bytes) -> bool:
    """Make ``path`` with ``data``, readable by its owner only (0600), unless it exists.

    For keys and secrets that several processes may make at the same start: the data is
    written to a temporary file beside ``path`` and linked into place, so exactly one
    writer wins and nobody reads half a file. Returns whether this call made it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:  # mkstemp: mode 0600
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process made it first: theirs stands
            return False
        return True
    finally:
        os.unlink(temporary)


def fingerprint(table: pa.Table, *, decode: bool = True) -> str:
    """SHA-256 of the table's content (Arrow IPC stream of its columns), for provenance.

    The same data gives the same fingerprint whichever file format it was read from:
    the table is hashed as one chunk, in record batches of 65,536 rows, without schema
    metadata, with a fixed value under each null (:func:`_canonical`).

    ``decode``: dictionary columns are hashed as their values (as the plain column of
    the same values would be); with False, as they are (indices and dictionary), for a
    caller that has made them canonical itself (the audit's cube fingerprint), which
    spares decoding every row.
    """
    digest = hashlib.sha256()
    table = _plain(table) if decode else table
    plain = _canonical(table.replace_schema_metadata(None).combine_chunks())
    sink = _HashSink(digest)
    with pa.ipc.new_stream(sink, plain.schema) as writer:
        for batch in plain.to_batches(max_chunksize=1 << 16):
            writer.write_batch(batch)
    return digest.hexdigest()


def _canonical(table: pa.Table) -> pa.Table:
    """The table with a fixed value under every null, and each null mask as a column.

    The bytes under a null are undefined in Arrow, and differ between a table built in
    memory and the same table read back from Parquet; hashing them would make the same
    data give two fingerprints.
    """
    names, columns = [], []
    for name, column in zip(table.column_names, table.columns, strict=True):
        names.append(name)
        if column.null_count == 0:
            columns.append(column)
            continue
        try:
            columns.append(pc.fill_null(column, _zero(column.type)))
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, TypeError):
            columns.append(column)  # nested types: hashed as they are
        names.append(f"{name}\x00valid")
        columns.append(pc.is_valid(column))
    return pa.table(columns, names=names)


def _zero(kind: pa.DataType) -> pa.Scalar:
    """A fixed value of ``kind`` to put under nulls."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pa.scalar("", kind)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return pa.scalar(b"", kind)
    if pa.types.is_boolean(kind):
        return pa.scalar(False)
    return pa.scalar(0, pa.int64()).cast(kind)


class _HashSink:
    """A write-only file object that feeds a hash instead of storing bytes."""

    def __init__(self, digest: hashlib._Hash) -> None:
        self.digest = digest
        self.closed = False

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush."""

    def close(self) -> None:
        self.closed = True
