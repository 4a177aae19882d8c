"""``SpatialDropout1D`` and ``SpatialDropout2D``: dropout of whole feature maps (channels)."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array
from nnx.layers import _spatial as sp
from nnx.layers.base import Backprop, register_layer
from nnx.layers.dropout import Dropout

__all__ = ["SpatialDropout1D", "SpatialDropout2D"]


@register_layer
class SpatialDropout2D(Dropout):
    """Drop entire channels in training: one Bernoulli draw per (sample, channel).

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    regularizes little; this drops the whole map. ``y = x * m / (1 - rate)`` with
    ``m ~ Bernoulli(1 - rate)`` of shape ``(batch, 1, 1, c)``; ``dx = dy * m / (1 - rate)``.

    Args:
        rate: fraction of channels to drop, in ``[0, 1)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: as in :class:`~nnx.layers.Dropout`.

    Shape:
        Input ``(batch, h, w, c)``, output the same.

    >>> from nnx.backends import get_backend
    >>> be = get_backend("numpy")
    >>> layer = SpatialDropout2D(0.5, seed=0)
    >>> layer.build((2, 2, 3), be)
    >>> y, _ = layer.forward(be.asarray([[[[1.0] * 3] * 2] * 2]), training=True)
    >>> bool((y[0, 0] == y[0, 1]).all() and (y[0] == y[0, 0, 0]).all())  # constant per channel
    True
    """

    def __init__(
        self,
        rate: float,
        data_format: str = "channels_last",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = sp.check_data_format(data_format, "SpatialDropout2D")

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """As :meth:`Dropout.forward`, for 4-d image batches only."""
        if x.ndim != 4:
            raise ValueError(
                f"SpatialDropout2D {self.name!r} expects (batch, h, w, c) images, "
                f"received shape {tuple(x.shape)}."
            )
        return super().forward(x, training=training)

    def mask_shape(self, x: Array) -> tuple[int, ...]:
        """``(batch, 1, 1, c)`` (channels-first: ``(batch, c, 1, 1)``): one draw per map."""
        if self.data_format == "channels_last":
            return (x.shape[0], 1, 1, x.shape[3])
        return (x.shape[0], x.shape[1], 1, 1)

    def get_config(self) -> dict[str, Any]:
        """The layer's config plus ``data_format``."""
        return {**super().get_config(), "data_format": self.data_format}


@register_layer
class SpatialDropout1D(Dropout):
    """Drop entire features of a sequence in training: one Bernoulli draw per (sample,
    feature), shared by every step (Keras's ``SpatialDropout1D``).

    ``y = x * m / (1 - rate)`` with ``m ~ Bernoulli(1 - rate)`` of shape ``(batch, 1,
    features)``; ``dx = dy * m / (1 - rate)``. A timestep mask passes through.

    Args:
        rate: fraction of features to drop, in ``[0, 1)``.
        seed: as in :class:`~nnx.layers.Dropout`.

    Shape:
        Input ``(batch, steps, features)``, output the same.

    >>> from nnx.backends import get_backend
    >>> be = get_backend("numpy")
    >>> layer = SpatialDropout1D(0.5, seed=0)
    >>> layer.build((4, 3), be)
    >>> y, _ = layer.forward(be.asarray([[[1.0] * 3] * 4]), training=True)
    >>> bool((y[0] == y[0, 0]).all())  # the same features dropped at every step
    True
    """

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """As :meth:`Dropout.forward`, for 3-d sequence batches only."""
        if x.ndim != 3:
            raise ValueError(
                f"SpatialDropout1D {self.name!r} expects (batch, steps, features) sequences, "
                f"received shape {tuple(x.shape)}."
            )
        return super().forward(x, training=training)

    def mask_shape(self, x: Array) -> tuple[int, ...]:
        """``(batch, 1, features)``: one draw per feature of each sample."""
        return (x.shape[0], 1, x.shape[2])
