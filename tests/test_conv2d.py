"""nk.conv2d against its NumPy twin and torch.nn.functional.conv2d."""

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
    p = data.draw(conv_problems(dtype))
    got, want = fast_and_reference("conv2d", p)
    assert_conv_close(got, want, p["terms"])


# ------------------------------------------------------------------- 2. edge cases


def test_same_padding_with_an_even_kernel_pads_bottom_right():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    want = [[8, 12, 7], [20, 24, 13], [13, 15, 8]]  # ANCHORS-SEMANTICS §2 (verified on torch)
    np.testing.assert_array_equal(nk.conv2d(x, np.ones((1, 1, 2, 2)), padding="same")[0, 0], want)


@pytest.mark.parametrize("stride", [2, 3])
def test_same_padding_follows_tensorflow_for_strides(stride):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 7, 8)), rng.standard_normal((3, 2, 4, 3))
    y = nk.conv2d(x, w, stride=stride, padding="same")
    assert y.shape[2:] == (-(-7 // stride), -(-8 // stride))
    # TF: pad_total = max((out-1)*s + k - in, 0), pad_before = total // 2
    pads = [max((-(-n // stride) - 1) * stride + k - n, 0) for n, k in ((7, 4), (8, 3))]
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0] // 2, pads[0] - pads[0] // 2),
                    (pads[1] // 2, pads[1] - pads[1] // 2)))
    assert_conv_close(y, ref.conv2d(xp, w, stride=stride), 24)


@pytest.mark.parametrize("n", [0, 1])
def test_batch_of_zero_and_one(n):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((n, 4, 5, 6)), rng.standard_normal((6, 2, 3, 3))
    y = nk.conv2d(x, w, np.ones(6), padding=1, groups=2)
    assert y.shape == (n, 6, 5, 6)
    assert_conv_close(y, ref.conv2d(x, w, np.ones(6), padding=1, groups=2), 18)


def test_unbatched_input_gives_unbatched_output():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 5, 5)), rng.standard_normal((2, 3, 3, 3))
    y = nk.conv2d(x, w)
    assert y.shape == (2, 3, 3)
    assert_conv_close(y, nk.conv2d(x[None], w)[0], 27)


def test_kernel_equal_to_the_input_gives_one_pixel():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 4, 5))
    y = nk.conv2d(x, w)
    assert y.shape == (2, 2, 1, 1)
    np.testing.assert_allclose(y[:, :, 0, 0], np.einsum("nchw,ochw->no", x, w), rtol=1e-12)


def test_depthwise_and_pointwise():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 9, 9))
    dw = rng.standard_normal((12, 1, 3, 3))  # depthwise, channel multiplier 2
    assert_conv_close(nk.conv2d(x, dw, groups=6, padding=1),
                      ref.conv2d(x, dw, groups=6, padding=1), 9)
    pw = rng.standard_normal((5, 6, 1, 1))  # 1x1 stride 1: no im2col
    assert_conv_close(nk.conv2d(x, pw, np.arange(5.0)), ref.conv2d(x, pw, np.arange(5.0)), 6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_several_row_tiles_match_the_reference(dtype):
    # C*k*k*Wo*4 bytes per output row = 576*72*4: a 512 KiB tile holds 4 rows (and
    # 256 columns at least), so the image is covered by several tiles.
    rng = np.random.default_rng(5)
    x, w = random_normal(rng, (2, 64, 72, 72), dtype), random_normal(rng, (8, 64, 3, 3), dtype)
    b = random_normal(rng, (8,), dtype)
    assert_conv_close(nk.conv2d(x, w, b, padding=1), ref.conv2d(x, w, b, padding=1), 576)


def test_nan_and_inf_propagate_to_the_windows_that_see_them():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 0, 0] = np.nan
    x[0, 0, 4, 4] = np.inf
    y = nk.conv2d(x, np.ones((1, 1, 2, 2)))[0, 0]
    assert np.isnan(y[0, 0]) and np.isinf(y[3, 3])
    assert np.isfinite(y[1:3, 1:3]).all()


# -------------------------------------------------------------------------- 3. layouts


def test_non_contiguous_fortran_and_negative_stride_inputs():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 9, 10))
    w = rng.standard_normal((3, 4, 3, 2))
    want = nk.conv2d(x, w, stride=2, padding=1)
    for xv, wv in [
        (np.asfortranarray(x), np.asfortranarray(w)),
        (x[:, :, ::-1, ::-1].copy()[:, :, ::-1, ::-1], w[::-1].copy()[::-1]),
        (np.concatenate([x, x], axis=3)[:, :, :, ::2].copy(), w),
    ]:
        np.testing.assert_array_equal(nk.conv2d(xv, wv, stride=2, padding=1)[:1],
                                      nk.conv2d(np.ascontiguousarray(xv), np.ascontiguousarray(wv),
                                                stride=2, padding=1)[:1])
    xs = np.repeat(x, 2, axis=3)[:, :, :, ::2]  # a strided view equal to x
    np.testing.assert_array_equal(nk.conv2d(xs, w[:, :, ::-1, :][:, :, ::-1, :], stride=2,
                                            padding=1), want)


