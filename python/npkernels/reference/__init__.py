"""Pure-NumPy twins of every public npkernels function: the specification, executable.

Each has the public function's name, signature and argument rules, and
computes in the same dtype, so the tests can hold the compiled kernels to it.
"""

from __future__ import annotations

from . import conv, detection, metrics, neighbors, norm, pool
from .conv import col2im, conv2d, conv2d_backward, conv_transpose2d, im2col
from .detection import (
    batched_nms,
    batched_soft_nms,
    box_area,
    box_iou,
    generalized_box_iou,
    generalized_box_iou_loss,
    nms,
    roi_align,
    roi_align_backward,
    roi_pool,
    roi_pool_backward,
    soft_nms,
)
from .metrics import average_precision_score, rankdata, roc_auc_score, roc_curve
from .neighbors import KDTree, knn_predict
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

__all__ = sorted(name for family in (conv, detection, metrics, neighbors, norm, pool) for name in family.__all__)
