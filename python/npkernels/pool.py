"""Pooling, forward and backward (semantics of ``torch.nn.functional``).

Max, average, Lp and adaptive pooling over NCHW images, their gradients, and
spatial pyramid pooling. Each (n, c) plane is one unit of parallel work, so a
backward pass scatters without atomics and every result is the same for any
thread count. The argument rules (PyTorch's) live in ``npkernels._pool_args``,
shared with the NumPy twins in :mod:`npkernels.reference.pool`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _pool_args as pa
from ._threads import get_num_threads
from ._validation import as_bool

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

def _geometry_args(g: pa.PoolGeometry):
    h, w = g.h, g.w
    return (h.kernel, w.kernel), (h.stride, w.stride), (h.pad, w.pad)


def max_pool2d(
    x: ArrayLike,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-D max pooling over the planes of an NCHW image.

    ``out[n, c, i, j] = max over a, b of x[n, c, i*sH - pH + a*dH, j*sW - pW + b*dW]``
    (``0 <= a < kH``, ``0 <= b < kW``), over the taps inside the input: the
    padding is never read (it acts as -inf).

    Parameters
    ----------
    x : (N, C, H, W) or (C, H, W) array_like
        float32 stays float32; other real dtypes become float64. C, H, W >= 1;
        N may be 0.
    kernel_size : int or (int, int)
        Window size (kH, kW), >= 1.
    stride : int or (int, int), optional
        Default: ``kernel_size``.
    padding : int or (int, int), default 0
        Implicit -inf padding on both sides, at most ``kernel_size // 2``.
    dilation : int or (int, int), default 1
        Spacing between taps, >= 1.
    ceil_mode : bool, default False
        Round the output size up; a last window that would start in the right
        padding is dropped (PyTorch's rule).
    return_indices : bool, default False
        Also return the argmax positions.

    Returns
    -------
    out : (N, C, oH, oW) ndarray
        Dtype of the computation. ``oH = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1``
        (``ceil`` with ``ceil_mode``, minus one if that window starts past ``H + pH``); same for W.
    indices : (N, C, oH, oW) ndarray of int64
        Only with ``return_indices``: flat positions ``h * W + w`` in each (H, W) plane.

    Raises
    ------
    ValueError
        If ``x`` is not 3-D/4-D with C, H, W >= 1, a size is < 1 (stride, dilation,
        kernel) or < 0 (padding), ``padding > kernel_size // 2``, or the output
        would be empty ("Output size is too small").
    TypeError
        If ``x`` has a complex, object or string dtype, or an argument is not an int.

    Notes
    -----
    Matches ``torch.nn.functional.max_pool2d``, including ties and NaN: taps are
    scanned in row-major order and one wins when ``v > max or isnan(v)``, so the
    first maximum wins and a NaN propagates (value NaN, index of the last NaN in
    the window). A window that dilation makes miss the input entirely gives -inf
    and, as PyTorch, the index of its first tap. NaN-free planes take a vectorised
    path that returns the same values bit for bit.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> nk.max_pool2d(x, 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    >>> out, idx = nk.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    >>> idx
    array([[[[ 5,  7],
             [13, 15]]]])
    """
    prep = pa.prepare_max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    want = as_bool(return_indices, "return_indices")
    g = prep.geometry
    k, s, p = _geometry_args(g)
    res = _core.max_pool2d(prep.x, k, s, p, (g.h.dilation, g.w.dilation), bool(ceil_mode), want,
                           n_threads=get_num_threads())
    if want:
        return pa.unbatched(res[0], prep.was_3d), pa.unbatched(res[1], prep.was_3d)
    return pa.unbatched(res, prep.was_3d)


