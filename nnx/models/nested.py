"""A functional model used as a layer: Keras's "models are callable like layers".

``encoder = nnx.Model(inp, out)`` then ``y = encoder(x)`` on symbolic tensors of another graph
records one node whose layer is the model's :class:`NestedModel` (one per model, so a second
call shares its weights); a functional model in a ``Sequential`` is that layer too. It runs the
inner :class:`~nnx.models.graph.Graph`: the inputs' timestep masks flow into it (as into any
graph) and the inner outputs' masks come out; its backprop is the inner graph's, so
``dL/dx`` and every inner weight's gradient are those of the inner model's layers. The summary
shows it as one row (its parameters summed); saving writes the inner graph's config, and
loading rebuilds it, its weights read in the order the inner model lists them.

>>> import nnx
>>> from nnx.layers import Dense
>>> inner_x = nnx.Input((3,))
>>> inner = nnx.Model(inner_x, Dense(2, name="inner_dense")(inner_x), name="inner", seed=0)
>>> x = nnx.Input((3,))
>>> outer = nnx.Model(x, Dense(1, name="head")(inner(x)), seed=0)
>>> [type(layer).__name__ for layer in outer.layers], outer.count_params()
(['Input', 'NestedModel', 'Dense'], 11)
"""

from __future__ import annotations

from typing import Any

from nnx.backends import Backend, get_backend
from nnx.backends.base import Array, Generator
from nnx.layers import Layer
from nnx.layers.base import Backprop, layer_class, register_layer
from nnx.models.functional import Functional
from nnx.models.graph_config import connect, graph_config

__all__ = ["NestedModel", "as_layer"]


