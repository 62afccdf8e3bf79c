"""Pure-NumPy twins of every public npkernels function: the specification, executable.

Each has the public function's name, signature and argument rules, and
computes in the same dtype, so the tests can hold the compiled kernels to it.
"""

from __future__ import annotations

from .metrics import average_precision_score, rankdata, roc_auc_score, roc_curve
from .neighbors import KDTree, knn_predict

__all__ = [
    "KDTree",
    "average_precision_score",
    "knn_predict",
    "rankdata",
    "roc_auc_score",
    "roc_curve",
]
