"""Pooling kernels against their NumPy references, PyTorch and a copy of the same bytes.

python -m pytest bench/bench_pool.py --benchmark-columns=median,iqr,rounds --benchmark-sort=name

Each group holds npkernels, the reference, torch (same thread count) and ``copy``:
np.copyto of input- and output-sized arrays, the memory-bandwidth yardstick of the
run (GB/s = bytes read + written / median, in the JSON's extra_info).
"""

from __future__ import annotations

import numpy as np
import pytest
from anchors import STEADY_WARMUP, copy_baseline, gb_per_s, torch_with_our_threads

import npkernels as nk
from npkernels import reference as ref

SHAPE = (8, 64, 112, 112)
ROUNDS = {"npkernels": 15, "torch": 15, "copy": 15, "reference": 1}
IMPLS = ["npkernels", "reference", "torch", "copy"]


def _x(seed=0):
    return np.random.default_rng(seed).standard_normal(SHAPE, dtype=np.float32)


def _run(benchmark, impl, fn, nbytes):
    warmup = 1 if impl == "reference" else STEADY_WARMUP
    out = benchmark.pedantic(fn, rounds=ROUNDS[impl], iterations=1, warmup_rounds=warmup)
    gb_per_s(benchmark, nbytes)
    return out


def _nbytes(*arrays):
    return sum(a.nbytes for a in arrays)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("return_indices", [False, True], ids=["values", "indices"])
def bench_max_pool2d(benchmark, threads, impl, return_indices):
    x = _x()
    want = nk.max_pool2d(x, 3, 2, 1, return_indices=True)
    outs = want if return_indices else want[:1]
    benchmark.group = (f"max_pool2d {SHAPE} k3 s2 p1 float32 "
                       f"{'+indices ' if return_indices else ''}{threads}thr")
    if impl == "copy":
        _run(benchmark, impl, copy_baseline([x], outs), 2 * _nbytes(x, *outs))
        return
    if impl == "torch":
        torch = torch_with_our_threads()
        t = torch.from_numpy(x)
        res = _run(benchmark, impl, lambda: torch.nn.functional.max_pool2d(
            t, 3, 2, 1, return_indices=return_indices), _nbytes(x, *outs))
        res = tuple(r.numpy() for r in res) if return_indices else res.numpy()
    else:
        fn = (nk if impl == "npkernels" else ref).max_pool2d
        res = _run(benchmark, impl, lambda: fn(x, 3, 2, 1, return_indices=return_indices),
                   _nbytes(x, *outs))
    for got, w in zip(res if return_indices else (res,), outs):
        np.testing.assert_array_equal(got, w)


@pytest.mark.parametrize("impl", IMPLS)
def bench_max_pool2d_backward(benchmark, threads, impl):
    x = _x(1)
    out, idx = nk.max_pool2d(x, 3, 2, 1, return_indices=True)
    g = np.random.default_rng(2).standard_normal(out.shape, dtype=np.float32)
    want = nk.max_pool2d_backward(g, idx, x.shape)
    nbytes = _nbytes(g, idx, want)
    benchmark.group = f"max_pool2d_backward {SHAPE} k3 s2 p1 float32 {threads}thr"
    if impl == "copy":
        _run(benchmark, impl, copy_baseline([g, idx], [want]), 2 * nbytes)
        return
    if impl == "torch":
        torch = torch_with_our_threads()
        tg, tx, ti = torch.from_numpy(g), torch.from_numpy(x), torch.from_numpy(idx)
        res = _run(benchmark, impl, lambda: torch.ops.aten.max_pool2d_with_indices_backward(
            tg, tx, [3, 3], [2, 2], [1, 1], [1, 1], False, ti), nbytes).numpy()
    else:
        fn = (nk if impl == "npkernels" else ref).max_pool2d_backward
        res = _run(benchmark, impl, lambda: fn(g, idx, x.shape), nbytes)
    np.testing.assert_array_equal(res, want)


@pytest.mark.parametrize("impl", ["npkernels", "reference", "torch"])
def bench_max_pool2d_training_step(benchmark, threads, impl):
    """Forward with indices then backward: what a training step runs."""
    x = _x(3)
    g = np.random.default_rng(4).standard_normal((8, 64, 56, 56), dtype=np.float32)
    want = nk.max_pool2d_backward(g, nk.max_pool2d(x, 3, 2, 1, return_indices=True)[1], x.shape)
    benchmark.group = f"max_pool2d forward+backward {SHAPE} k3 s2 p1 float32 {threads}thr"
    if impl == "torch":
        torch = torch_with_our_threads()
        tx, tg = torch.from_numpy(x), torch.from_numpy(g)

        def step():
            t = tx.detach().requires_grad_()
            torch.nn.functional.max_pool2d(t, 3, 2, 1).backward(tg)
            return t.grad.numpy()
    else:
        impl_mod = nk if impl == "npkernels" else ref

        def step():
            _, i = impl_mod.max_pool2d(x, 3, 2, 1, return_indices=True)
            return impl_mod.max_pool2d_backward(g, i, x.shape)
    res = _run(benchmark, impl, step, 0)
    np.testing.assert_array_equal(res, want)


@pytest.mark.parametrize("impl", IMPLS)
def bench_avg_pool2d(benchmark, threads, impl):
    x = _x(5)
    want = nk.avg_pool2d(x, 2, 2)
    benchmark.group = f"avg_pool2d {SHAPE} k2 s2 float32 {threads}thr"
    if impl == "copy":
        _run(benchmark, impl, copy_baseline([x], [want]), 2 * _nbytes(x, want))
        return
    if impl == "torch":
        torch = torch_with_our_threads()
        t = torch.from_numpy(x)
        res = _run(benchmark, impl, lambda: torch.nn.functional.avg_pool2d(t, 2, 2),
                   _nbytes(x, want)).numpy()
    else:
        fn = (nk if impl == "npkernels" else ref).avg_pool2d
        res = _run(benchmark, impl, lambda: fn(x, 2, 2), _nbytes(x, want))
    np.testing.assert_allclose(res, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("impl", IMPLS)
def bench_avg_pool2d_backward(benchmark, threads, impl):
    x = _x(6)
    g = np.random.default_rng(7).standard_normal((8, 64, 56, 56), dtype=np.float32)
    want = nk.avg_pool2d_backward(g, x.shape, 2, 2)
    nbytes = _nbytes(g, want)
    benchmark.group = f"avg_pool2d_backward {SHAPE} k2 s2 float32 {threads}thr"
    if impl == "copy":
        _run(benchmark, impl, copy_baseline([g], [want]), 2 * nbytes)
        return
    if impl == "torch":
        torch = torch_with_our_threads()
        tg, tx = torch.from_numpy(g), torch.from_numpy(x)
        res = _run(benchmark, impl, lambda: torch.ops.aten.avg_pool2d_backward(
            tg, tx, [2, 2], [2, 2], [0, 0], False, True, None), nbytes).numpy()
    else:
        fn = (nk if impl == "npkernels" else ref).avg_pool2d_backward
        res = _run(benchmark, impl, lambda: fn(g, x.shape, 2, 2), nbytes)
    np.testing.assert_allclose(res, want, rtol=1e-6, atol=1e-6)
