"""Keras's RNN cells: ``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` and ``StackedRNNCells``.

A cell is one step of a recurrent layer: ``cell(x_t, states) -> (output, new_states)``. The
built-in cells *are* the layers' maths: ``LSTMCell`` subclasses :class:`~nnx.layers.lstm.LSTM`
(same weights ``kernel``, ``recurrent_kernel``, ``bias``, same shapes and gate order), so
``RNN(LSTMCell(n))`` and ``LSTM(n)`` hold the same weights in the same order, and
:class:`~nnx.layers.rnn.RNN` runs a lone built-in cell with the layer's fused whole-sequence
kernels.

Each cell also gives :class:`~nnx.layers.rnn_steps.CellSteps` a step with its backward
(:meth:`RecurrentCell.steps`), which the generic per-step loop of ``RNN`` uses for stacked
cells: for one step, with ``xz = x W + b`` and the layer's ``step`` / ``step_backward``::

    dW = x^T dxz      dU = h_{t-1}^T drec      db = sum dxz (+ sum drec)      dx = dxz W^T
"""

from __future__ import annotations

from typing import Any, ClassVar

from nnx.backends import backend_of, get_backend
from nnx.backends.base import Array, Generator
from nnx.layers.base import Layer, Shape, no_backprop, register_layer
from nnx.layers.gru import GRU
from nnx.layers.lstm import LSTM
from nnx.layers.recurrent import Loop, Recurrent
from nnx.layers.rnn_steps import CellSteps, StepBackprop, StepResult
from nnx.layers.simple_rnn import SimpleRNN
from nnx.layers.wrappers import deserialize_layer, serialize_layer

__all__ = ["GRUCell", "LSTMCell", "RecurrentCell", "SimpleRNNCell", "StackedRNNCells"]

#: arguments of the recurrent layers that belong to ``RNN``, not to a cell
_LAYER_ONLY = ("return_sequences", "return_state", "go_backwards", "unroll", "stateful")


class RecurrentCell(Recurrent):
    """Mixin turning a recurrent layer class into its Keras cell (one step at a time).

    Attributes:
        state_size: ``units`` (``[units, units]`` for ``LSTMCell``).
        output_size: ``units``.
    """

    layer_type: ClassVar[type[Recurrent]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for key in _LAYER_ONLY:
            if key in kwargs:
                raise TypeError(
                    f"{type(self).__name__} is one step of a recurrent layer and does not take "
                    f"{key}=; give it to the RNN layer: RNN({type(self).__name__}(...), "
                    f"{key}=...). Received: {key}={kwargs[key]!r}."
                )
        super().__init__(*args, **kwargs)

    @property
    def state_size(self) -> Any:
        """The size of each state: ``units``, or a list for several states."""
        return self.units if self.state_count == 1 else [self.units] * self.state_count

    @property
    def output_size(self) -> int:
        """The size of the output of a step."""
        return self.units

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        """A cell is built on the shape of one step, ``(features,)``."""
        if len(input_shape) != 1 or input_shape[0] is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} is one step of a recurrent layer, built "
                f"on the shape of one step (features,), received {tuple(input_shape)}; to run "
                f"it over sequences wrap it: RNN({type(self).__name__}(...))."
            )
        super().build_parameters((None, input_shape[0]), rng)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (self.units,)

    def get_initial_state(self, batch_size: int | None = None) -> list[Array]:
        """Zero states ``[(batch_size, units), ...]`` on the cell's backend (Keras's API)."""
        backend = get_backend(self.backend)
        xp, n = backend.xp, 1 if batch_size is None else int(batch_size)
        dtype = getattr(xp, self.dtype)
        return [
            xp.zeros((n, self.units), dtype=dtype, device=backend.device)
            for _ in range(self.state_count)
        ]

    def __call__(  # type: ignore[override]
        self, inputs: Any, states: Any = None, training: bool | None = None
    ) -> tuple[Array, list[Array]]:
        """One step on data: ``(output, new_states)``, ``states`` a list (default zeros)."""
        if not self.built:
            self.build((inputs.shape[-1],), backend_of(inputs))
        given = list(states) if isinstance(states, (list, tuple)) else [states]
        if states is None:
            given = self.get_initial_state(inputs.shape[0])
        self.check_state_shapes([tuple(s.shape) for s in given], inputs.shape[0])
        steps = self.steps()
        with no_backprop():
            outs, new, _ = steps.step([inputs], given, steps.begin(inputs.shape[0], bool(training)))
        return outs[0], new

    def forward_masked(self, x: Any, mask: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{type(self).__name__} {self.name!r} is one step of a recurrent layer; to run "
            f"it over sequences wrap it: RNN({type(self).__name__}(...))."
        )

    def engine(self, **options: Any) -> Recurrent:
        """The layer sharing this (built) cell's weights, with ``RNN``'s ``options``
        (``return_sequences``, ...): it runs the whole sequence with the fused kernels."""
        layer = object.__new__(self.layer_type)
        layer.__dict__.update(self.__dict__)
        layer.__dict__.pop("_accepted", None)
        layer._weights = list(self._weights)
        layer.inbound_nodes = []
        for key, value in options.items():
            setattr(layer, key, value)
        return layer

    def steps(self) -> CellSteps:
        """The per-step form with its backward, for the generic ``RNN`` loop."""
        return _CellSteps(self)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in _LAYER_ONLY:
            config.pop(key, None)
        return config


