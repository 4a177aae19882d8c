"""Communicators: the collective operations a data-parallel step needs.

- :class:`MPICommunicator`: ``mpi4py`` over ``MPI.COMM_WORLD`` (CPU arrays in place; device
  arrays staged through the host);
- :class:`ThreadCommunicator`: replicas as threads of one process, for tests and teaching (the
  same numbers as MPI for two replicas, no launcher needed);
- :class:`nnx.distributed.nccl.NCCLCommunicator`: GPUs through NCCL.

Every array is one of the model's backend; ``allreduce`` sums, in place where it can, and returns
the sum.
"""

from __future__ import annotations

import threading
from typing import Any

from nnx.backends.base import Array, Backend
from nnx.distributed.runtime import mpi

__all__ = ["Communicator", "MPICommunicator", "ThreadCommunicator"]


class Communicator:
    """The collectives of a group of ``size`` processes; this one is ``rank``.

    Attributes:
        rank: this member's index.
        size: the number of members.
        name: a short name for reports (``"mpi"``, ``"nccl"``, ``"threads"``).
    """

    rank: int = 0
    size: int = 1
    name: str = "abstract"

    def allreduce(self, buf: Array, backend: Backend) -> Array:
        """The elementwise sum of ``buf`` over the members (``buf`` itself, summed in place,
        where the array's memory can be handed to the library)."""
        raise NotImplementedError

    def allgather(self, x: Array, backend: Backend) -> list[Array]:
        """Every member's ``x`` (first axes may differ), in rank order."""
        raise NotImplementedError

    def broadcast_object(self, obj: Any, root: int = 0) -> Any:
        """``root``'s ``obj`` (any picklable value) on every member."""
        raise NotImplementedError

    def allgather_object(self, obj: Any) -> list[Any]:
        """Every member's ``obj``, in rank order."""
        raise NotImplementedError


def _host_buffer(buf: Any) -> bool:
    """Whether ``buf`` exposes writable, contiguous host memory (NumPy arrays do)."""
    try:
        view = memoryview(buf)
    except TypeError:
        return False
    return not view.readonly and view.c_contiguous


class MPICommunicator(Communicator):
    """Collectives over an MPI communicator (default ``MPI.COMM_WORLD``).

    A NumPy buffer is summed in place by ``MPI_Allreduce(MPI_IN_PLACE, ...)``, no copy; arrays
    of other backends (array-api-strict, CuPy without a CUDA-aware MPI) go through a host copy.

    Args:
        comm: an ``mpi4py`` communicator, or None for the world.
    """

    name = "mpi"

    def __init__(self, comm: Any = None) -> None:
        self.mpi = mpi()
        self.comm = comm if comm is not None else self.mpi.COMM_WORLD
        self.rank, self.size = int(self.comm.Get_rank()), int(self.comm.Get_size())

    def allreduce(self, buf: Array, backend: Backend) -> Array:
        if _host_buffer(buf):
            self.comm.Allreduce(self.mpi.IN_PLACE, buf, op=self.mpi.SUM)
            return buf
        host = backend.to_numpy(buf).copy()
        self.comm.Allreduce(self.mpi.IN_PLACE, host, op=self.mpi.SUM)
        return backend.asarray(host)

    def allgather(self, x: Array, backend: Backend) -> list[Array]:
        parts = self.comm.allgather(backend.to_numpy(x))
        return [backend.asarray(p) for p in parts]

    def broadcast_object(self, obj: Any, root: int = 0) -> Any:
        return self.comm.bcast(obj, root=root)

    def allgather_object(self, obj: Any) -> list[Any]:
        return list(self.comm.allgather(obj))


class ThreadGroup:
    """What the threads of one :class:`ThreadCommunicator` group share: a barrier and slots.

    Args:
        size: the number of replicas (threads).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.barrier = threading.Barrier(size, timeout=60)
        self.slots: list[Any] = [None] * size

    def exchange(self, rank: int, value: Any) -> list[Any]:
        """Every member's ``value``, in rank order (a collective: all members must call)."""
        self.slots[rank] = value
        self.barrier.wait()
        values = list(self.slots)
        self.barrier.wait()
        return values


class ThreadCommunicator(Communicator):
    """A stand-in for MPI: ``size`` replicas as threads of one process, summing in rank order.

    Build one per thread from a shared :class:`ThreadGroup`; each thread then trains its own
    model under ``DataParallel(communicator=...)``.

    >>> group = ThreadGroup(1)
    >>> ThreadCommunicator(group, 0).allgather_object("a")
    ['a']
    """

    name = "threads"

    def __init__(self, group: ThreadGroup, rank: int) -> None:
        self.group, self.rank, self.size = group, rank, group.size

    def allreduce(self, buf: Array, backend: Backend) -> Array:
        parts = self.group.exchange(self.rank, backend.xp.asarray(buf, copy=True))
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        if _host_buffer(buf):
            buf[...] = total
            return buf
        return total

    def allgather(self, x: Array, backend: Backend) -> list[Array]:
        return self.group.exchange(self.rank, x)

    def broadcast_object(self, obj: Any, root: int = 0) -> Any:
        return self.group.exchange(self.rank, obj)[root]

    def allgather_object(self, obj: Any) -> list[Any]:
        return self.group.exchange(self.rank, obj)
