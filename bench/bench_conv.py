"""Convolution kernels against the NumPy reference and PyTorch, next to an sgemm baseline.

python -m pytest bench/bench_conv.py --benchmark-columns=median,iqr,rounds --benchmark-sort=name

The four layer shapes of issue 3 and two depthwise 3x3 layers (stride 1 and
2, groups = C), float32 NCHW, forward and forward+backward, at 1 and 2 threads (npkernels' setting; torch, SciPy's and NumPy's BLAS pools
follow it). GFLOP/s (2*N*O*C*k*k*Ho*Wo per forward, twice that per backward)
and the extra peak memory of one call are printed in the "benchmark figures"
section after the table. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, if this
environment sets them, slow SciPy's and NumPy's OpenBLAS: see README.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from anchors import STEADY_WARMUP, torch_functional
from threadpoolctl import threadpool_limits

import npkernels as nk
from npkernels import _blas, _core
from npkernels import reference as ref
from npkernels._cases.conv import CONV_SHAPES
from npkernels._workloads import random_conv_problem

IDS = [f"{n}x{c}x{h}x{w}-{o}k{k}s{s}p{p}" for n, c, h, w, o, k, s, p in CONV_SHAPES]


def _problem(shape):
    x, w, dy = random_conv_problem(np.random.default_rng(0), *shape)
    return x, w, dy, shape[6], shape[7]


def _flops(shape) -> float:
    n, c, h, w, o, k, s, p = shape
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return 2.0 * n * o * c * k * k * ho * wo


def _torch_forward(F):
    import torch

    def run(x, w, stride, padding):
        with torch.no_grad():
            return F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=stride,
                            padding=padding).numpy()

    return run


def _torch_train_step(F):
    import torch

    def run(x, w, dy, stride, padding):
        xt = torch.from_numpy(x).requires_grad_()
        wt = torch.from_numpy(w).requires_grad_()
        bt = torch.zeros(w.shape[0], requires_grad=True)
        y = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
        y.backward(torch.from_numpy(dy))
        return y.detach().numpy(), (xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy())

    return run


def _train_step(lib):
    def run(x, w, dy, stride, padding):
        y = lib.conv2d(x, w, None, stride, padding)
        return y, lib.conv2d_backward(dy, x, w, stride, padding)

    return run


FORWARD = {
    "npkernels": lambda: (lambda x, w, s, p: nk.conv2d(x, w, None, s, p)),
    "reference": lambda: (lambda x, w, s, p: ref.conv2d(x, w, None, s, p)),
    "torch": lambda: _torch_forward(torch_functional()),
}
TRAIN = {
    "npkernels": lambda: _train_step(nk),
    "reference": lambda: _train_step(ref),
    "torch": lambda: _torch_train_step(torch_functional()),
}
ROUNDS = {"npkernels": 7, "torch": 7, "reference": 3}


def _run(benchmark, impl, fn, args):
    # NumPy's BLAS (the reference) gets the same thread budget as everyone else.
    with threadpool_limits(limits=nk.get_num_threads()):
        warmup = 1 if impl == "reference" else STEADY_WARMUP
        return benchmark.pedantic(fn, args=args, rounds=ROUNDS[impl], iterations=1,
                                  warmup_rounds=warmup)


def _gflops(benchmark, flops):
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # --benchmark-disable
        return "timing disabled"
    return f"{flops / stats.stats.median / 1e9:7.1f} GFLOP/s  ({stats.stats.median * 1e3:.1f} ms)"


def _bench(benchmark, threads, report, kind, impl, shape):
    """Time impl on shape (kind 'fwd': x, w, s, p; 'fwd+bwd': x, w, dy, s, p), report its
    GFLOP/s (a backward costs twice a forward) and return its result."""
    x, w, dy, s, p = _problem(shape)
    args = (x, w, s, p) if kind == "fwd" else (x, w, dy, s, p)
    fn = (FORWARD if kind == "fwd" else TRAIN)[impl]()
    benchmark.group = f"conv2d {kind} {IDS[CONV_SHAPES.index(shape)]} {threads}thr"
    out = _run(benchmark, impl, fn, args)
    report(benchmark.group, impl, _gflops(benchmark, (1 if kind == "fwd" else 3) * _flops(shape)))
    np.testing.assert_allclose(out if kind == "fwd" else out[0], nk.conv2d(x, w, None, s, p),
                               rtol=1e-3, atol=1e-3)
    return out, (x, w, dy, s, p)


@pytest.mark.parametrize("impl", FORWARD)
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=IDS)
def bench_conv2d(benchmark, threads, report, impl, shape):
    _bench(benchmark, threads, report, "fwd", impl, shape)


@pytest.mark.parametrize("impl", TRAIN)
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=IDS)
def bench_conv2d_forward_backward(benchmark, threads, report, impl, shape):
    (_, grads), (x, w, dy, s, p) = _bench(benchmark, threads, report, "fwd+bwd", impl, shape)
    for g, e in zip(grads, nk.conv2d_backward(dy, x, w, s, p)):
        np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-4 * np.abs(e).max())


# Depthwise 3x3 padding 1 layers (N, C, H, W, stride), groups = C = O.
DEPTHWISE_SHAPES = [(8, 256, 56, 56, 1), (8, 256, 56, 56, 2)]
DW_IDS = [f"{n}x{c}x{h}x{w}-dw3s{s}p1" for n, c, h, w, s in DEPTHWISE_SHAPES]


def _torch_depthwise(F, train):
    import torch

    def run(x, w, dy, stride):
        if not train:
            with torch.no_grad():
                return F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=stride,
                                padding=1, groups=x.shape[1]).numpy()
        xt = torch.from_numpy(x).requires_grad_()
        wt = torch.from_numpy(w).requires_grad_()
        bt = torch.zeros(w.shape[0], requires_grad=True)
        y = F.conv2d(xt, wt, bt, stride=stride, padding=1, groups=x.shape[1])
        y.backward(torch.from_numpy(dy))
        return y.detach().numpy(), (xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy())

    return run


def _depthwise(lib, train):
    def run(x, w, dy, stride):
        y = lib.conv2d(x, w, None, stride, 1, 1, x.shape[1])
        return (y, lib.conv2d_backward(dy, x, w, stride, 1, 1, x.shape[1])) if train else y

    return run


DEPTHWISE = {
    "npkernels": lambda train: _depthwise(nk, train),
    "reference": lambda train: _depthwise(ref, train),
    "torch": lambda train: _torch_depthwise(torch_functional(), train),
}


@pytest.mark.parametrize("train", [False, True], ids=["fwd", "fwd+bwd"])
@pytest.mark.parametrize("impl", DEPTHWISE)
@pytest.mark.parametrize("shape", DEPTHWISE_SHAPES, ids=DW_IDS)
def bench_conv2d_depthwise(benchmark, threads, report, impl, shape, train):
    n, c, h, w, s = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((c, 1, 3, 3), dtype=np.float32)
    ho, wo = (h - 1) // s + 1, (w - 1) // s + 1
    dy = rng.standard_normal((n, c, ho, wo), dtype=np.float32)
    kind = "fwd+bwd" if train else "fwd"
    benchmark.group = f"conv2d depthwise {kind} {DW_IDS[DEPTHWISE_SHAPES.index(shape)]} {threads}thr"
    out = _run(benchmark, impl, DEPTHWISE[impl](train), (x, wt, dy, s))
    flops = 2.0 * n * c * 9 * ho * wo * (3 if train else 1)
    report(benchmark.group, impl, _gflops(benchmark, flops))
    want = nk.conv2d(x, wt, None, s, 1, 1, c)
    np.testing.assert_allclose(out[0] if train else out, want, rtol=1e-4, atol=1e-4)
    if train:
        for g, e in zip(out[1], nk.conv2d_backward(dy, x, wt, s, 1, 1, c)):
            np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-4 * np.abs(e).max())


# The products of the layers as single GEMMs (O x N*Ho*Wo x C*k*k): a
# layer's ceiling on this BLAS, as a GEMM with its K (576, 256, 147) gets less
# of the machine than 2048^3 does.
GEMM_SHAPES = {
    "2048^3": (2048, 2048, 2048),
    "conv1-as-one-gemm": (64, 8 * 56 * 56, 576),
    "k1-as-one-gemm": (64, 8 * 56 * 56, 256),
    "k7-as-one-gemm": (64, 8 * 112 * 112, 147),
}


@pytest.mark.parametrize("mnk", list(GEMM_SHAPES.values()), ids=list(GEMM_SHAPES))
def bench_sgemm_baseline(benchmark, threads, report, mnk):
    """SciPy's sgemm through the same pointer and wrapper, at this thread count."""
    m, n, k = mnk
    rng = np.random.default_rng(1)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    cap = _blas.gemm_capsule(np.float32)
    benchmark.group = f"sgemm {m}x{n}x{k} {threads}thr"
    with _blas.blas_threads(threads):
        c = benchmark.pedantic(_core.gemm, args=(a, b, False, False, 2**31 - 1, cap), rounds=7,
                               iterations=1, warmup_rounds=1)
    np.testing.assert_allclose(c[:4, :4], a[:4] @ b[:, :4], rtol=1e-3, atol=1e-2)
    report(benchmark.group, "scipy sgemm", _gflops(benchmark, 2.0 * m * n * k))


