"""Every public kernel under Python threads: concurrent calls equal serial ones, the
thread-count setting stays with its thread, the GIL is released, and fork/spawn work.

``NPK_CONCURRENCY_SECONDS`` (default 2) sets how long the eight threads keep calling.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import itertools
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import npkernels as nk
import numpy as np
import pytest
from public_calls import (
    CALLS,
    build_all,
    core_bindings,
    fingerprint,
    public_kernels,
    recording_core,
)

SECONDS = float(os.environ.get("NPK_CONCURRENCY_SECONDS", "2"))
N_THREADS = 8
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def restore_default():
    """Put the process-wide default back after a test that changes it."""
    saved = nk.get_num_threads()
    yield saved
    nk.set_num_threads(saved)


def test_every_public_kernel_has_a_call():
    assert set(CALLS) == public_kernels()


# ------------------------------------------------------- eight threads, every kernel


@pytest.fixture(scope="module")
def split_calls():
    return build_all("split")


@pytest.fixture(scope="module")
def serial(split_calls):
    with nk.num_threads(1):
        return {name: fingerprint(call()) for name, call in split_calls.items()}


def test_eight_threads_calling_every_kernel_match_serial_calls(split_calls, serial):
    # The threads take jobs from one queue: job j runs kernel order[j % K] of a shuffled
    # order (a new shuffle each round), so every kernel overlaps with many others. Each
    # thread uses 1, 2 or 3 OpenMP threads: the results must be bitwise the serial ones.
    names = sorted(split_calls)
    rounds = [np.random.default_rng(r).permutation(names) for r in range(50)]
    jobs, lock = itertools.count(), threading.Lock()
    runs = collections.Counter()
    wrong = []
    start = threading.Barrier(N_THREADS)
    deadline = []

    def worker(i):
        start.wait(60)
        if i == 0:
            deadline.append(time.monotonic() + SECONDS)
        with nk.num_threads(1 + i % 3):
            while True:
                with lock:
                    j = next(jobs)
                if j >= 2 * len(names) and (not deadline or time.monotonic() > deadline[0]):
                    return
                name = rounds[(j // len(names)) % len(rounds)][j % len(names)]
                if fingerprint(split_calls[name]()) != serial[name]:
                    wrong.append((name, nk.get_num_threads()))
                with lock:
                    runs[name] += 1

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        for f in [pool.submit(worker, i) for i in range(N_THREADS)]:
            f.result()
    assert not wrong
    assert set(runs) == set(names) and min(runs.values()) >= 2
    print(f"\n{sum(runs.values())} calls of {len(names)} kernels from {N_THREADS} threads "
          f"in {SECONDS:g} s: all equal to the serial results")


def test_one_kdtree_shared_by_eight_threads():
    rng = np.random.default_rng(7)
    tree = nk.KDTree(rng.random((30_000, 3)))
    queries = [rng.random((5000, 3)) for _ in range(N_THREADS)]  # > 4096: each one splits

    def work(i):
        x = queries[i]
        return fingerprint((
            tree.query(x, k=3),
            tree.query(x, k=[2, 5], p=np.inf, distance_upper_bound=0.1),
            tree.query_radius(x, 0.05, sort=True),
            tree.query_ball_point(x[:300], 0.1, return_sorted=True),
            tree.query_pairs(0.008 + 0.001 * i, output_type="ndarray"),
        ))

    with nk.num_threads(1):
        serial = [work(i) for i in range(N_THREADS)]
    start = threading.Barrier(N_THREADS)

    def task(i):
        start.wait(60)
        with nk.num_threads(1 + i % 3):
            return [work(i) for _ in range(2)]

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        concurrent = list(pool.map(task, range(N_THREADS)))
    for i in range(N_THREADS):
        assert concurrent[i] == [serial[i]] * 2, i
    assert len(set(serial)) == N_THREADS  # distinct queries: a mix-up would show


# ------------------------------------------------------------ the per-thread setting


def test_num_threads_is_per_python_thread(restore_default):
    nk.set_num_threads(4)
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def holder():
        with nk.num_threads(1):
            seen["holder"] = nk.get_num_threads()
            inside.set()
            release.wait(10)
            seen["holder_after_wait"] = nk.get_num_threads()

    def observer():
        inside.wait(10)
        seen["observer"] = nk.get_num_threads()
        with nk.num_threads(3):
            seen["observer_own"] = nk.get_num_threads()
        release.set()

    threads = [threading.Thread(target=holder), threading.Thread(target=observer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert seen == {"holder": 1, "observer": 4, "observer_own": 3, "holder_after_wait": 1}
    assert nk.get_num_threads() == 4  # the main thread was never affected


def test_a_thread_started_inside_a_block_starts_from_the_default(restore_default):
    nk.set_num_threads(3)
    seen = {}

    def record(key):
        seen[key] = nk.get_num_threads()

    def in_thread(target, *args):
        t = threading.Thread(target=target, args=args)
        t.start()
        t.join(30)

    with nk.num_threads(1):
        in_thread(record, "thread")
        with ThreadPoolExecutor(max_workers=1) as pool:
            seen["pool"] = pool.submit(nk.get_num_threads).result()
        in_thread(contextvars.copy_context().run, record, "copied_context")
        record("here")
    # CPython starts a thread in an empty context unless told to inherit the creator's.
    new = 1 if getattr(sys.flags, "thread_inherit_context", 0) else 3
    assert seen == {"thread": new, "pool": new, "copied_context": 1, "here": 1}


def test_set_num_threads_in_another_thread_changes_the_default_only(restore_default):
    nk.set_num_threads(2)
    with nk.num_threads(1):
        in_other = threading.Thread(target=nk.set_num_threads, args=(5,))
        in_other.start()
        in_other.join(30)
        assert nk.get_num_threads() == 1  # this thread's block still wins
    assert nk.get_num_threads() == 5


def test_asyncio_tasks_keep_their_own_setting(restore_default):
    nk.set_num_threads(2)

    async def task(n):
        with nk.num_threads(n):
            await asyncio.sleep(0.01)  # the other tasks run and set theirs meanwhile
            return nk.get_num_threads()

    async def read():
        return nk.get_num_threads()

    async def main():
        own = await asyncio.gather(*(task(n) for n in (1, 3, 4, 5)))
        with nk.num_threads(7):  # a task copies the context it is created in ...
            late = asyncio.create_task(read())
        return own, await late, nk.get_num_threads()  # ... and keeps it after the block

    assert asyncio.run(main()) == ([1, 3, 4, 5], 7, 2)


def test_each_kernel_gets_the_setting_of_the_thread_that_calls_it():
    # Every _core call made from thread i must carry n_threads = i + 1.
    want = {}
    start = threading.Barrier(N_THREADS)

    def task(i):
        want[threading.get_ident()] = i + 1
        start.wait(60)
        with nk.num_threads(i + 1):
            for call in build_all("small", seed=i).values():
                call()

    with recording_core() as log:
        with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
            for f in [pool.submit(task, i) for i in range(N_THREADS)]:
                f.result()
    assert {c.binding for c in log} == core_bindings()
    bad = [(c.binding, c.kwargs.get("n_threads"), want[c.thread]) for c in log
           if c.kwargs.get("n_threads") != want[c.thread]]
    assert not bad
    assert len({c.thread for c in log}) == N_THREADS


# ------------------------------------------------------------------- the GIL is released


def _ticks_during(fn):
    """How often another Python thread ran while fn() ran in this one.

    The switch interval is raised to 30 s for the measurement, so the interpreter never
    preempts this thread: the counter thread (which yields the GIL after every tick) can
    only tick while this thread has released the GIL itself. A call that holds the GIL
    gives exactly 0 ticks (see the control test below); no timing is involved.
    """
    ticks = [0]
    stop, ready = threading.Event(), threading.Event()

    def counter():
        ready.set()
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(1e-4)  # drop the GIL (for a while), so the other never waits for it

    old = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    thread = threading.Thread(target=counter)
    try:
        thread.start()
        ready.wait(10)
        before = ticks[0]
        fn()
        after = ticks[0]
    finally:
        stop.set()
        thread.join(30)
        sys.setswitchinterval(old)
    return after - before


def test_gil_probe_sees_no_ticks_while_the_gil_is_held():
    # sum over a range runs in C without ever releasing the GIL.
    assert _ticks_during(lambda: sum(range(10_000_000))) == 0


@pytest.fixture(scope="module")
def long_core_calls():
    """binding -> the biggest _core call the public kernels made on "long" inputs."""
    with nk.num_threads(1), recording_core() as log:  # n_threads=1 leaves a core to the counter
        for call in build_all("long").values():
            call()
    biggest = {}
    for c in log:
        size = sum(a.nbytes for a in (*c.args, *c.kwargs.values()) if isinstance(a, np.ndarray))
        if size >= biggest.get(c.binding, (-1, None))[0]:
            biggest[c.binding] = (size, c)
    return {name: c for name, (_, c) in biggest.items()}


@pytest.mark.parametrize("binding", sorted(core_bindings()))
def test_every_kernel_releases_the_gil(binding, long_core_calls):
    # The binding itself is replayed (as the public wrapper called it), since a wrapper's
    # NumPy work may release the GIL on its own; short kernels run repeatedly (~40 ms, at
    # most 20 calls).
    call = long_core_calls[binding]
    times = []
    for _ in range(3):
        t = time.perf_counter()
        call.replay()
        times.append(time.perf_counter() - t)
    repeat = int(np.clip(0.04 / max(np.median(times), 1e-6), 1, 20))
    ticks = _ticks_during(lambda: [call.replay() for _ in range(repeat)])
    assert ticks > 0, f"{binding} held the GIL for its whole run"


# ------------------------------------------------------------------ fork, spawn, forkserver

_CHILD = """
import contextlib, hashlib, json, multiprocessing as mp, sys
sys.path.insert(0, {tests!r})
import numpy as np, npkernels as nk
from public_calls import CALLS, fingerprint

