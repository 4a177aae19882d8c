"""Interrupt-atomic updates: a Ctrl-C during an optimizer step waits until the step is done.

An optimizer step changes three things that must move together: the weights, the slots
(momentum, Adam's moments) and ``iterations`` (the bias correction and schedules read it). A
``KeyboardInterrupt`` raised halfway (between two parameters, or while the NumPy backend's
worker threads still update their chunks of a flat buffer) would leave them out of step, and
the next ``fit`` or a save would carry the mix. Inside :class:`deferred_interrupts` SIGINT is
held and delivered when the block ends, so ``Model.train_step`` leaves the state all before or
all after an update. A step is a few milliseconds: the delay is not felt.

``fit`` installs the holding handler once for its whole run (:class:`interrupt_session`): a
SIGINT outside an update is passed on at once (a ``KeyboardInterrupt`` where it lands, as
always); inside one it waits for the update's end, and entering and leaving an update block then
costs a counter. Outside a session (a hand-written loop calling ``train_step``) each block
installs the handler and restores the previous one. It does so through the C functions of
``_signal``: ``signal.signal`` and ``signal.getsignal`` wrap every handler they return in an
``enum`` (``signal._int_to_enum``), which made a block cost 10-15 µs, a tenth of a small model's
step; the raw calls cost about 1 µs for the three of them, with the same effect.

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

try:  # the C module under ``signal``: the same calls without the enum wrapping
    import _signal as _raw_signal
except ImportError:  # pragma: no cover - other interpreters
    _raw_signal = signal  # type: ignore[no-redef]

__all__ = ["deferred_interrupts", "interrupt_session"]

_SIGINT = int(signal.SIGINT)
_getsignal = _raw_signal.getsignal
_setsignal = _raw_signal.signal
_main_thread = threading.main_thread
_current_thread = threading.current_thread


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
    if _current_thread() is not _main_thread():
        return None
    previous = _getsignal(_SIGINT)
    if previous is None:
        return None
    holder = _Holder(previous)
    try:
        _setsignal(_SIGINT, holder)
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
        if _getsignal(_SIGINT) is holder:  # else someone replaced it: leave theirs
            _setsignal(_SIGINT, previous)


class deferred_interrupts:  # noqa: N801 - used as a context manager, like contextlib's
    """Hold SIGINT inside the block; deliver it (to the handler that was there) at its end.

    Only the main thread receives signals in Python: in another thread, or where the current
    handler was not installed from Python, the block runs unchanged.
    """

    __slots__ = ("_holder", "_own")
    _holder: _Holder | None

    def __enter__(self) -> None:
        holder = _session[-1] if _session else None
        if holder is not None and _current_thread() is _main_thread():
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
            _setsignal(_SIGINT, holder.previous)
        holder.release()


def _deliver(handler: Any, signum: int, frame: FrameType | None) -> None:
    """Do what ``handler`` would have done with the signal held."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:  # the raw calls give it as the int 0
        os.kill(os.getpid(), signum)
