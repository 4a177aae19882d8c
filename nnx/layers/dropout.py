"""Inverted dropout."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, Generator
from nnx.layers.base import Backprop, Layer, Shape, register_layer


@register_layer
class Dropout(Layer):
    """Randomly zero a fraction ``rate`` of the inputs during training (inverted dropout).

    Training: ``y = x * m / (1 - rate)`` with ``m ~ Bernoulli(1 - rate)``, so the expected
    activation is unchanged and inference is the identity. Backward: ``dx = dy * m / (1 - rate)``.

    Args:
        rate: fraction of inputs to drop, in ``[0, 1)``.
        seed: seed of this layer's mask stream (default: drawn from the model's generator, so
            a seeded model gives reproducible masks).

    Shape:
        Input ``(batch, *dims)``, output the same.

    >>> import nnx
    >>> layer = Dropout(0.5, seed=0)
    >>> x = nnx.backends.get_backend("numpy").asarray([[1.0, 1.0, 1.0, 1.0]])
    >>> layer(x)  # identity at inference
    array([[1., 1., 1., 1.]])
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be a float in [0, 1), received rate={rate!r}.")
        self.rate = float(rate)
        self.seed = seed
        self.rng: Generator | None = None

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        assert self.backend is not None
        self.rng = self.backend.rng(self.seed) if self.seed is not None else rng.spawn()

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        if not training or self.rate == 0.0:
            return x, _identity
        assert self.rng is not None
        keep = 1.0 - self.rate
        mask = self.rng.bernoulli(tuple(x.shape), keep, dtype=self.dtype)
        mask /= keep
        y = x * mask

        def backprop(dy: Array) -> Array:
            return dy * mask

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def _identity(dy: Array) -> Array:
    return dy
