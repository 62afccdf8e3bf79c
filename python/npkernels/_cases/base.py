"""What a workload of ``python -m npkernels`` is: :class:`Case`, and helpers to build one."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import npkernels as nk
from npkernels import reference as ref

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
    scale: float = 0.0  # errors are relative to max(|expected|, scale): 0 = purely relative
    normwise: bool = False  # relative to each array's max magnitude, not per element
    quick: bool = False  # part of ``--quick``


def case(kernel: str, size: str, make_inputs, anchor_module: str, *, quick: bool) -> Case:
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


def torch_loader(fn: Callable[..., Any]) -> Loader:
    """A loader of ``fn(torch, *numpy inputs)`` with NumPy results (ImportError without torch)."""

    def load() -> Callable[..., Any]:
        torch = importlib.import_module("torch")

        def run(*inputs):
            out = fn(torch, *(torch.from_numpy(a) if isinstance(a, np.ndarray) else a
                              for a in inputs))
            if isinstance(out, tuple):
                return tuple(o.numpy() for o in out)
            return out.numpy()

        return run

    return load
