"""KDTree.query (k nearest neighbours) against the brute-force reference and scipy's cKDTree."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES, EXACT_P, P_VALUES, assert_knn_equivalent, point_sets
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref

SPLITS = ("midpoint", "variance")


def _queries(draw, points, q_max=8):
    q = draw(st.integers(0, q_max))
    width = 32 if points.dtype == np.float32 else 64
    near = draw(hnp.arrays(points.dtype, (q, points.shape[1]),
                           elements=st.floats(-11, 11, width=width)))
    if draw(st.booleans()):  # some queries exactly on data points
        j = min(q // 2, len(points))
        near[:j] = points[:j]
    return near


# 1. Matches the reference.
@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, split, data):
    points = data.draw(point_sets(dtype))
    x = _queries(data.draw, points)
    p = data.draw(st.sampled_from(P_VALUES))
    k = data.draw(st.one_of(st.integers(1, 8), st.lists(st.integers(1, 8), min_size=1, max_size=4, unique=True)))
    ub = data.draw(st.one_of(st.just(np.inf), st.floats(0, 20)))
    leafsize = data.draw(st.integers(1, 6))
    got = nk.KDTree(points, leafsize=leafsize, split=split).query(
        x, k=k, p=p, distance_upper_bound=ub)
    want = ref.KDTree(points).query(x, k=k, p=p, distance_upper_bound=ub)
    shape = (len(x), np.size(k)) if not isinstance(k, int) else (len(x), k)
    assert_knn_equivalent(points, x, [a.reshape(shape) for a in got],
                          [a.reshape(shape) for a in want], p, exact=p in EXACT_P)


# 2. Edge cases.
def test_missing_neighbours_are_inf_and_n():
    tree = nk.KDTree([[0.0], [1.0], [5.0]])
    d, i = tree.query([[0.0]], k=5)
    np.testing.assert_array_equal(d, [[0.0, 1.0, 5.0, np.inf, np.inf]])
    np.testing.assert_array_equal(i, [[0, 1, 2, 3, 3]])
    d, i = tree.query([[0.0]], k=3, distance_upper_bound=1.0)  # strict: d < 1
    np.testing.assert_array_equal(d, [[0.0, np.inf, np.inf]])
    np.testing.assert_array_equal(i, [[0, 3, 3]])
    d, i = tree.query([[0.0]], k=2, distance_upper_bound=0.0)
    np.testing.assert_array_equal(i, [[3, 3]])


def test_result_shapes_follow_scipy():
    tree = nk.KDTree(np.random.default_rng(0).random((40, 2)))
    d, i = tree.query([0.5, 0.5])
    assert isinstance(d, np.float64) and isinstance(i, np.int64)
    assert tree.query([0.5, 0.5], k=3)[0].shape == (3,)
    assert tree.query([[0.5, 0.5]])[0].shape == (1,)
    assert tree.query([[0.5, 0.5]], k=[1])[0].shape == (1, 1)
    assert tree.query(np.zeros((4, 3, 2)), k=2)[1].shape == (4, 3, 2)
    assert tree.query(np.zeros((0, 2)), k=2)[0].shape == (0, 2)
    assert tree.query(np.zeros((0, 2)))[0].shape == (0,)


def test_rank_list_in_any_order_with_repeats():
    points = np.random.default_rng(1).random((100, 3))
    tree = nk.KDTree(points)
    x = points[:5] + 0.01
    d_all, i_all = tree.query(x, k=6)
    d, i = tree.query(x, k=[6, 2, 2])
    np.testing.assert_array_equal(d, d_all[:, [5, 1, 1]])
    np.testing.assert_array_equal(i, i_all[:, [5, 1, 1]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_ties_on_a_grid(dtype):
    g = np.stack(np.meshgrid(np.arange(6), np.arange(6)), -1).reshape(-1, 2).astype(dtype)
    x = np.array([[2.5, 2.5], [0.0, 0.0], [2.0, 3.0]], dtype)
    for p in P_VALUES:
        got = nk.KDTree(g, leafsize=2).query(x, k=9, p=p)
        want = ref.KDTree(g).query(x, k=9, p=p)
        assert_knn_equivalent(g, x, got, want, p, exact=p in EXACT_P)


def test_eps_gives_a_bounded_approximation():
    rng = np.random.default_rng(2)
    points, x = rng.random((5000, 3)), rng.random((200, 3))
    exact = nk.KDTree(points).query(x, k=4)[0]
    approx, idx = nk.KDTree(points).query(x, k=4, eps=0.5)
    assert (approx <= 1.5 * exact * (1 + 1e-12)).all() and (approx >= exact).all()
    assert (np.linalg.norm(points[idx] - x[:, None], axis=2) == approx).all()


def test_k_larger_than_n_and_d_20():
    points = np.random.default_rng(3).random((30, 20))
    d, i = nk.KDTree(points, leafsize=3).query(points[:4], k=50)
    assert (i[:, 30:] == 30).all() and np.isinf(d[:, 30:]).all()
    np.testing.assert_array_equal(d[:, :30], ref.KDTree(points).query(points[:4], k=50)[0][:, :30])


# 3. Layouts.
@pytest.mark.parametrize(
    "layout",
    [np.asfortranarray, lambda a: np.repeat(a, 2, axis=0)[::2], lambda a: a[::-1].copy()[::-1]],
    ids=["fortran", "strided", "negative"],
)
def test_any_query_layout(layout):
    rng = np.random.default_rng(4)
    tree = nk.KDTree(rng.random((300, 3)))
    x = rng.random((50, 3))
    want = tree.query(x, k=3)
    got = tree.query(layout(x), k=3)
    assert got[0].tobytes() == want[0].tobytes() and got[1].tobytes() == want[1].tobytes()


def test_int_queries():
    tree = nk.KDTree(np.arange(20.0).reshape(10, 2))
    np.testing.assert_array_equal(tree.query(np.array([[0, 1]]), k=1)[1], [0])


# 4. dtype policy.
def test_dtypes():
    points = np.random.default_rng(5).random((100, 3))
    d32, i32 = nk.KDTree(points.astype(np.float32)).query(points[:3], k=2)  # float64 queries
    assert d32.dtype == np.float32 and i32.dtype == np.int64
    d64, i64 = nk.KDTree(points).query(points[:3].astype(np.float32), k=2)
    assert d64.dtype == np.float64 and i64.dtype == np.int64


# 5. Bad input.
@pytest.mark.parametrize("cls", [nk.KDTree, ref.KDTree], ids=["npkernels", "reference"])
def test_bad_input_messages(cls):
    tree = cls(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\), got \(3, 3\)"):
        tree.query(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="x must be finite, got nan at index 1"):
        tree.query([[0.0, np.nan]])
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        tree.query([0.0, 0.0], k=0)
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        tree.query([0.0, 0.0], k=[2, 0])
    with pytest.raises(ValueError, match="k must not be empty"):
        tree.query([0.0, 0.0], k=[])
    with pytest.raises(TypeError, match="k must be an integer or a sequence of integers"):
        tree.query([0.0, 0.0], k=1.5)
    with pytest.raises(ValueError, match="p must be >= 1, got 0.5"):
        tree.query([0.0, 0.0], p=0.5)
    with pytest.raises(ValueError, match="p must be >= 1, got nan"):
        tree.query([0.0, 0.0], p=np.nan)
    with pytest.raises(ValueError, match="eps must be >= 0, got -1"):
        tree.query([0.0, 0.0], eps=-1)
    with pytest.raises(ValueError, match="distance_upper_bound must not be NaN"):
        tree.query([0.0, 0.0], distance_upper_bound=np.nan)
    with pytest.raises(ValueError, match="workers must be -1 or > 0, got 0"):
        tree.query([0.0, 0.0], workers=0)
    with pytest.raises(TypeError, match="x must have a real numeric dtype"):
        tree.query(np.zeros(2, complex))


def test_core_guards_itself():
    tree = _core.KDTreeF64(np.zeros((5, 2)), 16, "midpoint", n_threads=1)
    ranks = np.array([1], np.int64)
    with pytest.raises(TypeError, match="C-contiguous float64"):
        tree.query(np.zeros((1, 2), np.float32), ranks, 2.0, 0.0, np.inf, n_threads=1)
    with pytest.raises(ValueError, match=r"x must have shape \(n_queries, 2\)"):
        tree.query(np.zeros((1, 3)), ranks, 2.0, 0.0, np.inf, n_threads=1)
    with pytest.raises(ValueError, match="k must be increasing ranks"):
        tree.query(np.zeros((1, 2)), np.array([2, 1]), 2.0, 0.0, np.inf, n_threads=1)
    with pytest.raises(ValueError, match="p must be >= 1"):
        tree.query(np.zeros((1, 2)), ranks, 0.0, 0.0, np.inf, n_threads=1)
    with pytest.raises(ValueError, match="x must be finite"):
        tree.query(np.full((1, 2), np.inf), ranks, 2.0, 0.0, np.inf, n_threads=1)


# 6. Thread invariance.
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 3.0])
def test_same_bits_for_any_thread_count(dtype, p):
    rng = np.random.default_rng(6)
    tree = nk.KDTree(rng.random((40_000, 3)).astype(dtype))
    x = rng.random((6000, 3)).astype(dtype)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append([a.tobytes() for a in tree.query(x, k=5, p=p)])
    results.append([a.tobytes() for a in tree.query(x, k=5, p=p, workers=-1)])
    results.append([a.tobytes() for a in tree.query(x, k=5, p=p, workers=2)])
    assert all(r == results[0] for r in results)


# 7. The anchor: scipy.spatial.cKDTree, distances bit for bit.
@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("m", [3, 8, 9])
def test_distances_equal_ckdtree_exactly(split, p, m):
    spatial = pytest.importorskip("scipy.spatial")
    rng = np.random.default_rng(m)
    points, x = rng.normal(size=(3000, m)), rng.normal(size=(200, m))
    ours = nk.KDTree(points, split=split).query(x, k=[1, 4, 9], p=p, distance_upper_bound=3.0)
    theirs = spatial.cKDTree(points).query(x, k=[1, 4, 9], p=p, distance_upper_bound=3.0)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert_knn_equivalent(points, x, ours, theirs, p, exact=p in EXACT_P)


def test_tied_indices_match_ckdtree_as_sets():
    spatial = pytest.importorskip("scipy.spatial")
    g = np.random.default_rng(7).integers(0, 4, (400, 2)).astype(float)
    x = np.random.default_rng(8).integers(0, 4, (30, 2)).astype(float)
    d, i = nk.KDTree(g, leafsize=3).query(x, k=12)
    dc, ic = spatial.cKDTree(g).query(x, k=12)
    np.testing.assert_array_equal(d, dc)
    for q in range(len(x)):
        full = d[q] < d[q, -1]  # below the last distance both sets are complete
        assert set(i[q][full]) == set(ic[q][full])


def test_float32_tree_against_ckdtree_on_the_float64_cast():
    spatial = pytest.importorskip("scipy.spatial")
    rng = np.random.default_rng(9)
    points = rng.random((4000, 3)).astype(np.float32)
    x = rng.random((100, 3)).astype(np.float32)
    for p in P_VALUES:
        d, _ = nk.KDTree(points).query(x, k=5, p=p)
        dc, _ = spatial.cKDTree(points.astype(np.float64)).query(x.astype(np.float64), k=5, p=p)
        # float32 arithmetic: a few float32 ulps of the float64 answer.
        np.testing.assert_allclose(d, dc, rtol=1e-5, atol=1e-6)


def test_reference_matches_ckdtree():
    spatial = pytest.importorskip("scipy.spatial")
    rng = np.random.default_rng(10)
    points, x = rng.random((500, 4)), rng.random((50, 4))
    for p in EXACT_P:
        np.testing.assert_array_equal(ref.KDTree(points).query(x, k=3, p=p)[0],
                                      spatial.cKDTree(points).query(x, k=3, p=p)[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_k_uses_the_heap_path(dtype):
    # k > 32 sorts the heap by heapsort instead of insertion: same answers.
    points = np.random.default_rng(11).integers(0, 5, (400, 2)).astype(dtype)  # many ties
    x = np.random.default_rng(12).random((10, 2)).astype(dtype) * 4
    got = nk.KDTree(points, leafsize=4).query(x, k=100)
    want = ref.KDTree(points).query(x, k=100)
    assert_knn_equivalent(points, x, got, want, 2.0, exact=True)
