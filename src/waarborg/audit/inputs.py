"""Input to the cube: column roles, validation with file/row/column errors, batched reading."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from waarborg.errors import DataError
from waarborg.tables import TableLike, read_table

# --------------------------------------------------------------------------- roles


@dataclass(frozen=True)
class Roles:
    """Which column plays which role in the data (or in a cube).

    Parameters
    ----------
    groups
        Group attributes (e.g. sex, migration background).
    outcome
        The observed outcome, 0/1 or false/true.
    score
        The instrument's score or predicted probability (numeric).
    band
        The band or category (laag/midden/hoog, 1-6, ...).
    selected
        A 0/1 column saying who was selected, when selection is not a set of bands.
    count
        Number of cases per row, for aggregated data (a cube has one too).
    """

    groups: tuple[str, ...] = ()
    outcome: str | None = None
    score: str | None = None
    band: str | None = None
    selected: str | None = None
    count: str | None = None

    def columns(self) -> list[str]:
        """The input columns these roles read, in a fixed order."""
        single = (self.outcome, self.score, self.band, self.selected, self.count)
        return [*self.groups, *(c for c in single if c is not None)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "groups": list(self.groups),
            "outcome": self.outcome,
            "score": self.score,
            "band": self.band,
            "selected": self.selected,
            "count": self.count,
        }


def split_names(value: str | Sequence[str] | None) -> list[str] | None:
    """``"a,b"``, ``["a", "b"]`` or ``["a,b"]`` -> ``["a", "b"]``; None (or empty) -> None.

    Examples
    --------
    >>> split_names("midden, hoog")
    ['midden', 'hoog']
    """
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    out = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
    return out or None


# --------------------------------------------------------------------------- validation


def check_columns(names: Sequence[str], roles: Roles, source: str) -> None:
    """Raise a :class:`DataError` naming the first needed column that is missing.

    Also refuses one column given for two roles.

    Examples
    --------
    >>> check_columns(["sex", "y"], Roles(groups=("sex",), outcome="y"), "x.csv")
    >>> check_columns(["sex"], Roles(outcome="y"), "x.csv")
    Traceback (most recent call last):
    ...
    waarborg.errors.DataError: x.csv, column y: missing column (the data has: sex)
    """
    needed = roles.columns()
    for column in needed:
        if column not in names:
            have = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
            raise DataError(f"missing column (the data has: {have})", source, column=column)
    seen: set[str] = set()
    for column in needed:
        if column in seen:
            raise DataError("the same column is given for two roles", source, column=column)
        seen.add(column)


def validate_batch(
    batch: pa.RecordBatch | pa.Table, source: str, roles: Roles, offset: int = 0
) -> None:
    """The one place that checks row-level (or aggregated) input; raises DataError.

    Checks the role columns present in ``batch``: no nulls; outcome and selected are
    binary; the score is a finite number; counts are whole, non-negative numbers.
    Errors name the file, the row (1-based, header not counted; ``offset`` is the
    number of rows before this batch) and the column.
    """
    names = batch.schema.names
    for column in (c for c in roles.columns() if c in names):
        col = batch.column(column)
        if col.null_count:
            raise _fail(
                "missing value: fill it with an explicit category (e.g. 'unknown') or drop the row",
                source,
                column,
                as_mask(col.is_null()),
                offset,
            )
        if column in (roles.outcome, roles.selected):
            _check_binary(col, source, column, offset)
        elif column == roles.score:
            _check_number(col, source, column, "the score", offset)
        elif column == roles.count:
            _check_count(col, source, column, offset)


def _fail(
    message: str, source: str, column: str, bad: np.ndarray | None = None, offset: int = 0
) -> DataError:
    """A DataError at the first row where ``bad`` is true (no row when ``bad`` is None)."""
    row = offset + int(np.flatnonzero(bad)[0]) + 1 if bad is not None and bad.any() else None
    return DataError(message, source, row=row, column=column)


def _first(col: pa.Array | pa.ChunkedArray, mask: np.ndarray) -> Any:
    return col[int(np.flatnonzero(mask)[0])].as_py()


def _check_binary(col: pa.Array, source: str, column: str, offset: int) -> None:
    kind = col.type
    if pa.types.is_boolean(kind):
        return
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        first = col[0].as_py() if len(col) else None
        raise _fail(
            f"must be 0/1 or false/true, found {kind} values such as {first!r}",
            source,
            column,
            np.ones(1, bool) if len(col) else None,
            offset,
        )
    bad = pc.and_(pc.not_equal(col, 0), pc.not_equal(col, 1))
    if pc.any(bad).as_py():
        mask = as_mask(bad)
        message = f"must be 0/1 or false/true, found {_first(col, mask)!r}"
        raise _fail(message, source, column, mask, offset)


def _check_number(col: pa.Array, source: str, column: str, what: str, offset: int) -> None:
    kind = col.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise _fail(f"{what} must be numeric, found {kind}", source, column)
    if pa.types.is_floating(kind):
        bad = pc.invert(pc.is_finite(col))
        if pc.any(bad).as_py():
            raise _fail(f"{what} must be a finite number", source, column, as_mask(bad), offset)


def _check_count(col: pa.Array, source: str, column: str, offset: int) -> None:
    _check_number(col, source, column, "a count", offset)
    bad = pc.or_(pc.less(col, 0), pc.not_equal(col, pc.round(col)))
    if pc.any(bad).as_py():
        mask = as_mask(bad)
        message = f"a count must be a whole number >= 0, found {_first(col, mask)!r}"
        raise _fail(message, source, column, mask, offset)


def as_mask(bad: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool)


# --------------------------------------------------------------------------- reading

_BATCH = 1 << 20  # rows per batch of the one pass: memory stays small and warm


@dataclass
class Rows:
    """Row-level (or aggregated) input, read in batches of about ``_BATCH`` rows.

    Attributes
    ----------
    source : str
        The file (or ``"<table>"``), for error messages.
    num_rows : int
        Number of rows.
    """

    source: str
    num_rows: int
    read: Callable[[list[str]], Iterator[pa.RecordBatch]]

    def batches(self, columns: list[str]) -> Iterator[tuple[int, pa.RecordBatch]]:
        """(rows before the batch, batch) for the given columns."""
        offset = 0
        for batch in self.read(columns):
            yield offset, batch
            offset += batch.num_rows


def open_rows(data: TableLike, roles: Roles) -> Rows:
    """Open an input for batch reads after checking it has the needed columns."""
    if isinstance(data, str | os.PathLike) and Path(data).suffix.lower() == ".parquet":
        return _open_parquet(Path(data), roles)
    table, source = read_table(data)
    check_columns(table.column_names, roles, source)
    table = table.select(roles.columns()).combine_chunks()

    def read(columns: list[str]) -> Iterator[pa.RecordBatch]:
        return iter(table.select(columns).to_batches(max_chunksize=_BATCH))

    return Rows(source, table.num_rows, read)


def _open_parquet(path: Path, roles: Roles) -> Rows:
    """Parquet: only the needed columns, strings as the file's dictionaries, row groups."""
    if not path.exists():
        raise DataError("no such file", str(path))
    try:
        schema = pq.read_schema(path)
        check_columns(schema.names, roles, str(path))
        strings = [
            c
            for c in roles.columns()
            if pa.types.is_string(schema.field(c).type)
            or pa.types.is_large_string(schema.field(c).type)
        ]
        file = pq.ParquetFile(path, read_dictionary=strings)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"cannot read the file: {exc}", str(path)) from None

    def read(columns: list[str]) -> Iterator[pa.RecordBatch]:
        try:
            for groups in _row_group_runs(file):
                yield from file.read_row_groups(groups, columns=columns).to_batches()
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"cannot read the file: {exc}", str(path)) from None

    return Rows(str(path), file.metadata.num_rows, read)


