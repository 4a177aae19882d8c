"""``NCCLCommunicator``: the all-reduce between GPUs through NCCL, bootstrapped over MPI.

One process per GPU, launched by MPI as on the CPU. MPI only bootstraps NCCL (rank 0 makes the
unique id, MPI broadcasts it, every rank opens its NCCL communicator) and carries the small
host-side exchanges (the start-up checks, gathered metrics). The per-step sums run on the
device, on CuPy's current stream, in place on the flat gradient buffer, with no host copy
(:class:`nnx.backends.nccl.NcclGroup`, the only part that touches CuPy).

Written against CuPy's documentation of ``cupy.cuda.nccl``; **not yet run on a GPU** (the test
suite checks the calls it makes against a stand-in for ``cupy.cuda.nccl``).
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, Backend
from nnx.backends.nccl import NcclGroup, NcclUnavailableError, unique_id
from nnx.distributed.communicator import Communicator, MPICommunicator
from nnx.distributed.runtime import MissingDependencyError

__all__ = ["NCCLCommunicator"]


class NCCLCommunicator(Communicator):
    """Sums CuPy arrays across GPUs with NCCL; everything else goes through MPI.

    Args:
        backend: the model's CuPy backend (its device is this rank's GPU; see the README's
            "several GPUs" for choosing it per rank).
        comm: the MPI communicator that bootstraps NCCL (default: the world).

    Raises:
        MissingDependencyError: CuPy or NCCL is missing (the message says what to install).
    """

    name = "nccl"

    def __init__(self, backend: Backend, comm: Any = None) -> None:
        self.mpi = MPICommunicator(comm)
        self.rank, self.size = self.mpi.rank, self.mpi.size
        try:
            uid = self.mpi.broadcast_object(unique_id() if self.rank == 0 else None)
            self.group = NcclGroup(self.size, uid, self.rank, backend)
        except NcclUnavailableError as error:
            raise MissingDependencyError(str(error)) from error

    def allreduce(self, buf: Array, backend: Backend) -> Array:
        return self.group.allreduce_sum(buf)

    def allgather(self, x: Array, backend: Backend) -> list[Array]:
        return self.mpi.allgather(x, backend)

    def broadcast_object(self, obj: Any, root: int = 0) -> Any:
        return self.mpi.broadcast_object(obj, root)

    def allgather_object(self, obj: Any) -> list[Any]:
        return self.mpi.allgather_object(obj)
