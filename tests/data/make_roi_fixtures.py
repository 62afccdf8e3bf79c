"""Write the golden ROI Align / ROI Pool fixtures from torchvision's C++ CPU kernels.

Run with an interpreter that has torch 2.14.1 and torchvision 0.29.1:

    python tests/data/make_roi_fixtures.py

It writes tests/data/roi_align_golden.npz and tests/data/roi_pool_golden.npz:
for case ``i``, ``{i}_input``, ``{i}_boxes`` ((K, 5) rows), ``{i}_grad``
(a random grad_output), ``{i}_out``, ``{i}_grad_input`` (and ``{i}_argmax``
for ROI Pool), and ``{i}_params``, a JSON string of the call's arguments
(``as_list``: the boxes were passed as torchvision's per-image list).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torchvision
from torchvision import ops

HERE = Path(__file__).parent


def boxes_for(rng, n_img, h, w, scale, dtype):
    """A mix: ordinary, partly outside, wholly outside, tiny, degenerate, zero-size, large."""
    inv = 1.0 / scale
    rows = []
    for b in range(n_img):
        x1, y1 = rng.uniform(0, w * inv * 0.6), rng.uniform(0, h * inv * 0.6)
        rows.append([b, x1, y1, x1 + rng.uniform(1, 6) * inv, y1 + rng.uniform(1, 6) * inv])
        rows.append([b, -3 * inv, -2 * inv, 4 * inv, 3 * inv])  # partly outside (top-left)
        rows.append([b, (w - 3) * inv, (h - 2) * inv, (w + 4) * inv, (h + 5) * inv])  # bottom-right
        rows.append([b, (w + 3) * inv, 1 * inv, (w + 9) * inv, 5 * inv])  # wholly outside
        rows.append([b, 2.3 * inv, 3.1 * inv, 2.6 * inv, 3.3 * inv])  # tiny
        rows.append([b, 5 * inv, 4 * inv, 2 * inv, 1 * inv])  # degenerate x2 < x1, y2 < y1
        rows.append([b, 3 * inv, 3 * inv, 3 * inv, 3 * inv])  # zero size
        rows.append([b, -5.5 * inv, -4.5 * inv, (w + 6.5) * inv, (h + 3.5) * inv])  # larger than map
        rows.append([b, 1.5 * inv, 2.5 * inv, 6.5 * inv, 7.5 * inv])  # .5 coordinates (rounding)
    rows.append([n_img - 1, 0.7 * inv, 0.2 * inv, (w - 1.4) * inv, (h - 0.6) * inv])
    return np.asarray(rows, dtype=dtype)


def as_list(rois: torch.Tensor, n_img: int) -> list[torch.Tensor]:
    return [rois[rois[:, 0] == b, 1:].clone() for b in range(n_img)]


def case_inputs(rng, cases, list_phase):
    """(i, params, input, boxes) per case; every third case passes its boxes as a list."""
    for i, p in enumerate(cases):
        p["as_list"] = i % 3 == list_phase
        dtype = np.dtype(p["dtype"])
        n_img, c, h, w = 2, 3, 9, 11
        x = rng.normal(size=(n_img, c, h, w)).astype(dtype)
        yield i, p, x, boxes_for(rng, n_img, h, w, p["spatial_scale"], dtype)


def align_cases():
    rng = np.random.default_rng(20261201)
    cases = []
    for aligned in (False, True):
        for sr in (2, -1, 0):
            for scale in (1.0, 0.25):
                cases.append(dict(aligned=aligned, sampling_ratio=sr, spatial_scale=scale,
                                  output_size=[3, 4], dtype="float32"))
    cases.append(dict(aligned=True, sampling_ratio=-1, spatial_scale=0.5, output_size=[2, 2],
                      dtype="float64"))
    cases.append(dict(aligned=False, sampling_ratio=3, spatial_scale=1.0, output_size=[5, 1],
                      dtype="float64"))
    cases.append(dict(aligned=False, sampling_ratio=1, spatial_scale=1.0, output_size=[1, 1],
                      dtype="float32"))
    out = {}
    for i, p, x, boxes in case_inputs(rng, cases, 1):
        dtype, n_img = x.dtype, x.shape[0]
        tx = torch.from_numpy(x).requires_grad_(True)
        tb = torch.from_numpy(boxes)
        arg = as_list(tb, n_img) if p["as_list"] else tb
        y = ops.roi_align(tx, arg, p["output_size"], p["spatial_scale"], p["sampling_ratio"],
                          p["aligned"])
        g = rng.normal(size=tuple(y.shape)).astype(dtype)
        y.backward(torch.from_numpy(g))
        out.update({f"{i}_input": x, f"{i}_boxes": boxes, f"{i}_grad": g,
                    f"{i}_out": y.detach().numpy(), f"{i}_grad_input": tx.grad.numpy(),
                    f"{i}_params": json.dumps(p)})
    # the documented example: arange(16), ROI [0, -3, -3, 7, 7], 4x4, sampling 1
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    i = len(cases)
    p = dict(aligned=False, sampling_ratio=1, spatial_scale=1.0, output_size=[4, 4],
             dtype="float32", as_list=False)
    boxes = np.array([[0, -3, -3, 7, 7], [0, 1, 1, 1, 1]], np.float32)
    tx = torch.from_numpy(x).requires_grad_(True)
    y = ops.roi_align(tx, torch.from_numpy(boxes), 4, 1.0, 1, False)
    g = np.ones(tuple(y.shape), np.float32)
    y.backward(torch.from_numpy(g))
    out.update({f"{i}_input": x, f"{i}_boxes": boxes, f"{i}_grad": g,
                f"{i}_out": y.detach().numpy(), f"{i}_grad_input": tx.grad.numpy(),
                f"{i}_params": json.dumps(p)})
    return out


def pool_cases():
    rng = np.random.default_rng(20261202)
    cases = []
    for scale in (1.0, 0.5, 0.25):
        for size in ([2, 2], [3, 5]):
            cases.append(dict(spatial_scale=scale, output_size=size, dtype="float32"))
    cases.append(dict(spatial_scale=1.0, output_size=[7, 7], dtype="float64"))
    cases.append(dict(spatial_scale=0.5, output_size=[1, 3], dtype="float64"))
    out = {}
    for i, p, x, boxes in case_inputs(rng, cases, 2):
        dtype, n_img = x.dtype, x.shape[0]
        x[0, 0, 1:4, 1:4] = np.nan  # ignored by the strict '>' max
        x[1, 1, :, :3] = -np.inf  # an all -inf bin gives -FLT_MAX and argmax -1
        x[0, 2, 2, 2:5] = 1.25  # ties: the first wins
        tx = torch.from_numpy(x).requires_grad_(True)
        tb = torch.from_numpy(boxes)
        arg = as_list(tb, n_img) if p["as_list"] else tb
        y = ops.roi_pool(tx, arg, p["output_size"], p["spatial_scale"])
        _, argmax = torch.ops.torchvision.roi_pool(tx.detach(), tb, p["spatial_scale"],
                                                   *p["output_size"])
        g = rng.normal(size=tuple(y.shape)).astype(dtype)
        y.backward(torch.from_numpy(g))
        out.update({f"{i}_input": x, f"{i}_boxes": boxes, f"{i}_grad": g,
                    f"{i}_out": y.detach().numpy(), f"{i}_argmax": argmax.numpy(),
                    f"{i}_grad_input": tx.grad.numpy(), f"{i}_params": json.dumps(p)})
    return out


def main() -> None:
    assert torchvision.__version__.startswith("0.29.1"), torchvision.__version__
    np.savez_compressed(HERE / "roi_align_golden.npz", **align_cases())
    np.savez_compressed(HERE / "roi_pool_golden.npz", **pool_cases())


if __name__ == "__main__":
    main()
