"""The workloads of ``python -m npkernels``: the one place where every kernel registers.

A :class:`Case` names a public kernel, builds its inputs, and says how to run
it, its NumPy reference and its anchors (loaded lazily: a missing anchor is
reported as absent, never as a failure). Each family lists its cases in its
own module here; add the module's cases to ``CASES``.
"""

from __future__ import annotations

from . import conv, detection, metrics, neighbors, pool, roi
from .base import Case

__all__ = ["CASES", "Case"]

CASES: list[Case] = [
    *metrics.cases(),
    *pool.pool_cases(),
    *pool.norm_cases(),
    *neighbors.cases(),
    *detection.cases(),
    *roi.cases(),
    *conv.cases(),
]
