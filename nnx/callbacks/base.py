"""The callback protocol: ``Callback``, ``CallbackList``, ``History`` and two small callbacks.

Batch-level ``logs`` hold 0-d arrays of the model's backend (``float(v)`` reads one and
synchronises the device: do it only when needed); epoch-level ``logs`` hold Python floats.
``fit`` calls the user's callbacks first, then ``History``, then the progress bar (as Keras
does), so a callback that adds a key to the epoch logs (``"learning_rate"``) has it recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "Logs", "TerminateOnNaN"]

#: the ``logs`` dict handed to each hook
Logs = dict[str, Any]


class Callback:
    """Base class. Override any hook; ``self.model`` and ``self.params`` are set by ``fit``.

    Attributes:
        model: the model being trained (None until ``fit`` starts).
        params: ``{"epochs", "steps", "verbose", "batch_size", "samples"}`` of the ``fit`` call.
        resume_epoch: the epoch ``fit`` should start at, which a callback may set in
            ``on_train_begin`` (as :class:`~nnx.callbacks.BackupAndRestore` does after
            restoring a backup). ``fit`` starts at the largest of its ``initial_epoch`` and
            every callback's ``resume_epoch``; the default 0 asks for nothing.

    >>> class Printer(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(epoch, sorted(logs))
    >>> Printer().on_epoch_end(0, {"loss": 0.5})
    0 ['loss']
    """

    resume_epoch: int = 0

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Attach the model being trained."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Attach the ``fit`` parameters."""
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """At the start of ``fit`` (a callback may set ``resume_epoch`` here)."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """At the end of ``fit``, also after an early stop."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Before the epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """After the epoch; ``logs`` holds its floats (``loss``, metrics, ``val_*``)."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Before the training batch ``batch`` (0-based, within the epoch)."""

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After the batch; ``logs['loss']`` is a 0-d device array."""

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Before the validation pass of an epoch."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """After the validation pass; ``logs`` holds its floats."""

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Before a validation batch (Keras's hook: nnx's loops do not call it yet)."""

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After a validation batch (Keras's hook: nnx's loops do not call it yet)."""

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """At the start of ``predict`` (Keras's hook: nnx's loops do not call it yet)."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """At the end of ``predict`` (Keras's hook: nnx's loops do not call it yet)."""

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Before a prediction batch (Keras's hook: nnx's loops do not call it yet)."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After a prediction batch (Keras's hook: nnx's loops do not call it yet)."""


class CallbackList(Callback):
    """Dispatch every hook to a list of callbacks, in order.

    Args:
        callbacks: the callbacks, in calling order.
        model: the model, given to each callback.
        params: the ``fit`` parameters, given to each callback.

    >>> seen = []
    >>> hooks = CallbackList([LambdaCallback(on_epoch_begin=lambda e, logs=None: seen.append(e))],
    ...                      model=None, params={})
    >>> hooks.on_epoch_begin(3)
    >>> seen, hooks.start_epoch(initial_epoch=2)
    ([3], 2)
    """

    def __init__(self, callbacks: list[Callback], model: Any, params: dict[str, Any]) -> None:
        super().__init__()
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be nnx.callbacks.Callback instances, "
                    f"received {type(cb).__name__}."
                )
            cb.set_model(model)
            cb.set_params(params)
        self.callbacks = callbacks

    def start_epoch(self, initial_epoch: int = 0) -> int:
        """The epoch ``fit`` starts at: the largest of ``initial_epoch`` and every callback's
        ``resume_epoch`` (read it after ``on_train_begin``, where callbacks set theirs).

        The markers are consumed: each callback's ``resume_epoch`` is back to 0 afterwards, so
        the start epoch lives in the caller alone and no later ``fit`` can inherit it."""
        start = max([initial_epoch, *(cb.resume_epoch for cb in self.callbacks)])
        for cb in self.callbacks:
            if cb.resume_epoch:
                cb.resume_epoch = 0
        return start

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):
            callbacks = object.__getattribute__(self, "callbacks")

            def dispatch(*args: Any, **kwargs: Any) -> None:
                for cb in callbacks:
                    getattr(cb, name)(*args, **kwargs)

            return dispatch
        return object.__getattribute__(self, name)


class History(Callback):
    """Records epoch logs: ``history.history["loss"]``, ``["val_loss"]``, metrics.

    Attributes:
        history: metric name -> list of per-epoch values.
        epoch: the epoch indices recorded.
        nonfinite: ``{"epoch", "batch", "quantity"}`` when ``fit`` stopped on a NaN/Inf, else
            None (see :mod:`nnx.training.nonfinite`).

    >>> h = History()
    >>> h.on_epoch_end(0, {"loss": 0.5, "learning_rate": 0.01})
    >>> h.history, h.epoch
    ({'loss': [0.5], 'learning_rate': [0.01]}, [0])
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.nonfinite: dict[str, Any] | None = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        """``<History: 3 epochs, final loss: 0.25 - accuracy: 0.9>``."""
        if not self.epoch:
            return "<History: no epochs yet>"
        final = " - ".join(
            f"{key}: {float(values[-1]):.4g}" for key, values in self.history.items() if values
        )
        n = len(self.epoch)
        return f"<History: {n} epoch{'s' if n != 1 else ''}, final {final}>"


class TerminateOnNaN(Callback):
    """Stop training once the loss is NaN or infinite, never synchronising a device per batch.

    On a host backend (NumPy) each batch loss is checked, and training stops right after the
    first bad batch, as in Keras. On a device (GPU) reading it would synchronise every step, so
    it is not read: the epoch's mean loss, which ``fit`` reads anyway, is finite exactly when
    every batch loss was, and training stops at the end of that epoch. (``fit``'s non-finite
    guard, on by default, stops at the bad batch itself on every backend.)

    >>> TerminateOnNaN().on_train_batch_end(0, {"loss": 0.5})  # finite: nothing happens
    """

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        host = isinstance(loss, int | float)
        if (host or getattr(self.model.backend, "on_host", False)) and not math.isfinite(
            float(loss)
        ):
            self._stop(f"Batch {batch}")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        stopped = self.model is not None and self.model.stop_training
        if isinstance(loss, int | float) and not math.isfinite(loss) and not stopped:
            self._stop(f"Epoch {epoch}")

    def _stop(self, where: str) -> None:
        print(f"{where}: invalid loss, terminating training.")
        self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda e, l: ...)``.

    Args:
        **hooks: hook name (``on_epoch_end``...) -> function taking the hook's arguments.

    Raises:
        ValueError: a name that is not a hook.

    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch))
    >>> cb.on_epoch_end(2, {})
    2
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        for hook_name, fn in hooks.items():
            if not hook_name.startswith("on_") or not hasattr(Callback, hook_name):
                raise ValueError(f"LambdaCallback: unknown hook {hook_name!r}.")
            setattr(self, hook_name, fn)
