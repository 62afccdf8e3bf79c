"""Argument rules of BatchNorm, shared by ``npkernels.norm`` and its NumPy reference."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_bool, as_float_array, check_same_length

__all__ = ["BatchInput", "batch_input", "channel_param", "check_running", "real_scalar",
           "update_running"]


class BatchInput(NamedTuple):
    x: np.ndarray  # (N, C, S) view of the input, C-contiguous float
    shape: tuple[int, ...]  # the caller's shape, for the output

    @property
    def channels(self) -> int:
        return self.x.shape[1]

    @property
    def count(self) -> int:
        """Values per channel (N * S)."""
        return self.x.shape[0] * self.x.shape[2]


def batch_input(x: ArrayLike, name: str = "x", dtype=None) -> BatchInput:
    """(N, C) or (N, C, *spatial) with C >= 1, as an (N, C, S) float array."""
    arr = as_float_array(x, name, dtype)
    if arr.ndim < 2 or arr.shape[1] < 1:
        msg = f"{name} must have shape (N, C) or (N, C, H, W) with C >= 1, got {arr.shape}"
        raise ValueError(msg)
    spatial = int(np.prod(arr.shape[2:], dtype=np.int64))
    return BatchInput(arr.reshape(arr.shape[0], arr.shape[1], spatial), arr.shape)


def channel_param(v: ArrayLike | None, name: str, c: int, dtype) -> np.ndarray | None:
    """gamma / beta / statistics: None, or a (C,) array cast to the computation dtype."""
    if v is None:
        return None
    arr = as_float_array(v, name, dtype)
    check_same_length(arr, name, c, "the channels of x")
    return arr


def real_scalar(v: object, name: str, low: float | None = None) -> float:
    """A finite real number (>= low when given)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer,
                                                              np.floating)):
        msg = f"{name} must be a real number, got {type(v).__name__}"
        raise TypeError(msg)
    f = float(v)
    if not math.isfinite(f) or (low is not None and f < low):
        bound = "finite" if low is None else f"finite and >= {low}"
        msg = f"{name} must be {bound}, got {v!r}"
        raise ValueError(msg)
    return f


def check_running(arr: object, name: str, c: int) -> np.ndarray | None:
    """A running statistic updated in place: None, or a writeable float ndarray of shape (C,)."""
    if arr is None:
        return None
    if not isinstance(arr, np.ndarray):
        msg = f"{name} must be a NumPy array (it is updated in place), got {type(arr).__name__}"
        raise TypeError(msg)
    if arr.dtype.kind != "f":
        msg = f"{name} must have a floating dtype, got {arr.dtype}"
        raise TypeError(msg)
    check_same_length(arr, name, c, "the channels of x")
    if not arr.flags.writeable:
        msg = f"{name} must be writeable (it is updated in place)"
        raise ValueError(msg)
    return arr


def check_args(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    """Everything batch_norm checks, before any computation: (input, gamma, beta, rm, rv,
    training, momentum, eps)."""
    inp = batch_input(x)
    c, dt = inp.channels, inp.x.dtype
    g = channel_param(gamma, "gamma", c, dt)
    b = channel_param(beta, "beta", c, dt)
    rm = check_running(running_mean, "running_mean", c)
    rv = check_running(running_var, "running_var", c)
    train = as_bool(training, "training")
    mom = real_scalar(momentum, "momentum")
    e = real_scalar(eps, "eps", 0.0)
    if not train and (rm is None or rv is None):
        msg = "running_mean and running_var must be given when training=False"
        raise ValueError(msg)
    if train and inp.count == 1:
        msg = f"x must have more than 1 value per channel when training, got shape {inp.shape}"
        raise ValueError(msg)
    return inp, g, b, rm, rv, train, mom, e


def update_running(running: np.ndarray | None, batch: np.ndarray, momentum: float) -> None:
    """PyTorch's convention, in place: ``new = (1 - momentum) * old + momentum * batch``.

    Computed in float64 and stored in the array's own dtype.
    """
    if running is not None:
        new = (1.0 - momentum) * running.astype(np.float64) + momentum * batch
        running[...] = new


def check_forward_count(inp: BatchInput) -> None:
    if inp.count < 1:
        msg = f"x must have at least one value per channel, got shape {inp.shape}"
        raise ValueError(msg)


def forward_args(x, gamma, beta, eps):
    """(input, gamma, beta, eps) for batch_norm_forward, checked (>= 1 value per channel)."""
    inp = batch_input(x)
    c, dt = inp.channels, inp.x.dtype
    g = channel_param(gamma, "gamma", c, dt)
    b = channel_param(beta, "beta", c, dt)
    e = real_scalar(eps, "eps", 0.0)
    check_forward_count(inp)
    return inp, g, b, e


def backward_args(grad_y, x, gamma, mean, invstd):
    """(input, grad_y (N, C, S) in x's dtype, gamma, mean, invstd), checked."""
    inp = batch_input(x)
    dt, c = inp.x.dtype, inp.channels
    gy = as_float_array(grad_y, "grad_y", dt)
    if gy.shape != inp.shape:
        msg = f"grad_y must have the shape of x {inp.shape}, got {gy.shape}"
        raise ValueError(msg)
    m = channel_param(mean, "mean", c, dt)
    s = channel_param(invstd, "invstd", c, dt)
    if m is None or s is None:
        msg = "mean and invstd must be given (from batch_norm_forward)"
        raise ValueError(msg)
    check_forward_count(inp)
    return inp, gy.reshape(inp.x.shape), channel_param(gamma, "gamma", c, dt), m, s
