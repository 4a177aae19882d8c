"""Timestep masks into a traced ``call(self, inputs, mask=None)``, as Keras passes them: the
masks ``call`` receives become bool ``(batch, steps)`` inputs of its graph (no gradient), and
``layer(x, mask=m)`` in a graph is a keyword tensor of the node that replaces ``x``'s mask.

>>> from nnx.layers import Dense
>>> mask_inputs(Dense(2), [(5, 4)], (True,))[0].shape
(None, 5)
"""

from __future__ import annotations

from typing import Any

from nnx.layers import Input as InputLayer
from nnx.layers import Layer
from nnx.layers.symbolic import as_symbolic, call_symbolic, check_graph_training, current_trace

__all__ = ["call_with_mask", "mask_argument", "mask_inputs", "received_masks"]


def received_masks(layer: Layer, masks: list[Any]) -> list[Any]:
    """The masks ``call(..., mask=)`` receives, as Keras passes them: those of its first
    argument (one, or one per item of a list); ``call(inputs, other, mask=None)`` gets the
    mask of ``inputs`` alone."""
    return masks[:1] if layer.__dict__.get("spread_inputs") else masks


def mask_inputs(layer: Layer, shapes: list[Any], masked: tuple[bool, ...]) -> list[Any]:
    """One bool ``(batch, steps)`` graph input per present mask, steps from its input."""
    return [
        InputLayer(shape[:1], name=f"{layer.name}/mask_{i}", dtype="bool").output
        for i, (shape, present) in enumerate(zip(shapes, masked, strict=False))
        if present
    ]


def mask_argument(layer: Layer, tensors: list[Any], masked: tuple[bool, ...]) -> Any:
    """``call``'s ``mask=``: the one mask tensor, or a list (None where absent)."""
    if not layer.__dict__.get("multiple_inputs") or layer.__dict__.get("spread_inputs"):
        return tensors[0]
    found = iter(tensors)
    return [next(found) if present else None for present in masked]


def call_with_mask(
    layer: Layer, inputs: Any, mask: Any, options: dict[str, Any], training: bool | None
) -> Any:
    """``layer(x, mask=m)`` in a graph: ``m`` is a keyword tensor of the node, replacing the
    mask ``x`` came with (:mod:`nnx.models.graph`); data in a trace becomes a constant."""
    check_graph_training(layer, training)
    trace = current_trace()
    if trace is not None:
        items = inputs if isinstance(inputs, list) else [inputs]
        items = [t if as_symbolic(t) is not None else trace.constant(t) for t in items]
        inputs = items if isinstance(inputs, list) else items[0]
        mask = mask if as_symbolic(mask) is not None else trace.constant(mask)
    return call_symbolic(layer, inputs, options or None, {"mask": mask})
