"""``DataParallel``: every rank holds the whole model and computes its shard of each batch.

Per training step, for a global batch of ``B`` rows split into shards of ``n_r`` rows:

1. each rank runs forward and backward on its ``n_r`` rows, giving its mean loss ``L_r`` and the
   gradient ``g_r`` of that mean (penalties included);
2. one tiny all-reduce sums ``(n_r L_r, n_r)``: the global loss ``L = sum n_r L_r / B`` and ``B``;
3. each rank scales its flat gradient buffer by ``n_r / B`` and one all-reduce sums it:
   ``g = sum_r (n_r / B) g_r``, exactly the gradient of the mean over the ``B`` rows (the loss
   is ``sum_i w_i l_i / n``; a penalty's gradient, in every ``g_r``, keeps weight
   ``sum n_r / B = 1``), so an uneven last batch gives the single-process gradient too;
4. every rank applies the same update to the same weights.

The metrics see the global batch (targets, outputs and weights are gathered), so the logs equal
the single-process ones. Dropout and augmentation draw from the global stream
(:mod:`nnx.distributed.sharded_rng`). A rank whose shard is empty (a last batch smaller than the
world) computes one padding row that weighs 0.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from nnx.backends import backend_of
from nnx.backends.base import Array, Backend
from nnx.distributed import replicas
from nnx.distributed.communicator import Communicator, MPICommunicator
from nnx.distributed.runtime import init
from nnx.distributed.sharded_rng import ShardedGenerator, Window
from nnx.distributed.sync_batch_norm import sync_forward
from nnx.layers import BatchNormalization
from nnx.layers.parameter import FlatParameters
from nnx.layers.random_layer import RandomLayer
from nnx.saving import skip_writes
from nnx.training.strategy import Strategy
from nnx.validation import check_bool, check_choice

__all__ = ["DataParallel"]


class DataParallel(Strategy):
    """Data-parallel training over MPI processes (or GPUs through NCCL), as a scoped strategy.

    Every rank runs the same script on the same data; inside the block ``fit``, ``evaluate`` and
    ``predict`` split every global batch of ``batch_size`` rows across the ranks and give the
    same weights, losses and metrics as one process with that batch size. Only rank 0 prints
    progress and writes files (``model.save``, checkpoint callbacks).

    Args:
        communicator: ``"auto"`` (NCCL for a CuPy model, MPI otherwise), ``"mpi"``, ``"nccl"``,
            or a :class:`~nnx.distributed.communicator.Communicator`.
        batch_norm: ``"local"`` (each rank normalizes with its shard's statistics; the moving
            statistics are averaged across ranks after every epoch) or ``"sync"`` (statistics
            of the global batch, as one process computes them).
        debug: compare a SHA-256 of the weights across ranks at the start and after every
            epoch (default: the ``NNX_DISTRIBUTED_DEBUG`` environment variable).

    Attributes:
        rank, world_size: this process and the number of processes.
        allreduce_seconds: wall time spent in the per-step all-reduces (for benchmarks).

    >>> import nnx
    >>> from nnx.distributed.communicator import ThreadCommunicator, ThreadGroup
    >>> dp = DataParallel(ThreadCommunicator(ThreadGroup(1), 0))
    >>> dp.rank, dp.world_size, dp.is_main
    (0, 1, True)
    """

    def __init__(
        self,
        communicator: str | Communicator = "auto",
        batch_norm: str = "local",
        debug: bool | None = None,
    ) -> None:
        self.batch_norm = check_choice(
            batch_norm, "batch_norm", ("local", "sync"), who="DataParallel"
        )
        if isinstance(communicator, Communicator):
            self._fixed: Communicator | None = communicator
            self.rank, self.world_size = communicator.rank, communicator.size
        else:
            check_choice(communicator, "communicator", ("auto", "mpi", "nccl"), who="DataParallel")
            self._fixed = None
            self.rank, self.world_size = init()
        self.communicator_name = communicator if isinstance(communicator, str) else "custom"
        env = os.environ.get("NNX_DISTRIBUTED_DEBUG", "").lower() in ("1", "true", "yes")
        self.debug = env if debug is None else check_bool(debug, "debug", who="DataParallel")
        self.window: Window | None = None
        self.allreduce_seconds = 0.0
        self._comms: dict[str, Communicator] = {}
        self._model_backend: Backend | None = None
        self._undo: list[tuple[Any, str, Any]] = []
        self._scopes: list[ExitStack] = []

    # --- the communicator -------------------------------------------------------------------
    def communicator(self, backend: Backend) -> Communicator:
        """The communicator for arrays of ``backend`` (created once per backend)."""
        if self._fixed is not None:
            return self._fixed
        if backend.name not in self._comms:
            use_nccl = self.communicator_name == "nccl" or (
                self.communicator_name == "auto" and backend.name == "cupy"
            )
            if use_nccl:
                from nnx.distributed.nccl import NCCLCommunicator

                self._comms[backend.name] = NCCLCommunicator(backend)
            else:
                self._comms[backend.name] = MPICommunicator()
        return self._comms[backend.name]

    # --- scope ------------------------------------------------------------------------------
    def __enter__(self) -> DataParallel:
        super().__enter__()
        scope = ExitStack()
        scope.enter_context(skip_writes(not self.is_main))
        self._scopes.append(scope)
        return self

    def __exit__(self, *exc: object) -> None:
        self._scopes.pop().close()
        super().__exit__(*exc)

    # --- begin / end ------------------------------------------------------------------------
    def begin(self, model: Any, what: str, samples: int) -> None:
        """Refuse disagreeing ranks; for ``fit``, share rank 0's state and install the
        global-stream generators (and synchronized batch norm)."""
        self._model_backend = model.backend
        comm = self.communicator(model.backend)
        replicas.check_agreement(comm, replicas.describe(model, what, samples))
        if what == "fit":
            replicas.broadcast_state(comm, model)
            self._install(model)
        if self.debug:
            replicas.verify_weights(comm, model, f"at the start of {what}")

    def end(self, model: Any, what: str) -> None:
        """After ``fit``, put back the layers' own generators and forward methods."""
        self.window = None
        if what != "fit":
            return
        for obj, name, original in reversed(self._undo):
            if original is None:
                delattr(obj, name)
            else:
                setattr(obj, name, original)
        self._undo.clear()

    def epoch_end(self, model: Any) -> None:
        """Average local batch-norm statistics; in debug mode, compare the weights."""
        self.window = None
        comm = self.communicator(model.backend)
        if self.batch_norm == "local" and self.world_size > 1:
            self._average([p for p in model.parameters() if not p.trainable], model.backend)
        if self.debug:
            replicas.verify_weights(comm, model, "after an epoch")

    def _install(self, model: Any) -> None:
        for layer in model.layers:
            if isinstance(layer, RandomLayer) and layer.rng is not None:
                self._undo.append((layer, "rng", layer.rng))
                layer.rng = ShardedGenerator(layer.rng, lambda: self.window)
            if self.batch_norm == "sync" and isinstance(layer, BatchNormalization):
                self._undo.append((layer, "forward", layer.__dict__.get("forward")))
                layer.forward = sync_forward(layer, self)  # type: ignore[method-assign]

    def _average(self, params: Sequence[Any], backend: Backend) -> None:
        xp = backend.xp
        params = [p for p in params if xp.isdtype(p.value.dtype, "real floating")]
        if not params:
            return
        flat = xp.concat([xp.reshape(p.value, (-1,)) for p in params])
        flat = self.communicator(backend).allreduce(flat, backend) / self.world_size
        start = 0
        for p in params:
            p.value[...] = xp.reshape(flat[start : start + p.size], p.shape)
            start += p.size

    # --- per batch --------------------------------------------------------------------------
    def shard(self, rows: slice) -> slice:
        """Rows ``[start + r n // N, start + (r + 1) n // N)`` of a global batch of ``n`` rows
        (contiguous, sizes differing by at most one; a padding row when empty)."""
        n, r, size = rows.stop - rows.start, self.rank, self.world_size
        lo, hi = rows.start + r * n // size, rows.start + (r + 1) * n // size
        if hi > lo:
            self.window = Window(lo - rows.start, hi - lo, hi - lo, n)
            return slice(lo, hi)
        self.window = Window(0, 1, 0, n)
        return slice(rows.start, rows.start + 1)

    def valid_rows(self, rows: int) -> int:
        """How many of the ``rows`` just computed count (0 for a padding row)."""
        w = self.window
        return w.valid if w is not None and w.rows == rows else rows

    def _global_mean(self, loss: Array, rows: int) -> tuple[Array, Array]:
        """``(sum_r n_r L_r / B, n_r / B)`` from one all-reduce of ``(n_r L_r, n_r)``."""
        backend = self._backend_for(loss)
        xp, valid = backend.xp, float(self.valid_rows(rows))
        local = xp.stack([xp.astype(loss, xp.float64) * valid, backend.asarray(valid, "float64")])
        total = self.communicator(backend).allreduce(local, backend)
        return xp.astype(total[0] / total[1], loss.dtype), valid / total[1]

    def _backend_for(self, x: Array) -> Backend:
        return self._model_backend if self._model_backend is not None else backend_of(x)

    def reduce_gradients(self, parameters: Sequence[Any], loss: Array, rows: int) -> Array:
        """The global gradient in every ``.grad`` (one all-reduce of the flat buffer)."""
        if self.world_size == 1:
            return loss
        backend = (
            parameters.backend
            if isinstance(parameters, FlatParameters)
            else self._backend_for(parameters[0].value)
        )
        xp, comm = backend.xp, self.communicator(backend)
        start = time.perf_counter()
        loss, weight = self._global_mean(loss, rows)
        if isinstance(parameters, FlatParameters):
            parameters.sync()
            buf = parameters.grad
            buf *= xp.astype(weight, buf.dtype)
            total = comm.allreduce(buf, backend)
            if total is not buf:
                buf[...] = total
        else:
            params = [p for p in parameters if p.grad is not None]
            flat = xp.concat([xp.reshape(p.grad, (-1,)) for p in params])
            flat = comm.allreduce(flat * xp.astype(weight, flat.dtype), backend)
            offset = 0
            for p in params:
                p.grad = xp.reshape(flat[offset : offset + p.size], p.shape)
                offset += p.size
        self.allreduce_seconds += time.perf_counter() - start
        return loss

    def reduce_loss(self, loss: Array, rows: int) -> Array:
        """The mean loss of the global batch (one all-reduce of two numbers)."""
        if self.world_size == 1:
            return loss
        return self._global_mean(loss, rows)[0]

    def gather(self, *arrays: Array | None) -> tuple[Array | None, ...]:
        """The global batch's rows of each array (one collective for all of them)."""
        if self.world_size == 1:
            return arrays
        first = next(a for a in arrays if a is not None)
        backend = self._backend_for(first)
        valid = self.valid_rows(int(first.shape[0]))
        local = tuple(None if a is None else backend.to_numpy(a[:valid, ...]) for a in arrays)
        every = self.communicator(backend).allgather_object(local)
        xp = backend.xp
        return tuple(
            None if a is None else xp.concat([backend.asarray(part[i]) for part in every], axis=0)
            for i, a in enumerate(arrays)
        )
