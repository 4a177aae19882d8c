"""Whole-sequence training loops: each timestep's product and fused step kernel
(:mod:`nnx.backends.numba_recurrent`) in one compiled call, forward and backward, with no
Python between the steps.

Built on MKL's products only (:func:`nnx.backends.numba_recurrent_mkl.kernels` compiles them
with ``U`` packed once per call): SciPy's OpenBLAS, called from numba, keeps a thread
pool of its own that fights NumPy's for the cores (it made the loop several times slower on a
2-core host), whereas MKL runs sequentially here. Without MKL the layer's loop over time stays
in Python, one NumPy matmul per step.

The products' names are :mod:`nnx.backends.numba_blas_products`'s, which the MKL build
replaces by :mod:`nnx.backends.numba_mkl`'s. Arguments are the step kernels'
(one block of batch rows ``lo:hi``), plus ``u (units, width)`` in the forward and
``ut = U^T (width, units)`` in the backward; ``hd`` (the next product's ``h hmask``) and the
step's scratch ``z (hi - lo, width)`` come from the caller.
"""

from __future__ import annotations

from nnx.backends.numba_blas_products import gemm_packed, one_thread, pack, restore_threads
from nnx.backends.numba_recurrent import (
    gru_step,
    gru_step_backward,
    lstm_step,
    lstm_step_backward,
    rnn_step,
    rnn_step_backward,
)

__all__ = [
    "LOOPS",
    "gru_backward",
    "gru_forward",
    "lstm_backward",
    "lstm_forward",
    "rnn_backward",
    "rnn_forward",
]


def lstm_forward(lo, xz, z, u, h, c, mask, hmask, hd, gates, hs, cs):  # type: ignore[no-untyped-def]
    """Every step: ``z = hd[lo:hi] U``, then :func:`~nnx.backends.numba_recurrent.lstm_step`."""
    threads, packed = one_thread(), pack(u, z.shape[0])
    for t in range(xz.shape[0]):
        gemm_packed(hd[lo : lo + z.shape[0]], packed, z)
        lstm_step(t, lo, xz, z, h, c, mask, hmask, hd, gates, hs, cs)
    restore_threads(threads)


def lstm_backward(lo, hi, dys, tmp, hmask, dh, dc, gates, cs, mask, dz, ut):  # type: ignore[no-untyped-def]
    """Every step from the last: the step's backward, then ``tmp = dz_t U^T``."""
    threads, packed = one_thread(), pack(ut, hi - lo)
    for t in range(dz.shape[0] - 1, -1, -1):
        lstm_step_backward(t, lo, hi, dys, tmp, hmask, dh, dc, gates, cs, mask, dz)
        gemm_packed(dz[t, lo:hi], packed, tmp[lo:hi])
    restore_threads(threads)


def gru_forward(lo, xz, z, u, brec, h, mask, hmask, hd, gates, hs):  # type: ignore[no-untyped-def]
    """Every step: ``z = hd[lo:hi] U``, then :func:`~nnx.backends.numba_recurrent.gru_step`."""
    threads, packed = one_thread(), pack(u, z.shape[0])
    for t in range(xz.shape[0]):
        gemm_packed(hd[lo : lo + z.shape[0]], packed, z)
        gru_step(t, lo, xz, z, brec, h, mask, hmask, hd, gates, hs)
    restore_threads(threads)


def gru_backward(lo, hi, dys, tmp, hmask, dh, gates, hs, mask, dxz, drz, ut):  # type: ignore[no-untyped-def]
    """Every step from the last: the step's backward, then ``tmp = drz_t U^T``."""
    threads, packed = one_thread(), pack(ut, hi - lo)
    for t in range(dxz.shape[0] - 1, -1, -1):
        gru_step_backward(t, lo, hi, dys, tmp, hmask, dh, gates, hs, mask, dxz, drz)
        gemm_packed(drz[t, lo:hi], packed, tmp[lo:hi])
    restore_threads(threads)


def rnn_forward(lo, xz, z, u, h, mask, hmask, hd, hs):  # type: ignore[no-untyped-def]
    """Every step: ``z = hd[lo:hi] U``, then :func:`~nnx.backends.numba_recurrent.rnn_step`."""
    threads, packed = one_thread(), pack(u, z.shape[0])
    for t in range(xz.shape[0]):
        gemm_packed(hd[lo : lo + z.shape[0]], packed, z)
        rnn_step(t, lo, xz, z, h, mask, hmask, hd, hs)
    restore_threads(threads)


def rnn_backward(lo, hi, dys, tmp, hmask, dh, hs, mask, da, ut):  # type: ignore[no-untyped-def]
    """Every step from the last: the step's backward, then ``tmp = da_t U^T``."""
    threads, packed = one_thread(), pack(ut, hi - lo)
    for t in range(da.shape[0] - 1, -1, -1):
        rnn_step_backward(t, lo, hi, dys, tmp, hmask, dh, hs, mask, da)
        gemm_packed(da[t, lo:hi], packed, tmp[lo:hi])
    restore_threads(threads)


#: the loops the MKL build compiles
LOOPS = (lstm_forward, lstm_backward, gru_forward, gru_backward, rnn_forward, rnn_backward)
