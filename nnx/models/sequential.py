"""``Sequential``: a linear stack of layers, each feeding the next.

The training surface (``compile``, ``fit``, ``evaluate``, ``predict``, files) comes from
:class:`~nnx.models.model.Model`; this class builds the stack, runs it forward and backward,
and describes it for files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from nnx.backends import Backend
from nnx.backends.base import Array
from nnx.layers import ActivatedLayer, Layer
from nnx.layers import Input as InputLayer
from nnx.layers.activity import collect_activity, total_penalty
from nnx.layers.base import Backprop
from nnx.layers.masking import forward_with_mask, timestep_view
from nnx.layers.parameter import Parameter
from nnx.layers.symbolic import SymbolicTensor
from nnx.models.compiled_step import CompiledStep
from nnx.models.model import Model
from nnx.training.inputs import require_compiled

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers, trained with ``compile`` + ``fit`` as in Keras.

    Args:
        layers: the layers, first to last; the first may be ``nnx.Input(shape=...)``
            (Keras's ``keras.Input``), which declares the input shape.
        backend: ``"numpy"``, ``"cupy"``, ``"array_api_strict"``, a Backend, or None for the
            current default (see :func:`nnx.get_backend`).
        seed: seed of the weight initialisation, dropout masks and shuffling.
        dtype: float dtype of weights and activations (``"float32"`` or ``"float64"``).
        name: the model's name.

    >>> import nnx
    >>> from nnx.layers import Dense
    >>> model = nnx.Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)], seed=0)
    >>> model.count_params()
    21
    """

    def __init__(
        self,
        layers: Iterable[Layer | SymbolicTensor] | None = None,
        *,
        backend: str | Backend | None = None,
        seed: int | None = None,
        dtype: str = "float32",
        name: str = "sequential",
    ) -> None:
        super().__init__(backend=backend, seed=seed, dtype=dtype, name=name)
        stack = [_as_layer(layer) for layer in layers or []]
        names: set[str] = set()
        for layer in stack:  # the checks of add(), in one pass (add alone is O(n) per layer)
            self._check_new(layer, names)
            names.add(layer.name)
        for layer in stack:
            self._append(layer)

    # --- structure --------------------------------------------------------------------------
    def add(self, layer: Layer | SymbolicTensor) -> None:
        """Append a layer (built at once when the model's input shape is known); an
        ``nnx.Input(shape)`` tensor stands for its ``Input`` layer, as in Keras.

        Raises:
            TypeError: not an nnx layer.
            ValueError: a layer of the same name is already in the model.
        """
        item = _as_layer(layer)
        self._check_new(item, {existing.name for existing in self.layers})
        self._append(item)

    @staticmethod
    def _check_new(layer: Any, names: set[str]) -> None:
        if isinstance(layer, SymbolicTensor):
            raise TypeError(
                f"Sequential.add expects an nnx Layer or nnx.Input(...), received the tensor "
                f"{layer.name!r} computed by a layer: build a graph with nnx.Model(inputs, "
                f"outputs) instead."
            )
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects an nnx Layer, received {type(layer).__name__}."
            )
        if layer.name in names:
            raise ValueError(f"Sequential: duplicate layer name {layer.name!r}.")

    def _append(self, layer: Layer) -> None:
        self.layers.append(layer)
        if self.built:
            if not self._keeps(layer, tuple(self.output_shape)):
                layer.build(self.output_shape, self.backend, self.rng, self.dtype)
            self.output_shape = layer.output_shape or ()
        elif len(self.layers) == 1 and layer.input_shape is not None:
            self.build()

    def host_inputs(self, x: Any) -> Any:
        """``x`` as the first layer takes it from the host: a first layer with
        ``host_inputs`` (``TextVectorization``: strings to numbers) converts it there, once,
        before ``fit``/``evaluate``/``predict`` move it to the backend; else ``x`` itself.
        A leading ``nnx.Input`` is looked through (Keras's ``Input(dtype="string")``)."""
        layers = [layer for layer in self.layers[:2] if not isinstance(layer, InputLayer)]
        first = layers[0] if layers else None
        convert = getattr(first, "host_inputs", None)
        return x if convert is None else convert(x)

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Create every layer's weights for samples of ``input_shape`` (no batch axis).

        Args:
            input_shape: the shape of one sample; None takes the first layer's ``input_shape``.
        """
        if not self.layers:
            raise ValueError("Sequential.build: the model has no layers.")
        shape = input_shape if input_shape is not None else self.layers[0].input_shape
        if shape is None:
            raise ValueError(
                "Sequential.build needs input_shape=..., or give the first layer "
                "input_shape=(...) or start the model with nnx.layers.Input(...)."
            )
        shape = tuple(shape)
        self.input_shape = shape
        for layer in self.layers:
            if not self._keeps(layer, shape):
                layer.build(shape, self.backend, self.rng, self.dtype)
            shape = layer.output_shape or ()
        self.output_shape = shape
        self.built = True

    def _keeps(self, layer: Layer, shape: tuple[int | None, ...]) -> bool:
        """Whether ``layer`` is already built for this model (same backend and dtype, an input
        shape ``shape`` fits): it keeps its weights, as in Keras (a layer called or adapted
        before it joins a model, a model built a second time); any other layer is built."""
        built_for = layer.input_shape
        return (
            layer.built
            and layer.backend is not None
            and layer.backend.name == self.backend.name
            and layer.dtype == self.dtype
            and built_for is not None
            and len(built_for) == len(shape)
            and all(b is None or b == s for b, s in zip(built_for, shape, strict=True))
        )

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """The whole stack as one layer: ``(y, backprop)``, ``backprop(dy) -> dx``."""
        y, backprop, _ = self.forward_masked(x, training=training)
        return y, backprop

    def forward_masked(
        self, x: Array, *, training: bool = False
    ) -> tuple[Array, Backprop, Array | None]:
        """:meth:`forward` plus the timestep mask of the output, threaded from layer to layer
        (see :mod:`nnx.layers.masking`); also kept in :attr:`output_mask`."""
        backprops: list[Backprop] = []
        x, mask = _forward_stack(self.layers, x, training, backprops)
        self.output_mask = mask

        def backprop_all(dy: Array) -> Array:
            for backprop in reversed(backprops):
                dy = backprop(dy)
            return dy

        return x, backprop_all, mask

    def call_symbolic(self, x: Any) -> Any:
        """``model(x)`` on symbolic tensors: each layer's call recorded in turn (Keras's
        nested ``Sequential`` in a subclassed layer's ``call``); its ``Input`` layer is
        skipped, the input shape it declares is checked."""
        for layer in self.layers:
            if isinstance(layer, InputLayer):
                continue
            x = layer(x)
        return x

    def compute_gradients(
        self, x: Array, y: Array, sample_weight: Array | None = None
    ) -> tuple[Array, Array]:
        """Forward and backward on a batch: sets every parameter's ``.grad`` (penalties
        included) and returns ``(loss, y_pred)``; the weights are not changed."""
        require_compiled(self, "compute_gradients")
        loss_fn, fused_loss = self.loss, self._fused_loss
        assert loss_fn is not None
        _, regularized, start = self._parameter_lists()
        if sample_weight is None:
            compiled = self._compiled_step.gradients(self, x, y)
            if compiled is not None:
                return _add_weight_penalties(compiled[0], regularized), compiled[1]
        # NOTE: nothing reads the gradient of the data, so the first layer with weights may
        # skip its input gradient (a third of its backward) and layers before it need no backward.
        layers = self.layers
        first, last = layers[start], layers[-1]
        backprops: list[Backprop] = []
        first.needs_input_gradient = False
        try:
            with collect_activity() as penalties:
                h, mask = _forward_stack(layers[:-1], x, True, backprops)
                if fused_loss is not None:
                    assert isinstance(last, ActivatedLayer)
                    z, backprop = last.forward_logits(h, training=True)
                    mask = last.compute_mask(h, mask)
                else:
                    z, backprop, mask = forward_with_mask(last, h, mask, training=True)
        finally:
            first.needs_input_gradient = True
        self.output_mask = mask
        # NOTE: a sequence output is scored per timestep, masked steps weigh 0 (Keras).
        y_true, z_view, weights, restore = timestep_view(y, z, mask, sample_weight, normalize=True)
        if fused_loss is not None:
            assert isinstance(last, ActivatedLayer)
            loss, dy = fused_loss.value_and_gradient(y_true, z_view, weights)
            y_pred = last.activation.forward(z) if self.metrics else z
        else:
            y_pred = z
            loss, dy = loss_fn.value_and_gradient(y_true, z_view, weights)
        dy = restore(dy)
        backprops.append(backprop)
        for backprop in reversed(backprops[start:]):
            dy = backprop(dy)
        if penalties:
            loss = total_penalty(loss, penalties)
        return _add_weight_penalties(loss, regularized), y_pred

    @property
    def _compiled_step(self) -> CompiledStep:
        """The compiled step of the ``jit_compile`` setting (:mod:`nnx.models.compiled_step`)."""
        step: CompiledStep | None = self.__dict__.get("_compiled")
        if step is None or step.mode != self.jit_compile:
            step = self._compiled = CompiledStep(self.jit_compile)
        return step

    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-serialisable data (each layer as ``{"class_name",
        "config"}``)."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "seed": self.seed,
            "layers": [
                {"class_name": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
        }


def _add_weight_penalties(loss: Array, regularized: Sequence[Parameter]) -> Array:
    """``loss + sum R(w)`` over the regularized weights, each ``R'(w)`` added to its gradient."""
    for p in regularized:
        loss = loss + p.regularizer(p.value)
        p.grad += p.regularizer.gradient(p.value)
    return loss


