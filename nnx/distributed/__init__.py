"""Data-parallel training across processes (MPI) and GPUs (NCCL).

>>> import nnx
>>> nnx.distributed.DataParallel.__name__
'DataParallel'

Launch the same script on every rank and train inside the strategy's block::

    # mpiexec -n 4 python train.py
    import nnx
    with nnx.distributed.DataParallel():
        model.fit(x, y, batch_size=256, epochs=10)   # 256 rows per step, 64 per rank
        model.save("model.nnx")                        # written by rank 0 only

Needs ``pip install "nnx-array[mpi]"`` (mpi4py and MPICH); the GPU path also CuPy with NCCL.
See the README's "Distributed training" section.
"""

from nnx.distributed.communicator import Communicator, MPICommunicator, ThreadCommunicator
from nnx.distributed.data_parallel import DataParallel
from nnx.distributed.runtime import (
    MissingDependencyError,
    abort,
    init,
    is_main,
    local_rank,
    rank,
    world_size,
)

__all__ = [
    "Communicator",
    "DataParallel",
    "MPICommunicator",
    "MissingDependencyError",
    "ThreadCommunicator",
    "abort",
    "init",
    "is_main",
    "local_rank",
    "rank",
    "world_size",
]
