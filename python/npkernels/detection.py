"""Box operations and suppression for detectors (semantics of ``torchvision.ops`` and ``mmcv.ops``).

IoU arithmetic is torchvision's, in the input dtype and in its order, so NMS
keeps exactly the boxes torchvision keeps. NMS compares each candidate only
with the boxes already kept that a uniform grid says can overlap it; Soft-NMS
visits only the boxes that intersect each selection.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _box_rules as rules
from . import _core
from ._roi import roi_align, roi_align_backward, roi_pool, roi_pool_backward
from ._threads import get_num_threads

__all__ = [
    "batched_nms",
    "batched_soft_nms",
    "box_area",
    "box_iou",
    "generalized_box_iou",
    "generalized_box_iou_loss",
    "nms",
    "roi_align",
    "roi_align_backward",
    "roi_pool",
    "roi_pool_backward",
    "soft_nms",
]


def box_area(boxes: ArrayLike) -> NDArray[np.floating]:
    """Area of each box.

    ``area[i] = (x2 - x1) * (y2 - y1)``, signed (not clamped), no ``+1``.

    Parameters
    ----------
    boxes : (N, 4) array_like
        Boxes as ``x1, y1, x2, y2`` in continuous coordinates.

    Returns
    -------
    area : (N,) ndarray
        float32 when ``boxes`` is float32, float64 otherwise.

    Raises
    ------
    ValueError
        If ``boxes`` is not of shape ``(N, 4)`` or holds NaN or infinity.
    TypeError
        If ``boxes`` has a complex, object or string dtype.

    Notes
    -----
    Matches ``torchvision.ops.box_area``. Releases the GIL and uses
    ``get_num_threads()`` threads; the result is the same for any thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> nk.box_area([[0, 0, 2, 3], [1, 1, 2, 2]])
    array([6., 1.])
    """
    b = rules.boxes_array(boxes, "boxes")
    return _core.box_area(b, n_threads=get_num_threads())


def box_iou(boxes1: ArrayLike, boxes2: ArrayLike) -> NDArray[np.floating]:
    """Pairwise intersection over union of two sets of boxes.

    ``iou[i, j] = inter / (area1[i] + area2[j] - inter)`` with
    ``inter = max(0, min(x2) - max(x1)) * max(0, min(y2) - max(y1))``.

    Parameters
    ----------
    boxes1 : (N, 4) array_like
        Boxes as ``x1, y1, x2, y2`` in continuous coordinates.
    boxes2 : (M, 4) array_like
        Boxes in the same format; cast to the dtype of ``boxes1``.

    Returns
    -------
    iou : (N, M) ndarray
        float32 when ``boxes1`` is float32, float64 otherwise.

    Raises
    ------
    ValueError
        If an input is not of shape ``(K, 4)`` or holds NaN or infinity.
    TypeError
        If an input has a complex, object or string dtype.
    MemoryError
        If the (N, M) result cannot fit in memory (checked before allocating).

    Notes
    -----
    Matches ``torchvision.ops.box_iou`` bit for bit (same expression, same
    dtype). Two boxes of zero area give ``nan`` (0 / 0), as in torchvision.
    NaN or infinite coordinates raise instead of propagating. Releases the GIL
    and uses ``get_num_threads()`` threads; the result is the same for any
    thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> nk.box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2]])
    array([[0.14285714, 1.        ]])
    """
    a, b = rules.box_pair(boxes1, boxes2)
    return _core.box_iou(a, b, n_threads=get_num_threads())


def generalized_box_iou(boxes1: ArrayLike, boxes2: ArrayLike) -> NDArray[np.floating]:
    """Pairwise generalized IoU of two sets of boxes.

    ``giou[i, j] = iou - (C - U) / C`` with ``U`` the union and ``C`` the area
    of the smallest box enclosing both.

    Parameters
    ----------
    boxes1 : (N, 4) array_like
        Boxes as ``x1, y1, x2, y2``.
    boxes2 : (M, 4) array_like
        Boxes in the same format; cast to the dtype of ``boxes1``.

    Returns
    -------
    giou : (N, M) ndarray
        In [-1, 1]; float32 when ``boxes1`` is float32, float64 otherwise.

    Raises
    ------
    ValueError
        If an input is not of shape ``(K, 4)`` or holds NaN or infinity.
    TypeError
        If an input has a complex, object or string dtype.
    MemoryError
        If the (N, M) result cannot fit in memory (checked before allocating).

    Notes
    -----
    Matches ``torchvision.ops.generalized_box_iou`` (no epsilon: two equal
    zero-area boxes give NaN). Releases the GIL and uses ``get_num_threads()``
    threads; the result is the same for any thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> nk.generalized_box_iou([[0, 0, 1, 1]], [[2, 0, 3, 1]])
    array([[-0.33333333]])
    """
    a, b = rules.box_pair(boxes1, boxes2)
    return _core.generalized_box_iou(a, b, n_threads=get_num_threads())


def generalized_box_iou_loss(
    boxes1: ArrayLike, boxes2: ArrayLike, reduction: str = "none", eps: float = 1e-7
) -> NDArray[np.floating] | np.floating:
    """Generalized IoU loss of matched boxes, element-wise.

    ``loss[i] = 1 - (I / (U + eps) - (C - U) / (C + eps))`` for the pair
    ``(boxes1[i], boxes2[i])``: ``I`` the intersection (counted only where it
    is positive in both axes), ``U`` the union, ``C`` the enclosing box's area.

    Parameters
    ----------
    boxes1 : (N, 4) or (4,) array_like
        Predicted boxes as ``x1, y1, x2, y2``.
    boxes2 : (N, 4) or (4,) array_like
        Target boxes, the same shape; cast to the dtype of ``boxes1``.
    reduction : {'none', 'mean', 'sum'}, default 'none'
    eps : float, default 1e-7
        Added to both denominators (in the box dtype), as torchvision does.

    Returns
    -------
    loss : (N,) ndarray, or a scalar
        The losses (a 0-d scalar for one (4,) pair), or their mean / sum as a
        NumPy scalar (summed in float64, rounded to the box dtype); the mean of
        no boxes is 0. float32 for float32 boxes, float64 otherwise.

    Raises
    ------
    ValueError
        Mismatched or wrong shapes, NaN or infinite coordinates, an unknown
        ``reduction``, a NaN ``eps``.
    TypeError
        If an input has a complex, object or string dtype.

    Notes
    -----
    Matches ``torchvision.ops.generalized_box_iou_loss``. Releases the GIL and
    uses ``get_num_threads()`` threads; the result is the same for any thread
    count.

    Examples
    --------
    >>> import npkernels as nk
    >>> nk.generalized_box_iou_loss([[0, 0, 2, 2]], [[1, 1, 3, 3]])
    array([1.07936508])
    >>> a, b = [[0, 0, 2, 2], [0, 0, 1, 1]], [[1, 1, 3, 3], [2, 0, 3, 1]]
    >>> round(float(nk.generalized_box_iou_loss(a, b, reduction="mean")), 6)
    1.206349
    """
    a, b, single, e = rules.loss_inputs(boxes1, boxes2, reduction, eps)
    loss = _core.generalized_box_iou_loss(a, b, e, n_threads=get_num_threads())
    return rules.reduce_loss(loss, single, reduction)


def nms(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float) -> NDArray[np.int64]:
    """Greedy non-maximum suppression.

    Visit the boxes by decreasing score; keep a box unless its IoU with a box
    already kept is ``> iou_threshold``.

    Parameters
    ----------
    boxes : (N, 4) array_like
        Boxes as ``x1, y1, x2, y2``.
    scores : (N,) array_like
        Scores, cast to the dtype of ``boxes``; NaN is rejected, infinities are fine.
    iou_threshold : float
        Suppression threshold (strict ``>``), compared in float64.

    Returns
    -------
    keep : (K,) ndarray of int64
        Indices of the kept boxes by decreasing score; equal scores by
        increasing index. Empty for no boxes.

    Raises
    ------
    ValueError
        Wrong shapes, length mismatch, NaN or infinite coordinates, NaN
        scores, a NaN ``iou_threshold``.
    TypeError
        Complex, object or string inputs; a non-numeric ``iou_threshold``.

    Notes
    -----
    Matches ``torchvision.ops.nms`` bit for bit: the IoU is computed in the box
    dtype as ``inter / (area_i + area_j - inter)`` and compared with the
    threshold as a double; torchvision's stable sort orders equal scores by
    index. torchvision silently ranks NaN scores first; here they raise.
    Releases the GIL; uses ``get_num_threads()`` threads (the sort, and for
    32768 boxes or more the candidates, checked in parallel batches against the
    boxes kept before each batch); the result is the same for any thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]
    >>> nk.nms(boxes, [0.9, 0.8, 0.7], 0.5)
    array([0, 2])
    """
    b, s, _, thr = rules.nms_inputs(boxes, scores, iou_threshold)
    return _core.nms(b, s, None, thr, n_threads=get_num_threads())


def batched_nms(
    boxes: ArrayLike, scores: ArrayLike, idxs: ArrayLike, iou_threshold: float
) -> NDArray[np.int64]:
    """Non-maximum suppression within each category.

    The result of :func:`nms` run on the boxes of each category ``idxs``
    separately, merged by decreasing score, then increasing index.

    Parameters
    ----------
    boxes : (N, 4) array_like
        Boxes as ``x1, y1, x2, y2``.
    scores : (N,) array_like
        Scores, cast to the dtype of ``boxes``.
    idxs : (N,) array_like of int
        Category of each box (any integers).
    iou_threshold : float
        Suppression threshold (strict ``>``).

    Returns
    -------
    keep : (K,) ndarray of int64
        Indices of the kept boxes by decreasing score, then increasing index.

    Raises
    ------
    ValueError
        As :func:`nms`, and ``idxs`` of the wrong length.
    TypeError
        As :func:`nms`, and non-integer ``idxs``.

    Notes
    -----
    Matches ``torchvision.ops.batched_nms`` for boxes with non-negative
    coordinates. The categories are truly separate here, whatever the
    coordinates: torchvision's CPU path for up to 1000 boxes shifts each
    category by ``idx * (max coordinate + 1)``, which lets boxes of different
    categories overlap when coordinates are negative (two boxes
    ``[-10, -10, 0, 0]`` in categories 0 and 1 give ``[0]`` there, ``[0, 1]``
    here). Categories run in parallel on ``get_num_threads()`` threads (GIL
    released) from 32768 boxes; the result is the same for any thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11]]
    >>> nk.batched_nms(boxes, [0.9, 0.8, 0.7], [0, 0, 1], 0.5)
    array([0, 2])
    """
    b, s, i, thr = rules.nms_inputs(boxes, scores, iou_threshold, idxs)
    return _core.nms(b, s, i, thr, n_threads=get_num_threads())


def soft_nms(
    boxes: ArrayLike,
    scores: ArrayLike,
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
    min_score: float = 1e-3,
    method: str = "linear",
) -> tuple[NDArray[np.int64], NDArray[np.floating]]:
    """Soft non-maximum suppression.

    Repeatedly select the box with the highest current score, then multiply
    the score of every remaining box ``b`` by ``1 - IoU`` (``'linear'``, when
    ``IoU >= iou_threshold``), ``exp(-IoU**2 / sigma)`` (``'gaussian'``,
    always) or 0 (``'naive'``, when ``IoU >= iou_threshold``), and drop it if
    its score is now below ``min_score``.

    Parameters
    ----------
    boxes : (N, 4) array_like
        Boxes as ``x1, y1, x2, y2``.
    scores : (N,) array_like
        Finite scores, cast to the dtype of ``boxes``.
    iou_threshold : float, default 0.3
        For 'linear' and 'naive' (``>=``); cast to the box dtype, as mmcv does.
    sigma : float, default 0.5
        For 'gaussian'; must be > 0.
    min_score : float, default 1e-3
        Boxes whose score falls below this are dropped (the first selection is
        never tested).
    method : {'linear', 'gaussian', 'naive'}, default 'linear'

    Returns
    -------
    keep : (K,) ndarray of int64
        Selected indices, in selection order.
    kept_scores : (K,) ndarray
        Their scores at selection, in the box dtype (mmcv's ``dets[:, 4]``).

    Raises
    ------
    ValueError
        Wrong shapes, length mismatch, NaN or infinite coordinates or scores,
        unknown ``method``, ``sigma <= 0``, NaN parameters.
    TypeError
        Complex, object or string inputs; non-numeric parameters.

    Notes
    -----
    Matches ``mmcv.ops.soft_nms`` (``offset=0``) and reproduces its test
    values, with two documented choices: equal current scores select the
    lower index (mmcv's choice follows its in-place swaps), and a NaN IoU (two
    zero-area boxes that do not intersect) weighs 1 (mmcv's gaussian gives the
    score NaN). Arithmetic is in the box dtype (mmcv: float32 only); the
    gaussian ``exp`` is evaluated in float64 and rounded. The selection loop
    is sequential and releases the GIL.

    Examples
    --------
    >>> import npkernels as nk
    >>> boxes = [[6, 3, 8, 7], [3, 6, 9, 11], [3, 7, 10, 12], [1, 4, 13, 7]]
    >>> keep, kept = nk.soft_nms(boxes, [0.6, 0.9, 0.7, 0.2], 0.3, 0.5, 0.01)
    >>> keep
    array([1, 0, 2, 3])
    >>> kept.round(6)
    array([0.9     , 0.6     , 0.290244, 0.2     ])
    """
    b, s, _, thr, sig, low, meth = rules.soft_nms_inputs(
        boxes, scores, iou_threshold, sigma, min_score, method
    )
    return _core.soft_nms(b, s, None, thr, sig, low, meth, n_threads=get_num_threads())


def batched_soft_nms(
    boxes: ArrayLike,
    scores: ArrayLike,
    idxs: ArrayLike,
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
    min_score: float = 1e-3,
    method: str = "linear",
) -> tuple[NDArray[np.int64], NDArray[np.floating]]:
    """Soft-NMS within each category.

    :func:`soft_nms` on the boxes of each category ``idxs`` separately; the
    selections merged by decreasing score at selection, then increasing index
    (mmcv's ``batched_nms`` with ``type='soft_nms'`` sorts by that score too).

    Parameters
    ----------
    boxes, scores, iou_threshold, sigma, min_score, method
        As :func:`soft_nms`.
    idxs : (N,) array_like of int
        Category of each box.

    Returns
    -------
    keep : (K,) ndarray of int64
    kept_scores : (K,) ndarray
        By decreasing score, then increasing index.

    Raises
    ------
    ValueError
        As :func:`soft_nms`, and ``idxs`` of the wrong length.
    TypeError
        As :func:`soft_nms`, and non-integer ``idxs``.

    Notes
    -----
    Categories run in parallel on ``get_num_threads()`` threads (GIL
    released); the result is the same for any thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> boxes = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    >>> keep, kept = nk.batched_soft_nms(boxes, [0.9, 0.8, 0.7], [0, 0, 1], method="naive")
    >>> keep
    array([0, 2])
    """
    b, s, i, thr, sig, low, meth = rules.soft_nms_inputs(
        boxes, scores, iou_threshold, sigma, min_score, method, idxs
    )
    return _core.soft_nms(b, s, i, thr, sig, low, meth, n_threads=get_num_threads())