def test_int_and_bool_inputs_become_float64():
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5)
    w = np.ones((2, 3, 3, 3), dtype=bool)
    y = nk.conv2d(x, w)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, ref.conv2d(x.astype(float), w.astype(float)))


# ---------------------------------------------------------------------- 4. dtype policy


@pytest.mark.parametrize(
    ("x_dtype", "w_dtype", "out"),
    [(np.float32, np.float32, np.float32), (np.float32, np.float64, np.float32),
     (np.float64, np.float32, np.float64), (np.int32, np.float32, np.float64),
     (np.float16, np.float16, np.float64)],
)
def test_dtype_follows_the_input(x_dtype, w_dtype, out):
    y = nk.conv2d(np.ones((1, 2, 4, 4), x_dtype), np.ones((1, 2, 3, 3), w_dtype), np.ones(1))
    assert y.dtype == out
    assert ref.conv2d(np.ones((1, 2, 4, 4), x_dtype), np.ones((1, 2, 3, 3), w_dtype)).dtype == out


# ------------------------------------------------------------------------ 5. bad input

X, W = np.ones((1, 3, 5, 5)), np.ones((4, 1, 3, 3))


@pytest.mark.parametrize("impl", [nk.conv2d, ref.conv2d], ids=["nk", "ref"])
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": np.ones((3, 5))}, ValueError, r"x must have shape \(N, C, H, W\) or \(C, H, W\), got \(3, 5\)"),
        ({"weight": np.ones((4, 3, 3))}, ValueError, r"weight must have shape \(O, C/groups, kH, kW\)"),
        ({"groups": 2, "weight": np.ones((4, 1, 3, 3))}, ValueError, r"x must have weight.shape\[1\] \* groups = 2 channels \(groups=2\), got 3"),
        ({"groups": 3, "weight": np.ones((4, 1, 3, 3))}, ValueError, r"groups must divide weight.shape\[0\] = 4, got 3"),
        ({"groups": 0}, ValueError, r"groups must be >= 1, got 0"),
        ({"weight": np.ones((4, 3, 7, 3))}, ValueError, r"weight: the dilated kernel \(7, 3\) is larger than the padded input \(5, 5\)"),
        ({"dilation": 3}, ValueError, r"the dilated kernel \(7, 7\) is larger"),
        ({"stride": 0}, ValueError, r"stride must be >= 1, got 0"),
        ({"stride": (1, -1)}, ValueError, r"stride must be >= 1, got \(1, -1\)"),
        ({"padding": -1}, ValueError, r"padding must be >= 0, got -1"),
        ({"padding": "full"}, ValueError, r"padding must be an int, a pair, 'valid' or 'same', got 'full'"),
        ({"padding": (1, 2, 3)}, ValueError, r"padding must be an int or a pair of ints"),
        ({"stride": 1.5}, TypeError, r"stride must be an integer, got float"),
        ({"bias": np.ones(3)}, ValueError, r"bias must have shape \(4,\)"),
        ({"x": np.ones((1, 3, 5, 5), complex)}, TypeError, r"x must have a real numeric dtype, got complex128"),
        ({"weight": np.array([[[["a"]]]])}, TypeError, r"weight must have a real numeric dtype"),
    ],
)
def test_bad_input_names_the_argument(impl, kwargs, error, match):
    args = {"x": X, "weight": np.ones((4, 3, 3, 3)), "bias": None} | kwargs
    with pytest.raises(error, match=match):
        impl(**args)