# Peak memory is measured in a child process: with glibc's mmap threshold fixed, every
# large buffer is mapped and unmapped, so the resident-size high-water mark (VmHWM,
# reset through /proc/self/clear_refs) shows what one call really needed.
_PEAK_SCRIPT = r"""
import json, sys
import numpy as np
import npkernels as nk
from npkernels import _core, reference as ref
from npkernels._cases.conv import CONV_SHAPES
from npkernels._workloads import random_conv_problem

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024

nk.set_num_threads(int(sys.argv[1]))
small = random_conv_problem(np.random.default_rng(0), 2, 4, 9, 9, 4, 3, 1, 1)
for lib in (nk, ref):  # load the BLAS, its buffers and the thread pools first
    lib.conv2d(small[0], small[1], None, 1, 1)
    lib.conv2d_backward(small[2], small[0], small[1], 1, 1)
rows = []
for shape in CONV_SHAPES:
    x, w, dy = random_conv_problem(np.random.default_rng(0), *shape)
    s, p = shape[6], shape[7]
    for impl, lib in (("npkernels", nk), ("reference", ref)):
        for kernel, args in (("conv2d", (x, w, None, s, p)), ("conv2d_backward", (dy, x, w, s, p))):
            _core._release_scratch_cache()  # no scratch kept from the previous call
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before = status("VmRSS:")
            out = getattr(lib, kernel)(*args)
            peak = status("VmHWM:")
            outs = out if isinstance(out, tuple) else (out,)
            rows.append([list(shape), impl, kernel, peak - before - sum(o.nbytes for o in outs)])
            del out, outs
print(json.dumps(rows))
"""


