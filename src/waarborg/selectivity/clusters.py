"""Bias search without protected attributes: HBAC with a held-out test.

Bias can hide in groups nobody named. :func:`search_clusters` clusters the cases of a
*selection table* (see :mod:`waarborg.selectivity`) on their features with bias-aware
hierarchical k-means (:mod:`waarborg.selectivity.hbac`) and looks for clusters whose
metric deviates upwards from the rest:

``selection``  share selected, over all cases (needs only ``selected``);
``error``      false-positive rate: share selected among reference cases whose check
               found nothing (``reference`` and ``outcome`` false);
``false-hit``  share without the outcome among selected, checked cases.

The search fools itself if the same cases find and judge a cluster, so the cases are
split (seeded, stratified on the metric): the clusters are found on one part and the
``n_tested`` most biased of them are tested on the other part, whose cases are assigned
to the clusters by the tree's centroids. Each test compares the cluster with the rest of
the held-out part (two-proportion test, Fisher for small tables; Holm across the tested
clusters); a cluster is *confirmed* when its adjusted p-value is below ``alpha`` and its
held-out deviation is upwards. Only confirmed clusters are described in the summary and
the report, with effect sizes and intervals from the held-out part.

Clusters can be related to a protected attribute from rows (:meth:`ClusterSearch.relate`)
or, when only a statistics office holds it, from that office's aggregate counts per
cluster (:meth:`ClusterSearch.relate_counts` on the table of :meth:`assignments`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from sklearn.model_selection import train_test_split

from waarborg.audit.inputs import WHOLE, found
from waarborg.audit.result import jsonable
from waarborg.audit.stats import (
    holm,
    newcombe_interval,
    ratio_interval,
    two_proportion_pvalue,
    wilson_interval,
)
from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.selectivity.hbac import BiasTree, Encoder, SplitRule, grow_tree
from waarborg.tables import TableLike, read_table

__all__ = [
    "METRICS",
    "ClusterSearch",
    "Composition",
    "FeatureContrast",
    "FoundCluster",
    "search_clusters",
]

Metric = Literal["selection", "error", "false-hit"]
METRICS: tuple[Metric, ...] = ("selection", "error", "false-hit")
PROFILE_FEATURES = 4
"""Most features shown in a cluster's profile."""
PROFILE_MIN_SMD = 0.2
"""Smallest standardised difference for a feature to count as distinguishing."""
MIN_SIZE_SHARE = 0.02
"""Default smallest cluster: this share of the searched cases (at least 30)."""


@dataclass(frozen=True)
class FeatureContrast:
    """How one feature differs inside a cluster from outside it.

    ``level`` is None for a number: then ``inside``/``outside`` are means and ``low``/
    ``high`` the 10th and 90th percentile inside; for a level they are shares.
    ``smd`` is the standardised difference (inside minus outside, over the pooled sd).
    """

    feature: str
    level: str | None
    inside: float
    outside: float
    low: float | None
    high: float | None
    smd: float


@dataclass(frozen=True)
class Composition:
    """The share of one attribute value inside a cluster against the rest."""

    value: str
    count: int
    n: int
    share: float
    ci: tuple[float, float]
    rest_share: float
    rest_ci: tuple[float, float]
    difference_ci: tuple[float, float]
    p_adjusted: float


@dataclass
class FoundCluster:
    """One tested cluster: its size, its held-out test and its feature profile."""

    id: int
    size: int
    share: float
    search_bias: float
    n_in: int
    x_in: int
    n_out: int
    x_out: int
    p_value: float
    p_adjusted: float
    confirmed: bool
    profile: list[FeatureContrast]
    composition: list[Composition] = field(default_factory=list)

    @property
    def rate_in(self) -> float:
        """The metric inside the cluster on the held-out part."""
        return self.x_in / self.n_in if self.n_in else float("nan")

    @property
    def rate_out(self) -> float:
        """The metric in the rest of the held-out part."""
        return self.x_out / self.n_out if self.n_out else float("nan")

    def intervals(self, confidence: float) -> dict[str, tuple[float, float]]:
        """Wilson intervals of both rates, Newcombe of the difference, Katz of the ratio."""
        counts = (self.x_in, self.n_in, self.x_out, self.n_out)
        pairs = {
            "rate_in": wilson_interval(self.x_in, self.n_in, confidence),
            "rate_out": wilson_interval(self.x_out, self.n_out, confidence),
            "difference": newcombe_interval(*counts, confidence),
            "ratio": ratio_interval(*counts, confidence),
        }
        return {k: (float(lo), float(hi)) for k, (lo, hi) in pairs.items()}


