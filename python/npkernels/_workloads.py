"""Deterministic, realistic inputs shared by ``python -m npkernels``, the tests and the benchmarks."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["random_binary_scores", "random_conv_problem"]


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
