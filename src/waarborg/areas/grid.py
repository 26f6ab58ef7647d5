"""Grid cells: their ids, geometry, neighbours, and placing points in them.

A grid (:class:`waarborg.areas.spec.Grid`) has square cells of ``cell_size`` metres whose
corners lie on ``origin + k × cell_size`` in a projected coordinate reference system
(default RD New, EPSG:28992). A cell is named by its lower-left corner in metres:
``E{x}N{y}``, e.g. ``E155000N463000`` for the 125 m cell whose lower-left corner is at
x = 155000, y = 463000 (the cell holding the Amersfoort reference point). A point on a
cell's left or lower edge belongs to that cell.

Internally a cell is an integer *key* built from its column and row, so that placing
millions of points is a few numpy passes; the ids are only built for output.

Examples
--------
>>> from waarborg.areas.spec import Grid
>>> grid = Grid(cell_size=125)
>>> cell_id_of(155010.0, 463100.0, grid)
'E155000N463000'
>>> cell_geometry("E155000N463000", grid)
(155000.0, 463000.0, 155125.0, 463125.0)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.areas.spec import Grid

WGS84 = "EPSG:4326"
_OFFSET = 1 << 30
_SHIFT = 1 << 31
NEIGHBOUR_STEPS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
"""(column, row) steps to the 8 neighbouring cells."""


def columns_rows(x: np.ndarray, y: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """The column and row of the cell holding each point (nan coordinates give garbage)."""
    col = np.floor((np.asarray(x, dtype=np.float64) - grid.origin[0]) / grid.cell_size)
    row = np.floor((np.asarray(y, dtype=np.float64) - grid.origin[1]) / grid.cell_size)
    return col.astype(np.int64), row.astype(np.int64)


def cell_keys(col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """One int64 per (column, row): the cell's key."""
    return (np.asarray(col, dtype=np.int64) + _OFFSET) * _SHIFT + (
        np.asarray(row, dtype=np.int64) + _OFFSET
    )


def key_columns_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The column and row of each key (the inverse of :func:`cell_keys`)."""
    return keys // _SHIFT - _OFFSET, keys % _SHIFT - _OFFSET


def _number(value: float) -> str:
    return f"{value:.10g}"


def cell_id_of(x: float | np.ndarray, y: float | np.ndarray, grid: Grid) -> str | list[str]:
    """The id of the cell holding the point ``(x, y)`` (grid coordinates), or a list of ids.

    Examples
    --------
    >>> from waarborg.areas.spec import Grid
    >>> cell_id_of([0.0, 130.0], [0.0, 10.0], Grid(cell_size=125))
    ['E0N0', 'E125N0']
    """
    col, row = columns_rows(np.atleast_1d(x), np.atleast_1d(y), grid)
    ids = ids_of(col, row, grid)
    return ids[0] if np.ndim(x) == 0 else ids


def ids_of(col: np.ndarray, row: np.ndarray, grid: Grid) -> list[str]:
    """The ids of the cells at these columns and rows."""
    xs = grid.origin[0] + np.asarray(col, dtype=np.float64) * grid.cell_size
    ys = grid.origin[1] + np.asarray(row, dtype=np.float64) * grid.cell_size
    return [f"E{_number(a)}N{_number(b)}" for a, b in zip(xs.tolist(), ys.tolist(), strict=True)]


def parse_cell_ids(
    ids: list[str] | pa.Array, grid: Grid
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column and row of each id, and a mask of the ids that are not cells of ``grid``.

    An id is valid when it reads ``E{x}N{y}`` and its corner lies on the grid.
    """
    values = pa.array(ids, pa.string()) if not isinstance(ids, pa.Array) else ids
    parts = pc.extract_regex(values, _ID_PATTERN)
    bad = np.asarray(pc.is_null(parts).to_numpy(zero_copy_only=False), dtype=bool)
    xs, ys = (
        np.nan_to_num(
            pc.cast(pc.struct_field(parts, [k]), pa.float64()).to_numpy(zero_copy_only=False)
        )
        for k in (0, 1)
    )
    col = (xs - grid.origin[0]) / grid.cell_size
    row = (ys - grid.origin[1]) / grid.cell_size
    bad |= (np.abs(col - np.round(col)) > 1e-6) | (np.abs(row - np.round(row)) > 1e-6)
    return np.round(col).astype(np.int64), np.round(row).astype(np.int64), bad


_ID_PATTERN = r"^E(?P<x>-?[0-9]+(?:\.[0-9]+)?)N(?P<y>-?[0-9]+(?:\.[0-9]+)?)$"


def cell_geometry(cell_id: str, grid: Grid) -> tuple[float, float, float, float]:
    """The cell's square as ``(xmin, ymin, xmax, ymax)`` in the grid's coordinates.

    Raises
    ------
    ValueError
        If ``cell_id`` is not a cell of ``grid``.
    """
    col, row, bad = parse_cell_ids([cell_id], grid)
    if bad[0]:
        raise ValueError(
            f"'{cell_id}' is not a cell id of this grid (E<x>N<y>, corner on the grid)"
        )
    xmin = grid.origin[0] + float(col[0]) * grid.cell_size
    ymin = grid.origin[1] + float(row[0]) * grid.cell_size
    return (xmin, ymin, xmin + grid.cell_size, ymin + grid.cell_size)


def neighbour_index(keys: np.ndarray) -> np.ndarray:
    """For each cell, the positions in ``keys`` of its 8 neighbours (``len(keys)`` if absent).

    ``keys`` are the cells' keys in table order; a neighbour outside the table gets the
    position one past the end, so a padded array (a zero appended) sums it as nothing.
    """
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    col, row = key_columns_rows(keys)
    out = np.empty((len(keys), len(NEIGHBOUR_STEPS)), dtype=np.int64)
    for k, (dc, dr) in enumerate(NEIGHBOUR_STEPS):
        out[:, k] = locate(cell_keys(col + dc, row + dr), sorted_keys, order)
    return out


def locate(keys: np.ndarray, sorted_keys: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Table position of each key, or ``len(sorted_keys)`` where the table has no such cell."""
    n = len(sorted_keys)
    if n == 0:
        return np.zeros(len(keys), dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, keys), n - 1)
    found = sorted_keys[at] == keys
    return np.where(found, order[at], n)


def to_grid_crs(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude (degrees) to x/y in ``crs`` (metres), with pyproj.

    Examples
    --------
    >>> x, y = to_grid_crs(np.array([5.38720621]), np.array([52.15517440]), "EPSG:28992")
    >>> round(float(x[0])), round(float(y[0]))
    (155000, 463000)
    """
    return _transformer(WGS84, crs).transform(np.asarray(lon), np.asarray(lat))


def from_grid_crs(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """x/y in ``crs`` to WGS84 longitude/latitude (degrees), with pyproj."""
    return _transformer(crs, WGS84).transform(np.asarray(x), np.asarray(y))


@lru_cache(maxsize=8)
def _transformer(source: str, target: str):  # type: ignore[no-untyped-def]
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)
