"""Input to the cube: column roles, validation with file/row/column errors, batched reading."""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from waarborg.errors import DataError
from waarborg.i18n import Message, Number
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
            reason = Message("missing column (the data has: %(have)s)", domain="reports", have=have)
            raise DataError(reason, source, column=column)
    seen: set[str] = set()
    for column in needed:
        if column in seen:
            twice = Message("the same column is given for two roles", domain="reports")
            raise DataError(twice, source, column=column)
        seen.add(column)


MISSING = Message(
    "missing value: fill it with an explicit category (e.g. 'unknown') or drop the row",
    domain="reports",
)
BINARY = Message("must be 0/1 or false/true", domain="reports")
FINITE = Message("the score must be a finite number", domain="reports")
WHOLE = Message("a count must be a whole number >= 0", domain="reports")


def found(rule: Message, value: Any) -> Message:
    """A rule and the first value that breaks it: "must be 0/1 or false/true, found 2"."""
    return Message("%(rule)s, found %(value)s", domain="reports", rule=rule, value=repr(value))


def found_type(rule: Message, kind: pa.DataType, value: Any) -> Message:
    """A rule and a column of the wrong type: "…, found string values such as 'x'"."""
    return Message(
        "%(rule)s, found %(type)s values such as %(value)s",
        domain="reports",
        rule=rule,
        type=str(kind),
        value=repr(value),
    )


def in_rows(reason: str | Message, rows: int) -> Message:
    """A reason with the number of offending rows: every engine words an error so.

    Examples
    --------
    >>> str(in_rows("must be 0/1", 3)), in_rows(BINARY, 1234).translate("nl")
    ('must be 0/1 (3 rows)', 'moet 0/1 of false/true zijn (1.234 rijen)')
    """
    if rows == 1:
        return Message("%(reason)s (1 row)", domain="reports", reason=reason)
    return Message("%(reason)s (%(n)s rows)", domain="reports", reason=reason, n=Number(rows))


@dataclass(frozen=True)
class Problem:
    """The first bad value of a batch: its column, the check it fails and where."""

    column: str
    check: str  # "missing", "category", "binary", "finite" or "count"
    reason: Message
    mask: np.ndarray


def validate_batch(
    batch: pa.RecordBatch | pa.Table, source: str, roles: Roles, offset: int = 0
) -> None:
    """The one place that checks row-level (or aggregated) input; raises DataError.

    Checks the role columns present in ``batch``: no nulls (nor NaN in a
    group or band); outcome and selected are
    binary; the score is a finite number; counts are whole, non-negative numbers.
    Errors name the file, the row (1-based, header not counted; ``offset`` is the
    number of rows before this batch), the column and the number of offending rows in
    the batch (:func:`checked_batches` counts them over the whole input).
    """
    problem = find_problem(batch, source, roles)
    if problem is not None:
        raise _fail(problem, source, offset, int(problem.mask.sum()))


def find_problem(batch: pa.RecordBatch | pa.Table, source: str, roles: Roles) -> Problem | None:
    """The first problem of ``batch`` (columns in role order), or None.

    Raises a DataError at once for a column of the wrong type (no row is at fault).
    """
    names = batch.schema.names
    for column in (c for c in roles.columns() if c in names):
        col = batch.column(column)
        _check_type(col, source, column, roles)
        for check in (_missing_check(column, roles), *_value_checks(column, roles)):
            mask = bad_rows(check, col)
            if mask is not None and mask.any():
                return Problem(column, check, _reason(check, col, mask), mask)
    return None


def _missing_check(column: str, roles: Roles) -> str:
    """ "category" for a group or band column (a NaN there is missing too), else "missing"."""
    return "category" if column in roles.groups or column == roles.band else "missing"


def _value_checks(column: str, roles: Roles) -> tuple[str, ...]:
    if column in (roles.outcome, roles.selected):
        return ("binary",)
    if column == roles.score:
        return ("finite",)
    if column == roles.count:
        return ("count",)
    return ()


