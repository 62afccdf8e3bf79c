"""Readable NumPy versions of ``npkernels.detection``.

The same signatures and argument rules (``npkernels._box_rules``), and the
same arithmetic in the same dtype: torchvision's IoU expression
``inter / (area_i + area_j - inter)`` compared with the threshold as a
float64, plain greedy loops for NMS and Soft-NMS.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _box_rules as rules
from ._roi import roi_align, roi_align_backward, roi_pool, roi_pool_backward

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


def _area(b: np.ndarray) -> np.ndarray:
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def _inter(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection areas of a[i] and b[j], broadcast over the leading axes."""
    lo = np.maximum(a[..., :2], b[..., :2])
    hi = np.minimum(a[..., 2:], b[..., 2:])
    wh = np.maximum(hi - lo, a.dtype.type(0))
    return wh[..., 0] * wh[..., 1]


def _iou_with(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one box (torchvision's i) with each of ``others`` (its j), in their dtype."""
    inter = _inter(box[None, :], others)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return inter / (_area(box) + _area(others) - inter)


def box_area(boxes: ArrayLike) -> NDArray[np.floating]:
    """Reference for :func:`npkernels.box_area`."""
    b = rules.boxes_array(boxes, "boxes")
    rules.check_finite_boxes(b, "boxes")
    with np.errstate(over="ignore", invalid="ignore"):
        return _area(b)


def _inter_union(boxes1: ArrayLike, boxes2: ArrayLike):
    """Checked boxes and their pairwise intersections and unions, torchvision's way."""
    a, b = rules.box_pair(boxes1, boxes2)
    rules.check_finite_boxes(a, "boxes1")
    rules.check_finite_boxes(b, "boxes2")
    with np.errstate(invalid="ignore", over="ignore"):
        inter = _inter(a[:, None, :], b[None, :, :])
        return a, b, inter, _area(a)[:, None] + _area(b)[None, :] - inter


def box_iou(boxes1: ArrayLike, boxes2: ArrayLike) -> NDArray[np.floating]:
    """Reference for :func:`npkernels.box_iou`, by broadcasting."""
    _, _, inter, union = _inter_union(boxes1, boxes2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / union


def generalized_box_iou(boxes1: ArrayLike, boxes2: ArrayLike) -> NDArray[np.floating]:
    """Reference for :func:`npkernels.generalized_box_iou`."""
    a, b, inter, union = _inter_union(boxes1, boxes2)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        iou = inter / union
        lo = np.minimum(a[:, None, :2], b[None, :, :2])
        hi = np.maximum(a[:, None, 2:], b[None, :, 2:])
        wh = np.maximum(hi - lo, a.dtype.type(0))
        hull = wh[..., 0] * wh[..., 1]
        return iou - (hull - union) / hull


def generalized_box_iou_loss(
    boxes1: ArrayLike, boxes2: ArrayLike, reduction: str = "none", eps: float = 1e-7
) -> NDArray[np.floating] | np.floating:
    """Reference for :func:`npkernels.generalized_box_iou_loss`, element-wise."""
    a, b, single, e = rules.loss_inputs(boxes1, boxes2, reduction, eps)
    rules.check_finite_boxes(a, "boxes1")
    rules.check_finite_boxes(b, "boxes2")
    eps_t = a.dtype.type(e)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        lo = np.maximum(a[:, :2], b[:, :2])
        hi = np.minimum(a[:, 2:], b[:, 2:])
        overlaps = (hi[:, 1] > lo[:, 1]) & (hi[:, 0] > lo[:, 0])
        inter = np.where(overlaps, (hi[:, 0] - lo[:, 0]) * (hi[:, 1] - lo[:, 1]), 0).astype(a.dtype)
        union = _area(a) + _area(b) - inter
        iou = inter / (union + eps_t)
        hull_lo = np.minimum(a[:, :2], b[:, :2])
        hull_hi = np.maximum(a[:, 2:], b[:, 2:])
        hull = (hull_hi[:, 0] - hull_lo[:, 0]) * (hull_hi[:, 1] - hull_lo[:, 1])
        loss = a.dtype.type(1) - (iou - (hull - union) / (hull + eps_t))
    return rules.reduce_loss(loss, single, reduction)


def _greedy_nms(b: np.ndarray, s: np.ndarray, thr: float) -> np.ndarray:
    """torchvision's loop: each kept box suppresses the later boxes it overlaps by > thr."""
    order = np.argsort(-s, kind="stable")  # decreasing; equal scores by index
    suppressed = np.zeros(order.size, dtype=bool)
    keep = []
    for rank, i in enumerate(order):
        if suppressed[rank]:
            continue
        keep.append(i)
        later = order[rank + 1 :]
        # torchvision compares the IoU (in the box dtype) with a double threshold.
        suppressed[rank + 1 :] |= _iou_with(b[i], b[later]).astype(np.float64) > thr
    return np.asarray(keep, dtype=np.int64)


def _merge(keep: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Positions of ``keep`` by decreasing ``score``, then increasing index."""
    return np.lexsort((keep, -score))


def _checked(b, s, check_scores):
    """The data checks the compiled kernels run, in the same order."""
    rules.check_finite_boxes(b, "boxes")
    check_scores(s)


def nms(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float) -> NDArray[np.int64]:
    """Reference for :func:`npkernels.nms`."""
    b, s, _, thr = rules.nms_inputs(boxes, scores, iou_threshold)
    _checked(b, s, rules.check_nms_scores)
    return _greedy_nms(b, s, thr)


def batched_nms(
    boxes: ArrayLike, scores: ArrayLike, idxs: ArrayLike, iou_threshold: float
) -> NDArray[np.int64]:
    """Reference for :func:`npkernels.batched_nms`: NMS per category, merged."""
    b, s, idx, thr = rules.nms_inputs(boxes, scores, iou_threshold, idxs)
    _checked(b, s, rules.check_nms_scores)
    parts = [np.zeros(0, dtype=np.int64)]
    for c in np.unique(idx):
        members = np.flatnonzero(idx == c)
        parts.append(members[_greedy_nms(b[members], s[members], thr)])
    keep = np.concatenate(parts)
    return keep[_merge(keep, s[keep])]


def _soft_weights(ovr, method, thr, sigma):
    """mmcv's weights in the box dtype; a NaN IoU weighs 1."""
    one = np.ones_like(ovr)
    if method == "naive":
        return np.where(ovr >= thr, ovr.dtype.type(0), one)
    if method == "linear":
        return np.where(ovr >= thr, one - ovr, one)
    x = -(ovr * ovr) / sigma
    # exp in float64, rounded to the box dtype (the compiled kernel does the same).
    w = np.exp(x.astype(np.float64)).astype(ovr.dtype)
    return np.where(np.isnan(ovr), one, w)


def _greedy_soft_nms(b, s, thr, sigma, min_score, method):
    t = b.dtype.type
    thr, sigma, min_score = t(thr), t(sigma), t(min_score)  # mmcv takes them as float
    score = s.copy()
    alive = np.ones(s.size, dtype=bool)
    keep, kept = [], []
    while alive.any():
        live = np.flatnonzero(alive)
        i = live[np.argmax(score[live])]  # the first maximum: equal scores by index
        keep.append(i)
        kept.append(score[i])
        alive[i] = False
        rest = np.flatnonzero(alive)
        ovr = _iou_with(b[i], b[rest])
        score[rest] = score[rest] * _soft_weights(ovr, method, thr, sigma)
        alive[rest[score[rest] < min_score]] = False  # every remaining box is tested
    return np.asarray(keep, dtype=np.int64), np.asarray(kept, dtype=b.dtype)


def soft_nms(
    boxes: ArrayLike,
    scores: ArrayLike,
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
    min_score: float = 1e-3,
    method: str = "linear",
) -> tuple[NDArray[np.int64], NDArray[np.floating]]:
    """Reference for :func:`npkernels.soft_nms`: mmcv's loop, without its swaps."""
    b, s, _, *options = rules.soft_nms_inputs(boxes, scores, iou_threshold, sigma, min_score, method)
    _checked(b, s, rules.check_soft_scores)
    return _greedy_soft_nms(b, s, *options)


def batched_soft_nms(
    boxes: ArrayLike,
    scores: ArrayLike,
    idxs: ArrayLike,
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
    min_score: float = 1e-3,
    method: str = "linear",
) -> tuple[NDArray[np.int64], NDArray[np.floating]]:
    """Reference for :func:`npkernels.batched_soft_nms`: Soft-NMS per category, merged."""
    b, s, idx, *options = rules.soft_nms_inputs(
        boxes, scores, iou_threshold, sigma, min_score, method, idxs
    )
    _checked(b, s, rules.check_soft_scores)
    keeps, kepts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=b.dtype)]
    for c in np.unique(idx):
        members = np.flatnonzero(idx == c)
        k, v = _greedy_soft_nms(b[members], s[members], *options)
        keeps.append(members[k])
        kepts.append(v)
    keep, kept = np.concatenate(keeps), np.concatenate(kepts)
    order = _merge(keep, kept)
    return keep[order], kept[order]
