"""lp_pool2d and lp_pool2d_backward against the NumPy reference and PyTorch."""

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
)
from hypothesis import assume, given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref

NORMS = (1, 2, 3, 1.5, 0.5, -1, np.inf, -np.inf)


def _lp_args(data, hw):
    k = (data.draw(st.integers(1, min(3, hw[0]))), data.draw(st.integers(1, min(3, hw[1]))))
    s = data.draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    return {"kernel_size": k, "stride": s, "ceil_mode": data.draw(st.booleans())}


# 1. Matches the reference ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    x = data.draw(images(dtype, max_hw=7))
    positive = data.draw(st.booleans())
    if positive:
        x = np.abs(x) + dtype(0.5)
    p = data.draw(st.sampled_from(NORMS))
    args = _lp_args(data, x.shape[2:])
    out = ref.lp_pool2d(x, p, **args)
    assert_matches(nk.lp_pool2d(x, p, **args), out)
    g = np.sin(np.arange(out.size)).astype(dtype).reshape(out.shape)
    with np.errstate(all="ignore"):
        assert_matches(nk.lp_pool2d_backward(g, x, p, **args),
                       ref.lp_pool2d_backward(g, x, p, **args))


# 2. Edge cases ----------------------------------------------------------------------------


def test_sums_powers_not_absolute_values():
    x = np.array([[[[-1.0, -2.0, 3.0, -4.0]]]])
    np.testing.assert_array_equal(nk.lp_pool2d(x, 1, (1, 2)), [[[[-3.0, -1.0]]]])
    assert np.isnan(nk.lp_pool2d(x, 3, (1, 2))).all()
    assert np.isnan(nk.lp_pool2d(x, 1.5, (1, 2))).all()
    np.testing.assert_allclose(nk.lp_pool2d(x, 2, (1, 2)), [[[[np.sqrt(5), 5.0]]]])


def test_ceil_mode_tail_is_rescaled():
    out = nk.lp_pool2d(np.ones((1, 1, 1, 5)), 2, (1, 2), 2, ceil_mode=True)
    np.testing.assert_allclose(out[0, 0, 0], [np.sqrt(2)] * 3)


def test_zero_sum_window_has_zero_gradient():
    x = np.zeros((1, 1, 1, 2))
    np.testing.assert_array_equal(nk.lp_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2, (1, 2)),
                                  np.zeros_like(x))


def test_infinite_norms_are_max_and_min_of_abs():
    x = np.array([[[[-3.0, 1.0, 2.0, -0.5]]]])
    np.testing.assert_array_equal(nk.lp_pool2d(x, np.inf, (1, 2)), [[[[3.0, 2.0]]]])
    np.testing.assert_array_equal(nk.lp_pool2d(x, -np.inf, (1, 2)), [[[[1.0, 0.5]]]])
    np.testing.assert_array_equal(nk.lp_pool2d_backward(np.ones((1, 1, 1, 2)), x, np.inf, (1, 2)),
                                  [[[[-1.0, 0.0, 1.0, 0.0]]]])


def test_empty_batch_and_unbatched():
    assert nk.lp_pool2d(np.zeros((0, 1, 4, 4)), 2, 2).shape == (0, 1, 2, 2)
    x = np.arange(1.0, 17.0).reshape(1, 4, 4)
    assert_matches(nk.lp_pool2d(x, 2, 2), ref.lp_pool2d(x, 2, 2))
    assert_matches(nk.lp_pool2d_backward(np.ones((1, 2, 2)), x, 2, 2),
                   ref.lp_pool2d_backward(np.ones((1, 2, 2)), x, 2, 2))


# 3. Layouts -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts(layout):
    x = np.abs(layout_variant(layout, (2, 3, 8, 8), seed=4))  # int stays int, bool stays bool
    assert_matches(nk.lp_pool2d(x, 2, 3, 2), ref.lp_pool2d(x, 2, 3, 2))
    g = np.ones(ref.lp_pool2d(x, 2, 3, 2).shape, np.float32)  # cast to x's dtype
    assert_matches(nk.lp_pool2d_backward(g, x, 2, 3, 2), ref.lp_pool2d_backward(g, x, 2, 3, 2))


# 4. dtype policy --------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "want"), [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int8, np.float64)])
def test_dtype_policy(dtype, want):
    x = np.ones((1, 1, 4, 4), dtype)
    assert nk.lp_pool2d(x, 2, 2).dtype == want
    assert nk.lp_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, 2).dtype == want


# 5. Bad input -----------------------------------------------------------------------------


def test_bad_input():
    x = np.ones((1, 1, 4, 4))
    for impl in (nk, ref):
        with pytest.raises(ValueError, match=r"norm_type must be a non-zero number, got 0"):
            impl.lp_pool2d(x, 0, 2)
        with pytest.raises(TypeError, match=r"norm_type must be a real number, got str"):
            impl.lp_pool2d(x, "2", 2)
        with pytest.raises(ValueError, match=r"Output size is too small"):
            impl.lp_pool2d(x, 2, 5)
        with pytest.raises(ValueError, match=r"grad_output must have shape \(1, 1, 2, 2\)"):
            impl.lp_pool2d_backward(np.ones((1, 1, 3, 3)), x, 2, 2)


def test_core_guards_itself():
    x = np.ones((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"norm_type must be finite and non-zero"):
        _core.lp_pool2d(x, float("inf"), (2, 2), (2, 2), False, n_threads=1)
    with pytest.raises(TypeError, match=r"grad_output must be a C-contiguous float64 array"):
        _core.lp_pool2d_backward(np.ones((1, 1, 2, 2), np.float32), x, 2.0, (2, 2), (2, 2),
                                 False, n_threads=1)


# 6. Thread invariance ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(dtype):
    x = np.abs(big_image(dtype)) + dtype(0.1)
    assert_same_bits_for_any_thread_count(nk.lp_pool2d, x, 1.5, 3, 2)
    g = nk.lp_pool2d(x, 1.5, 3, 1)
    assert_same_bits_for_any_thread_count(nk.lp_pool2d_backward, g, x, 1.5, 3, 1)


# 7. The anchor ----------------------------------------------------------------------------


@pytest.mark.parametrize("p", NORMS)
@pytest.mark.parametrize("positive", [True, False])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_matches_torch(p, positive, ceil_mode):
    torch = pytest.importorskip("torch")
    x = np.round(big_image(np.float64, (2, 2, 7, 9), seed=4), 1)
    if positive:
        x = np.abs(x) + 0.1
    t = torch.from_numpy(x).requires_grad_()
    t_out = torch.nn.functional.lp_pool2d(t, p, (2, 3), (2, 2), ceil_mode)
    for impl in (nk, ref):
        assert_matches(impl.lp_pool2d(x, p, (2, 3), (2, 2), ceil_mode), t_out.detach().numpy())
    g = np.random.default_rng(5).standard_normal(t_out.shape)
    t_out.backward(torch.from_numpy(g))
    with np.errstate(all="ignore"):
        for impl in (nk, ref):
            assert_matches(impl.lp_pool2d_backward(g, x, p, (2, 3), (2, 2), ceil_mode),
                           t.grad.numpy())
