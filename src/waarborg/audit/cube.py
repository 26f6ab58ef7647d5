"""The count cube: the sufficient statistics of an audit, built in one O(N) pass.

A cube has one row per non-empty *cell*: a combination of the group attributes, the
outcome (0/1), the score bin, the band and the selected flag, with the number of cases
in it (``count``) and the sum and sum of squares of the scores in it (``score_sum``,
``score_sq``). Every audit metric is computed from these cells, so after the cube the
cost is O(cells), whatever the number of cases (DESIGN.md section 2).

Building it: the data are read in batches of about a million rows (from Parquet only
the needed columns, strings as the file's own dictionaries); in each batch every column
becomes integer codes, on two threads. The codes of a row make one integer key, a
position in the *key space* (every combination of the dimensions' values). Cells are
counted with :func:`numpy.bincount` into arrays over the whole key space, which costs a
pass over the key space as well as over the rows: a batch whose key space is no larger
than itself is counted at once; otherwise its rows wait, with other batches', until
they are as many as the key space has cells (five attributes with three bands and a
score in 1,000 bins make some 10 million; 3.5 million as band and bin are counted as
the pairs of them that occur). The running total is such arrays while the key space
has at most 2**24 cells; a larger one is summed by sorting keys. No Python loop touches
rows, and memory stays that of a few batches, the key space and the cube, however many
rows there are, so files larger than memory work too.

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
each cell. A score costs one extra pass over its own column (histogram and distinct
values together; the range comes from Parquet row-group statistics or the in-memory
column), a skewed one a second for its crowded grid cells.

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
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from waarborg import __version__
from waarborg.audit.binning import N_BINS, Binning, bin_scores
from waarborg.audit.cells import Cells
from waarborg.audit.inputs import (
    THREADS,
    Roles,
    Rows,
    as_floats,
    as_text,
    checked_batches,
    count_weights,
    dictionary_codes,
    in_threads,
    open_rows,
    split_names,
)
from waarborg.audit.keys import append_dim, code_type, places, split_key
from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.tables import TableLike, write_table

__all__ = [
    "CUBE_KEY",
    "Cube",
    "as_cube",
    "build_cube",
    "build_cube_from",
    "cube_of",
    "decoded",
    "is_cube",
    "load_inputs",
    "merge",
    "read_cube",
]

CUBE_KEY = b"waarborg.cube"
FORMAT = "waarborg-cube"
FORMAT_VERSION = 1
_KEY_LIMIT = 1 << 24  # largest dense key space counted in one bincount
_DENSE_LIMIT = _KEY_LIMIT  # largest key space kept in dense arrays
_SMALL_SPACE = 1 << 16  # a batch's key space this small is always counted at once
_PAIR_TABLE = 1 << 22  # most band × bin pairs numbered by a table (see _Pairs)
_REORDER_BLOCK = 1 << 20  # places of a dense total reordered at a time (see _Dense.cells)


# --------------------------------------------------------------------------- the cube


@dataclass(frozen=True)
class Cube:
    """A count cube: one row per non-empty cell, with its roles and provenance.

    Attributes
    ----------
    table : pyarrow.Table
        Columns: the group attributes, outcome, score (bin key: the value itself, or
        the lower edge of a quantile bin), band, selected (each when present), and
        ``count``, ``score_sum``, ``score_sq`` (names in ``roles`` / ``meta``). Built
        in process, the group attributes and the band are dictionary columns (their
        dictionaries may hold labels no cell uses); read from a file, merged or
        exported they are plain strings (:func:`decoded`).
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
        """The cube as an Arrow table carrying its metadata, its labels as plain strings
        (as a cube file has always held them, for any reader of it).
        """
        meta = json.dumps(self.metadata(), sort_keys=True).encode()
        return decoded(self.table).replace_schema_metadata({CUBE_KEY: meta})

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
            reason = Message(
                "a cube is written as .parquet (its roles live in the schema)", domain="reports"
            )
            raise DataError(reason, str(path))
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
        raise DataError(
            Message("not a cube this version of waarborg can read", domain="reports"), source
        )
    roles = meta.pop("roles")
    for key in ("format", "format_version", "waarborg_version"):
        meta.pop(key, None)
    roles = Roles(**{**roles, "groups": tuple(roles["groups"])})
    return Cube(table.replace_schema_metadata(None), roles, meta)


