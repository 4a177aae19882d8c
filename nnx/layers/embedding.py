"""``Embedding``: integer tokens to dense vectors, and the padding mask (``mask_zero``)."""

from __future__ import annotations

from typing import Any

import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends.base import Array, Generator
from nnx.functional.sequence import embedding_gradient
from nnx.layers.base import (
    Backprop,
    Layer,
    Shape,
    register_layer,
    serialize_or_none,
)
from nnx.layers.parameter import Parameter
from nnx.validation import check_bool, check_int

__all__ = ["Embedding"]


@register_layer
class Embedding(Layer):
    """Map integer tokens to dense vectors: ``y[b, t] = embeddings[x[b, t]]``.

    Backward: ``d embeddings[v] = sum over positions holding v of dy`` (no input gradient:
    tokens are not differentiable; the returned ``dx`` is zeros).

    Args:
        input_dim: vocabulary size; tokens must lie in ``[0, input_dim)``.
        output_dim: size of each vector.
        embeddings_initializer: initializer of the ``(input_dim, output_dim)`` table
            (Keras default ``"uniform"``: U(-0.05, 0.05)).
        embeddings_regularizer: optional penalty.
        embeddings_constraint: optional projection applied after each optimizer update.
        mask_zero: token 0 is padding: the layer emits the mask ``x != 0`` that recurrent
            and attention layers, the loss and the metrics honour (see
            :mod:`nnx.layers.masking`).

    Shape:
        Input ``(batch, steps)`` integer tokens (integral floats accepted, as models feed
        them), output ``(batch, steps, output_dim)``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> layer = Embedding(10, 3, mask_zero=True)
    >>> y = layer(b.asarray([[4, 0]]))
    >>> y.shape, layer.compute_mask(b.asarray([[4, 0]]), None).tolist()
    ((1, 2, 3), [[True, False]])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.input_dim = check_int(input_dim, "input_dim", who="Embedding", minimum=1)
        self.output_dim = check_int(output_dim, "output_dim", who="Embedding", minimum=1)
        self.mask_zero = check_bool(mask_zero, "mask_zero", who="Embedding")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = self.check_constraint(
            embeddings_constraint, "embeddings_constraint"
        )
        self.embeddings: Parameter | None = None

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        if len(input_shape) != 1:
            raise ValueError(
                f"Embedding {self.name!r} expects inputs of shape (batch, steps), "
                f"received input shape (batch, {', '.join(map(str, input_shape))})."
            )
        self.embeddings = self.add_weight(
            "embeddings",
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            rng,
            self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape, self.output_dim)

    def compute_mask(self, x: Array, mask: Array | None) -> Array | None:
        """``x != 0`` with ``mask_zero``, else None."""
        return (x != 0) if self.mask_zero else None

    def tokens(self, x: Array) -> Array:
        """``x`` as int64 tokens, checked to lie in ``[0, input_dim)``.

        The check reads two numbers back, free where arrays live in host memory; on a device
        backend (``backend.on_host`` False) it would synchronise every batch, so it is skipped
        there: check the tokens before moving them."""
        xp = self.backend.xp  # type: ignore[union-attr]
        if x.ndim != 2:
            raise ValueError(
                f"Embedding {self.name!r} expects tokens of shape (batch, steps), "
                f"received shape {tuple(x.shape)}."
            )
        # NOTE: round first, so a float token nudged by a finite difference stays the same.
        tokens = x if x.dtype == xp.int64 else xp.astype(xp.round(x), xp.int64)
        if not getattr(self.backend, "on_host", True):
            return tokens
        low, high = int(xp.min(tokens)), int(xp.max(tokens))
        if low < 0 or high >= self.input_dim:
            bad = high if high >= self.input_dim else low
            raise ValueError(
                f"Embedding {self.name!r}: token {bad} is outside [0, input_dim="
                f"{self.input_dim}); enlarge input_dim or fix the tokens."
            )
        return tokens

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        table = self.embeddings
        assert table is not None
        xp = self.backend.xp  # type: ignore[union-attr]
        tokens = self.tokens(x)
        n, steps = tokens.shape
        flat = xp.reshape(tokens, (-1,))
        y = xp.reshape(xp.take(table.value, flat, axis=0), (n, steps, self.output_dim))

        def backprop(dy: Array) -> Array:
            rows = xp.reshape(dy, (-1, self.output_dim))
            table.grad = embedding_gradient(flat, rows, self.input_dim)
            return xp.zeros_like(x)

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": serialize_or_none(self.embeddings_initializer),
            "embeddings_regularizer": serialize_or_none(self.embeddings_regularizer),
            "embeddings_constraint": serialize_or_none(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }
