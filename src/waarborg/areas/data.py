"""Reading the cells and incident tables of an area instrument, and placing each incident.

**Cells** (one row per cell): ``cell_id`` (string, unique), optionally ``x`` and ``y``
(the cell's lower-left corner in the grid's coordinates, which must agree with the id),
and static attributes (numbers) that features may use. With a grid, every id must be a
cell of that grid (``E{x}N{y}``, see :mod:`waarborg.areas.grid`).

**Incidents** (one row per incident): ``time`` (a timestamp) or ``date``; ``type`` (one
of the spec's incident types); ``source`` (``reported`` or ``discovered``); and the
location as ``cell_id``, or ``x``/``y`` in the grid's coordinates (RD New by default),
or ``lat``/``lon`` in WGS84 (converted with pyproj), looked for in that order.

An unknown type or source, or a missing table column, is always an error naming the
file, the 1-based row and the column. A record without a location, outside the cells,
with an unknown cell id, without a date or before the first period is handled by the
spec's ``incidents.invalid`` policy: ``error`` (the same kind of message) or ``count``
(left out, and counted per reason in the report). Records of a source the spec does not
use are left out and counted too. Nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.areas.grid import (
    cell_keys,
    columns_rows,
    ids_of,
    locate,
    parse_cell_ids,
    to_grid_crs,
)
from waarborg.areas.spec import AreaRules
from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.instruments.encode import Frame
from waarborg.tables import TableLike, read_table

SOURCES = ["reported", "discovered"]
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Cells:
    """The cells of the area, in table order, with their keys (grid) and the table."""

    ids: pa.Array
    keys: np.ndarray | None
    frame: Frame

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Incidents:
    """Each used incident's period, cell (position in :class:`Cells`) and type code."""

    period: np.ndarray
    cell: np.ndarray
    type_code: np.ndarray
    types: list[str]
    source: str
    report: dict[str, object] = field(default_factory=dict)

    @property
    def last_period(self) -> int:
        """The last period with an incident record (-1 when there are none)."""
        return int(self.period.max()) if len(self.period) else -1


def read_cells(data: TableLike, rules: AreaRules) -> Cells:
    """The cells table, validated: unique ids, on the grid, corners agreeing with x/y."""
    table, source = read_table(data)
    frame = Frame(table, source)
    ids = _strings(frame.column("cell_id"), frame, "cell_id")
    if ids.null_count:
        raise frame.fail(_null(ids), "cell_id", Message("a cell needs an id", domain="reports"))
    unique = pc.unique(ids)
    if len(unique) != len(ids):
        first = np.flatnonzero(pc.is_in(ids, value_set=_duplicates(ids)).to_numpy(False))
        twice = Message("the cell id occurs twice", domain="reports")
        raise DataError(twice, source, row=int(first[1]) + 1, column="cell_id")
    if rules.grid is None:
        return Cells(ids, None, frame)
    col, row, bad = parse_cell_ids(ids, rules.grid)
    if bad.any():
        value = ids[int(np.flatnonzero(bad)[0])].as_py()
        reason = Message(
            "'%(value)s' is not a cell of the grid (E<x>N<y>)", domain="reports", value=value
        )
        raise frame.fail(bad, "cell_id", reason)
    for axis, index, origin in (("x", col, 0), ("y", row, 1)):
        if axis in table.column_names:
            corner = rules.grid.origin[origin] + index * rules.grid.cell_size
            given = _numbers(frame, axis)
            off = ~(np.abs(given - corner) < 1e-6)
            if off.any():
                reason = Message(
                    "not the lower-left corner of the cell in cell_id", domain="reports"
                )
                raise frame.fail(off, axis, reason)
    return Cells(ids, cell_keys(col, row), frame)


def cell_attribute(cells: Cells, name: str) -> np.ndarray:
    """A static attribute of every cell as numbers; a missing value is an error."""
    values = _numbers(cells.frame, name)
    missing = np.isnan(values)
    if missing.any():
        reason = Message("missing value for a cell attribute", domain="reports")
        raise cells.frame.fail(missing, name, reason)
    return values


def read_incidents(data: TableLike, rules: AreaRules, cells: Cells) -> Incidents:
    """Each incident placed in a period and a cell; invalid records by the spec's policy."""
    table, source = read_table(data)
    frame = Frame(table, source)
    spec = rules.incidents
    type_code = _codes(frame, "type", spec.types)
    source_code = _codes(frame, "source", SOURCES)
    day, day_column = _days(frame)
    period = np.floor_divide(day - _days_since_epoch(rules.period.start), rules.period.days)
    cell, reasons = _place(frame, rules, cells)
    reasons["no_date"] = (np.isnan(day), day_column)
    reasons["before_first_period"] = (~np.isnan(day) & (period < 0), day_column)
    invalid = np.zeros(table.num_rows, dtype=bool)
    counted: dict[str, int] = {}
    for reason, (mask, column) in reasons.items():
        mask = mask & ~invalid
        if mask.any() and spec.invalid == "error":
            raise frame.fail(mask, column, _REASONS[reason])
        counted[reason] = int(mask.sum())
        invalid |= mask
    used_sources = [SOURCES.index(s) for s in spec.sources]
    in_source = np.isin(source_code, used_sources)
    keep = ~invalid & in_source
    report: dict[str, object] = {
        "incidents_read": table.num_rows,
        "invalid_policy": spec.invalid,
        "invalid": counted,
        "sources_used": list(spec.sources),
        "not_used_source": {
            s: int(((source_code == i) & ~invalid).sum())
            for i, s in enumerate(SOURCES)
            if s not in spec.sources
        },
        "incidents_used": int(keep.sum()),
    }
    return Incidents(
        period=np.nan_to_num(period[keep]).astype(np.int64),
        cell=cell[keep],
        type_code=type_code[keep],
        types=list(spec.types),
        source=source,
        report=report,
    )


