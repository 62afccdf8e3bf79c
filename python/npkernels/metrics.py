"""Ranking metrics and ranks (semantics of ``sklearn.metrics`` and ``scipy.stats.rankdata``).

The compiled kernels sort scores with a stable LSD radix sort on
order-preserving integer keys and need only the weight of each class per
distinct score, never a permutation of the samples.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _ranking_rules as rules
from ._threads import get_num_threads
from ._warnings import UndefinedMetricWarning

__all__ = [
    "UndefinedMetricWarning",
    "average_precision_score",
    "rankdata",
    "roc_auc_score",
    "roc_curve",
]


def _auc(score, is_pos, weight):
    return _core.binary_roc_auc(score, is_pos, weight, n_threads=get_num_threads())


def _curve(score, is_pos, weight, drop_intermediate):
    return _core.roc_curve_points(
        score, is_pos, weight, drop_intermediate, n_threads=get_num_threads()
    )


def _average_precision(score, is_pos, weight):
    return _core.average_precision(score, is_pos, weight, n_threads=get_num_threads())


_KERNELS = rules.BinaryKernels(_auc, _curve, _average_precision)


def rankdata(a: ArrayLike, method: str = "average") -> NDArray[np.float64]:
    """Assign ranks to data, dealing with ties appropriately.

    The flattened input is sorted (stably) and each value gets its 1-based
    position; a run of equal values gets, by ``method``: ``'average'`` the mean
    of the run's positions, ``'min'`` the first, ``'max'`` the last,
    ``'dense'`` the number of distinct values up to it, ``'ordinal'`` the
    positions themselves in order of appearance.

    Parameters
    ----------
    a : array_like of real numbers or bools
        Flattened (``axis=None``).
    method : {'average', 'min', 'max', 'dense', 'ordinal'}, default 'average'

    Returns
    -------
    ranks : (a.size,) ndarray of float64
        Always float64, whatever the method (as SciPy >= 1.18 for float64
        input; SciPy <= 1.17 returns integers for the methods other than
        ``'average'``, with the same values). Empty input gives an empty array.

    Raises
    ------
    ValueError
        If ``method`` is unknown or ``a`` contains NaN.
    TypeError
        If ``a`` has a complex, object or string dtype.

    Notes
    -----
    Matches ``scipy.stats.rankdata(a, method)`` (``nan_policy='raise'`` in
    spirit: NaN has no rank here). Values are compared exactly in their own
    dtype: int64 and uint64 are not rounded through float64; -0.0 equals 0.0.
    Ranks are exact (integers or halves below 2**52). Releases the GIL and uses
    ``get_num_threads()`` threads; the result is the same for any thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> nk.rankdata([0, 2, 3, 2])
    array([1. , 2.5, 4. , 2.5])
    >>> nk.rankdata([0, 2, 3, 2], method="dense")
    array([1., 2., 3., 2.])
    """
    x = rules.rank_input(a, method)
    return _core.rankdata(x, method, n_threads=get_num_threads())


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
    """Area under the ROC curve, by ranks.

    Binary: ``AUC = sum_p w_p (W_neg(< s_p) + W_neg(= s_p) / 2) / (W_pos W_neg)``,
    the probability that a random positive scores above a random negative,
    ties counting one half; unweighted this is the rank formula
    ``(R_pos - M (M + 1) / 2) / (M N)``.

    Parameters
    ----------
    y_true : (n_samples,) array_like
        Two label values ({0, 1}, {-1, 1}, bools, strings, any two): the greater
        is the positive class. More values need a 2-D ``y_score``.
    y_score : (n_samples,) or (n_samples, n_classes) array_like
        Scores of the positive class; for multiclass, per-class probabilities
        (rows summing to 1). float32 stays float32, other reals become float64.
    sample_weight : (n_samples,) array_like, optional
        Finite weights; zero-weight samples are ignored.
    max_fpr : float in (0, 1], optional
        Standardised partial AUC over ``fpr <= max_fpr`` (McClish correction).
        Binary only.
    multi_class : {'raise', 'ovr', 'ovo'}, default 'raise'
        For a 2-D ``y_score``: one-vs-rest, or one-vs-one (Hand & Till 2001,
        unweighted only).
    average : {'macro', 'weighted', None, 'micro'}, default 'macro'
        Multiclass averaging; ``None`` (per-class array) and ``'micro'`` are
        'ovr' only. Ignored for binary input.
    labels : (n_classes,) array_like, optional
        Sorted class labels naming the columns of a 2-D ``y_score``.

    Returns
    -------
    auc : float
        float64; an array of per-class AUCs for ``multi_class='ovr',
        average=None``. NaN, with an :class:`UndefinedMetricWarning`, when only
        one class is present (the text of scikit-learn >= 1.6).

    Raises
    ------
    ValueError
        Non-finite scores or weights, empty or mismatched inputs, more than two
        classes with 1-D scores, a bad ``max_fpr``/``multi_class``/``average``/
        ``labels``, multiclass scores that are not probabilities.
    TypeError
        Complex, object or string scores.

    Notes
    -----
    Matches ``sklearn.metrics.roc_auc_score`` within 1e-12 relative
    (scikit-learn integrates trapezoids, so the last bits may differ).
    Unweighted, the sum is an exact integer count; weighted sums are float64
    in sorted order. ``max_fpr`` is checked before the one-class test, and a
    2-D ``y_score`` always takes the multiclass path (scikit-learn rejects an
    (n, 2) ``y_score`` with binary labels; so does this, with a clearer message).
    Releases the GIL and uses ``get_num_threads()`` threads; the result is the
    same for any thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> nk.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
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
    """Receiver operating characteristic curve.

    For each distinct score ``t``, from the highest down: ``fpr = W_neg(>= t) /
    W_neg`` and ``tpr = W_pos(>= t) / W_pos``, after a first point ``(0, 0)``
    at threshold ``inf``.

    Parameters
    ----------
    y_true : (n_samples,) array_like
        Labels in {0, 1} or {-1, 1} unless ``pos_label`` is given.
    y_score : (n_samples,) array_like
        Scores; float32 stays float32 for sorting, other reals become float64.
    pos_label : scalar, optional
        The positive label; default 1 (under the rule above).
    sample_weight : (n_samples,) array_like, optional
        Finite weights; zero-weight samples (and thresholds only they hold) are dropped.
    drop_intermediate : bool, default True
        Drop collinear points, keeping the first, the last and every bend.

    Returns
    -------
    fpr, tpr : (n_thresholds + 1,) ndarray of float64
        NaN, with an :class:`UndefinedMetricWarning`, when a class has no weight.
    thresholds : (n_thresholds + 1,) ndarray of float64
        Decreasing; ``thresholds[0] = inf``.

    Raises
    ------
    ValueError
        Non-finite scores or weights, empty or mismatched inputs, labels
        outside {0, 1} / {-1, 1} without ``pos_label``.
    TypeError
        Complex, object or string scores.

    Notes
    -----
    Matches ``sklearn.metrics.roc_curve`` exactly: the cumulative weights are
    summed sample by sample in scikit-learn's order (decreasing score, equal
    scores in input order, as its stable descending sort in 1.9), so even
    weighted points round identically. A threshold at zero is reported as
    ``+0.0`` (scikit-learn keeps the sign of the tie's last sample; the two
    compare equal). Releases
    the GIL; uses ``get_num_threads()`` threads for the sort; the result is
    the same for any thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> fpr, tpr, thresholds = nk.roc_curve([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], pos_label=2)
    >>> fpr
    array([0. , 0. , 0.5, 0.5, 1. ])
    >>> tpr
    array([0. , 0.5, 0.5, 1. , 1. ])
    >>> thresholds
    array([ inf, 0.8 , 0.4 , 0.35, 0.1 ])
    """
    return rules.roc_curve(_KERNELS, y_true, y_score, pos_label, sample_weight, drop_intermediate)


