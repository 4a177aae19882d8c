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
import statistics
import time
import types
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba

from nnx.backends.thread_pool import started_pool

__all__ = [
    "PARALLEL_MIN_SIZE",
    "SLOW_WAKE_MIN_SIZE",
    "BlockKernel",
    "Kernel",
    "block_kernel",
    "kernel",
    "min_size",
    "run_split",
    "threads",
    "twin",
    "wake_us",
]

#: below this many elements a kernel runs on the calling thread only
PARALLEL_MIN_SIZE = 1 << 16
#: the same where a sleeping pool thread is slow to wake (:func:`wake_us` above
#: :data:`SLOW_WAKE_US`). On the 2-core Xeon KVM guest an idle vCPU took 60-850 µs (median
#: 200-500) to start an empty task, longer than the halves of most kernels: a float32 layer
#: norm of 262,144 elements ran in 200-221 µs on the caller alone against 259-350 µs split
#: (fastest of 200), and the Transformer bench's train step 5-10% faster unsplit. At 1M
#: elements the split wins there too (700 against 1006 µs)
SLOW_WAKE_MIN_SIZE = 1 << 20
#: the wake time (µs) past which :data:`SLOW_WAKE_MIN_SIZE` applies (the hand-off measured
#: about 20 µs on the 2-core AMD EPYC guest :data:`PARALLEL_MIN_SIZE` was tuned on)
SLOW_WAKE_US = 40.0
#: ``NNX_THREAD_WAKE=fast`` or ``slow`` skips the measurement (the tests pin ``fast``)
WAKE_ENV = "NNX_THREAD_WAKE"


@functools.cache
def threads() -> int:
    """The cores this process may use (at most 8)."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(n or 1, 8))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return started_pool(threads(), "nnx-numba")


def min_size() -> int:
    """The fewest elements a kernel splits over threads: :data:`PARALLEL_MIN_SIZE`, at least
    :data:`SLOW_WAKE_MIN_SIZE` on a host whose pool threads wake slowly (:func:`_wakes_fast`:
    measured once; callers test :data:`PARALLEL_MIN_SIZE` first, so that only a kernel big
    enough to split can set off the measurement)."""
    return PARALLEL_MIN_SIZE if _wakes_fast() else max(PARALLEL_MIN_SIZE, SLOW_WAKE_MIN_SIZE)


@functools.cache
def _wakes_fast() -> bool:
    given = os.environ.get(WAKE_ENV, "")
    if given not in ("", "fast", "slow"):
        raise ValueError(f"{WAKE_ENV} must be 'fast' or 'slow', received {given!r}.")
    return given == "fast" if given else wake_us() <= SLOW_WAKE_US


def wake_us(trials: int = 9) -> float:
    """The median time (µs) from handing an empty task to the sleeping pool to its end: what a
    split kernel waits before its second part starts (each trial first lets the pool idle)."""
    pool = _pool()
    times = []
    for _ in range(trials):
        time.sleep(0.0005)
        start = time.perf_counter()
        pool.submit(int).result()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


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
        if size < PARALLEL_MIN_SIZE or parts == 1 or n < 2 or size < min_size():
            self.compiled(*args)
            return
        step = -(-n // min(parts, n))
        run_split(self.compiled, [self._slice(args, lo, lo + step) for lo in range(0, n, step)])

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
        if size < PARALLEL_MIN_SIZE or parts <= 1 or size < min_size():
            self.compiled(0, blocks, *args)
            return
        step = -(-blocks // parts)
        ranges = [(lo, min(lo + step, blocks), *args) for lo in range(0, blocks, step)]
        run_split(self.compiled, ranges)


def run_split(fn: Callable[..., Any], calls: Sequence[Sequence[Any]]) -> None:
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


def twin(dispatcher: Any, suffix: str, names: dict[str, Any], **options: Any) -> Any:
    """A compiled build of a function (a numba one's second build) whose code sees other
    objects under some global ``names`` (MKL's products instead of SciPy's BLAS), cached on
    disk under the qualified name plus ``suffix`` (numba caches only functions defined in a
    file; this one's code object is the file's).

    ``options`` are the ``numba.njit`` options (the dispatcher's own by default; the twin is
    always cached)."""
    source = getattr(dispatcher, "py_func", dispatcher)
    scope = {**source.__globals__, **names}
    fn = types.FunctionType(source.__code__, scope, source.__name__, source.__defaults__)
    fn.__qualname__ = f"{source.__qualname__}{suffix}"
    fn.__module__, fn.__doc__ = source.__module__, source.__doc__
    own = {k: v for k, v in getattr(dispatcher, "targetoptions", {}).items() if k != "nopython"}
    return numba.njit(cache=True, **(options or own))(fn)
