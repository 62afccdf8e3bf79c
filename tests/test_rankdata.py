"""nk.rankdata against its NumPy twin and scipy.stats.rankdata."""

from __future__ import annotations

import npkernels as nk
import numpy as np
import pytest
from helpers import DTYPES, assert_matches, scores
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from npkernels import _core
from npkernels import reference as ref

METHODS = ("average", "min", "max", "dense", "ordinal")


# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    n = data.draw(st.integers(0, 200))
    x = data.draw(scores(dtype, n))
    method = data.draw(st.sampled_from(METHODS))
    assert_matches(nk.rankdata(x, method), ref.rankdata(x, method))


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
@given(data=st.data())
def test_matches_reference_for_64_bit_integers(dtype, data):
    info = np.iinfo(dtype)
    # Values near the ends of the range and small ones, so ties and huge keys both occur.
    elements = st.one_of(
        st.integers(int(info.min), int(info.min) + 3),
        st.integers(int(info.max) - 3, int(info.max)),
        st.integers(0, 5),
    )
    x = data.draw(hnp.arrays(dtype, st.integers(0, 200), elements=elements))
    method = data.draw(st.sampled_from(METHODS))
    assert_matches(nk.rankdata(x, method), ref.rankdata(x, method))


# ------------------------------------------------------------------- 2. edge cases


@pytest.mark.parametrize("method", METHODS)
def test_empty_input_gives_empty_float64(method):
    for a in ([], np.zeros(0), np.zeros((0, 3)), np.zeros(0, np.int64)):
        r = nk.rankdata(a, method)
        assert r.shape == (0,)
        assert r.dtype == np.float64


@pytest.mark.parametrize("method", METHODS)
def test_reference_on_empty_input_gives_empty_float64(method):
    for a in ([], np.zeros(0), np.zeros(0, np.uint64)):
        assert_matches(ref.rankdata(a, method), nk.rankdata(a, method))


@pytest.mark.parametrize("method", METHODS)
def test_single_element_has_rank_one(method):
    r = nk.rankdata([42.5], method)
    np.testing.assert_array_equal(r, [1.0])
    assert r.dtype == np.float64


def test_ties_per_method():
    a = [3, 1, 3, 2, 3, 1]
    expected = {
        "average": [5, 1.5, 5, 3, 5, 1.5],
        "min": [4, 1, 4, 3, 4, 1],
        "max": [6, 2, 6, 3, 6, 2],
        "dense": [3, 1, 3, 2, 3, 1],
        "ordinal": [4, 1, 5, 3, 6, 2],  # ties in order of appearance
    }
    for method, want in expected.items():
        np.testing.assert_array_equal(nk.rankdata(a, method), want, err_msg=method)
        np.testing.assert_array_equal(ref.rankdata(a, method), want, err_msg=method)


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_equal_values(dtype):
    a = np.full(7, 0.25, dtype)
    np.testing.assert_array_equal(nk.rankdata(a), np.full(7, 4.0))
    np.testing.assert_array_equal(nk.rankdata(a, "min"), np.ones(7))
    np.testing.assert_array_equal(nk.rankdata(a, "max"), np.full(7, 7.0))
    np.testing.assert_array_equal(nk.rankdata(a, "dense"), np.ones(7))
    np.testing.assert_array_equal(nk.rankdata(a, "ordinal"), np.arange(1.0, 8.0))


@pytest.mark.parametrize("method", METHODS)
def test_2d_input_is_flattened_in_c_order(method):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, (4, 6)).astype(np.float64)
    r = nk.rankdata(a, method)
    assert r.shape == (24,)
    np.testing.assert_array_equal(r, nk.rankdata(a.ravel(), method))
    assert_matches(r, ref.rankdata(a, method))


