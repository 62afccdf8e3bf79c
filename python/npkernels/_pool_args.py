"""Argument rules of the pooling kernels, shared by the fast path and the NumPy reference.

PyTorch's forms and checks (``torch.nn.functional`` and ATen's ``Pool.h``):
``kernel_size``/``stride``/``padding``/``dilation`` as an int or a pair,
``stride=None`` meaning the kernel size, ``padding <= kernel_size // 2``, the
ceil_mode rule that drops a last window starting in the right padding, and
"Output size is too small". One place writes the messages, so both paths
reject the same inputs the same way.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    as_bool,
    as_float_array,
    as_index_array,
    as_int,
    check_choice,
    check_output_size,
    check_param_bound,
    check_shape,
)

__all__ = [
    "AdaptiveGeometry",
    "Axis",
    "PoolGeometry",
    "Prepared",
    "PreparedBackward",
    "adaptive_bins",
    "adaptive_geometry",
    "bad_index_message",
    "batched",
    "check_indices_range",
    "check_input_shape",
    "divisor_value",
    "grad_like",
    "indices_like",
    "lp_inf_backward",
    "lp_inf_forward",
    "norm_type_value",
    "pair",
    "pool_geometry",
    "pool_input",
    "prepare_adaptive",
    "prepare_avg_backward",
    "prepare_avg_pool",
    "prepare_free_backward",
    "prepare_indexed_backward",
    "prepare_lp_backward",
    "prepare_lp_pool",
    "prepare_max_pool",
    "prepare_pool_backward",
    "spatial_pyramid",
    "spp_input",
    "spp_levels",
    "torch_sign",
    "unbatched",
]


def _int(value: object, name: str) -> int:
    return as_int(value, name, "an int or a pair of ints")


def pair(value: object, name: str) -> tuple[int, int]:
    """``value`` as ``(height, width)``: an int is used for both; TypeError/ValueError otherwise."""
    if _is_sequence(value):
        items = list(value)  # type: ignore[call-overload]
        if len(items) == 1:
            items = items * 2
        if len(items) != 2:
            msg = f"{name} must be an int or a pair of ints, got {value!r}"
            raise ValueError(msg)
        out = _int(items[0], name), _int(items[1], name)
    else:
        v = _int(value, name)
        out = v, v
    check_param_bound(out, name, value)
    return out


def _is_sequence(value: object) -> bool:
    """A list, tuple or 1-D+ array (a 0-d array is a scalar; a string is not a sequence)."""
    if isinstance(value, np.ndarray):
        return value.ndim > 0
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def pool_input(x: ArrayLike, name: str = "x") -> tuple[np.ndarray, bool]:
    """(4-D float array, was_unbatched): (N, C, H, W), or (C, H, W) taken as N = 1.

    As PyTorch, only the batch may be empty: C, H and W must be >= 1.
    """
    arr = as_float_array(x, name)
    ok = (arr.ndim == 4 and min(arr.shape[1:]) >= 1) or (arr.ndim == 3 and min(arr.shape) >= 1)
    if not ok:
        msg = f"{name} must have shape (N, C, H, W) or (C, H, W) with C, H, W >= 1, got {arr.shape}"
        raise ValueError(msg)
    if arr.ndim == 3:
        return arr[None], True
    return arr, False


def batched(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A 3-D (C, H, W) shape as (1, C, H, W); 4-D unchanged."""
    return (1, *shape) if len(shape) == 3 else shape  # type: ignore[return-value]


def unbatched(out: np.ndarray, was_unbatched: bool) -> np.ndarray:
    """Drop the batch axis added by :func:`pool_input` for a 3-D input."""
    return out[0] if was_unbatched else out


def check_input_shape(input_shape: object, name: str = "input_shape") -> tuple[int, ...]:
    """A forward input shape for a backward: 3 or 4 ints, C, H, W >= 1, N >= 0."""
    try:
        shape = tuple(operator.index(s) for s in input_shape)  # type: ignore[attr-defined]
    except TypeError:
        msg = f"{name} must be a tuple of 3 or 4 ints, got {input_shape!r}"
        raise TypeError(msg) from None
    ok = (len(shape) == 4 and shape[0] >= 0 and min(shape[1:]) >= 1) or (
        len(shape) == 3 and min(shape) >= 1
    )
    if not ok:
        msg = f"{name} must be (N, C, H, W) or (C, H, W) with C, H, W >= 1, got {shape}"
        raise ValueError(msg)
    return shape


