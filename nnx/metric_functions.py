"""Metrics as functions on arrays of any backend (re-exported by :mod:`nnx.metrics`).

Classification functions take integer labels (or, where said, scores); every function returns
a 0-d array (or a matrix) of the inputs' backend: ``float(...)`` reads it on the host.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> float(f1_score(b.asarray([0, 1, 1, 1]), b.asarray([0, 1, 0, 1])))
0.8
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace

from nnx.backends.base import Array

__all__ = [
    "accuracy_score",
    "confusion_matrix",
    "f1_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
    "root_mean_squared_error",
    "top_k_accuracy",
]

AVERAGES = ("binary", "macro", "micro", "weighted")


def _float(xp: Any, a: Array) -> Any:
    return a.dtype if xp.isdtype(a.dtype, "real floating") else xp.float64


def _one_hot(xp: Any, labels: Array, k: int, dtype: Any) -> Array:
    classes = xp.arange(k, dtype=labels.dtype, device=labels.device)
    return xp.astype(xp.reshape(labels, (-1, 1)) == classes, dtype)


def confusion_counts(
    y_true: Array, y_pred: Array, num_classes: int, weight: Array | None = None
) -> Array:
    """``C[i, j]`` = (weighted) count of samples of true class ``i`` predicted ``j``, float.

    One matrix product of one-hot codes, no host synchronisation.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> confusion_counts(b.asarray([0, 1, 1]), b.asarray([0, 1, 0]), 2).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    xp = array_namespace(y_true, y_pred)
    dtype = _float(xp, weight) if weight is not None else xp.float64
    t = _one_hot(xp, xp.astype(xp.reshape(y_true, (-1,)), xp.int64), num_classes, dtype)
    p = _one_hot(xp, xp.astype(xp.reshape(y_pred, (-1,)), xp.int64), num_classes, dtype)
    if weight is not None:
        t = t * xp.reshape(weight, (-1, 1))
    return xp.matrix_transpose(t) @ p


def confusion_matrix(y_true: Array, y_pred: Array, num_classes: int | None = None) -> Array:
    """Integer confusion matrix: rows are true classes, columns predicted (as scikit-learn).

    Args:
        y_true, y_pred: integer labels, shape ``(n,)``.
        num_classes: the number of classes (default: ``max(label) + 1``, one host read).

    Returns:
        An int64 ``(num_classes, num_classes)`` array.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> confusion_matrix(b.asarray([0, 1, 2, 2]), b.asarray([0, 2, 2, 2])).tolist()
    [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    """
    xp = array_namespace(y_true, y_pred)
    k = (
        num_classes
        or int(xp.max(xp.concat([xp.reshape(y_true, (-1,)), xp.reshape(y_pred, (-1,))]))) + 1
    )
    return xp.astype(xp.round(confusion_counts(y_true, y_pred, k)), xp.int64)


def scores_from_confusion(
    cm: Array, average: str = "macro", pos_label: int = 1
) -> tuple[Array, Array, Array]:
    """``(precision, recall, f1)`` from a float confusion matrix, averaged as scikit-learn.

    Classes with no predicted (or true) samples count as 0, as scikit-learn's
    ``zero_division=0``. Classes absent from both truth and prediction are left out of macro.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> [float(v) for v in scores_from_confusion(b.asarray([[5.0, 1.0], [2.0, 2.0]]), "binary")]
    [0.6666666666666666, 0.5, 0.5714285714285714]
    """
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, received average={average!r}.")
    xp = array_namespace(cm)
    tp = xp.linalg.diagonal(cm)
    predicted, support = xp.sum(cm, axis=0), xp.sum(cm, axis=1)

    def ratio(a: Array, b: Array) -> Array:
        return xp.where(b > 0, a / xp.where(b > 0, b, 1.0), 0.0)

    if average == "micro":
        total = xp.sum(tp)
        p = r = ratio(total, xp.sum(predicted))
        return p, r, ratio(2 * p * r, p + r)
    precision, recall = ratio(tp, predicted), ratio(tp, support)
    f1 = ratio(2 * tp, predicted + support)
    if average == "binary":
        return precision[pos_label], recall[pos_label], f1[pos_label]
    if average == "weighted":
        w = ratio(support, xp.sum(support))
        return xp.sum(precision * w), xp.sum(recall * w), xp.sum(f1 * w)
    present = xp.astype((predicted + support) > 0, cm.dtype)
    n = xp.sum(present)
    return (xp.sum(precision * present) / n, xp.sum(recall * present) / n, xp.sum(f1 * present) / n)


