"""Repeated calls do not grow memory: 10,000 small calls of every public kernel.

Measured in a fresh subprocess, after a warm-up (NumPy's and the allocators' caches fill),
at the start, the middle and the end of the calls:

- Python's allocated blocks (``sys.getallocatedblocks``, exact: an object or reference
  leaked per call adds one per call) may grow over the second half of the calls by at
  most BLOCK_TOLERANCE (freelists and caches still settle by up to ~100);
- the bytes malloc has handed out (glibc's ``mallinfo2``: arena plus mmapped blocks in use)
  may not grow over the second half of the calls by more than HEAP_TOLERANCE (a leak of
  ~13 bytes a call would), nor from the start by more than CACHE_TOLERANCE (a cache that
  BLAS or the allocator fills once, ~1 MiB for the convolutions);
- the resident set (``/proc/self/statm``) may grow by at most RSS_TOLERANCE (the heap's
  one-off growth and fragmentation: steps of 1-2 MiB, measured, never a slope).

``NPK_MEMORY_CALLS`` changes the number of calls; ``pytest -s`` prints the growth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from public_calls import CALLS

CALLS_PER_KERNEL = int(os.environ.get("NPK_MEMORY_CALLS", "10000"))
WARM_UP = 1000
BLOCK_TOLERANCE = 500  # a leak of one object every 10 calls would exceed it
HEAP_TOLERANCE = 64 * 1024
CACHE_TOLERANCE = 2 * 1024 * 1024
RSS_TOLERANCE = 4 * 1024 * 1024
# Under AddressSanitizer (.ci/sanitize) freed memory sits in quarantine and every
# allocation carries redzones, so RSS and heap figures say nothing about leaks; that
# run checks leaks with LeakSanitizer instead.
under_sanitizer = pytest.mark.skipif(bool(os.environ.get("NPK_SANITIZE")),
                                     reason="memory figures are meaningless under ASan")

_SCRIPT = """
import ctypes, gc, json, os, sys
sys.path.insert(0, {tests!r})
import numpy as np, npkernels as nk
from public_calls import CALLS

PAGE = os.sysconf("SC_PAGE_SIZE")


class MallInfo2(ctypes.Structure):
    _fields_ = [(f, ctypes.c_size_t) for f in ("arena ordblks smblks hblks hblkhd usmblks "
                                               "fsmblks uordblks fordblks keepcost").split()]


try:
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = MallInfo2
except AttributeError:  # not glibc >= 2.33
    mallinfo2 = None


def sample():
    gc.collect()
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * PAGE
    m = mallinfo2() if mallinfo2 else None
    return [rss, sys.getallocatedblocks(), m.uordblks + m.hblkhd if m else -1]


calls, warm_up = int(sys.argv[1]), int(sys.argv[2])
out = {{}}
for i, name in enumerate(sorted(CALLS)):
    call = CALLS[name](np.random.default_rng([2, i]), "small")
    for _ in range(warm_up):
        call()
    samples = [sample()]
    for half in range(2):
        for _ in range(calls // 2):
            call()
        samples.append(sample())
    out[name] = samples
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def growth(tmp_path_factory):
    script = tmp_path_factory.mktemp("memory") / "calls.py"
    script.write_text(_SCRIPT.format(tests=str(Path(__file__).resolve().parent)))
    # One thread: the small inputs would not split anyway (this measures the kernels'
    # allocations, not OpenMP's per-thread pools, which are made once).
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(script), str(CALLS_PER_KERNEL), str(WARM_UP)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.splitlines()[-1])
    print(f"\ngrowth over {CALLS_PER_KERNEL} calls (and over their second half):"
          "\n  kernel                          RSS KiB   Python blocks   heap KiB")
    for name, (start, mid, end) in res.items():
        rss = f"{(end[0] - start[0]) / 1024:7.0f}"
        blocks = f"{end[1] - start[1]:6d} ({end[1] - mid[1]:3d})"
        heap = f"{(end[2] - start[2]) / 1024:7.0f} ({(end[2] - mid[2]) / 1024:2.0f})"
        print(f"  {name:30s} {rss}   {blocks}   {heap}")
    return res


