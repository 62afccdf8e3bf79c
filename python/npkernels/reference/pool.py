"""Readable NumPy versions of ``npkernels.pool``: loops over output positions.

Each output position is computed for every (n, c) plane at once from the
window's slice of the input, following ATen's CPU kernels step by step; the
backward passes scatter in output scan order, as ATen does. Same signatures
and argument rules as the fast path (``npkernels._pool_args``), same dtype.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _pool_args as pa
from .._validation import as_bool

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_avg_pool2d_backward",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "lp_pool2d",
    "lp_pool2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "spatial_pyramid_pool",
]


def _max_window(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, start: int = 0):
    """Max of x[:, :, rows][:, :, :, cols] per plane and its flat index in the (H*W) plane.

    An empty window (dilation stepping over the input) gives -inf at ``start``.

    Scan order is row-major; the first maximum wins, and a NaN wins over any
    number (the last NaN of the window, as ATen's ``val > max || isnan(val)``).
    """
    n, c, _, width = x.shape
    win = x[:, :, rows][:, :, :, cols].reshape(n, c, rows.size * cols.size)
    flat = (rows[:, None] * width + cols[None, :]).ravel()
    if win.shape[-1] == 0:  # a dilated window can miss the input: ATen keeps its start
        return np.full((n, c), -np.inf, x.dtype), np.full((n, c), start, np.int64)
    nan = np.isnan(win)
    last_nan = win.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    first_max = np.argmax(np.where(nan, -np.inf, win), axis=-1)
    pos = np.where(nan.any(axis=-1), last_nan, first_max)
    return np.take_along_axis(win, pos[..., None], -1)[..., 0], flat[pos]


def _max_window_rows(axis: pa.Axis, o: int) -> tuple[np.ndarray, int]:
    """The taps of window ``o`` inside the input, and ATen's first tap (maybe past the end)."""
    start = o * axis.stride - axis.pad
    stop = min(start + (axis.kernel - 1) * axis.dilation + 1, axis.size)
    while start < 0:
        start += axis.dilation
    return np.arange(start, stop, axis.dilation), start


def max_pool2d(
    x: ArrayLike,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """Reference for :func:`npkernels.max_pool2d`: one window slice per output position."""
    prep = pa.prepare_max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    want_indices = as_bool(return_indices, "return_indices")
    xa, g = prep.x, prep.geometry
    out = np.empty(g.out_shape(*xa.shape[:2]), xa.dtype)
    idx = np.empty(out.shape, np.int64)
    for oh in range(g.h.out):
        rows, h0 = _max_window_rows(g.h, oh)
        for ow in range(g.w.out):
            cols, w0 = _max_window_rows(g.w, ow)
            out[:, :, oh, ow], idx[:, :, oh, ow] = _max_window(xa, rows, cols, h0 * g.w.size + w0)
    out = pa.unbatched(out, prep.was_3d)
    return (out, pa.unbatched(idx, prep.was_3d)) if want_indices else out


def _scatter_to_indices(grad: np.ndarray, idx: np.ndarray, shape) -> np.ndarray:
    """grad_input[n, c, idx] += grad, in output scan order (np.add.at is sequential)."""
    n, c, h, w = shape
    pa.check_indices_range(idx, h * w)
    gi = np.zeros(n * c * h * w, grad.dtype)
    planes = np.arange(n * c, dtype=np.int64)[:, None] * (h * w)
    np.add.at(gi, (planes + idx.reshape(n * c, idx[0, 0].size if n else 0)).ravel(), grad.ravel())
    return gi.reshape(shape)


def max_pool2d_backward(grad_output: ArrayLike, indices: ArrayLike, input_shape) -> NDArray:
    """Reference for :func:`npkernels.max_pool2d_backward`: ``np.add.at`` at the indices."""
    prep, idx = pa.prepare_indexed_backward(grad_output, indices, input_shape)
    gi = _scatter_to_indices(prep.grad, idx, prep.input_shape)
    return pa.unbatched(gi, prep.was_3d)


def _window_sum(a: np.ndarray, rs: slice, cs: slice) -> np.ndarray:
    """Sum of each plane's window, element by element in row-major order in a's dtype.

    ATen's order: a window summing to exactly 0 (which Lp pooling treats
    specially) stays 0 only when summed the same way.
    """
    total = np.zeros(a.shape[:2], a.dtype)
    for r in range(rs.start, rs.stop):
        for c in range(cs.start, cs.stop):
            total += a[:, :, r, c]
    return total


def _avg_window(axis: pa.Axis, o: int, count_include_pad: bool) -> tuple[int, int, int]:
    """(start, stop, size counted by the divisor) on one axis, as ATen's cpu_avg_pool."""
    start = o * axis.stride - axis.pad
    stop = min(start + axis.kernel, axis.size + axis.pad)
    padded = stop - start  # the window clipped to the padded input
    start, stop = max(start, 0), min(stop, axis.size)
    return start, stop, padded if count_include_pad else stop - start


def _avg_divisors(g: pa.PoolGeometry, include: bool, divisor: int):
    """Per output position: (row slice, col slice, divisor)."""
    for oh in range(g.h.out):
        h0, h1, hn = _avg_window(g.h, oh, include)
        for ow in range(g.w.out):
            w0, w1, wn = _avg_window(g.w, ow, include)
            yield oh, ow, slice(h0, h1), slice(w0, w1), divisor or hn * wn


def avg_pool2d(
    x: ArrayLike,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> NDArray:
    """Reference for :func:`npkernels.avg_pool2d`: window sums over the clipped window."""
    prep, include, divisor = pa.prepare_avg_pool(x, kernel_size, stride, padding, ceil_mode,
                                                 count_include_pad, divisor_override)
    xa, g = prep.x, prep.geometry
    out = np.zeros(g.out_shape(*xa.shape[:2]), xa.dtype)
    for oh, ow, rs, cs, d in _avg_divisors(g, include, divisor):
        out[:, :, oh, ow] = _window_sum(xa, rs, cs) / xa.dtype.type(d)
    return pa.unbatched(out, prep.was_3d)


def avg_pool2d_backward(
    grad_output: ArrayLike,
    input_shape,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> NDArray:
    """Reference for :func:`npkernels.avg_pool2d_backward`: ``grad / divisor`` over each window."""
    prep, g, include, divisor = pa.prepare_avg_backward(
        grad_output, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
        divisor_override)
    go = prep.grad
    gi = np.zeros(prep.input_shape, go.dtype)
    for oh, ow, rs, cs, d in _avg_divisors(g, include, divisor):
        gi[:, :, rs, cs] += (go[:, :, oh, ow] / go.dtype.type(d))[:, :, None, None]
    return pa.unbatched(gi, prep.was_3d)


def lp_pool2d(x: ArrayLike, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> NDArray:
    """Reference for :func:`npkernels.lp_pool2d`: ``(kh*kw * mean(x**p))**(1/p)`` per window."""
    prep, p = pa.prepare_lp_pool(x, norm_type, kernel_size, stride, ceil_mode)
    xa, g = prep.x, prep.geometry
    if np.isinf(p):
        return pa.lp_inf_forward(prep, p, kernel_size, stride, ceil_mode, max_pool2d)
    dt = xa.dtype.type
    k = dt(g.h.kernel * g.w.kernel)
    out = np.zeros(g.out_shape(*xa.shape[:2]), xa.dtype)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        xp = _torch_pow(xa, p)
        for oh, ow, rs, cs, count in _avg_divisors(g, False, 0):
            avg = _window_sum(xp, rs, cs) / dt(count)
            out[:, :, oh, ow] = _torch_pow(avg * k, 1.0 / p)
    return pa.unbatched(out, prep.was_3d)


def lp_pool2d_backward(grad_output: ArrayLike, x: ArrayLike, norm_type: float, kernel_size,
                       stride=None, ceil_mode: bool = False) -> NDArray:
    """Reference for :func:`npkernels.lp_pool2d_backward`: torch's autograd chain, by hand.

    With ``a`` the window mean, ``m = kh*kw * a`` and ``s = sign(a)`` (0 for NaN, as torch):
    ``g_t = gy * ((1/p) * m**(1/p - 1)) * kh*kw``; ``g_w = (0 if |a| <= 0 else g_t * s) * s``;
    ``G = sum over the windows holding x of g_w / count``; ``grad_x = G * (p * x**(p-1))``.
    """
    prep, p, go = pa.prepare_lp_backward(grad_output, x, norm_type, kernel_size, stride,
                                         ceil_mode)
    xa, g = prep.x, prep.geometry
    if np.isinf(p):
        return pa.lp_inf_backward(prep, p, go, kernel_size, stride, ceil_mode, max_pool2d,
                                  max_pool2d_backward)
    dt = xa.dtype.type
    k = dt(g.h.kernel * g.w.kernel)
    inv_p = dt(1.0 / p)
    total = np.zeros(xa.shape, xa.dtype)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        xp = _torch_pow(xa, p)
        for oh, ow, rs, cs, count in _avg_divisors(g, False, 0):
            avg = _window_sum(xp, rs, cs) / dt(count)
            gt = go[:, :, oh, ow] * (inv_p * _torch_pow(avg * k, 1.0 / p - 1.0)) * k
            sign = pa.torch_sign(avg)  # torch.sign(out) * relu(abs(out)), differentiated:
            gw = np.where(np.abs(avg) <= 0, dt(0), gt * sign) * sign
            total[:, :, rs, cs] += (gw / dt(count))[:, :, None, None]
        gi = total * (dt(p) * _torch_pow(xa, p - 1.0))
    return pa.unbatched(gi, prep.was_3d)


def _torch_pow(a: np.ndarray, e: float) -> np.ndarray:
    """``a ** e`` in a's dtype with torch's shortcuts (sqrt, rsqrt, reciprocal, products).

    They differ from ``pow`` only in the sign of an infinite or zero result at -0.0.
    """
    dt = a.dtype.type
    shortcuts = {0.5: np.sqrt, -0.5: lambda v: dt(1) / np.sqrt(v), 2.0: lambda v: v * v,
                 3.0: lambda v: v * v * v, -1.0: lambda v: dt(1) / v,
                 -2.0: lambda v: dt(1) / (v * v)}
    fn = shortcuts.get(float(e))
    return fn(a) if fn is not None else a ** dt(e)


def _adaptive_loop(xa: np.ndarray, geom: pa.AdaptiveGeometry):
    if xa.size == 0:  # nothing to pool: the (empty) output is all there is
        return
    hs, he = pa.adaptive_bins(geom.in_h, geom.out_h)
    ws, we = pa.adaptive_bins(geom.in_w, geom.out_w)
    for oh in range(geom.out_h):
        for ow in range(geom.out_w):
            yield oh, ow, np.arange(hs[oh], he[oh]), np.arange(ws[ow], we[ow])


def adaptive_avg_pool2d(x: ArrayLike, output_size) -> NDArray:
    """Reference for :func:`npkernels.adaptive_avg_pool2d`: the mean of each bin."""
    xa, was_3d, geom = pa.prepare_adaptive(x, output_size)
    out = np.empty((*xa.shape[:2], geom.out_h, geom.out_w), xa.dtype)
    for oh, ow, rows, cols in _adaptive_loop(xa, geom):
        rs, cs = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
        out[:, :, oh, ow] = _window_sum(xa, rs, cs) / xa.dtype.type(rows.size * cols.size)
    return pa.unbatched(out, was_3d)


def adaptive_max_pool2d(x: ArrayLike, output_size, return_indices: bool = False):
    """Reference for :func:`npkernels.adaptive_max_pool2d`: max pooling rules on each bin."""
    xa, was_3d, geom = pa.prepare_adaptive(x, output_size)
    want_indices = as_bool(return_indices, "return_indices")
    out = np.empty((*xa.shape[:2], geom.out_h, geom.out_w), xa.dtype)
    idx = np.empty(out.shape, np.int64)
    for oh, ow, rows, cols in _adaptive_loop(xa, geom):
        out[:, :, oh, ow], idx[:, :, oh, ow] = _max_window(xa, rows, cols)
    out = pa.unbatched(out, was_3d)
    return (out, pa.unbatched(idx, was_3d)) if want_indices else out


def adaptive_avg_pool2d_backward(grad_output: ArrayLike, input_shape) -> NDArray:
    """Reference for :func:`npkernels.adaptive_avg_pool2d_backward`: ``grad / bin size``."""
    prep = pa.prepare_free_backward(grad_output, input_shape)
    go, shape = prep.grad, prep.input_shape
    geom = pa.AdaptiveGeometry(shape[2], shape[3], go.shape[2], go.shape[3])
    gi = np.zeros(shape, go.dtype)
    for oh, ow, rows, cols in _adaptive_loop(gi, geom):
        rs, cs = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
        d = go.dtype.type(rows.size * cols.size)
        gi[:, :, rs, cs] += (go[:, :, oh, ow] / d)[:, :, None, None]
    return pa.unbatched(gi, prep.was_3d)


def adaptive_max_pool2d_backward(grad_output: ArrayLike, indices: ArrayLike,
                                 input_shape) -> NDArray:
    """Reference for :func:`npkernels.adaptive_max_pool2d_backward` (= max_pool2d_backward)."""
    return max_pool2d_backward(grad_output, indices, input_shape)


def spatial_pyramid_pool(x: ArrayLike, levels=(1, 2, 4), mode: str = "max") -> NDArray:
    """Reference for :func:`npkernels.spatial_pyramid_pool`: adaptive pools, concatenated."""
    return pa.spatial_pyramid(x, levels, mode, adaptive_max_pool2d, adaptive_avg_pool2d)
