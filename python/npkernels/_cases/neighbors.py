"""Workloads of the neighbors family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import npkernels as nk
from npkernels import reference as ref

from .._workloads import random_labels, random_points
from .base import Case, Inputs, Loader


def _tree_query(tree_cls: Callable[..., Any], k: int) -> Callable[..., Any]:
    return lambda data, x: tree_cls(data).query(x, k=k)


def _ckdtree_query(k: int) -> Loader:
    def load() -> Callable[..., Any]:
        from scipy.spatial import cKDTree

        return lambda data, x: cKDTree(data).query(x, k=k, workers=nk.get_num_threads())

    return load


def _sklearn_knn() -> Callable[..., Any]:
    from sklearn.neighbors import KNeighborsClassifier

    def predict(x_train, y, x):
        clf = KNeighborsClassifier(n_neighbors=5, algorithm="kd_tree", n_jobs=nk.get_num_threads())
        return clf.fit(x_train, y).predict(x)

    return predict


def _points(n: int, m: int, q: int, dtype=np.float64) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: (random_points(rng, n, m, dtype=dtype), random_points(rng, q, m, dtype=dtype))


def _labelled(n: int, m: int, q: int) -> Callable[[np.random.Generator], Inputs]:
    def make(rng):
        x_train, x = random_points(rng, n, m), random_points(rng, q, m)
        return x_train, random_labels(x_train), x

    return make


def cases() -> list[Case]:
    """Build + k-NN query (the reference is brute force: sizes it finishes in seconds)."""
    cases = []
    for n, m, q, quick in ((20_000, 3, 2_000, True), (100_000, 3, 10_000, False),
                           (50_000, 8, 2_000, False)):
        for k in (1, 8):
            cases.append(Case("KDTree.query", f"n={n:,} d={m} {q:,} queries k={k}",
                              _points(n, m, q), _tree_query(nk.KDTree, k),
                              _tree_query(ref.KDTree, k), {"scipy": _ckdtree_query(k)},
                              quick=quick))
    cases.append(Case("knn_predict", "n=20,000 d=3 2,000 queries k=5", _labelled(20_000, 3, 2_000),
                      lambda a, y, x: nk.knn_predict(a, y, x, k=5),
                      lambda a, y, x: ref.knn_predict(a, y, x, k=5), {"sklearn": _sklearn_knn},
                      quick=True))
    return cases
