"""Thread-count setting shared by every kernel.

The compiled kernels keep no global state: each call receives its thread count
from here, so ``with num_threads(1):`` in one Python thread does not affect a
kernel running in another.
"""

from __future__ import annotations

import contextlib
import contextvars
import operator
import os
from collections.abc import Iterator

__all__ = ["get_num_threads", "num_threads", "set_num_threads"]

# More threads than this is a mistake, not a machine: it would overflow the kernels' C int
# thread count, or make OpenMP try to start millions of threads.
MAX_THREADS = 1024


def _check(n: int) -> int:
    try:
        n = operator.index(n)
    except TypeError:
        msg = f"number of threads must be an integer, got {type(n).__name__}"
        raise TypeError(msg) from None
    if n < 1:
        msg = f"number of threads must be >= 1, got {n}"
        raise ValueError(msg)
    if n > MAX_THREADS:
        msg = f"number of threads must be <= {MAX_THREADS}, got {n}"
        raise ValueError(msg)
    return n


def _initial() -> int:
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if first.isdigit() and int(first) > 0:
        return int(first)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


_default = _initial()
_override: contextvars.ContextVar[int | None] = contextvars.ContextVar("npk_threads", default=None)


def get_num_threads() -> int:
    """Return the number of threads the next kernel call in this context will use."""
    override = _override.get()
    return _default if override is None else override


def set_num_threads(n: int) -> None:
    """Set the process-wide default number of threads (``n >= 1``).

    The initial default is ``OMP_NUM_THREADS`` when set, else every CPU this
    process may run on. ``with num_threads(n):`` overrides it locally.
    """
    global _default  # noqa: PLW0603
    _default = _check(n)


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Use ``n`` threads for kernel calls made inside the ``with`` block.

    The setting belongs to the current thread (or asyncio task): other Python
    threads keep their own.
    """
    token = _override.set(_check(n))
    try:
        yield
    finally:
        _override.reset(token)
