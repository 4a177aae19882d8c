"""Max and average pooling over windows of channels-last images, with their backward passes.

Windows are read as one strided slice per window offset (see :mod:`nnx.functional.conv`); the
backward passes add into strided slices of a zero buffer, so nothing needs gather or scatter.

Max-pool ties: the gradient of a window goes to exactly one of its maxima, the first in
row-major window order (as an ``argmax`` would pick), never split between them.

>>> from nnx.backends import get_backend
>>> xp = get_backend("numpy").xp
>>> x = xp.reshape(xp.asarray([1.0, 3.0, 3.0, 2.0]), (1, 2, 2, 1))
>>> max_pool2d(xp, x, (2, 2), (2, 2)).tolist()
[[[[3.0]]]]
>>> dx = max_pool2d_backward(xp, xp.ones((1, 1, 1, 1)), x, xp.max(x), (2, 2), (2, 2))
>>> dx[0, :, :, 0].tolist()
[[0.0, 1.0], [0.0, 0.0]]
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from nnx.backends.base import Array
from nnx.functional.conv import window_slice

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "pooled_shape",
]

Pair = tuple[int, int]


def pooled_shape(x: Array, pool: Pair, strides: Pair) -> Pair:
    """``(oh, ow)`` of valid windows of ``pool`` with ``strides`` over an already padded ``x``."""
    return (
        (x.shape[1] - pool[0]) // strides[0] + 1,
        (x.shape[2] - pool[1]) // strides[1] + 1,
    )


def _windows(x: Array, pool: Pair, strides: Pair) -> list[tuple[slice, slice]]:
    oh, ow = pooled_shape(x, pool, strides)
    return [
        (window_slice(i, 1, strides[0], oh), window_slice(j, 1, strides[1], ow))
        for i in range(pool[0])
        for j in range(pool[1])
    ]


def max_pool2d(xp: Any, x: Array, pool: Pair, strides: Pair) -> Array:
    """``y[b, p, q, c] = max over the window (p sh + i, q sw + j) of x`` (pad with ``-inf``).

    Shape:
        ``(b, h, w, c) -> (b, oh, ow, c)``, ``oh = (h - ph) // sh + 1``.
    """
    parts = [x[:, rows, cols, :] for rows, cols in _windows(x, pool, strides)]
    y = parts[0]
    for part in parts[1:]:
        y = xp.maximum(y, part)
    return y


def max_pool2d_backward(xp: Any, dy: Array, x: Array, y: Array, pool: Pair, strides: Pair) -> Array:
    """Route each ``dy`` to its window's first maximum: ``dx[argmax] += dy`` (``y`` is the
    forward output)."""
    dx = xp.zeros(x.shape, dtype=dy.dtype, device=device_of(dy))
    overlap = strides[0] < pool[0] or strides[1] < pool[1]
    taken = None
    for rows, cols in _windows(x, pool, strides):
        win = x[:, rows, cols, :] == y
        if taken is None:
            taken = win
        else:
            win = win & ~taken
            taken = taken | win
        # NOTE: a 0/1 product is several times faster than where() on NumPy; windows that
        # do not overlap are written, not added.
        share = xp.astype(win, dy.dtype) * dy
        if overlap:
            dx[:, rows, cols, :] += share
        else:
            dx[:, rows, cols, :] = share
    return dx


def avg_pool2d(xp: Any, x: Array, pool: Pair, strides: Pair, count: Array | float) -> Array:
    """``y = (sum over the window of x) / count``; ``count`` is the window size, or per output
    position the number of real (unpadded) pixels for ``"same"`` padding.

    Shape:
        ``(b, h, w, c) -> (b, oh, ow, c)``.
    """
    parts = [x[:, rows, cols, :] for rows, cols in _windows(x, pool, strides)]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total / count


def avg_pool2d_backward(
    xp: Any, dy: Array, shape: tuple[int, ...], pool: Pair, strides: Pair, count: Array | float
) -> Array:
    """``dx[window] += dy / count`` for every window (overlaps add up)."""
    dx = xp.zeros(shape, dtype=dy.dtype, device=device_of(dy))
    share = dy / count
    for rows, cols in _windows(dx, pool, strides):
        dx[:, rows, cols, :] += share
    return dx
