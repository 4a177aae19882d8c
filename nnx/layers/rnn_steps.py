"""The generic loop over time of :class:`~nnx.layers.rnn.RNN`, for any cell.

A cell is seen through :class:`CellSteps`: flat lists of inputs, states and outputs, and a
``step`` returning the new outputs and states with a backprop closure
``backprop(d_outputs, d_new_states) -> (d_inputs, d_states)`` that writes the cell's weight
gradients for that step. :func:`run_steps` runs the steps forward, then backward in reverse
(backpropagation through time), summing each weight's per-step gradients.

Masks, as Keras: a masked step keeps the previous states,
``s_t = m_t s~_t + (1 - m_t) s_{t-1}``, and outputs the previous output (or zeros with
``zero_output_for_mask``), ``o_t = m_t o~_t + (1 - m_t) o_{t-1}``; backward, the gradient of
``o_{t-1}`` and ``s_{t-1}`` receives the ``(1 - m_t)`` share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nnx.backends.base import Array, Generator, array_namespace
from nnx.layers.base import Layer, Shape
from nnx.layers.parameter import Parameter

__all__ = ["CellSteps", "SequenceRun", "StackedSteps", "StepBackprop", "StepResult", "run_steps"]

#: ``backprop(d_outputs, d_new_states) -> (d_inputs, d_states)`` of one step
StepBackprop = Callable[[list[Any], list[Any]], tuple[list[Any], list[Any]]]
#: ``(outputs, new_states, backprop)`` of one step
StepResult = tuple[list[Array], list[Array], StepBackprop]


class CellSteps:
    """A cell seen as flat lists (the contract :func:`run_steps` runs)."""

    def build(self, input_shapes: list[Shape], backend: Any, rng: Generator, dtype: str) -> None:
        """Build the cell for steps of ``input_shapes`` (one per input, no batch axis)."""
        raise NotImplementedError

    def state_shapes(self) -> list[Shape]:
        """The shape of each state (no batch axis)."""
        raise NotImplementedError

    def output_shapes(self) -> list[Shape]:
        """The shape of each output of a step (no batch axis)."""
        raise NotImplementedError

    def layers(self) -> list[Layer]:
        """The cells whose weights the steps use."""
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        """Every weight of the cells, once, in order."""
        seen: dict[int, Parameter] = {}
        for layer in self.layers():
            for p in layer.parameters():
                seen.setdefault(id(p), p)
        return list(seen.values())

    def begin(self, n: int, training: bool) -> Any:
        """What every step of one sequence shares (dropout masks, the mode)."""
        return training

    def step(self, xs: list[Array], states: list[Array], context: Any) -> StepResult:
        """One step: ``(outputs, new_states, backprop)``."""
        raise NotImplementedError


class StackedSteps(CellSteps):
    """Cells one after the other in each step (``StackedRNNCells``): cell ``k`` reads the
    outputs of cell ``k - 1``; the states are all cells' states in order."""

    def __init__(self, parts: list[CellSteps]) -> None:
        self.parts = parts

    def build(self, input_shapes: list[Shape], backend: Any, rng: Generator, dtype: str) -> None:
        shapes = input_shapes
        for part in self.parts:
            part.build(shapes, backend, rng, dtype)
            shapes = part.output_shapes()

    def state_shapes(self) -> list[Shape]:
        return [s for part in self.parts for s in part.state_shapes()]

    def output_shapes(self) -> list[Shape]:
        return self.parts[-1].output_shapes()

    def layers(self) -> list[Layer]:
        return [layer for part in self.parts for layer in part.layers()]

    def begin(self, n: int, training: bool) -> Any:
        return [part.begin(n, training) for part in self.parts]

    def _slices(self) -> list[slice]:
        out, start = [], 0
        for part in self.parts:
            count = len(part.state_shapes())
            out.append(slice(start, start + count))
            start += count
        return out

    def step(self, xs: list[Array], states: list[Array], context: Any) -> StepResult:
        slices, backs, new_states = self._slices(), [], []
        outs = xs
        for part, where, ctx in zip(self.parts, slices, context, strict=True):
            outs, new, back = part.step(outs, states[where], ctx)
            new_states.extend(new)
            backs.append(back)

        def backprop(douts: list[Any], dnew: list[Any]) -> tuple[list[Any], list[Any]]:
            dstates: list[Any] = [None] * len(dnew)
            d = douts
            for back, where in zip(reversed(backs), reversed(slices), strict=True):
                d, dprev = back(d, dnew[where])
                dstates[where] = dprev
            return d, dstates

        return outs, new_states, backprop


def _mixed(m: Array | None, new: Array, old: Array) -> Array:
    """``m new + (1 - m) old`` with the ``(batch,)`` mask broadcast over ``new``'s axes."""
    if m is None:
        return new
    mb = _broadcast(m, new)
    return mb * new + (1 - mb) * old


