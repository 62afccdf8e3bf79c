"""ROI Align and ROI Pool, forward and backward (semantics of ``torchvision.ops``).

Public through :mod:`npkernels.detection` and the top-level package.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _roi_rules as rules
from ._threads import get_num_threads

__all__ = ["roi_align", "roi_align_backward", "roi_pool", "roi_pool_backward"]


def roi_align(
    input: ArrayLike,  # noqa: A002 - torchvision's name
    boxes: ArrayLike | list[np.ndarray],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> NDArray[np.floating]:
    """Region of Interest Align (Mask R-CNN): bilinear crops of a feature map.

    Each ROI is cut into ``PH x PW`` bins; each bin is the average of a
    ``grid_h x grid_w`` grid of bilinear samples::

        start = box * spatial_scale - (0.5 if aligned else 0)
        size  = end - start            (at least 1 when not aligned)
        bin   = size / (PH, PW)
        grid  = sampling_ratio if sampling_ratio > 0 else ceil(size / (PH, PW))
        y     = start_y + ph * bin_h + (iy + 0.5) * bin_h / grid_h   (x alike)
        out[k, c, ph, pw] = sum(bilinear(input[b_k, c], y, x)) / max(grid_h * grid_w, 1)

    A sample outside ``[-1, H] x [-1, W]`` adds 0 but still counts; samples
    inside are clamped to the map before the bilinear interpolation.

    Parameters
    ----------
    input : (N, C, H, W) array_like
        Feature maps. float32 stays float32; other reals become float64.
    boxes : (K, 5) array_like, or list of N_i (K_i, 4) ndarrays
        Rows ``[batch_index, x1, y1, x2, y2]`` in input-image coordinates, or
        torchvision's per-image list (element ``i`` holds image ``i``'s boxes
        ``x1, y1, x2, y2``). Cast to the dtype of ``input``; the batch index is
        truncated toward zero, as torchvision does.
    output_size : int or (int, int)
        ``(PH, PW)``, each >= 0.
    spatial_scale : float, default 1.0
        Scale from box coordinates to feature-map pixels (e.g. 1/16).
    sampling_ratio : int, default -1
        Samples per bin along each axis; ``<= 0`` means adaptive,
        ``ceil(roi_size / output_size)`` per axis.
    aligned : bool, default False
        Shift the box by -0.5 pixel so that sample centres align with pixel
        centres (Detectron2's fix); then zero- or negative-size boxes have an
        empty grid and give 0.

    Returns
    -------
    out : (K, C, PH, PW) ndarray
        In the dtype of ``input``.

    Raises
    ------
    ValueError
        If a shape is wrong, ``output_size < 0``, ``spatial_scale`` is not
        finite, a box coordinate is NaN or inf, or a batch index is outside
        ``[0, N)`` (torchvision crashes or reads foreign memory there).
    TypeError
        If an input has a complex, object or string dtype, or a scalar
        argument has the wrong type.
    MemoryError
        If the result, or the table of bilinear samples that a fixed ``sampling_ratio``
        implies, cannot fit in memory (checked before allocating).

    Notes
    -----
    Matches torchvision's C++ CPU kernel (``torchvision.ops.roi_align``, not
    its pure-Python fallback, which clamps border samples instead of zeroing
    them): the same arithmetic in the input dtype and in the same order, so
    results equal torchvision's bit for bit in float32 and float64, NaN and inf
    in ``input`` included (as in torchvision, an out-of-map sample multiplies
    the plane's first pixel by 0, so a NaN or inf there turns such bins NaN).
    One departure: torchvision stores the adaptive grid in an ``int``; here it
    is clamped to ``2**31 - 1`` per axis instead of overflowing, and a
    non-positive grid on either axis gives 0 (torchvision fails there).

    Cost: only in-map samples are visited, so a ROI costs at most about
    ``(2H + PH) * (2W + PW)`` samples per channel with adaptive sampling,
    however large the box; with a fixed ``sampling_ratio`` it is
    ``PH * PW * sampling_ratio**2`` at most. Precomputes each ROI's sample
    positions and weights once for all channels. When the samples cover the
    maps several times over (many boxes), works on a channels-last copy of
    ``input`` (``N * C * H * W`` extra memory) to vectorise across channels;
    the result is the same either way. Releases the GIL and runs ROIs on
    ``get_num_threads()`` threads; the result is the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    >>> nk.roi_align(x, [[0, 0, 0, 2, 2]], output_size=2, sampling_ratio=1)
    array([[[[2.5, 3.5],
             [6.5, 7.5]]]], dtype=float32)
    >>> nk.roi_align(x, [np.array([[0, 0, 2, 2]], np.float32)], 1, aligned=True)
    array([[[[2.5]]]], dtype=float32)
    """
    x = rules.feature_map(input, "input")
    a = rules.align_args(output_size, spatial_scale, sampling_ratio, aligned)
    r = rules.rois(boxes, x.dtype, x.shape[0])
    rules.check_pooled_output(r.shape[0], x.shape[1], a.pooled, x.dtype)
    return _core.roi_align(
        x, r, a.spatial_scale, *a.pooled, a.sampling_ratio, a.aligned, n_threads=get_num_threads()
    )


def roi_align_backward(
    grad_output: ArrayLike,
    boxes: ArrayLike | list[np.ndarray],
    input_shape: tuple[int, int, int, int],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> NDArray[np.floating]:
    """Gradient of :func:`roi_align` with respect to its input.

    Every sample of every bin sends ``grad_output[k, c, ph, pw] * w / count``
    to each of its four bilinear pixels ``w`` in ``grad_input[b_k, c]``, with
    ``count = grid_h * grid_w``; out-of-map samples send nothing.

    Parameters
    ----------
    grad_output : (K, C, PH, PW) array_like
        Gradient of the loss with respect to ``roi_align``'s output. float32
        stays float32; other reals become float64.
    boxes : (K, 5) array_like, or list of (K_i, 4) ndarrays
        As in :func:`roi_align`; cast to the dtype of ``grad_output``.
    input_shape : (int, int, int, int)
        ``(N, C, H, W)`` of the forward input; ``C`` must equal
        ``grad_output.shape[1]``.
    output_size : int or (int, int)
        ``(PH, PW)`` of the forward call; must match ``grad_output``.
    spatial_scale, sampling_ratio, aligned
        As in the forward call.

    Returns
    -------
    grad_input : (N, C, H, W) ndarray
        In the dtype of ``grad_output``; zero where no sample landed.

    Raises
    ------
    ValueError
        If a shape disagrees, a box is NaN or inf, or a batch index is outside
        ``[0, N)``.
    TypeError
        If an input has a complex, object or string dtype.
    MemoryError
        If the ``input_shape`` gradient cannot fit in memory (checked before
        allocating).

    Notes
    -----
    Matches torchvision's ``_roi_align_backward`` CPU kernel (what autograd
    calls for ``torchvision.ops.roi_align``). Each ``(image, channel)`` plane
    is owned by one thread, which adds the ROIs' terms in ROI order: the
    order of torchvision's serial loop, so results equal torchvision's bit for
    bit, with no atomics, and are the same for any thread count. Releases the
    GIL; runs channel blocks on ``get_num_threads()`` threads. Costs as the
    forward (see :func:`roi_align`); with many boxes the sums go to a
    channels-last buffer (``N * C * H * W`` extra memory), transposed at the end.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> g = np.ones((1, 1, 1, 1))
    >>> nk.roi_align_backward(g, [[0, 0, 0, 2, 2]], (1, 1, 3, 3), 1, sampling_ratio=1)
    array([[[[0., 0., 0.],
             [0., 1., 0.],
             [0., 0., 0.]]]])
    """
    n, c, h, w = rules.input_shape(input_shape)
    a = rules.align_args(output_size, spatial_scale, sampling_ratio, aligned)
    g = rules.as_float_array(grad_output, "grad_output")
    r = rules.rois(boxes, g.dtype, n)
    g = rules.grad_output(g, r.shape[0], c, a.pooled)
    rules.check_output_size((n, c, h, w), g.dtype.itemsize, "input_shape", "a gradient")
    return _core.roi_align_backward(
        g, r, n, h, w, a.spatial_scale, a.sampling_ratio, a.aligned, n_threads=get_num_threads()
    )


def roi_pool(
    input: ArrayLike,  # noqa: A002 - torchvision's name
    boxes: ArrayLike | list[np.ndarray],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    return_argmax: bool = False,
) -> NDArray[np.floating] | tuple[NDArray[np.floating], NDArray[np.int64]]:
    """Region of Interest Pooling (Fast R-CNN): the max over integer bins of each ROI.

    ``x1, y1, x2, y2`` are scaled and rounded half away from zero; the ROI is
    ``max(x2 - x1 + 1, 1)`` by ``max(y2 - y1 + 1, 1)`` pixels and bin
    ``(ph, pw)`` covers rows ``[floor(ph * bin_h), ceil((ph + 1) * bin_h))``
    (offset by ``y1``, clipped to the map) and columns alike::

        out[k, c, ph, pw] = max(input[b_k, c, rows, cols])

    Parameters
    ----------
    input : (N, C, H, W) array_like
        Feature maps. float32 stays float32; other reals become float64.
    boxes : (K, 5) array_like, or list of (K_i, 4) ndarrays
        As in :func:`roi_align`; cast to the dtype of ``input``.
    output_size : int or (int, int)
        ``(PH, PW)``, each >= 0.
    spatial_scale : float, default 1.0
        Scale from box coordinates to feature-map pixels.
    return_argmax : bool, default False
        Also return where each maximum was found.

    Returns
    -------
    out : (K, C, PH, PW) ndarray
        In the dtype of ``input``. An empty bin (clipped away) gives 0; a bin
        whose values are all NaN or <= -FLT_MAX gives -FLT_MAX (-3.4028235e38),
        whatever the dtype, as in torchvision.
    argmax : (K, C, PH, PW) ndarray of int64
        Only with ``return_argmax``: the flat index ``h * W + w`` of the
        maximum in its ``H x W`` plane, -1 where the bin has none. The input
        of :func:`roi_pool_backward`.

    Raises
    ------
    ValueError
        If a shape is wrong, ``output_size < 0``, ``spatial_scale`` is not
        finite, a box coordinate is NaN or inf, or a batch index is outside
        ``[0, N)``.
    TypeError
        If an input has a complex, object or string dtype.
    MemoryError
        If the result cannot fit in memory (checked before allocating).

    Notes
    -----
    Matches torchvision's C++ CPU kernel (``torchvision.ops.roi_pool``; its
    op ``torch.ops.torchvision.roi_pool`` also returns the argmax, as int32
    where this is int64). The max is a strict ``>`` scan in row-major order:
    the first maximum wins and NaN is ignored (unlike ``max_pool2d``).
    Rounded coordinates are clamped to ``+-2**40`` (torchvision's ``int``
    overflows beyond ``2**31``). With many boxes, scans a channels-last copy
    of ``input`` (``N * C * H * W`` extra memory), all channels of a pixel at
    once. Releases the GIL and runs ROIs on ``get_num_threads()`` threads; the
    result is the same for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    >>> out, argmax = nk.roi_pool(x, [[0, 0, 0, 3, 3]], 2, return_argmax=True)
    >>> out
    array([[[[ 5.,  7.],
             [13., 15.]]]], dtype=float32)
    >>> argmax
    array([[[[ 5,  7],
             [13, 15]]]])
    """
    x = rules.feature_map(input, "input")
    pooled = rules.as_int_pair(output_size, "output_size")
    scale = rules.as_finite_float(spatial_scale, "spatial_scale")
    want_argmax = rules.as_bool(return_argmax, "return_argmax")
    r = rules.rois(boxes, x.dtype, x.shape[0])
    rules.check_pooled_output(r.shape[0], x.shape[1], pooled, x.dtype, extra_itemsize=8)
    out, argmax = _core.roi_pool(x, r, scale, *pooled, n_threads=get_num_threads())
    return (out, argmax) if want_argmax else out


def roi_pool_backward(
    grad_output: ArrayLike,
    argmax: ArrayLike,
    boxes: ArrayLike | list[np.ndarray],
    input_shape: tuple[int, int, int, int],
) -> NDArray[np.floating]:
    """Gradient of :func:`roi_pool` with respect to its input.

    ``grad_input[b_k, c].flat[argmax[k, c, ph, pw]] += grad_output[k, c, ph, pw]``
    for every bin whose ``argmax`` is not -1.

    Parameters
    ----------
    grad_output : (K, C, PH, PW) array_like
        Gradient with respect to ``roi_pool``'s output. float32 stays float32;
        other reals become float64.
    argmax : (K, C, PH, PW) array_like of int
        From ``roi_pool(..., return_argmax=True)`` (torchvision's int32 argmax
        works too); values in ``[-1, H * W)``.
    boxes : (K, 5) array_like, or list of (K_i, 4) ndarrays
        The forward call's boxes (only their batch indices are used).
    input_shape : (int, int, int, int)
        ``(N, C, H, W)`` of the forward input.

    Returns
    -------
    grad_input : (N, C, H, W) ndarray
        In the dtype of ``grad_output``.

    Raises
    ------
    ValueError
        If a shape disagrees, an argmax value is outside ``[-1, H * W)``, a
        box is NaN or inf, or a batch index is outside ``[0, N)``.
    TypeError
        If ``argmax`` is not of an integer dtype, or another input has a
        complex, object or string dtype.
    MemoryError
        If the ``input_shape`` gradient cannot fit in memory (checked before
        allocating).

    Notes
    -----
    Matches torchvision's ``_roi_pool_backward`` CPU kernel. Each plane is
    owned by one thread, adding the ROIs in order (torchvision's order, so the
    same bits), no atomics; the same result for any thread count. Releases
    the GIL; runs channel blocks on ``get_num_threads()`` threads.

    Examples
    --------
    >>> import numpy as np
    >>> import npkernels as nk
    >>> g = np.ones((1, 1, 1, 1))
    >>> nk.roi_pool_backward(g, [[[[4]]]], [[0, 0, 0, 2, 2]], (1, 1, 2, 3))
    array([[[[0., 0., 0.],
             [0., 1., 0.]]]])
    """
    n, c, h, w = rules.input_shape(input_shape)
    g = rules.as_float_array(grad_output, "grad_output")
    r = rules.rois(boxes, g.dtype, n)
    g = rules.grad_output(g, r.shape[0], c, None)
    a = rules.pool_argmax(argmax, g.shape)
    rules.check_output_size((n, c, h, w), g.dtype.itemsize, "input_shape", "a gradient")
    return _core.roi_pool_backward(g, a, r, n, h, w, n_threads=get_num_threads())
