"""Reading the area audit's tables into dense period × cell arrays.

Every table is read through :func:`waarborg.tables.read_table` (CSV, Parquet or an
in-memory frame); a scored Parquet file is read with ``cell_id`` as a dictionary
column, so 5 million rows need no string hashing. Bad input raises
:class:`~waarborg.errors.DataError` naming the file, row and column; records that
cannot be used (an incident in a cell the scored table does not have, or after the
last period) are counted and reported, never silently dropped.

The period axis: the scored table's ``period`` is the start of a period of
``period_days`` days; every start must lie on one grid of such periods. Incidents are
put on the same grid, extended backwards to the earliest incident, so the baselines
can use the history before the first scored period.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.tables import TableLike, read_table

__all__ = [
    "ACTION_BASES",
    "Actions",
    "Incidents",
    "Scored",
    "read_actions",
    "read_cells",
    "read_incidents",
    "read_residents",
    "read_scored",
    "residents_on_grid",
]

ACTION_BASES = ("area_selection", "concrete_suspicion", "other")
SOURCES = ("reported", "discovered")
_CATEGORIES = ("cell_id", "type", "source")
"""Text columns read from Parquet as dictionaries: few distinct values, many rows."""
_SQUARE = re.compile(r"^E(\d{4})N(\d{4})$")
_INSPIRE = re.compile(r"^CRS28992RES(\d+)MN(\d+)E(\d+)$", re.IGNORECASE)


@dataclass
class Scored:
    """The scored table as dense arrays: one row per period, one column per cell."""

    source: str
    cell_ids: np.ndarray
    period_days: int
    first_day: int
    score: np.ndarray
    selected: np.ndarray
    expected: np.ndarray | None
    fingerprint: Any

    @property
    def n_periods(self) -> int:
        """Number of scored periods."""
        return self.score.shape[0]

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.score.shape[1]

    def period_start(self, p: int) -> np.datetime64:
        """The start date of scored period ``p`` (0-based)."""
        return np.datetime64(self.first_day + p * self.period_days, "D")

    def starts(self) -> list[str]:
        """Every scored period's start date, ISO."""
        days = self.first_day + self.period_days * np.arange(self.n_periods)
        return [str(d) for d in days.astype("datetime64[D]")]


@dataclass
class Incidents:
    """Incident counts per period × cell on the scored grid, with history before it.

    ``counts`` has ``history + n_periods`` rows: ``history`` periods before the first
    scored one (from the earliest incident), then the scored periods.
    """

    source: str
    counts: np.ndarray
    history: int
    read: int
    used: int
    unknown_cell: int
    after_last: int
    discovered: int
    discovered_used: int
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def scored(self) -> np.ndarray:
        """Counts in the scored periods only."""
        return self.counts[self.history :]


@dataclass
class Actions:
    """Police actions per scored period, by basis, with persons."""

    source: str
    period: np.ndarray
    cell: np.ndarray
    basis: np.ndarray
    person: np.ndarray
    group: np.ndarray | None
    read: int
    outside: int
    unknown_cell: int


def _column(table: pa.Table, name: str, source: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        have = ", ".join(table.column_names)
        reason = Message("missing column (the table has: %(have)s)", domain="reports", have=have)
        raise DataError(reason, source, column=name)
    return table.column(name)


def _first_null(column: pa.ChunkedArray) -> int | None:
    if column.null_count == 0:
        return None
    return int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0]) + 1


def _no_nulls(table: pa.Table, names: tuple[str, ...], source: str) -> None:
    for name in names:
        row = _first_null(_column(table, name, source))
        if row is not None:
            raise DataError(
                Message("missing value", domain="reports"), source, row=row, column=name
            )


