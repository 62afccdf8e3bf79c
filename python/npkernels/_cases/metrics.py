"""Workloads of the metrics family."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._workloads import random_binary_scores
from .base import Case, Inputs, case


def _scores(n: int, decimals: int | None = None) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: random_binary_scores(rng, n, decimals=decimals)


def _rank_input(n: int) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: (rng.random(n),)


def cases() -> list[Case]:
    cases = []
    for n, quick in ((100_000, True), (1_000_000, False), (10_000_000, False)):
        for decimals, kind in ((None, "continuous"), (2, "2 decimals")):
            cases.append(
                case("roc_auc_score", f"n={n:,} {kind}", _scores(n, decimals),
                      "sklearn.metrics", quick=quick)
            )
        cases.append(case("rankdata", f"n={n:,} float64", _rank_input(n), "scipy.stats",
                           quick=quick))
    for n, quick in ((100_000, True), (1_000_000, False)):
        cases.append(case("roc_curve", f"n={n:,} 2 decimals", _scores(n, 2), "sklearn.metrics",
                           quick=quick))
        cases.append(case("average_precision_score", f"n={n:,} continuous", _scores(n),
                           "sklearn.metrics", quick=quick))
    return cases
