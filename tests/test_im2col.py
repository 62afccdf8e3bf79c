"""nk.im2col / nk.col2im against their NumPy twins and F.unfold / F.fold."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES, assert_conv_close, random_normal, same_bits_for_threads
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import _core
from npkernels import reference as ref


@st.composite
def unfold_problems(draw, dtype):
    """(x, kernel_size, options) with a window that fits the padded input."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    opts = {"stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
            "padding": (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
            "dilation": (draw(st.integers(1, 3)), draw(st.integers(1, 3)))}
    ext = [d * (kk - 1) + 1 - 2 * p for kk, d, p in zip(k, opts["dilation"], opts["padding"])]
    h = max(draw(st.integers(1, 10)), ext[0])
    w = max(draw(st.integers(1, 10)), ext[1])
    n, c = draw(st.sampled_from([0, 1, 2])), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):  # an int for every option: the first axis's values
        opts = {key: v[0] for key, v in opts.items()}
        k = k[0]
        h = w = max(h, w)
    return random_normal(rng, (n, c, h, w), dtype), k, opts


# ------------------------------------------------------------ 1. matches the reference


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_im2col_equals_reference_exactly(dtype, data):
    x, k, opts = data.draw(unfold_problems(dtype))
    got = nk.im2col(x, k, **opts)
    want = ref.im2col(x, k, **opts)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_array_equal(got, want)  # a copy: no arithmetic, so exact


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_col2im_matches_reference(dtype, data):
    x, k, opts = data.draw(unfold_problems(dtype))
    cols = ref.im2col(x, k, **opts)
    cols = random_normal(np.random.default_rng(0), cols.shape, dtype)
    got = nk.col2im(cols, x.shape[2:], k, **opts)
    assert_conv_close(got, ref.col2im(cols, x.shape[2:], k, **opts), 16)


# ------------------------------------------------------------------- 2. edge cases


def test_unfold_of_arange_matches_the_documented_layout():
    x = np.arange(2 * 3 * 3, dtype=np.float64).reshape(1, 2, 3, 3)
    cols = nk.im2col(x, 2)
    assert cols.shape == (1, 8, 4)
    # row (c*kH + kh)*kW + kw, column oh*Wo + ow
    np.testing.assert_array_equal(cols[0, 4 + 3], x[0, 1, 1:, 1:].ravel())
    np.testing.assert_array_equal(cols[0, 1], x[0, 0, :2, 1:].ravel())


