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
# --- pooling and normalisation -------------------------------------------------------------

THREAD_COUNTS = (1, 2, 3)


@st.composite
def images(draw, dtype, *, max_n: int = 2, max_c: int = 3, max_hw: int = 9, min_hw: int = 1,
           nan: bool = False, ties: bool | None = None) -> np.ndarray:
    """A small (N, C, H, W) image of ``dtype``: N may be 0; values rounded (ties) or not,
    with NaN sprinkled in when ``nan``."""
    n = draw(st.integers(0, max_n))
    c = draw(st.integers(1, max_c))
    h, w = draw(st.integers(min_hw, max_hw)), draw(st.integers(min_hw, max_hw))
    width = _width(dtype)
    x = draw(hnp.arrays(dtype, (n, c, h, w), elements=st.floats(-100, 100, width=width)))
    if ties if ties is not None else draw(st.booleans()):
        x = np.round(x / 25).astype(dtype)  # few distinct values: many ties
    if nan and x.size:
        mask = draw(hnp.arrays(np.bool_, x.shape, elements=st.booleans()))
        x[mask & (draw(hnp.arrays(np.int8, x.shape, elements=st.integers(0, 3))) == 0)] = np.nan
    return x


@st.composite
def pool_windows(draw, hw: tuple[int, int], *, dilation: bool = True, padding: bool = True):
    """Valid PyTorch window arguments for an input of spatial size ``hw`` (kernel_size, stride,
    padding, dilation, ceil_mode), or None when none gives an output."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k) if padding else (0, 0)
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    ceil = draw(st.booleans())
    stride = k if s is None else s
    for i in range(2):
        eff = d[i] * (k[i] - 1) + 1
        if hw[i] + 2 * p[i] < eff:
            return None
        out = (hw[i] + 2 * p[i] - eff + (stride[i] - 1 if ceil else 0)) // stride[i] + 1
        if ceil and (out - 1) * stride[i] >= hw[i] + p[i]:
            out -= 1
        if out < 1:
            return None
    return {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": ceil}


def assert_same_bits_for_any_thread_count(fn, *args, **kwargs) -> None:
    """fn(*args) gives bitwise-identical results with 1, 2 and 3 threads."""
    import npkernels as nk

    def flat(r):
        return [a.tobytes() for a in (r if isinstance(r, tuple) else (r,))]

    results = []
    for t in THREAD_COUNTS:
        with nk.num_threads(t):
            results.append(flat(fn(*args, **kwargs)))
    assert results[0] == results[1] == results[2]


def assert_all_match(actual, expected) -> None:
    """assert_matches over a result or a tuple of results."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_matches(a, e)
    else:
        assert_matches(actual, expected)


def big_image(dtype=np.float32, shape=(4, 8, 64, 48), seed: int = 0) -> np.ndarray:
    """An image with enough work to split over 3 threads (>= 3 * 2**15 values)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


LAYOUTS = ("fortran", "sliced", "negative", "int", "bool")


def layout_variant(layout: str, shape=(2, 3, 9, 8), seed: int = 1) -> np.ndarray:
    """A (N, C, H, W)-like input in an awkward layout or dtype, from seeded normal values:
    Fortran order, a strided slice, negative strides, int32 (x10) or bool (> 0)."""
    base = np.random.default_rng(seed).standard_normal(shape)
    return {
        "fortran": lambda: np.asfortranarray(base),
        "sliced": lambda: base[:, ::2, 1:, ::2] if base.ndim == 4 else base[::2],
        "negative": lambda: base[..., ::-1, ::-1] if base.ndim == 4 else base[::-1],
        "int": lambda: (base * 10).astype(np.int32),
        "bool": lambda: base > 0,
    }[layout]()
# --- KD-tree -------------------------------------------------------------------------------

POINT_KINDS = ("continuous", "grid", "few")
P_VALUES = (1.0, 2.0, 3.0, np.inf)
EXACT_P = (1.0, 2.0, np.inf)  # no pow: fast path and reference round identically


@st.composite
def point_sets(draw, dtype, *, max_n: int = 60, max_m: int = 4, kind: str | None = None):
    """(n, m) finite points: continuous, on a small integer grid (many exact ties), or a few
    distinct rows repeated (duplicates)."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    kind = kind or draw(st.sampled_from(POINT_KINDS))
    if kind == "grid":
        return draw(hnp.arrays(np.int64, (n, m), elements=st.integers(-3, 3))).astype(dtype)
    if kind == "few":
        rows = draw(hnp.arrays(np.int64, (draw(st.integers(1, 3)), m), elements=st.integers(-2, 2)))
        picks = draw(hnp.arrays(np.int64, n, elements=st.integers(0, rows.shape[0] - 1)))
        return rows[picks].astype(dtype)
    return draw(hnp.arrays(dtype, (n, m), elements=st.floats(-10, 10, width=_width(dtype))))


