"""NCCL through CuPy (``cupy.cuda.nccl``): the device half of nnx.distributed's NCCL path.

Kept here because only ``nnx/backends/`` imports CuPy; :mod:`nnx.distributed.nccl` bootstraps it
over MPI. CuPy is imported when a function is called, never at import time. Written against
CuPy's documentation (``NcclCommunicator(ndev, commId, rank)``, ``allReduce(sendbuf, recvbuf,
count, datatype, op, stream)``); **not yet run on a GPU**.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NcclGroup", "NcclUnavailableError", "nccl_module", "unique_id"]

_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64"}


class NcclUnavailableError(ImportError):
    """CuPy or its NCCL library is missing (the message says what to install)."""


def nccl_module() -> Any:
    """``cupy.cuda.nccl``, checked to be usable.

    Raises:
        NcclUnavailableError: CuPy is missing or was loaded without NCCL.
    """
    try:
        from cupy.cuda import nccl
    except ImportError as error:
        raise NcclUnavailableError(
            'The NCCL path needs CuPy: pip install "nnx-array[cupy,mpi]" (and NCCL, e.g. '
            f"pip install nvidia-nccl-cu12). Import failed with: {error}"
        ) from error
    if not getattr(nccl, "available", True):
        raise NcclUnavailableError(
            "CuPy could not load NCCL: pip install nvidia-nccl-cu12 (or the NCCL of your CUDA), "
            'or use DataParallel(communicator="mpi").'
        )
    return nccl


def unique_id() -> Any:
    """A fresh NCCL unique id (``nccl.get_unique_id()``; bytes or a tuple, picklable)."""
    return nccl_module().get_unique_id()


class NcclGroup:
    """One rank's NCCL communicator on one GPU.

    Args:
        size: the number of ranks (GPUs).
        uid: rank 0's :func:`unique_id`, the same on every rank.
        rank: this rank.
        backend: the CuPy backend whose device this rank uses.
    """

    def __init__(self, size: int, uid: Any, rank: int, backend: Any) -> None:
        self.nccl = nccl_module()
        self.backend = backend
        with backend.cupy_device:
            self.comm = self.nccl.NcclCommunicator(size, uid, rank)

    def allreduce_sum(self, buf: Any) -> Any:
        """Sum ``buf`` (a contiguous CuPy array) over the ranks, in place, on the current stream.

        Raises:
            TypeError: a dtype NCCL is not asked to sum here (not float16/32/64).
        """
        name = self.backend.dtype_name(buf)
        if name not in _DTYPES:
            raise TypeError(f"NcclGroup.allreduce_sum: no NCCL type for dtype {name!r}.")
        nccl = self.nccl
        if not buf.flags.c_contiguous:
            buf = self.backend.xp.ascontiguousarray(buf)
        ptr = int(buf.data.ptr)
        count, data_type = int(buf.size), getattr(nccl, _DTYPES[name])
        self.comm.allReduce(ptr, ptr, count, data_type, nccl.NCCL_SUM, _stream())
        return buf


def _stream() -> int:
    """CuPy's current stream (NCCL queues the collective on it)."""
    import cupy

    return int(cupy.cuda.get_current_stream().ptr)
