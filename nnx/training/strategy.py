"""``Strategy``: the few points where ``fit``/``evaluate``/``predict`` let a distribution
strategy in, and the scoped default (one process, where each point is the identity).

The loops and the model's steps consult :func:`current_strategy` at well-named points:

- :meth:`Strategy.begin` / :meth:`Strategy.end` around ``fit`` and ``evaluate`` (check that the
  replicas agree, share the weights, install per-rank random streams);
- :meth:`Strategy.shard`: the rows of a global batch this process computes;
- :meth:`Strategy.reduce_gradients` (after the backward pass, before the optimizer),
  :meth:`Strategy.reduce_loss` (a test step) and :meth:`Strategy.gather` (what the metrics see
  and what ``predict`` returns);
- :attr:`Strategy.is_main`: whether this process prints progress and writes files.

A strategy is entered as a context (``with nnx.distributed.DataParallel(): model.fit(...)``);
the default lives in a ``ContextVar``. :mod:`nnx.distributed` holds the data-parallel one.

>>> s = current_strategy()
>>> s.is_main, s.world_size, s.shard(slice(0, 5))
(True, 1, slice(0, 5, None))
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar, Token
from typing import Any

from nnx.backends.base import Array

__all__ = ["Strategy", "current_strategy"]


class Strategy:
    """One process: every hook is the identity. Subclasses distribute the work.

    Attributes:
        rank: this process's index among ``world_size``.
        world_size: the number of processes training together.
    """

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this process reports (progress bar) and writes files (rank 0)."""
        return self.rank == 0

    def begin(self, model: Any, what: str, samples: int) -> None:
        """Called at the start of ``fit`` or ``evaluate`` (``what``) over ``samples`` rows."""

    def end(self, model: Any, what: str) -> None:
        """Called when ``fit``/``evaluate`` ends, also on an error."""

    def epoch_end(self, model: Any) -> None:
        """Called after each training epoch, before the epoch's callbacks."""

    def shard(self, rows: slice) -> slice:
        """The rows of the global batch ``rows`` that this process computes."""
        return rows

    def reduce_gradients(self, parameters: Sequence[Any], loss: Array, rows: int) -> Array:
        """Make every ``.grad`` the gradient of the global batch; returns its loss.

        Args:
            parameters: the trainable parameters (a ``FlatParameters`` where the backend has
                flat buffers).
            loss: this process's batch loss (mean over its ``rows`` samples).
            rows: the number of rows this process computed.
        """
        return loss

    def reduce_loss(self, loss: Array, rows: int) -> Array:
        """The mean loss over the global batch from this process's mean over ``rows``."""
        return loss

    def gather(self, *arrays: Array | None) -> tuple[Array | None, ...]:
        """The global batch's rows of each array (targets, outputs, sample weights)."""
        return arrays

    def __enter__(self) -> Strategy:
        self._tokens: list[Token[Strategy | None]] = [
            *getattr(self, "_tokens", []),
            _CURRENT.set(self),
        ]
        return self

    def __exit__(self, *exc: object) -> None:
        _CURRENT.reset(self._tokens.pop())


_CURRENT: ContextVar[Strategy | None] = ContextVar("nnx_strategy", default=None)
_SINGLE = Strategy()


def current_strategy() -> Strategy:
    """The strategy of the innermost ``with strategy:`` block (one process outside any)."""
    return _CURRENT.get() or _SINGLE
