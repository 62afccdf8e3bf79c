"""npkernels: fast C++ kernels for classic machine learning and computer vision.

NumPy in, NumPy out, no PyTorch needed. Every function gives the answers of
its anchor library (named in its docstring) and has a readable NumPy twin in
:mod:`npkernels.reference`.
"""

from __future__ import annotations

from . import metrics, neighbors, reference
from ._threads import get_num_threads, num_threads, set_num_threads
from ._warnings import UndefinedMetricWarning
from .metrics import average_precision_score, rankdata, roc_auc_score, roc_curve
from .neighbors import KDTree, knn_predict

__version__ = "0.1.0"

__all__ = [
    "KDTree",
    "UndefinedMetricWarning",
    "average_precision_score",
    "get_num_threads",
    "knn_predict",
    "metrics",
    "neighbors",
    "num_threads",
    "rankdata",
    "reference",
    "roc_auc_score",
    "roc_curve",
    "set_num_threads",
]
