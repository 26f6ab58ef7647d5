"""Bias-aware hierarchical k-means (HBAC): the clustering behind the bias search.

HBAC (Misztal-Radecka & Indurkhya, 2021; the unsupervised bias detection tool of
Algorithm Audit) splits cases hierarchically with 2-means and keeps a split only when it
uncovers a cluster whose metric deviates more from the rest than its parent did. What is
left are clusters ("leaves") ranked by that deviation, the *bias*:

``bias(C) = mean(y inside C) - mean(y outside C)``, over the cases searched,

where ``y`` is the metric per case (1 = selected, say), so a cluster selected more often
than the rest has a positive bias. The root (all cases) has bias 0.

The loop, as in the ``unsupervised-bias-detection`` package (v0.2.6):

1. Take a candidate cluster from a priority queue: by default the one with the largest
   bias (``split="bias"``); ``split="std"`` takes the one with the largest standard
   deviation of ``y``, the package's rule. Ties go to the lower label.
2. Split it with k-means (k = 2, ``n_init="auto"``, the given seed).
3. Keep the split when both children have at least ``min_size`` cases and at least one
   child's bias exceeds the parent's by ``margin``; the children join the queue.
   Otherwise the cluster is final.
4. Stop after ``max_splits`` candidates (kept or not) or when the queue is empty. A
   cluster at ``max_depth`` is final without a try (a waarborg addition; the package has
   no depth limit).

New cases are assigned by walking down the tree: at every split the nearer of the two
k-means centroids (the package's ``predict``). With ``split="std"`` and the same seed
the labels are those of the package's ``BiasAwareHierarchicalKMeans`` fitted to ``-y``
(the package scores ``mean outside - mean inside``); ``tests/reference_hbac.py`` holds
its algorithm for that cross-check. ``clusterer="kmodes"`` splits with k-modes
(``kmodes.KModes``, k = 2, Cao's initialisation) on integer-coded categories, as the
package's ``BiasAwareHierarchicalKModes`` does for all-categorical data.
"""

from __future__ import annotations

import heapq
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from kmodes.kmodes import KModes
from numpy.typing import NDArray
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from waarborg.errors import DataError

__all__ = ["BiasTree", "Encoder", "SplitRule", "grow_tree"]

SplitRule = Literal["bias", "std"]
Clusterer = Literal["kmeans", "kmodes"]
FloatArray = NDArray[np.float64]


@dataclass(eq=False)
class _Node:
    """One cluster of the tree; a leaf until it is split."""

    label: int
    indices: NDArray[np.intp]
    depth: int
    bias: float
    std: float
    model: KMeans | KModes | None = None
    children: list[_Node] = field(default_factory=list)


@dataclass
class BiasTree:
    """The fitted HBAC tree: its final clusters ranked by bias, and how to assign cases.

    Attributes
    ----------
    labels : ndarray of int
        Cluster of each searched case: 0 is the most biased cluster, 1 the next, ...
    biases : ndarray of float
        Bias of each cluster on the searched cases, in decreasing order.
    splits : int
        Number of splits kept.
    """

    labels: NDArray[np.intp]
    biases: FloatArray
    splits: int
    _root: _Node
    _rank: dict[int, int]

    def predict(self, x: FloatArray) -> NDArray[np.intp]:
        """Assign encoded cases to the clusters by walking down the tree.

        Examples
        --------
        >>> x = np.array([[0.0], [0.1], [5.0], [5.1]])
        >>> tree = grow_tree(x, np.array([0.0, 0.0, 1.0, 1.0]), min_size=1, max_splits=1)
        >>> tree.predict(np.array([[4.9], [0.2]])).tolist()
        [0, 1]
        """
        out = np.empty(len(x), dtype=np.intp)
        stack = [(self._root, np.arange(len(x)))]
        while stack:
            node, idx = stack.pop()
            if node.model is None:
                out[idx] = self._rank[node.label]
                continue
            side = node.model.predict(x[idx]) if len(idx) else np.empty(0, dtype=np.intp)
            stack.extend((child, idx[side == k]) for k, child in enumerate(node.children))
        return out


