"""Readable NumPy versions of ROI Align and ROI Pool (``npkernels.detection``).

Same signatures and argument rules (``npkernels._roi_rules``), the same
arithmetic in the same dtype and order as torchvision's C++ kernels, written
one ROI at a time: the sample grid as arrays, bilinear taps gathered for all
channels, sums taken sample by sample, gradients scattered with ``np.add.at``
(which applies repeated indices in order).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _roi_rules as rules

__all__ = ["roi_align", "roi_align_backward", "roi_pool", "roi_pool_backward"]

_INT32_MAX = 2**31 - 1


def _grid(roi_size, pooled: int, sampling_ratio: int) -> int:
    if sampling_ratio > 0:
        return sampling_ratio
    g = float(np.ceil(roi_size / type(roi_size)(pooled)))
    return 0 if not g > 0 else int(min(g, _INT32_MAX))


def _axis(start, bin_size, pooled: int, grid: int, size: int, t):
    """Per axis, (P, G) arrays: in-map flag, low and high pixel, weights of low and high."""
    p = np.arange(pooled).astype(t)[:, None]
    frac = (np.arange(grid).astype(np.float32) + np.float32(0.5)).astype(t)[None, :]
    v = (start + p * bin_size) + frac * bin_size / t(grid)
    inside = (v >= t(-1)) & (v <= t(size)) & (size > 0)
    v = np.where(v <= 0, t(0), v)
    low = np.where(inside, v, 0).astype(np.int64)
    at_edge = low >= size - 1
    low = np.where(at_edge, size - 1, low)
    high = np.where(at_edge, low, low + 1)
    v = np.where(at_edge, low.astype(t), v)
    lw = (v - low.astype(t)).astype(t)
    hw = (t(1) - lw).astype(t)
    return inside, low, high, hw, lw


def _align_taps(roi, shape, pooled, a: rules.AlignArgs, t):
    """The taps of one ROI: positions and weights (PH, gh, PW, gw, 4), in-map mask, grid."""
    _, _, height, width = shape
    scale = t(a.spatial_scale)
    offset = t(0.5) if a.aligned else t(0)
    start_w, start_h = roi[1] * scale - offset, roi[2] * scale - offset
    roi_w = roi[3] * scale - offset - start_w
    roi_h = roi[4] * scale - offset - start_h
    if not a.aligned:  # torchvision: "Force malformed ROIs to be 1x1"
        roi_w, roi_h = max(roi_w, t(1)), max(roi_h, t(1))
    ph, pw = pooled
    gh, gw = _grid(roi_h, ph, a.sampling_ratio), _grid(roi_w, pw, a.sampling_ratio)
    if gh == 0 or gw == 0:
        return None
    yin, ylo, yhi, yh, yl = _axis(start_h, roi_h / t(ph), ph, gh, height, t)
    xin, xlo, xhi, xh, xl = _axis(start_w, roi_w / t(pw), pw, gw, width, t)

    def grid4(y, x):  # (PH, gh) x (PW, gw) -> (PH, gh, PW, gw)
        return y[:, :, None, None], x[None, None, :, :]

    inside = np.logical_and(*grid4(yin, xin))
    pos = np.stack(
        [a_ * width + b_ for a_, b_ in (grid4(ylo, xlo), grid4(ylo, xhi), grid4(yhi, xlo),
                                         grid4(yhi, xhi))],
        axis=-1,
    )
    w = np.stack(
        [a_ * b_ for a_, b_ in (grid4(yh, xh), grid4(yh, xl), grid4(yl, xh), grid4(yl, xl))],
        axis=-1,
    ).astype(t)
    # torchvision's out-of-map sample: position 0, weights 0
    pos = np.where(inside[..., None], pos, 0)
    w = np.where(inside[..., None], w, t(0))
    return pos, w, inside, gh * gw


def roi_align(
    input: ArrayLike,  # noqa: A002
    boxes: ArrayLike | list[np.ndarray],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> NDArray[np.floating]:
    """Reference for :func:`npkernels.roi_align`."""
    x = rules.feature_map(input, "input")
    a = rules.align_args(output_size, spatial_scale, sampling_ratio, aligned)
    r = rules.rois(boxes, x.dtype, x.shape[0])
    rules.check_pooled_output(r.shape[0], x.shape[1], a.pooled, x.dtype)
    t = x.dtype.type
    n, c, h, w = x.shape
    ph, pw = a.pooled
    out = np.zeros((r.shape[0], c, ph, pw), dtype=x.dtype)
    if out.size == 0 or h * w == 0:
        return out
    for k, roi in enumerate(r):
        taps = _align_taps(roi, x.shape, a.pooled, a, t)
        if taps is None:
            continue
        pos, wt, _, count = taps
        plane = x[int(roi[0])].reshape(c, h * w)
        v = plane[:, pos]  # (C, PH, gh, PW, gw, 4)
        with np.errstate(invalid="ignore", over="ignore"):  # NaN and inf propagate, as in C
            term = wt[..., 0] * v[..., 0] + wt[..., 1] * v[..., 1] + wt[..., 2] * v[..., 2]
            term = term + wt[..., 3] * v[..., 3]
            term = term.transpose(0, 1, 3, 2, 4).reshape(c, ph, pw, -1)  # samples iy-major
            acc = np.zeros((c, ph, pw), dtype=x.dtype)
            for s in range(term.shape[-1]):
                acc = acc + term[..., s]
            out[k] = acc / t(max(count, 1))
    return out


def roi_align_backward(
    grad_output: ArrayLike,
    boxes: ArrayLike | list[np.ndarray],
    input_shape: tuple[int, int, int, int],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> NDArray[np.floating]:
    """Reference for :func:`npkernels.roi_align_backward`."""
    shape = rules.input_shape(input_shape)
    n, c, h, w = shape
    a = rules.align_args(output_size, spatial_scale, sampling_ratio, aligned)
    g = rules.as_float_array(grad_output, "grad_output")
    r = rules.rois(boxes, g.dtype, n)
    g = rules.grad_output(g, r.shape[0], c, a.pooled)
    rules.check_output_size((n, c, h, w), g.dtype.itemsize, "input_shape", "a gradient")
    t = g.dtype.type
    grad = np.zeros(shape, dtype=g.dtype)
    if g.size == 0 or h * w == 0:
        return grad
    for k, roi in enumerate(r):
        taps = _align_taps(roi, shape, a.pooled, a, t)
        if taps is None:
            continue
        pos, wt, inside, count = taps
        # order of torchvision's loop: bin (ph, pw), then iy, ix, then the 4 taps
        pos = pos.transpose(0, 2, 1, 3, 4)
        wt = wt.transpose(0, 2, 1, 3, 4)
        keep = inside.transpose(0, 2, 1, 3)
        gb = g[k][:, :, :, None, None, None]  # (C, PH, PW, 1, 1, 1)
        with np.errstate(invalid="ignore", over="ignore"):
            vals = gb * wt[None] / t(count)  # (C, PH, PW, gh, gw, 4)
        vals = vals[:, keep]  # (C, in-map samples, 4), order kept
        idx = pos[keep]
        target = grad[int(roi[0])].reshape(c, h * w)
        idx, vals = idx.reshape(-1), vals.reshape(c, -1)
        with np.errstate(invalid="ignore", over="ignore"):
            for ch in range(c):  # 1-D np.add.at: the fast path, repeated indices in order
                np.add.at(target[ch], idx, vals[ch])
    return grad


def _round_half_away(v: np.ndarray) -> np.ndarray:
    """C's round(): half away from zero (np.round rounds half to even), exactly."""
    whole = np.trunc(v)
    up = np.abs(v - whole) >= 0.5
    r = whole + np.where(up, np.sign(v), 0)
    return np.clip(r.astype(np.float64), -(2.0**40), 2.0**40).astype(np.int64)


