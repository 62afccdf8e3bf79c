"""Brute-force NumPy twins of :mod:`npkernels.neighbors`: every distance, computed plainly.

Same API, validation and dtype as the compiled tree (the shared
``_kdtree_rules.TreeAPI``); distances are summed in the kernel's order (for
``p = 2``, four interleaved accumulators over blocks of four dimensions, then
the rest), so float results agree to the last bit except where ``pow`` rounds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _kdtree_rules as rules

__all__ = ["KDTree", "knn_predict"]

def _block(data: np.ndarray) -> int:
    """Queries per distance matrix: temporaries of about 4M elements."""
    return max(1, (1 << 22) // data.size)


def _powered_distances(data: np.ndarray, q: np.ndarray, p: float) -> np.ndarray:
    """(len(q), n) matrix of d^p (max |dx| for p = inf), in data's dtype."""
    diff = np.abs(data[None, :, :] - q[:, None, :])
    m = data.shape[1]
    if np.isinf(p):
        return diff.max(axis=2) if m else np.zeros(diff.shape[:2], data.dtype)
    if p == 2:
        acc = [np.zeros(diff.shape[:2], data.dtype) for _ in range(4)]
        j = 0
        while j + 4 <= m:
            for a in range(4):
                acc[a] += diff[:, :, j + a] * diff[:, :, j + a]
            j += 4
        s = acc[0] + acc[1] + acc[2] + acc[3]
        for jj in range(j, m):
            s += diff[:, :, jj] * diff[:, :, jj]
        return s
    terms = diff if p == 1 else diff ** data.dtype.type(p)
    s = np.zeros(diff.shape[:2], data.dtype)
    for jj in range(m):
        s += terms[:, :, jj]
    return s


def _root(s: np.ndarray, p: float) -> np.ndarray:
    if p == 2:
        return np.sqrt(s)
    if p == 1 or np.isinf(p):
        return s
    return s ** (s.dtype.type(1) / s.dtype.type(p))


def _internal(r: float, p: float, dtype) -> np.generic:
    """r^p as the kernel forms it (in float64, then rounded to the tree's dtype)."""
    if p == 2:
        return dtype.type(r * r)
    if p == 1 or np.isinf(p) or np.isinf(r):
        return dtype.type(r)
    with np.errstate(over="ignore", under="ignore"):
        return dtype.type(np.float64(r) ** np.float64(p))  # inf (not OverflowError) when huge


class KDTree(rules.TreeAPI):
    """Brute-force twin of :class:`npkernels.KDTree` (no tree: every distance).

    ``eps`` is accepted and ignored: the answers are exact, which any
    approximate answer is allowed to be. ``leafsize`` and ``split`` are
    validated and kept; ``size`` is 1.
    """

    def _build(self, data, leafsize, split, n_threads):
        self.size = 1

    def _knn(self, x, ranks, p, eps, upper, n_threads):
        data, dt = self._data, self._data.dtype
        kmax = int(ranks[-1])
        bound = _internal(upper, p, dt)
        dist = np.full((x.shape[0], ranks.size), np.inf, dtype=dt)
        index = np.full((x.shape[0], ranks.size), self.n, dtype=np.int64)
        block = _block(data)
        for start in range(0, x.shape[0], block):
            s = _powered_distances(data, x[start:start + block], p)
            # The kmax smallest, then ascending by (distance, index).
            if kmax < s.shape[1]:
                order = np.argpartition(s, kmax - 1, axis=1)[:, :kmax]
            else:
                order = np.broadcast_to(np.arange(s.shape[1]), s.shape)
            top = np.take_along_axis(s, order, axis=1)
            by = np.lexsort((order, top), axis=1)
            order = np.take_along_axis(order, by, axis=1)
            top = np.take_along_axis(top, by, axis=1)
            for col, rank in enumerate(ranks):
                if rank > order.shape[1]:
                    continue
                found = top[:, rank - 1] < bound
                rows = np.flatnonzero(found) + start
                dist[rows, col] = _root(top[found, rank - 1], p)
                index[rows, col] = order[found, rank - 1]
        return dist, index

    def _radius(self, x, r, p, eps, sort, count_only, n_threads):
        dt = self._data.dtype
        indices, counts = [], []
        block = _block(self._data)
        for start in range(0, x.shape[0], block):
            s = _powered_distances(self._data, x[start:start + block], p)
            for row, q in enumerate(range(start, start + s.shape[0])):
                hit = np.flatnonzero(s[row] <= _internal(float(r[q]), p, dt))
                counts.append(hit.size)
                if not count_only:
                    indices.append(hit)  # ascending: already sorted
        offsets = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64)
        flat = np.concatenate(indices).astype(np.int64) if indices else np.zeros(0, np.int64)
        return flat, offsets

    def _pairs(self, r, p, eps, n_threads):
        flat, offsets = self._radius(self._data, np.full(self.n, r), p, eps, True, False,
                                     n_threads)
        first = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(offsets))
        keep = flat > first
        return np.stack([first[keep], flat[keep]], axis=1).reshape(-1, 2)


def knn_predict(X_train: ArrayLike, y_train: ArrayLike, X: ArrayLike, k: int = 5) -> NDArray:
    """Brute-force twin of :func:`npkernels.knn_predict`."""
    return rules.knn_predict(KDTree, X_train, y_train, X, k)
