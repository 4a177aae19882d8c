"""``LSTM``: long short-term memory (Hochreiter & Schmidhuber), Keras's gate layout."""

from __future__ import annotations

from typing import Any

import nnx.activations as activations
import nnx.initializers as initializers
from nnx.backends.base import Array, Generator, array_namespace
from nnx.layers.base import register_layer
from nnx.layers.recurrent import Loop, Recurrent, Saved, States
from nnx.validation import check_bool

__all__ = ["LSTM"]


@register_layer
class LSTM(Recurrent):
    """Long short-term memory layer.

    With ``z_t = x_t W + h_{t-1} U + b`` split into four blocks in Keras's order
    ``[i, f, c, o]`` (torch's ``[i, f, g, o]``), ``sigma`` the recurrent activation and ``phi`` the
    activation::

        i = sigma(z_i)   f = sigma(z_f)   g = phi(z_c)   o = sigma(z_o)
        c_t = f c_{t-1} + i g
        h_t = o phi(c_t)

    Backward, given ``dh_t`` and ``dc_t`` from step ``t + 1``::

        do = dh_t phi(c_t)                     dc = dc_t + dh_t o phi'(c_t)
        di = dc g    df = dc c_{t-1}         dg = dc i        dc_{t-1} = dc f
        dz = [sigma'(z_i) di, sigma'(z_f) df, phi'(z_c) dg, sigma'(z_o) do]
        dU += h_{t-1}^T dz                   dh_{t-1} = dz U^T

    Args:
        units: size of ``h`` and ``c``.
        activation: ``phi`` (``"tanh"``).
        recurrent_activation: ``sigma`` (``"sigmoid"``).
        unit_forget_bias: start the forget-gate bias at 1 (Keras's default).
        **kwargs: see :class:`~nnx.layers.recurrent.Recurrent` (``return_sequences``,
            ``return_state``, ``go_backwards``, ``dropout``, ``recurrent_dropout``, ...).

    Shape:
        Input ``(batch, steps, features)``; output ``(batch, units)`` or
        ``(batch, steps, units)``; weights ``kernel (features, 4 units)``,
        ``recurrent_kernel (units, 4 units)``, ``bias (4 units,)``.

    >>> from nnx.backends import get_backend
    >>> x = get_backend("numpy").asarray([[[1.0], [0.5], [-1.0]]])
    >>> y, h, c = LSTM(2, return_state=True)(x)
    >>> bool((y == h).all()), c.shape
    (True, (1, 2))
    """

    gates = 4
    state_count = 2

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        unit_forget_bias: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = check_bool(unit_forget_bias, "unit_forget_bias", who="LSTM")

    def bias_initial(self, shape: tuple[int, ...], rng: Generator, dtype: str) -> Array:
        bias = initializers.get(self.bias_initializer)(shape, rng, dtype)
        if self.unit_forget_bias:
            u = self.units
            bias[u : 2 * u] = 1.0
        return bias

    def fused_cell(self) -> str | None:
        standard = self.activation.name == "tanh" and self.recurrent_activation.name == "sigmoid"
        return "lstm" if standard else None

    def step(self, xz: Array, states: States, loop: Loop) -> tuple[States, Saved]:
        h, c = states
        u, act = self.units, self.activation
        z = xz + loop.dropped(h) @ loop.recurrent
        cell = None if self.fused_cell() is None else self.backend.lstm_cell(z, c)  # type: ignore[union-attr]
        if cell is not None:  # one kernel for the gate maths (CuPy); None marks its tape
            return (cell[0], cell[1]), (None, c, *cell[2:])
        # NOTE: one recurrent-activation call over all four blocks (the c block is unused):
        # per-step calls dominate a small LSTM's time, not the arithmetic.
        s = self.gate(z)
        i, f, o = s[:, :u], s[:, u : 2 * u], s[:, 3 * u :]
        g = act.forward(z[:, 2 * u : 3 * u])
        c_new = f * c + i * g
        tc = act.forward(c_new)
        return (o * tc, c_new), (z, s, g, c, c_new, tc)

    def step_backward(
        self, dstates: States, saved: Saved, loop: Loop
    ) -> tuple[Array, Array, States]:
        dh, dc = dstates
        if saved[0] is None:
            back = self.backend.lstm_cell_backward(dh, dc, saved[2:], saved[1])  # type: ignore[union-attr]
            assert back is not None
            dz, dc_prev = back
            return dz, dz, (loop.dropped(dz @ loop.recurrent.T), dc_prev)
        z, s, g, c, c_new, tc = saved
        u, act = self.units, self.activation
        xp = array_namespace(dh)
        i, f, o = s[:, :u], s[:, u : 2 * u], s[:, 3 * u :]
        dc = dc + act.backward(dh * o, c_new, tc)
        ds = xp.concat([dc * g, dc * c, dc, dh * tc], axis=-1)  # [di, df, -, do]
        dz = self.recurrent_activation.backward(ds, z, s)
        dz[:, 2 * u : 3 * u] = act.backward(dc * i, z[:, 2 * u : 3 * u], g)
        return dz, dz, (loop.dropped(dz @ loop.recurrent.T), dc * f)

    def get_config(self) -> dict[str, Any]:
        rec = self.recurrent_activation.get_config()
        return {
            **super().get_config(),
            "recurrent_activation": rec["name"] if len(rec) == 1 else rec,
            "unit_forget_bias": self.unit_forget_bias,
        }
