"""The compiled gradient step of a small ``Sequential`` of ``Dense`` layers: Keras's
``compile(jit_compile=...)``.

A small MLP's step is bound by Python and by the count of array calls (a few microseconds per
layer and per loss), not by arithmetic. Where the backend has a compiled step
(:meth:`~nnx.backends.fast_paths.FastPaths.dense_stack`: the NumPy backend with numba), the
forward pass, the loss and the backward pass become one call; the optimizer's update, the
weight penalties and the metrics stay as they are. It gives the layers' numbers (tested equal
to them) and takes:

- an optional ``Input`` then ``Dense`` layers only, all trainable, with no activity
  regularizer and activations without parameters other than ``alpha``;
- sigmoid + binary cross-entropy or softmax + (sparse) categorical cross-entropy (fused, no
  label smoothing), or mean squared error after any activation;
- 2-d float inputs and targets of the weights' dtype and shape ``(batch, units)``, no
  ``sample_weight``, at most :data:`MAX_MULTIPLY_ADDS` multiply-adds per layer pass (beyond that
  the layers' BLAS products win and Python's share of the step is small).

Anything else runs the layers, as without it.

``jit_compile``: ``True`` compiles from the first step; ``False`` never; ``"auto"`` (the default)
after :data:`AUTO_STEPS` steps that could have been compiled, counted per model. Loading the
compiler costs about half a second in a fresh process (numba's import and the cached kernel),
about what compiling that many small steps saves: a run too short to repay it never pays it, a
longer one pays it once (ski rental: at most twice the cost of the best choice in hindsight).
The count depends only on the run, not on what else the process has loaded, so a seeded run
gives the same bits every time (the compiled step rounds differently from the layers, as numba
on and off do).
"""

from __future__ import annotations

import warnings
from typing import Any

from nnx.backends.base import Array
from nnx.backends.fast_paths import DenseStackLayer
from nnx.functional.one_hot import one_hot
from nnx.layers import Dense
from nnx.layers import Input as InputLayer
from nnx.layers.parameter import FlatParameters, Parameter
from nnx.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)

#: a ``Sequential`` (not imported: it imports this module)
Model = Any

__all__ = ["AUTO_STEPS", "MAX_MULTIPLY_ADDS", "CompiledStep", "check_jit_compile"]

#: ``jit_compile="auto"`` compiles after this many steps that qualify (~0.9 s of 60 µs steps)
AUTO_STEPS = 15_000
#: the most ``batch x weights`` multiply-adds of a forward pass the compiled loops take
MAX_MULTIPLY_ADDS = 1 << 20
_CHOICES = (True, False, "auto")


def check_jit_compile(value: Any, who: str, run_eagerly: bool = False) -> bool | str:
    """``value`` if it is ``True``, ``False`` or ``"auto"``, else a ValueError naming it;
    ``False`` with ``run_eagerly`` (Keras: a warning where ``jit_compile=True`` was asked too)."""
    if not any(value is c or (isinstance(c, str) and value == c) for c in _CHOICES):
        raise ValueError(f"{who}: jit_compile must be True, False or 'auto', received {value!r}.")
    if not isinstance(run_eagerly, bool):
        raise ValueError(f"{who}: run_eagerly must be True or False, received {run_eagerly!r}.")
    if run_eagerly:
        if value is True:
            warnings.warn(
                f"{who}: if run_eagerly is True, jit_compile cannot also be True; "
                "disabling jit_compile (as Keras does).",
                UserWarning,
                stacklevel=3,
            )
        return False
    return bool(value) if isinstance(value, bool) else "auto"


