"""Pure-NumPy twins of every public npkernels function: the specification, executable.

Each has the public function's name, signature and argument rules, and
computes in the same dtype, so the tests can hold the compiled kernels to it.
"""

from __future__ import annotations

from .detection import roi_align, roi_align_backward, roi_pool, roi_pool_backward
from .metrics import average_precision_score, rankdata, roc_auc_score, roc_curve

__all__ = [
    "average_precision_score",
    "rankdata",
    "roc_auc_score",
    "roc_curve",
    "roi_align",
    "roi_align_backward",
    "roi_pool",
    "roi_pool_backward",
]
