"""max_pool2d and max_pool2d_backward against the NumPy reference and PyTorch."""

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
    pool_windows,
)
from hypothesis import assume, given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref

# 1. Matches the reference ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    x = data.draw(images(dtype, nan=data.draw(st.booleans())))
    win = data.draw(pool_windows(x.shape[2:]))
    assume(win is not None)
    got = nk.max_pool2d(x, **win, return_indices=True)
    want = ref.max_pool2d(x, **win, return_indices=True)
    assert_all_match(got, want)
    values = nk.max_pool2d(x, **win)
    assert_matches(values, want[0])
    # Bit for bit, the sign of zeros included (-0.0 and 0.0 tie: the first wins).
    assert values.tobytes() == want[0].tobytes() == got[0].tobytes()
    # Backward: indices of a dilated window that misses the input point past the plane.
    if (want[1] < x.shape[2] * x.shape[3]).all():
        g = (np.arange(want[0].size, dtype=dtype).reshape(want[0].shape) % 7 - 3) / 4
        assert_matches(nk.max_pool2d_backward(g, want[1], x.shape),
                       ref.max_pool2d_backward(g, want[1], x.shape))


# 2. Edge cases ----------------------------------------------------------------------------


def test_ties_first_and_nan_last():
    x = np.array([[[[2.0, 5.0, 5.0, 1.0]]]])
    out, idx = nk.max_pool2d(x, (1, 4), return_indices=True)
    assert out.item() == 5.0 and idx.item() == 1
    x = np.array([[[[1.0, np.nan, 3.0, np.nan]]]])
    out, idx = nk.max_pool2d(x, (1, 4), return_indices=True)
    assert np.isnan(out.item()) and idx.item() == 3


def test_signed_zero_keeps_the_first():
    x = np.array([[[[-1.0, 0.0], [-0.0, -1.0]]]])
    out = nk.max_pool2d(x, 2)
    assert not np.signbit(out.item())
    out = nk.max_pool2d(-x[..., ::-1, ::-1], 2)  # -0.0 first
    assert np.signbit(ref.max_pool2d(-x[..., ::-1, ::-1], 2).item()) == np.signbit(out.item())


def test_all_minus_inf_window_gives_first_index():
    x = np.full((1, 1, 2, 2), -np.inf)
    out, idx = nk.max_pool2d(x, 2, return_indices=True)
    assert out.item() == -np.inf and idx.item() == 0


@pytest.mark.parametrize("return_indices", [False, True])
def test_nan_outside_every_window_changes_nothing(return_indices):
    # Stride 3 over a kernel of 2 never reads columns or rows 2, 5, 8: NaN there is not a
    # tap, while a NaN that is one (here in the last row read) decides its window.
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 9))
    x[..., 2::3, :] = np.nan
    x[..., :, 2::3] = np.nan
    clean = np.nan_to_num(x, nan=0.0)
    got = nk.max_pool2d(x, 2, stride=3, return_indices=return_indices)
    assert_all_match(got, nk.max_pool2d(clean, 2, stride=3, return_indices=return_indices))
    x[1, 2, 7, 7] = np.nan
    got = nk.max_pool2d(x, 2, stride=3, return_indices=return_indices)
    assert_all_match(got, ref.max_pool2d(x, 2, stride=3, return_indices=return_indices))
    values = got[0] if return_indices else got
    assert np.isnan(values[1, 2, 2, 2]) and not np.isnan(values[1, 2, :2]).any()


def test_padding_is_never_read():
    x = -np.ones((1, 1, 3, 3))
    out = nk.max_pool2d(x, 3, stride=1, padding=1)
    assert (out == -1).all()