@dataclass
class ClusterSearch:
    """The result of :func:`search_clusters`; ``clusters`` are the tested ones.

    Attributes
    ----------
    labels : ndarray of int
        Cluster id (1 = most biased on the searched part) of every row of the table.
    """

    metric: Metric
    features: list[str]
    titles: dict[str, str]
    source: str
    n_cases: int
    n_search: int
    n_test: int
    n_clusters: int
    params: dict[str, Any]
    clusters: list[FoundCluster]
    labels: np.ndarray
    keys: pa.Array | None
    relate_column: str | None = None

    @property
    def confirmed(self) -> list[FoundCluster]:
        """The clusters that survived the held-out test."""
        return [c for c in self.clusters if c.confirmed]

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data (rates and intervals from the held-out part)."""
        conf = self.params["confidence"]
        return jsonable(
            {
                "kind": "bias-search",
                "method": "hbac",
                "metric": self.metric,
                "source": self.source,
                "features": self.features,
                "n_cases": self.n_cases,
                "n_search": self.n_search,
                "n_test": self.n_test,
                "n_clusters": self.n_clusters,
                "params": self.params,
                "relate": self.relate_column,
                "tested": [_cluster_dict(c, conf) for c in self.clusters],
                "confirmed": [c.id for c in self.confirmed],
            }
        )

    def summary(self, lang: str = "en") -> str:
        """A plain-language summary of the confirmed clusters, in ``lang`` (en or nl)."""
        from waarborg.selectivity.clusters_report import summary

        return summary(self, lang)

    def assignments(self, key: str = "case_id") -> pa.Table:
        """The table case key → cluster id, for a statistics office to join and count."""
        if self.keys is None:
            raise DataError(f"no column {key!r} to identify the cases", self.source, column=key)
        return pa.table({key: self.keys, "cluster": pa.array(self.labels, pa.int32())})

    def relate(self, values: Sequence[Any] | pa.Array, column: str = "attribute") -> None:
        """Add each confirmed cluster's composition by a protected attribute (one per row)."""
        values = np.asarray(pa.array(values).to_pylist(), dtype=object)
        if len(values) != len(self.labels):
            raise DataError(f"{len(values)} values for {len(self.labels)} cases", column=column)
        missing = np.flatnonzero(np.array([v is None for v in values]))
        if len(missing):
            empty = Message("empty value", domain="reports")
            raise DataError(empty, self.source, row=int(missing[0]) + 1, column=column)
        counts: dict[tuple[int, str], int] = {}
        for cluster, value in zip(self.labels.tolist(), values.astype(str), strict=True):
            counts[cluster, value] = counts.get((cluster, value), 0) + 1
        self._compose(counts, column)

    def relate_counts(self, data: TableLike, column: str | None = None) -> None:
        """Add the compositions from aggregate counts: columns cluster, value, count.

        The value column is the one that is neither ``cluster`` nor ``count`` (or
        ``column``). Clusters or values missing from the table count as 0.
        """
        table, source = read_table(data)
        counts = _read_counts(table, source, column, self.n_clusters)
        names = [c for c in table.column_names if c not in ("cluster", "count")]
        self._compose(counts, column or names[0])

    def _compose(self, counts: Mapping[tuple[int, str], int], column: str) -> None:
        values = sorted({v for _, v in counts})
        total = {v: sum(n for (_, w), n in counts.items() if w == v) for v in values}
        grand = sum(total.values())
        confidence = self.params["confidence"]
        rows = []
        for c in self.confirmed:
            n_c = sum(counts.get((c.id, v), 0) for v in values)
            for v in values:
                x = counts.get((c.id, v), 0)
                rows.append((c, v, x, n_c, total[v] - x, grand - n_c))
        x1, n1, x2, n2 = (np.array([r[i] for r in rows], dtype=float) for i in range(2, 6))
        p = holm(two_proportion_pvalue(x1, n1, x2, n2)) if rows else np.array([])
        lo, hi = wilson_interval(x1, n1, confidence)
        rlo, rhi = wilson_interval(x2, n2, confidence)
        dlo, dhi = newcombe_interval(x1, n1, x2, n2, confidence)
        for c in self.confirmed:
            c.composition = []
        for i, (c, v, *_rest) in enumerate(rows):
            c.composition.append(
                Composition(
                    v,
                    int(x1[i]),
                    int(n1[i]),
                    _div(x1[i], n1[i]),
                    (float(lo[i]), float(hi[i])),
                    _div(x2[i], n2[i]),
                    (float(rlo[i]), float(rhi[i])),
                    (float(dlo[i]), float(dhi[i])),
                    float(p[i]),
                )
            )
        self.relate_column = column


