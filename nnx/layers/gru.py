"""``GRU``: the gated recurrent unit (Cho et al.), Keras's layout, ``reset_after`` or not."""

from __future__ import annotations

from typing import Any

import nnx.activations as activations
from nnx.backends.base import Array, array_namespace
from nnx.layers.base import register_layer
from nnx.layers.recurrent import Loop, Recurrent, Saved, States
from nnx.validation import check_bool

__all__ = ["GRU"]


@register_layer
class GRU(Recurrent):
    """Gated recurrent unit.

    Blocks in Keras's order ``[z, r, h]`` (torch's ``[r, z, n]``), ``sigma`` the recurrent
    activation, ``phi`` the activation, ``xz = x_t W + b_in``, ``rz = h_{t-1} U + b_rec``.
    With ``reset_after=True`` (Keras's default, torch's form)::

        z = sigma(xz_z + rz_z)    r = sigma(xz_r + rz_r)    h~ = phi(xz_h + r rz_h)
        h_t = z h_{t-1} + (1 - z) h~

    With ``reset_after=False`` the reset gate acts before the product:
    ``h~ = phi(xz_h + (r h_{t-1}) U_h)`` and there is one bias.

    Backward (``reset_after``), given ``dh_t``::

        dh~ = dh_t (1 - z)        da_h = phi'(a_h) dh~        dz = dh_t (h_{t-1} - h~)
        da_z = sigma'(a_z) dz         da_r = sigma'(a_r) da_h rz_h
        drz = [da_z, da_r, da_h r]     dU += h_{t-1}^T drz     db_rec += sum drz
        dh_{t-1} = dh_t z + drz U^T    dxz = [da_z, da_r, da_h]

    Args:
        units: size of ``h``.
        activation: ``phi`` (``"tanh"``).
        recurrent_activation: ``sigma`` (``"sigmoid"``).
        reset_after: apply the reset gate after the recurrent product (Keras default True:
            the bias is ``(2, 3 units)``, input row then recurrent row).
        **kwargs: see :class:`~nnx.layers.recurrent.Recurrent`.

    Shape:
        Input ``(batch, steps, features)``; output ``(batch, units)`` or
        ``(batch, steps, units)``; ``kernel (features, 3 units)``,
        ``recurrent_kernel (units, 3 units)``.

    >>> from nnx.backends import get_backend
    >>> x = get_backend("numpy").asarray([[[1.0], [0.5], [-1.0]]])
    >>> layer = GRU(2)
    >>> layer(x).shape, layer.bias.shape
    ((1, 2), (2, 6))
    """

    gates = 3

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        reset_after: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = check_bool(reset_after, "reset_after", who="GRU")

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def split_bias(self, bias: Array) -> tuple[Array, Array | None]:
        return (bias[0, :], bias[1, :]) if self.reset_after else (bias, None)

    def join_bias_grad(self, d_input: Array, d_recurrent: Array | None) -> Array:
        if not self.reset_after:
            return d_input
        assert d_recurrent is not None
        return array_namespace(d_input).stack([d_input, d_recurrent], axis=0)

    def fused_cell(self) -> str | None:
        standard = self.activation.name == "tanh" and self.recurrent_activation.name == "sigmoid"
        return "gru" if standard and self.reset_after else None

    def step(self, xz: Array, states: States, loop: Loop) -> tuple[States, Saved]:
        if self.reset_after:
            return self._step_reset_after(xz, states, loop)
        return self._step_reset_before(xz, states, loop)

    def step_backward(
        self, dstates: States, saved: Saved, loop: Loop
    ) -> tuple[Array, Array, States]:
        if self.reset_after:
            return self._backward_reset_after(dstates, saved, loop)
        return self._backward_reset_before(dstates, saved, loop)

    def recurrent_kernel_grad(self, hd: Array, drec: Array, saved: list[Saved] | None) -> Array:
        if self.reset_after:
            return super().recurrent_kernel_grad(hd, drec, saved)
        # NOTE: the h block's left factor is r h_{t-1}, not h_{t-1}: dU_h = (R H)^T dA_h.
        assert saved is not None
        u, xp = self.units, array_namespace(hd)
        rh = xp.reshape(xp.stack([kept[-1] for kept in saved], axis=0), (-1, u))
        return xp.concat([hd.T @ drec[:, : 2 * u], rh.T @ drec[:, 2 * u :]], axis=-1)

    def _step_reset_after(self, xz: Array, states: States, loop: Loop) -> tuple[States, Saved]:
        (h,) = states
        u, act = self.units, self.activation
        rz = loop.dropped(h) @ loop.recurrent
        if loop.recurrent_bias is not None:
            rz = rz + loop.recurrent_bias
        cell = None if self.fused_cell() is None else self.backend.gru_cell(xz, rz, h)  # type: ignore[union-attr]
        if cell is not None:  # one kernel for the gate maths (CuPy); None marks its tape
            return (cell[0],), (None, h, *cell[1:], rz[:, 2 * u :])
        a_zr = xz[:, : 2 * u] + rz[:, : 2 * u]
        s = self.gate(a_zr)  # the update and reset gates in one call
        z, r = s[:, :u], s[:, u:]
        rz_h = rz[:, 2 * u :]
        a_h = xz[:, 2 * u :] + r * rz_h
        hh = act.forward(a_h)
        return (z * h + (1 - z) * hh,), (h, a_zr, s, rz_h, a_h, hh)

    def _backward_reset_after(
        self, dstates: States, saved: Saved, loop: Loop
    ) -> tuple[Array, Array, States]:
        (dh,) = dstates
        if saved[0] is None:
            _, h, z, r, hh, rz_h = saved
            back = self.backend.gru_cell_backward(dh, h, (z, r, hh), rz_h)  # type: ignore[union-attr]
            assert back is not None
            dxz, drz, dh_z = back
            return dxz, drz, (dh_z + loop.dropped(drz @ loop.recurrent.T),)
        h, a_zr, s, rz_h, a_h, hh = saved
        u, xp = self.units, array_namespace(dh)
        z, r = s[:, :u], s[:, u:]
        da_h = self.activation.backward(dh * (1 - z), a_h, hh)
        ds = xp.concat([dh * (h - hh), da_h * rz_h], axis=-1)
        da_zr = self.recurrent_activation.backward(ds, a_zr, s)
        drz = xp.concat([da_zr, da_h * r], axis=-1)
        dh_prev = dh * z + loop.dropped(drz @ loop.recurrent.T)
        return xp.concat([da_zr, da_h], axis=-1), drz, (dh_prev,)

    def _step_reset_before(self, xz: Array, states: States, loop: Loop) -> tuple[States, Saved]:
        (h,) = states
        u, act = self.units, self.activation
        hd = loop.dropped(h)
        rz = hd @ loop.recurrent[:, : 2 * u]
        a_z, a_r = xz[:, :u] + rz[:, :u], xz[:, u : 2 * u] + rz[:, u:]
        z, r = self.gate(a_z), self.gate(a_r)
        rh = r * hd
        a_h = xz[:, 2 * u :] + rh @ loop.recurrent[:, 2 * u :]
        hh = act.forward(a_h)
        return (z * h + (1 - z) * hh,), (h, hd, a_z, z, a_r, r, a_h, hh, rh)

    def _backward_reset_before(
        self, dstates: States, saved: Saved, loop: Loop
    ) -> tuple[Array, Array, States]:
        (dh,) = dstates
        h, hd, a_z, z, a_r, r, a_h, hh, _rh = saved
        u, rec, xp = self.units, self.recurrent_activation, array_namespace(dh)
        u_zr, u_h = loop.recurrent[:, : 2 * u], loop.recurrent[:, 2 * u :]
        da_h = self.activation.backward(dh * (1 - z), a_h, hh)
        drh = da_h @ u_h.T
        dzr = xp.concat(
            [rec.backward(dh * (h - hh), a_z, z), rec.backward(drh * hd, a_r, r)], axis=-1
        )
        dhd = drh * r + dzr @ u_zr.T
        dxz = xp.concat([dzr, da_h], axis=-1)
        return dxz, dxz, (dh * z + loop.dropped(dhd),)

    def get_config(self) -> dict[str, Any]:
        rec = self.recurrent_activation.get_config()
        return {
            **super().get_config(),
            "recurrent_activation": rec["name"] if len(rec) == 1 else rec,
            "reset_after": self.reset_after,
        }
