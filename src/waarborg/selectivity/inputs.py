"""The selection table in, its counts out: the one place that checks a selection table.

A selection table (see :mod:`waarborg.selectivity`) is read from a file (CSV, Parquet, a
spreadsheet) or a data frame (pandas, polars, pyarrow), checked, and reduced to counts
per (group cell, selected, reference, outcome state). Every statistic of the package is
computed from these counts, so an aggregated table works as well as rows: give a table
with a ``count`` column (cases per row), for example the output of
:meth:`SelectionCounts.to_table` or a cube from a statistics office. No part of the
selectivity report needs rows.

Examples
--------
>>> counts = selection_counts(
...     {"g": ["a", "b"], "selected": [True, False], "reference": [False, True],
...      "outcome": [True, None]}, ["g"])
>>> counts.cells, int(counts.counts.sum())
([('a',), ('b',)], 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.audit.inputs import (
    MISSING,
    WHOLE,
    Roles,
    as_mask,
    as_text,
    check_columns,
    found,
    found_type,
    in_rows,
)
from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.tables import TableLike, read_table

__all__ = [
    "COUNT",
    "OUTCOME",
    "OUTCOME_STATES",
    "REFERENCE",
    "SELECTED",
    "SelectionCounts",
    "selection_counts",
]

SELECTED, REFERENCE, OUTCOME, COUNT = "selected", "reference", "outcome", "count"
#: The outcome axis of the counts: 0 no outcome found, 1 outcome found, 2 unknown (null).
OUTCOME_STATES = ("no", "yes", "unknown")
_DENSE_KEYS = 1 << 22  # group-cell key spaces up to this size are counted densely
_BOOLEAN = Message("must be true/false (or 1/0, yes/no, ja/nee)", domain="reports")
_TRUE = frozenset({"true", "1", "yes", "ja", "waar"})
_FALSE = frozenset({"false", "0", "no", "nee", "onwaar"})


@dataclass(frozen=True)
class SelectionCounts:
    """A selection table reduced to counts.

    Attributes
    ----------
    source : str
        The file the counts came from (``"<table>"`` for a data frame).
    groups : tuple of str
        The group columns, in the order given.
    cells : list of tuple of str
        The group cells (one label per group column, as text), sorted.
    counts : numpy.ndarray
        Cases per cell, shape ``(cells, 2, 2, 3)``: axes are the cell, selected
        (0 no, 1 yes), reference (0 no, 1 yes) and outcome state (see
        :data:`OUTCOME_STATES`).
    rows : int
        Rows read (cases, or aggregate rows for a table with counts).
    """

    source: str
    groups: tuple[str, ...]
    cells: list[tuple[str, ...]]
    counts: np.ndarray
    rows: int

    @property
    def n(self) -> int:
        """All cases of the period."""
        return int(self.counts.sum())

    def to_table(self) -> pa.Table:
        """The counts as an aggregate selection table (non-empty combinations only).

        Reading it back with :func:`selection_counts` gives the same counts.
        """
        index = np.argwhere(self.counts > 0)
        outcome = [None if s == 2 else bool(s) for s in index[:, 3]]
        columns: dict[str, pa.Array] = {
            name: pa.array([self.cells[c][j] for c in index[:, 0]], pa.string())
            for j, name in enumerate(self.groups)
        }
        columns[SELECTED] = pa.array(index[:, 1].astype(bool))
        columns[REFERENCE] = pa.array(index[:, 2].astype(bool))
        columns[OUTCOME] = pa.array(outcome, pa.bool_())
        columns[COUNT] = pa.array(self.counts[tuple(index.T)].astype(np.int64))
        return pa.table(columns)


def selection_counts(
    table: TableLike,
    groups: Sequence[str] = (),
    *,
    count: str | None = None,
    source: str | None = None,
) -> SelectionCounts:
    """Check a selection table and count its cases per cell.

    Parameters
    ----------
    table : table-like
        A path (CSV, Parquet, spreadsheet) or a pandas/polars/pyarrow table with the
        columns ``selected`` and ``reference`` (true/false, 1/0, yes/no or ja/nee; never empty),
        ``outcome`` (the same; empty when the case was not checked or its
        outcome is not known) and the group columns.
    groups : sequence of str
        Group columns (for example ``["sex", "region"]``); may be empty.
    count : str, optional
        Column with the number of cases per row, for an aggregated table. By default a
        column named ``count`` is used when there is one (and is not a group column).
    source : str, optional
        The name errors give for the input, for a caller that has already read the file
        (by default the path, or ``"<table>"`` for a data frame).

    Returns
    -------
    SelectionCounts
        The counts per group cell, selected, reference and outcome state.

    Raises
    ------
    waarborg.errors.DataError
        Naming the file, the first offending row, the column and the value: a missing
        column, an empty ``selected``/``reference``/group value, a value that is not
        true/false, a count that is not a whole number >= 0.

    Examples
    --------
    >>> c = selection_counts({"selected": [1, 0, 0], "reference": [0, 1, 0],
    ...                       "outcome": [1, 0, None]})
    >>> c.counts[0, 1, 0, 1], c.counts[0, 0, 1, 0], c.counts[0, 0, 0, 2]
    (np.int64(1), np.int64(1), np.int64(1))
    """
    data, read_from = read_table(table)
    source = source or read_from
    groups = tuple(groups)
    if count is None and COUNT in data.column_names and COUNT not in groups:
        count = COUNT
    roles = Roles(groups=(*groups, REFERENCE), outcome=OUTCOME, selected=SELECTED, count=count)
    check_columns(data.column_names, roles, source)
    for name in groups:
        _no_nulls(data.column(name), source, name)
    selected = _booleans(data.column(SELECTED), source, SELECTED, nullable=False)
    reference = _booleans(data.column(REFERENCE), source, REFERENCE, nullable=False)
    outcome = _booleans(data.column(OUTCOME), source, OUTCOME, nullable=True)
    weights = np.ones(data.num_rows, np.int64) if count is None else _counts(data, count, source)
    labels = [as_text(data.column(name).combine_chunks()) for name in groups]
    cells, cell_index = _cells(labels, data.num_rows)
    state = np.where(outcome < 0, 2, outcome)
    flat = ((cell_index * 2 + selected) * 2 + reference) * 3 + state
    size = len(cells) * 12
    cube = np.bincount(flat, weights=weights, minlength=size).round().astype(np.int64)
    cube = cube.reshape(len(cells), 2, 2, 3)
    return SelectionCounts(source, groups, cells, cube, data.num_rows)


def _no_nulls(col: pa.ChunkedArray, source: str, name: str) -> None:
    if col.null_count:
        mask = as_mask(col.is_null())
        raise _at(mask, in_rows(MISSING, int(mask.sum())), source, name)


def _booleans(col: pa.ChunkedArray, source: str, name: str, *, nullable: bool) -> np.ndarray:
    """The column as 0/1 (int8), -1 where null; raise on anything else."""
    if not nullable:
        _no_nulls(col, source, name)
    kind = col.type
    if pa.types.is_boolean(kind):
        values = col
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        bad = pc.fill_null(pc.and_(pc.not_equal(col, 0), pc.not_equal(col, 1)), False)
        if pc.any(bad).as_py():
            mask = as_mask(bad)
            first = col[int(np.flatnonzero(mask)[0])].as_py()
            raise _at(mask, in_rows(found(_BOOLEAN, first), int(mask.sum())), source, name)
        values = pc.equal(col, 1)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        words = pc.utf8_lower(pc.utf8_trim_whitespace(col))
        known = pc.is_in(words, value_set=pa.array(sorted(_TRUE | _FALSE)))
        bad = pc.and_(col.is_valid(), pc.invert(known))
        if pc.any(bad).as_py():
            mask = as_mask(bad)
            first = col[int(np.flatnonzero(mask)[0])].as_py()
            raise _at(mask, in_rows(found(_BOOLEAN, first), int(mask.sum())), source, name)
        values = pc.is_in(words, value_set=pa.array(sorted(_TRUE)))
    else:
        present = as_mask(col.is_valid())
        first = col[int(np.flatnonzero(present)[0])].as_py() if present.any() else None
        raise _at(present, found_type(_BOOLEAN, kind, first), source, name)
    out = np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), np.int8)
    if col.null_count:
        out[as_mask(col.is_null())] = -1
    return out


def _counts(data: pa.Table, name: str, source: str) -> np.ndarray:
    col = data.column(name)
    _no_nulls(col, source, name)
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        reason = Message(
            "a count must be numeric, found %(type)s", domain="reports", type=str(col.type)
        )
        raise DataError(reason, source, column=name)
    values = np.asarray(col.to_numpy(zero_copy_only=False), np.float64)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        first = float(values[np.flatnonzero(bad)[0]])
        raise _at(bad, in_rows(found(WHOLE, first), int(bad.sum())), source, name)
    return values.astype(np.int64)


def _cells(labels: list[pa.Array], rows: int) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """The sorted distinct group cells and each row's cell number (vectorised)."""
    key = np.zeros(rows, np.int64)
    names: list[list[str]] = []
    for values in labels:
        encoded = pc.dictionary_encode(values)
        words = [str(w) for w in encoded.dictionary.to_pylist()]
        rank = np.argsort(np.argsort(np.array(words, dtype=object), kind="stable"))
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        codes = rank.astype(np.int64)[indices] if words else key
        key = key * max(len(words), 1) + codes
        names.append(sorted(words))
    space = int(np.prod([max(len(w), 1) for w in names]))
    if space <= _DENSE_KEYS:  # the usual case: label each present key without sorting
        present = np.flatnonzero(np.bincount(key, minlength=space))
        number = np.zeros(space, np.intp)
        number[present] = np.arange(present.size)
        unique, index = present, number[key]
    else:
        unique, index = np.unique(key, return_inverse=True)
    cells = []
    for k in unique.tolist():
        parts = []
        for words in reversed(names):
            k, code = divmod(k, max(len(words), 1))
            parts.append(words[code])
        cells.append(tuple(reversed(parts)))
    return cells, index.ravel()


def _at(mask: np.ndarray, reason: Message, source: str, column: str) -> DataError:
    """A DataError at the first row of ``mask`` (1-based, header not counted)."""
    return DataError(reason, source, row=int(np.flatnonzero(mask)[0]) + 1, column=column)
