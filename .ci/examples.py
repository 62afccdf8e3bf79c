"""Run every public module's docstring Examples (each public function at least once).

The small, pytest-free workload of the leak checks in .ci/sanitize (step 2) and
.ci/valgrind: few allocations besides NumPy's and the kernels' own. Exits 1 if
an example fails or none ran.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import sys

import npkernels as nk

modules = [
    importlib.import_module(f"npkernels.{info.name}")
    for info in pkgutil.iter_modules(nk.__path__)
    if not info.name.startswith("_") and info.name != "reference"
]
attempted = failed = 0
for module in modules:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    attempted += result.attempted
    failed += result.failed
print(f"examples: {attempted} examples of {len(modules)} modules, {failed} failed")
sys.exit(1 if failed or not attempted else 0)
