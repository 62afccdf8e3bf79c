"""Assertions and Hypothesis strategies shared by the test files."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = (np.float32, np.float64)
_TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}

# SPEC §6: the scalar metrics equal scikit-learn's within 1e-12 relative (it integrates
# trapezoids or sums pairwise, so the last bits may differ). The absolute floor only
# matters for values at 0, where a relative bound means nothing.
METRIC_RTOL = 1e-12
METRIC_ATOL = 1e-15

# Label encodings: name -> (negative label, positive label). For roc_auc_score the greater
# value is the positive one, which holds for every pair here ("neg" < "pos").
ENCODINGS = {
    "01": (0, 1),
    "-11": (-1, 1),
    "bool": (False, True),
    "str": ("neg", "pos"),
}

SCORE_KINDS = ("continuous", "rounded", "few")


def assert_matches(actual: np.ndarray, expected: np.ndarray) -> None:
    """Fast path vs reference: same dtype and shape, ints exact, floats to dtype tolerance."""
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if actual.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected)
    else:
        tol = _TOL[actual.dtype]
        np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol, equal_nan=True)


def assert_metric_close(actual: object, expected: object) -> None:
    """A metric value (float or per-class array) against another to METRIC_RTOL; NaN == NaN."""
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64),
        np.asarray(expected, dtype=np.float64),
        rtol=METRIC_RTOL,
        atol=METRIC_ATOL,
        equal_nan=True,
    )


def encode(y01: np.ndarray, encoding: str) -> np.ndarray:
    """Map {0, 1} labels to one of ENCODINGS (1 -> the positive label)."""
    neg, pos = ENCODINGS[encoding]
    return np.where(np.asarray(y01) != 0, np.array(pos), np.array(neg))


def _width(dtype) -> int:
    return 32 if np.dtype(dtype) == np.float32 else 64


@st.composite
def scores(draw, dtype, n: int, kind: str | None = None) -> np.ndarray:
    """n finite scores of ``dtype``: continuous, rounded to 1-2 decimals, or a few values."""
    if kind is None:
        kind = draw(st.sampled_from(SCORE_KINDS))
    width = _width(dtype)
    if kind == "few":
        values = draw(
            st.lists(st.floats(-10, 10, width=width), min_size=1, max_size=4, unique=True)
        )
        picks = draw(hnp.arrays(np.int64, n, elements=st.integers(0, len(values) - 1)))
        return np.asarray(values, dtype=dtype)[picks]
    raw = draw(hnp.arrays(dtype, n, elements=st.floats(-1e3, 1e3, width=width)))
    if kind == "rounded":
        decimals = draw(st.integers(0, 2))
        # Rounded in float64 then cast: exact ties in the score dtype.
        return np.round(raw.astype(np.float64) / 100, decimals).astype(dtype)
    return raw


@st.composite
def binary_labels(draw, n: int, both_classes: bool = True) -> np.ndarray:
    """n int64 labels in {0, 1}; with ``both_classes`` at least one of each."""
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    if both_classes and n >= 2 and (y.min() == y.max()):
        i = draw(st.integers(0, n - 1))
        y[i] = 1 - y[i]
    return y


@st.composite
def weights(draw, y01: np.ndarray, both_classes: bool = True) -> np.ndarray:
    """Non-negative float64 weights for ``y01``, many of them zero; integer-valued or not.

    With ``both_classes`` each class present in ``y01`` keeps a nonzero total weight.
    """
    n = y01.size
    positive = st.one_of(st.integers(1, 5).map(float), st.floats(0.01, 10))
    w = draw(hnp.arrays(np.float64, n, elements=st.one_of(st.just(0.0), positive)))
    if both_classes:
        for cls in (0, 1):
            members = np.flatnonzero(y01 == cls)
            if members.size and not w[members].any():
                w[members[draw(st.integers(0, members.size - 1))]] = draw(positive)
    return w


@st.composite
def binary_problems(
    draw,
    dtype,
    *,
    min_n: int = 2,
    max_n: int = 200,
    weighted: bool | None = None,
    kind: str | None = None,
):
    """(y01, score, weight-or-None): both classes present (and weighted, when weighted)."""
    n = draw(st.integers(min_n, max_n))
    y = draw(binary_labels(n))
    score = draw(scores(dtype, n, kind))
    if weighted is None:
        weighted = draw(st.booleans())
    w = draw(weights(y)) if weighted else None
    return y, score, w


@st.composite
def probability_matrices(draw, n_classes: int | None = None, max_n: int = 120):
    """(y codes in [0, k), (n, k) float64 rows summing to 1), every class present."""
    k = draw(st.integers(3, 5)) if n_classes is None else n_classes
    n = draw(st.integers(2 * k, max_n))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    y[:k] = np.arange(k)  # every class present
    y = y[draw(st.permutations(range(n)))]
    tied = draw(st.booleans())
    raw = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0.01, 1.0)))
    if tied:
        raw = np.round(raw, 1) + 0.1
    return y, raw / raw.sum(axis=1, keepdims=True)


def random_probabilities(rng: np.random.Generator, n: int, k: int) -> tuple:
    """(y codes with every class present, (n, k) probabilities loosely informative of y)."""
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    rng.shuffle(y)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    p = np.exp(logits)
    return y, p / p.sum(axis=1, keepdims=True)


def random_binary_problem(rng, n, *, tied=False, weighted=False, pos_rate=0.5, dtype=np.float64):
    """(y01, score, weight-or-None) with both classes present; scores loosely informative.

    ``tied`` rounds the scores to a few hundred values; ``weighted`` draws weights with
    ~10 % zeros (the first two samples, one of each class, keep weight 1).
    """
    y = (rng.random(n) < pos_rate).astype(np.int64)
    y[:2] = [0, 1]
    score = rng.normal(size=n) + 0.8 * y
    if tied:
        score = np.round(score / 4, 2)
    w = None
    if weighted:
        w = rng.random(n) * 3
        w[rng.random(n) < 0.1] = 0.0
        w[:2] = 1.0
    return y, score.astype(dtype), w


@st.composite
def roi_problems(draw, dtype, max_side: int = 9, max_channels: int = 10, max_rois: int = 6):
    """(input (N, C, H, W), boxes (K, 5)): boxes inside, across or outside the map, tiny,
    reversed and zero-size, with batch indices in [0, N) (some fractional, truncated)."""
    width = _width(dtype)
    n = draw(st.integers(1, 2))
    c = draw(st.integers(1, max_channels))
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    x = draw(hnp.arrays(dtype, (n, c, h, w), elements=st.floats(-10, 10, width=width)))
    k = draw(st.integers(0, max_rois))
    coord = st.floats(-4, 14, width=width)
    rows = []
    for _ in range(k):
        batch = draw(st.integers(0, n - 1)) + draw(st.sampled_from([0.0, 0.5]))
        x1, y1 = draw(coord), draw(coord)
        kind = draw(st.sampled_from(["free", "free", "zero", "tiny"]))
        if kind == "zero":
            x2, y2 = x1, y1
        elif kind == "tiny":
            x2, y2 = x1 + 0.25, y1 + 0.125
        else:
            x2, y2 = draw(coord), draw(coord)
        rows.append([batch, x1, y1, x2, y2])
    boxes = np.asarray(rows, dtype=dtype).reshape(k, 5)
    return x, boxes


def load_golden(name: str) -> list[dict]:
    """The cases of tests/data/<name>.npz (tests/data/make_roi_fixtures.py wrote them)."""
    import json
    from pathlib import Path

    z = np.load(Path(__file__).parent / "data" / f"{name}.npz")
    cases = []
    i = 0
    while f"{i}_params" in z:
        case = {key.split("_", 1)[1]: z[key] for key in z.files if key.split("_", 1)[0] == str(i)}
        case["params"] = json.loads(str(case["params"]))
        cases.append(case)
        i += 1
    return cases


def per_image(boxes: np.ndarray, n_images: int) -> list[np.ndarray]:
    """(K, 5) rows as torchvision's list of per-image (K_i, 4) arrays (rows grouped by image)."""
    return [boxes[boxes[:, 0].astype(np.int64) == i, 1:].copy() for i in range(n_images)]


# Thread-invariance workloads of the ROI tests: many boxes on a small map with many channels
# (the channels-last path), few boxes on a large map (the strided path); both split into parts.
ROI_THREAD_SHAPES = [((2, 24, 30, 34), 150), ((2, 5, 60, 70), 9)]


def roi_thread_inputs(seed: int, shape: tuple, k: int, dtype, out: int) -> tuple:
    """(input, (k, 5) boxes of 2-20 px, a (k, C, out, out) grad_output) from ``seed``."""
    from npkernels._workloads import random_feature_map, random_rois

    rng = np.random.default_rng(seed)
    x = random_feature_map(rng, shape, dtype)
    boxes = random_rois(rng, k, shape[0], shape[2], shape[3], size=(2, 20), dtype=dtype)
    return x, boxes, rng.standard_normal((k, shape[1], out, out)).astype(dtype)
