"""Pure-NumPy twins of every public npkernels function: the specification, executable.

Each has the public function's name, signature and argument rules, and
computes in the same dtype, so the tests can hold the compiled kernels to it.
"""

from __future__ import annotations

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

__all__ = [
    "average_precision_score",
    "batched_nms",
    "batched_soft_nms",
    "box_area",
    "box_iou",
    "generalized_box_iou",
    "generalized_box_iou_loss",
    "nms",
    "rankdata",
    "roc_auc_score",
    "roc_curve",
    "soft_nms",
]