def _prf(y_true: Array, y_pred: Array, average: str, num_classes: int | None) -> tuple[Array, ...]:
    xp = array_namespace(y_true, y_pred)
    k = num_classes or max(
        2, int(xp.max(xp.concat([xp.reshape(y_true, (-1,)), xp.reshape(y_pred, (-1,))]))) + 1
    )
    return scores_from_confusion(confusion_counts(y_true, y_pred, k), average)


def precision_score(
    y_true: Array, y_pred: Array, average: str = "binary", num_classes: int | None = None
) -> Array:
    """Precision ``tp / (tp + fp)``; ``average`` is binary (class 1), macro, micro or weighted.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(precision_score(b.asarray([0, 1, 1]), b.asarray([1, 1, 1])))
    0.6666666666666666
    """
    return _prf(y_true, y_pred, average, num_classes)[0]


def recall_score(
    y_true: Array, y_pred: Array, average: str = "binary", num_classes: int | None = None
) -> Array:
    """Recall ``tp / (tp + fn)``; averages as :func:`precision_score`.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(recall_score(b.asarray([0, 1, 1]), b.asarray([0, 0, 1])))
    0.5
    """
    return _prf(y_true, y_pred, average, num_classes)[1]


def f1_score(
    y_true: Array, y_pred: Array, average: str = "binary", num_classes: int | None = None
) -> Array:
    """F1, the harmonic mean of precision and recall; averages as :func:`precision_score`.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(f1_score(b.asarray([0, 1, 2, 2]), b.asarray([0, 2, 2, 2]), average="micro"))
    0.75
    """
    return _prf(y_true, y_pred, average, num_classes)[2]


def accuracy_score(y_true: Array, y_pred: Array) -> Array:
    """Share of equal labels.

    >>> from nnx.backends import get_backend
    >>> float(accuracy_score(*get_backend("numpy").asarray([[0, 1, 1, 0], [0, 1, 0, 0]])))
    0.75
    """
    xp = array_namespace(y_true, y_pred)
    return xp.mean(xp.astype(xp.reshape(y_true, (-1,)) == xp.reshape(y_pred, (-1,)), xp.float64))


def roc_auc_score(y_true: Array, y_score: Array, sample_weight: Array | None = None) -> Array:
    """Binary ROC AUC, exact: the (weighted) Mann-Whitney statistic, ties counted as 1/2.

    Args:
        y_true: 0/1 labels, ``(n,)`` or ``(n, 1)``.
        y_score: scores or probabilities of class 1, same length.
        sample_weight: optional weights ``(n,)``.

    Returns:
        A 0-d float array (NaN if one class is absent).

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(roc_auc_score(b.asarray([0, 0, 1, 1]), b.asarray([0.1, 0.4, 0.35, 0.8])))
    0.75
    """
    xp = array_namespace(y_true, y_score)
    s = xp.reshape(y_score, (-1,))
    dtype = _float(xp, s) if s.dtype != xp.float32 else xp.float64
    s = xp.astype(s, dtype)
    y = xp.astype(xp.astype(xp.reshape(y_true, (-1,)), dtype) > 0.5, dtype)
    w = (
        xp.ones_like(s)
        if sample_weight is None
        else xp.astype(xp.reshape(sample_weight, (-1,)), dtype)
    )
    order = xp.argsort(s)
    ss = xp.take(s, order)
    neg = xp.cumulative_sum(xp.take(w * (1.0 - y), order), include_initial=True)
    lo = xp.take(neg, xp.searchsorted(ss, s, side="left"))
    hi = xp.take(neg, xp.searchsorted(ss, s, side="right"))
    wp = w * y
    n_pos, n_neg = xp.sum(wp), neg[-1]
    return xp.sum(wp * (lo + 0.5 * (hi - lo))) / (n_pos * n_neg)


def log_loss(y_true: Array, y_prob: Array, eps: float | None = None) -> Array:
    """Mean cross-entropy of probabilities: binary ``(n,)``/``(n, 1)`` or ``(n, k)`` with
    integer labels ``(n,)`` or one-hot ``(n, k)``; probabilities clipped to ``[eps, 1 - eps]``
    (default: the machine epsilon of their dtype, as scikit-learn).

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> round(float(log_loss(b.asarray([1, 0]), b.asarray([0.9, 0.2]))), 6)
    0.164252
    """
    return array_namespace(y_prob).mean(log_loss_per_sample(y_true, y_prob, eps))


