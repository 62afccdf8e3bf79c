"""Argument rules of the detection functions, shared by the fast path and the NumPy reference.

Shapes, dtypes, lengths and scalar options are checked here, once, so
``npkernels.detection`` and ``npkernels.reference.detection`` accept and reject
the same calls with the same messages. The data checks (finite boxes, NaN
scores) run inside the compiled kernels on the fast path; the ``check_*``
functions below are their NumPy twins, with the same messages.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ._validation import (
    as_float_array,
    as_real_array,
    check_choice,
    check_output_size,
    check_same_length,
    check_shape,
)

SOFT_METHODS = ("linear", "gaussian", "naive")
REDUCTIONS = ("none", "mean", "sum")


def boxes_array(x: ArrayLike, name: str, dtype: DTypeLike | None = None) -> np.ndarray:
    """``x`` as a C-contiguous (N, 4) float32/float64 array (float32 stays float32)."""
    arr = as_float_array(x, name, dtype)
    check_shape(arr, name, (None, 4), "(N, 4)")
    return arr


def box_pair(boxes1: ArrayLike, boxes2: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Two box sets; the second is cast to the dtype of the first."""
    a = boxes_array(boxes1, "boxes1")
    b = boxes_array(boxes2, "boxes2", a.dtype)
    check_output_size((a.shape[0], b.shape[0]), a.dtype.itemsize, "boxes1 and boxes2",
                      "an (N, M) matrix")
    return a, b


def real_scalar(value: object, name: str) -> float:
    """``value`` as a float: TypeError unless a real number, ValueError if NaN."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        msg = f"{name} must be a real number, got {type(value).__name__}"
        raise TypeError(msg)
    v = float(value)
    if math.isnan(v):
        msg = f"{name} must not be NaN, got nan"
        raise ValueError(msg)
    return v


def scores_array(scores: ArrayLike, boxes: np.ndarray) -> np.ndarray:
    """(N,) scores in the dtype of ``boxes``."""
    s = as_float_array(scores, "scores", boxes.dtype)
    check_same_length(s, "scores", boxes.shape[0], "boxes")
    return s


def idxs_array(idxs: ArrayLike, boxes: np.ndarray) -> np.ndarray:
    """(N,) int64 categories: integers or bools, nothing else."""
    arr = as_real_array(idxs, "idxs")
    if arr.dtype.kind not in "biu" and arr.size:  # an empty list is float64: fine
        msg = f"idxs must have an integer dtype, got {arr.dtype}"
        raise TypeError(msg)
    if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        msg = "idxs must fit in int64, got a value above 2**63 - 1"
        raise ValueError(msg)
    out = np.require(arr, dtype=np.int64, requirements=("C", "A"))
    check_same_length(out, "idxs", boxes.shape[0], "boxes")
    return out


# The idxs of plain (not batched) NMS: none. A batched call passing idxs=None is an error.
NO_IDXS = object()


def nms_inputs(boxes, scores, iou_threshold, idxs=NO_IDXS):
    """(boxes, scores, idxs or None, threshold) of nms / batched_nms."""
    b = boxes_array(boxes, "boxes")
    s = scores_array(scores, b)
    i = None if idxs is NO_IDXS else idxs_array(idxs, b)
    return b, s, i, real_scalar(iou_threshold, "iou_threshold")


def soft_nms_inputs(boxes, scores, iou_threshold, sigma, min_score, method, idxs=NO_IDXS):
    """(boxes, scores, idxs or None, threshold, sigma, min_score, method) of Soft-NMS."""
    b, s, i, thr = nms_inputs(boxes, scores, iou_threshold, idxs)
    sig = real_scalar(sigma, "sigma")
    if not b.dtype.type(sig) > 0:  # the kernel divides by sigma in the dtype of the boxes
        msg = f"sigma must be > 0, got {sig}" + (f", which is 0 in {b.dtype}" if sig > 0 else "")
        raise ValueError(msg)
    low = real_scalar(min_score, "min_score")
    check_choice(method, "method", SOFT_METHODS)
    return b, s, i, thr, sig, low, method


def loss_inputs(boxes1, boxes2, reduction, eps):
    """(boxes1, boxes2 as (N, 4), whether the input was one (4,) box, eps) of the GIoU loss."""
    check_choice(reduction, "reduction", REDUCTIONS)
    e = real_scalar(eps, "eps")
    a = as_float_array(boxes1, "boxes1")
    b = as_float_array(boxes2, "boxes2", a.dtype)
    single = a.shape == (4,) and b.shape == (4,)
    if single:
        a, b = a.reshape(1, 4), b.reshape(1, 4)
    check_shape(a, "boxes1", (None, 4), "(N, 4) or (4,)")
    check_shape(b, "boxes2", (None, 4), "(N, 4) or (4,)")
    if b.shape != a.shape:
        msg = f"boxes2 must have shape {a.shape} like boxes1, got {b.shape}"
        raise ValueError(msg)
    return a, b, single, e


def reduce_loss(loss: np.ndarray, single: bool, reduction: str):
    """torchvision's reductions: 'none' keeps the shape, 'mean' of nothing is 0."""
    if reduction == "none":
        return loss[0] if single else loss
    total = loss.sum(dtype=np.float64)
    if reduction == "mean" and loss.size:
        total = total / loss.size
    return loss.dtype.type(total)


def check_finite_boxes(boxes: np.ndarray, name: str) -> None:
    """ValueError naming the first row of ``boxes`` with a NaN or an infinity."""
    bad = ~np.isfinite(boxes)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        value = boxes[row][bad[row]][0]
        msg = f"{name} must be finite, got {value} in row {row}"
        raise ValueError(msg)


def check_nms_scores(scores: np.ndarray) -> None:
    """ValueError at the first NaN score (infinities are ordered, NaN is not)."""
    nan = np.flatnonzero(np.isnan(scores))
    if nan.size:
        msg = f"scores must not contain NaN, got NaN at index {nan[0]}"
        raise ValueError(msg)


def check_soft_scores(scores: np.ndarray) -> None:
    """ValueError at the first NaN or infinite score (Soft-NMS multiplies them)."""
    bad = np.flatnonzero(~np.isfinite(scores))
    if bad.size:
        msg = f"scores must be finite, got {scores[bad[0]]} at index {bad[0]}"
        raise ValueError(msg)
