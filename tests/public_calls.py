"""One ready-to-run call of every public kernel, for the concurrency and memory tests.

``CALLS[name](rng, size)`` builds inputs and returns a zero-argument callable that runs
``name`` on them; ``size`` is ``"small"`` (microseconds: the memory test makes 10,000
calls), ``"split"`` (big enough for each kernel to split its work over 2-3 threads) or
``"long"`` (as "split", bigger where a kernel would take under ~10 ms: the GIL test).
Inputs that a kernel updates in place (batch_norm's running statistics) are copied
inside the call, so a call can be repeated and run from several threads at once.
:func:`fingerprint` turns any result into bytes, to compare results bitwise.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import npkernels as nk
from npkernels._workloads import random_binary_scores, random_clustered_boxes, random_rois

Builder = Callable[[np.random.Generator, str], Callable[[], Any]]

KDTREE_METHODS = ("query", "query_ball_point", "query_radius", "query_pairs")


def public_kernels() -> set[str]:
    """Every public kernel: each family's callables, KDTree and its query methods."""
    names = set()
    for family in nk.FAMILIES:
        for name in family.__all__:
            obj = getattr(family, name)
            if isinstance(obj, type) and issubclass(obj, Warning):
                continue
            names.add(name)
    names |= {f"KDTree.{m}" for m in KDTREE_METHODS}
    return names


def fingerprint(result: Any) -> bytes:
    """The bytes of a result: arrays (dtype, shape and data), scalars, tuples, lists, sets."""
    if isinstance(result, np.ndarray) and result.dtype == object:
        return b"O" + b"|".join(fingerprint(r) for r in result.ravel())
    if isinstance(result, (np.ndarray, np.generic)):
        a = np.asarray(result)
        return str((a.dtype.str, a.shape)).encode() + np.ascontiguousarray(a).tobytes()
    if isinstance(result, float):
        return np.float64(result).tobytes()
    if isinstance(result, int):
        return str(result).encode()
    if isinstance(result, (tuple, list)):
        return b"(" + b",".join(fingerprint(r) for r in result) + b")"
    if isinstance(result, set):
        return b"{" + b",".join(fingerprint(r) for r in sorted(result)) + b"}"
    if isinstance(result, nk.KDTree):
        return fingerprint(result.query(result.data[::7], k=3))
    raise TypeError(f"no fingerprint for {type(result).__name__}")


def _pick(size: str, small, split, long=None):
    if size == "small":
        return small
    return long if size == "long" and long is not None else split


def _image(rng, size, shape_small=(1, 2, 6, 5), shape_split=(4, 8, 64, 48),
           shape_long=(8, 32, 96, 96), dtype=np.float32):
    return rng.standard_normal(_pick(size, shape_small, shape_split, shape_long)).astype(dtype)


# ---------------------------------------------------------------------------- metrics


def _scores(rng, size):
    y, s = random_binary_scores(rng, _pick(size, 50, 120_000, 2_000_000), decimals=2)
    y[:2] = [False, True]
    return y, s, rng.random(y.size)


def _rankdata(rng, size):
    x = np.round(rng.random(_pick(size, 50, 200_000, 2_000_000)), 3)
    return lambda: nk.rankdata(x, "average")


def _roc_auc(rng, size):
    y, s, w = _scores(rng, size)
    return lambda: (nk.roc_auc_score(y, s), nk.roc_auc_score(y, s, sample_weight=w, max_fpr=0.4))


def _roc_curve(rng, size):
    y, s, w = _scores(rng, size)
    return lambda: nk.roc_curve(y, s, sample_weight=w)


def _average_precision(rng, size):
    y, s, w = _scores(rng, size)
    return lambda: nk.average_precision_score(y, s, sample_weight=w)


# -------------------------------------------------------------------------- detection


def _boxes(rng, size, classes=False):
    n = _pick(size, 20, 4000, 200_000)
    return random_clustered_boxes(rng, n, n_classes=7 if classes else None)


def _nms(rng, size):
    b, s = _boxes(rng, size)
    return lambda: nk.nms(b, s, 0.5)


def _batched_nms(rng, size):
    b, s, c = _boxes(rng, size, classes=True)
    return lambda: nk.batched_nms(b, s, c, 0.4)


def _soft_nms(rng, size):
    b, s = _boxes(rng, size)
    m = _pick(size, 20, 2000, 20_000)
    return lambda: nk.soft_nms(b[:m], s[:m], method="gaussian")


def _batched_soft_nms(rng, size):
    b, s, c = _boxes(rng, size, classes=True)
    m = _pick(size, 20, 4000, 40_000)
    return lambda: nk.batched_soft_nms(b[:m], s[:m], c[:m], method="linear")


