"""batch_norm, batch_norm_forward and batch_norm_backward against the reference and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    DTYPES,
    LAYOUTS,
    assert_all_match,
    assert_matches,
    assert_same_bits_for_any_thread_count,
    layout_variant,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref


@st.composite
def batches(draw, dtype):
    """(x, gamma or None, beta or None): (N, C) or (N, C, H, W), >= 2 values per channel."""
    c = draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(draw(st.integers(2, 30)), c),
                                  (draw(st.integers(1, 3)), c, draw(st.integers(1, 6)),
                                   draw(st.integers(2, 6)))]))
    width = 32 if dtype == np.float32 else 64
    loc = draw(st.sampled_from([0.0, 100.0, -3.0]))
    x = draw(hnp.arrays(dtype, shape, elements=st.floats(-10, 10, width=width))) + dtype(loc)
    gamma = draw(st.one_of(st.none(), hnp.arrays(dtype, c, elements=st.floats(-2, 2,
                                                                               width=width))))
    beta = draw(st.one_of(st.none(), hnp.arrays(dtype, c, elements=st.floats(-2, 2,
                                                                              width=width))))
    return x, gamma, beta


# 1. Matches the reference ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    x, gamma, beta = data.draw(batches(dtype))
    y, mean, invstd = nk.batch_norm_forward(x, gamma, beta)
    assert_all_match((y, mean, invstd), ref.batch_norm_forward(x, gamma, beta))
    gy = np.cos(np.arange(x.size)).astype(dtype).reshape(x.shape)
    assert_all_match(nk.batch_norm_backward(gy, x, gamma, mean, invstd),
                     ref.batch_norm_backward(gy, x, gamma, mean, invstd))
    c = x.shape[1]
    rm1, rv1, rm2, rv2 = np.zeros(c), np.ones(c), np.zeros(c), np.ones(c)
    assert_matches(nk.batch_norm(x, gamma, beta, rm1, rv1, momentum=0.3),
                   ref.batch_norm(x, gamma, beta, rm2, rv2, momentum=0.3))
    np.testing.assert_allclose(rm1, rm2, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(rv1, rv2, rtol=1e-6, atol=1e-6)
    assert_matches(nk.batch_norm(x, gamma, beta, rm1, rv1, training=False),
                   ref.batch_norm(x, gamma, beta, rm2, rv2, training=False))


# 2. Edge cases ----------------------------------------------------------------------------


def test_one_value_per_channel_is_an_error_in_training():
    for impl in (nk, ref):
        with pytest.raises(ValueError, match=r"more than 1 value per channel when training"):
            impl.batch_norm(np.ones((1, 3)), None, None)
    y, mean, invstd = nk.batch_norm_forward(np.ones((1, 3)), None, None)  # no running variance
    np.testing.assert_array_equal(y, np.zeros((1, 3)))


def test_empty_batch_leaves_running_statistics():
    rm, rv = np.zeros(3), np.ones(3)
    assert nk.batch_norm(np.ones((0, 3)), None, None, rm, rv).shape == (0, 3)
    np.testing.assert_array_equal(rm, 0)
    np.testing.assert_array_equal(rv, 1)
    with pytest.raises(ValueError, match=r"x must have at least one value per channel"):
        nk.batch_norm_forward(np.ones((0, 3)), None, None)


def test_constant_channel_and_nan_channel():
    x = np.ones((4, 2, 3, 3))
    x[0, 1, 0, 0] = np.nan
    y, mean, invstd = nk.batch_norm_forward(x, None, np.array([0.5, 0.0]))
    np.testing.assert_array_equal(y[:, 0], 0.5)
    assert np.isnan(y[:, 1]).all() and np.isnan(mean[1]) and not np.isnan(mean[0])


def test_float32_statistics_stay_accurate_with_a_large_mean():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 2, 32, 32)) + 1e4).astype(np.float32)
    _, mean, invstd = nk.batch_norm_forward(x, None, None, eps=0.0)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(axis=(0, 2, 3)), rtol=1e-7)
    np.testing.assert_allclose(invstd, 1 / x64.std(axis=(0, 2, 3)), rtol=1e-6)


def test_running_statistics_follow_torch_convention():
    x = np.array([[1.0], [3.0]])
    rm, rv = np.array([1.0]), np.array([2.0])
    nk.batch_norm(x, None, None, rm, rv, momentum=0.25)
    np.testing.assert_allclose(rm, 0.75 * 1 + 0.25 * 2)
    np.testing.assert_allclose(rv, 0.75 * 2 + 0.25 * 2)  # unbiased variance of [1, 3] is 2
    rm32 = np.zeros(1, np.float32)
    nk.batch_norm(x, None, None, rm32, None)
    assert rm32.dtype == np.float32 and rm32[0] == np.float32(0.2)


# 3. Layouts -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts(layout):
    x = layout_variant(layout, (4, 6, 6, 5), seed=5)
    gamma = np.arange(1.0, x.shape[1] + 1.0)[::-1]  # negative stride
    y, mean, invstd = nk.batch_norm_forward(x, gamma, None)
    assert_all_match((y, mean, invstd), ref.batch_norm_forward(x, gamma, None))
    gy = np.asfortranarray(np.ones(x.shape))
    assert_all_match(nk.batch_norm_backward(gy, x, gamma, mean, invstd),
                     ref.batch_norm_backward(gy, x, gamma, mean, invstd))


# 4. dtype policy --------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "want"), [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int32, np.float64), (np.bool_, np.float64)])
def test_dtype_policy(dtype, want):
    x = (np.arange(12).reshape(4, 3) % 2).astype(dtype)
    y, mean, invstd = nk.batch_norm_forward(x, np.ones(3, np.float64), None)
    assert y.dtype == mean.dtype == invstd.dtype == want
    assert all(a.dtype == want for a in nk.batch_norm_backward(x, x, None, mean, invstd))
    assert nk.batch_norm(x, None, None).dtype == want


# 5. Bad input -----------------------------------------------------------------------------


def test_bad_input():
    x = np.ones((4, 3))
    for impl in (nk, ref):
        with pytest.raises(ValueError, match=r"x must have shape \(N, C\) or \(N, C, H, W\)"):
            impl.batch_norm(np.ones(4), None, None)
        with pytest.raises(ValueError, match=r"gamma must have shape \(3,\) like the channels"):
            impl.batch_norm(x, np.ones(2), None)
        with pytest.raises(ValueError, match=r"running_mean and running_var must be given"):
            impl.batch_norm(x, None, None, training=False)
        with pytest.raises(TypeError, match=r"running_mean must be a NumPy array"):
            impl.batch_norm(x, None, None, [0.0, 0.0, 0.0], np.ones(3))
        with pytest.raises(TypeError, match=r"running_var must have a floating dtype, got int64"):
            impl.batch_norm(x, None, None, np.zeros(3), np.ones(3, np.int64))
        with pytest.raises(ValueError, match=r"eps must be finite and >= 0.0, got -1"):
            impl.batch_norm_forward(x, None, None, eps=-1)
        with pytest.raises(TypeError, match=r"momentum must be a real number, got str"):
            impl.batch_norm(x, None, None, momentum="0.1")
        with pytest.raises(ValueError, match=r"grad_y must have the shape of x \(4, 3\)"):
            impl.batch_norm_backward(np.ones((4, 2)), x, None, np.zeros(3), np.ones(3))
        with pytest.raises(TypeError, match=r"x must have a real numeric dtype, got complex128"):
            impl.batch_norm_forward(x.astype(complex), None, None)
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"running_mean must be writeable"):
        nk.batch_norm(x, None, None, frozen, None)


def test_core_guards_itself():
    x = np.ones((4, 3, 1))
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, S\)"):
        _core.batch_norm_forward(np.ones((4, 3)), None, None, 1e-5, n_threads=1)
    with pytest.raises(ValueError, match=r"x must have at least one value per channel"):
        _core.batch_norm_forward(np.ones((0, 3, 1)), None, None, 1e-5, n_threads=1)
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\)"):
        _core.batch_norm_forward(x, np.ones(2), None, 1e-5, n_threads=1)
    with pytest.raises(TypeError, match=r"mean must be a C-contiguous float64 array"):
        _core.batch_norm_backward(x, x, None, np.ones(3, np.float32), np.ones(3), n_threads=1)
    with pytest.raises(ValueError, match=r"grad_y must have shape that of x"):
        _core.batch_norm_backward(x[:2], x, None, np.ones(3), np.ones(3), n_threads=1)


# 6. Thread invariance ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 6, 48, 48), (20000, 6)])
def test_same_bits_for_any_thread_count(dtype, shape):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    gamma = rng.standard_normal(shape[1]).astype(dtype)
    assert_same_bits_for_any_thread_count(nk.batch_norm_forward, x, gamma, None)
    _, mean, invstd = nk.batch_norm_forward(x, gamma, None)
    gy = rng.standard_normal(shape).astype(dtype)
    assert_same_bits_for_any_thread_count(nk.batch_norm_backward, gy, x, gamma, mean, invstd)


# 7. The anchor ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 7, 6)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch_training_steps_and_eval(shape, dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    c = shape[1]
    gamma, beta = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    rm, rv = np.zeros(c, dtype), np.ones(c, dtype)
    t_rm = torch.from_numpy(rm.copy())
    t_rv = torch.from_numpy(rv.copy())
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(dtype)
        tx = torch.from_numpy(x).requires_grad_()
        tg = torch.from_numpy(gamma).requires_grad_()
        tb = torch.from_numpy(beta).requires_grad_()
        ty = F.batch_norm(tx, t_rm, t_rv, tg, tb, training=True, momentum=0.2, eps=1e-4)
        rm_ref, rv_ref = rm.copy(), rv.copy()
        assert_matches(nk.batch_norm(x, gamma, beta, rm, rv, True, 0.2, 1e-4),
                       ty.detach().numpy())
        assert_matches(ref.batch_norm(x, gamma, beta, rm_ref, rv_ref, True, 0.2, 1e-4),
                       ty.detach().numpy())
        np.testing.assert_allclose(rm_ref, t_rm.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rv_ref, t_rv.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rm, t_rm.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rv, t_rv.numpy(), rtol=1e-5, atol=1e-6)
        gy = rng.standard_normal(shape).astype(dtype)
        ty.backward(torch.from_numpy(gy))
        _, mean, invstd = nk.batch_norm_forward(x, gamma, beta, eps=1e-4)
        for impl in (nk, ref):
            gx, gg, gb = impl.batch_norm_backward(gy, x, gamma, mean, invstd)
            assert_matches(gx, tx.grad.numpy())
            np.testing.assert_allclose(gg, tg.grad.numpy(), rtol=2e-5, atol=2e-5)
            np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=2e-5, atol=2e-5)
    x = rng.standard_normal(shape).astype(dtype)
    t_eval = F.batch_norm(torch.from_numpy(x), t_rm, t_rv, torch.from_numpy(gamma),
                          torch.from_numpy(beta), training=False, eps=1e-4).numpy()
    for impl in (nk, ref):
        assert_matches(impl.batch_norm(x, gamma, beta, rm, rv, training=False, eps=1e-4), t_eval)


@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_statistics_match_torch_native_batch_norm(dtype):
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(4).standard_normal((6, 4, 5, 5)) * 2 + 3).astype(dtype)
    t_y, t_mean, t_invstd = torch.native_batch_norm(torch.from_numpy(x), None, None, None,
                                                    None, True, 0.0, 1e-5)
    for impl in (nk, ref):
        y, mean, invstd = impl.batch_norm_forward(x, None, None)
        assert_all_match((y, mean, invstd), (t_y.numpy(), t_mean.numpy(), t_invstd.numpy()))
