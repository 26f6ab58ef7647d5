"""The count cube: the sufficient statistics of an audit, built in one O(N) pass.

A cube has one row per non-empty *cell*: a combination of the group attributes, the
outcome (0/1), the score bin, the band and the selected flag, with the number of cases
in it (``count``) and the sum and sum of squares of the scores in it (``score_sum``,
``score_sq``). Every audit metric is computed from these cells, so after the cube the
cost is O(cells), whatever the number of cases (DESIGN.md section 2).

Building it: the data are read in batches of about a million rows (from Parquet only
the needed columns, strings as the file's own dictionaries); in each batch every column
becomes integer codes, the codes are combined into one integer key per row and counted
with :func:`numpy.bincount`; the batches' cells are added up. No Python loop touches
rows, and memory stays that of one batch, so files larger than memory work too.

Score bins. A score with at most ``n_bins`` distinct values (bands, points, a
probability per band) keeps every value: the cube is exact and so are the AUC and the
calibration. A continuous score is cut into at most ``n_bins`` quantile bins (about
equal numbers of cases): the quantiles are read off a histogram on a fine grid of 2**20
equal-width cells between the smallest and largest score, whose crowded cells (more than
1/16 of a bin) are split once more into 256, so a skewed score gets even bins too. The
bins depend only on the multiset of scores (and counts), so rows, aggregated counts and
several files of the same data get the same bins. Cases in one bin count as tied for the
AUC, so the AUC can move by at most ``sum_k pos_k * neg_k / (2 * pos * neg)`` (reported
as ``binning_error_max``; about ``1 / (2 * n_bins)`` at worst, far less in practice).
Sums and sums of squares of the scores are kept per cell, so the expected counts for
calibration and the Brier score stay exact; the calibration slope uses the mean score of
each cell. A continuous score costs two extra passes over its own column (range and
sample; histogram); a discrete one, one to confirm the distinct values.

Cubes add up: :func:`merge` sums cubes built from different files, partitions or periods.
A cube is written as Parquet whose schema metadata (key ``waarborg.cube``) says it is a
waarborg cube and which column plays which role, so ``waarborg audit cube.parquet``
recognises it.

Examples
--------
>>> import pyarrow as pa
>>> rows = pa.table({"sex": ["f", "m", "f", "m"], "y": [1, 0, 0, 0], "band": ["h", "l", "h", "h"]})
>>> cube = build_cube(rows, group=["sex"], outcome="y", band="band")
>>> cube.n, cube.table.num_rows
(4, 4)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from waarborg import __version__
from waarborg.errors import DataError
from waarborg.tables import TableLike, read_table, write_table

__all__ = [
    "CUBE_KEY",
    "Cells",
    "Cube",
    "Roles",
    "Rows",
    "build_cube",
    "build_cube_from",
    "check_columns",
    "decoded",
    "is_cube",
    "load_inputs",
    "merge",
    "read_cube",
    "split_names",
]

CUBE_KEY = b"waarborg.cube"
FORMAT = "waarborg-cube"
FORMAT_VERSION = 1
N_BINS = 1000
_FINE = 1 << 20  # cells of the fine grid that quantile bins are cut from
_KEY_LIMIT = 1 << 24  # largest dense key space counted in one bincount
_SUB = 256  # sub-cells of a crowded fine-grid cell
_SAMPLE = 200_000  # values looked at to guess whether a score is discrete
_KNOWN_ORDERS = (
    ("zeer laag", "laag", "midden", "hoog", "zeer hoog"),
    ("very low", "low", "medium", "high", "very high"),
    ("laag", "gemiddeld", "hoog"),
    ("low", "moderate", "high"),
)


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


def _validate(batch: pa.RecordBatch | pa.Table, source: str, roles: Roles, offset: int = 0) -> None:
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
                _mask(col.is_null()),
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
        mask = _mask(bad)
        message = f"must be 0/1 or false/true, found {_first(col, mask)!r}"
        raise _fail(message, source, column, mask, offset)


def _check_number(col: pa.Array, source: str, column: str, what: str, offset: int) -> None:
    kind = col.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise _fail(f"{what} must be numeric, found {kind}", source, column)
    if pa.types.is_floating(kind):
        bad = pc.invert(pc.is_finite(col))
        if pc.any(bad).as_py():
            raise _fail(f"{what} must be a finite number", source, column, _mask(bad), offset)


def _check_count(col: pa.Array, source: str, column: str, offset: int) -> None:
    _check_number(col, source, column, "a count", offset)
    bad = pc.or_(pc.less(col, 0), pc.not_equal(col, pc.round(col)))
    if pc.any(bad).as_py():
        mask = _mask(bad)
        message = f"a count must be a whole number >= 0, found {_first(col, mask)!r}"
        raise _fail(message, source, column, mask, offset)


def _mask(bad: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool)


# --------------------------------------------------------------------------- the cube


@dataclass(frozen=True)
class Cube:
    """A count cube: one row per non-empty cell, with its roles and provenance.

    Attributes
    ----------
    table : pyarrow.Table
        Columns: the group attributes, outcome, score (bin key: the value itself, or
        the lower edge of a quantile bin), band, selected (each when present), and
        ``count``, ``score_sum``, ``score_sq`` (names in ``roles`` / ``meta``).
    roles : Roles
        Which column plays which role; ``roles.count`` names the count column.
    meta : dict
        ``binning`` ("exact", "quantile" or "mixed"), ``n_bins``, ``score_range``,
        ``sources``, ``select`` and ``band_order`` defaults given at build time.
    """

    table: pa.Table
    roles: Roles
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of cases in the cube."""
        return int(pc.sum(self.table.column(self.count_column)).as_py() or 0)

    @property
    def count_column(self) -> str:
        """Name of the count column."""
        return self.roles.count or "count"

    @property
    def sum_columns(self) -> tuple[str, str]:
        """Names of the score-sum and score-sum-of-squares columns."""
        return self.meta["score_sum"], self.meta["score_sq"]

    def metadata(self) -> dict[str, Any]:
        """The schema metadata that marks a table as a waarborg cube."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "waarborg_version": __version__,
            "roles": self.roles.to_dict(),
            **self.meta,
        }

    def to_arrow(self) -> pa.Table:
        """The cube as an Arrow table carrying its metadata."""
        meta = json.dumps(self.metadata(), sort_keys=True).encode()
        return self.table.replace_schema_metadata({CUBE_KEY: meta})

    def write(self, path: str | Path) -> Path:
        """Write the cube to a Parquet file (atomically) and return the path.

        Examples
        --------
        >>> import tempfile, pyarrow as pa
        >>> cube = build_cube(pa.table({"g": ["a", "b"], "y": [0, 1]}), group=["g"], outcome="y")
        >>> path = cube.write(Path(tempfile.mkdtemp()) / "cube.parquet")
        >>> read_cube(path).n
        2
        """
        path = Path(path)
        if path.suffix.lower() != ".parquet":
            raise DataError(
                "a cube is written as .parquet (its roles live in the schema)", str(path)
            )
        return write_table(self.to_arrow(), path)

    def cells(
        self,
        groups: Sequence[str] | None = None,
        *,
        select: Sequence[str] | None = None,
        band_order: Sequence[str] | None = None,
        source: str = "<cube>",
    ) -> Cells:
        """Integer codes of the cells, ready for the metrics; see :class:`Cells`."""
        return Cells.from_cube(self, groups, select=select, band_order=band_order, source=source)


def _cube_from_table(table: pa.Table, source: str) -> Cube:
    meta = json.loads(table.schema.metadata[CUBE_KEY])
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise DataError("not a cube this version of waarborg can read", source)
    roles = meta.pop("roles")
    for key in ("format", "format_version", "waarborg_version"):
        meta.pop(key, None)
    roles = Roles(**{**roles, "groups": tuple(roles["groups"])})
    return Cube(table.replace_schema_metadata(None), roles, meta)


def is_cube(data: TableLike) -> bool:
    """Whether ``data`` (a path or an Arrow table) is a waarborg cube.

    Examples
    --------
    >>> import pyarrow as pa
    >>> is_cube(pa.table({"x": [1]}))
    False
    """
    if isinstance(data, pa.Table):
        return bool(data.schema.metadata and CUBE_KEY in data.schema.metadata)
    if isinstance(data, str | os.PathLike) and Path(data).suffix.lower() == ".parquet":
        try:
            meta = pq.read_schema(data).metadata
        except (OSError, pa.ArrowInvalid):
            return False
        return bool(meta and CUBE_KEY in meta)
    return False


def read_cube(path: str | Path) -> Cube:
    """Read a cube written by :meth:`Cube.write` (or ``waarborg cube build``)."""
    if not is_cube(path):
        raise DataError("not a waarborg cube (no 'waarborg.cube' schema metadata)", str(path))
    return _cube_from_table(pq.read_table(path), str(path))


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


def _open_rows(data: TableLike, roles: Roles) -> Rows:
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


def load_inputs(
    data: TableLike | Sequence[TableLike], roles: Roles
) -> tuple[list[Cube], list[Rows]]:
    """Open every input: cubes are read, row-level inputs opened for the one pass.

    ``data`` is one input or a list of inputs (paths, data frames, Arrow tables).
    Missing columns are reported here; the values are checked during the pass
    (:func:`build_cube_from`).
    """
    inputs = list(data) if isinstance(data, list | tuple) else [data]
    cubes, rows = [], []
    for item in inputs:
        if isinstance(item, pa.Table) and is_cube(item):
            cubes.append(_cube_from_table(item, "<cube>"))
        elif is_cube(item):
            cubes.append(read_cube(item))
        else:
            rows.append(_open_rows(item, roles))
    return cubes, rows


# --------------------------------------------------------------------------- building


def build_cube(
    data: TableLike | Sequence[TableLike],
    *,
    group: Sequence[str] = (),
    outcome: str | None = None,
    score: str | None = None,
    band: str | None = None,
    selected: str | None = None,
    count: str | None = None,
    select: str | Sequence[str] | None = None,
    band_order: str | Sequence[str] | None = None,
    n_bins: int = N_BINS,
) -> Cube:
    """Count cases by group attributes, outcome, score bin, band and selected flag.

    Parameters
    ----------
    data
        Row-level or aggregated data (pandas, polars, pyarrow, .csv/.parquet path), or a
        list of them: several inputs are read as one data set (so one set of score
        bins). Cubes among the inputs are merged in.
    group, outcome, score, band, selected, count
        Column names; see :class:`Roles`.
    select
        Bands that count as selected ("hoog", "midden,hoog" or a list); stored as the
        cube's default for audits.
    band_order
        Bands from lowest to highest risk (same forms); stored as the cube's default.
    n_bins
        Most score bins (see the module docstring).

    Returns
    -------
    Cube

    Examples
    --------
    >>> import pyarrow as pa
    >>> rows = pa.table({"g": ["a", "a", "b"], "s": [0.1, 0.1, 0.9], "n": [2, 3, 5]})
    >>> cube = build_cube(rows, group=["g"], score="s", count="n")
    >>> cube.n, cube.meta["binning"]
    (10, 'exact')
    """
    roles = Roles(tuple(group), outcome, score, band, selected, count)
    cubes, rows = load_inputs(data, roles)
    cube = build_cube_from(cubes, rows, roles, n_bins=n_bins)
    defaults = {"select": split_names(select), "band_order": split_names(band_order)}
    cube.cells(**defaults)  # check them now, not at audit time
    return replace(cube, meta=cube.meta | {k: v for k, v in defaults.items() if v})


def build_cube_from(
    cubes: Sequence[Cube], rows: Sequence[Rows], roles: Roles, *, n_bins: int = N_BINS
) -> Cube:
    """Build one cube from opened row inputs (:func:`load_inputs`) and merge in ``cubes``."""
    parts = list(cubes)
    if rows:
        parts.append(_build(rows, roles, n_bins))
    if not parts:
        raise DataError("no data given")
    return merge(*parts)


def _build(rows: Sequence[Rows], roles: Roles, n_bins: int) -> Cube:
    """The O(N) pass: per batch, codes -> one integer key -> bincount; then add up.

    A score needs a first, cheap pass over its own column to fix the bins.
    """
    binning = _bin_scores(rows, roles, n_bins) if roles.score else None
    labels = {c: _Labels() for c in (*roles.groups, roles.band) if c}
    parts = [
        _batch_cells(batch, roles, binning, labels)
        for r in rows
        for batch in _checked(r, roles.columns(), roles)
    ]
    return _assemble(parts, roles, binning, labels, n_bins, [r.source for r in rows])


def _checked(rows: Rows, columns: list[str], roles: Roles) -> Iterator[pa.RecordBatch]:
    """The batches of ``rows``, each validated before use."""
    for offset, batch in rows.batches(columns):
        _validate(batch, rows.source, roles, offset)
        yield batch


class _Labels:
    """Global codes of a categorical column's values, across batches and files."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def lookup(self, dictionary: pa.Array) -> np.ndarray:
        """Global code of each entry of a batch's dictionary."""
        values = _text(dictionary).to_pylist()
        return np.array([self.codes.setdefault(v, len(self.codes)) for v in values], np.int64)

    def array(self) -> pa.Array:
        return pa.array(list(self.codes), pa.string())