def _box_area(rng, size):
    b = _boxes(rng, size)[0]
    b = np.tile(b[:4000], (_pick(size, 1, 30, 300), 1))
    return lambda: nk.box_area(b)


def _pairwise(fn):
    def build(rng, size):
        b = _boxes(rng, size)[0]
        m = _pick(size, 20, 400, 3000)
        return lambda: fn(b[:m], b[-m:])

    return build


def _giou_loss(rng, size):
    b = _boxes(rng, size)[0]
    b = np.tile(b[:4000], (_pick(size, 1, 30, 300), 1))
    other = b + np.float32(3.0)
    return lambda: (nk.generalized_box_iou_loss(b, other),
                    nk.generalized_box_iou_loss(b, other, reduction="mean"))


def _roi_inputs(rng, size):
    shape = _pick(size, (1, 2, 8, 9), (2, 24, 30, 34), (1, 64, 100, 120))
    x = rng.standard_normal(shape).astype(np.float32)
    rois = random_rois(rng, _pick(size, 3, 150, 1000), shape[0], shape[2], shape[3],
                       size=(2, 20))
    return x, rois, rng.standard_normal((rois.shape[0], shape[1], 5, 5)).astype(np.float32)


def _roi_align(rng, size):
    x, rois, _ = _roi_inputs(rng, size)
    return lambda: nk.roi_align(x, rois, 5, 0.5, 2, True)


def _roi_align_backward(rng, size):
    x, rois, g = _roi_inputs(rng, size)
    return lambda: nk.roi_align_backward(g, rois, x.shape, 5, 0.5, 2, True)


def _roi_pool(rng, size):
    x, rois, _ = _roi_inputs(rng, size)
    return lambda: nk.roi_pool(x, rois, 5, 1.0, return_argmax=True)


def _roi_pool_backward(rng, size):
    x, rois, g = _roi_inputs(rng, size)
    argmax = nk.roi_pool(x, rois, 5, return_argmax=True)[1]
    return lambda: nk.roi_pool_backward(g, argmax, rois, x.shape)


# ------------------------------------------------------------------ pooling and norm


def _max_pool(rng, size):
    x = _image(rng, size)
    return lambda: nk.max_pool2d(x, 3, 2, 1, return_indices=True)


def _max_pool_backward(rng, size):
    x = _image(rng, size)
    out, idx = nk.max_pool2d(x, 3, 2, 1, return_indices=True)
    g = rng.standard_normal(out.shape).astype(np.float32)
    return lambda: nk.max_pool2d_backward(g, idx, x.shape)


def _avg_pool(rng, size):
    x = _image(rng, size)
    return lambda: nk.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)


def _avg_pool_backward(rng, size):
    x = _image(rng, size)
    g = nk.avg_pool2d(x, 3, 2, 1) + np.float32(1.0)
    return lambda: nk.avg_pool2d_backward(g, x.shape, 3, 2, 1)


def _lp_pool(rng, size):
    x = _image(rng, size)
    return lambda: nk.lp_pool2d(x, 2.0, 2)


def _lp_pool_backward(rng, size):
    x = _image(rng, size)
    g = nk.lp_pool2d(x, 3.0, 2)
    return lambda: nk.lp_pool2d_backward(g, x, 3.0, 2)


def _adaptive_avg(rng, size):
    x = _image(rng, size)
    return lambda: nk.adaptive_avg_pool2d(x, (3, 4))


def _adaptive_avg_backward(rng, size):
    x = _image(rng, size)
    g = nk.adaptive_avg_pool2d(x, (3, 4))
    return lambda: nk.adaptive_avg_pool2d_backward(g, x.shape)


def _adaptive_max(rng, size):
    x = _image(rng, size)
    return lambda: nk.adaptive_max_pool2d(x, (3, 4), return_indices=True)


def _adaptive_max_backward(rng, size):
    x = _image(rng, size)
    out, idx = nk.adaptive_max_pool2d(x, (3, 4), return_indices=True)
    return lambda: nk.adaptive_max_pool2d_backward(out, idx, x.shape)


def _spp(rng, size):
    x = _image(rng, size)
    return lambda: (nk.spatial_pyramid_pool(x), nk.spatial_pyramid_pool(x, (1, 3), "avg"))


def _norm_inputs(rng, size):
    x = _image(rng, size, dtype=np.float64)
    c = x.shape[1]
    return x, rng.random(c) + 0.5, rng.standard_normal(c), rng.standard_normal(c), rng.random(c) + 1


def _batch_norm(rng, size):
    x, gamma, beta, mean, var = _norm_inputs(rng, size)

    def call():
        rm, rv = mean.copy(), var.copy()  # updated in place
        y = nk.batch_norm(x, gamma, beta, rm, rv, training=True)
        return y, rm, rv, nk.batch_norm(x, gamma, beta, mean, var, training=False)

    return call


