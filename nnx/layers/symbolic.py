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

Two Keras call forms need more than one tensor in or out of a node:

- *tensor keywords*: ``LSTM(8)(x, initial_state=[h, c])`` or ``mha(q, v, attention_mask=m)``.
  The node keeps them in :attr:`Node.keywords` (a tensor or a list of tensors per name); the
  graph passes their arrays to ``forward`` under the same names, and the layer's ``backprop``
  then returns a flat list: the positional input's gradient(s), then one per keyword tensor.
- *several outputs*: a layer whose ``compute_call_output_shape(shape, options)`` returns a
  ``list`` of shapes (``LSTM(..., return_state=True)``: ``[y, h, c]``) makes a node with one
  tensor per output; its ``forward`` returns a tuple, and its ``backprop`` takes a tuple
  holding one gradient per output (None where no gradient reaches it).

>>> from nnx.layers import Dense, Input
>>> x = Input((3,)).output
>>> h = Dense(4)(x)
>>> h.shape, h.node.inputs[0] is x
((None, 4), True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

__all__ = [
    "Node",
    "SymbolicTensor",
    "as_symbolic",
    "call_in_graph",
    "call_symbolic",
    "check_graph_training",
    "current_trace",
    "full_shape",
    "is_symbolic",
    "keyword_tensors",
    "tracing",
]

Shape = tuple[int | None, ...]


class SymbolicTensor:
    """A placeholder for the batch of arrays a layer will produce.

    Args:
        sample_shape: the shape of one sample (no batch axis).
        dtype: the dtype of the data (None: the model's float dtype).
        node: the node that produces it.
        name: a readable name (the producing layer's).
        index: its position among the node's outputs (0 for a one-output node).

    Attributes:
        shape: ``(None, *sample_shape)``, as Keras shows it.
        leading_dim: None for a batch of samples; an int for a tensor derived from constants
            only (an ``nnx.ops.arange`` in a traced ``call``), whose first axis has that fixed
            size and broadcasts against the batch axis (see :func:`full_shape`).

    Arithmetic (``+ - * / ** @``, unary ``-``), comparisons (``< <= > >=``) and logic
    (``& | ~``) with a number, an array or another tensor record an operation node
    (:mod:`nnx.layers.tensor_ops`), broadcasting as NumPy does.
    """

    #: ``apply(op, operands, params) -> SymbolicTensor``: records an operation node; set by
    #: :mod:`nnx.layers.tensor_ops` (which imports this module, so this one cannot import it)
    operation: ClassVar[Callable[[str, Sequence[Any], dict[str, Any]], Any] | None] = None
    #: a tensor that has no batch axis (constants) keeps its first axis's size here
    leading_dim: int | None = None
    #: NumPy must not turn ``array + tensor`` into an object array: it defers to __radd__
    __array_ufunc__ = None

    def __init__(
        self, sample_shape: Shape, dtype: str | None, node: Node, name: str, index: int = 0
    ) -> None:
        self.sample_shape = tuple(sample_shape)
        self.dtype = dtype
        self.node = node
        self.name = name
        #: the position of this tensor among its node's outputs
        self.index = index

    @property
    def shape(self) -> Shape:
        """The shape with the batch axis first (None: any batch size)."""
        return (self.leading_dim, *self.sample_shape)

    @property
    def ndim(self) -> int:
        """The number of axes, batch axis included."""
        return len(self.sample_shape) + 1

    def __repr__(self) -> str:
        dtype = self.dtype or "float"
        return f"<SymbolicTensor shape={self.shape} dtype={dtype} name={self.name!r}>"

    # --- arithmetic: each records an operation node ---------------------------------------
    def _apply(self, op: str, operands: Sequence[Any], **params: Any) -> Any:
        if SymbolicTensor.operation is None:  # pragma: no cover (nnx.layers registers it)
            raise RuntimeError("import nnx.layers before doing arithmetic on symbolic tensors.")
        return SymbolicTensor.operation(op, operands, params)

    def __add__(self, other: Any) -> Any:
        return self._apply("add", (self, other))

    def __radd__(self, other: Any) -> Any:
        return self._apply("add", (other, self))

    def __sub__(self, other: Any) -> Any:
        return self._apply("subtract", (self, other))

    def __rsub__(self, other: Any) -> Any:
        return self._apply("subtract", (other, self))

    def __mul__(self, other: Any) -> Any:
        return self._apply("multiply", (self, other))

    def __rmul__(self, other: Any) -> Any:
        return self._apply("multiply", (other, self))

    def __truediv__(self, other: Any) -> Any:
        return self._apply("divide", (self, other))

    def __rtruediv__(self, other: Any) -> Any:
        return self._apply("divide", (other, self))

    def __pow__(self, other: Any) -> Any:
        return self._apply("power", (self, other))

    def __rpow__(self, other: Any) -> Any:
        return self._apply("power", (other, self))

    def __matmul__(self, other: Any) -> Any:
        return self._apply("matmul", (self, other))

    def __rmatmul__(self, other: Any) -> Any:
        return self._apply("matmul", (other, self))

    def __neg__(self) -> Any:
        return self._apply("negative", (self,))

    def __pos__(self) -> SymbolicTensor:
        return self

    def __getitem__(self, index: Any) -> Any:
        return self._apply("getitem", (self,), index=index)

    # comparisons and logic (bool results, no gradient: what masks are made of); == and !=
    # stay identity, as tensors are dict keys and list members (use ops.equal/not_equal)
    def __lt__(self, other: Any) -> Any:
        return self._apply("less", (self, other))

    def __le__(self, other: Any) -> Any:
        return self._apply("less_equal", (self, other))

    def __gt__(self, other: Any) -> Any:
        return self._apply("greater", (self, other))

    def __ge__(self, other: Any) -> Any:
        return self._apply("greater_equal", (self, other))

    def __and__(self, other: Any) -> Any:
        return self._apply("logical_and", (self, other))

    def __rand__(self, other: Any) -> Any:
        return self._apply("logical_and", (other, self))

    def __or__(self, other: Any) -> Any:
        return self._apply("logical_or", (self, other))

    def __ror__(self, other: Any) -> Any:
        return self._apply("logical_or", (other, self))

    def __invert__(self) -> Any:
        return self._apply("logical_not", (self,))


def full_shape(tensor: SymbolicTensor) -> Shape:
    """The shape with its first axis: None for the batch, or a constant's fixed size."""
    return (tensor.leading_dim, *tensor.sample_shape)


class Node:
    """One call of a layer in a graph: ``outputs = layer(args, **keywords, **options)``.

    Args:
        layer: the layer called (an ``Input`` layer for a graph input, with no inputs).
        args: the tensors it was called on (positionally: one, or a list).
        multiple: whether it was called on a list (its forward takes and returns lists).
        options: keyword options of the call, given to ``layer.forward`` (JSON values).
        keywords: tensor keyword arguments (``initial_state=[h, c]``), a tensor or a list of
            tensors per name.

    Attributes:
        inputs: every tensor the call reads: ``args`` then the keyword tensors in order.
        outputs: the tensors the call produced (set when the node is made).
        multiple_outputs: whether ``forward`` returns a tuple, one array per output.
    """

    def __init__(
        self,
        layer: Any,
        args: Sequence[SymbolicTensor],
        multiple: bool,
        options: Mapping[str, Any] | None = None,
        keywords: Mapping[str, SymbolicTensor | Sequence[SymbolicTensor]] | None = None,
    ) -> None:
        self.layer = layer
        self.args = tuple(args)
        self.multiple = multiple
        self.options: dict[str, Any] = dict(options or {})
        self.keywords: dict[str, SymbolicTensor | tuple[SymbolicTensor, ...]] = {
            k: v if isinstance(v, SymbolicTensor) else tuple(v) for k, v in (keywords or {}).items()
        }
        self.inputs = self.args + keyword_tensors(self.keywords)
        self.outputs: list[SymbolicTensor] = []
        self.multiple_outputs = False

    @property
    def output(self) -> SymbolicTensor | None:
        """The first (for most layers the only) output tensor, None before it is made."""
        return self.outputs[0] if self.outputs else None

    @output.setter
    def output(self, tensor: SymbolicTensor) -> None:
        self.outputs = [tensor]

    @property
    def is_input(self) -> bool:
        """Whether this node is a graph input (an ``Input`` layer's placeholder)."""
        return not self.inputs

    def __repr__(self) -> str:
        names = ", ".join(t.name for t in self.inputs)
        return f"<Node {self.layer.name}({names})>"


_TRACE: ContextVar[Any] = ContextVar("nnx_trace", default=None)


@contextmanager
def tracing(trace: Any) -> Iterator[None]:
    """Inside this block a subclassed layer's ``call`` is being traced: ``trace.constant(x)``
    turns an array a layer is called on into a constant node of the traced graph."""
    token = _TRACE.set(trace)
    try:
        yield
    finally:
        _TRACE.reset(token)


def current_trace() -> Any:
    """The trace being recorded (see :func:`tracing`), None outside one."""
    return _TRACE.get()


def check_graph_training(layer: Any, training: bool | None) -> None:
    """Refuse ``training=`` on a graph call unless it is None or, inside a traced ``call``,
    the mode being traced (the graph runs every layer in the mode fit/predict choose)."""
    trace = current_trace()
    if training is not None and (trace is None or trace.training is not bool(training)):
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) was called with "
            f"training={training!r} in a graph; a graph runs each layer in the mode fit/"
            "predict choose: pass the call's own training argument through, or nothing."
        )


