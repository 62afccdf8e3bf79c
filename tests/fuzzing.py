"""The fuzzing machinery of tests/test_fuzz.py: call recipes, mutations, a crash-proof worker.

A *case* is a picklable recipe of one public call: the function's name, its
arguments (arrays as :class:`Arr` recipes, so that layouts such as Fortran
order, negative or huge strides, broadcast (zero-stride) views, read-only,
unaligned or byte-swapped arrays survive the trip to another process) and the
list of mutations that made it odd. Cases run in a :class:`Worker`, a separate
process, so a segfault or a hang is reported as a test failure naming the case
instead of killing pytest.

The verdict on a call (:func:`judge`): it returns (and then the NumPy twin in
``npkernels.reference`` returns a result of the same structure, dtypes and
shapes, and equal values when no NaN/inf/huge value was injected), or it
raises ValueError/TypeError (MemoryError for a resource bound) whose message
names one of the function's arguments, as the twin does. Anything else (an
IndexError, ZeroDivisionError, OverflowError, SystemError, RuntimeError,
pybind11's "incompatible function arguments", an unnamed NumPy MemoryError,
a crash, a hang) is a failure.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import multiprocessing
import os
import re
import resource
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

# ----------------------------------------------------------------------------- array recipes

LAYOUTS = ("C", "F", "neg", "step", "readonly", "broadcast", "huge_stride", "unaligned",
           "byteswap")


@dataclasses.dataclass
class Arr:
    """An ndarray recipe: ``base`` (C-contiguous, picklable) seen through ``layout``."""

    base: np.ndarray
    layout: str = "C"

    def make(self) -> np.ndarray:
        a = np.array(self.base)
        if self.layout == "F":
            return np.asfortranarray(a)
        if self.layout == "neg":  # same values, every stride negative
            flipped = np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])
            return flipped[(slice(None, None, -1),) * a.ndim]
        if self.layout == "step":  # same values, every other element of a bigger buffer
            big = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
            view = big[(slice(None, None, 2),) * a.ndim]
            view[...] = a
            return view
        if self.layout == "readonly":
            a.flags.writeable = False
            return a
        if self.layout == "broadcast":  # zero strides: the first element everywhere
            if a.size == 0:
                return a
            return np.broadcast_to(a.reshape(-1)[:1].reshape((1,) * a.ndim), a.shape)
        if self.layout == "huge_stride":  # axes of length 1 (or 0) get a 2**40-byte stride
            if a.ndim == 0:
                return a
            strides = tuple(
                (1 << 40) if s <= 1 else st for s, st in zip(a.shape, a.strides)
            )
            return np.lib.stride_tricks.as_strided(a, a.shape, strides, writeable=False)
        if self.layout == "unaligned":
            raw = np.zeros(a.nbytes + 1, np.uint8)
            view = raw[1:].view(a.dtype).reshape(a.shape) if a.dtype.itemsize else a
            view[...] = a
            return view
        if self.layout == "byteswap":
            if a.dtype.kind not in "biufc":
                return a
            return a.astype(a.dtype.newbyteorder())
        return a

    def __repr__(self) -> str:
        b = self.base
        return f"Arr({np.array2string(b, threshold=40, max_line_width=200)!s}, dtype={b.dtype}, " \
               f"shape={b.shape}, layout={self.layout!r})"


def materialise(value: Any) -> Any:
    """Turn every :class:`Arr` inside ``value`` (lists, tuples, dicts) into an ndarray."""
    if isinstance(value, Arr):
        return value.make()
    if isinstance(value, list):
        return [materialise(v) for v in value]
    if isinstance(value, tuple):
        return tuple(materialise(v) for v in value)
    if isinstance(value, dict):
        return {k: materialise(v) for k, v in value.items()}
    return value


# ----------------------------------------------------------------------------- mutations

ODD_DTYPES = (
    np.bool_, np.int8, np.uint8, np.int32, np.int64, np.uint64, np.float16, np.float32,
    np.float64, np.longdouble, np.complex64, np.complex128, object, "U6", "S6",
    "datetime64[s]", "timedelta64[ms]",
)

# Absurd values for any scalar (non-array) parameter.
ODD_SCALARS: tuple[Any, ...] = (
    None, True, False, -1, 0, 1, 2, 3, 2**31, 2**31 - 1, 2**63, -(2**63) - 1, 10**30, 1.5, -0.5,
    math.nan, math.inf, -math.inf, "same", "valid", "max", "", "abc", [1], [1, 2, 3], (), (0, 0),
    (1, -1), (2**62, 2**62), np.int64(3), np.float32("nan"), np.uint64(2**64 - 1), 1 + 1j,
    np.array([1, 2]), np.array(2), [None, None], b"x", 1e308, 5e-324,
)


def _cast(a: np.ndarray, dtype: Any) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "M":
        return (np.nan_to_num(a.astype(np.float64)) * 1000).astype(np.int64).astype(dt)
    if dt.kind == "m":
        return (np.nan_to_num(a.astype(np.float64)) * 1000).astype(np.int64).astype(dt)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if dt.kind in "iu" and a.dtype.kind == "f":
            a = np.nan_to_num(a, nan=0, posinf=0, neginf=0)
            a = np.clip(a, np.iinfo(dt).min, np.iinfo(dt).max)
        return a.astype(dt)


def array_mutations(a: np.ndarray) -> list[tuple[str, Any]]:
    """Every odd variant of array ``a``: (description, value) pairs."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # 1e300 into float32 overflows: on purpose
        return _array_mutations(a)