def _batch_norm_forward(rng, size):
    x, gamma, beta, _, _ = _norm_inputs(rng, size)
    return lambda: nk.batch_norm_forward(x, gamma, beta)


def _batch_norm_backward(rng, size):
    x, gamma, beta, _, _ = _norm_inputs(rng, size)
    _, mean, invstd = nk.batch_norm_forward(x, gamma, beta)
    g = rng.standard_normal(x.shape)
    return lambda: nk.batch_norm_backward(g, x, gamma, mean, invstd)


# ------------------------------------------------------------------------ convolution


def _conv_inputs(rng, size):
    x = _image(rng, size, (1, 2, 6, 5), (2, 8, 40, 36), (8, 32, 64, 64))
    w = rng.standard_normal((_pick(size, 3, 16, 32), x.shape[1], 3, 3)).astype(np.float32)
    return x, w, rng.standard_normal(w.shape[0]).astype(np.float32)


def _conv2d(rng, size):
    x, w, b = _conv_inputs(rng, size)
    return lambda: nk.conv2d(x, w, b, stride=1, padding=1)


def _conv2d_backward(rng, size):
    x, w, b = _conv_inputs(rng, size)
    g = nk.conv2d(x, w, b, stride=2, padding=1)
    return lambda: nk.conv2d_backward(g, x, w, stride=2, padding=1)


def _conv_transpose(rng, size):
    x, w, _ = _conv_inputs(rng, size)
    wt = np.ascontiguousarray(w.transpose(1, 0, 2, 3))  # (C_in, C_out, kH, kW)
    return lambda: nk.conv_transpose2d(x, wt, None, stride=2, padding=1, output_padding=1)


def _im2col(rng, size):
    x = _image(rng, size, (1, 2, 6, 5), (2, 8, 40, 36), (8, 32, 64, 64))
    return lambda: nk.im2col(x, 3, stride=1, padding=1)


def _col2im(rng, size):
    x = _image(rng, size, (1, 2, 6, 5), (2, 8, 40, 36), (8, 32, 64, 64))
    cols = nk.im2col(x, 3, stride=1, padding=1)
    return lambda: nk.col2im(cols, x.shape[2:], 3, stride=1, padding=1)


# -------------------------------------------------------------------------- neighbors


def _points(rng, size):
    data = rng.random((_pick(size, 40, 20_000), 3))
    return data, rng.random((_pick(size, 5, 6000, 30_000), 3))


def _kdtree(rng, size):
    data = rng.random((_pick(size, 40, 300_000), 3))  # 300,000: the build splits over threads
    return lambda: (nk.KDTree(data, leafsize=8), nk.KDTree(data[:1000].astype(np.float32)))


def _tree_method(method):
    def build(rng, size):
        data, x = _points(rng, size)
        tree, tree32 = nk.KDTree(data), nk.KDTree(data.astype(np.float32))
        x32, r = x.astype(np.float32), _pick(size, 0.2, 0.015)
        calls = {
            "query": lambda: tree.query(x, k=[1, 4], p=1),
            "query_ball_point": lambda: tree.query_ball_point(x[:_pick(size, 5, 200, 6000)], 0.08,
                                                              return_sorted=True),
            "query_radius": lambda: tree32.query_radius(x32, 0.06, sort=True),
            "query_pairs": lambda: (tree.query_pairs(r, output_type="ndarray"),
                                    tree32.query_pairs(r, output_type="ndarray")),
        }
        return calls[method]

    return build


def _knn_predict(rng, size):
    data, x = _points(rng, size)
    data, x = data.astype(np.float32), x.astype(np.float32)
    labels = (data.sum(axis=1) * 3).astype(np.int64)
    return lambda: nk.knn_predict(data, labels, x, k=5)


