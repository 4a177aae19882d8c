"""Streaming metrics for ``compile(metrics=[...])``.

A metric accumulates on the device (``update_state``) and is read once per epoch
(``result``), so training never waits on a host synchronisation for it.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> m = BinaryAccuracy()
>>> m.update_state(b.asarray([[1.0], [0.0]]), b.asarray([[0.9], [0.7]]))
>>> float(m.result())
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.functional import losses as F

__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "ConfusionMatrix",
    "F1Score",
    "LogLoss",
    "Mean",
    "MeanAbsoluteError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "Metric",
    "Precision",
    "R2Score",
    "Recall",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "accuracy_score",
    "binary_accuracy",
    "categorical_accuracy",
    "confusion_matrix",
    "f1_score",
    "get",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "names",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
    "root_mean_squared_error",
    "sparse_categorical_accuracy",
    "top_k_accuracy",
]


def binary_accuracy(y_true: Array, y_pred: Array, threshold: float = 0.5) -> Array:
    """Per-sample share of outputs where ``[p > threshold] == y``."""
    xp = array_namespace(y_pred)
    hits = xp.astype((y_pred > threshold) == (y_true > 0.5), y_pred.dtype)
    return xp.mean(xp.reshape(hits, (hits.shape[0], -1)), axis=1)


def categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """Per-sample ``argmax(p) == argmax(y)`` for one-hot targets."""
    xp = array_namespace(y_pred)
    return xp.astype(xp.argmax(y_pred, axis=-1) == xp.argmax(y_true, axis=-1), y_pred.dtype)


def sparse_categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """Per-sample ``argmax(p) == y`` for integer labels of shape ``(n,)`` or ``(n, 1)``."""
    xp = array_namespace(y_pred)
    labels = xp.reshape(y_true, (-1,))
    predicted = xp.astype(xp.argmax(y_pred, axis=-1), labels.dtype)
    return xp.astype(predicted == labels, y_pred.dtype)


class Metric:
    """Base class: ``update_state``, ``result`` (a 0-d array), ``reset_state``."""

    #: False for metrics whose result is not one number (they cannot go in epoch logs)
    scalar: bool = True

    def __init__(self, name: str) -> None:
        self.name = name

    def update_state(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> None:
        raise NotImplementedError

    def result(self) -> Array:
        raise NotImplementedError

    def reset_state(self) -> None:
        raise NotImplementedError


class Mean(Metric):
    """Weighted mean of the values given to :meth:`update_value` (e.g. the loss)."""

    def __init__(self, name: str = "mean") -> None:
        super().__init__(name)
        self.reset_state()

    def reset_state(self) -> None:
        self.total: Any = 0.0
        self.count: Any = 0.0

    def update_value(self, value: Array, weight: Any = 1.0) -> None:
        """Add ``value`` (a 0-d array: a batch mean) with weight ``weight`` (batch size)."""
        self.total = self.total + value * weight
        self.count = self.count + weight

    def result(self) -> Array:
        return self.total / self.count if self.count else self.total


class MeanMetricWrapper(Mean):
    """Mean over samples of a per-sample function ``fn(y_true, y_pred) -> (n,)``.

    Args:
        fn: the per-sample function.
        name: the metric's name in logs and History.
    """

    def __init__(self, fn: Callable[[Array, Array], Array], name: str) -> None:
        self.fn = fn
        super().__init__(name)

    def update_state(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> None:
        values = self.fn(y_true, y_pred)
        xp = array_namespace(values)
        if sample_weight is None:
            self.total = self.total + xp.sum(values)
            self.count = self.count + values.shape[0]
        else:
            self.total = self.total + xp.sum(values * sample_weight)
            self.count = self.count + xp.sum(sample_weight)


class BinaryAccuracy(MeanMetricWrapper):
    """Share of outputs with ``[p > threshold] == y``."""

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5) -> None:
        super().__init__(lambda y, p: binary_accuracy(y, p, threshold), name)


class CategoricalAccuracy(MeanMetricWrapper):
    """Share of samples with ``argmax(p) == argmax(y)``."""

    def __init__(self, name: str = "categorical_accuracy") -> None:
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Share of samples with ``argmax(p) == y``."""

    def __init__(self, name: str = "sparse_categorical_accuracy") -> None:
        super().__init__(sparse_categorical_accuracy, name)


