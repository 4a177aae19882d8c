"""The MPI world: ``init``, ``rank``, ``world_size``, ``is_main``, and abort-on-error.

``mpi4py`` is imported only here and only when first needed; without it every function raises
:class:`MissingDependencyError` naming the extra to install. Launch the processes with the MPI
launcher (``mpiexec -n 4 python train.py``) or the cluster's (``srun python train.py``): MPI
reads the world from their environment; a plain ``python train.py`` is a world of one.

After :func:`init`, an exception that escapes on any rank prints the rank and the error and calls
``MPI.COMM_WORLD.Abort``, which ends every process of the job: the other ranks would otherwise
wait for ever in their next collective call.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from types import TracebackType
from typing import Any

__all__ = [
    "MissingDependencyError",
    "abort",
    "init",
    "is_main",
    "local_rank",
    "mpi",
    "rank",
    "world_size",
]

_INSTALL = 'pip install "nnx-array[mpi]"'


class MissingDependencyError(ImportError):
    """An optional package that nnx.distributed needs is not installed.

    >>> issubclass(MissingDependencyError, ImportError)
    True
    """


def mpi() -> Any:
    """The ``mpi4py.MPI`` module (importing it starts MPI: the world of this launch).

    Raises:
        MissingDependencyError: ``mpi4py`` (or an MPI library) is not installed.
    """
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise MissingDependencyError(
            f"nnx.distributed needs mpi4py and an MPI library: {_INSTALL} "
            f"(installs mpi4py and MPICH from PyPI). Import failed with: {error}"
        ) from error
    return MPI


def rank() -> int:
    """This process's index in ``MPI.COMM_WORLD`` (0 in a plain ``python`` run)."""
    return int(mpi().COMM_WORLD.Get_rank())


def world_size() -> int:
    """The number of processes of the launch (1 in a plain ``python`` run)."""
    return int(mpi().COMM_WORLD.Get_size())


def is_main() -> bool:
    """Whether this is rank 0, the process that prints and writes files."""
    return rank() == 0


def local_rank() -> int:
    """This process's index among the ranks of its node (pick the GPU with it).

    A collective call (every rank must make it): the ranks sharing memory with this one are
    grouped with ``COMM_WORLD.Split_type(COMM_TYPE_SHARED)``, so no launcher variable is needed.
    """
    MPI = mpi()
    node = MPI.COMM_WORLD.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        return int(node.Get_rank())
    finally:
        node.Free()


#: Seconds between printing the reason and aborting. The launcher forwards a rank's output
#: through its proxy; an abort that comes first can end the proxy with the reason still unread
#: (seen once in a CI run on two busy cores: the job's whole stderr came back empty).
ABORT_GRACE_S = 0.5


def abort(message: str, code: int = 1) -> None:
    """Print ``message`` to stderr and end every process of the job (``MPI.COMM_WORLD.Abort``)."""
    print(message, file=sys.stderr, flush=True)
    sys.stdout.flush()
    time.sleep(ABORT_GRACE_S)
    mpi().COMM_WORLD.Abort(code)


def _excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    r, n = rank(), world_size()
    text = "".join(traceback.format_exception(kind, error, tb))
    abort(
        f"{text}nnx.distributed: rank {r} of {n} raised {kind.__name__}: {error}\n"
        f"nnx.distributed: aborting all {n} ranks (MPI.COMM_WORLD.Abort).",
        code=1,
    )


def init(abort_on_error: bool = True) -> tuple[int, int]:
    """Start MPI (if not yet) and return ``(rank, world_size)``.

    Args:
        abort_on_error: install a ``sys.excepthook`` that, on a world of more than one
            process, names the rank and the error and aborts the whole job instead of letting
            the other ranks hang (set ``NNX_DISTRIBUTED_NO_ABORT=1`` to keep Python's hook).

    Raises:
        MissingDependencyError: ``mpi4py`` is missing.
    """
    size = world_size()
    if abort_on_error and size > 1 and not os.environ.get("NNX_DISTRIBUTED_NO_ABORT"):
        sys.excepthook = _excepthook
    return rank(), size
