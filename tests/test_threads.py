"""The thread-count API, concurrent calls from Python threads, and the GIL release."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import npkernels as nk
import numpy as np
import pytest
from npkernels import _core


@pytest.fixture
def restore_default():
    """Put the process-wide default back after a test that changes it."""
    saved = nk.get_num_threads()
    yield saved
    nk.set_num_threads(saved)


# ---------------------------------------------------------------- the setting itself


def test_set_num_threads_sets_the_default(restore_default):
    nk.set_num_threads(3)
    assert nk.get_num_threads() == 3
    nk.set_num_threads(1)
    assert nk.get_num_threads() == 1
    nk.set_num_threads(np.int64(5))  # any integer type
    assert nk.get_num_threads() == 5
    assert type(nk.get_num_threads()) is int


def test_num_threads_context_overrides_and_restores(restore_default):
    nk.set_num_threads(4)
    with nk.num_threads(1):
        assert nk.get_num_threads() == 1
        with nk.num_threads(3):
            assert nk.get_num_threads() == 3
        assert nk.get_num_threads() == 1
    assert nk.get_num_threads() == 4


def test_num_threads_context_restores_after_an_exception(restore_default):
    nk.set_num_threads(2)
    with pytest.raises(RuntimeError, match="boom"):
        with nk.num_threads(7):
            assert nk.get_num_threads() == 7
            raise RuntimeError("boom")
    assert nk.get_num_threads() == 2


def test_set_num_threads_inside_a_context_changes_only_the_default(restore_default):
    nk.set_num_threads(2)
    with nk.num_threads(1):
        nk.set_num_threads(6)
        assert nk.get_num_threads() == 1  # the override still wins here
    assert nk.get_num_threads() == 6


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


@pytest.mark.parametrize("bad", [0, -1, -100])
def test_non_positive_counts_raise_value_error(bad, restore_default):
    before = nk.get_num_threads()
    with pytest.raises(ValueError, match=rf"number of threads must be >= 1, got {bad}"):
        nk.set_num_threads(bad)
    with pytest.raises(ValueError, match=rf"number of threads must be >= 1, got {bad}"):
        with nk.num_threads(bad):
            pass  # pragma: no cover
    assert nk.get_num_threads() == before


@pytest.mark.parametrize(
    ("bad", "type_name"), [(2.0, "float"), ("3", "str"), (None, "NoneType"), ([2], "list")]
)
def test_non_integer_counts_raise_type_error(bad, type_name, restore_default):
    before = nk.get_num_threads()
    with pytest.raises(TypeError, match=rf"number of threads must be an integer, got {type_name}"):
        nk.set_num_threads(bad)
    with pytest.raises(TypeError, match=rf"number of threads must be an integer, got {type_name}"):
        with nk.num_threads(bad):
            pass  # pragma: no cover
    assert nk.get_num_threads() == before


def _default_in_subprocess(tmp_path, omp):
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    code = (
        "import os, numpy as np, npkernels as nk\n"
        "r = nk.rankdata(np.arange(100_000.0)[::-1])\n"  # a kernel runs at that setting
        "assert r[0] == 100_000.0\n"
        "print(nk.get_num_threads(), len(os.sched_getaffinity(0)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    threads, cpus = map(int, out.stdout.split())
    return threads, cpus


@pytest.mark.parametrize(("omp", "expected"), [("3", 3), ("1", 1), ("5,2", 5), (" 7 ", 7)])
def test_default_honours_omp_num_threads(tmp_path, omp, expected):
    threads, _ = _default_in_subprocess(tmp_path, omp)
    assert threads == expected


@pytest.mark.parametrize("omp", [None, "", "0", "abc"])
def test_default_without_a_usable_omp_num_threads_is_the_cpu_count(tmp_path, omp):
    threads, cpus = _default_in_subprocess(tmp_path, omp)
    assert threads == cpus


# ------------------------------------------------------------ concurrent Python threads


def _task_inputs(i):
    rng = np.random.default_rng(100 + i)
    n = 120_000
    y = (rng.random(n) < 0.6).astype(np.int64)
    score = np.round(rng.normal(size=n) + 0.5 * y, 2)
    w = rng.random(n)
    return y, score, w


def _all_metrics(i):
    y, score, w = _task_inputs(i)
    method = ("average", "min", "max", "dense", "ordinal")[i % 5]
    fpr, tpr, thr = nk.roc_curve(y, score, sample_weight=w)
    return (
        nk.rankdata(score, method).tobytes(),
        nk.roc_auc_score(y, score),
        nk.roc_auc_score(y, score, sample_weight=w, max_fpr=0.4),
        fpr.tobytes() + tpr.tobytes() + thr.tobytes(),
        nk.average_precision_score(y, score, sample_weight=w),
    )


def test_concurrent_calls_from_eight_threads_match_serial_calls():
    serial = []
    for i in range(8):
        with nk.num_threads(1):
            serial.append(_all_metrics(i))
    start = threading.Barrier(8)

    def task(i):
        start.wait(30)
        with nk.num_threads(1 + i % 3):  # 1, 2 and 3 threads, side by side
            return [_all_metrics(i) for _ in range(2)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(task, range(8)))
    for i in range(8):
        assert concurrent[i][0] == serial[i], i
        assert concurrent[i][1] == serial[i], i
    # Distinct inputs give distinct answers, so a mix-up between threads would show.
    assert len({s[1] for s in serial}) == 8


def _all_detection(i):
    from npkernels._workloads import random_clustered_boxes

    b, s, c = random_clustered_boxes(np.random.default_rng(200 + i), 6000, n_classes=7)
    keep, kept = nk.batched_soft_nms(b, s, c, method="gaussian")
    return (
        nk.nms(b, s, 0.5).tobytes(),
        nk.batched_nms(b, s, c, 0.4).tobytes(),
        keep.tobytes() + kept.tobytes(),
        nk.box_iou(b[:300], b[:200]).tobytes(),
    )


def test_concurrent_detection_calls_match_serial_calls():
    with nk.num_threads(1):
        serial = [_all_detection(i) for i in range(6)]
    start = threading.Barrier(6)

    def task(i):
        start.wait(30)
        with nk.num_threads(1 + i % 3):
            return _all_detection(i)

    with ThreadPoolExecutor(max_workers=6) as pool:
        concurrent = list(pool.map(task, range(6)))
    assert concurrent == serial
    assert len({s[0] for s in serial}) == 6


# ----------------------------------------------------------------- the GIL is released


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
            time.sleep(0)  # drop the GIL, so this thread never makes the other wait

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


def _detection_call(kernel, rng):
    from npkernels._workloads import random_clustered_boxes

    b, s, c = random_clustered_boxes(rng, 200_000, n_classes=80)
    calls = {
        "nms": lambda: _core.nms(b, s, None, 0.5, n_threads=1),
        "batched_nms": lambda: _core.nms(b, s, c, 0.5, n_threads=1),
        "soft_nms": lambda: _core.soft_nms(b[:20_000], s[:20_000], None, 0.3, 0.5, 1e-3, "gaussian", n_threads=1),
        "box_iou": lambda: _core.box_iou(b[:3000], b[:3000], n_threads=1),
    }
    return calls[kernel]


def _gil_call(kernel):
    """A call of ``kernel`` long enough (tens of ms) for the counter to be scheduled."""
    rng = np.random.default_rng(5)
    if kernel in ("nms", "batched_nms", "soft_nms", "box_iou"):
        return _detection_call(kernel, rng)
    if kernel == "rankdata":
        x = rng.random(5_000_000)
        return lambda: nk.rankdata(x)
    if kernel.startswith("roi_"):
        return _roi_gil_call(kernel, rng)
    n = 2_000_000
    score, w = rng.random(n), rng.random(n)
    pos = (rng.random(n) < 0.5).astype(np.uint8)
    if kernel == "binary_roc_auc":
        return lambda: _core.binary_roc_auc(score, pos, w, n_threads=1)
    if kernel == "roc_curve_points":
        return lambda: _core.roc_curve_points(score, pos, w, True, n_threads=1)
    return lambda: _core.average_precision(score, pos, w, n_threads=1)


def _roi_gil_call(kernel, rng):
    from npkernels._workloads import random_feature_map, random_rois

    x = random_feature_map(rng, (1, 64, 100, 120))
    rois = random_rois(rng, 400, 1, 100, 120)
    grad = rng.standard_normal((400, 64, 7, 7), dtype=np.float32)
    if kernel == "roi_align":
        return lambda: _core.roi_align(x, rois, 1.0, 7, 7, -1, True, n_threads=1)
    if kernel == "roi_align_backward":
        return lambda: _core.roi_align_backward(grad, rois, 1, 100, 120, 1.0, 2, True, n_threads=1)
    argmax = nk.roi_pool(x, rois, 7, return_argmax=True)[1]
    if kernel == "roi_pool":
        return lambda: _core.roi_pool(x, rois, 1.0, 7, 7, n_threads=1)
    # a fast kernel: ten calls, so that one of them lasts past a scheduling tick
    return lambda: [
        _core.roi_pool_backward(grad, argmax, rois, 1, 100, 120, n_threads=1) for _ in range(10)
    ]


@pytest.mark.parametrize(
    "kernel",
    [
        "rankdata",
        "binary_roc_auc",
        "roc_curve_points",
        "average_precision",
        "nms",
        "batched_nms",
        "soft_nms",
        "box_iou",
        "roi_align",
        "roi_align_backward",
        "roi_pool",
        "roi_pool_backward",
    ],
)
def test_kernels_release_the_gil(kernel):
    # nk.rankdata's wrapper does no NumPy work on a C-contiguous float64 input (so nothing
    # else can release the GIL); the binary kernels are called through _core for the same
    # reason, since their wrappers run NumPy comparisons that may release it themselves.
    fn = _gil_call(kernel)
    with nk.num_threads(1):  # leave a core for the counter thread
        ticks = _ticks_during(fn)
    assert ticks > 0, f"{kernel} held the GIL for its whole run"