class MeanSquaredError(MeanMetricWrapper):
    """Mean squared error."""

    def __init__(self, name: str = "mse") -> None:
        super().__init__(F.squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean absolute error."""

    def __init__(self, name: str = "mae") -> None:
        super().__init__(F.absolute_error, name)


def Accuracy(loss_name: str = "binary_crossentropy", name: str = "accuracy") -> Metric:  # noqa: N802
    """Keras's ``"accuracy"``: binary, categorical or sparse, chosen from the loss."""
    if "sparse" in loss_name:
        return SparseCategoricalAccuracy(name)
    if "categorical" in loss_name:
        return CategoricalAccuracy(name)
    return BinaryAccuracy(name)


_FACTORIES: dict[str, Callable[[str], Metric]] = {
    "binary_accuracy": lambda loss: BinaryAccuracy(),
    "categorical_accuracy": lambda loss: CategoricalAccuracy(),
    "sparse_categorical_accuracy": lambda loss: SparseCategoricalAccuracy(),
    "mse": lambda loss: MeanSquaredError(),
    "mae": lambda loss: MeanAbsoluteError(),
}
_ALIASES = {"acc": "accuracy", "mean_squared_error": "mse", "mean_absolute_error": "mae"}


def names() -> list[str]:
    """Every valid metric name."""
    return sorted({"accuracy", *_FACTORIES, *_ALIASES})


def get(spec: str | Metric, loss_name: str = "") -> Metric:
    """Resolve a metric name; ``"accuracy"`` picks the variant that fits the loss.

    Raises:
        ValueError: unknown name; the message lists the valid ones.
    """
    if isinstance(spec, Metric):
        return spec
    key = _ALIASES.get(spec.lower(), spec.lower()) if isinstance(spec, str) else spec
    if key == "accuracy":
        return Accuracy(loss_name, name=spec)
    if key not in _FACTORIES:
        raise ValueError(f"Unknown metric {spec!r}. Valid metrics: {', '.join(names())}.")
    return _FACTORIES[key](loss_name)


# NOTE: at the bottom: the streaming classes subclass Metric and Mean, defined above.
from nnx.metric_functions import (  # noqa: E402
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)
from nnx.probability_metrics import log_loss, roc_auc_score, top_k_accuracy  # noqa: E402
from nnx.regression_metrics import (  # noqa: E402
    R2Score,
    RootMeanSquaredError,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from nnx.streaming_metrics import (  # noqa: E402
    AUC,
    ConfusionMatrix,
    F1Score,
    LogLoss,
    Precision,
    Recall,
    TopKCategoricalAccuracy,
)


def _averaged(cls: Callable[..., Metric], average: str) -> Callable[[str], Metric]:
    return lambda loss: cls(average=average)


_FACTORIES.update(
    {
        "precision": lambda loss: Precision(),
        "recall": lambda loss: Recall(),
        "f1": lambda loss: F1Score(),
        **{
            f"{base}_{avg}": _averaged(cls, avg)
            for base, cls in (("precision", Precision), ("recall", Recall), ("f1", F1Score))
            for avg in ("macro", "micro", "weighted")
        },
        "auc": lambda loss: AUC(),
        "log_loss": lambda loss: LogLoss(),
        "top_k_accuracy": lambda loss: TopKCategoricalAccuracy(),
        "rmse": lambda loss: RootMeanSquaredError(),
        "r2": lambda loss: R2Score(),
    }
)
_ALIASES.update(
    {
        "roc_auc": "auc",
        "f1_score": "f1",
        "root_mean_squared_error": "rmse",
        "r2_score": "r2",
        "top_5_accuracy": "top_k_accuracy",
        "binary_crossentropy_metric": "log_loss",
    }
)
