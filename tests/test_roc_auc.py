"""nk.roc_auc_score (binary and multiclass) against its NumPy twin and scikit-learn."""

from __future__ import annotations

import re

import npkernels as nk
import numpy as np
import pytest
from helpers import (
    DTYPES,
    ENCODINGS,
    assert_matches,
    assert_metric_close,
    binary_problems,
    encode,
    probability_matrices,
    random_binary_problem,
    random_probabilities,
)
from hypothesis import given
from hypothesis import strategies as st
from npkernels import _core
from npkernels import reference as ref

ONE_CLASS = "Only one class is present in y_true. ROC AUC score is not defined in that case."




# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_binary_matches_reference(dtype, data):
    y, score, w = data.draw(binary_problems(dtype))
    max_fpr = data.draw(st.one_of(st.none(), st.just(1.0), st.floats(0.05, 1.0)))
    actual = nk.roc_auc_score(y, score, sample_weight=w, max_fpr=max_fpr)
    expected = ref.roc_auc_score(y, score, sample_weight=w, max_fpr=max_fpr)
    assert isinstance(actual, float)
    assert_matches(np.float64(actual), np.float64(expected))


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_binary_label_encodings_match_reference(dtype, data):
    y, score, w = data.draw(binary_problems(dtype, max_n=60))
    labels = encode(y, data.draw(st.sampled_from(list(ENCODINGS))))
    actual = nk.roc_auc_score(labels, score, sample_weight=w)
    assert_matches(np.float64(actual), np.float64(ref.roc_auc_score(labels, score, w)))
    # The encoding does not change the answer: the greater label is the positive one.
    assert actual == nk.roc_auc_score(y, score, sample_weight=w)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_multiclass_matches_reference(dtype, data):
    y, proba = data.draw(probability_matrices())
    proba = proba.astype(dtype)
    multi_class = data.draw(st.sampled_from(["ovr", "ovo"]))
    averages = ["macro", "weighted"] + ([None, "micro"] if multi_class == "ovr" else [])
    average = data.draw(st.sampled_from(averages))
    w = None
    if multi_class == "ovr" and data.draw(st.booleans()):
        w = np.asarray(data.draw(st.lists(st.floats(0.1, 5), min_size=y.size, max_size=y.size)))
    kw = dict(multi_class=multi_class, average=average)
    actual = nk.roc_auc_score(y, proba, sample_weight=w, **kw)
    expected = ref.roc_auc_score(y, proba, sample_weight=w, **kw)
    assert_matches(np.asarray(actual, np.float64), np.asarray(expected, np.float64))


# ------------------------------------------------------------------- 2. edge cases


def test_docstring_example():
    assert nk.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert ref.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75


@pytest.mark.parametrize(
    ("y", "score", "expected"),
    [
        ([0, 1], [0.0, 1.0], 1.0),
        ([1, 0], [0.0, 1.0], 0.0),
        ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5),  # all tied: one half
        ([0, 1, 1], [0.2, 0.2, 0.9], 0.75),  # one tie out of two pairs
        ([0, 1], [-0.0, 0.0], 0.5),  # -0.0 ties with 0.0
        ([0, 1], [-np.finfo(np.float64).max, np.finfo(np.float64).max], 1.0),
        ([0, 1], [0.0, 5e-324], 1.0),  # a subnormal is above zero
        ([0, 0, 1, 1, 1], [1.0, 3.0, 2.0, 4.0, 0.0], 0.5),
    ],
)
def test_small_exact_cases(y, score, expected):
    assert nk.roc_auc_score(y, score) == expected
    assert ref.roc_auc_score(y, score) == expected


@pytest.mark.parametrize("y", [[0, 0, 0], [1, 1, 1, 1], [-1, -1], ["a", "a"], [True], [7]])
def test_one_class_gives_nan_and_warns(y):
    score = np.linspace(0, 1, len(y))
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(ONE_CLASS)):
        assert np.isnan(nk.roc_auc_score(y, score))
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(ONE_CLASS)):
        assert np.isnan(ref.roc_auc_score(y, score))


def test_one_class_with_max_fpr_gives_nan_and_warns():
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(ONE_CLASS)):
        assert np.isnan(nk.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3], max_fpr=0.5))


def test_single_sample_is_one_class():
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(ONE_CLASS)):
        assert np.isnan(nk.roc_auc_score([1], [0.3]))


@pytest.mark.parametrize("max_fpr", [None, 0.5])
def test_all_positive_weights_zero_gives_nan_and_warns(max_fpr):
    y, s = [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]
    w = [1.0, 0.0, 2.0, 0.0]
    msg = "No positive samples in y_true, true positive value should be meaningless"
    with pytest.warns(nk.UndefinedMetricWarning, match=msg):
        assert np.isnan(nk.roc_auc_score(y, s, sample_weight=w, max_fpr=max_fpr))
    with pytest.warns(nk.UndefinedMetricWarning, match=msg):
        assert np.isnan(ref.roc_auc_score(y, s, sample_weight=w, max_fpr=max_fpr))