def test_int64_above_2_pow_53_rank_distinct():
    base = 2**53
    a = np.array([base + 1, base, base + 2, base + 1], dtype=np.int64)
    # Through float64 the first three would collapse: base + 1 rounds to base.
    assert np.float64(base + 1) == np.float64(base)
    np.testing.assert_array_equal(nk.rankdata(a), [2.5, 1.0, 4.0, 2.5])
    np.testing.assert_array_equal(nk.rankdata(a, "dense"), [2.0, 1.0, 3.0, 2.0])
    np.testing.assert_array_equal(nk.rankdata(a, "ordinal"), [2.0, 1.0, 4.0, 3.0])


def test_int64_extremes_and_negatives():
    a = np.array([np.iinfo(np.int64).max, -1, np.iinfo(np.int64).min, 0, -(2**62)], np.int64)
    np.testing.assert_array_equal(nk.rankdata(a), [5.0, 3.0, 1.0, 4.0, 2.0])


def test_uint64_above_2_pow_63_rank_distinct():
    top = np.iinfo(np.uint64).max
    a = np.array([top, 2**63, top - 1, 0, 2**63 + 1], dtype=np.uint64)
    np.testing.assert_array_equal(nk.rankdata(a), [5.0, 2.0, 4.0, 1.0, 3.0])
    assert_matches(nk.rankdata(a, "min"), ref.rankdata(a, "min"))


def test_bool_input():
    a = np.array([True, False, True, True, False])
    np.testing.assert_array_equal(nk.rankdata(a), [4.0, 1.5, 4.0, 4.0, 1.5])
    np.testing.assert_array_equal(nk.rankdata(a, "dense"), [2.0, 1.0, 2.0, 2.0, 1.0])


