"""nk.roc_curve against its NumPy twin and sklearn.metrics.roc_curve (exact equality)."""

from __future__ import annotations

import re

import npkernels as nk
import numpy as np
import pytest
from helpers import DTYPES, binary_problems, encode, random_binary_problem
from hypothesis import given
from hypothesis import strategies as st
from npkernels import _core
from npkernels import reference as ref

NO_NEG = "No negative samples in y_true, false positive value should be meaningless"
NO_POS = "No positive samples in y_true, true positive value should be meaningless"


def assert_curves_equal(actual, expected):
    """Three arrays, exactly equal (NaN == NaN); ours are always float64."""
    assert len(actual) == len(expected) == 3
    for name, a, e in zip(("fpr", "tpr", "thresholds"), actual, expected):
        assert a.dtype == np.float64, (name, a.dtype)
        assert a.ndim == 1, name
        np.testing.assert_array_equal(a, e, err_msg=name)




# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    y, score, w = data.draw(binary_problems(dtype))
    drop = data.draw(st.booleans())
    assert_curves_equal(
        nk.roc_curve(y, score, sample_weight=w, drop_intermediate=drop),
        ref.roc_curve(y, score, sample_weight=w, drop_intermediate=drop),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference_with_pos_label(dtype, data):
    y, score, w = data.draw(binary_problems(dtype, max_n=80))
    names = np.array(["a", "b", "c"])
    offset = data.draw(st.integers(0, 1))
    labels = names[y + offset]  # two of the three names; both classes hold weight
    pos_label = str(names[offset + data.draw(st.integers(0, 1))])
    assert_curves_equal(
        nk.roc_curve(labels, score, pos_label=pos_label, sample_weight=w),
        ref.roc_curve(labels, score, pos_label=pos_label, sample_weight=w),
    )


# ------------------------------------------------------------------- 2. edge cases


def test_docstring_example():
    fpr, tpr, thr = nk.roc_curve([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], pos_label=2)
    np.testing.assert_array_equal(fpr, [0.0, 0.0, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 0.5, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(thr, [np.inf, 0.8, 0.4, 0.35, 0.1])


@pytest.mark.parametrize("drop", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_first_point_is_origin_at_infinite_threshold(drop, dtype):
    rng = np.random.default_rng(1)
    y, score, w = random_binary_problem(rng, 50, tied=True, dtype=dtype)
    fpr, tpr, thr = nk.roc_curve(y, score, drop_intermediate=drop)
    assert (fpr[0], tpr[0], thr[0]) == (0.0, 0.0, np.inf)
    assert (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert thr[-1] == score.min()
    assert np.all(np.diff(thr) < 0)
    assert np.all(np.diff(fpr) >= 0)
    assert np.all(np.diff(tpr) >= 0)


def test_without_dropping_there_is_one_point_per_distinct_score():
    rng = np.random.default_rng(2)
    y, score, _ = random_binary_problem(rng, 300, tied=True)
    fpr, _, thr = nk.roc_curve(y, score, drop_intermediate=False)
    distinct = np.unique(score)
    assert fpr.size == distinct.size + 1
    np.testing.assert_array_equal(thr[1:], distinct[::-1])
    dropped = nk.roc_curve(y, score, drop_intermediate=True)[0]
    assert dropped.size < fpr.size


def test_collinear_points_are_dropped():
    # Scores 4, 3, 2 are all positives: (0, 1/3), (0, 2/3) lie on the segment to (0, 1).
    y, score = [1, 1, 1, 0, 0], [4.0, 3.0, 2.0, 1.0, 0.0]
    fpr, tpr, thr = nk.roc_curve(y, score)
    np.testing.assert_array_equal(fpr, [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 1 / 3, 1.0, 1.0])
    np.testing.assert_array_equal(thr, [np.inf, 4.0, 2.0, 0.0])
    full = nk.roc_curve(y, score, drop_intermediate=False)
    np.testing.assert_array_equal(full[2], [np.inf, 4.0, 3.0, 2.0, 1.0, 0.0])


def test_all_tied_scores_give_the_diagonal():
    fpr, tpr, thr = nk.roc_curve([0, 1, 1, 0, 1], np.full(5, 0.3))
    np.testing.assert_array_equal(fpr, [0.0, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 1.0])
    np.testing.assert_array_equal(thr, [np.inf, 0.3])


def test_negative_zero_ties_with_zero():
    fpr, tpr, thr = nk.roc_curve([0, 1, 1], [-0.0, 0.0, 1.0], drop_intermediate=False)
    np.testing.assert_array_equal(fpr, [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 0.5, 1.0])
    assert thr.size == 3


@pytest.mark.parametrize("zeros", [(-0.0, -0.0), (0.0, -0.0), (-0.0, 0.0)])
def test_zero_threshold_is_positive_zero_for_signed_zeros(zeros):
    # -0.0 and 0.0 tie; the run's threshold is reported as +0.0 (documented), which
    # compares equal to scikit-learn's (it keeps the sign of the run's last sample).
    score = np.array([zeros[0], zeros[1], 1.0])
    actual = nk.roc_curve([0, 1, 1], score, drop_intermediate=False)[2]
    expected = ref.roc_curve([0, 1, 1], score, drop_intermediate=False)[2]
    assert actual.tobytes() == expected.tobytes(), (np.signbit(actual), np.signbit(expected))
    assert actual[-1] == 0.0 and not np.signbit(actual[-1])
    skm = pytest.importorskip("sklearn.metrics")
    np.testing.assert_array_equal(actual, skm.roc_curve([0, 1, 1], score, drop_intermediate=False)[2])


def test_no_negatives_warns_and_gives_nan_fpr():
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(NO_NEG)):
        fpr, tpr, thr = nk.roc_curve([1, 1, 1], [0.2, 0.5, 0.1])
    assert np.isnan(fpr).all()
    np.testing.assert_array_equal(tpr, [0.0, 1 / 3, 1.0])
    np.testing.assert_array_equal(thr, [np.inf, 0.5, 0.1])


def test_no_positives_warns_and_gives_nan_tpr():
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(NO_POS)):
        fpr, tpr, _ = nk.roc_curve([0, 0, 0], [0.2, 0.5, 0.1])
    assert np.isnan(tpr).all()
    np.testing.assert_array_equal(fpr, [0.0, 1 / 3, 1.0])


def test_no_positive_weight_warns():
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(NO_POS)):
        _, tpr, _ = nk.roc_curve([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], sample_weight=[1, 0, 1, 0.0])
    assert np.isnan(tpr).all()


def test_single_sample_warns_for_the_missing_class():
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(NO_NEG)):
        fpr, tpr, thr = nk.roc_curve([1], [0.7])
    assert np.isnan(fpr).all()
    np.testing.assert_array_equal(tpr, [0.0, 1.0])
    np.testing.assert_array_equal(thr, [np.inf, 0.7])


def test_thresholds_of_zero_weight_samples_are_dropped():
    y, score = [0, 1, 0, 1, 1], [0.9, 0.8, 0.5, 0.3, 0.1]
    w = [0.0, 1.0, 1.0, 0.0, 2.0]
    fpr, tpr, thr = nk.roc_curve(y, score, sample_weight=w, drop_intermediate=False)
    np.testing.assert_array_equal(thr, [np.inf, 0.8, 0.5, 0.1])
    np.testing.assert_array_equal(fpr, [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 1 / 3, 1 / 3, 1.0])


def test_pos_label_flips_the_classes():
    y, score = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    fpr1, tpr1, thr1 = nk.roc_curve(y, score, pos_label=1)
    fpr0, tpr0, thr0 = nk.roc_curve(y, score, pos_label=0)
    np.testing.assert_array_equal(fpr1, tpr0)
    np.testing.assert_array_equal(tpr1, fpr0)
    np.testing.assert_array_equal(thr1, thr0)
    assert_curves_equal(nk.roc_curve(y, score), (fpr1, tpr1, thr1))  # default: 1


def test_three_classes_with_pos_label():
    y = [0, 1, 2, 2, 1, 0]
    score = [0.1, 0.5, 0.9, 0.7, 0.2, 0.3]
    fpr, tpr, thr = nk.roc_curve(y, score, pos_label=2)
    np.testing.assert_array_equal(tpr, [0.0, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(fpr, [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(thr, [np.inf, 0.9, 0.7, 0.1])


# ---------------------------------------------------------------------- 3. layouts


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs_match_contiguous_copies(weighted, dtype):
    rng = np.random.default_rng(3)
    y, score, w = random_binary_problem(rng, 400, tied=True, weighted=weighted, dtype=dtype)
    views = {
        "every_other": np.s_[::2],
        "reversed": np.s_[::-1],
        "sliced": np.s_[17:351:3],
    }
    for name, sl in views.items():
        yv, sv = y[sl], score[sl]
        wv = None if w is None else w[sl]
        assert not sv.flags.c_contiguous
        wc = None if wv is None else wv.copy()
        expected = nk.roc_curve(yv.copy(), sv.copy(), sample_weight=wc)
        assert_curves_equal(nk.roc_curve(yv, sv, sample_weight=wv), expected)
    column = np.zeros((400, 3), dtype)
    column[:, 2] = score
    contiguous = nk.roc_curve(y, score, sample_weight=w)
    assert_curves_equal(nk.roc_curve(y, column[:, 2], sample_weight=w), contiguous)
    fortran = np.asfortranarray(column)
    assert_curves_equal(nk.roc_curve(y, fortran[:, 2], sample_weight=w), contiguous)


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint32, np.bool_])
def test_integer_and_bool_scores(dtype):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    y[:2] = [0, 1]
    raw = rng.integers(0, 2, 200) if dtype == np.bool_ else rng.integers(0, 60, 200)
    score = raw.astype(dtype)
    actual = nk.roc_curve(y, score)
    assert_curves_equal(actual, nk.roc_curve(y, score.astype(np.float64)))
    assert_curves_equal(actual, ref.roc_curve(y, score))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.float64, np.bool_])
def test_label_dtypes(dtype):
    rng = np.random.default_rng(5)
    y, score, _ = random_binary_problem(rng, 100, tied=True)
    assert_curves_equal(nk.roc_curve(y.astype(dtype), score), nk.roc_curve(y, score))


def test_list_inputs():
    y, score, w = np.array([0, 1, 1, 0]), np.array([0.2, 0.3, 0.9, 0.1]), np.arange(1.0, 5.0)
    assert_curves_equal(
        nk.roc_curve([0, 1, 1, 0], [0.2, 0.3, 0.9, 0.1], sample_weight=[1, 2, 3, 4]),
        nk.roc_curve(y, score, sample_weight=w),
    )


# ------------------------------------------------------------------ 4. dtype policy


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.bool_])
def test_outputs_are_float64(dtype):
    fpr, tpr, thr = nk.roc_curve([0, 1, 0, 1], np.array([0, 1, 1, 0], dtype=dtype))
    assert fpr.dtype == tpr.dtype == thr.dtype == np.float64