def bad_rows(check: str, col: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Mask of the rows that fail ``check`` (None: none can).

    Examples
    --------
    >>> bad_rows("binary", pa.array([0, 2, 1])).tolist()
    [False, True, False]
    """
    if check == "missing":
        return as_mask(col.is_null()) if col.null_count else None
    if check == "category":
        return _missing_category(col)
    if pa.types.is_boolean(col.type) or _integers_fit(check, col):
        return None
    if check == "binary":
        bad = pc.and_(pc.not_equal(col, 0), pc.not_equal(col, 1))
    elif check == "finite":
        if not pa.types.is_floating(col.type):
            return None
        bad = pc.invert(pc.is_finite(col))
    else:
        bad = pc.or_(pc.less(col, 0), pc.not_equal(col, pc.round(col)))
        if pa.types.is_floating(col.type):
            bad = pc.or_(bad, pc.invert(pc.is_finite(col)))
    return as_mask(bad) if pc.any(bad).as_py() else None


def _integers_fit(check: str, col: pa.Array | pa.ChunkedArray) -> bool:
    """Whether an integer column passes "binary" (0/1) or "count" (>= 0) as a whole: one
    ``min_max`` instead of a mask per comparison (a float column can hide a NaN from it).
    """
    if check not in ("binary", "count") or not pa.types.is_integer(col.type):
        return False
    low, high = (v.as_py() for v in pc.min_max(col).values())
    return low is None or (low >= 0 and (check == "count" or high <= 1))


def _missing_category(col: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Nulls, and NaN in a floating category column: polars, pyarrow and Parquet keep a
    NaN where pandas writes a null; in a group or band both are a missing value.
    """
    if pa.types.is_floating(col.type) and pc.any(pc.is_nan(col)).as_py():
        return as_mask(pc.or_kleene(col.is_null(), pc.is_nan(col)).fill_null(True))
    return as_mask(col.is_null()) if col.null_count else None


def _reason(check: str, col: pa.Array | pa.ChunkedArray, mask: np.ndarray) -> Message:
    if check in ("missing", "category"):
        return MISSING
    first = col[int(np.flatnonzero(mask)[0])].as_py()
    if check == "binary":
        return found(BINARY, first)
    if check == "finite":
        return FINITE if first is None or math.isnan(first) else found(FINITE, first)
    return found(WHOLE, first)


def _check_type(col: pa.Array | pa.ChunkedArray, source: str, column: str, roles: Roles) -> None:
    """Outcome and selected must be boolean or numeric; score and count numeric."""
    kind = col.type
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
    if column in (roles.outcome, roles.selected) and not (numeric or pa.types.is_boolean(kind)):
        first = col[0].as_py() if len(col) else None
        row = 1 if len(col) else None
        raise DataError(found_type(BINARY, kind, first), source, row=row, column=column)
    if column in (roles.score, roles.count) and not numeric:
        message = (
            Message("the score must be numeric, found %(type)s", domain="reports", type=str(kind))
            if column == roles.score
            else Message(
                "a count must be numeric, found %(type)s", domain="reports", type=str(kind)
            )
        )
        raise DataError(message, source, column=column)


def _fail(problem: Problem, source: str, offset: int, rows: int) -> DataError:
    """A DataError at the problem's first row, with the number of offending rows."""
    row = offset + int(np.flatnonzero(problem.mask)[0]) + 1
    return DataError(in_rows(problem.reason, rows), source, row=row, column=problem.column)


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
    stats: Callable[[str], tuple[float, float] | None] = lambda column: None

    def batches(self, columns: list[str]) -> Iterator[tuple[int, pa.RecordBatch]]:
        """(rows before the batch, batch) for the given columns."""
        offset = 0
        for batch in self.read(columns):
            yield offset, batch
            offset += batch.num_rows

    def unchecked(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """The batches of columns already validated in an earlier pass."""
        return self.read(columns)

    def score_range(self, roles: Roles) -> tuple[float, float] | None:
        """Smallest and largest score without a pass, when known ((inf, -inf): no rows).

        Known from Parquet row-group statistics or an in-memory column, not with a count
        column (rows with count 0 are no cases). Bad values (NaN, infinite, null) are
        found by the validation that follows.
        """
        if roles.score is None or roles.count is not None:
            return None
        return self.stats(roles.score)


def open_rows(data: TableLike, roles: Roles) -> Rows:
    """Open an input for batch reads after checking it has the needed columns."""
    if isinstance(data, str | os.PathLike) and Path(data).suffix.lower() == ".parquet":
        return _open_parquet(Path(data), roles)
    table, source = read_table(_needed(data, roles), shared_categories=True)
    check_columns(table.column_names, roles, source)
    table = table.select(roles.columns())

    def read(columns: list[str]) -> Iterator[pa.RecordBatch]:
        return _slices(table.select(columns))

    def stats(column: str) -> tuple[float, float] | None:
        col = table.column(column)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            return None
        return _min_max(col)

    return Rows(source, table.num_rows, read, stats)


def _needed(data: TableLike, roles: Roles) -> TableLike:
    """A pandas or polars data frame's needed columns only, once checked: converting the
    others to Arrow is wasted work (or fails on a column of mixed types). Other inputs
    (and frames with names that are not text) as they are.
    """
    columns = getattr(data, "columns", None)
    if isinstance(data, pa.Table) or columns is None:
        return data
    names = list(columns)
    if not all(isinstance(n, str) for n in names):
        return data
    check_columns(names, roles, "<table>")
    return data if len(names) == len(roles.columns()) else data[roles.columns()]


def _slices(table: pa.Table) -> Iterator[pa.RecordBatch]:
    """Batches of about ``_BATCH`` rows: a table's own chunks, cut (no copy) where they
    are longer; small chunks (as polars, pandas and concatenated tables make them) are
    joined into one batch, a batch at a time (their dictionaries unified by Arrow).
    """
    group: list[pa.RecordBatch] = []
    rows = 0
    for batch in table.to_batches(max_chunksize=_BATCH):
        if group and rows + batch.num_rows > _BATCH:
            yield _joined(group)
            group, rows = [], 0
        group.append(batch)
        rows += batch.num_rows
    if group:
        yield _joined(group)


def _joined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """One batch of the given ones (copied only if there are several)."""
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


def _min_max(col: pa.ChunkedArray) -> tuple[float, float]:
    """Smallest and largest value of a numeric column, nulls and NaN left out.

    numpy's NaN-skipping ``fmin``/``fmax`` reductions over the chunks, read without a
    copy: several times faster than Arrow's ``min_max``, with the same answer.
    """
    values = [c.to_numpy(zero_copy_only=False) for c in col.chunks if len(c) > c.null_count]
    if not values:
        return _span(None, None)
    low = np.fmin.reduce([np.fmin.reduce(v) for v in values])
    high = np.fmax.reduce([np.fmax.reduce(v) for v in values])
    return _span(low, high)


def _span(low: Any, high: Any) -> tuple[float, float]:
    """A (min, max) pair as floats; no values: (inf, -inf)."""
    if low is None or high is None:
        return math.inf, -math.inf
    return float(low), float(high)


def _unreadable(path: Path, exc: Exception) -> DataError:
    reason = Message("cannot read the file: %(error)s", domain="reports", error=exc)
    return DataError(reason, str(path))


def _open_parquet(path: Path, roles: Roles) -> Rows:
    """Parquet: only the needed columns, strings as the file's dictionaries, row groups."""
    if not path.exists():
        raise DataError(Message("no such file", domain="reports"), str(path))
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
        raise _unreadable(path, exc) from None

    def read(columns: list[str]) -> Iterator[pa.RecordBatch]:
        try:
            for groups in _row_group_runs(file):
                yield from _slices(file.read_row_groups(groups, columns=columns))
        except (pa.ArrowInvalid, OSError) as exc:
            raise _unreadable(path, exc) from None

    def stats(column: str) -> tuple[float, float] | None:
        return _row_group_span(file, column)

    return Rows(str(path), file.metadata.num_rows, read, stats)


def _row_group_span(file: pq.ParquetFile, column: str) -> tuple[float, float] | None:
    """Min and max of a numeric column from the row groups' statistics (None: not all have
    them). Writers leave NaN out of them; the validation finds NaN.
    """
    meta = file.metadata
    field = file.schema_arrow.field(column)
    if not (pa.types.is_integer(field.type) or pa.types.is_floating(field.type)):
        return None
    index = [meta.schema.column(i).path for i in range(meta.num_columns)].index(column)
    low, high = math.inf, -math.inf
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        stats = group.column(index).statistics
        if group.num_rows == 0:
            continue
        if stats is None or not stats.has_min_max or math.isnan(stats.min + stats.max):
            return None
        low, high = min(low, float(stats.min)), max(high, float(stats.max))
    return low, high


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
    """The batches of ``rows``, each validated before use.

    At the first bad value the rest of the input is read for that column only, so the
    error can say how many rows fail the same check in all.
    """
    batches = rows.batches(columns)
    for offset, batch in batches:
        problem = find_problem(batch, rows.source, roles)
        if problem is not None:
            total = int(problem.mask.sum())
            total += _count_after(rows, problem, offset + batch.num_rows)
            raise _fail(problem, rows.source, offset, total)
        yield batch


def _count_after(rows: Rows, problem: Problem, start: int) -> int:
    """Rows from ``start`` on that fail the problem's check."""
    total = 0
    for offset, batch in rows.batches([problem.column]):
        if offset >= start:
            mask = bad_rows(problem.check, batch.column(problem.column))
            total += 0 if mask is None else int(mask.sum())
    return total


THREADS = max(1, min(2, os.cpu_count() or 1))  # batches worked on at once
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def in_threads(work: Callable[[_Item], _Result], items: Iterable[_Item]) -> Iterator[_Result]:
    """``work(item)`` for each item on ``THREADS`` threads, the results in order.

    The items are produced (read, validated) in the calling thread while the threads
    work on the ones before (numpy and Arrow release the GIL for most of the work); at
    most ``THREADS + 1`` wait, so memory holds a few batches however many there are.
    """
    with ThreadPoolExecutor(THREADS) as pool:
        pending: deque[Future[_Result]] = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > THREADS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


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
    codes = col.indices.to_numpy(zero_copy_only=False)
    signed = np.dtype(f"i{codes.dtype.itemsize}")
    if codes.dtype.kind == "u" and len(col.dictionary) <= np.iinfo(signed).max:
        codes = codes.view(signed)  # polars' uint32: numpy mixes signs at half speed
    return codes, col.dictionary
