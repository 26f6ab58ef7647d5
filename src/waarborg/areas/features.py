"""Area features from incident records, for all cells and periods at once.

Incidents are first counted into a cube ``counts[period, cell]`` per set of incident
types (one ``bincount``), then summed cumulatively over periods, so a window of lags
``[a, b]`` for the scored periods ``S`` is one subtraction: ``cum[S - a + 1] - cum[S - b]``
(``cum[p]`` is the count in the periods before ``p``). The 8-neighbour sum gathers the
window sums of the neighbouring cells (cells outside the grid count 0). A seasonal
feature is ``sin`` or ``cos`` of ``2π × day-of-year / 365.25`` of the period's first day;
an attribute feature is a static column of the cells table. Every feature is a
``(periods scored, cells)`` array (integers for counts).

Examples
--------
>>> import numpy as np
>>> window_sums(np.array([[1, 0], [2, 1], [4, 0]]), np.array([2]), (1, 2)).tolist()
[[3, 1]]
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from waarborg.areas.data import Cells, Incidents, cell_attribute, period_start
from waarborg.areas.grid import neighbour_index
from waarborg.areas.spec import AreaRules, Feature


def count_cube(incidents: Incidents, types: list[str], n_periods: int, n_cells: int) -> np.ndarray:
    """``counts[period, cell]`` of the incidents of ``types`` in periods ``0 .. n_periods-1``."""
    codes = [incidents.types.index(t) for t in types]
    keep = np.isin(incidents.type_code, codes) & (incidents.period < n_periods)
    flat = incidents.period[keep] * n_cells + incidents.cell[keep]
    counts = np.bincount(flat, minlength=n_periods * n_cells)
    return counts.reshape(n_periods, n_cells).astype(np.int32, copy=False)


def cumulative(counts: np.ndarray) -> np.ndarray:
    """``cum[p]``: the counts of the periods before ``p`` (one row more than ``counts``)."""
    cum = np.zeros((counts.shape[0] + 1, counts.shape[1]), dtype=np.int32)
    np.cumsum(counts, axis=0, out=cum[1:])
    return cum


def window_sums(counts: np.ndarray, periods: np.ndarray, lags: tuple[int, int]) -> np.ndarray:
    """Per scored period and cell, the incidents in the periods ``lags[0]..lags[1]`` back.

    The scored periods must lie inside the cube.
    """
    return windows(cumulative(counts), periods, lags)


def windows(cum: np.ndarray, periods: np.ndarray, lags: tuple[int, int]) -> np.ndarray:
    """:func:`window_sums` from the cumulative counts (computed once for all windows).

    A window reaching before the first period counts the periods there are.
    """
    first, last = lags
    return cum[np.maximum(periods - first + 1, 0)] - cum[np.maximum(periods - last, 0)]


def adjacency(neighbours: np.ndarray) -> sparse.csr_matrix:
    """The cells' neighbour matrix (``A[i, j] = 1`` when ``j`` is one of ``i``'s 8 neighbours).

    ``neighbours`` is :func:`waarborg.areas.grid.neighbour_index`: positions, with
    ``len(neighbours)`` for a neighbour outside the grid.
    """
    n = len(neighbours)
    rows = np.repeat(np.arange(n), neighbours.shape[1])
    cols = neighbours.ravel()
    inside = cols < n
    ones = np.ones(int(inside.sum()), dtype=np.int32)
    return sparse.csr_matrix((ones, (rows[inside], cols[inside])), shape=(n, n))


def neighbour_sums(values: np.ndarray, neighbours: np.ndarray | sparse.csr_matrix) -> np.ndarray:
    """Per row, the sum of each cell's 8 neighbours' values (a missing neighbour adds 0).

    ``neighbours`` is :func:`waarborg.areas.grid.neighbour_index` or its :func:`adjacency`.
    """
    matrix = neighbours if sparse.issparse(neighbours) else adjacency(neighbours)
    return np.ascontiguousarray((matrix @ values.T).T)


def seasonal(kind: str, periods: np.ndarray, rules: AreaRules) -> np.ndarray:
    """``sin``/``cos`` of 2π × (day of the year of each period's first day) / 365.25."""
    days = np.array([period_start(int(p), rules).timetuple().tm_yday - 1 for p in periods])
    angle = 2 * math.pi * days / 365.25
    return np.sin(angle) if kind == "sin" else np.cos(angle)


class FeatureBuilder:
    """The count cubes, neighbours and attributes, computed once; features for any periods.

    :meth:`build` only reads what ``__init__`` computed, so threads can build the features
    of different periods at the same time.
    """

    def __init__(self, rules: AreaRules, incidents: Incidents, cells: Cells, n_periods: int):
        self.rules = rules
        self.cumulative: dict[tuple[str, ...], np.ndarray] = {}
        self.attributes: dict[str, np.ndarray] = {}
        self.adjacency: sparse.csr_matrix | None = None
        for feature in rules.features:
            window = feature.window
            if window is not None and _types_key(window.types) not in self.cumulative:
                counts = count_cube(incidents, list(window.types), n_periods, len(cells))
                self.cumulative[_types_key(window.types)] = cumulative(counts)
            if feature.attribute is not None:
                self.attributes[feature.name] = cell_attribute(cells, feature.attribute)
            if feature.neighbours is not None and self.adjacency is None:
                assert cells.keys is not None
                self.adjacency = adjacency(neighbour_index(cells.keys))
        self.n_cells = len(cells)

    def build(self, periods: np.ndarray) -> dict[str, np.ndarray]:
        """Every feature as a ``(len(periods), cells)`` array (counts stay integers)."""
        return {f.name: self.feature(f, periods) for f in self.rules.features}

    def feature(self, feature: Feature, periods: np.ndarray) -> np.ndarray:
        """One feature for the periods."""
        window = feature.window
        if window is not None:
            values = windows(self.cumulative[_types_key(window.types)], periods, window.lags)
            if feature.neighbours is not None:
                assert self.adjacency is not None
                values = neighbour_sums(values, self.adjacency)
            return values
        if feature.season is not None:
            column = seasonal(feature.season, periods, self.rules)
            return np.repeat(column[:, None], self.n_cells, axis=1)
        return np.broadcast_to(self.attributes[feature.name], (len(periods), self.n_cells))


def _types_key(types: list[str]) -> tuple[str, ...]:
    return tuple(sorted(types))


def build_features(
    rules: AreaRules, incidents: Incidents, cells: Cells, periods: np.ndarray
) -> dict[str, np.ndarray]:
    """Every feature of the spec as a ``(len(periods), cells)`` array."""
    n_periods = int(periods.max()) + 1 if len(periods) else 0
    return FeatureBuilder(rules, incidents, cells, n_periods).build(periods)
