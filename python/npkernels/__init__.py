"""npkernels: fast C++ kernels for classic machine learning and computer vision.

NumPy in, NumPy out, no PyTorch needed. Every function gives the answers of
its anchor library (named in its docstring) and has a readable NumPy twin in
:mod:`npkernels.reference`.
"""

from __future__ import annotations

from . import detection, metrics, reference
from ._threads import get_num_threads, num_threads, set_num_threads
from ._warnings import UndefinedMetricWarning
from .detection import (
    batched_nms,
    batched_soft_nms,
    box_area,
    box_iou,
    generalized_box_iou,
    generalized_box_iou_loss,
    nms,
    soft_nms,
)
from .metrics import average_precision_score, rankdata, roc_auc_score, roc_curve

__version__ = "0.1.0"

__all__ = [
    "UndefinedMetricWarning",
    "average_precision_score",
    "batched_nms",
    "batched_soft_nms",
    "box_area",
    "box_iou",
    "detection",
    "generalized_box_iou",
    "generalized_box_iou_loss",
    "get_num_threads",
    "metrics",
    "nms",
    "num_threads",
    "rankdata",
    "reference",
    "roc_auc_score",
    "roc_curve",
    "set_num_threads",
    "soft_nms",
]
