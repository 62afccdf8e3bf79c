"""The workloads of ``python -m npkernels``: the one place where every kernel registers.

A :class:`Case` names a public kernel, builds its inputs, and says how to run
it, its NumPy reference and its anchors (loaded lazily: a missing anchor is
reported as absent, never as a failure). Add a kernel's cases to ``CASES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import npkernels as nk
from npkernels import reference as ref

from ._workloads import random_binary_scores, random_conv_problem

Inputs = tuple[Any, ...]
Loader = Callable[[], Callable[..., Any]]  # raises ImportError when absent


@dataclass(frozen=True)
class Case:
    """One kernel on one workload."""

    kernel: str  # the public name, as ``--kernels`` selects it
    size: str  # what the workload is, for the table
    make_inputs: Callable[[np.random.Generator], Inputs]
    run: Callable[..., Any]
    reference: Callable[..., Any]
    anchors: dict[str, Loader] = field(default_factory=dict)
    tolerance: float = 1e-12  # max relative error against the reference and anchors
    normwise: bool = False  # relative to each array's max magnitude, not per element
    quick: bool = False  # part of ``--quick``


def _case(kernel: str, size: str, make_inputs, anchor_module: str, *, quick: bool) -> Case:
    """The case of public ``kernel``, its reference twin and ``anchor_module.kernel``."""

    def load_anchor() -> Callable[..., Any]:  # raises ImportError when the anchor is absent
        return getattr(importlib.import_module(anchor_module), kernel)

    anchor = anchor_module.split(".")[0]
    return Case(
        kernel,
        size,
        make_inputs,
        getattr(nk, kernel),
        getattr(ref, kernel),
        {anchor: load_anchor},
        quick=quick,
    )


def _scores(n: int, decimals: int | None = None) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: random_binary_scores(rng, n, decimals=decimals)


def _rank_input(n: int) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: (rng.random(n),)


def _metrics_cases() -> list[Case]:
    cases = []
    for n, quick in ((100_000, True), (1_000_000, False), (10_000_000, False)):
        for decimals, kind in ((None, "continuous"), (2, "2 decimals")):
            cases.append(
                _case("roc_auc_score", f"n={n:,} {kind}", _scores(n, decimals),
                      "sklearn.metrics", quick=quick)
            )
        cases.append(_case("rankdata", f"n={n:,} float64", _rank_input(n), "scipy.stats",
                           quick=quick))
    for n, quick in ((100_000, True), (1_000_000, False)):
        cases.append(_case("roc_curve", f"n={n:,} 2 decimals", _scores(n, 2), "sklearn.metrics",
                           quick=quick))
        cases.append(_case("average_precision_score", f"n={n:,} continuous", _scores(n),
                           "sklearn.metrics", quick=quick))
    return cases


def _torch_conv(kernel: str) -> Callable[..., Any]:
    """torch.nn.functional's ``kernel`` (or autograd's conv2d gradients) on NumPy arrays."""
    import torch  # ImportError when absent: reported as such

    F = torch.nn.functional
    t = torch.from_numpy

    def conv2d(x, w, stride, padding):
        with torch.no_grad():
            return F.conv2d(t(x), t(w), stride=stride, padding=padding).numpy()

    def conv2d_backward(dy, x, w, stride, padding):
        xt, wt = t(x).requires_grad_(), t(w).requires_grad_()
        bt = torch.zeros(w.shape[0], dtype=xt.dtype, requires_grad=True)
        F.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(t(dy))
        return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()

    return {"conv2d": conv2d, "conv2d_backward": conv2d_backward}[kernel]


# The four layer shapes of issue 3: (N, C, H, W, O, k, stride, padding).
CONV_SHAPES = [
    (8, 64, 56, 56, 64, 3, 1, 1),
    (8, 256, 14, 14, 256, 3, 1, 1),
    (8, 3, 224, 224, 64, 7, 2, 3),
    (8, 256, 56, 56, 64, 1, 1, 0),
]


def _conv_cases() -> list[Case]:
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
    return cases


CASES: list[Case] = _metrics_cases() + _conv_cases()
