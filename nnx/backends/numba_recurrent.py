"""Fused recurrent steps (numba): SimpleRNN, LSTM and GRU (``reset_after``) with the standard
activations (``tanh``, and the ``sigmoid`` gates as ``(1 + tanh(z / 2)) / 2``).

Each kernel is one timestep's gate maths in one pass over ``(batch, units)``, given the
recurrent product ``z = h U`` that the caller computes with NumPy's matmul (measured: calling
BLAS from inside numba uses SciPy's OpenBLAS, a second thread pool that fights NumPy's for the
cores and made the loop several times slower on a 2-core host; where MKL is installed, which runs
sequentially, :mod:`nnx.backends.numba_recurrent_loops` compiles the loop over time around
these kernels). The step applies the timestep
mask (``s_t = m s~_t + (1 - m) s_{t-1}``), prepares the next product's ``h hmask`` (recurrent
dropout) and keeps what the backward reads. The backward step writes the gradient of the
step's pre-activations into row ``t`` of one ``(steps, batch, width)`` array; the weight
gradients are then single matrix products (done by the caller). Each formula is the one of the
layer's portable step (:mod:`nnx.layers.lstm`, :mod:`nnx.layers.gru`,
:mod:`nnx.layers.simple_rnn`).

Arrays are time-major and C-contiguous: ``xz (steps, batch, width)`` the input projection (bias
included), ``h``, ``c (batch, units)`` the states (updated in place; in the backward, the
states' gradients). An option that is off gets an empty array: ``mask (steps, batch)``,
``hmask (batch, units)``, ``hs (steps + 1, batch, units)`` (every ``h``, ``hs[0]`` the initial
one), ``cs`` likewise, ``dys (steps, batch, units)``.

``math.tanh`` is a scalar libm call per element (20x slower than NumPy's SIMD loop), so ``tanh``
is :mod:`nnx.backends.numba_math`'s, in operations the compiler vectorizes: on float32 a
rational minimax form (Eigen's, relative error < 4e-7), on float64 ``expm1`` by range reduction
and a Taylor polynomial (relative error < 1e-15). The gates' sigmoid is its ``tanh`` form, as
the portable step's (:func:`nnx.functional.sequence.gate_sigmoid`).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import overload

from nnx.backends.numba_math import gate_sigmoid, tanh32, tanh64

__all__ = [
    "gru_step",
    "gru_step_backward",
    "lstm_step",
    "lstm_step_backward",
    "rnn_step",
    "rnn_step_backward",
    "sigmoid_like",
    "tanh_like",
]

_jit = numba.njit(error_model="numpy")


def tanh_like(x, like):  # type: ignore[no-untyped-def]
    """``tanh(x)`` to the precision of ``like``'s dtype (the compiled form picks it by type)."""
    if like.dtype == np.float32:
        return tanh32(np.float32(x))
    return tanh64(x)


def sigmoid_like(x, like):  # type: ignore[no-untyped-def]
    """``sigmoid(x) = (1 + tanh(x / 2)) / 2`` (:func:`nnx.functional.sequence.gate_sigmoid`)
    to the precision of ``like``'s dtype."""
    return 0.5 * tanh_like(0.5 * x, like) + 0.5


def _tanh32(x, like):  # type: ignore[no-untyped-def]
    return tanh32(np.float32(x))


def _tanh64(x, like):  # type: ignore[no-untyped-def]
    return tanh64(x)


def _sigmoid32(x, like):  # type: ignore[no-untyped-def]
    return gate_sigmoid(np.float32(x))


def _sigmoid64(x, like):  # type: ignore[no-untyped-def]
    return gate_sigmoid(np.float64(x))


@overload(tanh_like, jit_options={"error_model": "numpy"})
def _tanh_like(x, like):  # type: ignore[no-untyped-def]
    return _tanh32 if like.dtype == numba.types.float32 else _tanh64


