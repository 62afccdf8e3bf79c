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

from ._workloads import random_binary_scores

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


CASES: list[Case] = _metrics_cases()
