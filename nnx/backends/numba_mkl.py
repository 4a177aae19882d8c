"""MKL's GEMM called from numba kernels: ``gemm``, and ``pack`` / ``gemm_packed`` for a right
factor that many products share (MKL's packed API: the recurrent kernel ``U`` of every step).

Import this module only after :func:`nnx.backends.mkl_library.load` returned True: the
functions are declared to numba by their C names (``cblas_sgemm`` ...), which LLVM resolves
in the loaded library, so a kernel that calls them is cached and reloaded like any other.
All arrays are C-contiguous, float32 or float64, one dtype per call; ``out = a b`` with
``a (m, k)``, ``b (k, n)``, ``out (m, n)``.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

__all__ = [
    "batched_matmul",
    "gemm",
    "gemm_packed",
    "gemm_strided",
    "one_thread",
    "pack",
    "restore_threads",
]

_ROW_MAJOR, _NO_TRANS, _TRANS, _PACKED, _B_MATRIX = 101, 111, 112, 151, 162  # mkl_cblas.h
#: bytes the packed buffer is aligned to (a cache line, MKL's own allocator's alignment)
_ALIGN = 64
_i32 = types.int32


def _declare(prefix: str, t: types.Float) -> dict[str, Any]:
    p = types.CPointer(t)
    return {
        "gemm": types.ExternalFunction(
            f"cblas_{prefix}gemm",
            types.void(_i32, _i32, _i32, _i32, _i32, _i32, t, p, _i32, p, _i32, t, p, _i32),
        ),
        "size": types.ExternalFunction(
            f"cblas_{prefix}gemm_pack_get_size", types.uint64(_i32, _i32, _i32, _i32)
        ),
        "pack": types.ExternalFunction(
            f"cblas_{prefix}gemm_pack",
            types.void(_i32, _i32, _i32, _i32, _i32, _i32, t, p, _i32, p),
        ),
        "compute": types.ExternalFunction(
            f"cblas_{prefix}gemm_compute",
            types.void(_i32, _i32, _i32, _i32, _i32, _i32, p, _i32, p, _i32, t, p, _i32),
        ),
    }


_C = {types.float32: _declare("s", types.float32), types.float64: _declare("d", types.float64)}
_set_local_threads: Any = types.ExternalFunction("MKL_Set_Num_Threads_Local", _i32(_i32))


def _functions(*arrays: Any) -> dict[str, Any]:
    """The C functions for the arrays' dtype; a typing error names what does not fit."""
    dtype = arrays[0].dtype
    for a in arrays:
        if not isinstance(a, types.Array) or a.layout != "C" or a.dtype != dtype:
            raise TypingError(f"MKL products take C-contiguous arrays of one dtype, got {a}")
    if dtype not in _C:
        raise TypingError(f"MKL products take float32 or float64, got {dtype}")
    return _C[dtype]


def _scalar(a: Any, value: int) -> np.generic:
    """``value`` as a NumPy scalar of the array type's dtype (a constant in the kernel)."""
    return np.dtype(str(a.dtype)).type(value)


def gemm(a, b, out):  # type: ignore[no-untyped-def]
    """``out = a b`` (numba kernels only)."""
    raise NotImplementedError("numba_mkl.gemm is called from numba kernels")


def gemm_strided(a, b, out):  # type: ignore[no-untyped-def]
    """``out = a b`` for 2-D views whose rows or columns are contiguous (a transpose, a block
    of a larger array): BLAS reads them in place, with a leading dimension and a transpose
    flag. Returns False, and leaves ``out`` alone, where an operand is neither (numba kernels
    only)."""
    raise NotImplementedError("numba_mkl.gemm_strided is called from numba kernels")


def pack(b, rows):  # type: ignore[no-untyped-def]
    """``b`` packed for :func:`gemm_packed` with left factors of ``rows`` rows: a 1-D buffer of
    ``b``'s dtype (numba kernels only)."""
    raise NotImplementedError("numba_mkl.pack is called from numba kernels")


def gemm_packed(a, packed, out):  # type: ignore[no-untyped-def]
    """``out = a b`` with ``b`` given as :func:`pack` made it (numba kernels only)."""
    raise NotImplementedError("numba_mkl.gemm_packed is called from numba kernels")


def one_thread():  # type: ignore[no-untyped-def]
    """Holds MKL at one thread on the calling thread; returns the setting to restore (numba
    kernels only): a kernel runs on one core's block of rows."""
    raise NotImplementedError("numba_mkl.one_thread is called from numba kernels")


def restore_threads(previous):  # type: ignore[no-untyped-def]
    """Gives the calling thread back the setting :func:`one_thread` returned."""
    raise NotImplementedError("numba_mkl.restore_threads is called from numba kernels")