_REASONS = {
    "no_location": Message("the incident has no location", domain="reports"),
    "outside_grid": Message("the incident lies outside the cells of the area", domain="reports"),
    "unknown_cell_id": Message(
        "the incident's cell id is not in the cells table", domain="reports"
    ),
    "no_date": Message("the incident has no date", domain="reports"),
    "before_first_period": Message(
        "the incident lies before the first period (area.period.start)", domain="reports"
    ),
}


def period_start(index: int, rules: AreaRules) -> date:
    """The first day of period ``index``."""
    return rules.period.start + timedelta(days=index * rules.period.days)


def period_index(day: date, rules: AreaRules) -> int | None:
    """The index of the period starting on ``day``, or ``None`` if no period starts then."""
    offset = (day - rules.period.start).days
    if offset < 0 or offset % rules.period.days:
        return None
    return offset // rules.period.days


def _days_since_epoch(day: date) -> int:
    return (day - EPOCH).days


def _place(
    frame: Frame, rules: AreaRules, cells: Cells
) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, str]]]:
    """Each record's cell position (``len(cells)`` where none) and its invalid reasons."""
    names = frame.table.column_names
    n = len(cells)
    if "cell_id" in names:
        ids = _strings(frame.column("cell_id"), frame, "cell_id")
        found = pc.index_in(ids, value_set=cells.ids).to_numpy(zero_copy_only=False)
        missing = _null(ids)
        found = np.where(np.isnan(found.astype(np.float64)), n, found)
        cell = np.asarray(found, dtype=np.int64)
        return cell, {
            "no_location": (missing, "cell_id"),
            "unknown_cell_id": (~missing & (cell == n), "cell_id"),
        }
    if rules.grid is None or cells.keys is None:
        raise DataError(
            Message(
                "the area's cells are given by id, so each incident needs a cell_id column",
                domain="reports",
            ),
            frame.source,
            column="cell_id",
        )
    if "x" in names and "y" in names:
        x, y, column = _numbers(frame, "x"), _numbers(frame, "y"), "x"
    elif "lat" in names and "lon" in names:
        lat, lon, column = _numbers(frame, "lat"), _numbers(frame, "lon"), "lat"
        x, y = to_grid_crs(lon, lat, rules.grid.crs)
    else:
        reason = Message(
            "no location columns: give cell_id, x and y (grid coordinates) or lat and lon "
            "(WGS84); columns present: %(names)s",
            domain="reports",
            names=", ".join(names),
        )
        raise DataError(
            reason,
            frame.source,
        )
    missing = np.isnan(x) | np.isnan(y)
    col, row = columns_rows(np.where(missing, 0, x), np.where(missing, 0, y), rules.grid)
    order = np.argsort(cells.keys, kind="stable")
    cell = locate(cell_keys(col, row), cells.keys[order], order)
    outside = ~missing & ((cell == n) | ~np.isfinite(x) | ~np.isfinite(y))
    return cell, {"no_location": (missing, column), "outside_grid": (outside, column)}


def _codes(frame: Frame, column: str, levels: list[str]) -> np.ndarray:
    """Codes into ``levels``; a missing or unknown value is an error naming its row."""
    values = _strings(frame.column(column), frame, column)
    codes = pc.index_in(values, value_set=pa.array(levels, pa.string()))
    bad = _null(codes)
    if bad.any():
        value = values[int(np.flatnonzero(bad)[0])].as_py()
        what = (
            Message("missing value", domain="reports")
            if value is None
            else Message("unknown value '%(value)s'", domain="reports", value=value)
        )
        reason = Message(
            "%(what)s; allowed: %(levels)s", domain="reports", what=what, levels=str(levels)
        )
        raise frame.fail(bad, column, reason)
    return codes.to_numpy(zero_copy_only=False).astype(np.int64)


def _days(frame: Frame) -> tuple[np.ndarray, str]:
    """Days since 1970-01-01 of each record's ``time`` or ``date`` (nan where missing)."""
    names = frame.table.column_names
    column = "time" if "time" in names else "date"
    values = frame.column(column)
    try:
        days = pc.cast(values, pa.date32()) if not pa.types.is_date32(values.type) else values
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        reason = Message(
            "not a date or time (type %(type)s); use ISO dates like 2025-03-03",
            domain="reports",
            type=str(values.type),
        )
        raise DataError(
            reason,
            frame.source,
            column=column,
        ) from None
    out = pc.cast(days, pa.int32()).to_numpy(zero_copy_only=False)
    return np.asarray(out, dtype=np.float64), column


def _numbers(frame: Frame, column: str) -> np.ndarray:
    """A numeric column as float64 (nan where missing); text is an error naming its row."""
    values = frame.column(column)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        if pa.types.is_null(values.type):
            return np.full(len(values), np.nan)
        reason = Message("expected numbers, got %(type)s", domain="reports", type=str(values.type))
        raise DataError(reason, frame.source, column=column)
    return np.asarray(
        pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )


def _strings(values: pa.ChunkedArray, frame: Frame, column: str) -> pa.Array:
    """A column as plain strings (dictionary columns decoded; numbers are refused)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), pa.string())
    if not pa.types.is_string(values.type):
        reason = Message("expected text, got %(type)s", domain="reports", type=str(values.type))
        raise DataError(reason, frame.source, column=column)
    return values


def _null(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=bool)


def _duplicates(ids: pa.Array) -> pa.Array:
    counts = pc.value_counts(ids)
    repeated = pc.greater(counts.field("counts"), 1)
    return pc.filter(counts.field("values"), repeated)


__all__ = ["Cells", "Incidents", "ids_of", "period_index", "period_start", "read_cells"]
