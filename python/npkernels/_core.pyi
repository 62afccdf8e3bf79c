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

# pooling (cpp/bindings/pool.cpp); pairs are (height, width); 4-D NCHW only
def max_pool2d(
    x: NDArray[np.floating],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    ceil_mode: bool,
    return_indices: bool,
    *,
    n_threads: int,
) -> NDArray[np.floating] | tuple[NDArray[np.floating], NDArray[np.int64]]: ...
def max_pool2d_backward(
    grad_output: NDArray[np.floating],
    indices: NDArray[np.int64],
    input_shape: tuple[int, int, int, int],
    *,
    n_threads: int,
) -> NDArray[np.floating]: ...
def avg_pool2d(
    x: NDArray[np.floating],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int,
    *,
    n_threads: int,
) -> NDArray[np.floating]: ...
def avg_pool2d_backward(
    grad_output: NDArray[np.floating],
    input_shape: tuple[int, int, int, int],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int,
    *,
    n_threads: int,
) -> NDArray[np.floating]: ...
def lp_pool2d(
    x: NDArray[np.floating],
    norm_type: float,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    ceil_mode: bool,
    *,
    n_threads: int,
) -> NDArray[np.floating]: ...
def lp_pool2d_backward(
    grad_output: NDArray[np.floating],
    x: NDArray[np.floating],
    norm_type: float,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    ceil_mode: bool,
    *,
    n_threads: int,
) -> NDArray[np.floating]: ...
def adaptive_avg_pool2d(
    x: NDArray[np.floating], output_size: tuple[int, int], *, n_threads: int
) -> NDArray[np.floating]: ...
def adaptive_max_pool2d(
    x: NDArray[np.floating], output_size: tuple[int, int], return_indices: bool, *, n_threads: int
) -> NDArray[np.floating] | tuple[NDArray[np.floating], NDArray[np.int64]]: ...
def adaptive_avg_pool2d_backward(
    grad_output: NDArray[np.floating], input_shape: tuple[int, int, int, int], *, n_threads: int
) -> NDArray[np.floating]: ...

# BatchNorm (cpp/bindings/norm.cpp); x is (N, C, S)
def batch_norm_forward(
    x: NDArray[np.floating],
    gamma: NDArray[np.floating] | None,
    beta: NDArray[np.floating] | None,
    eps: float,
    *,
    n_threads: int,
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating], NDArray[np.float64]]: ...
def batch_norm_eval(
    x: NDArray[np.floating],
    running_mean: NDArray[np.floating],
    running_var: NDArray[np.floating],
    gamma: NDArray[np.floating] | None,
    beta: NDArray[np.floating] | None,
    eps: float,
    *,
    n_threads: int,
) -> NDArray[np.floating]: ...
def batch_norm_backward(
    grad_y: NDArray[np.floating],
    x: NDArray[np.floating],
    gamma: NDArray[np.floating] | None,
    mean: NDArray[np.floating],
    invstd: NDArray[np.floating],
    *,
    n_threads: int,
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]: ...
class _KDTreeCore:
    def __init__(self, data: NDArray[np.floating], leafsize: int, split: str, *, n_threads: int) -> None: ...
    @property
    def n(self) -> int: ...
    @property
    def m(self) -> int: ...
    @property
    def leafsize(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    def query(
        self,
        x: NDArray[np.floating],
        k: NDArray[np.int64],
        p: float,
        eps: float,
        distance_upper_bound: float,
        *,
        n_threads: int,
    ) -> tuple[NDArray[np.floating], NDArray[np.int64]]: ...
    def query_radius(
        self,
        x: NDArray[np.floating],
        r: NDArray[np.float64],
        p: float,
        eps: float,
        sort: bool,
        count_only: bool,
        *,
        n_threads: int,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]: ...
    def query_pairs(self, r: float, p: float, eps: float, *, n_threads: int) -> NDArray[np.int64]: ...
    def layout(
        self,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.floating]]: ...

class KDTreeF32(_KDTreeCore): ...  # float32 points
class KDTreeF64(_KDTreeCore): ...  # float64 points
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
# Convolution (gemm: the scipy.linalg.cython_blas capsule of sgemm / dgemm, by dtype).
Pair = tuple[int, int]

def im2col(
    x: NDArray[np.floating], kernel_size: Pair, stride: Pair, padding: Pair, dilation: Pair,
    *, n_threads: int,
) -> NDArray[np.floating]: ...
def col2im(
    cols: NDArray[np.floating], output_size: Pair, kernel_size: Pair, stride: Pair,
    padding: Pair, dilation: Pair, *, n_threads: int,
) -> NDArray[np.floating]: ...
def conv2d(
    x: NDArray[np.floating], weight: NDArray[np.floating], bias: NDArray[np.floating] | None,
    stride: Pair, padding: Pair, output_hw: Pair, dilation: Pair, groups: int, gemm: object,
    *, n_threads: int,
) -> NDArray[np.floating]: ...
def conv2d_backward(
    grad_output: NDArray[np.floating], x: NDArray[np.floating], weight: NDArray[np.floating],
    stride: Pair, padding: Pair, dilation: Pair, groups: int, need_input: bool,
    need_weight: bool, need_bias: bool, gemm: object, *, n_threads: int,
) -> tuple[NDArray[np.floating] | None, NDArray[np.floating] | None, NDArray[np.floating] | None]: ...
def conv_transpose2d(
    x: NDArray[np.floating], weight: NDArray[np.floating], bias: NDArray[np.floating] | None,
    stride: Pair, padding: Pair, output_hw: Pair, dilation: Pair, groups: int, gemm: object,
    *, n_threads: int,
) -> NDArray[np.floating]: ...
def gemm(
    a: NDArray[np.floating], b: NDArray[np.floating], trans_a: bool, trans_b: bool, piece: int,
    gemm: object,
) -> NDArray[np.floating]: ...
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
def _release_scratch_cache() -> int: ...