class Axis(NamedTuple):
    """One spatial axis of a sliding window: sizes in, out, and the window's form."""

    size: int
    kernel: int
    stride: int
    pad: int
    dilation: int
    out: int


class PoolGeometry(NamedTuple):
    h: Axis
    w: Axis

    def out_shape(self, n: int, c: int) -> tuple[int, int, int, int]:
        return (n, c, self.h.out, self.w.out)

    def as_ints(self) -> tuple[int, ...]:
        """(H, W, kH, kW, sH, sW, pH, pW, dH, dW, oH, oW), the order _core takes."""
        h, w = self.h, self.w
        return (h.size, w.size, h.kernel, w.kernel, h.stride, w.stride, h.pad, w.pad,
                h.dilation, w.dilation, h.out, w.out)


def _output_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """ATen's pooling_output_shape: floor (or ceil) windows, minus a last one in the right pad."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_geometry(
    hw: tuple[int, int],
    kernel_size: object,
    stride: object,
    padding: object,
    dilation: object,
    ceil_mode: object,
    name: str = "x",
) -> PoolGeometry:
    """Check the window arguments as PyTorch does and compute the output size."""
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, Sequence) and len(stride) == 0) else pair(
        stride, "stride"
    )
    p = pair(padding, "padding")
    d = pair(dilation, "dilation")
    ceil = as_bool(ceil_mode, "ceil_mode")
    for value, what, low in ((k, "kernel_size", 1), (s, "stride", 1), (p, "padding", 0),
                             (d, "dilation", 1)):
        if min(value) < low:
            msg = f"{what} must be >= {low}, got {value}"
            raise ValueError(msg)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        msg = (f"padding must be at most half the kernel size (kernel_size // 2 = "
               f"{(k[0] // 2, k[1] // 2)}), got {p}")
        raise ValueError(msg)
    out = tuple(_output_size(hw[i], k[i], s[i], p[i], d[i], ceil) for i in range(2))
    if min(out) < 1:
        msg = (f"{name} is too small for the window: input size {tuple(hw)}, kernel_size {k}, "
               f"stride {s}, padding {p}, dilation {d} give output size {out}. "
               "Output size is too small")
        raise ValueError(msg)
    axes = [Axis(hw[i], k[i], s[i], p[i], d[i], out[i]) for i in range(2)]
    return PoolGeometry(*axes)


class AdaptiveGeometry(NamedTuple):
    in_h: int
    in_w: int
    out_h: int
    out_w: int


def adaptive_geometry(hw: tuple[int, int], output_size: object) -> AdaptiveGeometry:
    """``output_size`` (int, or pair of int-or-None: None keeps that input size), checked."""
    if _is_sequence(output_size):
        items = list(output_size)  # type: ignore[call-overload]
        if len(items) != 2:
            msg = f"output_size must be an int or a pair of ints (or None), got {output_size!r}"
            raise ValueError(msg)
        size = tuple(hw[i] if items[i] is None else _int(items[i], "output_size")
                     for i in range(2))
        check_param_bound(size, "output_size", output_size)
    else:
        size = pair(output_size, "output_size")
    if min(size) < 0:
        msg = f"output_size must be >= 0, got {size}"
        raise ValueError(msg)
    return AdaptiveGeometry(hw[0], hw[1], size[0], size[1])


def adaptive_bins(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin i of ``out`` over ``size``: ``[floor(i*size/out), ceil((i+1)*size/out))``, in ints."""
    i = np.arange(out, dtype=np.int64)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    return start, end


def norm_type_value(norm_type: object) -> float:
    """``norm_type`` of Lp pooling as a float: any real but 0 (inf and -inf allowed)."""
    if isinstance(norm_type, (bool, np.bool_)) or not isinstance(
        norm_type, (int, float, np.integer, np.floating)
    ):
        msg = f"norm_type must be a real number, got {type(norm_type).__name__}"
        raise TypeError(msg)
    p = float(norm_type)
    if p == 0 or math.isnan(p):
        msg = f"norm_type must be a non-zero number, got {norm_type!r}"
        raise ValueError(msg)
    return p


def grad_like(grad: ArrayLike, name: str, expected: tuple[int, ...]) -> np.ndarray:
    """``grad`` as a float array of exactly ``expected`` shape (ValueError otherwise)."""
    g = as_float_array(grad, name)
    check_shape(g, name, expected, str(expected))
    return g


def indices_like(indices: ArrayLike, name: str, expected: tuple[int, ...]) -> np.ndarray:
    """Max-pool indices as C-contiguous int64 of ``expected`` shape."""
    idx = as_index_array(indices, name)
    check_shape(idx, name, expected, str(expected))
    return idx


