"""spatial_pyramid_pool against the NumPy reference and torch's adaptive pools."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES, assert_matches, assert_same_bits_for_any_thread_count, big_image, images
from hypothesis import given
from hypothesis import strategies as st

import npkernels as nk
from npkernels import reference as ref

# 1. Matches the reference ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matches_reference(dtype, data):
    x = data.draw(images(dtype, nan=data.draw(st.booleans())))
    levels = data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    mode = data.draw(st.sampled_from(["max", "avg"]))
    assert_matches(nk.spatial_pyramid_pool(x, levels, mode),
                   ref.spatial_pyramid_pool(x, levels, mode))


# 2. Edge cases ----------------------------------------------------------------------------


def test_fixed_length_for_any_image_size():
    for hw in ((5, 7), (32, 17), (1, 1)):
        out = nk.spatial_pyramid_pool(np.ones((2, 3, *hw)))
        assert out.shape == (2, 3 * (1 + 4 + 16))
        np.testing.assert_array_equal(out, 1.0)


def test_layout_of_the_levels():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(nk.spatial_pyramid_pool(x, (1, 2)), [[15, 5, 7, 13, 15]])
    np.testing.assert_array_equal(nk.spatial_pyramid_pool(x, (1,), "avg"), [[7.5]])
    assert nk.spatial_pyramid_pool(np.zeros((0, 2, 4, 4))).shape == (0, 42)


# 3. Layouts -------------------------------------------------------------------------------


def test_layouts():
    base = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    for x in (np.asfortranarray(base), base[..., ::-1], (base > 0)):
        assert_matches(nk.spatial_pyramid_pool(x), ref.spatial_pyramid_pool(x))


# 4. dtype policy --------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "want"), [(np.float32, np.float32), (np.int64, np.float64)])
def test_dtype_policy(dtype, want):
    assert nk.spatial_pyramid_pool(np.ones((1, 1, 4, 4), dtype)).dtype == want


# 5. Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"levels": ()}, ValueError, r"levels must be a non-empty sequence of ints >= 1"),
    ({"levels": (1, 0)}, ValueError, r"levels must be a non-empty sequence of ints >= 1"),
    ({"levels": 2}, TypeError, r"levels must be a sequence of ints, got 2"),
    ({"mode": "sum"}, ValueError, r"mode must be one of 'max', 'avg', got 'sum'"),
])
def test_bad_arguments(kwargs, exc, match):
    for impl in (nk, ref):
        with pytest.raises(exc, match=match):
            impl.spatial_pyramid_pool(np.ones((1, 1, 4, 4)), **kwargs)


def test_bad_shape():
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\) with C, H, W >= 1"):
        nk.spatial_pyramid_pool(np.ones((1, 4, 4)))


# 6. Thread invariance ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_same_bits_for_any_thread_count(mode):
    assert_same_bits_for_any_thread_count(nk.spatial_pyramid_pool, big_image(), (1, 3, 6), mode)


# 7. The anchor ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch_adaptive_pools(mode, dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = big_image(dtype, (3, 4, 13, 10), seed=8)
    pool = F.adaptive_max_pool2d if mode == "max" else F.adaptive_avg_pool2d
    t = torch.from_numpy(x)
    want = torch.cat([pool(t, lvl).flatten(1) for lvl in (1, 2, 4)], 1).numpy()
    for impl in (nk, ref):
        assert_matches(impl.spatial_pyramid_pool(x, (1, 2, 4), mode), want)
