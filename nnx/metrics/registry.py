"""Metric names for ``compile(metrics=[...])``: one :class:`~nnx.registry.Registry` of
factories, :func:`get` and :func:`names`.

A factory takes the compiled loss's name (``"accuracy"`` picks its variant from it) and the
spelling that was asked for (the name ``"accuracy"`` or ``"acc"`` is logged under).

>>> get("f1_macro").name, get("acc", "categorical_crossentropy").name
('f1_macro', 'acc')
>>> type(get("mean_squared_error")).__name__
'MeanSquaredError'
"""

from __future__ import annotations

from collections.abc import Callable

from nnx.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
)
from nnx.metrics.base import Metric
from nnx.metrics.classification import F1Score, Precision, Recall
from nnx.metrics.probabilistic import AUC, LogLoss, TopKCategoricalAccuracy
from nnx.metrics.regression import (
    MeanAbsoluteError,
    MeanSquaredError,
    R2Score,
    RootMeanSquaredError,
)
from nnx.registry import Registry

__all__ = ["ALIASES", "METRICS", "Factory", "get", "names"]

#: ``factory(loss_name, asked_name) -> Metric``
Factory = Callable[[str, str], Metric]

#: every metric name -> its factory
METRICS: Registry[Factory] = Registry("metric")

#: other accepted spellings -> registered name (listed by :func:`names`)
ALIASES = {
    "acc": "accuracy",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "roc_auc": "auc",
    "f1_score": "f1",
    "root_mean_squared_error": "rmse",
    "r2_score": "r2",
    "top_5_accuracy": "top_k_accuracy",
    "binary_crossentropy_metric": "log_loss",
}


def _fixed(make: Callable[[], Metric]) -> Factory:
    return lambda loss, asked: make()


def _averaged(cls: Callable[..., Metric], average: str) -> Factory:
    return lambda loss, asked: cls(average=average)


METRICS.add("accuracy", lambda loss, asked: Accuracy(loss, name=asked))
for _name, _make in {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "precision": Precision,
    "recall": Recall,
    "f1": F1Score,
    "auc": AUC,
    "log_loss": LogLoss,
    "top_k_accuracy": TopKCategoricalAccuracy,
    "rmse": RootMeanSquaredError,
    "r2": R2Score,
}.items():
    METRICS.add(_name, _fixed(_make))
for _base, _cls in (("precision", Precision), ("recall", Recall), ("f1", F1Score)):
    for _average in ("macro", "micro", "weighted"):
        METRICS.add(f"{_base}_{_average}", _averaged(_cls, _average))
for _alias, _target in ALIASES.items():
    METRICS.alias(_alias, _target)


def names() -> list[str]:
    """Every valid metric name, aliases included, sorted.

    >>> "f1_macro" in names() and "roc_auc" in names()
    True
    """
    return sorted({*METRICS.names(), *ALIASES})


def get(spec: str | Metric, loss_name: str = "") -> Metric:
    """Resolve a metric name; ``"accuracy"`` picks the variant that fits the loss.

    Args:
        spec: a name (any case; ``-`` and ``_`` are interchangeable) or a :class:`Metric`,
            returned as is.
        loss_name: the compiled loss's registry name.

    Returns:
        A fresh metric (or ``spec`` itself).

    Raises:
        ValueError: unknown name; the message lists the valid ones.

    >>> type(get("accuracy", "sparse_categorical_crossentropy")).__name__
    'SparseCategoricalAccuracy'
    """
    if isinstance(spec, Metric):
        return spec
    if spec not in METRICS:
        raise ValueError(f"Unknown metric {spec!r}. Valid metrics: {', '.join(names())}.")
    return METRICS.lookup(spec)(loss_name, spec)
