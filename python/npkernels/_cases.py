"""The workloads of ``python -m npkernels``: the one place where every kernel registers.

A :class:`Case` names a public kernel, builds its inputs, and says how to run
it, its NumPy reference and its anchors (loaded lazily: a missing anchor is
reported as absent, never as a failure). Add a kernel's cases to ``CASES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import npkernels as nk
from npkernels import reference as ref

from ._workloads import random_binary_scores, random_labels, random_points

Inputs = tuple[Any, ...]
Loader = Callable[[], Callable[..., Any]]  # raises ImportError when absent


@dataclass(frozen=True)
class Case:
    """One kernel on one workload."""

    kernel: str  # the public name, as ``--kernels`` selects it
    size: str  # what the workload is, for the table
    make_inputs: Callable[[np.random.Generator], Inputs]
    run: Callable[..., Any]
    reference: Callable[..., Any]
    anchors: dict[str, Loader] = field(default_factory=dict)
    tolerance: float = 1e-12  # max relative error against the reference and anchors
    quick: bool = False  # part of ``--quick``


def _case(kernel: str, size: str, make_inputs, anchor_module: str, *, quick: bool) -> Case:
    """The case of public ``kernel``, its reference twin and ``anchor_module.kernel``."""

    def load_anchor() -> Callable[..., Any]:  # raises ImportError when the anchor is absent
        return getattr(importlib.import_module(anchor_module), kernel)

    anchor = anchor_module.split(".")[0]
    return Case(
        kernel,
        size,
        make_inputs,
        getattr(nk, kernel),
        getattr(ref, kernel),
        {anchor: load_anchor},
        quick=quick,
    )


def _scores(n: int, decimals: int | None = None) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: random_binary_scores(rng, n, decimals=decimals)


def _rank_input(n: int) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: (rng.random(n),)


def _metrics_cases() -> list[Case]:
    cases = []
    for n, quick in ((100_000, True), (1_000_000, False), (10_000_000, False)):
        for decimals, kind in ((None, "continuous"), (2, "2 decimals")):
            cases.append(
                _case("roc_auc_score", f"n={n:,} {kind}", _scores(n, decimals),
                      "sklearn.metrics", quick=quick)
            )
        cases.append(_case("rankdata", f"n={n:,} float64", _rank_input(n), "scipy.stats",
                           quick=quick))
    for n, quick in ((100_000, True), (1_000_000, False)):
        cases.append(_case("roc_curve", f"n={n:,} 2 decimals", _scores(n, 2), "sklearn.metrics",
                           quick=quick))
        cases.append(_case("average_precision_score", f"n={n:,} continuous", _scores(n),
                           "sklearn.metrics", quick=quick))
    return cases


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


def _neighbors_cases() -> list[Case]:
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


CASES: list[Case] = _metrics_cases() + _neighbors_cases()
