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
Loader = Callable[[], Callable[..., Any]]


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


def _attr(module: str, name: str) -> Loader:
    """Loader of ``module.name``; raises ImportError when the anchor is absent."""
    return lambda: getattr(importlib.import_module(module), name)


def _scores(n: int, decimals: int | None = None) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: random_binary_scores(rng, n, decimals=decimals)


def _rank_input(n: int) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: (rng.random(n),)


def _metrics_cases() -> list[Case]:
    cases = []
    for n, quick in ((100_000, True), (1_000_000, False), (10_000_000, False)):
        label = f"n={n:,}"
        for decimals, kind in ((None, "continuous"), (2, "2 decimals")):
            cases.append(
                Case(
                    "roc_auc_score",
                    f"{label} {kind}",
                    _scores(n, decimals),
                    nk.roc_auc_score,
                    ref.roc_auc_score,
                    {"sklearn": _attr("sklearn.metrics", "roc_auc_score")},
                    quick=quick,
                )
            )
        cases.append(
            Case(
                "rankdata",
                f"{label} float64",
                _rank_input(n),
                nk.rankdata,
                ref.rankdata,
                {"scipy": _attr("scipy.stats", "rankdata")},
                quick=quick,
            )
        )
    for n, quick in ((100_000, True), (1_000_000, False)):
        label = f"n={n:,}"
        cases.append(
            Case(
                "roc_curve",
                f"{label} 2 decimals",
                _scores(n, 2),
                nk.roc_curve,
                ref.roc_curve,
                {"sklearn": _attr("sklearn.metrics", "roc_curve")},
                quick=quick,
            )
        )
        cases.append(
            Case(
                "average_precision_score",
                f"{label} continuous",
                _scores(n),
                nk.average_precision_score,
                ref.average_precision_score,
                {"sklearn": _attr("sklearn.metrics", "average_precision_score")},
                quick=quick,
            )
        )
    return cases


CASES: list[Case] = _metrics_cases()
