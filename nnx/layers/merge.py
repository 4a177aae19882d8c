"""Merge layers: combine a list of tensors into one (``Add``, ``Subtract``, ``Multiply``,
``Average``, ``Concatenate``, and Keras's lower-case shortcuts ``add([a, b])``...), for residual
connections and models with several inputs.

Each is called on a list, ``Add()([a, b])``; its backprop returns one gradient per input.
``Add``, ``Multiply`` and ``Average`` need inputs of one shape (nothing is broadcast);
``Concatenate`` needs them equal except along ``axis``.

Timestep masks follow Keras 3 (``keras/src/layers/merging/base_merge.py``): the output of an
elementwise merge is masked by the logical OR of its inputs' masks when every input has one, and
not masked when any input has none; ``Multiply`` (like ``Maximum`` and ``Minimum``) also leaves
masked entries out of the product (they count as 1, and steps masked in every input give 0).
``Concatenate`` concatenates the masks along a time axis (an input without a mask counts as all
valid), and along the feature axis a step is valid where any input's is (Keras's rule).

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> Add()([b.asarray([[1.0, 2.0]]), b.asarray([[10.0, 20.0]])])
array([[11., 22.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from array_api_compat import device as device_of

from nnx.backends import Backend, get_backend
from nnx.backends.base import Array, Generator, array_namespace
from nnx.layers.base import Layer, Shape, _as_shape, register_layer
from nnx.validation import check_int

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Merge",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "broadcast_mask",
    "concatenate",
    "multiply",
    "subtract",
]


class Merge(Layer):
    """Base class of the layers called on a list of at least two tensors of one shape.

    Subclasses implement :meth:`merge`: ``(y, backprop)`` with ``backprop(dy) -> [dx_i]``.

    Attributes:
        input_shapes: the shape of one sample of each input, once built.
    """

    multiple_inputs = True

    def __init__(self, *, name: str | None = None, trainable: bool = True) -> None:
        super().__init__(name=name, trainable=trainable)
        self.input_shapes: list[Shape] = []

    def build(
        self,
        input_shape: Any,
        backend: Backend | str | None = None,
        rng: Generator | None = None,
        dtype: str = "float32",
    ) -> None:
        """Check the list of input shapes and record them (merge layers have no weights)."""
        shapes = self._shapes(input_shape)
        self.backend, self.dtype = get_backend(backend), dtype
        self.output_shape = self.compute_output_shape(shapes)
        self.input_shapes, self.built = shapes, True

    def _shapes(self, input_shape: Any) -> list[Shape]:
        what = f"{type(self).__name__} {self.name!r}"
        if not isinstance(input_shape, (list, tuple)) or not all(
            isinstance(s, (list, tuple)) for s in input_shape
        ):
            raise TypeError(f"{what} takes a list of tensors, received shape {input_shape!r}.")
        if len(input_shape) < 2:
            raise ValueError(
                f"{what} needs at least 2 inputs, received {len(input_shape)}: {input_shape!r}."
            )
        return [_as_shape(s, f"{what} input shape") for s in input_shape]

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """The common shape of the inputs (a ``None`` matches any size).

        Raises:
            ValueError: two inputs have different shapes, naming the layer and the shapes.
        """
        shapes = self._shapes(input_shape)
        out = list(shapes[0])
        for shape in shapes[1:]:
            if len(shape) != len(out) or any(
                a is not None and b is not None and a != b for a, b in zip(shape, out, strict=True)
            ):
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} needs inputs of one shape, received "
                    f"shapes {', '.join(_show(s) for s in shapes)}."
                )
            out = [a if a is not None else b for a, b in zip(out, shape, strict=True)]
        return tuple(out)

    def forward(self, x: Any, *, training: bool = False) -> tuple[Array, Any]:
        xs = self._check(x)
        return self.merge(xs)

    def compute_mask(self, x: Any, mask: Any) -> Array | None:
        """Keras 3's merge rule: the OR of the inputs' ``(batch, steps)`` masks when every
        input has one, else None."""
        if not isinstance(mask, (list, tuple)) or any(m is None for m in mask):
            return None
        out = mask[0]
        for m in mask[1:]:
            out = array_namespace(out).logical_or(out, m)
        return out  # type: ignore[no-any-return]

    def merge(self, xs: list[Array]) -> tuple[Array, Any]:
        """``(y, backprop)`` for the checked inputs ``xs``; ``backprop(dy) -> [dx_i]``."""
        raise NotImplementedError

    def _check(self, x: Any) -> list[Array]:
        if not isinstance(x, (list, tuple)):
            raise TypeError(
                f"{type(self).__name__} {self.name!r} takes a list of arrays, "
                f"received {type(x).__name__}."
            )
        backend = self.backend
        if backend is None:
            raise RuntimeError(f"Layer {self.name!r} is used before it is built.")
        xs = list(x)
        for a in xs:
            if not backend.owns(a):
                raise TypeError(
                    f"Layer {self.name!r} runs on backend {backend.name!r} but received "
                    f"{type(a).__module__}.{type(a).__name__}."
                )
        shapes = [tuple(a.shape[1:]) for a in xs]
        if len(shapes) != len(self.input_shapes):
            raise ValueError(
                f"{type(self).__name__} {self.name!r} was built for {len(self.input_shapes)} "
                f"inputs, received {len(shapes)}."
            )
        self.compute_output_shape(shapes)
        return xs

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable}


@register_layer
class Add(Merge):
    """Elementwise sum: ``y = x_1 + ... + x_n``; backward ``dx_i = dy``.

    >>> from nnx.layers import Dense, Input
    >>> x = Input((4,)).output
    >>> Add()([x, Dense(4)(x)]).shape
    (None, 4)
    """

    def merge(self, xs: list[Array]) -> tuple[Array, Any]:
        y = xs[0]
        for a in xs[1:]:
            y = y + a
        n = len(xs)
        return y, lambda dy: [dy] * n


@register_layer
class Average(Merge):
    """Elementwise mean: ``y = (x_1 + ... + x_n) / n``; backward ``dx_i = dy / n``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> Average()([b.asarray([[1.0]]), b.asarray([[3.0]])])
    array([[2.]])
    """

    def merge(self, xs: list[Array]) -> tuple[Array, Any]:
        y = xs[0]
        for a in xs[1:]:
            y = y + a
        n = len(xs)

        def backprop(dy: Array) -> list[Array]:
            dx = dy / n
            return [dx] * n

        return y / n, backprop


@register_layer
class Multiply(Merge):
    """Elementwise product: ``y = x_1 * ... * x_n``; backward
    ``dx_i = dy * prod_{j != i} x_j``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> Multiply()([b.asarray([[2.0]]), b.asarray([[3.0]])])
    array([[6.]])
    """

    def merge(self, xs: list[Array]) -> tuple[Array, Any]:
        y = xs[0]
        for a in xs[1:]:
            y = y * a

        def backprop(dy: Array) -> list[Array]:
            grads = []
            for i in range(len(xs)):
                g = dy
                for j, a in enumerate(xs):
                    if j != i:
                        g = g * a
                grads.append(g)
            return grads

        return y, backprop

    def forward_masked(self, x: Any, mask: Any, *, training: bool = False) -> tuple[Array, Any]:
        """Keras 3's masked product: a masked entry counts as 1 (``x'_i = m_i x_i + 1 - m_i``),
        and where every input has a mask, steps masked in all of them give 0:
        ``y = M prod_i x'_i`` with ``M`` the OR of the masks; ``dx_i = m_i M dy
        prod_{j != i} x'_j``."""
        xs = self._check(x)
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None] * len(xs)
        wide = [None if m is None else broadcast_mask(m, a) for m, a in zip(masks, xs, strict=True)]
        xp = array_namespace(xs[0])
        one = xp.ones((), dtype=xs[0].dtype, device=device_of(xs[0]))
        kept = [a if m is None else xp.where(m, a, one) for a, m in zip(xs, wide, strict=True)]
        y, product_backprop = self.merge(kept)
        either = self.compute_mask(xs, masks)
        keep = None if either is None else xp.astype(broadcast_mask(either, y), y.dtype)
        if keep is not None:
            y = y * keep

        def backprop(dy: Array) -> list[Array]:
            grads = product_backprop(dy if keep is None else dy * keep)
            return [
                g if m is None else g * xp.astype(m, g.dtype)
                for g, m in zip(grads, wide, strict=True)
            ]

        return y, backprop


