"""The direct depthwise path of conv2d / conv2d_backward / conv_transpose2d.

One input channel per group and at most 8 output channels per group (the
channel multiplier) take it (npkernels/conv/depthwise.hpp, no BLAS): any
kernel size, stride, padding, dilation; 3x3 kernels with column stride 1 or 2
have a fused interior pass, checked here next to the general tap-by-tap code.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    DTYPES,
    assert_conv_close,
    assert_forward_matches_reference,
    assert_gradients_match_reference,
    random_normal,
    same_bits_for_threads,
)
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import reference as ref

MAX_MULTIPLIER = 8  # depthwise_max_multiplier in depthwise.hpp


@st.composite
def depthwise_problems(draw, dtype):
    """A random depthwise problem: odd and even sizes, 3x3 (the fused pass) or
    other kernels, strides 1-3, padding int / pair / 'same' / 'valid',
    dilation 1-2, multipliers 1-3, batches of 0-2, optional bias."""
    c = draw(st.integers(1, 5))
    mult = draw(st.sampled_from([1, 1, 2, 3]))
    kh, kw = draw(st.sampled_from([(3, 3), (3, 3), (1, 1), (5, 5), (2, 3), (3, 1)]))
    stride = draw(st.sampled_from([1, 2, 3, (1, 2), (2, 1)]))
    dilation = draw(st.sampled_from([1, 1, 2, (2, 1)]))
    if draw(st.booleans()) and stride == 1:
        padding = draw(st.sampled_from(["same", "valid"]))
    else:
        padding = draw(st.sampled_from([0, 1, 2, (1, 0), (0, 2)]))
    pads = {"same": (kh, kw), "valid": (0, 0)}.get(padding, padding)
    pads = (pads, pads) if isinstance(pads, int) else pads
    dil = (dilation, dilation) if isinstance(dilation, int) else dilation
    h = draw(st.integers(max(1, dil[0] * (kh - 1) + 1 - 2 * pads[0]), 12))
    w = draw(st.integers(max(1, dil[1] * (kw - 1) + 1 - 2 * pads[1]), 12))
    n = draw(st.sampled_from([0, 1, 2]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = random_normal(rng, (n, c, h, w), dtype)
    weight = random_normal(rng, (c * mult, 1, kh, kw), dtype)
    bias = random_normal(rng, (c * mult,), dtype) if draw(st.booleans()) else None
    kw_ = {"stride": stride, "padding": padding, "dilation": dilation, "groups": c}
    return {"x": x, "weight": weight, "bias": bias, "kw": kw_, "terms": kh * kw}


# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_forward_matches_the_reference(dtype, data):
    assert_forward_matches_reference(data.draw(depthwise_problems(dtype)))


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_gradients_match_the_reference(dtype, data):
    p = data.draw(depthwise_problems(dtype))
    # grad_input sums multiplier * kH*kW terms per pixel
    assert_gradients_match_reference(p, p["weight"].shape[0] // p["kw"]["groups"] * p["terms"])


@pytest.mark.parametrize("dtype", DTYPES)
def test_transposed_depthwise_matches_the_reference(dtype):
    rng = np.random.default_rng(0)
    x = random_normal(rng, (2, 6, 9, 8), dtype)
    w = random_normal(rng, (6, 2, 3, 3), dtype)  # (C_in, C_out/groups, 3, 3), groups = C_in
    b = random_normal(rng, (12,), dtype)
    for stride, padding in ((1, 1), (2, 1), (2, 0)):
        assert_conv_close(
            nk.conv_transpose2d(x, w, b, stride=stride, padding=padding, groups=6),
            ref.conv_transpose2d(x, w, b, stride=stride, padding=padding, groups=6), 18)


# ------------------------------------------------------------------- 2. edge cases


@pytest.mark.parametrize("stride", [1, 2])
def test_fused_rows_and_edges_on_a_wide_image(stride):
    # 3x3 with padding 1 on a 41-wide image: the fused interior, the edge
    # columns and the top/bottom rows (taps outside the image) all appear.
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 9, 41)), rng.standard_normal((3, 1, 3, 3))
    b = rng.standard_normal(3)
    for dilation in (1, 2):
        kw = {"stride": stride, "padding": 1, "dilation": dilation, "groups": 3}
        assert_conv_close(nk.conv2d(x, w, b, **kw), ref.conv2d(x, w, b, **kw), 9)


def test_multiplier_above_the_limit_takes_the_product_path():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 7, 7))
    w = rng.standard_normal((2 * (MAX_MULTIPLIER + 1), 1, 3, 3))
    assert_conv_close(nk.conv2d(x, w, padding=1, groups=2), ref.conv2d(x, w, padding=1, groups=2), 9)


def test_nan_and_inf_reach_the_windows_that_see_them():
    x = np.zeros((1, 2, 6, 6))
    x[0, 1, 2, 3] = np.nan
    x[0, 0, 5, 0] = np.inf
    w = np.ones((2, 1, 3, 3))
    got, want = nk.conv2d(x, w, padding=1, groups=2), ref.conv2d(x, w, padding=1, groups=2)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))


def test_non_contiguous_inputs():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 10, 12))[:, ::2, ::-1, :].transpose(0, 1, 2, 3)
    w = np.asfortranarray(rng.standard_normal((4, 1, 3, 3)))
    assert_conv_close(nk.conv2d(x, w, padding=1, groups=4),
                      ref.conv2d(np.ascontiguousarray(x), w, padding=1, groups=4), 9)


# ------------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stride", [1, 2])
def test_same_bits_for_any_thread_count(dtype, stride):
    # > 96 MFLOP so that 3 threads are used.
    rng = np.random.default_rng(4)
    x = random_normal(rng, (4, 64, 40, 45), dtype)
    w = random_normal(rng, (128, 1, 3, 3), dtype)
    b = random_normal(rng, (128,), dtype)
    kw = {"stride": stride, "padding": 1, "groups": 64}
    y = nk.conv2d(x, w, b, **kw)
    dy = random_normal(rng, y.shape, dtype)
    assert same_bits_for_threads(lambda: nk.conv2d(x, w, b, **kw))
    assert same_bits_for_threads(lambda: nk.conv2d_backward(dy, x, w, **kw))


# ------------------------------------------------------------------------ 7. the anchor


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stride", [1, 2])
def test_layer_and_gradients_match_torch(dtype, stride):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = random_normal(rng, (2, 16, 15, 14), dtype)
    w = random_normal(rng, (32, 1, 3, 3), dtype)
    b = random_normal(rng, (32,), dtype)
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    y = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=1, groups=16)
    dy = random_normal(rng, tuple(y.shape), dtype)
    y.backward(torch.from_numpy(dy))
    kw = {"stride": stride, "padding": 1, "groups": 16}
    assert_conv_close(nk.conv2d(x, w, b, **kw), y.detach().numpy(), 9)
    gi, gw, gb = nk.conv2d_backward(dy, x, w, **kw)
    n_out = 2 * y.shape[2] * y.shape[3]
    assert_conv_close(gi, xt.grad.numpy(), 18)
    assert_conv_close(gw, wt.grad.numpy(), n_out)
    assert_conv_close(gb, bt.grad.numpy(), n_out)
    # and the reference agrees with torch too
    assert_conv_close(ref.conv2d(x, w, b, **kw), y.detach().numpy(), 9)
