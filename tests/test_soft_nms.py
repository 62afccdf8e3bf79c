"""nk.soft_nms and nk.batched_soft_nms against the reference and mmcv's golden values."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES, box_scores, boxes
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref
from npkernels._workloads import random_clustered_boxes

METHODS = ("linear", "gaussian", "naive")
# mmcv tests/test_ops/test_nms.py::test_softnms_allclose (ANCHORS-SEMANTICS.md 1.6).
MMCV_BOXES = np.array([[6, 3, 8, 7], [3, 6, 9, 11], [3, 7, 10, 12], [1, 4, 13, 7]], np.float32)
MMCV_SCORES = np.array([0.6, 0.9, 0.7, 0.2], np.float32)
MMCV_GOLDEN = {
    "linear": ([1, 0, 2, 3], [0.9, 0.6, 0.29024392, 0.2]),
    "gaussian": ([1, 0, 2, 3], [0.9, 0.59630775, 0.3527551, 0.18650459]),
    "naive": ([1, 0, 3], [0.9, 0.6, 0.2]),
}


def _assert_same(got, want):
    """Same selections; the same scores (float32: bit for bit, as both evaluate exp in float64
    and round; float64: within 1e-14, as libm's exp and NumPy's may differ in the last bit)."""
    assert got[0].dtype == np.int64 and got[1].dtype == want[1].dtype
    np.testing.assert_array_equal(got[0], want[0])
    if got[1].dtype == np.float32:
        np.testing.assert_array_equal(got[1], want[1])
    else:
        np.testing.assert_allclose(got[1], want[1], rtol=1e-14, atol=1e-300)


# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    b = data.draw(boxes(dtype, max_n=50))
    s = data.draw(box_scores(dtype, b.shape[0]))
    kw = {
        "iou_threshold": data.draw(st.sampled_from([0.0, 0.3, 0.5, 1.0])),
        "sigma": data.draw(st.sampled_from([0.1, 0.5, 2.0])),
        "min_score": data.draw(st.sampled_from([1e-3, 0.1, 0.0, -1.0])),
        "method": data.draw(st.sampled_from(METHODS)),
    }
    _assert_same(nk.soft_nms(b, s, **kw), ref.soft_nms(b, s, **kw))
    idxs = data.draw(st.lists(st.integers(0, 2), min_size=b.shape[0], max_size=b.shape[0]))
    _assert_same(nk.batched_soft_nms(b, s, idxs, **kw), ref.batched_soft_nms(b, s, idxs, **kw))


@pytest.mark.parametrize("method", METHODS)
def test_grid_path_matches_reference_on_realistic_boxes(method):
    rng = np.random.default_rng(1)
    b, s = random_clustered_boxes(rng, 1200)
    b[:3] = [[0, 0, 900, 900], [10, 10, 10, 50], [40, 40, 30, 30]]  # huge, empty, reversed
    _assert_same(nk.soft_nms(b, s, method=method), ref.soft_nms(b, s, method=method))
    c = rng.integers(0, 4, 1200)
    _assert_same(
        nk.batched_soft_nms(b, s, c, method=method), ref.batched_soft_nms(b, s, c, method=method)
    )


# ------------------------------------------------------------------- 2. edge cases


@pytest.mark.parametrize("method", METHODS)
def test_mmcv_golden_values(method):
    keep, kept = MMCV_GOLDEN[method]
    for f in (nk.soft_nms, ref.soft_nms):
        got_keep, got_kept = f(MMCV_BOXES, MMCV_SCORES, 0.3, 0.5, 0.01, method)
        np.testing.assert_array_equal(got_keep, keep)
        np.testing.assert_allclose(got_kept, kept, rtol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_boxes(dtype):
    for f in (nk.soft_nms, ref.soft_nms):
        keep, kept = f(np.zeros((0, 4), dtype), np.zeros(0, dtype))
        assert keep.shape == kept.shape == (0,)
        assert keep.dtype == np.int64 and kept.dtype == dtype
    keep, kept = nk.batched_soft_nms(np.zeros((0, 4), dtype), np.zeros(0, dtype), [])
    assert keep.shape == (0,) and kept.dtype == dtype


def test_first_selection_is_never_tested_against_min_score():
    keep, kept = nk.soft_nms([[0, 0, 1, 1], [5, 5, 6, 6]], [0.01, 0.005], min_score=0.1)
    np.testing.assert_array_equal(keep, [0])  # the second is dropped at the first selection
    np.testing.assert_allclose(kept, [0.01])


def test_equal_scores_select_the_lower_index():
    b = [[0, 0, 1, 1], [5, 5, 6, 6], [10, 10, 11, 11]]
    keep, _ = nk.soft_nms(b, [0.5, 0.7, 0.5])
    np.testing.assert_array_equal(keep, [1, 0, 2])


def test_linear_and_naive_use_greater_or_equal():
    b = np.array([[0, 0, 2, 1], [0, 0, 1, 1]], np.float32)  # IoU 0.5 exactly
    np.testing.assert_array_equal(nk.soft_nms(b, [0.9, 0.8], 0.5, method="naive")[0], [0])
    np.testing.assert_allclose(nk.soft_nms(b, [0.9, 0.8], 0.5, method="linear")[1], [0.9, 0.4])
    np.testing.assert_array_equal(nk.soft_nms(b, [0.9, 0.8], 0.6, method="naive")[0], [0, 1])


def test_naive_with_zero_threshold_zeroes_every_box():
    b, s = random_clustered_boxes(np.random.default_rng(2), 100)
    keep, _ = nk.soft_nms(b, s, 0.0, method="naive")
    np.testing.assert_array_equal(keep, [np.argmax(s)])
    keep, kept = nk.soft_nms(b, s, 0.0, min_score=0.0, method="naive")
    assert keep.size == 100 and np.count_nonzero(kept) == 1
    _assert_same((keep, kept), ref.soft_nms(b, s, 0.0, min_score=0.0, method="naive"))


def test_nan_iou_weighs_one():
    z = np.array([[1, 1, 1, 5], [1, 1, 1, 5]], np.float32)  # 0 / 0
    for f in (nk.soft_nms, ref.soft_nms):
        keep, kept = f(z, [0.9, 0.8], method="gaussian")
        np.testing.assert_array_equal(keep, [0, 1])
        np.testing.assert_allclose(kept, [0.9, 0.8])


# ---------------------------------------------------------------------- 3. layouts


def test_non_contiguous_and_integer_inputs():
    b, s = random_clustered_boxes(np.random.default_rng(3), 200, np.float64)
    want = nk.soft_nms(b, s, method="gaussian")
    _assert_same(nk.soft_nms(np.asfortranarray(b), np.repeat(s, 2)[::2], method="gaussian"), want)
    ints = np.round(b).astype(np.int16)
    _assert_same(nk.soft_nms(ints, s), ref.soft_nms(ints.astype(np.float64), s))


# ------------------------------------------------------------------ 4. dtype policy


def test_dtypes():
    b32 = MMCV_BOXES
    assert nk.soft_nms(b32, MMCV_SCORES.astype(np.float64))[1].dtype == np.float32
    assert nk.soft_nms(b32.astype(np.int64), MMCV_SCORES)[1].dtype == np.float64
    assert nk.batched_soft_nms(b32, MMCV_SCORES, [0, 0, 1, 1])[0].dtype == np.int64


# --------------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"method": "hard"}, ValueError, r"method must be one of 'linear', 'gaussian', 'naive', got 'hard'"),
        ({"sigma": 0.0}, ValueError, r"sigma must be > 0, got 0.0"),
        ({"sigma": -1}, ValueError, r"sigma must be > 0, got -1.0"),
        ({"min_score": float("nan")}, ValueError, r"min_score must not be NaN"),
        ({"iou_threshold": None}, TypeError, r"iou_threshold must be a real number, got NoneType"),
        ({"scores": [0.1, np.inf, 0.2, 0.3]}, ValueError, r"scores must be finite, got inf at index 1"),
        ({"scores": [0.1, 0.2, np.nan, 0.3]}, ValueError, r"scores must be finite, got nan at index 2"),
        ({"scores": [0.1, 0.2]}, ValueError, r"scores must have shape \(4,\) like boxes, got \(2,\)"),
        ({"boxes": np.full((4, 4), np.nan)}, ValueError, r"boxes must be finite, got nan in row 0"),
        ({"boxes": np.zeros((4, 3))}, ValueError, r"boxes must have shape \(N, 4\), got \(4, 3\)"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"boxes": MMCV_BOXES, "scores": MMCV_SCORES, **kwargs}
    for f in (nk.soft_nms, ref.soft_nms):
        with pytest.raises(exc, match=match):
            f(**args)
    for f in (nk.batched_soft_nms, ref.batched_soft_nms):
        with pytest.raises(exc, match=match):
            f(idxs=np.zeros(len(args["scores"]), int), **args)


def test_core_guards_itself():
    b, s = MMCV_BOXES, MMCV_SCORES
    with pytest.raises(ValueError, match="method must be one of"):
        _core.soft_nms(b, s, None, 0.3, 0.5, 1e-3, "hard", n_threads=1)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        _core.soft_nms(b, s, None, 0.3, 0.0, 1e-3, "gaussian", n_threads=1)
    with pytest.raises(ValueError, match="scores must be finite, got -inf at index 0"):
        _core.soft_nms(b, np.array([-np.inf, 0, 0, 0], np.float32), None, 0.3, 0.5, 1e-3, "linear", n_threads=1)
    with pytest.raises(TypeError, match="scores must be a C-contiguous float32"):
        _core.soft_nms(b, s.astype(np.float64), None, 0.3, 0.5, 1e-3, "linear", n_threads=1)


# ------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("method", ["gaussian", "linear"])
def test_same_result_for_any_thread_count(method):
    rng = np.random.default_rng(4)
    b, s, c = random_clustered_boxes(rng, 40_000, n_classes=30)  # parallel from 32768
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(nk.batched_soft_nms(b, s, c, method=method) + nk.soft_nms(b[:4000], s[:4000], method=method))
    for r in results[1:]:
        assert all(x.tobytes() == y.tobytes() for x, y in zip(results[0], r))
    part = np.flatnonzero(c == 0)
    want = ref.soft_nms(b[part], s[part], method=method)
    got = nk.soft_nms(b[part], s[part], method=method)
    _assert_same(got, want)


# ------------------------------------------------------------------------ 7. anchor


def test_reference_reproduces_mmcv_bit_for_bit_in_float32():
    # mmcv computes in float32; its printed test values are float32 numbers.
    for method, (keep, kept) in MMCV_GOLDEN.items():
        got = ref.soft_nms(MMCV_BOXES, MMCV_SCORES, 0.3, 0.5, 0.01, method)
        np.testing.assert_array_equal(got[1], np.asarray(kept, np.float32))


def test_matches_live_mmcv():
    ops = pytest.importorskip("mmcv.ops")
    b, s = random_clustered_boxes(np.random.default_rng(5), 300)
    dets, inds = ops.soft_nms(b, s, 0.3, 0.5, 1e-3, "gaussian")
    keep, kept = nk.soft_nms(b, s, 0.3, 0.5, 1e-3, "gaussian")
    np.testing.assert_array_equal(keep, inds)  # tie-free scores: the same order
    np.testing.assert_allclose(kept, dets[:, 4], rtol=1e-6)
