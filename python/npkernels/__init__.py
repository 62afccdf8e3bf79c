"""npkernels: fast C++ kernels for classic machine learning and computer vision.

NumPy in, NumPy out, no PyTorch needed. Every function gives the answers of
its anchor library (named in its docstring) and has a readable NumPy twin in
:mod:`npkernels.reference`.
"""

from __future__ import annotations

from . import detection, metrics, reference
from ._threads import get_num_threads, num_threads, set_num_threads
from ._warnings import UndefinedMetricWarning
from .detection import roi_align, roi_align_backward, roi_pool, roi_pool_backward
from .metrics import average_precision_score, rankdata, roc_auc_score, roc_curve

__version__ = "0.1.0"

__all__ = [
    "UndefinedMetricWarning",
    "average_precision_score",
    "detection",
    "get_num_threads",
    "metrics",
    "num_threads",
    "rankdata",
    "reference",
    "roc_auc_score",
    "roc_curve",
    "roi_align",
    "roi_align_backward",
    "roi_pool",
    "roi_pool_backward",
    "set_num_threads",
]
