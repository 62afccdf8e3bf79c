"""Readable NumPy versions of ``npkernels.metrics``.

Same signatures and argument rules (``npkernels._ranking_rules``); the core
computations are written for reading: a stable argsort and runs for ranks,
the rank formula through ``searchsorted`` for the AUC, and scikit-learn's
cumulative-sum construction for the curve.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _ranking_rules as rules
from .._validation import check_finite

__all__ = ["average_precision_score", "rankdata", "roc_auc_score", "roc_curve"]


def rankdata(a: ArrayLike, method: str = "average") -> NDArray[np.float64]:
    """Reference for :func:`npkernels.rankdata`: stable argsort, then runs of equal values."""
    x = rules.rank_input(a, method)
    nan = np.flatnonzero(x != x)
    if nan.size:
        msg = f"a must not contain NaN, got NaN at index {nan[0]}"
        raise ValueError(msg)
    if x.size == 0:
        return np.zeros(0)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size, dtype=np.float64)
    if method == "ordinal":
        ranks[order] = np.arange(1, x.size + 1)
        return ranks
    s = x[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], x.size]  # one past each run
    run_rank = {
        "average": (starts + ends + 1) / 2,
        "min": starts + 1.0,
        "max": ends * 1.0,
        "dense": np.arange(1.0, starts.size + 1),
    }[method]
    ranks[order] = np.repeat(run_rank, ends - starts)
    return ranks


def _ordered_classes(score, is_pos, weight):
    """Scores and weights of each class, zero weights dropped; checks finiteness."""
    check_finite(score, "y_score")
    w = np.ones(score.size) if weight is None else weight
    keep = w != 0
    pos = keep & (is_pos != 0)
    neg = keep & (is_pos == 0)
    return score[pos], w[pos], score[neg], w[neg]


def _auc(score, is_pos, weight):
    """Rank formula: each positive beats the negatives below it, ties counting half."""
    pos_s, pos_w, neg_s, neg_w = _ordered_classes(score, is_pos, weight)
    order = np.argsort(neg_s, kind="stable")
    neg_sorted = neg_s[order]
    neg_cum = np.r_[0.0, np.cumsum(neg_w[order])]
    below = neg_cum[np.searchsorted(neg_sorted, pos_s, "left")]
    at_or_below = neg_cum[np.searchsorted(neg_sorted, pos_s, "right")]
    pos_total, neg_total = pos_w.sum(), neg_cum[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.sum(pos_w * (below + at_or_below) / 2) / (pos_total * neg_total)
    return float(auc), float(pos_total), float(neg_total)


def _curve(score, is_pos, weight, drop_intermediate):
    """Cumulative class weights at each distinct threshold, highest first."""
    check_finite(score, "y_score")
    w = np.ones(score.size) if weight is None else weight
    keep = w != 0
    score, is_pos, w = score[keep], is_pos[keep] != 0, w[keep]
    desc = np.argsort(-score, kind="stable")  # decreasing; ties in input order
    score, is_pos, w = score[desc], is_pos[desc], w[desc]
    last_of_run = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    tps = np.cumsum(is_pos * w)[last_of_run]
    fps = np.cumsum(~is_pos * w)[last_of_run]
    thresholds = score[last_of_run].astype(np.float64) + 0.0  # -0.0 ties 0.0: report +0.0
    if drop_intermediate and tps.size > 2:
        bends = np.r_[True, (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0), True]
        fps, tps, thresholds = fps[bends], tps[bends], thresholds[bends]
    return np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thresholds]


def _average_precision(score, is_pos, weight):
    """Sum of recall steps times precision along the curve."""
    fps, tps, _ = _curve(score, is_pos, weight, False)
    fps, tps = fps[1:], tps[1:]
    pos_total = tps[-1] if tps.size else 0.0
    if pos_total == 0:
        return 0.0, float(pos_total)
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    recall = tps / pos_total
    ap = np.sum(np.diff(np.r_[0.0, recall]) * precision)
    return max(0.0, float(ap)), float(pos_total)


_KERNELS = rules.BinaryKernels(_auc, _curve, _average_precision)


def roc_auc_score(
    y_true: ArrayLike,
    y_score: ArrayLike,
    sample_weight: ArrayLike | None = None,
    max_fpr: float | None = None,
    *,
    multi_class: str = "raise",
    average: str | None = "macro",
    labels: ArrayLike | None = None,
) -> float | NDArray[np.float64]:
    """Reference for :func:`npkernels.roc_auc_score`."""
    return rules.roc_auc_score(
        _KERNELS, y_true, y_score, sample_weight, max_fpr, multi_class, average, labels
    )


def roc_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    pos_label: object = None,
    sample_weight: ArrayLike | None = None,
    drop_intermediate: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Reference for :func:`npkernels.roc_curve`."""
    return rules.roc_curve(_KERNELS, y_true, y_score, pos_label, sample_weight, drop_intermediate)


def average_precision_score(
    y_true: ArrayLike,
    y_score: ArrayLike,
    pos_label: object = 1,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Reference for :func:`npkernels.average_precision_score`."""
    return rules.average_precision_score(_KERNELS, y_true, y_score, pos_label, sample_weight)