def log_loss_per_sample(y_true: Array, y_prob: Array, eps: float | None = None) -> Array:
    """Per-sample cross-entropy behind :func:`log_loss`, shape ``(n,)``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> log_loss_per_sample(b.asarray([0, 1]), b.asarray([[0.5, 0.5], [0.0, 1.0]])).shape
    (2,)
    """
    xp = array_namespace(y_true, y_prob)
    if not xp.isdtype(y_prob.dtype, "real floating"):
        y_prob = xp.astype(y_prob, xp.float64)
    eps = float(xp.finfo(y_prob.dtype).eps) if eps is None else eps
    p = xp.clip(y_prob, eps, 1.0 - eps)
    n = p.shape[0]
    if p.ndim == 1 or p.shape[-1] == 1:
        p = xp.reshape(p, (n,))
        y = xp.astype(xp.reshape(y_true, (n,)), p.dtype)
        return -(y * xp.log(p) + (1.0 - y) * xp.log(1.0 - p))
    k = p.shape[-1]
    y = y_true if y_true.ndim == 2 and y_true.shape[-1] == k else None
    if y is None:
        y = _one_hot(xp, xp.astype(xp.reshape(y_true, (-1,)), xp.int64), k, p.dtype)
    p = p / xp.sum(p, axis=-1, keepdims=True)
    return -xp.sum(xp.astype(y, p.dtype) * xp.log(p), axis=-1)


def top_k_hits(y_true: Array, y_score: Array, k: int = 5) -> Array:
    """Per-sample 1.0 where the true class is among the ``k`` highest scores (ties favour it).

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> top_k_hits(b.asarray([2, 0]), b.asarray([[0.5, 0.3, 0.2], [0.1, 0.5, 0.4]]), 2).tolist()
    [0.0, 0.0]
    """
    xp = array_namespace(y_true, y_score)
    n, classes = y_score.shape[0], y_score.shape[-1]
    if y_true.ndim == 2 and y_true.shape[-1] == classes and classes > 1:
        labels = xp.argmax(y_true, axis=-1)
    else:
        labels = xp.astype(xp.reshape(y_true, (n,)), xp.int64)
    mine = xp.sum(_one_hot(xp, labels, classes, y_score.dtype) * y_score, axis=-1, keepdims=True)
    above = xp.sum(xp.astype(y_score > mine, xp.int64), axis=-1)
    return xp.astype(above < k, y_score.dtype)


def top_k_accuracy(y_true: Array, y_score: Array, k: int = 5) -> Array:
    """Share of samples whose true class is among the ``k`` highest scores.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(top_k_accuracy(b.asarray([2, 0]), b.asarray([[0.5, 0.3, 0.2], [0.4, 0.5, 0.1]]), 2))
    0.5
    """
    return array_namespace(y_score).mean(top_k_hits(y_true, y_score, k))


def _pair(y_true: Array, y_pred: Array) -> tuple[Any, Array]:
    xp = array_namespace(y_true, y_pred)
    p = xp.reshape(y_pred, (y_pred.shape[0], -1))
    return xp, p - xp.astype(xp.reshape(y_true, p.shape), p.dtype)


def mean_squared_error(y_true: Array, y_pred: Array) -> Array:
    """Mean of ``(y_pred - y_true)^2`` over all entries.

    >>> from nnx.backends import get_backend
    >>> float(mean_squared_error(*get_backend("numpy").asarray([[1.0, 2.0], [2.0, 2.0]])))
    0.5
    """
    xp, d = _pair(y_true, y_pred)
    return xp.mean(d * d)


def root_mean_squared_error(y_true: Array, y_pred: Array) -> Array:
    """Root of the mean squared error of each output, averaged over outputs (scikit-learn's
    ``uniform_average``; for one output, the root of :func:`mean_squared_error`).

    >>> from nnx.backends import get_backend
    >>> float(root_mean_squared_error(*get_backend("numpy").asarray([[0.0, 0.0], [3.0, 4.0]])))
    3.5355339059327378
    """
    xp, d = _pair(y_true, y_pred)
    return xp.mean(xp.sqrt(xp.mean(d * d, axis=0)))


def mean_absolute_error(y_true: Array, y_pred: Array) -> Array:
    """Mean of ``|y_pred - y_true|``.

    >>> from nnx.backends import get_backend
    >>> float(mean_absolute_error(*get_backend("numpy").asarray([[1.0, 2.0], [2.0, 4.0]])))
    1.5
    """
    xp, d = _pair(y_true, y_pred)
    return xp.mean(xp.abs(d))


def r2_score(y_true: Array, y_pred: Array) -> Array:
    """Coefficient of determination ``1 - SS_res / SS_tot``, averaged over outputs
    (scikit-learn's ``uniform_average``).

    >>> from nnx.backends import get_backend
    >>> float(r2_score(*get_backend("numpy").asarray([[1.0, 2.0, 3.0], [1.0, 2.0, 4.0]])))
    0.5
    """
    xp, d = _pair(y_true, y_pred)
    y = xp.astype(xp.reshape(y_true, d.shape), d.dtype)
    total = xp.sum((y - xp.mean(y, axis=0)) ** 2, axis=0)
    return xp.mean(1.0 - xp.sum(d * d, axis=0) / total)
