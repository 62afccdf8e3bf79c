"""Readable NumPy versions of ``npkernels.detection``.

The ROI operators live in ``npkernels.reference._roi``.
"""

from __future__ import annotations

from ._roi import roi_align, roi_align_backward, roi_pool, roi_pool_backward

__all__ = ["roi_align", "roi_align_backward", "roi_pool", "roi_pool_backward"]
