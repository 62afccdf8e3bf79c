"""The argument rules of ROI Align and ROI Pool, shared by the fast path and the reference.

Boxes in either of torchvision's formats become one C-contiguous ``(K, 5)``
array ``[batch_index, x1, y1, x2, y2]`` in the feature map's dtype, checked
for finite coordinates and batch indices in ``[0, N)`` (torchvision reads
foreign memory or crashes on those). ``npkernels.detection`` and
``npkernels.reference.detection`` both call these, so they accept and reject
exactly the same inputs with the same messages.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ._validation import (
    as_bool,
    as_finite_float,
    as_float_array,
    as_int,
    as_int_pair,
    as_ndarray,
    check_output_size,
    check_param_bound,
    check_shape,
)

# torchvision starts a non-empty ROI Pool bin at -FLT_MAX, whatever the dtype.
FLT_MAX = float(np.finfo(np.float32).max)


class AlignArgs(NamedTuple):
    """Normalised ``roi_align`` / ``roi_align_backward`` scalars."""

    pooled: tuple[int, int]
    spatial_scale: float
    sampling_ratio: int
    aligned: bool


def feature_map(x: ArrayLike, name: str) -> np.ndarray:
    """A 4-D ``(N, C, H, W)`` float32/float64 array (other reals become float64)."""
    arr = as_float_array(x, name)
    check_shape(arr, name, (None, None, None, None), "(N, C, H, W)")
    return arr


def input_shape(shape: object, name: str = "input_shape") -> tuple[int, int, int, int]:
    """``(N, C, H, W)`` as four ints >= 0."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 4:
        msg = f"{name} must be a sequence of 4 ints (N, C, H, W), got {shape!r}"
        raise ValueError(msg)
    dims = tuple(as_int(d, name) for d in shape)
    if min(dims) < 0:
        msg = f"{name} must have sizes >= 0, got {shape!r}"
        raise ValueError(msg)
    check_output_size(dims, 4, name, "a gradient")  # float32 at least; rechecked with the dtype
    return dims  # type: ignore[return-value]


def _is_box_list(boxes: object) -> bool:
    return isinstance(boxes, (list, tuple)) and all(isinstance(b, np.ndarray) for b in boxes)


def rois(boxes: ArrayLike | list[np.ndarray], dtype: DTypeLike, n_batch: int) -> np.ndarray:
    """``boxes`` as a checked ``(K, 5)`` array of ``dtype``.

    A list or tuple of ndarrays is torchvision's per-image format: element ``i``
    is ``(K_i, 4)`` and gets batch index ``i``. Anything else is read as ``(K, 5)``.
    """
    if _is_box_list(boxes):
        parts = []
        for i, b in enumerate(boxes):  # type: ignore[union-attr]
            arr = as_float_array(b, f"boxes[{i}]", dtype=dtype)
            check_shape(arr, f"boxes[{i}]", (None, 4), "(K_i, 4)")
            index = np.full((arr.shape[0], 1), i, dtype=dtype)
            parts.append(np.concatenate([index, arr], axis=1))
        out = np.concatenate(parts) if parts else np.zeros((0, 5), dtype)
        out = np.require(out, dtype=dtype, requirements=("C", "A"))
    else:
        out = as_float_array(boxes, "boxes", dtype=dtype)
        check_shape(out, "boxes", (None, 5), "(K, 5)")
    finite = np.isfinite(out).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        msg = f"boxes must be finite, got {out[row].tolist()} at row {row}"
        raise ValueError(msg)
    batch = out[:, 0]
    ok = (batch > -1) & (batch < n_batch)  # the index is truncated toward zero, as torchvision
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        msg = f"boxes batch index must be in [0, {n_batch}), got {batch[row]} at row {row}"
        raise ValueError(msg)
    return out


# Bytes of one bilinear sample of the per-ROI table the kernels precompute (4 positions and
# 4 weights), per thread.
_TAP_BYTES = 64


def align_args(
    output_size: object, spatial_scale: object, sampling_ratio: object, aligned: object
) -> AlignArgs:
    pooled = as_int_pair(output_size, "output_size")
    ratio = as_int(sampling_ratio, "sampling_ratio")
    check_param_bound((abs(ratio),), "sampling_ratio", ratio)
    if ratio > 0:  # a fixed grid: the sample table of one ROI can hold PH*PW*ratio**2 samples
        check_output_size((pooled[0] * ratio, pooled[1] * ratio), _TAP_BYTES, "sampling_ratio",
                          "a table of bilinear samples")
    return AlignArgs(pooled, as_finite_float(spatial_scale, "spatial_scale"), ratio,
                     as_bool(aligned, "aligned"))


def check_pooled_output(k: int, channels: int, pooled: tuple[int, int], dtype: np.dtype,
                        name: str = "output_size", extra_itemsize: int = 0) -> None:
    """MemoryError before a (K, C, PH, PW) result (plus an int64 argmax) that cannot fit."""
    check_output_size((k, channels, *pooled), np.dtype(dtype).itemsize + extra_itemsize, name,
                      "an output")


def grad_output(
    grad: ArrayLike, k: int, channels: int, pooled: tuple[int, int] | None
) -> np.ndarray:
    """``grad_output`` as ``(K, C, PH, PW)``; ``pooled=None`` accepts any PH, PW."""
    g = as_float_array(grad, "grad_output")
    ph, pw = (None, None) if pooled is None else pooled
    expected = f"({k}, {channels}, {'PH' if ph is None else ph}, {'PW' if pw is None else pw})"
    check_shape(g, "grad_output", (k, channels, ph, pw), expected)
    return g


def pool_argmax(argmax: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    """``argmax`` as a C-contiguous int64 array of ``shape`` (values checked by the caller)."""
    a = as_ndarray(argmax, "argmax")
    if a.dtype.kind not in "iu":
        msg = f"argmax must have an integer dtype, got {a.dtype}"
        raise TypeError(msg)
    if a.shape != tuple(shape):
        msg = f"argmax must have shape {tuple(shape)} like grad_output, got {a.shape}"
        raise ValueError(msg)
    return np.require(a, dtype=np.int64, requirements=("C", "A"))


def argmax_error(argmax: np.ndarray, plane: int) -> str | None:
    """The message for the first argmax value outside [-1, plane), or None."""
    bad = (argmax < -1) | (argmax >= plane)
    if not bad.any():
        return None
    i = int(np.flatnonzero(bad)[0])
    return f"argmax must be in [-1, {plane}), got {argmax.flat[i]} at index {i}"
