"""Metrics kernels against their NumPy references and the anchors (scikit-learn, SciPy).

python -m pytest bench/bench_metrics.py --benchmark-columns=median,iqr,rounds --benchmark-sort=name
"""

from __future__ import annotations

import npkernels as nk
import numpy as np
import pytest
from anchors import scipy_stats, sklearn_metrics
from npkernels import reference as ref
from npkernels._workloads import random_binary_scores

# The reference and the anchors take seconds at 1e7: a few rounds suffice.
ROUNDS = {100_000: 20, 1_000_000: 5, 10_000_000: 3}


def _run(benchmark, fn, *args):
    n = len(args[0])
    return benchmark.pedantic(fn, args=args, rounds=ROUNDS[n], iterations=1, warmup_rounds=1)


ROC_AUC = {
    "npkernels": lambda: nk.roc_auc_score,
    "reference": lambda: ref.roc_auc_score,
    "sklearn": lambda: sklearn_metrics().roc_auc_score,
}


@pytest.mark.parametrize("impl", ROC_AUC)
@pytest.mark.parametrize("decimals", [None, 2], ids=["continuous", "2dp"])
@pytest.mark.parametrize("n", [1_000_000, 10_000_000])
def bench_roc_auc_score(benchmark, threads, impl, decimals, n):
    y, s = random_binary_scores(np.random.default_rng(0), n, decimals=decimals)
    fn = ROC_AUC[impl]()
    benchmark.group = f"roc_auc_score n={n:,} {'continuous' if decimals is None else '2dp'} {threads}thr"
    out = _run(benchmark, fn, y, s)
    np.testing.assert_allclose(out, nk.roc_auc_score(y, s), rtol=1e-12)


RANKDATA = {
    "npkernels": lambda: nk.rankdata,
    "reference": lambda: ref.rankdata,
    "scipy": lambda: scipy_stats().rankdata,
}


@pytest.mark.parametrize("impl", RANKDATA)
@pytest.mark.parametrize("n", [1_000_000, 10_000_000])
def bench_rankdata(benchmark, threads, impl, n):
    x = np.random.default_rng(1).random(n)
    fn = RANKDATA[impl]()
    benchmark.group = f"rankdata n={n:,} float64 {threads}thr"
    out = _run(benchmark, fn, x)
    np.testing.assert_array_equal(out, nk.rankdata(x))


ROC_CURVE = {
    "npkernels": lambda: nk.roc_curve,
    "reference": lambda: ref.roc_curve,
    "sklearn": lambda: sklearn_metrics().roc_curve,
}


@pytest.mark.parametrize("impl", ROC_CURVE)
@pytest.mark.parametrize("n", [1_000_000])
def bench_roc_curve(benchmark, threads, impl, n):
    y, s = random_binary_scores(np.random.default_rng(2), n)
    fn = ROC_CURVE[impl]()
    benchmark.group = f"roc_curve n={n:,} continuous {threads}thr"
    out = _run(benchmark, fn, y, s)
    for got, want in zip(out, nk.roc_curve(y, s)):
        np.testing.assert_array_equal(got, want)


AVERAGE_PRECISION = {
    "npkernels": lambda: nk.average_precision_score,
    "reference": lambda: ref.average_precision_score,
    "sklearn": lambda: sklearn_metrics().average_precision_score,
}


@pytest.mark.parametrize("impl", AVERAGE_PRECISION)
@pytest.mark.parametrize("n", [1_000_000])
def bench_average_precision_score(benchmark, threads, impl, n):
    y, s = random_binary_scores(np.random.default_rng(3), n)
    fn = AVERAGE_PRECISION[impl]()
    benchmark.group = f"average_precision_score n={n:,} continuous {threads}thr"
    out = _run(benchmark, fn, y, s)
    np.testing.assert_allclose(out, nk.average_precision_score(y, s), rtol=1e-12)
