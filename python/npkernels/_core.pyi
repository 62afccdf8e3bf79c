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
