"""The cube's cells as integer codes: what every validity and fairness metric reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.audit.inputs import as_text, dictionary_codes
from waarborg.audit.keys import append_dim
from waarborg.errors import DataError
from waarborg.i18n import Message

if TYPE_CHECKING:
    from waarborg.audit.cube import Cube


_KNOWN_ORDERS = (
    ("zeer laag", "laag", "midden", "hoog", "zeer hoog"),
    ("very low", "low", "medium", "high", "very high"),
    ("laag", "gemiddeld", "hoog"),
    ("low", "moderate", "high"),
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
        return self.crosstabs(*dims, weights=[weights])[0]

    def crosstabs(
        self, *dims: tuple[np.ndarray | None, int], weights: Sequence[np.ndarray | None]
    ) -> list[np.ndarray]:
        """:meth:`crosstab` for several weights (None: counts) by the same dimensions,
        keying the cells once.

        Examples
        --------
        >>> cells = Cells(np.array([2.0, 3.0, 5.0]), {}, outcome=np.array([0, 1, 1]))
        >>> [t.tolist() for t in cells.crosstabs((cells.outcome, 2), weights=[None, cells.count])]
        [[2.0, 8.0], [2.0, 8.0]]
        """
        (first, _), *rest = dims or [(None, 1)]  # the key is built in place, in intp
        key = np.zeros(self.count.size, np.intp) if first is None else first.astype(np.intp)
        for codes, size in rest:
            if codes is None:  # a dimension of one value (code 0)
                key *= size
            else:
                append_dim(key, codes, size)
        sizes = [size for _, size in dims]
        total = int(np.prod(sizes)) if sizes else 1
        return [
            np.bincount(key, weights=self.count if w is None else w, minlength=total).reshape(sizes)
            for w in weights
        ]

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
            codes, keys = dictionary_codes(table.column(roles.score).combine_chunks())
            values = np.asarray(keys.to_numpy(zero_copy_only=False), dtype=np.float64)
            cells.score_keys, rank = np.unique(values, return_inverse=True)  # few: the bins
            cells.score = lookup(_small(rank, cells.score_keys.size), codes)
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
            either = Message(
                "give either bands to select or a selected column, not both", domain="reports"
            )
            raise DataError(either, source, column=roles.selected)
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
        self.band = lookup(np.array([position[label] for label in labels], np.int64), codes)
        self.band_labels = ordered
        self.band_ordered = how is not None
        self.band_order_source = how

    def _select(self, select: Sequence[str], source: str, column: str | None) -> None:
        if self.band is None or column is None:
            needs = Message("selecting bands needs a band column (--band)", domain="reports")
            raise DataError(needs, source)
        unknown = [b for b in select if b not in self.band_labels]
        if unknown:
            no_band = Message(
                "no band %(unknown)s in the data (bands: %(bands)s)",
                domain="reports",
                unknown=", ".join(map(repr, unknown)),
                bands=", ".join(self.band_labels),
            )
            raise DataError(no_band, source, column=column)
        chosen = np.array([label in select for label in self.band_labels], np.int64)
        self.selected = lookup(chosen, self.band)
        self.select = list(select)


def _sorted_codes(col: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Codes of a (small) cube column against its labels sorted as text.

    A dictionary column's own codes serve when its values are distinct (entries no
    cell uses are left out), so its strings are never hashed again.
    """
    col = col.combine_chunks()
    if pa.types.is_dictionary(col.type) and _repeats(col.dictionary):
        col = col.cast(col.type.value_type)
    codes, dictionary = dictionary_codes(col)
    labels = as_text(dictionary).to_pylist()
    used = np.sort(pc.unique(codes).to_numpy())  # hashing small codes: faster than counting
    order = used[np.argsort(np.array(labels, dtype=object)[used], kind="stable")]
    rank = np.zeros(len(labels), np.int64)
    rank[order] = np.arange(order.size)
    return lookup(_small(rank, order.size), codes), [labels[i] for i in order]


def lookup(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``table[codes]`` for a code per cell (small integers), by Arrow's take: about
    twice as fast as numpy's indexing, which first converts the codes to intp.

    Examples
    --------
    >>> lookup(np.array([10, 20, 30]), np.array([2, 0, 2], np.uint8)).tolist()
    [30, 10, 30]
    """
    return pc.take(table, codes).to_numpy(zero_copy_only=False)


def _repeats(values: pa.Array) -> bool:
    """Whether a dictionary holds a label more than once (as a value, or as text)."""
    text = as_text(values).to_pylist()
    return len(set(text)) < len(text)


def _small(codes: np.ndarray, size: int) -> np.ndarray:
    """``codes`` (0..size-1) in the smallest integer type that holds them: an array per
    cell made from them costs its memory's first touch, dear next to the work on it.
    """
    return codes.astype(np.min_scalar_type(max(size - 1, 0)))


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
            lacks = Message(
                "band order %(given)s lacks the data's band(s) %(missing)s",
                domain="reports",
                given=str(list(given)),
                missing=str(missing),
            )
            raise DataError(lacks, source, column=column)
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
