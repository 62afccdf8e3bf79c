"""roi_pool and roi_pool_backward: reference, edge cases, layouts, dtypes, errors, threads,
torchvision (golden fixtures from torchvision 0.29.1, and live when importable)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    DTYPES,
    ROI_THREAD_SHAPES,
    assert_matches,
    load_golden,
    per_image,
    roi_problems,
    roi_thread_inputs,
)
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref
from npkernels._workloads import random_feature_map, random_rois

GOLDEN = load_golden("roi_pool_golden")
FLT_MAX = float(np.finfo(np.float32).max)
SIZES = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))


def _both(x, boxes, size, scale=1.0):
    """(out, argmax, grad_input) of npkernels and of the reference."""
    out, arg = nk.roi_pool(x, boxes, size, scale, return_argmax=True)
    want, want_arg = ref.roi_pool(x, boxes, size, scale, return_argmax=True)
    g = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
    grad = nk.roi_pool_backward(g, arg, boxes, x.shape)
    grad_want = ref.roi_pool_backward(g, want_arg, boxes, x.shape)
    return (out, arg, grad), (want, want_arg, grad_want)


def _same(got, want):
    for a, b in zip(got, want):
        assert_matches(a, b)
        assert a.tobytes() == b.tobytes()


# ---------------------------------------------------------------- 1. the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    x, boxes = data.draw(roi_problems(dtype))
    if data.draw(st.booleans()):  # NaN and -inf regions: ignored / -FLT_MAX
        x[..., :2, :2] = data.draw(st.sampled_from([np.nan, -np.inf]))
    size = data.draw(SIZES)
    scale = data.draw(st.sampled_from([1.0, 0.5, 0.25]))
    _same(*_both(x, boxes, size, scale))


@pytest.mark.parametrize("dtype", DTYPES)
def test_channels_last_path_matches_reference(dtype):
    rng = np.random.default_rng(3)
    x = random_feature_map(rng, (2, 16, 12, 14), dtype)
    x[0, 3, 2:6, 2:6] = np.nan
    x[1, 5, :, :4] = -np.inf
    x[0, 1] = np.round(x[0, 1])  # ties
    boxes = random_rois(rng, 80, 2, 12, 14, size=(1.0, 12.0), dtype=dtype)
    boxes[::7, 1:] -= 6.0
    _same(*_both(x, boxes, 3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_path_matches_reference(dtype):
    rng = np.random.default_rng(4)
    x = random_feature_map(rng, (1, 9, 40, 50), dtype)
    boxes = random_rois(rng, 3, 1, 40, 50, size=(2.0, 9.0), dtype=dtype)
    _same(*_both(x, boxes, (2, 3), 1.0))


# ---------------------------------------------------------------- 2. edge cases


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_boxes(dtype):
    x = np.ones((2, 3, 4, 5), dtype)
    for boxes in (np.zeros((0, 5), dtype), [], [np.zeros((0, 4), dtype)] * 2):
        out, arg = nk.roi_pool(x, boxes, 2, return_argmax=True)
        assert out.shape == arg.shape == (0, 3, 2, 2)
        assert (out.dtype, arg.dtype) == (dtype, np.int64)
        grad = nk.roi_pool_backward(np.zeros((0, 3, 2, 2), dtype), arg, boxes, x.shape)
        assert_matches(grad, np.zeros(x.shape, dtype))


def test_zero_output_size_and_empty_maps():
    boxes = [[0, 0, 0, 3, 3]]
    assert nk.roi_pool(np.ones((1, 2, 4, 4)), boxes, (0, 2)).shape == (1, 2, 0, 2)
    for shape in [(1, 2, 0, 4), (1, 2, 4, 0), (1, 0, 4, 4)]:
        out, arg = nk.roi_pool(np.ones(shape), boxes, 2, return_argmax=True)
        assert_matches(out, np.zeros((1, shape[1], 2, 2)))  # every bin clipped away: 0
        assert (arg == -1).all()
        assert_matches(nk.roi_pool_backward(np.ones(out.shape), arg, boxes, shape),
                       np.zeros(shape))


def test_rounding_is_half_away_from_zero():
    # x1 = 2.5 starts at column 3 (C round), not 2 (np.round)
    x = np.arange(48, dtype=np.float64).reshape(1, 1, 6, 8)
    out, arg = nk.roi_pool(x, [[0, 2.5, 0, 2.5, 0]], 1, return_argmax=True)
    assert arg[0, 0, 0, 0] == 3
    out, arg = nk.roi_pool(x, [[0, -0.5, 1.5, -0.5, 1.5]], 1, return_argmax=True)
    assert arg[0, 0, 0, 0] == -1  # column -1: clipped away, an empty bin
    assert out[0, 0, 0, 0] == 0.0
    out, arg = nk.roi_pool(x, [[0, 1.5, 1.5, 1.5, 1.5]], 1, return_argmax=True)
    assert arg[0, 0, 0, 0] == 2 * 8 + 2


def test_nan_ignored_ties_first_all_minus_inf():
    x = np.full((1, 1, 4, 4), 2.0)
    x[0, 0, 0, 0] = np.nan
    out, arg = nk.roi_pool(x, [[0, 0, 0, 3, 3]], 1, return_argmax=True)
    assert (out[0, 0, 0, 0], arg[0, 0, 0, 0]) == (2.0, 1)  # NaN skipped, first of the ties
    x = np.full((1, 1, 4, 4), -np.inf)
    out, arg = nk.roi_pool(x, [[0, 0, 0, 3, 3]], 2, return_argmax=True)
    assert (out == np.float64(-FLT_MAX)).all()  # torchvision's -FLT_MAX, even in float64
    assert (arg == -1).all()


def test_fractional_batch_index_and_list_format():
    rng = np.random.default_rng(5)
    x = random_feature_map(rng, (3, 4, 9, 9), np.float64)
    rows = random_rois(rng, 12, 3, 9, 9, size=(1, 6), dtype=np.float64)
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    assert_matches(nk.roi_pool(x, per_image(rows, 3), 2), nk.roi_pool(x, rows, 2))
    shifted = rows.copy()
    shifted[:, 0] += 0.75
    assert_matches(nk.roi_pool(x, shifted, 2), nk.roi_pool(x, rows, 2))


def test_backward_accepts_torchvision_int32_argmax():
    x = random_feature_map(np.random.default_rng(6), (1, 2, 6, 6), np.float64)
    boxes = [[0, 0, 0, 5, 5]]
    out, arg = nk.roi_pool(x, boxes, 2, return_argmax=True)
    g = np.ones(out.shape)
    assert_matches(nk.roi_pool_backward(g, arg.astype(np.int32), boxes, x.shape),
                   nk.roi_pool_backward(g, arg, boxes, x.shape))


# ---------------------------------------------------------------- 3. layouts


def test_layouts():
    rng = np.random.default_rng(7)
    x = random_feature_map(rng, (2, 3, 10, 12), np.float64)
    boxes = random_rois(rng, 8, 2, 10, 12, size=(1, 8), dtype=np.float64)
    want, arg = nk.roi_pool(x, boxes, 3, return_argmax=True)
    assert_matches(nk.roi_pool(np.asfortranarray(x), np.asfortranarray(boxes), 3), want)
    flipped = np.ascontiguousarray(x[..., ::-1])[..., ::-1]
    assert not flipped.flags.c_contiguous
    assert_matches(nk.roi_pool(flipped, boxes, 3), want)
    g = rng.standard_normal(want.shape)
    grad = nk.roi_pool_backward(g, arg, boxes, x.shape)
    assert_matches(nk.roi_pool_backward(np.asfortranarray(g), np.asfortranarray(arg), boxes,
                                        list(x.shape)), grad)
    xi = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5)
    assert_matches(nk.roi_pool(xi, [[1, 0, 0, 4, 3]], 2), nk.roi_pool(xi * 1.0, [[1, 0, 0, 4, 3]], 2))
    assert nk.roi_pool(xi > 5, [[1, 0, 0, 4, 3]], 2).dtype == np.float64


# ---------------------------------------------------------------- 4. dtype policy


def test_dtype_policy():
    x32 = np.ones((1, 1, 4, 4), np.float32)
    out, arg = nk.roi_pool(x32, np.array([[0, 0, 0, 2, 2]], np.float64), 2, return_argmax=True)
    assert (out.dtype, arg.dtype) == (np.float32, np.int64)
    assert nk.roi_pool(x32.astype(np.int16), [[0, 0, 0, 2, 2]], 2).dtype == np.float64
    g = nk.roi_pool_backward(out, arg, [[0, 0, 0, 2, 2]], (1, 1, 4, 4))
    assert g.dtype == np.float32
    assert nk.roi_pool_backward(out.astype(np.float64), arg, [[0, 0, 0, 2, 2]], (1, 1, 4, 4)).dtype == np.float64


# ---------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize("impl", [nk, ref], ids=["npkernels", "reference"])
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: m.roi_pool(np.ones((2, 2, 2)), [[0, 0, 0, 1, 1]], 2), ValueError,
         r"input must have shape \(N, C, H, W\), got \(2, 2, 2\)"),
        (lambda m: m.roi_pool(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1, 1]], 2), ValueError,
         r"boxes must have shape \(K, 5\), got \(1, 6\)"),
        (lambda m: m.roi_pool(np.ones((1, 1, 4, 4)), [[0, 0, -np.inf, 1, 1]], 2), ValueError,
         r"boxes must be finite, got \[0.0, 0.0, -inf, 1.0, 1.0\] at row 0"),
        (lambda m: m.roi_pool(np.ones((1, 1, 4, 4)), [[3, 0, 0, 1, 1]], 2), ValueError,
         r"boxes batch index must be in \[0, 1\), got 3.0 at row 0"),
        (lambda m: m.roi_pool(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], (2, -1)), ValueError,
         r"output_size must be >= 0"),
        (lambda m: m.roi_pool(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2, np.inf), ValueError,
         r"spatial_scale must be finite, got inf"),
        (lambda m: m.roi_pool(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2, return_argmax=1),
         TypeError, r"return_argmax must be a bool, got int"),
        (lambda m: m.roi_pool(np.ones((1, 1, 4, 4), object), [[0, 0, 0, 1, 1]], 2), TypeError,
         r"input must have a real numeric dtype, got object"),
        (lambda m: m.roi_pool_backward(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2)),
                                       [[0, 0, 0, 1, 1]], (1, 1, 4, 4)), TypeError,
         r"argmax must have an integer dtype, got float64"),
        (lambda m: m.roi_pool_backward(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 1), int),
                                       [[0, 0, 0, 1, 1]], (1, 1, 4, 4)), ValueError,
         r"argmax must have shape \(1, 1, 2, 2\) like grad_output, got \(1, 1, 2, 1\)"),
        (lambda m: m.roi_pool_backward(np.ones((1, 1, 2, 2)), np.full((1, 1, 2, 2), 16),
                                       [[0, 0, 0, 1, 1]], (1, 1, 4, 4)), ValueError,
         r"argmax must be in \[-1, 16\), got 16 at index 0"),
        (lambda m: m.roi_pool_backward(np.ones((1, 1, 2, 2)), np.array([[[[0, 1], [-2, 0]]]]),
                                       [[0, 0, 0, 1, 1]], (1, 1, 4, 4)), ValueError,
         r"argmax must be in \[-1, 16\), got -2 at index 2"),
        (lambda m: m.roi_pool_backward(np.ones((1, 2, 2, 2)), np.zeros((1, 2, 2, 2), int),
                                       [[0, 0, 0, 1, 1]], (1, 1, 4, 4)), ValueError,
         r"grad_output must have shape \(1, 1, PH, PW\), got \(1, 2, 2, 2\)"),
        (lambda m: m.roi_pool_backward(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), int),
                                       [[1, 0, 0, 1, 1]], (1, 1, 4, 4)), ValueError,
         r"boxes batch index must be in \[0, 1\), got 1.0 at row 0"),
    ],
)
def test_bad_input(impl, call, error, match):
    with pytest.raises(error, match=match):
        call(impl)


def test_core_guards_itself():
    x = np.ones((1, 1, 4, 4))
    rois = np.array([[0.0, 0, 0, 2, 2]])
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.roi_pool(x.astype(np.int32), rois, 1.0, 2, 2, n_threads=1)
    with pytest.raises(TypeError, match="rois must be a C-contiguous float64"):
        _core.roi_pool(x, rois.astype(np.float32), 1.0, 2, 2, n_threads=1)
    with pytest.raises(ValueError, match="pooled_width must be >= 0"):
        _core.roi_pool(x, rois, 1.0, 2, -2, n_threads=1)
    with pytest.raises(ValueError, match=r"batch index in \[0, 1\)"):
        _core.roi_pool(x, np.array([[1.0, 0, 0, 2, 2]]), 1.0, 2, 2, n_threads=1)
    g = np.ones((1, 1, 2, 2))
    arg = np.zeros((1, 1, 2, 2), np.int64)
    with pytest.raises(TypeError, match="argmax must be a C-contiguous int64"):
        _core.roi_pool_backward(g, arg.astype(np.int32), rois, 1, 4, 4, n_threads=1)
    with pytest.raises(ValueError, match="argmax must have shape equal to grad_output's"):
        _core.roi_pool_backward(g, arg[..., :1].copy(), rois, 1, 4, 4, n_threads=1)
    with pytest.raises(ValueError, match=r"argmax must be in \[-1, 16\), got 99 at index 3"):
        _core.roi_pool_backward(g, np.array([[[[0, 1], [2, 99]]]]), rois, 1, 4, 4, n_threads=1)
    with pytest.raises(ValueError, match=r"rois must have shape \(K, 5\), got \(2, 5\)"):
        _core.roi_pool_backward(g, arg, np.zeros((2, 5)), 1, 4, 4, n_threads=1)
    with pytest.raises(ValueError, match=r"batch index in \[0, 1\)"):
        _core.roi_pool_backward(g, arg, np.array([[5.0, 0, 0, 2, 2]]), 1, 4, 4, n_threads=1)


# ---------------------------------------------------------------- 6. threads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "k"), ROI_THREAD_SHAPES)
def test_same_bits_for_any_thread_count(dtype, shape, k):
    x, boxes, g = roi_thread_inputs(8, shape, k, dtype, 3)
    results = []
    for n in (1, 2, 3):
        with nk.num_threads(n):
            out, arg = nk.roi_pool(x, boxes, 3, 0.5, return_argmax=True)
            grad = nk.roi_pool_backward(g, arg, boxes, shape)
            results.append((out.tobytes(), arg.tobytes(), grad.tobytes()))
    assert results[0] == results[1] == results[2]


# ---------------------------------------------------------------- 7. the anchor


@pytest.mark.parametrize("impl", [nk, ref], ids=["npkernels", "reference"])
@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: "-".join(f"{v}" for v in c["params"].values()))
def test_golden_torchvision(impl, case):
    p = case["params"]
    x, boxes = case["input"], case["boxes"]
    if p["as_list"]:
        boxes = per_image(boxes, x.shape[0])
    out, arg = impl.roi_pool(x, boxes, p["output_size"], p["spatial_scale"], return_argmax=True)
    assert out.tobytes() == case["out"].tobytes()
    np.testing.assert_array_equal(arg, case["argmax"])
    grad = impl.roi_pool_backward(case["grad"], arg, boxes, x.shape)
    assert grad.tobytes() == case["grad_input"].tobytes()


def test_golden_fixtures_cover_the_issue():
    params = [c["params"] for c in GOLDEN]
    assert {1.0, 0.5, 0.25} <= {p["spatial_scale"] for p in params}
    assert {True, False} == {p["as_list"] for p in params}
    assert {"float32", "float64"} == {p["dtype"] for p in params}
    assert any((c["argmax"] == -1).any() for c in GOLDEN)  # empty or all -inf bins


def test_live_torchvision():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    rng = np.random.default_rng(9)
    x = random_feature_map(rng, (2, 16, 20, 24))
    x[1, 2, 3:9, 3:9] = np.nan
    boxes = random_rois(rng, 40, 2, 20, 24, size=(1, 16))
    boxes[::5, 1:] += 10.0
    tx = torch.from_numpy(x)
    want, want_arg = torch.ops.torchvision.roi_pool(tx, torch.from_numpy(boxes), 0.5, 5, 4)
    g = rng.standard_normal(tuple(want.shape)).astype(np.float32)
    want_grad = torch.ops.torchvision._roi_pool_backward(
        torch.from_numpy(g), torch.from_numpy(boxes), want_arg, 0.5, 5, 4, *x.shape
    )
    for impl in (nk, ref):
        out, arg = impl.roi_pool(x, boxes, (5, 4), 0.5, return_argmax=True)
        assert out.tobytes() == want.numpy().tobytes()
        np.testing.assert_array_equal(arg, want_arg.numpy())
        grad = impl.roi_pool_backward(g, arg, boxes, x.shape)
        assert grad.tobytes() == want_grad.numpy().tobytes()


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_backward_names_the_first_bad_argmax_for_any_split(threads):
    g = np.ones((2, 4, 2, 2))
    argmax = np.zeros((2, 4, 2, 2), np.int64)
    argmax[1, 0, 0, 1] = 99  # flat index 17, scanned first by the block owning channel 0
    argmax[0, 3, 1, 0] = -7  # flat index 14: the first in C order
    boxes = [[0, 0, 0, 1, 1], [0, 0, 0, 1, 1]]
    with nk.num_threads(threads), pytest.raises(ValueError, match=r"got -7 at index 14"):
        nk.roi_pool_backward(g, argmax, boxes, (1, 4, 4, 4))
    with pytest.raises(ValueError, match=r"got -7 at index 14"):
        ref.roi_pool_backward(g, argmax, boxes, (1, 4, 4, 4))
