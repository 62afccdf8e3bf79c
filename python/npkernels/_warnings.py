"""Warning categories of npkernels."""

from __future__ import annotations

__all__ = ["UndefinedMetricWarning"]


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined for the given input (scikit-learn's category of the same name)."""
