"""``python -m npkernels``: check every kernel against its NumPy reference and time it.

For each registered case (``_cases.CASES``) it builds the inputs, runs
npkernels, the reference and every importable anchor with the same thread
budget, compares the results (max absolute / relative error), and prints one
table row. Exits 1 if any result is outside its tolerance.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

import npkernels as nk

from ._cases import CASES, Case


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m npkernels",
        description="Self-check and speed report of every npkernels kernel against its NumPy "
        "reference and, when installed, its anchor library.",
    )
    parser.add_argument("--quick", action="store_true", help="small workloads, fewer repeats")
    parser.add_argument("--threads", type=int, default=None, help="threads for every library")
    parser.add_argument("--kernels", default=None, help="comma-separated kernel names to run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    return args


def _select(cases: list[Case], kernels: str | None, quick: bool) -> list[Case]:
    chosen = [c for c in cases if c.quick or not quick]
    if kernels is None:
        return chosen
    wanted = [k.strip() for k in kernels.split(",") if k.strip()]
    known = {c.kernel for c in cases}
    unknown = [k for k in wanted if k not in known]
    if unknown:
        msg = f"unknown kernel(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        raise SystemExit(msg)
    return [c for c in chosen if c.kernel in wanted]


@contextlib.contextmanager
def _thread_budget(n: int) -> Iterator[None]:
    """The same thread count for npkernels, BLAS pools and torch (when imported)."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with nk.num_threads(n), threadpool_limits(limits=n):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(previous)


def _timed(fn: Callable[..., Any], inputs: tuple[Any, ...], repeats: int, budget: float):
    """(result, median ms): one warm-up call, then up to ``repeats`` timed calls within budget."""
    start = time.perf_counter()
    result = fn(*inputs)
    first = time.perf_counter() - start
    times = []
    spent = first
    while len(times) < repeats and (not times or spent + first <= budget):
        t0 = time.perf_counter()
        fn(*inputs)
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    return result, 1e3 * statistics.median(times)


def _flat(x: Any) -> list[np.ndarray]:
    if isinstance(x, tuple):
        return [a for item in x for a in _flat(item)]
    return [np.asarray(x, dtype=np.float64)]


def _max_errors(
    actual: Any, expected: Any, scale: float = 0.0, normwise: bool = False
) -> tuple[float, float]:
    """Max absolute and relative error over every array of two results (NaN == NaN).

    The relative error is per element, against ``max(|expected|, scale)`` (``scale``:
    the magnitude below which values count as zero; 0 = purely relative), or with
    ``normwise`` the max absolute error of an array over its max magnitude (for sums
    in a BLAS order, where an output near zero says nothing about the rounding).
    """
    worst_abs = worst_rel = 0.0
    got, want = _flat(actual), _flat(expected)
    if len(got) != len(want):
        return float("inf"), float("inf")
    for a, b in zip(got, want):
        if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
            return float("inf"), float("inf")
        ok = ~np.isnan(a)
        if not ok.any():
            continue
        with np.errstate(invalid="ignore"):  # inf - inf
            diff = np.abs(a[ok] - b[ok])
        diff[a[ok] == b[ok]] = 0.0  # infinities equal to themselves
        worst_abs = max(worst_abs, float(diff.max()))
        magnitude = np.abs(b[ok]).max() if normwise else np.abs(b[ok])
        floor = max(scale, 1e-300)
        worst_rel = max(worst_rel, float((diff / np.maximum(magnitude, floor)).max()))
    return worst_abs, worst_rel


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run_case(case: Case, index: int, total: int, repeats: int, budget: float) -> dict[str, Any]:
    tag = f"[{index}/{total}] {case.kernel} {case.size}"
    inputs = case.make_inputs(np.random.default_rng(index))
    _progress(f"{tag}: npkernels")
    result, ms = _timed(case.run, inputs, repeats, budget)
    _progress(f"{tag}: reference")
    expected, ref_ms = _timed(case.reference, inputs, repeats, budget)
    abs_err, rel_err = _max_errors(result, expected, case.scale, case.normwise)
    row: dict[str, Any] = {
        "kernel": case.kernel,
        "size": case.size,
        "npkernels_ms": ms,
        "reference_ms": ref_ms,
        "speedup_vs_reference": ref_ms / ms,
        "max_abs_error": abs_err,
        "max_rel_error": rel_err,
        "anchors": {},
        "ok": rel_err <= case.tolerance,
    }
    for name, load in case.anchors.items():
        try:
            anchor = load()
        except ImportError:
            row["anchors"][name] = None
            continue
        _progress(f"{tag}: {name}")
        anchor_result, anchor_ms = _timed(anchor, inputs, repeats, budget)
        anchor_rel = _max_errors(result, anchor_result, case.scale, case.normwise)[1]
        row["anchors"][name] = {
            "ms": anchor_ms,
            "speedup": anchor_ms / ms,
            "max_rel_error": anchor_rel,
        }
        row["ok"] = row["ok"] and anchor_rel <= case.tolerance
    return row


def _table(rows: list[dict[str, Any]], threads: int) -> str:
    header = (
        f"npkernels {nk.__version__} | {platform.machine()} | {os.cpu_count()} CPUs | "
        f"{threads} thread(s) | NumPy {np.__version__}"
    )
    columns = ("kernel", "size", "npkernels ms", "reference ms", "vs ref", "anchor", "anchor ms",
               "vs anchor", "max rel err", "check")
    lines = []
    for r in rows:
        anchors = r["anchors"] or {"-": None}
        for name, a in anchors.items():
            lines.append((
                r["kernel"], r["size"], f"{r['npkernels_ms']:.2f}", f"{r['reference_ms']:.2f}",
                f"{r['speedup_vs_reference']:.1f}x",
                name if a is not None or name == "-" else f"{name} (absent)",
                f"{a['ms']:.2f}" if a else "-", f"{a['speedup']:.1f}x" if a else "-",
                f"{max([r['max_rel_error']] + ([a['max_rel_error']] if a else [])):.1e}",
                "ok" if r["ok"] else "FAIL",
            ))
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(columns)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [header, fmt.format(*columns), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    cases = _select(CASES, args.kernels, args.quick)
    threads = args.threads or nk.get_num_threads()
    repeats, budget = (3, 2.0) if args.quick else (7, 10.0)
    rows = []
    with _thread_budget(threads):
        for i, case in enumerate(cases, 1):
            rows.append(_run_case(case, i, len(cases), repeats, budget))
    if args.json:
        print(json.dumps({"threads": threads, "results": rows}, indent=2))
    else:
        print(_table(rows, threads))
    failed = [f"{r['kernel']} {r['size']}" for r in rows if not r["ok"]]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(rows)} checks passed", file=sys.stderr)
    return 0