@functools.cache
def _peak_memory(threads: int) -> list:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")  # fixed: no dynamic threshold
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(threads)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"),
                    reason="needs Linux /proc to read peak memory")
def bench_conv_peak_memory(threads, report):
    """The scratch memory of one call, above its inputs and outputs: bounded tiles for
    npkernels, a whole-batch im2col for the reference. Reported, and npkernels checked
    against its documented bound (per thread one column tile in the forward pass, two
    in the backward, each max(512 KiB, C*k*k*256 values); plus at most 7 weight-sized
    partials; on the Winograd path of 3x3 stride-1 layers one block of tiles per thread,
    max(1 MiB, P*(C+O)*264 values) with P = 16 or 36 positions, the transformed filters
    (P/9 of the weight) and for grad_weight 4 partials of 16/9 of the weight)."""
    for shape, impl, kernel, extra in _peak_memory(threads):
        shape = tuple(shape)
        report(f"peak memory {kernel} {IDS[CONV_SHAPES.index(shape)]} {threads}thr", impl,
               f"{extra / 2**20:8.1f} MiB above inputs and outputs")
        if impl == "npkernels":
            n, c, _, _, o, k = shape[:6]
            tile = max(512 * 2**10, c * k * k * 256 * 4)
            bound = threads * 2 * tile + 7 * o * c * k * k * 4 + 2 * 2**20  # + slack
            if k == 3 and shape[6] == 1:  # Winograd, F(4x4) (36 positions) at most
                block = max(2**20, 36 * (c + o) * 264 * 4)
                bound += threads * block + (36 + 4 * 16) * o * c * 4
            assert extra <= bound, (shape, kernel, extra, bound)
