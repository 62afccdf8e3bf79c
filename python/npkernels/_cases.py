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
    scale: float = 0.0  # errors are relative to max(|expected|, scale): 0 = purely relative
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


# --- pooling and BatchNorm: torch anchors take and give tensors ---------------------------


def _torch(fn: Callable[..., Any]) -> Loader:
    """A loader of ``fn(torch, *numpy inputs)`` with NumPy results (ImportError without torch)."""

    def load() -> Callable[..., Any]:
        torch = importlib.import_module("torch")

        def run(*inputs):
            out = fn(torch, *(torch.from_numpy(a) if isinstance(a, np.ndarray) else a
                              for a in inputs))
            if isinstance(out, tuple):
                return tuple(o.numpy() for o in out)
            return out.numpy()

        return run
def _tree_query(tree_cls: Callable[..., Any], k: int) -> Callable[..., Any]:
    return lambda data, x: tree_cls(data).query(x, k=k)


def _ckdtree_query(k: int) -> Loader:
    def load() -> Callable[..., Any]:
        from scipy.spatial import cKDTree

        return lambda data, x: cKDTree(data).query(x, k=k, workers=nk.get_num_threads())

    return load


def _image(shape, dtype=np.float32) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: (rng.standard_normal(shape, dtype=np.float64).astype(dtype),)


def _max_backward_inputs(shape) -> Callable[[np.random.Generator], Inputs]:
    def make(rng):
        x = rng.standard_normal(shape).astype(np.float32)
        out, idx = nk.max_pool2d(x, 3, 2, 1, return_indices=True)
        return rng.standard_normal(out.shape).astype(np.float32), idx, x.shape, x
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


def _avg_backward_inputs(shape) -> Callable[[np.random.Generator], Inputs]:
    def make(rng):
        x = rng.standard_normal(shape).astype(np.float32)
        out_shape = (*shape[:2], shape[2] // 2, shape[3] // 2)
        return rng.standard_normal(out_shape).astype(np.float32), shape, x

    return make


def _bn_inputs(shape) -> Callable[[np.random.Generator], Inputs]:
    """x, gamma, beta; beta = 10 keeps outputs away from 0, so relative errors mean something."""

    def make(rng):
        c = shape[1]
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        return x, (rng.random(c) + 0.5).astype(np.float32), np.full(c, 10, np.float32)

    return make


def _bn_backward_inputs(shape) -> Callable[[np.random.Generator], Inputs]:
    def make(rng):
        x, gamma, _ = _bn_inputs(shape)(rng)
        _, mean, invstd = nk.batch_norm_forward(x, gamma, None)
        return rng.standard_normal(shape).astype(np.float32), x, gamma, mean, invstd

    return make


def _bn_train(impl):
    def run(x, gamma, beta):
        c = x.shape[1]
        return impl.batch_norm(x, gamma, beta, np.zeros(c, x.dtype), np.ones(c, x.dtype))

    return run


def _pool_cases() -> list[Case]:
    cases = []
    f32 = 1e-5
    for shape, quick in (((2, 16, 56, 56), True), ((8, 64, 112, 112), False)):
        size = f"{shape} float32"
        cases += [
            Case("max_pool2d", f"{size} k3 s2 p1", _image(shape),
                 lambda x: nk.max_pool2d(x, 3, 2, 1), lambda x: ref.max_pool2d(x, 3, 2, 1),
                 {"torch": _torch(lambda t, x: t.nn.functional.max_pool2d(x, 3, 2, 1))},
                 tolerance=0.0, quick=quick),
            Case("max_pool2d_backward", f"{size} k3 s2 p1", _max_backward_inputs(shape),
                 lambda g, i, s, x: nk.max_pool2d_backward(g, i, s),
                 lambda g, i, s, x: ref.max_pool2d_backward(g, i, s),
                 {"torch": _torch(lambda t, g, i, s, x: t.ops.aten.max_pool2d_with_indices_backward(
                     g, x, [3, 3], [2, 2], [1, 1], [1, 1], False, i))},
                 tolerance=0.0, quick=quick),
            Case("avg_pool2d", f"{size} k2 s2", _image(shape),
                 lambda x: nk.avg_pool2d(x, 2), lambda x: ref.avg_pool2d(x, 2),
                 {"torch": _torch(lambda t, x: t.nn.functional.avg_pool2d(x, 2))},
                 tolerance=f32, scale=1.0, quick=quick),
            Case("avg_pool2d_backward", f"{size} k2 s2", _avg_backward_inputs(shape),
                 lambda g, s, x: nk.avg_pool2d_backward(g, s, 2),
                 lambda g, s, x: ref.avg_pool2d_backward(g, s, 2),
                 {"torch": _torch(lambda t, g, s, x: t.ops.aten.avg_pool2d_backward(
                     g, x, [2, 2], [2, 2], [0, 0], False, True, None))},
                 tolerance=f32, scale=1.0, quick=quick),
        ]
    small = (8, 64, 56, 56)
    size = f"{small} float32"
    cases += [
        Case("lp_pool2d", f"{size} p=2 k3 s2", lambda rng: (np.abs(_image(small)(rng)[0]),),
             lambda x: nk.lp_pool2d(x, 2, 3, 2), lambda x: ref.lp_pool2d(x, 2, 3, 2),
             {"torch": _torch(lambda t, x: t.nn.functional.lp_pool2d(x, 2, 3, 2))},
             tolerance=f32, scale=1.0),
        Case("adaptive_avg_pool2d", f"{size} to 7x7", _image(small),
             lambda x: nk.adaptive_avg_pool2d(x, 7), lambda x: ref.adaptive_avg_pool2d(x, 7),
             {"torch": _torch(lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, 7))},
             tolerance=f32, scale=1.0),
        Case("adaptive_max_pool2d", f"{size} to 7x7", _image(small),
             lambda x: nk.adaptive_max_pool2d(x, 7), lambda x: ref.adaptive_max_pool2d(x, 7),
             {"torch": _torch(lambda t, x: t.nn.functional.adaptive_max_pool2d(x, 7))},
             tolerance=0.0),
        Case("spatial_pyramid_pool", f"{size} levels 1,2,4", _image(small),
             nk.spatial_pyramid_pool, ref.spatial_pyramid_pool, tolerance=0.0),
    ]
    return cases


def _norm_cases() -> list[Case]:
    cases = []
    for shape, quick in (((8, 16, 28, 28), True), ((32, 64, 56, 56), False)):
        size = f"{shape} float32 training"
        cases += [
            Case("batch_norm", size, _bn_inputs(shape), _bn_train(nk), _bn_train(ref),
                 {"torch": _torch(lambda t, x, g, b: t.nn.functional.batch_norm(
                     x, t.zeros(x.shape[1]), t.ones(x.shape[1]), g, b, training=True))},
                 tolerance=1e-5, quick=quick),
            Case("batch_norm_backward", size, _bn_backward_inputs(shape), nk.batch_norm_backward,
                 ref.batch_norm_backward,
                 {"torch": _torch(lambda t, gy, x, g, m, s: t.ops.aten.native_batch_norm_backward(
                     gy, x, g, None, None, m, s, True, 1e-5, [True, True, True]))},
                 tolerance=1e-4, scale=1.0, quick=quick),
        ]
    return cases


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


CASES: list[Case] = _metrics_cases() + _pool_cases() + _norm_cases() + _neighbors_cases()
