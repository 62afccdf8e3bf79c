"""The Winograd path of conv2d / conv2d_backward / conv_transpose2d.

3x3 kernels with stride 1 and dilation 1 and at least 8 input and 8 output
channels per group take it (npkernels/conv/winograd.hpp) when every input is
finite; the hypothesis problems of test_conv2d.py have fewer channels, so
they exercise the im2col path and these the tiles. F(2x2, 3x3) serves float32
and the hypothesis problems below (fewer than 32 channels); in float64,
F(4x4, 3x3) the forward and grad_input of layers with >= 32 channels per group
both ways and outputs >= 32 wide (winograd_tile_size), checked by the F4 tests
(whose float32 runs check F(2x2) on the same shapes).
"""

from __future__ import annotations

import warnings

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

MIN_CHANNELS = 8  # winograd_min_channels in winograd.hpp
F4_CHANNELS, F4_WIDTH = 32, 32  # winograd_tile_size's rule for F(4x4, 3x3) (float64)


@st.composite
def winograd_problems(draw, dtype):
    """A random 3x3 stride-1 problem with enough channels per group for the tiles:
    odd and even sizes down to 1x1, padding 0 / 1 / 2 / a pair / 'same' / 'valid',
    groups, batches of 0 and 1."""
    groups = draw(st.integers(1, 2))
    cg = draw(st.integers(MIN_CHANNELS, MIN_CHANNELS + 4))
    og = draw(st.integers(MIN_CHANNELS, MIN_CHANNELS + 4))
    n = draw(st.sampled_from([0, 1, 2, 3]))
    padding = draw(st.sampled_from([0, 1, 2, (0, 1), (2, 0), "same", "valid"]))
    pads = {"same": (1, 1), "valid": (0, 0)}.get(padding, padding)
    pads = (pads, pads) if isinstance(pads, int) else pads
    h = draw(st.integers(max(1, 3 - 2 * pads[0]), 13))
    w = draw(st.integers(max(1, 3 - 2 * pads[1]), 13))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = random_normal(rng, (n, cg * groups, h, w), dtype)
    weight = random_normal(rng, (og * groups, cg, 3, 3), dtype)
    bias = random_normal(rng, (og * groups,), dtype) if draw(st.booleans()) else None
    return {"x": x, "weight": weight, "bias": bias,
            "kw": {"padding": padding, "groups": groups}, "terms": cg * 9}


# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_forward_matches_the_reference(dtype, data):
    assert_forward_matches_reference(data.draw(winograd_problems(dtype)))


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_gradients_match_the_reference(dtype, data):
    p = data.draw(winograd_problems(dtype))
    # grad_input sums O/groups*9 terms per pixel
    assert_gradients_match_reference(p, p["weight"].shape[0] // p["kw"]["groups"] * 9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_transposed_convolution_matches_the_reference(dtype):
    rng = np.random.default_rng(0)
    x = random_normal(rng, (2, 16, 9, 12), dtype)
    w = random_normal(rng, (16, 12, 3, 3), dtype)  # (C_in, C_out, 3, 3)
    b = random_normal(rng, (12,), dtype)
    for padding in (0, 1, 2):
        assert_conv_close(nk.conv_transpose2d(x, w, b, padding=padding),
                          ref.conv_transpose2d(x, w, b, padding=padding), 16 * 9)


@pytest.mark.parametrize(
    ("x_shape", "o"), [((2, 64, 28, 28), 32), ((2, 48, 34, 40), 40)],
    ids=["narrow", "wide (F4x4 in float64)"],
)
def test_float32_error_against_float64_stays_within_the_tolerance(x_shape, o):
    # The transforms add up to 16 (F(2x2)) or 36 (F(4x4), points 0, +-1, +-1/2,
    # inf, scaled by up to 5) values of a window before the products, so the
    # float32 error is measured against the float64 result on a realistic layer:
    # it must stay inside a quarter of the tolerance the im2col path is held to.
    rng = np.random.default_rng(1)
    c, h, w_ = x_shape[1:]
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((o, c, 3, 3)) * 0.1
    exact = ref.conv2d(x, w, padding=1)
    got = nk.conv2d(x.astype(np.float32), w.astype(np.float32), padding=1)
    err = np.abs(got - exact).max() / np.abs(exact).max()
    assert err < 1e-5 * np.sqrt(c * 9) / 4, err  # a quarter of the test tolerance
    # F(2x2) in float32 (measured ~3e-7; F(4x4) would give ~5e-6, beyond torch's
    # float32 agreement): float32 must not take the larger tiles.
    assert err < 1.5e-6, err
    dy = rng.standard_normal(exact.shape)
    want = ref.conv2d_backward(dy, x, w, padding=1)
    got = nk.conv2d_backward(dy.astype(np.float32), x.astype(np.float32), w.astype(np.float32),
                             padding=1)
    for g, e, terms in zip(got, want, (o * 9, 2 * h * w_, 2 * h * w_)):
        assert np.abs(g - e).max() / np.abs(e).max() < 1e-5 * np.sqrt(terms) / 4


def _assert_close_to_scale(got, want, terms):
    # The Winograd error model: a few ulps of the largest value (not of each
    # output), held to a quarter of the sqrt(terms)-scaled tolerance, as in the
    # float32-versus-float64 tests above. On unit-variance data with 32 channels
    # F(4x4)'s float32 error is ~4.5e-6 of the largest output (3e-4 absolute on
    # outputs up to ~75: 18x F(2x2)'s, 7x the im2col path's).
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = (1e-5 if got.dtype == np.float32 else 1e-12) * np.sqrt(terms) / 4
    assert np.abs(got - want).max() <= tol * max(1.0, np.abs(want).max())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding", [0, 1, 2, (0, 1), "same"])
def test_f4_tiles_with_ragged_edges_and_groups(dtype, padding):
    # 2 groups of 32 channels, outputs 33..39 wide and high: F(4x4) tiles whose
    # last row and column are cut by 1, 2 or 3; grad_input (padding 2 - pad) too.
    rng = np.random.default_rng(7)
    x = random_normal(rng, (2, 2 * F4_CHANNELS, 35, F4_WIDTH + 5), dtype)
    w = random_normal(rng, (2 * F4_CHANNELS, F4_CHANNELS, 3, 3), dtype)
    b = random_normal(rng, (2 * F4_CHANNELS,), dtype)
    kw = {"padding": padding, "groups": 2}
    y = ref.conv2d(x, w, b, **kw)
    _assert_close_to_scale(nk.conv2d(x, w, b, **kw), y, F4_CHANNELS * 9)
    dy = random_normal(rng, y.shape, dtype)
    got = nk.conv2d_backward(dy, x, w, **kw)
    want = ref.conv2d_backward(dy, x, w, **kw)
    _assert_close_to_scale(got[0], want[0], F4_CHANNELS * 9)
    assert_conv_close(got[1], want[1], 2 * y.shape[2] * y.shape[3])  # F(2x2)


# ------------------------------------------------------------------- 2. edge cases


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_finite_inputs_fall_back_to_exact_propagation(dtype):
    # In a tile an inf meets inf - inf; the path is skipped for non-finite data,
    # so NaN and inf reach exactly the outputs whose windows see them.
    rng = np.random.default_rng(2)
    x = random_normal(rng, (1, 8, 8, 8), dtype)
    w = random_normal(rng, (8, 8, 3, 3), dtype)
    x[0, 3, 4, 4] = np.inf
    x[0, 5, 0, 7] = np.nan
    got, want = nk.conv2d(x, w, padding=1), ref.conv2d(x, w, padding=1)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    assert_conv_close(got[finite], want[finite], 72)
    dy = np.ones_like(got)
    dy[0, 2, 6, 1] = np.inf
    x[np.isinf(x) | np.isnan(x)] = 0
    for g, e in zip(nk.conv2d_backward(dy, x, w, padding=1), ref.conv2d_backward(dy, x, w, padding=1)):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(e))
        np.testing.assert_array_equal(np.isinf(g), np.isinf(e))