def average_precision_score(
    y_true: ArrayLike,
    y_score: ArrayLike,
    pos_label: object = 1,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Average precision: the step-wise area under the precision-recall curve.

    ``AP = sum_k (R_k - R_{k-1}) P_k`` over distinct scores from the highest,
    with ``R_k`` the recall and ``P_k`` the precision at threshold ``k`` (not
    interpolated).

    Parameters
    ----------
    y_true : (n_samples,) array_like
        Binary labels.
    y_score : (n_samples,) array_like
        Scores; float32 stays float32 for sorting, other reals become float64.
    pos_label : scalar, default 1
        The positive label (not "the greater label", as in scikit-learn).
    sample_weight : (n_samples,) array_like, optional
        Finite weights; zero-weight samples are ignored.

    Returns
    -------
    ap : float
        0.0, with an :class:`UndefinedMetricWarning`, when no sample is positive.

    Raises
    ------
    ValueError
        Non-finite scores or weights, empty or mismatched inputs, more than
        two classes, a ``pos_label`` that is not one of two present labels.
    TypeError
        Complex, object or string scores.

    Notes
    -----
    Matches ``sklearn.metrics.average_precision_score`` for binary ``y_true``
    within 1e-12 relative (it sums with NumPy's pairwise sum, this serially);
    multiclass/multilabel input is not supported. Releases the GIL and uses
    ``get_num_threads()`` threads; the result is the same for any thread count.

    Examples
    --------
    >>> import npkernels as nk
    >>> round(nk.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 6)
    0.833333
    """
    return rules.average_precision_score(_KERNELS, y_true, y_score, pos_label, sample_weight)
