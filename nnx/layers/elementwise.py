"""Weightless elementwise layers: ``Identity`` and ``Rescaling``.

>>> from nnx.backends import get_backend
>>> x = get_backend("numpy").asarray([[0.0, 127.5, 255.0]])
>>> Rescaling(1 / 127.5, offset=-1)(x).tolist()
[[-1.0, 0.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from array_api_compat import device as device_of

from nnx.backends.base import Array, array_namespace
from nnx.layers.base import Backprop, Layer, Shape, identity_backprop, register_layer
from nnx.validation import check_float

__all__ = ["Identity", "Rescaling"]


@register_layer
class Identity(Layer):
    """``y = x``, ``dx = dy``: a placeholder layer (Keras's ``Identity``)."""

    supports_masking = True

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        return x, identity_backprop


def _floats(value: float | Sequence[float], argument: str) -> float | list[float]:
    """A float, or a list of floats (one per channel)."""
    if isinstance(value, (int, float)):
        return check_float(value, argument, who="Rescaling")
    values = list(value)
    if not values:
        raise ValueError(f"Rescaling: {argument} must be a float or a non-empty list of floats.")
    return [check_float(v, f"{argument}[{i}]", who="Rescaling") for i, v in enumerate(values)]


@register_layer
class Rescaling(Layer):
    """``y = x scale + offset`` (``dx = dy scale``), e.g. pixels to ``[0, 1]`` with
    ``Rescaling(1 / 255)``. ``scale`` and ``offset`` are floats or one float per channel
    (the last axis). Integer inputs become the layer's float dtype.

    Args:
        scale: the factor.
        offset: added after scaling.
    """

    supports_masking = True

    def __init__(
        self, scale: float | Sequence[float], offset: float | Sequence[float] = 0.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.scale = _floats(scale, "scale")
        self.offset = _floats(offset, "offset")

    def build_parameters(self, input_shape: Shape, rng: Any) -> None:
        for argument in ("scale", "offset"):
            value = getattr(self, argument)
            channels = input_shape[-1] if input_shape else None
            if isinstance(value, list) and len(value) != 1 and len(value) != channels:
                raise ValueError(
                    f"Rescaling {self.name!r}: {argument} has {len(value)} values but the input "
                    f"has {channels} channels (input shape (batch, "
                    f"{', '.join(str(d) for d in input_shape)}))."
                )

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = array_namespace(x)
        if not xp.isdtype(x.dtype, "real floating"):
            x = xp.astype(x, getattr(xp, self.dtype))
        scale = xp.asarray(self.scale, dtype=x.dtype, device=device_of(x))
        offset = xp.asarray(self.offset, dtype=x.dtype, device=device_of(x))
        y = x * scale + offset

        def backprop(dy: Array) -> Array:
            return dy * scale

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
