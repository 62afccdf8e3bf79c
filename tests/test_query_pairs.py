"""KDTree.query_pairs."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES, EXACT_P, P_VALUES, point_sets
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref


# 1. Matches the reference.
@pytest.mark.parametrize("split", ["midpoint", "variance"])
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, split, data):
    points = data.draw(point_sets(dtype))
    p = data.draw(st.sampled_from(EXACT_P))
    r = data.draw(st.sampled_from([0.0, 1.0, 2.0, 5.0]))
    got = nk.KDTree(points, leafsize=data.draw(st.integers(1, 5)), split=split).query_pairs(
        r, p=p, output_type="ndarray")
    want = ref.KDTree(points).query_pairs(r, p=p, output_type="ndarray")
    assert got.dtype == np.int64 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


# 2. Edge cases.
def test_no_pairs_and_duplicates():
    tree = nk.KDTree([[0.0], [5.0]])
    assert tree.query_pairs(1.0) == set()
    assert tree.query_pairs(1.0, output_type="ndarray").shape == (0, 2)
    assert nk.KDTree([[1.0], [1.0], [1.0]]).query_pairs(0.0) == {(0, 1), (0, 2), (1, 2)}
    assert nk.KDTree([[1.0]]).query_pairs(10.0) == set()


def test_ndarray_is_sorted_lexicographically_and_set_holds_ints():
    points = np.random.default_rng(0).random((400, 2))
    tree = nk.KDTree(points)
    arr = tree.query_pairs(0.1, output_type="ndarray")
    assert (arr[:, 0] < arr[:, 1]).all()
    order = np.lexsort((arr[:, 1], arr[:, 0]))
    np.testing.assert_array_equal(order, np.arange(len(arr)))
    pairs = tree.query_pairs(0.1)
    assert pairs == set(map(tuple, arr.tolist()))
    assert all(type(i) is int for pair in pairs for i in pair)


# 3./4. Layout and dtype: the data's layout does not matter (the tree owns a copy).
def test_layout_and_dtype_of_data():
    points = np.random.default_rng(1).random((300, 3))
    want = nk.KDTree(points).query_pairs(0.2, output_type="ndarray")
    got = nk.KDTree(np.asfortranarray(points)).query_pairs(0.2, output_type="ndarray")
    np.testing.assert_array_equal(got, want)
    got32 = nk.KDTree(points.astype(np.float32)).query_pairs(0.2, output_type="ndarray")
    assert got32.dtype == np.int64


# 5. Bad input.
@pytest.mark.parametrize("cls", [nk.KDTree, ref.KDTree], ids=["npkernels", "reference"])
def test_bad_input_messages(cls):
    tree = cls(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="r must be >= 0, got -1"):
        tree.query_pairs(-1)
    with pytest.raises(ValueError, match="output_type must be one of 'set', 'ndarray', got 'list'"):
        tree.query_pairs(1.0, output_type="list")
    with pytest.raises(ValueError, match="p must be >= 1"):
        tree.query_pairs(1.0, p=0.9)
    with pytest.raises(TypeError, match="r must be a real number, got str"):
        tree.query_pairs("1")


def test_core_guards_itself():
    tree = _core.KDTreeF32(np.zeros((3, 2), np.float32), 16, "midpoint", n_threads=1)
    with pytest.raises(ValueError, match="r must be >= 0"):
        tree.query_pairs(float("nan"), 2.0, 0.0, n_threads=1)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        tree.query_pairs(1.0, 2.0, -0.5, n_threads=1)


# 6. Thread invariance.
def test_same_bits_for_any_thread_count():
    points = np.random.default_rng(2).random((40_000, 3))
    tree = nk.KDTree(points)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(tree.query_pairs(0.02, output_type="ndarray").tobytes())
    assert results[0] == results[1] == results[2]


# 7. The anchor.
@pytest.mark.parametrize("p", P_VALUES)
def test_equals_ckdtree(p):
    spatial = pytest.importorskip("scipy.spatial")
    points = np.random.default_rng(3).integers(0, 8, (500, 2)).astype(float)  # exact-r pairs
    assert nk.KDTree(points, leafsize=3).query_pairs(2.0, p=p) == spatial.cKDTree(
        points).query_pairs(2.0, p=p)
    assert ref.KDTree(points).query_pairs(2.0, p=p) == spatial.cKDTree(points).query_pairs(2.0, p=p)