def _broadcast(m: Array, like: Array) -> Array:
    xp = array_namespace(like)
    return xp.reshape(m, (m.shape[0], *([1] * (like.ndim - 1))))


@dataclass
class SequenceRun:
    """The result of :func:`run_steps`: outputs over time (processing order), the last
    outputs, the final states, and the backprop through time."""

    sequences: list[Array] | None
    last: list[Array]
    states: list[Array]
    backprop: Callable[[list[Any] | None, list[Any] | None, list[Any]], tuple[list[Any], list[Any]]]


def run_steps(
    steps: CellSteps,
    xs: list[Array],
    states: list[Array],
    m: Array | None,
    *,
    training: bool,
    keep: bool,
    go_backwards: bool,
    zero_output_for_mask: bool,
    sequences: bool,
) -> SequenceRun:
    """Run ``steps`` over ``xs`` (each ``(batch, steps, ...)``) from ``states``; ``m`` is the
    ``(batch, steps)`` float mask or None.

    The returned backprop takes ``(d_sequences | None, d_last | None, d_final_states)`` (each
    a list, None entries for no gradient) and returns ``(d_xs, d_initial_states)``, setting
    every weight's ``grad`` to its sum over the steps.
    """
    xp = array_namespace(xs[0])
    n, count = xs[0].shape[0], xs[0].shape[1]
    order = list(reversed(range(count))) if go_backwards else list(range(count))
    context = steps.begin(n, training)
    like = xs[0]
    prev = [xp.zeros((n, *s), dtype=like.dtype, device=like.device) for s in steps.output_shapes()]
    records: list[StepBackprop] = []
    seqs: list[list[Array]] = []
    for t in order:
        mt = None if m is None else m[:, t]
        outs, new, back = steps.step([x[:, t, ...] for x in xs], states, context)
        if mt is not None:
            new = [_mixed(mt, a, b) for a, b in zip(new, states, strict=True)]
            if zero_output_for_mask:
                outs = [_broadcast(mt, o) * o for o in outs]
            else:
                outs = [_mixed(mt, o, p) for o, p in zip(outs, prev, strict=True)]
        states, prev = new, outs
        if keep:
            records.append(back)
        if sequences:
            seqs.append(outs)
    stacked = None
    if sequences:
        stacked = [xp.stack([o[i] for o in seqs], axis=1) for i in range(len(prev))]
    final = list(states)
    params = steps.parameters()

    def backprop(
        d_seqs: list[Any] | None, d_last: list[Any] | None, d_final: list[Any]
    ) -> tuple[list[Any], list[Any]]:
        if len(records) != count:
            raise RuntimeError(
                "RNN: this forward ran under no_backprop() (inference) and kept nothing for a "
                "backward; run it outside that block."
            )
        ds = [xp.zeros_like(s) if d is None else d for s, d in zip(final, d_final, strict=True)]
        carry = [
            xp.zeros_like(o) if d_last is None or d_last[i] is None else d_last[i]
            for i, o in enumerate(prev)
        ]
        totals: list[Array | None] = [None] * len(params)
        dxs: list[list[Array]] = [[] for _ in xs]
        for k in reversed(range(count)):
            t = order[k]
            d_out = [
                c if d_seqs is None or d_seqs[i] is None else c + d_seqs[i][:, k, ...]
                for i, c in enumerate(carry)
            ]
            if m is None:
                d_new, keep_s = ds, None
                carry = [xp.zeros_like(c) for c in carry]
            else:
                mt = m[:, t]
                d_new = [_broadcast(mt, d) * d for d in ds]
                keep_s = [(1 - _broadcast(mt, d)) * d for d in ds]
                kept = [(1 - _broadcast(mt, d)) * d for d in d_out]
                d_out = [_broadcast(mt, d) * d for d in d_out]
                carry = [xp.zeros_like(c) for c in carry] if zero_output_for_mask else kept
            for p in params:
                p.grad = None
            dx_t, d_prev = records[k](d_out, d_new)
            for i, p in enumerate(params):
                if p.grad is not None:
                    totals[i] = p.grad if totals[i] is None else totals[i] + p.grad
            ds = [
                (xp.zeros_like(s) if d is None else d) + (0 if keep_s is None else keep_s[j])
                for j, (s, d) in enumerate(zip(final, d_prev, strict=True))
            ]
            for i, x in enumerate(xs):
                dxs[i].append(xp.zeros_like(x[:, t, ...]) if dx_t[i] is None else dx_t[i])
        for p, total in zip(params, totals, strict=True):
            p.grad = xp.zeros_like(p.value) if total is None else total
        if not go_backwards:
            dxs = [list(reversed(d)) for d in dxs]
        return [xp.stack(d, axis=1) for d in dxs], ds

    return SequenceRun(stacked, prev, final, backprop)
