"""The Examples sections of the public docstrings run and print what they say."""

from __future__ import annotations

import doctest

import pytest

import npkernels as nk
from npkernels import _threads

PUBLIC = [
    "rankdata",
    "roc_auc_score",
    "roc_curve",
    "average_precision_score",
    "roi_align",
    "roi_align_backward",
    "roi_pool",
    "roi_pool_backward",
]


def _has_examples(module) -> bool:
    return any(t.examples for t in doctest.DocTestFinder().find(module))


@pytest.mark.parametrize(
    "module",
    [nk.metrics, nk._roi] + ([_threads] if _has_examples(_threads) else []),
    ids=lambda m: m.__name__,
)
def test_examples_in_docstrings_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_function_has_a_passing_example(name):
    func = getattr(nk, name)
    tests = doctest.DocTestFinder().find(func, name, globs={})
    examples = sum(len(t.examples) for t in tests)
    assert examples > 0, f"{name} has no Examples"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.attempted == examples
    assert result.failed == 0
