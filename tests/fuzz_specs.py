"""One fuzz spec per public callable of npkernels (and per public KDTree method).

Each ``base(rng)`` draws a small, plausible call (sizes 0-6, random window
parameters, sometimes invalid on purpose: kernel larger than the input,
``k > n``, empty inputs); :mod:`fuzzing` then mutates it. test_fuzz.py fails
when a public callable has no entry here.
"""

from __future__ import annotations

import numpy as np

from fuzzing import Spec

F32, F64 = np.float32, np.float64


def _dtype(r):
    return F32 if r.random() < 0.5 else F64


def _img(r, n=None, c=None, h=None, w=None, dtype=None, min_n=0):
    n = int(r.integers(min_n, 3)) if n is None else n
    c = int(r.integers(1, 4)) if c is None else c
    h = int(r.integers(1, 7)) if h is None else h
    w = int(r.integers(1, 7)) if w is None else w
    return r.standard_normal((n, c, h, w)).astype(dtype or _dtype(r))


def _small(r, lo=1, hi=3):
    v = int(r.integers(lo, hi + 1))
    return v if r.random() < 0.7 else (v, int(r.integers(lo, hi + 1)))


def _boxes(r, n=None, dtype=None):
    n = int(r.integers(0, 8)) if n is None else n
    xy = r.random((n, 2)) * 10
    wh = r.random((n, 2)) * 5
    return np.concatenate([xy, xy + wh], axis=1).astype(dtype or _dtype(r))


def _rois(r, n_batch, dtype, k=None):
    k = int(r.integers(0, 5)) if k is None else k
    b = _boxes(r, k, dtype)
    idx = r.integers(0, max(n_batch, 1), (k, 1)).astype(dtype)
    return np.concatenate([idx, b], axis=1)


# ----------------------------------------------------------------------------- conv


def _conv_out(h, k, s, p, d):
    span = h + 2 * p - d * (k - 1) - 1
    return span // s + 1 if span >= 0 else 0


def b_im2col(r):
    return {"x": _img(r), "kernel_size": _small(r), "stride": _small(r), "padding": _small(r, 0, 1),
            "dilation": _small(r, 1, 2)}


def b_col2im(r):
    h, w = int(r.integers(1, 7)), int(r.integers(1, 7))
    k, s, p, d = (int(r.integers(1, 3)), int(r.integers(1, 3)), int(r.integers(0, 2)),
                  int(r.integers(1, 3)))
    n, c = int(r.integers(0, 3)), int(r.integers(1, 3))
    L = _conv_out(h, k, s, p, d) * _conv_out(w, k, s, p, d)
    cols = r.standard_normal((n, c * k * k, L)).astype(_dtype(r))
    return {"cols": cols, "output_size": (h, w), "kernel_size": k, "stride": s, "padding": p,
            "dilation": d}


def _conv_parts(r):
    g = int(r.integers(1, 3))
    cg, og = int(r.integers(1, 3)), int(r.integers(1, 3))
    k = int(r.integers(1, 4))
    x = _img(r, c=cg * g)
    w = r.standard_normal((og * g, cg, k, k)).astype(x.dtype)
    return g, x, w


def b_conv2d(r):
    g, x, w = _conv_parts(r)
    bias = r.standard_normal(w.shape[0]).astype(x.dtype) if r.random() < 0.5 else None
    padding = ["same", "valid", 0, 1, (1, 0)][int(r.integers(0, 5))]
    return {"x": x, "weight": w, "bias": bias, "stride": _small(r, 1, 2), "padding": padding,
            "dilation": _small(r, 1, 2), "groups": g}


