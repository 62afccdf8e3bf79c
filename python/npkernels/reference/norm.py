"""Readable NumPy versions of ``npkernels.norm`` (BatchNorm, the design notes' formulas).

Statistics in float64 by the two-pass formula (mean, then the mean squared
deviation) on values shifted by each channel's first value; the normalisation
in the input dtype, as the fast path does.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _norm_args as na

__all__ = ["batch_norm", "batch_norm_backward", "batch_norm_forward"]


def _stats(x3: np.ndarray):
    """(mean, biased variance) per channel of an (N, C, S) array, in float64.

    Two passes over ``d = x - K`` with K the channel's first value, as the fast
    path shifts: a constant channel gets its mean exactly and variance 0.
    """
    x64 = x3.astype(np.float64)
    k = x64[0, :, 0]
    d = x64 - k[None, :, None]
    dmean = d.mean(axis=(0, 2))
    var = ((d - dmean[None, :, None]) ** 2).mean(axis=(0, 2))
    return k + dmean, var


def _apply(x3, mean, scale, beta):
    """``y = (x - mean) * scale + beta`` per channel, in x's dtype."""
    dt = x3.dtype
    shift = np.zeros(x3.shape[1], dt) if beta is None else beta
    return (x3 - mean.astype(dt)[None, :, None]) * scale.astype(dt)[None, :, None] + \
        shift[None, :, None]


def _gamma64(gamma, c):
    return np.ones(c) if gamma is None else gamma.astype(np.float64)


def batch_norm_forward(x: ArrayLike, gamma: ArrayLike | None, beta: ArrayLike | None,
                       eps: float = 1e-5):
    """Reference for :func:`npkernels.batch_norm_forward`."""
    inp, g, b, e = na.forward_args(x, gamma, beta, eps)
    c, dt = inp.channels, inp.x.dtype
    mean, var = _stats(inp.x)
    invstd = 1.0 / np.sqrt(var + e)
    y = _apply(inp.x, mean, _gamma64(g, c) * invstd, b)
    return y.reshape(inp.shape), mean.astype(dt), invstd.astype(dt)


def batch_norm(x: ArrayLike, gamma: ArrayLike | None, beta: ArrayLike | None,
               running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None,
               training: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> NDArray:
    """Reference for :func:`npkernels.batch_norm`."""
    inp, g, b, rm, rv, train, mom, e = na.check_args(x, gamma, beta, running_mean, running_var,
                                                     training, momentum, eps)
    c = inp.channels
    if not train:
        dt = inp.x.dtype  # the running statistics are read in the computation dtype
        var = rv.astype(dt).astype(np.float64)
        return _apply(inp.x, rm.astype(dt), _gamma64(g, c) / np.sqrt(var + e), b).reshape(
            inp.shape)
    if inp.count == 0:
        return np.empty(inp.shape, inp.x.dtype)
    mean, var = _stats(inp.x)
    y = _apply(inp.x, mean, _gamma64(g, c) / np.sqrt(var + e), b)
    na.update_running(rm, mean.astype(inp.x.dtype).astype(np.float64), mom)
    na.update_running(rv, var * inp.count / (inp.count - 1), mom)
    return y.reshape(inp.shape)


def batch_norm_backward(grad_y: ArrayLike, x: ArrayLike, gamma: ArrayLike | None,
                        mean: ArrayLike, invstd: ArrayLike):
    """Reference for :func:`npkernels.batch_norm_backward`.

    ``dbeta = sum dy``, ``dgamma = sum dy * x_hat``; from ``dvar`` and ``dmean``,
    ``dx = gamma * invstd * (dy - mean(dy) - x_hat * mean(dy * x_hat))``.
    """
    inp, gy, g, m, s = na.backward_args(grad_y, x, gamma, mean, invstd)
    dt, c, count = inp.x.dtype, inp.channels, inp.count
    x64, gy64 = inp.x.astype(np.float64), gy.astype(np.float64)
    mu, istd = m.astype(np.float64), s.astype(np.float64)
    xhat = (x64 - mu[None, :, None]) * istd[None, :, None]
    dbeta = gy64.sum(axis=(0, 2))
    dgamma = (gy64 * xhat).sum(axis=(0, 2))
    scale = _gamma64(g, c) * istd
    gx = scale[None, :, None] * (gy64 - (dbeta / count)[None, :, None]
                                 - xhat * (dgamma / count)[None, :, None])
    return gx.astype(dt).reshape(inp.shape), dgamma.astype(dt), dbeta.astype(dt)
