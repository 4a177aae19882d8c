"""Classification metrics as functions on arrays of any backend (re-exported by
:mod:`nnx.metrics`; the regression ones are in :mod:`nnx.regression_metrics`).

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
    "precision_score",
    "recall_score",
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
