"""Every Examples section in the public modules runs and prints what it says."""

from __future__ import annotations

import doctest

import pytest

import npkernels as nk


@pytest.mark.parametrize("module", [nk.metrics, nk.neighbors], ids=lambda m: m.__name__)
def test_examples_in_docstrings_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
