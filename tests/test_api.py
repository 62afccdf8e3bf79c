"""The public API: every family's names at the top level, each with its NumPy twin."""

from __future__ import annotations

import pytest

import npkernels as nk
from npkernels import reference as ref


@pytest.mark.parametrize("family", nk.FAMILIES, ids=lambda m: m.__name__)
def test_every_family_name_is_a_top_level_name(family):
    for name in family.__all__:
        assert getattr(nk, name) is getattr(family, name), name
        assert name in nk.__all__


@pytest.mark.parametrize("family", nk.FAMILIES, ids=lambda m: m.__name__)
def test_every_public_kernel_has_a_reference_twin(family):
    for name in family.__all__:
        if name == "UndefinedMetricWarning":
            continue
        assert name in ref.__all__, name
        assert callable(getattr(ref, name)), name
