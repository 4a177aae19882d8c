"""The numba decorator of nnx's CPU kernels: each kernel in a serial and a parallel build.

Only the ``numba_*`` kernel modules import this (and numba); :mod:`nnx.backends.numba_paths`
imports them lazily, on the first fast-path call, so ``import nnx`` never loads numba. Both
builds compile on their first call and are cached on disk (``cache=True``): a later process
loads them in milliseconds. Small arrays take the serial build, because waking the thread
pool of a ``prange`` loop costs more than it saves below about 64k elements.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numba

__all__ = ["PARALLEL_MIN_SIZE", "Kernel", "kernel", "prange"]

#: arrays with fewer elements run the serial build
PARALLEL_MIN_SIZE = 1 << 16
prange = numba.prange
_THREADS: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]


class Kernel:
    """A python function compiled twice: ``serial`` (``prange`` runs as ``range``) and
    ``parallel``; calling it with a size first picks one."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.serial = numba.njit(cache=True, nogil=True)(_renamed(fn, "serial"))
        self.parallel = numba.njit(cache=True, nogil=True, parallel=True)(_renamed(fn, "parallel"))
        self.__doc__ = fn.__doc__

    def __call__(self, size: int, *args: Any) -> Any:
        if size >= PARALLEL_MIN_SIZE and _THREADS > 1:
            return self.parallel(*args)
        return self.serial(*args)


def kernel(fn: Callable[..., Any]) -> Kernel:
    """Decorator: ``fn`` as a :class:`Kernel`."""
    return Kernel(fn)


def _renamed(fn: Callable[..., Any], flavour: str) -> Callable[..., Any]:
    # NOTE: numba names its cache files after the qualified name, so the two builds of one
    # function get their own files instead of overwriting each other's index.
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__)
    copy.__qualname__ = f"{fn.__qualname__}_{flavour}"
    copy.__module__ = fn.__module__
    return copy
