"""Detection operators (semantics of ``torchvision.ops``).

ROI Align and ROI Pool, forward and backward, live in ``npkernels._roi``.
"""

from __future__ import annotations

from ._roi import roi_align, roi_align_backward, roi_pool, roi_pool_backward

__all__ = ["roi_align", "roi_align_backward", "roi_pool", "roi_pool_backward"]
