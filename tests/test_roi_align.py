"""roi_align and roi_align_backward: reference, edge cases, layouts, dtypes, errors, threads,
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

GOLDEN = load_golden("roi_align_golden")
PARAMS = st.fixed_dictionaries(
    {
        "output_size": st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))),
        "spatial_scale": st.sampled_from([1.0, 0.5, 0.25, 2.0]),
        "sampling_ratio": st.integers(-1, 3),
        "aligned": st.booleans(),
    }
)


def _both(x, boxes, **kw):
    """Forward and backward of npkernels and of the reference, on one random grad."""
    size = kw.pop("output_size")
    out, want = nk.roi_align(x, boxes, size, **kw), ref.roi_align(x, boxes, size, **kw)
    g = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
    grad = nk.roi_align_backward(g, boxes, x.shape, size, **kw)
    grad_want = ref.roi_align_backward(g, boxes, x.shape, size, **kw)
    return (out, want), (grad, grad_want)


# ---------------------------------------------------------------- 1. the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(problem=st.data())
def test_matches_reference(dtype, problem):
    x, boxes = problem.draw(roi_problems(dtype))
    kw = problem.draw(PARAMS)
    (out, want), (grad, grad_want) = _both(x, boxes, **kw)
    # same arithmetic in the same order: equal bits, not just close
    assert_matches(out, want)
    assert out.tobytes() == want.tobytes()
    assert grad.tobytes() == grad_want.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sampling_ratio", [2, -1])
def test_channels_last_path_matches_reference(dtype, sampling_ratio):
    # many boxes on a small map with >= 8 channels: the kernel works channels-last
    rng = np.random.default_rng(3)
    x = random_feature_map(rng, (2, 16, 12, 14), dtype)
    boxes = random_rois(rng, 60, 2, 12, 14, size=(1.0, 12.0), dtype=dtype)
    boxes[::7, 1:] -= 6.0  # some across the border
    (out, want), (grad, grad_want) = _both(
        x, boxes, output_size=3, spatial_scale=1.0, sampling_ratio=sampling_ratio, aligned=True
    )
    assert out.tobytes() == want.tobytes()
    assert grad.tobytes() == grad_want.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_path_matches_reference(dtype):
    # few boxes on a large map: the kernel gathers from the NCHW planes
    rng = np.random.default_rng(4)
    x = random_feature_map(rng, (1, 9, 40, 50), dtype)
    boxes = random_rois(rng, 3, 1, 40, 50, size=(2.0, 9.0), dtype=dtype)
    (out, want), (grad, grad_want) = _both(
        x, boxes, output_size=(2, 3), spatial_scale=1.0, sampling_ratio=-1, aligned=False
    )
    assert out.tobytes() == want.tobytes()
    assert grad.tobytes() == grad_want.tobytes()


# ---------------------------------------------------------------- 2. edge cases


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_boxes(dtype):
    x = np.ones((2, 3, 4, 5), dtype)
    for boxes in (np.zeros((0, 5), dtype), [], [np.zeros((0, 4), dtype)] * 2):
        out = nk.roi_align(x, boxes, 2)
        assert out.shape == (0, 3, 2, 2)
        assert out.dtype == dtype
        grad = nk.roi_align_backward(np.zeros((0, 3, 2, 2), dtype), boxes, x.shape, 2)
        assert_matches(grad, np.zeros(x.shape, dtype))


@pytest.mark.parametrize(("size", "shape"), [((0, 3), (1, 2, 0, 3)), ((2, 0), (1, 2, 2, 0))])
def test_zero_output_size(size, shape):
    x = np.ones((1, 2, 4, 4))
    boxes = [[0, 0, 0, 3, 3]]
    assert nk.roi_align(x, boxes, size).shape == shape
    grad = nk.roi_align_backward(np.zeros(shape), boxes, x.shape, size)
    assert_matches(grad, np.zeros(x.shape))


@pytest.mark.parametrize("map_shape", [(1, 2, 0, 4), (1, 2, 4, 0), (1, 0, 4, 4), (1, 2, 0, 0)])
def test_empty_maps(map_shape):
    # torchvision reads outside an empty map; here every sample is off the map
    x = np.ones(map_shape)
    out = nk.roi_align(x, [[0, 0, 0, 2, 2]], 2, sampling_ratio=2)
    assert_matches(out, np.zeros((1, map_shape[1], 2, 2)))
    assert_matches(out, ref.roi_align(x, [[0, 0, 0, 2, 2]], 2, sampling_ratio=2))
    grad = nk.roi_align_backward(np.ones_like(out), [[0, 0, 0, 2, 2]], map_shape, 2)
    assert_matches(grad, np.zeros(map_shape))


def test_documented_border_example():
    # ANCHORS-SEMANTICS 1.4: border bins fall outside [-1, H] and give 0
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    out = nk.roi_align(x, [[0, -3, -3, 7, 7]], 4, sampling_ratio=1)
    expected = [[0, 0, 0, 0], [0, 3.75, 6, 0], [0, 12.75, 15, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(out[0, 0], np.asarray(expected, np.float32))


def test_zero_size_box_aligned_is_zero_unaligned_is_a_sample():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    assert nk.roi_align(x, [[0, 1, 1, 1, 1]], 2, aligned=True).max() == 0.0
    assert nk.roi_align(x, [[0, 1, 1, 1, 1]], 1, sampling_ratio=1)[0, 0, 0, 0] == 7.5


def test_reversed_box_aligned_with_adaptive_grid_gives_zero():
    # torchvision sizes a vector with a negative grid product here; we give 0
    x = np.ones((1, 1, 8, 8))
    out = nk.roi_align(x, [[0, 7, 2, 1, 5]], (2, 3), sampling_ratio=-1, aligned=True)
    assert_matches(out, np.zeros((1, 1, 2, 3)))
    assert_matches(out, ref.roi_align(x, [[0, 7, 2, 1, 5]], (2, 3), sampling_ratio=-1, aligned=True))


def test_huge_box_with_adaptive_sampling_stays_cheap():
    # ceil(1e9 / 2) samples per axis and bin, but only ~2 H + 2 in-map ones are visited
    x = random_feature_map(np.random.default_rng(5), (1, 2, 6, 7))
    boxes = [[0, -5e8, -5e8, 5e8, 5e8]]
    out = nk.roi_align(x, boxes, 2, sampling_ratio=-1)
    assert out.shape == (1, 2, 2, 2)
    assert np.isfinite(out).all()
    assert np.abs(out).max() < 1e-6  # nearly every sample is off the map and counts as 0
    grad = nk.roi_align_backward(np.ones_like(out), boxes, x.shape, 2, sampling_ratio=-1)
    assert np.isfinite(grad).all()


def test_moderately_large_box_matches_reference():
    x = random_feature_map(np.random.default_rng(6), (1, 1, 5, 6), np.float64)
    boxes = [[0, -300.0, -250.0, 310.0, 280.0]]
    (out, want), (grad, grad_want) = _both(
        x, boxes, output_size=2, spatial_scale=1.0, sampling_ratio=-1, aligned=True
    )
    assert out.tobytes() == want.tobytes()
    assert grad.tobytes() == grad_want.tobytes()


def test_nan_in_input_propagates_as_in_torchvision():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 2, 2] = np.nan
    out = nk.roi_align(x, [[0, 0, 0, 1, 1], [0, 1.5, 1.5, 3, 3]], 1, sampling_ratio=1)
    assert out[0, 0, 0, 0] == 1.0
    assert np.isnan(out[1, 0, 0, 0])
    # an out-of-map sample multiplies the plane's first pixel by 0: NaN there leaks in
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 0, 0] = np.inf
    out = nk.roi_align(x, [[0, 2, 2, 9, 9]], 1, sampling_ratio=2)
    assert np.isnan(out).all()
    assert_matches(out, ref.roi_align(x, [[0, 2, 2, 9, 9]], 1, sampling_ratio=2))


def test_fractional_batch_index_truncates():
    x = random_feature_map(np.random.default_rng(7), (2, 2, 5, 5), np.float64)
    a = nk.roi_align(x, [[1.9, 0, 0, 3, 3]], 2)
    b = nk.roi_align(x, [[1.0, 0, 0, 3, 3]], 2)
    assert_matches(a, b)
    assert_matches(nk.roi_align(x, [[-0.5, 0, 0, 3, 3]], 2), nk.roi_align(x, [[0, 0, 0, 3, 3]], 2))


def test_list_format_equals_rows():
    rng = np.random.default_rng(8)
    x = random_feature_map(rng, (3, 4, 9, 9), np.float64)
    rows = random_rois(rng, 12, 3, 9, 9, size=(1, 6), dtype=np.float64)
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    listed = per_image(rows, 3)
    assert_matches(nk.roi_align(x, listed, 2), nk.roi_align(x, rows, 2))
    g = np.ones((12, 4, 2, 2))
    assert_matches(
        nk.roi_align_backward(g, tuple(listed), x.shape, 2), nk.roi_align_backward(g, rows, x.shape, 2)
    )


# ---------------------------------------------------------------- 3. layouts


def test_layouts():
    rng = np.random.default_rng(9)
    x = random_feature_map(rng, (2, 3, 10, 12), np.float64)
    boxes = random_rois(rng, 8, 2, 10, 12, size=(1, 8), dtype=np.float64)
    want = nk.roi_align(x, boxes, 3)
    assert_matches(nk.roi_align(np.asfortranarray(x), np.asfortranarray(boxes), 3), want)
    flipped = np.ascontiguousarray(x[:, :, ::-1])[:, :, ::-1]
    assert not flipped.flags.c_contiguous
    assert_matches(nk.roi_align(flipped, boxes, 3), want)
    wide = np.zeros((2, 6, 10, 12))
    wide[:, ::2] = x
    assert_matches(nk.roi_align(wide[:, ::2], boxes[::1], 3), want)
    g = rng.standard_normal(want.shape)
    grad = nk.roi_align_backward(g, boxes, x.shape, 3)
    assert_matches(nk.roi_align_backward(np.asfortranarray(g), boxes, list(x.shape), 3), grad)


def test_integer_and_bool_inputs():
    xi = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5)
    boxes = np.array([[1, 0, 0, 4, 3]])
    out = nk.roi_align(xi, boxes, 2)
    assert out.dtype == np.float64
    assert_matches(out, nk.roi_align(xi.astype(np.float64), boxes.astype(np.float64), 2))
    assert_matches(nk.roi_align(xi > 30, boxes, 2), nk.roi_align((xi > 30) * 1.0, boxes, 2))


# ---------------------------------------------------------------- 4. dtype policy


def test_dtype_policy():
    x32 = np.ones((1, 1, 4, 4), np.float32)
    assert nk.roi_align(x32, np.array([[0, 0, 0, 2, 2]], np.float64), 2).dtype == np.float32
    assert nk.roi_align(x32.astype(np.float16), [[0, 0, 0, 2, 2]], 2).dtype == np.float64
    g32 = np.ones((1, 1, 2, 2), np.float32)
    assert nk.roi_align_backward(g32, [[0, 0, 0, 2, 2]], (1, 1, 4, 4), 2).dtype == np.float32
    assert nk.roi_align_backward(g32 * 1.0, [[0, 0, 0, 2, 2]], (1, 1, 4, 4), 2).dtype == np.float32
    assert nk.roi_align_backward([[[[1]]]], [[0, 0, 0, 2, 2]], (1, 1, 4, 4), 1).dtype == np.float64


# ---------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize("impl", [nk, ref], ids=["npkernels", "reference"])
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: m.roi_align(np.ones((2, 2, 2)), [[0, 0, 0, 1, 1]], 2), ValueError,
         r"input must have shape \(N, C, H, W\), got \(2, 2, 2\)"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1]], 2), ValueError,
         r"boxes must have shape \(K, 5\), got \(1, 4\)"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [np.ones((2, 5))], 2), ValueError,
         r"boxes\[0\] must have shape \(K_i, 4\), got \(2, 5\)"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, np.nan, 1, 1]], 2), ValueError,
         r"boxes must be finite, got \[0.0, 0.0, nan, 1.0, 1.0\] at row 0"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1], [1, 0, 0, np.inf, 1]], 2),
         ValueError, r"boxes must be finite, .* at row 1"),
        (lambda m: m.roi_align(np.ones((2, 1, 4, 4)), [[2, 0, 0, 1, 1]], 2), ValueError,
         r"boxes batch index must be in \[0, 2\), got 2.0 at row 0"),
        (lambda m: m.roi_align(np.ones((2, 1, 4, 4)), [[-1, 0, 0, 1, 1]], 2), ValueError,
         r"boxes batch index must be in \[0, 2\), got -1.0 at row 0"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], -1), ValueError,
         r"output_size must be >= 0, got -1"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], (1, 2, 3)), ValueError,
         r"output_size must be an int or a pair of ints"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2.0), TypeError,
         r"output_size must be an integer, got float"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2, np.nan), ValueError,
         r"spatial_scale must be finite, got nan"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2, "1"), TypeError,
         r"spatial_scale must be a real number, got str"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2, 1.0, 1.5), TypeError,
         r"sampling_ratio must be an integer, got float"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2, aligned=1), TypeError,
         r"aligned must be a bool, got int"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4), complex), [[0, 0, 0, 1, 1]], 2), TypeError,
         r"input must have a real numeric dtype, got complex128"),
        (lambda m: m.roi_align(np.ones((1, 1, 4, 4)), np.array([["a"] * 5]), 2), TypeError,
         r"boxes must have a real numeric dtype"),
        (lambda m: m.roi_align_backward(np.ones((1, 1, 2, 2)), [[0, 0, 0, 1, 1]], (1, 1, 4), 2),
         ValueError, r"input_shape must be a sequence of 4 ints"),
        (lambda m: m.roi_align_backward(np.ones((1, 1, 2, 2)), [[0, 0, 0, 1, 1]], (1, -1, 4, 4), 2),
         ValueError, r"input_shape must have sizes >= 0"),
        (lambda m: m.roi_align_backward(np.ones((1, 1, 2, 3)), [[0, 0, 0, 1, 1]], (1, 1, 4, 4), 2),
         ValueError, r"grad_output must have shape \(1, 1, 2, 2\), got \(1, 1, 2, 3\)"),
        (lambda m: m.roi_align_backward(np.ones((2, 1, 2, 2)), [[0, 0, 0, 1, 1]], (1, 1, 4, 4), 2),
         ValueError, r"grad_output must have shape \(1, 1, 2, 2\), got \(2, 1, 2, 2\)"),
        (lambda m: m.roi_align_backward(np.ones((1, 3, 2, 2)), [[0, 0, 0, 1, 1]], (1, 1, 4, 4), 2),
         ValueError, r"grad_output must have shape \(1, 1, 2, 2\), got \(1, 3, 2, 2\)"),
        (lambda m: m.roi_align_backward(np.ones((1, 1, 2, 2)), [[1, 0, 0, 1, 1]], (1, 1, 4, 4), 2),
         ValueError, r"boxes batch index must be in \[0, 1\), got 1.0 at row 0"),
    ],
)
def test_bad_input(impl, call, error, match):
    with pytest.raises(error, match=match):
        call(impl)


def test_core_guards_itself():
    x = np.ones((1, 1, 4, 4))
    rois = np.array([[0.0, 0, 0, 2, 2]])
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.roi_align(x.astype(np.int64), rois, 1.0, 2, 2, -1, False, n_threads=1)
    with pytest.raises(TypeError, match="C-contiguous"):
        _core.roi_align(np.ones((1, 1, 4, 8))[..., ::2], rois, 1.0, 2, 2, -1, False, n_threads=1)
    with pytest.raises(TypeError, match="rois must be a C-contiguous float64"):
        _core.roi_align(x, rois.astype(np.float32), 1.0, 2, 2, -1, False, n_threads=1)
    with pytest.raises(ValueError, match=r"rois must have shape \(K, 5\)"):
        _core.roi_align(x, np.ones((1, 4)), 1.0, 2, 2, -1, False, n_threads=1)
    with pytest.raises(ValueError, match=r"input must have shape \(N, C, H, W\)"):
        _core.roi_align(np.ones((4, 4)), rois, 1.0, 2, 2, -1, False, n_threads=1)
    with pytest.raises(ValueError, match="pooled_height must be >= 0"):
        _core.roi_align(x, rois, 1.0, -2, 2, -1, False, n_threads=1)
    for bad in ([[1.0, 0, 0, 2, 2]], [[-1.0, 0, 0, 2, 2]], [[0.0, np.nan, 0, 2, 2]]):
        with pytest.raises(ValueError, match=r"boxes must be finite with a batch index in \[0, 1\)"):
            _core.roi_align(x, np.array(bad), 1.0, 2, 2, -1, False, n_threads=1)
        with pytest.raises(ValueError, match=r"batch index in \[0, 1\)"):
            _core.roi_align_backward(np.ones((1, 1, 2, 2)), np.array(bad), 1, 4, 4, 1.0, -1,
                                     False, n_threads=1)
    with pytest.raises(ValueError, match=r"rois must have shape \(K, 5\), got \(2, 5\)"):
        _core.roi_align_backward(np.ones((1, 1, 2, 2)), np.zeros((2, 5)), 1, 4, 4, 1.0, -1, False,
                                 n_threads=1)
    with pytest.raises(ValueError, match="height must be >= 0"):
        _core.roi_align_backward(np.ones((1, 1, 2, 2)), rois, 1, -4, 4, 1.0, -1, False,
                                 n_threads=1)


# ---------------------------------------------------------------- 6. threads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "k"), ROI_THREAD_SHAPES)
def test_same_bits_for_any_thread_count(dtype, shape, k):
    x, boxes, g = roi_thread_inputs(10, shape, k, dtype, 4)
    results = []
    for n in (1, 2, 3):
        with nk.num_threads(n):
            out = nk.roi_align(x, boxes, 4, 0.5, -1, True)
            grad = nk.roi_align_backward(g, boxes, shape, 4, 0.5, -1, True)
            results.append((out.tobytes(), grad.tobytes()))
    assert results[0] == results[1] == results[2]


# ---------------------------------------------------------------- 7. the anchor


def _golden_args(case):
    p = case["params"]
    boxes = case["boxes"]
    if p["as_list"]:
        boxes = per_image(boxes, case["input"].shape[0])
    kw = {k: p[k] for k in ("spatial_scale", "sampling_ratio", "aligned")}
    return case["input"], boxes, p["output_size"], kw


@pytest.mark.parametrize("impl", [nk, ref], ids=["npkernels", "reference"])
@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: "-".join(f"{v}" for v in c["params"].values()))
def test_golden_torchvision(impl, case):
    x, boxes, size, kw = _golden_args(case)
    out = impl.roi_align(x, boxes, size, **kw)
    assert out.tobytes() == case["out"].tobytes()  # torchvision's bits
    grad = impl.roi_align_backward(case["grad"], boxes, x.shape, size, **kw)
    assert grad.tobytes() == case["grad_input"].tobytes()


def test_golden_fixtures_cover_the_issue():
    params = [c["params"] for c in GOLDEN]
    assert {p["aligned"] for p in params} == {False, True}
    assert {2, -1, 0} <= {p["sampling_ratio"] for p in params}
    assert {1.0, 0.25} <= {p["spatial_scale"] for p in params}
    assert {True, False} == {p["as_list"] for p in params}
    assert {"float32", "float64"} == {p["dtype"] for p in params}


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [2, -1])
def test_live_torchvision(aligned, sampling_ratio):
    torch = pytest.importorskip("torch")
    ops = pytest.importorskip("torchvision.ops")
    rng = np.random.default_rng(11)
    x = random_feature_map(rng, (2, 16, 20, 24))
    boxes = random_rois(rng, 40, 2, 20, 24, size=(1, 16))
    boxes[::5, 1:] += 10.0  # some across the border
    tx = torch.from_numpy(x).requires_grad_(True)
    y = ops.roi_align(tx, torch.from_numpy(boxes), 5, 0.5, sampling_ratio, aligned)
    g = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(torch.from_numpy(g))
    for impl in (nk, ref):
        out = impl.roi_align(x, boxes, 5, 0.5, sampling_ratio, aligned)
        assert out.tobytes() == y.detach().numpy().tobytes()
        grad = impl.roi_align_backward(g, boxes, x.shape, 5, 0.5, sampling_ratio, aligned)
        assert grad.tobytes() == tx.grad.numpy().tobytes()