def search_clusters(
    data: TableLike,
    features: Sequence[str],
    *,
    metric: Metric = "selection",
    seed: int = 0,
    test_share: float = 0.5,
    min_size: int | None = None,
    max_splits: int = 20,
    max_depth: int | None = None,
    split: SplitRule = "bias",
    n_tested: int = 3,
    alpha: float = 0.05,
    confidence: float = 0.95,
    key: str | None = "case_id",
    titles: Mapping[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ClusterSearch:
    """Search for clusters of cases whose metric deviates upwards, and test them held out.

    Parameters
    ----------
    data : table-like
        The selection table (a file path, pyarrow/polars/pandas table).
    features : sequence of str
        The columns to cluster on: numbers are rank-scaled and text one-hot encoded for
        k-means; when all are text, k-modes clusters the categories themselves.
    metric : {"selection", "error", "false-hit"}, default "selection"
        See the module docstring.
    seed : int, default 0
        Seed of the split and of k-means.
    test_share : float, default 0.5
        Share of the cases held out for the test.
    min_size : int, optional
        Smallest cluster, in searched cases; default 2% of them, at least 30.
    max_splits, max_depth, split
        HBAC's stopping rule and split choice (:func:`waarborg.selectivity.hbac.grow_tree`).
    n_tested : int, default 3
        How many of the most biased clusters to test on the held-out part.
    alpha : float, default 0.05
        Level of the held-out test, after Holm's adjustment.
    confidence : float, default 0.95
        Level of the intervals.
    key : str or None, default "case_id"
        Column that identifies a case (for :meth:`ClusterSearch.assignments`).
    titles : mapping, optional
        Feature name → title for the descriptions.
    progress : callable, optional
        Called with (attempt, max_splits) during the search.

    Returns
    -------
    ClusterSearch

    Examples
    --------
    >>> from waarborg.synth.hidden_bias import hidden_bias_cases
    >>> cases = hidden_bias_cases(4_000, seed=3)
    >>> found = search_clusters(cases, ["age", "distance_to_parents_km", "income"])
    >>> found.n_search + found.n_test == cases.num_rows
    True
    """
    table, source = read_table(data)
    if metric not in METRICS:
        reason = Message(
            "unknown metric %(metric)s: use one of %(metrics)s",
            domain="reports",
            metric=repr(metric),
            metrics=", ".join(METRICS),
        )
        raise DataError(reason, source)
    columns = _feature_columns(table, source, features)
    population, y = _metric(table, source, metric)
    idx = np.flatnonzero(population)
    if len(idx) < 4 or y[idx].min() == y[idx].max():
        reason = Message(
            "too few cases or no variation for the %(metric)s metric",
            domain="reports",
            metric=metric,
        )
        raise DataError(reason, source)
    search, test = train_test_split(
        idx, test_size=test_share, stratify=y[idx], random_state=seed, shuffle=True
    )
    search, test = np.sort(search), np.sort(test)
    encoder = Encoder.fit({k: v[search] for k, v in columns.items()}, rank=True)
    clusterer = "kmodes" if not encoder.numeric else "kmeans"
    x_all = encoder.codes(columns) if clusterer == "kmodes" else encoder.transform(columns)
    size = min_size if min_size is not None else max(30, int(MIN_SIZE_SHARE * len(search)))
    tree = grow_tree(
        x_all[search],
        y[search],
        min_size=size,
        max_splits=max_splits,
        max_depth=max_depth,
        split=split,
        seed=seed,
        clusterer=clusterer,
        progress=progress,
    )
    labels = tree.predict(x_all) + 1
    clusters = _test(tree, labels, y, test, n_tested, alpha, columns)
    params = {
        "seed": seed,
        "test_share": test_share,
        "min_size": size,
        "max_splits": max_splits,
        "max_depth": max_depth,
        "split": split,
        "clusterer": clusterer,
        "splits_kept": tree.splits,
        "n_tested": n_tested,
        "alpha": alpha,
        "confidence": confidence,
    }
    keys = table.column(key).combine_chunks() if key and key in table.column_names else None
    return ClusterSearch(
        metric,
        list(features),
        dict(titles or {}),
        source,
        table.num_rows,
        len(search),
        len(test),
        len(tree.biases),
        params,
        clusters,
        labels,
        keys,
    )


# --------------------------------------------------------------------------- reading


def _column(table: pa.Table, source: str, name: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        have = ", ".join(table.column_names)
        reason = Message(
            "no column %(name)s (columns: %(have)s)", domain="reports", name=repr(name), have=have
        )
        raise DataError(reason, source)
    return table.column(name)


def _flags(table: pa.Table, source: str, name: str, nullable: bool = False) -> np.ndarray:
    """A boolean column as a float array (nan for null where allowed)."""
    col = _column(table, source, name)
    if not (pa.types.is_boolean(col.type) or pa.types.is_integer(col.type)):
        reason = Message(
            "must be true/false (or 1/0), got %(value)s", domain="reports", value=str(col.type)
        )
        raise DataError(reason, source, column=name)
    values = col.to_pylist()
    out = np.array([np.nan if v is None else float(bool(v)) for v in values])
    bad = [i for i, v in enumerate(values) if v not in (None, 0, 1, True, False)]
    if bad:
        reason = Message(
            "must be true/false (or 1/0), got %(value)s",
            domain="reports",
            value=repr(values[bad[0]]),
        )
        raise DataError(reason, source, bad[0] + 1, name)
    if not nullable and np.isnan(out).any():
        row = int(np.flatnonzero(np.isnan(out))[0]) + 1
        raise DataError(Message("empty value", domain="reports"), source, row=row, column=name)
    return out


def _metric(table: pa.Table, source: str, metric: Metric) -> tuple[np.ndarray, np.ndarray]:
    """The cases the metric is defined on (a mask) and its value per case (0/1)."""
    selected = _flags(table, source, "selected")
    if metric == "selection":
        return np.ones(len(selected), dtype=bool), selected
    outcome = _flags(table, source, "outcome", nullable=True)
    if metric == "error":
        reference = _flags(table, source, "reference")
        return (reference == 1) & (outcome == 0), selected
    return (selected == 1) & ~np.isnan(outcome), 1.0 - np.nan_to_num(outcome)


def _feature_columns(
    table: pa.Table, source: str, features: Sequence[str]
) -> dict[str, np.ndarray]:
    if not features:
        reason = Message("name at least one feature to cluster on (--feature)", domain="reports")
        raise DataError(reason, source)
    columns = {}
    for name in features:
        col = _column(table, source, name).combine_chunks()
        if col.null_count:
            row = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0]) + 1
            reason = Message("empty value: the bias search needs every feature", domain="reports")
            raise DataError(reason, source, row, name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            values = col.to_numpy(zero_copy_only=False).astype(float)
            if not np.isfinite(values).all():
                row = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
                raise DataError(Message("not a finite number", domain="reports"), source, row, name)
        else:
            values = np.array([str(v) for v in col.to_pylist()], dtype=object)
        columns[name] = values
    return columns


def _read_counts(
    table: pa.Table, source: str, column: str | None, n_clusters: int
) -> dict[tuple[int, str], int]:
    """Counts per (cluster, value) from an office's aggregate table."""
    names = [c for c in table.column_names if c not in ("cluster", "count")]
    if column is None and len(names) != 1:
        reason = Message(
            "expected the columns cluster, count and one value column", domain="reports"
        )
        raise DataError(reason, source)
    value_col = column or names[0]
    clusters = _column(table, source, "cluster").to_pylist()
    values = _column(table, source, value_col).to_pylist()
    counts_col = _column(table, source, "count").to_pylist()
    counts: dict[tuple[int, str], int] = {}
    for row, (c, v, n) in enumerate(zip(clusters, values, counts_col, strict=True), start=1):
        if not isinstance(c, int) or not 1 <= c <= n_clusters:
            reason = Message(
                "cluster must be 1 to %(n)s, got %(value)s",
                domain="reports",
                n=n_clusters,
                value=repr(c),
            )
            raise DataError(reason, source, row, "cluster")
        if v is None:
            raise DataError(Message("empty value", domain="reports"), source, row, value_col)
        if not isinstance(n, int) or n < 0:
            raise DataError(found(WHOLE, n), source, row, "count")
        counts[c, str(v)] = counts.get((c, str(v)), 0) + n
    return counts


# --------------------------------------------------------------------------- testing


def _test(
    tree: BiasTree,
    labels: np.ndarray,
    y: np.ndarray,
    test: np.ndarray,
    n_tested: int,
    alpha: float,
    columns: Mapping[str, np.ndarray],
) -> list[FoundCluster]:
    """Test the most biased clusters (positive bias) on the held-out cases."""
    candidates = [i + 1 for i, b in enumerate(tree.biases[:n_tested]) if b > 0]
    y_test, l_test = y[test], labels[test]
    counts = []
    for cid in candidates:
        inside = l_test == cid
        counts.append((inside.sum(), y_test[inside].sum(), (~inside).sum(), y_test[~inside].sum()))
    n1, x1, n2, x2 = (np.array([c[i] for c in counts], dtype=float) for i in range(4))
    p = two_proportion_pvalue(x1, n1, x2, n2) if counts else np.array([])
    p = np.where(np.isnan(p), 1.0, p)
    adjusted = holm(p) if counts else np.array([])
    found = []
    for i, cid in enumerate(candidates):
        upward = n1[i] > 0 and x1[i] / n1[i] > _div(x2[i], n2[i])
        inside = labels == cid
        found.append(
            FoundCluster(
                cid,
                int(inside.sum()),
                float(inside.mean()),
                float(tree.biases[cid - 1]),
                int(n1[i]),
                int(x1[i]),
                int(n2[i]),
                int(x2[i]),
                float(p[i]),
                float(adjusted[i]),
                bool(upward and adjusted[i] < alpha),
                profile(columns, inside),
            )
        )
    return found


def _div(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


# --------------------------------------------------------------------------- profiles


def profile(columns: Mapping[str, np.ndarray], inside: np.ndarray) -> list[FeatureContrast]:
    """The features that set the cases ``inside`` apart from the rest, most first.

    Numbers are compared by their means, levels by their shares; each by the
    standardised difference (pooled sd). Per text feature the level with the largest
    positive difference is kept. Only differences of at least :data:`PROFILE_MIN_SMD`,
    at most :data:`PROFILE_FEATURES` features.

    Examples
    --------
    >>> cols = {"age": np.array([18.0, 19, 30, 31]), "edu": np.array(["mbo", "mbo", "wo", "mbo"])}
    >>> [c.feature for c in profile(cols, np.array([True, True, False, False]))]
    ['age', 'edu']
    """
    if inside.all() or not inside.any():
        return []
    contrasts = []
    for name, values in columns.items():
        if values.dtype.kind == "f":
            a, b = values[inside], values[~inside]
            sd = np.sqrt((a.var() + b.var()) / 2)
            smd = (a.mean() - b.mean()) / sd if sd > 0 else 0.0
            low, high = np.percentile(a, [10, 90])
            contrasts.append(
                FeatureContrast(name, None, a.mean(), b.mean(), float(low), float(high), smd)
            )
        else:
            best = None
            for level in np.unique(values):
                hit = values == level
                pa_, pb = hit[inside].mean(), hit[~inside].mean()
                sd = np.sqrt((pa_ * (1 - pa_) + pb * (1 - pb)) / 2)
                smd = (pa_ - pb) / sd if sd > 0 else 0.0
                if best is None or smd > best.smd:
                    best = FeatureContrast(name, str(level), pa_, pb, None, None, smd)
            if best is not None:
                contrasts.append(best)
    contrasts = [c for c in contrasts if abs(c.smd) >= PROFILE_MIN_SMD]
    contrasts.sort(key=lambda c: -abs(c.smd))
    return [
        FeatureContrast(
            c.feature, c.level, float(c.inside), float(c.outside), c.low, c.high, float(c.smd)
        )
        for c in contrasts[:PROFILE_FEATURES]
    ]


def _cluster_dict(c: FoundCluster, confidence: float) -> dict[str, Any]:
    ci = c.intervals(confidence)
    return {
        "id": c.id,
        "size": c.size,
        "share": c.share,
        "search_bias": c.search_bias,
        "held_out": {
            "n_in": c.n_in,
            "x_in": c.x_in,
            "n_out": c.n_out,
            "x_out": c.x_out,
            "rate_in": c.rate_in,
            "rate_in_ci": list(ci["rate_in"]),
            "rate_out": c.rate_out,
            "rate_out_ci": list(ci["rate_out"]),
            "difference": c.rate_in - c.rate_out,
            "difference_ci": list(ci["difference"]),
            "ratio": _div(c.rate_in, c.rate_out),
            "ratio_ci": list(ci["ratio"]),
            "p_value": c.p_value,
            "p_adjusted": c.p_adjusted,
        },
        "confirmed": c.confirmed,
        "profile": [vars(f) for f in c.profile],
        "composition": [
            {
                **vars(m),
                "ci": list(m.ci),
                "rest_ci": list(m.rest_ci),
                "difference_ci": list(m.difference_ci),
            }
            for m in c.composition
        ],
    }
