"""Comparisons, logic, elementwise extrema, ``tile``, triangles and ``argmax``: the operations
a mask is built with (``ops.not_equal(x, 0)``, ``ops.minimum(padding, causal)``,
``ops.tile``, ``ops.tril``), in the :class:`~nnx.functional.operations_shape.Operation` form.

Comparisons, logic and ``argmax`` have no gradient (their vjp returns None for each input):
a mask carries none. ``minimum``/``maximum`` send ``dy`` to the operand they picked (ties to
the first); ``tile`` sums ``dy`` over the copies; ``tril``/``triu`` zero it where they zero.

>>> import numpy as np
>>> y, _ = COMPARE_OPERATIONS["not_equal"].forward([np.array([[3, 0]])], {"scalar": 0})
>>> y.tolist()
[[True, False]]
>>> COMPARE_OPERATIONS["tile"].shape([(1, 4, 4)], {"reps": [1, 2, 1]})
(1, 8, 4)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.functional.operations_shape import Operation, Shape, broadcast, unbroadcast

__all__ = ["BOOL_RESULTS", "COMPARE_OPERATIONS", "INDEX_RESULTS"]

Vjp = Callable[[Array], list[Array | None]]


def _pair(xs: list[Array], params: dict[str, Any]) -> tuple[Any, Any]:
    """``(a, b)``: the two arrays, or one and the number ``params["scalar"]``."""
    if "scalar" not in params:
        return xs[0], xs[1]
    return (params["scalar"], xs[0]) if params.get("scalar_first") else (xs[0], params["scalar"])


def _pair_shape(shapes: list[Shape], params: dict[str, Any], name: str) -> Shape:
    return shapes[0] if "scalar" in params else broadcast(shapes[0], shapes[1], name)


def _no_gradient(xs: list[Array]) -> Vjp:
    return lambda dy: [None] * len(xs)


def _logical(name: str) -> Operation:
    """A comparison or logical operation: bool result, no gradient."""

    def forward(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
        xp = array_namespace(xs[0])
        a, b = _pair(xs, params)
        return getattr(xp, name)(a, b), _no_gradient(xs)

    return Operation(lambda shapes, params: _pair_shape(shapes, params, name), forward)


def _extremum(name: str) -> Operation:
    """``minimum``/``maximum``: ``dy`` goes to the operand picked (the first on ties)."""

    def forward(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
        xp = array_namespace(xs[0])
        a, b = _pair(xs, params)
        y = getattr(xp, name)(a, b)
        first = (a <= b) if name == "minimum" else (a >= b)

        def vjp(dy: Array) -> list[Array | None]:
            zero = xp.zeros_like(dy)
            da, db = xp.where(first, dy, zero), xp.where(first, zero, dy)
            if "scalar" in params:
                g = db if params.get("scalar_first") else da
                return [unbroadcast(g, tuple(xs[0].shape))]
            return [unbroadcast(da, tuple(xs[0].shape)), unbroadcast(db, tuple(xs[1].shape))]

        return y, vjp

    return Operation(lambda shapes, params: _pair_shape(shapes, params, name), forward)


def _not(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    return array_namespace(xs[0]).logical_not(xs[0]), _no_gradient(xs)


def _tile_shape(shapes: list[Shape], params: dict[str, Any]) -> Shape:
    """Each axis times its repeat; an unknown (batch) axis may only be repeated once."""
    shape, reps = shapes[0], list(params["reps"])
    if len(reps) != len(shape):
        raise ValueError(
            f"tile: repeats {tuple(reps)} must give one count per axis of {shape} (batch "
            "axis first)."
        )
    if any(d is None and r != 1 for d, r in zip(shape, reps, strict=True)):
        raise ValueError(f"tile: the batch axis of {shape} cannot be repeated, received {reps}.")
    return tuple(None if d is None else d * r for d, r in zip(shape, reps, strict=True))


def _tile(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    """``y = tile(x, reps)``; ``dx`` sums ``dy`` over the copies: ``dy`` viewed as
    ``(r_0, n_0, r_1, n_1, ...)`` summed over the ``r`` axes."""
    x = xs[0]
    xp = array_namespace(x)
    reps = tuple(int(r) for r in params["reps"])
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    y = xp.tile(xp.reshape(x, shape), reps)

    def vjp(dy: Array) -> list[Array | None]:
        split = tuple(d for pair in zip(reps, shape, strict=True) for d in pair)
        dx = xp.sum(xp.reshape(dy, split), axis=tuple(range(0, 2 * len(reps), 2)))
        return [xp.reshape(dx, tuple(x.shape))]

    return y, vjp


def _triangle(lower: bool) -> Callable[[list[Array], dict[str, Any]], tuple[Array, Vjp]]:
    """``tril``/``triu`` of the last two axes: ``y = x`` on the kept triangle, else 0."""

    def forward(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
        x = xs[0]
        xp = array_namespace(x)
        rows = xp.arange(x.shape[-2], device=x.device)[:, None]
        cols = xp.arange(x.shape[-1], device=x.device)[None, :]
        k = int(params.get("k", 0))
        keep = (cols - rows <= k) if lower else (cols - rows >= k)
        zero = xp.zeros_like(x)
        return xp.where(keep, x, zero), lambda dy: [xp.where(keep, dy, xp.zeros_like(dy))]

    return forward


def _index_shape(shapes: list[Shape], params: dict[str, Any]) -> Shape:
    shape, axis = shapes[0], params.get("axis")
    if axis is None:
        raise ValueError("argmax/argmin in a graph needs an axis (not the batch axis).")
    axis = axis % len(shape)
    if axis == 0:
        raise ValueError("argmax/argmin in a graph cannot reduce the batch axis (axis 0).")
    if params.get("keepdims"):
        return (*shape[:axis], 1, *shape[axis + 1 :])
    return (*shape[:axis], *shape[axis + 1 :])


def _index(name: str) -> Callable[[list[Array], dict[str, Any]], tuple[Array, Vjp]]:
    def forward(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
        xp = array_namespace(xs[0])
        y = getattr(xp, name)(
            xs[0], axis=params.get("axis"), keepdims=params.get("keepdims", False)
        )
        return y, _no_gradient(xs)

    return forward


_LOGICAL = (
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_or",
)

#: the operations whose result is bool, and those whose result is an index (int64)
BOOL_RESULTS = frozenset((*_LOGICAL, "logical_not"))
INDEX_RESULTS = frozenset(("argmax", "argmin"))

COMPARE_OPERATIONS: dict[str, Operation] = {
    **{name: _logical(name) for name in _LOGICAL},
    "logical_not": Operation(lambda s, p: s[0], _not),
    "minimum": _extremum("minimum"),
    "maximum": _extremum("maximum"),
    "tile": Operation(_tile_shape, _tile),
    "tril": Operation(lambda s, p: s[0], _triangle(lower=True)),
    "triu": Operation(lambda s, p: s[0], _triangle(lower=False)),
    "argmax": Operation(_index_shape, _index("argmax")),
    "argmin": Operation(_index_shape, _index("argmin")),
}
