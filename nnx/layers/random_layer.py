"""``RandomLayer``: the base of every layer that draws random numbers in training.

Dropout, spatial dropout, Gaussian noise and the augmentation layers each hold their own seeded
stream (``self.rng``, saved with the model and replayed by ``nnx.gradcheck``) and are the
identity at inference.
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, Generator
from nnx.layers.base import Backprop, Layer, Shape, identity_backprop

__all__ = ["RandomLayer"]


class RandomLayer(Layer):
    """A layer with its own seeded random stream, random in training, the identity at inference.

    Subclasses implement :meth:`forward_training`, the training-mode transform.

    Args:
        seed: seed of this layer's stream (default: drawn from the model's generator, so a
            seeded model gives reproducible draws).
        name, input_shape, trainable: see :class:`~nnx.layers.Layer`.

    >>> from nnx.backends import get_backend
    >>> class Flip(RandomLayer):
    ...     def forward_training(self, x, rng):
    ...         return -x, lambda dy: -dy
    >>> layer = Flip(seed=0)
    >>> layer.build((2,), get_backend("numpy"))
    >>> x = get_backend("numpy").asarray([[1.0, 2.0]])
    >>> layer(x).tolist(), layer.forward(x, training=True)[0].tolist()
    ([[1.0, 2.0]], [[-1.0, -2.0]])
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.rng: Generator | None = None

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        """Create this layer's stream: from ``seed``, else spawned from the model's ``rng``."""
        assert self.backend is not None
        self.rng = self.backend.rng(self.seed) if self.seed is not None else rng.spawn()

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """The identity at inference; :meth:`forward_training` in training."""
        self.check_input(x)
        if not training:
            return x, identity_backprop
        assert self.rng is not None
        return self.forward_training(x, self.rng)

    def forward_training(self, x: Array, rng: Generator) -> tuple[Array, Backprop]:
        """The training-mode transform of ``x`` drawing from ``rng``, and its backprop."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The layer's config plus ``seed``."""
        return {**super().get_config(), "seed": self.seed}
