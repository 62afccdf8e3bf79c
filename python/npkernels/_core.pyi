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
def box_area(boxes: NDArray[np.floating], *, n_threads: int) -> NDArray[np.floating]: ...
def box_iou(
    boxes1: NDArray[np.floating], boxes2: NDArray[np.floating], *, n_threads: int
) -> NDArray[np.floating]: ...
def generalized_box_iou(
    boxes1: NDArray[np.floating], boxes2: NDArray[np.floating], *, n_threads: int
) -> NDArray[np.floating]: ...
def generalized_box_iou_loss(
    boxes1: NDArray[np.floating], boxes2: NDArray[np.floating], eps: float, *, n_threads: int
) -> NDArray[np.floating]: ...
def nms(
    boxes: NDArray[np.floating],
    scores: NDArray[np.floating],
    idxs: NDArray[np.int64] | None,
    iou_threshold: float,
    *,
    n_threads: int,
) -> NDArray[np.int64]: ...
def soft_nms(
    boxes: NDArray[np.floating],
    scores: NDArray[np.floating],
    idxs: NDArray[np.int64] | None,
    iou_threshold: float,
    sigma: float,
    min_score: float,
    method: str,
    *,
    n_threads: int,
) -> tuple[NDArray[np.int64], NDArray[np.floating]]: ...
