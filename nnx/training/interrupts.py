"""Interrupt-atomic updates: a Ctrl-C during an optimizer step waits until the step is done.

An optimizer step changes three things that must move together: the weights, the slots
(momentum, Adam's moments) and ``iterations`` (the bias correction and schedules read it). A
``KeyboardInterrupt`` raised halfway (between two parameters, or while the NumPy backend's
worker threads still update their chunks of a flat buffer) would leave them out of step, and
the next ``fit`` or a save would carry the mix. Inside :class:`deferred_interrupts` SIGINT is
held and delivered when the block ends, so ``Model.train_step`` leaves the state all before or
all after an update. A step is a few milliseconds: the delay is not felt.

Installing a signal handler costs microseconds, a noticeable share of a small model's step, so
``fit`` installs one for its whole run (:class:`interrupt_session`): a SIGINT outside an update
is passed on at once (a ``KeyboardInterrupt`` where it lands, as always); inside one it waits
for the update's end, and entering and leaving an update block then costs a counter. Outside a
session (a hand-written loop calling ``train_step``) each block installs and restores the
handler itself.

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
from types import FrameType, TracebackType
from typing import Any

__all__ = ["deferred_interrupts", "interrupt_session"]


class _Holder:
    """The SIGINT handler of a session: holds the signal inside update blocks, else passes it on
    to the handler it replaced."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous
        self.depth = 0
        self.pending: tuple[int, FrameType | None] | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.depth:
            self.pending = (signum, frame)
        else:
            _deliver(self.previous, signum, frame)

    def release(self) -> None:
        """Deliver a signal held in the block just left."""
        if self.pending is not None and self.depth == 0:
            pending, self.pending = self.pending, None
            _deliver(self.previous, *pending)


#: the holder installed by the running session, if any (signal handlers are per process)
_session: list[_Holder] = []


def _install() -> _Holder | None:
    """Put a holder in place of the current SIGINT handler; None where that is not possible
    (not the main thread, another interpreter, a handler installed from C)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:
        return None
    holder = _Holder(previous)
    try:
        signal.signal(signal.SIGINT, holder)
    except ValueError:
        return None
    return holder


class interrupt_session:  # noqa: N801 - used as a context manager, like contextlib's
    """Install the holding SIGINT handler for a whole run (``fit`` does), making each
    :class:`deferred_interrupts` block inside it nearly free."""

    def __enter__(self) -> None:
        holder = _install()
        self._holder: _Holder | None = holder
        if holder is not None:
            _session.append(holder)

    def __exit__(self, *exc: object) -> None:
        holder = self._holder
        if holder is None:
            return
        _session.remove(holder)
        previous = holder.previous
        if signal.getsignal(signal.SIGINT) is holder:  # else someone replaced it: leave theirs
            signal.signal(signal.SIGINT, previous)


class deferred_interrupts:  # noqa: N801 - used as a context manager, like contextlib's
    """Hold SIGINT inside the block; deliver it (to the handler that was there) at its end.

    Only the main thread receives signals in Python: in another thread, or where the current
    handler was not installed from Python, the block runs unchanged.
    """

    __slots__ = ("_holder", "_own")
    _holder: _Holder | None

    def __enter__(self) -> None:
        holder = _session[-1] if _session else None
        if holder is not None and threading.current_thread() is threading.main_thread():
            self._holder, self._own = holder, False
        else:
            self._holder, self._own = _install(), True
        if self._holder is not None:
            self._holder.depth += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        holder = self._holder
        if holder is None:
            return
        holder.depth -= 1
        if self._own:
            signal.signal(signal.SIGINT, holder.previous)
        holder.release()


def _deliver(handler: Any, signum: int, frame: FrameType | None) -> None:
    """Do what ``handler`` would have done with the signal held."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signum)
