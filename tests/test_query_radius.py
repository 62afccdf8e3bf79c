"""KDTree.query_ball_point and the flat KDTree.query_radius."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES, EXACT_P, P_VALUES, point_sets
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref

SPLITS = ("midpoint", "variance")


def as_sets(indices, offsets):
    return [set(indices[a:b].tolist()) for a, b in zip(offsets[:-1], offsets[1:])]


# 1. Matches the reference (radii drawn on the grid's exact distances too).
@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, split, data):
    points = data.draw(point_sets(dtype))
    x = points[: data.draw(st.integers(0, len(points)))] + dtype(0.5) * data.draw(st.integers(0, 1))
    p = data.draw(st.sampled_from(EXACT_P))  # pow may round differently: test_generic_p
    r = data.draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 30.0]))
    tree = nk.KDTree(points, leafsize=data.draw(st.integers(1, 5)), split=split)
    got = tree.query_radius(x, r, p=p, sort=True)
    want = ref.KDTree(points).query_radius(x, r, p=p, sort=True)
    for a, b in zip(got, want):
        assert a.dtype == np.int64
        np.testing.assert_array_equal(a, b)


def test_generic_p_sets_match_reference_away_from_the_boundary():
    rng = np.random.default_rng(0)
    points, x = rng.random((500, 3)), rng.random((40, 3))
    got = nk.KDTree(points).query_radius(x, 0.3, p=3.0, sort=True)
    want = ref.KDTree(points).query_radius(x, 0.3, p=3.0, sort=True)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


# 2. Edge cases and result types.
def test_ball_point_result_types_follow_scipy():
    points = np.random.default_rng(1).random((60, 2))
    tree = nk.KDTree(points)
    one = tree.query_ball_point(points[0], 0.3)
    assert isinstance(one, list) and all(isinstance(v, int) for v in one)
    many = tree.query_ball_point(points[:3].reshape(3, 1, 2), [[0.1], [0.2], [0.3]])
    assert many.dtype == object and many.shape == (3, 1)
    assert all(lst == sorted(lst) for lst in many.ravel())  # sorted by default for several
    count = tree.query_ball_point(points[0], 0.3, return_length=True)
    assert isinstance(count, np.int64) and count == len(one)
    counts = tree.query_ball_point(points[:4], 0.3, return_length=True)
    assert counts.dtype == np.int64 and counts.shape == (4,)
    assert sorted(tree.query_ball_point(points[0], 0.3, return_sorted=True)) == sorted(one)
    empty = tree.query_ball_point(np.zeros((0, 2)), 0.1)
    assert empty.shape == (0,) and empty.dtype == object


def test_radius_is_inclusive_and_zero_finds_duplicates():
    tree = nk.KDTree([[0.0], [1.0], [1.0], [3.0]])
    assert sorted(tree.query_ball_point([0.0], 1.0)) == [0, 1, 2]
    indices, offsets = tree.query_radius([[1.0], [2.0]], 0.0, sort=True)
    np.testing.assert_array_equal(indices, [1, 2])
    np.testing.assert_array_equal(offsets, [0, 2, 2])
    indices, offsets = tree.query_radius([[0.0]], np.inf)
    assert sorted(indices.tolist()) == [0, 1, 2, 3]


def test_per_query_radii_and_eps():
    rng = np.random.default_rng(2)
    points, x = rng.random((2000, 3)), rng.random((30, 3))
    r = rng.random(30) * 0.3
    tree = nk.KDTree(points)
    exact = as_sets(*tree.query_radius(x, r))
    approx = tree.query_ball_point(x, r, eps=0.5)
    for q in range(30):
        dist = np.linalg.norm(points[list(approx[q])] - x[q], axis=1)
        inner = set(np.flatnonzero(np.linalg.norm(points - x[q], axis=1) <= r[q] / 1.5).tolist())
        assert inner <= set(approx[q]) and (dist <= r[q] * 1.5 + 1e-12).all()
        assert exact[q] == set(tree.query_ball_point(x[q], r[q]))


# 3. Layouts.
def test_any_layout():
    rng = np.random.default_rng(3)
    tree = nk.KDTree(rng.random((300, 2)))
    x = rng.random((20, 2))
    want = tree.query_radius(x, 0.2, sort=True)
    for other in (np.asfortranarray(x), np.repeat(x, 2, axis=0)[::2], x[::-1].copy()[::-1]):
        got = tree.query_radius(other, 0.2, sort=True)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    grid = nk.KDTree(np.arange(10).reshape(5, 2))  # int data and int queries
    np.testing.assert_array_equal(grid.query_radius(np.array([[0, 1]]), 3, sort=True)[0], [0, 1])


# 4. dtype policy.
@pytest.mark.parametrize("dtype", DTYPES)
def test_index_dtype(dtype):
    tree = nk.KDTree(np.zeros((3, 2), dtype))
    indices, offsets = tree.query_radius(np.zeros((2, 2)), 1.0)
    assert indices.dtype == np.int64 and offsets.dtype == np.int64


# 5. Bad input.
@pytest.mark.parametrize("cls", [nk.KDTree, ref.KDTree], ids=["npkernels", "reference"])
def test_bad_input_messages(cls):
    tree = cls(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="r must be >= 0"):
        tree.query_ball_point([0.0, 0.0], -1.0)
    with pytest.raises(ValueError, match="r must be >= 0"):
        tree.query_radius([[0.0, 0.0]], np.nan)
    with pytest.raises(ValueError, match=r"r must broadcast to the query shape \(2,\)"):
        tree.query_radius(np.zeros((2, 2)), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\)"):
        tree.query_ball_point(np.zeros(3), 1.0)
    with pytest.raises(TypeError, match="return_length must be a bool"):
        tree.query_ball_point([0.0, 0.0], 1.0, return_length=1)
    with pytest.raises(ValueError, match="p must be >= 1"):
        tree.query_radius([[0.0, 0.0]], 1.0, p=0)


def test_core_guards_itself():
    tree = _core.KDTreeF64(np.zeros((5, 2)), 16, "midpoint", n_threads=1)
    with pytest.raises(ValueError, match=r"r must have shape \(2,\)"):
        tree.query_radius(np.zeros((2, 2)), np.zeros(3), 2.0, 0.0, False, False, n_threads=1)
    with pytest.raises(ValueError, match="r must be >= 0"):
        tree.query_radius(np.zeros((1, 2)), np.array([-1.0]), 2.0, 0.0, False, False, n_threads=1)
    with pytest.raises(TypeError, match="C-contiguous float64"):
        tree.query_radius(np.zeros((1, 2)), np.zeros(1, np.float32), 2.0, 0.0, False, False,
                          n_threads=1)


# 6. Thread invariance.
@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(dtype):
    rng = np.random.default_rng(4)
    tree = nk.KDTree(rng.random((40_000, 3)).astype(dtype))
    x = rng.random((6000, 3)).astype(dtype)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append([a.tobytes() for a in tree.query_radius(x, 0.05)])
            counts = tree.query_ball_point(x, 0.05, return_length=True)
            np.testing.assert_array_equal(counts, np.diff(tree.query_radius(x, 0.05)[1]))
    assert results[0] == results[1] == results[2]


# 7. The anchor.
@pytest.mark.parametrize("p", P_VALUES)
def test_sets_equal_ckdtree(p):
    spatial = pytest.importorskip("scipy.spatial")
    rng = np.random.default_rng(5)
    points = rng.integers(0, 6, (600, 3)).astype(float)  # many points exactly at distance r
    x = rng.integers(0, 6, (50, 3)).astype(float)
    ours = nk.KDTree(points, leafsize=4).query_ball_point(x, 2.0, p=p)
    theirs = spatial.cKDTree(points).query_ball_point(x, 2.0, p=p)
    assert [sorted(a) for a in ours] == [sorted(b) for b in theirs]
    counts = nk.KDTree(points).query_ball_point(x, 2.0, p=p, return_length=True)
    np.testing.assert_array_equal(counts, spatial.cKDTree(points).query_ball_point(
        x, 2.0, p=p, return_length=True))
    ref_sets = as_sets(*ref.KDTree(points).query_radius(x, 2.0, p=p))
    assert ref_sets == [set(b) for b in theirs]
