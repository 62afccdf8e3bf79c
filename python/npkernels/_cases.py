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

from ._workloads import random_binary_scores, random_clustered_boxes

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


def _torchvision(kernel: str) -> Loader:
    def load() -> Callable[..., Any]:  # raises ImportError when torchvision is absent
        torch = importlib.import_module("torch")
        f = getattr(importlib.import_module("torchvision.ops"), kernel)
        return lambda *a: f(*(torch.from_numpy(x) if isinstance(x, np.ndarray) else x for x in a)).numpy()

    return load


def _boxes(n: int, n_classes: int | None = None) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        out = random_clustered_boxes(rng, n, n_classes=n_classes)
        return (*out, 0.5)

    return make


def _soft_boxes(n: int) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: (*random_clustered_boxes(rng, n), 0.3, 0.5, 1e-3, "gaussian")


def _detection_cases() -> list[Case]:
    cases = []
    for n, quick in ((1_000, True), (10_000, False)):
        cases.append(Case("nms", f"n={n:,} clustered float32", _boxes(n), nk.nms, ref.nms,
                          {"torchvision": _torchvision("nms")}, tolerance=0.0, quick=quick))
        cases.append(Case("batched_nms", f"n={n:,} 80 classes float32", _boxes(n, 80),
                          nk.batched_nms, ref.batched_nms,
                          {"torchvision": _torchvision("batched_nms")}, tolerance=0.0,
                          quick=quick))
    for n, quick in ((1_000, True), (5_000, False)):
        cases.append(Case("soft_nms", f"n={n:,} gaussian float32", _soft_boxes(n), nk.soft_nms,
                          ref.soft_nms, tolerance=0.0, quick=quick))
    cases.append(Case("box_iou", "1,000 x 1,000 float32",
                      lambda rng: (random_clustered_boxes(rng, 1000)[0],) * 2, nk.box_iou,
                      ref.box_iou, {"torchvision": _torchvision("box_iou")}, tolerance=0.0,
                      quick=True))
    return cases


CASES: list[Case] = _metrics_cases() + _detection_cases()
