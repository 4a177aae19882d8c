"""``UpSampling2D``: nearest-neighbour enlargement of images."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array
from nnx.layers import _spatial as sp
from nnx.layers.base import Backprop, Layer, Shape, register_layer

__all__ = ["UpSampling2D"]


@register_layer
class UpSampling2D(Layer):
    """Repeat each pixel ``size`` times along height and width (nearest neighbour).

    ``y[p, q] = x[p // sh, q // sw]``; backward sums ``dy`` over each ``sh x sw`` block.

    Args:
        size: ``s`` or ``(sh, sw)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: only ``"nearest"``.

    Shape:
        Input ``(batch, h, w, c)``; output ``(batch, sh h, sw w, c)``.

    >>> from nnx.backends import get_backend
    >>> xp = get_backend("numpy").xp
    >>> UpSampling2D(2)(xp.reshape(xp.asarray([1.0, 2.0]), (1, 1, 2, 1)))[0, :, :, 0].tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]
    """

    def __init__(
        self,
        size: int | tuple[int, int] = (2, 2),
        data_format: str = "channels_last",
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.size = sp.int_tuple(size, 2, "size", "UpSampling2D")
        self.data_format = sp.check_data_format(data_format, "UpSampling2D")
        if interpolation != "nearest":
            raise ValueError(
                f'UpSampling2D: only interpolation="nearest" is implemented, '
                f"received interpolation={interpolation!r}."
            )
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        spatial, c = sp.split_shape(input_shape, 2, self.data_format, self.name)
        out = tuple(None if n is None else n * s for n, s in zip(spatial, self.size, strict=True))
        return sp.join_shape(out, c, self.data_format)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp, fmt = self.backend.xp, self.data_format  # type: ignore[union-attr]
        (sh, sw) = self.size
        x2 = sp.to_2d(xp, x, 2, fmt)
        b, h, w, c = x2.shape
        wide = xp.broadcast_to(x2[:, :, None, :, None, :], (b, h, sh, w, sw, c))
        y = xp.reshape(wide, (b, h * sh, w * sw, c))

        def backprop(dy: Array) -> Array:
            blocks = xp.reshape(sp.to_2d(xp, dy, 2, fmt), (b, h, sh, w, sw, c))
            return sp.from_2d(xp, xp.sum(blocks, axis=(2, 4)), 2, fmt)

        return sp.from_2d(xp, y, 2, fmt), backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "size": list(self.size),
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }
