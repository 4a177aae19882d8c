"""``Cropping2D``: drop rows and columns at the edges of each image."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array
from nnx.functional.conv import crop2d, pad2d
from nnx.layers import _spatial as sp
from nnx.layers.base import Backprop, Layer, Shape, register_layer
from nnx.validation import is_int

__all__ = ["Cropping2D"]

Pads = tuple[tuple[int, int], tuple[int, int]]


def _croppings(cropping: Any) -> Pads:
    """``n``, ``(ch, cw)`` or ``((top, bottom), (left, right))`` as the last form."""
    message = (
        "Cropping2D: cropping must be a non-negative int, (height, width) or ((top, bottom), "
        f"(left, right)) of them, received cropping={cropping!r}."
    )
    if is_int(cropping):
        cropping = ((cropping, cropping), (cropping, cropping))
    if not isinstance(cropping, (list, tuple)) or len(cropping) != 2:
        raise ValueError(message)
    pairs = []
    for entry in cropping:
        pair = (entry, entry) if is_int(entry) else entry
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(message)
        if not all(is_int(p) and p >= 0 for p in pair):
            raise ValueError(message)
        pairs.append((int(pair[0]), int(pair[1])))
    return pairs[0], pairs[1]


@register_layer
class Cropping2D(Layer):
    """Crop the height and width of each image: ``y = x[:, top : h - bottom, left : w -
    right]``; backward pads ``dy`` with zeros back to ``(h, w)``.

    Args:
        cropping: ``n`` (all sides), ``(ch, cw)`` (symmetric) or ``((top, bottom), (left,
            right))``.
        data_format: ``"channels_last"`` (default, also for None) or ``"channels_first"``.

    Shape:
        Input ``(batch, h, w, c)``; output ``(batch, h - top - bottom, w - left - right, c)``.

    >>> from nnx.backends import get_backend
    >>> xp = get_backend("numpy").xp
    >>> x = xp.reshape(xp.arange(9.0), (1, 3, 3, 1))
    >>> Cropping2D(((1, 0), (0, 1)))(x)[0, :, :, 0].tolist()
    [[3.0, 4.0], [6.0, 7.0]]
    """

    def __init__(
        self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.cropping = _croppings(cropping)
        fmt = "channels_last" if data_format is None else data_format
        self.data_format = sp.check_data_format(fmt, "Cropping2D")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        (h, w), c = sp.split_shape(input_shape, 2, self.data_format, self.name)
        (top, bottom), (left, right) = self.cropping
        out = (
            None if h is None else h - top - bottom,
            None if w is None else w - left - right,
        )
        if any(n is not None and n <= 0 for n in out):
            raise ValueError(
                f"Cropping2D {self.name!r}: cropping={self.cropping} leaves nothing of input "
                f"shape {tuple(input_shape)}."
            )
        return sp.join_shape(out, c, self.data_format)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp, fmt, crops = self.backend.xp, self.data_format, self.cropping  # type: ignore[union-attr]
        y = crop2d(sp.to_2d(xp, x, 2, fmt), crops)

        def backprop(dy: Array) -> Array:
            return sp.from_2d(xp, pad2d(xp, sp.to_2d(xp, dy, 2, fmt), crops), 2, fmt)

        return sp.from_2d(xp, y, 2, fmt), backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "cropping": [list(p) for p in self.cropping],
            "data_format": self.data_format,
        }
