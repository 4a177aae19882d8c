"""Regression metrics: MSE, RMSE, MAE and R^2 as functions on arrays of any backend, and their
exact streaming classes for ``compile(metrics=[...])``.

Multi-output values are averaged over outputs, as scikit-learn's ``uniform_average``.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> float(r2_score(b.asarray([[1.0], [2.0], [3.0]]), b.asarray([[1.0], [2.0], [3.0]])))
1.0
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.functional import losses as F
from nnx.metrics.base import MeanMetricWrapper, Metric

__all__ = [
    "MeanAbsoluteError",
    "MeanSquaredError",
    "R2Score",
    "RootMeanSquaredError",
    "mean_absolute_error",
    "mean_squared_error",
    "r2_score",
    "root_mean_squared_error",
]


def _pair(y_true: Array, y_pred: Array) -> tuple[Any, Array]:
    """``(xp, y_pred - y_true)`` with both as ``(n, outputs)`` of the prediction's dtype."""
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


class MeanSquaredError(MeanMetricWrapper):
    """Streaming mean squared error.

    Args:
        name: the metric's name.

    >>> MeanSquaredError().name
    'mse'
    """

    def __init__(self, name: str = "mse") -> None:
        super().__init__(F.squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    """Streaming mean absolute error.

    Args:
        name: the metric's name.

    >>> MeanAbsoluteError().name
    'mae'
    """

    def __init__(self, name: str = "mae") -> None:
        super().__init__(F.absolute_error, name)


class R2Score(Metric):
    """Exact streaming R^2 (uniform average over outputs) from per-output sums.

    Args:
        name: the metric's name.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> m = R2Score()
    >>> m.update_state(b.asarray([[1.0], [2.0]]), b.asarray([[1.0], [2.0]]))
    >>> m.update_state(b.asarray([[3.0]]), b.asarray([[4.0]]))
    >>> float(m.result())
    0.5
    """

    def __init__(self, name: str = "r2") -> None:
        super().__init__(name)
        self.reset_state()

    def reset_state(self) -> None:
        """Zero the running sums."""
        self.sums: list[Any] = [0.0, 0.0, 0.0, 0.0]  # weight, sum y, sum y^2, sum residual^2

    def update_state(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> None:
        """Add the batch's weight, sums of ``y``, ``y^2`` and squared residuals per output."""
        xp = array_namespace(y_pred)
        p = xp.reshape(y_pred, (y_pred.shape[0], -1))
        y = xp.astype(xp.reshape(y_true, p.shape), p.dtype)
        w = xp.ones((p.shape[0], 1), dtype=p.dtype, device=p.device)
        if sample_weight is not None:
            w = xp.reshape(xp.astype(sample_weight, p.dtype), (-1, 1))
        d = p - y
        batch = [
            xp.sum(w),
            xp.sum(w * y, axis=0),
            xp.sum(w * y * y, axis=0),
            xp.sum(w * d * d, axis=0),
        ]
        self.sums = [a + b for a, b in zip(self.sums, batch, strict=True)]

    def result(self) -> Array:
        """``1 - SS_res / SS_tot`` per output, averaged."""
        n, sy, syy, sse = self.sums
        xp = array_namespace(sse)
        return xp.mean(1.0 - sse / (syy - sy * sy / n))


class RootMeanSquaredError(R2Score):
    """Epoch RMSE of each output (root of the summed squares, not a mean of batch roots),
    averaged over outputs as scikit-learn's ``root_mean_squared_error``.

    Args:
        name: the metric's name.

    >>> RootMeanSquaredError().name
    'rmse'
    """

    def __init__(self, name: str = "rmse") -> None:
        super().__init__(name)

    def result(self) -> Array:
        """``sqrt(SS_res / n)`` per output, averaged."""
        n, _, _, sse = self.sums
        xp = array_namespace(sse)
        return xp.mean(xp.sqrt(sse / n))
