# ruff: noqa: N803, N806  (the package's own names, kept for comparison)
"""The HBAC algorithm of Algorithm Audit's ``unsupervised-bias-detection`` 0.2.6, as reference.

The package pins numpy < 2, which cannot live beside waarborg's pandas/pyarrow stack, so
it is not a test dependency; its clustering loop (``cluster/_bahc.py`` and
``_cluster_node.py``, EUPL-1.2 like waarborg, (c) NGO Algorithm Audit) is copied here,
trimmed of input validation and with the same logic line for line (one fix: ``predict``
visits both children even when a batch falls wholly on one side, where the package drops
those cases into label 0), to cross-check :mod:`waarborg.selectivity.hbac`.

The copy was checked against the installed package (0.2.6, installed with numpy 2
despite its pin): the same ``labels_`` and ``predict`` for k-means on 6,000 scenario
cases and for k-modes on the banded scenario.

``fit(X, y)`` takes the package's ``y`` (its score is ``mean outside - mean inside``);
``BiasAwareHierarchicalKMeans`` is the loop with ``KMeans(n_clusters=2, n_init="auto",
random_state=...)``, ``BiasAwareHierarchicalKModes`` with ``KModes(n_clusters=2,
random_state=...)``.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any

import numpy as np
from kmodes.kmodes import KModes
from sklearn.cluster import KMeans


class ClusterNode:
    def __init__(self, label: int, neg_std: float, score: float) -> None:
        self.label = label
        self.neg_std = neg_std
        self.score = score
        self.clustering_model: Any = None
        self.children: list[ClusterNode] = []

    @property
    def is_leaf(self) -> bool:
        return len(self.children) == 0

    def __lt__(self, other: ClusterNode) -> bool:
        return self.neg_std < other.neg_std or (
            self.neg_std == other.neg_std and self.label < other.label
        )

    def split(self, clustering_model: Any, children: list[ClusterNode]) -> None:
        self.label = None  # type: ignore[assignment]
        self.clustering_model = clustering_model
        self.children = children


class BiasAwareHierarchicalKMeans:
    clustering_cls: Any = KMeans

    def __init__(
        self, bahc_max_iter: int, bahc_min_cluster_size: int, margin: float = 1e-5, **kmeans: Any
    ) -> None:
        self.bahc_max_iter = bahc_max_iter
        self.bahc_min_cluster_size = bahc_min_cluster_size
        self.margin = margin
        self.clustering_params = {"n_clusters": 2, "n_init": "auto", **kmeans}

    def fit(self, X: np.ndarray, y: np.ndarray) -> BiasAwareHierarchicalKMeans:
        n_samples, _ = X.shape
        self.n_clusters_ = 1
        labels = np.zeros(n_samples, dtype=np.uint32)
        leaves = []
        label = 0
        std = np.std(y)
        score = 0
        root = ClusterNode(label, -std, score)
        self.cluster_tree_ = root
        heap = [root]
        for _ in range(self.bahc_max_iter):
            if not heap:
                break
            node = heapq.heappop(heap)
            label = node.label
            score = node.score
            cluster_indices = np.nonzero(labels == label)[0]
            X_cluster = X[cluster_indices]
            clustering_model = self.clustering_cls(**self.clustering_params)
            cluster_labels = clustering_model.fit_predict(X_cluster)
            n_children = len(np.unique(cluster_labels))
            valid_split = True
            children_indices = []
            for i in range(n_children):
                child_indices = cluster_indices[np.nonzero(cluster_labels == i)[0]]
                if len(child_indices) >= self.bahc_min_cluster_size:
                    children_indices.append(child_indices)
                else:
                    valid_split = False
                    break
            if valid_split:
                valid_split = False
                child_scores = []
                for child_indices in children_indices:
                    y_cluster = y[child_indices]
                    complement_mask = np.ones(n_samples, dtype=bool)
                    complement_mask[child_indices] = False
                    y_complement = y[complement_mask]
                    child_score = np.mean(y_complement) - np.mean(y_cluster)
                    if child_score >= score + self.margin:
                        valid_split = True
                    child_scores.append(child_score)
            if valid_split:
                first_child_indices = children_indices[0]
                first_child = ClusterNode(label, -np.std(y[first_child_indices]), child_scores[0])
                heapq.heappush(heap, first_child)
                labels[first_child_indices] = label
                children = [first_child]
                for i in range(1, n_children):
                    child_indices = children_indices[i]
                    child_node = ClusterNode(
                        self.n_clusters_, -np.std(y[child_indices]), child_scores[i]
                    )
                    heapq.heappush(heap, child_node)
                    labels[child_indices] = self.n_clusters_
                    children.append(child_node)
                    self.n_clusters_ += 1
                node.split(clustering_model, children)
            else:
                leaves.append(node)
        leaves.extend(heap)
        leaf_scores = np.array([leaf.score for leaf in leaves])
        sorted_indices = np.argsort(-leaf_scores)
        self.scores_ = leaf_scores[sorted_indices]
        leaf_labels = np.array([leaf.label for leaf in leaves])[sorted_indices]
        label_mapping = np.zeros(self.n_clusters_, dtype=np.uint32)
        label_mapping[leaf_labels] = np.arange(self.n_clusters_, dtype=np.uint32)
        self.labels_ = label_mapping[labels]
        for leaf in leaves:
            leaf.label = label_mapping[leaf.label]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        n_samples, _ = X.shape
        labels = np.zeros(n_samples, dtype=np.uint32)
        queue = deque([(self.cluster_tree_, np.arange(n_samples))])
        while queue:
            node, indices = queue.popleft()
            if node.is_leaf:
                labels[indices] = node.label
            else:
                cluster_labels = node.clustering_model.predict(X[indices])
                for i in range(len(node.children)):
                    child_indices = indices[np.nonzero(cluster_labels == i)[0]]
                    if child_indices.size > 0:
                        queue.append((node.children[i], child_indices))
        return labels


class BiasAwareHierarchicalKModes(BiasAwareHierarchicalKMeans):
    clustering_cls = KModes

    def __init__(self, bahc_max_iter: int, bahc_min_cluster_size: int, **kmodes: Any) -> None:
        super().__init__(bahc_max_iter, bahc_min_cluster_size)
        self.clustering_params = {"n_clusters": 2, **kmodes}
