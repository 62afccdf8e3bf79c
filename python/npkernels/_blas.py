"""SciPy's BLAS for the convolution kernels: the gemm capsules and the BLAS thread pool.

npkernels links no BLAS. ``scipy.linalg.cython_blas`` publishes the Fortran
``sgemm``/``dgemm`` of the BLAS SciPy was built with as PyCapsules in its
``__pyx_capi__`` (the route scikit-learn takes too); they are fetched once, on
the first convolution, and handed to ``_core``, which reads the pointer out
of the capsule. The thread pool of that same BLAS library (found by the
address of its ``sgemm``) is then controlled through threadpoolctl, so that
no threaded BLAS call ever runs inside one of our OpenMP regions.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["blas_threads", "gemm_address", "gemm_capsule"]

_NAMES = {np.dtype(np.float32): "sgemm", np.dtype(np.float64): "dgemm"}


@functools.cache
def _capsules() -> dict[str, Any]:
    from scipy.linalg import cython_blas

    capi = cython_blas.__pyx_capi__
    return {name: capi[name] for name in _NAMES.values()}


def gemm_capsule(dtype: np.dtype) -> Any:
    """The ``scipy.linalg.cython_blas`` capsule of ``sgemm`` (float32) or ``dgemm`` (float64)."""
    return _capsules()[_NAMES[np.dtype(dtype)]]


def gemm_address(dtype: np.dtype) -> int:
    """The raw address of the gemm behind :func:`gemm_capsule`.

    A capsule's name is Cython's signature string (it spells out ``__pyx_t_...``
    typedefs), so it is read back with ``PyCapsule_GetName`` rather than written here.
    """
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    capsule = gemm_capsule(dtype)
    return int(api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule)))


def _scipy_roots() -> tuple[str, ...]:
    """Where SciPy's own files live: its package and the wheel's bundled-library folder."""
    import scipy

    package = os.path.realpath(os.path.dirname(scipy.__file__))
    return (package + os.sep, package + ".libs" + os.sep, os.path.join(package, ".dylibs") + os.sep)


@functools.cache
def _pools() -> tuple[Any, ...]:
    """threadpoolctl controllers of SciPy's BLAS.

    The capsules point into SciPy's ``cython_blas`` wrappers, which call the BLAS that
    SciPy bundles (a wheel) or links (a distribution build). A bundled library is told
    apart by its path; otherwise every BLAS pool in the process is limited.
    """
    from threadpoolctl import ThreadpoolController

    _capsules()  # loads SciPy's BLAS, so that threadpoolctl sees it
    blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    roots = _scipy_roots()
    ours = [c for c in blas if os.path.realpath(c.filepath).startswith(roots)]
    return tuple(ours or blas)


def _set_limit(pool: Any, n: int) -> None:
    """Set ``pool``'s limit from any Python thread.

    threadpoolctl >= 3.6 lets only one Python thread (the first to set a limit) change a
    pthreads OpenBLAS's process-wide limit and silently ignores the others: a convolution
    started from a worker thread would then run a threaded BLAS inside its own OpenMP
    parts (oversubscribed, and with other bits than the same call from the main thread).
    Our own lock and count below already keep threads from fighting over the limit, so
    the setter without that guard is used where threadpoolctl has one.
    """
    getattr(pool, "_real_set_num_threads", pool.set_num_threads)(n)


_lock = threading.Lock()
_users = 0
_saved: list[int] = []


def _after_fork_in_child() -> None:
    """A forked child has only the forking thread: convolutions that other threads had
    running at the fork never leave, so drop their count (and a lock one may hold), and
    give the pools back the limits they had before those calls."""
    global _lock, _users  # noqa: PLW0603
    _lock = threading.Lock()
    if _users:
        _users = 0
        for p, v in zip(_pools(), _saved):
            _set_limit(p, v)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Hold SciPy's BLAS pool at ``n`` threads while any convolution runs.

    The first caller in sets the limit and the last one out restores the previous
    value, so concurrent calls from several Python threads never undo each other's
    limit halfway through.
    """
    global _users  # noqa: PLW0603
    pools = _pools()
    with _lock:
        if _users == 0:
            _saved[:] = [p.get_num_threads() for p in pools]
            for p in pools:
                _set_limit(p, n)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for p, v in zip(pools, _saved):
                    _set_limit(p, v)
