"""``ZeroPadding2D``: add rows and columns of zeros around each image."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array
from nnx.functional.conv import crop2d, pad2d
from nnx.layers import _spatial as sp
from nnx.layers.base import Backprop, Layer, Shape, register_layer
from nnx.validation import is_int

__all__ = ["ZeroPadding2D"]


def _pads(padding: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    if is_int(padding):
        padding = ((padding, padding), (padding, padding))
    elif len(padding) == 2 and all(is_int(p) for p in padding):
        padding = ((padding[0], padding[0]), (padding[1], padding[1]))
    rows = sp.int_tuple(tuple(padding[0]), 2, "padding", "ZeroPadding2D", minimum=0)
    cols = sp.int_tuple(tuple(padding[1]), 2, "padding", "ZeroPadding2D", minimum=0)
    return (rows[0], rows[1]), (cols[0], cols[1])


@register_layer
class ZeroPadding2D(Layer):
    """Pad the height and width of each image with zeros; backward crops ``dy`` back.

    Args:
        padding: ``p`` (all sides), ``(ph, pw)`` (symmetric) or ``((top, bottom), (left,
            right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Shape:
        Input ``(batch, h, w, c)``; output ``(batch, h + top + bottom, w + left + right, c)``.

    >>> from nnx.backends import get_backend
    >>> xp = get_backend("numpy").xp
    >>> ZeroPadding2D(((0, 1), (1, 0)))(xp.ones((1, 1, 1, 1)))[0, :, :, 0].tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """

    def __init__(
        self, padding: Any = (1, 1), data_format: str = "channels_last", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        try:
            self.padding = _pads(padding)
        except (TypeError, IndexError):
            raise ValueError(
                f"ZeroPadding2D: padding must be an int, (ph, pw) or ((top, bottom), "
                f"(left, right)), received padding={padding!r}."
            ) from None
        self.data_format = sp.check_data_format(data_format, "ZeroPadding2D")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        (h, w), c = sp.split_shape(input_shape, 2, self.data_format, self.name)
        (t, b), (left, r) = self.padding
        return sp.join_shape(
            (None if h is None else h + t + b, None if w is None else w + left + r),
            c,
            self.data_format,
        )

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp, fmt, pads = self.backend.xp, self.data_format, self.padding  # type: ignore[union-attr]
        y = pad2d(xp, sp.to_2d(xp, x, 2, fmt), pads)

        def backprop(dy: Array) -> Array:
            return sp.from_2d(xp, crop2d(sp.to_2d(xp, dy, 2, fmt), pads), 2, fmt)

        return sp.from_2d(xp, y, 2, fmt), backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "padding": [list(p) for p in self.padding],
            "data_format": self.data_format,
        }
