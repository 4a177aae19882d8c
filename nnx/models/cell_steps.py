"""Your own RNN cell: ``call(self, inputs, states)`` traced once, run at every step.

For :class:`~nnx.layers.rnn.RNN` over a ``Layer`` subclass with ``state_size`` and
``call(self, inputs, states)`` (keras.io's ``MinimalRNNCell``, ``NestedCell``): the cell's own
``build(input_shape)`` makes its weights (Keras shapes, with the batch axis: a list of them for
nested inputs), then ``call`` runs once on symbolic placeholders of one step's inputs and of
the states, recording a :class:`~nnx.models.graph.Graph` whose inputs are ``[*x_t, *states]``
and outputs ``[*outputs, *new_states]``. Each step runs that graph; its backprop gives the
step's input and state gradients and writes the weights' gradients, which the RNN loop sums.
A ``call`` taking ``training`` is traced once per mode.
"""

from __future__ import annotations

from typing import Any

from nnx.backends import get_backend
from nnx.backends.base import Array, Generator
from nnx.layers import Input as InputLayer
from nnx.layers import Layer
from nnx.layers.base import Shape
from nnx.layers.rnn import RNN, cell_shapes
from nnx.layers.rnn_steps import CellSteps, StepResult
from nnx.layers.symbolic import SymbolicTensor, tracing
from nnx.models.graph import Graph
from nnx.models.subclassed import Traced, _accepts, _Trace

__all__ = ["TracedCellSteps"]


class TracedCellSteps(CellSteps):
    """A custom cell's traced ``call`` as :class:`~nnx.layers.rnn_steps.CellSteps`."""

    def __init__(self, cell: Layer) -> None:
        self.cell = cell
        self.input_shapes: list[Shape] = []
        self.nested = False
        self.traces: dict[bool | None, Traced] = {}

    def state_shapes(self) -> list[Shape]:
        return cell_shapes(self.cell.state_size, True)  # type: ignore[attr-defined]

    def output_shapes(self) -> list[Shape]:
        traced = self._trace(_default_mode(self.cell))
        count = len(traced.graph.outputs) - len(self.state_shapes())
        return [t.sample_shape for t in traced.graph.outputs[:count]]

    def layers(self) -> list[Layer]:
        return [self.cell]

    def build(self, input_shapes: list[Shape], backend: Any, rng: Generator, dtype: str) -> None:
        cell, backend = self.cell, get_backend(backend)
        self.input_shapes, self.nested = list(input_shapes), len(input_shapes) > 1
        cell.backend, cell.dtype = backend, dtype
        cell._weights, cell._declared_trainable = [], []
        cell.__dict__.pop("_traces", None)
        self.traces = {}
        user_build = getattr(type(cell), "keras_build", None)
        if user_build is not None:
            shapes = [(None, *s) for s in input_shapes]
            cell._build_rng = rng  # type: ignore[attr-defined]
            cell._in_user_build = True  # type: ignore[attr-defined]
            try:
                with backend.device_scope():
                    user_build(cell, shapes if self.nested else shapes[0])
            finally:
                del cell._in_user_build  # type: ignore[attr-defined]
                del cell._build_rng  # type: ignore[attr-defined]
        cell.input_shape = None if self.nested else input_shapes[0]
        cell.built = True
        cell._traced_rng = rng  # type: ignore[attr-defined]
        self._trace(_default_mode(cell))

    def _trace(self, training: bool | None) -> Traced:
        if training in self.traces:
            return self.traces[training]
        cell = self.cell
        names = [f"{cell.name}/input_{i}" for i in range(len(self.input_shapes))]
        xs = [
            InputLayer(s, name=n).output  # type: ignore[arg-type]
            for s, n in zip(self.input_shapes, names, strict=True)
        ]
        states = [
            InputLayer(s, name=f"{cell.name}/state_{i}").output  # type: ignore[arg-type]
            for i, s in enumerate(self.state_shapes())
        ]
        recorder = _Trace(cell, xs, training)
        kwargs = {} if training is None else {"training": training}
        with tracing(recorder):
            result = type(cell).call(cell, xs if self.nested else xs[0], states, **kwargs)  # type: ignore[attr-defined]
        outs, new = _split(cell, result, len(states))
        traced = Traced(Graph([*xs, *states], [*outs, *new]), True, recorder.reads)
        cell.__dict__.setdefault("_traces", {})[("rnn_cell", training)] = traced
        self.traces[training] = traced
        Layer.call_runner._build_graph(cell, traced)
        return traced

    def begin(self, n: int, training: bool) -> Any:
        return bool(training) if _accepts(self.cell, "training") else None

    def step(self, xs: list[Array], states: list[Array], context: Any) -> StepResult:
        traced = self._trace(context)
        values, backprop = traced.graph.run([*xs, *states], training=bool(context))
        count = len(values) - len(states)

        def step_backprop(douts: list[Any], dnew: list[Any]) -> tuple[list[Any], list[Any]]:
            grads = backprop([*douts, *dnew])
            return grads[: len(xs)], grads[len(xs) :]

        return values[:count], values[count:], step_backprop


def _default_mode(cell: Layer) -> bool | None:
    return False if _accepts(cell, "training") else None


def _split(cell: Layer, result: Any, count: int) -> tuple[list[Any], list[Any]]:
    """``(outputs, new_states)`` of ``call``'s ``(output, new_states)``, flattened, checked."""
    who = f"Cell {cell.name!r} ({type(cell).__name__})"
    if not (isinstance(result, (list, tuple)) and len(result) == 2):
        raise TypeError(f"{who}.call must return (output, new_states), received {result!r}.")
    output, new = result
    outs = list(output) if isinstance(output, (list, tuple)) else [output]
    states = list(new) if isinstance(new, (list, tuple)) else [new]
    if len(states) != count:
        raise ValueError(
            f"{who}.call returns {len(states)} new states, its state_size declares {count}."
        )
    for t in [*outs, *states]:
        if not isinstance(t, SymbolicTensor):
            raise TypeError(
                f"{who}.call must compute its outputs and states from its inputs (layers, "
                f"arithmetic, nnx.ops), received {type(t).__name__}."
            )
    return outs, states


def _custom_steps(cell: Layer) -> CellSteps:
    return TracedCellSteps(cell)


RNN.custom_steps = _custom_steps
