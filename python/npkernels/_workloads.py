"""Deterministic, realistic inputs for ``python -m npkernels``, the tests and the benchmarks."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

__all__ = [
    "random_binary_scores",
    "random_boxes",
    "random_clustered_boxes",
    "random_conv_problem",
    "random_feature_map",
    "random_labels",
    "random_points",
    "random_rois",
]


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
def random_boxes(
    rng: np.random.Generator, n: int, dtype: DTypeLike = np.float32, size: float = 1000.0
) -> np.ndarray:
    """``n`` valid (N, 4) boxes ``x1, y1, x2, y2`` with corners in a ``size`` x ``size`` image.

    Widths and heights are uniform in [1 %, 20 %] of ``size``.
    """
    wh = rng.uniform(0.01, 0.2, (n, 2)) * size
    lo = rng.random((n, 2)) * (size - wh)
    return np.concatenate([lo, lo + wh], axis=1).astype(dtype)


def random_clustered_boxes(
    rng: np.random.Generator,
    n: int,
    dtype: DTypeLike = np.float32,
    size: float = 1000.0,
    *,
    boxes_per_object: int = 4,
    n_classes: int | None = None,
):
    """A detector's raw output: (boxes, scores) or, with ``n_classes``, (boxes, scores, classes).

    ``n / boxes_per_object`` objects have centres uniform in a ``size`` x
    ``size`` image and sides uniform in [10, 200] (at ``size`` 1000); each box
    jitters one object's centre by N(0, 0.2) of its sides and its sides by a
    log-normal factor (sigma 0.2), clipped to [10, 200]. Scores are uniform in
    [0, 1) (ties are improbable); classes, when asked, are uniform integers.
    """
    k = max(1, n // boxes_per_object)
    scale = size / 1000.0
    centre = rng.random((k, 2)) * size
    sides = rng.uniform(10, 200, (k, 2)) * scale
    obj = rng.integers(0, k, n)
    wh = np.clip(sides[obj] * np.exp(rng.normal(0, 0.2, (n, 2))), 10 * scale, 200 * scale)
    c = centre[obj] + rng.normal(0, 0.2, (n, 2)) * sides[obj]
    boxes = np.concatenate([c - wh / 2, c + wh / 2], axis=1).astype(dtype)
    scores = rng.random(n).astype(dtype)
    if n_classes is None:
        return boxes, scores
    return boxes, scores, rng.integers(0, n_classes, n)
def random_conv_problem(
    rng: np.random.Generator,
    n: int, c: int, h: int, w: int, o: int, k: int, stride: int = 1, padding: int = 0,
    *,
    dtype: DTypeLike = np.float32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A convolution layer's x (N, C, H, W), weight (O, C, k, k) and grad_output.

    Activations are standard normal; the weights have He-like scale
    ``1/sqrt(C*k*k)``, so outputs and gradients stay of order one.
    """
    x = rng.standard_normal((n, c, h, w), dtype=np.float32).astype(dtype)
    weight = (rng.standard_normal((o, c, k, k)) / np.sqrt(c * k * k)).astype(dtype)
    ho = (h + 2 * padding - k) // stride + 1
    wo = (w + 2 * padding - k) // stride + 1
    dy = rng.standard_normal((n, o, ho, wo), dtype=np.float32).astype(dtype)
    return x, weight, dy
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
