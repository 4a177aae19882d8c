"""Keras model subclassing: a ``Model`` subclass that makes layers in ``__init__`` and
composes them in ``call`` (:mod:`nnx.models.subclassed` for layers).

The model is built on its first batch (``fit``, ``predict``, ``model(x)``) or by
``build(input_shape)``: ``call`` is traced by a :class:`ModelCall` layer into a graph, whose
layers become ``model.layers``; ``forward`` runs the graph, ``compute_gradients`` adds the
compiled loss and runs its closures backwards. ``compile``/``fit``/``evaluate``/``predict``/
``summary``/``save_weights`` come from :class:`~nnx.models.model.Model`.

>>> import nnx
>>> from nnx import layers
>>> class MLP(nnx.Model):
...     def __init__(self):
...         super().__init__(seed=0)
...         self.d1 = layers.Dense(8, activation="relu")
...         self.d2 = layers.Dense(1)
...     def call(self, x):
...         return self.d2(self.d1(x))
>>> model = MLP()
>>> model.compile("adam", "mse")
>>> model.predict([[1.0, 2.0]]).shape, len(model.layers), model.count_params()
((1, 1), 2, 33)
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from nnx.backends.base import Array, on_backend_device
from nnx.layers import Input as InputLayer
from nnx.layers import Layer
from nnx.layers.activity import collect_activity, total_penalty
from nnx.layers.base import Backprop, no_backprop
from nnx.layers.symbolic import is_symbolic
from nnx.models.model import Model
from nnx.models.subclassed import traced_layers
from nnx.training.inputs import require_compiled

__all__ = ["ModelCall", "SUBCLASSED_MODEL_METHODS"]


class ModelCall(Layer):
    """A subclassed model's ``call`` as a traced layer (its graph holds the model's layers)."""

    def __init__(self, model: Model) -> None:
        super().__init__(name=f"{model.name}_call")
        self.model = model

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        method = type(self.model).call  # type: ignore[attr-defined]
        takes = inspect.signature(method).parameters
        if "training" in takes:
            return method(self.model, inputs, training=training)
        return method(self.model, inputs)


def _adapter(model: Model) -> ModelCall:
    adapter = model.__dict__.get("_call_layer")
    if adapter is None:
        adapter = model._call_layer = ModelCall(model)  # type: ignore[attr-defined]
    return adapter


def build(self: Model, input_shape: Sequence[int | None] | None = None) -> None:
    """Trace ``call`` on inputs of ``input_shape`` (one sample, no batch axis; a list for
    several inputs) and create every layer's weights."""
    if input_shape is None:
        raise ValueError(
            f"{type(self).__name__}.build needs input_shape=(...) (one sample, without the "
            "batch axis), or call fit/predict, which build on the first batch."
        )
    adapter = _adapter(self)
    shape: Any = list(input_shape) if isinstance(input_shape, list) else tuple(input_shape)
    adapter.build(shape, self.backend, self.rng, self.dtype)
    self.layers = [
        layer
        for layer in traced_layers(adapter)
        if not isinstance(layer, InputLayer) and layer is not adapter
    ]
    self.input_shape = shape
    self.output_shape = adapter.output_shape or ()
    self.built = True


def forward(self: Model, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
    """The traced ``call``: ``(y, backprop)``."""
    if not self.built:
        build(self, tuple(x.shape[1:]))
    return _adapter(self).forward(x, training=training)


def compute_gradients(
    self: Model, x: Array, y: Array, sample_weight: Array | None = None
) -> tuple[Array, Array]:
    """Forward and backward on a batch: sets every parameter's ``.grad`` (penalties
    included) and returns ``(loss, y_pred)``."""
    require_compiled(self, "compute_gradients")
    assert self.loss is not None
    with collect_activity() as penalties:
        y_pred, backprop = forward(self, x, training=True)
        loss, dy = self.loss.value_and_gradient(y, y_pred, sample_weight)
        backprop(dy)
    loss = total_penalty(loss, penalties)
    for p in self._regularized:
        loss = loss + p.regularizer(p.value)
        p.grad += p.regularizer.gradient(p.value)
    return loss, y_pred


@on_backend_device
def call_model(self: Model, x: Any) -> Any:
    """Inference on data, building the model on its first call."""
    if is_symbolic(x):
        return Model.call_symbolic(self, x)
    if not self.built:
        build(self, tuple(x.shape[1:]))
    with no_backprop():
        return forward(self, x, training=False)[0]


def predict(
    self: Model, x: Any, batch_size: int = 32, verbose: int = 0, steps: int | None = None
) -> Any:
    """:meth:`nnx.models.model.Model.predict`, building the model on the data first (arrays
    or nested lists), as Keras builds on the first call."""
    if not self.built and (isinstance(x, (list, tuple)) or hasattr(x, "shape")):
        first = x[:1] if hasattr(x, "shape") else self.backend.asarray(list(x[:1]))
        build(self, tuple(first.shape[1:]))
    return Model.predict(self, x, batch_size, verbose, steps)


def get_config(self: Model) -> dict[str, Any]:
    """Refused: a subclassed model's architecture is Python code."""
    raise NotImplementedError(
        f"{type(self).__name__} is a subclassed model: its architecture is its Python code, "
        "which a model file does not hold. Save its weights with model.save_weights(path) "
        "and load them into a new instance with model.load_weights(path), or build it as a "
        "functional model (nnx.Model(inputs, outputs)) to save it whole."
    )


#: what :meth:`nnx.models.model.Model.__init_subclass__` installs on a subclass with ``call``
SUBCLASSED_MODEL_METHODS: dict[str, Any] = {
    "build": build,
    "forward": forward,
    "compute_gradients": compute_gradients,
    "__call__": call_model,
    "predict": predict,
    "get_config": get_config,
}
Model.subclass_methods = SUBCLASSED_MODEL_METHODS