def max_pool2d_backward(grad_output: ArrayLike, indices: ArrayLike, input_shape) -> NDArray:
    """Gradient of :func:`max_pool2d` with respect to its input.

    ``grad_input[n, c].flat[indices[n, c, i, j]] += grad_output[n, c, i, j]``: each
    output's gradient goes to its argmax, summed where windows share one.

    Parameters
    ----------
    grad_output : (N, C, oH, oW) or (C, oH, oW) array_like
        float32 stays float32; other real dtypes become float64.
    indices : array_like of int, same shape as grad_output
        The ``indices`` returned by ``max_pool2d(..., return_indices=True)``.
    input_shape : tuple of int
        The forward input's shape, (N, C, H, W) or (C, H, W).

    Returns
    -------
    grad_input : ndarray of shape ``input_shape``
        Dtype of ``grad_output`` (float32 or float64).

    Raises
    ------
    ValueError
        If the shapes disagree or an index is outside ``[0, H*W)``.
    TypeError
        If ``grad_output`` is not real or ``indices`` not integer.
    MemoryError
        If the ``input_shape`` gradient cannot fit in memory (checked before
        allocating).

    Notes
    -----
    Matches ``torch.ops.aten.max_pool2d_with_indices_backward`` (what autograd
    runs): the additions happen in output order within each plane, as in ATen,
    so even float32 sums round identically.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> x = np.array([[[1.0, 5.0, 2.0]]])
    >>> out, idx = nk.max_pool2d(x, (1, 2), stride=1, return_indices=True)
    >>> nk.max_pool2d_backward(np.ones_like(out), idx, x.shape)
    array([[[0., 2., 0.]]])
    """
    prep, idx = pa.prepare_indexed_backward(grad_output, indices, input_shape)
    gi = _core.max_pool2d_backward(prep.grad, idx, prep.input_shape, n_threads=get_num_threads())
    return pa.unbatched(gi, prep.was_3d)


