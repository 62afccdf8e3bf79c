"""Input normalisation shared by the fast path and the NumPy reference.

One place decides the dtype policy and writes the error messages, so the
compiled kernels and their NumPy twins reject the same inputs the same way.
"""

from __future__ import annotations

import math
import operator
import os

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

_REAL_KINDS = "biuf"


def as_ndarray(x: ArrayLike, name: str) -> np.ndarray:
    """``np.asarray(x)``, with NumPy's own conversion errors (a ragged nested list, an
    object that is not array-like) re-raised as ValueError/TypeError naming ``name``."""
    try:
        return np.asarray(x)
    except ValueError as exc:
        msg = f"{name} must be an array-like of numbers with a regular shape, got {exc}"
        raise ValueError(msg) from None
    except TypeError as exc:
        msg = f"{name} must be array-like, got {type(x).__name__} ({exc})"
        raise TypeError(msg) from None


def as_real_array(x: ArrayLike, name: str) -> np.ndarray:
    """Return ``x`` as an ndarray of a real numeric (or bool) dtype; TypeError otherwise."""
    arr = as_ndarray(x, name)
    if arr.dtype.kind not in _REAL_KINDS:
        msg = f"{name} must have a real numeric dtype, got {arr.dtype}"
        raise TypeError(msg)
    return arr


def as_float_array(x: ArrayLike, name: str, dtype: DTypeLike | None = None) -> np.ndarray:
    """Return ``x`` as an aligned, C-contiguous float32/float64 array.

    float32 stays float32; every other real dtype becomes float64 unless
    ``dtype`` is given. Copies only when needed.
    """
    arr = as_real_array(x, name)
    if dtype is None:
        dtype = np.float32 if arr.dtype == np.float32 else np.float64
    return np.require(arr, dtype=dtype, requirements=("C", "A"))


def check_shape(arr: np.ndarray, name: str, pattern: tuple[int | None, ...], expected: str) -> None:
    """Raise ``ValueError`` unless ``arr.shape`` matches ``pattern`` (None = any length)."""
    ok = arr.ndim == len(pattern) and all(p is None or s == p for s, p in zip(arr.shape, pattern))
    if not ok:
        msg = f"{name} must have shape {expected}, got {arr.shape}"
        raise ValueError(msg)


def check_same_length(arr: np.ndarray, name: str, n: int, other: str) -> None:
    """Raise ``ValueError`` unless ``arr`` is 1-D with ``n`` elements like ``other``."""
    if arr.shape != (n,):
        msg = f"{name} must have shape ({n},) like {other}, got {arr.shape}"
        raise ValueError(msg)


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming the first NaN or infinite element of ``arr``."""
    bad = ~np.isfinite(arr)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        msg = f"{name} must be finite, got {arr.flat[index]} at index {index}"
        raise ValueError(msg)


def check_choice(value: object, name: str, choices: tuple[object, ...]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if not any(value is c or (isinstance(value, str) and value == c) for c in choices):
        options = ", ".join(repr(c) for c in choices)
        msg = f"{name} must be one of {options}, got {value!r}"
        raise ValueError(msg)


def as_bool(value: object, name: str) -> bool:
    """Return ``value`` as a bool; TypeError unless it is a bool or NumPy bool."""
    if not isinstance(value, (bool, np.bool_)):
        msg = f"{name} must be a bool, got {type(value).__name__}"
        raise TypeError(msg)
    return bool(value)


def as_int(value: object, name: str, expected: str = "an integer") -> int:
    """Return ``value`` as a Python int; TypeError ("name must be <expected>") otherwise."""
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        msg = f"{name} must be {expected}, got {type(value).__name__}"
        raise TypeError(msg) from None


def as_index_array(x: ArrayLike, name: str) -> np.ndarray:
    """Return ``x`` as an aligned, C-contiguous int64 array; TypeError unless integer-valued.

    Integer dtypes only (not bool or float), so a float array passed by mistake
    as indices is reported rather than truncated. Copies only when needed.
    """
    arr = as_ndarray(x, name)
    if arr.dtype.kind not in "iu":
        msg = f"{name} must have an integer dtype, got {arr.dtype}"
        raise TypeError(msg)
    return np.require(arr, dtype=np.int64, requirements=("C", "A"))


# Window sizes, strides, paddings, output sizes and the like: the bindings take them as
# int64 and form products of them, so the wrappers refuse anything from 2**31 on with a
# clear message (no image comes near it) instead of a pybind11 cast error or an overflow.
MAX_PARAM = 2**31 - 1


def check_param_bound(values: tuple[int, ...], name: str, shown: object = None) -> None:
    """ValueError unless every int of ``values`` is ``<= MAX_PARAM`` (2**31 - 1)."""
    if any(v > MAX_PARAM for v in values):
        msg = f"{name} must be < 2**31, got {values if shown is None else shown!r}"
        raise ValueError(msg)


def as_int_pair(value: object, name: str, minimum: int = 0) -> tuple[int, int]:
    """Return an int or a pair of ints as ``(a, b)``; each must be ``>= minimum``.

    TypeError for non-integers, ValueError for a wrong length or a value below ``minimum``.
    """
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim):
        if len(value) != 2:
            msg = f"{name} must be an int or a pair of ints, got {value!r}"
            raise ValueError(msg)
        pair = (as_int(value[0], name), as_int(value[1], name))
    else:
        n = as_int(value, name)
        pair = (n, n)
    if min(pair) < minimum:
        msg = f"{name} must be >= {minimum}, got {value!r}"
        raise ValueError(msg)
    check_param_bound(pair, name, value)
    return pair


def as_finite_float(value: object, name: str) -> float:
    """Return a real number as a finite Python float; TypeError or ValueError otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        msg = f"{name} must be a real number, got {type(value).__name__}"
        raise TypeError(msg)
    v = float(value)
    if not np.isfinite(v):
        msg = f"{name} must be finite, got {v}"
        raise ValueError(msg)
    return v