def _text(values: pa.Array) -> pa.Array:
    """Category labels as strings (so cubes from CSV and Parquet agree)."""
    if pa.types.is_floating(values.type) and len(values):
        as_int = pc.cast(values, pa.int64(), safe=False)
        if pc.all(pc.equal(pc.cast(as_int, values.type), values)).as_py():
            values = as_int  # 1.0 is written as 1, as in a CSV file
    return pc.cast(values, pa.string())


def _dictionary(col: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(codes, dictionary) of a categorical batch column."""
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    return col.indices.to_numpy(zero_copy_only=False), col.dictionary


@dataclass
class _Dim:
    """One dimension of the key: its size and the codes, in one or more row chunks."""

    size: int
    chunks: Iterable[np.ndarray]


@dataclass
class _Part:
    """The non-empty cells of one batch: global codes per dimension, counts, score sums."""

    codes: list[np.ndarray]
    count: np.ndarray
    sums: tuple[np.ndarray, np.ndarray] | None


def _batch_cells(
    batch: pa.RecordBatch, roles: Roles, binning: _Binning | None, labels: dict[str, _Labels]
) -> _Part:
    """Count one batch into cells (the key uses the batch's own dictionaries)."""
    weights = _weights(batch, roles)
    if weights is not None and not weights.all():  # rows with count 0 are no cases
        batch = batch.filter(pa.array(weights > 0))
        weights = _weights(batch, roles)
    key = _Key(batch.num_rows)
    maps: list[np.ndarray | None] = []
    for column in roles.groups:
        codes, dictionary = _dictionary(batch.column(column))
        key.add(_Dim(len(dictionary), [codes]))
        maps.append(labels[column].lookup(dictionary))
    for column in (c for c in (roles.outcome, roles.selected) if c):
        codes = pc.cast(batch.column(column), pa.int8()).to_numpy(zero_copy_only=False)
        key.add(_Dim(2, [codes]))
        maps.append(None)
    if roles.band:
        codes, dictionary = _dictionary(batch.column(roles.band))
        key.add(_Dim(len(dictionary), [codes]))
        maps.append(labels[roles.band].lookup(dictionary))
    values = None
    if binning is not None:
        values = _floats(batch.column(roles.score))
        key.add(_Dim(binning.size, [binning.codes(values)]))
        maps.append(None)
    count, cells = key.count(weights)
    codes = [c if m is None else m[c] for c, m in zip(key.decode(cells), maps, strict=True)]
    sums = None
    if binning is not None and binning.method != "exact":
        w = values if weights is None else values * weights
        sums = (key.bincount(w)[cells], key.bincount(w * values)[cells])
    return _Part(codes, count, sums)


def _weights(batch: pa.RecordBatch, roles: Roles) -> np.ndarray | None:
    return None if roles.count is None else _floats(batch.column(roles.count))


def _floats(col: pa.Array) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)


def _assemble(
    parts: list[_Part],
    roles: Roles,
    binning: _Binning | None,
    labels: dict[str, _Labels],
    n_bins: int,
    sources: list[str],
) -> Cube:
    """Add the batches' cells up into the cube table."""
    names = [*roles.groups, *(c for c in (roles.outcome, roles.selected) if c)]
    names += [c for c in (roles.band, roles.score) if c]
    values = [labels[n].array() if n in labels else pa.array([0, 1], pa.int8()) for n in names]
    if binning is not None:
        values[-1] = pa.array(binning.keys, pa.float64())
    dims = len(names)
    codes = [
        np.concatenate([p.codes[i] for p in parts] or [np.zeros(0, np.int64)]) for i in range(dims)
    ]
    count = np.concatenate([p.count for p in parts] or [np.zeros(0, np.int64)])
    key = _Key(count.size)
    for code, value in zip(codes, values, strict=True):
        key.add(_Dim(len(value), [code]))
    total, cells = key.count(count.astype(np.float64))
    cell_codes = key.decode(cells)
    table = {n: v.take(pa.array(c)) for n, v, c in zip(names, values, cell_codes, strict=True)}
    out = _cube_names(roles)
    table[out["count"]] = pa.array(total, pa.int64())
    meta: dict[str, Any] = {"score_sum": out["score_sum"], "score_sq": out["score_sq"]}
    meta |= {"n_bins": n_bins, "sources": sources}
    if binning is not None:
        if binning.method == "exact":
            value = binning.keys[cell_codes[-1]]
            sums = (value * total, value * value * total)
        else:
            sums = tuple(
                key.bincount(np.concatenate([p.sums[i] for p in parts]))[cells] for i in (0, 1)
            )
        table[out["score_sum"]], table[out["score_sq"]] = (pa.array(x) for x in sums)
        meta |= {"binning": binning.method, "score_range": [binning.lo, binning.hi]}
    return Cube(pa.table(table), replace(roles, count=out["count"]), meta)


def _cube_names(roles: Roles) -> dict[str, str]:
    """Names of the cube's own columns, prefixed with ``cube_`` if the data uses them."""
    taken = set(replace(roles, count=None).columns())  # the input's counts are summed away
    return {n: n if n not in taken else f"cube_{n}" for n in ("count", "score_sum", "score_sq")}


# --------------------------------------------------------------------------- score bins


@dataclass
class _Binning:
    """How scores map to bins: the bins' keys (values, or lower edges) and a fine grid.

    The fine grid has ``_FINE`` equal-width cells between the smallest and largest
    score; ``lookup`` gives the bin of each grid cell. Cells holding many cases of a
    skewed score are split once more into ``_SUB`` sub-cells: ``heavy`` numbers those
    cells (-1 for the others) and ``sub`` gives the bin of each of their sub-cells.
    Exact binning whose values are closer together than a grid cell falls back to
    binary search (``lookup`` None).
    """

    keys: np.ndarray
    method: str
    lo: float
    hi: float
    lookup: np.ndarray | None
    heavy: np.ndarray | None = None
    sub: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.keys.size)

    @property
    def scale(self) -> float:
        return _FINE / (self.hi - self.lo) if self.hi > self.lo else 0.0

    def codes(self, values: np.ndarray) -> np.ndarray:
        """Bin of each score."""
        if self.lookup is None:
            return np.minimum(np.searchsorted(self.keys, values), self.size - 1)
        cells = _grid(values, self.lo, self.scale)
        codes = self.lookup[cells]
        if self.heavy is not None:
            which = self.heavy[cells]
            inside = which >= 0
            if inside.any():
                split = _split(values[inside], cells[inside], self.lo, self.scale)
                codes[inside] = self.sub[which[inside] * _SUB + split]
        return codes


