"""The layer contract: ``Layer`` and the layer registry (``Parameter`` is in ``parameter.py``).

A layer is built lazily once its input shape is known (``build``), creating its parameters;
``forward(x, training=...)`` returns the output and a ``backprop`` closure that, given ``dL/dy``,
writes every parameter's ``.grad`` and returns ``dL/dx``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, NoReturn, TypeVar

import nnx.constraints as constraints
import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends import Backend, backend_of, get_backend
from nnx.backends.base import Array, Generator
from nnx.layers.activity import ActivityForward
from nnx.layers.parameter import Parameter
from nnx.layers.symbolic import Node, call_in_graph, current_trace, is_symbolic
from nnx.registry import Registry, serialize
from nnx.validation import check_bool

Shape = tuple[int | None, ...]
Backprop = Callable[[Array], Array]

__all__ = [
    "Backprop",
    "Layer",
    "Parameter",
    "Shape",
    "backprop_needed",
    "identity_backprop",
    "layer_class",
    "layer_names",
    "no_backprop",
    "register_layer",
    "serialize_or_none",
    "weights_from",
]


L = TypeVar("L", bound=type)


_REGISTRY: Registry[type[Layer]] = Registry("layer type")

#: ``source(name, shape, dtype) -> array``: where new weights come from instead of their
#: initializers (see :func:`weights_from`); None: draw them
WeightSource = Callable[[str, tuple[int, ...], str], Array]
_WEIGHT_SOURCE: ContextVar[WeightSource | None] = ContextVar("nnx_weight_source", default=None)


@contextmanager
def weights_from(source: WeightSource) -> Iterator[None]:
    """Inside this block, :meth:`Layer.add_weight` takes each new weight from
    ``source(name, shape, dtype)`` instead of drawing it with its initializer.

    Loading a file builds its layers this way: no initial weight is drawn (no time, no memory,
    no ``n^3`` orthogonal draw) for values the file replaces, and ``source`` can refuse a
    declared shape before anything of that size exists.

    >>> from nnx.backends import get_backend
    >>> zeros = lambda name, shape, dtype: get_backend("numpy").xp.zeros(shape, dtype=dtype)
    >>> from nnx.layers import Dense
    >>> layer = Dense(2)
    >>> with weights_from(zeros):
    ...     layer.build((3,), "numpy")
    >>> layer.kernel.value.tolist()
    [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    """
    token = _WEIGHT_SOURCE.set(source)
    try:
        yield
    finally:
        _WEIGHT_SOURCE.reset(token)


_BACKPROP: ContextVar[bool] = ContextVar("nnx_backprop", default=True)


class no_backprop:  # noqa: N801 - used as a context manager, like contextlib's
    """Inside this block, forward passes promise never to call their ``backprop``: inference
    (``layer(x)``, ``model(x)``, ``predict``, ``evaluate``). A layer may then skip what only its
    backward reads (a recurrent layer keeps no per-step tensors); ``training`` is unchanged
    (it chooses dropout, not whether a backward follows).

    A class rather than a ``@contextmanager`` generator: every ``model(x)`` enters one, and
    the generator's machinery cost a few microseconds of a small model's call.

    >>> backprop_needed()
    True
    >>> with no_backprop():
    ...     backprop_needed()
    False
    """

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _BACKPROP.set(False)

    def __exit__(self, *exc: object) -> None:
        _BACKPROP.reset(self._token)


def backprop_needed() -> bool:
    """False inside :func:`no_backprop`: the current forward's backprop will not be called."""
    return _BACKPROP.get()


def register_layer(cls: L) -> L:
    """Class decorator: make a layer loadable from a saved model by its class name.

    >>> @register_layer
    ... class Twice(Layer):
    ...     def forward(self, x, *, training=False):
    ...         return 2 * x, lambda dy: 2 * dy
    >>> layer_class("Twice") is Twice
    True
    """
    _REGISTRY.add(cls.__name__, cls)
    return cls


def layer_class(name: str) -> type[Layer]:
    """The registered layer class called ``name``; ValueError listing the known ones.

    >>> layer_class("Dense").__name__
    'Dense'
    """
    try:
        return _REGISTRY.lookup(name)
    except ValueError as error:
        raise ValueError(
            f"{error} Custom layers must be decorated with @nnx.layers.register_layer."
        ) from None


def layer_names() -> list[str]:
    """The class names of every registered layer, sorted.

    >>> "Dense" in layer_names()
    True
    """
    return _REGISTRY.names()


def identity_backprop(dy: Array) -> Array:
    """The backprop of a layer that passes its input through unchanged: ``dx = dy``."""
    return dy


def serialize_or_none(obj: Any) -> dict[str, Any] | None:
    """``{"class_name": ..., "config": ...}`` of an initializer or regularizer; None for None.

    >>> from nnx.regularizers import L2
    >>> serialize_or_none(L2(0.5)), serialize_or_none(None)
    ({'class_name': 'L2', 'config': {'l2': 0.5}}, None)
    """
    return None if obj is None else serialize(obj)


def _snake(name: str) -> str:
    # NOTE: a run of capitals is one word (LSTM -> lstm, SimpleRNN -> simple_rnn), as Keras.
    return (
        re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
        .lower()
        .replace("2_d", "2d")
        .replace("1_d", "1d")
    )


class Layer:
    """Base class of every layer.

    Subclasses implement :meth:`forward` and, when they have weights, :meth:`build_parameters`
    (creating them with :meth:`add_weight`); shape-changing layers implement
    :meth:`compute_output_shape`.

    Args:
        name: a unique name (default: the snake-case class name plus a counter in the model).
        input_shape: the shape of one sample, without the batch axis, for a first layer.
        trainable: whether the optimizer updates this layer's weights.
        activity_regularizer: a penalty ``R(y)`` on the output (a regularizer or its name),
            added to the training loss with its gradient (:mod:`nnx.layers.activity`).
    """

    _counters: ClassVar[dict[str, int]] = {}
    #: False while a model runs the forward of its first layer for training: that layer's
    #: backprop may then skip the input gradient (nobody reads it) and return None.
    needs_input_gradient: bool = True
    #: True for a layer called on a list of tensors (merge layers): its ``build``,
    #: ``compute_output_shape`` and ``forward`` take lists, its backprop returns a list.
    multiple_inputs: ClassVar[bool] = False
    #: whether the output keeps the input's timesteps, so a timestep mask passes through
    #: unchanged (see :mod:`nnx.layers.masking`)
    supports_masking: bool = False
    #: runs the layers that define ``call`` (Keras subclassing): traces ``call`` into a graph
    #: and runs it; set by :mod:`nnx.models.subclassed`, which needs the graph machinery
    call_runner: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass defining ``call`` (and not ``forward``) is a Keras subclassed layer:
        ``__call__``, ``forward``, ``build_parameters`` and the shape methods it does not
        define itself go through :attr:`call_runner`."""
        super().__init_subclass__(**kwargs)
        if "call" in cls.__dict__ and cls.forward is Layer.forward:
            for name, method in _CALL_METHODS.items():
                if getattr(cls, name, None) is getattr(Layer, name, None):
                    setattr(cls, name, method)
        if cls.forward is _call_forward and "build" in cls.__dict__:
            # NOTE: Keras's build(input_shape) creates the layer's own weights; nnx's build
            # (input_shape, backend, rng, dtype) stays the entry point and runs it.
            cls.keras_build = cls.__dict__["build"]  # type: ignore[attr-defined]
            cls.build = _call_build  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
        trainable: bool = True,
        activity_regularizer: Any = None,
    ) -> None:
        base = _snake(type(self).__name__)
        if name is None:
            count = Layer._counters.get(base, 0)
            Layer._counters[base] = count + 1
            name = base if count == 0 else f"{base}_{count}"
        self.name = name
        self._weights: list[Parameter] = []
        self._declared_trainable: list[Parameter] = []
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
        #: the calls recorded on symbolic tensors (:mod:`nnx.layers.symbolic`), first to last
        self.inbound_nodes: list[Node] = []
        if activity_regularizer is not None:
            self.activity_regularizer = activity_regularizer

    @property
    def activity_regularizer(self) -> Any:
        """The penalty ``R(y)`` on this layer's output, or None (see
        :mod:`nnx.layers.activity`). Set it before ``compile``: an output layer with one does
        not fuse its activation with the loss."""
        return self.__dict__.get("_activity_regularizer")

    @activity_regularizer.setter
    def activity_regularizer(self, value: Any) -> None:
        try:
            reg = regularizers.get(value)
        except ValueError as error:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: activity_regularizer: {error}"
            ) from None
        state = self.__dict__
        state["_activity_regularizer"] = reg
        for method in ("forward", "forward_masked"):
            state.pop(method, None)
        if reg is not None:
            state["forward"] = ActivityForward(self, "forward")
            if type(self).forward_masked is not Layer.forward_masked:
                state["forward_masked"] = ActivityForward(self, "forward_masked")

    def check_constraint(self, value: Any, arg: str) -> Any:
        """``value`` (a constraint argument ``arg`` of this layer) resolved by
        :func:`nnx.constraints.get`, the error naming the layer."""
        if value is None:  # the common case, without building the message's name
            return None
        return constraints.get(value, arg, f"{type(self).__name__} {self.name!r}")

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's first call in a graph (a list for a layer with
        several outputs), as Keras's ``layer.output``: how a trained model's layers are wired
        into a second model (an encoder or a decoder step taken out of a seq2seq model)."""
        fixed = self.__dict__.get("_output_tensor")
        if fixed is not None:
            return fixed
        node = self._first_node("output")
        return list(node.outputs) if node.multiple_outputs else node.output

    @output.setter
    def output(self, tensor: Any) -> None:
        self.__dict__["_output_tensor"] = tensor

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's first call in a graph (a list for a layer called
        on a list), as Keras's ``layer.input``."""
        node = self._first_node("input")
        return list(node.args) if node.multiple else node.args[0]

    def _first_node(self, what: str) -> Node:
        if not self.inbound_nodes or self.inbound_nodes[0].is_input:
            raise AttributeError(
                f"Layer {self.name!r} ({type(self).__name__}) has never been called on a "
                f"symbolic tensor (an nnx.Input), so it has no defined {what}."
            )
        return self.inbound_nodes[0]

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates this layer's weights.

        Setting it freezes (False) or unfreezes (True) every weight the layer declared
        trainable (batch-norm moving statistics stay frozen), as in Keras; recompile the model
        afterwards, as Keras asks, for the change to reach the training step.
        """
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = check_bool(value, "trainable", who=f"Layer {self.name!r}")
        for p in self._declared_trainable:
            p.trainable = self._trainable

    # --- building ---------------------------------------------------------------------------
    def build(
        self,
        input_shape: Sequence[int | None],
        backend: Backend | str | None = None,
        rng: Generator | None = None,
        dtype: str = "float32",
    ) -> None:
        """Create the weights for inputs of shape ``(batch, *input_shape)``."""
        if self.__dict__.get("_in_user_build"):
            return  # Keras's super().build(input_shape) inside a subclass's own build
        backend = get_backend(backend)
        shape = _as_shape(input_shape, f"{self.name}.build(input_shape=...)")
        if self.input_shape is not None and self.built is False and self.input_shape != shape:
            raise ValueError(
                f"Layer {self.name!r} was declared with input_shape={self.input_shape} "
                f"but is built with input shape {shape}."
            )
        self.backend, self.dtype, self.input_shape = backend, dtype, shape
        self._weights, self._declared_trainable = [], []
        with backend.device_scope():  # weights land on (and compute on) the backend's device
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
        name: Any = None,
        shape: Sequence[int] | None = None,
        initializer: Any = "glorot_uniform",
        rng: Generator | None = None,
        regularizer: Any = None,
        trainable: bool = True,
        constraint: Any = None,
    ) -> Parameter:
        """Create, register and return a :class:`Parameter` initialised by ``initializer``
        (or taken from the source of an enclosing :func:`weights_from`).

        Keras's keyword form works too, in a subclassed layer's ``build(input_shape)``:
        ``self.add_weight(shape=(d, units), initializer="random_normal", name="w")`` (the
        generator is then the model's; a shape given first is taken as the shape).
        """
        if shape is None and isinstance(name, (tuple, list)):
            name, shape = None, name
        if shape is None:
            raise ValueError(f"Layer {self.name!r}.add_weight needs a shape, received None.")
        shape = tuple(int(d) for d in shape)
        if name is None:
            name = f"weight_{len(self._weights)}" if len(self._weights) else "weight"
        if rng is None:
            rng = self.__dict__.get("_build_rng") or get_backend(self.backend).rng(None)
        full_name = f"{self.name}/{name}"
        source = _WEIGHT_SOURCE.get()
        if source is None:
            value = initializers.get(initializer)(shape, rng, self.dtype)
        else:
            value = source(full_name, tuple(shape), self.dtype)
        param = Parameter(
            value, full_name, regularizer, trainable and self.trainable, constraint=constraint
        )
        self._weights.append(param)
        if trainable:
            self._declared_trainable.append(param)
        return param

    # --- running ----------------------------------------------------------------------------
    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """Return ``(y, backprop)``; ``backprop(dy)`` sets parameter grads, returns ``dx``."""
        raise NotImplementedError

    def forward_masked(
        self, x: Array, mask: Array | None, *, training: bool = False
    ) -> tuple[Array, Backprop]:
        """:meth:`forward` given the ``(batch, steps)`` bool mask of ``x``'s valid timesteps
        (None: all valid). Layers that read masks (recurrent, attention) override it; the
        default ignores the mask (see :mod:`nnx.layers.masking`)."""
        return self.forward(x, training=training)

    def compute_mask(self, x: Array, mask: Array | None) -> Array | None:
        """The timestep mask of this layer's output for input ``x`` with ``mask``: passed
        through when :attr:`supports_masking`, else dropped."""
        return mask if self.supports_masking else None

    def __call__(self, x: Any, training: bool | None = None) -> Any:
        """Inference: ``forward(x, training=False)[0]``, building the layer on first use
        (``training=True``: in training mode, e.g. dropout on).

        On symbolic tensors (``nnx.Input``), or on data inside a traced ``call`` (a subclassed
        layer, see :mod:`nnx.models.subclassed`), it records the call instead and returns the
        output's :class:`~nnx.layers.symbolic.SymbolicTensor` (the functional API).
        """
        if is_symbolic(x) or current_trace() is not None:
            return call_in_graph(self, x, training=training)
        if not self.built:
            if isinstance(x, (list, tuple)):
                shapes: Any = [tuple(a.shape[1:]) for a in x]
                self.build(shapes, backend_of(x[0]))
            else:
                self.build(tuple(x.shape[1:]), backend_of(x))
        with no_backprop():
            return self.forward(x, training=bool(training))[0]

    def kept_nothing_backprop(self, dy: Any) -> NoReturn:
        """The backprop of a forward that ran under :class:`no_backprop` and kept nothing for a
        backward: raises, naming the layer."""
        raise RuntimeError(
            f"{type(self).__name__} {self.name!r}: this forward ran under no_backprop() "
            "(inference) and kept nothing for a backward; run it outside that block."
        )

    def check_input(self, x: Array) -> None:
        """Raise a clear error for an array of another backend or of the wrong shape.

        Validated once per input signature: an array of the type, device and shape last
        accepted, for the same built layer, passes at the cost of one comparison (this runs for
        every layer at every step); anything else is checked in full."""
        seen = self.__dict__.get("_accepted")
        if (
            seen is not None
            and seen[0] is type(x)
            and seen[1] == x.shape
            and seen[2] is self.input_shape
            and seen[3] is self.backend
            and seen[4] == getattr(x, "device", None)
        ):
            return
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
        self._accepted = (type(x), x.shape, expected, backend, getattr(x, "device", None))

    # --- weights and config -----------------------------------------------------------------
    def parameters(self) -> list[Parameter]:
        """All weights, trainable and not, in creation order."""
        return list(self._weights)

    def trainable_parameters(self) -> list[Parameter]:
        """The weights an optimizer updates, in creation order."""
        return [p for p in self._weights if p.trainable]

    def count_params(self) -> int:
        """The number of weights, trainable and not."""
        return sum(p.size for p in self._weights)

    def get_weights(self) -> list[Any]:
        """Copies of the weights as host NumPy arrays, in creation order (Keras's
        ``layer.get_weights()``: ``[kernel, bias]`` for a Dense layer)."""
        return [
            p.value if self.backend is None else self.backend.to_numpy(p.value).copy()
            for p in self._weights
        ]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Replace the weights in place (same count and shapes as :meth:`get_weights`)."""
        if len(weights) != len(self._weights):
            raise ValueError(
                f"Layer {self.name!r}.set_weights: the layer has {len(self._weights)} weight "
                f"arrays, received {len(weights)}."
            )
        assert self.backend is not None
        for p, w in zip(self._weights, weights, strict=True):
            value = self.backend.asarray(w, dtype=self.dtype)
            if tuple(value.shape) != p.shape:
                raise ValueError(
                    f"Layer {self.name!r}.set_weights: {p.name} has shape {p.shape}, "
                    f"received {tuple(value.shape)}."
                )
            p.value[...] = value

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer (JSON-serialisable)."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.input_shape is not None:
            config["input_shape"] = list(self.input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = serialize_or_none(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from :meth:`get_config` (unbuilt: weights come with ``build``)."""
        return cls(**config)

    def __repr__(self) -> str:
        """The class and its config: ``Dense(units=4, activation='relu', name='dense')``.

        Falls back to name and output shape if a subclass's ``get_config`` cannot run.
        """
        try:
            config = self.get_config()
        except Exception:
            return f"<{type(self).__name__} {self.name!r} output_shape={self.output_shape}>"
        defaults = {"trainable": True, **_constructor_defaults(type(self))}
        args = ", ".join(
            f"{key}={_short(value)}"
            for key, value in config.items()
            if key not in defaults or defaults[key] != value
        )
        return f"{type(self).__name__}({args})"


def _runner() -> Any:
    if Layer.call_runner is None:  # pragma: no cover (import nnx registers it)
        raise RuntimeError("import nnx (nnx.models) before using a layer that defines call().")
    return Layer.call_runner


def _call_call(self: Layer, inputs: Any, *args: Any, **kwargs: Any) -> Any:
    """``layer(inputs, ...)`` of a layer defining ``call``: see :mod:`nnx.models.subclassed`."""
    return _runner().call(self, inputs, args, kwargs)


def _call_forward(self: Layer, x: Any, *, training: bool = False, **options: Any) -> Any:
    """The traced ``call`` run forward: ``(y, backprop)``."""
    return _runner().forward(self, x, training, options)


def _call_forward_masked(
    self: Layer, x: Any, mask: Any, *, training: bool = False, **options: Any
) -> Any:
    """The traced ``call`` run forward with the inputs' timestep masks (its ``mask=``)."""
    return _runner().forward(self, x, training, options, mask)


def _call_compute_mask(self: Layer, x: Any, mask: Any) -> Any:
    """The output mask of a layer defining ``call``: Keras's ``supports_masking`` rule."""
    return _runner().compute_mask(self, x, mask)


def _call_build(
    self: Layer,
    input_shape: Any,
    backend: Backend | str | None = None,
    rng: Generator | None = None,
    dtype: str = "float32",
) -> None:
    """Create the layer's own weights (its Keras ``build``), trace ``call`` and build the
    layers it calls."""
    if self.__dict__.get("_in_user_build"):
        return  # Keras's super().build(input_shape) inside the subclass's own build
    _runner().build(self, input_shape, backend, rng, dtype)


def _call_output_shape(self: Layer, input_shape: Any) -> Any:
    """The output shape of the traced ``call``."""
    return _runner().output_shape(self, input_shape, {})


def _call_call_output_shape(
    self: Layer, input_shape: Any, options: dict[str, Any], keywords: dict[str, Any]
) -> Any:
    return _runner().output_shape(self, input_shape, options)


_CALL_METHODS: dict[str, Any] = {
    "__call__": _call_call,
    "forward": _call_forward,
    "forward_masked": _call_forward_masked,
    "compute_mask": _call_compute_mask,
    "build": _call_build,
    "compute_output_shape": _call_output_shape,
    "compute_call_output_shape": _call_call_output_shape,
}


def _constructor_defaults(cls: type) -> dict[str, Any]:
    """Keyword defaults of ``cls.__init__`` (``trainable=True``...), left out of the repr."""
    import inspect

    try:
        parameters = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def _short(value: Any) -> str:
    """A config value for a repr: an argument-less serialised object as its class name."""
    if isinstance(value, dict) and set(value) == {"class_name", "config"} and not value["config"]:
        return str(value["class_name"])
    return repr(value)


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