def grow_tree(
    x: FloatArray,
    y: FloatArray,
    *,
    min_size: int,
    max_splits: int = 20,
    max_depth: int | None = None,
    split: SplitRule = "bias",
    margin: float = 1e-5,
    seed: int = 0,
    clusterer: Clusterer = "kmeans",
    progress: Callable[[int, int], None] | None = None,
) -> BiasTree:
    """Fit HBAC on encoded cases ``x`` with metric ``y`` (see the module docstring).

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Encoded features (:class:`Encoder`).
    y : ndarray, shape (n,)
        The metric per case (0/1 for a rate).
    min_size : int
        Fewest cases a cluster may have.
    max_splits : int, default 20
        Most split attempts.
    max_depth : int, optional
        Deepest level a cluster may be split at (root = 0); no limit by default.
    split : {"bias", "std"}, default "bias"
        Which cluster to try next: largest bias, or largest standard deviation of ``y``.
    margin : float, default 1e-5
        How much a child's bias must exceed its parent's for the split to be kept.
    seed : int, default 0
        ``random_state`` of every k-means.
    clusterer : {"kmeans", "kmodes"}, default "kmeans"
        k-means on encoded features, or k-modes on integer category codes
        (:meth:`Encoder.codes`).
    progress : callable, optional
        Called with (attempt, max_splits) after every attempt.

    Returns
    -------
    BiasTree

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> tree = grow_tree(x, np.array([0.0, 0.0, 1.0, 1.0]), min_size=1, max_splits=1)
    >>> tree.biases.tolist(), tree.labels.tolist()
    ([1.0, -1.0], [1, 1, 0, 0])
    """
    n = len(y)
    root = _Node(0, np.arange(n), 0, 0.0, float(np.std(y)))
    heap: list[tuple[float, int, _Node]] = [(_key(root, split), 0, root)]
    leaves: list[_Node] = []
    next_label, kept = 1, 0
    for attempt in range(max_splits):
        if not heap:
            break
        node = heapq.heappop(heap)[2]
        children = None
        if max_depth is None or node.depth < max_depth:
            with threadpool_limits(1):  # small fits: threads cost more than they give
                children = _try_split(node, x, y, min_size, margin, seed, clusterer)
        if children is None:
            leaves.append(node)
        else:
            kept += 1
            for k, child in enumerate(children):
                if k:
                    child.label, next_label = next_label, next_label + 1
                heapq.heappush(heap, (_key(child, split), child.label, child))
        if progress is not None:
            progress(attempt + 1, max_splits)
    leaves.extend(entry[2] for entry in heap)
    leaves.sort(key=lambda leaf: (-leaf.bias, leaf.label))
    rank = {leaf.label: i for i, leaf in enumerate(leaves)}
    labels = np.empty(n, dtype=np.intp)
    for leaf in leaves:
        labels[leaf.indices] = rank[leaf.label]
    biases = np.array([leaf.bias for leaf in leaves])
    return BiasTree(labels, biases, kept, root, rank)


def _key(node: _Node, split: SplitRule) -> float:
    """Priority of a candidate cluster (smallest first)."""
    return -node.bias if split == "bias" else -node.std


