"""Nearest neighbours: a KD-tree with the API of ``scipy.spatial.cKDTree``, and a KNN classifier.

The compiled tree keeps float32 data in float32, owns a copy of the points
reordered into tree order (each leaf is one contiguous block, with its exact
bounding box), and searches depth-first, nearer child first, with exact
pruning, in parallel over queries taken in the order of the leaf each one
falls in (consecutive searches then share cached leaves).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _kdtree_rules as rules

__all__ = ["KDTree", "knn_predict"]


class KDTree(rules.TreeAPI):
    """A KD-tree over n points of dimension m, for nearest-neighbour and radius searches.

    Each inner node splits its points in two along one dimension, recursively,
    until at most ``leafsize`` remain. ``split='midpoint'`` (the default)
    splits the widest side of the cell at its middle, sliding the plane to the
    nearest point if one side would be empty (SciPy's sliding-midpoint rule);
    ``split='variance'`` splits the dimension of largest variance at the
    median point (the design notes' rule).

    Parameters
    ----------
    data : (n, m) array_like
        The points; n >= 1, m >= 1, finite. float32 stays float32 (half the
        memory of float64); other real dtypes become float64.
    leafsize : int, default 16
        The most points a leaf holds (>= 1).
    split : {'midpoint', 'variance'}, default 'midpoint'
        The split rule (see above). Midpoint is the default because it
        measured faster: its build is about twice as fast (a split needs
        only the cell's box, not the points' variances and median) and its
        queries are within a few percent of the variance tree's.

    Attributes
    ----------
    data : (n, m) ndarray
        The points (read-only; float32 or float64).
    n, m : int
        Number and dimension of the points.
    leafsize : int
    size : int
        Number of nodes.
    nbytes : int
        Memory the tree owns (points in tree order, their ids, the nodes and
        leaf boxes); a float32 tree with n < 2**31 takes half of a float64 one.

    Raises
    ------
    ValueError
        If ``data`` is not (n, m) with n, m >= 1, holds NaN or inf, or
        ``leafsize < 1`` or ``split`` is unknown.
    TypeError
        If ``data`` has a complex, object or string dtype.

    Notes
    -----
    API of ``scipy.spatial.cKDTree`` (``query``, ``query_ball_point``,
    ``query_pairs``) plus the flat :meth:`query_radius`. The build is
    deterministic (the same tree for any thread count); above 2**18 points it
    uses ``nk.get_num_threads()`` threads (the top six levels and then 64
    subtrees as parallel tasks). Queries use them above 4096 query points.
    Picklable: unpickling rebuilds the tree.
    The sliding-midpoint rule switches to the median below depth
    ``2 log2(n) + 32``, which bounds the depth on adversarial data.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> tree = nk.KDTree(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 3.0]]))
    >>> d, i = tree.query([0.1, 0.1], k=2)
    >>> np.round(d, 4), i
    (array([0.1414, 0.9055]), array([0, 1]))
    >>> tree.query([[0.0, 0.0]], k=[2], p=1)
    (array([[1.]]), array([[1]]))
    >>> tree.query([0.0, 0.0], k=9, distance_upper_bound=1.5)[1]
    array([0, 1, 4, 4, 4, 4, 4, 4, 4])
    >>> tree.query_ball_point([0.0, 0.0], r=2.0)
    [0, 1, 2]
    >>> indices, offsets = tree.query_radius([[0.0, 0.0], [3.0, 3.0]], r=1.0, sort=True)
    >>> indices, offsets
    (array([0, 1, 3]), array([0, 2, 3]))
    >>> tree.query_pairs(2.0)
    {(0, 1), (0, 2)}
    >>> tree.query_pairs(2.0, output_type="ndarray")
    array([[0, 1],
           [0, 2]])
    """

    _checks_finite = False  # the binding does, with the same message

    def _build(self, data: np.ndarray, leafsize: int, split: str, n_threads: int) -> None:
        cls = _core.KDTreeF32 if data.dtype == np.float32 else _core.KDTreeF64
        self._tree = cls(data, leafsize, split, n_threads=n_threads)

    @property
    def size(self) -> int:
        """Number of nodes."""
        return self._tree.size

    @property
    def nbytes(self) -> int:
        """Bytes the tree owns (besides ``data``)."""
        return self._tree.nbytes

    def _knn(self, x, ranks, p, eps, upper, n_threads):
        return self._tree.query(x, ranks, p, eps, upper, n_threads=n_threads)

    def _radius(self, x, r, p, eps, sort, count_only, n_threads):
        return self._tree.query_radius(x, r, p, eps, sort, count_only, n_threads=n_threads)

    def _pairs(self, r, p, eps, n_threads):
        return self._tree.query_pairs(r, p, eps, n_threads=n_threads)


def knn_predict(X_train: ArrayLike, y_train: ArrayLike, X: ArrayLike, k: int = 5) -> NDArray:
    """Classify points by the majority label of their k nearest training points.

    ``y(x) = argmax_c #{j in kNN(x) : y_train[j] = c}`` with Euclidean
    distance; a tie goes to the smallest label.

    Parameters
    ----------
    X_train : (n, m) array_like
        Training points (finite); float32 stays float32.
    y_train : (n,) array_like
        Their labels (any sortable dtype: ints, strings, ...).
    X : (..., m) array_like
        Points to classify; cast to X_train's dtype.
    k : int, default 5
        Neighbours that vote, 1 <= k <= n.

    Returns
    -------
    (...) ndarray of y_train's dtype
        The predicted label of each point of ``X``.

    Raises
    ------
    ValueError
        If the shapes disagree, an input is not finite, or k is outside [1, n].

    Notes
    -----
    The KNN classifier of the design notes; equals
    ``sklearn.neighbors.KNeighborsClassifier(k, algorithm='kd_tree')`` except
    where its neighbours tie in distance at the k-th place (either set is a
    valid k-NN) or its votes tie (scikit-learn also picks the smallest label).
    Uses ``nk.get_num_threads()`` threads.

    Examples
    --------
    >>> import npkernels as nk
    >>> nk.knn_predict([[0.0], [1.0], [2.0], [10.0]], ["a", "a", "b", "b"], [[0.4], [9.0]], k=3)
    array(['a', 'b'], dtype='<U1')
    """
    return rules.knn_predict(KDTree, X_train, y_train, X, k)
