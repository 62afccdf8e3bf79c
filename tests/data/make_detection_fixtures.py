"""Write tests/data/detection_torchvision.npz: outputs of torchvision 0.29.1 (torch 2.14.1, CPU).

Run once, in an environment with torch and torchvision (CI has neither):

    python tests/data/make_detection_fixtures.py

Each case stores its inputs next to torchvision's output, so the tests need
only NumPy. Inputs come from a fixed seed; keep the file small.
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch
import torchvision
from torchvision import ops

OUT = pathlib.Path(__file__).with_name("detection_torchvision.npz")


def clustered(rng, n, dtype, size=1000.0, offset=0.0):
    k = max(1, n // 4)
    centre = rng.random((k, 2)) * size + offset
    sides = rng.uniform(10, 200, (k, 2)) * size / 1000.0
    obj = rng.integers(0, k, n)
    wh = sides[obj] * np.exp(rng.normal(0, 0.2, (n, 2)))
    c = centre[obj] + rng.normal(0, 0.2, (n, 2)) * sides[obj]
    return np.concatenate([c - wh / 2, c + wh / 2], axis=1).astype(dtype)


def t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


def per_class_then_merge(boxes, scores, idxs, thr):
    """torchvision.ops.nms per class, merged by (score desc, index asc)."""
    keep = []
    for c in np.unique(idxs):
        members = np.flatnonzero(idxs == c)
        kept = ops.nms(t(boxes[members]), t(scores[members]), thr).numpy()
        keep.append(members[kept])
    keep = np.concatenate(keep) if keep else np.zeros(0, np.int64)
    return keep[np.lexsort((keep, -scores[keep]))]


def main():
    rng = np.random.default_rng(20261201)
    out = {"versions": np.array([torch.__version__, torchvision.__version__])}
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        a = clustered(rng, 24, dtype, size=100.0)
        b = clustered(rng, 17, dtype, size=100.0)
        b[:3] = a[:3]  # identical pairs: IoU exactly 1
        b[3] = [5, 5, 5, 9]  # zero width: IoU 0, NaN against itself
        a[4] = b[3]
        out[f"iou_{name}_a"], out[f"iou_{name}_b"] = a, b
        out[f"iou_{name}"] = ops.box_iou(t(a), t(b)).numpy()
        out[f"giou_{name}"] = ops.generalized_box_iou(t(a), t(b)).numpy()
        out[f"area_{name}"] = ops.box_area(t(a)).numpy()
        la, lb = clustered(rng, 40, dtype, size=50.0), clustered(rng, 40, dtype, size=50.0)
        la[:5] = lb[:5]
        out[f"loss_{name}_a"], out[f"loss_{name}_b"] = la, lb
        for reduction in ("none", "mean", "sum"):
            out[f"loss_{name}_{reduction}"] = ops.generalized_box_iou_loss(
                t(la), t(lb), reduction=reduction
            ).numpy()
        out[f"loss_{name}_eps0"] = ops.generalized_box_iou_loss(t(la), t(lb), eps=0.0).numpy()

        # nms: continuous scores, tied scores, three thresholds.
        boxes = clustered(rng, 400, dtype)
        out[f"nms_{name}_boxes"] = boxes
        scores = rng.random(400).astype(dtype)
        tied = np.round(rng.random(400), 1).astype(dtype)
        out[f"nms_{name}_scores"], out[f"nms_{name}_tied"] = scores, tied
        for thr in (0.3, 0.5, 0.7):
            out[f"nms_{name}_keep_{thr}"] = ops.nms(t(boxes), t(scores), thr).numpy()
            out[f"nms_{name}_tiedkeep_{thr}"] = ops.nms(t(boxes), t(tied), thr).numpy()
        # negative coordinates, and boxes that overlap only through the rounding of float IoUs
        neg = clustered(rng, 300, dtype, offset=-1500.0)
        out[f"nms_{name}_neg_boxes"] = neg
        out[f"nms_{name}_neg_keep"] = ops.nms(t(neg), t(scores[:300]), 0.5).numpy()

    # IoU exactly at the threshold: kept (strict >); just above: suppressed.
    exact = np.array([[0, 0, 2, 1], [0, 0, 1, 1], [10, 0, 14, 1], [10, 0, 13, 1]], np.float32)
    out["exact_boxes"] = exact
    out["exact_scores"] = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    for thr in (0.5, 0.75, 0.7499999):
        out[f"exact_keep_{thr}"] = ops.nms(t(exact), t(out["exact_scores"]), thr).numpy()

    # batched: more than 1000 boxes takes torchvision's per-class path.
    for size, offset, tag in ((1000.0, 0.0, "pos"), (1000.0, -600.0, "neg")):
        boxes = clustered(rng, 1600, np.float32, size=size, offset=offset)
        scores = rng.random(1600).astype(np.float32)
        idxs = rng.integers(0, 12, 1600)
        out[f"batched_{tag}_boxes"], out[f"batched_{tag}_scores"] = boxes, scores
        out[f"batched_{tag}_idxs"] = idxs
        out[f"batched_{tag}_keep"] = per_class_then_merge(boxes, scores, idxs, 0.5)
        out[f"batched_{tag}_tv"] = ops.batched_nms(t(boxes), t(scores), t(idxs), 0.5).numpy()
    # small and negative: torchvision's offset trick (<= 1000 boxes) merges the classes.
    trick = np.array([[-10, -10, 0, 0], [-10, -10, 0, 0]], np.float32)
    out["trick_boxes"] = trick
    out["trick_tv"] = ops.batched_nms(
        t(trick), t(np.array([0.9, 0.8], np.float32)), t(np.array([0, 1])), 0.5
    ).numpy()
    out["trick_per_class"] = per_class_then_merge(
        trick, np.array([0.9, 0.8], np.float32), np.array([0, 1]), 0.5
    )
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(out)} arrays)")


if __name__ == "__main__":
    main()
