"""``AdditiveAttention``: Keras's Bahdanau-style attention layer, no projections."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, Generator
from nnx.functional.attention_scores import additive_scores
from nnx.layers.base import Shape, register_layer
from nnx.layers.dot_attention import Attention, ScoresBackward

__all__ = ["AdditiveAttention"]


@register_layer
class AdditiveAttention(Attention):
    """Additive attention (Bahdanau-style), Keras's ``layers.AdditiveAttention``.

    As :class:`~nnx.layers.Attention` (inputs, masks, causal mask, dropout, returned scores)
    with the scores::

        s[b, i, j] = sum_d scale_d tanh(q[b, i, d] + k[b, j, d])

    ``scale (d,)`` is learned (Glorot-uniform, as Keras) with ``use_scale``, else all ones.
    Backward: ``dscale = sum_{b,i,j} ds t``, ``du = ds scale (1 - t^2)``, ``dq_i = sum_j du``,
    ``dk_j = sum_i du`` (``t = tanh(q_i + k_j)``).

    Args:
        use_scale: learn the ``scale`` vector.
        dropout: rate of dropout on the attention weights, in training.
        seed: seed of the dropout masks.

    Shape:
        ``query (b, Tq, d)``, ``value (b, Tv, dv)``, ``key (b, Tv, d)``; output
        ``(b, Tq, dv)``. Weight ``scale (d,)``.

    >>> from nnx.backends import get_backend
    >>> rng = get_backend("numpy").rng(0)
    >>> q, v = rng.normal((2, 3, 4)), rng.normal((2, 5, 4))
    >>> y, scores = AdditiveAttention()([q, v], return_attention_scores=True)
    >>> y.shape, scores.shape
    ((2, 3, 4), (2, 3, 5))
    """

    def __init__(
        self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    @property
    def _score_name(self) -> str:
        return "additive scores"

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        self._build_rng(rng)
        dim = input_shape[-1]
        assert dim is not None
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight("scale", (dim,), "glorot_uniform", rng)

    def scores(self, q: Array, k: Array) -> tuple[Array, ScoresBackward]:
        s, back = additive_scores(q, k, None if self.scale is None else self.scale.value)

        def backward(ds: Array) -> tuple[Array, Array]:
            dq, dk, dscale = back(ds)
            if self.scale is not None:
                self.scale.grad = dscale
            return dq, dk

        return s, backward

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["score_mode"]
        return config
