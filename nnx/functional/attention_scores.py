"""The score functions of Keras's ``Attention`` (Luong) and ``AdditiveAttention`` (Bahdanau)
layers, Keras's padding bias and softmax, and their vector-Jacobian products.

For a query ``q (b, Tq, d)`` and a key ``k (b, Tv, d)`` each returns scores ``s (b, Tq, Tv)``
and ``backward(ds) -> (dq, dk, d weights...)``:

- :func:`dot_scores`: ``s = c q k^T`` (``c`` the learned ``scale``, or 1);
- :func:`concat_scores`: ``s = w sum_d tanh(c (q_i + k_j))`` (Keras's ``score_mode="concat"``);
- :func:`additive_scores`: ``s = sum_d v_d tanh(q_i + k_j)_d`` (``v`` a learned vector).

:func:`keras_softmax` is Keras's masked softmax: a masked score is *lowered* by ``1e9``
(``65504`` in float16), not replaced, so a row with no allowed key is the softmax of its
lowered scores, finite (in float32 the lowering swamps scores of moderate size and such a row
is uniform: the query averages every value).

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> q, k = b.asarray([[[1.0, 0.0]]]), b.asarray([[[1.0, 0.0], [0.0, 1.0]]])
>>> dot_scores(q, k)[0].tolist()
[[[1.0, 0.0]]]
"""

from __future__ import annotations

from collections.abc import Callable

from nnx.backends.base import Array, array_namespace

__all__ = [
    "additive_scores",
    "concat_scores",
    "dot_scores",
    "keras_softmax",
    "keras_softmax_backward",
    "padding_bias",
]

#: ``backward(ds) -> (dq, dk, d weight, ...)``: one gradient per weight given (None when absent)
ScoresBackward = Callable[[Array], tuple[Array, ...]]


def dot_scores(q: Array, k: Array, scale: Array | None = None) -> tuple[Array, ScoresBackward]:
    """``s = c q k^T``; backward ``dq = c ds k``, ``dk = c ds^T q``, ``dc = sum(ds q k^T)``.

    Returns ``(s, backward)``, ``backward(ds) -> (dq, dk, dc)`` (``dc`` None without a scale).
    """
    xp = array_namespace(q)
    raw = q @ xp.matrix_transpose(k)
    s = raw if scale is None else raw * scale

    def backward(ds: Array) -> tuple[Array, ...]:
        g = ds if scale is None else ds * scale
        dc = None if scale is None else xp.sum(ds * raw)
        return g @ k, xp.matrix_transpose(g) @ q, dc

    return s, backward


def _pair_sums(q: Array, k: Array) -> Array:
    """``u[b, i, j, :] = q[b, i, :] + k[b, j, :]``, shape ``(b, Tq, Tv, d)``."""
    xp = array_namespace(q)
    return xp.expand_dims(q, axis=2) + xp.expand_dims(k, axis=1)


def concat_scores(
    q: Array, k: Array, weight: Array, scale: Array | None = None
) -> tuple[Array, ScoresBackward]:
    """``t = tanh(c u)``, ``u = q_i + k_j``, ``s = w sum_d t`` (``c`` 1 without a scale).

    Backward: ``dw = sum(ds sum_d t)``, ``dz = w ds (1 - t^2)``, ``dc = sum(dz u)``,
    ``du = c dz``, ``dq_i = sum_j du``, ``dk_j = sum_i du``.

    Returns ``(s, backward)``, ``backward(ds) -> (dq, dk, dw, dc)`` (``dc`` None without one).
    """
    xp = array_namespace(q)
    u = _pair_sums(q, k)
    t = xp.tanh(u if scale is None else scale * u)
    total = xp.sum(t, axis=-1)

    def backward(ds: Array) -> tuple[Array, ...]:
        dw = xp.sum(ds * total)
        dz = xp.expand_dims(weight * ds, axis=-1) * (1.0 - t * t)
        dc = None if scale is None else xp.sum(dz * u)
        du = dz if scale is None else dz * scale
        return xp.sum(du, axis=2), xp.sum(du, axis=1), dw, dc

    return weight * total, backward


def additive_scores(q: Array, k: Array, scale: Array | None = None) -> tuple[Array, ScoresBackward]:
    """``t = tanh(q_i + k_j)``, ``s = sum_d v_d t_d`` (``v`` the ``(d,)`` scale, or ones).

    Backward: ``dv = sum_{b,i,j} ds t``, ``du = ds v (1 - t^2)``, ``dq_i = sum_j du``,
    ``dk_j = sum_i du``.

    Returns ``(s, backward)``, ``backward(ds) -> (dq, dk, dv)`` (``dv`` None without a scale).
    """
    xp = array_namespace(q)
    t = xp.tanh(_pair_sums(q, k))
    s = xp.sum(t, axis=-1) if scale is None else xp.sum(t * scale, axis=-1)

    def backward(ds: Array) -> tuple[Array, ...]:
        g = xp.expand_dims(ds, axis=-1)
        dv = None if scale is None else xp.sum(g * t, axis=(0, 1, 2))
        du = (g if scale is None else g * scale) * (1.0 - t * t)
        return xp.sum(du, axis=2), xp.sum(du, axis=1), dv

    return s, backward


def padding_bias(dtype: object) -> float:
    """What Keras subtracts from a masked score: ``65504`` (float16's largest) or ``1e9``."""
    return 65504.0 if "float16" in str(dtype) else 1.0e9


def keras_softmax(s: Array, allowed: Array | None = None) -> Array:
    """Keras's masked attention softmax over the last axis::

        s' = where(allowed, s, s - 1e9)        p = exp(s' - max s') / sum exp(s' - max s')

    ``allowed`` broadcasts against ``s`` (``(b | 1, Tq | 1, Tv)``). The lowering is a shift
    by a constant, so ``ds = dp-softmax`` (:func:`keras_softmax_backward`) needs no mask.
    """
    xp = array_namespace(s)
    if allowed is not None:
        s = xp.where(allowed, s, s - padding_bias(s.dtype))
    e = xp.exp(s - xp.max(s, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)  # type: ignore[no-any-return]


def keras_softmax_backward(dp: Array, p: Array) -> Array:
    """``ds = p (dp - sum(dp p))`` over the last axis."""
    xp = array_namespace(p)
    return p * (dp - xp.sum(dp * p, axis=-1, keepdims=True))  # type: ignore[no-any-return]