def _try_split(
    node: _Node,
    x: FloatArray,
    y: FloatArray,
    min_size: int,
    margin: float,
    seed: int,
    clusterer: Clusterer,
) -> list[_Node] | None:
    """Split ``node`` in two; the children, or None if the split is not kept."""
    if len(node.indices) < 2:
        return None
    model: KMeans | KModes
    if clusterer == "kmodes":
        model = KModes(n_clusters=2, random_state=seed)
    else:
        model = KMeans(n_clusters=2, n_init="auto", random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k-modes warns when a cluster has one distinct case
        labels = np.asarray(model.fit_predict(x[node.indices]))
    parts = [node.indices[labels == k] for k in range(2)]
    if min(len(part) for part in parts) < min_size:
        return None
    biases = [_bias(y, part) for part in parts]
    if max(biases) < node.bias + margin:
        return None
    node.model = model
    node.children = [
        _Node(node.label, part, node.depth + 1, b, float(np.std(y[part])))
        for part, b in zip(parts, biases, strict=True)
    ]
    return node.children


def _bias(y: FloatArray, inside: NDArray[np.intp]) -> float:
    """Mean of ``y`` inside minus outside (computed as the package does, bit for bit)."""
    outside = np.ones(len(y), dtype=bool)
    outside[inside] = False
    return float(np.mean(-y[outside]) - np.mean(-y[inside]))


@dataclass
class Encoder:
    """Turn feature columns into the numbers k-means works on.

    Numeric columns are standardised (mean 0, sd 1, with the mean and sd of the cases
    it was fitted on) or, with ``rank=True``, replaced by their mid-rank among those cases
    scaled to sd 1 (robust to skew and outliers, such as distances in km); text and
    boolean columns become one indicator per level, scaled by 1/sqrt(2) so two cases with
    different levels lie 1 apart, like one standard deviation of a number.

    Examples
    --------
    >>> enc = Encoder.fit({"age": np.array([18.0, 22.0]), "edu": np.array(["mbo", "wo"])})
    >>> enc.transform({"age": np.array([20.0]), "edu": np.array(["wo"])}).round(3).tolist()
    [[0.0, 0.0, 0.707]]
    """

    numeric: dict[str, tuple[float, float]]
    levels: dict[str, list[str]]
    quantiles: dict[str, FloatArray] = field(default_factory=dict)

    @classmethod
    def fit(cls, columns: dict[str, np.ndarray], rank: bool = False) -> Encoder:
        """Learn means, sds and levels from ``columns`` (name → values)."""
        numeric, levels, quantiles = {}, {}, {}
        for name, values in columns.items():
            if values.dtype.kind in "iuf":
                sd = float(np.std(values))
                numeric[name] = (float(np.mean(values)), sd if sd > 0 else 1.0)
                quantiles[name] = np.sort(values.astype(float))
            else:
                levels[name] = sorted({str(v) for v in values})
        return cls(numeric, levels, quantiles if rank else {})

    @property
    def names(self) -> Sequence[str]:
        """The features, in the order of the encoded blocks."""
        return [*self.numeric, *self.levels]

    def codes(self, columns: dict[str, np.ndarray]) -> NDArray[np.intp]:
        """The text columns as level numbers (for k-modes); an unseen level gets -1.

        Examples
        --------
        >>> enc = Encoder.fit({"edu": np.array(["mbo", "wo"])})
        >>> enc.codes({"edu": np.array(["wo", "hbo"])}).tolist()
        [[1], [-1]]
        """
        blocks = []
        for name, levels in self.levels.items():
            values = columns[name].astype(str)
            index = {level: i for i, level in enumerate(levels)}
            blocks.append(np.array([index.get(v, -1) for v in values], dtype=np.intp)[:, None])
        if not blocks:
            raise DataError("k-modes needs text features")
        return np.hstack(blocks)

    def transform(self, columns: dict[str, np.ndarray]) -> FloatArray:
        """Encode ``columns``; a level not seen in fitting gets all indicators 0."""
        blocks = []
        for name, (mean, sd) in self.numeric.items():
            values = columns[name].astype(float)
            if name in self.quantiles:
                ref = self.quantiles[name]
                mid = np.searchsorted(ref, values, "left") + np.searchsorted(ref, values, "right")
                blocks.append(((mid / (2 * len(ref)) - 0.5) * np.sqrt(12))[:, None])
            else:
                blocks.append(((values - mean) / sd)[:, None])
        for name, levels in self.levels.items():
            values = columns[name].astype(str)
            onehot = np.stack([values == lv for lv in levels], axis=1).astype(float)
            blocks.append(onehot / np.sqrt(2))  # two levels lie 1 apart, like 1 sd
        if not blocks:
            raise DataError("the bias search needs at least one feature")
        return np.hstack(blocks)
