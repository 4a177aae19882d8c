"""Layers that wrap other layers: ``Bidirectional`` and ``TimeDistributed``, and the helpers
composite layers share (building children, saving them in the config)."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, Generator
from nnx.layers.base import Backprop, Layer, Shape, layer_class, register_layer
from nnx.validation import check_choice

__all__ = ["Bidirectional", "TimeDistributed", "build_child", "deserialize_layer"]


def serialize_layer(layer: Layer) -> dict[str, Any]:
    """``{"class_name", "config"}`` of a layer, as models save theirs."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(spec: Layer | dict[str, Any]) -> Layer:
    """A layer from :func:`serialize_layer`'s dict (a layer object is returned as is)."""
    if isinstance(spec, Layer):
        return spec
    return layer_class(spec["class_name"]).from_config(dict(spec["config"]))


def build_child(parent: Layer, child: Layer, input_shape: Shape, rng: Generator) -> None:
    """Build ``child`` on ``parent``'s backend and dtype and adopt its weights as ``parent``'s
    own. A parent whose children draw random numbers gives them its own ``rng`` (one stream,
    which saving and ``gradcheck`` find on the parent)."""
    child.trainable = parent.trainable
    child.build(input_shape, parent.backend, rng, parent.dtype)
    parent._weights.extend(child.parameters())


@register_layer
class Bidirectional(Layer):
    """Run a recurrent layer forward and backward in time and merge the two outputs.

    ``y = merge(f(x), reverse(b(x)))`` where ``b`` reads the sequence backwards (with
    ``return_sequences`` its outputs are put back in time order). Backward: each direction's
    backprop gets its part of ``dy``; ``dx`` is their sum.

    Args:
        layer: a ``SimpleRNN``, ``LSTM`` or ``GRU`` (copied twice, from its config: the
            copies are ``forward_layer`` and ``backward_layer``).
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"``, or None (the
            output is the pair ``(forward, backward)``).

    Shape:
        As the wrapped layer, with ``2 units`` features for ``"concat"``.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import LSTM
    >>> x = get_backend("numpy").asarray([[[1.0], [0.5], [-1.0]]])
    >>> Bidirectional(LSTM(3, return_sequences=True))(x).shape
    (1, 3, 6)
    """

    def __init__(
        self, layer: Layer | dict[str, Any], merge_mode: str | None = "concat", **kwargs: Any
    ) -> None:
        layer = deserialize_layer(layer)
        kwargs.setdefault("name", f"bidirectional_{layer.name}")
        super().__init__(**kwargs)
        if getattr(layer, "return_state", False):
            raise ValueError(
                f"Bidirectional {self.name!r}: return_state=True layers are not supported; "
                "received a layer with return_state=True."
            )
        if not hasattr(layer, "go_backwards"):
            raise ValueError(
                f"Bidirectional {self.name!r} wraps a recurrent layer (SimpleRNN, LSTM, GRU), "
                f"received {type(layer).__name__}."
            )
        self.merge_mode = check_choice(
            merge_mode, "merge_mode", ("concat", "sum", "mul", "ave", None), who="Bidirectional"
        )
        config = layer.get_config()
        config.pop("input_shape", None)
        self.layer = layer
        self.forward_layer = type(layer).from_config({**config, "name": f"forward_{layer.name}"})
        backwards = not config["go_backwards"]
        self.backward_layer = type(layer).from_config(
            {**config, "name": f"backward_{layer.name}", "go_backwards": backwards}
        )
        self.return_sequences = bool(config["return_sequences"])

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        build_child(self, self.forward_layer, input_shape, rng)
        build_child(self, self.backward_layer, input_shape, rng)
        # NOTE: both directions draw their dropout masks from one stream, the wrapper's.
        self.rng = self.forward_layer.rng  # type: ignore[attr-defined]
        self.backward_layer.rng = self.rng  # type: ignore[attr-defined]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            return (*shape[:-1], 2 * shape[-1])  # type: ignore[operator]
        return shape

    def compute_mask(self, x: Array, mask: Array | None) -> Array | None:
        return mask if self.return_sequences else None

    def forward(self, x: Array, *, training: bool = False) -> tuple[Any, Backprop]:
        return self.forward_masked(x, None, training=training)

    def forward_masked(
        self, x: Array, mask: Array | None, *, training: bool = False
    ) -> tuple[Any, Backprop]:
        self.check_input(x)
        xp = self.backend.xp  # type: ignore[union-attr]
        yf, back_f = self.forward_layer.forward_masked(x, mask, training=training)
        yb, back_b = self.backward_layer.forward_masked(x, mask, training=training)
        seq = self.return_sequences
        if seq:
            yb = xp.flip(yb, axis=1)
        mode, units = self.merge_mode, yf.shape[-1]
        if mode == "concat":
            y: Any = xp.concat([yf, yb], axis=-1)
        elif mode == "sum":
            y = yf + yb
        elif mode == "mul":
            y = yf * yb
        elif mode == "ave":
            y = (yf + yb) / 2
        else:
            y = (yf, yb)

        def backprop(dy: Any) -> Array:
            if mode == "concat":
                dyf, dyb = dy[..., :units], dy[..., units:]
            elif mode == "sum":
                dyf, dyb = dy, dy
            elif mode == "mul":
                dyf, dyb = dy * yb, dy * yf
            elif mode == "ave":
                dyf = dyb = dy / 2
            else:
                dyf, dyb = dy
            if seq:
                dyb = xp.flip(dyb, axis=1)
            return back_f(dyf) + back_b(dyb)

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "layer": serialize_layer(self.layer),
            "merge_mode": self.merge_mode,
        }


@register_layer
class TimeDistributed(Layer):
    """Apply a layer to every timestep alone: ``y[:, t] = layer(x[:, t])``.

    The steps are folded into the batch (``(batch steps, *dims)``), so the wrapped layer runs
    once; backward unfolds ``dy`` the same way. A timestep mask passes through.

    Args:
        layer: the layer applied to each step (its weights are shared across steps).

    Shape:
        Input ``(batch, steps, *dims)``, output ``(batch, steps, *layer_output_dims)``.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import Dense
    >>> x = get_backend("numpy").asarray([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    >>> TimeDistributed(Dense(4))(x).shape
    (1, 3, 4)
    """

    supports_masking = True

    def __init__(self, layer: Layer | dict[str, Any], **kwargs: Any) -> None:
        layer = deserialize_layer(layer)
        kwargs.setdefault("name", f"time_distributed_{layer.name}")
        super().__init__(**kwargs)
        self.layer = layer

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        if len(input_shape) < 2:
            raise ValueError(
                f"TimeDistributed {self.name!r} expects inputs of shape (batch, steps, ...), "
                f"received input shape (batch, {', '.join(map(str, input_shape))})."
            )
        self.layer.input_shape = None
        build_child(self, self.layer, input_shape[1:], rng)
        child_rng = getattr(self.layer, "rng", None)
        if isinstance(child_rng, Generator):  # saving and gradcheck find it here
            self.rng = child_rng

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *(self.layer.output_shape or ()))

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = self.backend.xp  # type: ignore[union-attr]
        n, steps = x.shape[0], x.shape[1]
        y, back = self.layer.forward(xp.reshape(x, (n * steps, *x.shape[2:])), training=training)
        inner = tuple(y.shape[1:])

        def backprop(dy: Array) -> Array:
            dx = back(xp.reshape(dy, (n * steps, *inner)))
            return xp.reshape(dx, tuple(x.shape))

        return xp.reshape(y, (n, steps, *inner)), backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": serialize_layer(self.layer)}