def test_col2im_sums_overlaps_and_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 6))
    opts = {"stride": (2, 1), "padding": 1, "dilation": (1, 2)}
    cols = nk.im2col(x, (3, 2), **opts)
    c = rng.standard_normal(cols.shape)
    # <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, nk.col2im(c, (7, 6), (3, 2), **opts)),
                               rtol=1e-12)
    np.testing.assert_array_equal(nk.col2im(np.ones((1, 4, 4)), 3, 2)[0, 0],
                                  [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_empty_and_unbatched():
    assert nk.im2col(np.ones((0, 2, 4, 4)), 3).shape == (0, 18, 4)
    assert nk.col2im(np.ones((0, 18, 4)), 4, 3).shape == (0, 2, 4, 4)
    x = np.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_array_equal(nk.im2col(x, 3), nk.im2col(x[None], 3)[0])
    cols = nk.im2col(x, 3)
    np.testing.assert_array_equal(nk.col2im(cols, 4, 3), nk.col2im(cols[None], 4, 3)[0])


def test_nan_is_copied_like_any_value():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = np.nan
    assert np.isnan(nk.im2col(x, 2)).sum() == 4


# -------------------------------------------------------------------------- 3. layouts


def test_non_contiguous_and_integer_inputs():
    x = np.arange(2 * 3 * 6 * 6).reshape(2, 3, 6, 6)
    want = nk.im2col(x.astype(float), 3, stride=2)
    np.testing.assert_array_equal(nk.im2col(x, 3, stride=2), want)  # int -> float64
    np.testing.assert_array_equal(nk.im2col(np.asfortranarray(x.astype(float)), 3, stride=2), want)
    xs = np.repeat(x.astype(float), 2, axis=2)[:, :, ::2]  # a strided view equal to x
    np.testing.assert_array_equal(nk.im2col(xs, 3, stride=2), want)
    flipped = x.astype(float)[:, ::-1]
    np.testing.assert_array_equal(nk.im2col(flipped, 3, stride=2), ref.im2col(flipped, 3, stride=2))
    cols = np.asfortranarray(want)
    np.testing.assert_array_equal(nk.col2im(cols, 6, 3, stride=2),
                                  nk.col2im(np.ascontiguousarray(cols), 6, 3, stride=2))


# ---------------------------------------------------------------------- 4. dtype policy


@pytest.mark.parametrize(("dtype", "out"), [(np.float32, np.float32), (np.float64, np.float64),
                                            (np.int64, np.float64), (bool, np.float64)])
def test_dtype_follows_the_input(dtype, out):
    assert nk.im2col(np.ones((1, 1, 3, 3), dtype), 2).dtype == out
    assert nk.col2im(np.ones((1, 4, 4), dtype), 3, 2).dtype == out


# ------------------------------------------------------------------------ 5. bad input


@pytest.mark.parametrize("impl", [nk.im2col, ref.im2col], ids=["nk", "ref"])
@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.ones((3, 3)), 2), {}, ValueError, r"x must have shape \(N, C, H, W\) or \(C, H, W\)"),
        ((np.ones((1, 1, 3, 3)), 4), {}, ValueError, r"kernel_size: the dilated kernel \(4, 4\) is larger than the padded input \(3, 3\)"),
        ((np.ones((1, 1, 3, 3)), 0), {}, ValueError, r"kernel_size must be >= 1, got 0"),
        ((np.ones((1, 1, 3, 3)), 2), {"stride": 0}, ValueError, r"stride must be >= 1, got 0"),
        ((np.ones((1, 1, 3, 3)), 2), {"padding": -1}, ValueError, r"padding must be >= 0, got -1"),
        ((np.ones((1, 1, 3, 3)), 2), {"dilation": (1, 0)}, ValueError, r"dilation must be >= 1"),
        ((np.ones((1, 1, 3, 3), complex), 2), {}, TypeError, r"x must have a real numeric dtype"),
    ],
)
def test_im2col_bad_input(impl, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        impl(*args, **kwargs)


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        nk.im2col(np.ones((1, 1, 3, 3)), 2, 1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        nk.col2im(np.ones((1, 4, 4)), 3, 2, 1)  # type: ignore[misc]


@pytest.mark.parametrize("impl", [nk.col2im, ref.col2im], ids=["nk", "ref"])
@pytest.mark.parametrize(
    ("cols", "size", "match"),
    [
        (np.ones((1, 5, 4)), 3, r"cols must have shape \(N, C\*4, 4\) for output_size \(3, 3\)"),
        (np.ones((1, 4, 5)), 3, r"cols must have shape \(N, C\*4, 4\)"),
        (np.ones(4), 3, r"cols must have shape \(N, C\*kH\*kW, L\) or \(C\*kH\*kW, L\)"),
        (np.ones((1, 4, 4)), 0, r"output_size must be >= 1, got 0"),
    ],
)
def test_col2im_bad_input(impl, cols, size, match):
    with pytest.raises(ValueError, match=match):
        impl(cols, size, 2)


def test_core_guards_itself():
    x = np.ones((1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\)"):
        _core.im2col(np.ones((3, 3)), (2, 2), (1, 1), (0, 0), (1, 1), n_threads=1)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        _core.im2col(x, (0, 2), (1, 1), (0, 0), (1, 1), n_threads=1)
    with pytest.raises(TypeError, match="x must be float32 or float64"):
        _core.im2col(x.astype(np.int32), (2, 2), (1, 1), (0, 0), (1, 1), n_threads=1)
    with pytest.raises(ValueError, match=r"cols must have shape \(N, C\*4, 4\)"):
        _core.col2im(np.ones((1, 4, 5)), (3, 3), (2, 2), (1, 1), (0, 0), (1, 1), n_threads=1)
    # a window that fits nowhere gives an empty column matrix, not a read out of bounds
    assert _core.im2col(x, (5, 5), (1, 1), (0, 0), (1, 1), n_threads=1).shape == (1, 25, 0)


# ------------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(dtype):
    rng = np.random.default_rng(2)
    x = random_normal(rng, (3, 24, 40, 41), dtype)  # 72 planes: 3 threads split them
    opts = {"stride": 2, "padding": 2, "dilation": (2, 1)}
    cols = nk.im2col(x, 3, **opts)
    assert same_bits_for_threads(lambda: nk.im2col(x, 3, **opts))
    assert same_bits_for_threads(lambda: nk.col2im(cols, (40, 41), 3, **opts))


# ------------------------------------------------------------------------ 7. the anchor


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(4))
def test_matches_torch_unfold_and_fold(dtype, seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    k = [(3, 3), (2, 4), 5, (1, 3)][seed]
    opts = {"stride": [1, 2, (1, 3), 2][seed], "padding": [1, 0, 2, (0, 1)][seed],
            "dilation": [1, (2, 1), 1, 3][seed]}
    x = random_normal(rng, (2, 3, 11 + seed, 10), dtype)
    unfold = F.unfold(torch.from_numpy(x), k, **opts).numpy()
    for impl in (nk, ref):
        np.testing.assert_array_equal(impl.im2col(x, k, **opts), unfold)
    cols = random_normal(rng, unfold.shape, dtype)
    fold = F.fold(torch.from_numpy(cols), x.shape[2:], k, **opts).numpy()
    for impl in (nk, ref):
        assert_conv_close(impl.col2im(cols, x.shape[2:], k, **opts), fold, 25)