@overload(gemm, jit_options={"nogil": True})
def _gemm(a, b, out):  # type: ignore[no-untyped-def]
    c, one, zero = _functions(a, b, out)["gemm"], _scalar(a, 1), _scalar(a, 0)

    def impl(a, b, out):  # type: ignore[no-untyped-def]
        m, k = a.shape
        n = b.shape[1]
        c(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, one, a.ctypes, k, b.ctypes, n, zero,
          out.ctypes, n)  # fmt: skip

    return impl


@overload(gemm_strided, jit_options={"nogil": True})
def _gemm_strided(a, b, out):  # type: ignore[no-untyped-def]
    for x in (a, b, out):
        if not isinstance(x, types.Array) or x.ndim != 2:
            raise TypingError(f"MKL products take 2-D arrays, got {x}")
    if not a.dtype == b.dtype == out.dtype or a.dtype not in _C:
        raise TypingError(f"MKL products take float32 or float64 arrays of one dtype, got {a}")
    c, one, zero = _C[a.dtype]["gemm"], _scalar(a, 1), _scalar(a, 0)
    item = np.dtype(str(a.dtype)).itemsize

    def impl(a, b, out):  # type: ignore[no-untyped-def]
        m, k = a.shape
        n = b.shape[1]
        ta, lda = _layout(a, item)
        tb, ldb = _layout(b, item)
        to, ldc = _layout(out, item)
        if ta == 0 or tb == 0 or to != _NO_TRANS:
            return False
        c(_ROW_MAJOR, ta, tb, m, n, k, one, a.ctypes, lda, b.ctypes, ldb, zero, out.ctypes, ldc)
        return True

    return impl


@numba.njit(inline="always")
def _layout(a, item):  # type: ignore[no-untyped-def]
    """``(transpose flag, leading dimension)`` of a 2-D view for row-major BLAS; ``(0, 0)``
    where it is not rows (or columns) of contiguous elements at least a row (column) apart:
    a strided, reversed or broadcast view. An axis of length 1 may have any stride."""
    rows, cols = a.shape
    s0, s1 = a.strides
    if s1 == item or cols == 1:
        if rows == 1:
            return _NO_TRANS, max(cols, 1)
        if s0 % item == 0 and s0 // item >= cols:
            return _NO_TRANS, s0 // item
    if s0 == item or rows == 1:
        if cols == 1:
            return _TRANS, max(rows, 1)
        if s1 % item == 0 and s1 // item >= rows:
            return _TRANS, s1 // item
    return 0, 0


@numba.njit(cache=True, nogil=True)
def batched_matmul(a, b, out):  # type: ignore[no-untyped-def]
    """``out[i, j] = a[i, j] b[i, j]`` over the two leading axes of 4-D arrays (the attention's
    ``(batch, heads, T, d)`` stacks), each product one MKL call on the views in place: NumPy's
    batched matmul calls OpenBLAS once per pair too, at a higher cost per call. Returns False
    at the first pair BLAS cannot read in place (the caller then runs NumPy's)."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if not gemm_strided(a[i, j], b[i, j], out[i, j]):
                return False
    return True


@overload(pack, jit_options={"nogil": True})
def _pack(b, rows):  # type: ignore[no-untyped-def]
    fns, one = _functions(b), _scalar(b, 1)
    size, c = fns["size"], fns["pack"]
    dtype = np.dtype(str(b.dtype))
    item = dtype.itemsize

    def impl(b, rows):  # type: ignore[no-untyped-def]
        k, n = b.shape
        count = (size(_B_MATRIX, rows, n, k) + _ALIGN) // item + 1
        raw = np.empty(count, dtype)
        start = (-raw.ctypes.data % _ALIGN) // item  # the first element on a cache line
        buffer = raw[start:]
        c(_ROW_MAJOR, _B_MATRIX, _NO_TRANS, rows, n, k, one, b.ctypes, n, buffer.ctypes)
        return buffer

    return impl


@overload(gemm_packed, jit_options={"nogil": True})
def _gemm_packed(a, packed, out):  # type: ignore[no-untyped-def]
    c, zero = _functions(a, packed, out)["compute"], _scalar(a, 0)

    def impl(a, packed, out):  # type: ignore[no-untyped-def]
        m, k = a.shape
        n = out.shape[1]
        c(_ROW_MAJOR, _NO_TRANS, _PACKED, m, n, k, a.ctypes, k, packed.ctypes, n, zero,
          out.ctypes, n)  # fmt: skip

    return impl


@overload(one_thread, jit_options={"nogil": True})
def _one_thread():  # type: ignore[no-untyped-def]
    return lambda: _set_local_threads(1)


@overload(restore_threads, jit_options={"nogil": True})
def _restore_threads(previous):  # type: ignore[no-untyped-def]
    def impl(previous):  # type: ignore[no-untyped-def]
        _set_local_threads(previous)

    return impl
