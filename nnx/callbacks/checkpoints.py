"""Checkpoint callbacks: ``ModelCheckpoint`` and ``BackupAndRestore`` (Keras's names).

Every file is written atomically (temporary file, flush, fsync, rename), so a process killed at
any moment leaves the previous checkpoint or the new one on disk, never a torn file. A full
checkpoint holds the weights, the optimizer state (slots and ``iterations``) and the state of
every random generator (the model's shuffling stream and each layer's, e.g. dropout masks), so
``fit(..., initial_epoch=k)`` after loading the checkpoint written at the end of epoch ``k``
continues the very same run: on NumPy the final weights equal the uninterrupted run's bit for
bit.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Any

from nnx.callbacks.base import Callback, Logs
from nnx.saving import files as io

__all__ = ["BackupAndRestore", "ModelCheckpoint"]


def _check_freq(who: str, save_freq: Any) -> str | int:
    if save_freq == "epoch" or (
        isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0
    ):
        return save_freq
    raise ValueError(
        f"{who}: save_freq must be 'epoch' or a positive int (batches), "
        f"received save_freq={save_freq!r}."
    )


def _finite(model: Any) -> bool:
    """Whether every float weight is finite (one device read; saving reads them anyway)."""
    xp = model.backend.xp
    flags = [
        xp.all(xp.isfinite(p.value))
        for p in model.parameters()
        if xp.isdtype(p.value.dtype, "real floating")
    ]
    return not flags or bool(xp.all(xp.stack(flags)))


def _save_if_finite(who: str, model: Any, path: str, weights_only: bool, **extra: Any) -> bool:
    """Save unless a weight is NaN/Inf (then warn and keep the previous file)."""
    if not _finite(model):
        warnings.warn(
            f"{who}: not saving {path!r}: the model has NaN or infinite weights "
            f"({', '.join(f'{k}={v}' for k, v in extra.items())}); the previous file is kept.",
            RuntimeWarning,
            stacklevel=4,
        )
        return False
    if weights_only:
        io.save_weights(model, path)
    else:
        io.save(model, path, **extra)
    return True


class ModelCheckpoint(Callback):
    """Save the model (or its weights) during training.

    Args:
        filepath: where to write; may hold ``str.format`` fields filled from ``epoch``
            (1-based) and the epoch logs, e.g. ``"ckpt-{epoch:03d}-{val_loss:.3f}.nnx"``.
        monitor: the log key compared when ``save_best_only`` (e.g. ``"val_loss"``).
        verbose: 1 prints a line per save.
        save_best_only: only write when ``monitor`` improved on the best value so far.
        save_weights_only: write :meth:`~nnx.Sequential.save_weights` files instead of full
            models (which hold the optimizer and RNG state needed for an exact resume).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names).
        save_freq: ``"epoch"``, or an int: every that many batches (the batch loss is the only
            quantity known then; reading it synchronises the device, once per save).
        initial_value_threshold: a value ``monitor`` must beat for the first save.

    >>> ModelCheckpoint("best.nnx", save_best_only=True).mode
    'min'
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"ModelCheckpoint: mode must be 'auto', 'min' or 'max', received mode={mode!r}."
            )
        if mode == "auto":
            accuracy_like = ("acc", "auc", "precision", "recall", "f1", "r2")
            mode = "max" if any(k in monitor for k in accuracy_like) else "min"
        self.filepath = os.fspath(filepath)
        self.monitor, self.verbose, self.mode = monitor, verbose, mode
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq = _check_freq("ModelCheckpoint", save_freq)
        default = math.inf if mode == "min" else -math.inf
        self.best = default if initial_value_threshold is None else initial_value_threshold
        self._batches = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % int(self.save_freq) == 0:
            loss = (logs or {}).get("loss")
            values = {} if loss is None else {"loss": float(loss)}
            self._save(self._epoch, values, {"epoch": self._epoch, "batch": batch + 1})

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch + 1, dict(logs or {}), {"epoch": epoch + 1})

    def _save(self, epoch: int, logs: dict[str, float], extra: dict[str, Any]) -> None:
        assert self.model is not None
        if not all(math.isfinite(v) for v in logs.values() if isinstance(v, float)):
            warnings.warn(
                f"ModelCheckpoint: not saving at epoch {epoch}, non-finite logs {logs}.",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(
                    f"ModelCheckpoint: monitor {self.monitor!r} is not in the logs "
                    f"(available: {', '.join(sorted(logs))}); saving nothing.",
                    stacklevel=3,
                )
                return
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        try:
            path = self.filepath.format(epoch=epoch, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"ModelCheckpoint: cannot fill filepath={self.filepath!r} from epoch and "
                f"the logs {sorted(logs)}: {error!r}"
            ) from None
        saved = _save_if_finite(
            "ModelCheckpoint", self.model, path, self.save_weights_only, **extra
        )
        if saved and self.verbose:
            print(f"Epoch {epoch}: saved model to {path}")


class BackupAndRestore(Callback):
    """Back up the whole training state each epoch and resume from it after a crash.

    Re-run the same script with the same callback after the process died: ``fit`` restores the
    weights, optimizer state and random generators from ``backup_dir`` and continues at the
    epoch after the last backup, as ``fit(..., initial_epoch=k)`` would, and ends exactly where
    the uninterrupted run would have (bit for bit on NumPy).

    Args:
        backup_dir: a directory for the backup file (``latest.nnx``).
        save_freq: ``"epoch"`` (resumable exactly), or every that many batches (a resume then
            restarts the interrupted epoch from the weights of mid-epoch).
        delete_checkpoint: delete the backup when ``fit`` finishes normally.

    >>> BackupAndRestore("/tmp/run").save_freq
    'epoch'
    """

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        save_freq: str | int = "epoch",
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = _check_freq("BackupAndRestore", save_freq)
        self.delete_checkpoint = delete_checkpoint
        self.path = os.path.join(self.backup_dir, "latest.nnx")
        self._batches = 0
        self._epoch = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        assert self.model is not None
        if not os.path.exists(self.path):
            return
        arrays, meta = io.read(self.path)
        io.restore_state(self.model, arrays, meta.get("state", {}))
        # NOTE: read by the fit loop right after on_train_begin; see nnx/training.py.
        self.model._resume_epoch = int(meta.get("extra", {}).get("epoch", 0))  # type: ignore[attr-defined]

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.save_freq != "epoch":
            self._batches += 1
            if self._batches % int(self.save_freq) == 0:
                _save_if_finite(
                    "BackupAndRestore",
                    self.model,
                    self.path,
                    False,
                    epoch=self._epoch,
                    batch=batch + 1,
                )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        _save_if_finite("BackupAndRestore", self.model, self.path, False, epoch=epoch + 1)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.delete_checkpoint and os.path.exists(self.path):
            os.unlink(self.path)
