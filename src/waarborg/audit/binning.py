"""Score bins of the cube: exact values, or quantile bins cut from a fine histogram.

See :mod:`waarborg.audit.cube` for the method and its bound on the AUC error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.audit.inputs import (
    Roles,
    Rows,
    as_floats,
    checked_batches,
    count_weights,
    in_threads,
)

N_BINS = 1000
_FINE = 1 << 20  # cells of the fine grid that quantile bins are cut from
_SUB = 256  # sub-cells of a crowded fine-grid cell


# --------------------------------------------------------------------------- score bins


@dataclass
class Binning:
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
        codes = np.take(self.lookup, cells)
        if self.heavy is not None:
            which = np.take(self.heavy, cells)
            inside = which >= 0
            if inside.any():
                split = _split(values[inside], cells[inside], self.lo, self.scale)
                codes[inside] = self.sub[which[inside] * _SUB + split]
        return codes


def _grid(values: np.ndarray, lo: float, scale: float) -> np.ndarray:
    """Fine-grid cell of each value (all values lie in the range the grid was made for)."""
    cells = ((values - lo) * scale).astype(np.int32)
    return np.minimum(cells, _FINE - 1, out=cells)


class ScorePasses(Protocol):
    """What the binning needs to know of the scores (cases with a count of 0 left out).

    The in-process engine answers with passes over the score column; the SQL engines
    with a query each (:mod:`waarborg.audit.engines`), so every engine cuts the same bins.
    """

    def range(self) -> tuple[float, float]:
        """Smallest and largest score ((0, 0) without cases)."""
        ...

    def distinct(self, limit: int) -> np.ndarray | None:
        """The sorted distinct scores, or None if there are more than ``limit``."""
        ...

    def histogram(self, lo: float, scale: float) -> np.ndarray:
        """Cases per fine-grid cell (``_FINE`` cells; :func:`grid_cell`)."""
        ...

    def split(self, lo: float, scale: float, heavy: np.ndarray) -> np.ndarray:
        """Cases per sub-cell (:func:`sub_cell`) of the given grid cells, ``_SUB`` each."""
        ...


def bin_scores(rows: Sequence[Rows], roles: Roles, n_bins: int) -> Binning:
    """Fix the score bins of row inputs: :func:`make_binning` over passes of the column."""
    return make_binning(_RowPasses(rows, roles), n_bins)


def make_binning(passes: ScorePasses, n_bins: int) -> Binning:
    """Fix the score bins: every distinct value if at most ``n_bins``, else quantiles.

    Asks ``passes`` for the range, then the distinct values; for a continuous score,
    the fine-grid histogram that the quantile bins are cut from (and the split of its
    crowded cells).
    """
    lo, hi = passes.range()
    distinct = passes.distinct(n_bins)
    if distinct is not None:
        scale = _FINE / (hi - lo) if hi > lo else 0.0
        where = _grid(distinct, lo, scale)
        lookup = None
        if np.unique(where).size == distinct.size:
            lookup = np.zeros(_FINE, np.int32)
            lookup[where] = np.arange(distinct.size)
        return Binning(distinct, "exact", lo, hi, lookup)
    return _quantile_bins(passes, lo, hi, n_bins)


class _RowPasses:
    """:class:`ScorePasses` over row inputs read in batches: the score column is validated
    once, in its first pass.

    The range comes from the inputs' statistics where they have them (Parquet row-group
    min/max, an in-memory column's min/max), else from a pass. One pass then finds the
    distinct values (while there are at most ``limit``) and the fine-grid histogram
    together; a skewed score needs one more for its crowded cells. Batches are counted
    on two threads while the next is read and validated. Values in different grid cells
    differ, so once the histogram has more than ``limit`` non-empty cells the score is
    continuous and its values are not hashed.
    """

    def __init__(self, rows: Sequence[Rows], roles: Roles) -> None:
        self.rows, self.roles = rows, roles
        self.span = (0.0, 0.0)
        self.checked = False
        self.hist: tuple[float, float, np.ndarray] | None = None

    def values(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """(scores, counts) per batch; validated in the first pass only."""
        yield from _score_values(self.rows, self.roles, check=not self.checked)
        self.checked = True

    def range(self) -> tuple[float, float]:
        known = [r.score_range(self.roles) for r in self.rows]
        if all(k is not None for k in known):
            spans = [k for k in known if k is not None and k[0] <= k[1]]
            lo = min((k[0] for k in spans), default=np.inf)
            hi = max((k[1] for k in spans), default=-np.inf)
        else:
            lo, hi = np.inf, -np.inf
            for values, _ in self.values():
                if values.size:
                    lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
        self.span = (0.0, 0.0) if lo > hi else (float(lo), float(hi))
        return self.span

    def distinct(self, limit: int) -> np.ndarray | None:
        lo, hi = self.span
        scale = _FINE / (hi - lo) if hi > lo else 0.0

        def count(batch: tuple[np.ndarray, np.ndarray | None]) -> tuple[np.ndarray, Any]:
            """The batch's histogram, and its distinct values unless it has too many."""
            part = _histogram(*batch, lo, scale)
            few = np.count_nonzero(part) <= limit  # values in different grid cells differ
            return part, pc.unique(pa.array(batch[0])).to_numpy() if few else None

        hist = np.zeros(_FINE)
        seen: np.ndarray | None = np.zeros(0)
        for part, values in in_threads(count, self.values()):
            hist += part
            if seen is not None and (values is None or np.count_nonzero(hist) > limit):
                seen = None
            if seen is not None:
                seen = np.union1d(seen, values)
                seen = seen if seen.size <= limit else None
        self.hist = (lo, scale, hist)
        return seen

    def histogram(self, lo: float, scale: float) -> np.ndarray:
        if self.hist is not None and self.hist[:2] == (lo, scale):
            return self.hist[2]
        return self._summed(lambda values, w: _histogram(values, w, lo, scale), _FINE)

    def split(self, lo: float, scale: float, heavy: np.ndarray) -> np.ndarray:
        which_of = np.full(_FINE, -1, np.int64)
        which_of[heavy] = np.arange(heavy.size)

        def count(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
            cells = _grid(values, lo, scale)
            which = which_of[cells]
            inside = which >= 0
            index = which[inside] * _SUB + _split(values[inside], cells[inside], lo, scale)
            w = None if weights is None else weights[inside]
            return np.bincount(index, weights=w, minlength=heavy.size * _SUB)

        return self._summed(count, heavy.size * _SUB)

    def _summed(
        self, count: Callable[[np.ndarray, np.ndarray | None], np.ndarray], size: int
    ) -> np.ndarray:
        """``count(scores, counts)`` (``size`` numbers) summed over the batches, on threads."""
        total = np.zeros(size)
        for part in in_threads(lambda batch: count(*batch), self.values()):
            total += part
        return total


def _histogram(
    values: np.ndarray, weights: np.ndarray | None, lo: float, scale: float
) -> np.ndarray:
    """Cases per fine-grid cell (values outside the range: a bad score, reported later)."""
    return np.bincount(_grid(values, lo, scale), weights=weights, minlength=_FINE)


def _score_values(
    rows: Sequence[Rows], roles: Roles, *, check: bool = True
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """(scores, counts) per batch, rows with count 0 left out; validated if ``check``."""
    columns = [c for c in (roles.score, roles.count) if c]
    only = Roles(score=roles.score, count=roles.count)
    for r in rows:
        batches = checked_batches(r, columns, only) if check else r.unchecked(columns)
        for batch in batches:
            values, weights = as_floats(batch.column(roles.score)), count_weights(batch, roles)
            if weights is not None and not weights.all():
                keep = weights > 0
                values, weights = values[keep], weights[keep]
            yield values, weights


def _split(values: np.ndarray, cells: np.ndarray, lo: float, scale: float) -> np.ndarray:
    """Sub-cell (0.._SUB-1) of each value inside its fine-grid cell."""
    inner = ((values - lo) * scale - cells) * _SUB
    return np.clip(inner, 0, _SUB - 1).astype(np.int64)


def _quantile_bins(passes: ScorePasses, lo: float, hi: float, n_bins: int) -> Binning:
    """Equal-count bins cut on the fine grid (inverted-CDF quantiles of the grid).

    Grid cells with more than 1/16 of a bin's cases (a skewed score crowds into few
    cells) are split into ``_SUB`` sub-cells in one more pass, so bins stay close
    to equal size; a single repeated value is never split.
    """
    scale = _FINE / (hi - lo) if hi > lo else 0.0
    hist = passes.histogram(lo, scale)
    heavy_cells = np.flatnonzero(hist > hist.sum() / n_bins / 16)
    heavy = np.full(_FINE, -1, np.int32)
    heavy[heavy_cells] = np.arange(heavy_cells.size)
    width = np.where(heavy >= 0, _SUB, 1)  # micro-cells per grid cell
    first = np.cumsum(width) - width  # first micro-cell of each grid cell
    micro = hist
    if heavy_cells.size:
        micro = np.repeat(hist, width)  # heavy cells' entries are overwritten next
        spots = (first[heavy_cells][:, None] + np.arange(_SUB)).ravel()
        micro[spots] = passes.split(lo, scale, heavy_cells)
    cum = np.cumsum(micro)
    targets = cum[-1] * np.arange(1, n_bins) / n_bins
    starts = np.unique(np.concatenate([[0], np.searchsorted(cum, targets) + 1]))
    starts = starts[starts < micro.size]
    marks = np.zeros(micro.size, np.int32)  # int32: the per-row gathers stay in cache
    marks[starts] = 1
    bins = np.cumsum(marks, dtype=np.int32) - 1  # bin of each micro-cell (starts[0] is 0)
    cell_of = np.searchsorted(first, starts, side="right") - 1
    edges = lo + (cell_of + (starts - first[cell_of]) / width[cell_of]) * ((hi - lo) / _FINE)
    if not heavy_cells.size:
        return Binning(edges, "quantile", lo, hi, bins)
    sub = bins[first[heavy_cells][:, None] + np.arange(_SUB)].ravel()
    return Binning(edges, "quantile", lo, hi, bins[first], heavy, sub)
