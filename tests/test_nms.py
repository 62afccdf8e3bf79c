"""nk.nms and nk.batched_nms against the reference and torchvision's outputs."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from helpers import DTYPES, box_scores, boxes
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref
from npkernels._workloads import random_clustered_boxes

FIXTURES = pathlib.Path(__file__).parent / "data" / "detection_torchvision.npz"
THRESHOLDS = st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 1.0, -0.1, 1 / 3])


def _assert_keep(got, want):
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    b = data.draw(boxes(dtype, max_n=60))
    s = data.draw(box_scores(dtype, b.shape[0]))
    thr = data.draw(THRESHOLDS)
    _assert_keep(nk.nms(b, s, thr), ref.nms(b, s, thr))


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_batched_matches_reference(dtype, data):
    b = data.draw(boxes(dtype, max_n=60))
    s = data.draw(box_scores(dtype, b.shape[0]))
    idxs = data.draw(st.lists(st.integers(-3, 3), min_size=b.shape[0], max_size=b.shape[0]))
    thr = data.draw(THRESHOLDS)
    _assert_keep(nk.batched_nms(b, s, idxs, thr), ref.batched_nms(b, s, idxs, thr))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.8])
def test_grid_path_matches_reference_on_realistic_boxes(dtype, thr):
    rng = np.random.default_rng(int(thr * 10))
    b, s = random_clustered_boxes(rng, 2500, dtype)
    b[:5] = [[0, 0, 900, 900], [10, 10, 10, 50], [40, 40, 30, 30], [5, 5, 700, 20], [1, 1, 2, 2]]
    s[::7] = s[0]  # ties
    _assert_keep(nk.nms(b, s, thr), ref.nms(b, s, thr))
    idxs = rng.integers(0, 5, b.shape[0])
    _assert_keep(nk.batched_nms(b, s, idxs, thr), ref.batched_nms(b, s, idxs, thr))


# ------------------------------------------------------------------- 2. edge cases


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_boxes_give_empty_int64(dtype):
    empty = np.zeros((0, 4), dtype)
    for f in (nk.nms, ref.nms):
        _assert_keep(f(empty, np.zeros(0, dtype), 0.5), np.zeros(0, np.int64))
    for f in (nk.batched_nms, ref.batched_nms):
        _assert_keep(f(empty, np.zeros(0, dtype), np.zeros(0, int), 0.5), np.zeros(0, np.int64))


def test_one_box():
    _assert_keep(nk.nms([[0, 0, 1, 1]], [0.3], 0.5), np.array([0]))


def test_equal_scores_keep_the_lower_index_first():
    b = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [0, 0, 10, 10], [40, 0, 50, 10]], np.float32)
    s = np.array([0.5, 0.5, 0.5, 0.9], np.float32)
    _assert_keep(nk.nms(b, s, 0.5), np.array([3, 0, 1]))


def test_iou_exactly_at_the_threshold_is_kept():
    b = np.array([[0, 0, 2, 1], [0, 0, 1, 1]], np.float32)  # IoU 0.5 exactly
    _assert_keep(nk.nms(b, [0.9, 0.8], 0.5), np.array([0, 1]))
    _assert_keep(nk.nms(b, [0.9, 0.8], np.nextafter(0.5, 0)), np.array([0]))


def test_float32_iou_is_compared_in_double():
    # IoU 1/3 in float32 is 0.3333333432674408 > the double 1/3.
    b = np.array([[0, 0, 3, 1], [0, 0, 1, 1]], np.float32)
    _assert_keep(nk.nms(b, [0.9, 0.8], 1 / 3), np.array([0]))
    _assert_keep(nk.nms(b.astype(np.float64), [0.9, 0.8], 1 / 3), np.array([0, 1]))


def test_thresholds_outside_zero_one():
    b, s = random_clustered_boxes(np.random.default_rng(1), 200)
    _assert_keep(nk.nms(b, s, 1.5), np.argsort(-s, kind="stable"))  # keeps all
    _assert_keep(nk.nms(b, s, -0.5), np.array([np.argmax(s)]))  # only the top box


def test_zero_area_twins_do_not_suppress_each_other():
    b = np.array([[1, 1, 1, 5], [1, 1, 1, 5]], np.float32)  # IoU 0 / 0 = NaN
    _assert_keep(nk.nms(b, [0.9, 0.8], 0.5), np.array([0, 1]))


def test_infinite_scores_are_ordered():
    b = np.array([[0, 0, 1, 1], [5, 5, 6, 6], [10, 10, 11, 11]], np.float64)
    _assert_keep(nk.nms(b, [np.inf, -np.inf, 0.0], 0.5), np.array([0, 2, 1]))


def test_batched_is_per_class_for_negative_coordinates():
    b = np.array([[-10, -10, 0, 0], [-10, -10, 0, 0]], np.float32)
    # torchvision's offset trick (<= 1000 boxes) gives [0] here (see the fixtures).
    _assert_keep(nk.batched_nms(b, [0.9, 0.8], [0, 1], 0.5), np.array([0, 1]))
    _assert_keep(ref.batched_nms(b, [0.9, 0.8], [0, 1], 0.5), np.array([0, 1]))


def test_batched_with_one_class_equals_nms():
    b, s = random_clustered_boxes(np.random.default_rng(2), 3000)
    _assert_keep(nk.batched_nms(b, s, np.full(3000, 7), 0.5), nk.nms(b, s, 0.5))


def test_batched_with_huge_and_negative_class_ids():
    b, s = random_clustered_boxes(np.random.default_rng(3), 500)
    idxs = np.random.default_rng(4).choice([-(2**62), -1, 0, 2**62], 500)
    _assert_keep(nk.batched_nms(b, s, idxs, 0.5), ref.batched_nms(b, s, idxs, 0.5))


# ---------------------------------------------------------------------- 3. layouts


def test_non_contiguous_and_integer_inputs():
    b, s = random_clustered_boxes(np.random.default_rng(5), 300, np.float64)
    want = nk.nms(b, s, 0.5)
    _assert_keep(nk.nms(np.asfortranarray(b), s, 0.5), want)
    rev = nk.nms(b[::-1], s[::-1], 0.5)
    _assert_keep(np.sort(299 - rev), np.sort(want))
    wide = np.repeat(s, 2)[::2]
    _assert_keep(nk.nms(b, wide, 0.5), want)
    ints = np.round(b).astype(np.int32)
    _assert_keep(nk.nms(ints, s, 0.5), ref.nms(ints.astype(np.float64), s, 0.5))
    _assert_keep(nk.batched_nms(b, s, np.zeros(300, bool), 0.5), want)
    _assert_keep(nk.batched_nms(b, s, np.zeros(300, np.uint8)[::1], 0.5), want)


# ------------------------------------------------------------------ 4. dtype policy


def test_scores_are_cast_to_the_box_dtype():
    b = np.array([[0, 0, 1, 1], [2, 2, 3, 3]], np.float32)
    # Distinct in float64, equal in float32: the tie goes to the lower index.
    s = np.array([1.0, 1.0 + 1e-12])
    _assert_keep(nk.nms(b, s, 0.5), np.array([0, 1]))
    _assert_keep(nk.nms(b.astype(np.float64), s, 0.5), np.array([1, 0]))


# --------------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((np.zeros((3, 5)), np.zeros(3), 0.5), ValueError, r"boxes must have shape \(N, 4\), got \(3, 5\)"),
        ((np.zeros((3, 4)), np.zeros(2), 0.5), ValueError, r"scores must have shape \(3,\) like boxes, got \(2,\)"),
        ((np.zeros((3, 4)), np.zeros((3, 1)), 0.5), ValueError, r"scores must have shape \(3,\)"),
        ((np.zeros((3, 4)), np.zeros(3), float("nan")), ValueError, r"iou_threshold must not be NaN"),
        ((np.zeros((3, 4)), np.zeros(3), "0.5"), TypeError, r"iou_threshold must be a real number, got str"),
        ((np.zeros((3, 4)), np.array([0, np.nan, 1]), 0.5), ValueError, r"scores must not contain NaN, got NaN at index 1"),
        ((np.array([[0, 0, 1, 1], [0, 0, np.nan, 1]]), np.zeros(2), 0.5), ValueError, r"boxes must be finite, got nan in row 1"),
        ((np.array([[0, 0, 1, -np.inf]]), np.zeros(1), 0.5), ValueError, r"boxes must be finite, got -inf in row 0"),
        ((np.zeros((3, 4), complex), np.zeros(3), 0.5), TypeError, r"boxes must have a real numeric dtype"),
    ],
)
def test_bad_input(args, exc, match):
    for f in (nk.nms, ref.nms):
        with pytest.raises(exc, match=match):
            f(*args)
    for f in (nk.batched_nms, ref.batched_nms):
        with pytest.raises(exc, match=match):
            f(args[0], args[1], np.zeros(len(args[1]), int), args[2])


@pytest.mark.parametrize(
    ("idxs", "exc", "match"),
    [
        (np.zeros(2, int), ValueError, r"idxs must have shape \(3,\) like boxes, got \(2,\)"),
        (np.zeros(3), TypeError, r"idxs must have an integer dtype, got float64"),
        (np.array(["a", "b", "c"]), TypeError, r"idxs must have a real numeric dtype"),
    ],
)
def test_bad_idxs(idxs, exc, match):
    for f in (nk.batched_nms, ref.batched_nms):
        with pytest.raises(exc, match=match):
            f(np.zeros((3, 4)), np.zeros(3), idxs, 0.5)


def test_core_guards_itself():
    b, s = np.zeros((3, 4)), np.zeros(3)
    with pytest.raises(TypeError, match="scores must be a C-contiguous float64"):
        _core.nms(b, s.astype(np.float32), None, 0.5, n_threads=1)
    with pytest.raises(TypeError, match="C-contiguous"):
        _core.nms(np.zeros((6, 4))[::2], s, None, 0.5, n_threads=1)
    with pytest.raises(ValueError, match=r"scores must have shape \(3,\)"):
        _core.nms(b, np.zeros(4), None, 0.5, n_threads=1)
    with pytest.raises(ValueError, match=r"idxs must have shape \(3,\)"):
        _core.nms(b, s, np.zeros(2, np.int64), 0.5, n_threads=1)
    with pytest.raises(TypeError, match="idxs must be a C-contiguous int64"):
        _core.nms(b, s, np.zeros(3, np.int32), 0.5, n_threads=1)
    with pytest.raises(TypeError, match="idxs must be a NumPy array"):
        _core.nms(b, s, [0, 0, 0], 0.5, n_threads=1)
    with pytest.raises(ValueError, match="iou_threshold must not be NaN"):
        _core.nms(b, s, None, float("nan"), n_threads=1)
    with pytest.raises(ValueError, match="scores must not contain NaN, got NaN at index 2"):
        _core.nms(b, np.array([0, 0, np.nan]), None, 0.5, n_threads=1)


# ------------------------------------------------------------ 6. thread invariance


def test_same_result_for_any_thread_count():
    rng = np.random.default_rng(6)
    b, s, c = random_clustered_boxes(rng, 60_000, n_classes=40)
    single, batched = [], []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            single.append(nk.nms(b, s, 0.5))
            batched.append(nk.batched_nms(b, s, c, 0.5))
    assert single[0].tobytes() == single[1].tobytes() == single[2].tobytes()
    assert batched[0].tobytes() == batched[1].tobytes() == batched[2].tobytes()
    # The common result is right, not merely common (the reference is quadratic: check a part).
    part = np.flatnonzero(c < 3)
    want = part[ref.batched_nms(b[part], s[part], c[part], 0.5)]
    got = batched[0][np.isin(batched[0], part)]
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------ 7. anchor


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_equals_torchvision_nms(dtype, thr):
    d = np.load(FIXTURES)
    b = d[f"nms_{dtype}_boxes"]
    for f in (nk.nms, ref.nms):
        _assert_keep(f(b, d[f"nms_{dtype}_scores"], thr), d[f"nms_{dtype}_keep_{thr}"])
        _assert_keep(f(b, d[f"nms_{dtype}_tied"], thr), d[f"nms_{dtype}_tiedkeep_{thr}"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_equals_torchvision_on_negative_coordinates(dtype):
    d = np.load(FIXTURES)
    for f in (nk.nms, ref.nms):
        b, s = d[f"nms_{dtype}_neg_boxes"], d[f"nms_{dtype}_scores"][:300]
        _assert_keep(f(b, s, 0.5), d[f"nms_{dtype}_neg_keep"])


@pytest.mark.parametrize("thr", [0.5, 0.75, 0.7499999])
def test_equals_torchvision_at_exact_thresholds(thr):
    d = np.load(FIXTURES)
    for f in (nk.nms, ref.nms):
        _assert_keep(f(d["exact_boxes"], d["exact_scores"], thr), d[f"exact_keep_{thr}"])


@pytest.mark.parametrize("tag", ["pos", "neg"])
def test_equals_torchvision_batched(tag):
    d = np.load(FIXTURES)
    args = (d[f"batched_{tag}_boxes"], d[f"batched_{tag}_scores"], d[f"batched_{tag}_idxs"], 0.5)
    for f in (nk.batched_nms, ref.batched_nms):
        _assert_keep(f(*args), d[f"batched_{tag}_keep"])
    # Above 1000 boxes torchvision itself runs per class: the same boxes (its final sort
    # is not stable, so only the set is compared).
    np.testing.assert_array_equal(np.sort(nk.batched_nms(*args)), np.sort(d[f"batched_{tag}_tv"]))


def test_torchvision_offset_trick_differs_for_negative_coordinates():
    d = np.load(FIXTURES)
    np.testing.assert_array_equal(d["trick_tv"], [0])
    np.testing.assert_array_equal(d["trick_per_class"], [0, 1])
    _assert_keep(nk.batched_nms(d["trick_boxes"], [0.9, 0.8], [0, 1], 0.5), d["trick_per_class"])


def test_matches_live_torchvision():
    torch = pytest.importorskip("torch")
    ops = pytest.importorskip("torchvision.ops")
    b, s = random_clustered_boxes(np.random.default_rng(7), 2000)
    want = ops.nms(torch.from_numpy(b), torch.from_numpy(s), 0.5).numpy()
    _assert_keep(nk.nms(b, s, 0.5), want)
    _assert_keep(ref.nms(b, s, 0.5), want)
