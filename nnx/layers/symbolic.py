"""Symbolic tensors: what ``nnx.Input`` returns and what calling a layer on one records.

A :class:`SymbolicTensor` holds no data, only the shape of one sample and the :class:`Node`
that produces it (Keras's ``KerasTensor``). Calling a layer on symbolic tensors checks the
shapes, computes the output shape without building any weight, and records a node
``layer(inputs) -> output``; :class:`nnx.models.functional.Functional` later walks these nodes
from its outputs back to its inputs, builds the layers with the model's backend and seed, and
runs them in topological order.

A layer called on a *list* of tensors (the merge layers, attention's ``query, value[, key]``)
declares ``multiple_inputs = True``; its ``build``, ``compute_output_shape`` and ``forward`` then
take lists, and its ``backprop`` returns one gradient per input. Keyword options of the call
(attention's ``use_causal_mask``) are recorded in the node, passed to ``forward`` at every run
and saved in the graph config; they must be JSON values.

>>> from nnx.layers import Dense, Input
>>> x = Input((3,)).output
>>> h = Dense(4)(x)
>>> h.shape, h.node.inputs[0] is x
((None, 4), True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Node", "SymbolicTensor", "as_symbolic", "call_symbolic", "is_symbolic"]

Shape = tuple[int | None, ...]


class SymbolicTensor:
    """A placeholder for the batch of arrays a layer will produce.

    Args:
        sample_shape: the shape of one sample (no batch axis).
        dtype: the dtype of the data (None: the model's float dtype).
        node: the node that produces it.
        name: a readable name (the producing layer's).

    Attributes:
        shape: ``(None, *sample_shape)``, as Keras shows it.
    """

    def __init__(self, sample_shape: Shape, dtype: str | None, node: Node, name: str) -> None:
        self.sample_shape = tuple(sample_shape)
        self.dtype = dtype
        self.node = node
        self.name = name

    @property
    def shape(self) -> Shape:
        """The shape with the batch axis first (None: any batch size)."""
        return (None, *self.sample_shape)

    @property
    def ndim(self) -> int:
        """The number of axes, batch axis included."""
        return len(self.sample_shape) + 1

    def __repr__(self) -> str:
        dtype = self.dtype or "float"
        return f"<SymbolicTensor shape={self.shape} dtype={dtype} name={self.name!r}>"


class Node:
    """One call of a layer in a graph: ``output = layer(inputs)``.

    Args:
        layer: the layer called (an ``Input`` layer for a graph input, with no inputs).
        inputs: the tensors it was called on.
        multiple: whether it was called on a list (its forward takes and returns lists).
        options: keyword options of the call, given to ``layer.forward`` (JSON values).

    Attributes:
        output: the tensor the call produced (set when the node is made).
    """

    def __init__(
        self,
        layer: Any,
        inputs: Sequence[SymbolicTensor],
        multiple: bool,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.layer = layer
        self.inputs = tuple(inputs)
        self.multiple = multiple
        self.options: dict[str, Any] = dict(options or {})
        self.output: SymbolicTensor | None = None

    @property
    def is_input(self) -> bool:
        """Whether this node is a graph input (an ``Input`` layer's placeholder)."""
        return not self.inputs

    def __repr__(self) -> str:
        names = ", ".join(t.name for t in self.inputs)
        return f"<Node {self.layer.name}({names})>"


def as_symbolic(x: Any) -> SymbolicTensor | None:
    """``x`` itself if it is a symbolic tensor, an ``Input`` layer's output, else None."""
    if isinstance(x, SymbolicTensor):
        return x
    output = getattr(x, "output", None)
    return output if isinstance(output, SymbolicTensor) else None


def is_symbolic(x: Any) -> bool:
    """Whether ``x`` is a symbolic tensor (or an ``Input`` layer), or a list holding one."""
    if isinstance(x, (list, tuple)):
        return any(as_symbolic(t) is not None for t in x)
    return as_symbolic(x) is not None


def call_symbolic(layer: Any, x: Any, options: Mapping[str, Any] | None = None) -> SymbolicTensor:
    """Record ``layer(x, **options)`` on symbolic tensors and return the output's placeholder.

    Raises:
        TypeError: a list given to a one-input layer, one tensor to a list-input layer, or a
            list mixing arrays and symbolic tensors.
        ValueError: the input shape differs from the one the layer was built or first called
            with, or the layer refuses it (e.g. ``Add`` on different shapes).
    """
    who = f"Layer {layer.name!r} ({type(layer).__name__})"
    multiple = isinstance(x, (list, tuple))
    items = list(x) if multiple else [x]
    tensors = [as_symbolic(t) for t in items]
    if any(t is None for t in tensors):
        kinds = ", ".join(type(t).__name__ for t in items)
        raise TypeError(f"{who} was called on a mix of symbolic tensors and data: [{kinds}].")
    if multiple != bool(getattr(layer, "multiple_inputs", False)):
        expected = "a list of tensors" if not multiple else "one tensor"
        raise TypeError(
            f"{who} takes {expected}, received "
            f"{f'a list of {len(items)}' if multiple else 'one tensor'}."
        )
    inputs: list[SymbolicTensor] = [t for t in tensors if t is not None]
    shapes = [t.sample_shape for t in inputs]
    shape: Any = shapes if multiple else shapes[0]
    _check_same_as_before(layer, shape, who)
    output_shape = tuple(layer.compute_output_shape(shape))
    node = Node(layer, inputs, multiple, options)
    count = len(layer.inbound_nodes)
    name = layer.name if count == 0 else f"{layer.name}_{count}"
    node.output = SymbolicTensor(output_shape, None, node, name)
    layer.inbound_nodes.append(node)
    return node.output


def _check_same_as_before(layer: Any, shape: Any, who: str) -> None:
    """A shared or pre-built layer must see the shape it was built or first called with."""
    if layer.inbound_nodes:
        first = layer.inbound_nodes[0]
        before: Any = [t.sample_shape for t in first.inputs]
        before = before if first.multiple else before[0]
    elif layer.built or layer.input_shape is not None:
        before = getattr(layer, "input_shapes", None) or layer.input_shape
    else:
        return
    if not _compatible(before, shape):
        raise ValueError(
            f"{who} expects input shape {_show(before)}, received {_show(shape)} "
            "(a shared layer sees the same shape at every call)."
        )


def _compatible(a: Any, b: Any) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(_compatible(x, y) for x, y in zip(a, b, strict=True))
        )
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def _show(shape: Any) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_show(s) for s in shape) + "]"
    return "(None, " + ", ".join("None" if d is None else str(d) for d in shape) + ")"