# The full argument handling of each public function, shared by npkernels.pool and
# npkernels.reference.pool: each returns the 4-D input, whether it was 3-D, and the
# checked geometry.


class Prepared(NamedTuple):
    x: np.ndarray  # (N, C, H, W) float32/float64, C-contiguous
    was_3d: bool
    geometry: PoolGeometry


def prepare_max_pool(x, kernel_size, stride, padding, dilation, ceil_mode) -> Prepared:
    arr, was_3d = pool_input(x)
    geom = pool_geometry(arr.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    return Prepared(arr, was_3d, geom)


def divisor_value(divisor_override: object) -> int:
    """0 when absent (the window size divides), else the checked non-zero int."""
    if divisor_override is None:
        return 0
    d = _int(divisor_override, "divisor_override")
    if d == 0:
        msg = "divisor_override must be non-zero, got 0"
        raise ValueError(msg)
    check_param_bound((abs(d),), "divisor_override", d)
    return d


def prepare_avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override) -> tuple[Prepared, bool, int]:
    arr, was_3d = pool_input(x)
    geom = pool_geometry(arr.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    include = as_bool(count_include_pad, "count_include_pad")
    return Prepared(arr, was_3d, geom), include, divisor_value(divisor_override)


def prepare_lp_pool(x, norm_type, kernel_size, stride, ceil_mode) -> tuple[Prepared, float]:
    p = norm_type_value(norm_type)
    arr, was_3d = pool_input(x)
    geom = pool_geometry(arr.shape[2:], kernel_size, stride, 0, 1, ceil_mode)
    return Prepared(arr, was_3d, geom), p


class PreparedBackward(NamedTuple):
    grad: np.ndarray  # (N, C, oH, oW), C-contiguous float
    was_3d: bool
    input_shape: tuple[int, int, int, int]  # batched


def prepare_pool_backward(grad_output, input_shape, out_hw) -> PreparedBackward:
    """grad_output checked against the forward output shape of ``input_shape``."""
    shape = check_input_shape(input_shape)
    was_3d = len(shape) == 3
    full = batched(shape)
    expected = (*full[:2], *out_hw)
    g = as_float_array(grad_output, "grad_output")
    check_output_size(full, g.dtype.itemsize, "input_shape", "a gradient")
    if was_3d:
        check_shape(g, "grad_output", expected[1:], str(expected[1:]))
        g = g[None]
    else:
        check_shape(g, "grad_output", expected, str(expected))
    return PreparedBackward(g, was_3d, full)


def prepare_free_backward(grad_output, input_shape) -> PreparedBackward:
    """grad_output of a pooling whose output size it defines (adaptive, indexed): the batch
    and channels of ``input_shape``, any (oH, oW)."""
    shape = check_input_shape(input_shape)
    g = as_float_array(grad_output, "grad_output")
    check_output_size(shape, g.dtype.itemsize, "input_shape", "a gradient")
    if g.ndim != len(shape) or g.shape[:-2] != shape[:-2]:
        msg = (f"grad_output must have shape {(*shape[:-2], 'oH', 'oW')} for input_shape "
               f"{shape}, got {g.shape}")
        raise ValueError(msg)
    was_3d = len(shape) == 3
    return PreparedBackward(g[None] if was_3d else g, was_3d, batched(shape))


def prepare_indexed_backward(grad_output, indices, input_shape) -> tuple[PreparedBackward,
                                                                        np.ndarray]:
    """grad_output and indices of a max pooling: same shape, batch and channels of the input."""
    prep = prepare_free_backward(grad_output, input_shape)
    want = prep.grad.shape[1:] if prep.was_3d else prep.grad.shape
    idx = indices_like(indices, "indices", want)
    return prep, idx[None] if prep.was_3d else idx


def prepare_adaptive(x, output_size) -> tuple[np.ndarray, bool, AdaptiveGeometry]:
    arr, was_3d = pool_input(x)
    geom = adaptive_geometry(arr.shape[2:], output_size)
    check_output_size((*arr.shape[:2], geom.out_h, geom.out_w), arr.dtype.itemsize,
                      "output_size", "an output")
    return arr, was_3d, geom


def spp_levels(levels: object) -> tuple[int, ...]:
    """SPP pyramid levels: a non-empty sequence of ints >= 1."""
    if not _is_sequence(levels):
        msg = f"levels must be a sequence of ints, got {levels!r}"
        raise TypeError(msg)
    out = tuple(_int(v, "levels") for v in levels)
    if not out or min(out) < 1:
        msg = f"levels must be a non-empty sequence of ints >= 1, got {levels!r}"
        raise ValueError(msg)
    check_param_bound(out, "levels", levels)
    return out


def spp_input(x: ArrayLike) -> np.ndarray:
    """SPP input: (N, C, H, W) with C, H, W >= 1."""
    arr = as_float_array(x, "x")
    if arr.ndim != 4 or min(arr.shape[1:]) < 1:
        msg = f"x must have shape (N, C, H, W) with C, H, W >= 1, got {arr.shape}"
        raise ValueError(msg)
    return arr


def bad_index_message(value: int, position: int, plane_size: int) -> str:
    """The ValueError text for a max-pool index outside its (H*W) plane (also used by _core)."""
    return (f"indices must be in [0, H*W) = [0, {plane_size}), got {value} at flat position "
            f"{position}")


def check_indices_range(idx: np.ndarray, plane_size: int) -> None:
    bad = np.flatnonzero((idx < 0) | (idx >= plane_size))
    if bad.size:
        msg = bad_index_message(int(idx.flat[bad[0]]), int(bad[0]), plane_size)
        raise ValueError(msg)


def prepare_lp_backward(grad_output, x, norm_type, kernel_size, stride, ceil_mode):
    """(Prepared x, p, grad_output as x's dtype, 4-D) for lp_pool2d_backward."""
    prep, p = prepare_lp_pool(x, norm_type, kernel_size, stride, ceil_mode)
    g = prep.geometry
    shape = prep.x.shape[1:] if prep.was_3d else prep.x.shape
    back = prepare_pool_backward(grad_output, shape, (g.h.out, g.w.out))
    go = np.require(back.grad, dtype=prep.x.dtype, requirements=("C", "A"))
    return prep, p, go


def prepare_avg_backward(grad_output, input_shape, kernel_size, stride, padding, ceil_mode,
                         count_include_pad, divisor_override):
    """(PreparedBackward, forward geometry, count_include_pad, divisor) for avg_pool2d_backward."""
    shape = batched(check_input_shape(input_shape))
    g = pool_geometry(shape[2:], kernel_size, stride, padding, 1, ceil_mode, name="input_shape")
    include = as_bool(count_include_pad, "count_include_pad")
    divisor = divisor_value(divisor_override)
    return prepare_pool_backward(grad_output, input_shape, (g.h.out, g.w.out)), g, include, divisor


def torch_sign(a: np.ndarray) -> np.ndarray:
    """torch.sign: -1, 0 or 1, and 0 for NaN (NumPy gives NaN)."""
    return np.where(np.isnan(a), a.dtype.type(0), np.sign(a))


def lp_inf_forward(prep: Prepared, p: float, kernel_size, stride, ceil_mode, max_pool):
    """torch's p = +-inf Lp pooling: ``max_pool(|x|)`` or ``-max_pool(-|x|)``."""
    a = np.abs(prep.x)
    out = max_pool(a if p > 0 else -a, kernel_size, stride, 0, 1, ceil_mode)
    return unbatched(out if p > 0 else -out, prep.was_3d)


def lp_inf_backward(prep: Prepared, p: float, go: np.ndarray, kernel_size, stride, ceil_mode,
                    max_pool, max_pool_backward):
    """Its gradient: to the argmax of ``+-|x|``, times torch's ``sign(x)``."""
    a = np.abs(prep.x)
    _, idx = max_pool(a if p > 0 else -a, kernel_size, stride, 0, 1, ceil_mode, True)
    gi = max_pool_backward(go, idx, prep.x.shape) * torch_sign(prep.x)
    return unbatched(gi, prep.was_3d)


def spatial_pyramid(x, levels, mode, adaptive_max, adaptive_avg) -> np.ndarray:
    """SPP from the given adaptive pools: each level's (N, C, l, l) flattened, concatenated."""
    xa = spp_input(x)
    lv = spp_levels(levels)
    check_choice(mode, "mode", ("max", "avg"))
    check_output_size((*xa.shape[:2], sum(lvl * lvl for lvl in lv)), xa.dtype.itemsize,
                      "levels", "an output", also=max(lvl * lvl for lvl in lv)
                      * xa.shape[0] * xa.shape[1] * (xa.dtype.itemsize + 8))
    pool = adaptive_max if mode == "max" else adaptive_avg
    n, c = xa.shape[:2]
    return np.concatenate([pool(xa, lvl).reshape(n, c * lvl * lvl) for lvl in lv], axis=1)
