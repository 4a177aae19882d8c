"""The products of the compiled recurrent loops, by SciPy's BLAS (numba's ``np.dot``): the same
names and arguments as :mod:`nnx.backends.numba_mkl`'s, so that one kernel source builds on
either (:func:`nnx.backends.numba_jit.twin` swaps the module's names for MKL's).

All arrays C-contiguous, 2-D, one float dtype; ``out = a b``.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import overload

__all__ = ["API", "gemm", "gemm_packed", "gemm_strided", "one_thread", "pack", "restore_threads"]

#: the names a kernel calls, and a twin build replaces
API = ("gemm", "gemm_packed", "gemm_strided", "one_thread", "pack", "restore_threads")

_inline = numba.njit(nogil=True, error_model="numpy")


@_inline
def gemm(a, b, out):  # type: ignore[no-untyped-def]
    """``out = a b``: numba's ``np.dot`` on 2-D contiguous arrays calls SciPy's BLAS."""
    np.dot(a, b, out)


@_inline
def pack(b, rows):  # type: ignore[no-untyped-def]
    """The right factor of many products with left factors of ``rows`` rows, as
    :func:`gemm_packed` takes it (here as it is; MKL packs it)."""
    return b


@_inline
def gemm_packed(a, packed, out):  # type: ignore[no-untyped-def]
    """``out = a b`` with ``b`` as :func:`pack` gave it."""
    np.dot(a, packed, out)


@_inline
def one_thread():  # type: ignore[no-untyped-def]
    """Nothing to do: the caller holds SciPy's BLAS at one thread (threadpoolctl)."""
    return 0


@_inline
def restore_threads(previous):  # type: ignore[no-untyped-def]
    """Nothing to restore (see :func:`one_thread`)."""
    return None


def gemm_strided(a, b, out):  # type: ignore[no-untyped-def]
    """``out = a b`` for 2-D views of any layout: numba's ``np.dot`` takes contiguous operands,
    so a strided one is copied first, and a strided ``out`` receives a copy of the product
    (MKL's build reads them in place). Returns True (numba kernels only)."""
    raise NotImplementedError("numba_blas_products.gemm_strided is called from numba kernels")


@overload(gemm_strided, jit_options={"nogil": True})
def _gemm_strided(a, b, out):  # type: ignore[no-untyped-def]
    if out.layout == "C":

        def into(a, b, out):  # type: ignore[no-untyped-def]
            np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b), out)
            return True

        return into

    def copied(a, b, out):  # type: ignore[no-untyped-def]
        out[:, :] = np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b))
        return True

    return copied
