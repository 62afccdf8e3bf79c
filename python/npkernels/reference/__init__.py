"""Pure-NumPy twins of every public npkernels function: the specification, executable.

Each has the public function's name, signature and argument rules, and
computes in the same dtype, so the tests can hold the compiled kernels to it.
"""

from __future__ import annotations

from .metrics import average_precision_score, rankdata, roc_auc_score, roc_curve
from .norm import batch_norm, batch_norm_backward, batch_norm_forward
from .pool import (
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    adaptive_max_pool2d,
    adaptive_max_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    lp_pool2d,
    lp_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    spatial_pyramid_pool,
)

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_avg_pool2d_backward",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_backward",
    "average_precision_score",
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm",
    "batch_norm_backward",
    "batch_norm_forward",
    "lp_pool2d",
    "lp_pool2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "rankdata",
    "roc_auc_score",
    "roc_curve",
    "spatial_pyramid_pool",
]
