"""Accuracy: per-sample functions, their streaming classes and :func:`accuracy_score`.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> m = BinaryAccuracy()
>>> m.update_state(b.asarray([[1.0], [0.0]]), b.asarray([[0.9], [0.7]]))
>>> float(m.result())
0.5
"""

from __future__ import annotations

from nnx.backends.base import Array, array_namespace
from nnx.metrics.base import MeanMetricWrapper, Metric

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "accuracy_score",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
]


def binary_accuracy(y_true: Array, y_pred: Array, threshold: float = 0.5) -> Array:
    """Per-sample share of outputs where ``[p > threshold] == y``.

    Args:
        y_true: 0/1 targets, same shape as ``y_pred``.
        y_pred: probabilities.
        threshold: decision threshold.

    Returns:
        Shape ``(n,)``, the dtype of ``y_pred``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> binary_accuracy(b.asarray([[1.0, 0.0]]), b.asarray([[0.9, 0.8]])).tolist()
    [0.5]
    """
    xp = array_namespace(y_pred)
    hits = xp.astype((y_pred > threshold) == (y_true > 0.5), y_pred.dtype)
    return xp.mean(xp.reshape(hits, (hits.shape[0], -1)), axis=1)


def categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """Per-sample ``argmax(p) == argmax(y)`` for one-hot targets, shape ``(n,)``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> y, p = b.asarray([[0, 1], [1, 0]]), b.asarray([[0.2, 0.8], [0.3, 0.7]])
    >>> categorical_accuracy(y, p).tolist()
    [1.0, 0.0]
    """
    xp = array_namespace(y_pred)
    return xp.astype(xp.argmax(y_pred, axis=-1) == xp.argmax(y_true, axis=-1), y_pred.dtype)


def sparse_categorical_accuracy(y_true: Array, y_pred: Array) -> Array:
    """Per-sample ``argmax(p) == y`` for integer labels of shape ``(n,)`` or ``(n, 1)``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> y, p = b.asarray([1, 1]), b.asarray([[0.2, 0.8], [0.3, 0.1]])
    >>> sparse_categorical_accuracy(y, p).tolist()
    [1.0, 0.0]
    """
    xp = array_namespace(y_pred)
    labels = xp.reshape(y_true, (-1,))
    predicted = xp.astype(xp.argmax(y_pred, axis=-1), labels.dtype)
    return xp.astype(predicted == labels, y_pred.dtype)


def accuracy_score(y_true: Array, y_pred: Array) -> Array:
    """Share of equal labels (scikit-learn's ``accuracy_score``), a 0-d float64 array.

    >>> from nnx.backends import get_backend
    >>> float(accuracy_score(*get_backend("numpy").asarray([[0, 1, 1, 0], [0, 1, 0, 0]])))
    0.75
    """
    xp = array_namespace(y_true, y_pred)
    return xp.mean(xp.astype(xp.reshape(y_true, (-1,)) == xp.reshape(y_pred, (-1,)), xp.float64))


class BinaryAccuracy(MeanMetricWrapper):
    """Share of outputs with ``[p > threshold] == y``.

    Args:
        name: the metric's name.
        threshold: decision threshold.
    """

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5) -> None:
        super().__init__(lambda y, p: binary_accuracy(y, p, threshold), name)


class CategoricalAccuracy(MeanMetricWrapper):
    """Share of samples with ``argmax(p) == argmax(y)`` (one-hot targets).

    Args:
        name: the metric's name.
    """

    def __init__(self, name: str = "categorical_accuracy") -> None:
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Share of samples with ``argmax(p) == y`` (integer labels).

    Args:
        name: the metric's name.
    """

    def __init__(self, name: str = "sparse_categorical_accuracy") -> None:
        super().__init__(sparse_categorical_accuracy, name)


def Accuracy(loss_name: str = "binary_crossentropy", name: str = "accuracy") -> Metric:  # noqa: N802
    """Keras's ``"accuracy"``: binary, categorical or sparse, chosen from the loss's name.

    Args:
        loss_name: the compiled loss's registry name.
        name: the metric's name.

    Returns:
        A :class:`SparseCategoricalAccuracy`, :class:`CategoricalAccuracy` or
        :class:`BinaryAccuracy` named ``name``.

    >>> type(Accuracy("sparse_categorical_crossentropy")).__name__
    'SparseCategoricalAccuracy'
    """
    if "sparse" in loss_name:
        return SparseCategoricalAccuracy(name)
    if "categorical" in loss_name:
        return CategoricalAccuracy(name)
    return BinaryAccuracy(name)