@overload(sigmoid_like, jit_options={"error_model": "numpy"})
def _sigmoid_like(x, like):  # type: ignore[no-untyped-def]
    return _sigmoid32 if like.dtype == numba.types.float32 else _sigmoid64


#: the compiled steps: cached on disk, and they release the GIL
_step = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def _one(like):  # type: ignore[no-untyped-def]
    """``1`` in ``like``'s dtype: a ``1.0`` literal would turn float32 arithmetic into float64
    (numba types it as a Python float), halving the vector width and adding conversions."""
    return np.ones(1, dtype=like.dtype)[0]


@_jit
def _dropped(hb, hmask, hdb, b):  # type: ignore[no-untyped-def]
    """``hd[b] = h[b] * hmask[b]`` (the next product's left factor) when there is a mask."""
    if hmask.shape[0] > 0:
        mb = hmask[b]
        for j in range(hb.shape[0]):
            hdb[j] = hb[j] * mb[j]


@_jit
def _record(hs, t, b, hb):  # type: ignore[no-untyped-def]
    """``hs[t + 1, b] = h[b]`` where ``hs`` is given."""
    if hs.shape[0] > 0:
        out = hs[t + 1, b]
        for j in range(hb.shape[0]):
            out[j] = hb[j]


@_jit
def _incoming(t, dys, tmp, hmask, dhb, b):  # type: ignore[no-untyped-def]
    """``dh[b] += dys[t, b] + tmp[b] hmask[b]``: the output's gradient and the recurrent one
    of the later step (``tmp = dz_{t+1} U^T``)."""
    tb = tmp[b]
    if hmask.shape[0] > 0:
        mb = hmask[b]
        for j in range(dhb.shape[0]):
            dhb[j] += tb[j] * mb[j]
    else:
        for j in range(dhb.shape[0]):
            dhb[j] += tb[j]
    if dys.shape[0] > 0:
        yb = dys[t, b]
        for j in range(dhb.shape[0]):
            dhb[j] += yb[j]


# --- LSTM: gates [i, f, c, o] ---------------------------------------------------------------
# NOTE: each loop over the units touches few arrays: the compiler vectorizes a loop only when
# its runtime checks that the arrays do not overlap stay few (about 8 pairs).
@_step
def lstm_step(t, lo, xz, z, h, c, mask, hmask, hd, gates, hs, cs):  # type: ignore[no-untyped-def]
    """Step ``t`` given ``z = hd_{t-1} U``: ``i, f, o = sigmoid(xz_t + z)``, ``g = tanh``;
    ``c = f c + i g``; ``h = o tanh(c)``, in place. ``gates[t]`` keeps ``[i, f, g, o,
    tanh(c)]`` (``gates`` of one step: a scratch); ``hs[t + 1]``, ``cs[t + 1]`` get ``h``, ``c``
    and ``hd`` the next product's ``h hmask``, where given."""
    rows, w = z.shape
    k = w // 4
    cn = np.empty(k, dtype=z.dtype)
    one = _one(z)
    for b in range(lo, lo + rows):
        m = mask[t, b] if mask.shape[0] > 0 else one
        x, zb, hb, cb = xz[t, b], z[b - lo], h[b], c[b]
        s = gates[t if gates.shape[0] > 1 else 0, b]
        i, f, g, o, tc = s[:k], s[k : 2 * k], s[2 * k : 3 * k], s[3 * k : 4 * k], s[4 * k :]
        for j in range(2 * k):
            s[j] = sigmoid_like(x[j] + zb[j], z)
        # NOTE: loops from 0 over slices. In a kernel of these gate loops alone (50 steps of 64
        # rows, one core), ``for j in range(2 k, 4 k)`` took 2.8 ms against 1.7 ms over slices
        # from 0; numba cannot tell that such an index is never negative, and wraps it around.
        xg, zg, xo, zo = x[2 * k : 3 * k], zb[2 * k : 3 * k], x[3 * k :], zb[3 * k :]
        for j in range(k):
            g[j] = tanh_like(xg[j] + zg[j], z)
        for j in range(k):
            o[j] = sigmoid_like(xo[j] + zo[j], z)
        for j in range(k):
            cn[j] = f[j] * cb[j] + i[j] * g[j]
        for j in range(k):
            tc[j] = tanh_like(cn[j], z)
        # m = 1 (no mask, or a valid step) leaves the new states as they are: 1 a + 0 b = a
        for j in range(k):
            cb[j] = m * cn[j] + (one - m) * cb[j]
        for j in range(k):
            hb[j] = m * (o[j] * tc[j]) + (one - m) * hb[j]
        _dropped(hb, hmask, hd[b], b)
        _record(hs, t, b, hb)
        _record(cs, t, b, cb)


