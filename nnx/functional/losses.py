"""Per-sample loss values and their gradients, in pure Array API.

Every function returns one value per sample (shape ``(n,)``); the loss objects in
:mod:`nnx.losses` average them over the batch. Gradients are with respect to the prediction
(or the logits, for the ``*_logits`` forms) and do *not* include the ``1/n`` of the mean.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> squared_error(b.asarray([[0.0, 0.0], [1.0, 1.0]]), b.asarray([[1.0, 3.0], [1.0, 1.0]])).tolist()
[5.0, 0.0]
"""

from __future__ import annotations

from nnx.backends.base import Array, array_namespace
from nnx.functional.activations import log_softmax, sigmoid, softmax

__all__ = [
    "EPSILON",
    "absolute_error",
    "absolute_error_grad",
    "binary_crossentropy",
    "binary_crossentropy_grad",
    "binary_crossentropy_logits",
    "binary_crossentropy_logits_grad",
    "binary_crossentropy_logits_value_and_grad",
    "categorical_crossentropy",
    "categorical_crossentropy_grad",
    "categorical_crossentropy_logits",
    "categorical_crossentropy_logits_grad",
    "categorical_crossentropy_logits_value_and_grad",
    "huber",
    "huber_grad",
    "squared_error",
    "squared_error_grad",
    "weight_samples",
]

# Keras's fuzz factor: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log.
EPSILON = 1e-7


def weight_samples(a: Array, sample_weight: Array | None) -> Array:
    """``a`` with each sample's entries scaled by its weight (``a`` itself without weights).

    Args:
        a: per-sample values ``(n,)`` or per-sample rows ``(n, ...)`` (a gradient).
        sample_weight: ``(n,)`` or ``(n, 1)`` weights, or None.

    Returns:
        ``w_i a_i``, the shape of ``a``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> weight_samples(b.asarray([[1.0, 1.0], [1.0, 1.0]]), b.asarray([[2.0], [0.5]])).tolist()
    [[2.0, 2.0], [0.5, 0.5]]
    """
    if sample_weight is None:
        return a
    xp = array_namespace(a)
    return a * xp.reshape(sample_weight, (a.shape[0],) + (1,) * (a.ndim - 1))


def _mean_last(v: Array) -> Array:
    """The mean over every axis but the first: one value per sample."""
    xp = array_namespace(v)
    n, d = v.shape[0], _features(v)
    flat = xp.reshape(v, (n, d))
    # NOTE: a sum times 1/d is cheaper than mean(), and one output needs no reduction at all.
    return flat[:, 0] if d == 1 else xp.sum(flat, axis=1) * (1.0 / d)


def _features(v: Array) -> int:
    size = 1
    for d in v.shape[1:]:
        size *= d
    return size


def squared_error(y: Array, p: Array) -> Array:
    """``mean((p - y)^2)`` over the features of each sample."""
    d = p - y
    return _mean_last(d * d)


def squared_error_grad(y: Array, p: Array) -> Array:
    """``2 (p - y) / d`` (d = features per sample)."""
    return (p - y) * (2.0 / _features(p))


def absolute_error(y: Array, p: Array) -> Array:
    """``mean(|p - y|)`` over the features of each sample."""
    return _mean_last(array_namespace(p).abs(p - y))


def absolute_error_grad(y: Array, p: Array) -> Array:
    """``sign(p - y) / d`` (0 where p == y)."""
    return array_namespace(p).sign(p - y) / _features(p)


def huber(y: Array, p: Array, delta: float = 1.0) -> Array:
    """``r^2/2`` where ``|r| <= delta``, else ``delta * (|r| - delta/2)``, with r = p - y."""
    xp = array_namespace(p)
    a = xp.abs(p - y)
    q = xp.minimum(a, delta)
    return _mean_last(0.5 * q * q + delta * (a - q))


def huber_grad(y: Array, p: Array, delta: float = 1.0) -> Array:
    """``clip(p - y, -delta, delta) / d``."""
    xp = array_namespace(p)
    return xp.clip(p - y, -delta, delta) / _features(p)


def binary_crossentropy(y: Array, p: Array) -> Array:
    """``-(y log p + (1 - y) log(1 - p))``, p clipped to [eps, 1 - eps]; mean over features."""
    xp = array_namespace(p)
    p = xp.clip(p, EPSILON, 1 - EPSILON)
    return _mean_last(-(y * xp.log(p) + (1 - y) * xp.log(1 - p)))


