"""KDTree construction: structure, attributes, memory, pickling, errors, determinism."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from helpers import DTYPES, point_sets
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref

SPLITS = ("midpoint", "variance")


def check_structure(tree: nk.KDTree) -> None:
    """Every invariant of the node layout, against the data it was built from."""
    ids, cols, bounds = tree._tree.layout()
    dim, start, end, left, right = cols
    lo_max, hi_min = bounds
    data = tree.data
    assert np.array_equal(np.sort(ids), np.arange(tree.n))
    assert tree.size == dim.size
    assert (start[0], end[0]) == (0, tree.n)
    leaves = 0
    for k in range(tree.size):
        pts = data[ids[start[k]:end[k]]]
        assert end[k] > start[k]
        if dim[k] < 0:
            leaves += 1
            # A leaf is small, or holds copies of one point (nothing to split).
            assert end[k] - start[k] <= tree.leafsize or (pts == pts[0]).all()
            continue
        lk, rk = left[k], right[k]
        assert (start[lk], end[lk], end[rk]) == (start[k], start[rk], end[k])
        d = dim[k]
        lpts, rpts = data[ids[start[lk]:end[lk]]], data[ids[start[rk]:end[rk]]]
        assert lo_max[k] == lpts[:, d].max() and hi_min[k] == rpts[:, d].min()
        assert lo_max[k] <= hi_min[k]
    assert leaves == (tree.size + 1) // 2  # a full binary tree


# 1. Structure for any data (the queries are held to the reference in test_kdtree_query).
@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_structure_is_a_valid_kdtree(dtype, split, data):
    points = data.draw(point_sets(dtype))
    leafsize = data.draw(st.integers(1, 8))
    tree = nk.KDTree(points, leafsize=leafsize, split=split)
    assert (tree.n, tree.m, tree.leafsize, tree.split) == (*points.shape, leafsize, split)
    np.testing.assert_array_equal(tree.data, points)
    check_structure(tree)


# 2. Edge cases.
@pytest.mark.parametrize("split", SPLITS)
def test_one_point(split):
    tree = nk.KDTree([[1.0, 2.0]], split=split)
    assert (tree.n, tree.m, tree.size) == (1, 2, 1)
    d, i = tree.query([0.0, 2.0], k=2)
    np.testing.assert_array_equal(d, [1.0, np.inf])
    np.testing.assert_array_equal(i, [0, 1])


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("n", [1000, 50_000])  # built by one task / split in parallel
def test_identical_points_make_one_leaf(split, n):
    tree = nk.KDTree(np.ones((n, 3)), leafsize=4, split=split)
    assert tree.size == 1
    d, i = tree.query([1.0, 1.0, 2.0], k=3)
    np.testing.assert_array_equal(d, [1.0, 1.0, 1.0])
    assert len(set(i.tolist())) == 3


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("m", [1, 20])
def test_low_and_high_dimension(split, m):
    points = np.random.default_rng(m).random((3000, m))
    tree = nk.KDTree(points, split=split)
    check_structure(tree)
    x = np.random.default_rng(1).random((20, m))
    got = tree.query(x, k=3)
    want = ref.KDTree(points).query(x, k=3)
    np.testing.assert_array_equal(got[0], want[0])


@pytest.mark.parametrize("split", SPLITS)
def test_duplicates_and_heavy_ties(split):
    points = np.repeat(np.arange(10.0), 300)[:, None] * np.array([[1.0, 0.0]])
    tree = nk.KDTree(points, leafsize=5, split=split)
    check_structure(tree)
    assert nk.KDTree(points, leafsize=10_000).size == 1


def test_adversarial_midpoint_depth_stays_bounded():
    # Points at 2^-i: the sliding midpoint peels one point per level; the depth cap
    # switches to the median, so the build and the searches stay shallow.
    points = np.ldexp(1.0, -np.arange(1000))[:, None]
    tree = nk.KDTree(points, leafsize=1, split="midpoint")
    check_structure(tree)
    _, cols, _ = tree._tree.layout()
    depth = np.zeros(tree.size, np.int64)
    for k in range(tree.size):  # parents come before their children
        if cols[0, k] >= 0:
            depth[cols[3, k]] = depth[cols[4, k]] = depth[k] + 1
    assert depth.max() <= 2 * 10 + 32 + 10
    assert tree.query([[0.0]], k=1)[1][0] == 999


# 3. Layouts and integer inputs.
@pytest.mark.parametrize(
    "layout",
    [
        lambda a: np.asfortranarray(a),
        lambda a: np.repeat(a, 2, axis=0)[::2],
        lambda a: a[::-1][::-1],
        lambda a: np.ascontiguousarray(a[:, ::-1])[:, ::-1],
    ],
    ids=["fortran", "strided", "negative", "negative-columns"],
)
def test_any_layout_builds_the_same_tree(layout):
    points = np.random.default_rng(3).random((500, 3))
    base = nk.KDTree(points)
    other = nk.KDTree(layout(points))
    assert [a.tobytes() for a in other._tree.layout()] == [a.tobytes() for a in base._tree.layout()]


def test_int_and_bool_data_become_float64():
    assert nk.KDTree(np.arange(12).reshape(6, 2)).data.dtype == np.float64
    assert nk.KDTree(np.eye(4, dtype=bool)).data.dtype == np.float64


# 4. dtype policy, memory, read-only data, pickling.
def test_float32_stays_float32_and_takes_half_the_memory():
    points = np.random.default_rng(4).integers(0, 1000, (20_000, 3))
    t32 = nk.KDTree(points.astype(np.float32))
    t64 = nk.KDTree(points.astype(np.float64))
    assert t32.data.dtype == np.float32 and isinstance(t32._tree, _core.KDTreeF32)
    assert t64.data.dtype == np.float64
    assert t32.size == t64.size
    assert 2 * t32.nbytes == t64.nbytes


def test_data_is_read_only_and_the_callers_array_is_untouched():
    points = np.random.default_rng(5).random((50, 2))
    tree = nk.KDTree(points)
    assert not tree.data.flags.writeable
    assert points.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        tree.data[0, 0] = 1.0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("split", SPLITS)
def test_pickle_round_trip(dtype, split):
    points = np.random.default_rng(6).random((300, 3)).astype(dtype)
    tree = nk.KDTree(points, leafsize=7, split=split)
    back = pickle.loads(pickle.dumps(tree))
    assert (back.n, back.m, back.leafsize, back.split, back.data.dtype) == (
        300, 3, 7, split, np.dtype(dtype))
    assert [a.tobytes() for a in back._tree.layout()] == [a.tobytes() for a in tree._tree.layout()]
    x = points[:10] + 0.01
    assert back.query(x, k=4)[0].tobytes() == tree.query(x, k=4)[0].tobytes()
    assert pickle.loads(pickle.dumps(ref.KDTree(points))).n == 300


# 5. Bad input.
@pytest.mark.parametrize("cls", [nk.KDTree, ref.KDTree], ids=["npkernels", "reference"])
def test_bad_input_messages(cls):
    with pytest.raises(ValueError, match=r"data must have shape \(n, m\) .*, got \(3,\)"):
        cls([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"got \(0, 2\)"):
        cls(np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"got \(2, 0\)"):
        cls(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="data must be finite, got nan at index 3"):
        cls([[0.0, 1.0], [2.0, np.nan]])
    with pytest.raises(ValueError, match="data must be finite, got inf"):
        cls([[0.0, np.inf]])
    with pytest.raises(ValueError, match="leafsize must be >= 1, got 0"):
        cls([[0.0]], leafsize=0)
    with pytest.raises(TypeError, match="leafsize must be an integer, got float"):
        cls([[0.0]], leafsize=2.5)
    with pytest.raises(ValueError, match="split must be one of 'midpoint', 'variance', got 'x'"):
        cls([[0.0]], split="x")
    with pytest.raises(TypeError, match="data must have a real numeric dtype, got complex128"):
        cls(np.zeros((2, 2), complex))


def test_core_guards_itself():
    with pytest.raises(TypeError, match="C-contiguous float64"):
        _core.KDTreeF64(np.zeros((4, 2), np.float32), 16, "midpoint", n_threads=1)
    with pytest.raises(TypeError, match="not C-contiguous"):
        _core.KDTreeF64(np.zeros((4, 2))[::2], 16, "midpoint", n_threads=1)
    with pytest.raises(ValueError, match=r"data must have shape \(n, m\)"):
        _core.KDTreeF64(np.zeros(4), 16, "midpoint", n_threads=1)
    with pytest.raises(ValueError, match="n >= 1"):
        _core.KDTreeF32(np.zeros((0, 2), np.float32), 16, "midpoint", n_threads=1)
    with pytest.raises(ValueError, match="data must be finite"):
        _core.KDTreeF64(np.array([[np.nan]]), 16, "midpoint", n_threads=1)
    with pytest.raises(ValueError, match="leafsize must be >= 1"):
        _core.KDTreeF64(np.zeros((2, 2)), 0, "midpoint", n_threads=1)
    with pytest.raises(ValueError, match="split must be one of"):
        _core.KDTreeF64(np.zeros((2, 2)), 1, "median", n_threads=1)


# 6. Thread invariance: the same tree for any thread count.
@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_same_tree_for_any_thread_count(split, dtype):
    points = np.random.default_rng(7).random((300_000, 3)).astype(dtype)  # > 2^18: parallel
    layouts = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            layouts.append([a.tobytes() for a in nk.KDTree(points, split=split)._tree.layout()])
    assert layouts[0] == layouts[1] == layouts[2]


# 7. The anchor: both split rules answer exactly as scipy's cKDTree.
@pytest.mark.parametrize("split", SPLITS)
def test_both_rules_answer_like_ckdtree(split):
    spatial = pytest.importorskip("scipy.spatial")
    rng = np.random.default_rng(8)
    points, x = rng.normal(size=(5000, 3)), rng.normal(size=(300, 3))
    d, _ = nk.KDTree(points, split=split).query(x, k=5)
    np.testing.assert_array_equal(d, spatial.cKDTree(points).query(x, k=5)[0])
    assert nk.KDTree(points, split=split).n == spatial.cKDTree(points).n