def test_all_negative_weights_zero_gives_nan_and_warns():
    msg = "No negative samples in y_true, false positive value should be meaningless"
    with pytest.warns(nk.UndefinedMetricWarning, match=msg):
        assert np.isnan(nk.roc_auc_score([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [0, 1, 0, 3.0]))


def test_zero_weight_samples_are_ignored():
    rng = np.random.default_rng(21)
    y, score, w = random_binary_problem(rng, 400, tied=True, weighted=True)
    keep = w != 0
    assert (~keep).sum() > 10
    full = nk.roc_auc_score(y, score, sample_weight=w)
    assert full == nk.roc_auc_score(y[keep], score[keep], sample_weight=w[keep])
    # A zero-weight sample may carry any (finite) score and any label.
    score2, y2 = score.copy(), y.copy()
    score2[~keep] = 1e6
    y2[~keep] = 1 - y2[~keep]
    assert full == nk.roc_auc_score(y2, score2, sample_weight=w)


def test_unit_weights_equal_unweighted_exactly():
    rng = np.random.default_rng(22)
    y, score, _ = random_binary_problem(rng, 999, tied=True)
    assert nk.roc_auc_score(y, score, np.ones(999)) == nk.roc_auc_score(y, score)


def test_integer_weights_equal_repeated_samples():
    rng = np.random.default_rng(23)
    y, score, _ = random_binary_problem(rng, 200, tied=True)
    reps = rng.integers(1, 4, 200)
    weighted = nk.roc_auc_score(y, score, sample_weight=reps.astype(float))
    repeated = nk.roc_auc_score(np.repeat(y, reps), np.repeat(score, reps))
    assert_metric_close(weighted, repeated)


def test_max_fpr_one_is_the_full_auc():
    rng = np.random.default_rng(24)
    y, score, w = random_binary_problem(rng, 300, weighted=True)
    assert nk.roc_auc_score(y, score, w, max_fpr=1) == nk.roc_auc_score(y, score, w)
    assert nk.roc_auc_score(y, score, w, max_fpr=1.0) == nk.roc_auc_score(y, score, w)


def test_max_fpr_of_a_perfect_and_a_random_ranking():
    y = np.r_[np.zeros(50, int), np.ones(50, int)]
    for max_fpr in (0.1, 0.3, 0.77):
        assert nk.roc_auc_score(y, np.arange(100.0), max_fpr=max_fpr) == 1.0
        # All tied: the diagonal, whose McClish-standardised partial area is 0.5.
        assert_metric_close(nk.roc_auc_score(y, np.zeros(100), max_fpr=max_fpr), 0.5)


def test_multiclass_labels_absent_from_y_true_are_skipped_by_ovo():
    rng = np.random.default_rng(25)
    y, p3 = random_probabilities(rng, 90, 3)
    p4 = np.c_[p3 * 0.9, np.full(90, 0.1)]  # a fourth class nobody has
    actual = nk.roc_auc_score(y, p4, multi_class="ovo", labels=[0, 1, 2, 3])
    assert_metric_close(actual, ref.roc_auc_score(y, p4, multi_class="ovo", labels=[0, 1, 2, 3]))


def test_ovr_weighted_with_zero_weight_class():
    rng = np.random.default_rng(26)
    y, p = random_probabilities(rng, 120, 3)
    w = np.where(y == 2, 0.0, 1.0)
    # Class 2 holds no weight: its (undefined) AUC gets weight zero, with the warning.
    with pytest.warns(nk.UndefinedMetricWarning, match="No positive samples"):
        actual = nk.roc_auc_score(y, p, w, multi_class="ovr", average="weighted")
    with pytest.warns(nk.UndefinedMetricWarning, match="No positive samples"):
        expected = ref.roc_auc_score(y, p, w, multi_class="ovr", average="weighted")
    assert np.isfinite(actual)
    assert_metric_close(actual, expected)


# ---------------------------------------------------------------------- 3. layouts


def _layout_case():
    rng = np.random.default_rng(31)
    y, score, w = random_binary_problem(rng, 301, tied=True, weighted=True)
    return y, score, w


@pytest.mark.parametrize("weighted", [False, True])
def test_non_contiguous_inputs_match_contiguous_copies(weighted):
    y, score, w = _layout_case()
    w = w if weighted else None
    expected = nk.roc_auc_score(y, score, w)

    def big(a):  # a strided view holding exactly the values of a
        out = np.zeros((a.size, 3), dtype=a.dtype)
        out[:, 1] = a
        return out[:, 1]

    ws = None if w is None else big(w)
    assert not big(score).flags.c_contiguous
    assert nk.roc_auc_score(big(y), big(score), ws) == expected
    rev = None if w is None else w[::-1]
    reversed_auc = nk.roc_auc_score(y[::-1], score[::-1], rev)
    copies = (y[::-1].copy(), score[::-1].copy(), None if w is None else rev.copy())
    assert reversed_auc == nk.roc_auc_score(*copies)
    if w is None:
        assert reversed_auc == expected  # an exact count: the order does not matter
    else:
        assert_metric_close(reversed_auc, expected)  # weights sum in another order
    fortran = np.asfortranarray(np.c_[score, score])
    assert nk.roc_auc_score(y, fortran[:, 1], w) == expected
    if w is not None:
        assert nk.roc_auc_score(y[::2], score[::2], w[::2]) == nk.roc_auc_score(
            np.ascontiguousarray(y[::2]), np.ascontiguousarray(score[::2]), w[::2].copy()
        )


def test_float32_non_contiguous_scores():
    y, score, _ = _layout_case()
    s32 = score.astype(np.float32)
    assert nk.roc_auc_score(y[::-1], s32[::-1]) == nk.roc_auc_score(y, s32)
    expected = nk.roc_auc_score(y[1::3].copy(), s32[1::3].copy())
    assert nk.roc_auc_score(y[1::3], s32[1::3]) == expected


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16, np.bool_])
def test_integer_and_bool_scores(dtype):
    rng = np.random.default_rng(32)
    y = rng.integers(0, 2, 200)
    y[:2] = [0, 1]
    score = (rng.integers(0, 2, 200) if dtype == np.bool_ else rng.integers(0, 100, 200)).astype(
        dtype
    )
    actual = nk.roc_auc_score(y, score)
    assert actual == nk.roc_auc_score(y, score.astype(np.float64))
    assert_metric_close(actual, ref.roc_auc_score(y, score))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float64, np.bool_])
