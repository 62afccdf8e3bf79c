"""Batch normalisation, forward and backward (the design notes' BatchNorm, PyTorch's conventions).

Per-channel statistics over every axis but C, accumulated in double; work is
split by channel, each thread reading its channels' values for the statistics
and normalising them while they are still in its cache.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _norm_args as na
from ._threads import get_num_threads

__all__ = ["batch_norm", "batch_norm_backward", "batch_norm_forward"]


def batch_norm_forward(x: ArrayLike, gamma: ArrayLike | None, beta: ArrayLike | None,
                       eps: float = 1e-5):
    """Batch normalisation with the batch's statistics (training mode), and those statistics.

    ``mean = E[x]``, ``var = E[(x - mean)^2]`` (biased) per channel over every axis
    but C, ``invstd = 1 / sqrt(var + eps)`` and
    ``y = (x - mean) * (gamma * invstd) + beta``.

    Parameters
    ----------
    x : (N, C) or (N, C, H, W) array_like
        (Any (N, C, ...) works.) float32 stays float32; other reals become float64.
        At least one value per channel.
    gamma, beta : (C,) array_like or None
        Scale and shift, cast to the dtype of ``x``; None means 1 and 0.
    eps : float, default 1e-5
        Added to the variance; finite, >= 0.

    Returns
    -------
    y : ndarray, shape and dtype of ``x``
    mean : (C,) ndarray, dtype of ``x``
    invstd : (C,) ndarray, dtype of ``x``
        ``1 / sqrt(var + eps)`` of the biased variance, as
        ``torch.native_batch_norm`` returns (``save_invstd``).

    Raises
    ------
    ValueError
        If ``x`` is not (N, C, ...) with C >= 1 or has no value per channel, a
        parameter does not have shape (C,), or ``eps`` is negative or not finite.
    TypeError
        If an input has a complex, object or string dtype.

    Notes
    -----
    Matches ``torch.native_batch_norm(x, gamma, beta, None, None, True, 0.0, eps)``.
    The statistics accumulate in float64 from a per-channel shift (the channel's
    first value), so float32 inputs with large means or large batches keep
    float64-accurate statistics; the normalisation runs in the input dtype. NaN or
    inf in a channel makes that channel's statistics and output NaN. Releases the
    GIL and splits channels over ``get_num_threads()`` threads; the result is
    bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> y, mean, invstd = nk.batch_norm_forward(np.array([[1.0], [3.0]]), None, None, eps=0.0)
    >>> y, mean, invstd
    (array([[-1.],
           [ 1.]]), array([2.]), array([1.]))
    """
    inp, g, b, e = na.forward_args(x, gamma, beta, eps)
    y, mean, invstd, _ = _core.batch_norm_forward(inp.x, g, b, e, n_threads=get_num_threads())
    return y.reshape(inp.shape), mean, invstd


def batch_norm(x: ArrayLike, gamma: ArrayLike | None, beta: ArrayLike | None,
               running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None,
               training: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> NDArray:
    """Batch normalisation layer: batch statistics in training, running statistics in evaluation.

    ``y = (x - mu) / sqrt(var + eps) * gamma + beta`` per channel, with ``mu, var``
    the batch's mean and biased variance when ``training``, else ``running_mean``
    and ``running_var``. In training the running arrays (when given) are updated
    in place: ``new = (1 - momentum) * old + momentum * batch``, with the
    *unbiased* batch variance (``var * M / (M - 1)``, M values per channel).

    Parameters
    ----------
    x : (N, C) or (N, C, H, W) array_like
        (Any (N, C, ...) works.) float32 stays float32; other reals become float64.
    gamma, beta : (C,) array_like or None
        Scale and shift, cast to the dtype of ``x``; None means 1 and 0.
    running_mean, running_var : (C,) ndarray of a floating dtype, optional
        Updated in place (in their own dtype) when ``training``; required when not.
    training : bool, default True
    momentum : float, default 0.1
    eps : float, default 1e-5

    Returns
    -------
    y : ndarray, shape and dtype of ``x``

    Raises
    ------
    ValueError
        If shapes disagree, ``training`` with exactly one value per channel (as
        PyTorch: "Expected more than 1 value per channel"), evaluation without
        running statistics, a read-only running array, or a non-finite ``momentum``
        / ``eps`` (or ``eps < 0``).
    TypeError
        If an input has a complex, object or string dtype, or a running statistic
        is not a floating ndarray.

    Notes
    -----
    Matches ``torch.nn.functional.batch_norm`` (and ``nn.BatchNorm1d/2d`` with
    ``momentum`` a float): same momentum convention, unbiased running variance, and
    an empty batch in training returns an empty output and leaves the running
    statistics unchanged. Statistics accumulate in float64 (see
    :func:`batch_norm_forward`); the running update is computed in float64 and
    stored in the running array's dtype. Evaluation reads the running statistics
    in the dtype of ``x``. Releases the GIL; bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> rm, rv = np.zeros(1), np.ones(1)
    >>> nk.batch_norm(np.array([[1.0], [3.0]]), None, None, rm, rv, eps=0.0)
    array([[-1.],
           [ 1.]])
    >>> rm, rv
    (array([0.2]), array([1.1]))
    """
    inp, g, b, rm, rv, train, mom, e = na.check_args(x, gamma, beta, running_mean, running_var,
                                                     training, momentum, eps)
    dt = inp.x.dtype
    if not train:
        y = _core.batch_norm_eval(inp.x, np.require(rm, dt, ("C", "A")),
                                  np.require(rv, dt, ("C", "A")), g, b, e,
                                  n_threads=get_num_threads())
        return y.reshape(inp.shape)
    if inp.count == 0:
        return np.empty(inp.shape, dt)
    y, mean, _, unbiased = _core.batch_norm_forward(inp.x, g, b, e, n_threads=get_num_threads())
    na.update_running(rm, mean.astype(np.float64), mom)
    na.update_running(rv, unbiased, mom)
    return y.reshape(inp.shape)


def batch_norm_backward(grad_y: ArrayLike, x: ArrayLike, gamma: ArrayLike | None,
                        mean: ArrayLike, invstd: ArrayLike):
    """Gradients of training-mode batch normalisation (:func:`batch_norm_forward`).

    With ``x_hat = (x - mean) * invstd`` and sums over every axis but C (M values):
    ``grad_beta = sum dy``, ``grad_gamma = sum dy * x_hat`` and, through ``dvar``
    and ``dmean``,
    ``grad_x = gamma * invstd * (dy - grad_beta / M - x_hat * grad_gamma / M)``.

    Parameters
    ----------
    grad_y : array_like, shape of ``x``
        Cast to the dtype of ``x``.
    x : (N, C) or (N, C, H, W) array_like
        The forward input; float32 stays float32, other reals become float64.
    gamma : (C,) array_like or None
        None means 1.
    mean, invstd : (C,) array_like
        As returned by :func:`batch_norm_forward`.

    Returns
    -------
    grad_x : ndarray, shape and dtype of ``x``
    grad_gamma : (C,) ndarray, dtype of ``x``
    grad_beta : (C,) ndarray, dtype of ``x``

    Raises
    ------
    ValueError
        If shapes disagree or ``x`` has no value per channel.
    TypeError
        If an input has a complex, object or string dtype.

    Notes
    -----
    Matches ``torch.ops.aten.native_batch_norm_backward`` in training mode (what
    autograd runs for ``F.batch_norm(..., training=True)``). The two sums
    accumulate in float64; ``grad_x`` is computed in the dtype of ``x`` as ATen does:
    ``(dy - sum_dy / M - (x - mean) * dot * invstd^2 / M) * invstd * gamma``.
    Releases the GIL; bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> x = np.array([[1.0], [3.0]])
    >>> y, mean, invstd = nk.batch_norm_forward(x, None, None, eps=0.0)
    >>> nk.batch_norm_backward(np.array([[1.0], [0.0]]), x, None, mean, invstd)
    (array([[0.],
           [0.]]), array([-1.]), array([1.]))
    """
    inp, gy, g, m, s = na.backward_args(grad_y, x, gamma, mean, invstd)
    gx, gg, gb = _core.batch_norm_backward(gy, inp.x, g, m, s, n_threads=get_num_threads())
    return gx.reshape(inp.shape), gg, gb