def binary_crossentropy_grad(y: Array, p: Array) -> Array:
    """``(p - y) / (p (1 - p)) / d`` on the clipped p (zero outside the clip range)."""
    xp = array_namespace(p)
    pc = xp.clip(p, EPSILON, 1 - EPSILON)
    inside = (p > EPSILON) & (p < 1 - EPSILON)
    return xp.where(inside, (pc - y) / (pc * (1 - pc)), 0.0) / _features(p)


def binary_crossentropy_logits(y: Array, z: Array) -> Array:
    """BCE of ``sigmoid(z)``: ``max(z, 0) - z y + log1p(exp(-|z|))`` (never overflows)."""
    xp = array_namespace(z)
    return _mean_last(xp.maximum(z, 0.0) - z * y + xp.log1p(xp.exp(-xp.abs(z))))


def binary_crossentropy_logits_value_and_grad(y: Array, z: Array) -> tuple[Array, Array]:
    """:func:`binary_crossentropy_logits` and its gradient sharing ``e = exp(-|z|)``:
    ``sigmoid(z) = q = 1 / (1 + e)`` for ``z >= 0``, else ``e q``.

    Fourteen elementwise passes at most, updated in place where the result is ours (a small
    model's step is bound by the count of these calls, not by their size)."""
    xp = array_namespace(z)
    e = xp.exp(-xp.abs(z))
    q = 1.0 / (1.0 + e)
    p = xp.where(z >= 0, q, e * q)
    if y.dtype != z.dtype:  # promoted: no in-place update (the standard forbids a cast there)
        value, grad = xp.maximum(z, 0.0) - z * y + xp.log1p(e), p - y
    else:
        value = xp.maximum(z, 0.0)
        value -= z * y
        value += xp.log1p(e)
        grad = p
        grad -= y
    d = _features(z)
    if d != 1:
        grad *= 1.0 / d
    return _mean_last(value), grad


def binary_crossentropy_logits_grad(y: Array, z: Array) -> Array:
    """``(sigmoid(z) - y) / d``: the fused sigmoid + BCE gradient."""
    return (sigmoid(z) - y) / _features(z)


def categorical_crossentropy(y: Array, p: Array, axis: int = -1) -> Array:
    """``-sum(y log p)`` over classes, p renormalised and clipped as in Keras."""
    xp = array_namespace(p)
    p = p / xp.sum(p, axis=axis, keepdims=True)
    p = xp.clip(p, EPSILON, 1 - EPSILON)
    return _sum_to_samples(-y * xp.log(p), axis)


def categorical_crossentropy_grad(y: Array, p: Array, axis: int = -1) -> Array:
    """Gradient of :func:`categorical_crossentropy` w.r.t. the unnormalised p.

    With ``s = sum(p)`` and ``q = p / s``: ``dL/dp_j = -y_j / (q_j s) + sum(y) / s``
    (the clip's zero gradient is applied where q is outside [eps, 1 - eps]).
    """
    xp = array_namespace(p)
    s = xp.sum(p, axis=axis, keepdims=True)
    q = p / s
    inside = (q > EPSILON) & (q < 1 - EPSILON)
    dq = xp.where(inside, -y / xp.clip(q, EPSILON, 1 - EPSILON), 0.0)
    return (dq - xp.sum(dq * q, axis=axis, keepdims=True)) / s


def categorical_crossentropy_logits(y: Array, z: Array, axis: int = -1) -> Array:
    """``-sum(y * log_softmax(z))`` (log-sum-exp form)."""
    return _sum_to_samples(-y * log_softmax(z, axis=axis), axis)


def categorical_crossentropy_logits_value_and_grad(
    y: Array, z: Array, axis: int = -1
) -> tuple[Array, Array]:
    """:func:`categorical_crossentropy_logits` and its gradient from one ``log_softmax``."""
    xp = array_namespace(z)
    log_p = log_softmax(z, axis=axis)
    value = _sum_to_samples(-y * log_p, axis)
    return value, xp.exp(log_p) * xp.sum(y, axis=axis, keepdims=True) - y


def categorical_crossentropy_logits_grad(y: Array, z: Array, axis: int = -1) -> Array:
    """``softmax(z) * sum(y) - y``: the fused softmax + CE gradient (``p - y`` for one-hot y)."""
    xp = array_namespace(z)
    return softmax(z, axis=axis) * xp.sum(y, axis=axis, keepdims=True) - y


def _sum_to_samples(v: Array, axis: int) -> Array:
    xp = array_namespace(v)
    return _mean_last(xp.sum(v, axis=axis))
