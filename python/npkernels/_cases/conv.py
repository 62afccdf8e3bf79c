"""Workloads of the convolution family (torch anchors on NumPy arrays)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import npkernels as nk
from npkernels import reference as ref

from .._workloads import random_conv_problem
from .base import Case


def _torch_conv(kernel: str) -> Callable[..., Any]:
    """torch.nn.functional's ``kernel`` (or autograd's conv2d gradients) on NumPy arrays."""
    import torch  # ImportError when absent: reported as such

    F = torch.nn.functional
    t = torch.from_numpy

    def conv2d(x, w, stride, padding, groups=1):
        with torch.no_grad():
            return F.conv2d(t(x), t(w), stride=stride, padding=padding, groups=groups).numpy()

    def conv2d_backward(dy, x, w, stride, padding, groups=1):
        xt, wt = t(x).requires_grad_(), t(w).requires_grad_()
        bt = torch.zeros(w.shape[0], dtype=xt.dtype, requires_grad=True)
        F.conv2d(xt, wt, bt, stride=stride, padding=padding, groups=groups).backward(t(dy))
        return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()

    return {"conv2d": conv2d, "conv2d_backward": conv2d_backward}[kernel]


# The four layer shapes of issue 3: (N, C, H, W, O, k, stride, padding).
CONV_SHAPES = [
    (8, 64, 56, 56, 64, 3, 1, 1),
    (8, 256, 14, 14, 256, 3, 1, 1),
    (8, 3, 224, 224, 64, 7, 2, 3),
    (8, 256, 56, 56, 64, 1, 1, 0),
]


def cases() -> list[Case]:
    cases = []
    shapes = [((2, 16, 28, 28, 16, 3, 1, 1), True)] + [(s, False) for s in CONV_SHAPES]
    for shape, quick in shapes:
        n, c, h, w, o, k, stride, pad = shape
        size = f"{n}x{c}x{h}x{w} -> {o}, k{k} s{stride} p{pad} float32"

        def fwd(rng, shape=shape):
            x, weight, _ = random_conv_problem(rng, *shape)
            return x, weight, shape[6], shape[7]

        def bwd(rng, shape=shape):
            x, weight, dy = random_conv_problem(rng, *shape)
            return dy, x, weight, shape[6], shape[7]

        for kernel, make in (("conv2d", fwd), ("conv2d_backward", bwd)):
            if kernel == "conv2d_backward" and not (quick or shape == CONV_SHAPES[0]):
                continue
            cases.append(Case(
                kernel, size, make,
                lambda *a, kernel=kernel: getattr(nk, kernel)(*a[:-2], stride=a[-2], padding=a[-1]),
                lambda *a, kernel=kernel: getattr(ref, kernel)(*a[:-2], stride=a[-2], padding=a[-1]),
                {"torch": lambda kernel=kernel: _torch_conv(kernel)},
                tolerance=1e-4, normwise=True, quick=quick,
            ))
    cases += _depthwise_cases()
    return cases


def _depthwise_cases() -> list[Case]:
    """A depthwise 3x3 layer (groups = C = O, the direct kernels), forward and backward."""
    n, c, h, w, stride = 8, 256, 56, 56, 1
    size = f"{n}x{c}x{h}x{w} depthwise k3 s{stride} p1 float32"

    def fwd(rng):
        x = rng.standard_normal((n, c, h, w), dtype=np.float32)
        weight = (rng.standard_normal((c, 1, 3, 3)) / 3).astype(np.float32)
        return x, weight, stride, 1, c

    def bwd(rng):
        x, weight = fwd(rng)[:2]
        dy = rng.standard_normal((n, c, h, w), dtype=np.float32)
        return dy, x, weight, stride, 1, c

    return [
        Case(kernel, size, make,
             lambda *a, kernel=kernel: getattr(nk, kernel)(*a[:-3], stride=a[-3], padding=a[-2],
                                                           groups=a[-1]),
             lambda *a, kernel=kernel: getattr(ref, kernel)(*a[:-3], stride=a[-3], padding=a[-2],
                                                            groups=a[-1]),
             {"torch": lambda kernel=kernel: _torch_conv(kernel)},
             tolerance=1e-4, normwise=True)
        for kernel, make in (("conv2d", fwd), ("conv2d_backward", bwd))
    ]
