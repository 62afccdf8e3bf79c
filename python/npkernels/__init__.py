"""npkernels: fast C++ kernels for classic machine learning and computer vision.

NumPy in, NumPy out, no PyTorch needed. Every function gives the answers of
its anchor library (named in its docstring) and has a readable NumPy twin in
:mod:`npkernels.reference`.
"""

from __future__ import annotations

from . import conv, detection, metrics, neighbors, norm, pool, reference
from ._threads import get_num_threads, num_threads, set_num_threads
from ._warnings import UndefinedMetricWarning
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

__version__ = "0.1.0"

# The kernel families; every public name of each is also a top-level name.
FAMILIES = (conv, detection, metrics, neighbors, norm, pool)

__all__ = sorted(
    {
        "get_num_threads",
        "num_threads",
        "set_num_threads",
        "reference",
        *(family.__name__.rsplit(".", 1)[1] for family in FAMILIES),
        *(name for family in FAMILIES for name in family.__all__),
    }
)
