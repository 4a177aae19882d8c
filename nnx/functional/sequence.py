"""Sequence maths in pure Array API: the sinusoidal position encoding, the embedding lookup's
gradient (a scatter-add without a scatter) and the attention softmax.

>>> import numpy as np
>>> sinusoidal_encoding(2, 4, np, "float64").round(3).tolist()
[[0.0, 1.0, 0.0, 1.0], [0.841, 0.54, 0.01, 1.0]]
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, array_namespace

__all__ = [
    "allowed_pairs",
    "embedding_gradient",
    "gate_sigmoid",
    "masked_softmax",
    "masked_softmax_backward",
    "sinusoidal_encoding",
]

#: rows of the one-hot block in :func:`embedding_gradient` are bounded to this many entries
_ONE_HOT_BLOCK = 1 << 22


def sinusoidal_encoding(
    length: int,
    depth: int,
    xp: Any,
    dtype: Any = "float32",
    base: float = 10000.0,
    device: Any = None,
) -> Array:
    """The fixed position encoding of "Attention is all you need".

    ``PE[p, 2i] = sin(p / base^(2i / depth))``, ``PE[p, 2i + 1] = cos(p / base^(2i / depth))``.

    Args:
        length: number of positions.
        depth: encoding size (even or odd).
        xp: the array namespace to build it in (``backend.xp``).
        dtype: a dtype name or a dtype of ``xp``.
        base: the wavelength scale.
        device: where to create it (default: the namespace's default device).

    Shape:
        Result ``(length, depth)``.
    """
    dt = getattr(xp, dtype) if isinstance(dtype, str) else dtype
    pos = xp.reshape(xp.arange(length, dtype=xp.float64, device=device), (-1, 1))
    i = xp.arange(depth, dtype=xp.float64, device=device)
    pair = i - (i % 2)
    angle = pos / xp.pow(xp.asarray(base, dtype=xp.float64, device=device), pair / depth)
    encoding = xp.where(i % 2 == 0, xp.sin(angle), xp.cos(angle))
    return xp.astype(encoding, dt)


def embedding_gradient(indices: Array, dy: Array, input_dim: int) -> Array:
    """``dW[v] = sum_{j: indices[j] = v} dy[j]``: the gradient of the table of a lookup
    ``y = W[indices]``, computed as ``onehot(indices)^T dy`` in row blocks (no scatter).

    Shape:
        ``indices (m,)`` ints, ``dy (m, d)``; result ``(input_dim, d)``.
    """
    xp = array_namespace(dy)
    m = indices.shape[0]
    classes = xp.arange(input_dim, dtype=indices.dtype, device=dy.device)
    block = max(1, _ONE_HOT_BLOCK // max(input_dim, 1))
    grad = None
    for start in range(0, m, block):
        stop = min(start + block, m)
        codes = xp.astype(xp.reshape(indices[start:stop], (-1, 1)) == classes, dy.dtype)
        part = codes.T @ dy[start:stop, ...]
        grad = part if grad is None else grad + part
    if grad is None:
        return xp.zeros((input_dim, dy.shape[-1]), dtype=dy.dtype, device=dy.device)
    return grad


def gate_sigmoid(z: Array) -> Array:
    """``sigmoid(z) = (1 + tanh(z / 2)) / 2``: the recurrent gates' sigmoid.

    Equal to :func:`nnx.functional.activations.sigmoid` (stable for any ``z`` too) in one
    ``tanh`` pass instead of ``exp``, ``abs``, two divisions and a ``where``: about 5x faster
    on NumPy, which matters when it runs once per timestep.
    """
    xp = array_namespace(z)
    return 0.5 * xp.tanh(0.5 * z) + 0.5


def allowed_pairs(
    xp: Any,
    shape: tuple[int, int, int],
    attention_mask: Array | None = None,
    causal: bool = False,
    query_mask: Array | None = None,
    value_mask: Array | None = None,
    device: Any = None,
) -> Array | None:
    """Which (query ``i``, key ``j``) pairs attention may use, as Keras combines its masks.

    ``allowed = attention_mask[b, i, j] & (j <= i if causal) & query_mask[b, i] &
    value_mask[b, j]``, each term only when given.

    Args:
        xp: the array namespace.
        shape: ``(batch, Tq, Tv)``.
        attention_mask: bool ``(batch, Tq, Tv)``.
        causal: forbid keys after the query.
        query_mask, value_mask: bool ``(batch, Tq)`` / ``(batch, Tv)`` valid steps.
        device: where to create the causal mask.

    Returns:
        Bool ``(batch or 1, 1, Tq, Tv)`` (broadcast over heads), or None: everything allowed.
    """
    n, tq, tv = shape
    terms = []
    if attention_mask is not None:
        terms.append(xp.astype(attention_mask, xp.bool))
    if causal:
        rows = xp.reshape(xp.arange(tq, device=device), (tq, 1))
        terms.append(rows >= xp.reshape(xp.arange(tv, device=device), (1, tv)))
    if query_mask is not None:
        terms.append(xp.reshape(xp.astype(query_mask, xp.bool), (n, tq, 1)))
    if value_mask is not None:
        terms.append(xp.reshape(xp.astype(value_mask, xp.bool), (n, 1, tv)))
    if not terms:
        return None
    allowed = terms[0]
    for term in terms[1:]:
        allowed = allowed & term
    if allowed.ndim == 2:
        return xp.reshape(allowed, (1, 1, tq, tv))
    return xp.reshape(xp.broadcast_to(allowed, (n, tq, tv)), (n, 1, tq, tv))


def masked_softmax(scores: Array, allowed: Array | None) -> Array:
    """Softmax over the last axis where ``allowed`` (broadcast) is True, as Keras's attention
    masks it: a masked logit becomes the most negative finite number ``low``::

        s = where(allowed, scores, low)        p = exp(s - max(s)) / sum(exp(s - max(s)))

    so masked entries are exactly 0 in any row with an allowed entry, and a row with none is
    uniform (the query averages every key, as ``keras.layers.MultiHeadAttention`` does).
    Finite for any finite logits.
    """
    xp = array_namespace(scores)
    s = scores
    if allowed is not None:
        low = xp.asarray(xp.finfo(scores.dtype).min, dtype=scores.dtype, device=scores.device)
        s = xp.where(allowed, scores, low)
    e = xp.exp(s - xp.max(s, axis=-1, keepdims=True))
    e /= xp.sum(e, axis=-1, keepdims=True)
    return e


def masked_softmax_backward(dp: Array, p: Array, allowed: Array | None = None) -> Array:
    """``ds = p (dp - sum(dp p))`` over the last axis, 0 where masked: a masked logit is a
    constant (``p`` is already 0 there, except in rows with nothing allowed, whose uniform
    ``p`` does not depend on the scores at all)."""
    xp = array_namespace(p)
    ds = p * (dp - xp.sum(dp * p, axis=-1, keepdims=True))
    if allowed is None:
        return ds
    return xp.where(xp.any(allowed, axis=-1, keepdims=True), ds, xp.zeros_like(ds[..., :1]))
