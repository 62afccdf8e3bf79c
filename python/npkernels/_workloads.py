"""Deterministic, realistic inputs shared by ``python -m npkernels``, the tests and the benchmarks."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["random_binary_scores", "random_feature_map", "random_rois"]


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


def random_feature_map(
    rng: np.random.Generator, shape: tuple[int, int, int, int], dtype: DTypeLike = np.float32
) -> np.ndarray:
    """An (N, C, H, W) map of standard-normal activations, like a backbone's output."""
    return rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)


def random_rois(
    rng: np.random.Generator,
    k: int,
    n_images: int,
    height: int,
    width: int,
    *,
    size: tuple[float, float] = (4.0, 64.0),
    dtype: DTypeLike = np.float32,
) -> np.ndarray:
    """(k, 5) ROI rows ``[batch, x1, y1, x2, y2]`` of a detector's proposals.

    Widths and heights uniform in ``size`` (map pixels), placed uniformly so
    that each box lies inside the ``height x width`` map when it fits.
    """
    wh = rng.uniform(size[0], size[1], (k, 2))
    x1 = rng.uniform(0, 1, k) * np.maximum(width - wh[:, 0], 0)
    y1 = rng.uniform(0, 1, k) * np.maximum(height - wh[:, 1], 0)
    batch = rng.integers(0, n_images, k)
    return np.stack([batch, x1, y1, x1 + wh[:, 0], y1 + wh[:, 1]], axis=1).astype(dtype)
