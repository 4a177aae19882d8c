"""Depthwise convolution on the im2col windows: each channel filtered by its own kernels.

With the windows ``cols (n, T, C)`` of a channels-last batch (``n`` output positions,
``T = kh kw`` kernel taps, ``C`` channels: :meth:`~nnx.backends.Backend.im2col`'s rows split
into taps) and the kernel ``w (T, C, m)`` (``m``: the depth multiplier), the forward pass is one
contraction over the taps, batched over positions and channels, in TensorFlow's channel order
(output channel ``c m + j``):

    ``y[n, c, j] = sum_t cols[n, t, c] w[t, c, j]``

and its vector-Jacobian products are the two other contractions of the same three indices:

    ``dw[t, c, j] = sum_n cols[n, t, c] dy[n, c, j]``,
    ``dcols[n, t, c] = sum_j dy[n, c, j] w[t, c, j]`` (then col2im back onto the input).

Each is a broadcast product summed over one axis (no loop over channels or taps), so it runs on
any Array API namespace.

>>> from nnx.backends import get_backend
>>> xp = get_backend("numpy").xp
>>> cols = xp.reshape(xp.arange(8.0), (2, 2, 2))  # 2 positions, 2 taps, 2 channels
>>> w = xp.reshape(xp.asarray([1.0, 10.0, 2.0, 20.0]), (2, 2, 1))
>>> depthwise_product(xp, cols, w)[:, :, 0].tolist()
[[4.0, 70.0], [16.0, 190.0]]
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array

__all__ = ["depthwise_input_gradient", "depthwise_kernel_gradient", "depthwise_product"]


def depthwise_product(xp: Any, cols: Array, w: Array) -> Array:
    """``y[n, c, j] = sum_t cols[n, t, c] w[t, c, j]``.

    Shape:
        ``cols (n, T, C)``, ``w (T, C, m)`` -> ``(n, C, m)``.
    """
    n, taps, c = cols.shape
    m = w.shape[2]
    if m == 1:
        return xp.reshape(xp.sum(cols * xp.reshape(w, (taps, c)), axis=1), (n, c, 1))
    return xp.sum(xp.reshape(cols, (n, taps, c, 1)) * w, axis=1)


def depthwise_kernel_gradient(xp: Any, cols: Array, dy: Array) -> Array:
    """``dw[t, c, j] = sum_n cols[n, t, c] dy[n, c, j]``.

    Shape:
        ``cols (n, T, C)``, ``dy (n, C, m)`` -> ``(T, C, m)``.
    """
    n, taps, c = cols.shape
    m = dy.shape[2]
    if m == 1:
        dw = xp.sum(cols * xp.reshape(dy, (n, 1, c)), axis=0)
        return xp.reshape(dw, (taps, c, 1))
    return xp.sum(xp.reshape(cols, (n, taps, c, 1)) * xp.reshape(dy, (n, 1, c, m)), axis=0)


def depthwise_input_gradient(xp: Any, dy: Array, w: Array) -> Array:
    """``dcols[n, t, c] = sum_j dy[n, c, j] w[t, c, j]``.

    Shape:
        ``dy (n, C, m)``, ``w (T, C, m)`` -> ``(n, T, C)``.
    """
    n, c, m = dy.shape
    taps = w.shape[0]
    if m == 1:
        return xp.reshape(dy, (n, 1, c)) * xp.reshape(w, (taps, c))
    return xp.sum(xp.reshape(dy, (n, 1, c, m)) * w, axis=3)
