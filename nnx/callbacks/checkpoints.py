"""Checkpoint callbacks: ``ModelCheckpoint`` and ``BackupAndRestore`` (Keras's names).

Every file is written atomically (temporary file, flush, fsync, rename), so a process killed at
any moment leaves the previous checkpoint or the new one on disk, never a torn file. A full
checkpoint holds the weights, the optimizer state (slots and ``iterations``) and the state of
every random generator (the model's shuffling stream and each layer's, e.g. dropout masks), so
``fit(..., initial_epoch=k)`` after loading the checkpoint written at the end of epoch ``k``
continues the very same run: on NumPy the final weights equal the uninterrupted run's bit for
bit. Each file's metadata records ``extra={"epoch": epochs completed[, "batch": batches
completed in the epoch in progress]}``.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from typing import Any

from nnx.callbacks.base import Callback, Logs
from nnx.callbacks.monitor import MonitorCallback
from nnx.saving import (
    NonFiniteWeightsError,
    read,
    restore_state,
    save,
    save_weights,
    writes_files,
)
from nnx.validation import check_bool, is_int

__all__ = ["BackupAndRestore", "ModelCheckpoint"]


def _check_freq(who: str, save_freq: Any) -> str | int:
    if save_freq == "epoch" or (is_int(save_freq) and save_freq > 0):
        return save_freq if save_freq == "epoch" else int(save_freq)
    raise ValueError(
        f"{who}: save_freq must be 'epoch' or a positive int (batches), "
        f"received save_freq={save_freq!r}."
    )


def _check_writable(who: str, directory: str) -> None:
    """Create ``directory`` if needed and write (then delete) a probe file in it, so a
    read-only or impossible place fails when ``fit`` starts, not after the first epoch."""
    directory = directory or "."
    try:
        os.makedirs(directory, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".nnx-probe-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise type(error)(
            error.errno,
            f"{who}: cannot write to {directory!r} ({error.strerror}); checked when fit "
            "starts, before any epoch is trained",
        ) from None


def _save_if_finite(who: str, model: Any, path: str, weights_only: bool, **extra: Any) -> bool:
    """Save unless a weight is NaN/Inf (then warn and keep the previous file). The check runs
    on the host copy that saving transfers anyway: one device read per save."""
    try:
        if weights_only:
            save_weights(model, path, finite_only=True)
        else:
            save(model, path, finite_only=True, **extra)
    except NonFiniteWeightsError as error:
        warnings.warn(
            f"{who}: {error} ({', '.join(f'{k}={v}' for k, v in extra.items())}); the previous "
            "file is kept.",
            RuntimeWarning,
            stacklevel=4,
        )
        return False
    return True


class ModelCheckpoint(MonitorCallback):
    """Save the model (or its weights) during training.

    File names count as Keras does: ``{epoch}`` is the 1-based number of the epoch the save
    belongs to (at an epoch end, the epoch just finished; with ``save_freq=N``, the epoch in
    progress), and ``{batch}``, filled for ``save_freq=N`` saves only, is the 1-based number
    of the batch just finished within that epoch. With 6 batches per epoch, ``save_freq=4`` and
    ``"b-{epoch}-{batch}.nnx"`` write ``b-1-4``, ``b-2-2``, ``b-2-6``; ``"e-{epoch}.nnx"`` at
    epoch ends writes ``e-1``, ``e-2``.

    Args:
        filepath: where to write; may hold ``str.format`` fields ``{epoch}``, ``{batch}`` and
            the epoch logs, e.g. ``"ckpt-{epoch:03d}-{val_loss:.3f}.nnx"``.
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
        super().__init__(monitor, mode, baseline=initial_value_threshold, who="ModelCheckpoint")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = check_bool(save_best_only, "save_best_only", who="ModelCheckpoint")
        self.save_weights_only = check_bool(
            save_weights_only, "save_weights_only", who="ModelCheckpoint"
        )
        self.save_freq = _check_freq("ModelCheckpoint", save_freq)
        self.best = self.worst if initial_value_threshold is None else initial_value_threshold
        self._batches = 0
        self._epoch = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        static = self.filepath.split("{", 1)[0]  # the folders before any {field}
        _check_writable("ModelCheckpoint", os.path.dirname(static))

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % int(self.save_freq) == 0:
            loss = (logs or {}).get("loss")
            values = {} if loss is None else {"loss": float(loss)}
            names = {"epoch": self._epoch + 1, "batch": batch + 1}
            self._save(values, names, {"epoch": self._epoch, "batch": batch + 1})

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(dict(logs or {}), {"epoch": epoch + 1}, {"epoch": epoch + 1})

    def _save(self, logs: dict[str, float], names: dict[str, int], extra: dict[str, int]) -> None:
        """Write the file named from ``names`` and ``logs``; ``extra`` goes into its metadata."""
        epoch = names["epoch"]
        if not all(math.isfinite(v) for v in logs.values() if isinstance(v, float)):
            warnings.warn(
                f"ModelCheckpoint: not saving at epoch {epoch}, non-finite logs {logs}.",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        if self.save_best_only:
            value = self.monitored(logs, warn="; saving nothing")
            if value is None or not self.is_improvement(value, self.best):
                return
            self.best = value
        try:
            path = self.filepath.format(**names, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"ModelCheckpoint: cannot fill filepath={self.filepath!r} from "
                f"{sorted(names)} and the logs {sorted(logs)}: {error!r}"
            ) from None
        saved = _save_if_finite(
            "ModelCheckpoint", self.model, path, self.save_weights_only, **extra
        )
        if saved and self.verbose:
            print(f"Epoch {epoch}: saved model to {path}")


class BackupAndRestore(Callback):
    """Back up the whole training state each epoch and resume from it after a crash.

    Re-run the same script with the same callback after the process died: ``fit`` restores the
    weights, optimizer state and random generators from ``backup_dir`` in ``on_train_begin``
    and sets :attr:`resume_epoch`, which ``fit`` reads (and clears) to continue at the epoch
    after the last backup, as ``fit(..., initial_epoch=k)`` would; it ends exactly where the
    uninterrupted run would have (bit for bit on NumPy). The start epoch lives in that ``fit``
    call alone: a later ``fit`` never inherits it.

    The backup is deleted only when ``fit`` finishes normally (all epochs, or a callback's
    early stop). When the non-finite guard stops ``fit``, or an exception or a Ctrl-C ends it,
    the last backup stays: the next run resumes from it. The backup directory is checked for
    writing when ``fit`` starts.

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
        self.delete_checkpoint = check_bool(
            delete_checkpoint, "delete_checkpoint", who="BackupAndRestore"
        )
        self.path = os.path.join(self.backup_dir, "latest.nnx")
        self._batches = 0
        self._epoch = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.resume_epoch = 0
        _check_writable("BackupAndRestore", self.backup_dir)
        if os.path.exists(self.path):
            arrays, meta = read(self.path)
            restore_state(self.model, arrays, meta.get("state", {}))
            self.resume_epoch = int(meta.get("extra", {}).get("epoch", 0))

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.save_freq != "epoch":
            self._batches += 1
            if self._batches % int(self.save_freq) == 0:
                self._backup(epoch=self._epoch, batch=batch + 1)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._backup(epoch=epoch + 1)

    def _backup(self, **extra: int) -> None:
        _save_if_finite("BackupAndRestore", self.model, self.path, False, **extra)

    def on_train_end(self, logs: Logs | None = None) -> None:
        history = getattr(self.model, "history", None)
        stopped_on_nonfinite = getattr(history, "nonfinite", None) is not None
        if (
            self.delete_checkpoint
            and not stopped_on_nonfinite
            and writes_files()
            and os.path.exists(self.path)
        ):
            os.unlink(self.path)
