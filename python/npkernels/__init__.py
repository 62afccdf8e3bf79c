"""npkernels: fast C++ kernels for classic machine learning and computer vision.

NumPy in, NumPy out, no PyTorch needed. Every function gives the answers of
its anchor library (named in its docstring) and has a readable NumPy twin in
:mod:`npkernels.reference`.
"""

from __future__ import annotations

from . import conv, metrics, reference
from ._threads import get_num_threads, num_threads, set_num_threads
from ._warnings import UndefinedMetricWarning
from .conv import col2im, conv2d, conv2d_backward, conv_transpose2d, im2col
from .metrics import average_precision_score, rankdata, roc_auc_score, roc_curve

__version__ = "0.1.0"

__all__ = [
    "UndefinedMetricWarning",
    "average_precision_score",
    "col2im",
    "conv",
    "conv2d",
    "conv2d_backward",
    "conv_transpose2d",
    "get_num_threads",
    "im2col",
    "metrics",
    "num_threads",
    "rankdata",
    "reference",
    "roc_auc_score",
    "roc_curve",
    "set_num_threads",
]