def test_core_guards_itself():
    cap32, cap64 = _blas.gemm_capsule(np.float32), _blas.gemm_capsule(np.float64)
    x, w = np.ones((1, 3, 5, 5)), np.ones((4, 3, 3, 3))
    call = lambda x, w, cap, groups=1, b=None: _core.conv2d(  # noqa: E731
        x, w, b, (1, 1), (0, 0), (3, 3), (1, 1), groups, cap, n_threads=1)
    np.testing.assert_array_equal(call(x, w, cap64), nk.conv2d(x, w))
    with pytest.raises(TypeError, match="gemm must be SciPy's dgemm capsule"):
        call(x, w, cap32)
    with pytest.raises(TypeError, match="gemm must be a scipy.linalg.cython_blas capsule"):
        call(x, w, 12345)
    with pytest.raises(TypeError, match="weight must be a C-contiguous float64 array"):
        call(x, w.astype(np.float32), cap64)
    with pytest.raises(TypeError, match="not C-contiguous"):
        call(np.asfortranarray(x), w, cap64)
    with pytest.raises(ValueError, match="x must have weight.shape"):
        call(x, np.ones((4, 1, 3, 3)), cap64)
    with pytest.raises(ValueError, match="groups must be >= 1 and divide"):
        call(x, w, cap64, groups=0)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        call(x, w, cap64, b=np.ones(3))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        _core.conv2d(x, w, None, (0, 1), (0, 0), (3, 3), (1, 1), 1, cap64, n_threads=1)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        _core.conv2d(x, w, None, (1, 1), (-1, 0), (3, 3), (1, 1), 1, cap64, n_threads=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("trans_a", "trans_b"), [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("piece", [1, 3, 2**31 - 1])
def test_blas_wrapper_is_row_major_and_splits_any_size(dtype, trans_a, trans_b, piece):
    # blas::gemm splits m, n and k larger than an int into pieces (k pieces add with
    # beta = 1); a small `piece` exercises that path on small matrices.
    rng = np.random.default_rng(7)
    a, b = random_normal(rng, (5, 7), dtype), random_normal(rng, (7, 4), dtype)
    got = _core.gemm(a.T.copy() if trans_a else a, b.T.copy() if trans_b else b, trans_a, trans_b,
                     piece, _blas.gemm_capsule(dtype))
    assert_conv_close(got, a @ b, 7)


# ------------------------------------------------------------------ 6. thread invariance


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(dtype):
    # Each case is > 96 MFLOP, so that 3 threads are used (the kernel keeps >= 32 MFLOP
    # per thread), and has more (image, tile) units than threads.
    rng = np.random.default_rng(8)
    cases = [
        (random_normal(rng, (8, 32, 45, 43), dtype), random_normal(rng, (32, 16, 3, 3), dtype),
         {"padding": "same", "groups": 2, "dilation": 2}),
        (random_normal(rng, (1, 64, 72, 40), dtype), random_normal(rng, (40, 64, 3, 3), dtype),
         {"padding": 1}),  # one image, several row tiles
        (random_normal(rng, (8, 64, 40, 40), dtype), random_normal(rng, (96, 64, 1, 1), dtype), {}),
    ]
    for x, w, kw in cases:
        assert same_bits_for_threads(lambda: nk.conv2d(x, w, np.ones(w.shape[0], dtype), **kw))


def test_concurrent_calls_from_python_threads_agree_and_restore_the_blas_pool():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(10)
    problems = [(rng.standard_normal((2, 8, 15, 15)), rng.standard_normal((4, 8, 3, 3)))
                for _ in range(8)]
    serial = [nk.conv2d(x, w, padding=1).tobytes() for x, w in problems]
    before = [p.get_num_threads() for p in _blas._pools()]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda xw: nk.conv2d(*xw, padding=1).tobytes(), problems * 4))
    assert parallel == serial * 4
    assert [p.get_num_threads() for p in _blas._pools()] == before


def test_blas_pool_is_restored_after_a_call():
    pools = _blas._pools()
    before = [p.get_num_threads() for p in pools]
    nk.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))
    assert [p.get_num_threads() for p in pools] == before


# ------------------------------------------------------------------------ 7. the anchor


def _torch_conv(torch, p):
    F = torch.nn.functional
    kw = dict(p["kw"])
    x, w = torch.from_numpy(p["x"]), torch.from_numpy(p["weight"])
    b = None if p["bias"] is None else torch.from_numpy(p["bias"])
    if kw["padding"] == "same" and kw["stride"] != (1, 1):
        pytest.skip("torch refuses padding='same' with stride > 1")
    if x.shape[0] == 0:
        pytest.skip("torch rejects a batch of 0 here")
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore", UserWarning)  # 'same' + even kernel copy
        return F.conv2d(x, w, b, **kw).numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(6))
def test_matches_torch_and_so_does_the_reference(dtype, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    groups = [1, 2, 4, 8, 1, 2][seed]
    c = 8
    p = {
        "x": random_normal(rng, (2, c, 15 + seed, 13), dtype),
        "weight": random_normal(rng, (8, c // groups, 3 + seed % 2, 3), dtype),
        "bias": random_normal(rng, (8,), dtype) if seed % 2 else None,
        "kw": {"stride": (1 + seed % 3, 1), "padding": [1, (2, 0), "valid", 0, "same", 1][seed]
               if seed != 4 else "same", "dilation": (1, 1 + seed % 2), "groups": groups},
    }
    if p["kw"]["padding"] == "same":
        p["kw"]["stride"] = (1, 1)
    want = _torch_conv(torch, p)
    terms = (c // groups) * 4 * 3
    got, reference = fast_and_reference("conv2d", p)
    assert_conv_close(got, want, terms)
    assert_conv_close(reference, want, terms)


def test_realistic_layer_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x = random_normal(rng, (2, 32, 28, 28), np.float32)
    w = random_normal(rng, (16, 32, 3, 3), np.float32) * 0.1
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    assert_conv_close(nk.conv2d(x, w, padding=1), want, 288)
