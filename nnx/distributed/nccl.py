"""``NCCLCommunicator``: the all-reduce between GPUs through NCCL (``cupy.cuda.nccl``).

One process per GPU, launched by MPI as on the CPU; MPI only bootstraps NCCL (rank 0 makes the
unique id with ``nccl.get_unique_id()`` and broadcasts it) and carries the small host-side
exchanges (the start-up checks, gathered metrics). The per-step sums run on the device, on
CuPy's current stream: ``NcclCommunicator(size, uid, rank).allReduce(send, recv, count,
dtype, NCCL_SUM, stream)`` in place on the flat gradient buffer, with no host copy.

Written against CuPy's documentation of ``cupy.cuda.nccl``; **not yet run on a GPU** (the test
suite checks the calls it makes against a stand-in for ``cupy.cuda.nccl``).
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, Backend
from nnx.distributed.communicator import Communicator, MPICommunicator
from nnx.distributed.runtime import MissingDependencyError

__all__ = ["NCCLCommunicator", "nccl_module"]

_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64"}


def nccl_module() -> Any:
    """``cupy.cuda.nccl``, checked to be usable.

    Raises:
        MissingDependencyError: CuPy is missing or was loaded without NCCL.
    """
    try:
        from cupy.cuda import nccl
    except ImportError as error:
        raise MissingDependencyError(
            'The NCCL path needs CuPy: pip install "nnx-array[cupy,mpi]" (and NCCL, e.g. '
            f"pip install nvidia-nccl-cu12). Import failed with: {error}"
        ) from error
    if not getattr(nccl, "available", True):
        raise MissingDependencyError(
            "CuPy could not load NCCL: pip install nvidia-nccl-cu12 (or the NCCL of your CUDA), "
            'or use DataParallel(communicator="mpi").'
        )
    return nccl


def _pointer(x: Any) -> int:
    """The device address of a CuPy array's first element."""
    return int(x.data.ptr)


def _stream() -> int:
    """CuPy's current stream (NCCL queues the collective on it)."""
    import cupy

    return int(cupy.cuda.get_current_stream().ptr)


class NCCLCommunicator(Communicator):
    """Sums CuPy arrays across GPUs with NCCL; everything else goes through MPI.

    Args:
        backend: the model's CuPy backend (its device is this rank's GPU: with several GPUs per
            node, build it as ``get_backend(CupyBackend(device_id=local_rank))``).
        comm: the MPI communicator that bootstraps NCCL (default: the world).
    """

    name = "nccl"

    def __init__(self, backend: Backend, comm: Any = None) -> None:
        self.nccl = nccl_module()
        self.mpi = MPICommunicator(comm)
        self.rank, self.size = self.mpi.rank, self.mpi.size
        uid = self.nccl.get_unique_id() if self.rank == 0 else None
        uid = self.mpi.broadcast_object(uid)
        with backend.cupy_device:  # type: ignore[attr-defined]
            self.comm = self.nccl.NcclCommunicator(self.size, uid, self.rank)

    def allreduce(self, buf: Array, backend: Backend) -> Array:
        name = backend.dtype_name(buf)
        if name not in _DTYPES:
            raise TypeError(f"NCCLCommunicator.allreduce: no NCCL type for dtype {name!r}.")
        nccl = self.nccl
        data_type = getattr(nccl, _DTYPES[name])
        if not buf.flags.c_contiguous:
            buf = backend.xp.ascontiguousarray(buf)
        ptr = _pointer(buf)
        self.comm.allReduce(ptr, ptr, int(buf.size), data_type, nccl.NCCL_SUM, _stream())
        return buf

    def allgather(self, x: Array, backend: Backend) -> list[Array]:
        return self.mpi.allgather(x, backend)

    def broadcast_object(self, obj: Any, root: int = 0) -> Any:
        return self.mpi.broadcast_object(obj, root)

    def allgather_object(self, obj: Any) -> list[Any]:
        return self.mpi.allgather_object(obj)