def _row_group_runs(file: pq.ParquetFile) -> Iterator[list[int]]:
    """Consecutive row groups with about ``_BATCH`` rows together."""
    run, size = [], 0
    for i in range(file.num_row_groups):
        run.append(i)
        size += file.metadata.row_group(i).num_rows
        if size >= _BATCH:
            yield run
            run, size = [], 0
    if run:
        yield run


def checked_batches(rows: Rows, columns: list[str], roles: Roles) -> Iterator[pa.RecordBatch]:
    """The batches of ``rows``, each validated before use."""
    for offset, batch in rows.batches(columns):
        validate_batch(batch, rows.source, roles, offset)
        yield batch


def count_weights(batch: pa.RecordBatch, roles: Roles) -> np.ndarray | None:
    return None if roles.count is None else as_floats(batch.column(roles.count))


def as_floats(col: pa.Array) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)


def as_text(values: pa.Array) -> pa.Array:
    """Category labels as strings (so cubes from CSV and Parquet agree)."""
    if pa.types.is_floating(values.type) and len(values):
        as_int = pc.cast(values, pa.int64(), safe=False)
        if pc.all(pc.equal(pc.cast(as_int, values.type), values)).as_py():
            values = as_int  # 1.0 is written as 1, as in a CSV file
    return pc.cast(values, pa.string())


def dictionary_codes(col: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(codes, dictionary) of a categorical batch column."""
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    return col.indices.to_numpy(zero_copy_only=False), col.dictionary
