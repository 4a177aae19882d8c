"""Interrupt-atomic updates: a Ctrl-C during an optimizer step waits until the step is done.

An optimizer step changes three things that must move together: the weights, the slots
(momentum, Adam's moments) and ``iterations`` (the bias correction and schedules read it). A
``KeyboardInterrupt`` raised halfway (between two parameters, or while the NumPy backend's
worker threads still update their chunks of a flat buffer) would leave them out of step, and
the next ``fit`` or a save would carry the mix. :func:`deferred_interrupts` holds SIGINT for the
length of a block and delivers it when the block ends, so ``Model.train_step`` leaves the state
all before or all after an update. A step is a few milliseconds: the delay is not felt.

>>> import os, signal
>>> try:
...     with deferred_interrupts():
...         os.kill(os.getpid(), signal.SIGINT)  # held...
...         print("the block finishes")
... except KeyboardInterrupt:
...     print("...then delivered")
the block finishes
...then delivered
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["deferred_interrupts"]


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGINT inside the block; deliver it (to the handler that was there) at its end.

    Only the main thread receives signals in Python: in another thread, or where the current
    handler was not installed from Python, the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # a handler installed from C: leave it alone
        yield
        return
    received: list[tuple[int, FrameType | None]] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append((signum, frame))

    try:
        signal.signal(signal.SIGINT, hold)
    except ValueError:  # not the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            _deliver(previous, *received[0])


def _deliver(handler: Any, signum: int, frame: FrameType | None) -> None:
    """Do what ``handler`` would have done with the signal held."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signum)
