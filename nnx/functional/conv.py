"""Sliding-window maths for convolution and pooling, on the Array API.

Images are channels-last ``(batch, height, width, channels)`` here; layers convert other
layouts at their boundary. A window of size ``k`` with dilation ``d`` and stride ``s`` over a
(padded) axis of length ``n`` has ``(n - d (k - 1) - 1) // s + 1`` positions, and its offset
``i`` reads the strided slice ``i d : i d + (out - 1) s + 1 : s``. Every operation here is a
loop over the ``kh * kw`` kernel offsets of such slices, so it needs nothing beyond basic
slicing (no gather, no fancy-index scatter); the backward passes accumulate the overlapping
contributions with in-place ``+=`` on strided slices of a zero buffer.

>>> from nnx.backends import get_backend
>>> be = get_backend("numpy")
>>> x = be.asarray([[[[1.0], [2.0], [3.0]], [[4.0], [5.0], [6.0]]]])  # (1, 2, 3, 1)
>>> cols = be.im2col(x, (2, 2), (1, 1), (1, 1))
>>> cols.shape, cols[0, 0, 0].tolist()
((1, 1, 2, 4), [1.0, 2.0, 4.0, 5.0])
>>> col2im(be.xp, cols, (1, 2, 3, 1), (2, 2), (1, 1), (1, 1))[0, :, :, 0].tolist()
[[1.0, 4.0, 3.0], [4.0, 10.0, 6.0]]
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from nnx.backends.base import Array

__all__ = [
    "col2im",
    "conv_output_length",
    "crop2d",
    "pad2d",
    "padding_amounts",
    "spatial_pads",
    "window_slice",
]

Pair = tuple[int, int]


def conv_output_length(n: int, kernel: int, stride: int, padding: str, dilation: int = 1) -> int:
    """Output length of a sliding window on an axis of length ``n`` (Keras/TensorFlow rule).

    ``"valid"``: ``floor((n - dilation (kernel - 1) - 1) / stride) + 1``;
    ``"same"``: ``ceil(n / stride)``.

    >>> conv_output_length(28, 3, 1, "valid"), conv_output_length(28, 3, 2, "same")
    (26, 14)
    """
    if padding == "same":
        return -(-n // stride)
    return (n - dilation * (kernel - 1) - 1) // stride + 1


def padding_amounts(n: int, kernel: int, stride: int, padding: str, dilation: int = 1) -> Pair:
    """``(before, after)`` zeros added to an axis of length ``n``; ``"same"`` puts the odd one
    after, as TensorFlow does.

    >>> padding_amounts(5, 3, 1, "same"), padding_amounts(6, 2, 2, "same")
    ((1, 1), (0, 0))
    """
    if padding != "same":
        return (0, 0)
    out = conv_output_length(n, kernel, stride, "same")
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - n, 0)
    return (total // 2, total - total // 2)


def spatial_pads(
    hw: tuple[int, int], kernel: Pair, strides: Pair, padding: str, dilation: Pair = (1, 1)
) -> tuple[Pair, Pair]:
    """:func:`padding_amounts` of both spatial axes: ``((top, bottom), (left, right))``."""
    return (
        padding_amounts(hw[0], kernel[0], strides[0], padding, dilation[0]),
        padding_amounts(hw[1], kernel[1], strides[1], padding, dilation[1]),
    )


def window_slice(offset: int, dilation: int, stride: int, out: int) -> slice:
    """The slice of a padded axis read by kernel offset ``offset`` at every output position."""
    start = offset * dilation
    return slice(start, start + (out - 1) * stride + 1, stride)


def pad2d(xp: Any, x: Array, pads: tuple[Pair, Pair], value: float = 0.0) -> Array:
    """Pad the two spatial axes of ``(batch, h, w, c)`` with ``value``.

    Shape:
        ``(b, h, w, c) -> (b, h + top + bottom, w + left + right, c)``.
    """
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    b, h, w, c = x.shape
    out = xp.full(
        (b, h + top + bottom, w + left + right, c), value, dtype=x.dtype, device=device_of(x)
    )
    out[:, top : top + h, left : left + w, :] = x
    return out


def crop2d(x: Array, pads: tuple[Pair, Pair]) -> Array:
    """The inverse of :func:`pad2d` (and its vector-Jacobian product)."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    h, w = x.shape[1], x.shape[2]
    return x[:, top : h - bottom, left : w - right, :]


def col2im(
    xp: Any,
    cols: Array,
    shape: tuple[int, int, int, int],
    kernel: Pair,
    strides: Pair,
    dilation: Pair,
) -> Array:
    """The vector-Jacobian product of ``im2col``: sum each column back onto its pixel.

    ``dx[b, i dh + p sh, j dw + q sw, c] += cols[b, p, q, (i kw + j) C + c]``, accumulated over the
    kernel offsets ``(i, j)`` with in-place adds on strided slices (overlaps add up).

    Shape:
        ``cols (b, oh, ow, kh kw c)`` -> ``(b, h, w, c)`` = ``shape`` (the padded input's).
    """
    b, oh, ow, _ = cols.shape
    c = shape[3]
    (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
    parts = xp.reshape(cols, (b, oh, ow, kh * kw, c))
    dx = xp.zeros(shape, dtype=cols.dtype, device=device_of(cols))
    for i in range(kh):
        rows = window_slice(i, dh, sh, oh)
        for j in range(kw):
            dx[:, rows, window_slice(j, dw, sw, ow), :] += parts[:, :, :, i * kw + j, :]
    return dx