def test_label_dtypes(dtype):
    y, score, _ = _layout_case()
    assert nk.roc_auc_score(y.astype(dtype), score) == nk.roc_auc_score(y, score)


def test_list_inputs():
    assert nk.roc_auc_score([0, 1, 1], [0.2, 0.1, 0.9], [1, 1, 2]) == nk.roc_auc_score(
        np.array([0, 1, 1]), np.array([0.2, 0.1, 0.9]), np.array([1.0, 1.0, 2.0])
    )


def test_multiclass_non_contiguous_and_fortran_scores():
    rng = np.random.default_rng(33)
    y, p = random_probabilities(rng, 150, 4)
    options = ("ovr", "macro"), ("ovo", "macro"), ("ovr", "micro")
    for kw in (dict(multi_class=m, average=a) for m, a in options):
        expected = nk.roc_auc_score(y, p, **kw)
        assert nk.roc_auc_score(y, np.asfortranarray(p), **kw) == expected
        wide = np.zeros((150, 8))
        wide[:, ::2] = p
        assert nk.roc_auc_score(y, wide[:, ::2], **kw) == expected
        assert nk.roc_auc_score(y[::-1], p[::-1], **kw) == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------ 4. dtype policy


def test_result_types():
    y, score, _ = _layout_case()
    assert type(nk.roc_auc_score(y, score)) is float
    assert type(nk.roc_auc_score(y, score.astype(np.float32))) is float
    assert type(nk.roc_auc_score(y, score, max_fpr=0.5)) is float
    rng = np.random.default_rng(41)
    yc, p = random_probabilities(rng, 60, 3)
    per_class = nk.roc_auc_score(yc, p, multi_class="ovr", average=None)
    assert isinstance(per_class, np.ndarray)
    assert per_class.dtype == np.float64
    assert per_class.shape == (3,)
    assert type(nk.roc_auc_score(yc, p, multi_class="ovo")) is float


def test_float32_scores_are_ranked_as_float32():
    # Two float64 scores that round to the same float32 tie once the input is float32.
    s64 = np.array([0.1, 0.1 + 1e-9])
    assert np.float32(s64[0]) == np.float32(s64[1])
    assert nk.roc_auc_score([0, 1], s64) == 1.0
    assert nk.roc_auc_score([0, 1], s64.astype(np.float32)) == 0.5


def test_int64_scores_become_float64():
    # SPEC: integer scores are promoted to float64, so 2**53 and 2**53 + 1 tie (as in sklearn).
    s = np.array([2**53, 2**53 + 1], dtype=np.int64)
    assert nk.roc_auc_score([0, 1], s) == 0.5
    assert ref.roc_auc_score([0, 1], s) == 0.5


def test_float32_auc_is_computed_exactly():
    # The count is exact, so a float32 problem gives the float64 answer of its values.
    rng = np.random.default_rng(42)
    y, score, _ = random_binary_problem(rng, 2000, tied=True, dtype=np.float32)
    assert nk.roc_auc_score(y, score) == nk.roc_auc_score(y, score.astype(np.float64))


