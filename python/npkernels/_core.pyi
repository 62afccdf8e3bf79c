# Stub of the compiled module (hand-written; keep in step with cpp/bindings/).
import numpy as np
from numpy.typing import NDArray

def rankdata(a: NDArray[np.generic], method: str, *, n_threads: int) -> NDArray[np.float64]: ...
def binary_roc_auc(
    y_score: NDArray[np.floating],
    is_pos: NDArray[np.uint8],
    sample_weight: NDArray[np.float64] | None,
    *,
    n_threads: int,
) -> tuple[float, float, float]: ...
def roc_curve_points(
    y_score: NDArray[np.floating],
    is_pos: NDArray[np.uint8],
    sample_weight: NDArray[np.float64] | None,
    drop_intermediate: bool,
    *,
    n_threads: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
def average_precision(
    y_score: NDArray[np.floating],
    is_pos: NDArray[np.uint8],
    sample_weight: NDArray[np.float64] | None,
    *,
    n_threads: int,
) -> tuple[float, float]: ...
def roi_align(
    input: NDArray[np.floating],
    rois: NDArray[np.floating],
    spatial_scale: float,
    pooled_height: int,
    pooled_width: int,
    sampling_ratio: int,
    aligned: bool,
    *,
    n_threads: int,
) -> NDArray[np.floating]: ...
def roi_align_backward(
    grad_output: NDArray[np.floating],
    rois: NDArray[np.floating],
    batch: int,
    height: int,
    width: int,
    spatial_scale: float,
    sampling_ratio: int,
    aligned: bool,
    *,
    n_threads: int,
) -> NDArray[np.floating]: ...
def roi_pool(
    input: NDArray[np.floating],
    rois: NDArray[np.floating],
    spatial_scale: float,
    pooled_height: int,
    pooled_width: int,
    *,
    n_threads: int,
) -> tuple[NDArray[np.floating], NDArray[np.int64]]: ...
def roi_pool_backward(
    grad_output: NDArray[np.floating],
    argmax: NDArray[np.int64],
    rois: NDArray[np.floating],
    batch: int,
    height: int,
    width: int,
    *,
    n_threads: int,
) -> NDArray[np.floating]: ...
