"""Callbacks: hooks into ``fit``/``evaluate``/``predict`` with Keras's names.

Batch-level ``logs`` hold 0-d arrays of the model's backend (``float(v)`` reads one and
synchronises the device: do it only when needed); epoch-level ``logs`` hold Python floats.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nnx.models import Sequential

Logs = dict[str, Any]

__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "Logs", "TerminateOnNaN"]


class Callback:
    """Base class. Override any hook; ``self.model`` and ``self.params`` are set by ``fit``.

    >>> class Printer(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(epoch, sorted(logs))
    """

    def __init__(self) -> None:
        self.model: Sequential | None = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Sequential) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None: ...
    def on_train_end(self, logs: Logs | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_test_begin(self, logs: Logs | None = None) -> None: ...
    def on_test_end(self, logs: Logs | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_begin(self, logs: Logs | None = None) -> None: ...
    def on_predict_end(self, logs: Logs | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...


class CallbackList(Callback):
    """Dispatch every hook to a list of callbacks, in order."""

    def __init__(
        self, callbacks: list[Callback], model: Sequential, params: dict[str, Any]
    ) -> None:
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
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        #: ``{"epoch", "batch", "quantity"}`` when fit stopped on a NaN/Inf, else None
        self.nonfinite: dict[str, Any] | None = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class TerminateOnNaN(Callback):
    """Stop training as soon as the batch loss is NaN or infinite (reads it every batch)."""

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: invalid loss, terminating training.")
            assert self.model is not None
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda e, l: ...)``.

    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    >>> cb.on_epoch_end(0, {})
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        for hook_name, fn in hooks.items():
            if not hook_name.startswith("on_") or not hasattr(Callback, hook_name):
                raise ValueError(f"LambdaCallback: unknown hook {hook_name!r}.")
            setattr(self, hook_name, fn)
