"""``GRU``: the gated recurrent unit (Cho et al.), Keras's layout, ``reset_after`` or not."""

from __future__ import annotations

from typing import Any

import nnx.activations as activations
from nnx.backends.base import Array, array_namespace
from nnx.layers.base import register_layer
from nnx.layers.recurrent import Loop, Recurrent, States, StepBackprop
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

    def step(self, xz: Array, states: States, loop: Loop) -> tuple[States, StepBackprop]:
        if self.reset_after:
            return self._step_reset_after(xz, states, loop)
        return self._step_reset_before(xz, states, loop)

    def _step_reset_after(
        self, xz: Array, states: States, loop: Loop
    ) -> tuple[States, StepBackprop]:
        (h,) = states
        u, act, rec = self.units, self.activation, self.recurrent_activation
        hd = loop.dropped(h)
        rz = hd @ loop.recurrent
        if loop.recurrent_bias is not None:
            rz = rz + loop.recurrent_bias
        a_zr = xz[:, : 2 * u] + rz[:, : 2 * u]
        s = self.gate(a_zr)  # the update and reset gates in one call
        z, r = s[:, :u], s[:, u:]
        rz_h = rz[:, 2 * u :]
        a_h = xz[:, 2 * u :] + r * rz_h
        hh = act.forward(a_h)
        h_new = z * h + (1 - z) * hh

        def backprop(dstates: States) -> tuple[Array, States]:
            (dh,) = dstates
            xp = array_namespace(dh)
            da_h = act.backward(dh * (1 - z), a_h, hh)
            da_zr = rec.backward(xp.concat([dh * (h - hh), da_h * rz_h], axis=-1), a_zr, s)
            drz = xp.concat([da_zr, da_h * r], axis=-1)
            loop.add("recurrent_kernel", hd.T @ drz)
            if loop.recurrent_bias is not None:
                loop.add("recurrent_bias", xp.sum(drz, axis=0))
            dh_prev = dh * z + loop.dropped(drz @ loop.recurrent.T)
            return xp.concat([da_zr, da_h], axis=-1), (dh_prev,)

        return (h_new,), backprop

    def _step_reset_before(
        self, xz: Array, states: States, loop: Loop
    ) -> tuple[States, StepBackprop]:
        (h,) = states
        u, act, rec = self.units, self.activation, self.recurrent_activation
        hd = loop.dropped(h)
        u_zr, u_h = loop.recurrent[:, : 2 * u], loop.recurrent[:, 2 * u :]
        rz = hd @ u_zr
        a_z, a_r = xz[:, :u] + rz[:, :u], xz[:, u : 2 * u] + rz[:, u:]
        z, r = self.gate(a_z), self.gate(a_r)
        rh = r * hd
        a_h = xz[:, 2 * u :] + rh @ u_h
        hh = act.forward(a_h)
        h_new = z * h + (1 - z) * hh

        def backprop(dstates: States) -> tuple[Array, States]:
            (dh,) = dstates
            xp = array_namespace(dh)
            da_h = act.backward(dh * (1 - z), a_h, hh)
            drh = da_h @ u_h.T
            da_z = rec.backward(dh * (h - hh), a_z, z)
            da_r = rec.backward(drh * hd, a_r, r)
            dzr = xp.concat([da_z, da_r], axis=-1)
            loop.add("recurrent_kernel", xp.concat([hd.T @ dzr, rh.T @ da_h], axis=-1))
            dhd = drh * r + dzr @ u_zr.T
            return xp.concat([da_z, da_r, da_h], axis=-1), (dh * z + loop.dropped(dhd),)

        return (h_new,), backprop

    def get_config(self) -> dict[str, Any]:
        rec = self.recurrent_activation.get_config()
        return {
            **super().get_config(),
            "recurrent_activation": rec["name"] if len(rec) == 1 else rec,
            "reset_after": self.reset_after,
        }