def avg_pool2d(
    x: ArrayLike,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> NDArray:
    """2-D average pooling over the planes of an NCHW image.

    ``out[n, c, i, j] = sum of the window's taps inside the input / divisor``, the
    window being rows ``[i*sH - pH, i*sH - pH + kH)`` and the same for columns.
    The divisor is ``divisor_override`` if given, else the window size clipped to
    the padded input (``count_include_pad=True``) or to the input (``False``).

    Parameters
    ----------
    x : (N, C, H, W) or (C, H, W) array_like
        float32 stays float32; other real dtypes (ints included) become float64.
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Default: ``kernel_size``.
    padding : int or (int, int), default 0
        Zero padding on both sides, at most ``kernel_size // 2``.
    ceil_mode : bool, default False
        As in :func:`max_pool2d`; a ceil-mode tail beyond the padding is not counted.
    count_include_pad : bool, default True
    divisor_override : int, optional
        Non-zero divisor used for every window.

    Returns
    -------
    out : (N, C, oH, oW) ndarray
        Dtype of the computation; ``oH`` as :func:`max_pool2d` with dilation 1.

    Raises
    ------
    ValueError
        As :func:`max_pool2d`, and if ``divisor_override`` is 0.
    TypeError
        If ``x`` has a complex, object or string dtype, or an argument is not an int.

    Notes
    -----
    Matches ``torch.nn.functional.avg_pool2d`` (ATen's ``cpu_avg_pool``): each sum
    starts from 0 and adds the taps in row-major order in the input's dtype, then
    divides. Unlike PyTorch, integer input is promoted to float64 (PyTorch returns
    truncated integers). NaN and inf propagate through the sums.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> nk.avg_pool2d(np.ones((1, 1, 5, 5)), 3, stride=2, padding=1, ceil_mode=True)[0, 0]
    array([[0.44444444, 0.66666667, 0.44444444],
           [0.66666667, 1.        , 0.66666667],
           [0.44444444, 0.66666667, 0.44444444]])
    """
    prep, include, divisor = pa.prepare_avg_pool(x, kernel_size, stride, padding, ceil_mode,
                                                 count_include_pad, divisor_override)
    k, s, p = _geometry_args(prep.geometry)
    out = _core.avg_pool2d(prep.x, k, s, p, bool(ceil_mode), include, divisor,
                           n_threads=get_num_threads())
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
    """Gradient of :func:`avg_pool2d` with respect to its input.

    ``grad_input[n, c, h, w] = sum over the windows holding (h, w) of
    grad_output[n, c, i, j] / divisor(i, j)``, with the forward's windows and divisors.

    Parameters
    ----------
    grad_output : (N, C, oH, oW) or (C, oH, oW) array_like
        float32 stays float32; other real dtypes become float64.
    input_shape : tuple of int
        The forward input's shape, (N, C, H, W) or (C, H, W).
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        As given to :func:`avg_pool2d`.

    Returns
    -------
    grad_input : ndarray of shape ``input_shape``
        Dtype of ``grad_output``.

    Raises
    ------
    ValueError
        As :func:`avg_pool2d`, and if ``grad_output`` does not have the forward's
        output shape.
    TypeError
        If ``grad_output`` has a complex, object or string dtype.
    MemoryError
        If the ``input_shape`` gradient cannot fit in memory (checked before
        allocating).

    Notes
    -----
    Matches ``torch.ops.aten.avg_pool2d_backward``: each ``grad / divisor`` is added
    over its window in output order, as ATen does.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> nk.avg_pool2d_backward(np.ones((1, 1, 1, 2)), (1, 1, 2, 4), 2)
    array([[[[0.25, 0.25, 0.25, 0.25],
             [0.25, 0.25, 0.25, 0.25]]]])
    """
    prep, g, include, divisor = pa.prepare_avg_backward(
        grad_output, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
        divisor_override)
    k, s, p = _geometry_args(g)
    gi = _core.avg_pool2d_backward(prep.grad, prep.input_shape, k, s, p, bool(ceil_mode), include, divisor,
                                   n_threads=get_num_threads())
    return pa.unbatched(gi, prep.was_3d)


def lp_pool2d(x: ArrayLike, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> NDArray:
    """2-D power-average (Lp) pooling, as PyTorch defines it.

    ``out = (kH*kW * mean(x**p over the window))**(1/p)``, i.e. ``(sum x**p)**(1/p)``
    for full windows; for ``x >= 0`` this is the window's p-norm. ``p = inf`` gives
    ``max |x|`` and ``p = -inf`` gives ``-max(-|x|)`` (= ``min |x|``).

    Parameters
    ----------
    x : (N, C, H, W) or (C, H, W) array_like
        float32 stays float32; other real dtypes become float64.
    norm_type : float
        The power p: any non-zero real, or +-inf.
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Default: ``kernel_size``. No padding.
    ceil_mode : bool, default False

    Returns
    -------
    out : (N, C, oH, oW) ndarray
        Dtype of the computation; ``oH`` as :func:`avg_pool2d` with no padding.

    Raises
    ------
    ValueError
        If ``norm_type`` is 0 or NaN, or the window arguments are invalid (as
        :func:`avg_pool2d`).
    TypeError
        If ``x`` or ``norm_type`` is not real.

    Notes
    -----
    Matches ``torch.nn.functional.lp_pool2d``, quirks included: it sums ``x**p``,
    not ``|x|**p``, so a negative sum with a fractional ``1/p`` gives NaN; and a
    ceil-mode tail window is averaged over its clipped size, then multiplied by
    ``kH*kW`` (rescaled as if full). Powers use PyTorch's shortcuts (``sqrt`` for
    0.5, products for 2 and 3, ...). Sums run in the input dtype in row-major
    order.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> nk.lp_pool2d(np.array([[[3.0, 4.0, 6.0, 8.0]]]), 2, (1, 2))
    array([[[ 5., 10.]]])
    >>> nk.lp_pool2d(np.array([[[-1.0, -2.0, 3.0, -4.0]]]), 1, (1, 2))
    array([[[-3., -1.]]])
    """
    prep, p = pa.prepare_lp_pool(x, norm_type, kernel_size, stride, ceil_mode)
    if np.isinf(p):
        return pa.lp_inf_forward(prep, p, kernel_size, stride, ceil_mode, max_pool2d)
    k, s, _ = _geometry_args(prep.geometry)
    out = _core.lp_pool2d(prep.x, p, k, s, bool(ceil_mode), n_threads=get_num_threads())
    return pa.unbatched(out, prep.was_3d)


def lp_pool2d_backward(grad_output: ArrayLike, x: ArrayLike, norm_type: float, kernel_size,
                       stride=None, ceil_mode: bool = False) -> NDArray:
    """Gradient of :func:`lp_pool2d` with respect to ``x``, as PyTorch's autograd gives it.

    With ``a`` the window mean of ``x**p``, ``m = kH*kW * a`` and ``s = sign(a)``:
    ``g_w = gy * (1/p) m**(1/p - 1) * kH*kW`` where ``a != 0`` (0 where ``a == 0``:
    a zero-sum window passes no gradient), and
    ``grad_x = (sum over the windows holding x of g_w / count) * p x**(p-1)``.
    For ``p = +-inf`` the gradient goes to the max (min) of ``|x|`` times ``sign(x)``.

    Parameters
    ----------
    grad_output : (N, C, oH, oW) or (C, oH, oW) array_like
        Cast to the dtype of ``x``.
    x : (N, C, H, W) or (C, H, W) array_like
        The forward input; float32 stays float32, other reals become float64.
    norm_type, kernel_size, stride, ceil_mode
        As given to :func:`lp_pool2d`.

    Returns
    -------
    grad_x : ndarray, shape and dtype of ``x``

    Raises
    ------
    ValueError
        As :func:`lp_pool2d`, and if ``grad_output`` does not have the forward's
        output shape.
    TypeError
        If an input is not real.

    Notes
    -----
    Reproduces the chain autograd runs through ``torch.nn.functional.lp_pool2d``
    (``pow``, ``avg_pool2d``, ``sign(out) * relu(abs(out))``, ``mul``, ``pow``), with
    torch's ``sign(NaN) = 0``; where ``x = 0`` and ``p < 1`` the factor ``x**(p-1)``
    is infinite, giving inf or NaN exactly where torch does.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> x = np.array([[[3.0, 4.0]]])
    >>> nk.lp_pool2d_backward(np.ones((1, 1, 1)), x, 2, (1, 2))
    array([[[0.6, 0.8]]])
    """
    prep, p, go = pa.prepare_lp_backward(grad_output, x, norm_type, kernel_size, stride,
                                         ceil_mode)
    if np.isinf(p):
        return pa.lp_inf_backward(prep, p, go, kernel_size, stride, ceil_mode, max_pool2d,
                                  max_pool2d_backward)
    k, s, _ = _geometry_args(prep.geometry)
    gi = _core.lp_pool2d_backward(go, prep.x, p, k, s, bool(ceil_mode),
                                  n_threads=get_num_threads())
    return pa.unbatched(gi, prep.was_3d)


def adaptive_avg_pool2d(x: ArrayLike, output_size) -> NDArray:
    """2-D adaptive average pooling: the mean of each of ``output_size`` bins.

    Bin ``i`` of ``out`` over an axis of ``in`` spans
    ``[floor(i * in / out), ceil((i + 1) * in / out))``; bins overlap when ``out``
    does not divide ``in`` and repeat inputs when ``out > in``.

    Parameters
    ----------
    x : (N, C, H, W) or (C, H, W) array_like
        float32 stays float32; other real dtypes become float64.
    output_size : int or (int or None, int or None)
        (oH, oW) >= 0; None keeps that input size.

    Returns
    -------
    out : (N, C, oH, oW) ndarray
        Dtype of the computation.

    Raises
    ------
    ValueError
        If ``x`` is not 3-D/4-D with C, H, W >= 1 or ``output_size`` is negative.
    TypeError
        If ``x`` is not real or ``output_size`` not integer.
    MemoryError
        If the ``output_size`` result cannot fit in memory (checked before allocating).

    Notes
    -----
    Matches ``torch.nn.functional.adaptive_avg_pool2d`` (bins computed in integers,
    as current ATen). Sums start from 0, row-major, in the input dtype.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> nk.adaptive_avg_pool2d(np.arange(10.0).reshape(1, 1, 1, 10), (1, 3))
    array([[[[1.5, 4.5, 7.5]]]])
    """
    xa, was_3d, geom = pa.prepare_adaptive(x, output_size)
    out = _core.adaptive_avg_pool2d(xa, (geom.out_h, geom.out_w), n_threads=get_num_threads())
    return pa.unbatched(out, was_3d)


def adaptive_max_pool2d(x: ArrayLike, output_size, return_indices: bool = False):
    """2-D adaptive max pooling: the max of each of ``output_size`` bins.

    Bins as :func:`adaptive_avg_pool2d`; ties and NaN as :func:`max_pool2d`.

    Parameters
    ----------
    x : (N, C, H, W) or (C, H, W) array_like
        float32 stays float32; other real dtypes become float64.
    output_size : int or (int or None, int or None)
        (oH, oW) >= 0; None keeps that input size.
    return_indices : bool, default False
        Also return the argmax positions (flat in each H*W plane).

    Returns
    -------
    out : (N, C, oH, oW) ndarray
    indices : (N, C, oH, oW) ndarray of int64
        Only with ``return_indices``.

    Raises
    ------
    ValueError
        As :func:`adaptive_avg_pool2d`.
    TypeError
        If ``x`` is not real or ``output_size`` not integer.
    MemoryError
        If the ``output_size`` result cannot fit in memory (checked before allocating).

    Notes
    -----
    Matches ``torch.nn.functional.adaptive_max_pool2d``: the first maximum in
    row-major order wins; a NaN wins (the last NaN's index).
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> nk.adaptive_max_pool2d(np.array([[[2.0, 5.0, 5.0, 1.0]]]), (1, 1), return_indices=True)
    (array([[[5.]]]), array([[[1]]]))
    """
    xa, was_3d, geom = pa.prepare_adaptive(x, output_size)
    want = as_bool(return_indices, "return_indices")
    res = _core.adaptive_max_pool2d(xa, (geom.out_h, geom.out_w), want,
                                    n_threads=get_num_threads())
    if want:
        return pa.unbatched(res[0], was_3d), pa.unbatched(res[1], was_3d)
    return pa.unbatched(res, was_3d)


def adaptive_avg_pool2d_backward(grad_output: ArrayLike, input_shape) -> NDArray:
    """Gradient of :func:`adaptive_avg_pool2d`: ``grad / bin size`` spread over each bin.

    Parameters
    ----------
    grad_output : (N, C, oH, oW) or (C, oH, oW) array_like
        float32 stays float32; other real dtypes become float64. Its (oH, oW)
        is the forward's ``output_size``.
    input_shape : tuple of int
        The forward input's shape, (N, C, H, W) or (C, H, W).

    Returns
    -------
    grad_input : ndarray of shape ``input_shape``, dtype of ``grad_output``

    Raises
    ------
    ValueError
        If the batch and channels of ``grad_output`` and ``input_shape`` differ.
    TypeError
        If ``grad_output`` is not real.
    MemoryError
        If the ``input_shape`` gradient cannot fit in memory (checked before
        allocating).

    Notes
    -----
    Matches ``torch.ops.aten._adaptive_avg_pool2d_backward``; additions in output
    order.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> nk.adaptive_avg_pool2d_backward(np.ones((1, 1, 1, 1)), (1, 1, 2, 2))
    array([[[[0.25, 0.25],
             [0.25, 0.25]]]])
    """
    prep = pa.prepare_free_backward(grad_output, input_shape)
    gi = _core.adaptive_avg_pool2d_backward(prep.grad, prep.input_shape,
                                            n_threads=get_num_threads())
    return pa.unbatched(gi, prep.was_3d)


def adaptive_max_pool2d_backward(grad_output: ArrayLike, indices: ArrayLike,
                                 input_shape) -> NDArray:
    """Gradient of :func:`adaptive_max_pool2d`: each gradient goes to its bin's argmax.

    Parameters
    ----------
    grad_output : (N, C, oH, oW) or (C, oH, oW) array_like
        float32 stays float32; other real dtypes become float64.
    indices : array_like of int, same shape
        From ``adaptive_max_pool2d(..., return_indices=True)``.
    input_shape : tuple of int
        The forward input's shape.

    Returns
    -------
    grad_input : ndarray of shape ``input_shape``, dtype of ``grad_output``

    Raises
    ------
    ValueError
        If the shapes disagree or an index is outside ``[0, H*W)``.
    TypeError
        If ``grad_output`` is not real or ``indices`` not integer.
    MemoryError
        If the ``input_shape`` gradient cannot fit in memory (checked before
        allocating).

    Notes
    -----
    Matches ``torch.ops.aten.adaptive_max_pool2d_backward``; the same kernel as
    :func:`max_pool2d_backward`.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> nk.adaptive_max_pool2d_backward(np.ones((1, 1, 1)), np.array([[[1]]]), (1, 1, 3))
    array([[[0., 1., 0.]]])
    """
    return max_pool2d_backward(grad_output, indices, input_shape)


def spatial_pyramid_pool(x: ArrayLike, levels=(1, 2, 4), mode: str = "max") -> NDArray:
    """Spatial pyramid pooling (SPP-net): fixed-length features from any image size.

    ``out[n] = concat over l in levels of adaptive_pool(x[n], (l, l)).ravel()``.

    Parameters
    ----------
    x : (N, C, H, W) array_like
        float32 stays float32; other real dtypes become float64.
    levels : sequence of int, default (1, 2, 4)
        Grid sizes, each >= 1.
    mode : {'max', 'avg'}, default 'max'
        Adaptive max or average pooling at each level.

    Returns
    -------
    out : (N, C * sum(l * l for l in levels)) ndarray
        Level by level, each level's (C, l, l) block flattened in C order.

    Raises
    ------
    ValueError
        If ``x`` is not 4-D with C, H, W >= 1, a level is < 1 or ``mode`` is unknown.
    TypeError
        If ``x`` is not real.
    MemoryError
        If the result for these ``levels`` cannot fit in memory (checked before
        allocating).

    Notes
    -----
    He et al., "Spatial Pyramid Pooling in Deep Convolutional Networks" (2014),
    with PyTorch's adaptive bins (equal to
    ``torch.cat([F.adaptive_max_pool2d(x, l).flatten(1) for l in levels], 1)``).
    NaN as :func:`adaptive_max_pool2d` / :func:`adaptive_avg_pool2d`.
    Releases the GIL and uses ``get_num_threads()`` threads, each owning whole
    (n, c) planes; the result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> nk.spatial_pyramid_pool(np.arange(16.0).reshape(1, 1, 4, 4), levels=(1, 2))
    array([[15.,  5.,  7., 13., 15.]])
    """
    return pa.spatial_pyramid(x, levels, mode, adaptive_max_pool2d, adaptive_avg_pool2d)