class _CellSteps(CellSteps):
    """A built-in cell's step and its backward (see the module docstring)."""

    def __init__(self, cell: RecurrentCell) -> None:
        self.cell = cell

    def build(self, input_shapes: list[Shape], backend: Any, rng: Generator, dtype: str) -> None:
        if len(input_shapes) != 1:
            raise ValueError(
                f"{type(self.cell).__name__} {self.cell.name!r} takes one input sequence, "
                f"received {len(input_shapes)}."
            )
        self.cell.build(input_shapes[0], backend, rng, dtype)

    def state_shapes(self) -> list[Shape]:
        return [(self.cell.units,)] * self.cell.state_count

    def output_shapes(self) -> list[Shape]:
        return [(self.cell.units,)]

    def layers(self) -> list[Layer]:
        return [self.cell]

    def begin(self, n: int, training: bool) -> Any:
        cell = self.cell
        assert cell.input_shape is not None
        features = int(cell.input_shape[-1])  # type: ignore[arg-type]
        xmask = cell._dropout_mask((n, features), cell.dropout, training)
        hmask = cell._dropout_mask((n, cell.units), cell.recurrent_dropout, training)
        return xmask, hmask

    def step(self, xs: list[Array], states: list[Array], context: Any) -> StepResult:
        cell = self.cell
        backend, kernel, recurrent = cell.backend, cell.kernel, cell.recurrent_kernel
        assert backend is not None and kernel is not None and recurrent is not None
        xmask, hmask = context
        x = xs[0] if xmask is None else xs[0] * xmask
        xz = backend.matmul(x, kernel.value)
        b_in, b_rec = (None, None) if cell.bias is None else cell.split_bias(cell.bias.value)
        if b_in is not None:
            xz = xz + b_in
        loop = Loop(recurrent.value, b_rec, hmask)
        new, saved = cell.step(xz, tuple(states), loop)

        def backprop(douts: list[Array | None], dnew: list[Array | None]) -> Any:
            xp = backend.xp
            dstates = [xp.zeros_like(s) if d is None else d for s, d in zip(new, dnew, strict=True)]
            if douts[0] is not None:
                dstates[0] = dstates[0] + douts[0]
            dxz, drec, dprev = cell.step_backward(tuple(dstates), saved, loop)
            kernel.grad = backend.matmul(x.T, dxz)
            recurrent.grad = cell.recurrent_kernel_grad(loop.dropped(states[0]), drec, [saved])
            if cell.bias is not None:
                d_rec = None if b_rec is None else xp.sum(drec, axis=0)
                cell.bias.grad = cell.join_bias_grad(xp.sum(dxz, axis=0), d_rec)
            dx = backend.matmul(dxz, kernel.value.T)
            return [dx if xmask is None else dx * xmask], list(dprev)

        step_backprop: StepBackprop = backprop
        return [new[0]], list(new), step_backprop


