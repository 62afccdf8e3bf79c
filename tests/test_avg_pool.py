"""avg_pool2d and avg_pool2d_backward against the NumPy reference and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    DTYPES,
    LAYOUTS,
    assert_matches,
    assert_same_bits_for_any_thread_count,
    big_image,
    images,
    layout_variant,
    pool_windows,
)
from hypothesis import assume, given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref


def _avg_args(data, hw):
    win = data.draw(pool_windows(hw, dilation=False))
    assume(win is not None)
    del win["dilation"]
    win["count_include_pad"] = data.draw(st.booleans())
    win["divisor_override"] = data.draw(st.one_of(st.none(), st.integers(-3, 5).filter(bool)))
    return win


# 1. Matches the reference ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    x = data.draw(images(dtype))
    args = _avg_args(data, x.shape[2:])
    out = ref.avg_pool2d(x, **args)
    assert_matches(nk.avg_pool2d(x, **args), out)
    g = np.cos(np.arange(out.size)).astype(dtype).reshape(out.shape)
    assert_matches(nk.avg_pool2d_backward(g, x.shape, **args),
                   ref.avg_pool2d_backward(g, x.shape, **args))


# 2. Edge cases ----------------------------------------------------------------------------


def test_padding_counts_as_torch_documents():
    ones = np.ones((1, 1, 5, 5))
    with_pad = nk.avg_pool2d(ones, 3, 2, 1, ceil_mode=True)
    np.testing.assert_allclose(with_pad[0, 0, 0, 0], 4 / 9)
    np.testing.assert_array_equal(nk.avg_pool2d(ones, 3, 2, 1, True, False), np.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(nk.avg_pool2d(ones, 2, divisor_override=1), 4 * np.ones((1, 1, 2, 2)))


def test_nan_and_inf_propagate():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0], x[0, 0, 3, 3] = np.nan, np.inf
    out = nk.avg_pool2d(x, 2)
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 1, 1] == np.inf and out[0, 0, 0, 1] == 0


def test_empty_batch_and_unbatched():
    assert nk.avg_pool2d(np.zeros((0, 2, 4, 4)), 2).shape == (0, 2, 2, 2)
    assert nk.avg_pool2d_backward(np.zeros((0, 2, 2, 2)), (0, 2, 4, 4), 2).shape == (0, 2, 4, 4)
    x = np.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_array_equal(nk.avg_pool2d(x, 2), ref.avg_pool2d(x, 2))
    np.testing.assert_array_equal(nk.avg_pool2d_backward(np.ones((1, 2, 2)), x.shape, 2),
                                  np.full((1, 4, 4), 0.25))


def test_kernel_equal_to_input_is_the_mean():
    x = np.random.default_rng(0).random((2, 3, 5, 4))
    np.testing.assert_allclose(nk.avg_pool2d(x, (5, 4))[..., 0, 0], x.mean(axis=(2, 3)), 1e-14)


# 3. Layouts -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts(layout):
    x = layout_variant(layout, seed=2)
    assert_matches(nk.avg_pool2d(x, 3, 2, 1), ref.avg_pool2d(x, 3, 2, 1))
    g = np.asfortranarray(np.ones(ref.avg_pool2d(x, 3, 2, 1).shape))
    assert_matches(nk.avg_pool2d_backward(g, x.shape, 3, 2, 1),
                   ref.avg_pool2d_backward(g, x.shape, 3, 2, 1))


# 4. dtype policy --------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "want"), [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.uint8, np.float64)])
def test_dtype_policy(dtype, want):
    assert nk.avg_pool2d(np.ones((1, 1, 4, 4), dtype), 2).dtype == want
    assert nk.avg_pool2d_backward(np.ones((1, 1, 2, 2), dtype), (1, 1, 4, 4), 2).dtype == want


# 5. Bad input -----------------------------------------------------------------------------


def test_bad_input():
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"divisor_override must be non-zero, got 0"):
        nk.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"padding must be at most half the kernel size"):
        ref.avg_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"Output size is too small"):
        nk.avg_pool2d(x, 6)
    with pytest.raises(TypeError, match=r"count_include_pad must be a bool"):
        nk.avg_pool2d(x, 2, count_include_pad=1)
    with pytest.raises(ValueError, match=r"grad_output must have shape \(1, 1, 2, 2\)"):
        nk.avg_pool2d_backward(np.ones((1, 1, 3, 3)), x.shape, 2)
    with pytest.raises(ValueError, match=r"input_shape is too small.*Output size is too small"):
        nk.avg_pool2d_backward(np.ones((1, 1, 1, 1)), (1, 1, 1, 1), 2)
    with pytest.raises(TypeError, match=r"x must have a real numeric dtype, got <U1"):
        nk.avg_pool2d(np.array([[[["a"]]]]), 1)


def test_core_guards_itself():
    with pytest.raises(TypeError, match=r"x must be a C-contiguous float32 or float64|x must be"):
        _core.avg_pool2d(np.zeros((1, 1, 4, 4), np.int64), (2, 2), (2, 2), (0, 0), False, True,
                         0, n_threads=1)
    with pytest.raises(ValueError, match=r"grad_output must have shape"):
        _core.avg_pool2d_backward(np.zeros((1, 1, 3, 3)), (1, 1, 4, 4), (2, 2), (2, 2), (0, 0),
                                  False, True, 0, n_threads=1)
    with pytest.raises(ValueError, match=r"invalid pooling window"):
        _core.avg_pool2d(np.zeros((1, 1, 4, 4)), (2, 2), (0, 2), (0, 0), False, True, 0,
                         n_threads=1)


# 6. Thread invariance ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(dtype):
    x = big_image(dtype)
    assert_same_bits_for_any_thread_count(nk.avg_pool2d, x, 3, 2, 1, True, False)
    g = nk.avg_pool2d(x, 3, 1, 1)
    assert_same_bits_for_any_thread_count(nk.avg_pool2d_backward, g, x.shape, 3, 1, 1)


# 7. The anchor ----------------------------------------------------------------------------

CONFIGS = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": (3, 2), "stride": (1, 2), "padding": (1, 1), "divisor_override": 5},
    {"kernel_size": 3, "stride": 1, "padding": 1, "ceil_mode": True},
]


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch(cfg, dtype):
    torch = pytest.importorskip("torch")
    x = big_image(dtype, (2, 3, 13, 11), seed=3)
    t = torch.from_numpy(x).requires_grad_()
    t_out = torch.nn.functional.avg_pool2d(t, **cfg)
    for impl in (nk, ref):
        assert_matches(impl.avg_pool2d(x, **cfg), t_out.detach().numpy())
    g = np.random.default_rng(2).standard_normal(t_out.shape).astype(dtype)
    t_out.backward(torch.from_numpy(g))
    for impl in (nk, ref):
        assert_matches(impl.avg_pool2d_backward(g, x.shape, **cfg), t.grad.numpy())
