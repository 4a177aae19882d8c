"""Position information for sequence models: ``PositionalEmbedding`` (a learned table) and
``SinusoidalPositionalEncoding`` (the fixed encoding), both added to their input."""

from __future__ import annotations

from typing import Any

import nnx.initializers as initializers
from nnx.backends.base import Array, Generator
from nnx.functional.sequence import sinusoidal_encoding
from nnx.layers.base import (
    Backprop,
    Layer,
    Shape,
    identity_backprop,
    register_layer,
    serialize_or_none,
)
from nnx.layers.parameter import Parameter
from nnx.validation import check_int

__all__ = ["PositionalEmbedding", "SinusoidalPositionalEncoding"]


def _check_sequence(layer: Layer, x: Array, length: int) -> None:
    if x.ndim != 3:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects inputs of shape "
            f"(batch, steps, features), received shape {tuple(x.shape)}."
        )
    if x.shape[1] > length:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: a sequence of {x.shape[1]} steps is "
            f"longer than its position table (sequence_length={length})."
        )


@register_layer
class PositionalEmbedding(Layer):
    """Add a learned vector per position: ``y[b, t] = x[b, t] + positions[t]``.

    Backward: ``dx = dy``, ``d positions[t] = sum_b dy[b, t]``.

    Args:
        sequence_length: the longest sequence the table covers; longer inputs are refused.
        initializer: initializer of the ``(sequence_length, features)`` table.

    Shape:
        Input ``(batch, steps, features)`` with ``steps <= sequence_length``, output the same.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> PositionalEmbedding(8)(b.asarray([[[0.0, 0.0]] * 3])).shape
    (1, 3, 2)
    """

    supports_masking = True

    def __init__(
        self, sequence_length: int, initializer: Any = "glorot_uniform", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.sequence_length = check_int(
            sequence_length, "sequence_length", who="PositionalEmbedding", minimum=1
        )
        self.initializer = initializers.get(initializer)
        self.positions: Parameter | None = None

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                f"PositionalEmbedding {self.name!r} expects inputs of shape (batch, steps, "
                f"features) with known features, received input shape {input_shape}."
            )
        if input_shape[0] is not None and input_shape[0] > self.sequence_length:
            raise ValueError(
                f"PositionalEmbedding {self.name!r}: input_shape has {input_shape[0]} steps, "
                f"more than sequence_length={self.sequence_length}."
            )
        self.positions = self.add_weight(
            "positions", (self.sequence_length, input_shape[-1]), self.initializer, rng
        )

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        _check_sequence(self, x, self.sequence_length)
        table = self.positions
        assert table is not None
        xp = self.backend.xp  # type: ignore[union-attr]
        steps = x.shape[1]

        def backprop(dy: Array) -> Array:
            grad = xp.sum(dy, axis=0)
            if steps < self.sequence_length:
                pad = xp.zeros(
                    (self.sequence_length - steps, dy.shape[-1]), dtype=dy.dtype, device=dy.device
                )
                grad = xp.concat([grad, pad], axis=0)
            table.grad = grad
            return dy

        return x + table.value[:steps, :], backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "sequence_length": self.sequence_length,
            "initializer": serialize_or_none(self.initializer),
        }


@register_layer
class SinusoidalPositionalEncoding(Layer):
    """Add the fixed sinusoidal encoding (:func:`nnx.functional.sequence.sinusoidal_encoding`):
    ``y[b, t] = x[b, t] + PE[t]``; no weights, ``dx = dy``.

    Args:
        max_wavelength: the ``base`` of the encoding (10000 in the Transformer paper).

    Shape:
        Input ``(batch, steps, features)``, output the same.

    >>> from nnx.backends import get_backend
    >>> x = get_backend("numpy").asarray([[[0.0, 0.0], [0.0, 0.0]]])
    >>> SinusoidalPositionalEncoding()(x)[0].round(3).tolist()
    [[0.0, 1.0], [0.841, 0.54]]
    """

    supports_masking = True

    def __init__(self, max_wavelength: float = 10000.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_wavelength = float(max_wavelength)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        _check_sequence(self, x, x.shape[1])
        xp = self.backend.xp  # type: ignore[union-attr]
        pe = sinusoidal_encoding(
            x.shape[1], x.shape[2], xp, x.dtype, self.max_wavelength, device=x.device
        )
        return x + pe, identity_backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_wavelength": self.max_wavelength}
