"""Streaming classification metrics (re-exported by :mod:`nnx.metrics`).

Each keeps exact sufficient statistics on the device (a confusion matrix, or the
scores themselves for ROC AUC), so a value over an epoch equals the function applied to the
whole epoch's predictions, and ``update_state`` never synchronises with the host.

Targets and outputs are read as ``fit`` hands them over: one sigmoid output with 0/1 targets
(thresholded at ``threshold``), or ``k`` softmax outputs with one-hot or integer targets
(arg-max).

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> m = F1Score()
>>> m.update_state(b.asarray([[1.0], [0.0]]), b.asarray([[0.9], [0.7]]))
>>> m.update_state(b.asarray([[1.0]]), b.asarray([[0.2]]))
>>> round(float(m.result()), 4)
0.5
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace

from nnx import metric_functions as mf
from nnx import probability_metrics as pm
from nnx.backends.base import Array
from nnx.metrics import MeanMetricWrapper, Metric

__all__ = [
    "AUC",
    "ConfusionMatrix",
    "F1Score",
    "LogLoss",
    "Precision",
    "Recall",
    "TopKCategoricalAccuracy",
]


def labels_of(y_true: Array, y_pred: Array, threshold: float = 0.5) -> tuple[Array, Array, int]:
    """``(true labels, predicted labels, number of classes)`` from targets and model outputs.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> t, p, k = labels_of(b.asarray([[0.0, 1.0]]), b.asarray([[0.8, 0.2]]))
    >>> t.tolist(), p.tolist(), k
    ([1], [0], 2)
    """
    xp = array_namespace(y_true, y_pred)
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
    """Accumulated (weighted) confusion matrix; ``result()`` is the ``(k, k)`` matrix.

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
        self.counts: Any = None

    def update_state(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> None:
        true, pred, k = labels_of(y_true, y_pred, self.threshold)
        k = self.num_classes or k
        xp = array_namespace(y_pred)
        w = sample_weight if sample_weight is not None else xp.ones(true.shape, dtype=y_pred.dtype)
        batch = mf.confusion_counts(true, pred, k, xp.astype(w, y_pred.dtype))
        self.counts = batch if self.counts is None else self.counts + batch

    def result(self) -> Array:
        if self.counts is None:
            raise ValueError(f"{self.name}: no data yet (call update_state first).")
        return self.counts


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
        if average is not None and average not in mf.AVERAGES:
            raise ValueError(f"average must be one of {mf.AVERAGES}, received average={average!r}.")
        self.average = average
        base = ("precision", "recall", "f1")[self.index]
        default = base if average in (None, "binary") else f"{base}_{average}"
        super().__init__(num_classes, threshold, name or default)

    def result(self) -> Array:
        counts = super().result()
        average = self.average or ("binary" if counts.shape[0] == 2 else "macro")
        return mf.scores_from_confusion(counts, average)[self.index]


class Precision(_FromConfusion):
    """Streaming precision; ``average`` None means binary for 2 classes, else macro.

    >>> Precision(average="macro").name
    'precision_macro'
    """

    index = 0


class Recall(_FromConfusion):
    """Streaming recall; averages as :class:`Precision`.

    >>> Recall().name
    'recall'
    """

    index = 1


class F1Score(_FromConfusion):
    """Streaming F1; averages as :class:`Precision`.

    >>> F1Score(average="weighted").name
    'f1_weighted'
    """

    index = 2


class AUC(Metric):
    """Exact binary ROC AUC over an epoch: keeps the scores on the device, ranks at ``result``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> m = AUC()
    >>> m.update_state(b.asarray([[0.0], [1.0]]), b.asarray([[0.1], [0.35]]))
    >>> m.update_state(b.asarray([[0.0], [1.0]]), b.asarray([[0.4], [0.8]]))
    >>> float(m.result())
    0.75
    """

    def __init__(self, name: str = "auc") -> None:
        super().__init__(name)
        self.reset_state()

    def reset_state(self) -> None:
        self.parts: list[tuple[Array, Array, Array | None]] = []

    def update_state(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> None:
        xp = array_namespace(y_pred)
        score = y_pred[..., -1] if y_pred.ndim > 1 else y_pred
        n = y_pred.shape[0]
        truth = y_true[..., -1] if y_true.ndim > 1 and y_true.shape == y_pred.shape else y_true
        self.parts.append((xp.reshape(truth, (n,)), xp.reshape(score, (n,)), sample_weight))

    def result(self) -> Array:
        if not self.parts:
            raise ValueError(f"{self.name}: no data yet (call update_state first).")
        xp = array_namespace(self.parts[0][1])
        y = xp.concat([xp.astype(p[0], p[1].dtype) for p in self.parts])
        s = xp.concat([p[1] for p in self.parts])
        weights = None
        if any(p[2] is not None for p in self.parts):
            weights = xp.concat([xp.ones_like(p[1]) if p[2] is None else p[2] for p in self.parts])
        return xp.astype(pm.roc_auc_score(y, s, weights), s.dtype)


class LogLoss(MeanMetricWrapper):
    """Mean cross-entropy of predicted probabilities (clipped at ``1e-7``).

    >>> LogLoss().name
    'log_loss'
    """

    def __init__(self, name: str = "log_loss") -> None:
        super().__init__(lambda y, p: pm.log_loss_per_sample(y, p, 1e-7), name)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Share of samples whose true class is among the ``k`` highest outputs.

    >>> TopKCategoricalAccuracy(k=3).name
    'top_3_accuracy'
    """

    def __init__(self, k: int = 5, name: str | None = None) -> None:
        super().__init__(lambda y, p: pm.top_k_hits(y, p, k), name or f"top_{k}_accuracy")
