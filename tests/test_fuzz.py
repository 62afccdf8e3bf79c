"""Fuzzing every public function and KDTree method (issue 8), in a crash-proof worker process.

Two passes per public callable, both judged by :func:`fuzzing.judge` in a
separate process (a segfault or a hang fails the test and names the case):

* a sweep: one seeded plausible call, then every single mutation of it (each
  array argument in every odd dtype and layout, with NaN/inf/huge values,
  0-sized, extra or missing axes, as 0-d, Python scalar, list, None...; each
  scalar argument set to every absurd value: NaN, inf, negative, 0, 2**63,
  strings, lists, huge sizes...);
* hypothesis: random plausible calls with up to three mutations at once and
  1-3 threads (max_examples from the hypothesis profile, times NPK_FUZZ_SCALE).

The number of cases run is printed in the terminal summary.
"""

from __future__ import annotations

import inspect
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npkernels as nk
from fuzz_specs import SPECS, WINDOW
from fuzzing import Case, Worker, all_mutations, mutate, wrap

SCALE = float(os.environ.get("NPK_FUZZ_SCALE", "1"))
SWEEP_SEEDS = (2026, 7)


def public_callables() -> list[str]:
    """Every public callable of ``npkernels.__all__``, and ``KDTree.<method>`` for its methods."""
    names = []
    for name in nk.__all__:
        obj = getattr(nk, name)
        if inspect.ismodule(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
            continue
        if callable(obj):
            names.append(name)
        if inspect.isclass(obj):
            for attr, member in inspect.getmembers(obj):
                if not attr.startswith("_") and callable(member):
                    names.append(f"{name}.{attr}")
    return sorted(names)


class _Counter:
    """Adds the number of fuzz cases to pytest's terminal summary."""

    def __init__(self) -> None:
        self.cases = 0

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.write_line(
            f"npkernels fuzzing: {self.cases} cases run in a worker process")


@pytest.fixture(scope="module")
def worker(request):
    counter = _Counter()
    request.config.pluginmanager.register(counter, "npk-fuzz-counter")
    w = Worker("fuzz_specs")
    yield w
    w.stop()
    counter.cases = w.count


def test_every_public_callable_has_a_fuzz_spec():
    missing = sorted(set(public_callables()) - set(SPECS))
    assert not missing, f"public callables without a fuzz spec in tests/fuzz_specs.py: {missing}"
    stale = sorted(set(SPECS) - set(public_callables()))
    assert not stale, f"fuzz specs for names that are not public: {stale}"


def test_every_spec_argument_is_a_parameter():
    for name, spec in SPECS.items():
        fn = getattr(nk, name) if "." not in name else getattr(nk.KDTree, name.split(".")[1])
        params = set(inspect.signature(fn).parameters) | {"__ctor__"}
        base = spec.base(np.random.default_rng(0))
        assert set(base) <= params, (name, set(base) - params)
        unused = set(spec.odd) - params - set(WINDOW)  # WINDOW is shared by every window op
        assert not unused, (name, unused)


def _failures(worker, cases) -> list[str]:
    out = []
    for case in cases:
        verdict = worker.run(case)
        if verdict is not None:
            out.append(f"{verdict}\n    {case!r}")
    return out


@pytest.mark.parametrize("name", sorted(SPECS))
def test_sweep(worker, name):
    spec = SPECS[name]
    cases = []
    for seed in SWEEP_SEEDS:
        base = spec.base(np.random.default_rng([seed, sorted(SPECS).index(name)]))
        cases.append(mutate(spec, base, [], 2))
        cases += [mutate(spec, base, [m], 1 + i % 3)
                  for i, m in enumerate(all_mutations(spec, base))]
    bad = _failures(worker, cases)
    assert not bad, f"{len(bad)} of {len(cases)} cases failed:\n" + "\n".join(bad[:30])


@pytest.mark.parametrize("name", sorted(SPECS))
def test_random(worker, name):
    spec = SPECS[name]

    @settings(max_examples=max(1, int(settings().max_examples * SCALE)),
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow], database=None)
    @given(seed=st.integers(0, 2**32 - 1), data=st.data(), threads=st.integers(1, 3))
    def run(seed, data, threads):
        base = spec.base(np.random.default_rng(seed))
        pool = all_mutations(spec, base)
        count = data.draw(st.integers(0, 3), label="mutations")
        count = count if pool else 0
        picks = [pool[data.draw(st.integers(0, len(pool) - 1))] for _ in range(count)]
        case = mutate(spec, base, picks, threads)
        verdict = worker.run(case)
        assert verdict is None, f"{verdict}\n    {case!r}"

    run()


def _extreme_boxes(rng: np.random.Generator, n: int, dtype) -> np.ndarray:
    """n finite boxes whose corners and sizes range over many orders of magnitude, some at
    +-max of the dtype (so that spans overflow), some empty or inverted."""
    big = float(np.finfo(dtype).max)
    with np.errstate(all="ignore"):
        xy = rng.standard_normal((n, 2)) * rng.choice([1.0, 1e6, 1e30, big / 4])
        wh = np.abs(rng.standard_normal((n, 2))) * rng.choice([0.0, 1e-30, 1.0, 1e20, big / 4])
        boxes = np.concatenate([xy, xy + wh], axis=1)
        rows = rng.integers(0, n, int(rng.integers(1, 6)))
        boxes[rows] = rng.choice([big, -big, 0.0, 1e-300], (rows.size, 4))
        # Two real boxes at opposite ends: their corners span more than the dtype holds.
        boxes[:2] = [[-big, -big, -big / 2, -big / 2], [big / 2, big / 2, big, big]]
        return np.nan_to_num(boxes.astype(dtype), posinf=big, neginf=-big)


@pytest.mark.parametrize("name", ["nms", "batched_nms", "soft_nms", "batched_soft_nms",
                                  "box_iou", "generalized_box_iou", "box_area"])
def test_many_boxes_with_extreme_coordinates(worker, name):
    """Enough boxes for the grid paths (>= 48), coordinates up to +-max of the dtype: an
    endless loop once (the grid's cell size never fitted a span of inf)."""
    rng = np.random.default_rng([SWEEP_SEEDS[0], len(name)])
    spec, cases = SPECS[name], []
    for i in range(max(2, int(8 * SCALE))):
        dtype = (np.float32, np.float64)[i % 2]
        n = int(rng.integers(48, 300))
        b = _extreme_boxes(rng, n, dtype)
        s = np.round(rng.random(n), 1).astype(dtype)
        kwargs = {"boxes": b, "scores": s, "idxs": rng.integers(0, 3, n),
                  "iou_threshold": float(rng.choice([0.0, 0.3, 0.5, 1.0]))}
        if name.startswith(("box", "generalized")):
            kwargs = {"boxes1": b, "boxes2": b[::-1].copy()} if name != "box_area" else {"boxes": b}
        elif not name.startswith("batched"):
            del kwargs["idxs"]
        cases.append(Case(name, wrap(kwargs), ["many boxes, extreme coordinates"], 1 + i % 2,
                          clean=False))
    bad = _failures(worker, cases)
    assert not bad, "\n".join(bad[:5])