def true_distances(data: np.ndarray, x: np.ndarray, index: np.ndarray, p: float) -> np.ndarray:
    """d(x[q], data[index[q, r]]) by the reference's formula (inf where index == n)."""
    from npkernels.reference import neighbors as refnb

    out = np.full(index.shape, np.inf, dtype=data.dtype)
    for q in range(index.shape[0]):
        ok = index[q] < data.shape[0]
        s = refnb._powered_distances(data[index[q][ok]], x[q:q + 1], p)[0]
        out[q, ok] = refnb._root(s, p)
    return out


def assert_knn_equivalent(data, x, got, want, p, *, exact: bool) -> None:
    """k-NN results (d, i) of shape (q, r) agree: distances equal (exactly, or to the dtype
    tolerance), and every returned index is a distinct point at its reported distance
    (so ties may pick different indices)."""
    (d, i), (dw, iw) = got, want
    if exact:
        assert d.dtype == dw.dtype and d.shape == dw.shape
        np.testing.assert_array_equal(d, dw)
    else:
        assert_matches(d, dw)
    assert i.dtype == np.int64 and i.shape == iw.shape
    np.testing.assert_array_equal(i == data.shape[0], np.isinf(d))
    recomputed = true_distances(data, x, i, p)
    if exact:
        np.testing.assert_array_equal(recomputed, d)
    else:
        assert_matches(recomputed, d)
    for row in i:
        found = row[row < data.shape[0]]
        assert np.unique(found).size == found.size


@st.composite
def boxes(draw, dtype, n: int | None = None, max_n: int = 40) -> np.ndarray:
    """(n, 4) boxes: small-integer coordinates (exact ties and IoUs) or continuous ones,
    including zero-width, zero-height and a few reversed boxes."""
    if n is None:
        n = draw(st.integers(0, max_n))
    if draw(st.booleans()):
        xy = draw(hnp.arrays(np.int64, (n, 2), elements=st.integers(-8, 8))).astype(dtype)
        wh = draw(hnp.arrays(np.int64, (n, 2), elements=st.integers(0, 6))).astype(dtype)
    else:
        width = _width(dtype)
        xy = draw(hnp.arrays(dtype, (n, 2), elements=st.floats(-100, 100, width=width)))
        wh = draw(hnp.arrays(dtype, (n, 2), elements=st.floats(0, 60, width=width)))
    out = np.concatenate([xy, xy + wh], axis=1)
    if n and draw(st.booleans()):
        i = draw(st.integers(0, n - 1))
        out[i] = out[i, [2, 3, 0, 1]]  # reversed: negative width and height
    return out


@st.composite
def box_scores(draw, dtype, n: int) -> np.ndarray:
    """n finite scores: a few distinct values (many ties) or continuous ones."""
    if draw(st.booleans()):
        return draw(hnp.arrays(np.int64, n, elements=st.integers(0, 3))).astype(dtype) / 4
    return draw(hnp.arrays(dtype, n, elements=st.floats(0, 1, width=_width(dtype))))


# ------------------------------------------------------------------ convolution

_EPS_TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def assert_conv_close(actual, expected, terms: int) -> None:
    """Two convolution results: same dtype and shape, values within the dtype tolerance
    scaled by sqrt(terms) (the products sum ``terms`` = C*kH*kW values in a BLAS order
    that differs from the reference's and the anchor's)."""
    expected = np.asarray(expected)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    tol = _EPS_TOL[actual.dtype] * max(1.0, float(np.sqrt(terms)))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def assert_forward_matches_reference(p: dict) -> None:
    """nk.conv2d against the reference on a problem ``p`` (x, weight, bias, kw: the
    conv2d keywords, terms: the products summed per output)."""
    import npkernels as nk
    from npkernels import reference as ref

    got = nk.conv2d(p["x"], p["weight"], p["bias"], **p["kw"])
    assert_conv_close(got, ref.conv2d(p["x"], p["weight"], p["bias"], **p["kw"]), p["terms"])