def b_conv2d_backward(r):
    from npkernels import reference as ref

    g, x, w = _conv_parts(r)
    stride, padding = int(r.integers(1, 3)), int(r.integers(0, 2))
    try:
        y = ref.conv2d(x, w, None, stride, padding, 1, g)
        dy = r.standard_normal(y.shape).astype(x.dtype)
    except ValueError:
        dy = r.standard_normal((x.shape[0], w.shape[0], 1, 1)).astype(x.dtype)
    mask = tuple(bool(v) for v in r.integers(0, 2, 3))
    return {"grad_output": dy, "x": x, "weight": w, "stride": stride, "padding": padding,
            "dilation": 1, "groups": g, "output_mask": mask}


def b_conv_transpose2d(r):
    g = int(r.integers(1, 3))
    cin, cout = g * int(r.integers(1, 3)), int(r.integers(1, 3))
    k = int(r.integers(1, 4))
    x = _img(r, c=cin)
    w = r.standard_normal((cin, cout, k, k)).astype(x.dtype)
    bias = r.standard_normal(cout * g).astype(x.dtype) if r.random() < 0.5 else None
    s = int(r.integers(1, 3))
    return {"x": x, "weight": w, "bias": bias, "stride": s, "padding": int(r.integers(0, 2)),
            "output_padding": int(r.integers(0, s)), "groups": g, "dilation": 1}


# ----------------------------------------------------------------------------- pool


