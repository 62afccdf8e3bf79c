"""Workloads of the detection family."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

import npkernels as nk
from npkernels import reference as ref

from .._workloads import random_clustered_boxes
from .base import Case, Inputs, Loader


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


def cases() -> list[Case]:
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
