"""Detection kernels against their NumPy references and torchvision (when importable).

Clustered, detector-like boxes (centres in a 1000 x 1000 image, sides in [10, 200]),
float32, IoU threshold 0.5 (Soft-NMS: mmcv's defaults, gaussian).

python -m pytest bench/bench_detection.py --benchmark-columns=median,iqr,rounds --benchmark-sort=name
"""

from __future__ import annotations

import numpy as np
import pytest
from anchors import torchvision_ops

import npkernels as nk
from npkernels import reference as ref
from npkernels._workloads import random_clustered_boxes

# The quadratic anchors take seconds at the large sizes: a few rounds there.
ROUNDS = {1_000: 20, 5_000: 5, 10_000: 10, 100_000: 3}
# The NumPy reference is quadratic too; it runs up to these sizes.
REFERENCE_MAX = {"nms": 10_000, "batched_nms": 10_000, "soft_nms": 5_000}


def _run(benchmark, n, fn, *args):
    return benchmark.pedantic(fn, args=args, rounds=ROUNDS[n], iterations=1, warmup_rounds=1)


def _torchvision(name):
    def load():
        torch, ops = torchvision_ops()
        f = getattr(ops, name)
        return lambda *a: f(*(torch.from_numpy(x) if isinstance(x, np.ndarray) else x for x in a)).numpy()

    return load


def _impls(name):
    return {
        "npkernels": lambda: getattr(nk, name),
        "reference": lambda: getattr(ref, name),
        "torchvision": _torchvision(name),
    }


def _skip_slow_reference(impl, kernel, n):
    if impl == "reference" and n > REFERENCE_MAX[kernel]:
        pytest.skip(f"the NumPy reference is quadratic; timed up to n={REFERENCE_MAX[kernel]:,}")


@pytest.mark.parametrize("impl", _impls("nms"))
@pytest.mark.parametrize("n", [1_000, 10_000, 100_000])
def bench_nms(benchmark, threads, impl, n):
    _skip_slow_reference(impl, "nms", n)
    b, s = random_clustered_boxes(np.random.default_rng(0), n)
    fn = _impls("nms")[impl]()
    benchmark.group = f"nms n={n:,} float32 {threads}thr"
    out = _run(benchmark, n, fn, b, s, 0.5)
    np.testing.assert_array_equal(out, nk.nms(b, s, 0.5))


@pytest.mark.parametrize("impl", _impls("batched_nms"))
@pytest.mark.parametrize("n", [10_000, 100_000])
def bench_batched_nms(benchmark, threads, impl, n):
    _skip_slow_reference(impl, "batched_nms", n)
    b, s, c = random_clustered_boxes(np.random.default_rng(1), n, n_classes=80)
    fn = _impls("batched_nms")[impl]()
    benchmark.group = f"batched_nms n={n:,} 80 classes float32 {threads}thr"
    out = _run(benchmark, n, fn, b, s, c, 0.5)
    # torchvision's final sort is not stable: compare the kept set, then our order.
    np.testing.assert_array_equal(np.sort(out), np.sort(nk.batched_nms(b, s, c, 0.5)))


SOFT_NMS = {"npkernels": lambda: nk.soft_nms, "reference": lambda: ref.soft_nms}


@pytest.mark.parametrize("impl", SOFT_NMS)
@pytest.mark.parametrize("n", [1_000, 5_000])
def bench_soft_nms(benchmark, threads, impl, n):
    b, s = random_clustered_boxes(np.random.default_rng(2), n)
    fn = SOFT_NMS[impl]()
    benchmark.group = f"soft_nms gaussian n={n:,} float32 {threads}thr"
    keep, kept = _run(benchmark, n, fn, b, s, 0.3, 0.5, 1e-3, "gaussian")
    want = nk.soft_nms(b, s, 0.3, 0.5, 1e-3, "gaussian")
    np.testing.assert_array_equal(keep, want[0])
    np.testing.assert_array_equal(kept, want[1])


@pytest.mark.parametrize("impl", _impls("box_iou"))
@pytest.mark.parametrize("n", [1_000])
def bench_box_iou(benchmark, threads, impl, n):
    b, _ = random_clustered_boxes(np.random.default_rng(3), n)
    fn = _impls("box_iou")[impl]()
    benchmark.group = f"box_iou {n:,}x{n:,} float32 {threads}thr"
    out = _run(benchmark, n, fn, b, b)
    np.testing.assert_array_equal(out, nk.box_iou(b, b))
