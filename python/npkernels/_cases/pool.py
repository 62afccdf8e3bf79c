"""Workloads of the pooling and BatchNorm families (torch anchors take and give tensors)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import npkernels as nk
from npkernels import reference as ref

from .base import Case, Inputs, torch_loader


def _image(shape, dtype=np.float32) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: (rng.standard_normal(shape, dtype=np.float64).astype(dtype),)


def _max_backward_inputs(shape) -> Callable[[np.random.Generator], Inputs]:
    def make(rng):
        x = rng.standard_normal(shape).astype(np.float32)
        out, idx = nk.max_pool2d(x, 3, 2, 1, return_indices=True)
        return rng.standard_normal(out.shape).astype(np.float32), idx, x.shape, x

    return make


def _avg_backward_inputs(shape) -> Callable[[np.random.Generator], Inputs]:
    def make(rng):
        x = rng.standard_normal(shape).astype(np.float32)
        out_shape = (*shape[:2], shape[2] // 2, shape[3] // 2)
        return rng.standard_normal(out_shape).astype(np.float32), shape, x

    return make


def _bn_inputs(shape) -> Callable[[np.random.Generator], Inputs]:
    """x, gamma, beta; beta = 10 keeps outputs away from 0, so relative errors mean something."""

    def make(rng):
        c = shape[1]
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        return x, (rng.random(c) + 0.5).astype(np.float32), np.full(c, 10, np.float32)

    return make


def _bn_backward_inputs(shape) -> Callable[[np.random.Generator], Inputs]:
    def make(rng):
        x, gamma, _ = _bn_inputs(shape)(rng)
        _, mean, invstd = nk.batch_norm_forward(x, gamma, None)
        return rng.standard_normal(shape).astype(np.float32), x, gamma, mean, invstd

    return make


def _bn_train(impl):
    def run(x, gamma, beta):
        c = x.shape[1]
        return impl.batch_norm(x, gamma, beta, np.zeros(c, x.dtype), np.ones(c, x.dtype))

    return run


def pool_cases() -> list[Case]:
    cases = []
    f32 = 1e-5
    for shape, quick in (((2, 16, 56, 56), True), ((8, 64, 112, 112), False)):
        size = f"{shape} float32"
        cases += [
            Case("max_pool2d", f"{size} k3 s2 p1", _image(shape),
                 lambda x: nk.max_pool2d(x, 3, 2, 1), lambda x: ref.max_pool2d(x, 3, 2, 1),
                 {"torch": torch_loader(lambda t, x: t.nn.functional.max_pool2d(x, 3, 2, 1))},
                 tolerance=0.0, quick=quick),
            Case("max_pool2d_backward", f"{size} k3 s2 p1", _max_backward_inputs(shape),
                 lambda g, i, s, x: nk.max_pool2d_backward(g, i, s),
                 lambda g, i, s, x: ref.max_pool2d_backward(g, i, s),
                 {"torch": torch_loader(lambda t, g, i, s, x: t.ops.aten.max_pool2d_with_indices_backward(
                     g, x, [3, 3], [2, 2], [1, 1], [1, 1], False, i))},
                 tolerance=0.0, quick=quick),
            Case("avg_pool2d", f"{size} k2 s2", _image(shape),
                 lambda x: nk.avg_pool2d(x, 2), lambda x: ref.avg_pool2d(x, 2),
                 {"torch": torch_loader(lambda t, x: t.nn.functional.avg_pool2d(x, 2))},
                 tolerance=f32, scale=1.0, quick=quick),
            Case("avg_pool2d_backward", f"{size} k2 s2", _avg_backward_inputs(shape),
                 lambda g, s, x: nk.avg_pool2d_backward(g, s, 2),
                 lambda g, s, x: ref.avg_pool2d_backward(g, s, 2),
                 {"torch": torch_loader(lambda t, g, s, x: t.ops.aten.avg_pool2d_backward(
                     g, x, [2, 2], [2, 2], [0, 0], False, True, None))},
                 tolerance=f32, scale=1.0, quick=quick),
        ]
    small = (8, 64, 56, 56)
    size = f"{small} float32"
    cases += [
        Case("lp_pool2d", f"{size} p=2 k3 s2", lambda rng: (np.abs(_image(small)(rng)[0]),),
             lambda x: nk.lp_pool2d(x, 2, 3, 2), lambda x: ref.lp_pool2d(x, 2, 3, 2),
             {"torch": torch_loader(lambda t, x: t.nn.functional.lp_pool2d(x, 2, 3, 2))},
             tolerance=f32, scale=1.0),
        Case("adaptive_avg_pool2d", f"{size} to 7x7", _image(small),
             lambda x: nk.adaptive_avg_pool2d(x, 7), lambda x: ref.adaptive_avg_pool2d(x, 7),
             {"torch": torch_loader(lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, 7))},
             tolerance=f32, scale=1.0),
        Case("adaptive_max_pool2d", f"{size} to 7x7", _image(small),
             lambda x: nk.adaptive_max_pool2d(x, 7), lambda x: ref.adaptive_max_pool2d(x, 7),
             {"torch": torch_loader(lambda t, x: t.nn.functional.adaptive_max_pool2d(x, 7))},
             tolerance=0.0),
        Case("spatial_pyramid_pool", f"{size} levels 1,2,4", _image(small),
             nk.spatial_pyramid_pool, ref.spatial_pyramid_pool, tolerance=0.0),
    ]
    return cases


def norm_cases() -> list[Case]:
    cases = []
    for shape, quick in (((8, 16, 28, 28), True), ((32, 64, 56, 56), False)):
        size = f"{shape} float32 training"
        cases += [
            Case("batch_norm", size, _bn_inputs(shape), _bn_train(nk), _bn_train(ref),
                 {"torch": torch_loader(lambda t, x, g, b: t.nn.functional.batch_norm(
                     x, t.zeros(x.shape[1]), t.ones(x.shape[1]), g, b, training=True))},
                 tolerance=1e-5, quick=quick),
            Case("batch_norm_backward", size, _bn_backward_inputs(shape), nk.batch_norm_backward,
                 ref.batch_norm_backward,
                 {"torch": torch_loader(lambda t, gy, x, g, m, s: t.ops.aten.native_batch_norm_backward(
                     gy, x, g, None, None, m, s, True, 1e-5, [True, True, True]))},
                 tolerance=1e-4, scale=1.0, quick=quick),
        ]
    return cases