CALLS: dict[str, Builder] = {
    "rankdata": _rankdata,
    "roc_auc_score": _roc_auc,
    "roc_curve": _roc_curve,
    "average_precision_score": _average_precision,
    "nms": _nms,
    "batched_nms": _batched_nms,
    "soft_nms": _soft_nms,
    "batched_soft_nms": _batched_soft_nms,
    "box_area": _box_area,
    "box_iou": _pairwise(nk.box_iou),
    "generalized_box_iou": _pairwise(nk.generalized_box_iou),
    "generalized_box_iou_loss": _giou_loss,
    "roi_align": _roi_align,
    "roi_align_backward": _roi_align_backward,
    "roi_pool": _roi_pool,
    "roi_pool_backward": _roi_pool_backward,
    "max_pool2d": _max_pool,
    "max_pool2d_backward": _max_pool_backward,
    "avg_pool2d": _avg_pool,
    "avg_pool2d_backward": _avg_pool_backward,
    "lp_pool2d": _lp_pool,
    "lp_pool2d_backward": _lp_pool_backward,
    "adaptive_avg_pool2d": _adaptive_avg,
    "adaptive_avg_pool2d_backward": _adaptive_avg_backward,
    "adaptive_max_pool2d": _adaptive_max,
    "adaptive_max_pool2d_backward": _adaptive_max_backward,
    "spatial_pyramid_pool": _spp,
    "batch_norm": _batch_norm,
    "batch_norm_forward": _batch_norm_forward,
    "batch_norm_backward": _batch_norm_backward,
    "conv2d": _conv2d,
    "conv2d_backward": _conv2d_backward,
    "conv_transpose2d": _conv_transpose,
    "im2col": _im2col,
    "col2im": _col2im,
    "KDTree": _kdtree,
    **{f"KDTree.{m}": _tree_method(m) for m in KDTREE_METHODS},
    "knn_predict": _knn_predict,
}


def build_all(size: str, seed: int = 0) -> dict[str, Callable[[], Any]]:
    """Every kernel's call at ``size``, each from its own seeded generator."""
    return {name: CALLS[name](np.random.default_rng([seed, i]), size)
            for i, name in enumerate(sorted(CALLS))}


# ------------------------------------------------------------- what the kernels call


@dataclass
class CoreCall:
    """One call of a ``_core`` binding, as a public kernel made it."""

    binding: str  # "rankdata", "KDTreeF64.query", ...
    fn: Callable[..., Any]  # the real binding (for a method: bound to its tree)
    args: tuple
    kwargs: dict
    thread: int  # threading.get_ident() of the caller
    blas_held: bool = False  # made inside _blas.blas_threads(1), as the convolutions are

    def replay(self) -> Any:
        """The call again, with SciPy's BLAS held at one thread if it was."""
        from npkernels import _blas

        with _blas.blas_threads(1) if self.blas_held else contextlib.nullcontext():
            return self.fn(*self.args, **self.kwargs)


def _core_call(binding: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> CoreCall:
    from npkernels import _blas

    return CoreCall(binding, fn, args, kwargs, threading.get_ident(), _blas._users > 0)


def _tree_recorder(base: type, log: list[CoreCall]) -> type:
    name = base.__name__

    class Recorded(base):
        def __init__(self, *args, **kwargs):
            log.append(_core_call(f"{name}.__init__", base, args, kwargs))
            super().__init__(*args, **kwargs)

    def method(attr):
        def call(self, *args, **kwargs):
            bound = functools.partial(getattr(base, attr), self)
            log.append(_core_call(f"{name}.{attr}", bound, args, kwargs))
            return bound(*args, **kwargs)

        return call

    for attr in ("query", "query_radius", "query_pairs"):
        setattr(Recorded, attr, method(attr))
    return Recorded


@contextlib.contextmanager
def recording_core() -> Iterator[list[CoreCall]]:
    """Record every ``_core`` call the public kernels make inside the block (any thread)."""
    from npkernels import _core

    log: list[CoreCall] = []
    saved = {}
    for name in core_bindings(kinds=False):
        real = getattr(_core, name)
        saved[name] = real
        if isinstance(real, type):
            setattr(_core, name, _tree_recorder(real, log))
        else:
            setattr(_core, name, _function_recorder(name, real, log))
    try:
        yield log
    finally:
        for name, real in saved.items():
            setattr(_core, name, real)


def _function_recorder(name: str, real: Callable[..., Any], log: list[CoreCall]):
    def call(*args, **kwargs):
        log.append(_core_call(name, real, args, kwargs))
        return real(*args, **kwargs)

    return call


TEST_ONLY_BINDINGS = {"gemm", "layout"}  # internal helpers of the tests, no public kernel


def core_bindings(kinds: bool = True) -> set[str]:
    """The kernels ``_core`` exposes: its functions and tree classes, and with ``kinds``
    each tree method as ``Class.method`` (the test-only helpers left out)."""
    from npkernels import _core

    names = set()
    for name in dir(_core):
        obj = getattr(_core, name)
        if name.startswith("_") or name in TEST_ONLY_BINDINGS or not callable(obj):
            continue
        if isinstance(obj, type):
            if kinds:
                names.add(f"{name}.__init__")
                names |= {f"{name}.{m}" for m in vars(obj)
                          if not m.startswith("_") and callable(getattr(obj, m))
                          and m not in TEST_ONLY_BINDINGS}
            else:
                names.add(name)
        else:
            names.add(name)
    return names
