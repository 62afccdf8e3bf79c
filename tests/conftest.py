from __future__ import annotations

import os

from hypothesis import settings

# No deadline: the first call of a kernel pays for allocation and thread start-up,
# and CI machines are noisy. Derandomised on CI so a failure reproduces.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True)
# The sanitizer run (.ci/sanitize) is 10-50x slower per call: fewer examples.
settings.register_profile("sanitize", max_examples=10, deadline=None, derandomize=True)
settings.load_profile(
    os.environ.get("NPK_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