def _grid(values: np.ndarray, lo: float, scale: float) -> np.ndarray:
    """Fine-grid cell of each value (all values lie in the range the grid was made for)."""
    cells = ((values - lo) * scale).astype(np.int32)
    return np.minimum(cells, _FINE - 1, out=cells)


def _bin_scores(rows: Sequence[Rows], roles: Roles, n_bins: int) -> _Binning:
    """Fix the score bins: every distinct value if at most ``n_bins``, else quantiles.

    Passes over the score column only: range and a sample; if the sample has few
    distinct values, one pass to find any the sample missed; for a continuous score,
    one pass for the fine-grid histogram that the quantile bins are cut from.
    """
    lo, hi, sample = _score_range(rows, roles)
    distinct: np.ndarray | None = np.unique(sample)
    distinct = _complete(rows, roles, distinct, n_bins) if distinct.size <= n_bins else None
    if distinct is not None:
        scale = _FINE / (hi - lo) if hi > lo else 0.0
        where = _grid(distinct, lo, scale)
        lookup = None
        if np.unique(where).size == distinct.size:
            lookup = np.zeros(_FINE, np.int64)
            lookup[where] = np.arange(distinct.size)
        return _Binning(distinct, "exact", lo, hi, lookup)
    return _quantile_bins(rows, roles, lo, hi, n_bins)


