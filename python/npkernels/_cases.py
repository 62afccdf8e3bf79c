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

from ._workloads import random_binary_scores, random_feature_map, random_rois

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


# ROI Align / ROI Pool: a detector's second stage, 7x7 bins, aligned boxes w, h in [4, 64].
_ROI_OUT = 7


def _torchvision_roi(call: Callable[..., Any]) -> Loader:
    """A loader of ``call(torch, *numpy inputs)`` -> ndarray; ImportError without torchvision."""

    def load() -> Callable[..., Any]:
        torch = importlib.import_module("torch")
        importlib.import_module("torchvision.ops")
        return lambda *args: call(torch, *(torch.from_numpy(a) for a in args)).numpy()

    return load


def _roi_cases() -> list[Case]:
    cases = []
    for shape, k, quick in (((1, 64, 100, 136), 200, True), ((2, 256, 200, 272), 1000, False)):
        size = f"{shape} K={k} float32"

        def inputs(rng, shape=shape, k=k):
            x = random_feature_map(rng, shape)
            return x, random_rois(rng, k, shape[0], shape[2], shape[3])

        def grads(rng, shape=shape, k=k):
            rois = random_rois(rng, k, shape[0], shape[2], shape[3])
            return rng.standard_normal((k, shape[1], _ROI_OUT, _ROI_OUT), dtype=np.float32), rois

        def pool_grads(rng, inputs=inputs, grads=grads):
            x, rois = inputs(rng)
            argmax = nk.roi_pool(x, rois, _ROI_OUT, return_argmax=True)[1]
            return grads(rng)[0], argmax, rois

        for sr in (2, -1):
            args = (_ROI_OUT, 1.0, sr, True)
            cases.append(Case(
                "roi_align", f"{size} sr={sr}", inputs,
                lambda x, r, a=args: nk.roi_align(x, r, *a),
                lambda x, r, a=args: ref.roi_align(x, r, *a),
                {"torchvision": _torchvision_roi(
                    lambda t, x, r, a=args: t.ops.torchvision.roi_align(x, r, a[1], _ROI_OUT,
                                                                        _ROI_OUT, a[2], True))},
                tolerance=0.0, quick=quick,
            ))
            cases.append(Case(
                "roi_align_backward", f"{size} sr={sr}", grads,
                lambda g, r, a=args, s=shape: nk.roi_align_backward(g, r, s, *a),
                lambda g, r, a=args, s=shape: ref.roi_align_backward(g, r, s, *a),
                {"torchvision": _torchvision_roi(
                    lambda t, g, r, s=shape, sr=sr: t.ops.torchvision._roi_align_backward(
                        g, r, 1.0, _ROI_OUT, _ROI_OUT, *s, sr, True))},
                tolerance=0.0, quick=quick,
            ))
        cases.append(Case(
            "roi_pool", size, inputs,
            lambda x, r: nk.roi_pool(x, r, _ROI_OUT),
            lambda x, r: ref.roi_pool(x, r, _ROI_OUT),
            {"torchvision": _torchvision_roi(
                lambda t, x, r: t.ops.torchvision.roi_pool(x, r, 1.0, _ROI_OUT, _ROI_OUT)[0])},
            tolerance=0.0, quick=quick,
        ))
        cases.append(Case(
            "roi_pool_backward", size, pool_grads,
            lambda g, a, r, s=shape: nk.roi_pool_backward(g, a, r, s),
            lambda g, a, r, s=shape: ref.roi_pool_backward(g, a, r, s),
            {"torchvision": _torchvision_roi(
                lambda t, g, a, r, s=shape: t.ops.torchvision._roi_pool_backward(
                    g, r, a.int(), 1.0, _ROI_OUT, _ROI_OUT, *s))},
            tolerance=0.0, quick=quick,
        ))
    return cases


CASES: list[Case] = _metrics_cases() + _roi_cases()
