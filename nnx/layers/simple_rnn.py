"""``SimpleRNN``: the Elman recurrent layer."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array
from nnx.layers.base import register_layer
from nnx.layers.recurrent import Loop, Recurrent, Saved, States

__all__ = ["SimpleRNN"]


@register_layer
class SimpleRNN(Recurrent):
    """Fully connected recurrent layer: ``h_t = activation(x_t W + h_{t-1} U + b)``.

    Backward through time, with ``da_t = activation'(a_t) (dh_t + da_{t+1} U^T)``, the
    weight gradients summed over the steps in one product each:
    ``dW = sum_t x_t^T da_t``, ``dU = sum_t h_{t-1}^T da_t``, ``db = sum_t da_t``,
    ``dx_t = da_t W^T``.

    Args:
        units, activation, use_bias, initializers, regularizers, dropout, recurrent_dropout,
        return_sequences, return_state, go_backwards, unroll, seed: see
        :class:`~nnx.layers.recurrent.Recurrent`.

    Shape:
        Input ``(batch, steps, features)``; output ``(batch, units)``, or
        ``(batch, steps, units)`` with ``return_sequences``.

    >>> from nnx.backends import get_backend
    >>> x = get_backend("numpy").asarray([[[1.0], [0.5], [-1.0]]])
    >>> SimpleRNN(4, return_sequences=True)(x).shape
    (1, 3, 4)
    """

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any) -> None:
        super().__init__(units, activation, **kwargs)

    def fused_cell(self) -> str | None:
        return "simple_rnn" if self.activation.name == "tanh" else None

    def step(self, xz: Array, states: States, loop: Loop) -> tuple[States, Saved]:
        a = xz + loop.dropped(states[0]) @ loop.recurrent
        h_new = self.activation.forward(a)
        return (h_new,), (a, h_new)

    def step_backward(
        self, dstates: States, saved: Saved, loop: Loop
    ) -> tuple[Array, Array, States]:
        a, h_new = saved
        da = self.activation.backward(dstates[0], a, h_new)
        return da, da, (loop.dropped(da @ loop.recurrent.T),)