class CompiledStep:
    """The compiled step of one model, rebuilt whenever its layers, parameters, loss or
    activations change; ``steps`` counts the qualifying calls seen before it was used."""

    def __init__(self, mode: bool | str) -> None:
        self.mode = mode
        self.steps = 0
        self.used = False
        self._key: tuple[Any, ...] | None = None
        self._step: Any = None

    def gradients(self, model: Model, x: Array, y: Array) -> tuple[Array, Array] | None:
        """``(loss, y_pred)`` with every parameter's ``.grad`` set (penalties of weights not
        included), or None where the model or the batch does not qualify or it is not time."""
        if self.mode is False:
            return None
        key = _key(model)
        if key != self._key:
            self._key, self._step = key, _plan(model)
        step = self._step
        if (
            step is None
            or getattr(x, "ndim", 0) != 2
            or x.shape[0] * step.weights > MAX_MULTIPLY_ADDS
        ):
            return None
        if not self.used and self.mode == "auto":
            self.steps += 1
            if self.steps <= AUTO_STEPS:
                return None
        if step.sparse:  # integer labels, (n,) or (n, 1): one-hot, as the loss's own targets
            if (
                getattr(y, "ndim", 0) not in (1, 2)
                or y.shape[0] != x.shape[0]
                or y.size != y.shape[0]
            ):
                return None
            y = one_hot(y, step.units, x.dtype)
        step.flat.sync()  # a .value or .grad replaced since: back into the buffers we read
        out = step.run(x, y)
        if out is None:
            return None
        self.used = True
        loss, logits, prediction = out
        model.output_mask = None
        return loss, (prediction if step.loss == "mean_squared_error" or model.metrics else logits)


def _key(model: Model) -> tuple[Any, ...]:
    """What the plan depends on beyond the parameters' identity (:attr:`Parameter.changes`)."""
    return (
        Parameter.changes,
        model.loss,
        model._fused_loss,
        model.backend,
        *(
            (layer, getattr(layer, "activation", None), layer.activity_regularizer, layer.trainable)
            for layer in model.layers
        ),
    )


class _Plan:
    __slots__ = ("flat", "loss", "run", "sparse", "units", "weights")

    def __init__(
        self, run: Any, flat: FlatParameters, loss: str, weights: int, units: int, sparse: bool
    ) -> None:
        self.run, self.flat, self.loss, self.weights = run, flat, loss, weights
        self.units, self.sparse = units, sparse


def _loss_kind(model: Model) -> str | None:
    fused = model._fused_loss
    if fused is not None:
        if type(fused) is BinaryCrossentropy:
            return "sigmoid_crossentropy"
        if type(fused) is SparseCategoricalCrossentropy or (
            type(fused) is CategoricalCrossentropy and not fused.label_smoothing
        ):
            return "softmax_crossentropy"
        return None
    return "mean_squared_error" if type(model.loss) is MeanSquaredError else None


def _plan(model: Model) -> _Plan | None:
    """The backend's compiled step for ``model``, or None where it does not qualify."""
    layers = list(model.layers)
    if layers and type(layers[0]) is InputLayer:
        layers = layers[1:]
    loss = _loss_kind(model)
    if loss is None or not layers:
        return None
    flat = model._trainable  # first: it may move the parameters into flat buffers
    params = [p for layer in layers for p in layer.parameters()]
    if not isinstance(flat, FlatParameters) or not flat.matches(params):
        return None
    flat.sync()
    stack = []
    for layer in layers:
        if (
            type(layer) is not Dense
            or not layer.trainable
            or layer.activity_regularizer is not None
            or set(layer.activation.config) - {"alpha"}
            or layer.activation.zero_gradient  # the layers warn about it: let them
            or {"forward", "forward_logits", "forward_affine", "compute_mask"} & set(vars(layer))
        ):
            return None
        kernel, bias = layer.kernel, layer.bias
        assert kernel is not None
        if kernel.grad is None or (bias is not None and bias.grad is None):
            return None
        stack.append(
            DenseStackLayer(
                kernel.value,
                None if bias is None else bias.value,
                kernel.grad,
                None if bias is None else bias.grad,
                layer.activation.name,
                float(layer.activation.config.get("alpha", 0.0)),
            )
        )
    run = model.backend.dense_stack(flat.value, flat.grad, stack, loss)
    weights = sum(int(s.kernel.size) for s in stack)
    units, sparse = (
        int(stack[-1].kernel.shape[1]),
        type(model.loss) is SparseCategoricalCrossentropy,
    )
    return None if run is None else _Plan(run, flat, loss, weights, units, sparse)