def _score_values(
    rows: Sequence[Rows], roles: Roles
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """(scores, counts) per batch, rows with count 0 left out; validated."""
    columns = [c for c in (roles.score, roles.count) if c]
    only = Roles(score=roles.score, count=roles.count)
    for r in rows:
        for batch in _checked(r, columns, only):
            values, weights = _floats(batch.column(roles.score)), _weights(batch, roles)
            if weights is not None and not weights.all():
                keep = weights > 0
                values, weights = values[keep], weights[keep]
            yield values, weights


def _score_range(rows: Sequence[Rows], roles: Roles) -> tuple[float, float, np.ndarray]:
    """Smallest and largest score and an even sample of about ``_SAMPLE`` scores."""
    step = max(1, sum(r.num_rows for r in rows) // _SAMPLE)
    lo, hi, seen, sample = np.inf, -np.inf, 0, []
    for values, _ in _score_values(rows, roles):
        if values.size:
            lo, hi = min(lo, values.min()), max(hi, values.max())
            sample.append(values[(-seen) % step :: step])
        seen += values.size
    if not sample:
        return 0.0, 0.0, np.zeros(0)
    return float(lo), float(hi), np.concatenate(sample)


def _complete(
    rows: Sequence[Rows], roles: Roles, distinct: np.ndarray, n_bins: int
) -> np.ndarray | None:
    """All distinct scores (the sample's plus any it missed), or None if > ``n_bins``."""
    for values, _ in _score_values(rows, roles):
        missing = pc.invert(pc.is_in(pa.array(values), value_set=pa.array(distinct)))
        if pc.any(missing).as_py():
            distinct = np.union1d(distinct, values[_mask(missing)])
            if distinct.size > n_bins:
                return None
    return distinct


def _split(values: np.ndarray, cells: np.ndarray, lo: float, scale: float) -> np.ndarray:
    """Sub-cell (0.._SUB-1) of each value inside its fine-grid cell."""
    inner = ((values - lo) * scale - cells) * _SUB
    return np.clip(inner, 0, _SUB - 1).astype(np.int64)


def _quantile_bins(
    rows: Sequence[Rows], roles: Roles, lo: float, hi: float, n_bins: int
) -> _Binning:
    """Equal-count bins cut on the fine grid (inverted-CDF quantiles of the grid).

    Grid cells with more than 1/16 of a bin's cases (a skewed score crowds into few
    cells) are split into ``_SUB`` sub-cells in one more pass, so bins stay close
    to equal size; a single repeated value is never split.
    """
    scale = _FINE / (hi - lo) if hi > lo else 0.0
    hist = np.zeros(_FINE)
    for values, weights in _score_values(rows, roles):
        hist += np.bincount(_grid(values, lo, scale), weights=weights, minlength=_FINE)
    heavy_cells = np.flatnonzero(hist > hist.sum() / n_bins / 16)
    heavy = np.full(_FINE, -1, np.int64)
    heavy[heavy_cells] = np.arange(heavy_cells.size)
    width = np.where(heavy >= 0, _SUB, 1)  # micro-cells per grid cell
    first = np.cumsum(width) - width  # first micro-cell of each grid cell
    micro = hist
    if heavy_cells.size:
        micro = _split_mass(rows, roles, hist, heavy, heavy_cells, width, first, lo, scale)
    cum = np.cumsum(micro)
    targets = cum[-1] * np.arange(1, n_bins) / n_bins
    starts = np.unique(np.concatenate([[0], np.searchsorted(cum, targets) + 1]))
    starts = starts[starts < micro.size]
    bins = np.searchsorted(starts, np.arange(micro.size), side="right") - 1
    cell_of = np.repeat(np.arange(_FINE), width)[starts]
    edges = lo + (cell_of + (starts - first[cell_of]) / width[cell_of]) * ((hi - lo) / _FINE)
    if not heavy_cells.size:
        return _Binning(edges, "quantile", lo, hi, bins)
    sub = bins[first[heavy_cells][:, None] + np.arange(_SUB)].ravel()
    return _Binning(edges, "quantile", lo, hi, bins[first], heavy, sub)


def _split_mass(
    rows: Sequence[Rows],
    roles: Roles,
    hist: np.ndarray,
    heavy: np.ndarray,
    heavy_cells: np.ndarray,
    width: np.ndarray,
    first: np.ndarray,
    lo: float,
    scale: float,
) -> np.ndarray:
    """Cases per micro-cell: grid cells as they are, heavy cells split into sub-cells."""
    sub = np.zeros(heavy_cells.size * _SUB)
    for values, weights in _score_values(rows, roles):
        cells = _grid(values, lo, scale)
        which = heavy[cells]
        inside = which >= 0
        index = which[inside] * _SUB + _split(values[inside], cells[inside], lo, scale)
        w = None if weights is None else weights[inside]
        sub += np.bincount(index, weights=w, minlength=sub.size)
    micro = np.repeat(hist, width)  # heavy cells' entries are overwritten next
    micro[(first[heavy_cells][:, None] + np.arange(_SUB)).ravel()] = sub
    return micro


# --------------------------------------------------------------------------- the key


class _Key:
    """One integer key per row, built by adding dimensions; compacted when it grows.

    Steps are recorded so that :meth:`decode` can turn a key back into the codes of
    each dimension: ``("dim", size)`` appends a dimension, ``("compact", present)``
    renumbers the keys that occur as 0..k-1.
    """

    def __init__(self, n: int) -> None:
        self.key = np.zeros(n, np.int64)
        self.size = 1
        self.steps: list[tuple[str, Any]] = []

    def add(self, dim: _Dim) -> None:
        """Append a dimension: ``key = key * size + code``, chunk by chunk."""
        if self.size * dim.size > _KEY_LIMIT:
            present = np.flatnonzero(self.bincount())
            lookup = np.zeros(self.size, np.int64)
            lookup[present] = np.arange(present.size)
            self.key = lookup[self.key]
            self.steps.append(("compact", present))
            self.size = present.size
        start = 0
        for chunk in dim.chunks:
            part = self.key[start : start + chunk.size]
            part *= dim.size
            part += chunk
            start += chunk.size
        self.size *= dim.size
        self.steps.append(("dim", dim.size))

    def bincount(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Counts (or weighted sums) per key."""
        return np.bincount(self.key, weights=weights, minlength=self.size)

    def count(self, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Counts of the non-empty cells and their keys."""
        counts = self.bincount(weights)
        cells = np.flatnonzero(counts)
        return np.rint(counts[cells]).astype(np.int64), cells

    def decode(self, cells: np.ndarray) -> list[np.ndarray]:
        """Per-dimension codes of the given keys."""
        codes: list[np.ndarray] = []
        key = cells.copy()
        for kind, value in reversed(self.steps):
            if kind == "compact":
                key = value[key]
            else:
                codes.append(key % value)
                key //= value
        return codes[::-1]


# --------------------------------------------------------------------------- merging


def merge(*cubes: Cube) -> Cube:
    """Add cubes up: counts and score sums of identical cells are summed.

    The cubes must have the same roles (group attributes, outcome, score, band,
    selected). Cubes whose score was cut into different quantile bins keep each
    other's bins side by side (binning "mixed"): counts and rates stay exact, the AUC
    and the calibration slope are approximate to the order of the binning.

    Examples
    --------
    >>> import pyarrow as pa
    >>> a = build_cube(pa.table({"g": ["x", "y"], "o": [1, 0]}), group=["g"], outcome="o")
    >>> b = build_cube(pa.table({"g": ["x"], "o": [1]}), group=["g"], outcome="o")
    >>> merge(a, b).table.sort_by("g").column("count").to_pylist()
    [2, 1]
    """
    if not cubes:
        raise ValueError("merge needs at least one cube")
    first = cubes[0]
    if len(cubes) == 1:
        return first
    for other in cubes[1:]:
        if _shape(other) != _shape(first):
            raise DataError(
                f"cannot merge cubes with different roles: {_shape(first)} and {_shape(other)}",
                ", ".join(other.meta.get("sources", ["<cube>"])),
            )
    names = _cube_names(first.roles)
    tables = [decoded(_renamed(c, names)) for c in cubes]
    table = pa.concat_tables(tables, promote_options="permissive")
    keys = [c for c in table.column_names if c not in names.values()]
    sums = [(names["count"], "sum")]
    if first.roles.score:
        sums += [(names["score_sum"], "sum"), (names["score_sq"], "sum")]
    merged = table.group_by(keys, use_threads=False).aggregate(sums)
    summed = {f"{column}_sum": column for column, _ in sums}
    merged = merged.rename_columns([summed.get(c, c) for c in merged.column_names])
    return Cube(merged, replace(first.roles, count=names["count"]), _merged_meta(cubes, names))


def _shape(cube: Cube) -> tuple[Any, ...]:
    r = cube.roles
    return (sorted(r.groups), r.outcome, r.score, r.band, r.selected)


def _renamed(cube: Cube, names: dict[str, str]) -> pa.Table:
    table = cube.table
    mapping = {cube.count_column: names["count"]}
    if cube.roles.score:
        mapping |= dict(zip(cube.sum_columns, (names["score_sum"], names["score_sq"]), strict=True))
    return table.rename_columns([mapping.get(c, c) for c in table.column_names])


def decoded(table: pa.Table) -> pa.Table:
    """The table with dictionary columns decoded (so tables concatenate and hash alike)."""
    columns = [
        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _merged_meta(cubes: Sequence[Cube], names: dict[str, str]) -> dict[str, Any]:
    binnings = {c.meta.get("binning") for c in cubes if c.meta.get("binning")}
    ranges = [c.meta["score_range"] for c in cubes if c.meta.get("score_range")]
    meta: dict[str, Any] = {
        "score_sum": names["score_sum"],
        "score_sq": names["score_sq"],
        "n_bins": max(int(c.meta.get("n_bins", N_BINS)) for c in cubes),
        "sources": [s for c in cubes for s in c.meta.get("sources", [])],
    }
    if binnings:
        same = binnings == {"exact"} or (binnings == {"quantile"} and _same_bins(cubes))
        meta["binning"] = binnings.pop() if same else "mixed"
    if ranges:
        meta["score_range"] = [min(r[0] for r in ranges), max(r[1] for r in ranges)]
    for key in ("select", "band_order"):
        values = [c.meta[key] for c in cubes if c.meta.get(key)]
        if values:
            meta[key] = values[0]
    return meta


def _same_bins(cubes: Sequence[Cube]) -> bool:
    """Whether quantile-binned cubes use the same bins (then merging them is exact)."""
    score = cubes[0].roles.score
    keys = [np.unique(c.table.column(score).to_numpy()) for c in cubes]
    ranges = [c.meta.get("score_range") for c in cubes]
    return all(r == ranges[0] for r in ranges) and all(
        k.size == keys[0].size and np.array_equal(k, keys[0]) for k in keys
    )


# --------------------------------------------------------------------------- cells


@dataclass
class Cells:
    """The cube's cells as integer codes, what every metric is computed from.

    Attributes
    ----------
    count : ndarray
        Cases per cell (float).
    groups : dict
        Attribute -> (codes per cell, labels); labels sorted, codes index them.
    outcome, selected : ndarray or None
        0/1 per cell.
    score : ndarray or None
        Ordered score-bin code per cell; ``score_keys`` holds each bin's key.
    band : ndarray or None
        Band code per cell, codes in ``band_labels`` order.
    band_ordered : bool
        Whether ``band_labels`` is a known risk order (low to high).
    score_sum, score_sq : ndarray or None
        Sum and sum of squares of the scores per cell.
    """

    count: np.ndarray
    groups: dict[str, tuple[np.ndarray, list[str]]]
    outcome: np.ndarray | None = None
    selected: np.ndarray | None = None
    score: np.ndarray | None = None
    score_keys: np.ndarray | None = None
    score_sum: np.ndarray | None = None
    score_sq: np.ndarray | None = None
    band: np.ndarray | None = None
    band_labels: list[str] = field(default_factory=list)
    band_ordered: bool = False
    binning: str | None = None
    score_range: list[float] | None = None
    select: list[str] | None = None
    band_order_source: str | None = None

    @property
    def n(self) -> float:
        """Number of cases."""
        return float(self.count.sum())

    @property
    def is_probability(self) -> bool:
        """Whether the score can be read as a predicted probability (all values in [0, 1])."""
        return (
            self.score_range is not None
            and 0.0 <= self.score_range[0] <= self.score_range[1] <= 1.0
        )

    def ordered_bins(self) -> tuple[tuple[np.ndarray, int] | None, str | None]:
        """Bins in risk order for the AUC: score bins, else bands in risk order, else None.

        Returns ((codes per cell, number of bins), "score" or "band"), or (None, None).
        """
        if self.score is not None and self.score_keys is not None:
            return (self.score, self.score_keys.size), "score"
        if self.band is not None and self.band_ordered:
            return (self.band, len(self.band_labels)), "band"
        return None, None

    def crosstab(
        self, *dims: tuple[np.ndarray | None, int], weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Counts (or sums of ``weights``) by the given (codes, size) dimensions.

        A dimension whose codes are None counts as all zeros (size 1 is typical).

        Examples
        --------
        >>> cells = Cells(np.array([2.0, 3.0, 5.0]), {}, outcome=np.array([0, 1, 1]))
        >>> cells.crosstab((cells.outcome, 2)).tolist()
        [2.0, 8.0]
        """
        key = np.zeros(self.count.size, np.int64)
        sizes = []
        for codes, size in dims:
            key = key * size + (0 if codes is None else codes)
            sizes.append(size)
        total = int(np.prod(sizes)) if sizes else 1
        w = self.count if weights is None else weights
        return np.bincount(key, weights=w, minlength=total).reshape(sizes)

    @classmethod
    def from_cube(
        cls,
        cube: Cube,
        groups: Sequence[str] | None = None,
        *,
        select: Sequence[str] | None = None,
        band_order: Sequence[str] | None = None,
        source: str = "<cube>",
    ) -> Cells:
        """Codes of a cube's cells for the chosen attributes and selection."""
        table, roles = cube.table, cube.roles
        groups = list(roles.groups if groups is None else groups)
        for g in groups:
            if g not in roles.groups:
                raise DataError(
                    f"not a group attribute of the cube ({', '.join(roles.groups)})",
                    source,
                    column=g,
                )
        cells = cls(
            np.asarray(table.column(cube.count_column).to_numpy(), dtype=np.float64),
            {g: _sorted_codes(table.column(g)) for g in groups},
            binning=cube.meta.get("binning"),
            score_range=cube.meta.get("score_range"),
        )
        if roles.outcome:
            cells.outcome = np.asarray(table.column(roles.outcome).to_numpy(), dtype=np.int64)
        if roles.score:
            keys = np.asarray(table.column(roles.score).to_numpy(), dtype=np.float64)
            cells.score_keys, cells.score = np.unique(keys, return_inverse=True)
            total, squares = cube.sum_columns
            cells.score_sum = np.asarray(table.column(total).to_numpy(), dtype=np.float64)
            cells.score_sq = np.asarray(table.column(squares).to_numpy(), dtype=np.float64)
        if roles.band:
            cells._set_band(
                table.column(roles.band),
                band_order or cube.meta.get("band_order"),
                source,
                roles.band,
            )
        select = select or cube.meta.get("select")
        if select and roles.selected:
            raise DataError(
                "give either bands to select or a selected column, not both",
                source,
                column=roles.selected,
            )
        if select:
            cells._select(select, source, roles.band)
        elif roles.selected:
            cells.selected = np.asarray(table.column(roles.selected).to_numpy(), dtype=np.int64)
        return cells

    def _set_band(
        self, col: pa.ChunkedArray, order: Sequence[str] | None, source: str, column: str
    ) -> None:
        codes, labels = _sorted_codes(col)
        ordered, how = _band_order(labels, order, self, codes, source, column)
        position = {label: i for i, label in enumerate(ordered)}
        self.band = np.array([position[label] for label in labels], np.int64)[codes]
        self.band_labels = ordered
        self.band_ordered = how is not None
        self.band_order_source = how

    def _select(self, select: Sequence[str], source: str, column: str | None) -> None:
        if self.band is None or column is None:
            raise DataError("selecting bands needs a band column (--band)", source)
        unknown = [b for b in select if b not in self.band_labels]
        if unknown:
            raise DataError(
                f"no band {', '.join(map(repr, unknown))} in the data "
                f"(bands: {', '.join(self.band_labels)})",
                source,
                column=column,
            )
        chosen = np.array([label in select for label in self.band_labels])
        self.selected = chosen[self.band].astype(np.int64)
        self.select = list(select)


def _sorted_codes(col: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Codes of a (small) cube column against its labels sorted as text."""
    col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    codes, dictionary = _dictionary(col)
    labels = _text(dictionary).to_pylist()
    order = np.argsort(np.array(labels, dtype=object), kind="stable")
    rank = np.empty(len(labels), np.int64)
    rank[order] = np.arange(len(labels))
    return rank[codes.astype(np.int64)], [labels[i] for i in order]


def _band_order(
    labels: list[str],
    given: Sequence[str] | None,
    cells: Cells,
    codes: np.ndarray,
    source: str,
    column: str,
) -> tuple[list[str], str | None]:
    """Bands from low to high risk, and where the order came from (None: unknown).

    In turn: the order given; numbers in numeric order; a known scale
    (laag < midden < hoog, low < medium < high, ...); the mean score per band.
    """
    if given:
        missing = [b for b in labels if b not in given]
        if missing:
            raise DataError(
                f"band order {list(given)} lacks the data's band(s) {missing}",
                source,
                column=column,
            )
        return [b for b in given if b in labels], "given"
    numbers = _as_numbers(labels)
    if numbers is not None:
        return [labels[i] for i in np.argsort(numbers, kind="stable")], "numeric"
    lower = [b.lower() for b in labels]
    for scale in _KNOWN_ORDERS:
        if set(lower) <= set(scale):
            return sorted(labels, key=lambda b: scale.index(b.lower())), "known scale"
    if cells.score_sum is not None:
        sums = np.bincount(codes, weights=cells.score_sum, minlength=len(labels))
        counts = np.bincount(codes, weights=cells.count, minlength=len(labels))
        return [labels[i] for i in np.argsort(sums / counts, kind="stable")], "mean score"
    return labels, None


def _as_numbers(labels: Iterable[str]) -> np.ndarray | None:
    try:
        return np.array([float(x) for x in labels])
    except ValueError:
        return None
