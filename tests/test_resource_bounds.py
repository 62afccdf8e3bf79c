"""Resource bounds (issue 8): requests that cannot fit are refused before anything is allocated.

Every wrapper whose output size is known up front passes it to
``_validation.check_output_size``: more than 2**63 bytes is a ValueError, more
bytes than :func:`_validation.memory_limit` (physical memory, or the address-space
limit when lower) a MemoryError naming the argument. The huge requests below are
made of small inputs (a big ``output_size``, ``k``, padding, ``input_shape``...),
and tracemalloc shows that nothing near their size was allocated. Convolutions
that exceed the BLAS's 32-bit sizes are refused too, checked without huge arrays
by lowering the limit.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import npkernels as nk
from npkernels import _conv_args, _validation
from npkernels import reference as ref

# Far more than any machine holds (and than the address space the tests run in).
HUGE = 10**6

# The inputs used below copy at most a few MiB; an attempt at the refused output would
# show up as a peak of gigabytes (NumPy reports its allocations to tracemalloc).
PEAK_LIMIT = 64 << 20
# A 2 GiB address-space limit cannot coexist with AddressSanitizer's shadow memory
# (.ci/sanitize); those tests run in the normal suite.
needs_address_space_limit = pytest.mark.skipif(
    bool(os.environ.get("NPK_SANITIZE")), reason="RLIMIT_AS cannot apply under ASan")


def refused(fn, *args, match: str, error=MemoryError, **kwargs) -> None:
    """``fn(*args, **kwargs)`` raises ``error`` matching ``match``, allocating little."""
    tracemalloc.start()
    try:
        with pytest.raises(error, match=match) as info:
            fn(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "Unable to allocate" not in str(info.value)  # ours, not NumPy's after the fact
    assert peak < PEAK_LIMIT, f"{peak / 2**20:.0f} MiB allocated before refusing"


# ----------------------------------------------------------------------------- the helper


def test_memory_limit_is_physical_memory_or_less():
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < _validation.memory_limit() <= physical


def test_memory_limit_honours_the_address_space_limit(monkeypatch):
    monkeypatch.setattr(_validation.resource, "getrlimit", lambda _: (1 << 30, 1 << 31))
    assert _validation.memory_limit() == 1 << 30
    monkeypatch.setattr(_validation.resource, "getrlimit",
                        lambda _: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert _validation.memory_limit() == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_check_output_size_accepts_what_fits():
    _validation.check_output_size((1000, 1000), 8, "boxes1")
    _validation.check_output_size((0, 2**40), 8, "x")  # empty: no bytes, however long


def test_check_output_size_refuses_too_many_bytes():
    limit = _validation.memory_limit()
    with pytest.raises(MemoryError, match=r"k asks for distances of shape \(\d+, 2\) .*more "
                                          r"than the .* of memory available"):
        _validation.check_output_size((limit // 16 + 1, 2), 8, "k", "distances")
    with pytest.raises(MemoryError, match="output_size"):
        _validation.check_output_size((1, 1), 8, "output_size", also=limit)


def test_check_output_size_refuses_more_than_int64_bytes():
    with pytest.raises(ValueError, match=r"input_shape asks for .* more than 2\*\*63 bytes"):
        _validation.check_output_size((2**32, 2**31), 2, "input_shape")
    # Empty, but NumPy would still refuse the shape: its nonzero sizes overflow int64.
    with pytest.raises(ValueError, match="more than 2\\*\\*63"):
        _validation.check_output_size((0, 2**31 - 1, 2**31 - 1), 4, "output_size")
    with pytest.raises(ValueError, match="array is too big"):
        np.empty((0, 2**31 - 1, 2**31 - 1), np.float32)  # NumPy's own rule, for the record
    _validation.check_output_size((0, 2**31 - 1, 2**31 - 1), 1, "output_size")


@needs_address_space_limit
def test_the_address_space_limit_turns_an_allocation_into_a_named_error():
    """In a process limited to 2 GiB, an IoU matrix of 3.2 GB is refused by name (not by
    NumPy or the kernel failing to allocate)."""
    code = textwrap.dedent("""
        import resource
        import numpy as np
        import npkernels as nk
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        boxes = np.tile(np.array([0.0, 0.0, 1.0, 1.0]), (20000, 1))
        try:
            nk.box_iou(boxes, boxes)
        except MemoryError as exc:
            print("refused:", exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "refused: boxes1 and boxes2 asks for an (N, M) matrix of shape (20000, 20000)" in out


# ----------------------------------------------------------------------------- every wrapper


@pytest.fixture(params=["fast", "reference"])
def lib(request):
    """The wrappers and their NumPy twins share the checks: both refuse the same calls."""
    return nk if request.param == "fast" else ref


def _boxes(n: int) -> np.ndarray:
    return np.broadcast_to(np.array([0.0, 0.0, 1.0, 1.0], np.float32), (n, 4))


def test_box_iou_of_a_million_by_a_million_boxes(lib):
    refused(lib.box_iou, _boxes(HUGE), _boxes(HUGE), match=r"boxes1 and boxes2 .*\(1000000, "
                                                           r"1000000\)")
    refused(lib.generalized_box_iou, _boxes(HUGE), _boxes(HUGE), match="boxes1 and boxes2")


def test_im2col_whose_columns_cannot_fit(lib):
    x = np.zeros((256, 3, 32, 32), np.float32)
    refused(lib.im2col, x, 32, padding=128, match=r"x \(with kernel_size, padding and stride\) "
                                                  r"asks for columns of shape \(256, 3072, 66049\)")


def test_col2im_to_a_huge_image(lib):
    cols = np.zeros((1, 1, 1), np.float32)  # one window of one tap: a stride as big as the image
    refused(lib.col2im, cols, (HUGE * 10, HUGE * 10), 1, stride=HUGE * 10,
            match=r"output_size asks for images of shape \(1, 1, 10000000, 10000000\)")


def test_conv2d_with_huge_channels(lib):
    x = np.zeros((1, 1, 1024, 1024), np.float32)
    w = np.ones((HUGE, 1, 1, 1), np.float32)
    refused(lib.conv2d, x, w, match=r"x \(with weight, padding and stride\) asks for an output "
                                    r"of shape \(1, 1000000, 1024, 1024\)")


def test_conv_transpose2d_with_a_huge_stride(lib):
    x = np.zeros((1, 1, 64, 64), np.float32)
    w = np.ones((1, 1, 2, 2), np.float32)
    refused(lib.conv_transpose2d, x, w, stride=2**20, match="x .*stride")


def test_conv_output_beyond_int32_per_axis_is_a_value_error(lib):
    x = np.zeros((0, 1, 4, 4), np.float32)  # empty batch: nothing to allocate, yet refused
    with pytest.raises(ValueError, match=r"x, padding, stride and dilation give an output size "
                                         r"\(4294967298, 4294967298\), beyond 2\*\*31 - 1"):
        lib.conv2d(x, np.ones((1, 1, 1, 1), np.float32), padding=2**31 - 1)


def test_adaptive_pools_and_spp_with_a_huge_output(lib):
    x = np.zeros((2, 3, 4, 4), np.float32)
    refused(lib.adaptive_avg_pool2d, x, HUGE, match="output_size asks for an output")
    refused(lib.adaptive_max_pool2d, x, (HUGE, HUGE), match="output_size")
    refused(lib.spatial_pyramid_pool, x, (1, HUGE), match="levels")


def test_pool_backward_to_a_huge_input_shape(lib):
    g = np.zeros((1, 1, 1, 1), np.float32)
    refused(lib.adaptive_avg_pool2d_backward, g, (1, 1, HUGE, HUGE), match="input_shape")
    refused(lib.adaptive_max_pool2d_backward, g, np.zeros((1, 1, 1, 1), np.int64),
            (1, 1, HUGE, HUGE), match="input_shape")
    refused(lib.max_pool2d_backward, g, np.zeros((1, 1, 1, 1), np.int64), (1, 1, HUGE, HUGE),
            match="input_shape")


def test_roi_align_and_roi_pool_with_a_huge_output_size(lib):
    x = np.zeros((1, 2, 4, 4), np.float32)
    boxes = np.array([[0, 0, 0, 2, 2]], np.float32)
    refused(lib.roi_align, x, boxes, HUGE, match=r"output_size asks for an output of shape "
                                                 r"\(1, 2, 1000000, 1000000\)")
    refused(lib.roi_pool, x, boxes, (HUGE, HUGE), match="output_size")


def test_roi_align_with_a_huge_sampling_ratio(lib):
    x = np.zeros((1, 2, 4, 4), np.float32)
    boxes = np.array([[0, 0, 0, 2, 2]], np.float32)
    refused(lib.roi_align, x, boxes, 7, sampling_ratio=HUGE,
            match="sampling_ratio asks for a table of bilinear samples")


@needs_address_space_limit
def test_roi_align_workspace_that_does_not_fit_is_a_named_memory_error():
    """The sample table sized from the boxes (passing the up-front bound on sampling_ratio)
    fails to allocate inside the kernel: the binding names what to lower. In a process
    limited to 2 GiB: 1.9 GB by the up-front bound, 1.5 GB of taps per thread in the kernel
    (two ROIs on two threads)."""
    code = textwrap.dedent("""
        import resource
        import numpy as np
        import npkernels as nk
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        boxes = [[0, 0, 0, 63, 63], [0, 0, 0, 63, 63]]
        try:
            with nk.num_threads(2):
                nk.roi_align(np.zeros((1, 1, 64, 64)), boxes, 1, sampling_ratio=5700)
        except MemoryError as exc:
            print("refused:", exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "refused: sampling_ratio / output_size: the workspace of roi_align" in out


def test_roi_backward_to_a_huge_input_shape(lib):
    g = np.zeros((1, 1, 1, 1), np.float32)
    boxes = np.array([[0, 0, 0, 1, 1]], np.float32)
    refused(lib.roi_align_backward, g, boxes, (1, 1, HUGE, HUGE), 1, match="input_shape")
    refused(lib.roi_pool_backward, g, np.zeros((1, 1, 1, 1), np.int64), boxes,
            (1, 1, HUGE, HUGE), match="input_shape")
    with pytest.raises(ValueError, match="input_shape asks for .* more than 2\\*\\*63"):
        lib.roi_pool_backward(g, np.zeros((1, 1, 1, 1), np.int64), boxes, (1, 2**31, 2**31, 2**31))


def test_kdtree_query_with_a_huge_k(lib):
    tree = lib.KDTree(np.zeros((10, 2)))
    refused(tree.query, np.zeros((4, 2)), k=10**12, match=r"k asks for a list of ranks")
    refused(tree.query, np.zeros((10**5, 2)), k=10**5, match="k asks for distances and indices")


def test_query_pairs_that_cover_every_pair(lib, monkeypatch):
    tree = lib.KDTree(np.random.default_rng(0).random((10**5, 2)))
    # 5e9 pairs of 16 bytes: 80 GB, refused before the search runs on a machine of
    # 16 GiB (whatever this one has).
    monkeypatch.setattr(_validation, "memory_limit", lambda: 16 << 30)
    refused(tree.query_pairs, np.inf, output_type="ndarray", match="r asks for every pair")
    refused(tree.query_pairs, 10.0, match="r asks for every pair")


def test_an_absurd_thread_count_is_refused():
    with pytest.raises(ValueError, match=r"number of threads must be <= 1024, got 1099511627776"):
        nk.set_num_threads(2**40)
    with pytest.raises(ValueError, match="number of threads must be <= 1024"):
        with nk.num_threads(10**6):
            pass
    tree = nk.KDTree(np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"workers must be -1 or at most 1024, got 1099511627776"):
        tree.query(np.zeros((1, 1)), workers=2**40)


# ----------------------------------------------------------------------------- BLAS int sizes


def test_blas_size_rule_names_the_dimension_that_does_not_fit():
    with pytest.raises(ValueError, match=r"x: an input plane of 65536x32769 is too large for "
                                         r"the BLAS's 32-bit sizes"):
        _conv_args.check_blas_sizes((2**16, 2**15 + 1), (1, 1), (1, 1, 1, 1))
    with pytest.raises(ValueError, match="x: an output plane"):
        _conv_args.check_blas_sizes((1, 1), (2**16, 2**16), (1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"weight: a column matrix of weight.shape\[1\]\*kH\*kW "
                                         r"= 2147483648 rows"):
        _conv_args.check_blas_sizes((1, 1), (1, 1), (1, 2**27, 4, 4))
    _conv_args.check_blas_sizes((2**15, 2**16 - 1), (2**15, 2**16 - 1), (1, 2**27 - 1, 4, 4))


# With the limit lowered to 100: (x, weight, padding) of conv2d, (x, weight) of
# conv_transpose2d, and which size exceeds it.
SMALL_BLAS_CASES = {
    "input plane": ((1, 1, 11, 11), (1, 1, 1, 1), 0, (1, 1, 11, 11), (1, 1, 1, 1)),
    "output plane": ((1, 1, 5, 5), (1, 1, 1, 1), 3, (1, 1, 11, 11), (1, 1, 1, 1)),
    "column matrix": ((1, 7, 4, 4), (1, 7, 4, 4), 0, (1, 1, 2, 2), (1, 7, 4, 4)),
}


@pytest.mark.parametrize("what", sorted(SMALL_BLAS_CASES))
def test_every_convolution_refuses_sizes_beyond_the_blas_ints(monkeypatch, lib, what):
    """The same rule with the limit lowered to 100, so that small arrays exceed it: every
    convolution refuses before a kernel runs (the kernels would refuse too, after allocating)."""
    monkeypatch.setattr(_conv_args, "BLAS_INT_MAX", 100)
    x_shape, w_shape, pad, xt_shape, wt_shape = SMALL_BLAS_CASES[what]
    x, w = np.zeros(x_shape, np.float32), np.ones(w_shape, np.float32)
    match = f"{what} .*too large for the BLAS's 32-bit sizes"
    with pytest.raises(ValueError, match=match):
        lib.conv2d(x, w, padding=pad)
    out = x_shape[2] + 2 * pad - w_shape[2] + 1
    with pytest.raises(ValueError, match=match):
        lib.conv2d_backward(np.zeros((1, 1, out, out), np.float32), x, w, padding=pad)
    with pytest.raises(ValueError, match="too large for the BLAS's 32-bit sizes"):
        lib.conv_transpose2d(np.zeros(xt_shape, np.float32), np.ones(wt_shape, np.float32))


def test_the_binding_refuses_blas_sizes_on_its_own():
    """Without the Python check, the kernel still refuses (after allocating its output)."""
    from npkernels import _blas, _core

    x = np.zeros((0, 1, 2**16, 2**15 + 1), np.float32)  # an empty batch: nothing to allocate
    w = np.ones((1, 1, 1, 1), np.float32)
    with pytest.raises(ValueError, match="too large for the BLAS's 32-bit sizes"):
        _core.conv2d(x, w, None, (1, 1), (0, 0), (2**16, 2**15 + 1), (1, 1), 1,
                     _blas.gemm_capsule(np.float32), n_threads=1)
