"""The thread-count API: the setting, its context override and its initial value.

Concurrent calls, the per-thread setting, the GIL release and fork: test_concurrency.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

import npkernels as nk
import numpy as np
import pytest


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