@register_layer
class NestedModel(Layer):
    """A functional model as one layer of another graph or ``Sequential`` (see the module).

    Args:
        model: the built functional model, or its graph config (``model.get_config()``): a
            fresh copy, built with the model using it.
        name: the layer's name (default: the model's).

    Shape:
        The model's: one sample shape per input in, one per output out (a list for several).
    """

    def __init__(
        self,
        model: Functional | dict[str, Any] | None = None,
        *,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        config = model if isinstance(model, dict) else None
        built = model if isinstance(model, Functional) else None
        default = config.get("name") if config else (built.name if built else None)
        super().__init__(name=name or default, trainable=trainable)
        self.model: Functional | None = built
        self._pending: tuple[Any, Any, dict[str, Any]] | None = None
        self._mask: Any = None
        if config is not None:  # a graph config: its fresh layers, built with the outer model
            layers = [
                layer_class(spec["class_name"]).from_config(dict(spec["config"]))
                for spec in config["layers"]
            ]
            inputs, outputs = connect(layers, config)
            self._pending = (inputs, outputs, dict(config))
        if built is not None or config is not None:
            self.multiple_inputs = len(self._tensors()[0]) > 1  # type: ignore[misc]

    @property
    def summary_type(self) -> str:
        """What ``summary()`` shows as this layer's type: the model's class (``Functional``)."""
        return "Functional"

    # --- shapes and building ----------------------------------------------------------------
    def _model(self) -> Functional:
        if self.model is None:
            raise RuntimeError(f"NestedModel {self.name!r} is used before it is built.")
        return self.model

    def compute_output_shape(self, input_shape: Any) -> Any:
        inputs, outputs = self._tensors()
        shapes = input_shape if len(inputs) > 1 else [input_shape]
        for t, shape in zip(inputs, shapes, strict=True):
            expected = t.sample_shape
            if len(shape) != len(expected) or any(
                a is not None and b is not None and a != b
                for a, b in zip(shape, expected, strict=True)
            ):
                raise ValueError(
                    f"Model {self.name!r} expects input {t.name!r} of shape (None, "
                    f"{', '.join(map(str, expected))}), received (None, "
                    f"{', '.join(map(str, shape))})."
                )
        outs = [t.sample_shape for t in outputs]
        return outs if len(outs) > 1 else outs[0]

    def compute_call_output_shape(
        self, input_shape: Any, options: dict[str, Any], keywords: dict[str, Any]
    ) -> Any:
        return self.compute_output_shape(input_shape)

    def _tensors(self) -> tuple[list[Any], list[Any]]:
        if self.model is not None:
            return self.model.inputs, self.model.outputs
        assert self._pending is not None
        inputs, outputs, _ = self._pending
        return _flat(inputs), _flat(outputs)

    def build(
        self,
        input_shape: Any,
        backend: Backend | str | None = None,
        rng: Generator | None = None,
        dtype: str = "float32",
    ) -> None:
        """Build the inner model if it was rebuilt from a config (its weights then come in
        its own order), and check that it runs on the outer model's backend and dtype."""
        backend = get_backend(backend)
        if self.model is None:
            assert self._pending is not None
            inputs, outputs, config = self._pending
            self.model = Functional(
                inputs,
                outputs,
                backend=backend,
                seed=config.get("seed"),
                dtype=dtype,  # the outer model's (a float64 twin for a gradient check)
                name=config.get("name", self.name),
            )
            self._pending = None
        model = self.model
        if model.backend.name != backend.name or model.dtype != dtype:
            raise ValueError(
                f"Model {model.name!r} is built on backend {model.backend.name!r} with dtype "
                f"{model.dtype}; the model using it runs on {backend.name!r} with {dtype}."
            )
        self.backend, self.dtype = model.backend, model.dtype
        unique = {id(p): p for p in model.parameters()}  # a layer shared inside: its weights once
        self._weights = list(unique.values())
        self._declared_trainable = [p for p in self._weights if p.trainable]
        self.input_shape = model.input_shape  # type: ignore[assignment]
        self.output_shape = model.output_shape  # type: ignore[assignment]
        self.built = True

    def check_input(self, x: Array) -> None:
        """The inner model's input layers check the arrays when it runs."""

    # --- running ----------------------------------------------------------------------------
    def forward(self, x: Any, *, training: bool = False) -> tuple[Any, Backprop]:
        """The inner graph on ``x`` (a list for several inputs): ``(y, backprop)``."""
        return self.forward_masked(x, None, training=training)

    def forward_masked(self, x: Any, mask: Any, *, training: bool = False) -> tuple[Any, Backprop]:
        """The inner graph with the inputs' timestep masks flowing in (None: none)."""
        graph = self._model().graph
        several_in, several_out = len(graph.inputs) > 1, len(graph.outputs) > 1
        xs = list(x) if several_in else [x]
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
        outs, backprop, out_masks = graph.run_masked(xs, training=training, input_masks=masks)
        # NOTE: the graph asks compute_mask for the output mask right after this forward.
        self._mask = out_masks if several_out else out_masks[0]

        def backprop_model(dy: Any) -> Any:
            dxs = backprop(list(dy) if several_out else [dy])
            return dxs if several_in else dxs[0]

        return (tuple(outs) if several_out else outs[0]), backprop_model  # type: ignore[return-value]

    def compute_mask(self, x: Any, mask: Any) -> Array | None:
        """The mask the inner graph gave its output in the last forward (None: none)."""
        out: Array | None = self._mask
        return out

    # --- config -----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The inner model's graph config (its layers and calls), not its weights."""
        if self.model is None:
            assert self._pending is not None
            config = dict(self._pending[2])
        else:
            config = graph_config(self.model)
            config.pop("compiled_outputs", None)
        return {"name": self.name, "trainable": self.trainable, "model": config}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> NestedModel:
        """Rebuild the inner graph from fresh layers; its weights are made when it is built."""
        return cls(
            dict(config["model"]), name=config.get("name"), trainable=config.get("trainable", True)
        )


def _flat(value: Any) -> list[Any]:
    """The tensors of a one / list / dict form, in order."""
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, (list, tuple)) else [value]


def as_layer(model: Functional) -> NestedModel:
    """The one :class:`NestedModel` of ``model`` (made on first use, so calls share it)."""
    layer = model.__dict__.get("_as_layer")
    if layer is None:
        layer = model._as_layer = NestedModel(model)  # type: ignore[attr-defined]
    return layer  # type: ignore[no-any-return]


def _call_symbolic(self: Functional, x: Any) -> Any:
    """``model(x)`` on symbolic tensors: a node of the model as one layer."""
    return as_layer(self)(x)


Functional.call_symbolic = _call_symbolic  # type: ignore[method-assign, assignment]
Functional.nested_layer = as_layer  # type: ignore[attr-defined]
