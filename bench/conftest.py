from __future__ import annotations

import npkernels as nk
import pytest


@pytest.fixture(params=[1, 2], ids=lambda n: f"{n}thr")
def threads(request):
    """Run a benchmark at 1 and at 2 threads (npkernels' setting; anchors follow it)."""
    with nk.num_threads(request.param):
        yield request.param


_REPORT: list[tuple[str, str, str]] = []


@pytest.fixture
def report():
    """``report(group, impl, text)``: a line for the summary printed after the run.

    For figures pytest-benchmark's table cannot show (GFLOP/s, peak memory);
    printed in the order reported, also with ``--benchmark-disable``.
    """

    def add(group: str, impl: str, text: str) -> None:
        _REPORT.append((group, impl, text))

    return add


def pytest_terminal_summary(terminalreporter):
    if not _REPORT:
        return
    terminalreporter.section("benchmark figures")
    width = max(len(g) for g, _, _ in _REPORT)
    iwidth = max(len(i) for _, i, _ in _REPORT)
    for group, impl, text in sorted(_REPORT, key=lambda r: r[0]):
        terminalreporter.write_line(f"{group:<{width}}  {impl:<{iwidth}}  {text}")