@register_layer
class SimpleRNNCell(RecurrentCell, SimpleRNN):
    """One step of :class:`~nnx.layers.SimpleRNN`: ``h = activation(x W + h_prev U + b)``.

    Args:
        units, activation, use_bias, kernel/recurrent/bias initializers and regularizers,
        dropout, recurrent_dropout, seed: as for ``SimpleRNN``.

    Shape:
        ``inputs (batch, features)``, ``states [(batch, units)]``; returns
        ``(output (batch, units), [h])``.

    >>> from nnx.backends import get_backend
    >>> x = get_backend("numpy").asarray([[1.0, 0.5]])
    >>> y, states = SimpleRNNCell(3)(x, [get_backend("numpy").xp.zeros((1, 3))])
    >>> y.shape, len(states), SimpleRNNCell(3).state_size
    ((1, 3), 1, 3)
    """

    layer_type = SimpleRNN


@register_layer
class LSTMCell(RecurrentCell, LSTM):
    """One step of :class:`~nnx.layers.LSTM` (same gate equations, weights and gate order
    ``[i, f, c, o]``): ``cell(x, [h, c]) -> (h_new, [h_new, c_new])``.

    Args:
        units, activation, recurrent_activation, use_bias, unit_forget_bias, initializers,
        regularizers, dropout, recurrent_dropout, seed: as for ``LSTM``.

    Shape:
        ``inputs (batch, features)``, ``states [(batch, units), (batch, units)]``.

    >>> LSTMCell(4).state_size
    [4, 4]
    """

    layer_type = LSTM


@register_layer
class GRUCell(RecurrentCell, GRU):
    """One step of :class:`~nnx.layers.GRU` (``reset_after`` as there, Keras's default True):
    ``cell(x, [h]) -> (h_new, [h_new])``.

    Args:
        units, activation, recurrent_activation, use_bias, reset_after, initializers,
        regularizers, dropout, recurrent_dropout, seed: as for ``GRU``.

    Shape:
        ``inputs (batch, features)``, ``states [(batch, units)]``.

    >>> GRUCell(4).state_size
    4
    """

    layer_type = GRU


@register_layer
class StackedRNNCells(Layer):
    """Cells run one after the other in each step: cell ``k`` reads cell ``k - 1``'s output;
    the states are every cell's states in order (``RNN([c1, c2])`` makes one).

    Args:
        cells: the cells (built-in or custom), or their saved configs.

    >>> StackedRNNCells([LSTMCell(3), GRUCell(2)]).state_size
    [3, 3, 2]
    """

    def __init__(self, cells: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(
                f"StackedRNNCells needs a non-empty list of cells, received cells={cells!r}."
            )
        self.cells: list[Layer] = [deserialize_layer(c) for c in cells]

    @property
    def state_size(self) -> list[Any]:
        """Every cell's state sizes, flattened in order."""
        sizes: list[Any] = []
        for cell in self.cells:
            size = cell.state_size  # type: ignore[attr-defined]
            sizes.extend(size if isinstance(size, list) else [size])
        return sizes

    @property
    def output_size(self) -> Any:
        """The last cell's output size."""
        last = self.cells[-1]
        return getattr(last, "output_size", None) or _first(last.state_size)  # type: ignore[attr-defined]

    def forward(self, x: Array, *, training: bool = False) -> Any:
        raise TypeError(
            f"StackedRNNCells {self.name!r} is one step of a recurrent layer; wrap it: "
            "RNN(StackedRNNCells([...]))."
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cells": [serialize_layer(c) for c in self.cells]}


def _first(size: Any) -> Any:
    return size[0] if isinstance(size, list) else size
