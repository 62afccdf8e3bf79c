"""Thread-count setting shared by every kernel.

The compiled kernels keep no global state: each call receives its thread count
from here, so ``with num_threads(1):`` in one Python thread does not affect a
kernel running in another.

After ``os.fork`` (multiprocessing's 'fork' start method), GNU OpenMP cannot
run a parallel region in the child once the parent has run one: the child
waits forever for the parent's worker threads, which were not copied. So a
child forked from a process that has asked for more than one thread defaults
to 1 thread, and ``num_threads`` blocks entered before the fork no longer
apply; the child may still choose more with ``set_num_threads`` or
``num_threads`` (safe only if no parallel region ran before the fork).
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
# (generation, n): an override applies only in the process (fork generation) that set it.
_override: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "npk_threads", default=None
)
_generation = 0
_asked_for_threads = False  # has any call been given more than one thread?


def _after_fork_in_child() -> None:
    global _default, _generation  # noqa: PLW0603
    if _asked_for_threads:
        _default = 1
        _generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def get_num_threads() -> int:
    """Return the number of threads the next kernel call in this context will use."""
    global _asked_for_threads  # noqa: PLW0603
    override = _override.get()
    n = _default if override is None or override[0] != _generation else override[1]
    if n > 1:
        _asked_for_threads = True
    return n


def set_num_threads(n: int) -> None:
    """Set the process-wide default number of threads (``n >= 1``).

    The initial default is ``OMP_NUM_THREADS`` when set, else every CPU this
    process may run on (1 in a child forked after a kernel was given more than
    one thread, see the module's notes). ``with num_threads(n):`` overrides it
    locally.
    """
    global _default  # noqa: PLW0603
    _default = _check(n)


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Use ``n`` threads for kernel calls made inside the ``with`` block.

    The setting belongs to the current context: the current thread, or asyncio
    task (a task inherits the setting of the code that created it). Other Python
    threads keep their own; a new ``threading.Thread`` starts with the default
    of :func:`set_num_threads`, not the block it was started in (run its target
    in ``contextvars.copy_context()`` to pass the setting on), unless Python
    runs with ``-X thread_inherit_context=1`` (the default of free-threaded 3.14).
    """
    token = _override.set((_generation, _check(n)))
    try:
        yield
    finally:
        _override.reset(token)
