"""Deterministic, realistic inputs for ``python -m npkernels``, the tests and the benchmarks."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["random_binary_scores", "random_labels", "random_points"]


def random_binary_scores(
    rng: np.random.Generator,
    n: int,
    *,
    positive_rate: float = 0.3,
    decimals: int | None = None,
    dtype: DTypeLike = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels (bool, ~``positive_rate`` positive) and scores in [0, 1) of a weak classifier.

    Positives score a little higher on average, as a real model's would.
    ``decimals`` rounds the scores, which makes heavy ties (a model whose
    outputs are quantised, or probabilities printed to two places).
    """
    y = rng.random(n) < positive_rate
    score = 0.7 * rng.random(n) + 0.3 * y * rng.random(n)
    if decimals is not None:
        score = np.round(score, decimals)
    return y, score.astype(dtype)


def random_points(
    rng: np.random.Generator, n: int, m: int, *, dtype: DTypeLike = np.float64
) -> np.ndarray:
    """(n, m) points uniform in the unit cube (the classic KD-tree benchmark)."""
    return rng.random((n, m)).astype(dtype, copy=False)


def random_labels(points: np.ndarray, n_classes: int = 3) -> np.ndarray:
    """int64 labels of ``points`` by the sum of their coordinates (regions, as real classes are)."""
    s = points.sum(axis=1)
    edges = np.quantile(s, np.linspace(0, 1, n_classes + 1)[1:-1])
    return np.searchsorted(edges, s).astype(np.int64)
