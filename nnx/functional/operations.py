"""Tensor operations and their vector-Jacobian products: what ``nnx.ops`` and arithmetic on
symbolic tensors record (``x + y``, ``ops.matmul``, ``ops.sum``...).

Each :class:`Operation` has ``shape(shapes, params)``, the output shape from the input shapes
(``None`` for an unknown size: the batch), and ``forward(xs, params) -> (y, vjp)``, where
``vjp(dy)`` returns one gradient per input (None where there is none, e.g. an integer input).
Binary operations broadcast as NumPy does, so their backward sums the gradient over the
broadcast axes (:func:`unbroadcast`): for ``y = a + b`` with ``a: (n, t, d)`` and ``b: (t, d)``,
``dL/db = sum_n dL/dy``. A number operand is a parameter (``params["scalar"]``,
``params["scalar_first"]`` for ``2 - x``), not an input.

>>> import numpy as np
>>> y, vjp = OPERATIONS["multiply"].forward([np.ones((2, 3)), np.arange(3.0)], {})
>>> [g.shape for g in vjp(np.ones((2, 3)))]
[(2, 3), (3,)]
>>> OPERATIONS["add"].shape([(None, 4, 8), (4, 8)], {})
(None, 4, 8)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.functional.operations_compare import COMPARE_OPERATIONS
from nnx.functional.operations_shape import (
    SHAPE_OPERATIONS,
    Operation,
    Shape,
    broadcast,
    unbroadcast,
)

__all__ = ["OPERATIONS", "Operation", "broadcast", "unbroadcast"]

Vjp = Callable[[Array], list[Array | None]]


def _operands(xs: Sequence[Array], params: dict[str, Any]) -> tuple[Any, Any]:
    """``(a, b)`` of a binary operation, one of them maybe the scalar parameter."""
    if "scalar" not in params:
        return xs[0], xs[1]
    return (params["scalar"], xs[0]) if params.get("scalar_first") else (xs[0], params["scalar"])


def _grads(xs: Sequence[Array], params: dict[str, Any], da: Any, db: Any) -> list[Array | None]:
    """The gradients of the array operands (not of the scalar), summed to their shapes."""
    if "scalar" in params:
        g = db if params.get("scalar_first") else da
        return [unbroadcast(g, tuple(xs[0].shape))]
    return [unbroadcast(da, tuple(xs[0].shape)), unbroadcast(db, tuple(xs[1].shape))]


def _binary_shape(shapes: list[Shape], params: dict[str, Any], name: str) -> Shape:
    return shapes[0] if "scalar" in params else broadcast(shapes[0], shapes[1], name)


def _binary(name: str, fn: Callable[[Any, Any, Any], tuple[Any, Callable[[Any], tuple]]]) -> Any:
    """An :class:`Operation` from ``fn(xp, a, b) -> (y, dy -> (da, db))``."""

    def forward(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
        xp = array_namespace(xs[0])
        a, b = _operands(xs, params)
        y, back = fn(xp, a, b)

        def vjp(dy: Array) -> list[Array | None]:
            return _grads(xs, params, *back(dy))

        return y, vjp

    return Operation(lambda shapes, params: _binary_shape(shapes, params, name), forward)


def _add(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    return a + b, lambda dy: (dy, dy)


def _subtract(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    return a - b, lambda dy: (dy, -dy)


def _multiply(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    return a * b, lambda dy: (dy * b, dy * a)


def _divide(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """``y = a / b``: ``da = dy / b``, ``db = -dy a / b^2``."""
    return a / b, lambda dy: (dy / b, -dy * a / (b * b))


def _power(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """``y = a^b``: ``da = dy b a^(b-1)``, ``db = dy y log a`` (for ``a > 0``)."""
    y = a**b

    def back(dy: Any) -> tuple[Any, Any]:
        da = None if isinstance(a, (int, float)) else dy * b * a ** (b - 1)
        if isinstance(b, (int, float)):
            return da, None
        return da, dy * y * (math.log(a) if isinstance(a, (int, float)) else xp.log(a))

    return y, back


def _matmul_shape(shapes: list[Shape], params: dict[str, Any]) -> Shape:
    a, b = shapes
    if len(a) < 2 or len(b) < 2 or (a[-1] is not None and b[-2] is not None and a[-1] != b[-2]):
        raise ValueError(
            f"matmul: shapes {a} and {b} do not multiply: both need 2 or more axes and "
            "the last axis of the first must equal the second-to-last of the second."
        )
    return (*broadcast(a[:-2], b[:-2], "matmul"), a[-2], b[-1])


def _matmul(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    """``y = a @ b``: ``da = dy b^T``, ``db = a^T dy`` (summed over broadcast batch axes)."""
    xp = array_namespace(xs[0])
    a, b = xs
    y = xp.matmul(a, b)

    def vjp(dy: Array) -> list[Array | None]:
        da = xp.matmul(dy, xp.matrix_transpose(b))
        db = xp.matmul(xp.matrix_transpose(a), dy)
        return [unbroadcast(da, tuple(a.shape)), unbroadcast(db, tuple(b.shape))]

    return y, vjp


def _unary(fn: Callable[[Any, Array], tuple[Array, Callable[[Array], Array]]]) -> Operation:
    """An elementwise :class:`Operation` from ``fn(xp, x) -> (y, dy -> dx)``."""

    def forward(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
        xp = array_namespace(xs[0])
        y, back = fn(xp, xs[0])
        return y, lambda dy: [back(dy)]

    return Operation(lambda shapes, params: shapes[0], forward)


def _sigmoid(xp: Any, x: Array) -> tuple[Array, Any]:
    y = 1 / (1 + xp.exp(-x))
    return y, lambda dy: dy * y * (1 - y)


@dataclass(frozen=True)
class _Softmax:
    """``y = exp(x) / sum exp(x)`` along ``axis``; ``dx = y (dy - sum(dy y))``."""

    @staticmethod
    def forward(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
        xp = array_namespace(xs[0])
        axis = params.get("axis", -1)
        z = xs[0] - xp.max(xs[0], axis=axis, keepdims=True)
        e = xp.exp(z)
        y = e / xp.sum(e, axis=axis, keepdims=True)
        return y, lambda dy: [y * (dy - xp.sum(dy * y, axis=axis, keepdims=True))]


OPERATIONS: dict[str, Operation] = {
    "add": _binary("add", _add),
    "subtract": _binary("subtract", _subtract),
    "multiply": _binary("multiply", _multiply),
    "divide": _binary("divide", _divide),
    "power": _binary("power", _power),
    "matmul": Operation(_matmul_shape, _matmul),
    "negative": _unary(lambda xp, x: (-x, lambda dy: -dy)),
    "exp": _unary(lambda xp, x: (lambda y: (y, lambda dy: dy * y))(xp.exp(x))),
    "log": _unary(lambda xp, x: (xp.log(x), lambda dy: dy / x)),
    "sqrt": _unary(lambda xp, x: (lambda y: (y, lambda dy: dy / (2 * y)))(xp.sqrt(x))),
    "square": _unary(lambda xp, x: (x * x, lambda dy: 2 * x * dy)),
    "abs": _unary(lambda xp, x: (xp.abs(x), lambda dy: dy * xp.sign(x))),
    "tanh": _unary(lambda xp, x: (lambda y: (y, lambda dy: dy * (1 - y * y)))(xp.tanh(x))),
    "sigmoid": _unary(_sigmoid),
    "relu": _unary(
        lambda xp, x: (xp.where(x > 0, x, 0 * x), lambda dy: xp.where(x > 0, dy, 0 * dy))
    ),
    "softmax": Operation(lambda shapes, params: shapes[0], _Softmax.forward),
    **SHAPE_OPERATIONS,
    **COMPARE_OPERATIONS,
}