def _days(column: pa.ChunkedArray, source: str, name: str) -> np.ndarray:
    """Dates or times as whole days since 1970-01-01 (int64)."""
    kind = column.type
    try:
        if pa.types.is_timestamp(kind):
            column = pc.cast(column, pa.timestamp("s", tz=kind.tz))
            if kind.tz is not None:
                column = pc.local_timestamp(column)
            column = pc.cast(pc.cast(column, pa.timestamp("s")), pa.date32())
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            column = _parse_dates(column)
        elif not pa.types.is_date(kind):
            reason = Message(
                "expected a date or time, got %(type)s", domain="reports", type=str(kind)
            )
            raise DataError(reason, source, column=name)
        column = pc.cast(column, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = Message("not a date or time: %(error)s", domain="reports", error=str(exc))
        raise DataError(reason, source, column=name) from None
    return column.combine_chunks().view(pa.int32()).to_numpy().astype(np.int64)


def _parse_dates(column: pa.ChunkedArray) -> pa.ChunkedArray:
    text = column.combine_chunks()
    if pc.all(pc.less_equal(pc.utf8_length(text), 10)).as_py():
        return pc.cast(text, pa.date32())
    return pc.cast(
        pc.strptime(pc.utf8_slice_codeunits(text, 0, 19), "%Y-%m-%dT%H:%M:%S", "s"), pa.date32()
    )


def _floats(table: pa.Table, name: str, source: str) -> np.ndarray:
    column = _column(table, name, source)
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        reason = Message("expected numbers, got %(type)s", domain="reports", type=str(column.type))
        raise DataError(reason, source, column=name)
    _no_nulls(table, (name,), source)
    values = column.to_numpy().astype(np.float64, copy=False)
    if np.isfinite(values.sum()):  # fast path: no nan or inf (a huge finite sum is checked)
        return values
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        reason = Message(
            "not a finite number (%(value)s)", domain="reports", value=str(values[bad[0]])
        )
        raise DataError(reason, source, int(bad[0]) + 1, name)
    return values


def _strings(column: pa.ChunkedArray) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return pc.cast(column, pa.string()).combine_chunks()


def _read(data: TableLike, columns: list[str] | None = None) -> tuple[pa.Table, str]:
    if isinstance(data, str | Path) and Path(data).suffix.lower() == ".parquet":
        path = Path(data)
        if not path.exists():
            raise DataError(Message("no such file", domain="reports"), str(path))
        try:
            schema = pq.read_schema(path)
            wanted = [c for c in columns or schema.names if c in schema.names]
            dictionary = [c for c in _CATEGORIES if c in wanted]
            table = pq.read_table(path, columns=wanted, read_dictionary=dictionary)
        except (pa.ArrowInvalid, OSError) as exc:
            reason = Message("cannot read the file: %(error)s", domain="reports", error=str(exc))
            raise DataError(reason, str(path)) from None
        return table, str(path)
    return read_table(data)


# --------------------------------------------------------------------------- scored


def read_scored(data: TableLike, period_days: int = 14) -> Scored:
    """Read a scored table (``cell_id``, ``period``, ``score``, ``selected``, …) into arrays.

    Every cell must be scored in every period exactly once (a missing or a repeated
    cell-period is an error), and every period start must lie on one grid of
    ``period_days`` days.

    Examples
    --------
    >>> import datetime as dt
    >>> s = read_scored({"cell_id": ["a", "b"], "period": [dt.date(2025, 1, 6)] * 2,
    ...                  "score": [0.2, 0.1], "selected": [True, False]})
    >>> s.n_periods, s.n_cells, s.starts()
    (1, 2, ['2025-01-06'])
    """
    if period_days < 1:
        raise ValueError("period_days must be at least 1")
    wanted = ["cell_id", "period", "score", "selected", "expected_incidents"]
    table, source = _read(data, wanted)
    _no_nulls(table, ("cell_id", "period", "selected"), source)
    cells = _column(table, "cell_id", source)
    if not pa.types.is_dictionary(cells.type):
        cells = pc.dictionary_encode(_strings(cells))
    else:
        cells = pa.chunked_array(cells.chunks or [pa.array([], cells.type)]).unify_dictionaries()
        cells = cells.combine_chunks() if cells.num_chunks != 1 else cells.chunk(0)
        if not pa.types.is_string(cells.type.value_type):
            cells = pc.dictionary_encode(_strings(pa.chunked_array([cells])))
    codes = cells.indices.to_numpy()
    cell_ids = np.asarray(cells.dictionary.to_pylist(), dtype=object)
    order = np.argsort(cell_ids, kind="stable")  # cells in sorted order: row order is free
    if (order != np.arange(order.size)).any():
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        codes, cell_ids = rank[codes], cell_ids[order]
    first, period = _period_codes(_column(table, "period", source), period_days, source)
    n_periods, n_cells = int(period.max()) + 1, cell_ids.size
    ordered = codes.size == n_periods * n_cells and bool(
        (codes.reshape(n_periods, n_cells) == np.arange(n_cells)).all()
        and (period.reshape(n_periods, n_cells) == np.arange(n_periods)[:, None]).all()
    )
    flat = None
    if not ordered:
        flat = period.astype(np.int64) * n_cells + codes
        _complete(flat, (n_periods, n_cells), cell_ids, codes, first, period_days, source)
    selected_col = _column(table, "selected", source)
    if not pa.types.is_boolean(selected_col.type):
        try:
            selected_col = pc.cast(selected_col, pa.bool_())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            kind = str(selected_col.type)
            reason = Message("expected true/false, got %(type)s", domain="reports", type=kind)
            raise DataError(reason, source, column="selected") from None
    arrays = {
        "score": _floats(table, "score", source),
        "selected": selected_col.to_numpy(zero_copy_only=False).astype(bool),
    }
    if "expected_incidents" in table.column_names:
        arrays["expected"] = _floats(table, "expected_incidents", source)
        if (arrays["expected"] < 0).any():
            row = int(np.flatnonzero(arrays["expected"] < 0)[0]) + 1
            reason = Message("negative expected count", domain="reports")
            raise DataError(reason, source, row, "expected_incidents")
    dense = {}
    for name, values in arrays.items():
        if flat is None:  # rows already period by period, cells in sorted order
            dense[name] = values.reshape(n_periods, n_cells)
            continue
        out = np.empty(n_periods * n_cells, values.dtype)
        out[flat] = values
        dense[name] = out.reshape(n_periods, n_cells)
    return Scored(
        source=source,
        cell_ids=cell_ids,
        period_days=period_days,
        first_day=first,
        score=dense["score"],
        selected=dense["selected"],
        expected=dense.get("expected"),
        fingerprint=_Fingerprint(cell_ids, first, period_days, dense),
    )


class _Fingerprint:
    """The scored data's BLAKE2b digest, computed in a background thread.

    hashlib releases the GIL on large buffers, so hashing 5 million cell-periods
    overlaps with the audit's own work; :meth:`__str__` waits for it.
    """

    def __init__(
        self, cell_ids: np.ndarray, first: int, period_days: int, dense: dict[str, np.ndarray]
    ) -> None:
        self._digest = hashlib.blake2b(digest_size=32)
        self._digest.update("\n".join(cell_ids.tolist()).encode())
        self._digest.update(np.int64([first, period_days]).tobytes())
        self._arrays = [(name, dense[name]) for name in sorted(dense)]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for name, array in self._arrays:
            self._digest.update(name.encode())
            self._digest.update(np.ascontiguousarray(array).data)

    def __str__(self) -> str:
        self._thread.join()
        return self._digest.hexdigest()

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def _period_codes(column: pa.ChunkedArray, period_days: int, source: str) -> tuple[int, np.ndarray]:
    """The first period's start (days since 1970) and each row's period index.

    The dates are dictionary-encoded first, so the grid is checked on the distinct
    starts only and each row's index is a lookup.
    """
    if len(column) == 0:
        raise DataError(Message("the scored table has no rows", domain="reports"), source)
    encoded = pc.dictionary_encode(column.combine_chunks())
    starts = _days(pa.chunked_array([encoded.dictionary]), source, "period")
    first = int(starts.min())
    bad = np.flatnonzero((starts - first) % period_days != 0)
    indices = encoded.indices.to_numpy()
    if bad.size:
        row = int(np.flatnonzero(indices == bad[0])[0])
        reason = Message(
            "period %(period)s is not on the %(days)s-day grid that starts %(first)s "
            "(use --period-days)",
            domain="reports",
            period=str(np.datetime64(int(starts[bad[0]]), "D")),
            days=period_days,
            first=str(np.datetime64(first, "D")),
        )
        raise DataError(
            reason,
            source,
            row + 1,
            "period",
        )
    lookup = ((starts - first) // period_days).astype(np.int32)
    return first, lookup[indices]


def _complete(
    flat: np.ndarray,
    shape: tuple[int, int],
    cell_ids: np.ndarray,
    codes: np.ndarray,
    first: int,
    period_days: int,
    source: str,
) -> None:
    """Every cell exactly once in every period."""
    seen = np.bincount(flat, minlength=shape[0] * shape[1])
    if (seen > 1).any():
        twice = int(np.flatnonzero(seen > 1)[0])
        row = int(np.flatnonzero(flat == twice)[1])
        reason = Message(
            "cell %(cell)s is scored twice for period %(period)s",
            domain="reports",
            cell=repr(cell_ids[codes[row]]),
            period=str(np.datetime64(first + twice // shape[1] * period_days, "D")),
        )
        raise DataError(
            reason,
            source,
            row + 1,
            "cell_id",
        )
    missing = np.flatnonzero(seen == 0)
    if missing.size:
        p, c = divmod(int(missing[0]), shape[1])
        start = np.datetime64(first + p * period_days, "D")
        reason = Message(
            "every cell must be scored in every period: cell %(cell)s is not scored in period "
            "%(period)s (%(n)s cell-periods missing)",
            domain="reports",
            cell=repr(cell_ids[c]),
            period=str(start),
            n=missing.size,
        )
        raise DataError(
            reason,
            source,
            column="period",
        )


# --------------------------------------------------------------------------- incidents


def _factor(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (as str) and each row's index into them (-1 for null)."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(_strings(column))
    else:
        column = pa.chunked_array(column.chunks or [pa.array([], column.type)])
        column = column.unify_dictionaries().combine_chunks()
    values = np.asarray(_strings(pa.chunked_array([column.dictionary])).to_pylist(), object)
    return values, column.indices.fill_null(-1).to_numpy().astype(np.int64)


def _cell_codes(column: pa.ChunkedArray, cell_ids: np.ndarray) -> np.ndarray:
    """Index of each value in ``cell_ids`` (-1 where absent), looked up once per value."""
    values, codes = _factor(column)
    known = pa.array(cell_ids.tolist(), pa.string())
    found = pc.index_in(pa.array(values.tolist(), pa.string()), value_set=known)
    lookup = np.append(found.fill_null(-1).to_numpy().astype(np.int64), -1)
    return lookup[codes]


def read_incidents(data: TableLike, scored: Scored) -> Incidents:
    """Count incidents per period × cell on the scored table's grid of periods and cells.

    Columns: ``cell_id``, ``time`` (or ``date``), optional ``type``, ``incident_id`` and
    ``source`` ("reported" | "discovered"). An incident counts for the period whose
    ``[start, start + period_days)`` contains it. Incidents in a cell that is not in the
    scored table, or after the last scored period, are counted and reported.
    """
    table, source = _read(data)
    when = "time" if "time" in table.column_names else "date"
    _no_nulls(table, ("cell_id", when), source)
    days = _days(_column(table, when, source), source, when)
    cell = _cell_codes(_column(table, "cell_id", source), scored.cell_ids)
    discovered = np.zeros(table.num_rows, bool)
    if "source" in table.column_names:
        _no_nulls(table, ("source",), source)
        kinds, kind = _factor(table.column("source"))
        bad = np.flatnonzero(~np.isin(kinds, SOURCES))
        if bad.size:
            row = int(np.flatnonzero(kind == bad[0])[0])
            reason = Message(
                "source %(source)s is neither 'reported' nor 'discovered'",
                domain="reports",
                source=repr(kinds[bad[0]]),
            )
            raise DataError(
                reason,
                source,
                row + 1,
                "source",
            )
        discovered = (kinds == "discovered")[kind]
    off = days - scored.first_day
    period = np.floor_divide(off, scored.period_days)
    history = int(max(0, -period.min())) if period.size else 0
    total = history + scored.n_periods
    row = period + history
    after = row >= total
    unknown = cell < 0
    keep = ~after & ~unknown
    counts = np.bincount(
        row[keep] * scored.n_cells + cell[keep], minlength=total * scored.n_cells
    ).reshape(total, scored.n_cells)
    by_type: dict[str, int] = {}
    if "type" in table.column_names:
        names, kind = _factor(table.column("type"))
        tally = np.bincount(kind[keep] + 1, minlength=names.size + 1)
        by_type = {str(n): int(c) for n, c in zip(["", *names], tally, strict=True) if c}
    return Incidents(
        source=source,
        counts=counts,
        history=history,
        read=table.num_rows,
        used=int(keep.sum()),
        unknown_cell=int(unknown.sum()),
        after_last=int((after & ~unknown).sum()),
        discovered=int(discovered.sum()),
        discovered_used=int((discovered & keep).sum()),
        by_type=by_type,
    )


# --------------------------------------------------------------------------- geometry


def read_cells(data: TableLike, scored: Scored, cell_size: float) -> np.ndarray:
    """Lower-left corners (x, y) in metres of the scored cells, shape (cells, 2).

    The cells table has ``cell_id``, ``x``, ``y``; every scored cell must be in it.
    """
    if cell_size <= 0:
        raise ValueError("cell_size must be positive")
    table, source = read_table(data)
    _no_nulls(table, ("cell_id", "x", "y"), source)
    code = _cell_codes(_column(table, "cell_id", source), scored.cell_ids)
    xy = np.full((scored.n_cells, 2), np.nan)
    known = code >= 0
    xy[code[known], 0] = _floats(table, "x", source)[known]
    xy[code[known], 1] = _floats(table, "y", source)[known]
    missing = np.flatnonzero(np.isnan(xy[:, 0]))
    if missing.size:
        reason = Message(
            "scored cell %(cell)s is not in the cells table (%(n)s missing)",
            domain="reports",
            cell=repr(scored.cell_ids[missing[0]]),
            n=missing.size,
        )
        raise DataError(
            reason,
            source,
            column="cell_id",
        )
    return xy


def _squares(table: pa.Table, source: str, square_size: float | None) -> np.ndarray:
    """Lower-left x, y and size of each residents square (rows × 3)."""
    n = table.num_rows
    if "x" in table.column_names and "y" in table.column_names:
        x, y = _floats(table, "x", source), _floats(table, "y", source)
        if "size" in table.column_names:
            size = _floats(table, "size", source)
        elif square_size is not None:
            size = np.full(n, float(square_size))
        else:
            reason = Message("give a size column or a square size", domain="reports")
            raise DataError(reason, source, column="size")
        return np.column_stack([x, y, size])
    _no_nulls(table, ("square",), source)
    ids = _strings(_column(table, "square", source)).to_pylist()
    out = np.empty((n, 3))
    for i, text in enumerate(ids):
        m = _SQUARE.match(text)
        if m is not None:
            if square_size is None:
                reason = Message(
                    "square %(square)s: give the square size (100 or 500 m)",
                    domain="reports",
                    square=repr(text),
                )
                raise DataError(reason, source, i + 1, "square")
            out[i] = (int(m[1]) * 100, int(m[2]) * 100, square_size)
            continue
        m = _INSPIRE.match(text)
        if m is None:
            reason = Message(
                "square %(square)s is not E####N#### (hectometres) or CRS28992RES###mN#E#",
                domain="reports",
                square=repr(text),
            )
            raise DataError(
                reason,
                source,
                i + 1,
                "square",
            )
        out[i] = (int(m[3]), int(m[2]), int(m[1]))
    return out


def residents_on_grid(
    squares: np.ndarray, counts: np.ndarray, cells_xy: np.ndarray, cell_size: float
) -> tuple[np.ndarray, np.ndarray]:
    """Area-weight counts on squares onto grid cells.

    Each square's count is split over the cells it overlaps in proportion to the
    overlapping area (residents assumed spread evenly within a square). Parts of a
    square that fall on no cell of the grid are returned separately, so nothing is lost
    without a trace.

    Parameters
    ----------
    squares : ndarray
        ``(n, 3)``: lower-left x, y and side length of each square (metres).
    counts : ndarray
        ``(n, groups)`` counts per square.
    cells_xy : ndarray
        ``(cells, 2)`` lower-left corners of the grid cells, all on one grid.
    cell_size : float
        Side of a grid cell.

    Returns
    -------
    on_cells, outside : ndarray
        ``(cells, groups)`` weighted counts, and ``(groups,)`` counts outside the grid.

    Examples
    --------
    >>> on, off = residents_on_grid(np.array([[0.0, 0.0, 250.0]]), np.array([[100.0]]),
    ...                             np.array([[0.0, 0.0], [125.0, 0.0]]), 125.0)
    >>> on.ravel().tolist(), off.tolist()
    ([25.0, 25.0], [50.0])
    """
    ox, oy = cells_xy[:, 0].min(), cells_xy[:, 1].min()
    ix = np.rint((cells_xy[:, 0] - ox) / cell_size).astype(np.int64)
    iy = np.rint((cells_xy[:, 1] - oy) / cell_size).astype(np.int64)
    if not (
        np.allclose(ox + ix * cell_size, cells_xy[:, 0])
        and np.allclose(oy + iy * cell_size, cells_xy[:, 1])
    ):
        raise ValueError("the cells are not on one grid of the given cell size")
    width = int(ix.max()) + 1
    key = iy * width + ix
    order = np.argsort(key)
    sorted_key = key[order]
    on = np.zeros((cells_xy.shape[0], counts.shape[1]))
    x0, y0, size = squares[:, 0], squares[:, 1], squares[:, 2]
    steps = int(np.ceil(size.max() / cell_size)) + 1 if size.size else 0
    i0 = np.floor((x0 - ox) / cell_size).astype(np.int64)
    j0 = np.floor((y0 - oy) / cell_size).astype(np.int64)
    area = size * size
    for di in range(steps):
        ci = i0 + di
        wx = _overlap(x0, size, ox + ci * cell_size, cell_size)
        for dj in range(steps):
            cj = j0 + dj
            w = wx * _overlap(y0, size, oy + cj * cell_size, cell_size) / area
            inside = (w > 0) & (ci >= 0) & (ci < width) & (cj >= 0)
            k = cj * width + ci
            pos = np.searchsorted(sorted_key, k)
            pos = np.minimum(pos, sorted_key.size - 1)
            hit = inside & (sorted_key[pos] == k)
            np.add.at(on, order[pos[hit]], counts[hit] * w[hit, None])
    outside = counts.sum(axis=0) - on.sum(axis=0)
    return on, np.maximum(outside, 0.0)


def _overlap(a: np.ndarray, size: np.ndarray, b: np.ndarray, cell: float) -> np.ndarray:
    return np.clip(np.minimum(a + size, b + cell) - np.maximum(a, b), 0.0, None)


def read_residents(
    data: TableLike,
    scored: Scored,
    *,
    cells_xy: np.ndarray | None = None,
    cell_size: float = 125.0,
    square_size: float | None = None,
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """Residents per cell and group, shape (cells, groups), from a long table.

    Either on the scored grid (``cell_id``, ``group``, ``residents``), or on squares of a
    statistics office (``square`` as ``E####N####`` in hectometres or
    ``CRS28992RES100mN…E…``, or ``x``, ``y`` [, ``size``]) which are area-weighted onto
    the grid (needs the cells' geometry).
    """
    table, source = read_table(data)
    _no_nulls(table, ("group",), source)
    residents = _floats(table, "residents", source)
    if (residents < 0).any():
        row = int(np.flatnonzero(residents < 0)[0]) + 1
        raise DataError(Message("negative count", domain="reports"), source, row, "residents")
    groups_arr = _strings(_column(table, "group", source)).to_numpy(zero_copy_only=False)
    groups, group_code = np.unique(groups_arr.astype(str), return_inverse=True)
    info: dict[str, Any] = {"source": source, "rows": table.num_rows}
    if "cell_id" in table.column_names:
        _no_nulls(table, ("cell_id",), source)
        cell = _cell_codes(table.column("cell_id"), scored.cell_ids)
        out = np.zeros((scored.n_cells, groups.size))
        keep = cell >= 0
        np.add.at(out, (cell[keep], group_code[keep]), residents[keep])
        outside = np.bincount(group_code[~keep], residents[~keep], minlength=groups.size)
        info |= {"form": "cells", "unknown_cell_rows": int((~keep).sum())}
    else:
        if cells_xy is None:
            reason = Message(
                "residents on squares need the cells' geometry (--cells)", domain="reports"
            )
            raise DataError(reason, source, column="square")
        squares = _squares(table, source, square_size)
        counts = np.zeros((table.num_rows, groups.size))
        counts[np.arange(table.num_rows), group_code] = residents
        out, outside = residents_on_grid(squares, counts, cells_xy, cell_size)
        info |= {"form": "squares (area-weighted)", "square_sizes": sorted(set(squares[:, 2]))}
    info["outside_grid"] = {str(g): float(v) for g, v in zip(groups, outside, strict=True)}
    return out, [str(g) for g in groups], info


# --------------------------------------------------------------------------- actions


def read_actions(data: TableLike, scored: Scored) -> Actions:
    """Police actions (``cell_id``, ``time``, ``basis``, ``person``, optional ``group``)."""
    table, source = read_table(data)
    when = "time" if "time" in table.column_names else "date"
    _no_nulls(table, ("cell_id", when, "basis", "person"), source)
    basis = _strings(_column(table, "basis", source))
    bad = pc.invert(pc.is_in(basis, value_set=pa.array(ACTION_BASES))).to_numpy(
        zero_copy_only=False
    )
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        reason = Message(
            "basis %(basis)s is not one of %(bases)s",
            domain="reports",
            basis=repr(basis[row].as_py()),
            bases=", ".join(ACTION_BASES),
        )
        raise DataError(
            reason,
            source,
            row + 1,
            "basis",
        )
    code = np.full(table.num_rows, -1)
    for i, name in enumerate(ACTION_BASES):
        code[pc.equal(basis, name).to_numpy(zero_copy_only=False)] = i
    days = _days(_column(table, when, source), source, when)
    period = np.floor_divide(days - scored.first_day, scored.period_days)
    cell = _cell_codes(table.column("cell_id"), scored.cell_ids)
    inside = (period >= 0) & (period < scored.n_periods) & (cell >= 0)
    group = None
    if "group" in table.column_names:
        group = _strings(table.column("group")).fill_null("").to_numpy(zero_copy_only=False)[inside]
    return Actions(
        source=source,
        period=period[inside],
        cell=cell[inside],
        basis=code[inside],
        person=_strings(table.column("person")).to_numpy(zero_copy_only=False)[inside],
        group=group,
        read=table.num_rows,
        outside=int(((period < 0) | (period >= scored.n_periods)).sum()),
        unknown_cell=int(((cell < 0) & (period >= 0) & (period < scored.n_periods)).sum()),
    )
