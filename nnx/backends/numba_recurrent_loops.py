"""Whole-sequence training loops: each timestep's product and fused step kernel
(:mod:`nnx.backends.numba_recurrent`) in one compiled call, forward and backward, with no
Python between the steps.

Built on MKL's products only (:func:`nnx.backends.numba_recurrent_mkl.kernels` compiles them
with ``U`` packed once per call): SciPy's OpenBLAS, called from numba, keeps a thread
pool of its own that fights NumPy's for the cores (it made the loop several times slower on a
2-core host), whereas MKL runs sequentially here. Without MKL the layer's loop over time stays
in Python, one NumPy matmul per step: the same two loops as these.

One source per direction serves the three cells: the build binds ``step`` to the cell's step
kernel (``lstm_step``, ``gru_step_backward``, ...) and the products' names of
:mod:`nnx.backends.numba_blas_products` to :mod:`nnx.backends.numba_mkl`'s. ``args`` are the
step kernel's own arguments after its leading ones (see the kernels).
"""

from __future__ import annotations

from typing import Any

from nnx.backends.numba_blas_products import gemm_packed, one_thread, pack, restore_threads

__all__ = ["backward", "forward"]

#: the cell's step kernel, bound by each build (:func:`nnx.backends.numba_jit.twin`)
step: Any = None


def forward(lo, xz, z, u, hdb, *args):  # type: ignore[no-untyped-def]
    """Every step of rows ``lo:lo + len(z)``: ``z = hdb U`` (``hdb`` those rows of ``h
    hmask``, which the step updates for the next product), then ``step(t, lo, xz, z,
    *args)``."""
    threads, packed = one_thread(), pack(u, z.shape[0])
    for t in range(xz.shape[0]):
        gemm_packed(hdb, packed, z)
        step(t, lo, xz, z, *args)
    restore_threads(threads)


def backward(lo, hi, ut, dz, tmp, *args):  # type: ignore[no-untyped-def]
    """Every step from the last, rows ``lo:hi``: ``step(t, lo, hi, *args)``, which writes the
    step's pre-activation gradient ``dz[t]`` (and reads ``tmp``), then ``tmp = dz_t U^T``."""
    threads, packed = one_thread(), pack(ut, hi - lo)
    for t in range(dz.shape[0] - 1, -1, -1):
        step(t, lo, hi, *args)
        gemm_packed(dz[t, lo:hi], packed, tmp[lo:hi])
    restore_threads(threads)
