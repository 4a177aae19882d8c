"""Operations on symbolic tensors as graph nodes: ``x + y``, ``nnx.ops.matmul(x, w)``...

Arithmetic on a :class:`~nnx.layers.symbolic.SymbolicTensor` (and every ``nnx.ops`` function
given one) records a :class:`TensorOp` node: a weightless layer whose ``forward`` is the
operation of :mod:`nnx.functional.operations` and whose backprop is its vector-Jacobian
product (summed over broadcast axes). An array operand becomes a :class:`Constant` node.
Both are registered layers, so a graph using them saves and loads.

>>> import nnx
>>> x = nnx.Input((3,))
>>> y = 2 * x + 1
>>> y.shape, type(y.node.layer).__name__, y.node.layer.op
((None, 3), 'TensorOp', 'add')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends import Backend, backend_of, get_backend
from nnx.backends.base import Array, Generator
from nnx.functional.operations import OPERATIONS
from nnx.functional.operations_compare import BOOL_RESULTS, INDEX_RESULTS
from nnx.functional.operations_shape import encode_index
from nnx.layers.base import Backprop, Layer, Shape, register_layer
from nnx.layers.parameter import Parameter
from nnx.layers.symbolic import SymbolicTensor, as_symbolic, call_symbolic, current_trace
from nnx.validation import check_choice

__all__ = ["Constant", "TensorOp", "apply_operation", "constant_tensor"]

#: operations taking two operands, one of which may be a number
BINARY = (
    "add",
    "subtract",
    "multiply",
    "divide",
    "power",
    "minimum",
    "maximum",
    *sorted(BOOL_RESULTS - {"logical_not"}),
)


def _unique_name(base: str) -> str:
    count = Layer._counters.get(base, 0)
    Layer._counters[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


@register_layer
class TensorOp(Layer):
    """One tensor operation in a graph (see the module); inputs are a list of tensors.

    Args:
        op: the operation's name (a key of :data:`nnx.functional.operations.OPERATIONS`).
        params: its JSON parameters (``{"axis": 1}``, ``{"scalar": 2.0}``...).
        leading: per input, None when its first axis is the batch, else the fixed size of its
            first axis (a constant's).

    Shape:
        NumPy broadcasting and the operation's own rule, the batch axis first.

    >>> TensorOp("add", leading=[None, 1]).compute_output_shape([(4, 8), (4, 8)])
    (4, 8)
    """

    multiple_inputs = True

    def __init__(
        self,
        op: str,
        params: dict[str, Any] | None = None,
        leading: Sequence[int | None] | None = None,
        *,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        check_choice(op, "op", tuple(sorted(OPERATIONS)), who="TensorOp")
        super().__init__(name=name or _unique_name(op), trainable=trainable)
        self.op, self.params = op, dict(params or {})
        self.leading = list(leading or [])

    def full_output_shape(self, shapes: Sequence[Sequence[int | None]]) -> Shape:
        """The output shape with its first axis (None: the batch) for these sample shapes."""
        leading = self.leading or [None] * len(shapes)
        strip = self._unit_axes(len(shapes))
        full = [
            tuple(s) if cut else (lead, *s)
            for lead, s, cut in zip(leading, shapes, strip, strict=True)
        ]
        return tuple(OPERATIONS[self.op].shape(full, self.params))

    def _unit_axes(self, n: int) -> list[bool]:
        """Which inputs lose their unit batch axis first: a constant or weight in ``matmul``
        with a batch (``x @ w`` multiplies by ``w``'s own matrix, as in Keras)."""
        leading = self.leading or [None] * n
        if self.op != "matmul" or None not in leading:
            return [False] * n
        return [lead == 1 for lead in leading]

    def compute_output_shape(self, input_shape: Any) -> Shape:
        return self.full_output_shape(input_shape)[1:]

    def build(
        self,
        input_shape: Any,
        backend: Backend | str | None = None,
        rng: Generator | None = None,
        dtype: str = "float32",
    ) -> None:
        """Record the input shapes (no weights)."""
        self.backend, self.dtype = get_backend(backend), dtype
        self.input_shapes = [tuple(s) for s in input_shape]
        self.output_shape = self.compute_output_shape(self.input_shapes)
        self.built = True

    def forward(self, x: Any, *, training: bool = False) -> tuple[Array, Backprop]:
        """``y = op(*x)``; ``backprop(dy)`` returns one gradient per input."""
        strip = self._unit_axes(len(x))
        if not any(strip):
            return OPERATIONS[self.op].forward(list(x), self.params)  # type: ignore[return-value]
        xs = [a[0, ...] if cut else a for a, cut in zip(x, strip, strict=True)]
        y, vjp = OPERATIONS[self.op].forward(xs, self.params)

        def backprop(dy: Array) -> list[Array | None]:
            grads = vjp(dy)
            return [
                g[None, ...] if cut and g is not None else g
                for g, cut in zip(grads, strip, strict=True)
            ]

        return y, backprop  # type: ignore[return-value]

    def get_config(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "params": self.params,
            "leading": self.leading,
            "name": self.name,
            "trainable": self.trainable,
        }


@register_layer
class Constant(Layer):
    """A constant array in a graph, given a batch axis of size 1 (so ``arange(t)`` is seen as
    ``(1, t)`` and broadcasts against a batch). Called on any tensor of the graph (which only
    orders it); it sends no gradient back.

    Args:
        value: the values (nested lists, or an array).
        dtype: their dtype name (default: the array's, else float32); float values take the
            model's float dtype when built.

    >>> Constant([1, 2, 3], "int64").compute_output_shape((5,))
    (3,)
    """

    def __init__(
        self,
        value: Any,
        dtype: str | None = None,
        *,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(name=name or _unique_name("constant"), trainable=trainable)
        if hasattr(value, "shape"):
            source = backend_of(value)
            dtype = dtype or source.dtype_name(value)
            value = source.to_numpy(value).tolist()
        self.value, self.value_dtype = value, dtype or "float32"
        self.value_shape = _nested_shape(value)
        self._array: Array | None = None

    def compute_output_shape(self, input_shape: Any) -> Shape:
        return self.value_shape

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        assert self.backend is not None
        # NOTE: float data takes the model's dtype (Keras's floatx): float64 NumPy tables must
        # not promote a float32 graph (array_api_strict refuses mixed float dtypes).
        floating = self.value_dtype.startswith("float")
        array = self.backend.asarray(self.value, dtype=self.dtype if floating else self.value_dtype)
        self._array = self.backend.xp.reshape(array, (1, *self.value_shape))

    def forward(self, x: Any, *, training: bool = False) -> tuple[Array, Backprop]:
        """``y = value`` with a unit batch axis; ``backprop`` returns None (no gradient)."""
        assert self._array is not None
        return self._array, lambda dy: None  # type: ignore[return-value]

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value, "dtype": self.value_dtype, "name": self.name}


def _nested_shape(value: Any) -> tuple[int, ...]:
    shape: list[int] = []
    while isinstance(value, (list, tuple)):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def constant_tensor(value: Any, anchor: SymbolicTensor) -> SymbolicTensor:
    """A :class:`Constant` node holding ``value`` (leading axis 1), ordered after ``anchor``."""
    layer = Constant(value)
    out: SymbolicTensor = call_symbolic(layer, anchor)
    floating = layer.value_dtype.startswith("float")
    out.leading_dim, out.dtype = 1, None if floating else layer.value_dtype
    return out


def _number(value: Any) -> float | int | None:
    """A Python number for a number or a 0-d array; None for anything else."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if getattr(value, "shape", None) == () and not isinstance(value, SymbolicTensor):
        return float(value)
    return None


def _constant(value: Any, anchor: SymbolicTensor, trace: Any, rank: int) -> SymbolicTensor:
    """An array operand as a graph tensor. An array with the tensors' rank and a first axis
    of 1 broadcasts against the batch as NumPy would (``(1, t, t)`` with ``(n, 1, t)``): that
    axis is the constant's unit batch axis; any other array is one sample (``(t, d)``)."""
    if isinstance(value, Parameter) or getattr(value, "ndim", 0) != rank or value.shape[0] != 1:
        return trace.constant(value) if trace else constant_tensor(value, anchor)
    sample = value[0, ...]
    return trace.constant(sample) if trace else constant_tensor(sample, anchor)


def apply_operation(op: str, operands: Sequence[Any], params: dict[str, Any]) -> SymbolicTensor:
    """Record ``op(*operands, **params)`` on symbolic tensors (at least one operand is one):
    a number operand of a binary operation becomes ``params["scalar"]``, an array a constant.

    Raises:
        ValueError: shapes that do not fit the operation, naming it and the shapes.
    """
    params = dict(params)
    if op == "getitem":
        params["index"] = encode_index(params["index"])
    items = list(operands)
    if op in BINARY and len(items) == 2:
        numbers = [_number(v) for v in items]
        if numbers[0] is not None or numbers[1] is not None:
            first = numbers[0] is not None
            params["scalar"], params["scalar_first"] = numbers[0 if first else 1], first
            items = [items[1 if first else 0]]
    anchor = next(t for t in map(as_symbolic, items) if t is not None)
    trace = current_trace()  # inside a traced call, a layer's own weight is read as a node
    rank = max(t.ndim for t in map(as_symbolic, items) if t is not None)
    tensors = [
        t if t is not None else _constant(v, anchor, trace, rank)
        for t, v in zip(map(as_symbolic, items), items, strict=True)
    ]
    layer = TensorOp(op, params, [t.leading_dim for t in tensors])
    full = layer.full_output_shape([t.sample_shape for t in tensors])
    if not full:
        raise ValueError(f"{op}: the result of a graph operation keeps an axis (got a scalar).")
    out: SymbolicTensor = call_symbolic(layer, tensors)
    out.leading_dim = full[0]
    dtypes = {t.dtype for t in tensors}
    out.dtype = (
        params.get("dtype") if op == "cast" else (dtypes.pop() if len(dtypes) == 1 else None)
    )
    if op in BOOL_RESULTS or op in INDEX_RESULTS:
        out.dtype = "bool" if op in BOOL_RESULTS else "int64"
    return out


SymbolicTensor.operation = apply_operation
