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


def torchvision_ops():
    """``(torch, torchvision.ops)`` with torch limited to npkernels' thread count.

    torchvision's ROI kernels are serial whatever the setting.
    """
    torch = torch_with_our_threads()
    ops = pytest.importorskip("torchvision.ops")
    return torch, ops