def _pool_bins(start: int, roi_size: int, pooled: int, size: int, t) -> tuple:
    bin_size = t(roi_size) / t(pooled)
    p = np.arange(pooled)
    lo = np.floor(p.astype(t) * bin_size).astype(np.int64)
    hi = np.ceil((p + 1).astype(t) * bin_size).astype(np.int64)
    return np.clip(lo + start, 0, size), np.clip(hi + start, 0, size)


def roi_pool(
    input: ArrayLike,  # noqa: A002
    boxes: ArrayLike | list[np.ndarray],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    return_argmax: bool = False,
) -> NDArray[np.floating] | tuple[NDArray[np.floating], NDArray[np.int64]]:
    """Reference for :func:`npkernels.roi_pool`, bin by bin."""
    x = rules.feature_map(input, "input")
    pooled = rules.as_int_pair(output_size, "output_size")
    scale = rules.as_finite_float(spatial_scale, "spatial_scale")
    want_argmax = rules.as_bool(return_argmax, "return_argmax")
    r = rules.rois(boxes, x.dtype, x.shape[0])
    rules.check_pooled_output(r.shape[0], x.shape[1], pooled, x.dtype, extra_itemsize=8)
    t = x.dtype.type
    n, c, h, w = x.shape
    ph, pw = pooled
    out = np.zeros((r.shape[0], c, ph, pw), dtype=x.dtype)
    arg = np.full((r.shape[0], c, ph, pw), -1, dtype=np.int64)
    floor_value = t(-rules.FLT_MAX)
    for k, roi in enumerate(r):
        x1, y1, x2, y2 = _round_half_away(roi[1:] * t(scale))
        hs, he = _pool_bins(y1, max(y2 - y1 + 1, 1), ph, h, t)
        ws, we = _pool_bins(x1, max(x2 - x1 + 1, 1), pw, w, t)
        for i in range(ph):
            for j in range(pw):
                if he[i] <= hs[i] or we[j] <= ws[j]:
                    continue  # empty bin: 0 and argmax -1
                region = x[int(roi[0]), :, hs[i] : he[i], ws[j] : we[j]].reshape(c, -1)
                filled = np.where(np.isnan(region), -np.inf, region)  # NaN never wins
                best = filled.max(axis=1)
                first = np.argmax(filled == best[:, None], axis=1)
                wins = best > floor_value
                width = we[j] - ws[j]
                flat = (hs[i] + first // width) * w + ws[j] + first % width
                out[k, :, i, j] = np.where(wins, region[np.arange(c), first], floor_value)
                arg[k, :, i, j] = np.where(wins, flat, -1)
    return (out, arg) if want_argmax else out


def roi_pool_backward(
    grad_output: ArrayLike,
    argmax: ArrayLike,
    boxes: ArrayLike | list[np.ndarray],
    input_shape: tuple[int, int, int, int],
) -> NDArray[np.floating]:
    """Reference for :func:`npkernels.roi_pool_backward`: ``np.add.at`` ROI by ROI."""
    shape = rules.input_shape(input_shape)
    n, c, h, w = shape
    g = rules.as_float_array(grad_output, "grad_output")
    r = rules.rois(boxes, g.dtype, n)
    g = rules.grad_output(g, r.shape[0], c, None)
    a = rules.pool_argmax(argmax, g.shape)
    rules.check_output_size((n, c, h, w), g.dtype.itemsize, "input_shape", "a gradient")
    msg = rules.argmax_error(a, h * w)
    if msg is not None:
        raise ValueError(msg)
    grad = np.zeros(shape, dtype=g.dtype)
    for k, roi in enumerate(r):
        target = grad[int(roi[0])].reshape(c, h * w)
        idx = a[k].reshape(c, -1)
        vals = g[k].reshape(c, -1)
        for ch in range(c):  # bins in order; -1 sends nothing
            hit = idx[ch] != -1
            np.add.at(target[ch], idx[ch][hit], vals[ch][hit])
    return grad