@_step
def lstm_step_backward(t, lo, hi, dys, tmp, hmask, dh, dc, gates, cs, mask, dz):  # type: ignore[no-untyped-def]
    """Step ``t`` backward: ``dh += dys_t + tmp hmask``; ``dc~ = m dc + m dh o tanh'(c)``;
    ``dz_t = [dc~ g i', dc~ c_{t-1} f', dc~ i g', m dh tanh(c) o']`` (``'``: the derivatives,
    from the outputs); ``dc = dc~ f + (1 - m) dc``; ``dh = (1 - m) dh`` (the caller then adds
    ``dz_t U^T``)."""
    k = dz.shape[2] // 4
    dct = np.empty(k, dtype=dz.dtype)
    one = _one(dz)
    for b in range(lo, hi):
        m = mask[t, b] if mask.shape[0] > 0 else one
        s, d, dhb, dcb, cp = gates[t, b], dz[t, b], dh[b], dc[b], cs[t, b]
        _incoming(t, dys, tmp, hmask, dhb, b)
        i, f, g, o, tc = s[:k], s[k : 2 * k], s[2 * k : 3 * k], s[3 * k : 4 * k], s[4 * k :]
        di, df, dg, do = d[:k], d[k : 2 * k], d[2 * k : 3 * k], d[3 * k :]
        for j in range(k):
            dct[j] = m * dcb[j] + (m * dhb[j]) * o[j] * (one - tc[j] * tc[j])
        for j in range(k):
            di[j] = dct[j] * g[j] * i[j] * (one - i[j])
        for j in range(k):
            df[j] = dct[j] * cp[j] * f[j] * (one - f[j])
        for j in range(k):
            dg[j] = dct[j] * i[j] * (one - g[j] * g[j])
        for j in range(k):
            do[j] = (m * dhb[j]) * tc[j] * o[j] * (one - o[j])
        for j in range(k):
            dcb[j] = dct[j] * f[j] + (one - m) * dcb[j]
        for j in range(k):
            dhb[j] = (one - m) * dhb[j]


# --- GRU (reset_after): gates [z, r, h] ------------------------------------------------------
@_step
def gru_step(t, lo, xz, rz, brec, h, mask, hmask, hd, gates, hs):  # type: ignore[no-untyped-def]
    """Step ``t`` given ``rz = hd_{t-1} U``: with ``rz += b_rec``, ``z, r = sigmoid(xz + rz)``
    (first two blocks); ``h~ = tanh(xz_h + r rz_h)``; ``h = z h + (1 - z) h~``, in place.
    ``gates[t]`` keeps ``[z, r, h~, rz_h]``."""
    rows, w = rz.shape
    k = w // 3
    one = _one(rz)
    for b in range(lo, lo + rows):
        m = mask[t, b] if mask.shape[0] > 0 else one
        x, r_, hb = xz[t, b], rz[b - lo], h[b]
        s = gates[t if gates.shape[0] > 1 else 0, b]
        zg, r, hh, rzh = s[:k], s[k : 2 * k], s[2 * k : 3 * k], s[3 * k :]
        xh, rh, bh = x[2 * k :], r_[2 * k :], brec[2 * k :]
        for j in range(2 * k):
            s[j] = sigmoid_like(x[j] + (r_[j] + brec[j]), rz)
        for j in range(k):
            rzh[j] = rh[j] + bh[j]
        for j in range(k):
            hh[j] = tanh_like(xh[j] + r[j] * rzh[j], rz)
        for j in range(k):
            hb[j] = m * (zg[j] * hb[j] + (one - zg[j]) * hh[j]) + (one - m) * hb[j]
        _dropped(hb, hmask, hd[b], b)
        _record(hs, t, b, hb)