NAMES = sorted(CALLS)

def run(name):
    call = CALLS[name](np.random.default_rng([1, NAMES.index(name)]), "split")
    return nk.get_num_threads(), hashlib.sha256(fingerprint(call())).hexdigest()

if __name__ == "__main__":
    parent_threads, block, child_threads, *methods = sys.argv[1:]
    nk.set_num_threads(int(parent_threads))
    parent = [run(n) for n in NAMES]  # with 2 threads: OpenMP parallel regions ran
    out = {{}}
    for method in methods:
        init = None if child_threads == "default" else nk.set_num_threads
        args = () if init is None else (int(child_threads),)
        around = nk.num_threads(int(block)) if int(block) else contextlib.nullcontext()
        with around:  # a num_threads block around the fork (0: none)
            pool = mp.get_context(method).Pool(2, initializer=init, initargs=args)
        children = pool.map_async(run, NAMES).get(timeout=240)
        pool.close()
        pool.join()
        out[method] = {{"threads": sorted({{t for t, _ in children}}),
                       "same": [p[1] == c[1] for p, c in zip(parent, children)]}}
    print(json.dumps(out))
"""


def _run_children(tmp_path, *args):
    script = tmp_path / "child.py"
    script.write_text(_CHILD.format(tests=str(TESTS)))
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    try:
        out = subprocess.run([sys.executable, str(script), *map(str, args)], env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args}: the child processes hung")
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_kernels_in_child_processes_after_parallel_regions(tmp_path):
    # The parent runs every kernel with 2 threads, then each kernel runs again in pool
    # workers. A forked child must not hang in OpenMP: it defaults to 1 thread and drops
    # the num_threads(3) block around the fork; spawned children start fresh (2).
    import multiprocessing

    methods = [m for m in ("fork", "spawn", "forkserver")
               if m in multiprocessing.get_all_start_methods()]
    res = _run_children(tmp_path, 2, 3, "default", *methods)
    expected = {"fork": [1], "spawn": [2], "forkserver": [2]}
    for method in methods:
        assert res[method]["threads"] == expected[method], method
        assert all(res[method]["same"]) and len(res[method]["same"]) == len(CALLS), method


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_forked_child_keeps_the_setting_when_the_parent_never_used_threads(tmp_path):
    # Nothing changes at the fork then: the block around it applies in the child, or
    # the child's own set_num_threads, with parallel regions.
    res = _run_children(tmp_path, 1, 3, "default", "fork")
    assert res["fork"]["threads"] == [3] and all(res["fork"]["same"])
    res = _run_children(tmp_path, 1, 0, 2, "fork")
    assert res["fork"]["threads"] == [2] and all(res["fork"]["same"])


_BLAS_FORK = """
import os, threading, numpy as np, npkernels as nk
from npkernels import _blas
x = np.ones((1, 2, 5, 5), np.float32)
w = np.ones((3, 2, 3, 3), np.float32)
nk.conv2d(x, w)
before = [p.get_num_threads() for p in _blas._pools()]
inside, release = threading.Event(), threading.Event()