def _forward_stack(
    layers: Sequence[Layer], x: Array, training: bool, backprops: list[Backprop]
) -> tuple[Array, Array | None]:
    """Run ``layers`` in turn on ``x``, appending each backprop; returns the output and its
    timestep mask. :func:`~nnx.layers.masking.forward_with_mask` for each layer, with its
    bookkeeping skipped while no mask flows and the layer cannot make one (it keeps
    :meth:`Layer.compute_mask`, which maps no mask to no mask): a small model's stack then costs
    one ``forward`` call per layer."""
    mask = None
    for layer in layers:
        if mask is None:
            y, backprop = layer.forward(x, training=training)
            if type(layer).compute_mask is not _PASS_MASK or "compute_mask" in layer.__dict__:
                mask = layer.compute_mask(x, None)
            x = y
        else:
            x, backprop, mask = forward_with_mask(layer, x, mask, training=training)
        backprops.append(backprop)
    return x, mask


_PASS_MASK = Layer.compute_mask


def _as_layer(item: Any) -> Any:
    """The ``Input`` layer behind an ``nnx.Input(...)`` tensor (Keras 3 lets a ``Sequential``
    start with ``keras.Input``), a functional model's :class:`~nnx.models.nested.NestedModel`;
    anything else unchanged, for ``_check_new`` to judge."""
    if isinstance(item, SymbolicTensor) and not item.node.inputs:
        return item.node.layer
    nested = getattr(type(item), "nested_layer", None)  # a functional model: one layer
    return nested(item) if isinstance(item, Model) and nested is not None else item
