"""BatchNorm (training) against its NumPy reference, PyTorch and a copy of the same bytes.

python -m pytest bench/bench_norm.py --benchmark-columns=median,iqr,rounds --benchmark-sort=name
"""

from __future__ import annotations

import numpy as np
import pytest
from anchors import STEADY_WARMUP, copy_baseline, gb_per_s, torch_with_our_threads

import npkernels as nk
from npkernels import reference as ref

SHAPE = (32, 64, 56, 56)
ROUNDS = {"npkernels": 15, "torch": 15, "copy": 15, "reference": 2}
IMPLS = ["npkernels", "reference", "torch", "copy"]


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(SHAPE, dtype=np.float32) * 2 + 1).astype(np.float32)
    gamma = (rng.random(SHAPE[1]) + 0.5).astype(np.float32)
    beta = rng.standard_normal(SHAPE[1]).astype(np.float32)
    return x, gamma, beta


def _run(benchmark, impl, fn, nbytes):
    warmup = 1 if impl == "reference" else STEADY_WARMUP
    out = benchmark.pedantic(fn, rounds=ROUNDS[impl], iterations=1, warmup_rounds=warmup)
    gb_per_s(benchmark, nbytes)
    return out


@pytest.mark.parametrize("impl", IMPLS)
def bench_batch_norm(benchmark, threads, impl):
    """Training forward with the running statistics updated in place."""
    x, gamma, beta = _inputs()
    c = SHAPE[1]
    want = nk.batch_norm(x, gamma, beta, np.zeros(c, np.float32), np.ones(c, np.float32))
    nbytes = 2 * x.nbytes
    benchmark.group = f"batch_norm training {SHAPE} float32 {threads}thr"
    if impl == "copy":
        _run(benchmark, impl, copy_baseline([x], [want]), 2 * nbytes)
        return
    rm, rv = np.zeros(c, np.float32), np.ones(c, np.float32)
    if impl == "torch":
        torch = torch_with_our_threads()
        tx, tg, tb = (torch.from_numpy(a) for a in (x, gamma, beta))
        trm, trv = torch.from_numpy(rm), torch.from_numpy(rv)
        res = _run(benchmark, impl, lambda: torch.nn.functional.batch_norm(
            tx, trm, trv, tg, tb, training=True), nbytes).numpy()
    else:
        fn = (nk if impl == "npkernels" else ref).batch_norm
        res = _run(benchmark, impl, lambda: fn(x, gamma, beta, rm, rv), nbytes)
    np.testing.assert_allclose(res, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("impl", IMPLS)
def bench_batch_norm_backward(benchmark, threads, impl):
    x, gamma, _ = _inputs(1)
    _, mean, invstd = nk.batch_norm_forward(x, gamma, None)
    gy = np.random.default_rng(2).standard_normal(SHAPE, dtype=np.float32)
    want = nk.batch_norm_backward(gy, x, gamma, mean, invstd)
    nbytes = 3 * x.nbytes
    benchmark.group = f"batch_norm_backward {SHAPE} float32 {threads}thr"
    if impl == "copy":
        _run(benchmark, impl, copy_baseline([x, gy], [want[0]]), 2 * nbytes)
        return
    if impl == "torch":
        torch = torch_with_our_threads()
        t = [torch.from_numpy(a) for a in (gy, x, gamma, mean, invstd)]
        res = _run(benchmark, impl, lambda: torch.ops.aten.native_batch_norm_backward(
            t[0], t[1], t[2], None, None, t[3], t[4], True, 1e-5, [True, True, True]), nbytes)
        res = tuple(r.numpy() for r in res)
    else:
        fn = (nk if impl == "npkernels" else ref).batch_norm_backward
        res = _run(benchmark, impl, lambda: fn(gy, x, gamma, mean, invstd), nbytes)
    for got, w in zip(res, want):
        np.testing.assert_allclose(got, w, rtol=1e-3, atol=1e-3)
