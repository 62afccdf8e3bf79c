"""nk.average_precision_score against its NumPy twin and scikit-learn."""

from __future__ import annotations

import re

import npkernels as nk
import numpy as np
import pytest
from helpers import (
    DTYPES,
    assert_matches,
    assert_metric_close,
    binary_problems,
    encode,
    random_binary_problem,
)
from hypothesis import given
from hypothesis import strategies as st
from npkernels import _core
from npkernels import reference as ref

NO_POSITIVE = "No positive class found in y_true"



def _binary(rng, n, **kwargs):
    return random_binary_problem(rng, n, **{"pos_rate": 0.4, **kwargs})


# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    y, score, w = data.draw(binary_problems(dtype))
    actual = nk.average_precision_score(y, score, sample_weight=w)
    assert isinstance(actual, float)
    assert_matches(np.float64(actual), np.float64(ref.average_precision_score(y, score, 1, w)))


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference_with_pos_label(dtype, data):
    y, score, w = data.draw(binary_problems(dtype, max_n=80))
    encoding = data.draw(st.sampled_from(["01", "-11", "str"]))
    labels = encode(y, encoding)
    pos_label = data.draw(st.sampled_from(sorted(set(labels.tolist()))))
    actual = nk.average_precision_score(labels, score, pos_label=pos_label, sample_weight=w)
    expected = ref.average_precision_score(labels, score, pos_label=pos_label, sample_weight=w)
    assert_matches(np.float64(actual), np.float64(expected))


# ------------------------------------------------------------------- 2. edge cases


def test_docstring_example():
    y, score = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert_metric_close(nk.average_precision_score(y, score), 5 / 6)
    assert_metric_close(ref.average_precision_score(y, score), 5 / 6)


@pytest.mark.parametrize(
    ("y", "score", "expected"),
    [
        ([0, 1], [0.0, 1.0], 1.0),
        ([1, 0], [0.0, 1.0], 0.5),
        ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5),  # one step: precision at the tie
        ([1, 1, 0], [0.9, 0.9, 0.9], 2 / 3),
        ([1, 0, 1], [3.0, 2.0, 1.0], (1 + 2 / 3) / 2),
        ([1, 1, 1], [0.1, 0.2, 0.3], 1.0),  # only positives
        ([0, 1], [-0.0, 0.0], 0.5),  # -0.0 ties with 0.0
    ],
)
def test_small_exact_cases(y, score, expected):
    assert_metric_close(nk.average_precision_score(y, score), expected)
    assert_metric_close(ref.average_precision_score(y, score), expected)


@pytest.mark.parametrize("y", [[0, 0, 0], [2, 2], ["a"], [0]])
def test_no_positives_gives_zero_and_warns(y):
    score = np.linspace(0, 1, len(y))
    with pytest.warns(nk.UndefinedMetricWarning, match=NO_POSITIVE):
        assert nk.average_precision_score(y, score) == 0.0
    with pytest.warns(nk.UndefinedMetricWarning, match=NO_POSITIVE):
        assert ref.average_precision_score(y, score) == 0.0


def test_no_positive_weight_gives_zero_and_warns():
    with pytest.warns(nk.UndefinedMetricWarning, match=NO_POSITIVE):
        ap = nk.average_precision_score(
            [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], sample_weight=[1, 0, 2, 0.0]
        )
    assert ap == 0.0


def test_single_positive_sample():
    assert nk.average_precision_score([1], [0.3]) == 1.0


def test_pos_label_selects_the_positive_class():
    y, score = [1, 2, 1, 2], [0.1, 0.2, 0.3, 0.4]
    assert_metric_close(nk.average_precision_score(y, score), 0.5)  # 1 is positive by default
    assert_metric_close(nk.average_precision_score(y, score, pos_label=2), 5 / 6)
    y_str = ["cat", "dog", "cat", "dog"]
    assert_metric_close(nk.average_precision_score(y_str, score, pos_label="dog"), 5 / 6)
    assert_metric_close(nk.average_precision_score(y_str, score, pos_label="cat"), 0.5)