def test_float32_thresholds_are_the_float32_values():
    s32 = np.array([0.1, 0.7, 0.3, 0.3], np.float32)
    _, _, thr = nk.roc_curve([0, 1, 0, 1], s32, drop_intermediate=False)
    np.testing.assert_array_equal(thr[1:], np.array([0.7, 0.3, 0.1], np.float32).astype(np.float64))
    assert thr[1] != 0.7  # the float32 value, not the float64 literal


def test_float32_scores_are_sorted_as_float32():
    s64 = np.array([0.1, 0.1 + 1e-9])
    assert nk.roc_curve([0, 1], s64, drop_intermediate=False)[2].size == 3
    assert nk.roc_curve([0, 1], s64.astype(np.float32), drop_intermediate=False)[2].size == 2


# --------------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize(
    ("y", "shown"),
    [
        ([1, 2, 1, 2], "{1, 2}"),
        ([0, 1, 2, 1], "{0, 1, 2}"),
        (["a", "b", "a", "b"], "{'a', 'b'}"),
        ([0, 2, 0, 2], "{0, 2}"),
        ([2, 2, 2, 2], "{2}"),
    ],
)
def test_label_rule_without_pos_label(y, shown):
    msg = (
        f"y_true takes value in {shown} and pos_label is not specified: either make y_true "
        "take value in {0, 1} or {-1, 1} or pass pos_label explicitly."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        nk.roc_curve(y, [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=re.escape(msg)):
        ref.roc_curve(y, [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("y", [[-1, 1, -1, 1], [0, 0, 1, 1], [True, False, True, False]])
def test_label_rule_accepts_01_and_minus11_and_bool(y):
    _, tpr, _ = nk.roc_curve(y, [0.1, 0.2, 0.3, 0.4])
    assert tpr[-1] == 1.0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("bad", "shown"), [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_scores_raise(dtype, bad, shown):
    score = np.array([0.1, bad, 0.3, bad], dtype)
    match = rf"y_score must be finite, got {shown} at index 1$"
    with pytest.raises(ValueError, match=match):
        nk.roc_curve([0, 1, 0, 1], score)
    with pytest.raises(ValueError, match=match):
        ref.roc_curve([0, 1, 0, 1], score)


def test_length_mismatches_and_empty():
    with pytest.raises(ValueError, match=r"y_score must have shape \(3,\) like y_true, got \(2,\)"):
        nk.roc_curve([0, 1, 1], [0.1, 0.2])
    with pytest.raises(
        ValueError, match=r"sample_weight must have shape \(3,\) like y_true, got \(4,\)"
    ):
        nk.roc_curve([0, 1, 1], [0.1, 0.2, 0.3], sample_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"y_true must not be empty"):
        nk.roc_curve([], [])
    with pytest.raises(
        ValueError, match=r"y_score must have shape \(2,\) like y_true, got \(2, 1\)"
    ):
        nk.roc_curve([0, 1], [[0.1], [0.2]])


def test_bad_types_raise():
    with pytest.raises(TypeError, match=r"drop_intermediate must be a bool, got int"):
        nk.roc_curve([0, 1], [0.1, 0.2], drop_intermediate=1)
    with pytest.raises(TypeError, match=r"y_score must have a real numeric dtype, got complex128"):
        nk.roc_curve([0, 1], np.array([0.1j, 0.2]))
    with pytest.raises(ValueError, match=r"sample_weight must be finite, got nan at index 0"):
        nk.roc_curve([0, 1], [0.1, 0.2], sample_weight=[np.nan, 1.0])


def test_core_roc_curve_points_guards_itself():
    s, pos = np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1], np.uint8)
    with pytest.raises(TypeError, match=r"y_score must be float32 or float64, got float16"):
        _core.roc_curve_points(s.astype(np.float16), pos, None, True, n_threads=1)
    with pytest.raises(
        TypeError, match=r"y_score must be a C-contiguous float32 array.*not C-contiguous"
    ):
        _core.roc_curve_points(np.zeros(8, np.float32)[::2], pos, None, True, n_threads=1)
    with pytest.raises(TypeError, match=r"is_pos must be a C-contiguous uint8 array, got int64"):
        _core.roc_curve_points(s, pos.astype(np.int64), None, True, n_threads=1)
    with pytest.raises(ValueError, match=r"is_pos must have shape \(4,\), got \(5,\)"):
        _core.roc_curve_points(s, np.zeros(5, np.uint8), None, True, n_threads=1)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(4,\), got \(2, 2\)"):
        _core.roc_curve_points(s, pos, np.ones((2, 2)), True, n_threads=1)
    with pytest.raises(
        TypeError, match=r"sample_weight must be a C-contiguous float64 array.*not C-contiguous"
    ):
        _core.roc_curve_points(s, pos, np.ones(8)[::2], True, n_threads=1)
    with pytest.raises(ValueError, match=r"y_score must be finite, got -inf at index 3"):
        _core.roc_curve_points(np.array([0.1, 0.2, 0.3, -np.inf]), pos, None, True, n_threads=1)
    fps, tps, thr = _core.roc_curve_points(s, pos, None, False, n_threads=1)
    np.testing.assert_array_equal(fps, [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(tps, [0, 1, 1, 2, 2])
    np.testing.assert_array_equal(thr, [np.inf, 0.8, 0.4, 0.35, 0.1])


# ------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("name", ["continuous", "ties", "f32_ties", "w", "w_ties"])
@pytest.mark.parametrize("drop", [True, False])
def test_same_bits_for_any_thread_count(name, drop):
    rng = np.random.default_rng(6)
    y, score, w = random_binary_problem(
        rng, 300_000, pos_rate=0.7, tied="ties" in name, weighted=name.startswith("w")
    )
    if name.startswith("f32"):
        score = score.astype(np.float32)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(nk.roc_curve(y, score, sample_weight=w, drop_intermediate=drop))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert a.tobytes() == b.tobytes()
    expected = ref.roc_curve(y, score, sample_weight=w, drop_intermediate=drop)
    assert_curves_equal(results[0], expected)


# ------------------------------------------------------------------------ 7. anchor


def _sk_curve(*args, **kwargs):
    sk = pytest.importorskip("sklearn.metrics")
    return sk.roc_curve(*args, **kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_sklearn_exactly_under_hypothesis(dtype, data):
    y, score, w = data.draw(binary_problems(dtype))
    drop = data.draw(st.booleans())
    expected = _sk_curve(y, score, sample_weight=w, drop_intermediate=drop)
    assert_curves_equal(nk.roc_curve(y, score, sample_weight=w, drop_intermediate=drop), expected)
    assert_curves_equal(ref.roc_curve(y, score, sample_weight=w, drop_intermediate=drop), expected)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("drop", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_sklearn_exactly(tied, weighted, drop, dtype):
    rng = np.random.default_rng(7)
    y, score, w = random_binary_problem(rng, 2000, tied=tied, weighted=weighted, dtype=dtype)
    expected = _sk_curve(y, score, sample_weight=w, drop_intermediate=drop)
    assert_curves_equal(nk.roc_curve(y, score, sample_weight=w, drop_intermediate=drop), expected)
    assert_curves_equal(ref.roc_curve(y, score, sample_weight=w, drop_intermediate=drop), expected)


def test_weighted_sums_round_like_sklearn():
    # Weights whose running sums round differently in another order: the curves must still
    # agree bit for bit, so the summation order must be scikit-learn's.
    rng = np.random.default_rng(8)
    n = 5000
    y = rng.integers(0, 2, n)
    score = np.round(rng.random(n), 1)  # long runs of ties
    w = rng.random(n) * 10.0 ** rng.integers(-8, 8, n)
    expected = _sk_curve(y, score, sample_weight=w, drop_intermediate=False)
    assert_curves_equal(nk.roc_curve(y, score, sample_weight=w, drop_intermediate=False), expected)


def test_sklearn_docstring_example():
    y, score = [1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8]
    expected = _sk_curve(y, score, pos_label=2)
    assert_curves_equal(nk.roc_curve(y, score, pos_label=2), expected)
    assert_curves_equal(ref.roc_curve(y, score, pos_label=2), expected)
    np.testing.assert_array_equal(expected[2], [np.inf, 0.8, 0.4, 0.35, 0.1])


@pytest.mark.parametrize(
    ("labels", "pos_label"),
    [
        (("neg", "pos"), "pos"),
        (("neg", "pos"), "neg"),
        ((-1, 1), None),
        ((-1, 1), -1),
        ((False, True), None),
        ((False, True), False),
        ((3, 7), 3),
        ((0.0, 1.0), 1.0),
    ],
)
def test_pos_label_matches_sklearn(labels, pos_label):
    rng = np.random.default_rng(9)
    y01, score, w = random_binary_problem(rng, 500, tied=True, weighted=True)
    y = np.where(y01 == 1, np.array(labels[1]), np.array(labels[0]))
    for weight in (None, w):
        expected = _sk_curve(y, score, pos_label=pos_label, sample_weight=weight)
        kw = dict(pos_label=pos_label, sample_weight=weight)
        assert_curves_equal(nk.roc_curve(y, score, **kw), expected)
        assert_curves_equal(ref.roc_curve(y, score, **kw), expected)


@pytest.mark.parametrize("pos_label", [0, 1, 2])
def test_three_classes_with_pos_label_match_sklearn(pos_label):
    rng = np.random.default_rng(10)
    y = rng.integers(0, 3, 600)
    score = np.round(rng.random(600) + 0.3 * (y == pos_label), 2)
    w = rng.random(600)
    for weight in (None, w):
        expected = _sk_curve(y, score, pos_label=pos_label, sample_weight=weight)
        kw = dict(pos_label=pos_label, sample_weight=weight)
        assert_curves_equal(nk.roc_curve(y, score, **kw), expected)
    strings = np.array(["x", "y", "z"])[y]
    label = "xyz"[pos_label]
    assert_curves_equal(
        nk.roc_curve(strings, score, pos_label=label), _sk_curve(strings, score, pos_label=label)
    )


def test_label_rule_error_matches_sklearn():
    pytest.importorskip("sklearn.metrics")
    msg = re.escape("y_true takes value in {1, 2} and pos_label is not specified")
    with pytest.raises(ValueError, match=msg):
        _sk_curve([1, 2, 1, 2], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=msg):
        nk.roc_curve([1, 2, 1, 2], [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize(
    ("y", "w", "message"),
    [
        ([1, 1, 1], None, NO_NEG),
        ([0, 0, 0], None, NO_POS),
        ([0, 1, 0, 1], [1.0, 0.0, 1.0, 0.0], NO_POS),
        ([0, 1, 0, 1], [0.0, 1.0, 0.0, 1.0], NO_NEG),
    ],
)
def test_missing_class_warnings_match_sklearn(y, w, message):
    pytest.importorskip("sklearn.metrics")
    from sklearn.exceptions import UndefinedMetricWarning as SkWarning

    score = np.linspace(0.1, 0.9, len(y))
    with pytest.warns(SkWarning, match=re.escape(message)):
        expected = _sk_curve(y, score, sample_weight=w)
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(message)):
        actual = nk.roc_curve(y, score, sample_weight=w)
    assert_curves_equal(actual, expected)


def test_absent_pos_label_matches_sklearn():
    pytest.importorskip("sklearn.metrics")
    from sklearn.exceptions import UndefinedMetricWarning as SkWarning

    y, score = np.array(["a", "b", "a"]), [0.3, 0.2, 0.1]
    with pytest.warns(SkWarning, match=re.escape(NO_POS)):
        expected = _sk_curve(y, score, pos_label="c")
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(NO_POS)):
        actual = nk.roc_curve(y, score, pos_label="c")
    assert_curves_equal(actual, expected)


def test_encodings_match_sklearn():
    rng = np.random.default_rng(11)
    y01, score, w = random_binary_problem(rng, 300, tied=True, weighted=True)
    for enc, pos in (("01", None), ("-11", None), ("bool", None), ("str", "pos")):
        y = encode(y01, enc)
        assert_curves_equal(
            nk.roc_curve(y, score, pos_label=pos, sample_weight=w),
            _sk_curve(y, score, pos_label=pos, sample_weight=w),
        )


@pytest.mark.parametrize("decimals", [None, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_realistic_workload_matches_sklearn_exactly(decimals, dtype):
    from npkernels._workloads import random_binary_scores

    rng = np.random.default_rng(12)
    y, score = random_binary_scores(rng, 50_000, decimals=decimals, dtype=dtype)
    w = rng.random(50_000)
    for weight in (None, w):
        expected = _sk_curve(y, score, sample_weight=weight)
        assert_curves_equal(nk.roc_curve(y, score, sample_weight=weight), expected)
        assert_curves_equal(ref.roc_curve(y, score, sample_weight=weight), expected)