def is_cube(data: TableLike) -> bool:
    """Whether ``data`` (a :class:`Cube`, a path or an Arrow table) is a waarborg cube.

    Examples
    --------
    >>> import pyarrow as pa
    >>> is_cube(pa.table({"x": [1]}))
    False
    """
    if isinstance(data, Cube):
        return True
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
        reason = Message(
            "not a waarborg cube (no 'waarborg.cube' schema metadata)", domain="reports"
        )
        raise DataError(reason, str(path))
    return _cube_from_table(pq.read_table(path), str(path))


def as_cube(data: TableLike) -> Cube:
    """The cube ``data`` is (see :func:`is_cube`): a :class:`Cube` itself, a cube's Arrow
    table, or a cube file read.
    """
    if isinstance(data, Cube):
        return data
    if isinstance(data, pa.Table):
        return _cube_from_table(data, "<cube>")
    return read_cube(data)


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
        if is_cube(item):
            cubes.append(as_cube(item))
        else:
            rows.append(open_rows(item, roles))
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
    engine: str = "auto",
    table: str | None = None,
    query: str | None = None,
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
    engine
        ``local`` (in-process; alias ``polars``), ``duckdb``, ``postgres``, ``spark`` or
        ``auto`` (see :mod:`waarborg.audit.engines`); recorded as ``meta["engine"]``.
    table, query
        For ``postgres`` (data: a ``postgresql://`` URL): the table or the query whose
        rows are counted; for ``spark``, a table of the session's catalog.

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
    from waarborg.audit.engines import build_with

    roles = Roles(tuple(group), outcome, score, band, selected, count)
    cube, choice = build_with(data, roles, n_bins, engine=engine, table=table, query=query)
    defaults = {"select": split_names(select), "band_order": split_names(band_order)}
    cube.cells(**defaults)  # check them now, not at audit time
    meta = cube.meta | {k: v for k, v in defaults.items() if v}
    return replace(cube, meta=meta | {"engine": choice.engine, "engine_why": choice.why})


def build_cube_from(
    cubes: Sequence[Cube], rows: Sequence[Rows], roles: Roles, *, n_bins: int = N_BINS
) -> Cube:
    """Build one cube from opened row inputs (:func:`load_inputs`) and merge in ``cubes``."""
    parts = list(cubes)
    if rows:
        parts.append(_build(rows, roles, n_bins))
    if not parts:
        raise DataError(Message("no data given", domain="reports"))
    return merge(*parts)


def _build(rows: Sequence[Rows], roles: Roles, n_bins: int) -> Cube:
    """The O(N) pass: per batch, codes -> one integer key -> bincount; added up as it goes.

    A score first needs its own passes to fix the bins (validating it once). Batches are
    counted on a pool of threads (numpy and Arrow release the GIL for most of the work)
    while the next is read and validated; their cells are added to a running total, so
    memory holds a few batches and the cube, however many rows there are.
    """
    binning = bin_scores(rows, roles, n_bins) if roles.score else None
    checks = replace(roles, score=None) if binning is not None else roles
    labels = {c: _Labels() for c in (*roles.groups, roles.band) if c}
    total = _Total(roles, labels, binning)
    batches = (b for r in rows for b in checked_batches(r, roles.columns(), checks))
    for part in in_threads(lambda batch: _batch_cells(batch, roles, binning), batches):
        total.add(part)
    return _assemble(total, roles, binning, n_bins, [r.source for r in rows])


class _Labels:
    """Global codes of a categorical column's values, across batches and files.

    Batches of one table share its dictionary (a polars column's shared categories can
    be long), so the last dictionary's codes are kept and reused when the next is equal.
    """

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.last: tuple[pa.Array, np.ndarray | None] | None = None

    def lookup(self, dictionary: pa.Array) -> np.ndarray | None:
        """Global code of each entry of a batch's dictionary (None: its own codes are)."""
        if self.last is not None and self.last[0].equals(dictionary):
            return self.last[1]
        values = as_text(dictionary).to_pylist()
        codes = np.array([self.codes.setdefault(v, len(self.codes)) for v in values], np.int64)
        same = np.array_equal(codes, np.arange(codes.size))
        self.last = (dictionary, None if same else codes)
        return self.last[1]

    def array(self) -> pa.Array:
        return pa.array(list(self.codes), pa.string())


@dataclass
class _Dim:
    """One dimension of the key: its size and the codes, in one or more row chunks."""

    size: int
    chunks: Sequence[np.ndarray]


@dataclass
class _Part:
    """Cells of one batch (or of several, added up): codes per dimension (the batch's
    own for categories, with their dictionaries), cases and score sums per cell.

    A batch whose key space is larger than the batch is not counted: its part holds
    the rows themselves, as cells of one case each (``count`` None) or of their count.
    """

    codes: list[np.ndarray]
    count: np.ndarray | None
    sums: tuple[np.ndarray, np.ndarray] | None
    dictionaries: list[pa.Array | None] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Number of cells (rows) in the part."""
        return self.codes[0].size if self.count is None else self.count.size

    def counts(self) -> np.ndarray:
        """Cases per cell (1 for each row of an uncounted part)."""
        return np.ones(self.size, np.int64) if self.count is None else self.count


class _Total:
    """The running sum of the batches' cells, in global codes, its memory bounded by
    the key space or the cube, never by the number of rows.

    Parts wait in a list. While the key space has at most ``_DENSE_LIMIT`` cells, they
    are counted once they hold as many cells as the key space has (counting then costs
    O(cells), not O(key space) per batch) into arrays over the whole key space
    (:class:`_Dense`). A larger key space is summed by sorting keys (:func:`_combine`)
    whenever the parts hold more cells than a few times the total so far.
    """

    def __init__(self, roles: Roles, labels: dict[str, _Labels], binning: Binning | None) -> None:
        self.names = _key_names(roles)
        self.labels, self.binning = labels, binning
        self.pairs = _Pairs(binning.size) if binning is not None and roles.band else None
        self.pending: list[_Part] = []
        self.waiting = 0  # cells in pending
        self.dense: _Dense | None = None
        self.limit = 1 << 20  # a key space too large to be dense: cells that make a sum due
        self.summed = False  # pending holds one part of distinct cells: the sum so far

    def add(self, part: _Part) -> None:
        """Add one batch's cells (its categories mapped to global codes, each dimension's
        in the smallest integer type that holds them).
        """
        lookups = [
            None if d is None else self.labels[name].lookup(d)
            for name, d in zip(self.names, part.dictionaries, strict=True)
        ]
        sizes = self.sizes()  # with this batch's new labels
        codes = [  # the batch's codes are mostly in the type already
            c.astype(code_type(size), copy=False)
            if lookup is None
            else lookup.astype(code_type(size))[c]
            for c, lookup, size in zip(part.codes, lookups, sizes, strict=True)
        ]
        if self.pairs is not None and not self.pairs.learn(codes[-2], codes[-1], sizes[-2]):
            self.pairs = None  # too many bands to number their pairs by a table
        self.pending.append(_Part(codes, part.count, part.sums))
        self.waiting += part.size
        self.summed = False
        space = places(self._counting(sizes))
        if space <= _DENSE_LIMIT:
            if self.waiting >= space:
                self._count(sizes)
        elif self.waiting > self.limit:
            self._count(sizes)

    def sizes(self) -> list[int]:
        """Number of values of each dimension of the key (so far)."""
        out = [len(self.labels[n].codes) if n in self.labels else 2 for n in self.names]
        if self.binning is not None:
            out[-1] = self.binning.size
        return out

    def _counting(self, sizes: list[int]) -> list[int]:
        """The key space counted in: band and score bin as their pairs, if numbered."""
        return sizes if self.pairs is None else [*sizes[:-2], self.pairs.size]

    def _count(self, sizes: list[int]) -> None:
        """Count the waiting parts into the total (anew when new labels or pairs have
        grown the key space since the last time: codes hold in any key space, keys do not).
        """
        parts, self.pending, self.waiting = self.pending, [], 0
        counting = self._counting(sizes)
        if self.dense is not None and self.dense.sizes != counting:
            parts, self.dense = [self.dense.cells(), *parts], None
        if places(counting) > _DENSE_LIMIT:
            self.pending = [_combine(parts, sizes)]
            self.waiting = self.pending[0].size
            self.limit = max(self.limit, 4 * self.waiting)
            self.summed = True
            return
        counted = _Dense.of(parts, counting, self.pairs)
        self.dense = counted if self.dense is None else self.dense.add(counted)

    def combined(self) -> _Part:
        """All cells summed into one part, in key order."""
        sizes = self.sizes()
        if not self.summed:
            self._count(sizes)
        if self.dense is not None:  # its cells are the sum (and its arrays are spent)
            self.pending, self.dense, self.summed = [self.dense.cells()], None, True
        return self.pending[0]


class _Pairs:
    """Band and score bin as one dimension of the counting key: the pairs that occur,
    numbered as they are first seen (a number never changes, like a label's code).

    An instrument's band is mostly a function of its score (cut-offs), so of all the
    bands × bins combinations about one per bin occurs. Counted over the pairs that
    occur, the key space (and the arrays of :class:`_Dense`) is that much smaller:
    10.4 million places for five attributes, three bands and 1,000 bins; 3.5 million
    as pairs.
    """

    def __init__(self, bins: int) -> None:
        self.bins = bins
        self.bands = 0  # band codes seen so far are below this (no bins: none counted)
        self.seen = np.zeros(0, np.intp)  # band * bins + bin of each number
        self.number = np.zeros(0, np.intp)  # the number of each band * bins + bin (-1: none)

    @property
    def size(self) -> int:
        """Pairs numbered so far."""
        return self.seen.size

    def learn(self, band: np.ndarray, bins: np.ndarray, n_bands: int) -> bool:
        """Number the pairs of these rows' codes not seen before; False (nothing
        numbered) if a table of every pair of ``n_bands`` bands would be too large.
        """
        if n_bands * self.bins > _PAIR_TABLE:
            return False
        if self.number.size < n_bands * self.bins:
            grown = np.full(n_bands * self.bins, -1, np.intp)
            grown[: self.number.size] = self.number
            self.number, self.bands = grown, n_bands
        pair = self._pair(band, bins)
        if pair.size * 8 < self.number.size:  # a few rows: cheaper than a pass over the table
            present = np.unique(pair)
        else:
            present = np.flatnonzero(np.bincount(pair, minlength=self.number.size))
        new = present[self.number[present] < 0]
        self.number[new] = np.arange(self.seen.size, self.seen.size + new.size)
        self.seen = np.concatenate([self.seen, new])
        return True

    def _pair(self, band: np.ndarray, bins: np.ndarray) -> np.ndarray:
        pair = band.astype(np.intp)
        append_dim(pair, bins, self.bins)
        return pair

    def codes(self, codes: list[np.ndarray]) -> list[np.ndarray]:
        """Codes of the key columns (band, then score bin, last) as counting codes."""
        return [*codes[:-2], self.number[self._pair(codes[-2], codes[-1])]]

    def order(self, n: int) -> np.ndarray:
        """The first ``n`` numbers in band, then bin, order."""
        return np.argsort(self.seen[:n])

    def unfold(self, ranks: np.ndarray, n: int) -> list[np.ndarray]:
        """Band and bin codes of pairs given by their place in :meth:`order` ``(n)``."""
        band, bins = np.divmod(np.sort(self.seen[:n])[ranks], self.bins)
        return [band.astype(code_type(self.bands)), bins.astype(code_type(self.bins))]


@dataclass
class _Dense:
    """Cases and score sums of every cell of a key space, in arrays as large as it
    (band and score bin as one dimension if ``pairs``).
    """

    sizes: list[int]
    count: np.ndarray
    sums: tuple[np.ndarray, np.ndarray] | None
    pairs: _Pairs | None = None

    @classmethod
    def of(cls, parts: Sequence[_Part], sizes: list[int], pairs: _Pairs | None) -> _Dense:
        """The parts counted over the key space of ``sizes``: two threads each build
        the keys of half the cells (a part at a time, so its block stays in the cache),
        then the counts and the two sums are counted by ``np.bincount``, each on a
        thread of its own (two would leave the third to run alone).
        """
        rows = _Keyed.of(parts, pairs)
        space = places(sizes)
        weights = rows.weights()
        with ThreadPoolExecutor(max(THREADS, len(weights))) as pool:
            list(pool.map(lambda half: rows.fill(half, sizes), rows.halves(THREADS)))
            found = list(pool.map(lambda w: np.bincount(rows.key, w, minlength=space), weights))
        count = found[0] if rows.count is None else np.rint(found[0]).astype(np.int64)
        return cls(sizes, count, (found[1], found[2]) if len(found) == 3 else None, pairs)

    def add(self, other: _Dense) -> _Dense:
        """This total plus ``other`` (same key space), in place."""
        self.count += other.count
        if self.sums is not None and other.sums is not None:
            for mine, theirs in zip(self.sums, other.sums, strict=True):
                mine += theirs
        return self

    def cells(self) -> _Part:
        """The non-empty cells, in key order, as codes of the key columns (the pairs
        taken in band, then bin, order: the cells come out as if counted without them).
        The arrays are reordered in place: the total is spent.
        """
        arrays = [self.count, *(self.sums or ())]
        order = None if self.pairs is None else self.pairs.order(self.sizes[-1])
        if order is not None and np.any(np.diff(order) < 0):  # pairs seen out of order
            for a in arrays:
                _reorder_last(a.reshape(-1, order.size), order)
        cells = np.flatnonzero(arrays[0] > 0)
        codes = split_key(cells, self.sizes)
        if self.pairs is not None:
            codes[-1:] = self.pairs.unfold(codes[-1], self.sizes[-1])
        count, *sums = (a[cells] for a in arrays)
        return _Part(codes, count, (sums[0], sums[1]) if sums else None)


def _reorder_last(table: np.ndarray, order: np.ndarray) -> None:
    """Take the columns of ``table`` in ``order``, in place, a block of rows at a time
    (a copy of the whole table would double the memory of a large key space).
    """
    rows = max(1, _REORDER_BLOCK // order.size)
    for start in range(0, len(table), rows):
        block = table[start : start + rows]
        block[:] = np.take(block, order, axis=1)


@dataclass
class _Keyed:
    """Parts laid end to end for counting: a key per cell, cases (None: one each) and
    score sums, filled part by part.
    """

    parts: Sequence[_Part]
    starts: list[int]
    key: np.ndarray
    count: np.ndarray | None
    sums: tuple[np.ndarray, np.ndarray] | None
    pairs: _Pairs | None

    @classmethod
    def of(cls, parts: Sequence[_Part], pairs: _Pairs | None) -> _Keyed:
        starts = np.cumsum([0, *(p.size for p in parts)]).tolist()
        n = starts[-1]
        count = None if all(p.count is None for p in parts) else np.empty(n, np.int64)
        sums = (np.empty(n), np.empty(n)) if parts and parts[0].sums is not None else None
        return cls(parts, starts, np.empty(n, np.intp), count, sums, pairs)

    def halves(self, k: int) -> list[range]:
        """The parts split into ``k`` runs of about equal numbers of cells."""
        cuts = np.searchsorted(self.starts, [i * self.starts[-1] / k for i in range(1, k)])
        bounds = [0, *np.minimum(cuts, len(self.parts)).tolist(), len(self.parts)]
        return [range(a, b) for a, b in pairwise(bounds) if b > a]

    def fill(self, indices: range, sizes: list[int]) -> None:
        """Write the keys, cases and sums of the parts ``indices``."""
        for i in indices:
            part, cut = self.parts[i], slice(self.starts[i], self.starts[i + 1])
            dims = part.codes if self.pairs is None else self.pairs.codes(part.codes)
            key = self.key[cut]
            key[:] = dims[0] if dims else 0
            for codes, size in zip(dims[1:], sizes[1:], strict=True):
                append_dim(key, codes, size)
            if self.count is not None:
                self.count[cut] = 1 if part.count is None else part.count
            if self.sums is not None and part.sums is not None:
                self.sums[0][cut], self.sums[1][cut] = part.sums

    def weights(self) -> list[np.ndarray | None]:
        """What ``np.bincount`` sums: the cases (None: one per cell), the score sums."""
        return [self.count, *(self.sums or ())]


def _key_names(roles: Roles) -> list[str]:
    """The dimensions of the key, in order: groups, outcome, selected, band, score bin."""
    names = [*roles.groups, *(c for c in (roles.outcome, roles.selected) if c)]
    return names + [c for c in (roles.band, roles.score) if c]


def _combine(parts: Sequence[_Part], sizes: list[int]) -> _Part:
    """Sum parts (global codes, ``sizes`` values per dimension) into one.

    Each cell gets one integer key (:class:`_Key`, built part by part, so the codes are
    never concatenated); the keys are sorted and equal neighbours summed. Counting by
    :func:`numpy.bincount` instead would write an array as large as the whole key space
    (10 million cells for five attributes with a score) three times per combination.
    Parts come sorted by key, so the stable sort only merges their runs, and it keeps
    each cell's parts in order: the score sums add up in the same order as before.
    """
    n = sum(p.size for p in parts)
    if n == 0:  # no rows, or only rows with a count of 0
        return _Part([np.zeros(0, code_type(s)) for s in sizes], np.zeros(0, np.int64), None)
    key = _Key(n)
    for i, size in enumerate(sizes):
        key.add(_Dim(size, [p.codes[i] for p in parts]))
    order = np.argsort(key.key, kind="stable")
    keys = key.key[order]
    first = np.empty(n, bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    total = np.add.reduceat(np.concatenate([p.counts() for p in parts])[order], starts)
    sums = None
    if parts[0].sums is not None:
        cell = np.cumsum(first, dtype=np.intp) - 1
        sums = tuple(
            np.bincount(cell, np.concatenate([p.sums[i] for p in parts])[order], starts.size)
            for i in (0, 1)
        )
    first_of_cell = order[starts]
    codes = [np.concatenate([p.codes[i] for p in parts])[first_of_cell] for i in range(len(sizes))]
    return _Part(codes, total, sums)


def _batch_cells(batch: pa.RecordBatch, roles: Roles, binning: Binning | None) -> _Part:
    """One batch as cells (codes of the batch's own dictionaries): counted when its key
    space is no larger than the batch, else its rows as they are (counting them into a
    key space larger than the batch would cost more than the batch; the total counts
    many batches' rows at once).
    """
    weights = count_weights(batch, roles)
    if weights is not None and not weights.all():  # rows with count 0 are no cases
        batch = batch.filter(pa.array(weights > 0))
        weights = count_weights(batch, roles)
    values = None if binning is None else as_floats(batch.column(roles.score))
    dims, dictionaries = _batch_codes(batch, roles, binning, values)
    sums = None
    if values is not None and binning is not None and binning.method != "exact":
        w = values if weights is None else values * weights
        sums = (w, w * values)
    if places(d.size for d in dims) > max(batch.num_rows, _SMALL_SPACE):
        count = None if weights is None else np.rint(weights).astype(np.int64)
        return _Part([d.chunks[0] for d in dims], count, sums, dictionaries)
    key = _Key(batch.num_rows)
    for dim in dims:
        key.add(dim)
    count, cells = key.count(weights)
    if sums is not None:
        sums = (key.bincount(sums[0])[cells], key.bincount(sums[1])[cells])
    return _Part(key.decode(cells), count, sums, dictionaries)


def _batch_codes(
    batch: pa.RecordBatch, roles: Roles, binning: Binning | None, values: np.ndarray | None
) -> tuple[list[_Dim], list[pa.Array | None]]:
    """Each dimension of the key (:func:`_key_names`) as the batch's codes, and the
    dictionaries of the categorical ones (None for outcome, selected and score bin).
    """
    dims, dictionaries = [], []
    for name in _key_names(roles):
        if name in (roles.outcome, roles.selected):
            codes = pc.cast(batch.column(name), pa.int8()).to_numpy(zero_copy_only=False)
            dims.append(_Dim(2, [codes]))
            dictionaries.append(None)
        elif name == roles.score and binning is not None and values is not None:
            dims.append(_Dim(binning.size, [binning.codes(values)]))
            dictionaries.append(None)
        else:
            codes, dictionary = _used_codes(batch.column(name))
            dims.append(_Dim(len(dictionary), [codes]))
            dictionaries.append(dictionary)
    return dims, dictionaries


def _used_codes(column: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """A categorical batch column's codes over the values the batch uses, and those
    values: a dictionary may hold many more (polars' shared categories hold every
    categorical column's), which would only widen the key space.
    """
    codes, dictionary = dictionary_codes(column)
    codes = codes.astype(code_type(len(dictionary)), copy=False)  # counted faster so
    used = np.bincount(codes, minlength=len(dictionary)) > 0
    if used.all():
        return codes, dictionary
    rank = (np.cumsum(used) - 1).astype(code_type(int(used.sum())))
    return rank[codes], dictionary.filter(pa.array(used))


def _assemble(
    total: _Total, roles: Roles, binning: Binning | None, n_bins: int, sources: list[str]
) -> Cube:
    """The running total's cells as the cube table.

    Categorical key columns are dictionary arrays of the cells' codes and the labels
    (taking a label string for each of millions of cells would cost more than the
    rest of the table; the audit reads the codes as they are).
    """
    names = total.names
    values = [
        total.labels[n].array() if n in total.labels else pa.array([0, 1], pa.int8()) for n in names
    ]
    if binning is not None:
        values[-1] = pa.array(binning.keys, pa.float64())
    part = total.combined()
    table = {
        n: pa.DictionaryArray.from_arrays(c, v) if n in total.labels else v.take(c)
        for n, v, c in zip(names, values, part.codes, strict=True)
    }
    bins = part.codes[-1] if binning is not None else None
    return cube_of(table, part.count, part.sums, bins, roles, binning, n_bins, sources)


def cube_of(
    table: dict[str, pa.Array],
    count: np.ndarray,
    sums: tuple[np.ndarray, np.ndarray] | None,
    bins: np.ndarray | None,
    roles: Roles,
    binning: Binning | None,
    n_bins: int,
    sources: list[str],
) -> Cube:
    """The cube from its cells, however counted (here or by an engine).

    ``table`` holds the key columns, ``count`` the cases per cell; ``bins`` the score-bin
    code of each cell; ``sums`` the score sums of a quantile-binned score (an exact
    score's sums follow from its values and counts, as here).
    """
    out = _cube_names(roles)
    table[out["count"]] = pa.array(count, pa.int64())
    meta: dict[str, Any] = {"score_sum": out["score_sum"], "score_sq": out["score_sq"]}
    meta |= {"n_bins": n_bins, "sources": sources}
    if binning is not None and bins is not None:
        if binning.method == "exact" or sums is None:
            value = binning.keys[bins]
            sums = (value * count, value * value * count)
        table[out["score_sum"]], table[out["score_sq"]] = (pa.array(x) for x in sums)
        meta |= {"binning": binning.method, "score_range": [binning.lo, binning.hi]}
    return Cube(pa.table(table), replace(roles, count=out["count"]), meta)


def _cube_names(roles: Roles) -> dict[str, str]:
    """Names of the cube's own columns, prefixed with ``cube_`` if the data uses them."""
    taken = set(replace(roles, count=None).columns())  # the input's counts are summed away
    return {n: n if n not in taken else f"cube_{n}" for n in ("count", "score_sum", "score_sq")}


# --------------------------------------------------------------------------- the key


class _Key:
    """One integer key per row, built by adding dimensions; compacted when it grows.

    Steps are recorded so that :meth:`decode` can turn a key back into the codes of
    each dimension: ``("dim", size)`` appends a dimension, ``("compact", present)``
    renumbers the keys that occur as 0..k-1. The key is kept in 16 bits while it fits
    (the group attributes, outcome and band together rarely need more), so building it
    moves a quarter of the memory; it is widened once, when it grows or for counting.
    """

    def __init__(self, n: int) -> None:
        self.key = np.zeros(n, np.int16)
        self.size = 1
        self.steps: list[tuple[str, Any]] = []

    def add(self, dim: _Dim) -> None:
        """Append a dimension: ``key = key * size + code``, chunk by chunk."""
        if self.size * dim.size > _KEY_LIMIT:
            present = np.flatnonzero(self.bincount())
            lookup = np.zeros(self.size, _int_for(present.size))
            lookup[present] = np.arange(present.size)
            self.key = np.take(lookup, self.key)
            self.steps.append(("compact", present))
            self.size = present.size
        self.size *= dim.size
        kind = _int_for(self.size)
        if self.key.dtype.itemsize < kind.itemsize:
            self.key = self.key.astype(kind)
        start = 0
        for chunk in dim.chunks:
            append_dim(self.key[start : start + chunk.size], chunk, dim.size)
            start += chunk.size
        self.steps.append(("dim", dim.size))

    def bincount(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Counts (or weighted sums) per key."""
        if self.key.dtype != np.intp:  # bincount would widen it on every call
            self.key = self.key.astype(np.intp)
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


def _int_for(size: int) -> np.dtype:
    """16 bits for keys 0..size-1 that fit them, else what bincount counts in."""
    return np.dtype(np.int16 if size <= 1 << 15 else np.intp)


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
    controlled = [c for c in cubes if c.meta.get("disclosure")]
    if controlled:  # summed rounded counts and suppressed cells: their bounds would be lost
        raise DataError(
            Message(
                "cannot merge cubes published under output control: audit each one separately",
                domain="reports",
            ),
            ", ".join(controlled[0].meta.get("sources", ["<cube>"])),
        )
    for other in cubes[1:]:
        if _shape(other) != _shape(first):
            reason = Message(
                "cannot merge cubes with different roles: %(first)s and %(other)s",
                domain="reports",
                first=str(_shape(first)),
                other=str(_shape(other)),
            )
            raise DataError(
                reason,
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
