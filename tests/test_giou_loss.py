"""nk.generalized_box_iou_loss (element-wise, torchvision's eps) against the reference and torchvision."""

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
REDUCTIONS = ("none", "mean", "sum")

# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    a = data.draw(boxes(dtype))
    b = data.draw(boxes(dtype, n=a.shape[0]))
    eps = data.draw(st.sampled_from([1e-7, 0.0, 1e-3]))
    np.testing.assert_array_equal(
        nk.generalized_box_iou_loss(a, b, eps=eps), ref.generalized_box_iou_loss(a, b, eps=eps)
    )
    for reduction in ("mean", "sum"):
        got = nk.generalized_box_iou_loss(a, b, reduction, eps)
        want = ref.generalized_box_iou_loss(a, b, reduction, eps)
        assert type(got) is type(want) is np.dtype(dtype).type
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------- 2. edge cases


def test_known_values():
    loss = nk.generalized_box_iou_loss([[0, 0, 2, 2], [0, 0, 1, 1]], [[1, 1, 3, 3], [2, 0, 3, 1]])
    # 1 - (1/7 - 2/9): overlapping; 1 - (0 - 1/3): disjoint, hull 3, union 2.
    np.testing.assert_allclose(loss, [1 - (1 / 7 - 2 / 9), 1 + 1 / 3], rtol=1e-6)


def test_identical_boxes_lose_about_zero():
    a = random_boxes(np.random.default_rng(0), 20, np.float64)
    np.testing.assert_allclose(nk.generalized_box_iou_loss(a, a), 0.0, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_input(reduction):
    out = nk.generalized_box_iou_loss(np.zeros((0, 4)), np.zeros((0, 4)), reduction)
    assert_matches(np.asarray(out), np.asarray(ref.generalized_box_iou_loss(np.zeros((0, 4)), np.zeros((0, 4)), reduction)))
    if reduction == "none":
        assert out.shape == (0,)
    else:
        assert out == 0.0  # torchvision: mean of nothing is 0.0 * sum


def test_single_box_pair_gives_a_scalar():
    out = nk.generalized_box_iou_loss([0, 0, 2, 2], [1, 1, 3, 3])
    assert np.ndim(out) == 0
    np.testing.assert_allclose(out, 1 - (1 / 7 - 2 / 9))


def test_zero_area_boxes_stay_finite_thanks_to_eps():
    z = [[1, 1, 1, 1]]
    assert np.isfinite(nk.generalized_box_iou_loss(z, z)).all()
    assert np.isnan(nk.generalized_box_iou_loss(z, z, eps=0.0)).all()


# ---------------------------------------------------------------------- 3. layouts


def test_non_contiguous_and_integer_inputs():
    rng = np.random.default_rng(4)
    a, b = random_boxes(rng, 30, np.float64), random_boxes(rng, 30, np.float64)
    want = nk.generalized_box_iou_loss(a, b)
    np.testing.assert_array_equal(nk.generalized_box_iou_loss(np.asfortranarray(a), b), want)
    np.testing.assert_array_equal(nk.generalized_box_iou_loss(a[::-1], b[::-1]), want[::-1])
    ints = nk.generalized_box_iou_loss(np.array([[0, 0, 2, 2]], np.int16), [[1, 1, 3, 3]])
    assert ints.dtype == np.float64


# ------------------------------------------------------------------ 4. dtype policy


def test_dtype_follows_the_first_argument():
    a32 = np.array([[0, 0, 2, 2]], np.float32)
    assert nk.generalized_box_iou_loss(a32, [[1.0, 1, 3, 3]]).dtype == np.float32
    assert type(nk.generalized_box_iou_loss(a32, a32, "mean")) is np.float32
    assert nk.generalized_box_iou_loss([[0, 0, 2, 2]], a32).dtype == np.float64


# --------------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "exc", "match"),
    [
        (np.zeros((2, 4)), np.zeros((3, 4)), {}, ValueError, r"boxes2 must have shape \(2, 4\) like boxes1, got \(3, 4\)"),
        (np.zeros((2, 5)), np.zeros((2, 5)), {}, ValueError, r"boxes1 must have shape \(N, 4\) or \(4,\), got \(2, 5\)"),
        (np.zeros((2, 4)), np.zeros((2, 4)), {"reduction": "avg"}, ValueError, r"reduction must be one of 'none', 'mean', 'sum', got 'avg'"),
        (np.zeros((2, 4)), np.zeros((2, 4)), {"eps": float("nan")}, ValueError, r"eps must not be NaN"),
        (np.zeros((2, 4)), np.zeros((2, 4)), {"eps": "1e-7"}, TypeError, r"eps must be a real number, got str"),
        (np.full((2, 4), np.inf), np.zeros((2, 4)), {}, ValueError, r"boxes1 must be finite, got inf in row 0"),
    ],
)
def test_bad_input(a, b, kwargs, exc, match):
    for module in (nk, ref):
        with pytest.raises(exc, match=match):
            module.generalized_box_iou_loss(a, b, **kwargs)


def test_core_guards_itself():
    with pytest.raises(ValueError, match=r"boxes2 must have shape \(2, 4\) like boxes1"):
        _core.generalized_box_iou_loss(np.zeros((2, 4)), np.zeros((3, 4)), 1e-7, n_threads=1)
    with pytest.raises(TypeError, match="C-contiguous float64"):
        _core.generalized_box_iou_loss(np.zeros((2, 4)), np.zeros((2, 4), np.float32), 1e-7, n_threads=1)


# ------------------------------------------------------------ 6. thread invariance


def test_same_bits_for_any_thread_count():
    rng = np.random.default_rng(5)
    a, b = random_boxes(rng, 40_000), random_boxes(rng, 40_000)
    results = []
    for threads in (1, 2, 3):
        with nk.num_threads(threads):
            results.append(nk.generalized_box_iou_loss(a, b))
    assert results[0].tobytes() == results[1].tobytes() == results[2].tobytes()


# ------------------------------------------------------------------------ 7. anchor


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_equals_torchvision_outputs(dtype):
    d = np.load(FIXTURES)
    a, b = d[f"loss_{dtype}_a"], d[f"loss_{dtype}_b"]
    for module in (nk, ref):
        np.testing.assert_array_equal(module.generalized_box_iou_loss(a, b), d[f"loss_{dtype}_none"])
        np.testing.assert_array_equal(module.generalized_box_iou_loss(a, b, eps=0.0), d[f"loss_{dtype}_eps0"])
        for reduction in ("mean", "sum"):
            # torchvision sums in its own order; this sums in float64.
            tol = 1e-6 if dtype == "float32" else 1e-13
            np.testing.assert_allclose(
                module.generalized_box_iou_loss(a, b, reduction), d[f"loss_{dtype}_{reduction}"], rtol=tol
            )
