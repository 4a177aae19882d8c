"""``EarlyStopping``: stop training when a monitored quantity stops improving."""

from __future__ import annotations

import math
import warnings
from typing import Any

from nnx.callbacks.base import Callback, Logs

__all__ = ["EarlyStopping"]


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
