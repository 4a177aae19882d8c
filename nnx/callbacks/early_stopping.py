"""``EarlyStopping``: stop training when a monitored quantity stops improving."""

from __future__ import annotations

from typing import Any

from nnx.callbacks.base import Logs
from nnx.callbacks.monitor import MonitorCallback
from nnx.validation import check_bool, check_int

__all__ = ["EarlyStopping"]


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored quantity stops improving.

    Each epoch without an improvement on the best value so far (by more than ``min_delta``)
    counts one; ``patience`` of them in a row stop training. An improvement that does not beat
    ``baseline`` updates the best value but does not reset the count.

    Args:
        monitor: a key of the epoch logs, e.g. ``"val_loss"``.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a message when stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names).
        baseline: a value the monitored quantity must beat.
        restore_best_weights: at the end, restore the weights of the best epoch.

    Attributes:
        best, best_epoch: the best value and its (0-based) epoch.
        stopped_epoch: the epoch at whose end training stopped (0 when it did not).

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
        super().__init__(monitor, mode, min_delta, baseline, who="EarlyStopping")
        self.patience = check_int(patience, "patience", who="EarlyStopping", minimum=0)
        self.restore_best_weights = check_bool(
            restore_best_weights, "restore_best_weights", who="EarlyStopping"
        )
        self.verbose = verbose
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best = self.worst
        self.best_weights: list[Any] | None = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = self.monitored(logs, warn="")
        if value is None:
            return
        self.wait += 1
        if self.is_improvement(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights(copy=True, host=False)
            if self.beats_baseline(value):
                self.wait = 0
                return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch and self.verbose:
            print(
                f"Epoch {self.stopped_epoch + 1}: early stopping "
                f"(best {self.monitor}={self.best:.4g} at epoch {self.best_epoch + 1})."
            )
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
