"""nk.box_area, nk.box_iou and nk.generalized_box_iou against the reference and torchvision's outputs."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from helpers import DTYPES, assert_matches, boxes
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref
from npkernels._workloads import random_boxes

FIXTURES = pathlib.Path(__file__).parent / "data" / "detection_torchvision.npz"
PAIRWISE = ("box_iou", "generalized_box_iou")

# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("name", PAIRWISE)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(name, dtype, data):
    a, b = data.draw(boxes(dtype)), data.draw(boxes(dtype))
    got, want = getattr(nk, name)(a, b), getattr(ref, name)(a, b)
    assert_matches(got, want)
    # Same expression, same dtype: equal bit for bit, NaNs included.
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_box_area_matches_reference(dtype, data):
    b = data.draw(boxes(dtype))
    np.testing.assert_array_equal(nk.box_area(b), ref.box_area(b))
    assert nk.box_area(b).dtype == dtype


# ------------------------------------------------------------------- 2. edge cases


@pytest.mark.parametrize("name", PAIRWISE)
@pytest.mark.parametrize(("n", "m"), [(0, 0), (0, 3), (3, 0), (1, 1)])
def test_empty_and_tiny(name, n, m):
    rng = np.random.default_rng(n * 10 + m)
    a, b = random_boxes(rng, n), random_boxes(rng, m)
    out = getattr(nk, name)(a, b)
    assert out.shape == (n, m)
    assert_matches(out, getattr(ref, name)(a, b))


def test_known_values():
    a = np.array([[0, 0, 2, 2]], np.float64)
    b = np.array([[1, 1, 3, 3], [0, 0, 2, 2], [2, 0, 4, 2], [5, 5, 6, 6]], np.float64)
    np.testing.assert_allclose(nk.box_iou(a, b), [[1 / 7, 1.0, 0.0, 0.0]])
    # GIoU: hull of the disjoint pair [0,0,2,2] / [5,5,6,6] is 36, union 5.
    np.testing.assert_allclose(nk.generalized_box_iou(a, b), [[1 / 7 - 2 / 9, 1.0, 0.0, -31 / 36]])
    np.testing.assert_array_equal(nk.box_area(b), [4.0, 4.0, 4.0, 1.0])


def test_zero_area_boxes_give_nan_as_torchvision():
    z = np.array([[1, 1, 1, 5]], np.float32)
    assert np.isnan(nk.box_iou(z, z)[0, 0])
    assert nk.box_iou(z, [[0, 0, 4, 4]])[0, 0] == 0.0


def test_reversed_boxes_have_signed_area_and_no_overlap():
    r = np.array([[4, 4, 0, 0]], np.float64)  # x2 < x1, y2 < y1
    assert nk.box_area(r)[0] == 16.0
    assert nk.box_iou(r, [[0, 0, 4, 4]])[0, 0] == 0.0


# ---------------------------------------------------------------------- 3. layouts


def _layouts(a):
    return {
        "fortran": np.asfortranarray(a),
        "strided": np.repeat(a, 2, axis=0)[::2],
        "negative_stride": a[::-1],
        "column_view": np.ascontiguousarray(a.T).T,
    }


@pytest.mark.parametrize("name", PAIRWISE)
def test_non_contiguous_layouts(name):
    rng = np.random.default_rng(1)
    a, b = random_boxes(rng, 37), random_boxes(rng, 11)
    for key, view in _layouts(a).items():
        expected = getattr(ref, name)(np.ascontiguousarray(view), b)
        np.testing.assert_array_equal(getattr(nk, name)(view, b), expected, err_msg=key)


def test_integer_and_bool_inputs_become_float64():
    a = np.array([[0, 0, 2, 2]], np.int32)
    b = np.array([[1, 1, 3, 3]], np.int64)
    out = nk.box_iou(a, b)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [[1 / 7]])
    assert nk.box_area(np.ones((2, 4), bool)).dtype == np.float64


# ------------------------------------------------------------------ 4. dtype policy


@pytest.mark.parametrize("name", [*PAIRWISE])
def test_dtype_follows_the_first_argument(name):
    f = getattr(nk, name)
    a32 = np.array([[0, 0, 2, 2]], np.float32)
    assert f(a32, [[1.0, 1.0, 3.0, 3.0]]).dtype == np.float32
    assert f(a32.astype(np.float64), a32).dtype == np.float64
    assert f([[0, 0, 2, 2]], [[1, 1, 3, 3]]).dtype == np.float64
    assert f(np.zeros((2, 4), np.float16), a32).dtype == np.float64


# --------------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize("name", PAIRWISE)
@pytest.mark.parametrize(
    ("shape", "match"),
    [((4,), r"boxes1 must have shape \(N, 4\), got \(4,\)"), ((2, 5), r"got \(2, 5\)")],
)
def test_bad_shape(name, shape, match):
    for module in (nk, ref):
        with pytest.raises(ValueError, match=match):
            getattr(module, name)(np.zeros(shape), np.zeros((1, 4)))


@pytest.mark.parametrize("name", [*PAIRWISE, "box_area"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_boxes_raise(name, bad):
    a = np.zeros((3, 4), np.float32)
    a[2, 1] = bad
    arg = "boxes" if name == "box_area" else "boxes1"
    match = rf"{arg} must be finite, got {bad} in row 2"
    for module in (nk, ref):
        f = getattr(module, name)
        with pytest.raises(ValueError, match=match):
            f(a) if name == "box_area" else f(a, np.zeros((1, 4)))
    if name != "box_area":
        with pytest.raises(ValueError, match=rf"boxes2 must be finite, got {bad} in row 2"):
            getattr(nk, name)(np.zeros((1, 4)), a)


def test_bad_dtype():
    with pytest.raises(TypeError, match="boxes1 must have a real numeric dtype"):
        nk.box_iou(np.zeros((1, 4), complex), np.zeros((1, 4)))
    with pytest.raises(TypeError, match="boxes must have a real numeric dtype, got <U1"):
        nk.box_area(np.array([["a"] * 4]))


def test_core_guards_itself():
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.box_iou(np.zeros((1, 4), np.int64), np.zeros((1, 4)), n_threads=1)
    with pytest.raises(TypeError, match="C-contiguous"):
        _core.box_iou(np.zeros((8, 4))[::2], np.zeros((1, 4)), n_threads=1)
    with pytest.raises(TypeError, match="C-contiguous float32"):
        _core.generalized_box_iou(np.zeros((1, 4), np.float32), np.zeros((1, 4)), n_threads=1)
    with pytest.raises(ValueError, match=r"boxes2 must have shape \(N, 4\)"):
        _core.box_iou(np.zeros((1, 4)), np.zeros((1, 3)), n_threads=1)
    with pytest.raises(ValueError, match="boxes must be finite, got nan in row 0"):
        _core.box_area(np.full((1, 4), np.nan), n_threads=1)


# ------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("name", [*PAIRWISE, "box_area"])
def test_same_bits_for_any_thread_count(name):
    rng = np.random.default_rng(2)
    a, b = random_boxes(rng, 501), random_boxes(rng, 257)
    f = getattr(nk, name)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(f(a) if name == "box_area" else f(a, b))
    assert results[0].tobytes() == results[1].tobytes() == results[2].tobytes()


# ------------------------------------------------------------------------ 7. anchor


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_equals_torchvision_outputs_bit_for_bit(dtype):
    d = np.load(FIXTURES)
    a, b = d[f"iou_{dtype}_a"], d[f"iou_{dtype}_b"]
    for module in (nk, ref):
        np.testing.assert_array_equal(module.box_iou(a, b), d[f"iou_{dtype}"])
        np.testing.assert_array_equal(module.generalized_box_iou(a, b), d[f"giou_{dtype}"])
        np.testing.assert_array_equal(module.box_area(a), d[f"area_{dtype}"])
    assert nk.box_iou(a, b).dtype == dtype


def test_matches_live_torchvision():
    torch = pytest.importorskip("torch")
    ops = pytest.importorskip("torchvision.ops")
    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 60), random_boxes(rng, 40)
    want = ops.box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_array_equal(nk.box_iou(a, b), want)
    np.testing.assert_array_equal(ref.box_iou(a, b), want)