def test_tiles_across_image_boundaries_and_blocks():
    # 20 images of 5x7: 12 tiles each, blocks of >= 128 tiles span several images
    # (and end mid-image); odd sizes leave half-empty tiles at the bottom and right.
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((20, 8, 5, 7)), rng.standard_normal((9, 8, 3, 3))
    b = rng.standard_normal(9)
    assert_conv_close(nk.conv2d(x, w, b, padding=1), ref.conv2d(x, w, b, padding=1), 72)
    dy = rng.standard_normal((20, 9, 5, 7))
    for g, e, t in zip(nk.conv2d_backward(dy, x, w, padding=1),
                       ref.conv2d_backward(dy, x, w, padding=1), (81, 700, 700)):
        assert_conv_close(g, e, t)


# ------------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(dtype):
    # > 96 MFLOP (3 threads used) and many blocks of tiles.
    rng = np.random.default_rng(4)
    x = random_normal(rng, (6, 64, 30, 31), dtype)
    w = random_normal(rng, (48, 32, 3, 3), dtype)
    b = random_normal(rng, (48,), dtype)
    dy = random_normal(rng, (6, 48, 30, 31), dtype)
    assert same_bits_for_threads(lambda: nk.conv2d(x, w, b, padding="same", groups=2))
    assert same_bits_for_threads(lambda: nk.conv2d_backward(dy, x, w, padding="same", groups=2))
    wt = random_normal(rng, (64, 24, 3, 3), dtype)
    assert same_bits_for_threads(lambda: nk.conv_transpose2d(x, wt, padding=1, groups=2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_f4_same_bits_for_any_thread_count(dtype):
    rng = np.random.default_rng(8)
    x = random_normal(rng, (4, 32, 36, 40), dtype)
    w = random_normal(rng, (48, 32, 3, 3), dtype)
    dy = random_normal(rng, (4, 48, 36, 40), dtype)
    assert same_bits_for_threads(lambda: nk.conv2d(x, w, padding=1))
    assert same_bits_for_threads(
        lambda: nk.conv2d_backward(dy, x, w, padding=1, output_mask=(True, False, False)))


# ------------------------------------------------------------------------ 7. the anchor


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_and_gradients_match_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = random_normal(rng, (2, 32, 15, 14), dtype)
    w = random_normal(rng, (24, 16, 3, 3), dtype) * 0.1
    b = random_normal(rng, (24,), dtype)
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        y = torch.nn.functional.conv2d(xt, wt, bt, padding="same", groups=2)
    dy = random_normal(rng, tuple(y.shape), dtype)
    y.backward(torch.from_numpy(dy))
    assert_conv_close(nk.conv2d(x, w, b, padding="same", groups=2), y.detach().numpy(), 144)
    gi, gw, gb = nk.conv2d_backward(dy, x, w, padding="same", groups=2)
    assert_conv_close(gi, xt.grad.numpy(), 12 * 9)
    assert_conv_close(gw, wt.grad.numpy(), 2 * 15 * 14)
    assert_conv_close(gb, bt.grad.numpy(), 2 * 15 * 14)
