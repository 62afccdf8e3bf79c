"""knn_predict: the majority vote of the k nearest training points."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES, point_sets
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npkernels as nk
from npkernels import reference as ref


# 1. Matches the reference (on tie-free data: integer points with distinct distances
#    are hard to promise, so continuous points only).
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    points = data.draw(point_sets(dtype, kind="continuous", max_n=40))
    y = data.draw(hnp.arrays(np.int64, len(points), elements=st.integers(0, 3)))
    width = 32 if dtype == np.float32 else 64
    x = data.draw(hnp.arrays(dtype, (data.draw(st.integers(0, 6)), points.shape[1]),
                             elements=st.floats(-10, 10, width=width)))
    k = data.draw(st.integers(1, len(points)))
    got = nk.knn_predict(points, y, x, k=k)
    want = ref.knn_predict(points, y, x, k=k)
    # Where the k-th and (k+1)-th distances tie, either neighbour set is valid.
    d = ref.KDTree(points).query(x, k=list(range(1, min(k + 1, len(points)) + 1)))[0]
    clear = d[:, k - 1] < d[:, k] if k < len(points) else np.ones(len(x), bool)
    np.testing.assert_array_equal(got[clear], want[clear])
    assert got.dtype == y.dtype


# 2. Edge cases: ties go to the smallest label; k = n; labels of any dtype.
def test_vote_ties_go_to_the_smallest_label():
    X = [[0.0], [1.0], [2.0], [3.0]]
    assert nk.knn_predict(X, [7, 3, 7, 3], [[1.5]], k=4).tolist() == [3]
    assert nk.knn_predict(X, ["b", "a", "b", "a"], [[1.5]], k=2).tolist() == ["a"]
    assert nk.knn_predict(X, [5, 5, 1, 2], [[0.0]], k=1).tolist() == [5]


def test_query_shapes():
    X = np.random.default_rng(0).random((50, 2))
    y = (X[:, 0] > 0.5).astype(int)
    assert nk.knn_predict(X, y, X[0]).shape == ()
    assert nk.knn_predict(X, y, X[:6].reshape(2, 3, 2)).shape == (2, 3)
    assert nk.knn_predict(X, y, np.zeros((0, 2))).shape == (0,)


# 3./4. Layouts and dtypes.
def test_layouts_and_dtypes():
    rng = np.random.default_rng(1)
    X, x = rng.random((200, 3)), rng.random((30, 3))
    y = rng.integers(0, 3, 200)
    want = nk.knn_predict(X, y, x)
    np.testing.assert_array_equal(nk.knn_predict(np.asfortranarray(X), y, x[::-1].copy()[::-1]),
                                  want)
    np.testing.assert_array_equal(nk.knn_predict(X.astype(np.float32), y, x).shape, want.shape)
    assert nk.knn_predict(X, y.astype(np.float64), x).dtype == np.float64


# 5. Bad input.
@pytest.mark.parametrize("fn", [nk.knn_predict, ref.knn_predict], ids=["npkernels", "reference"])
def test_bad_input_messages(fn):
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"y_train must have shape \(4,\) like X_train, got \(3,\)"):
        fn(X, [0, 1, 2], X)
    with pytest.raises(ValueError, match=r"k must be in \[1, 4\] .*, got 5"):
        fn(X, [0, 1, 2, 3], X, k=5)
    with pytest.raises(ValueError, match=r"X must have shape \(\.\.\., 2\)"):
        fn(X, [0, 1, 2, 3], np.zeros((1, 3)), k=2)
    with pytest.raises(ValueError, match="X_train must be finite"):
        fn([[np.nan, 0.0]], [0], X, k=1)


# 6. Thread invariance.
def test_same_result_for_any_thread_count():
    rng = np.random.default_rng(2)
    X, x = rng.random((40_000, 3)), rng.random((6000, 3))
    y = rng.integers(0, 5, 40_000)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(nk.knn_predict(X, y, x, k=7).tobytes())
    assert results[0] == results[1] == results[2]


# 7. The anchor: scikit-learn's KNeighborsClassifier.
def test_matches_sklearn():
    neighbors = pytest.importorskip("sklearn.neighbors")
    rng = np.random.default_rng(3)
    X, x = rng.random((1000, 4)), rng.random((200, 4))
    y = (X.sum(axis=1) + 0.3 * rng.random(1000) > 2.1).astype(int) + (X[:, 0] > 0.7)
    clf = neighbors.KNeighborsClassifier(n_neighbors=5, algorithm="kd_tree").fit(X, y)
    np.testing.assert_array_equal(nk.knn_predict(X, y, x, k=5), clf.predict(x))
    np.testing.assert_array_equal(ref.knn_predict(X, y, x, k=5), clf.predict(x))
