"""nk.conv2d_backward against its NumPy twin and PyTorch's autograd."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import DTYPES, assert_conv_close, conv_problems, random_normal, same_bits_for_threads
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _blas, _core
from npkernels import reference as ref

MASKS = [(True, True, True), (True, False, False), (False, True, False), (False, False, True),
         (False, True, True), (False, False, False)]


def _grad_output(p, rng):
    y = ref.conv2d(p["x"], p["weight"], None, **p["kw"])
    return random_normal(rng, y.shape, p["x"].dtype)


def _check(p, dy, mask=(True, True, True)):
    got = nk.conv2d_backward(dy, p["x"], p["weight"], **p["kw"], output_mask=mask)
    want = ref.conv2d_backward(dy, p["x"], p["weight"], **p["kw"], output_mask=mask)
    n_out = dy.shape[-1] * dy.shape[-2] * max(dy.shape[0], 1)
    # grad_input sums O/groups*k*k terms, grad_weight N*Ho*Wo, grad_bias N*Ho*Wo
    terms = (p["weight"].shape[0] * p["weight"].shape[2] * p["weight"].shape[3], n_out, n_out)
    for g, w, on, t in zip(got, want, mask, terms):
        if not on:
            assert g is None and w is None
        else:
            assert_conv_close(g, w, t)
    return got


# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    p = data.draw(conv_problems(dtype))
    dy = _grad_output(p, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))
    _check(p, dy, data.draw(st.sampled_from(MASKS)))


# ------------------------------------------------------------------- 2. edge cases


def test_masked_out_results_are_none():
    x, w = np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3))
    dy = np.ones((1, 3, 2, 2))
    assert nk.conv2d_backward(dy, x, w, output_mask=(False, False, False)) == (None, None, None)
    gi, gw, gb = nk.conv2d_backward(dy, x, w, output_mask=[False, True, False])
    assert gi is None and gb is None and gw.shape == w.shape


def test_batch_of_zero_gives_zero_weight_and_bias_gradients():
    gi, gw, gb = nk.conv2d_backward(np.ones((0, 3, 2, 2)), np.ones((0, 2, 4, 4)),
                                    np.ones((3, 2, 3, 3)))
    assert gi.shape == (0, 2, 4, 4)
    np.testing.assert_array_equal(gw, np.zeros((3, 2, 3, 3)))
    np.testing.assert_array_equal(gb, np.zeros(3))


def test_unbatched_input():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    dy = rng.standard_normal((3, 3, 3))
    gi, gw, gb = nk.conv2d_backward(dy, x, w)
    gi1, gw1, gb1 = nk.conv2d_backward(dy[None], x[None], w)
    assert gi.shape == x.shape
    np.testing.assert_array_equal(gi, gi1[0])
    np.testing.assert_array_equal(gw, gw1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_many_images_several_chunks_and_tiles(dtype):
    # 11 images: 8 weight chunks of 1-2 images; 64*9*72*4 bytes per row: several row tiles
    rng = np.random.default_rng(1)
    p = {"x": random_normal(rng, (11, 4, 9, 9), dtype),
         "weight": random_normal(rng, (6, 2, 3, 3), dtype),
         "kw": {"stride": 1, "padding": "same", "dilation": 1, "groups": 2}}
    _check(p, _grad_output(p, rng))
    p = {"x": random_normal(rng, (1, 64, 72, 72), dtype),
         "weight": random_normal(rng, (4, 64, 3, 3), dtype),
         "kw": {"stride": 1, "padding": 1, "dilation": 1, "groups": 1}}
    _check(p, _grad_output(p, rng))


def test_pointwise_and_depthwise():
    rng = np.random.default_rng(2)
    for w, groups in ((rng.standard_normal((5, 6, 1, 1)), 1), (rng.standard_normal((6, 1, 3, 3)), 6)):
        p = {"x": rng.standard_normal((3, 6, 7, 8)), "weight": w,
             "kw": {"stride": 1, "padding": 0, "dilation": 1, "groups": groups}}
        _check(p, _grad_output(p, rng))


# -------------------------------------------------------------------------- 3. layouts


def test_non_contiguous_and_integer_inputs():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 8, 8))
    w = rng.standard_normal((4, 3, 3, 3))
    dy = rng.standard_normal((2, 4, 6, 6))
    want = nk.conv2d_backward(dy, x, w)
    got = nk.conv2d_backward(np.asfortranarray(dy), x[:, :, ::-1].copy()[:, :, ::-1],
                             np.asfortranarray(w))
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)
    gi, gw, gb = nk.conv2d_backward(np.ones((1, 1, 2, 2), np.int64), np.ones((1, 1, 3, 3), bool),
                                    np.ones((1, 1, 2, 2), np.int8))
    assert gi.dtype == gw.dtype == gb.dtype == np.float64
    np.testing.assert_array_equal(gb, [4.0])


# ---------------------------------------------------------------------- 4. dtype policy


@pytest.mark.parametrize(("x_dtype", "out"), [(np.float32, np.float32), (np.float64, np.float64),
                                              (np.int16, np.float64)])
def test_gradients_have_the_dtype_of_x(x_dtype, out):
    res = nk.conv2d_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3), x_dtype),
                             np.ones((1, 1, 2, 2)))
    assert all(r.dtype == out for r in res)


# ------------------------------------------------------------------------ 5. bad input


@pytest.mark.parametrize("impl", [nk.conv2d_backward, ref.conv2d_backward], ids=["nk", "ref"])
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"grad_output": np.ones((1, 4, 3, 2))}, ValueError,
         r"grad_output must have shape \(1, 4, 3, 3\) \(the conv2d output\), got \(1, 4, 3, 2\)"),
        ({"output_mask": (True, False)}, ValueError, r"output_mask must be three bools"),
        ({"output_mask": (1, 0, 1)}, TypeError, r"output_mask must be a bool, got int"),
        ({"x": np.ones((1, 2, 5, 5))}, ValueError, r"x must have weight.shape\[1\] \* groups = 3"),
        ({"stride": 0}, ValueError, r"stride must be >= 1, got 0"),
        ({"grad_output": np.ones((1, 4, 3, 3), complex)}, TypeError, r"grad_output must have a real"),
    ],
)
def test_bad_input_names_the_argument(impl, kwargs, error, match):
    args = {"grad_output": np.ones((1, 4, 3, 3)), "x": np.ones((1, 3, 5, 5)),
            "weight": np.ones((4, 3, 3, 3))} | kwargs
    with pytest.raises(error, match=match):
        impl(**args)


def test_core_guards_itself():
    cap = _blas.gemm_capsule(np.float64)
    x, w = np.ones((1, 3, 5, 5)), np.ones((4, 3, 3, 3))
    ok = _core.conv2d_backward(np.ones((1, 4, 3, 3)), x, w, (1, 1), (0, 0), (1, 1), 1,
                               True, True, True, cap, n_threads=1)
    assert ok[0].shape == x.shape
    with pytest.raises(ValueError, match=r"grad_output must have shape \(N, O, Ho, Wo\)"):
        _core.conv2d_backward(np.ones((1, 3, 3, 3)), x, w, (1, 1), (0, 0), (1, 1), 1,
                              True, True, True, cap, n_threads=1)
    with pytest.raises(TypeError, match="grad_output must be a C-contiguous float64"):
        _core.conv2d_backward(np.ones((1, 4, 3, 3), np.float32), x, w, (1, 1), (0, 0), (1, 1),
                              1, True, True, True, cap, n_threads=1)
    with pytest.raises(TypeError, match="gemm must be SciPy's dgemm"):
        _core.conv2d_backward(np.ones((1, 4, 3, 3)), x, w, (1, 1), (0, 0), (1, 1), 1,
                              True, True, True, _blas.gemm_capsule(np.float32), n_threads=1)


# ------------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(dtype):
    # The first two cases are big enough for 2-3 threads (>= 32 MFLOP per thread); the
    # first has 9 images: 8 weight chunks, one of them of two images.
    rng = np.random.default_rng(4)
    for shape, wshape, kw in [((9, 16, 45, 43), (32, 8, 3, 3), {"padding": "same", "groups": 2}),
                              ((3, 64, 40, 40), (64, 64, 1, 1), {}),
                              ((4, 6, 12, 12), (6, 1, 5, 5), {"stride": 2, "groups": 6})]:
        x, w = random_normal(rng, shape, dtype), random_normal(rng, wshape, dtype)
        dy = random_normal(rng, nk.conv2d(x, w, **kw).shape, dtype)
        assert same_bits_for_threads(lambda: nk.conv2d_backward(dy, x, w, **kw))


# ------------------------------------------------------------------------ 7. the anchor


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(5))
def test_matches_torch_autograd_and_so_does_the_reference(dtype, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    groups = [1, 2, 4, 1, 8][seed]
    kw = {"stride": [1, 2, 1, 3, 1][seed], "padding": [1, 0, "same", (2, 1), 1][seed],
          "dilation": [1, 1, 2, 1, (1, 2)][seed], "groups": groups}
    x = random_normal(rng, (3, 8, 14 + seed, 13), dtype)
    w = random_normal(rng, (8, 8 // groups, 3, 2 + seed % 2), dtype)
    b = random_normal(rng, (8,), dtype)
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 'same' with an even kernel: a padded copy
        y = torch.nn.functional.conv2d(xt, wt, bt, **kw)
    dy = random_normal(rng, tuple(y.shape), dtype)
    y.backward(torch.from_numpy(dy))
    n_out = dy.shape[0] * dy.shape[2] * dy.shape[3]
    for impl in (nk.conv2d_backward, ref.conv2d_backward):
        gi, gw, gb = impl(dy, x, w, **kw)
        assert_conv_close(gi, xt.grad.numpy(), 8 * w.shape[2] * w.shape[3])
        assert_conv_close(gw, wt.grad.numpy(), n_out)
        assert_conv_close(gb, bt.grad.numpy(), n_out)
