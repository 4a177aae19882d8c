"""``Recurrent``: the loop over time shared by ``SimpleRNN``, ``LSTM`` and ``GRU``.

A subclass gives one step of its cell, ``step(xz_t, states, loop) -> (new_states, saved)``,
where ``xz_t = x_t W + b`` is the input projection of step ``t`` (computed for all steps with
one matmul), and its backward ``step_backward(dstates, saved, loop) -> (dxz_t, drec_t,
dstates_prev)``, where ``drec_t`` is the gradient of the recurrent product ``h_{t-1} U``
(``+ b_rec``). This class runs the steps forward, then their backward in reverse
(backpropagation through time), writing each ``dxz_t`` into one ``(steps, batch, width)``
array, so that the weight gradients are single matrix products at the end::

    dW = X^T dXZ        dU = H_prev^T dREC        db = sum of the rows of dXZ (and dREC)

It also handles what every cell shares: the timestep mask (a masked step keeps the previous
state: ``s_t = m_t s~_t + (1 - m_t) s_{t-1}``), input and recurrent dropout (one mask per
sequence, as Keras), ``go_backwards``, ``return_sequences``,
``return_state`` and ``initial_state``.

Where the backend has fused kernels for the cell, one backend call runs every step instead of
this loop, with the same numbers (:meth:`~nnx.backends.fast_paths.FastPaths.recurrent_forward`:
numba on NumPy), or the steps call one kernel for their gate maths
(:meth:`~nnx.backends.fast_paths.FastPaths.lstm_cell`, ``gru_cell``: CuPy). At inference
(:func:`~nnx.layers.base.no_backprop`) nothing is kept for a backward.

Keras's call forms work eagerly and in functional graphs::

    _, h, c = LSTM(64, return_state=True)(encoder_inputs)          # three symbolic tensors
    y = LSTM(64, return_sequences=True)(decoder_inputs, initial_state=[h, c])

With ``initial_state`` the backprop returns ``[dx, d state_0, ...]`` (one gradient per input
tensor, as a graph node with tensor keywords does); with ``return_state`` it takes
``(dy, d state_0, ...)``, None for an output no gradient reaches.

``unroll``: nnx runs layers eagerly, so the loop over time is always a Python loop calling the
cell's array kernels, whatever ``unroll`` says; the argument is kept (and saved) for Keras
compatibility and ``unroll=True`` gives the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import nnx.activations as activations
import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends import backend_of
from nnx.backends.base import Array, Generator, array_namespace
from nnx.functional.sequence import gate_sigmoid
from nnx.layers.base import (
    Backprop,
    Layer,
    Shape,
    backprop_needed,
    no_backprop,
    serialize_or_none,
)
from nnx.layers.masking import float_mask
from nnx.layers.parameter import Parameter
from nnx.layers.stateful import Stateful, pop_batch_size
from nnx.layers.symbolic import call_symbolic, check_graph_training, is_symbolic
from nnx.validation import check_bool, check_float, check_int

__all__ = ["Loop", "Recurrent", "Saved", "States"]

States = tuple[Array, ...]
#: what a step keeps for its backward (the cell's own tuple of arrays)
Saved = tuple[Array, ...]


@dataclass
class Loop:
    """What every step of one forward pass shares.

    Attributes:
        recurrent: the recurrent kernel ``U`` ``(units, gates units)``.
        recurrent_bias: the bias added to ``h U`` (GRU with ``reset_after``), else None.
        hmask: the recurrent dropout mask of ``h`` ``(batch, units)``, scaled, or None.
    """

    recurrent: Array
    recurrent_bias: Array | None
    hmask: Array | None

    def dropped(self, h: Array) -> Array:
        """``h`` with the recurrent dropout mask applied (``h`` itself without one)."""
        return h if self.hmask is None else h * self.hmask


class Recurrent(Stateful, Layer):
    """Base class of the recurrent layers (see the module docstring for the contract).

    Args:
        units: size of the hidden state (> 0).
        activation: the cell's activation (``"tanh"``).
        use_bias: whether the cell has biases.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers of the
            input kernel ``(features, gates units)``, the recurrent kernel
            ``(units, gates units)`` and the bias.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: optional projections applied
            after each optimizer update (:mod:`nnx.constraints`).
        dropout: fraction of the inputs dropped in training (one mask per sequence).
        recurrent_dropout: fraction of the state ``h`` dropped in the recurrent product.
        return_sequences: output every step ``(batch, steps, units)``, not only the last.
        return_state: also return the final state(s): the output is ``(y, *states)`` and
            backprop takes a gradient for each (None for "no gradient"); in a functional graph
            the call returns ``[y, h(, c)]``, one symbolic tensor each.
        go_backwards: read the sequence in reverse (outputs are in the reversed order).
        stateful: carry the final states over as the next batch's initial states (see
            :mod:`nnx.layers.stateful`; ``batch_size=`` or ``batch_input_shape=`` fix the
            batch, else the first batch does); ``reset_states()`` zeroes them.
        unroll: accepted and saved for Keras compatibility only: nnx runs eagerly, so a
            Python loop over the steps always runs and ``unroll=True`` changes nothing.
        seed: seed of the dropout masks (default: drawn from the model's generator).
    """

    gates: ClassVar[int] = 1
    state_count: ClassVar[int] = 1

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        who = type(self).__name__
        self.batch_size = pop_batch_size(kwargs, who)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = check_int(units, "units", who=who, minimum=1)
        self.activation = activations.get(activation)
        #: the gates' activation (LSTM and GRU set theirs; unused by SimpleRNN)
        self.recurrent_activation = activations.get("sigmoid")
        self.use_bias = check_bool(use_bias, "use_bias", who=who)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = self.check_constraint(kernel_constraint, "kernel_constraint")
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.recurrent_constraint = self.check_constraint(
            recurrent_constraint, "recurrent_constraint"
        )
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = self.check_constraint(bias_constraint, "bias_constraint")
        rate = {"minimum": 0.0, "maximum": 1.0, "maximum_open": True, "who": who}
        self.dropout = check_float(dropout, "dropout", **rate)  # type: ignore[arg-type]
        self.recurrent_dropout = check_float(
            recurrent_dropout,
            "recurrent_dropout",
            **rate,  # type: ignore[arg-type]
        )
        self.return_sequences = check_bool(return_sequences, "return_sequences", who=who)
        self.return_state = check_bool(return_state, "return_state", who=who)
        self.go_backwards = check_bool(go_backwards, "go_backwards", who=who)
        self.stateful = check_bool(stateful, "stateful", who=who)
        self.states = None
        self.unroll = check_bool(unroll, "unroll", who=who)
        self.seed = seed
        self.rng: Generator | None = None
        self.kernel: Parameter | None = None
        self.recurrent_kernel: Parameter | None = None
        self.bias: Parameter | None = None

    # --- what a cell defines ------------------------------------------------------------------
    def step(self, xz: Array, states: States, loop: Loop) -> tuple[States, Saved]:
        """One step of the cell: the new states (``h`` first) and what its backward reads."""
        raise NotImplementedError

    def step_backward(
        self, dstates: States, saved: Saved, loop: Loop
    ) -> tuple[Array, Array, States]:
        """The backward of one step given the gradients of its new states: ``(dxz_t, drec_t,
        dstates_prev)``, the gradients of the input projection, of the recurrent product
        (the same array where they are equal) and of the previous states."""
        raise NotImplementedError

    def recurrent_kernel_grad(self, hd: Array, drec: Array, saved: list[Saved] | None) -> Array:
        """``dU = H_prev^T dREC`` over all steps at once: ``hd (steps batch, units)`` the
        (dropped) previous states, ``drec (steps batch, width)``; ``saved``: every step's
        :meth:`step` output (None after a fused kernel)."""
        assert self.backend is not None
        return self.backend.matmul(hd.T, drec)

    def fused_cell(self) -> str | None:
        """The backend kernel that runs this cell's whole sequence
        (:meth:`~nnx.backends.fast_paths.FastPaths.recurrent_forward`), or None: the loop."""
        return None

    def gate(self, z: Array) -> Array:
        """``recurrent_activation(z)`` (the tanh form of the sigmoid, see
        :func:`~nnx.functional.sequence.gate_sigmoid`)."""
        act = self.recurrent_activation
        return gate_sigmoid(z) if act.name == "sigmoid" else act.forward(z)

    def bias_shape(self) -> tuple[int, ...]:
        """Shape of the bias (default ``(gates units,)``, added to the input projection)."""
        return (self.gates * self.units,)

    def bias_initial(self, shape: tuple[int, ...], rng: Generator, dtype: str) -> Array:
        """The initial bias (LSTM overrides it for ``unit_forget_bias``)."""
        return initializers.get(self.bias_initializer)(shape, rng, dtype)

    def split_bias(self, bias: Array) -> tuple[Array, Array | None]:
        """``(input bias, recurrent bias)`` from the bias parameter's value."""
        return bias, None

    def join_bias_grad(self, d_input: Array, d_recurrent: Array | None) -> Array:
        """The bias parameter's gradient from those of its two parts."""
        return d_input

    # --- building -------------------------------------------------------------------------------
    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs of shape (batch, steps, "
                f"features) with known features, received input shape "
                f"(batch, {', '.join(map(str, input_shape))})."
            )
        assert self.backend is not None
        self.rng = self.backend.rng(self.seed) if self.seed is not None else rng.spawn()
        width = self.gates * self.units
        self.kernel = self.add_weight(
            "kernel", (input_shape[-1], width), self.kernel_initializer, rng,
            self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", (self.units, width), self.recurrent_initializer, rng,
            self.recurrent_regularizer, constraint=self.recurrent_constraint,
        )  # fmt: skip
        if self.use_bias:
            self.bias = self.add_weight(
                "bias",
                self.bias_shape(),
                self.bias_initial,
                rng,
                self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.return_sequences:
            return (input_shape[0], self.units)
        return (self.units,)

    def compute_mask(self, x: Array, mask: Array | None) -> Array | None:
        """The mask goes on with the sequence (``return_sequences``), else it is consumed."""
        if mask is None or not self.return_sequences:
            return None
        xp = self.backend.xp  # type: ignore[union-attr]
        return xp.flip(mask, axis=1) if self.go_backwards else mask

    # --- running -------------------------------------------------------------------------------
    def __call__(  # type: ignore[override]
        self,
        x: Any,
        mask: Array | None = None,
        initial_state: Any = None,
        training: bool | None = None,
    ) -> Any:
        """Inference, optionally with a ``(batch, steps)`` bool mask of valid steps and the
        initial state(s) ``[h(, c)]``, each ``(batch, units)`` (default zeros). On symbolic
        tensors it records a functional-graph node (``initial_state`` and ``mask`` symbolic
        too; a ``mask`` given replaces the one that came with the input, as in Keras).
        ``training=True`` on data applies the dropouts; in a graph ``training`` must be None
        or a traced call's own mode."""
        if is_symbolic(x) or (initial_state is not None and is_symbolic(initial_state)):
            keywords = {} if initial_state is None else {"initial_state": _listed(initial_state)}
            if mask is not None:
                keywords["mask"] = mask
            check_graph_training(self, training)
            return call_symbolic(self, x, None, keywords or None)
        if not self.built:
            self.build((None, x.shape[-1]), backend_of(x))
        states = None if initial_state is None else _listed(initial_state)
        with no_backprop():
            return self.forward_masked(x, mask, training=bool(training), initial_state=states)[0]

    def compute_call_output_shape(
        self, input_shape: Shape, options: dict[str, Any], keywords: dict[str, Any]
    ) -> Any:
        """The output shape of a graph call: ``[y, h(, c)]`` shapes with ``return_state``.

        Raises:
            ValueError: ``initial_state`` is not ``state_count`` tensors of shape
                ``(batch, units)``.
        """
        if "initial_state" in keywords:
            self.check_state_shapes([(None, *s) for s in keywords["initial_state"]], None)
        y = self.compute_output_shape(input_shape)
        return [y, *[(self.units,)] * self.state_count] if self.return_state else y

    def check_state_shapes(self, shapes: list[tuple[Any, ...]], batch: int | None) -> None:
        """Refuse ``initial_state`` shapes other than ``state_count`` times
        ``(batch, units)`` (``batch`` None: any, as in a graph), naming layer and shapes."""
        expected = (batch, self.units)
        count = self.state_count
        if len(shapes) != count or any(
            len(s) != 2 or s[1] != self.units or (batch is not None and s[0] != batch)
            for s in shapes
        ):
            shown = ", ".join(str(tuple(s)) for s in shapes)
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: initial_state must be {count} "
                f"tensor{'s' if count > 1 else ''} of shape (batch, units) = "
                f"{expected}, received {len(shapes)} of shape{'s' if len(shapes) != 1 else ''} "
                f"[{shown}]."
            )

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
        """``(y, backprop)`` of the sequence ``x`` with valid steps ``mask`` (None: all),
        starting from ``initial_state`` (a list of ``(batch, units)`` arrays; None: zeros, or
        the carried states of a ``stateful`` layer)."""
        if not self.stateful:
            return self._run(x, mask, training, initial_state, self.return_state)
        carried = None if initial_state is not None else self.carried_states(x.shape[0])
        given = initial_state if initial_state is not None else carried
        out, back = self._run(x, mask, training, given, True)
        self.keep_states(out[1:])

        def backprop(dout: Any) -> Any:
            grads = back(dout if self.return_state else (dout,))
            return grads[0] if initial_state is None and given is not None else grads

        return (out if self.return_state else out[0]), backprop

    def _run(
        self,
        x: Array,
        mask: Array | None,
        training: bool,
        initial_state: Any,
        return_state: bool,
    ) -> tuple[Any, Backprop]:
        """The forward pass; ``return_state`` overrides the layer's own (stateful layers
        need their final states)."""
        self.check_input(x)
        if x.ndim != 3:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs of shape (batch, steps, "
                f"features), received shape {tuple(x.shape)}."
            )
        backend, kernel = self.backend, self.kernel
        assert backend is not None and kernel is not None and self.recurrent_kernel is not None
        xp = backend.xp
        n, steps, features = x.shape
        width = self.gates * self.units
        xmask = self._dropout_mask((n, 1, features), self.dropout, training)
        hmask = self._dropout_mask((n, self.units), self.recurrent_dropout, training)
        keep = backprop_needed()
        if not keep and xmask is None and hmask is None:
            inferred = self._infer_fused(x, mask, initial_state, return_state)
            if inferred is not None:
                return inferred, self.kept_nothing_backprop
        if self.go_backwards:
            x = xp.flip(x, axis=1)
            mask = None if mask is None else xp.flip(mask, axis=1)
        xd = x if xmask is None else x * xmask
        # NOTE: time-major rows, so each step's slice of the projection is contiguous.
        xd2 = xp.reshape(xp.permute_dims(xd, (1, 0, 2)), (steps * n, features))
        xz = xp.reshape(backend.matmul(xd2, kernel.value), (steps, n, width))
        b_in, b_rec = (None, None) if self.bias is None else self.split_bias(self.bias.value)
        if b_in is not None:
            xz = backend.add_bias(xz, b_in)  # NOTE: in place: xz is the matmul's fresh array
        loop = Loop(self.recurrent_kernel.value, b_rec, hmask)
        m = None if mask is None else float_mask(mask, x)
        given = None if initial_state is None else _listed(initial_state)
        states = self._initial_states(x, given)
        cell = self.fused_cell()
        run = None
        if cell is not None:
            run = backend.recurrent_forward(
                cell, xz, loop.recurrent, b_rec, states, m, hmask, keep, self.return_sequences
            )
        fused = run is not None
        hs, states, tape = run if run is not None else self._loop(xz, states, loop, m, keep)
        if self.return_sequences:
            assert hs is not None
            y = xp.permute_dims(hs[1:, ...], (1, 0, 2))
        else:
            y = states[0]
        need_dx = self.needs_input_gradient

        def backprop(dout: Any) -> Any:
            if not keep:
                self.kept_nothing_backprop(dout)
            dy, dfinal = (dout[0], list(dout[1:])) if return_state else (dout, [])
            dstates = [
                xp.zeros((n, self.units), dtype=x.dtype, device=x.device)
                if i >= len(dfinal) or dfinal[i] is None
                else dfinal[i]
                for i in range(self.state_count)
            ]
            dys = None
            if dy is not None and self.return_sequences:
                dys = xp.permute_dims(dy, (1, 0, 2))
            elif dy is not None:
                dstates[0] = dstates[0] + dy
            back = backend.recurrent_backward(tape, dys, tuple(dstates)) if fused else None
            if back is None:
                assert isinstance(tape, list)
                back = self._loop_backward(tape, dys, dstates, loop, m, n, width)
            dxz, drec, dstates0 = back
            dx = self._weight_gradients(
                xd2, dxz, drec, hs, hmask, None if fused else tape, need_dx, xmask
            )
            # NOTE: the gradients of the initial states come out of the loop
            return dx if given is None else [dx, *dstates0]

        if return_state:
            return (y, *states), backprop
        return y, backprop

    def _initial_states(self, x: Array, given: list[Any] | None) -> States:
        """``initial_state`` checked (shapes, backend), or zeros ``(batch, units)``."""
        n = x.shape[0]
        if given is not None:
            self.check_state_shapes([tuple(a.shape) for a in given], n)
            for a in given:
                self.check_input_backend(a)
            return tuple(given)
        xp = array_namespace(x)
        return tuple(
            xp.zeros((n, self.units), dtype=x.dtype, device=x.device)
            for _ in range(self.state_count)
        )

    def _infer_fused(
        self, x: Array, mask: Array | None, initial_state: Any, return_state: bool
    ) -> Any:
        """The output of an inference pass through the backend's whole-sequence kernel
        (:meth:`~nnx.backends.fast_paths.FastPaths.recurrent_inference`: projection and every
        step in one call), or None where it has none for this cell."""
        cell, backend = self.fused_cell(), self.backend
        assert backend is not None and self.kernel is not None
        assert self.recurrent_kernel is not None
        if cell is None:
            return None
        given = None if initial_state is None else _listed(initial_state)
        states = self._initial_states(x, given)
        b_in, b_rec = (None, None) if self.bias is None else self.split_bias(self.bias.value)
        run = backend.recurrent_inference(
            cell,
            x,
            self.kernel.value,
            b_in,
            self.recurrent_kernel.value,
            b_rec,
            states,
            None if mask is None else float_mask(mask, x),
            self.go_backwards,
            self.return_sequences,
        )
        if run is None:
            return None
        ys, final = run
        y = ys if self.return_sequences else final[0]
        return (y, *final) if return_state else y

    def _loop(
        self, xz: Array, states: States, loop: Loop, m: Array | None, keep: bool
    ) -> tuple[Array | None, States, list[Saved] | None]:
        """The portable forward: ``(hs, final states, saved)``; ``hs (steps + 1, batch,
        units)`` holds ``h_0`` and every ``h_t`` when the output or the backward needs them."""
        xp = array_namespace(xz)
        steps, n = xz.shape[0], xz.shape[1]
        hs = None
        if keep or self.return_sequences:
            hs = xp.empty((steps + 1, n, self.units), dtype=xz.dtype, device=xz.device)
            hs[0, ...] = states[0]
        saved: list[Saved] | None = [] if keep else None
        for t in range(steps):
            new, kept = self.step(xz[t, ...], states, loop)
            if m is not None:
                mt = m[:, t : t + 1]
                new = tuple(mt * a + (1 - mt) * b for a, b in zip(new, states, strict=True))
            states = new
            if saved is not None:
                saved.append(kept)
            if hs is not None:
                hs[t + 1, ...] = states[0]
        return hs, states, saved

    def _loop_backward(
        self,
        saved: list[Saved],
        dys: Array | None,
        dstates: list[Array],
        loop: Loop,
        m: Array | None,
        n: int,
        width: int,
    ) -> tuple[Array, Array, States]:
        """The portable backward through time: ``(dXZ, dREC, dstates_0)``."""
        xp = array_namespace(dstates[0])
        steps = len(saved)
        like = dstates[0]
        dxz = xp.empty((steps, n, width), dtype=like.dtype, device=like.device)
        drec = None
        for t in reversed(range(steps)):
            if dys is not None:
                dstates[0] = dstates[0] + dys[t, ...]
            if m is None:
                dxz_t, drec_t, dprev = self.step_backward(tuple(dstates), saved[t], loop)
                dstates = list(dprev)
            else:
                mt = m[:, t : t + 1]
                masked = tuple(mt * d for d in dstates)
                dxz_t, drec_t, dprev = self.step_backward(masked, saved[t], loop)
                dstates = [p + (1 - mt) * d for p, d in zip(dprev, dstates, strict=True)]
            dxz[t, ...] = dxz_t
            if drec_t is not dxz_t:
                if drec is None:
                    drec = xp.empty((steps, n, width), dtype=like.dtype, device=like.device)
                drec[t, ...] = drec_t
        return dxz, (dxz if drec is None else drec), tuple(dstates)

    def _weight_gradients(
        self,
        xd2: Array,
        dxz: Array,
        drec: Array,
        hs: Array | None,
        hmask: Array | None,
        saved: list[Saved] | None,
        need_dx: bool,
        xmask: Array | None,
    ) -> Array | None:
        """The hoisted products: sets the weights' grads, returns ``dx`` (None if unneeded)."""
        backend, kernel, recurrent = self.backend, self.kernel, self.recurrent_kernel
        assert backend is not None and kernel is not None and recurrent is not None
        assert hs is not None
        xp = backend.xp
        steps, n, width = dxz.shape
        dz2 = xp.reshape(dxz, (steps * n, width))
        dr2 = xp.reshape(drec, (steps * n, width))
        hd = hs[:steps, ...] if hmask is None else hs[:steps, ...] * hmask
        hd2 = xp.reshape(hd, (steps * n, self.units))
        features = xd2.shape[1]
        if drec is dxz and type(self).recurrent_kernel_grad is Recurrent.recurrent_kernel_grad:
            # NOTE: dW = X^T dZ and dU = H^T dZ as one product [X H]^T dZ: one GEMM of
            # features + units rows keeps BLAS busier than two thin ones (the LSTM bench:
            # 32 + 128 rows of 3200-long sums, 7.3-8.0 -> 5.6-6.5 ms with the copy).
            grads = backend.matmul(xp.concat([xd2, hd2], axis=1).T, dz2)
            kernel.grad, recurrent.grad = grads[:features, ...], grads[features:, ...]
        else:
            kernel.grad = backend.matmul(xd2.T, dz2)
            recurrent.grad = self.recurrent_kernel_grad(hd2, dr2, saved)
        if self.bias is not None:
            d_rec = None if self.split_bias(self.bias.value)[1] is None else backend.sum_rows(dr2)
            self.bias.grad = self.join_bias_grad(backend.sum_rows(dz2), d_rec)
        if not need_dx:
            return None
        dx = xp.reshape(backend.matmul(dz2, kernel.value.T), (steps, n, features))
        dx = xp.permute_dims(dx, (1, 0, 2))
        if xmask is not None:
            dx = dx * xmask
        return xp.flip(dx, axis=1) if self.go_backwards else dx

    def check_input_backend(self, a: Array) -> None:
        """A clear error for an initial state on another backend than the layer's."""
        backend = self.backend
        assert backend is not None
        if not backend.owns(a):
            raise TypeError(
                f"{type(self).__name__} {self.name!r} runs on backend {backend.name!r} but "
                f"initial_state holds a {type(a).__module__}.{type(a).__name__}."
            )

    def _dropout_mask(self, shape: tuple[int, ...], rate: float, training: bool) -> Array | None:
        """A scaled Bernoulli keep-mask ``m / (1 - rate)``, or None (inference, rate 0)."""
        if not training or rate == 0.0:
            return None
        assert self.rng is not None
        keep = 1.0 - rate
        return self.rng.bernoulli(shape, keep, dtype=self.dtype) / keep

    def get_config(self) -> dict[str, Any]:
        act = self.activation.get_config()
        batch = {} if self.batch_size is None else {"batch_size": self.batch_size}
        return {
            **batch,
            **super().get_config(),
            "units": self.units,
            "activation": act["name"] if len(act) == 1 else act,
            "use_bias": self.use_bias,
            "kernel_initializer": serialize_or_none(self.kernel_initializer),
            "recurrent_initializer": serialize_or_none(self.recurrent_initializer),
            "bias_initializer": serialize_or_none(self.bias_initializer),
            "kernel_regularizer": serialize_or_none(self.kernel_regularizer),
            "kernel_constraint": serialize_or_none(self.kernel_constraint),
            "recurrent_regularizer": serialize_or_none(self.recurrent_regularizer),
            "recurrent_constraint": serialize_or_none(self.recurrent_constraint),
            "bias_regularizer": serialize_or_none(self.bias_regularizer),
            "bias_constraint": serialize_or_none(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "seed": self.seed,
        }


def _listed(states: Any) -> list[Any]:
    """``initial_state`` as a list (Keras accepts one tensor for a one-state cell)."""
    return list(states) if isinstance(states, (list, tuple)) else [states]
