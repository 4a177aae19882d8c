"""Operations that move, reduce, join or select values (see :mod:`nnx.functional.operations`):
reductions, reshape, transpose, expand/squeeze, concatenate/stack, cast, cumsum, where,
indexing. Shapes are full shapes, the batch axis first as ``None``.

>>> import numpy as np
>>> y, vjp = SHAPE_OPERATIONS["sum"].forward([np.ones((2, 3))], {"axis": 1})
>>> y.tolist(), vjp(np.array([1.0, 2.0]))[0].tolist()
([3.0, 3.0], [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from nnx.backends.base import Array, array_namespace

__all__ = [
    "SHAPE_OPERATIONS",
    "Operation",
    "broadcast",
    "decode_index",
    "encode_index",
    "unbroadcast",
]

Shape = tuple[int | None, ...]
Vjp = Callable[[Array], list[Array | None]]


@dataclass(frozen=True)
class Operation:
    """``shape(shapes, params) -> shape`` and ``forward(xs, params) -> (y, vjp)``."""

    shape: Callable[[list[Shape], dict[str, Any]], Shape]
    forward: Callable[[list[Array], dict[str, Any]], tuple[Array, Vjp]]


def broadcast(a: Sequence[int | None], b: Sequence[int | None], name: str) -> Shape:
    """NumPy's broadcast of two shapes; ``None`` (the batch) meets only ``None`` or 1.

    >>> broadcast((None, 3, 1), (4,), "add")
    (None, 3, 4)
    """
    out: list[int | None] = []
    n = max(len(a), len(b))
    pa, pb = (None,) * (n - len(a)) + tuple(a), (None,) * (n - len(b)) + tuple(b)
    for i, (x, y) in enumerate(zip(pa, pb, strict=True)):
        padded_x, padded_y = i < n - len(a), i < n - len(b)
        if padded_x or padded_y:
            out.append(y if padded_x else x)
        elif x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError(
                f"{name}: shapes {tuple(a)} and {tuple(b)} do not broadcast "
                f"(axis {i}: {x} against {y}; None is the batch axis)."
            )
    return tuple(out)


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = [axis] if isinstance(axis, int) else list(axis)
    return tuple(sorted(a % ndim for a in items))


def _keeps_batch(shape: Shape, axes: Sequence[int], name: str) -> None:
    if shape and shape[0] is None and 0 in axes:
        raise ValueError(
            f"{name}: axis 0 is the batch axis of a tensor of shape {shape}; in a graph an "
            "operation works on each sample (give axis=1 or later)."
        )


def _reduced_shape(shapes: list[Shape], params: dict[str, Any], name: str) -> Shape:
    shape = shapes[0]
    axes = _axes(params.get("axis"), len(shape))
    keep = bool(params.get("keepdims", False))
    if not keep:
        _keeps_batch(shape, axes, name)
    return tuple(1 if i in axes else d for i, d in enumerate(shape) if keep or i not in axes)


def _reduction(name: str) -> Operation:
    """sum / mean / max / min: ``dx`` is ``dy`` spread back over the reduced axes (for max
    and min, shared equally among the tied maxima)."""

    def forward(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
        x = xs[0]
        xp = array_namespace(x)
        axes = _axes(params.get("axis"), x.ndim)
        keep = bool(params.get("keepdims", False))
        y = getattr(xp, name)(x, axis=axes, keepdims=keep)

        def spread(dy: Array) -> Array:
            kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
            return dy if keep else xp.reshape(dy, kept)

        def vjp(dy: Array) -> list[Array | None]:
            d = spread(dy)
            if name == "sum":
                return [xp.broadcast_to(d, tuple(x.shape))]
            if name == "mean":
                count = math.prod(x.shape[i] for i in axes)
                return [xp.broadcast_to(d / count, tuple(x.shape))]
            hit = xp.astype(x == spread(y), x.dtype)
            return [hit * d / xp.sum(hit, axis=axes, keepdims=True)]

        return y, vjp

    return Operation(lambda shapes, params: _reduced_shape(shapes, params, name), forward)


def _reshape_target(shape: Shape, target: Sequence[int | None]) -> Shape:
    """The full output shape of ``reshape``: ``None`` (or a leading -1) keeps the batch."""
    target = [None if d is None else int(d) for d in target]
    batched = bool(shape) and shape[0] is None
    if batched:
        if not target or target[0] not in (None, -1):
            raise ValueError(
                f"reshape: a tensor of shape {shape} has a batch axis; the new shape "
                f"{tuple(target)} must start with None or -1 for it."
            )
        target[0] = None
    known = [d for d in target[1 if batched else 0 :] if d not in (None, -1)]
    sizes = shape[1:] if batched else shape
    total = None if any(d is None for d in sizes) else math.prod(sizes)  # type: ignore[arg-type]
    rest = [i for i, d in enumerate(target) if d == -1 and (i > 0 or not batched)]
    if rest:
        target[rest[0]] = None if total is None else total // max(math.prod(known), 1)
    elif total is not None and None not in target[1:] and math.prod(known) != total:
        raise ValueError(f"reshape: cannot reshape {shape} into {tuple(target)}.")
    return tuple(target)


def _reshape(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    x = xs[0]
    xp = array_namespace(x)
    target = tuple(x.shape[0] if d is None else d for d in params["shape"])
    return xp.reshape(x, target), lambda dy: [xp.reshape(dy, tuple(x.shape))]


def _transpose_shape(shapes: list[Shape], params: dict[str, Any]) -> Shape:
    shape = shapes[0]
    axes = params.get("axes")
    perm = tuple(reversed(range(len(shape)))) if axes is None else tuple(axes)
    if shape and shape[0] is None and perm[0] != 0:
        raise ValueError(f"transpose: axes {perm} move the batch axis of a tensor of {shape}.")
    return tuple(shape[i] for i in perm)


def _transpose(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    x = xs[0]
    xp = array_namespace(x)
    axes = params.get("axes")
    perm = tuple(reversed(range(x.ndim))) if axes is None else tuple(a % x.ndim for a in axes)
    inverse = tuple(perm.index(i) for i in range(len(perm)))
    return xp.permute_dims(x, perm), lambda dy: [xp.permute_dims(dy, inverse)]


def _expand_shape(shapes: list[Shape], params: dict[str, Any]) -> Shape:
    shape = list(shapes[0])
    axis = params["axis"] % (len(shape) + 1)
    if shape and shape[0] is None and axis == 0:
        raise ValueError(f"expand_dims: axis 0 would move the batch axis of {tuple(shape)}.")
    return tuple([*shape[:axis], 1, *shape[axis:]])


def _expand(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    x = xs[0]
    xp = array_namespace(x)
    axis = params["axis"] % (x.ndim + 1)
    return xp.expand_dims(x, axis=axis), lambda dy: [xp.reshape(dy, tuple(x.shape))]


def _squeeze_axes(shape: Sequence[int | None], axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(i for i, d in enumerate(shape) if d == 1)
    axes = _axes(axis, len(shape))
    bad = [i for i in axes if shape[i] != 1]
    if bad:
        raise ValueError(f"squeeze: axis {bad[0]} of a tensor of shape {tuple(shape)} is not 1.")
    return axes


def _squeeze_shape(shapes: list[Shape], params: dict[str, Any]) -> Shape:
    axes = _squeeze_axes(shapes[0], params.get("axis"))
    return tuple(d for i, d in enumerate(shapes[0]) if i not in axes)


def _squeeze(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    x = xs[0]
    xp = array_namespace(x)
    axes = _squeeze_axes(tuple(x.shape), params.get("axis"))
    return xp.squeeze(x, axis=axes), lambda dy: [xp.reshape(dy, tuple(x.shape))]


def _join_shape(shapes: list[Shape], params: dict[str, Any], stack: bool) -> Shape:
    name = "stack" if stack else "concatenate"
    first = shapes[0]
    rank = len(first) + (1 if stack else 0)
    axis = params.get("axis", 0) % rank
    if first and first[0] is None and axis == 0:
        raise ValueError(f"{name}: axis 0 is the batch axis; join samples along axis 1 or later.")
    for s in shapes[1:]:
        same = [
            (a, b) for i, (a, b) in enumerate(zip(first, s, strict=False)) if stack or i != axis
        ]
        if len(s) != len(first) or any(a != b and None not in (a, b) for a, b in same):
            raise ValueError(f"{name}: shapes {first} and {s} differ outside axis {axis}.")
    if stack:
        return (*first[:axis], len(shapes), *first[axis:])
    sizes = [s[axis] for s in shapes]
    total = None if any(d is None for d in sizes) else sum(sizes)  # type: ignore[arg-type]
    return (*first[:axis], total, *first[axis + 1 :])


def _concatenate(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    xp = array_namespace(*xs)
    axis = params.get("axis", 0) % xs[0].ndim
    ends = [0]
    for x in xs:
        ends.append(ends[-1] + x.shape[axis])

    def vjp(dy: Array) -> list[Array | None]:
        index = [slice(None)] * dy.ndim
        out: list[Array | None] = []
        for start, stop in itertools.pairwise(ends):
            index[axis] = slice(start, stop)
            out.append(dy[tuple(index)])
        return out

    return xp.concat(xs, axis=axis), vjp


def _stack(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    xp = array_namespace(*xs)
    axis = params.get("axis", 0) % (xs[0].ndim + 1)
    return xp.stack(xs, axis=axis), lambda dy: list(xp.unstack(dy, axis=axis))


def _cast(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    x = xs[0]
    xp = array_namespace(x)
    y = xp.astype(x, getattr(xp, params["dtype"]))
    floats = xp.isdtype(x.dtype, "real floating") and xp.isdtype(y.dtype, "real floating")
    return y, lambda dy: [xp.astype(dy, x.dtype) if floats else None]


def _cumsum(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    """``y_i = sum_{j <= i} x_j``: ``dx_j = sum_{i >= j} dy_i`` (a reversed cumulative sum)."""
    x = xs[0]
    xp = array_namespace(x)
    axis = params.get("axis")
    flat = axis is None
    src = xp.reshape(x, (-1,)) if flat else x
    ax = 0 if flat else axis % x.ndim
    y = xp.cumulative_sum(src, axis=ax)

    def vjp(dy: Array) -> list[Array | None]:
        d = xp.flip(xp.cumulative_sum(xp.flip(dy, axis=ax), axis=ax), axis=ax)
        return [xp.reshape(d, tuple(x.shape)) if flat else d]

    return y, vjp


def _cumsum_shape(shapes: list[Shape], params: dict[str, Any]) -> Shape:
    if params.get("axis") is None:
        _keeps_batch(shapes[0], [0], "cumsum")
    return shapes[0]


def _where_shape(shapes: list[Shape], params: dict[str, Any]) -> Shape:
    return broadcast(broadcast(shapes[0], shapes[1], "where"), shapes[2], "where")


def _where(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    """``y = x1 where condition else x2``: the gradient goes to the branch taken."""
    c, a, b = xs
    xp = array_namespace(a, b)
    c = xp.astype(c, xp.bool) if c.dtype != xp.bool else c
    y = xp.where(c, a, b)

    def vjp(dy: Array) -> list[Array | None]:
        zero = xp.zeros_like(dy)
        return [
            None,
            unbroadcast(xp.where(c, dy, zero), tuple(a.shape)),
            unbroadcast(xp.where(c, zero, dy), tuple(b.shape)),
        ]

    return y, vjp


def unbroadcast(dy: Array, shape: Sequence[int]) -> Array:
    """Sum ``dy`` down to ``shape``: over the leading axes broadcasting added and over the
    axes where ``shape`` has size 1 (the adjoint of broadcasting)."""
    xp = array_namespace(dy)
    extra = dy.ndim - len(shape)
    if extra > 0:
        dy = xp.sum(dy, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and dy.shape[i] != 1)
    return xp.sum(dy, axis=axes, keepdims=True) if axes else dy


def encode_index(index: Any) -> list[Any]:
    """A basic index (ints, slices, None, ``...``) as JSON: ``{"slice": [a, b, c]}``..."""
    items = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    for item in items:
        if isinstance(item, slice):
            out.append({"slice": [item.start, item.stop, item.step]})
        elif item is Ellipsis:
            out.append("...")
        elif item is None or (isinstance(item, int) and not isinstance(item, bool)):
            out.append(item)
        else:
            raise TypeError(
                f"Indexing a symbolic tensor takes ints, slices, None and ..., received "
                f"{type(item).__name__} {item!r}."
            )
    return out


def decode_index(items: Sequence[Any]) -> tuple[Any, ...]:
    """The Python index :func:`encode_index` wrote."""
    return tuple(
        slice(*i["slice"]) if isinstance(i, dict) else Ellipsis if i == "..." else i for i in items
    )


def _getitem_shape(shapes: list[Shape], params: dict[str, Any]) -> Shape:
    shape = list(shapes[0])
    index = list(decode_index(params["index"]))
    if Ellipsis in index:
        at = index.index(Ellipsis)
        fill = len(shape) - sum(1 for i in index if i is not None and i is not Ellipsis)
        index[at : at + 1] = [slice(None)] * fill
    index += [slice(None)] * (len(shape) - sum(1 for i in index if i is not None))
    out: list[int | None] = []
    axis = 0
    for item in index:
        if item is None:
            out.append(1)
            continue
        size = shape[axis]
        if axis == 0 and size is None and item != slice(None):
            raise ValueError(
                f"Indexing a tensor of shape {tuple(shape)}: the batch axis (axis 0) must be "
                "kept whole (x[:, ...])."
            )
        if isinstance(item, slice):
            out.append(None if size is None else len(range(size)[item]))
        axis += 1
    return tuple(out)


def _getitem(xs: list[Array], params: dict[str, Any]) -> tuple[Array, Vjp]:
    x = xs[0]
    xp = array_namespace(x)
    index = decode_index(params["index"])

    def vjp(dy: Array) -> list[Array | None]:
        dx = xp.zeros_like(x)
        dx[index] = dy
        return [dx]

    return x[index], vjp


SHAPE_OPERATIONS: dict[str, Operation] = {
    **{name: _reduction(name) for name in ("sum", "mean", "max", "min")},
    "reshape": Operation(lambda s, p: _reshape_target(s[0], p["shape"]), _reshape),
    "transpose": Operation(_transpose_shape, _transpose),
    "expand_dims": Operation(_expand_shape, _expand),
    "squeeze": Operation(_squeeze_shape, _squeeze),
    "concatenate": Operation(lambda s, p: _join_shape(s, p, stack=False), _concatenate),
    "stack": Operation(lambda s, p: _join_shape(s, p, stack=True), _stack),
    "cast": Operation(lambda s, p: s[0], _cast),
    "cumsum": Operation(_cumsum_shape, _cumsum),
    "where": Operation(_where_shape, _where),
    "getitem": Operation(_getitem_shape, _getitem),
}
