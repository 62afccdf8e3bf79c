"""Anchor implementations, imported lazily: a missing anchor skips, never fails."""

from __future__ import annotations

import pytest

import npkernels as nk


def sklearn_metrics():
    """``sklearn.metrics`` (single-threaded NumPy code: no thread setting to align)."""
    return pytest.importorskip("sklearn.metrics")


def scipy_stats():
    """``scipy.stats`` (rankdata is single-threaded NumPy code)."""
    return pytest.importorskip("scipy.stats")


def torch_with_our_threads():
    """``torch`` limited to npkernels' thread count, so both get the same budget."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(nk.get_num_threads())
    return torch


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
