"""Every public module's Examples run and print what they show, and every public function has one."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import npkernels as nk

PUBLIC_MODULES = [
    importlib.import_module(f"npkernels.{info.name}")
    for info in pkgutil.iter_modules(nk.__path__)
    if not info.name.startswith("_") and info.name != "reference"
]
PUBLIC_FUNCTIONS = [
    name for name in nk.__all__ if inspect.isfunction(getattr(nk, name)) and "threads" not in name
]


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
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
