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
