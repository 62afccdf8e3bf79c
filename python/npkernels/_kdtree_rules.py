"""The KD-tree API shared by the compiled tree and its brute-force NumPy twin.

:class:`TreeAPI` validates every argument, shapes every result and writes every
message; a subclass supplies four primitives on validated, flattened inputs
(``_build``, ``_knn``, ``_radius``, ``_pairs``), so the fast path and the
reference reject the same inputs the same way and return the same types.
"""

from __future__ import annotations

import abc
import numbers
import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._threads import MAX_THREADS, get_num_threads
from ._validation import (
    as_bool,
    as_float_array,
    as_int,
    as_ndarray,
    check_choice,
    check_finite,
    check_output_size,
)

SPLITS = ("midpoint", "variance")
# A pair in query_pairs' set: a 2-tuple of ints plus its hash-table slot, roughly.
_SET_BYTES_PER_PAIR = 160
OUTPUT_TYPES = ("set", "ndarray")


def check_data(data: ArrayLike, finite: bool = True, name: str = "data") -> np.ndarray:
    """``data`` as a read-only (n, m) float32/float64 array with n, m >= 1 (and finite)."""
    arr = as_float_array(data, name)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        msg = f"{name} must have shape (n, m) with n >= 1 and m >= 1, got {arr.shape}"
        raise ValueError(msg)
    if finite:
        check_finite(arr, name)
    view = arr.view()
    view.flags.writeable = False  # the tree was built from these values
    return view


