"""``RNN``: Keras's generic recurrent layer, the loop over time around a cell.

``RNN(cell)`` runs ``cell(x_t, states) -> (output, new_states)`` over the steps of its input.
The cell is a built-in one (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``), a list of cells
(``StackedRNNCells``), or your own ``Layer`` subclass with a ``state_size`` attribute and
``call(self, inputs, states)`` (nested inputs, states and outputs allowed, as in keras.io's
``NestedCell``): its ``call`` is traced once into a graph (see :mod:`nnx.models.subclassed`)
and the graph runs at every step, backward through time in reverse.

A lone built-in cell runs as its layer (``RNN(LSTMCell(n))`` is ``LSTM(n)`` with the same
weights, fused kernels included); anything else runs the per-step loop of
:func:`~nnx.layers.rnn_steps.run_steps`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from nnx.backends import Backend, backend_of, get_backend
from nnx.backends.base import Array, Generator, array_namespace
from nnx.layers.base import Backprop, Layer, Shape, backprop_needed, no_backprop, register_layer
from nnx.layers.masking import float_mask
from nnx.layers.recurrent import Recurrent
from nnx.layers.rnn_cells import RecurrentCell, StackedRNNCells
from nnx.layers.rnn_steps import CellSteps, StackedSteps, run_steps
from nnx.layers.stateful import Stateful, pop_batch_size
from nnx.layers.symbolic import call_symbolic, check_graph_training, is_symbolic
from nnx.layers.wrappers import deserialize_layer, serialize_layer
from nnx.validation import check_bool

__all__ = ["RNN", "cell_shapes"]


def cell_shapes(size: Any, several: bool) -> list[Shape]:
    """Shapes from a Keras ``state_size`` / ``output_size``: an int is one 1-d shape; a list
    holds one int or shape per item; a tuple of ints is several sizes (``several``, states)
    or one shape (outputs); an object with ``as_list()`` (a TensorShape) is one shape."""
    if hasattr(size, "as_list"):
        return [tuple(size.as_list())]
    if isinstance(size, int):
        return [(size,)]
    if isinstance(size, tuple) and not several and all(isinstance(d, int) for d in size):
        return [size]
    if isinstance(size, (list, tuple)) and size:
        return [one for item in size for one in cell_shapes(item, False)[:1]]
    raise ValueError(f"expected an int, a shape or a list of them, received {size!r}.")


@register_layer
class RNN(Stateful, Layer):
    """The generic recurrent layer around a cell (Keras's ``keras.layers.RNN``).

    Args:
        cell: a cell, a list of cells (stacked), or a saved cell config.
        return_sequences: output every step ``(batch, steps, ...)``, not only the last.
        return_state: also return the final states: ``[output, *states]``.
        go_backwards: read the sequence in reverse (outputs in the reversed order).
        stateful: carry final states over to the next batch (see :mod:`nnx.layers.stateful`).
        unroll: accepted for Keras compatibility; the loop always runs eagerly.
        zero_output_for_mask: a masked step outputs zeros instead of the previous output.
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``batch_size``,
            ``batch_input_shape``.

    Shape:
        Input ``(batch, steps, *features)`` (a list for a cell with nested inputs); output
        ``(batch, *output_size)`` or ``(batch, steps, *output_size)``; states
        ``(batch, *state_size)``. Masked steps keep the previous states.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import LSTMCell
    >>> x = get_backend("numpy").asarray([[[1.0], [0.5], [-1.0]]])
    >>> y, h, c = RNN(LSTMCell(2), return_state=True)(x)
    >>> y.shape, c.shape
    ((1, 2), (1, 2))
    """

    #: ``steps(cell) -> CellSteps`` for a cell defining ``call`` (traced); set by
    #: :mod:`nnx.models.cell_steps`, which needs the graph machinery
    custom_steps: ClassVar[Callable[[Layer], CellSteps] | None] = None

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        who = "RNN"
        self.batch_size = pop_batch_size(kwargs, who)
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        self.cell: Layer = deserialize_layer(cell)
        _check_cell(self.cell)
        self.return_sequences = check_bool(return_sequences, "return_sequences", who=who)
        self.return_state = check_bool(return_state, "return_state", who=who)
        self.go_backwards = check_bool(go_backwards, "go_backwards", who=who)
        self.stateful = check_bool(stateful, "stateful", who=who)
        self.unroll = check_bool(unroll, "unroll", who=who)
        self.zero_output_for_mask = check_bool(
            zero_output_for_mask, "zero_output_for_mask", who=who
        )
        self.states = None
        self.rng: Generator | None = None
        self.supports_masking = True
        self._steps: CellSteps | None = None

    # --- the cell seen as steps ---------------------------------------------------------------
    def steps(self) -> CellSteps:
        """The cell as :class:`~nnx.layers.rnn_steps.CellSteps` (made once)."""
        if self._steps is None:
            self._steps = _steps_of(self.cell)
        return self._steps

    def state_shapes(self) -> list[Shape]:
        """The shape of each state, from the cell's ``state_size``."""
        return cell_shapes(self.cell.state_size, True)  # type: ignore[attr-defined]

    @property
    def state_count(self) -> int:
        """The number of states (``Bidirectional`` reads it)."""
        return len(self.state_shapes())

    @property
    def units(self) -> int | None:
        """The size of the first state (``units`` of a built-in cell)."""
        return self.state_shapes()[0][-1]

    def check_state_shapes(self, shapes: list[tuple[Any, ...]], batch: int | None) -> None:
        """Refuse ``initial_state`` shapes other than the cell's (as the recurrent layers)."""
        self._check_states(shapes, batch)

    def output_shapes(self) -> list[Shape]:
        """The shape of each output of a step (``output_size``, else the first state's)."""
        size = getattr(self.cell, "output_size", None)
        return cell_shapes(size, False) if size is not None else self.state_shapes()[:1]

    # --- building -------------------------------------------------------------------------------
    def build(
        self,
        input_shape: Any,
        backend: Backend | str | None = None,
        rng: Generator | None = None,
        dtype: str = "float32",
    ) -> None:
        """Build the cell on the shape of one step (the input shape without its steps)."""
        backend = get_backend(backend)
        multiple = isinstance(input_shape, list) and all(
            isinstance(s, (list, tuple)) for s in input_shape
        )
        shapes = [tuple(s) for s in input_shape] if multiple else [tuple(input_shape)]
        for s in shapes:
            if len(s) < 2:
                raise ValueError(
                    f"RNN {self.name!r} expects inputs of shape (batch, steps, features...), "
                    f"received input shape (batch, {', '.join(map(str, s))})."
                )
        self.multiple_inputs = multiple  # type: ignore[misc]
        self.backend, self.dtype = backend, dtype
        if multiple:
            self.input_shapes = shapes
        else:
            self.input_shape = shapes[0]
        rng = rng if rng is not None else backend.rng(None)
        with backend.device_scope():
            self.steps().build([s[1:] for s in shapes], backend, rng, dtype)
        self._share_rng()
        for cell in self.steps().layers():
            cell.trainable = self.trainable
        self._weights = self.steps().parameters()
        self._declared_trainable = [p for c in self.steps().layers() for p in c._declared_trainable]
        self.output_shape = self.compute_output_shape(shapes if multiple else shapes[0])
        self.built = True

    def _share_rng(self) -> None:
        """The cells' dropout masks come from one stream, kept as ``self.rng`` (where saving
        and ``gradcheck`` find a layer's generator)."""
        cells = [c for c in self.steps().layers() if isinstance(getattr(c, "rng", None), Generator)]
        if cells:
            self.rng = cells[0].rng  # type: ignore[attr-defined]
            for c in cells[1:]:
                c.rng = self.rng  # type: ignore[attr-defined]

    def _output_shape(self, steps: int | None) -> Any:
        outs = [(steps, *s) if self.return_sequences else s for s in self.output_shapes()]
        if self.return_state:
            return [*outs, *self.state_shapes()]
        return outs if len(outs) > 1 else outs[0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The shape of the (first) output; a graph call gets them all
        (:meth:`compute_call_output_shape`)."""
        first = input_shape[0] if isinstance(input_shape, list) else input_shape
        shapes = self._output_shape(first[0])
        return shapes[0] if isinstance(shapes, list) else shapes

    def compute_call_output_shape(
        self, input_shape: Any, options: dict[str, Any], keywords: dict[str, Any]
    ) -> Any:
        """The output shape(s) of a graph call (a list for several outputs)."""
        if "initial_state" in keywords:
            self._check_states([(None, *s) for s in keywords["initial_state"]], None)
        first = input_shape[0] if isinstance(input_shape, list) else input_shape
        return self._output_shape(first[0])

    def compute_mask(self, x: Any, mask: Array | None) -> Array | None:
        if mask is None or not self.return_sequences:
            return None
        xp = get_backend(self.backend).xp
        return xp.flip(mask, axis=1) if self.go_backwards else mask

    def _check_states(self, shapes: list[tuple[Any, ...]], batch: int | None) -> None:
        expected = [(batch, *s) for s in self.state_shapes()]
        if len(shapes) != len(expected) or any(
            tuple(s)[1:] != e[1:] or (batch is not None and s[0] != batch)
            for s, e in zip(shapes, expected, strict=False)
        ):
            raise ValueError(
                f"RNN {self.name!r}: initial_state must be {len(expected)} tensors of shapes "
                f"{expected} (the cell's state_size), received {len(shapes)}: {shapes}."
            )

    # --- running ----------------------------------------------------------------------------
    def __call__(  # type: ignore[override]
        self,
        x: Any,
        mask: Array | None = None,
        initial_state: Any = None,
        training: bool | None = None,
    ) -> Any:
        """Inference (or a graph node on symbolic tensors), as the recurrent layers'."""
        if isinstance(x, tuple):
            x = list(x)
        self.multiple_inputs = isinstance(x, list)  # type: ignore[misc]
        first = x[0] if isinstance(x, list) else x
        if is_symbolic(first) or (initial_state is not None and is_symbolic(initial_state)):
            keywords: dict[str, Any] = {}
            if initial_state is not None:
                keywords["initial_state"] = _listed(initial_state)
            if mask is not None:
                keywords["mask"] = mask
            check_graph_training(self, training)
            return call_symbolic(self, x, None, keywords or None)
        if not self.built:
            several = isinstance(x, list)
            shapes: Any = [tuple(a.shape[1:]) for a in x] if several else tuple(first.shape[1:])
            self.build(shapes, backend_of(first))
        states = None if initial_state is None else _listed(initial_state)
        with no_backprop():
            return self.forward_masked(x, mask, training=bool(training), initial_state=states)[0]

    def forward(self, x: Any, *, training: bool = False, initial_state: Any = None) -> Any:
        return self.forward_masked(x, None, training=training, initial_state=initial_state)

    def forward_masked(
        self, x: Any, mask: Array | None, *, training: bool = False, initial_state: Any = None
    ) -> tuple[Any, Backprop]:
        """``(y, backprop)`` over the sequence(s) ``x`` (see the class docstring)."""
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        for a in xs:
            if a.ndim < 3:
                raise ValueError(
                    f"RNN {self.name!r} expects inputs of shape (batch, steps, features...), "
                    f"received shape {tuple(a.shape)}."
                )
        n = xs[0].shape[0]
        user = None if initial_state is None else _listed(initial_state)
        if user is not None:
            self._check_states([tuple(s.shape) for s in user], n)
        carried = self.carried_states(n) if user is None else None
        given = user if user is not None else carried
        if isinstance(self.cell, RecurrentCell) and len(xs) == 1:
            outs, final, back = self._run_layer(xs[0], mask, training, given)
        else:
            outs, final, back = self._run_loop(xs, mask, training, given)
        self.keep_states(final)
        several = len(outs) > 1

        def backprop(dout: Any) -> Any:
            flat = list(dout) if (self.return_state or several) else [dout]
            k = len(outs)
            dxs, dstates = back(flat[:k], flat[k:] + [None] * (len(final) - len(flat[k:])))
            dx = dxs if isinstance(x, (list, tuple)) else dxs[0]
            if user is None:
                return dx
            return [*(dxs if isinstance(x, (list, tuple)) else [dx]), *dstates]

        if self.return_state:
            return (*outs, *final), backprop
        return (tuple(outs) if several else outs[0]), backprop

    def _run_layer(
        self, x: Array, mask: Array | None, training: bool, given: list[Array] | None
    ) -> tuple[list[Array], list[Array], Any]:
        """A lone built-in cell: its layer's whole-sequence forward (fused kernels)."""
        cell = self.cell
        assert isinstance(cell, RecurrentCell)
        layer: Recurrent = cell.engine(
            return_sequences=self.return_sequences,
            return_state=True,
            go_backwards=self.go_backwards,
            stateful=False,
            input_shape=self.input_shape,
            needs_input_gradient=self.needs_input_gradient,
        )
        out, back = layer.forward_masked(x, mask, training=training, initial_state=given)
        y, *final = out
        zero = None
        if self.zero_output_for_mask and mask is not None:
            xp = array_namespace(x)
            m = float_mask(xp.flip(mask, axis=1) if self.go_backwards else mask, x)
            zero = m[:, :, None] if self.return_sequences else m[:, -1:]
            y = y * zero

        def backprop(douts: list[Any], dstates: list[Any]) -> tuple[list[Any], list[Any]]:
            dy = douts[0]
            if dy is not None and zero is not None:
                dy = dy * zero
            grads = back((dy, *dstates))
            if given is None:
                return [grads], []
            return [grads[0]], list(grads[1:])

        return [y], list(final), backprop

    def _run_loop(
        self, xs: list[Array], mask: Array | None, training: bool, given: list[Array] | None
    ) -> tuple[list[Array], list[Array], Any]:
        """Any cell: the per-step loop with backpropagation through time."""
        steps = self.steps()
        like = xs[0]
        xp = array_namespace(like)
        n = like.shape[0]
        states = given
        if states is None:
            states = [
                xp.zeros((n, *s), dtype=like.dtype, device=like.device) for s in self.state_shapes()
            ]
        m = None if mask is None else float_mask(mask, like)
        run = run_steps(
            steps,
            xs,
            list(states),
            m,
            training=training,
            keep=backprop_needed(),
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
            sequences=self.return_sequences,
        )
        outs = run.sequences if self.return_sequences else run.last
        assert outs is not None

        def backprop(douts: list[Any], dstates: list[Any]) -> tuple[list[Any], list[Any]]:
            if self.return_sequences:
                return run.backprop(douts, None, dstates)
            return run.backprop(None, douts, dstates)

        return outs, run.states, backprop

    def get_config(self) -> dict[str, Any]:
        config = {
            **super().get_config(),
            "cell": serialize_layer(self.cell),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
        if self.batch_size is not None:
            config["batch_size"] = self.batch_size
        return config


def _steps_of(cell: Layer) -> CellSteps:
    if isinstance(cell, RecurrentCell):
        return cell.steps()
    if isinstance(cell, StackedRNNCells):
        return StackedSteps([_steps_of(c) for c in cell.cells])
    if RNN.custom_steps is None:  # pragma: no cover (import nnx registers it)
        raise RuntimeError("import nnx (nnx.models) before running an RNN over a custom cell.")
    return RNN.custom_steps(cell)


def _check_cell(cell: Any) -> None:
    """A clear error for something that is not a cell."""
    if isinstance(cell, StackedRNNCells):
        for c in cell.cells:
            _check_cell(c)
        return
    problems = []
    if not isinstance(cell, Layer):
        problems.append("is not an nnx Layer")
    if getattr(cell, "state_size", None) is None:
        problems.append("has no state_size attribute")
    if not isinstance(cell, RecurrentCell) and not callable(getattr(type(cell), "call", None)):
        problems.append("defines no call(self, inputs, states)")
    if problems:
        raise ValueError(
            f"RNN: the cell must be a Layer with a state_size attribute (an int, a shape or a "
            f"list of them) and a call(inputs, states) method returning (output, new_states); "
            f"received {type(cell).__name__}, which {' and '.join(problems)}."
        )
    try:
        cell_shapes(cell.state_size, True)
    except ValueError as error:
        raise ValueError(f"RNN: the cell's state_size: {error}") from None


def _listed(states: Any) -> list[Any]:
    return list(states) if isinstance(states, (list, tuple)) else [states]
