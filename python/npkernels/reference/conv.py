"""NumPy twins of ``npkernels.conv``: im2col by gathering the taps, then a matrix product.

The convolution is ``Y = W · cols`` per group, with ``cols`` the unrolled input
windows; the input gradient folds ``Wᵀ · dY`` back onto the image (col2im);
the weight gradient is ``dY · colsᵀ`` summed over the batch. Same signatures,
argument rules and computation dtype as the fast path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _conv_args as args

__all__ = ["col2im", "conv2d", "conv2d_backward", "conv_transpose2d", "im2col"]


def _taps(size: int, out: int, k: int, s: int, d: int, pad_before: int):
    """(k, out) input positions ``o*s + t*d - pad_before`` of every tap and window, and
    which of them fall inside ``[0, size)`` (the others read the zero padding)."""
    pos = np.arange(out)[None, :] * s + np.arange(k)[:, None] * d - pad_before
    inside = (pos >= 0) & (pos < size)
    return np.clip(pos, 0, max(size - 1, 0)), inside


def _unfold(x, kernel, stride, pad, dilation, out_hw):
    """(N, C*kH*kW, Ho*Wo) windows of x (N, C, H, W); pad = (top, bottom, left, right).

    Gathers the taps directly (zero outside the image) rather than padding the image, so a
    huge padding or dilation costs nothing beyond the output.
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    if x.size == 0:  # every window reads zeros
        return np.zeros((n, c * kh * kw, ho * wo), dtype=x.dtype)
    rows, rows_in = _taps(h, ho, kh, sh, dh, pad[0])
    cols, cols_in = _taps(w, wo, kw, sw, dw, pad[2])
    g = x[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, kH, Ho, kW, Wo)
    g = np.where(rows_in[:, :, None, None] & cols_in[None, None, :, :], g, x.dtype.type(0))
    return g.transpose(0, 1, 2, 4, 3, 5).reshape(n, c * kh * kw, ho * wo)


def _fold(cols, hw, kernel, stride, pad, dilation, out_hw):
    """The adjoint of _unfold: cols (N, C*kH*kW, Ho*Wo) summed back into (N, C, H, W),
    taps (kh, kw) outer, as PyTorch; within one tap every window lands on its own pixel."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    out = np.zeros((n, c, *hw), dtype=cols.dtype)
    if cols.size == 0 or out.size == 0:  # nothing to add
        return out
    rows, rows_in = _taps(hw[0], ho, kh, sh, dh, pad[0])
    colz, cols_in = _taps(hw[1], wo, kw, sw, dw, pad[2])
    blocks = cols.reshape(n, c, kh, kw, ho, wo)
    for i in range(kh):
        for j in range(kw):
            ri, ci = rows[i][rows_in[i]], colz[j][cols_in[j]]
            part = blocks[:, :, i, j][:, :, rows_in[i]][:, :, :, cols_in[j]]
            out[:, :, ri[:, None], ci[None, :]] += part
    return out


def _sym(p):
    return p[0], p[0], p[1], p[1]


def im2col(
    x: ArrayLike, kernel_size, *, stride=1, padding=0, dilation=1
) -> NDArray[np.floating]:
    """NumPy twin of :func:`npkernels.conv.im2col`."""
    arr, unbatched, u, out_hw = args.im2col_args(x, kernel_size, stride, padding, dilation)
    cols = _unfold(arr, u.kernel, u.stride, _sym(u.padding), u.dilation, out_hw)
    return cols[0] if unbatched else cols


def col2im(
    cols: ArrayLike, output_size, kernel_size, *, stride=1, padding=0, dilation=1
) -> NDArray[np.floating]:
    """NumPy twin of :func:`npkernels.conv.col2im`."""
    arr, unbatched, u, hw, _ = args.col2im_args(
        cols, output_size, kernel_size, stride, padding, dilation
    )
    out_hw = u.out_hw(hw)
    x = _fold(arr, hw, u.kernel, u.stride, _sym(u.padding), u.dilation, out_hw)
    x = np.ascontiguousarray(x)
    return x[0] if unbatched else x


def _grouped_cols(a: args.Conv2dArgs, x: np.ndarray) -> np.ndarray:
    """(N, groups, C/groups*kH*kW, L) windows of x."""
    cols = _unfold(x, a.kernel, a.stride, a.padding, a.dilation, a.out_hw)
    return cols.reshape(x.shape[0], a.groups, cols.shape[1] // a.groups, cols.shape[-1])


def conv2d(
    x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride=1, padding=0,
    dilation=1, groups=1,
) -> NDArray[np.floating]:
    """NumPy twin of :func:`npkernels.conv.conv2d`."""
    a = args.conv2d_args(x, weight, bias, stride, padding, dilation, groups)
    n, o = a.x.shape[0], a.weight.shape[0]
    w = a.weight.reshape(a.groups, o // a.groups, int(np.prod(a.weight.shape[1:])))
    y = np.matmul(w, _grouped_cols(a, a.x))  # (N, groups, O/groups, L)
    y = y.reshape(n, o, *a.out_hw)
    if a.bias is not None:
        y = y + a.bias[:, None, None]
    return y[0] if a.unbatched else y


def conv2d_backward(
    grad_output: ArrayLike, x: ArrayLike, weight: ArrayLike, stride=1, padding=0, dilation=1,
    groups=1, output_mask=(True, True, True),
):
    """NumPy twin of :func:`npkernels.conv.conv2d_backward`."""
    b = args.backward_args(grad_output, x, weight, stride, padding, dilation, groups, output_mask)
    a = b.conv
    n, o = a.x.shape[0], a.weight.shape[0]
    dy = b.grad_output.reshape(n, a.groups, o // a.groups, a.out_hw[0] * a.out_hw[1])
    w = a.weight.reshape(a.groups, o // a.groups, int(np.prod(a.weight.shape[1:])))
    gi = gw = gb = None
    if b.mask[0]:
        dcols = np.matmul(w.transpose(0, 2, 1), dy).reshape(n, a.groups * w.shape[2], dy.shape[-1])
        gi = _fold(dcols, a.x.shape[2:], a.kernel, a.stride, a.padding, a.dilation, a.out_hw)
        gi = np.ascontiguousarray(gi)
        gi = gi[0] if a.unbatched else gi
    if b.mask[1]:
        per_image = np.matmul(dy, _grouped_cols(a, a.x).transpose(0, 1, 3, 2))
        gw = per_image.sum(axis=0).reshape(a.weight.shape)
    if b.mask[2]:
        gb = b.grad_output.sum(axis=(0, 2, 3))
    return gi, gw, gb


def conv_transpose2d(
    x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride=1, padding=0,
    output_padding=0, groups=1, dilation=1,
) -> NDArray[np.floating]:
    """NumPy twin of :func:`npkernels.conv.conv_transpose2d`."""
    t = args.transpose_args(x, weight, bias, stride, padding, output_padding, groups, dilation)
    n, c_in = t.x.shape[:2]
    w = t.weight.reshape(t.groups, c_in // t.groups, int(np.prod(t.weight.shape[1:])))
    xs = t.x.reshape(n, t.groups, c_in // t.groups, t.x.shape[2] * t.x.shape[3])
    cols = np.matmul(w.transpose(0, 2, 1), xs).reshape(n, t.groups * w.shape[2], xs.shape[-1])
    y = _fold(cols, t.out_hw, t.kernel, t.stride, _sym(t.padding), t.dilation, t.x.shape[2:])
    y = np.ascontiguousarray(y)
    if t.bias is not None:
        y = y + t.bias[:, None, None]
    return y[0] if t.unbatched else y
