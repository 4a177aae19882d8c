"""Callbacks: hooks into ``fit``/``evaluate``/``predict`` with Keras's names.

Batch-level ``logs`` hold 0-d arrays of the model's backend (``float(v)`` reads one and
synchronises the device: do it only when needed); epoch-level ``logs`` hold Python floats.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nnx.models import Sequential

Logs = dict[str, Any]

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "ModelCheckpoint",
    "BackupAndRestore",
]


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


class EarlyStopping(Callback):
    """Stop training when a monitored quantity stops improving.

    Args:
        monitor: a key of the epoch logs, e.g. ``"val_loss"``.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names).
        baseline: a value the monitored quantity must beat.
        restore_best_weights: at the end, restore the weights of the best epoch.
        verbose: 1 prints a message when stopping.

    >>> EarlyStopping(monitor="val_loss", patience=5).mode
    'min'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"EarlyStopping: mode must be 'auto', 'min' or 'max', received mode={mode!r}."
            )
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, received {patience}.")
        if mode == "auto":
            mode = (
                "max"
                if any(k in monitor for k in ("acc", "auc", "precision", "recall", "f1", "r2"))
                else "min"
            )
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.verbose, self.mode, self.baseline = verbose, mode, baseline
        self.restore_best_weights = restore_best_weights

    def _improved(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights: list[Any] | None = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"EarlyStopping: monitor {self.monitor!r} is not in the logs "
                f"(available: {', '.join(sorted(logs or {}))}).",
                stacklevel=2,
            )
            return
        assert self.model is not None
        self.wait += 1
        if self._improved(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights(copy=True, host=False)
            if self.baseline is None or self._improved(value, self.baseline):
                self.wait = 0
                return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        assert self.model is not None
        if self.stopped_epoch and self.verbose:
            print(
                f"Epoch {self.stopped_epoch + 1}: early stopping "
                f"(best {self.monitor}={self.best:.4g} at epoch {self.best_epoch + 1})."
            )
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


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


# NOTE: at the bottom: these modules subclass Callback, defined above.
from nnx.checkpoints import BackupAndRestore, ModelCheckpoint  # noqa: E402
from nnx.lr_callbacks import LearningRateScheduler, ReduceLROnPlateau  # noqa: E402
