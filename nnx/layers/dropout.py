"""Inverted dropout."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, Generator
from nnx.layers.base import Backprop, identity_backprop, register_layer
from nnx.layers.random_layer import RandomLayer
from nnx.validation import check_float

__all__ = ["Dropout"]


@register_layer
class Dropout(RandomLayer):
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

    supports_masking = True  # acts on each timestep alone: a mask passes through

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        self.rate = check_float(
            rate, "rate", who=type(self).__name__, minimum=0.0, maximum=1.0, maximum_open=True
        )

    def mask_shape(self, x: Array) -> tuple[int, ...]:
        """The shape of the Bernoulli mask for ``x`` (broadcast against it): ``x``'s own."""
        return tuple(x.shape)

    def forward_training(self, x: Array, rng: Generator) -> tuple[Array, Backprop]:
        """``y = x * m / (1 - rate)``, ``dx = dy * m / (1 - rate)``."""
        if self.rate == 0.0:
            return x, identity_backprop
        keep = 1.0 - self.rate
        mask = rng.bernoulli(self.mask_shape(x), keep, dtype=self.dtype)
        mask /= keep

        def backprop(dy: Array) -> Array:
            return dy * mask

        return x * mask, backprop

    def get_config(self) -> dict[str, Any]:
        """The layer's config plus ``rate``."""
        return {**super().get_config(), "rate": self.rate}
