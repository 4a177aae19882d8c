"""The streaming-metric protocol: :class:`Metric`, :class:`Mean`, :class:`MeanMetricWrapper`,
and :func:`direction`, whether a logged value is better high or low.

A metric accumulates on the device (``update_state``) and is read once per epoch
(``result``), so training never waits on a host synchronisation for it.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> m = MeanMetricWrapper(lambda y, p: abs(p - y)[:, 0], "mae")
>>> m.update_state(b.asarray([[1.0], [0.0]]), b.asarray([[0.5], [0.5]]))
>>> float(m.result())
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from nnx.backends.base import Array, array_namespace
from nnx.functional import losses as F
from nnx.functional.shapes import match_target_rank

__all__ = [
    "HIGHER_IS_BETTER",
    "Mean",
    "MeanMetricWrapper",
    "Metric",
    "direction",
    "float_dtype",
]

#: a logged name containing one of these is better high (``mode="max"``); anything else low
HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "r2")


def direction(name: str) -> Literal["max", "min"]:
    """Whether a logged value improves upward (``"max"``) or downward (``"min"``).

    The rule behind ``mode="auto"`` of the callbacks that watch a value: accuracy-like names
    (:data:`HIGHER_IS_BETTER`: accuracy, AUC, precision, recall, F1, R^2, with any prefix such as
    ``val_`` or suffix such as ``_macro``) are maximised, losses and errors minimised.

    Args:
        name: a key of the epoch logs (``"val_loss"``, ``"f1_macro"``...).

    Returns:
        ``"max"`` or ``"min"``.

    >>> direction("val_accuracy"), direction("val_loss"), direction("top_5_accuracy")
    ('max', 'min', 'max')
    """
    return "max" if any(key in name for key in HIGHER_IS_BETTER) else "min"


def float_dtype(xp: Any, a: Array) -> Any:
    """The dtype of ``a`` if it is a real floating dtype, else ``float64``.

    >>> from nnx.backends import get_backend
    >>> xp = get_backend("numpy").xp
    >>> float_dtype(xp, xp.asarray([1, 2])) == xp.float64
    True
    """
    return a.dtype if xp.isdtype(a.dtype, "real floating") else xp.float64


class Metric:
    """Base class: ``update_state``, ``result`` (a 0-d array), ``reset_state``.

    Args:
        name: the metric's key in logs and ``History``.
    """

    #: False for metrics whose result is not one number (they cannot go in epoch logs)
    scalar: bool = True

    def __init__(self, name: str) -> None:
        self.name = name

    def update_state(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> None:
        """Accumulate one batch (on the device, without a host synchronisation)."""
        raise NotImplementedError

    def result(self) -> Array:
        """The value over every batch since the last :meth:`reset_state`."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget the accumulated batches (called at the start of each epoch)."""
        raise NotImplementedError


class Mean(Metric):
    """Weighted mean of the values given to :meth:`update_value` (e.g. the loss).

    Args:
        name: the metric's name.

    >>> m = Mean("loss")
    >>> m.update_value(2.0, weight=3)
    >>> m.update_value(4.0, weight=1)
    >>> m.result()
    2.5
    """

    def __init__(self, name: str = "mean") -> None:
        super().__init__(name)
        self.reset_state()

    def reset_state(self) -> None:
        """Zero the running total and count."""
        self.total: Any = 0.0
        self.count: Any = 0.0

    def update_value(self, value: Array, weight: Any = 1.0) -> None:
        """Add ``value`` (a 0-d array: a batch mean) with weight ``weight`` (batch size)."""
        self.total = self.total + value * weight
        self.count = self.count + weight

    def result(self) -> Array:
        """``total / count`` (the total itself while the count is 0).

        With device weights (sample weights) the count is a device value: the choice is then
        made on the device, so reading the result never synchronises before it is needed.
        """
        if isinstance(self.count, int | float):
            return self.total / self.count if self.count else self.total
        xp = array_namespace(self.count)
        empty = self.count == 0
        return xp.where(empty, self.total, self.total / xp.where(empty, 1.0, self.count))


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
        """Add the batch's per-sample values (weighted by ``sample_weight``, shape ``(n,)``).

        ``(n,)`` targets against ``(n, 1)`` predictions are expanded first, as Keras does.
        Where ``fn`` gives several values per sample (one per timestep of a sequence output
        scored against one-hot targets), each counts, as in Keras: the result is their mean.
        """
        values = self.fn(match_target_rank(y_true, y_pred.shape), y_pred)
        xp = array_namespace(values)
        per_sample = values.size // values.shape[0] if values.shape[0] else 1
        if sample_weight is None:
            self.total = self.total + xp.sum(values)
            self.count = self.count + values.size
        else:
            self.total = self.total + xp.sum(F.weight_samples(values, sample_weight))
            self.count = self.count + xp.sum(sample_weight) * per_sample