# --------------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("bad", "shown"), [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_scores_raise_with_index(dtype, bad, shown):
    score = np.array([0.1, 0.2, 0.3, bad, 0.5, bad], dtype)
    match = rf"y_score must be finite, got {shown} at index 3$"
    for kw in ({}, {"sample_weight": np.ones(6)}, {"max_fpr": 0.5}):
        with pytest.raises(ValueError, match=match):
            nk.roc_auc_score([0, 1, 0, 1, 0, 1], score, **kw)
        with pytest.raises(ValueError, match=match):
            ref.roc_auc_score([0, 1, 0, 1, 0, 1], score, **kw)


def test_non_finite_score_index_across_thread_blocks():
    rng = np.random.default_rng(51)
    y, score, _ = random_binary_problem(rng, 300_000)
    score[[290_000, 200_001]] = [np.nan, np.inf]
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            with pytest.raises(ValueError, match=r"got inf at index 200001$"):
                nk.roc_auc_score(y, score)


@pytest.mark.parametrize("max_fpr", [0, 0.0, -0.1, 1.5, 2, float("nan"), float("inf")])
def test_bad_max_fpr_raises_value_error(max_fpr):
    with pytest.raises(ValueError, match=r"max_fpr must be in \(0, 1\], got "):
        nk.roc_auc_score([0, 1], [0.1, 0.9], max_fpr=max_fpr)


@pytest.mark.parametrize("max_fpr", ["0.5", True, [0.5]])
def test_non_numeric_max_fpr_raises_type_error(max_fpr):
    with pytest.raises(TypeError, match=r"max_fpr must be a number in \(0, 1\] or None, got"):
        nk.roc_auc_score([0, 1], [0.1, 0.9], max_fpr=max_fpr)