def call_in_graph(
    layer: Any, x: Any, options: Mapping[str, Any] | None = None, training: bool | None = None
) -> Any:
    """``layer(x)`` recorded in a graph: on symbolic tensors, or inside a trace on data,
    which becomes a constant node (so its layer's weights still get gradients).

    A constant enters with a batch axis of size 1 (``arange(5)`` is seen as ``(1, 5)``), which
    broadcasts against the batch in later arithmetic; the output keeps that fixed axis.

    ``training`` must be None, or inside a traced ``call`` the mode being traced: the graph
    runs every layer in the mode ``fit`` or ``predict`` choose.
    """
    check_graph_training(layer, training)
    trace = current_trace()
    if trace is not None and isinstance(x, (list, tuple)):
        x = [t if as_symbolic(t) is not None else trace.constant(t) for t in x]
    elif not is_symbolic(x):
        if trace is None:
            raise TypeError(f"call_in_graph: {type(x).__name__} is not a symbolic tensor.")
        x = trace.constant(x)
    out = call_symbolic(layer, x, options)
    items = [as_symbolic(t) for t in (x if isinstance(x, (list, tuple)) else [x])]
    leading = {t.leading_dim for t in items if t is not None}
    if leading and None not in leading:
        for t in out if isinstance(out, list) else [out]:
            t.leading_dim = max(d for d in leading if d is not None)
    return out


