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
from fuzzing import Worker, all_mutations, mutate

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
