"""Metrics of scores and probabilities: ROC AUC, log loss, top-k accuracy, as functions on
arrays of any backend and as streaming classes.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> float(roc_auc_score(b.asarray([0, 1]), b.asarray([0.2, 0.9])))
1.0
"""

from __future__ import annotations

from nnx.backends.base import Array, array_namespace
from nnx.functional.one_hot import one_hot
from nnx.metrics.base import MeanMetricWrapper, Metric, float_dtype

__all__ = [
    "AUC",
    "LogLoss",
    "TopKCategoricalAccuracy",
    "log_loss",
    "log_loss_per_sample",
    "roc_auc_score",
    "top_k_accuracy",
    "top_k_hits",
]


def roc_auc_score(y_true: Array, y_score: Array, sample_weight: Array | None = None) -> Array:
    """Binary ROC AUC, exact: the (weighted) Mann-Whitney statistic, ties counted as 1/2.

    Args:
        y_true: 0/1 labels, ``(n,)`` or ``(n, 1)``.
        y_score: scores or probabilities of class 1, same length.
        sample_weight: optional weights ``(n,)``.

    Returns:
        A 0-d float array (NaN if one class is absent).

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(roc_auc_score(b.asarray([0, 0, 1, 1]), b.asarray([0.1, 0.4, 0.35, 0.8])))
    0.75
    """
    xp = array_namespace(y_true, y_score)
    s = xp.reshape(y_score, (-1,))
    dtype = float_dtype(xp, s) if s.dtype != xp.float32 else xp.float64
    s = xp.astype(s, dtype)
    y = xp.astype(xp.astype(xp.reshape(y_true, (-1,)), dtype) > 0.5, dtype)
    w = (
        xp.ones_like(s)
        if sample_weight is None
        else xp.astype(xp.reshape(sample_weight, (-1,)), dtype)
    )
    order = xp.argsort(s)
    ss = xp.take(s, order)
    neg = xp.cumulative_sum(xp.take(w * (1.0 - y), order), include_initial=True)
    lo = xp.take(neg, xp.searchsorted(ss, s, side="left"))
    hi = xp.take(neg, xp.searchsorted(ss, s, side="right"))
    wp = w * y
    n_pos, n_neg = xp.sum(wp), neg[-1]
    return xp.sum(wp * (lo + 0.5 * (hi - lo))) / (n_pos * n_neg)


def log_loss(y_true: Array, y_prob: Array, eps: float | None = None) -> Array:
    """Mean cross-entropy of probabilities (scikit-learn's ``log_loss``).

    Args:
        y_true: 0/1 labels for binary ``y_prob``; integer labels ``(n,)`` or one-hot ``(n, k)``
            for ``(n, k)`` probabilities.
        y_prob: binary ``(n,)`` / ``(n, 1)`` or ``(n, k)`` probabilities (rows renormalised).
        eps: clip probabilities to ``[eps, 1 - eps]`` (default: the machine epsilon of their
            dtype, as scikit-learn).

    Returns:
        A 0-d float array.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> round(float(log_loss(b.asarray([1, 0]), b.asarray([0.9, 0.2]))), 6)
    0.164252
    """
    return array_namespace(y_prob).mean(log_loss_per_sample(y_true, y_prob, eps))


def log_loss_per_sample(y_true: Array, y_prob: Array, eps: float | None = None) -> Array:
    """Per-sample cross-entropy behind :func:`log_loss`, shape ``(n,)``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> log_loss_per_sample(b.asarray([0, 1]), b.asarray([[0.5, 0.5], [0.0, 1.0]])).shape
    (2,)
    """
    xp = array_namespace(y_prob)
    if not xp.isdtype(y_prob.dtype, "real floating"):
        y_prob = xp.astype(y_prob, xp.float64)
    eps = float(xp.finfo(y_prob.dtype).eps) if eps is None else eps
    p = xp.clip(y_prob, eps, 1.0 - eps)
    n = p.shape[0]
    if p.ndim == 1 or p.shape[-1] == 1:
        p = xp.reshape(p, (n,))
        y = xp.astype(xp.reshape(y_true, (n,)), p.dtype)
        return -(y * xp.log(p) + (1.0 - y) * xp.log(1.0 - p))
    k = p.shape[-1]
    y = y_true if y_true.ndim == 2 and y_true.shape[-1] == k else None
    if y is None:
        y = one_hot(xp.astype(y_true, xp.int64), k, p.dtype)
    p = p / xp.sum(p, axis=-1, keepdims=True)
    return -xp.sum(xp.astype(y, p.dtype) * xp.log(p), axis=-1)


