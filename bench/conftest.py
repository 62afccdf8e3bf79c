from __future__ import annotations

import npkernels as nk
import pytest


@pytest.fixture(params=[1, 2], ids=lambda n: f"{n}thr")
def threads(request):
    """Run a benchmark at 1 and at 2 threads (npkernels' setting; anchors follow it)."""
    with nk.num_threads(request.param):
        yield request.param
