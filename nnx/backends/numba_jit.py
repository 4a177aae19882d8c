"""The numba decorator of nnx's CPU kernels: compiled serial loops, run on all cores by
splitting their arrays into chunks on a thread pool.

Only the ``numba_*`` kernel modules import this (and numba); :mod:`nnx.backends.numba_paths`
imports them lazily, on the first fast-path call, so ``import nnx`` never loads numba. Each
kernel compiles on its first call per dtype and is cached on disk (``cache=True``): a later
process loads it in milliseconds.

Why not ``parallel=True`` and ``prange``: the parallel build of a kernel takes about three
times as long to compile as the serial one, and a program would need both (waking a thread
pool costs more than it saves on small arrays). A serial kernel compiled with ``nogil=True``
runs truly in parallel on slices of its arrays handed to a few Python threads, one compile
serves both sizes, and nothing depends on numba's threading layer (whose default refuses
calls from several Python threads at once).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba

from nnx.backends.thread_pool import started_pool

__all__ = ["PARALLEL_MIN_SIZE", "BlockKernel", "Kernel", "block_kernel", "kernel", "threads"]

#: below this many elements a kernel runs on the calling thread only
PARALLEL_MIN_SIZE = 1 << 16


@functools.cache
def threads() -> int:
    """The cores this process may use (at most 8)."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(n or 1, 8))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return started_pool(threads(), "nnx-numba")


class Kernel:
    """A compiled loop whose arguments at positions ``split`` are sliced along their first
    axis (all the same length: rows, images, elements) to run on several threads; with no
    ``split`` it always runs on the calling thread."""

    def __init__(
        self, fn: Callable[..., Any], split: Sequence[int], fastmath: bool | set[str] = False
    ) -> None:
        # NOTE: error_model="numpy": no division-by-zero checks, so the loops vectorize
        self.compiled = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=fastmath)(
            fn
        )
        self.split = tuple(split)
        self.__doc__ = fn.__doc__

    def __call__(self, size: int, *args: Any) -> None:
        """Run on ``args``; ``size`` (the work, in elements) decides whether to split."""
        n = args[self.split[0]].shape[0] if self.split else 0
        parts = threads()
        if size < PARALLEL_MIN_SIZE or parts == 1 or n < 2:
            self.compiled(*args)
            return
        step = -(-n // min(parts, n))
        _run_split(self.compiled, [self._slice(args, lo, lo + step) for lo in range(0, n, step)])

    def _slice(self, args: tuple[Any, ...], lo: int, hi: int) -> list[Any]:
        out = list(args)
        for i in self.split:
            if out[i].shape[0]:  # an unused, empty slot stays empty
                out[i] = out[i][lo:hi]
        return out


class BlockKernel:
    """A compiled loop over a range of fixed row blocks: ``fn(start, stop, *args)`` handles
    blocks ``start <= i < stop`` of ``blocks`` (each writing its own row of a partial-sum
    array, say). The ranges go to several threads; the blocks, and so the rounding of sums
    over them, do not depend on how many threads there are."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.compiled = numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
        self.__doc__ = fn.__doc__

    def __call__(self, size: int, blocks: int, *args: Any) -> None:
        """Run blocks ``0 .. blocks - 1`` of ``args``; ``size`` (elements) decides whether to
        split them over threads."""
        parts = min(threads(), blocks)
        if size < PARALLEL_MIN_SIZE or parts <= 1:
            self.compiled(0, blocks, *args)
            return
        step = -(-blocks // parts)
        ranges = [(lo, min(lo + step, blocks), *args) for lo in range(0, blocks, step)]
        _run_split(self.compiled, ranges)


def _run_split(fn: Callable[..., Any], calls: Sequence[Sequence[Any]]) -> None:
    """``fn(*args)`` for each ``args`` of ``calls``: the last on the calling thread, the others
    on the pool (a thread fewer to wake, and the caller does not sit idle).

    A part the pool has not started by the time the caller is done with its own, the caller
    takes back and runs itself: on a host whose cores are busy with other processes a pool
    thread may wait milliseconds for a core, and the split would otherwise wait with it."""
    futures = [_pool().submit(fn, *args) for args in calls[:-1]]
    finished = False
    try:
        fn(*calls[-1])
        finished = True
    finally:
        for future, args in zip(futures, calls[:-1], strict=True):
            if future.cancel():  # still queued: run it here (or drop it after an error)
                if finished:
                    fn(*args)
            else:
                future.result()


def block_kernel(fn: Callable[..., Any]) -> BlockKernel:
    """Decorator: ``fn(start, stop, *args)`` as a :class:`BlockKernel`."""
    return BlockKernel(fn)


def kernel(
    *split: int, fastmath: bool | set[str] = False
) -> Callable[[Callable[..., Any]], Kernel]:
    """Decorator: the function as a :class:`Kernel` splitting the arguments at ``split``
    (``fastmath``: numba's flags, e.g. ``{"reassoc"}`` to vectorize a sum)."""
    return lambda fn: Kernel(fn, split, fastmath)
