"""Convolution (semantics of ``torch.nn.functional``): im2col, col2im, conv2d and its gradients.

A convolution is a matrix product once the input windows are unrolled:
``Y = W · cols`` per image and group, with ``W`` (O/groups, C/groups*kH*kW) and
``cols`` (C/groups*kH*kW, Ho*Wo). The products run on the BLAS that SciPy was
built with (its Fortran ``sgemm``/``dgemm``, reached through
``scipy.linalg.cython_blas``); npkernels ships no BLAS of its own.

Memory: the column matrix is built one tile of output rows at a time (512 KiB
per thread, or 256 output columns if that is more), never for a whole batch;
1x1 stride-1 convolutions use the input itself. 3x3 stride-1 dilation-1
convolutions with at least 8 input and 8 output channels per group run
Winograd instead (forward, grad_input and grad_weight): m x m output tiles,
numbered across the whole batch and cut into fixed blocks, whose P = (m+2)^2
transformed positions are P BLAS products. m = 2 (F(2x2, 3x3), 2.25x fewer
multiplications than im2col) in float32 and for grad_weight; in float64 m = 4
(F(4x4, 3x3), 4x fewer) for the forward-type products (forward and
grad_input) when both channel counts per group are >= 32, the output is >= 32
wide and its 36 products per 4x4 tile need <= 3/4 of the multiplications of
m = 2. (F(4x4)'s float32 error measured ~20x torch's, beyond the float32
tolerance of ``torch.testing.assert_close``; F(2x2)'s ~2.5x, within it.)
Scratch per thread is ``P*(C+O)/groups`` values per tile of a block (512 KiB,
or 64 tiles if that is more; 1 MiB or 256 tiles for grad_weight), plus the
transformed filters (P/9 of the weight). Those large scratch blocks are kept
after a call (up to 8 blocks, 64 MiB in all) and reused by the next one, which
then skips faulting in fresh pages. Depthwise convolutions (one input channel per group, at most 8
output channels per group, any kernel, stride, padding, dilation) use no
BLAS: a direct kernel adds the kernel taps in a fixed order along each
output row (vectorised), one thread per plane, with no scratch (grad_weight:
kH*kW*Wo values per thread). Threads: each of ``get_num_threads()`` threads builds its own
tiles and multiplies them with a single-threaded BLAS call (SciPy's BLAS pool
is held at one thread meanwhile, through threadpoolctl, and restored after),
so a threaded BLAS never runs inside an OpenMP region and no core is
oversubscribed. Results are bitwise identical for any thread count: every
product is the same BLAS call whichever thread makes it (so this does not
depend on what the BLAS guarantees; SciPy's OpenBLAS 0.3.30 happened to give
the same bits at 1 and 2 BLAS threads on the benchmark shapes too).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _blas, _core
from . import _conv_args as args
from ._threads import get_num_threads

__all__ = ["col2im", "conv2d", "conv2d_backward", "conv_transpose2d", "im2col"]


def im2col(
    x: ArrayLike, kernel_size, *, stride=1, padding=0, dilation=1
) -> NDArray[np.floating]:
    """Unroll the sliding windows of a batch of images into columns (``F.unfold``).

    ``cols[n, (c*kH + kh)*kW + kw, oh*Wo + ow] =
    x_padded[n, c, oh*sH + kh*dH, ow*sW + kw*dW]``, zero outside the image.

    Parameters
    ----------
    x : (N, C, H, W) or (C, H, W) array_like
        Images; float32 stays float32, anything else becomes float64.
    kernel_size : int or (int, int)
        Window size ``(kH, kW)``, each >= 1.
    stride, padding, dilation : int or (int, int), keyword-only
        Window step (>= 1), zero padding on both sides (>= 0), spacing of the
        window taps (>= 1). Keyword-only because ``F.unfold``'s positional
        order (dilation, padding, stride) differs from ``conv2d``'s.

    Returns
    -------
    cols : (N, C*kH*kW, L) ndarray, or (C*kH*kW, L) for unbatched input
        Same dtype as the computation; ``L = Ho*Wo`` with
        ``Ho = floor((H + 2*pH - dH*(kH-1) - 1)/sH) + 1`` (likewise ``Wo``).

    Raises
    ------
    ValueError
        If ``x`` is not 3-D or 4-D, a parameter is out of range, or the
        dilated window is larger than the padded input.
    TypeError
        If ``x`` has a complex, object or string dtype.
    MemoryError
        If the column matrix could not fit in memory (raised before allocating).

    Notes
    -----
    Matches ``torch.nn.functional.unfold`` exactly (a copy, no arithmetic);
    NaN and inf are copied like any value. Parallel over (image, channel)
    planes with ``get_num_threads()`` threads; releases the GIL.

    Examples
    --------
    >>> import numpy as np, npkernels as nk
    >>> x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    >>> nk.im2col(x, 2)[0]
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]], dtype=float32)
    """
    arr, unbatched, u, _ = args.im2col_args(x, kernel_size, stride, padding, dilation)
    cols = _core.im2col(
        arr, u.kernel, u.stride, u.padding, u.dilation, n_threads=get_num_threads()
    )
    return cols[0] if unbatched else cols


def col2im(
    cols: ArrayLike, output_size, kernel_size, *, stride=1, padding=0, dilation=1
) -> NDArray[np.floating]:
    """Fold columns back into images, summing overlaps (``F.fold``, the adjoint of im2col).

    ``x[n, c, h, w] = sum of cols[n, (c*kH + kh)*kW + kw, oh*Wo + ow]`` over every
    window position and tap that lands on ``(h, w)`` of the padded image.

    Parameters
    ----------
    cols : (N, C*kH*kW, L) or (C*kH*kW, L) array_like
        Columns as :func:`im2col` makes them; float32 stays float32, anything
        else becomes float64.
    output_size : int or (int, int)
        The image size ``(H, W)``.
    kernel_size : int or (int, int)
        Window size ``(kH, kW)``.
    stride, padding, dilation : int or (int, int), keyword-only
        As in :func:`im2col`; ``L`` must equal ``Ho*Wo`` for them.

    Returns
    -------
    x : (N, C, H, W) ndarray, or (C, H, W) for unbatched input
        The computation dtype.

    Raises
    ------
    ValueError
        If ``cols`` has the wrong ndim or a second dimension not divisible by
        ``kH*kW`` or a third different from ``Ho*Wo``; a parameter is out of range.
    TypeError
        If ``cols`` has a complex, object or string dtype.
    MemoryError
        If the image could not fit in memory (raised before allocating).

    Notes
    -----
    Matches ``torch.nn.functional.fold``. Sums in the computation dtype; each
    image pixel adds its contributions in the fixed order taps ``(kh, kw)``
    outer, window positions inner (PyTorch's order). Parallel over
    (image, channel) planes, each plane summed by one thread, so the result
    is the same for any thread count; releases the GIL.

    Examples
    --------
    >>> import numpy as np, npkernels as nk
    >>> nk.col2im(np.ones((1, 4, 4)), 3, 2)[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    arr, unbatched, u, hw, _ = args.col2im_args(
        cols, output_size, kernel_size, stride, padding, dilation
    )
    x = _core.col2im(arr, hw, u.kernel, u.stride, u.padding, u.dilation, n_threads=get_num_threads())
    return x[0] if unbatched else x


def _gemm(dtype: np.dtype):
    return _blas.gemm_capsule(dtype)


def conv2d(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
) -> NDArray[np.floating]:
    """2-D convolution (cross-correlation) of a batch of images, as ``F.conv2d``.

    ``y[n, o, i, j] = bias[o] + sum over c in group(o), kh, kw of
    weight[o, c, kh, kw] * x_padded[n, c, i*sH + kh*dH, j*sW + kw*dW]``,
    computed as ``W_g · im2col(x)_g`` per group.

    Parameters
    ----------
    x : (N, C, H, W) or (C, H, W) array_like
        Images; float32 stays float32, anything else becomes float64.
    weight : (O, C/groups, kH, kW) array_like
        Filters; cast to the dtype of ``x``.
    bias : (O,) array_like, optional
        Cast to the dtype of ``x``.
    stride : int or (int, int), default 1
        >= 1.
    padding : int, (int, int), 'valid' or 'same', default 0
        Zero padding on both sides, or ``'valid'`` (none), or ``'same'`` with
        TensorFlow's rule for any stride: ``out = ceil(in/stride)``,
        ``pad_total = max((out-1)*stride + (k-1)*dilation + 1 - in, 0)``,
        ``pad_before = pad_total // 2``, the rest after (bottom/right).
    dilation : int or (int, int), default 1
        Spacing of the kernel taps, >= 1.
    groups : int, default 1
        Channel groups; must divide ``O`` and ``C = groups * weight.shape[1]``.
        ``groups = C`` is a depthwise convolution.

    Returns
    -------
    y : (N, O, Ho, Wo) ndarray, or (O, Ho, Wo) for unbatched input
        The computation dtype; ``Ho = floor((H + pad_total - dH*(kH-1) - 1)/sH) + 1``.

    Raises
    ------
    ValueError
        If an array has the wrong ndim or shape, the channels do not match
        ``groups * weight.shape[1]``, ``groups`` does not divide ``O``, stride or
        dilation < 1, padding < 0 or an unknown string, or the dilated kernel
        is larger than the padded input, or a plane is too large for the
        BLAS's 32-bit sizes.
    TypeError
        If an input has a complex, object or string dtype.
    MemoryError
        If the output could not fit in memory (raised before allocating).

    Notes
    -----
    Matches ``torch.nn.functional.conv2d`` to rounding (the sums run in a
    different order: BLAS's, in the computation dtype). 3x3 stride-1
    dilation-1 kernels with >= 8 input and output channels per group use
    Winograd F(2x2, 3x3) (float64: F(4x4, 3x3) on wide layers, see the module
    notes): its transforms add up to 16 window values before the products, so
    the float32 error is a few ulps of a window's largest value (measured:
    about 7e-7 of the largest output, ~2.5x torch's own error, under a tenth
    of the sqrt(C*9)-scaled tolerance the tests allow); when any input is NaN or infinite that path is
    skipped, so non-finite values reach exactly the windows that see them. For stride 1
    ``'same'`` equals PyTorch's; PyTorch refuses ``'same'`` for other strides,
    where this follows TensorFlow. NaN and inf propagate as in any product.
    Extra memory is bounded, whatever the batch: one tile of the column matrix
    per thread (whole output rows, 512 KiB or 256 columns of
    ``C/groups*kH*kW`` rows, whichever is larger); 1x1 stride-1 convolutions
    need none; the Winograd path needs per thread one block of tiles
    (``P*(C+O)/groups`` values a tile, P = 16 or 36, max(512 KiB, 64 tiles))
    plus the transformed filters, P/9 of the weight (up to 64 MiB of such
    blocks stay cached for the next call); depthwise convolutions
    (one input channel per group) run a direct kernel (no BLAS, no scratch),
    adding each output's taps in the order (kh, kw). Releases the GIL; uses
    ``get_num_threads()`` threads, each with single-threaded BLAS calls; the
    result is bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np, npkernels as nk
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> nk.conv2d(x, np.ones((1, 1, 2, 2)), padding="same")[0, 0]
    array([[ 8., 12.,  7.],
           [20., 24., 13.],
           [13., 15.,  8.]])
    """
    a = args.conv2d_args(x, weight, bias, stride, padding, dilation, groups)
    n = get_num_threads()
    with _blas.blas_threads(1):
        y = _core.conv2d(
            a.x, a.weight, a.bias, a.stride, a.pad_top_left, a.out_hw, a.dilation, a.groups,
            _gemm(a.x.dtype), n_threads=n,
        )
    return y[0] if a.unbatched else y


def conv2d_backward(
    grad_output: ArrayLike,
    x: ArrayLike,
    weight: ArrayLike,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    output_mask=(True, True, True),
):
    """Gradients of :func:`conv2d` with respect to its input, weight and bias.

    With ``dY = grad_output``: ``grad_input = col2im(W_gᵀ · dY_g)``,
    ``grad_weight = sum over images of dY_g · im2col(x)_gᵀ`` and
    ``grad_bias = dY.sum(axis=(0, 2, 3))``.

    Parameters
    ----------
    grad_output : (N, O, Ho, Wo) array_like
        Gradient of the loss with respect to ``conv2d(x, weight, ...)``; the
        shape of that output. Cast to the dtype of ``x``.
    x : (N, C, H, W) or (C, H, W) array_like
        The forward input; float32 stays float32, anything else becomes float64.
    weight : (O, C/groups, kH, kW) array_like
        The forward filters, cast to the dtype of ``x``.
    stride, padding, dilation, groups
        As in :func:`conv2d` (``padding`` may be ``'same'`` or ``'valid'``).
    output_mask : three bools, default (True, True, True)
        Which of (grad_input, grad_weight, grad_bias) to compute.

    Returns
    -------
    grad_input : ndarray like ``x``, or None
    grad_weight : ndarray like ``weight``, or None
    grad_bias : (O,) ndarray, or None
        None where ``output_mask`` is False; otherwise the computation dtype.

    Raises
    ------
    ValueError
        As :func:`conv2d`; also if ``grad_output`` does not have the forward
        output's shape or ``output_mask`` is not three bools.
    TypeError
        If an input has a complex, object or string dtype, or ``output_mask``
        holds non-bools.
    MemoryError
        As :func:`conv2d`.

    Notes
    -----
    Matches the gradients PyTorch's autograd gives for
    ``torch.nn.functional.conv2d`` (``torch.ops.aten.convolution_backward``)
    to rounding. grad_weight sums the images in up to 8 fixed chunks, each
    in image order, the chunk partials then added in order; grad_bias sums in
    float64, then rounds to the computation dtype. 3x3 stride-1 dilation-1
    kernels with >= 8 channels per group (and finite data) take the Winograd
    path of :func:`conv2d`: grad_input is the Winograd convolution of
    ``grad_output`` with the flipped, transposed filters, grad_weight the
    adjoint of the forward F(2x2, 3x3) tiles (``dU = Z . Vᵀ`` over tile
    blocks summed in up to 4 fixed chunks in order, then ``G^T dU G`` in
    float64). Depthwise convolutions (one input channel per group) run direct
    kernels: grad_input one thread per input plane, taps added in the order
    (o, oy, kh, kw); grad_weight one thread per output channel, per tap a row
    of per-column partial sums over images and rows in order, summed in
    float64. Memory is bounded as in :func:`conv2d`, plus up to 7
    weight-sized partials (the Winograd path: 4 partials of 16/9 of the
    weight; depthwise: ``kH*kW*Wo`` values per thread). Releases the GIL;
    parallel over image chunks with single-threaded BLAS calls (a batch of 1
    therefore runs on one thread); bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np, npkernels as nk
    >>> x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    >>> gi, gw, gb = nk.conv2d_backward(np.ones((1, 1, 2, 2)), x, w)
    >>> gi[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> gw[0, 0], gb
    (array([[4., 4.],
           [4., 4.]]), array([4.]))
    """
    b = args.backward_args(grad_output, x, weight, stride, padding, dilation, groups, output_mask)
    a = b.conv
    n = get_num_threads()
    with _blas.blas_threads(1):
        gi, gw, gb = _core.conv2d_backward(
            b.grad_output, a.x, a.weight, a.stride, a.pad_top_left, a.dilation, a.groups,
            *b.mask, _gemm(a.x.dtype), n_threads=n,
        )
    if gi is not None and a.unbatched:
        gi = gi[0]
    return gi, gw, gb


def conv_transpose2d(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> NDArray[np.floating]:
    """Transposed 2-D convolution (the input gradient of conv2d), as ``F.conv_transpose2d``.

    ``y = col2im(W_gᵀ · x_g) + bias``, where ``W`` is read as the filters of
    the convolution being transposed.

    Parameters
    ----------
    x : (N, C_in, H, W) or (C_in, H, W) array_like
        float32 stays float32, anything else becomes float64.
    weight : (C_in, C_out/groups, kH, kW) array_like
        PyTorch's layout for transposed convolutions; cast to the dtype of ``x``.
    bias : (C_out,) array_like, optional
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
        Removed from both sides of the output (``dilation*(k-1) - padding`` of
        implicit zero padding); >= 0.
    output_padding : int or (int, int), default 0
        Extra rows/columns at the bottom/right; must be smaller than either
        the stride or the dilation of that axis.
    groups : int, default 1
        Must divide ``C_in``; ``C_out = groups * weight.shape[1]``.
    dilation : int or (int, int), default 1

    Returns
    -------
    y : (N, C_out, Hout, Wout) ndarray, or (C_out, Hout, Wout) for unbatched input
        ``Hout = (H-1)*sH - 2*pH + dH*(kH-1) + output_padding_h + 1``; the
        computation dtype.

    Raises
    ------
    ValueError
        If an array has the wrong ndim or shape, ``x`` does not have
        ``weight.shape[0]`` channels, ``groups`` does not divide them, a
        parameter is out of range, ``output_padding`` is not smaller than the
        stride or the dilation, or the output would be empty.
    TypeError
        If an input has a complex, object or string dtype.
    MemoryError
        If the output could not fit in memory (raised before allocating).

    Notes
    -----
    Matches ``torch.nn.functional.conv_transpose2d`` to rounding (PyTorch
    computes it the same way: a product then col2im). Memory is bounded by
    the tiling of :func:`conv2d`. Releases the GIL; parallel over images
    with single-threaded BLAS calls; bitwise the same for any thread count.

    Examples
    --------
    >>> import numpy as np, npkernels as nk
    >>> nk.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    t = args.transpose_args(x, weight, bias, stride, padding, output_padding, groups, dilation)
    n = get_num_threads()
    with _blas.blas_threads(1):
        y = _core.conv_transpose2d(
            t.x, t.weight, t.bias, t.stride, t.padding, t.out_hw, t.dilation, t.groups,
            _gemm(t.x.dtype), n_threads=n,
        )
    return y[0] if t.unbatched else y
