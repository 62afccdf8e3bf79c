"""Argument rules of the convolutions, shared by the fast path and the NumPy reference.

Everything a convolution call decides before computing lives here: the dtype
policy, the int-or-pair forms, the ``'valid'``/``'same'`` padding rules, the
output sizes and every error message. ``npkernels.conv`` and
``npkernels.reference.conv`` both call these, so they accept and reject the
same inputs with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    MAX_PARAM,
    as_bool,
    as_float_array,
    as_int,
    check_output_size,
    check_param_bound,
)

Pair = tuple[int, int]


def pair(value: object, name: str, minimum: int) -> Pair:
    """``value`` (an int or a pair of ints) as a pair, each ``>= minimum``."""
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim):
        items = list(value)
        if len(items) != 2:
            msg = f"{name} must be an int or a pair of ints, got {value!r}"
            raise ValueError(msg)
    else:
        items = [value, value]
    a, b = (as_int(v, name) for v in items)
    if a < minimum or b < minimum:
        msg = f"{name} must be >= {minimum}, got {value!r}"
        raise ValueError(msg)
    check_param_bound((a, b), name, value)
    return a, b


def out_size(size: int, pad_total: int, kernel: int, stride: int, dilation: int) -> int:
    """``floor((size + pad_total - dilation*(kernel-1) - 1) / stride) + 1`` (0 if no window fits)."""
    span = size + pad_total - dilation * (kernel - 1) - 1
    return span // stride + 1 if span >= 0 else 0


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's SAME rule, for any stride: ``(before, after)`` with ``out = ceil(size/stride)``."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _batched(x: np.ndarray, name: str, kind: str) -> tuple[np.ndarray, bool]:
    """(4-D view, was unbatched): (C, H, W) gains a batch axis of 1."""
    if x.ndim == 3:
        return x[None], True
    if x.ndim != 4:
        msg = f"{name} must have shape (N, {kind}, H, W) or ({kind}, H, W), got {x.shape}"
        raise ValueError(msg)
    return x, False


def _weight(weight: ArrayLike, dtype: np.dtype, expected: str) -> np.ndarray:
    w = as_float_array(weight, "weight", dtype)
    if w.ndim != 4 or min(w.shape[2:]) < 1:
        msg = f"weight must have shape {expected} with kH, kW >= 1, got {w.shape}"
        raise ValueError(msg)
    check_param_bound(w.shape[2:], "weight.shape[2:] (the kernel size)")
    return w


def _groups(groups: object, divides: int, what: str) -> int:
    g = as_int(groups, "groups")
    if g < 1:
        msg = f"groups must be >= 1, got {g}"
        raise ValueError(msg)
    if divides % g:
        msg = f"groups must divide {what} = {divides}, got {g}"
        raise ValueError(msg)
    return g


def _bias(bias: ArrayLike | None, dtype: np.dtype, n: int, what: str) -> np.ndarray | None:
    if bias is None:
        return None
    b = as_float_array(bias, "bias", dtype)
    if b.shape != (n,):
        msg = f"bias must have shape ({n},) ({what}), got {b.shape}"
        raise ValueError(msg)
    return b


def _check_out_hw(out_hw: Pair, name: str) -> None:
    if max(out_hw) > MAX_PARAM:
        msg = f"{name} give an output size {tuple(out_hw)}, beyond 2**31 - 1 per axis"
        raise ValueError(msg)


# Fortran BLAS takes int sizes. The kernels split the matrix dimensions that exceed one
# (blas::gemm), but a leading dimension is a row length and cannot be split: an image plane
# (H*W), an output plane (Ho*Wo) and a column-matrix height (C/groups*kH*kW) must each fit.
BLAS_INT_MAX = 2**31 - 1


def check_blas_sizes(in_hw: Pair, out_hw: Pair, weight_shape: tuple[int, ...]) -> None:
    """ValueError, before anything is allocated, for a convolution the BLAS cannot take."""
    rows = weight_shape[1] * weight_shape[2] * weight_shape[3]
    for value, what in ((in_hw[0] * in_hw[1], f"x: an input plane of {in_hw[0]}x{in_hw[1]}"),
                        (out_hw[0] * out_hw[1], f"x: an output plane of {out_hw[0]}x{out_hw[1]}"),
                        (rows, f"weight: a column matrix of weight.shape[1]*kH*kW = {rows} rows")):
        if value > BLAS_INT_MAX:
            msg = f"{what} is too large for the BLAS's 32-bit sizes (at most 2**31 - 1 elements)"
            raise ValueError(msg)


def _check_fits(padded: Pair, kernel: Pair, dilation: Pair, name: str = "weight") -> None:
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if extent[0] > padded[0] or extent[1] > padded[1]:
        msg = (
            f"{name}: the dilated kernel {extent} is larger than the padded input {padded}"
        )
        raise ValueError(msg)


@dataclass(frozen=True)
class Conv2dArgs:
    """A normalised conv2d problem: 4-D arrays, explicit ints, the output size."""

    x: np.ndarray  # (N, C, H, W), C-contiguous, the computation dtype
    weight: np.ndarray  # (O, C/groups, kH, kW)
    bias: np.ndarray | None
    stride: Pair
    padding: tuple[int, int, int, int]  # top, bottom, left, right
    dilation: Pair
    groups: int
    out_hw: Pair
    unbatched: bool

    @property
    def pad_top_left(self) -> Pair:
        return self.padding[0], self.padding[2]

    @property
    def kernel(self) -> Pair:
        return self.weight.shape[2], self.weight.shape[3]


def _padding(padding: object, hw: Pair, kernel: Pair, stride: Pair, dilation: Pair):
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            top, bottom = same_padding(hw[0], kernel[0], stride[0], dilation[0])
            left, right = same_padding(hw[1], kernel[1], stride[1], dilation[1])
            return top, bottom, left, right
        msg = f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}"
        raise ValueError(msg)
    ph, pw = pair(padding, "padding", 0)
    return ph, ph, pw, pw


def conv2d_args(x, weight, bias, stride, padding, dilation, groups) -> Conv2dArgs:
    """Validate and normalise the arguments of ``conv2d`` (and of its backward)."""
    arr, unbatched = _batched(as_float_array(x, "x"), "x", "C")
    w = _weight(weight, arr.dtype, "(O, C/groups, kH, kW)")
    g = _groups(groups, w.shape[0], "weight.shape[0]")
    if arr.shape[1] != w.shape[1] * g:
        msg = (
            f"x must have weight.shape[1] * groups = {w.shape[1] * g} channels "
            f"(groups={g}), got {arr.shape[1]}"
        )
        raise ValueError(msg)
    b = _bias(bias, arr.dtype, w.shape[0], "weight.shape[0]")
    s = pair(stride, "stride", 1)
    d = pair(dilation, "dilation", 1)
    kernel = (w.shape[2], w.shape[3])
    hw = (arr.shape[2], arr.shape[3])
    pad = _padding(padding, hw, kernel, s, d)
    padded = (hw[0] + pad[0] + pad[1], hw[1] + pad[2] + pad[3])
    _check_fits(padded, kernel, d)
    out_hw = (
        out_size(hw[0], pad[0] + pad[1], kernel[0], s[0], d[0]),
        out_size(hw[1], pad[2] + pad[3], kernel[1], s[1], d[1]),
    )
    _check_out_hw(out_hw, "x, padding, stride and dilation")
    check_output_size((arr.shape[0], w.shape[0], *out_hw), arr.dtype.itemsize,
                      "x (with weight, padding and stride)", "an output")
    check_blas_sizes(hw, out_hw, w.shape)
    return Conv2dArgs(arr, w, b, s, pad, d, g, out_hw, unbatched)


@dataclass(frozen=True)
class BackwardArgs:
    """A normalised conv2d_backward problem."""

    conv: Conv2dArgs
    grad_output: np.ndarray  # (N, O, Ho, Wo)
    mask: tuple[bool, bool, bool]


def backward_args(grad_output, x, weight, stride, padding, dilation, groups, output_mask):
    """Validate and normalise the arguments of ``conv2d_backward``."""
    conv = conv2d_args(x, weight, None, stride, padding, dilation, groups)
    try:
        items = list(output_mask)
    except TypeError:
        items = []
    if len(items) != 3:
        msg = f"output_mask must be three bools, got {output_mask!r}"
        raise ValueError(msg)
    mask = tuple(as_bool(v, "output_mask") for v in items)
    dy = as_float_array(grad_output, "grad_output", conv.x.dtype)
    dy4 = dy[None] if conv.unbatched and dy.ndim == 3 else dy
    want = (conv.x.shape[0], conv.weight.shape[0], *conv.out_hw)
    if dy4.shape != want:
        shown = want[1:] if conv.unbatched else want
        msg = f"grad_output must have shape {shown} (the conv2d output), got {dy.shape}"
        raise ValueError(msg)
    return BackwardArgs(conv, dy4, mask)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TransposeArgs:
    """A normalised conv_transpose2d problem (padding symmetric per axis)."""

    x: np.ndarray  # (N, C_in, H, W)
    weight: np.ndarray  # (C_in, C_out/groups, kH, kW)
    bias: np.ndarray | None
    stride: Pair
    padding: Pair
    dilation: Pair
    groups: int
    out_hw: Pair
    unbatched: bool

    @property
    def kernel(self) -> Pair:
        return self.weight.shape[2], self.weight.shape[3]

    @property
    def out_channels(self) -> int:
        return self.weight.shape[1] * self.groups


def transpose_args(x, weight, bias, stride, padding, output_padding, groups, dilation):
    """Validate and normalise the arguments of ``conv_transpose2d``.

    ``out = (in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1``.
    """
    arr, unbatched = _batched(as_float_array(x, "x"), "x", "C_in")
    w = _weight(weight, arr.dtype, "(C_in, C_out/groups, kH, kW)")
    g = _groups(groups, w.shape[0], "weight.shape[0]")
    if arr.shape[1] != w.shape[0]:
        msg = f"x must have weight.shape[0] = {w.shape[0]} channels, got {arr.shape[1]}"
        raise ValueError(msg)
    if isinstance(padding, str):
        msg = f"padding must be an int or a pair of ints for conv_transpose2d, got {padding!r}"
        raise ValueError(msg)
    s = pair(stride, "stride", 1)
    p = pair(padding, "padding", 0)
    d = pair(dilation, "dilation", 1)
    op = pair(output_padding, "output_padding", 0)
    if any(o >= max(si, di) for o, si, di in zip(op, s, d)):
        msg = (
            f"output_padding must be smaller than either stride or dilation, got "
            f"output_padding={op}, stride={s}, dilation={d}"
        )
        raise ValueError(msg)
    b = _bias(bias, arr.dtype, w.shape[1] * g, "weight.shape[1] * groups")
    kernel = (w.shape[2], w.shape[3])
    out_hw = tuple(
        (n - 1) * si - 2 * pi + di * (k - 1) + o + 1
        for n, si, pi, di, k, o in zip(arr.shape[2:], s, p, d, kernel, op)
    )
    if min(out_hw) < 1:
        msg = f"padding {p} is too large: the output size would be {out_hw}"
        raise ValueError(msg)
    _check_out_hw(out_hw, "x, stride, dilation and output_padding")
    check_output_size((arr.shape[0], w.shape[1] * g, *out_hw), arr.dtype.itemsize,
                      "x (with weight, stride and dilation)", "an output")
    check_blas_sizes(out_hw, arr.shape[2:], w.shape)  # the convolution being transposed
    return TransposeArgs(arr, w, b, s, p, d, g, out_hw, unbatched)  # type: ignore[arg-type]


@dataclass(frozen=True)
class UnfoldArgs:
    """A normalised im2col / col2im problem (symmetric padding)."""

    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair

    def out_hw(self, hw: Pair) -> Pair:
        return tuple(  # type: ignore[return-value]
            out_size(n, 2 * p, k, s, d)
            for n, p, k, s, d in zip(hw, self.padding, self.kernel, self.stride, self.dilation)
        )

    def check_fits(self, hw: Pair, name: str) -> Pair:
        padded = (hw[0] + 2 * self.padding[0], hw[1] + 2 * self.padding[1])
        _check_fits(padded, self.kernel, self.dilation, name)
        return self.out_hw(hw)


def unfold_args(kernel_size, stride, padding, dilation) -> UnfoldArgs:
    return UnfoldArgs(
        pair(kernel_size, "kernel_size", 1),
        pair(stride, "stride", 1),
        pair(padding, "padding", 0),
        pair(dilation, "dilation", 1),
    )


def im2col_args(x, kernel_size, stride, padding, dilation):
    """(4-D x, was unbatched, UnfoldArgs, (Ho, Wo)) for ``im2col``."""
    arr, unbatched = _batched(as_float_array(x, "x"), "x", "C")
    u = unfold_args(kernel_size, stride, padding, dilation)
    out_hw = u.check_fits((arr.shape[2], arr.shape[3]), "kernel_size")
    _check_out_hw(out_hw, "x, padding, stride and dilation")
    rows = arr.shape[1] * u.kernel[0] * u.kernel[1]
    check_output_size((arr.shape[0], rows, out_hw[0] * out_hw[1]), arr.dtype.itemsize,
                      "x (with kernel_size, padding and stride)", "columns")
    return arr, unbatched, u, out_hw


def col2im_args(cols, output_size, kernel_size, stride, padding, dilation):
    """(3-D cols, was unbatched, UnfoldArgs, (H, W), channels) for ``col2im``."""
    arr = as_float_array(cols, "cols")
    unbatched = arr.ndim == 2
    if unbatched:
        arr = arr[None]
    if arr.ndim != 3:
        msg = f"cols must have shape (N, C*kH*kW, L) or (C*kH*kW, L), got {np.shape(cols)}"
        raise ValueError(msg)
    u = unfold_args(kernel_size, stride, padding, dilation)
    hw = pair(output_size, "output_size", 1)
    out_hw = u.check_fits(hw, "kernel_size")
    _check_out_hw(out_hw, "output_size, padding, stride and dilation")
    area = u.kernel[0] * u.kernel[1]
    if arr.shape[1] % area or arr.shape[2] != out_hw[0] * out_hw[1]:
        msg = (
            f"cols must have shape (N, C*{area}, {out_hw[0] * out_hw[1]}) for output_size {hw} "
            f"and kernel_size {u.kernel}, got {np.shape(cols)}"
        )
        raise ValueError(msg)
    check_output_size((arr.shape[0], arr.shape[1] // area, *hw), arr.dtype.itemsize,
                      "output_size", "images")
    return arr, unbatched, u, hw, arr.shape[1] // area
