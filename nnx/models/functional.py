"""The functional API: ``nnx.Input`` and ``nnx.Model(inputs, outputs)``, a graph of layers.

>>> import nnx
>>> from nnx.layers import Add, Dense
>>> x = nnx.Input(shape=(4,))
>>> h = Dense(4, activation="relu")(x)
>>> y = Dense(1)(Add()([x, h]))
>>> model = nnx.Model(x, y, seed=0)
>>> type(model).__name__, model.count_params(), model.predict([[1.0, 2.0, 3.0, 4.0]]).shape
('Functional', 25, (1, 1))

Calling a layer on symbolic tensors records a node (:mod:`nnx.layers.symbolic`); the model walks
the nodes from its outputs back to its inputs (:class:`~nnx.models.graph.Graph`), builds each
layer once with its backend and seed, and runs forward in topological order and backward in
reverse. Several inputs and outputs take lists (or dicts by name) of arrays; ``compile`` takes
a loss per output, ``loss_weights`` and metrics per output (:mod:`nnx.models.heads`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import nnx.optimizers as optimizers_module
from nnx.backends import Backend
from nnx.backends.base import Array, on_backend_device
from nnx.callbacks.base import History
from nnx.layers import Input as InputLayer
from nnx.layers import Layer
from nnx.layers.activity import collect_activity, total_penalty
from nnx.layers.base import no_backprop
from nnx.layers.symbolic import SymbolicTensor
from nnx.models.compiled_step import check_jit_compile
from nnx.models.graph import Graph
from nnx.models.graph_config import connect, graph_config, read_form, unique_names
from nnx.models.graph_data import by_position, convert_inputs, graph_data
from nnx.models.heads import (
    Head,
    compile_heads,
    heads_loss,
    heads_loss_and_gradients,
    update_heads,
)
from nnx.models.model import Model
from nnx.saving.state import require_built
from nnx.training.batching import batch_slices
from nnx.training.inputs import check_batch_size, require_compiled
from nnx.validation import check_bool

__all__ = ["Functional", "Input"]


def Input(  # noqa: N802 (Keras's name for a function returning a tensor)
    shape: Sequence[int], *, name: str | None = None, dtype: str | None = None
) -> SymbolicTensor:
    """A symbolic tensor standing for a batch of inputs: where a functional model starts.

    Args:
        shape: the shape of one sample, without the batch axis, e.g. ``(784,)``.
        name: the input's name (the key of its data when ``fit`` gets a dict).
        dtype: the data's dtype (None: the model's float dtype; ``"int64"`` for indices).

    Returns:
        A :class:`~nnx.layers.symbolic.SymbolicTensor` of shape ``(None, *shape)``.

    >>> import nnx
    >>> nnx.Input(shape=(784,), name="pixels").shape
    (None, 784)
    """
    return InputLayer(shape, name=name, dtype=dtype).output


class Functional(Model):
    """A model whose layers form a graph from ``inputs`` to ``outputs`` (made by
    ``nnx.Model(inputs, outputs)``, as in Keras).

    Args:
        inputs: one ``nnx.Input`` tensor, a list, or a dict by name.
        outputs: one tensor computed from them, a list, or a dict by name.
        backend, seed, dtype, name: as for :class:`~nnx.models.model.Model`.

    Attributes:
        inputs, outputs: the symbolic tensors, in order.
        input_names, output_names: their names (the keys of dict data and of per-output
            ``compile`` arguments and logs).
        graph: the :class:`~nnx.models.graph.Graph` of layer calls.
        heads: each output's loss, weight and metrics once compiled.

    Raises:
        ValueError: a disconnected input, an output not reachable from the inputs, a
            layer name used twice, or a layer built on another backend or dtype.

    >>> import nnx
    >>> from nnx.layers import Concatenate, Dense
    >>> a, b = nnx.Input((3,), name="a"), nnx.Input((2,), name="b")
    >>> h = Concatenate()([a, b])
    >>> model = nnx.Model([a, b], [Dense(1, name="p")(h), Dense(2, name="q")(h)], seed=0)
    >>> model.output_names, [y.shape for y in model.predict([[[1, 2, 3]], [[4, 5]]])]
    (['p', 'q'], [(1, 1), (1, 2)])
    """

    def __init__(
        self,
        inputs: Any,
        outputs: Any,
        *,
        backend: str | Backend | None = None,
        seed: int | None = None,
        dtype: str = "float32",
        name: str = "model",
    ) -> None:
        super().__init__(backend=backend, seed=seed, dtype=dtype, name=name)
        self.input_form, self.inputs, in_keys = read_form(inputs, "inputs")
        self.output_form, self.outputs, out_keys = read_form(outputs, "outputs")
        self.graph = Graph(self.inputs, self.outputs)
        self.layers = self.graph.layers
        self.input_names = in_keys or [t.name for t in self.inputs]
        self.output_names = out_keys or unique_names([_producer(t).name for t in self.outputs])
        self.heads: list[Head] = []
        several = len(self.inputs) > 1 or len(self.outputs) > 1
        typed = any(t.dtype not in (None, dtype) for t in self.inputs)
        #: the data conversion of ``fit``/``evaluate`` for lists of arrays, or inputs of their
        #: own dtype (``nnx.Input(dtype="int64")``); None: one float array, as ``Sequential``
        self.structured_data: Callable[..., Any] | None = (
            partial(graph_data, self) if several or typed else None
        )
        self.build()

    # --- structure --------------------------------------------------------------------------
    @property
    def output_shapes(self) -> list[tuple[int | None, ...]]:
        """The shape of one sample of each output."""
        return [t.sample_shape for t in self.outputs]

    @property
    def input(self) -> Any:
        """The model's input tensor, or the list of them (Keras's ``model.input``)."""
        return self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)

    @property
    def output(self) -> Any:
        """The model's output tensor, or the list of them (Keras's ``model.output``)."""
        return self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)

    @property
    def output_layer(self) -> Layer | None:
        """The layer producing the single output (None with several)."""
        return _producer(self.outputs[0]) if len(self.outputs) == 1 else None

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Create the weights of every layer not built yet, in graph order, with the model's
        backend, random generator and dtype (``input_shape`` is ignored: the inputs fix it)."""
        for layer in self.graph.layers:
            if isinstance(layer, InputLayer) and not layer.built:
                layer.build(layer.input_shape or (), self.backend, self.rng, self.dtype)
        for node in self.graph.nodes:
            layer = node.layer
            if layer.built:
                self._check_reused(layer)
                continue
            shapes = [t.sample_shape for t in node.args]
            layer.build(shapes if node.multiple else shapes[0], self.backend, self.rng, self.dtype)
        ins = [t.sample_shape for t in self.inputs]
        outs = self.output_shapes
        self.input_shape = ins[0] if len(ins) == 1 else ins  # type: ignore[assignment]
        self.output_shape = outs[0] if len(outs) == 1 else outs  # type: ignore[assignment]
        self.built = True

    def _check_reused(self, layer: Layer) -> None:
        backend = layer.backend
        if backend is not None and (backend.name != self.backend.name or layer.dtype != self.dtype):
            raise ValueError(
                f"Layer {layer.name!r} is built on backend {backend.name!r} with dtype "
                f"{layer.dtype}, but model {self.name!r} uses {self.backend.name!r} with "
                f"{self.dtype}."
            )

    def connections(self, layer: Layer) -> str:
        """The tensors ``layer`` is called on, as ``layer_name[call]`` (for ``summary``)."""
        refs = []
        for node in self.graph.nodes:
            if node.layer is layer:
                refs += [
                    "{}[{}]".format(r[0], "][".join(map(str, r[1:])))
                    for r in map(self.graph.ref, node.inputs)
                ]
        return ", ".join(refs)

    # --- running ----------------------------------------------------------------------------
    def _arrays(self, x: Any) -> list[Array]:
        return by_position(x, self.input_names, "x", "input")

    def forward(self, x: Any, *, training: bool = False) -> tuple[Any, Any]:
        """The graph as one layer: ``(y, backprop)``; with several inputs or outputs, ``x``,
        ``y``, ``dy`` and ``dx`` are lists in input/output order."""
        y, backprop, _ = self.forward_masked(x, training=training)
        return y, backprop

    def forward_masked(self, x: Any, *, training: bool = False) -> tuple[Any, Any, Any]:
        """:meth:`forward` plus the outputs' timestep masks (one, or a list; None: none),
        also kept in :attr:`output_mask` (see :mod:`nnx.models.graph`)."""
        outs, backprop, masks = self.graph.run_masked(self._arrays(x), training=training)
        single_in, single_out = len(self.inputs) == 1, len(self.outputs) == 1

        def backprop_model(dy: Any) -> Any:
            dxs = backprop([dy] if single_out else list(dy))
            return dxs[0] if single_in else dxs

        self.output_mask = masks[0] if single_out else masks  # type: ignore[assignment]
        return (outs[0] if single_out else outs), backprop_model, self.output_mask

    def _targets(self, y: Any) -> list[Array]:
        return by_position(y, self.output_names, "y", "output")

    def _gradients(
        self, x: Any, y: Any, sample_weight: Array | None
    ) -> tuple[Array, list[Array], list[Array], list[Array | None]]:
        """Forward and backward: ``(total loss, each output's loss, each prediction)``.

        ``L = sum_k w_k L_k + penalties``, so output ``k`` sends ``w_k dL_k/dy_k`` back.
        """
        require_compiled(self, "compute_gradients")
        fused = frozenset(i for i, h in enumerate(self.heads) if h.fused is not None)
        with collect_activity() as penalties:
            outs, backprop, masks = self.graph.run_masked(
                self._arrays(x), training=True, logits=fused
            )
            total, values, preds, dys = heads_loss_and_gradients(
                self.heads, outs, self._targets(y), sample_weight, masks
            )
            backprop(dys)
        total = total_penalty(total, penalties)
        for p in self._regularized:
            total = total + p.regularizer(p.value)
            p.grad += p.regularizer.gradient(p.value)
        return total, values, preds, masks

    def compute_gradients(
        self, x: Any, y: Any, sample_weight: Array | None = None
    ) -> tuple[Array, Any]:
        """Forward and backward on a batch: sets every parameter's ``.grad`` (penalties
        included, shared layers summed over their calls) and returns ``(loss, y_pred)``."""
        total, _, preds, _ = self._gradients(x, y, sample_weight)
        return total, (preds[0] if len(preds) == 1 else preds)

    @on_backend_device
    def train_step(self, x: Any, y: Any, sample_weight: Array | None = None) -> Array:
        """One optimizer update on a batch; returns the total loss (a 0-d array)."""
        require_compiled(self, "train_step")
        assert self.optimizer is not None
        total, values, preds, masks = self._gradients(x, y, sample_weight)
        self.optimizer.step(self._trainable)
        update_heads(self.heads, self._targets(y), preds, values, sample_weight, masks)
        return total

    @on_backend_device
    def test_step(self, x: Any, y: Any, sample_weight: Array | None = None) -> Array:
        """The total loss (penalties included) of a batch in inference mode; updates the
        per-output losses and metrics."""
        require_compiled(self, "test_step")
        with no_backprop(), collect_activity() as penalties:
            outs, _, masks = self.graph.run_masked(self._arrays(x), training=False)
        ys = self._targets(y)
        total, values = heads_loss(self.heads, outs, ys, sample_weight, masks)
        total = total_penalty(total, penalties)
        update_heads(self.heads, ys, outs, values, sample_weight, masks)
        for p in self._regularized:
            total = total + p.regularizer(p.value)
        return total

    # --- compile, Keras API -----------------------------------------------------------------
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        stop_on_nonfinite: bool = True,
        loss_weights: Any = None,
        *,
        jit_compile: bool | str = "auto",
        run_eagerly: bool = False,
    ) -> None:
        """Choose the optimizer, and each output's loss, loss weight and metrics.

        Args:
            optimizer: a name, a config dict or an ``nnx.optimizers`` object.
            loss: one loss for every output, a list (one per output) or a dict by output name.
            metrics: a list (every output gets each), a list of lists (per output) or a dict
                by output name. With several outputs logs read ``<output>_<metric>``.
            stop_on_nonfinite: as for :meth:`nnx.models.model.Model.compile`.
            loss_weights: each output's weight ``w_k`` in ``L = sum_k w_k L_k`` (list or dict;
                default 1).
            jit_compile, run_eagerly: accepted and stored, as in Keras; a graph model has no
                compiled step (only a ``Sequential`` of ``Dense`` layers,
                :mod:`nnx.models.compiled_step`).
        """
        self.stop_on_nonfinite = check_bool(
            stop_on_nonfinite, "stop_on_nonfinite", who=f"{type(self).__name__}.compile"
        )
        self.jit_compile = check_jit_compile(
            jit_compile, f"{type(self).__name__}.compile", run_eagerly
        )
        self.run_eagerly = run_eagerly
        read = {id(t) for node in self.graph.nodes for t in node.inputs}
        fusable = [None if t.node.is_input or id(t) in read else _producer(t) for t in self.outputs]
        self.heads = compile_heads(self.output_names, fusable, loss, loss_weights, metrics)
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = self.heads[0].loss
        trackers = [h.tracker for h in self.heads if h.tracker is not None]
        self.metrics = [*trackers, *(m for h in self.heads for m in h.metrics)]
        self._fused_loss = None

    def fit(self, *args: Any, **kwargs: Any) -> History:
        """As :meth:`nnx.models.model.Model.fit`; with several inputs or outputs ``x`` and
        ``y`` are lists (or dicts by name) of arrays, and ``class_weight`` is refused (use
        ``sample_weight``), as in Keras."""
        bound = inspect.signature(Model.fit).bind(self, *args, **kwargs)
        if self.structured_data is not None and bound.arguments.get("class_weight") is not None:
            raise ValueError(
                f"Model {self.name!r} has several inputs or outputs: class_weight is not "
                "supported; give per-sample weights with sample_weight instead."
            )
        return super().fit(*args, **kwargs)

    @on_backend_device
    def predict(
        self, x: Any, batch_size: int = 32, verbose: int = 0, steps: int | None = None
    ) -> Any:
        """Outputs for ``x`` in inference mode as host NumPy arrays: one array, or a list
        (a dict when the outputs were given as one) for several outputs."""
        if self.structured_data is None:
            return super().predict(x, batch_size, verbose, steps)
        require_built(self, "predict")
        xs = convert_inputs(self, x)
        xp = self.backend.xp
        chunks: list[list[Array]] = [[] for _ in self.outputs]
        for s in batch_slices(int(xs[0].shape[0]), check_batch_size(batch_size)):
            with no_backprop():
                outs, _ = self.graph.run([a[s, ...] for a in xs], training=False)
            for chunk, out in zip(chunks, outs, strict=True):
                chunk.append(out)
        arrays = [
            self.backend.to_numpy(c[0] if len(c) == 1 else xp.concat(c, axis=0)) for c in chunks
        ]
        if len(arrays) == 1:
            return arrays[0]
        if self.output_form == "dict":
            return dict(zip(self.output_names, arrays, strict=True))
        return arrays

    # --- config -----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The graph as JSON-serialisable data (see :func:`nnx.models.graph_config.graph_config`):
        layers, calls, inputs, outputs, and the per-output compile settings once compiled."""
        return graph_config(self)

    @classmethod
    def from_layers(
        cls,
        layers: Sequence[Layer],
        config: dict[str, Any],
        backend: str | Backend | None = None,
    ) -> Functional:
        """Rebuild a graph from :meth:`get_config` and its (unbuilt) layers, in config order.

        Raises:
            ValueError: a node or an output names a layer or call that does not exist.
        """
        inputs, outputs = connect(layers, config)
        return cls(
            inputs,
            outputs,
            backend=backend,
            seed=config.get("seed"),
            dtype=config.get("dtype", "float32"),
            name=config.get("name", "model"),
        )


def _producer(tensor: SymbolicTensor) -> Layer:
    layer: Layer = tensor.node.layer
    return layer


Model.graph_class = Functional