def test_zero_weight_samples_are_ignored():
    rng = np.random.default_rng(1)
    y, score, w = _binary(rng, 400, tied=True, weighted=True)
    keep = w != 0
    full = nk.average_precision_score(y, score, sample_weight=w)
    assert full == nk.average_precision_score(y[keep], score[keep], sample_weight=w[keep])


def test_integer_weights_equal_repeated_samples():
    rng = np.random.default_rng(2)
    y, score, _ = _binary(rng, 200, tied=True)
    reps = rng.integers(1, 4, 200)
    assert_metric_close(
        nk.average_precision_score(y, score, sample_weight=reps.astype(float)),
        nk.average_precision_score(np.repeat(y, reps), np.repeat(score, reps)),
    )


# ---------------------------------------------------------------------- 3. layouts


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs_match_contiguous_copies(weighted, dtype):
    rng = np.random.default_rng(3)
    y, score, w = _binary(rng, 400, tied=True, weighted=weighted, dtype=dtype)
    for sl in (np.s_[::2], np.s_[::-1], np.s_[5:390:3]):
        yv, sv = y[sl], score[sl]
        wv = None if w is None else w[sl]
        assert not sv.flags.c_contiguous
        expected = nk.average_precision_score(
            yv.copy(), sv.copy(), sample_weight=None if wv is None else wv.copy()
        )
        assert nk.average_precision_score(yv, sv, sample_weight=wv) == expected
    fortran = np.asfortranarray(np.c_[score, score])
    contiguous = nk.average_precision_score(y, score, sample_weight=w)
    assert nk.average_precision_score(y, fortran[:, 0], sample_weight=w) == contiguous


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16, np.bool_])
def test_integer_and_bool_scores(dtype):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    y[:2] = [0, 1]
    raw = rng.integers(0, 2, 200) if dtype == np.bool_ else rng.integers(0, 60, 200)
    score = raw.astype(dtype)
    actual = nk.average_precision_score(y, score)
    assert actual == nk.average_precision_score(y, score.astype(np.float64))
    assert_metric_close(actual, ref.average_precision_score(y, score))


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float64, np.bool_])
def test_label_dtypes(dtype):
    rng = np.random.default_rng(5)
    y, score, _ = _binary(rng, 100, tied=True)
    expected = nk.average_precision_score(y, score)
    assert nk.average_precision_score(y.astype(dtype), score) == expected


# ------------------------------------------------------------------ 4. dtype policy


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.bool_])
def test_result_is_a_python_float(dtype):
    ap = nk.average_precision_score([0, 1, 0, 1], np.array([0, 1, 1, 0], dtype=dtype))
    assert type(ap) is float


def test_float32_scores_are_ranked_as_float32():
    s64 = np.array([0.1 + 1e-9, 0.1])
    assert nk.average_precision_score([0, 1], s64) == 0.5
    assert nk.average_precision_score([0, 1], s64.astype(np.float32)) == 0.5
    assert nk.average_precision_score([1, 0], s64) == 1.0
    assert nk.average_precision_score([1, 0], s64.astype(np.float32)) == 0.5  # now a tie


