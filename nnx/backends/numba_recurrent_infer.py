"""Whole-sequence inference kernels (numba): SimpleRNN, LSTM and GRU (``reset_after``), the input
projection and every step in one compiled call, no Python between the steps.

Each kernel runs on a block of batch rows (the caller may run two blocks on two threads: the
rows of a recurrent layer never meet), on C-contiguous arrays:

- ``x2 (steps rows, features)``: the block's inputs, time-major (``x[lo:hi]`` with its first
  two axes swapped, reshaped), so that a step's projection rows lie side by side;
  ``w (features, width)``, ``bias (width,)`` the input kernel and bias;
- ``u (units, width)`` the recurrent kernel (``brec``: the GRU's recurrent bias);
- ``h``, ``c (rows, units)``: the initial states, updated in place to the final ones;
- ``mask (rows, steps)``: 0/1 floats, or an empty array; ``ys (rows, steps, units)``: every
  step's ``h`` (``return_sequences``) or an empty array;
- scratch ``xz (chunk rows, width)`` and ``z (rows, width)``: the input projection is made
  ``chunk`` steps at a time (:func:`projection_chunk`), into a buffer that stays in the core's
  cache. Measured on the LSTM bench's shapes (50 steps, one core, thread CPU time, fastest of
  40, fresh scratch each call as the layer allocates it): every step projected at once into a
  ``(steps rows, width)`` array took 5.0-5.1 ms for a 32-row block and 9.0-9.1 ms for 64 rows,
  chunks 4.6-4.8 and 7.9. Batch-major rows were slower still: ``steps width`` elements apart
  (100 KiB, a multiple of the 4 KiB page), every row of a step competed for the same few L1
  sets (64 rows: 11.1 against 7.8 ms time-major).

Step ``t`` reads the projection row of time ``steps - 1 - t`` when ``reverse``
(``go_backwards``). Its product ``z = h U`` is :mod:`nnx.backends.numba_blas_products`'s
``gemm_packed``: numba's ``np.dot``, which hands it to SciPy's BLAS (``sgemm`` / ``dgemm``)
directly, or MKL's against ``U`` packed once per call in the build of
:mod:`nnx.backends.numba_recurrent_mkl`; the gate maths that follows is one
vectorized pass per row (:mod:`nnx.backends.numba_math`: the gates' ``tanh`` form of the
sigmoid, rational ``tanh``), reading the projection (bias added once, after the projection)
and updating the states in place. Each loop reads three or four arrays and writes one or two:
the compiler vectorizes a loop only when its run-time checks that the arrays do not overlap
stay few (eight pairs at most).

The formulas are the layers' (:mod:`nnx.layers.lstm`, :mod:`nnx.layers.gru`,
:mod:`nnx.layers.simple_rnn`); a masked step keeps the previous state,
``s = m s~ + (1 - m) s_prev`` written ``s_prev + m (s~ - s_prev)`` (no float64 literal).
"""

from __future__ import annotations

from typing import Any

import numba

from nnx.backends.numba_blas_products import gemm, gemm_packed, one_thread, pack, restore_threads
from nnx.backends.numba_math import gate_sigmoid, tanh

__all__ = ["OPTIONS", "gru_infer", "lstm_infer", "projection_chunk", "rnn_infer"]

#: the fewest projection rows (steps times batch rows) one chunk computes: a BLAS product of
#: fewer rows runs below its speed
CHUNK_ROWS = 256


