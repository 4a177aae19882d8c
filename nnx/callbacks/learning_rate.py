"""Callbacks that change the learning rate between epochs.

Both set ``model.optimizer.learning_rate`` to a python float and write the epoch's rate to the
epoch logs as ``"learning_rate"``; ``History`` runs after them and records it, so
``history.history["learning_rate"]`` holds the rate of every epoch.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from nnx.callbacks.base import Callback, Logs
from nnx.callbacks.monitor import MonitorCallback
from nnx.validation import check_float, check_int

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


def _optimizer(cb: Callback) -> Any:
    if cb.model is None or cb.model.optimizer is None:
        raise RuntimeError(f"{type(cb).__name__} needs a compiled model (call compile first).")
    return cb.model.optimizer


def _log_rate(cb: Callback, logs: Logs | None) -> None:
    if logs is not None:
        logs["learning_rate"] = float(_optimizer(cb).learning_rate)


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
            self.takes_lr = len(required) >= 2
        except (TypeError, ValueError):
            self.takes_lr = False

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = _optimizer(self)
        args = (epoch, optimizer.learning_rate) if self.takes_lr else (epoch,)
        lr = float(self.schedule(*args))
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(
                f"LearningRateScheduler: schedule returned lr={lr!r} at epoch {epoch}."
            )
        optimizer.learning_rate = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr:.6g}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        _log_rate(self, logs)


class ReduceLROnPlateau(MonitorCallback):
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
        who = "ReduceLROnPlateau"
        super().__init__(monitor, mode, min_delta, who=who)
        self.factor = check_float(
            factor, "factor", who=who, minimum=0, maximum=1, minimum_open=True, maximum_open=True
        )
        self.patience = check_int(patience, "patience", who=who, minimum=0)
        self.cooldown = check_int(cooldown, "cooldown", who=who, minimum=0)
        self.min_lr = check_float(min_lr, "min_lr", who=who, minimum=0)
        self.verbose = verbose
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.best = self.worst
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        _log_rate(self, logs)
        value = self.monitored(logs)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(value, self.best):
            self.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            self._reduce(epoch)
            self.cooldown_counter, self.wait = self.cooldown, 0

    def _reduce(self, epoch: int) -> None:
        optimizer = _optimizer(self)
        old = float(optimizer.learning_rate)
        new = max(old * self.factor, self.min_lr)
        if old - new > 1e-12:
            optimizer.learning_rate = new
            if self.verbose:
                print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:.6g}.")
