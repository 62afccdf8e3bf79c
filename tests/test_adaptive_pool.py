"""Adaptive average and max pooling (and their backwards) against the reference and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    DTYPES,
    LAYOUTS,
    assert_all_match,
    assert_matches,
    assert_same_bits_for_any_thread_count,
    big_image,
    images,
    layout_variant,
)
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref

sizes = st.tuples(st.one_of(st.none(), st.integers(0, 11)), st.integers(0, 11))

# 1. Matches the reference ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    x = data.draw(images(dtype, nan=data.draw(st.booleans())))
    size = data.draw(sizes)
    avg = ref.adaptive_avg_pool2d(x, size)
    assert_matches(nk.adaptive_avg_pool2d(x, size), avg)
    mx = ref.adaptive_max_pool2d(x, size, return_indices=True)
    assert_all_match(nk.adaptive_max_pool2d(x, size, return_indices=True), mx)
    g = np.cos(np.arange(avg.size)).astype(dtype).reshape(avg.shape)
    assert_matches(nk.adaptive_avg_pool2d_backward(g, x.shape),
                   ref.adaptive_avg_pool2d_backward(g, x.shape))
    assert_matches(nk.adaptive_max_pool2d_backward(g, mx[1], x.shape),
                   ref.adaptive_max_pool2d_backward(g, mx[1], x.shape))


# 2. Edge cases ----------------------------------------------------------------------------


def test_bins_overlap_and_upsample():
    x = np.arange(10.0).reshape(1, 1, 1, 10)
    np.testing.assert_array_equal(nk.adaptive_avg_pool2d(x, (1, 3)), [[[[1.5, 4.5, 7.5]]]])
    y = np.arange(3.0).reshape(1, 1, 1, 3)
    np.testing.assert_array_equal(nk.adaptive_avg_pool2d(y, (1, 5)), [[[[0, 0.5, 1, 1.5, 2]]]])


def test_none_keeps_the_input_size_and_zero_gives_empty():
    x = np.ones((2, 3, 5, 4))
    assert nk.adaptive_max_pool2d(x, (None, 2)).shape == (2, 3, 5, 2)
    assert nk.adaptive_avg_pool2d(x, 0).shape == (2, 3, 0, 0)
    assert nk.adaptive_avg_pool2d_backward(np.ones((2, 3, 0, 0)), x.shape).shape == x.shape


def test_max_ties_and_nan():
    out, idx = nk.adaptive_max_pool2d(np.array([[[[2.0, 5.0, 5.0, 1.0]]]]), 1, True)
    assert out.item() == 5 and idx.item() == 1
    out, idx = nk.adaptive_max_pool2d(np.array([[[[1.0, np.nan, 3.0, np.nan]]]]), 1, True)
    assert np.isnan(out.item()) and idx.item() == 3


def test_empty_batch_and_unbatched():
    assert nk.adaptive_avg_pool2d(np.zeros((0, 1, 4, 4)), 2).shape == (0, 1, 2, 2)
    x = np.arange(12.0).reshape(1, 3, 4)
    assert_all_match(nk.adaptive_max_pool2d(x, 2, True), ref.adaptive_max_pool2d(x, 2, True))


# 3. Layouts -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts(layout):
    x = layout_variant(layout, seed=3)
    assert_matches(nk.adaptive_avg_pool2d(x, (4, 3)), ref.adaptive_avg_pool2d(x, (4, 3)))
    assert_all_match(nk.adaptive_max_pool2d(x, 3, True), ref.adaptive_max_pool2d(x, 3, True))


# 4. dtype policy --------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "want"), [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int32, np.float64)])
def test_dtype_policy(dtype, want):
    x = np.ones((1, 1, 4, 4), dtype)
    assert nk.adaptive_avg_pool2d(x, 2).dtype == want
    out, idx = nk.adaptive_max_pool2d(x, 2, True)
    assert out.dtype == want and idx.dtype == np.int64
    assert nk.adaptive_avg_pool2d_backward(out, x.shape).dtype == want


# 5. Bad input -----------------------------------------------------------------------------


def test_bad_input():
    x = np.ones((1, 1, 4, 4))
    for impl in (nk, ref):
        with pytest.raises(ValueError, match=r"output_size must be >= 0, got \(-1, -1\)"):
            impl.adaptive_avg_pool2d(x, -1)
        with pytest.raises(ValueError, match=r"output_size must be an int or a pair"):
            impl.adaptive_max_pool2d(x, (1, 2, 3))
        with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\) or \(C, H, W\)"):
            impl.adaptive_avg_pool2d(np.ones((1, 1, 0, 3)), 2)
        with pytest.raises(ValueError, match=r"grad_output must have shape \(2, 1, 'oH', 'oW'\)"):
            impl.adaptive_avg_pool2d_backward(np.ones((1, 1, 2, 2)), (2, 1, 4, 4))


def test_core_guards_itself():
    with pytest.raises(ValueError, match=r"output_size must be >= 0"):
        _core.adaptive_avg_pool2d(np.ones((1, 1, 4, 4)), (-1, 2), n_threads=1)
    with pytest.raises(ValueError, match=r"input_shape must be"):
        _core.adaptive_avg_pool2d_backward(np.ones((1, 1, 2, 2)), (1, 1, 0, 4), n_threads=1)
    with pytest.raises(TypeError, match=r"x must be a C-contiguous"):
        _core.adaptive_max_pool2d(np.ones((1, 1, 4, 4)).T, (2, 2), False, n_threads=1)


# 6. Thread invariance ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(dtype):
    x = big_image(dtype)
    assert_same_bits_for_any_thread_count(nk.adaptive_avg_pool2d, x, (7, 5))
    assert_same_bits_for_any_thread_count(nk.adaptive_max_pool2d, x, (7, 5), True)
    g = nk.adaptive_avg_pool2d(x, (7, 5))
    assert_same_bits_for_any_thread_count(nk.adaptive_avg_pool2d_backward, g, x.shape)


# 7. The anchor ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, (3, 5), (7, 7), (None, 4), (20, 13)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch(size, dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.round(big_image(dtype, (2, 3, 13, 11), seed=6) * 2) / 2
    x[1, 1, 4, 4] = np.nan
    t = torch.from_numpy(x).requires_grad_()
    t_avg = F.adaptive_avg_pool2d(t, size)
    t_max, t_idx = F.adaptive_max_pool2d(t, size, return_indices=True)
    for impl in (nk, ref):
        assert_matches(impl.adaptive_avg_pool2d(x, size), t_avg.detach().numpy())
        out, idx = impl.adaptive_max_pool2d(x, size, return_indices=True)
        np.testing.assert_array_equal(out, t_max.detach().numpy())
        np.testing.assert_array_equal(idx, t_idx.numpy())
    g = np.random.default_rng(7).standard_normal(t_avg.shape).astype(dtype)
    (t_avg * torch.from_numpy(g)).sum().backward()
    assert_matches(nk.adaptive_avg_pool2d_backward(g, x.shape), t.grad.numpy())
    t.grad = None
    t_max.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(nk.adaptive_max_pool2d_backward(g, t_idx.numpy(), x.shape),
                                  t.grad.numpy())