def projection_chunk(rows: int, steps: int) -> int:
    """How many steps :func:`lstm_infer` and the others project at a time for a block of ``rows``
    (the scratch ``xz`` has ``chunk rows`` rows)."""
    return max(1, min(steps, -(-CHUNK_ROWS // rows)))


#: ``contract``: the polynomials' ``p r + c`` may fuse into one FMA (more accurate, not less)
OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy", "fastmath": {"contract"}}
_kernel = numba.njit(cache=True, **OPTIONS)
_step = numba.njit(**OPTIONS)


@_kernel
def lstm_infer(x2, w, bias, u, h, c, mask, reverse, ys, xz, z):  # type: ignore[no-untyped-def]
    """``[i, f, g, o] = [sigma, sigma, tanh, sigma](x_t W + b + h U)``; ``c = f c + i g``;
    ``h = o tanh(c)``, every step of the block."""
    rows = h.shape[0]
    steps = x2.shape[0] // rows
    threads, packed = one_thread(), pack(u, rows)
    lo = 0
    for t in range(steps):
        ts = steps - 1 - t if reverse else t
        lo = _project_chunk(x2, w, bias, xz, rows, t, reverse, lo)
        gemm_packed(h, packed, z)
        _lstm_gates(xz[(ts - lo) * rows :], z, h, c, mask, ts, ys, t)
    restore_threads(threads)


@_kernel
def gru_infer(x2, w, bias, u, brec, h, mask, reverse, ys, xz, z):  # type: ignore[no-untyped-def]
    """``z, r = sigma(x_t W + b + h U + b_rec)`` (first two blocks); ``h~ = tanh(xz_h + r
    (h U_h + b_rec_h))``; ``h = z h + (1 - z) h~``, every step of the block."""
    rows = h.shape[0]
    steps = x2.shape[0] // rows
    threads, packed = one_thread(), pack(u, rows)
    lo = 0
    for t in range(steps):
        ts = steps - 1 - t if reverse else t
        lo = _project_chunk(x2, w, bias, xz, rows, t, reverse, lo)
        gemm_packed(h, packed, z)
        _gru_gates(xz[(ts - lo) * rows :], z, brec, h, mask, ts, ys, t)
    restore_threads(threads)


@_kernel
def rnn_infer(x2, w, bias, u, h, mask, reverse, ys, xz, z):  # type: ignore[no-untyped-def]
    """``h = tanh(x_t W + b + h U)``, every step of the block."""
    rows = h.shape[0]
    steps = x2.shape[0] // rows
    threads, packed = one_thread(), pack(u, rows)
    lo = 0
    for t in range(steps):
        ts = steps - 1 - t if reverse else t
        lo = _project_chunk(x2, w, bias, xz, rows, t, reverse, lo)
        gemm_packed(h, packed, z)
        _rnn_gates(xz[(ts - lo) * rows :], z, h, mask, ts, ys, t)
    restore_threads(threads)


@_step
def _lstm_gates(x, z, h, c, mask, ts, ys, t):  # type: ignore[no-untyped-def]
    """One step's gates and states from its projection rows ``x`` and ``z = h U``."""
    k = h.shape[1]
    for b in range(h.shape[0]):
        xb, zb, hb, cb = x[b], z[b], h[b], c[b]
        for j in range(k):
            i = gate_sigmoid(xb[j] + zb[j])
            f = gate_sigmoid(xb[k + j] + zb[k + j])
            g = tanh(xb[2 * k + j] + zb[2 * k + j])
            o = gate_sigmoid(xb[3 * k + j] + zb[3 * k + j])
            cj = f * cb[j] + i * g
            cb[j] = _masked(cb[j], cj, mask, b, ts)
            hb[j] = _masked(hb[j], o * tanh(cj), mask, b, ts)
        _record(hb, ys, b, t)


@_step
def _gru_gates(x, z, brec, h, mask, ts, ys, t):  # type: ignore[no-untyped-def]
    k = h.shape[1]
    for b in range(h.shape[0]):
        xb, zb, hb = x[b], z[b], h[b]
        for j in range(k):
            zg = gate_sigmoid(xb[j] + (zb[j] + brec[j]))
            r = gate_sigmoid(xb[k + j] + (zb[k + j] + brec[k + j]))
            hh = tanh(xb[2 * k + j] + r * (zb[2 * k + j] + brec[2 * k + j]))
            hb[j] = _masked(hb[j], hh + zg * (hb[j] - hh), mask, b, ts)
        _record(hb, ys, b, t)


@_step
def _rnn_gates(x, z, h, mask, ts, ys, t):  # type: ignore[no-untyped-def]
    k = h.shape[1]
    for b in range(h.shape[0]):
        xb, zb, hb = x[b], z[b], h[b]
        for j in range(k):
            hb[j] = _masked(hb[j], tanh(xb[j] + zb[j]), mask, b, ts)
        _record(hb, ys, b, t)


@_step
def _project_chunk(x2, w, bias, xz, rows, t, reverse, lo):  # type: ignore[no-untyped-def]
    """Where step ``t`` starts a chunk of ``len(xz) // rows`` steps, ``xz = x W + b`` for that
    chunk (the portable order: ``(x W + b) + h U``). Returns the chunk's first time index
    ``lo`` (the one given, between chunks): time ``ts``'s rows are
    ``xz[(ts - lo) rows:(ts - lo + 1) rows]``."""
    chunk = xz.shape[0] // rows
    if t % chunk != 0:
        return lo
    steps = x2.shape[0] // rows
    count = min(chunk, steps - t)
    lo = steps - t - count if reverse else t
    out = xz[: count * rows]
    gemm(x2[lo * rows : (lo + count) * rows], w, out)
    for r in range(out.shape[0]):
        row = out[r]
        for j in range(row.shape[0]):
            row[j] += bias[j]
    return lo


@numba.njit(error_model="numpy", inline="always")
def _masked(old, new, mask, b, ts):  # type: ignore[no-untyped-def]
    """The new state, or ``old + m (new - old)`` with the step's mask ``m`` where there is one."""
    if mask.shape[0] == 0:
        return new
    return old + mask[b, ts] * (new - old)


@numba.njit(error_model="numpy")
def _record(state, ys, b, t):  # type: ignore[no-untyped-def]
    """``ys[b, t] = state`` where the sequence is recorded (``ys`` not empty)."""
    if ys.shape[0] > 0:
        out = ys[b, t]
        for j in range(state.shape[0]):
            out[j] = state[j]
