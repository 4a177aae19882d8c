"""Metrics: functions on arrays of any backend and streaming metrics for ``compile(metrics=...)``.

One module per family: :mod:`~nnx.metrics.base` (the :class:`Metric` protocol and
:func:`direction`), :mod:`~nnx.metrics.accuracy`, :mod:`~nnx.metrics.confusion`,
:mod:`~nnx.metrics.classification` (precision, recall, F1), :mod:`~nnx.metrics.probabilistic`
(ROC AUC, log loss, top-k), :mod:`~nnx.metrics.regression` and :mod:`~nnx.metrics.registry`
(names for ``compile``).

A streaming metric accumulates on the device (``update_state``) and is read once per epoch
(``result``), so training never waits on a host synchronisation for it.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> m = get("f1")
>>> m.update_state(b.asarray([[1.0], [0.0]]), b.asarray([[0.9], [0.7]]))
>>> float(m.result()), float(f1_score(b.asarray([1, 0]), b.asarray([1, 1])))
(0.6666666666666666, 0.6666666666666666)
"""

from nnx.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    accuracy_score,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)
from nnx.metrics.base import Mean, MeanMetricWrapper, Metric, direction
from nnx.metrics.classification import (
    F1Score,
    Precision,
    Recall,
    f1_score,
    precision_score,
    recall_score,
)
from nnx.metrics.confusion import ConfusionMatrix, confusion_matrix
from nnx.metrics.probabilistic import (
    AUC,
    LogLoss,
    TopKCategoricalAccuracy,
    log_loss,
    roc_auc_score,
    top_k_accuracy,
)
from nnx.metrics.registry import get, names
from nnx.metrics.regression import (
    MeanAbsoluteError,
    MeanSquaredError,
    R2Score,
    RootMeanSquaredError,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)

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
    "direction",
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
