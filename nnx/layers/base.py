"""The layer contract: ``Parameter``, ``Layer`` and the layer registry.

A layer is built lazily once its input shape is known (``build``), creating its
:class:`Parameter` s; ``forward(x, training=...)`` returns the output and a ``backprop``
closure that, given ``dL/dy``, writes every parameter's ``.grad`` and returns ``dL/dx``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from nnx.backends import Backend, get_backend
from nnx.backends.base import Array, Generator

Shape = tuple[int | None, ...]
Backprop = Callable[[Array], Array]

__all__ = ["Backprop", "Layer", "Parameter", "Shape", "layer_class", "register_layer"]


class Parameter:
    """A weight array with its gradient.

    Attributes:
        value: the weights (updated in place by optimizers).
        grad: ``dL/dvalue`` from the last backward pass, same shape and dtype (None before).
        name: e.g. ``"dense/kernel"``.
        regularizer: optional penalty ``R(value)`` with ``R.gradient(value)``.
        trainable: False for state such as batch-norm moving statistics.
    """

    __slots__ = ("grad", "name", "regularizer", "trainable", "value")

    def __init__(
        self, value: Array, name: str, regularizer: Any = None, trainable: bool = True
    ) -> None:
        self.value = value
        self.grad: Array | None = None
        self.name = name
        self.regularizer = regularizer
        self.trainable = trainable

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.value.shape:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.shape}, trainable={self.trainable})"


L = TypeVar("L", bound=type)
_REGISTRY: dict[str, type[Layer]] = {}


def register_layer(cls: L) -> L:
    """Class decorator: make a layer loadable from a saved model by its class name."""
    _REGISTRY[cls.__name__] = cls
    return cls


def layer_class(name: str) -> type[Layer]:
    """The registered layer class called ``name``; ValueError listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"Unknown layer type {name!r}. Registered layers: {', '.join(sorted(_REGISTRY))}. "
            "Custom layers must be decorated with @nnx.layers.register_layer."
        ) from None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("2_d", "2d").replace("1_d", "1d")


class Layer:
    """Base class of every layer.

    Subclasses implement :meth:`forward` and, when they have weights, :meth:`build_parameters`
    (creating them with :meth:`add_weight`); shape-changing layers implement
    :meth:`compute_output_shape`.

    Args:
        name: a unique name (default: the snake-case class name plus a counter in the model).
        input_shape: the shape of one sample, without the batch axis, for a first layer.
        trainable: whether the optimizer updates this layer's weights.
    """

    _counters: ClassVar[dict[str, int]] = {}
    #: False while a model runs the forward of its first layer for training: that layer's
    #: backprop may then skip the input gradient (nobody reads it) and return None.
    needs_input_gradient: bool = True

    def __init__(
        self,
        *,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
        trainable: bool = True,
    ) -> None:
        base = _snake(type(self).__name__)
        if name is None:
            count = Layer._counters.get(base, 0)
            Layer._counters[base] = count + 1
            name = base if count == 0 else f"{base}_{count}"
        self.name = name
        self.trainable = trainable
        self.input_shape: Shape | None = (
            None
            if input_shape is None
            else _as_shape(input_shape, f"{type(self).__name__}(input_shape=...)")
        )
        self.output_shape: Shape | None = None
        self.backend: Backend | None = None
        self.dtype = "float32"
        self.built = False
        self._weights: list[Parameter] = []

    # --- building ---------------------------------------------------------------------------
    def build(
        self,
        input_shape: Sequence[int | None],
        backend: Backend | str | None = None,
        rng: Generator | None = None,
        dtype: str = "float32",
    ) -> None:
        """Create the weights for inputs of shape ``(batch, *input_shape)``."""
        backend = get_backend(backend)
        shape = _as_shape(input_shape, f"{self.name}.build(input_shape=...)")
        if self.input_shape is not None and self.built is False and self.input_shape != shape:
            raise ValueError(
                f"Layer {self.name!r} was declared with input_shape={self.input_shape} "
                f"but is built with input shape {shape}."
            )
        self.backend, self.dtype, self.input_shape = backend, dtype, shape
        self._weights = []
        self.build_parameters(shape, rng if rng is not None else backend.rng(None))
        self.output_shape = self.compute_output_shape(shape)
        self.built = True

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        """Create weights with :meth:`add_weight` (layers without weights do nothing)."""

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The shape of one output sample for one input sample of ``input_shape``."""
        return input_shape

    def add_weight(
        self,
        name: str,
        shape: tuple[int, ...],
        initializer: Any,
        rng: Generator,
        regularizer: Any = None,
        trainable: bool = True,
    ) -> Parameter:
        """Create, register and return a :class:`Parameter` initialised by ``initializer``."""
        from nnx import initializers

        value = initializers.get(initializer)(shape, rng, self.dtype)
        param = Parameter(value, f"{self.name}/{name}", regularizer, trainable and self.trainable)
        self._weights.append(param)
        return param

    # --- running ----------------------------------------------------------------------------
    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """Return ``(y, backprop)``; ``backprop(dy)`` sets parameter grads, returns ``dx``."""
        raise NotImplementedError

    def __call__(self, x: Array) -> Array:
        """Inference: ``forward(x, training=False)[0]``, building the layer on first use."""
        if not self.built:
            self.build(tuple(x.shape[1:]), _owner(x))
        return self.forward(x, training=False)[0]

    def check_input(self, x: Array) -> None:
        """Raise a clear error for an array of another backend or of the wrong shape."""
        backend = self.backend
        if backend is None:
            raise RuntimeError(f"Layer {self.name!r} is used before it is built.")
        if not backend.owns(x):
            raise TypeError(
                f"Layer {self.name!r} runs on backend {backend.name!r} but received "
                f"{type(x).__module__}.{type(x).__name__}; move it first with "
                f"backend.asarray(x) (models do this for you in fit/predict/evaluate)."
            )
        expected = self.input_shape
        received = tuple(x.shape[1:])
        # NOTE: plain tuple equality first: this runs for every layer at every step.
        if expected is not None and received != expected and not _matches(received, expected):
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) expected input shape "
                f"(batch, {', '.join(str(d) for d in expected)}), received {tuple(x.shape)}."
            )

    # --- weights and config -----------------------------------------------------------------
    def parameters(self) -> list[Parameter]:
        """All weights, trainable and not, in creation order."""
        return list(self._weights)

    def trainable_parameters(self) -> list[Parameter]:
        return [p for p in self._weights if p.trainable]

    def count_params(self) -> int:
        return sum(p.size for p in self._weights)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer (JSON-serialisable)."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.input_shape is not None:
            config["input_shape"] = list(self.input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} output_shape={self.output_shape}>"


def _as_shape(shape: Any, what: str) -> Shape:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a tuple of ints, received {shape!r}.") from None
    if any(d is not None and d <= 0 for d in dims):
        raise ValueError(f"{what} must have positive dimensions, received {shape!r}.")
    return dims


def _matches(received: tuple[int, ...], expected: Shape) -> bool:
    return len(received) == len(expected) and all(
        e is None or r == e for r, e in zip(received, expected, strict=True)
    )


def _owner(x: Any) -> Backend:
    from nnx.backends import backend_of

    return backend_of(x)