@_step
def gru_step_backward(t, lo, hi, dys, tmp, hmask, dh, gates, hs, mask, dxz, drz):  # type: ignore[no-untyped-def]
    """Step ``t`` backward: ``dh += dys_t + tmp hmask``; ``da_h = m dh (1 - z) tanh'``;
    ``da_z = m dh (h_{t-1} - h~) z'``; ``da_r = da_h rz_h r'``; ``dxz_t = [da_z, da_r, da_h]``,
    ``drz_t = [da_z, da_r, da_h r]``; ``dh = m dh z + (1 - m) dh`` (the caller then adds
    ``drz_t U^T``)."""
    k = dxz.shape[2] // 3
    one = _one(dxz)
    for b in range(lo, hi):
        m = mask[t, b] if mask.shape[0] > 0 else one
        s, dx, dr, dhb, hp = gates[t, b], dxz[t, b], drz[t, b], dh[b], hs[t, b]
        _incoming(t, dys, tmp, hmask, dhb, b)
        zg, r, hh, rzh = s[:k], s[k : 2 * k], s[2 * k : 3 * k], s[3 * k :]
        da_z, da_r, da_h = dx[:k], dx[k : 2 * k], dx[2 * k :]
        for j in range(k):
            da_h[j] = (m * dhb[j]) * (one - zg[j]) * (one - hh[j] * hh[j])
        for j in range(k):
            da_z[j] = (m * dhb[j]) * (hp[j] - hh[j]) * zg[j] * (one - zg[j])
        for j in range(k):
            da_r[j] = da_h[j] * rzh[j] * r[j] * (one - r[j])
        for j in range(2 * k):
            dr[j] = dx[j]
        drh = dr[2 * k :]
        for j in range(k):
            drh[j] = da_h[j] * r[j]
        for j in range(k):
            dhb[j] = (m * dhb[j]) * zg[j] + (one - m) * dhb[j]


# --- SimpleRNN (tanh) --------------------------------------------------------------------------
@_step
def rnn_step(t, lo, xz, a, h, mask, hmask, hd, hs):  # type: ignore[no-untyped-def]
    """Step ``t`` given ``a = hd_{t-1} U``: ``h = tanh(xz_t + a)``, in place."""
    rows, k = a.shape
    one = _one(a)
    for b in range(lo, lo + rows):
        m = mask[t, b] if mask.shape[0] > 0 else one
        x, ab, hb = xz[t, b], a[b - lo], h[b]
        for j in range(k):
            hb[j] = m * tanh_like(x[j] + ab[j], a) + (one - m) * hb[j]
        _dropped(hb, hmask, hd[b], b)
        _record(hs, t, b, hb)


@_step
def rnn_step_backward(t, lo, hi, dys, tmp, hmask, dh, hs, mask, da):  # type: ignore[no-untyped-def]
    """Step ``t`` backward: ``dh += dys_t + tmp hmask``; ``da_t = m dh (1 - h_t^2)``;
    ``dh = (1 - m) dh`` (the caller then adds ``da_t U^T``)."""
    k = dh.shape[1]
    one = _one(da)
    for b in range(lo, hi):
        m = mask[t, b] if mask.shape[0] > 0 else one
        dhb, y, d = dh[b], hs[t + 1, b], da[t, b]
        _incoming(t, dys, tmp, hmask, dhb, b)
        for j in range(k):
            d[j] = (m * dhb[j]) * (one - y[j] * y[j])
        for j in range(k):
            dhb[j] = (one - m) * dhb[j]
