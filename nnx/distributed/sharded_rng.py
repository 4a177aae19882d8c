"""Random streams for data-parallel training: each rank takes its rows of the global draw.

A dropout mask (or an augmentation's per-image angle) is a draw whose first axis is the batch.
If every rank drew its own mask from its own stream, a run on ``N`` ranks could never equal the
run on one process. Instead every rank keeps the *same* stream as the single-process model and,
for a draw over its shard of ``n`` rows, draws the mask of the whole global batch of ``B`` rows
and keeps its rows ``[start, start + n)``. Each rank so sees a different part of the stream (its
own samples' masks) and the ``N`` ranks together draw exactly what one process would: the same
masks, the same weights, and a checkpoint that resumes on any number of ranks. The price is
drawing ``B`` instead of ``B / N`` numbers per mask (on the CPU, drawn on the host: small next to
the layer's matrix product).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnx.backends.base import Array, Generator

__all__ = ["ShardedGenerator", "Window"]


@dataclass(frozen=True)
class Window:
    """This rank's rows of the current global batch.

    Attributes:
        start: the first row, within the global batch.
        rows: the rows this rank computes (1 for a padding row, see ``valid``).
        valid: the rows that count (0 when the rank has no sample and computes a padding row).
        total: the rows of the global batch.
    """

    start: int
    rows: int
    valid: int
    total: int


class ShardedGenerator(Generator):
    """A view of a layer's generator that draws per-sample arrays for the global batch and
    returns this rank's rows (see the module's docstring).

    A draw whose first axis is the rank's row count, while a window is open, is drawn for the
    global batch and sliced; any other draw (a scalar, a draw outside ``fit``'s batches) is the
    inner generator's own. The state is the inner generator's: saving and restoring go to it.

    Args:
        inner: the layer's generator.
        window: a callable returning the current :class:`Window` or None.
    """

    def __init__(self, inner: Generator, window: Any) -> None:
        self.inner, self.window = inner, window
        self.backend, self.host = inner.backend, inner.host

    def _global(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], Window | None]:
        w = self.window()
        if w is None or not shape or shape[0] != w.rows:
            return shape, None
        return (w.total, *shape[1:]), w

    @staticmethod
    def _rows(x: Array, w: Window | None) -> Array:
        return x if w is None else x[w.start : w.start + w.rows, ...]

    def normal(
        self, shape: tuple[int, ...], mean: float = 0.0, std: float = 1.0, dtype: str | None = None
    ) -> Array:
        full, w = self._global(tuple(shape))
        return self._rows(self.inner.normal(full, mean, std, dtype), w)

    def uniform(
        self, shape: tuple[int, ...], low: float = 0.0, high: float = 1.0, dtype: str | None = None
    ) -> Array:
        full, w = self._global(tuple(shape))
        return self._rows(self.inner.uniform(full, low, high, dtype), w)

    def bernoulli(self, shape: tuple[int, ...], p: float, dtype: str | None = None) -> Array:
        full, w = self._global(tuple(shape))
        return self._rows(self.inner.bernoulli(full, p, dtype), w)

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> Array:
        full, w = self._global(tuple(shape))
        return self._rows(self.inner.integers(low, high, full), w)

    def permutation(self, n: int) -> Array:
        return self.inner.permutation(n)

    def spawn(self) -> Generator:
        return self.inner.spawn()

    def get_state(self) -> dict[str, Any]:
        return self.inner.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        self.inner.set_state(state)
