"""Confusion matrices: the sufficient statistics of every label-based classification score.

:func:`confusion_counts` is one matrix product of one-hot codes (no host synchronisation), so a
streaming :class:`ConfusionMatrix` summed over batches equals the matrix of the whole epoch.
Targets and outputs are read as ``fit`` hands them over (:func:`labels_of`): one sigmoid output
with 0/1 targets (thresholded), or ``k`` softmax outputs with one-hot or integer targets
(arg-max).

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> confusion_matrix(b.asarray([0, 1, 2, 2]), b.asarray([0, 2, 2, 2])).tolist()
[[1, 0, 0], [0, 0, 1], [0, 0, 2]]
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.functional.one_hot import one_hot
from nnx.metrics.base import Metric, float_dtype

__all__ = ["ConfusionMatrix", "confusion_counts", "confusion_matrix", "labels_of"]


def confusion_counts(
    y_true: Array, y_pred: Array, num_classes: int, weight: Array | None = None
) -> Array:
    """``C[i, j]`` = (weighted) count of samples of true class ``i`` predicted ``j``, float.

    Args:
        y_true, y_pred: integer labels, ``n`` of each.
        num_classes: ``k``, the matrix's size.
        weight: optional per-sample weights ``(n,)``; the result takes their float dtype.

    Returns:
        A float ``(k, k)`` array (float64 without weights).

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> confusion_counts(b.asarray([0, 1, 1]), b.asarray([0, 1, 0]), 2).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    xp = array_namespace(y_true)
    dtype = float_dtype(xp, weight) if weight is not None else xp.float64
    t = one_hot(xp.astype(y_true, xp.int64), num_classes, dtype)
    p = one_hot(xp.astype(y_pred, xp.int64), num_classes, dtype)
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
    >>> confusion_matrix(b.asarray([1, 0]), b.asarray([1, 1]), num_classes=3).tolist()
    [[0, 1, 0], [0, 1, 0], [0, 0, 0]]
    """
    xp = array_namespace(y_true, y_pred)
    k = num_classes or largest_label(y_true, y_pred) + 1
    return xp.astype(xp.round(confusion_counts(y_true, y_pred, k)), xp.int64)


def largest_label(y_true: Array, y_pred: Array) -> int:
    """The largest label in either array (one host read).

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> largest_label(b.asarray([0, 3]), b.asarray([[1], [2]]))
    3
    """
    xp = array_namespace(y_true, y_pred)
    return int(xp.max(xp.concat([xp.reshape(y_true, (-1,)), xp.reshape(y_pred, (-1,))])))


def labels_of(y_true: Array, y_pred: Array, threshold: float = 0.5) -> tuple[Array, Array, int]:
    """``(true labels, predicted labels, number of classes)`` from targets and model outputs.

    Args:
        y_true: 0/1 targets, one-hot rows or integer labels.
        y_pred: one sigmoid output per sample or ``k`` class scores.
        threshold: decision threshold of a single sigmoid output.

    Returns:
        Two int64 ``(n,)`` label arrays and ``k`` (2 for a single output).

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> t, p, k = labels_of(b.asarray([[0.0, 1.0]]), b.asarray([[0.8, 0.2]]))
    >>> t.tolist(), p.tolist(), k
    ([1], [0], 2)
    """
    xp = array_namespace(y_pred)
    k = y_pred.shape[-1] if y_pred.ndim > 1 else 1
    n = y_pred.shape[0]
    if k == 1:
        pred = xp.astype(xp.reshape(y_pred, (n,)) > threshold, xp.int64)
        true = xp.astype(xp.reshape(y_true, (n,)), y_pred.dtype) > 0.5
        return xp.astype(true, xp.int64), pred, 2
    if tuple(y_true.shape) == tuple(y_pred.shape):
        true = xp.argmax(y_true, axis=-1)
    else:
        true = xp.astype(xp.reshape(y_true, (n,)), xp.int64)
    return xp.astype(true, xp.int64), xp.astype(xp.argmax(y_pred, axis=-1), xp.int64), k


class ConfusionMatrix(Metric):
    """Accumulated (weighted) confusion matrix; ``result()`` is the float ``(k, k)`` matrix.

    Args:
        num_classes: fixed number of classes (default: from the first batch's outputs).
        threshold: decision threshold of a single sigmoid output.
        name: the metric's name.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> m = ConfusionMatrix()
    >>> m.update_state(b.asarray([0, 1, 1]), b.asarray([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]))
    >>> m.result().tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """

    scalar = False

    def __init__(
        self, num_classes: int | None = None, threshold: float = 0.5, name: str = "confusion_matrix"
    ) -> None:
        super().__init__(name)
        self.num_classes, self.threshold = num_classes, threshold
        self.reset_state()

    def reset_state(self) -> None:
        """Drop the accumulated counts."""
        self.counts: Any = None

    def update_state(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> None:
        """Add the batch's (weighted) counts."""
        true, pred, k = labels_of(y_true, y_pred, self.threshold)
        k = self.num_classes or k
        xp = array_namespace(y_pred)
        w = (
            sample_weight
            if sample_weight is not None
            else xp.ones(true.shape, dtype=y_pred.dtype, device=y_pred.device)
        )
        batch = confusion_counts(true, pred, k, xp.astype(w, y_pred.dtype))
        self.counts = batch if self.counts is None else self.counts + batch

    def result(self) -> Array:
        """The accumulated matrix; ValueError before the first batch."""
        if self.counts is None:
            raise ValueError(f"{self.name}: no data yet (call update_state first).")
        return self.counts
