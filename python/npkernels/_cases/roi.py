"""Workloads of the ROI operators (torchvision anchors on NumPy arrays)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

import npkernels as nk
from npkernels import reference as ref

from .._workloads import random_feature_map, random_rois
from .base import Case, Loader

# ROI Align / ROI Pool: a detector's second stage, 7x7 bins, aligned boxes w, h in [4, 64].
_ROI_OUT = 7


def _torchvision_roi(call: Callable[..., Any]) -> Loader:
    """A loader of ``call(torch, *numpy inputs)`` -> ndarray; ImportError without torchvision."""

    def load() -> Callable[..., Any]:
        torch = importlib.import_module("torch")
        importlib.import_module("torchvision.ops")
        return lambda *args: call(torch, *(torch.from_numpy(a) for a in args)).numpy()

    return load


def cases() -> list[Case]:
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