def assert_gradients_match_reference(p: dict, input_terms: int) -> None:
    """nk.conv2d_backward against the reference on a problem ``p`` (x, weight, kw:
    the conv2d keywords) with a random grad_output: grad_input within the tolerance of
    ``input_terms`` terms, grad_weight and grad_bias of N*Ho*Wo."""
    import npkernels as nk
    from npkernels import reference as ref

    x, w, kw = p["x"], p["weight"], p["kw"]
    y = ref.conv2d(x, w, **kw)
    dy = random_normal(np.random.default_rng(y.size), y.shape, x.dtype)
    got = nk.conv2d_backward(dy, x, w, **kw)
    want = ref.conv2d_backward(dy, x, w, **kw)
    assert_conv_close(got[0], want[0], input_terms)
    assert_conv_close(got[1], want[1], max(1, x.shape[0] * y.shape[2] * y.shape[3]))
    assert_conv_close(got[2], want[2], max(1, x.shape[0] * y.shape[2] * y.shape[3]))


def random_normal(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """Standard-normal values of ``dtype`` (drawn in float64, then cast)."""
    return rng.standard_normal(shape).astype(dtype)


@st.composite
def conv_problems(draw, dtype, *, transpose: bool = False):
    """A small random convolution: dict of x, weight, bias and the conv2d keywords.

    Odd sizes, kernels larger than the stride, dilation > 1, groups (depthwise
    included), 'same' / 'valid' / pair padding, batches of 0 and 1. With
    ``transpose`` the weight has conv_transpose2d's layout and an output_padding.
    """
    groups = draw(st.integers(1, 3))
    cg, og = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n = draw(st.sampled_from([0, 1, 1, 2, 3]))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    kinds = ["int", "pair"] if transpose else ["int", "pair", "valid", "same"]
    kind = draw(st.sampled_from(kinds))
    pads = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    padding = {"int": pads[0], "pair": pads, "valid": "valid", "same": "same"}[kind]
    sym = {"int": (pads[0], pads[0]), "pair": pads}.get(kind, (0, 0))
    ext = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    h = draw(st.integers(1, 11))
    w = draw(st.integers(1, 11))
    if not transpose and kind != "same":
        h, w = max(h, ext[0] - 2 * sym[0]), max(w, ext[1] - 2 * sym[1])
    if transpose:
        # the output (h-1)*s - 2p + ext + output_padding must be >= 1
        h = max(h, 1 + -(-max(2 * sym[0] - ext[0] + 1, 0) // stride[0]))
        w = max(w, 1 + -(-max(2 * sym[1] - ext[1] + 1, 0) // stride[1]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c_in = cg * groups
    out = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if transpose:
        out["output_padding"] = tuple(
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)
        )
        weight = random_normal(rng, (c_in, og, kh, kw), dtype)
        bias_len = og * groups
    else:
        weight = random_normal(rng, (og * groups, cg, kh, kw), dtype)
        bias_len = og * groups
    x = random_normal(rng, (n, c_in, h, w), dtype)
    bias = random_normal(rng, (bias_len,), dtype) if draw(st.booleans()) else None
    return {"x": x, "weight": weight, "bias": bias, "kw": out, "terms": cg * kh * kw}


def fast_and_reference(name: str, p: dict):
    """``nk.<name>`` and ``reference.<name>`` on a problem from :func:`conv_problems`."""
    import npkernels as nk
    from npkernels import reference as ref

    return tuple(getattr(lib, name)(p["x"], p["weight"], p["bias"], **p["kw"]) for lib in (nk, ref))


def same_bits_for_threads(fn, threads=(1, 2, 3)) -> bool:
    """Whether ``fn()`` (an array or a tuple of arrays/None) has the same bytes at each
    thread count (``nk.num_threads``)."""
    import npkernels as nk

    def as_bytes(r):
        items = r if isinstance(r, tuple) else (r,)
        return [None if a is None else a.tobytes() for a in items]

    runs = []
    for n in threads:
        with nk.num_threads(n):
            runs.append(as_bytes(fn()))
    return all(r == runs[0] for r in runs[1:])


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
# Big enough for 2-3 threads (>= 32k values of work per thread), channels-last
# (C >= 8, many taps) and channels-first (C < 8).
ROI_THREAD_SHAPES = [((2, 24, 30, 34), 150), ((2, 5, 90, 100), 120)]


def roi_thread_inputs(seed: int, shape: tuple, k: int, dtype, out: int) -> tuple:
    """(input, (k, 5) boxes of 2-20 px, a (k, C, out, out) grad_output) from ``seed``."""
    from npkernels._workloads import random_feature_map, random_rois

    rng = np.random.default_rng(seed)
    x = random_feature_map(rng, shape, dtype)
    boxes = random_rois(rng, k, shape[0], shape[2], shape[3], size=(2, 20), dtype=dtype)
    return x, boxes, rng.standard_normal((k, shape[1], out, out)).astype(dtype)
