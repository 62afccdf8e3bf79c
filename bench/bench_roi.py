"""ROI Align / ROI Pool against their NumPy references and torchvision's C++ CPU kernels.

A detector's second stage: 1000 proposals (w, h in [4, 64] map pixels) on a
(2, 256, 200, 272) float32 feature map, 7x7 bins, aligned=True.

python -m pytest bench/bench_roi.py --benchmark-columns=median,iqr,rounds --benchmark-sort=name
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from anchors import torchvision_ops

import npkernels as nk
from npkernels import reference as ref
from npkernels._workloads import random_feature_map, random_rois

SHAPE = (2, 256, 200, 272)
K = 1000
OUT = 7
ROUNDS = {"npkernels": 5, "torchvision": 3, "reference": 1}


@functools.lru_cache(maxsize=1)
def _problem():
    rng = np.random.default_rng(0)
    x = random_feature_map(rng, SHAPE)
    rois = random_rois(rng, K, SHAPE[0], SHAPE[2], SHAPE[3])
    grad = rng.standard_normal((K, SHAPE[1], OUT, OUT), dtype=np.float32)
    return x, rois, grad


@functools.lru_cache(maxsize=2)
def _pool_argmax():
    x, rois, _ = _problem()
    return nk.roi_pool(x, rois, OUT, return_argmax=True)[1]


def _run(benchmark, impl, fn, *args):
    return benchmark.pedantic(fn, args=args, rounds=ROUNDS[impl], iterations=1, warmup_rounds=0)


def _tv_roi_align(sr):
    torch, ops = torchvision_ops()
    return lambda x, r: ops.roi_align(
        torch.from_numpy(x), torch.from_numpy(r), OUT, 1.0, sr, True
    ).numpy()


def _tv_roi_align_backward(sr):
    torch, _ = torchvision_ops()
    op = torch.ops.torchvision._roi_align_backward
    return lambda g, r: op(torch.from_numpy(g), torch.from_numpy(r), 1.0, OUT, OUT, *SHAPE, sr,
                           True).numpy()


def _tv_roi_pool():
    torch, _ = torchvision_ops()
    return lambda x, r: torch.ops.torchvision.roi_pool(
        torch.from_numpy(x), torch.from_numpy(r), 1.0, OUT, OUT
    )[0].numpy()


def _tv_roi_pool_backward():
    torch, _ = torchvision_ops()
    op = torch.ops.torchvision._roi_pool_backward

    def run(g, a, r):
        return op(torch.from_numpy(g), torch.from_numpy(r), torch.from_numpy(a.astype(np.int32)),
                  1.0, OUT, OUT, *SHAPE).numpy()

    return run


ALIGN = {
    "npkernels": lambda sr: lambda x, r: nk.roi_align(x, r, OUT, 1.0, sr, True),
    "reference": lambda sr: lambda x, r: ref.roi_align(x, r, OUT, 1.0, sr, True),
    "torchvision": _tv_roi_align,
}


@pytest.mark.parametrize("impl", ALIGN)
@pytest.mark.parametrize("sampling_ratio", [2, -1])
def bench_roi_align(benchmark, threads, impl, sampling_ratio):
    x, rois, _ = _problem()
    fn = ALIGN[impl](sampling_ratio)
    benchmark.group = f"roi_align sr={sampling_ratio} K={K} float32 {threads}thr"
    out = _run(benchmark, impl, fn, x, rois)
    assert out.tobytes() == nk.roi_align(x, rois, OUT, 1.0, sampling_ratio, True).tobytes()


ALIGN_BACKWARD = {
    "npkernels": lambda sr: lambda g, r: nk.roi_align_backward(g, r, SHAPE, OUT, 1.0, sr, True),
    "reference": lambda sr: lambda g, r: ref.roi_align_backward(g, r, SHAPE, OUT, 1.0, sr, True),
    "torchvision": _tv_roi_align_backward,
}


@pytest.mark.parametrize("impl", ALIGN_BACKWARD)
@pytest.mark.parametrize("sampling_ratio", [2, -1])
def bench_roi_align_backward(benchmark, threads, impl, sampling_ratio):
    if impl == "reference" and sampling_ratio == -1:
        pytest.skip("the NumPy reference takes ~20 s here; python -m npkernels times it")
    _, rois, grad = _problem()
    fn = ALIGN_BACKWARD[impl](sampling_ratio)
    benchmark.group = f"roi_align_backward sr={sampling_ratio} K={K} float32 {threads}thr"
    out = _run(benchmark, impl, fn, grad, rois)
    want = nk.roi_align_backward(grad, rois, SHAPE, OUT, 1.0, sampling_ratio, True)
    assert out.tobytes() == want.tobytes()


POOL = {
    "npkernels": lambda: lambda x, r: nk.roi_pool(x, r, OUT),
    "reference": lambda: lambda x, r: ref.roi_pool(x, r, OUT),
    "torchvision": _tv_roi_pool,
}


@pytest.mark.parametrize("impl", POOL)
def bench_roi_pool(benchmark, threads, impl):
    x, rois, _ = _problem()
    fn = POOL[impl]()
    benchmark.group = f"roi_pool K={K} float32 {threads}thr"
    out = _run(benchmark, impl, fn, x, rois)
    assert out.tobytes() == nk.roi_pool(x, rois, OUT).tobytes()


POOL_BACKWARD = {
    "npkernels": lambda: lambda g, a, r: nk.roi_pool_backward(g, a, r, SHAPE),
    "reference": lambda: lambda g, a, r: ref.roi_pool_backward(g, a, r, SHAPE),
    "torchvision": _tv_roi_pool_backward,
}


@pytest.mark.parametrize("impl", POOL_BACKWARD)
def bench_roi_pool_backward(benchmark, threads, impl):
    _, rois, grad = _problem()
    argmax = _pool_argmax()
    fn = POOL_BACKWARD[impl]()
    benchmark.group = f"roi_pool_backward K={K} float32 {threads}thr"
    out = _run(benchmark, impl, fn, grad, argmax, rois)
    assert out.tobytes() == nk.roi_pool_backward(grad, argmax, rois, SHAPE).tobytes()