def convolving():  # another thread, inside a convolution's BLAS limit at the fork
    with _blas.blas_threads(1):
        inside.set()
        release.wait(60)

t = threading.Thread(target=convolving)
t.start()
inside.wait(60)
with _blas._lock:  # the lock held at the fork, too
    pid = os.fork()
if pid == 0:
    y = nk.conv2d(x, w)
    ok = float(y.sum()) == 3 * 18 * 9 and _blas._users == 0
    ok = ok and [p.get_num_threads() for p in _blas._pools()] == before
    os._exit(0 if ok else 3)
release.set()
t.join()
_, status = os.waitpid(pid, 0)
raise SystemExit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_forked_child_convolves_while_another_thread_was_in_a_convolution():
    try:
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(_BLAS_FORK)],
                             capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the forked child deadlocked on the BLAS limit's lock")
    assert out.returncode == 0, out.stderr[-3000:]


def test_the_blas_limit_holds_in_convolutions_from_any_thread():
    # Regression: threadpoolctl lets only the first Python thread that sets a limit change
    # OpenBLAS's; a convolution from another thread then ran a threaded BLAS (other bits).
    from npkernels import _blas

    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 40, 36)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    on_main = nk.conv2d(x, w, padding=1).tobytes()  # the main thread sets a limit first
    seen = {}

    def elsewhere():
        with _blas.blas_threads(1):
            seen["limits"] = [p.get_num_threads() for p in _blas._pools()]
        seen["conv"] = nk.conv2d(x, w, padding=1).tobytes()

    t = threading.Thread(target=elsewhere)
    t.start()
    t.join(60)
    assert seen["limits"] == [1] * len(_blas._pools())
    assert seen["conv"] == on_main