def test_empty_batch_and_unbatched_input():
    x = np.zeros((0, 3, 5, 5), np.float32)
    out, idx = nk.max_pool2d(x, 2, return_indices=True)
    assert out.shape == (0, 3, 2, 2) and idx.shape == (0, 3, 2, 2)
    assert nk.max_pool2d_backward(out, idx, x.shape).shape == x.shape
    x3 = np.arange(25.0).reshape(1, 5, 5)
    out3, idx3 = nk.max_pool2d(x3, 2, return_indices=True)
    assert out3.shape == (1, 2, 2)
    np.testing.assert_array_equal(nk.max_pool2d_backward(np.ones((1, 2, 2)), idx3, x3.shape),
                                  ref.max_pool2d_backward(np.ones((1, 2, 2)), idx3, x3.shape))


def test_ceil_mode_drops_a_window_starting_in_the_padding():
    assert nk.max_pool2d(np.zeros((1, 1, 5, 5)), 3, 3, 1, ceil_mode=True).shape == (1, 1, 2, 2)
    assert nk.max_pool2d(np.zeros((1, 1, 6, 6)), 2, 2, 1, ceil_mode=True).shape == (1, 1, 4, 4)


def test_kernel_equal_to_input():
    x = np.random.default_rng(0).random((2, 2, 4, 3))
    out, idx = nk.max_pool2d(x, (4, 3), return_indices=True)
    np.testing.assert_array_equal(out[..., 0, 0], x.max(axis=(2, 3)))
    np.testing.assert_array_equal(idx[..., 0, 0], x.reshape(2, 2, -1).argmax(-1))


def test_backward_accumulates_shared_argmax():
    x = np.array([[[[1.0, 5.0, 2.0]]]])
    out, idx = nk.max_pool2d(x, (1, 2), 1, return_indices=True)
    np.testing.assert_array_equal(nk.max_pool2d_backward(np.ones_like(out), idx, x.shape),
                                  [[[[0.0, 2.0, 0.0]]]])


# 3. Layouts -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts(layout):
    x = layout_variant(layout)
    assert_all_match(nk.max_pool2d(x, 3, 2, 1, return_indices=True),
                     ref.max_pool2d(x, 3, 2, 1, return_indices=True))


# 4. dtype policy --------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "want"), [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int16, np.float64), (np.float16, np.float64)])
def test_dtype_policy(dtype, want):
    out, idx = nk.max_pool2d(np.ones((1, 1, 4, 4), dtype), 2, return_indices=True)
    assert out.dtype == want and idx.dtype == np.int64
    grad = nk.max_pool2d_backward(np.ones((1, 1, 2, 2), dtype), idx, (1, 1, 4, 4))
    assert grad.dtype == want


# 5. Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"kernel_size": 0}, ValueError, r"kernel_size must be >= 1, got \(0, 0\)"),
    ({"kernel_size": 2, "stride": 0}, ValueError, r"stride must be >= 1"),
    ({"kernel_size": 3, "padding": -1}, ValueError, r"padding must be >= 0"),
    ({"kernel_size": 3, "padding": 2}, ValueError, r"padding must be at most half the kernel"),
    ({"kernel_size": 2, "padding": 2, "dilation": 3}, ValueError, r"at most half the kernel"),
    ({"kernel_size": 3, "dilation": 0}, ValueError, r"dilation must be >= 1"),
    ({"kernel_size": 9}, ValueError, r"Output size is too small"),
    ({"kernel_size": 2.5}, TypeError, r"kernel_size must be an int or a pair of ints"),
    ({"kernel_size": (1, 2, 3)}, ValueError, r"kernel_size must be an int or a pair"),
    ({"kernel_size": 2, "ceil_mode": "yes"}, TypeError, r"ceil_mode must be a bool"),
])
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        nk.max_pool2d(np.zeros((1, 1, 5, 5)), **kwargs)
    with pytest.raises(exc, match=match):
        ref.max_pool2d(np.zeros((1, 1, 5, 5)), **kwargs)


@pytest.mark.parametrize("shape", [(5, 5), (1, 0, 5, 5), (0, 5, 5), (1, 1, 1, 5, 5)])
def test_bad_shapes(shape):
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\) or \(C, H, W\)"):
        nk.max_pool2d(np.zeros(shape), 1)


def test_bad_dtype():
    with pytest.raises(TypeError, match=r"x must have a real numeric dtype, got complex128"):
        nk.max_pool2d(np.zeros((1, 1, 2, 2), complex), 1)