def test_length_mismatches_raise():
    with pytest.raises(ValueError, match=r"y_score must have shape \(4,\) like y_true, got \(3,\)"):
        nk.roc_auc_score([0, 1, 0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(
        ValueError, match=r"sample_weight must have shape \(4,\) like y_true, got \(5,\)"
    ):
        nk.roc_auc_score([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], sample_weight=np.ones(5))
    with pytest.raises(ValueError, match=r"y_score must have shape \(2,\) like y_true, got \(\)"):
        nk.roc_auc_score([0, 1], 0.5)


def test_empty_and_misshapen_y_true_raise():
    with pytest.raises(ValueError, match=r"y_true must not be empty"):
        nk.roc_auc_score([], [])
    with pytest.raises(ValueError, match=r"y_true must not be empty"):
        ref.roc_auc_score(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match=r"y_true must have shape \(n_samples,\), got \(2, 2\)"):
        nk.roc_auc_score([[0, 1], [1, 0]], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=r"y_true must have shape \(n_samples,\), got \(\)"):
        nk.roc_auc_score(1, [0.1])


def test_non_finite_labels_and_weights_raise():
    with pytest.raises(ValueError, match=r"y_true must be finite, got nan at index 1"):
        nk.roc_auc_score([0.0, np.nan, 1.0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"sample_weight must be finite, got inf at index 2"):
        nk.roc_auc_score([0, 1, 1], [0.1, 0.2, 0.3], sample_weight=[1.0, 1.0, np.inf])


def test_bad_dtypes_raise_type_error():
    with pytest.raises(TypeError, match=r"y_score must have a real numeric dtype, got complex128"):
        nk.roc_auc_score([0, 1], np.array([1j, 2j]))
    with pytest.raises(TypeError, match=r"y_score must have a real numeric dtype, got <U"):
        nk.roc_auc_score([0, 1], ["a", "b"])
    with pytest.raises(TypeError, match=r"sample_weight must have a real numeric dtype"):
        nk.roc_auc_score([0, 1], [0.1, 0.2], sample_weight=["a", "b"])
    with pytest.raises(TypeError, match=r"y_true must hold numbers, bools or strings"):
        nk.roc_auc_score(np.array([1j, 2j]), [0.1, 0.2])


def test_incomparable_labels_raise_type_error():
    with pytest.raises(TypeError, match=r"y_true values must be mutually comparable"):
        nk.roc_auc_score(np.array([1, "a", 2.0], dtype=object), [0.1, 0.2, 0.3])


def test_three_classes_with_1d_scores_raise():
    with pytest.raises(ValueError, match=r"y_true has 3 classes: a multiclass ROC AUC needs"):
        nk.roc_auc_score([0, 1, 2], [0.1, 0.2, 0.3])


def test_bad_multi_class_value_raises():
    with pytest.raises(ValueError, match=r"multi_class must be one of 'raise', 'ovr', 'ovo', got"):
        nk.roc_auc_score([0, 1], [0.1, 0.2], multi_class="ovx")


def _mc():
    rng = np.random.default_rng(52)
    return random_probabilities(rng, 40, 3)


def test_multiclass_raise_with_2d_scores():
    y, p = _mc()
    with pytest.raises(ValueError, match=r"multi_class must be 'ovr' or 'ovo' when y_score is 2-D"):
        nk.roc_auc_score(y, p)


@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
def test_multiclass_rows_not_summing_to_one(multi_class):
    y, p = _mc()
    with pytest.raises(ValueError, match=r"Target scores need to be probabilities for multiclass"):
        nk.roc_auc_score(y, p * 1.1, multi_class=multi_class)


def test_multiclass_ovo_rejects_sample_weight():
    y, p = _mc()
    with pytest.raises(ValueError, match=r"sample_weight must be None for multi_class='ovo'"):
        nk.roc_auc_score(y, p, sample_weight=np.ones(40), multi_class="ovo")


@pytest.mark.parametrize(
    ("multi_class", "average"),
    [("ovr", "samples"), ("ovr", "binary"), ("ovo", None), ("ovo", "micro"), ("ovo", "mean")],
)
def test_multiclass_bad_average(multi_class, average):
    y, p = _mc()
    with pytest.raises(ValueError, match=r"average must be one of 'macro', 'weighted'"):
        nk.roc_auc_score(y, p, multi_class=multi_class, average=average)


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        ([0, 2, 1], r"labels must be ordered"),
        ([0, 1, 1], r"labels must be unique"),
        ([0, 1, 2, 3], r"labels has 4 entries but y_score has 3 columns"),
        ([0, 1], r"labels has 2 entries but y_score has 3 columns"),
        ([0, 1, 5], r"y_true contains labels not in labels"),
        ([[0, 1, 2]], r"labels must have shape \(n_classes,\), got \(1, 3\)"),
    ],
)
def test_multiclass_bad_labels(labels, match):
    y, p = _mc()
    with pytest.raises(ValueError, match=match):
        nk.roc_auc_score(y, p, multi_class="ovr", labels=labels)


def test_multiclass_other_shape_errors():
    y, p = _mc()
    with pytest.raises(ValueError, match=r"y_true has 3 classes but y_score has 4 columns"):
        nk.roc_auc_score(y, np.c_[p * 0.5, np.full(40, 0.5)], multi_class="ovr")
    with pytest.raises(ValueError, match=r"y_score must have shape \(40, n_classes\) like y_true"):
        nk.roc_auc_score(y, p[:39], multi_class="ovr")
    with pytest.raises(ValueError, match=r"max_fpr must be None for a multiclass ROC AUC, got 0.5"):
        nk.roc_auc_score(y, p, max_fpr=0.5, multi_class="ovr")
    with pytest.raises(ValueError, match=r"y_score must be 1-D \(the positive class's score\)"):
        nk.roc_auc_score([0, 1, 0, 1], [[0.3, 0.7]] * 4, multi_class="ovr")
    bad = p.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"y_score must be finite, got nan at index 16"):
        nk.roc_auc_score(y, bad, multi_class="ovr")


def test_core_binary_roc_auc_guards_itself():
    s, pos = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 1, 0, 1], np.uint8)
    with pytest.raises(TypeError, match=r"y_score must be float32 or float64, got int64"):
        _core.binary_roc_auc(np.arange(4), pos, None, n_threads=1)
    with pytest.raises(
        TypeError, match=r"y_score must be a C-contiguous float64 array.*not C-contiguous"
    ):
        _core.binary_roc_auc(np.arange(8.0)[::2], pos, None, n_threads=1)
    with pytest.raises(TypeError, match=r"is_pos must be a C-contiguous uint8 array, got bool"):
        _core.binary_roc_auc(s, pos.astype(bool), None, n_threads=1)
    with pytest.raises(
        TypeError, match=r"is_pos must be a C-contiguous uint8 array.*not C-contiguous"
    ):
        _core.binary_roc_auc(s, np.zeros(8, np.uint8)[::2], None, n_threads=1)
    with pytest.raises(ValueError, match=r"is_pos must have shape \(4,\), got \(3,\)"):
        _core.binary_roc_auc(s, pos[:3], None, n_threads=1)
    with pytest.raises(ValueError, match=r"y_score must have shape \(n,\), got \(2, 2\)"):
        _core.binary_roc_auc(s.reshape(2, 2), pos, None, n_threads=1)
    with pytest.raises(
        TypeError, match=r"sample_weight must be a C-contiguous float64 array, got float32"
    ):
        _core.binary_roc_auc(s, pos, np.ones(4, np.float32), n_threads=1)
    with pytest.raises(TypeError, match=r"sample_weight must be a NumPy array, got list"):
        _core.binary_roc_auc(s, pos, [1.0, 1.0, 1.0, 1.0], n_threads=1)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(4,\), got \(5,\)"):
        _core.binary_roc_auc(s, pos, np.ones(5), n_threads=1)
    with pytest.raises(ValueError, match=r"y_score must be finite, got nan at index 2"):
        _core.binary_roc_auc(np.array([0.1, 0.2, np.nan, 0.4]), pos, None, n_threads=1)
    # Within its guards it computes: (auc, positive total, negative total).
    assert _core.binary_roc_auc(s, pos, None, n_threads=1) == (0.75, 2.0, 2.0)