# ------------------------------------------------------------------------ resource bounds


def memory_limit() -> int:
    """The bytes one allocation could at most get: physical memory, or the process's
    address-space limit (``RLIMIT_AS``) when that is lower. 0 when unknown."""
    limit = 0
    try:
        limit = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        pass
    if resource is not None:
        try:
            soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        except (ValueError, OSError):
            soft = resource.RLIM_INFINITY
        if soft != resource.RLIM_INFINITY and soft > 0:
            limit = soft if limit <= 0 else min(limit, soft)
    return max(int(limit), 0)


def _format_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover


def check_output_size(shape: tuple[int, ...], itemsize: int, name: str, what: str = "the output",
                      *, also: int = 0) -> None:
    """Refuse, before anything is allocated, a result that cannot fit in memory.

    ``shape`` (Python ints, so the product cannot overflow) times ``itemsize``
    bytes, plus ``also`` more bytes of mandatory workspace, is compared with
    :func:`memory_limit`. Raises ``ValueError`` if the sizes (the nonzero ones,
    as NumPy counts even for an empty array) times ``itemsize`` reach 2**63
    bytes (NumPy's and the kernels' int64 sizes), and ``MemoryError`` naming
    ``name`` (the argument that asks for it) if the bytes exceed the limit.
    Costs nothing for ordinary sizes; every wrapper whose output size is known
    up front calls it. The bound is what the machine (or the process) could
    ever hold, not what is free at the moment: a request below it can still fail
    with NumPy's own MemoryError on a busy machine, but nothing is refused that
    could have succeeded, and nothing hopeless gets to allocate (or to overflow
    an int64 size) first.
    """
    count = math.prod(int(s) for s in shape)
    # NumPy refuses a shape whose nonzero sizes multiply past int64, even when it is empty.
    span = math.prod(max(int(s), 1) for s in shape) * max(itemsize, 1)
    if span >= 1 << 63:
        msg = (f"{name} asks for {what} of shape {tuple(shape)}: more than 2**63 bytes, "
               "beyond NumPy's sizes")
        raise ValueError(msg)
    need = count * itemsize + also
    limit = memory_limit()
    if limit and need > limit:
        msg = (f"{name} asks for {what} of shape {tuple(shape)} ({_format_bytes(need)}), "
               f"more than the {_format_bytes(limit)} of memory available")
        raise MemoryError(msg)
