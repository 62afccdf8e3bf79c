"""The rules scikit-learn's ranking metrics apply around their computation.

Label rules per function, argument checks, the one-class and no-sample
warnings, the McClish-corrected partial AUC and the one-vs-rest / one-vs-one
averages live here once. ``npkernels.metrics`` and ``npkernels.reference.metrics``
drive their own core computations (a :class:`BinaryKernels`) through these
functions, so both accept, reject and warn on exactly the same inputs.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    as_bool,
    as_float_array,
    as_ndarray,
    as_real_array,
    check_choice,
    check_finite,
    check_same_length,
    check_shape,
)
from ._warnings import UndefinedMetricWarning

RANK_METHODS = ("average", "min", "max", "dense", "ordinal")
ONE_CLASS_MESSAGE = (
    "Only one class is present in y_true. ROC AUC score is not defined in that case."
)
Weight = NDArray[np.float64] | None


class BinaryKernels(NamedTuple):
    """The core computations on checked inputs: finite-checked by the kernel itself.

    Each takes ``(score, is_pos, weight)``: float32/float64 scores, uint8
    positive flags, float64 weights or None; zero-weight samples are ignored.
    """

    auc: Callable[..., tuple[float, float, float]]  # -> (auc, positive total, negative total)
    curve: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]  # (+drop) -> fps, tps, thr
    average_precision: Callable[..., tuple[float, float]]  # -> (ap, positive total)


# ---------------------------------------------------------------- inputs


def rank_input(a: ArrayLike, method: str) -> np.ndarray:
    """Flatten ``a`` to the dtype the rank kernel sorts exactly.

    float32/float64/int64/uint64 stay; float16 becomes float32; bool and the
    narrower integers become int64 (every value exact in the new dtype).
    """
    check_choice(method, "method", RANK_METHODS)
    arr = as_real_array(a, "a").ravel()
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "f":
        dtype = np.float64 if size == 8 else np.float32
        if size > 8:
            msg = f"a must have at most 64-bit floats, got {arr.dtype}"
            raise TypeError(msg)
    elif kind == "u" and size == 8:
        dtype = np.uint64
    else:
        dtype = np.int64
    return np.require(arr, dtype=dtype, requirements=("C", "A"))


def label_array(y_true: ArrayLike) -> np.ndarray:
    """``y_true`` as a non-empty 1-D array of numbers, bools or strings."""
    y = as_ndarray(y_true, "y_true")
    if y.dtype.kind not in "biufUSO":
        msg = f"y_true must hold numbers, bools or strings, got dtype {y.dtype}"
        raise TypeError(msg)
    check_shape(y, "y_true", (None,), "(n_samples,)")
    if y.size == 0:
        msg = "y_true must not be empty"
        raise ValueError(msg)
    if y.dtype.kind == "f":
        check_finite(y, "y_true")
    return y


def distinct_labels(y: np.ndarray) -> np.ndarray:
    """Sorted distinct values of ``y``; two passes instead of a sort when there are <= 2."""
    if y.dtype.kind in "biuf":
        lo, hi = y.min(), y.max()
        if lo == hi:
            return np.array([lo])
        if np.count_nonzero(y == hi) + np.count_nonzero(y == lo) == y.size:
            return np.array([lo, hi])
    try:
        return np.unique(y)
    except TypeError:
        msg = "y_true values must be mutually comparable"
        raise TypeError(msg) from None


def positive_flags(y: np.ndarray, positive: object) -> NDArray[np.uint8]:
    """uint8 flags ``y == positive``, C-contiguous (a view when ``y`` is bool and positive True)."""
    if y.dtype == np.bool_ and positive is True:
        flags = y
    else:
        flags = np.asarray(y == positive)
    return np.require(flags, requirements=("C", "A")).view(np.uint8)


def score_array(y_score: ArrayLike, n: int) -> np.ndarray:
    """1-D float32/float64 scores of length ``n`` (float32 stays float32)."""
    score = as_float_array(y_score, "y_score")
    check_same_length(score, "y_score", n, "y_true")
    return score


def weight_array(sample_weight: ArrayLike | None, n: int) -> Weight:
    """None, or finite float64 weights of length ``n``."""
    if sample_weight is None:
        return None
    weight = as_float_array(sample_weight, "sample_weight", dtype=np.float64)
    check_same_length(weight, "sample_weight", n, "y_true")
    check_finite(weight, "sample_weight")
    return weight


def check_some_weight(weight: Weight) -> None:
    """ValueError for all-zero weights on the binary paths, as scikit-learn's
    _check_sample_weight (its multiclass 'weighted' average returns 0 instead)."""
    if weight is not None and not weight.any():
        msg = "sample_weight must contain at least one non-zero weight"
        raise ValueError(msg)


def check_max_fpr(max_fpr: float | None) -> float | None:
    """None (full AUC), or a float in (0, 1]."""
    if max_fpr is None:
        return None
    if isinstance(max_fpr, (bool, np.bool_)) or not isinstance(max_fpr, (int, float, np.number)):
        msg = f"max_fpr must be a number in (0, 1] or None, got {type(max_fpr).__name__}"
        raise TypeError(msg)
    if not 0 < max_fpr <= 1:
        msg = f"max_fpr must be in (0, 1], got {max_fpr!r}"
        raise ValueError(msg)
    return float(max_fpr)


# ------------------------------------------------------------- ROC curve


def _normalised(cumulative: np.ndarray, missing: str, rate: str) -> np.ndarray:
    """``cumulative / cumulative[-1]`` in place, or NaN plus a warning when the total is <= 0."""
    if cumulative[-1] <= 0:
        message = f"No {missing} samples in y_true, {rate} value should be meaningless"
        warnings.warn(message, UndefinedMetricWarning, stacklevel=5)
        return np.full(cumulative.shape, np.nan)
    cumulative /= cumulative[-1]
    return cumulative


def normalised_curve(fps: np.ndarray, tps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) from cumulative weights; NaN plus a warning for a class without weight."""
    return (
        _normalised(fps, "negative", "false positive"),
        _normalised(tps, "positive", "true positive"),
    )