# ------------------------------------------------------------ 6. thread invariance


def _large_case(name):
    rng = np.random.default_rng(61)
    n = 300_000
    # 70% positives, so the positive class alone (210k) is split three ways too.
    y, score, w = random_binary_problem(rng, n, pos_rate=0.7, tied=name.endswith("ties"), weighted="w" in name)
    if name.startswith("f32"):
        score = score.astype(np.float32)
    return y, score, w


@pytest.mark.parametrize("name", ["continuous", "ties", "f32", "f32_ties", "w", "w_ties"])
@pytest.mark.parametrize("max_fpr", [None, 0.3])
def test_same_bits_for_any_thread_count(name, max_fpr):
    y, score, w = _large_case(name)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(nk.roc_auc_score(y, score, sample_weight=w, max_fpr=max_fpr))
    assert np.isfinite(results[0])
    assert results[0] == results[1] == results[2]
    assert_metric_close(results[0], ref.roc_auc_score(y, score, w, max_fpr=max_fpr))


def test_core_same_bits_for_any_thread_count():
    y, score, w = _large_case("w_ties")
    pos = y.astype(np.uint8)
    for weight in (None, w):
        out = [_core.binary_roc_auc(score, pos, weight, n_threads=t) for t in (1, 2, 3, 4)]
        assert out[0] == out[1] == out[2] == out[3]


@pytest.mark.parametrize(
    ("multi_class", "average"), [("ovr", "macro"), ("ovr", "micro"), ("ovo", "weighted")]
)
def test_multiclass_same_bits_for_any_thread_count(multi_class, average):
    rng = np.random.default_rng(62)
    y, p = random_probabilities(rng, 100_000, 3)
    p = np.round(p, 3)
    p /= p.sum(axis=1, keepdims=True)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(nk.roc_auc_score(y, p, multi_class=multi_class, average=average))
    assert results[0] == results[1] == results[2]


# ------------------------------------------------------------------------ 7. anchor


def _sk():
    return pytest.importorskip("sklearn.metrics")


def _sk_auc(*args, **kwargs):
    return _sk().roc_auc_score(*args, **kwargs)


ANCHOR_CASES = ["continuous", "ties", "weighted", "weighted_ties", "float32", "float32_ties"]


def _anchor_case(name, n=500, seed=71):
    rng = np.random.default_rng(seed)
    return random_binary_problem(
        rng,
        n,
        tied="ties" in name,
        weighted=name.startswith("weighted"),
        dtype=np.float32 if name.startswith("float32") else np.float64,
    )


@pytest.mark.parametrize("name", ANCHOR_CASES)
def test_binary_matches_sklearn(name):
    y, score, w = _anchor_case(name)
    expected = _sk_auc(y, score, sample_weight=w)
    assert_metric_close(nk.roc_auc_score(y, score, sample_weight=w), expected)
    assert_metric_close(ref.roc_auc_score(y, score, sample_weight=w), expected)


@pytest.mark.parametrize("name", ANCHOR_CASES)
@pytest.mark.parametrize("max_fpr", [0.01, 0.1, 0.25, 0.5, 0.8, 0.999, 1.0])
def test_max_fpr_matches_sklearn(name, max_fpr):
    y, score, w = _anchor_case(name, n=400)
    expected = _sk_auc(y, score, sample_weight=w, max_fpr=max_fpr)
    assert_metric_close(nk.roc_auc_score(y, score, sample_weight=w, max_fpr=max_fpr), expected)
    assert_metric_close(ref.roc_auc_score(y, score, sample_weight=w, max_fpr=max_fpr), expected)


def test_max_fpr_on_a_curve_point_matches_sklearn():
    rng = np.random.default_rng(72)
    y = np.r_[np.zeros(100, int), np.ones(60, int)]  # fpr steps of exactly 1/100
    score = np.round(rng.normal(size=160) + 0.5 * y, 1)
    for max_fpr in (0.25, 0.5, 0.75):
        expected = _sk_auc(y, score, max_fpr=max_fpr)
        assert_metric_close(nk.roc_auc_score(y, score, max_fpr=max_fpr), expected)


