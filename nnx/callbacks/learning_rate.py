"""Callbacks that change the learning rate between epochs (re-exported by ``nnx.callbacks``).

Both set ``model.optimizer.learning_rate`` to a python float and add ``"learning_rate"`` to the
epoch logs, so ``history.history["learning_rate"]`` records the rate of every epoch.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from nnx.callbacks.base import Callback, Logs

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


def _record(cb: Callback, logs: Logs | None, lr: float) -> None:
    """Put the rate in the epoch logs and in History (which has already read the logs)."""
    if logs is not None:
        logs["learning_rate"] = lr
    history = getattr(cb.model, "history", None)
    if history is not None:
        rates = history.history.setdefault("learning_rate", [])
        if len(rates) < len(history.epoch):
            rates.append(lr)


def _optimizer(cb: Callback) -> Any:
    if cb.model is None or cb.model.optimizer is None:
        raise RuntimeError(f"{type(cb).__name__} needs a compiled model (call compile first).")
    return cb.model.optimizer


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch[, lr])``.

    Args:
        schedule: ``f(epoch) -> lr`` or Keras's ``f(epoch, lr) -> lr`` (``epoch`` 0-based);
            an :mod:`nnx.schedules` object works too, read per epoch.
        verbose: 1 prints the new rate each epoch.

    >>> from nnx.schedules import StepDecay
    >>> LearningRateScheduler(StepDecay(0.1, rate=0.5, steps=10)).schedule(10)
    0.05
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {schedule!r}.")
        self.schedule, self.verbose = schedule, verbose
        try:
            params = inspect.signature(schedule).parameters.values()
            required = [p for p in params if p.default is p.empty and p.kind.name != "VAR_KEYWORD"]
            self._two_args = len(required) >= 2
        except (TypeError, ValueError):
            self._two_args = False

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = _optimizer(self)
        lr = (
            self.schedule(epoch, optimizer.learning_rate)
            if self._two_args
            else self.schedule(epoch)
        )
        lr = float(lr)
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(
                f"LearningRateScheduler: schedule returned lr={lr!r} at epoch {epoch}."
            )
        optimizer.learning_rate = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr:.6g}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        _record(self, logs, float(_optimizer(self).learning_rate))


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    Args:
        monitor: an epoch-log key, e.g. ``"val_loss"``.
        factor: the multiplier, in ``(0, 1)``.
        patience: epochs without improvement before reducing.
        verbose: 1 prints each reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names).
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate is never reduced below this.

    >>> ReduceLROnPlateau(monitor="val_accuracy").mode
    'max'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0.0 < factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), received {factor!r}.")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be auto/min/max, received {mode!r}.")
        if mode == "auto":
            accuracy_like = ("acc", "auc", "precision", "recall", "f1", "r2")
            mode = "max" if any(k in monitor for k in accuracy_like) else "min"
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.mode, self.min_delta, self.cooldown, self.min_lr = mode, min_delta, cooldown, min_lr

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs if logs is not None else {}
        optimizer = _optimizer(self)
        _record(self, logs, float(optimizer.learning_rate))
        value = logs.get(self.monitor)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value):
            self.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = float(optimizer.learning_rate)
            new = max(old * self.factor, self.min_lr)
            if old - new > 1e-12:
                optimizer.learning_rate = new
                if self.verbose:
                    print(
                        f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:.6g}."
                    )
            self.cooldown_counter, self.wait = self.cooldown, 0
