"""Whole-sequence inference kernels (numba): SimpleRNN, LSTM and GRU (``reset_after``), the input
projection and every step in one compiled call, no Python between the steps.

Each kernel runs on a block of batch rows (the caller may run two blocks on two threads: the
rows of a recurrent layer never meet), on C-contiguous arrays:

- ``x2 (rows steps, features)``: the block's inputs, batch-major (``x[lo:hi]`` reshaped: no
  transpose); ``w (features, width)``, ``bias (width,)`` the input kernel and bias;
- ``u (units, width)`` the recurrent kernel (``brec``: the GRU's recurrent bias);
- ``h``, ``c (rows, units)``: the initial states, updated in place to the final ones;
- ``mask (rows, steps)``: 0/1 floats, or an empty array; ``ys (rows, steps, units)``: every
  step's ``h`` (``return_sequences``) or an empty array;
- scratch ``xz (rows steps, width)`` and ``z (rows, width)``.

Step ``t`` reads the projection row of time ``steps - 1 - t`` when ``reverse``
(``go_backwards``). Its product ``z = h U`` is ``np.dot`` on 2-D contiguous arrays, which numba
hands to BLAS (SciPy's ``sgemm`` / ``dgemm``) directly; the gate maths that follows is one
vectorized pass per row (:mod:`nnx.backends.numba_math`: ``exp``-based ``sigmoid``, rational
``tanh``), reading the projection (plus bias) where the input step left it. Each loop reads a
few arrays and writes one or two scratch rows: the compiler vectorizes a loop only when its
run-time checks that the arrays do not overlap stay few.

The formulas are the layers' (:mod:`nnx.layers.lstm`, :mod:`nnx.layers.gru`,
:mod:`nnx.layers.simple_rnn`); a masked step keeps the previous state,
``s = m s~ + (1 - m) s_prev`` written ``s_prev + m (s~ - s_prev)`` (no float64 literal).
"""

from __future__ import annotations

import numba
import numpy as np

from nnx.backends.numba_math import sigmoid, tanh

__all__ = ["gru_infer", "lstm_infer", "rnn_infer"]

#: ``contract``: the polynomials' ``p r + c`` may fuse into one FMA (more accurate, not less)
_kernel = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


@_kernel
def lstm_infer(x2, w, bias, u, h, c, mask, reverse, ys, xz, z):  # type: ignore[no-untyped-def]
    """``[i, f, g, o] = [sigma, sigma, tanh, sigma](x_t W + b + h U)``; ``c = f c + i g``;
    ``h = o tanh(c)``, every step of the block."""
    rows, k = h.shape
    steps = x2.shape[0] // rows
    np.dot(x2, w, xz)
    hn, cn = np.empty(k, dtype=h.dtype), np.empty(k, dtype=h.dtype)
    for t in range(steps):
        ts = steps - 1 - t if reverse else t
        np.dot(h, u, z)
        for b in range(rows):
            x, zb, cb = xz[b * steps + ts], z[b], c[b]
            _add_input(zb, x, bias, 4 * k)
            for j in range(k):
                i = sigmoid(zb[j])
                f = sigmoid(zb[k + j])
                g = tanh(zb[2 * k + j])
                o = sigmoid(zb[3 * k + j])
                cj = f * cb[j] + i * g
                cn[j] = cj
                hn[j] = o * tanh(cj)
            _commit(mask, b, ts, h[b], hn, ys, t)
            _commit(mask, b, ts, cb, cn, ys[:0], t)


@_kernel
def gru_infer(x2, w, bias, u, brec, h, mask, reverse, ys, xz, z):  # type: ignore[no-untyped-def]
    """``z, r = sigma(x_t W + b + h U + b_rec)`` (first two blocks); ``h~ = tanh(xz_h + r
    (h U_h + b_rec_h))``; ``h = z h + (1 - z) h~``, every step of the block."""
    rows, k = h.shape
    steps = x2.shape[0] // rows
    np.dot(x2, w, xz)
    hn = np.empty(k, dtype=h.dtype)
    for t in range(steps):
        ts = steps - 1 - t if reverse else t
        np.dot(h, u, z)
        for b in range(rows):
            x, zb, hb = xz[b * steps + ts], z[b], h[b]
            for j in range(2 * k):
                zb[j] = (x[j] + bias[j]) + (zb[j] + brec[j])
            for j in range(k):
                zg = sigmoid(zb[j])
                r = sigmoid(zb[k + j])
                hh = tanh((x[2 * k + j] + bias[2 * k + j]) + r * (zb[2 * k + j] + brec[2 * k + j]))
                hn[j] = hh + zg * (hb[j] - hh)
            _commit(mask, b, ts, hb, hn, ys, t)


@_kernel
def rnn_infer(x2, w, bias, u, h, mask, reverse, ys, xz, z):  # type: ignore[no-untyped-def]
    """``h = tanh(x_t W + b + h U)``, every step of the block."""
    rows, k = h.shape
    steps = x2.shape[0] // rows
    np.dot(x2, w, xz)
    hn = np.empty(k, dtype=h.dtype)
    for t in range(steps):
        ts = steps - 1 - t if reverse else t
        np.dot(h, u, z)
        for b in range(rows):
            x, zb = xz[b * steps + ts], z[b]
            for j in range(k):
                hn[j] = tanh((x[j] + bias[j]) + zb[j])
            _commit(mask, b, ts, h[b], hn, ys, t)


@numba.njit(error_model="numpy")
def _add_input(zb, x, bias, width):  # type: ignore[no-untyped-def]
    """``zb += x + bias`` (``(x W + b) + h U``, the portable order)."""
    for j in range(width):
        zb[j] = (x[j] + bias[j]) + zb[j]


@numba.njit(error_model="numpy")
def _commit(mask, b, ts, state, new, ys, t):  # type: ignore[no-untyped-def]
    """``state = new`` (masked: ``state + m (new - state)``); ``ys[b, t] = state`` if given."""
    k = state.shape[0]
    if mask.shape[0] > 0:
        m = mask[b, ts]
        for j in range(k):
            state[j] = state[j] + m * (new[j] - state[j])
    else:
        for j in range(k):
            state[j] = new[j]
    if ys.shape[0] > 0:
        out = ys[b, t]
        for j in range(k):
            out[j] = state[j]
