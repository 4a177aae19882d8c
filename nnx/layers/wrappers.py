"""Layers that wrap other layers: ``Bidirectional`` and ``TimeDistributed``, and the helpers
composite layers share (building children, saving them in the config)."""

from __future__ import annotations

from typing import Any

from nnx.backends import backend_of
from nnx.backends.base import Array, Generator
from nnx.layers.base import Backprop, Layer, Shape, layer_class, no_backprop, register_layer
from nnx.layers.symbolic import call_symbolic, check_graph_training, is_symbolic
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

    As in Keras, a wrapped layer with ``return_state=True`` makes the output
    ``[y, *forward states, *backward states]`` (``[y, h_f, c_f, h_b, c_b]`` for an LSTM), and
    ``initial_state`` takes the same list of states (forward first), eagerly and in graphs;
    the backprop then returns ``[dx, *d initial states]``. ``merge_mode=None`` gives the two
    directions' outputs separately (two tensors in a graph).

    Args:
        layer: a ``SimpleRNN``, ``LSTM`` or ``GRU`` (copied twice, from its config: the
            copies are ``forward_layer`` and ``backward_layer``).
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"``, or None (the
            output is the pair ``(forward, backward)``).

    Shape:
        As the wrapped layer, with ``2 units`` features for ``"concat"``; each state
        ``(batch, units)``.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import LSTM
    >>> x = get_backend("numpy").asarray([[[1.0], [0.5], [-1.0]]])
    >>> Bidirectional(LSTM(3, return_sequences=True))(x).shape
    (1, 3, 6)
    >>> [a.shape for a in Bidirectional(LSTM(3, return_state=True))(x)]
    [(1, 6), (1, 3), (1, 3), (1, 3), (1, 3)]
    """

    def __init__(
        self, layer: Layer | dict[str, Any], merge_mode: str | None = "concat", **kwargs: Any
    ) -> None:
        layer = deserialize_layer(layer)
        kwargs.setdefault("name", f"bidirectional_{layer.name}")
        super().__init__(**kwargs)
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
        self.return_state = bool(config.get("return_state", False))
        self.state_count: int = getattr(layer, "state_count", 1)

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

    def compute_call_output_shape(
        self, input_shape: Shape, options: dict[str, Any], keywords: dict[str, Any]
    ) -> Any:
        """A graph call's output shape(s): ``[y(, y_backward), *states]`` when there are
        several outputs (``return_state`` or ``merge_mode=None``)."""
        if "initial_state" in keywords:
            shapes = [(None, *s) for s in keywords["initial_state"]]
            self._check_states(shapes, None)
        y = self.compute_output_shape(input_shape)
        ys = [y] if self.merge_mode is not None else [y, y]
        units = getattr(self.layer, "units", 0)
        states = [(units,)] * (2 * self.state_count) if self.return_state else []
        return [*ys, *states] if len(ys) + len(states) > 1 else y

    def _check_states(self, shapes: list[Any], batch: int | None) -> None:
        """Both halves of ``initial_state`` (forward states, then backward states)."""
        count = self.state_count
        if len(shapes) != 2 * count:
            raise ValueError(
                f"Bidirectional {self.name!r}: initial_state must hold {2 * count} states "
                f"(the forward layer's {count}, then the backward layer's), received "
                f"{len(shapes)}."
            )
        self.forward_layer.check_state_shapes(shapes[:count], batch)  # type: ignore[attr-defined]
        self.backward_layer.check_state_shapes(shapes[count:], batch)  # type: ignore[attr-defined]

    def compute_mask(self, x: Array, mask: Array | None) -> Array | None:
        return mask if self.return_sequences else None

    def __call__(  # type: ignore[override]
        self,
        x: Any,
        mask: Array | None = None,
        initial_state: Any = None,
        training: bool | None = None,
    ) -> Any:
        """Inference (see the class), or a graph node on symbolic tensors."""
        if is_symbolic(x) or (initial_state is not None and is_symbolic(initial_state)):
            keywords = {} if initial_state is None else {"initial_state": list(initial_state)}
            if mask is not None:  # replaces the input's own mask, as in Keras
                keywords["mask"] = mask
            check_graph_training(self, training)
            return call_symbolic(self, x, None, keywords or None)
        if not self.built:
            self.build(tuple(x.shape[1:]), backend_of(x))
        with no_backprop():  # inference: the inner layers keep nothing for a backward
            return self.forward_masked(
                x, mask, training=bool(training), initial_state=initial_state
            )[0]

    def forward(
        self, x: Array, *, training: bool = False, initial_state: Any = None
    ) -> tuple[Any, Backprop]:
        return self.forward_masked(x, None, training=training, initial_state=initial_state)

    def forward_masked(
        self,
        x: Array,
        mask: Array | None,
        *,
        training: bool = False,
        initial_state: Any = None,
    ) -> tuple[Any, Backprop]:
        self.check_input(x)
        xp = self.backend.xp  # type: ignore[union-attr]
        count, given = self.state_count, initial_state is not None
        init_f = init_b = None
        if initial_state is not None:
            states = list(initial_state)
            self._check_states([tuple(a.shape) for a in states], int(x.shape[0]))
            init_f, init_b = states[:count], states[count:]
        out_f, back_f = self.forward_layer.forward_masked(  # type: ignore[call-arg]
            x, mask, training=training, initial_state=init_f
        )
        out_b, back_b = self.backward_layer.forward_masked(  # type: ignore[call-arg]
            x, mask, training=training, initial_state=init_b
        )
        (yf, *states_f) = out_f if self.return_state else (out_f,)
        (yb, *states_b) = out_b if self.return_state else (out_b,)
        seq = self.return_sequences
        if seq:
            yb = xp.flip(yb, axis=1)
        mode, units = self.merge_mode, yf.shape[-1]
        if mode == "concat":
            ys: list[Array] = [xp.concat([yf, yb], axis=-1)]
        elif mode == "sum":
            ys = [yf + yb]
        elif mode == "mul":
            ys = [yf * yb]
        elif mode == "ave":
            ys = [(yf + yb) / 2]
        else:
            ys = [yf, yb]
        outs = [*ys, *states_f, *states_b]

        def backprop(dout: Any) -> Any:
            douts = list(dout) if len(outs) > 1 else [dout]
            dyf, dyb = _split_merge(mode, douts[: len(ys)], units, yf, yb)
            if seq and dyb is not None:
                dyb = xp.flip(dyb, axis=1)
            dsf, dsb = douts[len(ys) : len(ys) + count], douts[len(ys) + count :]
            gf = back_f((dyf, *dsf) if self.return_state else dyf)
            gb = back_b((dyb, *dsb) if self.return_state else dyb)
            if not given:
                return gf + gb
            return [gf[0] + gb[0], *gf[1:], *gb[1:]]

        if len(outs) == 1:
            return outs[0], backprop
        return tuple(outs), backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "layer": serialize_layer(self.layer),
            "merge_mode": self.merge_mode,
        }


def _split_merge(
    mode: str | None, dys: list[Any], units: int, yf: Array, yb: Array
) -> tuple[Any, Any]:
    """Each direction's share of the merged output's gradient (None stays None)."""
    if mode is None:
        return dys[0], dys[1]
    dy = dys[0]
    if dy is None:
        return None, None
    if mode == "concat":
        return dy[..., :units], dy[..., units:]
    if mode == "sum":
        return dy, dy
    if mode == "mul":
        return dy * yb, dy * yf
    return dy / 2, dy / 2  # "ave"


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
        # NOTE: the child's own rule, not its output_shape: a graph asks before any build.
        inner = self.layer.output_shape or self.layer.compute_output_shape(input_shape[1:])
        return (input_shape[0], *inner)

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