# --------------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize(
    ("y", "pos_label", "match"),
    [
        ([0, 2, 0, 2], 1, "pos_label=1 is not a valid label. It should be one of [0, 2]"),
        (["a", "b", "a", "b"], 1, "pos_label=1 is not a valid label. It should be one of ['a', "),
        ([0, 1, 0, 1], "x", "pos_label=x is not a valid label. It should be one of [0, 1]"),
        ([0, 1, 0, 1], 2, "pos_label=2 is not a valid label"),
    ],
)
def test_invalid_pos_label_raises(y, pos_label, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        nk.average_precision_score(y, [0.1, 0.2, 0.3, 0.4], pos_label=pos_label)
    with pytest.raises(ValueError, match=re.escape(match)):
        ref.average_precision_score(y, [0.1, 0.2, 0.3, 0.4], pos_label=pos_label)


def test_three_classes_raise():
    match = r"y_true must be binary for average_precision_score, got 3 classes"
    with pytest.raises(ValueError, match=match):
        nk.average_precision_score([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=match):
        nk.average_precision_score(["a", "b", "c", "a"], [0.1, 0.2, 0.3, 0.4], pos_label="a")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("bad", "shown"), [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_scores_raise(dtype, bad, shown):
    score = np.array([0.1, 0.2, bad, 0.4], dtype)
    match = rf"y_score must be finite, got {shown} at index 2$"
    with pytest.raises(ValueError, match=match):
        nk.average_precision_score([0, 1, 0, 1], score)
    with pytest.raises(ValueError, match=match):
        ref.average_precision_score([0, 1, 0, 1], score)


def test_length_mismatches_and_empty_and_types():
    with pytest.raises(ValueError, match=r"y_score must have shape \(3,\) like y_true, got \(4,\)"):
        nk.average_precision_score([0, 1, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(
        ValueError, match=r"sample_weight must have shape \(3,\) like y_true, got \(1,\)"
    ):
        nk.average_precision_score([0, 1, 1], [0.1, 0.2, 0.3], sample_weight=[1.0])
    with pytest.raises(ValueError, match=r"y_true must not be empty"):
        nk.average_precision_score([], [])
    with pytest.raises(TypeError, match=r"y_score must have a real numeric dtype, got complex128"):
        nk.average_precision_score([0, 1], np.array([1j, 0]))
    with pytest.raises(ValueError, match=r"sample_weight must be finite, got -inf at index 1"):
        nk.average_precision_score([0, 1], [0.1, 0.2], sample_weight=[1.0, -np.inf])


def test_core_average_precision_guards_itself():
    s, pos = np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1], np.uint8)
    with pytest.raises(TypeError, match=r"y_score must be float32 or float64, got int32"):
        _core.average_precision(s.astype(np.int32), pos, None, n_threads=1)
    with pytest.raises(
        TypeError, match=r"y_score must be a C-contiguous float64 array.*not C-contiguous"
    ):
        _core.average_precision(np.zeros(8)[::-2], pos, None, n_threads=1)
    with pytest.raises(ValueError, match=r"is_pos must have shape \(4,\), got \(2, 2\)"):
        _core.average_precision(s, pos.reshape(2, 2), None, n_threads=1)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(4,\), got \(3,\)"):
        _core.average_precision(s, pos, np.ones(3), n_threads=1)
    with pytest.raises(
        TypeError, match=r"sample_weight must be a C-contiguous float64 array, got int64"
    ):
        _core.average_precision(s, pos, np.ones(4, np.int64), n_threads=1)
    with pytest.raises(ValueError, match=r"y_score must be finite, got nan at index 0"):
        _core.average_precision(np.array([np.nan, 0.1, 0.2, 0.3]), pos, None, n_threads=1)
    ap, pos_total = _core.average_precision(s, pos, None, n_threads=1)
    assert_metric_close(ap, 5 / 6)
    assert pos_total == 2.0


# ------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("name", ["continuous", "ties", "f32_ties", "w", "w_ties"])
def test_same_bits_for_any_thread_count(name):
    rng = np.random.default_rng(6)
    y, score, w = _binary(
        rng, 300_000, pos_rate=0.7, tied="ties" in name, weighted=name.startswith("w")
    )
    if name.startswith("f32"):
        score = score.astype(np.float32)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(nk.average_precision_score(y, score, sample_weight=w))
    assert 0 < results[0] < 1
    assert results[0] == results[1] == results[2]
    assert_metric_close(results[0], ref.average_precision_score(y, score, sample_weight=w))


# ------------------------------------------------------------------------ 7. anchor


def _sk_ap(*args, **kwargs):
    sk = pytest.importorskip("sklearn.metrics")
    return sk.average_precision_score(*args, **kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_sklearn_under_hypothesis(dtype, data):
    y, score, w = data.draw(binary_problems(dtype))
    expected = _sk_ap(y, score, sample_weight=w)
    assert_metric_close(nk.average_precision_score(y, score, sample_weight=w), expected)
    assert_metric_close(ref.average_precision_score(y, score, sample_weight=w), expected)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_sklearn(tied, weighted, dtype):
    rng = np.random.default_rng(7)
    y, score, w = _binary(rng, 3000, tied=tied, weighted=weighted, dtype=dtype)
    expected = _sk_ap(y, score, sample_weight=w)
    assert_metric_close(nk.average_precision_score(y, score, sample_weight=w), expected)
    assert_metric_close(ref.average_precision_score(y, score, sample_weight=w), expected)


def test_sklearn_docstring_example():
    y, score = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    expected = _sk_ap(y, score)
    assert_metric_close(expected, 0.8333333333333333)
    assert_metric_close(nk.average_precision_score(y, score), expected)


@pytest.mark.parametrize(
    ("labels", "pos_label"),
    [
        ((0, 1), 1),
        ((0, 1), 0),
        ((1, 2), 1),
        ((1, 2), 2),
        ((-1, 1), -1),
        (("neg", "pos"), "pos"),
        (("neg", "pos"), "neg"),
        ((False, True), True),
        ((False, True), 1),
    ],
)
def test_pos_label_matches_sklearn(labels, pos_label):
    rng = np.random.default_rng(8)
    y01, score, w = _binary(rng, 500, tied=True, weighted=True)
    y = np.where(y01 == 1, np.array(labels[1]), np.array(labels[0]))
    for weight in (None, w):
        expected = _sk_ap(y, score, pos_label=pos_label, sample_weight=weight)
        actual = nk.average_precision_score(y, score, pos_label=pos_label, sample_weight=weight)
        assert_metric_close(actual, expected)
        ref_value = ref.average_precision_score(y, score, pos_label=pos_label, sample_weight=weight)
        assert_metric_close(ref_value, expected)


def test_no_positives_matches_sklearn():
    pytest.importorskip("sklearn.metrics")
    # scikit-learn warns with a plain UserWarning here; ours is a UserWarning subclass.
    with pytest.warns(UserWarning, match=NO_POSITIVE):
        expected = _sk_ap([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.warns(nk.UndefinedMetricWarning, match=NO_POSITIVE):
        actual = nk.average_precision_score([0, 0, 0], [0.1, 0.2, 0.3])
    assert actual == expected == 0.0


def test_invalid_pos_label_error_matches_sklearn():
    pytest.importorskip("sklearn.metrics")
    match = re.escape("pos_label=1 is not a valid label. It should be one of")
    with pytest.raises(ValueError, match=match):
        _sk_ap(np.array([0, 2, 0, 2]), [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=match):
        nk.average_precision_score(np.array([0, 2, 0, 2]), [0.1, 0.2, 0.3, 0.4])


def test_extreme_weights_match_sklearn():
    rng = np.random.default_rng(9)
    n = 4000
    y = rng.integers(0, 2, n)
    score = np.round(rng.random(n), 1)
    w = rng.random(n) * 10.0 ** rng.integers(-6, 6, n)
    expected = _sk_ap(y, score, sample_weight=w)
    assert_metric_close(nk.average_precision_score(y, score, sample_weight=w), expected)


@pytest.mark.parametrize("decimals", [None, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_realistic_workload_matches_sklearn(decimals, dtype):
    from npkernels._workloads import random_binary_scores

    rng = np.random.default_rng(10)
    y, score = random_binary_scores(rng, 50_000, decimals=decimals, dtype=dtype)
    w = rng.random(50_000)
    for weight in (None, w):
        expected = _sk_ap(y, score, sample_weight=weight)
        assert_metric_close(nk.average_precision_score(y, score, sample_weight=weight), expected)
        assert_metric_close(ref.average_precision_score(y, score, sample_weight=weight), expected)