def _window(r):
    k = int(r.integers(1, 4))
    return k, (None if r.random() < 0.4 else int(r.integers(1, 3))), int(r.integers(0, k // 2 + 1))


def b_max_pool2d(r):
    k, s, p = _window(r)
    return {"x": _img(r), "kernel_size": k, "stride": s, "padding": p,
            "dilation": int(r.integers(1, 3)), "ceil_mode": bool(r.random() < 0.5),
            "return_indices": bool(r.random() < 0.5)}


def b_max_pool2d_backward(r):
    from npkernels import reference as ref

    x = _img(r, h=int(r.integers(2, 7)), w=int(r.integers(2, 7)))
    _, idx = ref.max_pool2d(x, 2, return_indices=True)
    return {"grad_output": r.standard_normal(idx.shape).astype(x.dtype), "indices": idx,
            "input_shape": x.shape}


def b_avg_pool2d(r):
    k, s, p = _window(r)
    return {"x": _img(r), "kernel_size": k, "stride": s, "padding": p,
            "ceil_mode": bool(r.random() < 0.5), "count_include_pad": bool(r.random() < 0.5),
            "divisor_override": None if r.random() < 0.7 else int(r.integers(1, 5))}


def b_avg_pool2d_backward(r):
    from npkernels import reference as ref

    kw = b_avg_pool2d(r)
    x = kw.pop("x")
    try:
        y = ref.avg_pool2d(x, **kw)
        g = r.standard_normal(y.shape).astype(x.dtype)
    except ValueError:
        g = x
    return {"grad_output": g, "input_shape": x.shape, **kw}


def b_lp_pool2d(r):
    k = int(r.integers(1, 4))
    return {"x": _img(r), "norm_type": [1, 2, 3.5, np.inf][int(r.integers(0, 4))],
            "kernel_size": k, "stride": None if r.random() < 0.5 else int(r.integers(1, 3)),
            "ceil_mode": bool(r.random() < 0.5)}


def b_lp_pool2d_backward(r):
    from npkernels import reference as ref

    kw = b_lp_pool2d(r)
    x = np.abs(kw.pop("x"))
    try:
        y = ref.lp_pool2d(x, **kw)
        g = r.standard_normal(y.shape).astype(x.dtype)
    except ValueError:
        g = x
    return {"grad_output": g, "x": x, **kw}


def b_adaptive_avg_pool2d(r):
    return {"x": _img(r), "output_size": _small(r, 0, 4)}


def b_adaptive_max_pool2d(r):
    return {**b_adaptive_avg_pool2d(r), "return_indices": bool(r.random() < 0.5)}


def b_adaptive_avg_pool2d_backward(r):
    x = _img(r)
    oh, ow = int(r.integers(1, 4)), int(r.integers(1, 4))
    return {"grad_output": r.standard_normal((*x.shape[:2], oh, ow)).astype(x.dtype),
            "input_shape": x.shape}


def b_adaptive_max_pool2d_backward(r):
    from npkernels import reference as ref

    x = _img(r)
    out = (int(r.integers(1, 4)), int(r.integers(1, 4)))
    _, idx = ref.adaptive_max_pool2d(x, out, return_indices=True)
    return {"grad_output": r.standard_normal(idx.shape).astype(x.dtype), "indices": idx,
            "input_shape": x.shape}


def b_spatial_pyramid_pool(r):
    return {"x": _img(r), "levels": tuple(int(v) for v in r.integers(1, 5, int(r.integers(1, 4)))),
            "mode": ["max", "avg"][int(r.integers(0, 2))]}


# ----------------------------------------------------------------------------- detection


def b_box_area(r):
    return {"boxes": _boxes(r)}


def b_box_pair(r):
    return {"boxes1": _boxes(r), "boxes2": _boxes(r)}


def b_giou_loss(r):
    n = int(r.integers(0, 6))
    a = _boxes(r, n)
    return {"boxes1": a, "boxes2": _boxes(r, n, a.dtype), "reduction": ["none", "mean", "sum"][
        int(r.integers(0, 3))], "eps": 1e-7}


def _nms_parts(r):
    b = _boxes(r)
    s = np.round(r.random(b.shape[0]), 1).astype(b.dtype)
    return b, s


def b_nms(r):
    b, s = _nms_parts(r)
    return {"boxes": b, "scores": s, "iou_threshold": float(r.random())}


def b_batched_nms(r):
    b, s = _nms_parts(r)
    return {"boxes": b, "scores": s, "idxs": r.integers(0, 3, b.shape[0]),
            "iou_threshold": float(r.random())}


def b_soft_nms(r):
    b, s = _nms_parts(r)
    return {"boxes": b, "scores": s, "iou_threshold": float(r.random()),
            "sigma": float(r.random()) + 0.1, "min_score": float(r.random()) * 0.1,
            "method": ["linear", "gaussian", "naive"][int(r.integers(0, 3))]}


def b_batched_soft_nms(r):
    kw = b_soft_nms(r)
    b = kw.pop("boxes")
    return {"boxes": b, "scores": kw.pop("scores"), "idxs": r.integers(0, 3, b.shape[0]), **kw}


def b_roi_align(r):
    x = _img(r, min_n=1)
    boxes = _rois(r, x.shape[0], x.dtype)
    if r.random() < 0.3:
        boxes = [_boxes(r, int(r.integers(0, 3)), x.dtype) for _ in range(x.shape[0])]
    return {"input": x, "boxes": boxes, "output_size": _small(r, 0, 3),
            "spatial_scale": float(r.choice([1.0, 0.5, 2.0])),
            "sampling_ratio": int(r.integers(-1, 3)), "aligned": bool(r.random() < 0.5)}


def b_roi_align_backward(r):
    x = _img(r, min_n=1)
    boxes = _rois(r, x.shape[0], x.dtype)
    ph, pw = int(r.integers(1, 3)), int(r.integers(1, 3))
    g = r.standard_normal((boxes.shape[0], x.shape[1], ph, pw)).astype(x.dtype)
    return {"grad_output": g, "boxes": boxes, "input_shape": x.shape, "output_size": (ph, pw),
            "spatial_scale": 1.0, "sampling_ratio": int(r.integers(-1, 3)),
            "aligned": bool(r.random() < 0.5)}


def b_roi_pool(r):
    x = _img(r, min_n=1)
    return {"input": x, "boxes": _rois(r, x.shape[0], x.dtype), "output_size": _small(r, 0, 3),
            "spatial_scale": 1.0, "return_argmax": bool(r.random() < 0.5)}


def b_roi_pool_backward(r):
    from npkernels import reference as ref

    x = _img(r, min_n=1)
    boxes = _rois(r, x.shape[0], x.dtype)
    out, argmax = ref.roi_pool(x, boxes, 2, return_argmax=True)
    return {"grad_output": r.standard_normal(out.shape).astype(x.dtype), "argmax": argmax,
            "boxes": boxes, "input_shape": x.shape}


# ----------------------------------------------------------------------------- metrics


def _binary(r):
    n = int(r.integers(1, 12))
    y = r.integers(0, 2, n)
    s = np.round(r.random(n), 1).astype(_dtype(r))
    return y, s


def b_rankdata(r):
    a = np.round(r.standard_normal(int(r.integers(0, 10))), 1)
    return {"a": a.astype(_dtype(r)) if r.random() < 0.7 else a.reshape(-1, 1) if a.size else a,
            "method": ["average", "min", "max", "dense", "ordinal"][int(r.integers(0, 5))]}


def b_roc_auc_score(r):
    y, s = _binary(r)
    w = r.random(y.size) if r.random() < 0.3 else None
    return {"y_true": y, "y_score": s, "sample_weight": w,
            "max_fpr": None if r.random() < 0.7 else float(r.random()) or 0.5}


def b_roc_auc_multi(r):
    n, k = int(r.integers(3, 12)), 3
    y = r.integers(0, k, n)
    y[:k] = np.arange(k)
    p = r.random((n, k)) + 0.1
    return {"y_true": y, "y_score": p / p.sum(axis=1, keepdims=True),
            "multi_class": ["ovr", "ovo"][int(r.integers(0, 2))],
            "average": ["macro", "weighted"][int(r.integers(0, 2))]}


def b_roc_auc_any(r):
    return b_roc_auc_score(r) if r.random() < 0.6 else b_roc_auc_multi(r)


def b_roc_curve(r):
    y, s = _binary(r)
    return {"y_true": y, "y_score": s, "pos_label": None,
            "sample_weight": r.random(y.size) if r.random() < 0.3 else None,
            "drop_intermediate": bool(r.random() < 0.5)}


def b_average_precision_score(r):
    y, s = _binary(r)
    return {"y_true": y, "y_score": s, "pos_label": 1,
            "sample_weight": r.random(y.size) if r.random() < 0.3 else None}


# ----------------------------------------------------------------------------- neighbours


def _points(r, n=None, m=None, dtype=None):
    n = int(r.integers(1, 12)) if n is None else n
    m = int(r.integers(1, 4)) if m is None else m
    return np.round(r.standard_normal((n, m)), 1).astype(dtype or _dtype(r))


def b_kdtree(r):
    return {"data": _points(r), "leafsize": int(r.integers(1, 5)),
            "split": ["midpoint", "variance"][int(r.integers(0, 2))]}


def _ctor(r):
    d = _points(r)
    return d, (d, int(r.integers(1, 5)), ["midpoint", "variance"][int(r.integers(0, 2))])


def b_query(r):
    d, ctor = _ctor(r)
    n_q = int(r.integers(0, 5))
    k = int(r.integers(1, d.shape[0] + 3)) if r.random() < 0.7 else [1, int(r.integers(1, 5))]
    return {"__ctor__": ctor, "x": _points(r, n_q, d.shape[1], d.dtype), "k": k,
            "p": [1, 2, 3.0, np.inf][int(r.integers(0, 4))],
            "distance_upper_bound": [np.inf, 1.0][int(r.integers(0, 2))], "eps": 0,
            "workers": None}


def b_query_ball_point(r):
    d, ctor = _ctor(r)
    return {"__ctor__": ctor, "x": _points(r, int(r.integers(0, 4)), d.shape[1], d.dtype),
            "r": float(r.random() * 2), "p": [1, 2, np.inf][int(r.integers(0, 3))], "eps": 0,
            "return_sorted": True, "return_length": bool(r.random() < 0.5), "workers": None}


def b_query_radius(r):
    d, ctor = _ctor(r)
    return {"__ctor__": ctor, "x": _points(r, int(r.integers(0, 4)), d.shape[1], d.dtype),
            "r": float(r.random() * 2), "p": [1, 2, np.inf][int(r.integers(0, 3))], "sort": True}


def sorted_csr(result):
    """query_radius's (indices, offsets) with each query's indices sorted (sort=False leaves
    them in traversal order, which is the tree's own)."""
    indices, offsets = result
    parts = [np.sort(indices[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
    return (np.concatenate(parts) if parts else indices), offsets


def b_query_pairs(r):
    _, ctor = _ctor(r)
    return {"__ctor__": ctor, "r": float(r.random() * 2),
            "p": [1, 2, np.inf][int(r.integers(0, 3))],
            "eps": 0, "output_type": ["set", "ndarray"][int(r.integers(0, 2))]}


def b_knn_predict(r):
    xt = r.standard_normal((int(r.integers(1, 12)), int(r.integers(1, 4)))).astype(_dtype(r))
    # continuous: no ties at the k-th distance, where the neighbour sets may differ
    return {"X_train": xt, "y_train": r.integers(0, 3, xt.shape[0]),
            "X": _points(r, int(r.integers(0, 4)), xt.shape[1], xt.dtype),
            "k": int(r.integers(1, xt.shape[0] + 2))}


# ----------------------------------------------------------------------------- norm


def _bn_x(r):
    x = _img(r, min_n=1) if r.random() < 0.5 else r.standard_normal(
        (int(r.integers(1, 6)), int(r.integers(1, 4))))
    return x.astype(_dtype(r))


def b_batch_norm(r):
    x = _bn_x(r)
    c = x.shape[1]
    return {"x": x, "gamma": r.random(c).astype(x.dtype), "beta": r.random(c).astype(x.dtype),
            "running_mean": np.zeros(c), "running_var": np.ones(c),
            "training": bool(r.random() < 0.7), "momentum": 0.1, "eps": 1e-5}


def b_batch_norm_forward(r):
    x = _bn_x(r)
    c = x.shape[1]
    return {"x": x, "gamma": r.random(c).astype(x.dtype), "beta": None, "eps": 1e-5}


def b_batch_norm_backward(r):
    x = _bn_x(r)
    c = x.shape[1]
    return {"grad_y": r.standard_normal(x.shape).astype(x.dtype), "x": x,
            "gamma": r.random(c).astype(x.dtype), "mean": np.zeros(c, x.dtype),
            "invstd": np.ones(c, x.dtype)}


# ----------------------------------------------------------------------------- threads


def b_threads(r):
    return {"n": int(r.integers(1, 4))}


WINDOW = {"kernel_size": (10**6, (1, 10**6), 0, (0, 1), 2**40),
          "stride": (0, (0, 1), 10**9), "padding": (10**6, -1, (0, -1)),
          "dilation": (0, 10**6)}
BIG = {"output_size": (0, (0, 5), 10**6, (10**5, 10**5), 2**31, (1, 2**40))}
# torchvision's per-image box lists, odd: wrong widths, dtypes, NaN, mixed, empty, tuple.
BOX_LISTS = {"boxes": (
    [np.zeros((2, 5))], [np.zeros((1, 4), complex)], [np.array([[np.nan, 0, 1, 1]])],
    [np.zeros((1, 4)), "abc"], [], (np.zeros((1, 4)),), [np.zeros((1, 4))] * 5,
    [np.zeros((0, 4))], [np.zeros(4)], [np.array([[0, 0, 1e300, 1e300]])],
    [[0, 0, 0, 1, 1]], [[-1, 0, 0, 1, 1]], [[0.99, 0, 0, 1, 1]], [[-0.99, 0, 0, 1, 1]],
)}

_SPECS = [
    Spec("im2col", b_im2col, ("x",), dict(WINDOW), memory=True),
    Spec("col2im", b_col2im, ("cols",), {**WINDOW, "output_size": (0, 10**6, (2**31, 1))},
         memory=True),
    Spec("conv2d", b_conv2d, ("x", "weight", "bias"), {**WINDOW, "groups": (0, -1, 7, 2**40)},
         memory=True),
    Spec("conv2d_backward", b_conv2d_backward, ("grad_output", "x", "weight"),
         {**WINDOW, "output_mask": ((False,) * 3, (True, True), (1, 0, 1), "yes")}, memory=True),
    Spec("conv_transpose2d", b_conv_transpose2d, ("x", "weight", "bias"),
         {**WINDOW, "output_padding": (5, -1, 10**6), "groups": (0, 3)}, memory=True),
    Spec("max_pool2d", b_max_pool2d, ("x",), dict(WINDOW), memory=True),
    Spec("max_pool2d_backward", b_max_pool2d_backward, ("grad_output", "indices"),
         {"input_shape": ((0, 1, 1, 1), (1, 1, 10**6, 10**6), (1, 1), (-1, 1, 2, 2))},
         memory=True),
    Spec("avg_pool2d", b_avg_pool2d, ("x",), {**WINDOW, "divisor_override": (0, -1, 2**70)},
         memory=True),
    Spec("avg_pool2d_backward", b_avg_pool2d_backward, ("grad_output",),
         {**WINDOW, "input_shape": ((1, 1, 10**6, 10**6),)}, memory=True),
    Spec("lp_pool2d", b_lp_pool2d, ("x",), {**WINDOW, "norm_type": (0, -1, -np.inf, 0.5, 1e308)},
         memory=True),
    Spec("lp_pool2d_backward", b_lp_pool2d_backward, ("grad_output", "x"),
         {**WINDOW, "norm_type": (0, -2, 0.5)}, memory=True),
    Spec("adaptive_avg_pool2d", b_adaptive_avg_pool2d, ("x",), dict(BIG), memory=True),
    Spec("adaptive_max_pool2d", b_adaptive_max_pool2d, ("x",), dict(BIG), memory=True),
    Spec("adaptive_avg_pool2d_backward", b_adaptive_avg_pool2d_backward, ("grad_output",),
         {"input_shape": ((1, 1, 10**6, 10**6), (0, 1, 1, 1))}, memory=True),
    Spec("adaptive_max_pool2d_backward", b_adaptive_max_pool2d_backward,
         ("grad_output", "indices"), {"input_shape": ((1, 1, 10**6, 10**6),)}, memory=True),
    Spec("spatial_pyramid_pool", b_spatial_pyramid_pool, ("x",),
         {"levels": ((0,), (10**5,), (1, 2**40), [], "124")}, memory=True),
    Spec("box_area", b_box_area, ("boxes",)),
    Spec("box_iou", b_box_pair, ("boxes1", "boxes2"), memory=True),
    Spec("generalized_box_iou", b_box_pair, ("boxes1", "boxes2"), memory=True),
    Spec("generalized_box_iou_loss", b_giou_loss, ("boxes1", "boxes2"),
         {"eps": (-1.0, 1e308), "reduction": ("mean ", "MEAN")}),
    Spec("nms", b_nms, ("boxes", "scores")),
    Spec("batched_nms", b_batched_nms, ("boxes", "scores", "idxs")),
    Spec("soft_nms", b_soft_nms, ("boxes", "scores"),
         {"sigma": (0.0, -1.0, 1e-300), "method": ("LINEAR", "hard")}),
    Spec("batched_soft_nms", b_batched_soft_nms, ("boxes", "scores", "idxs"),
         {"sigma": (0.0, 1e-300)}),
    Spec("roi_align", b_roi_align, ("input", "boxes"),
         {**BIG, **BOX_LISTS, "sampling_ratio": (10**6, 2**31, 2**62, -(2**40)),
          "spatial_scale": (0.0, -1.0, 1e30, 1e-30)}, memory=True),
    Spec("roi_align_backward", b_roi_align_backward, ("grad_output", "boxes"),
         {**BOX_LISTS, "input_shape": ((1, 1, 10**6, 10**6), (1, 1, 0, 0)),
          "sampling_ratio": (10**6, 2**31),
          "output_size": (0, 10**6), "spatial_scale": (1e30, 0.0)}, memory=True),
    Spec("roi_pool", b_roi_pool, ("input", "boxes"),
         {**BIG, **BOX_LISTS, "spatial_scale": (1e30, -1e30)},
         memory=True),
    Spec("roi_pool_backward", b_roi_pool_backward, ("grad_output", "argmax", "boxes"),
         {"input_shape": ((1, 1, 10**6, 10**6), (0, 1, 1, 1))}, memory=True),
    Spec("rankdata", b_rankdata, ("a",), {"method": ("AVERAGE", "first")}),
    Spec("roc_auc_score", b_roc_auc_any, ("y_true", "y_score", "sample_weight", "labels"),
         {"max_fpr": (0.0, 1.5, -0.1), "multi_class": ("ovo", "ovr"),
          "average": (None, "micro", "samples")}),
    Spec("roc_curve", b_roc_curve, ("y_true", "y_score", "sample_weight"),
         {"pos_label": (0, 1, 2, "pos", -1)}),
    Spec("average_precision_score", b_average_precision_score,
         ("y_true", "y_score", "sample_weight"), {"pos_label": (0, 2, "pos")}),
    Spec("KDTree", b_kdtree, ("data",), {"leafsize": (0, -1, 10**12)}, compare="none",
         memory=True),
    Spec("KDTree.query", b_query, ("x",),
         {"k": (10**12, [0], [1, 10**12], [], [2**63 - 1], 2**40), "p": (0.5, -1.0),
          "eps": (-1.0,), "distance_upper_bound": (-1.0, 0.0),
          "workers": (0, -2, 2**40, 1.5)},
         compare="shapes", memory=True, skip_scalars=("__ctor__",)),
    Spec("KDTree.query_ball_point", b_query_ball_point, ("x", "r"),
         {"r": (-1.0, np.inf, 1e308), "workers": (0, -2)}, memory=True,
         skip_scalars=("__ctor__",), approximate=("eps",)),
    Spec("KDTree.query_radius", b_query_radius, ("x", "r"), {"r": (-1.0, np.inf)}, memory=True,
         skip_scalars=("__ctor__",), normalise=sorted_csr),
    Spec("KDTree.query_pairs", b_query_pairs, (), {"r": (-1.0, np.inf, 1e308)}, memory=True,
         skip_scalars=("__ctor__",), approximate=("eps",)),
    # Labels compared by shape only: an odd dtype (int8 points) makes ties at the k-th
    # distance, where the neighbour sets may differ (SPEC section 5).
    Spec("knn_predict", b_knn_predict, ("X_train", "y_train", "X"), {"k": (0, 10**12)},
         memory=True, compare="shapes"),
    Spec("batch_norm", b_batch_norm, ("x", "gamma", "beta", "running_mean", "running_var"),
         {"momentum": (-1.0, 2.0), "eps": (-1.0, 0.0)}),
    Spec("batch_norm_forward", b_batch_norm_forward, ("x", "gamma", "beta"), {"eps": (-1.0, 0.0)}),
    Spec("batch_norm_backward", b_batch_norm_backward, ("grad_y", "x", "gamma", "mean", "invstd")),
    Spec("set_num_threads", b_threads, (), {"n": (0, -1, 2**40)}, compare="none",
         reference=False),
    Spec("num_threads", b_threads, (), {"n": (0, -1, 2**40)}, compare="none", reference=False),
    Spec("get_num_threads", lambda r: {}, (), compare="none", reference=False),
]

SPECS = {s.name: s for s in _SPECS}