def keyword_tensors(
    keywords: Mapping[str, SymbolicTensor | Sequence[SymbolicTensor]],
) -> tuple[SymbolicTensor, ...]:
    """The tensors of a node's keyword arguments, flattened in order."""
    out: list[SymbolicTensor] = []
    for value in keywords.values():
        out.extend([value] if isinstance(value, SymbolicTensor) else value)
    return tuple(out)


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


def call_symbolic(
    layer: Any,
    x: Any,
    options: Mapping[str, Any] | None = None,
    keywords: Mapping[str, Any] | None = None,
) -> Any:
    """Record ``layer(x, **keywords, **options)`` on symbolic tensors and return the output's
    placeholder (a list of them for a layer with several outputs).

    Args:
        layer: the layer called.
        x: a symbolic tensor, or a list of them for a list-input layer.
        options: JSON keyword options of the call.
        keywords: tensor keyword arguments (a symbolic tensor or a list of them per name).

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
    tensor_keywords = {k: _keyword(v, k, who) for k, v in (keywords or {}).items()}
    shape_of_call = getattr(layer, "compute_call_output_shape", None)
    if shape_of_call is not None:
        output_shape = shape_of_call(shape, dict(options or {}), _keyword_shapes(tensor_keywords))
    else:
        output_shape = layer.compute_output_shape(shape)
    node = Node(layer, inputs, multiple, options, tensor_keywords)
    count = len(layer.inbound_nodes)
    name = layer.name if count == 0 else f"{layer.name}_{count}"
    if isinstance(output_shape, list):
        node.multiple_outputs = True
        node.outputs = [
            SymbolicTensor(tuple(s), None, node, name if i == 0 else f"{name}:{i}", i)
            for i, s in enumerate(output_shape)
        ]
    else:
        node.output = SymbolicTensor(tuple(output_shape), None, node, name)
    layer.inbound_nodes.append(node)
    return list(node.outputs) if node.multiple_outputs else node.output


def _keyword(value: Any, name: str, who: str) -> SymbolicTensor | tuple[SymbolicTensor, ...]:
    """A keyword argument of a symbolic call as a tensor or a tuple of tensors."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    tensors = [as_symbolic(t) for t in items]
    if not items or any(t is None for t in tensors):
        kinds = ", ".join(type(t).__name__ for t in items)
        raise TypeError(
            f"{who}: {name}= in a functional graph must be symbolic tensors (from nnx.Input "
            f"or layer calls), received [{kinds}]."
        )
    found = [t for t in tensors if t is not None]
    return tuple(found) if isinstance(value, (list, tuple)) else found[0]


def _keyword_shapes(keywords: Mapping[str, Any]) -> dict[str, Any]:
    """The sample shapes of tensor keywords, with the same structure."""
    return {
        k: v.sample_shape if isinstance(v, SymbolicTensor) else [t.sample_shape for t in v]
        for k, v in keywords.items()
    }


def _check_same_as_before(layer: Any, shape: Any, who: str) -> None:
    """A shared or pre-built layer must see the shape it was built or first called with
    (not checked inside a traced ``call`` of unknown length, traced once per length)."""
    if getattr(current_trace(), "loose", False):
        return
    if layer.inbound_nodes:
        first = layer.inbound_nodes[0]
        before: Any = [t.sample_shape for t in first.args]
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
