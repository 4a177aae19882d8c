"""Global pooling layers: the max or the mean over all positions of each channel.

The 1-D ones read a timestep mask (from ``Embedding(mask_zero=True)`` or ``Masking`` before
them, or given as ``layer(x, mask=m)``, eagerly and in a graph): the mean and the max run over
the valid steps only (Keras's masked ``GlobalAveragePooling1D``; Keras's
``GlobalMaxPooling1D`` ignores masks, nnx's leaves padding out of the max too).
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from nnx.backends import backend_of
from nnx.backends.base import Array
from nnx.layers import _spatial as sp
from nnx.layers.base import Backprop, Layer, Shape, no_backprop, register_layer
from nnx.layers.masking import float_mask
from nnx.layers.symbolic import call_symbolic, check_graph_training, is_symbolic

__all__ = [
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
]


class _GlobalPooling(Layer):
    rank = 2
    kind = "avg"

    def __init__(
        self, data_format: str = "channels_last", keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = sp.check_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _, channels = sp.split_shape(input_shape, self.rank, self.data_format, self.name)
        if not self.keepdims:
            return (channels,)
        return sp.join_shape((1,) * self.rank, channels, self.data_format)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp, rank, fmt = self.backend.xp, self.rank, self.data_format  # type: ignore[union-attr]
        x2 = sp.to_2d(xp, x, rank, fmt)
        b, h, w, c = x2.shape
        flat = xp.reshape(x2, (b, h * w, c))
        if self.kind == "avg":
            y = xp.mean(flat, axis=1)
        else:
            winner = xp.argmax(flat, axis=1)  # the first maximum: one winner per channel
            pick = xp.arange(h * w, device=device_of(x))[None, :, None] == winner[:, None, :]
            y = xp.max(flat, axis=1)
        out_shape = (b, *self.compute_output_shape(tuple(x.shape[1:])))

        def backprop(dy: Array) -> Array:
            g = xp.reshape(dy, (b, 1, c))
            if self.kind == "avg":
                dflat = xp.broadcast_to(g / (h * w), (b, h * w, c))
            else:
                dflat = xp.where(pick, g, xp.zeros((), dtype=dy.dtype, device=device_of(dy)))
            return sp.from_2d(xp, xp.reshape(dflat, (b, h, w, c)), rank, fmt)

        return xp.reshape(y, out_shape), backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


@register_layer
class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over all pixels of each channel; backward spreads ``dy / (h w)`` evenly.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1.

    Shape:
        Input ``(batch, h, w, c)``; output ``(batch, c)`` (keepdims: ``(batch, 1, 1, c)``).

    >>> from nnx.backends import get_backend
    >>> xp = get_backend("numpy").xp
    >>> GlobalAveragePooling2D()(xp.reshape(xp.arange(8.0), (1, 2, 2, 2))).tolist()
    [[3.0, 4.0]]
    """


@register_layer
class GlobalMaxPooling2D(_GlobalPooling):
    """Maximum over all pixels of each channel; backward gives ``dy`` to the first arg-max.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1.

    Shape:
        Input ``(batch, h, w, c)``; output ``(batch, c)`` (keepdims: ``(batch, 1, 1, c)``).

    >>> from nnx.backends import get_backend
    >>> xp = get_backend("numpy").xp
    >>> GlobalMaxPooling2D()(xp.reshape(xp.arange(8.0), (1, 2, 2, 2))).tolist()
    [[6.0, 7.0]]
    """

    kind = "max"


class _GlobalPooling1D(_GlobalPooling):
    rank = 1

    def __call__(  # type: ignore[override]
        self, x: Any, mask: Array | None = None, training: bool | None = None
    ) -> Any:
        """Inference, or a graph node on symbolic tensors; ``mask`` (``(batch, steps)``,
        True = valid) replaces the input's own mask, as in Keras (``training`` changes
        nothing: pooling has no training mode)."""
        if is_symbolic(x):
            check_graph_training(self, training)
            return call_symbolic(self, x, None, None if mask is None else {"mask": mask})
        if mask is None:
            return super().__call__(x)
        if not self.built:
            self.build(tuple(x.shape[1:]), backend_of(x))
        with no_backprop():
            return self.forward_masked(x, mask, training=False)[0]

    def forward_masked(
        self, x: Array, mask: Array | None, *, training: bool = False
    ) -> tuple[Array, Backprop]:
        """Pooling over the valid steps: mean ``y = sum_t m_t x_t / max(sum_t m_t, 1)``
        (backward ``dx_t = m_t dy / max(sum m, 1)``), max ``y = max_{t: m_t} x_t`` (the
        first valid arg-max gets ``dy``); a sequence with no valid step gives 0."""
        if mask is None:
            return self.forward(x, training=training)
        self.check_input(x)
        xp, fmt = self.backend.xp, self.data_format  # type: ignore[union-attr]
        b, steps = int(x.shape[0]), int(x.shape[2] if fmt == "channels_first" else x.shape[1])
        if tuple(mask.shape) != (b, steps):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: mask must have shape (batch, steps) = "
                f"{(b, steps)}, received {tuple(mask.shape)}."
            )
        flat = xp.reshape(sp.to_2d(xp, x, 1, fmt), (b, steps, -1))
        c = int(flat.shape[2])
        m = float_mask(mask, x)[:, :, None]
        count = xp.maximum(xp.sum(m, axis=1), 1.0)  # (b, 1)
        zero = xp.zeros((), dtype=x.dtype, device=device_of(x))
        if self.kind == "avg":
            y = xp.sum(flat * m, axis=1) / count
        else:
            valid = mask[:, :, None]
            lowest = xp.asarray(-xp.inf, dtype=x.dtype, device=device_of(x))
            winner = xp.argmax(xp.where(valid, flat, lowest), axis=1)
            positions = xp.arange(steps, device=device_of(x))[None, :, None]
            pick = xp.logical_and(positions == winner[:, None, :], valid)
            y = xp.sum(xp.where(pick, flat, zero), axis=1)
        out_shape = (b, *self.compute_output_shape(tuple(x.shape[1:])))

        def backprop(dy: Array) -> Array:
            g = xp.reshape(dy, (b, 1, c))
            dflat = g * m / count[:, None, :] if self.kind == "avg" else xp.where(pick, g, zero)
            return sp.from_2d(xp, xp.reshape(dflat, (b, 1, steps, c)), 1, fmt)

        return xp.reshape(y, out_shape), backprop


@register_layer
class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps of a sequence, per channel.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the length axis with size 1.

    Shape:
        Input ``(batch, length, c)``; output ``(batch, c)``.

    >>> from nnx.backends import get_backend
    >>> GlobalAveragePooling1D()(get_backend("numpy").asarray([[[1.0], [3.0]]])).tolist()
    [[2.0]]
    """


@register_layer
class GlobalMaxPooling1D(_GlobalPooling1D):
    """Maximum over the steps of a sequence, per channel (first arg-max gets the gradient).

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the length axis with size 1.

    Shape:
        Input ``(batch, length, c)``; output ``(batch, c)``.

    >>> from nnx.backends import get_backend
    >>> GlobalMaxPooling1D()(get_backend("numpy").asarray([[[1.0], [3.0]]])).tolist()
    [[3.0]]
    """

    kind = "max"
