"""Pooling layers: max and average over windows (the global forms are in ``global_pooling``)."""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device as device_of

from nnx.backends.base import Array
from nnx.functional import pooling as fp
from nnx.functional.conv import conv_output_length, crop2d, pad2d, spatial_pads
from nnx.layers import _spatial as sp
from nnx.layers.base import Backprop, Layer, Shape, register_layer

__all__ = ["AveragePooling1D", "AveragePooling2D", "MaxPooling1D", "MaxPooling2D"]


class _Pooling(Layer):
    """Windowed pooling; ``kind`` is ``"max"`` or ``"avg"``, ``rank`` 1 or 2."""

    rank = 2
    kind = "max"

    def __init__(
        self,
        pool_size: int | tuple[int, ...] = 2,
        strides: int | tuple[int, ...] | None = None,
        padding: str = "valid",
        data_format: str = "channels_last",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = type(self).__name__
        self.pool_size = sp.int_tuple(pool_size, self.rank, "pool_size", who)
        self.strides = (
            self.pool_size if strides is None else sp.int_tuple(strides, self.rank, "strides", who)
        )
        self.padding = sp.check_padding(padding, who)
        self.data_format = sp.check_data_format(data_format, who)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        spatial, channels = sp.split_shape(input_shape, self.rank, self.data_format, self.name)
        out = []
        for n, k, s in zip(spatial, self.pool_size, self.strides, strict=True):
            length = None if n is None else conv_output_length(n, k, s, self.padding)
            if length is not None and length <= 0:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: input shape {input_shape} is smaller "
                    f"than pool_size={self.pool_size}."
                )
            out.append(length)
        return sp.join_shape(tuple(out), channels, self.data_format)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        backend = self.backend
        assert backend is not None
        xp, rank, fmt = backend.xp, self.rank, self.data_format
        pool, strides = sp.as_pair(self.pool_size), sp.as_pair(self.strides)
        x2 = sp.to_2d(xp, x, rank, fmt)
        pads = spatial_pads(x2.shape[1:3], pool, strides, self.padding)
        if self.kind == "max":
            xpad = pad2d(xp, x2, pads, -math.inf)
            indexed = backend.max_pool2d_argmax(xpad, pool, strides) if training else None
            if indexed is not None:
                y, arg = indexed
                shape = tuple(xpad.shape)

                def backprop_arg(dy: Array) -> Array:
                    dy2 = sp.to_2d(xp, dy, rank, fmt)
                    dx = backend.max_pool2d_argmax_backward(dy2, arg, shape, pool, strides)
                    if dx is None:
                        dx = fp.max_pool2d_backward(xp, dy2, xpad, y, pool, strides)
                    return sp.from_2d(xp, crop2d(dx, pads), rank, fmt)

                return sp.from_2d(xp, y, rank, fmt), backprop_arg
            y = backend.max_pool2d(xpad, pool, strides)
            if y is None:
                y = fp.max_pool2d(xp, xpad, pool, strides)

            def backprop(dy: Array) -> Array:
                dy2 = sp.to_2d(xp, dy, rank, fmt)
                dx = backend.max_pool2d_backward(dy2, xpad, y, pool, strides)
                if dx is None:
                    dx = fp.max_pool2d_backward(xp, dy2, xpad, y, pool, strides)
                return sp.from_2d(xp, crop2d(dx, pads), rank, fmt)

            return sp.from_2d(xp, y, rank, fmt), backprop

        xpad = pad2d(xp, x2, pads)
        count: Array | float = float(math.prod(pool))
        if any(p for pair in pads for p in pair):  # "same": average over the real pixels only
            ones = xp.ones((1, *x2.shape[1:3], 1), dtype=x.dtype, device=device_of(x))
            real = pad2d(xp, ones, pads)
            count = fp.avg_pool2d(xp, real, pool, strides, 1.0)
        y = backend.avg_pool2d(xpad, pool, strides, count)
        if y is None:
            y = fp.avg_pool2d(xp, xpad, pool, strides, count)
        shape = tuple(xpad.shape)

        def backprop_avg(dy: Array) -> Array:
            dy2 = sp.to_2d(xp, dy, rank, fmt)
            dx = backend.avg_pool2d_backward(dy2, shape, pool, strides, count)
            if dx is None:
                dx = fp.avg_pool2d_backward(xp, dy2, shape, pool, strides, count)
            return sp.from_2d(xp, crop2d(dx, pads), rank, fmt)

        return sp.from_2d(xp, y, rank, fmt), backprop_avg

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


_POOL_DOC = """

    Args:
        pool_size: window size, an int or a tuple of one int per spatial axis (default 2).
        strides: step between windows (default: ``pool_size``, non-overlapping windows).
        padding: ``"valid"`` or ``"same"`` (output ``ceil(n / stride)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
"""


@register_layer
class MaxPooling2D(_Pooling):
    """Maximum over each ``(ph, pw)`` window: ``y[p, q, c] = max_{i,j} x[p sh + i, q sw + j, c]``.

    Backward routes ``dy`` to the window's arg-max; with ties exactly one element (the first
    in row-major window order) receives it. ``"same"`` padding pads with ``-inf``.

    Shape:
        Input ``(batch, h, w, c)`` (channels-first ``(batch, c, h, w)``); output
        ``(batch, oh, ow, c)`` with ``oh = (h - ph) // sh + 1`` (valid) or ``ceil(h / sh)``.

    >>> from nnx.backends import get_backend
    >>> xp = get_backend("numpy").xp
    >>> MaxPooling2D()(xp.reshape(xp.arange(16.0), (1, 4, 4, 1)))[0, :, :, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """


@register_layer
class AveragePooling2D(_Pooling):
    """Mean over each window; with ``"same"`` padding, over its real (unpadded) pixels only,
    as Keras does. Backward: ``dx[window] += dy / count``.

    Shape:
        As :class:`MaxPooling2D`.

    >>> from nnx.backends import get_backend
    >>> xp = get_backend("numpy").xp
    >>> AveragePooling2D()(xp.reshape(xp.arange(16.0), (1, 4, 4, 1)))[0, :, :, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """

    kind = "avg"


@register_layer
class MaxPooling1D(_Pooling):
    """Maximum over windows of a sequence (:class:`MaxPooling2D` with height 1).

    Shape:
        Input ``(batch, length, c)``; output ``(batch, out_length, c)``.

    >>> from nnx.backends import get_backend
    >>> MaxPooling1D(2)(get_backend("numpy").asarray([[[1.0], [3.0], [2.0], [0.0]]])).tolist()
    [[[3.0], [2.0]]]
    """

    rank = 1


@register_layer
class AveragePooling1D(_Pooling):
    """Mean over windows of a sequence (:class:`AveragePooling2D` with height 1).

    Shape:
        Input ``(batch, length, c)``; output ``(batch, out_length, c)``.

    >>> from nnx.backends import get_backend
    >>> AveragePooling1D(2)(get_backend("numpy").asarray([[[1.0], [3.0], [2.0], [0.0]]])).tolist()
    [[[2.0], [1.0]]]
    """

    rank = 1
    kind = "avg"


for _cls in (MaxPooling2D, AveragePooling2D, MaxPooling1D, AveragePooling1D):
    _cls.__doc__ = (_cls.__doc__ or "").replace("\n\n    Shape:", _POOL_DOC + "\n    Shape:", 1)
