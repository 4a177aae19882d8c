"""Precision, recall and F1: functions on label arrays of any backend, and streaming classes.

Every score is read from a confusion matrix (:mod:`nnx.metrics.confusion`), so a streaming
score over an epoch equals the function applied to the whole epoch's predictions, and
``update_state`` never synchronises with the host. Functions return 0-d arrays of the inputs'
backend: ``float(...)`` reads one on the host.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> float(f1_score(b.asarray([0, 1, 1, 1]), b.asarray([0, 1, 0, 1])))
0.8
>>> m = F1Score()
>>> m.update_state(b.asarray([[1.0], [0.0]]), b.asarray([[0.9], [0.7]]))
>>> m.update_state(b.asarray([[1.0]]), b.asarray([[0.2]]))
>>> round(float(m.result()), 4)
0.5
"""

from __future__ import annotations

from nnx.backends.base import Array, array_namespace
from nnx.metrics.confusion import ConfusionMatrix, confusion_counts, largest_label
from nnx.validation import check_choice

__all__ = [
    "AVERAGES",
    "F1Score",
    "Precision",
    "Recall",
    "f1_score",
    "precision_score",
    "recall_score",
    "scores_from_confusion",
]

#: the ``average=`` modes, as scikit-learn's
AVERAGES = ("binary", "macro", "micro", "weighted")


def scores_from_confusion(
    cm: Array, average: str = "macro", pos_label: int = 1
) -> tuple[Array, Array, Array]:
    """``(precision, recall, f1)`` from a float confusion matrix, averaged as scikit-learn.

    Classes with no predicted (or true) samples count as 0, as scikit-learn's
    ``zero_division=0``. Classes absent from both truth and prediction are left out of macro.

    Args:
        cm: a float ``(k, k)`` confusion matrix (rows true, columns predicted).
        average: one of :data:`AVERAGES`; ``"binary"`` reports class ``pos_label``.
        pos_label: the positive class of ``"binary"``.

    Returns:
        Three 0-d arrays.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> [float(v) for v in scores_from_confusion(b.asarray([[5.0, 1.0], [2.0, 2.0]]), "binary")]
    [0.6666666666666666, 0.5, 0.5714285714285714]
    """
    check_choice(average, "average", AVERAGES, who="scores_from_confusion")
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
    k = num_classes or max(2, largest_label(y_true, y_pred) + 1)
    return scores_from_confusion(confusion_counts(y_true, y_pred, k), average)


def precision_score(
    y_true: Array, y_pred: Array, average: str = "binary", num_classes: int | None = None
) -> Array:
    """Precision ``tp / (tp + fp)``; ``average`` is binary (class 1), macro, micro or weighted.

    Args:
        y_true, y_pred: integer labels ``(n,)``.
        average: one of :data:`AVERAGES`.
        num_classes: the number of classes (default: from the labels, at least 2).

    Returns:
        A 0-d float array.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(precision_score(b.asarray([0, 1, 1]), b.asarray([1, 1, 1])))
    0.6666666666666666
    """
    return _prf(y_true, y_pred, average, num_classes)[0]


def recall_score(
    y_true: Array, y_pred: Array, average: str = "binary", num_classes: int | None = None
) -> Array:
    """Recall ``tp / (tp + fn)``; arguments as :func:`precision_score`.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(recall_score(b.asarray([0, 1, 1]), b.asarray([0, 0, 1])))
    0.5
    """
    return _prf(y_true, y_pred, average, num_classes)[1]


def f1_score(
    y_true: Array, y_pred: Array, average: str = "binary", num_classes: int | None = None
) -> Array:
    """F1, the harmonic mean of precision and recall; arguments as :func:`precision_score`.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(f1_score(b.asarray([0, 1, 2, 2]), b.asarray([0, 2, 2, 2]), average="micro"))
    0.75
    """
    return _prf(y_true, y_pred, average, num_classes)[2]


class _FromConfusion(ConfusionMatrix):
    scalar = True
    index = 0

    def __init__(
        self,
        average: str | None = None,
        threshold: float = 0.5,
        num_classes: int | None = None,
        name: str | None = None,
    ) -> None:
        if average is not None:
            check_choice(average, "average", AVERAGES, who=type(self).__name__)
        self.average = average
        base = ("precision", "recall", "f1")[self.index]
        default = base if average in (None, "binary") else f"{base}_{average}"
        super().__init__(num_classes, threshold, name or default)

    def result(self) -> Array:
        """The score of the accumulated confusion matrix."""
        counts = super().result()
        average = self.average or ("binary" if counts.shape[0] == 2 else "macro")
        return scores_from_confusion(counts, average)[self.index]


class Precision(_FromConfusion):
    """Streaming precision; ``average`` None means binary for 2 classes, else macro.

    Args:
        average: None or one of :data:`AVERAGES`.
        threshold: decision threshold of a single sigmoid output.
        num_classes: fixed number of classes (default: from the outputs).
        name: the metric's name (default ``precision`` or ``precision_<average>``).

    >>> Precision(average="macro").name
    'precision_macro'
    """

    index = 0


class Recall(_FromConfusion):
    """Streaming recall; arguments as :class:`Precision`.

    >>> Recall().name
    'recall'
    """

    index = 1


class F1Score(_FromConfusion):
    """Streaming F1; arguments as :class:`Precision`.

    >>> F1Score(average="weighted").name
    'f1_weighted'
    """

    index = 2
