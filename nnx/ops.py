"""``nnx.ops``: Keras 3's ``keras.ops`` names and signatures, for what tutorials use.

Each function works on arrays of any backend (eagerly, through ``array_namespace``) and on
symbolic tensors, where it records an operation node with an explicit backward
(:mod:`nnx.layers.tensor_ops`), so it can sit in a functional graph, a subclassed layer's
``call`` or a ``Lambda``. Axes count the batch axis (axis 0), as in Keras; in a graph an
operation keeps the batch axis (``sum(x, axis=-1)``, not over the batch). ``shape`` of a
symbolic tensor is ``(None, ...)``: the sizes other than the batch are concrete ints, so
``arange(shape(x)[-1])`` is data, which a layer called on it takes as a constant. Masks are
built with the comparisons, logic, ``minimum``/``maximum``, ``tile`` and ``tril``/``triu``
(bool results carry no gradient).

>>> import nnx
>>> from nnx import ops
>>> x = nnx.Input((4, 8))
>>> ops.shape(x), ops.sum(ops.square(x), axis=-1).shape
((None, 4, 8), (None, 4))
>>> ops.arange(3).tolist(), ops.mean(ops.convert_to_tensor([[1.0, 3.0]]), axis=1).tolist()
([0, 1, 2], [2.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends import backend_of, get_backend
from nnx.backends.base import Array, array_namespace
from nnx.functional.operations import OPERATIONS
from nnx.layers.parameter import Parameter
from nnx.layers.symbolic import SymbolicTensor, current_trace, is_symbolic
from nnx.layers.tensor_ops import BINARY, apply_operation

__all__ = [
    "abs",
    "add",
    "arange",
    "argmax",
    "argmin",
    "cast",
    "concatenate",
    "convert_to_numpy",
    "convert_to_tensor",
    "cumsum",
    "divide",
    "equal",
    "exp",
    "expand_dims",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "log",
    "logical_and",
    "logical_not",
    "logical_or",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "not_equal",
    "ones",
    "ones_like",
    "power",
    "relu",
    "reshape",
    "shape",
    "sigmoid",
    "softmax",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "subtract",
    "sum",
    "tanh",
    "tile",
    "transpose",
    "tril",
    "triu",
    "where",
    "zeros",
    "zeros_like",
]

Axis = int | Sequence[int] | None


def _run(op: str, operands: Sequence[Any], **params: Any) -> Any:
    """``op`` on symbolic tensors (a graph node) or on arrays (computed now)."""
    if any(is_symbolic(o) for o in operands):
        return apply_operation(op, operands, params)
    if current_trace() is not None and any(isinstance(o, Parameter) for o in operands):
        # NOTE: an op on a layer's own weight alone (ops.reshape(self.w, ...)) inside a traced
        # call reads the weight as a node, so its gradient flows.
        return apply_operation(
            op,
            [current_trace().constant(o) if isinstance(o, Parameter) else o for o in operands],
            params,
        )  # type: ignore[union-attr]
    items = list(operands)
    if op in BINARY and len(items) == 2:
        numbers = [isinstance(v, (int, float)) for v in items]
        if numbers[0] and numbers[1]:
            items[0] = get_backend(None).asarray(items[0])
        elif any(numbers):
            first = numbers[0]
            params["scalar"], params["scalar_first"] = items[0 if first else 1], first
            items = [items[1 if first else 0]]
    arrays = [convert_to_tensor(v) for v in items]
    return OPERATIONS[op].forward(arrays, params)[0]


# --- arithmetic -------------------------------------------------------------------------------
def add(x1: Any, x2: Any) -> Any:
    """``x1 + x2``, broadcasting."""
    return _run("add", (x1, x2))


def subtract(x1: Any, x2: Any) -> Any:
    """``x1 - x2``, broadcasting."""
    return _run("subtract", (x1, x2))


def multiply(x1: Any, x2: Any) -> Any:
    """``x1 * x2``, broadcasting."""
    return _run("multiply", (x1, x2))


def divide(x1: Any, x2: Any) -> Any:
    """``x1 / x2``, broadcasting."""
    return _run("divide", (x1, x2))


def power(x1: Any, x2: Any) -> Any:
    """``x1 ** x2``, broadcasting."""
    return _run("power", (x1, x2))


def negative(x: Any) -> Any:
    """``-x``."""
    return _run("negative", (x,))


def matmul(x1: Any, x2: Any) -> Any:
    """``x1 @ x2`` (both with 2 or more axes), broadcasting the leading axes."""
    return _run("matmul", (x1, x2))


def minimum(x1: Any, x2: Any) -> Any:
    """The elementwise smaller of ``x1`` and ``x2`` (``dy`` goes to the one picked)."""
    return _run("minimum", (x1, x2))


def maximum(x1: Any, x2: Any) -> Any:
    """The elementwise larger of ``x1`` and ``x2``."""
    return _run("maximum", (x1, x2))


# --- comparisons and logic: bool results, no gradient (what masks are made of) ---------------
def equal(x1: Any, x2: Any) -> Any:
    """``x1 == x2`` elementwise."""
    return _run("equal", (x1, x2))


def not_equal(x1: Any, x2: Any) -> Any:
    """``x1 != x2`` elementwise (``not_equal(token_ids, 0)``: the padding mask)."""
    return _run("not_equal", (x1, x2))


def greater(x1: Any, x2: Any) -> Any:
    """``x1 > x2`` elementwise."""
    return _run("greater", (x1, x2))


def greater_equal(x1: Any, x2: Any) -> Any:
    """``x1 >= x2`` elementwise."""
    return _run("greater_equal", (x1, x2))


def less(x1: Any, x2: Any) -> Any:
    """``x1 < x2`` elementwise."""
    return _run("less", (x1, x2))


def less_equal(x1: Any, x2: Any) -> Any:
    """``x1 <= x2`` elementwise."""
    return _run("less_equal", (x1, x2))


def logical_and(x1: Any, x2: Any) -> Any:
    """``x1 and x2`` elementwise (bool arrays)."""
    return _run("logical_and", (x1, x2))


def logical_or(x1: Any, x2: Any) -> Any:
    """``x1 or x2`` elementwise (bool arrays)."""
    return _run("logical_or", (x1, x2))


def logical_not(x: Any) -> Any:
    """``not x`` elementwise (a bool array)."""
    return _run("logical_not", (x,))


# --- elementwise functions -------------------------------------------------------------------
def exp(x: Any) -> Any:
    """``e^x``."""
    return _run("exp", (x,))


def log(x: Any) -> Any:
    """The natural logarithm."""
    return _run("log", (x,))


def sqrt(x: Any) -> Any:
    """The square root."""
    return _run("sqrt", (x,))


def square(x: Any) -> Any:
    """``x * x``."""
    return _run("square", (x,))


def abs(x: Any) -> Any:
    """``|x|``."""
    return _run("abs", (x,))


def tanh(x: Any) -> Any:
    """The hyperbolic tangent."""
    return _run("tanh", (x,))


def sigmoid(x: Any) -> Any:
    """``1 / (1 + e^-x)``."""
    return _run("sigmoid", (x,))


def relu(x: Any) -> Any:
    """``max(x, 0)``."""
    return _run("relu", (x,))


def softmax(x: Any, axis: int = -1) -> Any:
    """``e^x / sum e^x`` along ``axis``."""
    return _run("softmax", (x,), axis=axis)


# --- reductions ------------------------------------------------------------------------------
def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The sum over ``axis`` (all axes: None)."""
    return _run("sum", (x,), axis=_axis(axis), keepdims=keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The mean over ``axis``."""
    return _run("mean", (x,), axis=_axis(axis), keepdims=keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The maximum over ``axis`` (the gradient is shared among tied maxima)."""
    return _run("max", (x,), axis=_axis(axis), keepdims=keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The minimum over ``axis``."""
    return _run("min", (x,), axis=_axis(axis), keepdims=keepdims)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """The index of the largest value along ``axis`` (None: of the flattened array)."""
    return _run("argmax", (x,), axis=axis, keepdims=keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """The index of the smallest value along ``axis``."""
    return _run("argmin", (x,), axis=axis, keepdims=keepdims)


def cumsum(x: Any, axis: int | None = None) -> Any:
    """The cumulative sum along ``axis`` (None: of the flattened array)."""
    return _run("cumsum", (x,), axis=axis)


def _axis(axis: Axis) -> Any:
    return axis if axis is None or isinstance(axis, int) else [int(a) for a in axis]


# --- shapes ----------------------------------------------------------------------------------
def shape(x: Any) -> tuple[int | None, ...]:
    """The shape; for a symbolic tensor ``(None, ...)``, the other sizes concrete."""
    return tuple(x.shape)


def reshape(x: Any, newshape: Sequence[int | None]) -> Any:
    """``x`` with shape ``newshape`` (one -1 inferred; None or a leading -1: the batch)."""
    return _run("reshape", (x,), shape=[None if d is None else int(d) for d in newshape])


def transpose(x: Any, axes: Sequence[int] | None = None) -> Any:
    """Axes permuted (None: reversed)."""
    return _run("transpose", (x,), axes=None if axes is None else [int(a) for a in axes])


def expand_dims(x: Any, axis: int) -> Any:
    """A new axis of size 1 at ``axis``. ``expand_dims(None, -1)`` of the unknown batch size
    (``shape(x)[0]`` of a graph tensor) is the shape vector ``[None]`` (see :func:`tile`)."""
    if x is None:
        return [None]
    return _run("expand_dims", (x,), axis=int(axis))


def squeeze(x: Any, axis: Axis = None) -> Any:
    """Axes of size 1 removed (None: all of them)."""
    return _run("squeeze", (x,), axis=_axis(axis))


def concatenate(xs: Sequence[Any], axis: int = 0) -> Any:
    """The tensors joined along an existing ``axis``. Shape vectors holding the unknown batch
    size (``[None]``, see :func:`expand_dims`) join into a Python list, such as the repeats
    ``[None, 1, 1]`` of :func:`tile`."""
    if any(_holds_batch(x) for x in xs):
        return [d for x in xs for d in (x if isinstance(x, list) else _host_list(x))]
    return _run("concatenate", tuple(xs), axis=int(axis))


def tile(x: Any, repeats: Any) -> Any:
    """``x`` repeated ``repeats[i]`` times along each axis (fewer axes: ones added first).

    In a graph (or a traced ``call``) the batch axis is repeated once; a repeat of None (the
    unknown batch size, ``[batch_size, 1, 1]`` built from ``shape(x)[0]``) on a constant's
    unit first axis leaves that axis to broadcast against the batch, which is what
    repeating it batch-size times gives (Keras's causal mask idiom).
    """
    reps = list(repeats) if isinstance(repeats, (list, tuple)) else _host_list(repeats)
    if None in reps:
        if reps.index(None) != 0 or reps.count(None) > 1:
            raise ValueError(f"ops.tile: only the first repeat may be the batch size, {reps}.")
        trace = current_trace()
        if not is_symbolic(x) and trace is None:
            raise ValueError("ops.tile: a repeat of None (an unknown batch size) needs a graph.")
        if not is_symbolic(x) and x.shape[0] == 1:
            x = trace.constant(x[0, ...])  # the unit first axis is the constant's batch axis
        if not is_symbolic(x) or x.shape[0] != 1:
            raise ValueError(
                f"ops.tile: a None (batch) repeat needs a first axis of size 1, received "
                f"shape {tuple(x.shape)}."
            )
        reps[0] = 1
    return _run("tile", (x,), reps=[int(r) for r in reps])


def tril(x: Any, k: int = 0) -> Any:
    """``x`` with the entries above the ``k``-th diagonal of its last two axes set to 0."""
    return _run("tril", (x,), k=int(k))


def triu(x: Any, k: int = 0) -> Any:
    """``x`` with the entries below the ``k``-th diagonal of its last two axes set to 0."""
    return _run("triu", (x,), k=int(k))


def _holds_batch(x: Any) -> bool:
    return isinstance(x, list) and None in x


def _host_list(x: Any) -> list[Any]:
    """The values of a 1-d array or sequence of ints as a list."""
    if hasattr(x, "shape"):
        return [int(v) for v in convert_to_numpy(x).reshape(-1).tolist()]
    return [int(v) for v in x]


def stack(x: Sequence[Any], axis: int = 0) -> Any:
    """The tensors joined along a new ``axis``."""
    return _run("stack", tuple(x), axis=int(axis))


def cast(x: Any, dtype: str) -> Any:
    """``x`` as ``dtype`` (``"float32"``, ``"int32"``...)."""
    return _run("cast", (x,), dtype=str(dtype))


def where(condition: Any, x1: Any, x2: Any) -> Any:
    """``x1`` where ``condition`` holds, else ``x2`` (broadcasting)."""
    if isinstance(x1, (int, float)) or isinstance(x2, (int, float)):
        like = x2 if isinstance(x1, (int, float)) else x1
        x1 = x1 if not isinstance(x1, (int, float)) else add(zeros_like(like), x1)
        x2 = x2 if not isinstance(x2, (int, float)) else add(zeros_like(like), x2)
    return _run("where", (condition, x1, x2))


# --- creation and conversion -----------------------------------------------------------------
def arange(start: Any, stop: Any = None, step: Any = 1, dtype: str | None = None) -> Array:
    """``[start, start + step, ...)`` below ``stop`` (one argument: ``[0, start)``), on the
    default backend. Sizes must be concrete (``shape(x)[-1]`` of a graph tensor is)."""
    if isinstance(start, SymbolicTensor) or (stop is None and start is None):
        raise TypeError("ops.arange needs concrete sizes, received a symbolic tensor or None.")
    if stop is None:
        start, stop = 0, start
    if stop is None:
        raise TypeError(
            "ops.arange: stop is None (the batch size of a symbolic tensor is unknown)."
        )
    xp = get_backend(None).xp
    return xp.arange(start, stop, step, dtype=None if dtype is None else getattr(xp, dtype))


def ones(shape: Sequence[int], dtype: str = "float32") -> Array:
    """An array of ones on the default backend."""
    xp = get_backend(None).xp
    return xp.ones(tuple(shape), dtype=getattr(xp, dtype))


def zeros(shape: Sequence[int], dtype: str = "float32") -> Array:
    """An array of zeros on the default backend."""
    xp = get_backend(None).xp
    return xp.zeros(tuple(shape), dtype=getattr(xp, dtype))


def ones_like(x: Any, dtype: str | None = None) -> Any:
    """Ones of ``x``'s shape (a graph tensor: ``x * 0 + 1``, with no gradient to ``x``)."""
    if is_symbolic(x):
        return add(multiply(x, 0.0), 1.0)
    xp = array_namespace(x)
    return xp.ones_like(x, dtype=None if dtype is None else getattr(xp, dtype))


def zeros_like(x: Any, dtype: str | None = None) -> Any:
    """Zeros of ``x``'s shape."""
    if is_symbolic(x):
        return multiply(x, 0.0)
    xp = array_namespace(x)
    return xp.zeros_like(x, dtype=None if dtype is None else getattr(xp, dtype))


def convert_to_tensor(x: Any, dtype: str | None = None) -> Any:
    """An array of ``x``'s backend (host data: the default backend's), cast to ``dtype``."""
    if is_symbolic(x):
        return x if dtype is None else cast(x, dtype)
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        try:
            backend = backend_of(x)
        except (TypeError, ValueError):
            backend = get_backend(None)
    else:
        backend = get_backend(None)
    return backend.asarray(x, dtype=dtype)


def convert_to_numpy(x: Any) -> Any:
    """A host NumPy array (symbolic tensors have no values: TypeError)."""
    if is_symbolic(x):
        raise TypeError("ops.convert_to_numpy: a symbolic tensor has no values yet.")
    array = convert_to_tensor(x)
    return backend_of(array).to_numpy(array)