def _array_mutations(a: np.ndarray) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for layout in LAYOUTS[1:]:
        out.append((f"layout {layout}", Arr(a, layout)))
    for dt in ODD_DTYPES:
        out.append((f"dtype {np.dtype(dt)}", Arr(_cast(a, dt))))
    flat = a.reshape(-1)
    if a.dtype.kind == "f" and a.size:
        for v in (np.nan, np.inf, -np.inf, 1e300, -0.0):
            b = flat.copy()
            b[len(b) // 2] = v
            out.append((f"value {v} in the middle", Arr(b.reshape(a.shape))))
        out.append(("all NaN", Arr(np.full_like(a, np.nan))))
    if a.dtype.kind in "iu" and a.size:
        info = np.iinfo(np.int64)
        for v in (info.max, info.min, -1, 2**40):
            b = flat.astype(np.int64)  # int64 holds every one of these
            b[len(b) // 2] = v
            out.append((f"value {v} in the middle", Arr(b.reshape(a.shape))))
        out.append(("as float", Arr(a.astype(np.float64))))
        out.append(("as uint64 max", Arr(np.full(a.shape, 2**64 - 1, np.uint64))))
    if a.ndim:
        out.append(("first axis 0", Arr(a[:0])))
        out.append(("last axis 0", Arr(a[..., :0])))
        out.append(("extra leading axis", Arr(a[None])))
        out.append(("extra trailing axis", Arr(a[..., None])))
        out.append(("first row only", Arr(a[:1])))
        out.append(("one axis fewer", Arr(a[0] if a.shape[0] else np.zeros(a.shape[1:], a.dtype))))
        out.append(("raveled", Arr(a.reshape(-1))))
        out.append(("as list", a.tolist()))
        longer = (np.concatenate([a, a[..., :1]], axis=-1) if a.shape[-1]
                  else np.zeros((*a.shape[:-1], 1), a.dtype))
        out.append(("last axis + 1", Arr(longer)))
    out.append(("0-d", Arr(np.asarray(flat[0] if a.size else 0, a.dtype))))
    out.append(("python scalar", flat[0].item() if a.size else 0))
    out.append(("empty list", []))
    out.append(("ragged list", [[1, 2], [3]]))
    out.append(("None", None))
    out.append(("a string", "abc"))
    out.append(("an object", {"a": 1}))
    return out


def scalar_mutations(extra: tuple[Any, ...] = ()) -> list[tuple[str, Any]]:
    return [(f"set to {v!r}", v) for v in (*extra, *ODD_SCALARS)]


# ----------------------------------------------------------------------------- specs


@dataclasses.dataclass
class Spec:
    """How to fuzz one public callable.

    ``base(rng)`` returns a plausible (usually valid) call as a dict of argument
    name -> value (arrays as plain ndarrays). ``arrays`` names the array
    arguments, ``odd`` gives extra absurd values per scalar argument.
    ``ctor`` (KDTree methods) builds the object the method is called on.
    """

    name: str  # "box_iou" or "KDTree.query"
    base: Callable[[np.random.Generator], dict[str, Any]]
    arrays: tuple[str, ...] = ()
    odd: dict[str, tuple[Any, ...]] = dataclasses.field(default_factory=dict)
    compare: str = "values"  # "values", "shapes" (dtype and shape only) or "none"
    memory: bool = False  # MemoryError is an acceptable answer (a resource bound)
    skip_scalars: tuple[str, ...] = ()  # arguments that must stay as given (e.g. ctor)
    reference: bool = True  # has a twin in npkernels.reference
    approximate: tuple[str, ...] = ()  # arguments whose odd values make results approximate
    normalise: Callable[[Any], Any] | None = None  # e.g. sort what is in no defined order


@dataclasses.dataclass
class Case:
    spec: str
    kwargs: dict[str, Any]
    mutations: list[str]
    threads: int = 2
    clean: bool | None = True  # no NaN/inf/huge value injected: the twin's values must agree
    # (None: an approximate search was asked for, only the errors are compared)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        text = f"Case({self.spec}: {args}; mutations={self.mutations}, threads={self.threads})"
        return " ".join(text.split())


def wrap(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Plain ndarrays in a base call become C-layout :class:`Arr` recipes."""

    def one(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return Arr(v)
        if isinstance(v, list) and v and all(isinstance(x, np.ndarray) for x in v):
            return [Arr(x) for x in v]
        return v

    return {k: one(v) for k, v in kwargs.items()}


def all_mutations(spec: Spec, base: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(argument, description, value) for every single-argument mutation of ``base``."""
    out = []
    for name, value in base.items():
        if name in spec.skip_scalars:
            continue
        if isinstance(value, np.ndarray):
            for desc, v in array_mutations(value):
                out.append((name, desc, v))
            for v in spec.odd.get(name, ()):
                out.append((name, f"set to {v!r}", v))
        elif name not in spec.arrays:
            for desc, v in scalar_mutations(spec.odd.get(name, ())):
                out.append((name, desc, v))
        else:  # an array argument given as None / a list in this base call
            for desc, v in array_mutations(np.zeros((2, 4))):
                out.append((name, desc, v))
            for v in spec.odd.get(name, ()):
                out.append((name, f"set to {v!r}", v))
    return out


def mutate(spec: Spec, base: dict[str, Any], picks: list[tuple[str, str, Any]],
           threads: int) -> Case:
    kwargs = wrap(base)
    mutations: list[str] = []
    clean: bool | None = True
    for name, desc, value in picks:
        kwargs[name] = value
        mutations.append(f"{name}: {desc}")
        if desc.startswith(("value", "all NaN", "layout broadcast", "as uint64")) and clean:
            clean = False
        if name in spec.approximate:
            clean = None  # approximate: the result may legitimately differ from the twin's
    return Case(spec.name, kwargs, mutations, threads, clean)


# ----------------------------------------------------------------------------- the verdict

FORBIDDEN_TEXT = ("incompatible function arguments", "Unable to cast", "unable to convert")


def resolve(name: str, reference: bool = False):
    import npkernels as nk
    from npkernels import reference as ref

    root = ref if reference else nk
    obj = root
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _call(spec_name: str, kwargs: dict[str, Any], reference: bool) -> Any:
    if spec_name.startswith("KDTree."):
        method = spec_name.split(".", 1)[1]
        tree = resolve("KDTree", reference)(*kwargs.pop("__ctor__"))
        return getattr(tree, method)(**kwargs)
    fn = resolve(spec_name, reference)
    if spec_name == "num_threads":
        with fn(**kwargs):
            return resolve("get_num_threads", reference)()
    if spec_name == "set_num_threads":
        import npkernels as nk

        before = nk.get_num_threads()
        try:
            return fn(**kwargs)
        finally:
            nk.set_num_threads(before)
    return fn(**kwargs)


def _outcome(spec_name: str, kwargs: dict[str, Any], reference: bool, threads: int):
    import npkernels as nk

    args = materialise(kwargs)
    arrays = {k: v for k, v in args.items() if isinstance(v, np.ndarray)}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            with nk.num_threads(threads):
                return "ok", _call(spec_name, dict(args), reference), arrays
        except BaseException as exc:  # noqa: BLE001 - classifying every exception is the point
            return "raise", exc, arrays


def _parameter_names(spec_name: str) -> list[str]:
    fn = resolve(spec_name)
    names = list(inspect.signature(fn).parameters)
    if spec_name.startswith("KDTree."):
        names += list(inspect.signature(resolve("KDTree")).parameters)
    return [n for n in names if n != "self"]


def _names_an_argument(message: str, names: list[str]) -> bool:
    """The message names one of ``names`` as a word ("x must ...", "boxes[0] ...")."""
    if "number of threads" in message:  # the thread-count setting has no argument name
        return True
    return any(re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", message) for n in names)


def _same_structure(a: Any, b: Any, values: bool, path: str = "result",
                    loose: bool = False) -> str | None:
    if isinstance(a, tuple) or isinstance(b, tuple):
        if not (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)):
            return f"{path}: {type(a).__name__} vs reference {type(b).__name__}"
        for i, (x, y) in enumerate(zip(a, b)):
            bad = _same_structure(x, y, values, f"{path}[{i}]", loose)
            if bad:
                return bad
        return None
    if isinstance(a, set) or isinstance(b, set):
        if a != b:
            return f"{path}: sets differ ({len(a)} vs {len(b)} pairs)" if values else None
        return None
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)):
            return f"{path}: {type(a).__name__} vs reference {type(b).__name__}"
        if values and sorted(a) != sorted(b):
            return f"{path}: {a} vs reference {b}"
        return None
    if a is None or b is None:
        return None if a is b else f"{path}: {a!r} vs reference {b!r}"
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape:
            return f"{path}: {a.dtype}{a.shape} vs reference {b.dtype}{b.shape}"
        if a.dtype == object:
            same = all(sorted(x) == sorted(y) if isinstance(x, list) and isinstance(y, list)
                       else bool(np.all(x == y)) for x, y in zip(a.ravel(), b.ravel()))
            return None if same or not values else f"{path}: object arrays differ"
    if not values:
        return None
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind not in "fc" or b.dtype.kind not in "fc":
        if not np.array_equal(a, b):
            return f"{path}: {a} vs reference {b}"
        return None
    tol = 1e-3 if loose or np.result_type(a, b) == np.float32 else 1e-7
    scale = max(1.0, float(np.nanmax(np.abs(b[np.isfinite(b)]), initial=0.0)))
    if not np.allclose(a, b, rtol=tol, atol=tol * scale, equal_nan=True):
        return f"{path}: values differ from the reference: {a!r} vs {b!r}"
    return None


def judge(case: Case, spec: Spec) -> str | None:
    """None if the call behaved as documented, else what went wrong."""
    kind, got, after = _outcome(case.spec, case.kwargs, False, case.threads)
    names = _parameter_names(case.spec)
    if spec.reference:
        ref_kind, ref_got, ref_after = _outcome(case.spec, case.kwargs, True, 1)
    else:
        ref_kind, ref_got, ref_after = kind, got, after
    if kind == "raise":
        exc = got
        allowed = (ValueError, TypeError, MemoryError) if spec.memory else (ValueError, TypeError)
        text = str(exc)
        if not isinstance(exc, allowed) or isinstance(exc, (IndexError, KeyError)):
            return f"raised {type(exc).__name__}: {text}"
        if any(t in text for t in FORBIDDEN_TEXT):
            return f"raised a pybind11 cast error {type(exc).__name__}: {text}"
        if not _names_an_argument(text, names):
            return f"{type(exc).__name__} does not name an argument: {text!r}"
        if ref_kind == "ok":
            return f"raised {type(exc).__name__}({text!r}) but the reference returned"
        base = MemoryError if isinstance(exc, MemoryError) else type(exc)
        if not isinstance(ref_got, (base, ValueError, TypeError) if spec.memory else base):
            return (f"raised {type(exc).__name__}({text!r}) but the reference raised "
                    f"{type(ref_got).__name__}({ref_got})")
        return None
    if ref_kind == "raise":
        if spec.memory and isinstance(ref_got, MemoryError):
            return None  # the brute-force twin may need more memory than the kernel
        return f"returned but the reference raised {type(ref_got).__name__}: {ref_got}"
    if spec.compare == "none" or case.clean is None:
        return None
    # Inputs after the call: unchanged, or updated in place as the twin does (running stats).
    # (loosely: a running statistic mixes float32 batch statistics into a float64 array)
    bad = _same_structure(tuple(after.values()), tuple(ref_after.values()), bool(case.clean),
                          f"the arguments {tuple(after)} after the call", loose=True)
    if bad:
        return bad
    if spec.normalise is not None:
        got, ref_got = spec.normalise(got), spec.normalise(ref_got)
    return _same_structure(got, ref_got, bool(case.clean) and spec.compare == "values")


# ----------------------------------------------------------------------------- the worker

# The worker's address space is capped so that a runaway allocation is a MemoryError, not
# the machine's memory (npkernels' size guard reads this limit too). Under AddressSanitizer
# (.ci/sanitize), whose shadow memory reserves terabytes of address space, the cap cannot
# apply: that run bounds each allocation with ASan's max_allocation_size_mb instead.
WORKER_MEMORY = 3 << 30


def serve(conn, specs_module: str) -> None:  # pragma: no cover - runs in the worker
    if not os.environ.get("NPK_SANITIZE"):
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    import importlib

    specs = importlib.import_module(specs_module).SPECS
    while True:
        msg = conn.recv()
        if msg is None:
            return
        case = msg
        try:
            verdict = judge(case, specs[case.spec])
        except BaseException as exc:  # noqa: BLE001
            verdict = f"the judge itself failed: {type(exc).__name__}: {exc}"
        conn.send(verdict)


class Worker:
    """A child process that judges cases one at a time; restarted after a crash or a hang."""

    def __init__(self, specs_module: str, timeout: float = 30.0) -> None:
        self.specs_module = specs_module
        self.timeout = timeout
        self.count = 0
        self._proc = None
        self._conn = None

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        # One BLAS thread in the worker: its buffers then fit the capped address space on any
        # machine (npkernels holds SciPy's BLAS at one thread during a convolution anyway).
        saved = os.environ.get("OPENBLAS_NUM_THREADS")
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        try:
            self._proc = ctx.Process(target=serve, args=(child, self.specs_module), daemon=True)
            self._proc.start()
        finally:
            if saved is None:
                del os.environ["OPENBLAS_NUM_THREADS"]
            else:
                os.environ["OPENBLAS_NUM_THREADS"] = saved
        child.close()
        self._conn = parent

    def run(self, case: Case) -> str | None:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        self.count += 1
        try:
            self._conn.send(case)
            answered = self._conn.poll(self.timeout)
            if answered:
                return self._conn.recv()
        except (EOFError, OSError):
            answered = True
        if not answered:
            self.stop(kill=True)
            return f"hung: no answer within {self.timeout} s"
        self._proc.join(5)
        code = self._proc.exitcode
        self._proc = None
        return f"the worker process died (exit code {code}: a crash)"

    def stop(self, kill: bool = False) -> None:
        if self._proc is None:
            return
        if kill:
            self._proc.kill()
        else:
            try:
                self._conn.send(None)
            except OSError:
                pass
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._proc = None
