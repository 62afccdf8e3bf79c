"""nk.conv_transpose2d against its NumPy twin and torch.nn.functional.conv_transpose2d."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    DTYPES,
    assert_conv_close,
    conv_problems,
    fast_and_reference,
    random_normal,
    same_bits_for_threads,
)
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _blas, _core
from npkernels import reference as ref


# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    p = data.draw(conv_problems(dtype, transpose=True))
    got, want = fast_and_reference("conv_transpose2d", p)
    assert_conv_close(got, want, p["terms"])


# ------------------------------------------------------------------- 2. edge cases


def test_is_the_input_gradient_of_conv2d():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 9, 8))
    w = rng.standard_normal((6, 2, 3, 3))
    kw = {"stride": 2, "padding": 1, "groups": 2}
    dy = rng.standard_normal(nk.conv2d(x, w, **kw).shape)
    gi = nk.conv2d_backward(dy, x, w, **kw, output_mask=(True, False, False))[0]
    # output_padding recovers what the strided forward dropped: 9 = (5-1)*2 - 2 + 3 + 0 rows,
    # 8 = (4-1)*2 - 2 + 3 + 1 columns
    assert_conv_close(nk.conv_transpose2d(dy, w, **kw, output_padding=(0, 1)), gi, 54)


def test_output_size_formula_and_output_padding():
    x = np.ones((1, 2, 3, 4))
    w = np.ones((2, 3, 3, 2))
    y = nk.conv_transpose2d(x, w, stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                            dilation=(1, 2))
    assert y.shape == (1, 3, (3 - 1) * 2 - 2 + 2 + 1 + 1, (4 - 1) * 3 + 2 + 2 + 1)
    # output_padding < dilation with stride 1 is allowed: the extra rows see no input
    y = nk.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), output_padding=1,
                            dilation=2)
    assert y.shape == (1, 1, 5, 5)
    np.testing.assert_array_equal(y[0, 0, 4], 0.0)


def test_batch_zero_unbatched_and_bias():
    w = np.ones((2, 3, 2, 2))
    assert nk.conv_transpose2d(np.ones((0, 2, 3, 3)), w).shape == (0, 3, 4, 4)
    y = nk.conv_transpose2d(np.ones((2, 3, 3)), w, np.arange(3.0))
    assert y.shape == (3, 4, 4)
    np.testing.assert_array_equal(y[:, 0, 0], [2.0, 3.0, 4.0])


# -------------------------------------------------------------------------- 3. layouts


def test_non_contiguous_and_integer_inputs():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 4, 6, 7)), rng.standard_normal((4, 3, 3, 3))
    want = nk.conv_transpose2d(x, w, stride=2)
    np.testing.assert_array_equal(
        nk.conv_transpose2d(np.asfortranarray(x), w[:, ::-1].copy()[:, ::-1], stride=2), want)
    y = nk.conv_transpose2d(np.ones((1, 1, 2, 2), np.int32), np.ones((1, 1, 2, 2), bool))
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# ---------------------------------------------------------------------- 4. dtype policy


@pytest.mark.parametrize(("dtype", "out"), [(np.float32, np.float32), (np.float64, np.float64),
                                            (np.uint8, np.float64)])
def test_output_has_the_dtype_of_x(dtype, out):
    assert nk.conv_transpose2d(np.ones((1, 1, 2, 2), dtype), np.ones((1, 1, 2, 2))).dtype == out


# ------------------------------------------------------------------------ 5. bad input


@pytest.mark.parametrize("impl", [nk.conv_transpose2d, ref.conv_transpose2d], ids=["nk", "ref"])
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": np.ones((4, 3))}, ValueError, r"x must have shape \(N, C_in, H, W\) or \(C_in, H, W\)"),
        ({"x": np.ones((1, 3, 4, 4))}, ValueError, r"x must have weight.shape\[0\] = 2 channels, got 3"),
        ({"output_padding": 1}, ValueError, r"output_padding must be smaller than either stride or dilation"),
        ({"stride": 2, "output_padding": (1, 2)}, ValueError, r"output_padding must be smaller"),
        ({"groups": 3}, ValueError, r"groups must divide weight.shape\[0\] = 2, got 3"),
        ({"padding": "same"}, ValueError, r"padding must be an int or a pair of ints for conv_transpose2d"),
        ({"padding": -1}, ValueError, r"padding must be >= 0, got -1"),
        ({"padding": 3}, ValueError, r"padding \(3, 3\) is too large"),
        ({"dilation": 0}, ValueError, r"dilation must be >= 1, got 0"),
        ({"bias": np.ones(2)}, ValueError, r"bias must have shape \(3,\)"),
        ({"weight": np.ones((2, 3, 2, 2), complex)}, TypeError, r"weight must have a real numeric dtype"),
    ],
)
def test_bad_input_names_the_argument(impl, kwargs, error, match):
    args = {"x": np.ones((1, 2, 4, 4)), "weight": np.ones((2, 3, 2, 2))} | kwargs
    with pytest.raises(error, match=match):
        impl(**args)


def test_core_guards_itself():
    cap = _blas.gemm_capsule(np.float64)
    x, w = np.ones((1, 2, 4, 4)), np.ones((2, 3, 2, 2))
    y = _core.conv_transpose2d(x, w, None, (1, 1), (0, 0), (5, 5), (1, 1), 1, cap, n_threads=1)
    np.testing.assert_array_equal(y, nk.conv_transpose2d(x, w))
    with pytest.raises(ValueError, match=r"x must have weight.shape\[0\] = 2 channels"):
        _core.conv_transpose2d(np.ones((1, 3, 4, 4)), w, None, (1, 1), (0, 0), (5, 5), (1, 1), 1,
                               cap, n_threads=1)
    with pytest.raises(ValueError, match="output size must be >= 0"):
        _core.conv_transpose2d(x, w, None, (1, 1), (0, 0), (-5, 5), (1, 1), 1, cap, n_threads=1)
    with pytest.raises(TypeError, match="x must be float32 or float64, got int64"):
        _core.conv_transpose2d(x.astype(np.int64), w, None, (1, 1), (0, 0), (5, 5), (1, 1), 1,
                               cap, n_threads=1)


# ------------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(dtype):
    rng = np.random.default_rng(2)
    # > 96 MFLOP: 3 threads used (the kernel keeps >= 32 MFLOP per thread)
    x, w = random_normal(rng, (9, 32, 36, 36), dtype), random_normal(rng, (32, 12, 4, 3), dtype)
    assert same_bits_for_threads(lambda: nk.conv_transpose2d(
        x, w, np.ones(24, dtype), stride=2, padding=1, output_padding=1, groups=2))


# ------------------------------------------------------------------------ 7. the anchor


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(5))
def test_matches_torch_and_so_does_the_reference(dtype, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    groups = [1, 2, 4, 1, 8][seed]
    kw = {"stride": [1, 2, (2, 3), 3, 1][seed], "padding": [0, 1, (1, 2), 2, 1][seed],
          "output_padding": [0, 1, (1, 0), 2, 0][seed], "dilation": [1, 1, 2, 1, (2, 1)][seed],
          "groups": groups}
    x = random_normal(rng, (2, 8, 9 + seed, 7), dtype)
    w = random_normal(rng, (8, 16 // groups, 3, 4), dtype)
    b = random_normal(rng, (16,), dtype)
    want = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                                                torch.from_numpy(b), **kw).numpy()
    for impl in (nk.conv_transpose2d, ref.conv_transpose2d):
        assert_conv_close(impl(x, w, b, **kw), want, (8 // groups) * 12)
