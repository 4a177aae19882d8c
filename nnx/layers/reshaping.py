"""Layers that only change the shape of each sample: ``Input``, ``Flatten``, ``Reshape``,
``RepeatVector``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nnx.backends.base import Array
from nnx.layers.base import Backprop, Layer, Shape, _as_shape, identity_backprop, register_layer
from nnx.layers.symbolic import Node, SymbolicTensor
from nnx.validation import check_choice, check_int

_DTYPES = ("float32", "float64", "int32", "int64", "bool", "string")


@register_layer
class Input(Layer):
    """Declare the shape of one input sample: a model's first layer, or a graph's input.

    In a ``Sequential`` it builds the model eagerly (as in Keras). Its :attr:`output` is the
    symbolic tensor the functional API starts from (``nnx.Input(shape)`` returns it).

    Args:
        shape: the shape without the batch axis, e.g. ``(28, 28, 1)``.
        name: the input's name (the key of its data in a dict given to ``fit``).
        dtype: the dtype of the data (None: the model's float dtype; ``"int64"`` for indices;
            ``"string"`` for a ``StringLookup``, which turns the strings into numbers).

    Attributes:
        output: the :class:`~nnx.layers.symbolic.SymbolicTensor` standing for the data.

    >>> Input((30,)).input_shape
    (30,)
    """

    def __init__(
        self, shape: Sequence[int], *, name: str | None = None, dtype: str | None = None
    ) -> None:
        super().__init__(name=name, input_shape=shape)
        if dtype is not None:
            check_choice(dtype, "dtype", _DTYPES, who=f"Input {self.name!r}")
        self.input_dtype = dtype
        node = Node(self, (), multiple=False)
        self.output = SymbolicTensor(self.input_shape or (), dtype, node, self.name)
        node.output = self.output

    def check_input(self, x: Array) -> None:
        """As :meth:`Layer.check_input`; a ``"string"`` input arrives already encoded by the
        layer reading it (a ``StringLookup``), in that layer's shape: no shape to check."""
        if self.input_dtype != "string":
            super().check_input(x)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        return x, identity_backprop

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "shape": list(self.input_shape or ())}
        if self.input_dtype is not None:
            config["dtype"] = self.input_dtype
        return config


@register_layer
class Flatten(Layer):
    """Flatten each sample to one axis: ``(batch, d1, ..., dk) -> (batch, d1 * ... * dk)``.

    >>> from nnx.backends import get_backend
    >>> Flatten()(get_backend("numpy").asarray([[[1.0, 2.0], [3.0, 4.0]]]))
    array([[1., 2., 3., 4.]])
    """

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if any(d is None for d in input_shape):
            return (None,)
        return (math.prod(input_shape),)  # type: ignore[arg-type]

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = self.backend.xp  # type: ignore[union-attr]
        shape = tuple(x.shape)
        y = xp.reshape(x, (shape[0], -1))

        def backprop(dy: Array) -> Array:
            return xp.reshape(dy, shape)

        return y, backprop


@register_layer
class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one entry may be -1).

    Args:
        target_shape: the new shape without the batch axis.

    >>> from nnx.backends import get_backend
    >>> Reshape((2, 2))(get_backend("numpy").asarray([[1.0, 2.0, 3.0, 4.0]])).shape
    (1, 2, 2)
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        dims = tuple(int(d) for d in target_shape)
        if dims.count(-1) > 1 or any(d == 0 or d < -1 for d in dims):
            raise ValueError(
                f"Reshape: target_shape must have positive sizes and at most one "
                f"-1, received target_shape={tuple(target_shape)}."
            )
        self.target_shape = dims

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if any(d is None for d in input_shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(input_shape)  # type: ignore[arg-type]
        known = math.prod(d for d in self.target_shape if d != -1)
        if (-1 in self.target_shape and size % known) or (
            -1 not in self.target_shape and size != known
        ):
            raise ValueError(
                f"Reshape {self.name!r}: cannot reshape input shape {input_shape} "
                f"(size {size}) to target_shape={self.target_shape}."
            )
        return _as_shape(
            tuple(size // known if d == -1 else d for d in self.target_shape), "Reshape output"
        )

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = self.backend.xp  # type: ignore[union-attr]
        shape = tuple(x.shape)
        y = xp.reshape(x, (shape[0], *self.target_shape))

        def backprop(dy: Array) -> Array:
            return xp.reshape(dy, shape)

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


@register_layer
class RepeatVector(Layer):
    """Repeat each sample vector ``n`` times along a new time axis (Keras's ``RepeatVector``):
    ``y[:, t, :] = x`` for ``t < n``; backward ``dx = sum_t dy[:, t, :]``.

    The classic encoder-decoder feeds the encoder's last state to every decoder step with it.

    Args:
        n: the number of repetitions (steps of the output).

    Shape:
        Input ``(batch, features)``, output ``(batch, n, features)``.

    >>> from nnx.backends import get_backend
    >>> RepeatVector(3)(get_backend("numpy").asarray([[1.0, 2.0]])).tolist()
    [[[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]]
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = check_int(n, "n", who="RepeatVector", minimum=1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 1:
            raise ValueError(
                f"RepeatVector {self.name!r} expects inputs of shape (batch, features), "
                f"received input shape (batch, {', '.join(map(str, input_shape))})."
            )
        return (self.n, input_shape[0])

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = self.backend.xp  # type: ignore[union-attr]
        if x.ndim != 2:
            raise ValueError(
                f"RepeatVector {self.name!r} expects inputs of shape (batch, features), "
                f"received shape {tuple(x.shape)}."
            )
        n, features = x.shape
        y = xp.broadcast_to(xp.reshape(x, (n, 1, features)), (n, self.n, features))

        def backprop(dy: Array) -> Array:
            return xp.sum(dy, axis=1)

        return xp.asarray(y, copy=True), backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}
