"""Every public module's Examples run and print what they show."""

from __future__ import annotations

import doctest

import pytest

import npkernels.metrics
import npkernels.norm
import npkernels.pool


@pytest.mark.parametrize("module", [npkernels.metrics, npkernels.pool, npkernels.norm],
                         ids=lambda m: m.__name__)
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
