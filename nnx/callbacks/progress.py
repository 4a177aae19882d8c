"""Progress display for ``fit(verbose=1|2)``.

``verbose=1``: a bar per epoch with running loss/metrics and ETA, drawn by ``tqdm`` when it is
installed (``pip install "nnx-array[progress]"``), else by a plain one-line fallback.
``verbose=2``: one line per epoch. Running values are read from the device only when the bar
refreshes (at most a few times a second), never on every batch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from nnx.callbacks.base import Callback, Logs

REFRESH_SECONDS = 0.25


__all__ = ["REFRESH_SECONDS", "ProgbarLogger", "format_logs"]


def format_logs(logs: dict[str, float]) -> str:
    """``"loss: 0.1234 - accuracy: 0.9000"``.

    >>> format_logs({"loss": 0.12345, "accuracy": 0.9})
    'loss: 0.1235 - accuracy: 0.9000'
    """
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """Print training progress.

    Args:
        verbose: 1 for a live bar per epoch, 2 for one line per epoch.
        running: a callable returning the running epoch logs as floats (it synchronises).

    >>> ProgbarLogger(verbose=2).verbose
    2
    """

    def __init__(
        self, verbose: int = 1, running: Callable[[], dict[str, float]] | None = None
    ) -> None:
        super().__init__()
        self.verbose = verbose
        self.running = running
        self._bar: Any = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch
        self._start = self._last = time.perf_counter()
        self._steps = self.params.get("steps") or 0
        if self.verbose == 1:
            self._bar = _make_bar(f"Epoch {epoch + 1}/{self.params.get('epochs')}", self._steps)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.perf_counter()
        if now - self._last >= REFRESH_SECONDS and self.running is not None:
            self._last = now
            self._bar.set_postfix_str(format_logs(self.running()), refresh=True)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        seconds = time.perf_counter() - self._start
        text = format_logs(dict(logs or {}))
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            print(
                f"Epoch {epoch + 1}/{self.params.get('epochs')} - {seconds:.2f}s - {text}",
                flush=True,
            )


def _make_bar(description: str, total: int) -> Any:
    try:
        tqdm = _tqdm_class()
    except ImportError:
        return _PlainBar(description, total)
    return tqdm(
        total=total or None,  # 0: unknown (a generator without steps_per_epoch)
        desc=description,
        unit="batch",
        leave=True,
        dynamic_ncols=True,
        mininterval=REFRESH_SECONDS,
        file=sys.stdout,
    )


def _tqdm_class() -> Any:
    """tqdm's widget bar (``tqdm.auto``) only when ipywidgets can be imported, else its text bar.

    ``tqdm.auto`` in a Jupyter kernel without ipywidgets warns "IProgress not found" (a
    ``TqdmWarning`` a student can do nothing about) before falling back to text; asking for the
    text bar directly prints the same bar without the warning.
    """
    import importlib.util

    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm


class _PlainBar:
    """A minimal stand-in for tqdm: one carriage-return line with ETA."""

    def __init__(self, description: str, total: int) -> None:
        self.description, self.total, self.n = description, total, 0
        self.postfix = ""
        self.start = time.perf_counter()

    def update(self, n: int) -> None:
        self.n += n

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text
        if refresh:
            self._draw()

    def _draw(self, final: bool = False) -> None:
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.n * (self.total - self.n) if self.n else 0.0
        width = 20
        filled = int(width * self.n / self.total) if self.total else width
        timing = f"{elapsed:.1f}s" if final or not self.total else f"ETA {eta:.1f}s"
        line = (
            f"\r{self.description} [{'=' * filled}{'.' * (width - filled)}] "
            f"{self.n}/{self.total or '?'} {timing} {self.postfix}"
        )
        sys.stdout.write(line + ("\n" if final else ""))
        sys.stdout.flush()

    def close(self) -> None:
        self._draw(final=True)
