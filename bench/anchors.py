"""Anchor implementations, imported lazily: a missing anchor skips, never fails."""

from __future__ import annotations

import npkernels as nk
import pytest


def sklearn_metrics():
    """``sklearn.metrics`` (single-threaded NumPy code: no thread setting to align)."""
    return pytest.importorskip("sklearn.metrics")


def scipy_stats():
    """``scipy.stats`` (rankdata is single-threaded NumPy code)."""
    return pytest.importorskip("scipy.stats")


# Untimed calls before the timed rounds of kernels with outputs or scratch of
# tens of MB: the first calls of each implementation page-fault fresh memory
# until the allocator settles on reusing it (measured at 1 thread: torch's
# max_pool2d_backward about 12 calls at 10.7 ms, then 2.5 ms; our first
# conv2d_backward calls 2-3x their steady time), so one warm-up would time the
# page faults instead of the kernel.
STEADY_WARMUP = 20


def torch_with_our_threads():
    """``torch`` limited to npkernels' thread count, so both get the same budget."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(nk.get_num_threads())
    return torch


def copy_baseline(inputs, outputs):
    """A memory-bandwidth yardstick: ``np.copyto`` of arrays shaped like a kernel's inputs
    and outputs. It reads and writes those bytes once each (2x the bytes a kernel that
    reads its inputs once and writes its outputs once moves), timed in the same run."""
    import numpy as np

    pairs = [(np.empty_like(a), a) for a in (*inputs, *outputs)]

    def run():
        for dst, src in pairs:
            np.copyto(dst, src)

    return run


def gb_per_s(benchmark, nbytes: int) -> None:
    """Record ``nbytes / median`` (GB/s) in the benchmark's extra_info (JSON output)."""
    stats = benchmark.stats.stats if benchmark.stats is not None else None
    if stats is not None and stats.median > 0:
        benchmark.extra_info["GB/s"] = round(nbytes / stats.median / 1e9, 2)
    benchmark.extra_info["bytes"] = nbytes
def scipy_ckdtree():
    """``scipy.spatial.cKDTree``: serial build; queries take ``workers=``."""
    return pytest.importorskip("scipy.spatial").cKDTree


def sklearn_kdtree():
    """``sklearn.neighbors.KDTree`` (single-threaded build and queries)."""
    return pytest.importorskip("sklearn.neighbors").KDTree


def pykdtree_kdtree():
    """``pykdtree.kdtree.KDTree``; its OpenMP pool is limited with threadpoolctl per call."""
    return pytest.importorskip("pykdtree.kdtree").KDTree


def openmp_limited(n: int):
    """A context limiting OpenMP pools (pykdtree's) to ``n`` threads."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n, user_api="openmp")
def torchvision_ops():
    """``torchvision.ops`` with torch limited to npkernels' thread count."""
    torch = torch_with_our_threads()
    return torch, pytest.importorskip("torchvision.ops")
def torch_functional():
    """``torch.nn.functional`` with torch limited to npkernels' thread count."""
    return torch_with_our_threads().nn.functional
def torchvision_ops():
    """``(torch, torchvision.ops)`` with torch limited to npkernels' thread count.

    torchvision's ROI kernels are serial whatever the setting.
    """
    torch = torch_with_our_threads()
    ops = pytest.importorskip("torchvision.ops")
    return torch, ops