@given(data=st.data())
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_matches_sklearn_under_hypothesis(dtype, data):
    y, score, w = data.draw(binary_problems(dtype))
    max_fpr = data.draw(st.one_of(st.none(), st.floats(0.05, 1.0)))
    expected = _sk_auc(y, score, sample_weight=w, max_fpr=max_fpr)
    assert_metric_close(nk.roc_auc_score(y, score, sample_weight=w, max_fpr=max_fpr), expected)


@pytest.mark.parametrize("encoding", list(ENCODINGS) + ["two_ints", "object_str"])
def test_label_encodings_match_sklearn(encoding):
    y01, score, w = _anchor_case("weighted_ties", n=300)
    if encoding == "two_ints":
        y = np.where(y01 == 1, 7, -3)
    elif encoding == "object_str":
        y = np.where(y01 == 1, "dog", "cat").astype(object)
    else:
        y = encode(y01, encoding)
    for weight in (None, w):
        expected = _sk_auc(y, score, sample_weight=weight)
        assert_metric_close(nk.roc_auc_score(y, score, sample_weight=weight), expected)
        assert_metric_close(ref.roc_auc_score(y, score, sample_weight=weight), expected)


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_, np.float32])
def test_score_dtypes_match_sklearn(dtype):
    rng = np.random.default_rng(73)
    y = rng.integers(0, 2, 300)
    y[:2] = [0, 1]
    raw = rng.integers(0, 2, 300) if dtype == np.bool_ else rng.integers(-50, 50, 300)
    score = raw.astype(dtype)
    assert_metric_close(nk.roc_auc_score(y, score), _sk_auc(y, score))
    assert_metric_close(ref.roc_auc_score(y, score), _sk_auc(y, score))
    # Not compared: int64 scores above 2**53. SPEC §1 promotes integer scores to float64
    # (test_int64_scores_become_float64), while scikit-learn sorts int64 exactly.


def test_one_class_matches_sklearn():
    sk = _sk()
    from sklearn.exceptions import UndefinedMetricWarning as SkWarning

    with pytest.warns(SkWarning, match=re.escape(ONE_CLASS)):
        expected = sk.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.warns(nk.UndefinedMetricWarning, match=re.escape(ONE_CLASS)):
        actual = nk.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3])
    assert np.isnan(expected)
    assert np.isnan(actual)


def test_zero_positive_weight_matches_sklearn():
    sk = _sk()
    from sklearn.exceptions import UndefinedMetricWarning as SkWarning

    y, s, w = [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 2.0, 0.0]
    with pytest.warns(SkWarning, match="No positive samples in y_true"):
        expected = sk.roc_auc_score(y, s, sample_weight=w)
    with pytest.warns(nk.UndefinedMetricWarning, match="No positive samples in y_true"):
        actual = nk.roc_auc_score(y, s, sample_weight=w)
    assert np.isnan(expected)
    assert np.isnan(actual)


@pytest.mark.parametrize("k", [3, 4, 5])
@pytest.mark.parametrize(
    ("multi_class", "average"),
    [
        ("ovr", "macro"),
        ("ovr", "weighted"),
        ("ovr", None),
        ("ovr", "micro"),
        ("ovo", "macro"),
        ("ovo", "weighted"),
    ],
)
@pytest.mark.parametrize("tied", [False, True])
def test_multiclass_matches_sklearn(k, multi_class, average, tied):
    rng = np.random.default_rng(74 + k)
    y, p = random_probabilities(rng, 300, k)
    if tied:
        p = np.round(p, 1) + 0.05
        p /= p.sum(axis=1, keepdims=True)
    kw = dict(multi_class=multi_class, average=average)
    expected = _sk_auc(y, p, **kw)
    assert_metric_close(nk.roc_auc_score(y, p, **kw), expected)
    assert_metric_close(ref.roc_auc_score(y, p, **kw), expected)


@pytest.mark.parametrize("average", ["macro", "weighted", None, "micro"])
def test_multiclass_ovr_with_sample_weight_matches_sklearn(average):
    rng = np.random.default_rng(75)
    y, p = random_probabilities(rng, 300, 4)
    w = rng.random(300) * 2
    w[rng.random(300) < 0.1] = 0.0
    kw = dict(multi_class="ovr", average=average)
    expected = _sk_auc(y, p, sample_weight=w, **kw)
    assert_metric_close(nk.roc_auc_score(y, p, sample_weight=w, **kw), expected)
    assert_metric_close(ref.roc_auc_score(y, p, sample_weight=w, **kw), expected)