def top_k_hits(y_true: Array, y_score: Array, k: int = 5) -> Array:
    """Per-sample 1.0 where the true class is among the ``k`` highest scores (ties favour it).

    Args:
        y_true: integer labels ``(n,)`` or one-hot rows ``(n, classes)``.
        y_score: class scores ``(n, classes)``.
        k: how many of the highest scores count.

    Returns:
        Shape ``(n,)``, the dtype of ``y_score``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> top_k_hits(b.asarray([2, 0]), b.asarray([[0.5, 0.3, 0.2], [0.1, 0.5, 0.4]]), 2).tolist()
    [0.0, 0.0]
    """
    xp = array_namespace(y_score)
    n, classes = y_score.shape[0], y_score.shape[-1]
    if y_true.ndim == 2 and y_true.shape[-1] == classes and classes > 1:
        labels = xp.argmax(y_true, axis=-1)
    else:
        labels = xp.astype(xp.reshape(y_true, (n,)), xp.int64)
    mine = xp.sum(one_hot(labels, classes, y_score.dtype) * y_score, axis=-1, keepdims=True)
    above = xp.sum(xp.astype(y_score > mine, xp.int64), axis=-1)
    return xp.astype(above < k, y_score.dtype)


def top_k_accuracy(y_true: Array, y_score: Array, k: int = 5) -> Array:
    """Share of samples whose true class is among the ``k`` highest scores.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> float(top_k_accuracy(b.asarray([2, 0]), b.asarray([[0.5, 0.3, 0.2], [0.4, 0.5, 0.1]]), 2))
    0.5
    """
    return array_namespace(y_score).mean(top_k_hits(y_true, y_score, k))


class AUC(Metric):
    """Exact binary ROC AUC over an epoch: keeps the scores on the device, ranks at ``result``.

    Args:
        name: the metric's name.

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
        """Drop the kept scores."""
        self.parts: list[tuple[Array, Array, Array | None]] = []

    def update_state(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> None:
        """Keep the batch's labels and scores (of the last output column) on the device."""
        xp = array_namespace(y_pred)
        score = y_pred[..., -1] if y_pred.ndim > 1 else y_pred
        n = y_pred.shape[0]
        truth = y_true[..., -1] if y_true.ndim > 1 and y_true.shape == y_pred.shape else y_true
        self.parts.append((xp.reshape(truth, (n,)), xp.reshape(score, (n,)), sample_weight))

    def result(self) -> Array:
        """:func:`roc_auc_score` of every kept batch; ValueError before the first."""
        if not self.parts:
            raise ValueError(f"{self.name}: no data yet (call update_state first).")
        xp = array_namespace(self.parts[0][1])
        y = xp.concat([xp.astype(p[0], p[1].dtype) for p in self.parts])
        s = xp.concat([p[1] for p in self.parts])
        weights = None
        if any(p[2] is not None for p in self.parts):
            weights = xp.concat([xp.ones_like(p[1]) if p[2] is None else p[2] for p in self.parts])
        return xp.astype(roc_auc_score(y, s, weights), s.dtype)


class LogLoss(MeanMetricWrapper):
    """Mean cross-entropy of predicted probabilities (clipped at ``1e-7``).

    Args:
        name: the metric's name.

    >>> LogLoss().name
    'log_loss'
    """

    def __init__(self, name: str = "log_loss") -> None:
        super().__init__(lambda y, p: log_loss_per_sample(y, p, 1e-7), name)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Share of samples whose true class is among the ``k`` highest outputs.

    Args:
        k: how many of the highest outputs count.
        name: the metric's name (default ``top_<k>_accuracy``).

    >>> TopKCategoricalAccuracy(k=3).name
    'top_3_accuracy'
    """

    def __init__(self, k: int = 5, name: str | None = None) -> None:
        super().__init__(lambda y, p: top_k_hits(y, p, k), name or f"top_{k}_accuracy")