@under_sanitizer
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("kernel", sorted(CALLS))
def test_repeated_calls_do_not_grow_memory(kernel, growth):
    (rss0, _, heap0), (_, blocks_mid, heap_mid), (rss, blocks, heap) = growth[kernel]
    assert blocks - blocks_mid <= BLOCK_TOLERANCE, f"{blocks - blocks_mid} more Python blocks"
    if heap0 >= 0:
        assert heap - heap_mid <= HEAP_TOLERANCE, f"heap grew {heap - heap_mid} B (2nd half)"
        assert heap - heap0 <= CACHE_TOLERANCE, f"heap grew {heap - heap0} B"
    assert rss - rss0 <= RSS_TOLERANCE, f"RSS grew by {rss - rss0} B"


# ------------------------------------------------- convolution scratch memory is bounded

_PEAK = """
import resource, sys, numpy as np, npkernels as nk
kernel = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.standard_normal((32, 16, 64, 64), dtype=np.float32)
w = rng.standard_normal((32, 16, 3, 3), dtype=np.float32)
g = rng.standard_normal((32, 32, 64, 64), dtype=np.float32)
wt = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
calls = {
    "conv2d": lambda: (nk.conv2d(x, w, padding=1),),
    "conv2d_backward": lambda: nk.conv2d_backward(g, x, w, padding=1),
    "conv_transpose2d": lambda: (nk.conv_transpose2d(x, wt, padding=1),),
}
nk.conv2d(x[:1], w, padding=1)  # load BLAS, the capsules and the thread pool
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before = peak()
with nk.num_threads(2):
    out = calls[kernel]()
print(peak() - before, sum(o.nbytes for o in out if o is not None))
"""


@under_sanitizer
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
@pytest.mark.parametrize("kernel", ["conv2d", "conv2d_backward", "conv_transpose2d"])
def test_convolution_scratch_stays_bounded_for_a_big_batch(kernel):
    # 32 images of 16 x 64 x 64: an im2col buffer of the whole batch would take 72 MiB;
    # the tiled kernels need their outputs plus a few MiB (measured: < 2 MiB more).
    out = subprocess.run([sys.executable, "-c", _PEAK, kernel], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    peak_growth, outputs = map(int, out.stdout.split())
    assert peak_growth <= outputs + 8 * 2**20, (peak_growth, outputs)


# ------------------------------------------ large scratch blocks kept for the next call


def test_kept_scratch_is_bounded_reused_and_releasable():
    import numpy as np

    import npkernels as nk
    from npkernels import _core

    _core._release_scratch_cache()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, 56, 56), dtype=np.float32)
    w = rng.standard_normal((64, 64, 3, 3), dtype=np.float32)
    first = nk.conv2d(x, w, padding=1)  # Winograd: its scratch blocks are kept
    again = nk.conv2d(x, w, padding=1)  # reuses them, uninitialised: same bits
    np.testing.assert_array_equal(first, again)
    kept = _core._release_scratch_cache()
    assert kept > 0
    assert _core._release_scratch_cache() == 0
    # Layers of many sizes: what stays kept never passes 8 blocks / 64 MiB.
    for c, hw in [(8, 200), (16, 160), (32, 112), (64, 56), (128, 28), (256, 14), (512, 7)]:
        xc = rng.standard_normal((4, c, hw, hw), dtype=np.float32)
        wc = rng.standard_normal((c, c, 3, 3), dtype=np.float32)
        nk.conv2d_backward(nk.conv2d(xc, wc, padding=1), xc, wc, padding=1)
    assert 0 < _core._release_scratch_cache() <= 64 * 2**20