@pytest.mark.parametrize(
    ("multi_class", "average"),
    [("ovr", "macro"), ("ovr", None), ("ovo", "macro"), ("ovo", "weighted")],
)
def test_multiclass_with_labels_matches_sklearn(multi_class, average):
    rng = np.random.default_rng(76)
    codes, p = random_probabilities(rng, 200, 3)
    names = np.array(["ant", "bee", "cat"])
    y = names[codes]
    kw = dict(multi_class=multi_class, average=average, labels=["ant", "bee", "cat"])
    expected = _sk_auc(y, p, **kw)
    assert_metric_close(nk.roc_auc_score(y, p, **kw), expected)
    assert_metric_close(ref.roc_auc_score(y, p, **kw), expected)
    ints = np.array([10, 20, 30])[codes]
    kw["labels"] = [10, 20, 30]
    assert_metric_close(nk.roc_auc_score(ints, p, **kw), _sk_auc(ints, p, **kw))


def test_multiclass_ovo_with_an_absent_label_matches_sklearn():
    rng = np.random.default_rng(77)
    y, p3 = random_probabilities(rng, 120, 3)
    p4 = np.c_[p3 * 0.9, np.full(120, 0.1)]
    kw = dict(multi_class="ovo", labels=[0, 1, 2, 3])
    assert_metric_close(nk.roc_auc_score(y, p4, **kw), _sk_auc(y, p4, **kw))


@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
@given(data=st.data())
def test_multiclass_matches_sklearn_under_hypothesis(multi_class, data):
    y, proba = data.draw(probability_matrices(max_n=60))
    average = data.draw(st.sampled_from(["macro", "weighted"]))
    kw = dict(multi_class=multi_class, average=average)
    assert_metric_close(nk.roc_auc_score(y, proba, **kw), _sk_auc(y, proba, **kw))


@pytest.mark.parametrize("average", ["weighted", "macro", None])
def test_multiclass_ovr_zero_weight_class_matches_sklearn(average):
    sk = _sk()
    from sklearn.exceptions import UndefinedMetricWarning as SkWarning

    rng = np.random.default_rng(78)
    y, p = random_probabilities(rng, 120, 3)
    w = np.where(y == 2, 0.0, 1.0)  # class 2 holds no weight: its AUC is undefined
    kw = dict(sample_weight=w, multi_class="ovr", average=average)
    with pytest.warns(SkWarning, match="No positive samples in y_true"):
        expected = sk.roc_auc_score(y, p, **kw)
    with pytest.warns(nk.UndefinedMetricWarning, match="No positive samples in y_true"):
        actual = nk.roc_auc_score(y, p, **kw)
    assert_metric_close(actual, expected)


def test_multiclass_ovr_weighted_all_zero_weights_is_zero_without_warning_like_sklearn():
    # scikit-learn's average='weighted' returns 0 when the class weights sum to 0, before it
    # computes (and warns about) any per-class score.
    rng = np.random.default_rng(79)
    y, p = random_probabilities(rng, 60, 3)
    kw = dict(sample_weight=np.zeros(60), multi_class="ovr", average="weighted")
    assert _sk_auc(y, p, **kw) == 0  # raises here if scikit-learn warned (filterwarnings=error)
    assert nk.roc_auc_score(y, p, **kw) == 0.0


@pytest.mark.parametrize("decimals", [None, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_realistic_workload_matches_sklearn(decimals, dtype):
    from npkernels._workloads import random_binary_scores

    rng = np.random.default_rng(80)
    y, score = random_binary_scores(rng, 50_000, decimals=decimals, dtype=dtype)
    expected = _sk_auc(y, score)
    assert_metric_close(nk.roc_auc_score(y, score), expected)
    assert_metric_close(ref.roc_auc_score(y, score), expected)
    for max_fpr in (0.05, 0.5):
        expected = _sk_auc(y, score, max_fpr=max_fpr)
        assert_metric_close(nk.roc_auc_score(y, score, max_fpr=max_fpr), expected)


@pytest.mark.parametrize(
    ("multi_class", "average"), [("ovr", "macro"), ("ovr", "micro"), ("ovo", "weighted")]
)
def test_multiclass_float32_and_string_labels_match_sklearn(multi_class, average):
    rng = np.random.default_rng(81)
    codes, p = random_probabilities(rng, 200, 4)
    kw = dict(multi_class=multi_class, average=average)
    p32 = p.astype(np.float32)
    assert_metric_close(nk.roc_auc_score(codes, p32, **kw), _sk_auc(codes, p32, **kw))
    names = np.array(["w", "x", "y", "z"])[codes]  # sorted names: the columns' order
    assert_metric_close(nk.roc_auc_score(names, p, **kw), _sk_auc(names, p, **kw))


def test_binary_y_true_with_three_labelled_columns_ovo_matches_sklearn():
    rng = np.random.default_rng(82)
    y = rng.integers(0, 2, 100)
    _, p = random_probabilities(rng, 100, 3)
    kw = dict(multi_class="ovo", labels=[0, 1, 2])
    assert_metric_close(nk.roc_auc_score(y, p, **kw), _sk_auc(y, p, **kw))