def broadcast_mask(mask: Array, like: Array) -> Array:
    """A ``(batch, steps)`` mask broadcast to ``like``'s shape (repeated over the features)."""
    xp = array_namespace(like)
    while mask.ndim < like.ndim:
        mask = mask[..., None]
    return xp.broadcast_to(mask, tuple(like.shape))


@register_layer
class Subtract(Merge):
    """Difference of two inputs: ``y = x_1 - x_2``; backward ``dx_1 = dy``, ``dx_2 = -dy``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> Subtract()([b.asarray([[5.0]]), b.asarray([[3.0]])])
    array([[2.]])
    """

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shapes = self._shapes(input_shape)
        if len(shapes) != 2:
            raise ValueError(
                f"Subtract {self.name!r} needs exactly 2 inputs, received {len(shapes)}."
            )
        return super().compute_output_shape(shapes)

    def merge(self, xs: list[Array]) -> tuple[Array, Any]:
        return xs[0] - xs[1], lambda dy: [dy, -dy]


@register_layer
class Concatenate(Merge):
    """Join the inputs along ``axis``: shapes must agree on every other axis; backward
    ``dx_i`` = the slice of ``dy`` that ``x_i`` filled.

    Args:
        axis: the axis of the full tensor (batch axis included, as in Keras): ``-1`` (the
            features, default) or any other non-batch axis.

    >>> from nnx.layers import Input
    >>> a, b = Input((2, 3)).output, Input((2, 5)).output
    >>> Concatenate()([a, b]).shape, Concatenate(axis=1)([a, a]).shape
    ((None, 2, 8), (None, 4, 3))
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = check_int(axis, "axis", who=f"Concatenate {self.name!r}")
        if self.axis == 0:
            raise ValueError(
                f"Concatenate {self.name!r}: axis=0 is the batch axis; use a sample axis "
                "(1, 2, ... or -1), received axis=0."
            )

    def _sample_axis(self, rank: int) -> int:
        """``axis`` as an index into the sample shape (rank ``rank``, no batch axis)."""
        axis = self.axis - 1 if self.axis > 0 else rank + self.axis
        if not 0 <= axis < rank:
            raise ValueError(
                f"Concatenate {self.name!r}: axis={self.axis} is out of range for inputs "
                f"of rank {rank + 1} (batch axis included)."
            )
        return axis

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shapes = self._shapes(input_shape)
        rank = len(shapes[0])
        axis = self._sample_axis(rank)
        for shape in shapes[1:]:
            others = [d for i, d in enumerate(shape) if i != axis]
            first = [d for i, d in enumerate(shapes[0]) if i != axis]
            if len(shape) != rank or any(
                a is not None and b is not None and a != b
                for a, b in zip(others, first, strict=True)
            ):
                raise ValueError(
                    f"Concatenate {self.name!r} needs inputs of equal shapes except along "
                    f"axis={self.axis}, received shapes {', '.join(_show(s) for s in shapes)}."
                )
        sizes = [s[axis] for s in shapes]
        total = None if any(d is None for d in sizes) else sum(d for d in sizes if d is not None)
        out = list(shapes[0])
        out[axis] = total
        return tuple(out)

    def compute_mask(self, x: Any, mask: Any) -> Array | None:
        """Keras's rule: each input's mask broadcast over its features (all True for an input
        without one), concatenated along ``axis``, then any over the last axis; along a time
        axis that is the masks side by side, along the features the OR. None without masks."""
        if not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None
        xp = array_namespace(x[0])
        wide = [
            xp.ones(tuple(a.shape), dtype=xp.bool, device=device_of(a))
            if m is None
            else broadcast_mask(m, a)
            for a, m in zip(x, mask, strict=True)
        ]
        axis = self._sample_axis(x[0].ndim - 1) + 1
        return xp.any(xp.concat(wide, axis=axis), axis=-1)  # type: ignore[no-any-return]

    def merge(self, xs: list[Array]) -> tuple[Array, Any]:
        xp = self.backend.xp  # type: ignore[union-attr]
        axis = self._sample_axis(xs[0].ndim - 1) + 1
        sizes = [int(a.shape[axis]) for a in xs]
        y = xp.concat(xs, axis=axis)

        def backprop(dy: Array) -> list[Array]:
            grads, start = [], 0
            index: list[Any] = [slice(None)] * dy.ndim
            for size in sizes:
                index[axis] = slice(start, start + size)
                grads.append(dy[tuple(index)])
                start += size
            return grads

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def _show(shape: Sequence[int | None]) -> str:
    return "(None, " + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def add(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Add(**kwargs)(inputs)``: Keras's functional shortcut (``layers.add([x, shortcut])``)."""
    return Add(**kwargs)(inputs)


def average(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def multiply(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def subtract(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)
