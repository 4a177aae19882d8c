"""``WeightRead``: a node of a traced ``call`` that reads one of its layer's own weights
(``ops.matmul(inputs, self.w)``), so the weight's gradient is written in the backward pass.

The weight is found by its position among the layer's weights, so it survives the layer
being built again (placeholder weights while tracing, then the model's).
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.layers import Layer
from nnx.layers.base import Backprop, Shape

__all__ = ["WeightRead"]


class WeightRead(Layer):
    """Output ``w`` (with a unit batch axis) for the weight ``owner._weights[index]``;
    ``backprop(dy)`` sets ``w.grad = dy`` (already summed over broadcast axes by the
    operations that read it) and sends nothing to its input, which only orders it.

    Args:
        owner: the subclassed layer whose weight it reads.
        index: the weight's position in ``owner.parameters()``.
    """

    def __init__(self, owner: Layer, index: int) -> None:
        super().__init__(name=f"{owner.name}/read_{index}")
        self.owner, self.index = owner, index

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return self.owner._weights[self.index].shape

    def forward(self, x: Any, *, training: bool = False) -> tuple[Array, Backprop]:
        p = self.owner._weights[self.index]
        xp = array_namespace(p.value)

        def backprop(dy: Array) -> Array:
            p.grad = xp.reshape(dy, p.shape)
            return None  # type: ignore[return-value]

        return xp.expand_dims(p.value, axis=0), backprop
