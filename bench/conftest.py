from __future__ import annotations

import pytest

import npkernels as nk


@pytest.fixture(params=[1, 2], ids=lambda n: f"{n}thr")
def threads(request):
    """Run a benchmark at 1 and at 2 threads (npkernels' setting; anchors follow it)."""
    with nk.num_threads(request.param):
        yield request.param