def check_label(label: object, name: str = "pos_label") -> None:
    """TypeError unless ``label`` is a single value (not a list or an array of them)."""
    if isinstance(label, (list, tuple, set, dict, np.ndarray)) and np.ndim(label) != 0:
        msg = f"{name} must be a single label, got {type(label).__name__} {label!r}"
        raise TypeError(msg)


def roc_positive_label(y: np.ndarray, pos_label: object) -> object:
    """roc_curve's rule: without pos_label, y_true must be in {0, 1} or {-1, 1} (1 positive)."""
    if pos_label is not None:
        check_label(pos_label)
        return pos_label
    classes = distinct_labels(y)
    allowed = ([0, 1], [-1, 1], [0], [-1], [1])
    if classes.dtype.kind in "OUS" or not any(np.array_equal(classes, a) for a in allowed):
        shown = ", ".join(repr(c) for c in classes.tolist())
        msg = (
            f"y_true takes value in {{{shown}}} and pos_label is not specified: either make "
            "y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly."
        )
        raise ValueError(msg)
    return 1


def roc_curve(
    kernels: BinaryKernels,
    y_true: ArrayLike,
    y_score: ArrayLike,
    pos_label: object,
    sample_weight: ArrayLike | None,
    drop_intermediate: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """roc_curve driven by ``kernels.curve``."""
    y = label_array(y_true)
    score = score_array(y_score, y.size)
    weight = weight_array(sample_weight, y.size)
    check_some_weight(weight)
    drop = as_bool(drop_intermediate, "drop_intermediate")
    is_pos = positive_flags(y, roc_positive_label(y, pos_label))
    fps, tps, thresholds = kernels.curve(score, is_pos, weight, drop)
    fpr, tpr = normalised_curve(fps, tps)
    return fpr, tpr, thresholds


# ------------------------------------------------------------ ROC AUC


def partial_auc_mcclish(fpr: np.ndarray, tpr: np.ndarray, max_fpr: float) -> float:
    """Area under the curve up to ``max_fpr``, standardised by McClish (1989) to [0.5, 1]."""
    stop = int(np.searchsorted(fpr, max_fpr, "right"))
    # The curve is cut at max_fpr on the segment that crosses it.
    t = (max_fpr - fpr[stop - 1]) / (fpr[stop] - fpr[stop - 1])
    x = np.append(fpr[:stop], max_fpr)
    y = np.append(tpr[:stop], tpr[stop - 1] + t * (tpr[stop] - tpr[stop - 1]))
    area = float(np.sum(np.diff(x) * (y[1:] + y[:-1])) / 2)
    min_area, max_area = 0.5 * max_fpr**2, max_fpr
    return 0.5 * (1 + (area - min_area) / (max_area - min_area))


def binary_auc(
    kernels: BinaryKernels,
    score: np.ndarray,
    is_pos: np.ndarray,
    weight: Weight,
    max_fpr: float | None = None,
) -> float:
    """Binary AUC of checked inputs; NaN plus a warning when a class is absent."""
    n_pos = int(np.count_nonzero(is_pos))
    if n_pos in (0, is_pos.size):
        warnings.warn(ONE_CLASS_MESSAGE, UndefinedMetricWarning, stacklevel=4)
        return float("nan")
    if max_fpr is None or max_fpr == 1:
        auc, pos_total, neg_total = kernels.auc(score, is_pos, weight)
        if pos_total > 0 and neg_total > 0:
            return float(auc)
    fps, tps, _ = kernels.curve(score, is_pos, weight, True)
    fpr, tpr = normalised_curve(fps, tps)
    if max_fpr is None or max_fpr == 1 or np.isnan(fpr[-1]) or np.isnan(tpr[-1]):
        return float("nan")  # a class holds no weight: normalised_curve has warned
    return partial_auc_mcclish(fpr, tpr, max_fpr)


def roc_auc_score(
    kernels: BinaryKernels,
    y_true: ArrayLike,
    y_score: ArrayLike,
    sample_weight: ArrayLike | None,
    max_fpr: float | None,
    multi_class: str,
    average: str | None,
    labels: ArrayLike | None,
) -> float | np.ndarray:
    """roc_auc_score driven by ``kernels``: binary, or one-vs-rest / one-vs-one for 2-D scores."""
    y = label_array(y_true)
    check_choice(multi_class, "multi_class", ("raise", "ovr", "ovo"))
    max_fpr = check_max_fpr(max_fpr)
    weight = weight_array(sample_weight, y.size)
    y_score = as_ndarray(y_score, "y_score")
    if np.shape(y_score)[1:] == (1,):
        y_score = np.ravel(y_score)  # a column of scores, as scikit-learn accepts
    if np.ndim(y_score) == 2:
        return _multiclass_auc(kernels, y, y_score, weight, max_fpr, multi_class, average, labels)
    classes = distinct_labels(y)
    if classes.size > 2:
        msg = (
            f"y_true has {classes.size} classes: a multiclass ROC AUC needs y_score of shape "
            "(n_samples, n_classes) and multi_class='ovr' or 'ovo'"
        )
        raise ValueError(msg)
    score = score_array(y_score, y.size)
    check_some_weight(weight)
    return binary_auc(kernels, score, positive_flags(y, classes[-1]), weight, max_fpr)


def _class_columns(y: np.ndarray, score: np.ndarray, labels: ArrayLike | None) -> np.ndarray:
    """The classes that the columns of ``score`` stand for, checked as scikit-learn does."""
    n_columns = score.shape[1]
    if labels is None:
        classes = distinct_labels(y)
        if classes.size != n_columns:
            msg = (
                f"y_true has {classes.size} classes but y_score has {n_columns} columns; "
                "pass labels to name the columns"
            )
            raise ValueError(msg)
        return classes
    classes = as_ndarray(labels, "labels")
    check_shape(classes, "labels", (None,), "(n_classes,)")
    unique = np.unique(classes)
    if unique.size != classes.size:
        msg = "labels must be unique"
        raise ValueError(msg)
    if not np.array_equal(unique, classes):
        msg = "labels must be ordered"
        raise ValueError(msg)
    if classes.size != n_columns:
        msg = f"labels has {classes.size} entries but y_score has {n_columns} columns"
        raise ValueError(msg)
    if np.setdiff1d(y, classes).size:
        msg = "y_true contains labels not in labels"
        raise ValueError(msg)
    return classes


def _multiclass_auc(
    kernels: BinaryKernels,
    y: np.ndarray,
    y_score: ArrayLike,
    weight: Weight,
    max_fpr: float | None,
    multi_class: str,
    average: str | None,
    labels: ArrayLike | None,
) -> float | np.ndarray:
    if multi_class == "raise":
        msg = "multi_class must be 'ovr' or 'ovo' when y_score is 2-D (multiclass), got 'raise'"
        raise ValueError(msg)
    if max_fpr is not None and max_fpr != 1:
        msg = f"max_fpr must be None for a multiclass ROC AUC, got {max_fpr!r}"
        raise ValueError(msg)
    score = as_float_array(y_score, "y_score")
    if score.shape[0] != y.size:
        msg = f"y_score must have shape ({y.size}, n_classes) like y_true, got {score.shape}"
        raise ValueError(msg)
    if score.shape[1] < 3 and labels is None and distinct_labels(y).size <= 2:
        msg = (
            "y_score must be 1-D (the positive class's score) for binary y_true, "
            f"got {score.shape}"
        )
        raise ValueError(msg)
    options: tuple[str | None, ...] = ("macro", "weighted")
    if multi_class == "ovr":
        options = (*options, None, "micro")
    check_choice(average, "average", options)
    check_finite(score, "y_score")
    if not np.allclose(1, score.sum(axis=1)):
        msg = (
            "y_score: Target scores need to be probabilities for multiclass roc_auc, i.e. they "
            "should sum up to 1.0 over classes"
        )
        raise ValueError(msg)
    classes = _class_columns(y, score, labels)
    codes = np.searchsorted(classes, y)
    if multi_class == "ovo":
        if weight is not None:
            msg = "sample_weight must be None for multi_class='ovo' (Hand & Till has no weights)"
            raise ValueError(msg)
        return _one_vs_one(kernels, codes, score, average)
    return _one_vs_rest(kernels, codes, score, weight, average)


def _one_vs_rest(
    kernels: BinaryKernels,
    codes: np.ndarray,
    score: np.ndarray,
    weight: Weight,
    average: str | None,
) -> float | np.ndarray:
    k = score.shape[1]
    if average == "micro":
        onehot = (codes[:, None] == np.arange(k)).ravel()
        repeated = None if weight is None else np.repeat(weight, k)
        return binary_auc(kernels, score.ravel(), positive_flags(onehot, True), repeated)
    prevalence = None
    if average == "weighted":
        if weight is None:
            prevalence = np.bincount(codes, minlength=k).astype(np.float64)
        else:
            prevalence = np.bincount(codes, weights=weight, minlength=k)
        if np.isclose(prevalence.sum(), 0.0):
            return 0.0
    per_class = np.array(
        [
            binary_auc(kernels, np.ascontiguousarray(score[:, c]), positive_flags(codes, c), weight)
            for c in range(k)
        ]
    )
    if average is None:
        return per_class
    if prevalence is None:
        return float(np.mean(per_class))
    per_class[prevalence == 0] = 0  # a zero-weight class's NaN must not poison the average
    return float(np.average(per_class, weights=prevalence))


def _one_vs_one(
    kernels: BinaryKernels, codes: np.ndarray, score: np.ndarray, average: str | None
) -> float:
    present = np.unique(codes)
    pair_scores, prevalence = [], []
    for a, b in itertools.combinations(present, 2):
        in_pair = (codes == a) | (codes == b)
        pair_codes = codes[in_pair]
        auc_a = binary_auc(
            kernels, np.ascontiguousarray(score[in_pair, a]), positive_flags(pair_codes, a), None
        )
        auc_b = binary_auc(
            kernels, np.ascontiguousarray(score[in_pair, b]), positive_flags(pair_codes, b), None
        )
        pair_scores.append((auc_a + auc_b) / 2)
        prevalence.append(np.mean(in_pair))
    return float(np.average(pair_scores, weights=prevalence if average == "weighted" else None))


# --------------------------------------------------- average precision


def average_precision_score(
    kernels: BinaryKernels,
    y_true: ArrayLike,
    y_score: ArrayLike,
    pos_label: object,
    sample_weight: ArrayLike | None,
) -> float:
    """average_precision_score (binary y_true) driven by ``kernels.average_precision``."""
    y = label_array(y_true)
    score = score_array(y_score, y.size)
    weight = weight_array(sample_weight, y.size)
    check_some_weight(weight)
    check_label(pos_label)
    present = distinct_labels(y).tolist()
    if len(present) > 2:
        msg = f"y_true must be binary for average_precision_score, got {len(present)} classes"
        raise ValueError(msg)
    if len(present) == 2 and pos_label not in present:
        msg = f"pos_label={pos_label} is not a valid label. It should be one of {present}"
        raise ValueError(msg)
    ap, pos_total = kernels.average_precision(score, positive_flags(y, pos_label), weight)
    if pos_total == 0:
        warnings.warn(
            "No positive class found in y_true, recall is set to one for all thresholds.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    return float(ap)