def test_backward_bad_input():
    idx = np.zeros((1, 1, 2, 2), np.int64)
    g = np.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"indices must be in \[0, H\*W\) = \[0, 16\), got 16"):
        nk.max_pool2d_backward(g, idx + 16, (1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"indices must be in \[0, H\*W\) = \[0, 16\), got -1"):
        ref.max_pool2d_backward(g, idx - 1, (1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"grad_output must have shape"):
        nk.max_pool2d_backward(g, idx, (2, 1, 4, 4))
    with pytest.raises(ValueError, match=r"indices must have shape \(1, 1, 2, 2\)"):
        nk.max_pool2d_backward(g, idx[..., :1], (1, 1, 4, 4))
    with pytest.raises(TypeError, match=r"indices must have an integer dtype, got float64"):
        nk.max_pool2d_backward(g, g, (1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"input_shape must be"):
        nk.max_pool2d_backward(g, idx, (1, 4, 4, 4, 1))


def test_core_guards_itself():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(TypeError, match=r"x must be a C-contiguous float64 array"):
        _core.max_pool2d(np.asfortranarray(np.zeros((1, 1, 4, 3))), (2, 2), (2, 2), (0, 0),
                         (1, 1), False, False, n_threads=1)
    with pytest.raises(ValueError, match=r"invalid pooling window"):
        _core.max_pool2d(x, (2, 2), (2, 2), (2, 2), (1, 1), False, False, n_threads=1)
    with pytest.raises(ValueError, match=r"Output size is too small"):
        _core.max_pool2d(x, (4, 4), (1, 1), (0, 0), (2, 2), False, False, n_threads=1)
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\)"):
        _core.max_pool2d(x[0], (2, 2), (2, 2), (0, 0), (1, 1), False, False, n_threads=1)
    idx = np.full((1, 1, 2, 2), 99, np.int64)
    with pytest.raises(ValueError, match=r"indices must be in"):
        _core.max_pool2d_backward(np.ones((1, 1, 2, 2)), idx, (1, 1, 4, 4), n_threads=1)
    with pytest.raises(ValueError, match=r"input_shape must be"):
        _core.max_pool2d_backward(np.ones((1, 1, 2, 2)), idx, (-1, 1, 4, 4), n_threads=1)


# 6. Thread invariance ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nan", [False, True])
def test_same_bits_for_any_thread_count(dtype, nan):
    x = big_image(dtype)
    if nan:
        x[0, 1, 3, 4] = np.nan
    assert_same_bits_for_any_thread_count(nk.max_pool2d, x, 3, 2, 1, return_indices=True)
    assert_same_bits_for_any_thread_count(nk.max_pool2d, x, 3, 2, 1)
    out, idx = nk.max_pool2d(x, 3, 1, 1, return_indices=True)
    assert_same_bits_for_any_thread_count(nk.max_pool2d_backward, out, idx, x.shape)


# 7. The anchor ----------------------------------------------------------------------------

CONFIGS = [
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 2},
    {"kernel_size": (3, 2), "stride": (1, 2), "padding": (1, 0), "dilation": (2, 1)},
    {"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 1, "padding": 1},
]


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch(cfg, dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.round(big_image(dtype, (2, 3, 13, 11)) * 2) / 2  # ties
    x[0, 0, 2, 2] = x[1, 2, 5, 6] = np.nan
    t = torch.from_numpy(x).requires_grad_()
    t_out, t_idx = F.max_pool2d(t, **cfg, return_indices=True)
    for impl in (nk, ref):
        out, idx = impl.max_pool2d(x, **cfg, return_indices=True)
        np.testing.assert_array_equal(out, t_out.detach().numpy())
        np.testing.assert_array_equal(idx, t_idx.numpy())
    g = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
    t_out.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(nk.max_pool2d_backward(g, idx, x.shape), t.grad.numpy())
    np.testing.assert_array_equal(ref.max_pool2d_backward(g, idx, x.shape), t.grad.numpy())