def as_real(value: object, name: str) -> float:
    """A real number (not bool) as float; TypeError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"{name} must be a real number, got {type(value).__name__}"
        raise TypeError(msg)
    return float(value)


def check_at_least(value: object, name: str, low: float) -> float:
    """A real number >= low (inf allowed, NaN not), as float."""
    v = as_real(value, name)
    if not v >= low:
        msg = f"{name} must be >= {low:g}, got {value}"
        raise ValueError(msg)
    return v


def check_p(p: object) -> float:
    """The Minkowski order as a float in [1, inf]."""
    return check_at_least(p, "p", 1.0)


def check_nonnegative(value: object, name: str) -> float:
    """A real number >= 0 (inf allowed), as float."""
    return check_at_least(value, name, 0.0)


def check_workers(workers: object) -> int:
    """Threads for one call: None = the library setting, -1 = every core, else n >= 1."""
    if workers is None:
        return get_num_threads()
    n = as_int(workers, "workers")
    if n == -1:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1
        )
    if n < 1:
        msg = f"workers must be -1 or > 0, got {n}"
        raise ValueError(msg)
    if n > MAX_THREADS:
        msg = f"workers must be -1 or at most {MAX_THREADS}, got {n}"
        raise ValueError(msg)
    return n


def check_ranks(k: object) -> tuple[np.ndarray, bool]:
    """(the requested 1-based ranks as int64, whether to squeeze the last axis)."""
    if isinstance(k, (numbers.Integral, np.integer)) and not isinstance(k, (bool, np.bool_)):
        kk = int(k)
        if kk < 1:
            msg = f"k must be >= 1, got {kk}"
            raise ValueError(msg)
        check_output_size((kk,), 8, "k", "a list of ranks")
        return np.arange(1, kk + 1, dtype=np.int64), kk == 1
    try:
        ranks = np.asarray(k)
    except Exception:  # noqa: BLE001 - any failure means "not a sequence of ints"
        ranks = np.asarray(None)
    if ranks.ndim == 1 and ranks.size == 0:
        msg = "k must not be empty"
        raise ValueError(msg)
    if ranks.ndim != 1 or ranks.dtype.kind not in "iu":
        msg = f"k must be an integer or a sequence of integers, got {k!r}"
        raise TypeError(msg)
    if ranks.min() < 1:
        msg = f"k must be >= 1, got {ranks.min()}"
        raise ValueError(msg)
    return ranks.astype(np.int64), False


class TreeAPI(abc.ABC):
    """Arguments, results and pickling of a KD-tree over ``data``; see npkernels.KDTree."""

    # The compiled tree finds NaN and inf itself (in parallel, while building), with the
    # same message; the NumPy twin checks here.
    _checks_finite = True

    def __init__(self, data: ArrayLike, leafsize: int = 16, split: str = "midpoint") -> None:
        self._data = check_data(data, finite=self._checks_finite)
        leafsize = as_int(leafsize, "leafsize")
        if leafsize < 1:
            msg = f"leafsize must be >= 1, got {leafsize}"
            raise ValueError(msg)
        if leafsize >= 2**63:
            msg = f"leafsize must be < 2**63, got {leafsize}"
            raise ValueError(msg)
        check_choice(split, "split", SPLITS)
        self.leafsize = leafsize
        self.split = str(split)
        self.n, self.m = self._data.shape
        self._build(self._data, leafsize, self.split, get_num_threads())

    # -- what a subclass provides ----------------------------------------------------------
    @abc.abstractmethod
    def _build(self, data: np.ndarray, leafsize: int, split: str, n_threads: int) -> None:
        """Implemented by the compiled tree and by its NumPy twin."""

    @abc.abstractmethod
    def _knn(self, x, ranks, p, eps, upper, n_threads):  # -> (dist (q, r), index (q, r))
        """Implemented by the compiled tree and by its NumPy twin."""

    @abc.abstractmethod
    def _radius(self, x, r, p, eps, sort, count_only, n_threads):  # -> (indices, offsets)
        """Implemented by the compiled tree and by its NumPy twin."""

    @abc.abstractmethod
    def _pairs(self, r, p, eps, n_threads):  # -> (P, 2) int64, lexicographic
        """Implemented by the compiled tree and by its NumPy twin."""

    # -- shared behaviour -------------------------------------------------------------------
    @property
    def data(self) -> NDArray[np.floating]:
        """The points, (n, m), float32 or float64, read-only."""
        return self._data

    def __reduce__(self) -> tuple[Any, ...]:
        # The build is deterministic: unpickling rebuilds the identical tree.
        return (type(self), (np.array(self._data), self.leafsize, self.split))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n={self.n}, m={self.m}, dtype={self._data.dtype}, "
                f"leafsize={self.leafsize}, split={self.split!r})")

    def _diameter(self, p: float) -> float:
        """The p-norm diagonal of the data's bounding box: no two points are farther apart."""
        if not hasattr(self, "_span"):
            data = self._data.astype(np.float64)
            self._span = data.max(axis=0) - data.min(axis=0)
        with np.errstate(all="ignore"):
            if np.isinf(p):
                return float(self._span.max())
            return float(np.sum(self._span**p) ** (1.0 / p))

    def _queries(self, x: ArrayLike, name: str = "x") -> tuple[np.ndarray, tuple[int, ...]]:
        """(x as a C-contiguous (q, m) array of the tree's dtype, x's leading shape)."""
        arr = as_float_array(x, name, dtype=self._data.dtype)
        if arr.ndim < 1 or arr.shape[-1] != self.m:
            msg = f"{name} must have shape (..., {self.m}), got {arr.shape}"
            raise ValueError(msg)
        if self._checks_finite:
            check_finite(arr, name)
        return arr.reshape(-1, self.m), arr.shape[:-1]

    def _radii(self, r: ArrayLike, lead: tuple[int, ...]) -> np.ndarray:
        rr = as_float_array(r, "r", dtype=np.float64)
        try:
            rr = np.broadcast_to(rr, lead)
        except ValueError:
            msg = f"r must broadcast to the query shape {lead}, got {np.shape(r)}"
            raise ValueError(msg) from None
        if rr.size and not (rr >= 0).all():
            msg = f"r must be >= 0 (and not NaN), got {rr[~(rr >= 0)].flat[0]}"
            raise ValueError(msg)
        return np.ascontiguousarray(rr).reshape(-1)

    def query(
        self,
        x: ArrayLike,
        k: int | ArrayLike = 1,
        p: float = 2,
        distance_upper_bound: float = np.inf,
        eps: float = 0,
        workers: int | None = None,
    ) -> tuple[Any, Any]:
        """The k nearest neighbours of each query point.

        ``d(x, y) = (sum_j |x_j - y_j|^p)^(1/p)`` (``max_j |x_j - y_j|`` for
        ``p = inf``); for each query the neighbours of ranks ``k``, nearest first.

        Parameters
        ----------
        x : (..., m) array_like
            Query points; cast to the tree's dtype. Must be finite.
        k : int or sequence of int
            An int asks for ranks ``1..k``; a sequence for just those ranks
            (1-based, any order, e.g. ``[1, 5]``).
        p : float in [1, inf]
            Minkowski order (1 Manhattan, 2 Euclidean, inf Chebyshev).
        distance_upper_bound : float
            Only neighbours with ``d < distance_upper_bound`` (strict) count.
        eps : float >= 0
            Approximate search: the r-th neighbour returned is within a factor
            ``1 + eps`` of the true r-th.
        workers : int, optional
            Threads; None uses ``nk.get_num_threads()``, -1 every core.

        Returns
        -------
        d : (..., len(k)) ndarray of the tree's dtype
            Distances, ascending; ``inf`` for a missing neighbour (fewer than
            rank r within the bound). With an int ``k == 1`` the last axis is
            dropped; a single 1-D query with ``k == 1`` gives scalars.
        i : (..., len(k)) ndarray of int64
            Indices into ``data``; ``n`` for a missing neighbour.

        Raises
        ------
        ValueError
            If ``x`` has the wrong last dimension or is not finite, ``k < 1``,
            ``p < 1``, ``eps < 0``, ``distance_upper_bound`` is NaN or
            ``workers`` is 0 or below -1.
        TypeError
            If ``k`` is not an integer or a sequence of integers, or ``x`` has
            a complex, object or string dtype.
        MemoryError
            If the ``(..., len(k))`` results cannot fit in memory (checked before
            searching).

        Notes
        -----
        Matches ``scipy.spatial.cKDTree.query`` (its shapes, fill values and
        strict bound). The positional order of ``p`` and ``eps`` follows SPEC
        (``p`` first), SciPy's is ``eps`` first: pass them by keyword to be
        portable. Distances equal SciPy's bit for bit for float64 (same
        summation order, ``sqrt`` / ``pow(s, 1/p)`` at output); float32 trees
        compute in float32. Among equidistant neighbours the index order may
        differ from SciPy's (ties come out smallest index first here, within
        what the search found). Releases the GIL; results are the same for any
        thread count.
        """
        xx, lead = self._queries(x)
        ranks, squeeze = check_ranks(k)
        p = check_p(p)
        eps = check_nonnegative(eps, "eps")
        upper = as_real(distance_upper_bound, "distance_upper_bound")
        if np.isnan(upper):
            msg = "distance_upper_bound must not be NaN"
            raise ValueError(msg)
        n_threads = check_workers(workers)
        check_output_size((xx.shape[0], ranks.size), xx.dtype.itemsize + 8, "k",
                          "distances and indices")
        unique = np.unique(ranks)
        d, i = self._knn(xx, unique, p, eps, upper, n_threads)
        if unique.size != ranks.size or not np.array_equal(unique, ranks):
            where = np.searchsorted(unique, ranks)
            d, i = d[:, where], i[:, where]
        d = d.reshape(*lead, ranks.size)
        i = i.reshape(*lead, ranks.size)
        if squeeze:
            d, i = d[..., 0], i[..., 0]
        if d.ndim == 0:
            return d[()], i[()]
        return d, i

    def query_ball_point(
        self,
        x: ArrayLike,
        r: ArrayLike,
        p: float = 2,
        eps: float = 0,
        return_sorted: bool | None = None,
        return_length: bool = False,
        workers: int | None = None,
    ) -> Any:
        """All points within distance ``r`` (``d <= r``) of each query point.

        Parameters
        ----------
        x : (..., m) array_like
            Query points; cast to the tree's dtype. Must be finite.
        r : float or array_like broadcastable to ``x.shape[:-1]``
            Radii, >= 0.
        p : float in [1, inf]
            Minkowski order.
        eps : float >= 0
            Approximate search: cells farther than ``r / (1 + eps)`` may be
            skipped and cells nearer than ``r (1 + eps)`` taken whole.
        return_sorted : bool, optional
            Sort each list by index; None sorts only for several query points
            (SciPy's legacy rule).
        return_length : bool
            Return the counts instead of the lists.
        workers : int, optional
            Threads; None uses ``nk.get_num_threads()``, -1 every core.

        Returns
        -------
        list of int, or (...) ndarray of lists (object)
            For a single 1-D query a list; else an object array of shape
            ``x.shape[:-1]`` holding lists. With ``return_length``, an int64
            count (scalar for a single query, else an array).

        Raises
        ------
        ValueError
            If ``x`` is malformed or not finite, ``r < 0`` or NaN, ``p < 1``,
            ``eps < 0``.

        Notes
        -----
        Matches ``scipy.spatial.cKDTree.query_ball_point``. The result sets
        equal SciPy's (float64; the order of unsorted lists is this tree's
        traversal order). Building Python lists dominates for large results:
        :meth:`query_radius` returns the same as two flat arrays.
        """
        xx, lead = self._queries(x)
        radii = self._radii(r, lead)
        p = check_p(p)
        eps = check_nonnegative(eps, "eps")
        return_length = as_bool(return_length, "return_length")
        single = len(lead) == 0
        sort = (not single) if return_sorted is None else as_bool(return_sorted, "return_sorted")
        n_threads = check_workers(workers)
        indices, offsets = self._radius(xx, radii, p, eps, sort and not return_length,
                                        return_length, n_threads)
        if return_length:
            counts = np.diff(offsets).reshape(lead)
            return counts[()] if single else counts
        flat = indices.tolist()
        bounds = offsets.tolist()
        lists = [flat[bounds[q]:bounds[q + 1]] for q in range(len(bounds) - 1)]
        if single:
            return lists[0]
        out = np.empty(len(lists), dtype=object)
        out[:] = lists
        return out.reshape(lead)

    def query_radius(
        self, x: ArrayLike, r: ArrayLike, p: float = 2, sort: bool = False
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """All points within distance ``r`` of each query, as flat CSR arrays.

        The neighbours of query ``q`` (in the flattened order of
        ``x.shape[:-1]``) are ``indices[offsets[q]:offsets[q + 1]]``.

        Parameters
        ----------
        x : (..., m) array_like
            Query points; cast to the tree's dtype. Must be finite.
        r : float or array_like broadcastable to ``x.shape[:-1]``
            Radii, >= 0; points with ``d <= r`` are returned.
        p : float in [1, inf]
            Minkowski order.
        sort : bool
            Sort each query's indices ascending (else traversal order).

        Returns
        -------
        indices : (total,) ndarray of int64
        offsets : (n_queries + 1,) ndarray of int64

        Raises
        ------
        ValueError
            As :meth:`query_ball_point`.

        Notes
        -----
        The same sets as ``query_ball_point`` without building Python lists
        (scipy/scipy#8838). Uses ``nk.get_num_threads()`` threads; the result
        is the same for any thread count.
        """
        xx, lead = self._queries(x)
        radii = self._radii(r, lead)
        p = check_p(p)
        sort = as_bool(sort, "sort")
        return self._radius(xx, radii, p, 0.0, sort, False, get_num_threads())

    def query_pairs(
        self, r: float, p: float = 2, eps: float = 0, output_type: str = "set"
    ) -> set[tuple[int, int]] | NDArray[np.int64]:
        """All pairs ``(i, j)``, ``i < j``, of data points with ``d <= r``.

        Parameters
        ----------
        r : float >= 0
        p : float in [1, inf]
        eps : float >= 0
            Approximate search, as in :meth:`query_ball_point`.
        output_type : {'set', 'ndarray'}
            A set of int tuples (SciPy's default), or a (P, 2) int64 array
            sorted lexicographically.

        Returns
        -------
        set of (int, int) or (P, 2) ndarray of int64

        Raises
        ------
        ValueError
            If ``r < 0`` or NaN, ``p < 1``, ``eps < 0`` or ``output_type`` is
            unknown.
        MemoryError
            If ``r`` covers the whole data set and its ``n (n - 1) / 2`` pairs
            cannot fit in memory (checked before searching).

        Notes
        -----
        Matches ``scipy.spatial.cKDTree.query_pairs``; SciPy's ``'ndarray'``
        is in traversal order, this one is sorted (deterministic). Uses
        ``nk.get_num_threads()`` threads.
        """
        r = check_nonnegative(r, "r")
        p = check_p(p)
        eps = check_nonnegative(eps, "eps")
        check_choice(output_type, "output_type", OUTPUT_TYPES)
        if r >= self._diameter(p):  # every pair qualifies: the result size is known
            n = self.n
            per_pair = 16 if output_type == "ndarray" else 16 + _SET_BYTES_PER_PAIR
            check_output_size((n * (n - 1) // 2,), per_pair, "r", "every pair of points (r "
                              "covers the whole data set)")
        pairs = self._pairs(r, p, eps, get_num_threads())
        if output_type == "ndarray":
            return pairs
        return set(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist()))


def check_labels(y_train: ArrayLike, n_train: int) -> np.ndarray:
    """y_train as an (n_train,) array (any sortable dtype)."""
    y = as_ndarray(y_train, "y_train")
    if y.shape != (n_train,):
        msg = f"y_train must have shape ({n_train},) like X_train, got {y.shape}"
        raise ValueError(msg)
    return y


def majority_vote(y: np.ndarray, neighbors: np.ndarray) -> np.ndarray:
    """Per row of ``neighbors`` (indices into y), the most frequent label; ties to the smallest."""
    labels, codes = np.unique(y, return_inverse=True)
    codes = codes.reshape(-1)
    n_classes = labels.size
    rows = neighbors.shape[0]
    flat = (np.arange(rows)[:, None] * n_classes + codes[neighbors]).reshape(-1)
    votes = np.bincount(flat, minlength=rows * n_classes).reshape(rows, n_classes)
    return labels[np.argmax(votes, axis=1)]  # argmax: first maximum = smallest label


def check_k_train(k: object, n_train: int) -> int:
    """k for knn_predict: an integer in [1, n_train]."""
    kk = as_int(k, "k")
    if not 1 <= kk <= n_train:
        msg = f"k must be in [1, {n_train}] (the number of training points), got {kk}"
        raise ValueError(msg)
    return kk


def knn_predict(tree_cls: type[TreeAPI], X_train: ArrayLike, y_train: ArrayLike, X: ArrayLike,
                k: object) -> np.ndarray:
    """knn_predict on a tree of ``tree_cls`` (the compiled tree or the brute-force twin)."""
    train = check_data(X_train, finite=True, name="X_train")
    tree = tree_cls(train)
    y = check_labels(y_train, tree.n)
    kk = check_k_train(k, tree.n)
    xx, lead = tree._queries(X, "X")  # noqa: SLF001 - same module family
    check_finite(xx, "X")
    _, idx = tree.query(xx, k=kk)
    idx = np.asarray(idx).reshape(xx.shape[0], kk)
    missing = np.flatnonzero((idx == tree.n).any(axis=1))
    if missing.size:  # only when a distance overflows to inf (values near the float max)
        msg = (f"X row {missing[0]} has fewer than k = {kk} training points at a finite "
               "distance: its distances overflow (values too large for the dtype)")
        raise ValueError(msg)
    votes = majority_vote(y, idx)
    return votes.reshape(lead)