def test_float16_input():
    a = np.array([0.5, -2.0, 0.5, 65504.0, -np.inf], dtype=np.float16)
    np.testing.assert_array_equal(nk.rankdata(a), [3.5, 2.0, 3.5, 5.0, 1.0])
    assert_matches(nk.rankdata(a, "ordinal"), ref.rankdata(a, "ordinal"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_negative_zero_ties_with_zero(dtype):
    a = np.array([0.0, -0.0, 1.0, -0.0], dtype)
    np.testing.assert_array_equal(nk.rankdata(a), [2.0, 2.0, 4.0, 2.0])
    np.testing.assert_array_equal(nk.rankdata(a, "dense"), [1.0, 1.0, 2.0, 1.0])
    np.testing.assert_array_equal(nk.rankdata(a, "ordinal"), [1.0, 2.0, 4.0, 3.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_infinities_rank_at_the_ends(dtype):
    a = np.array([np.inf, 0.0, -np.inf, np.inf, np.finfo(dtype).max], dtype)
    np.testing.assert_array_equal(nk.rankdata(a), [4.5, 2.0, 1.0, 4.5, 3.0])
    np.testing.assert_array_equal(nk.rankdata(a, "max"), [5.0, 2.0, 1.0, 5.0, 3.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_subnormals_are_distinct_from_zero(dtype):
    tiny = np.finfo(dtype).smallest_subnormal
    a = np.array([tiny, 0.0, -tiny, 2 * tiny], dtype)
    np.testing.assert_array_equal(nk.rankdata(a), [3.0, 2.0, 1.0, 4.0])


# ---------------------------------------------------------------------- 3. layouts


def _layouts():
    rng = np.random.default_rng(11)
    base = np.round(rng.normal(size=(30, 8)), 1)
    return {
        "strided": base[:, 1],
        "every_other": base.ravel()[::2],
        "negative_stride": base.ravel()[::-1],
        "fortran_2d": np.asfortranarray(base),
        "sliced_2d": base[3:20:2, 1:7],
        "transposed": base.T,
    }


@pytest.mark.parametrize("name", list(_layouts()))
@pytest.mark.parametrize("method", METHODS)
def test_non_contiguous_layouts_match_a_contiguous_copy(name, method):
    a = _layouts()[name]
    assert not a.flags.c_contiguous or a.ndim > 1
    expected = nk.rankdata(np.ascontiguousarray(a).ravel(), method)
    np.testing.assert_array_equal(nk.rankdata(a, method), expected)
    assert_matches(nk.rankdata(a, method), ref.rankdata(a, method))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32])
def test_narrow_integer_inputs(dtype):
    rng = np.random.default_rng(5)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, int(info.max) + 1, 300, dtype=dtype)
    wide = a.astype(np.int64)
    for method in METHODS:
        np.testing.assert_array_equal(nk.rankdata(a, method), nk.rankdata(wide, method))
        assert_matches(nk.rankdata(a, method), ref.rankdata(a, method))


def test_python_list_and_nested_list():
    np.testing.assert_array_equal(nk.rankdata([[3, 1], [2, 1]]), [4.0, 1.5, 3.0, 1.5])
    np.testing.assert_array_equal(nk.rankdata((0.5, 0.25)), [2.0, 1.0])


# ------------------------------------------------------------------ 4. dtype policy


@pytest.mark.parametrize(
    "dtype", [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint64, np.bool_]
)
@pytest.mark.parametrize("method", METHODS)
def test_result_is_always_float64(dtype, method):
    r = nk.rankdata(np.array([1, 0, 1], dtype=dtype), method)
    assert r.dtype == np.float64
    assert ref.rankdata(np.array([1, 0, 1], dtype=dtype), method).dtype == np.float64


def test_float32_values_are_compared_in_float32():
    # Distinct float32 neighbours stay distinct (not merged by any conversion).
    one = np.float32(1.0)
    a = np.array([np.nextafter(one, np.float32(2)), one, np.nextafter(one, np.float32(0))])
    assert a.dtype == np.float32
    np.testing.assert_array_equal(nk.rankdata(a), [3.0, 2.0, 1.0])


def test_average_ranks_are_exact_halves():
    a = np.repeat(np.arange(1000), 2)  # runs of 2: average = first + 0.5
    r = nk.rankdata(a)
    np.testing.assert_array_equal(r, np.repeat(np.arange(1000) * 2 + 1.5, 2))


# --------------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_raises_with_its_index(dtype):
    a = np.array([1.0, 2.0, np.nan, 0.0, np.nan], dtype)
    with pytest.raises(ValueError, match=r"a must not contain NaN, got NaN at index 2"):
        nk.rankdata(a)
    with pytest.raises(ValueError, match=r"a must not contain NaN, got NaN at index 2"):
        ref.rankdata(a)


def test_nan_index_is_the_first_even_across_thread_blocks():
    a = np.arange(300_000, dtype=np.float64)
    a[[250_000, 120_000, 299_999]] = np.nan
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            with pytest.raises(ValueError, match=r"got NaN at index 120000$"):
                nk.rankdata(a, "ordinal")


@pytest.mark.parametrize("method", ["mean", "Average", "", "first"])
def test_unknown_method_raises(method):
    match = r"method must be one of 'average', 'min', 'max', 'dense', 'ordinal', got "
    with pytest.raises(ValueError, match=match):
        nk.rankdata([1, 2], method)
    with pytest.raises(ValueError, match=match):
        ref.rankdata([1, 2], method)


def test_non_string_method_raises():
    with pytest.raises(ValueError, match=r"method must be one of .* got None"):
        nk.rankdata([1, 2], None)


@pytest.mark.parametrize(
    ("a", "match"),
    [
        (np.array([1 + 2j, 3j]), r"a must have a real numeric dtype, got complex128"),
        (np.array(["b", "a"]), r"a must have a real numeric dtype, got <U1"),
        (np.array([1, "x"], dtype=object), r"a must have a real numeric dtype, got object"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), r"got datetime64\[D\]"),
    ],
)
def test_non_real_dtypes_raise_type_error(a, match):
    with pytest.raises(TypeError, match=match):
        nk.rankdata(a)


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="longdouble is float64 here")
def test_long_double_raises_type_error():
    with pytest.raises(TypeError, match=r"a must have at most 64-bit floats, got float128"):
        nk.rankdata(np.ones(3, np.longdouble))


def test_core_rejects_unconverted_dtypes():
    for dtype in (np.int32, np.float16, np.bool_, np.uint8, np.complex128):
        with pytest.raises(TypeError, match=r"a must be float32, float64, int64 or uint64, got"):
            _core.rankdata(np.zeros(3, dtype), "average", n_threads=1)


def test_core_rejects_non_contiguous_input():
    with pytest.raises(
        TypeError, match=r"a must be a C-contiguous float64 array.*not C-contiguous"
    ):
        _core.rankdata(np.arange(8.0)[::2], "average", n_threads=1)
    with pytest.raises(TypeError, match=r"C-contiguous int64"):
        _core.rankdata(np.arange(8)[::-1], "min", n_threads=1)


def test_core_rejects_wrong_rank_and_method_and_nan():
    with pytest.raises(ValueError, match=r"a must have shape \(n,\), got \(2, 2\)"):
        _core.rankdata(np.zeros((2, 2)), "average", n_threads=1)
    with pytest.raises(ValueError, match=r"method must be one of .*got 'median'"):
        _core.rankdata(np.zeros(2), "median", n_threads=1)
    with pytest.raises(ValueError, match=r"a must not contain NaN, got NaN at index 1"):
        _core.rankdata(np.array([0.0, np.nan], np.float32), "average", n_threads=1)
    with pytest.raises(TypeError):
        _core.rankdata([1.0, 2.0], "average", n_threads=1)  # a list, not an ndarray


# ------------------------------------------------------------ 6. thread invariance


def _large_inputs():
    rng = np.random.default_rng(7)
    n = 300_000
    return {
        "float64_ties": np.round(rng.normal(size=n), 2),
        "float64_continuous": rng.normal(size=n),
        "float32_ties": np.round(rng.normal(size=n), 2).astype(np.float32),
        "int64": rng.integers(-(2**62), 2**62, n) // 1000 * 1000,
        "uint64_few": rng.integers(0, 50, n).astype(np.uint64) + np.uint64(2**63),
        # The sort's regimes: keys that differ only in low mantissa bits, and one
        # bucket holding 90 % of the keys (nested most-significant-digit passes).
        "float64_narrow": 1.0 + rng.random(n) * 2.0**-30,
        "float64_one_big_bucket": np.where(
            rng.random(n) < 0.9, 0.5 + rng.random(n) * 2.0**-12, rng.random(n)
        ),
    }


@pytest.mark.parametrize("name", list(_large_inputs()))
@pytest.mark.parametrize("method", METHODS)
def test_same_bits_for_any_thread_count(name, method):
    a = _large_inputs()[name]
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(nk.rankdata(a, method))
    assert results[0].tobytes() == results[1].tobytes()
    assert results[0].tobytes() == results[2].tobytes()
    # The common result is right, not merely common.
    np.testing.assert_array_equal(results[0], ref.rankdata(a, method))


# ------------------------------------------------------------------------ 7. anchor


def _anchor_inputs():
    rng = np.random.default_rng(19)
    return {
        "continuous": rng.normal(size=500),
        "ties": np.round(rng.normal(size=500), 1),
        "ints": rng.integers(-5, 5, 500),
        "float32": np.round(rng.normal(size=500), 2).astype(np.float32),
        "2d": rng.integers(0, 9, (20, 25)),
        "bool": rng.random(100) < 0.3,
        "infs": np.array([np.inf, -np.inf, 0.0, -0.0, 1.0, np.inf]),
        "single": np.array([3.0]),
    }


@pytest.mark.parametrize("name", list(_anchor_inputs()))
@pytest.mark.parametrize("method", METHODS)
def test_matches_scipy_rankdata(name, method):
    stats = pytest.importorskip("scipy.stats")
    a = _anchor_inputs()[name]
    expected = stats.rankdata(a, method=method)  # ints for non-average methods in SciPy <= 1.17
    ours = nk.rankdata(a, method)
    assert ours.dtype == np.float64
    assert ours.shape == expected.shape
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(ref.rankdata(a, method), expected)


def test_scipy_agrees_on_empty_input():
    stats = pytest.importorskip("scipy.stats")
    for method in METHODS:
        expected = stats.rankdata(np.zeros(0), method=method)
        assert nk.rankdata(np.zeros(0), method).shape == expected.shape == (0,)
