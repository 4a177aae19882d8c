"""BackupAndRestore never loses a backup (nnx 0.1 deleted it when the non-finite guard stopped
fit), its resume marker cannot leak into a later fit, and an unwritable checkpoint place fails
when fit starts, not after the first epoch."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nnx
from nnx.callbacks import BackupAndRestore, Callback, ModelCheckpoint
from nnx.layers import Dense
from nnx.saving import read
from nnx.training.nonfinite import NonFiniteWarning


def _model(lr=0.01):
    model = nnx.Sequential([Dense(1, input_shape=(1,))], seed=0)
    model.compile(nnx.optimizers.SGD(lr), "mse")
    return model


X, Y = np.linspace(-1, 1, 16)[:, None], np.linspace(-1, 1, 16)[:, None]


class _BlowUpAt(Callback):
    """Sets a huge learning rate from ``epoch`` on, so that epoch's update overflows."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.optimizer.learning_rate = 1e38
            self.model.set_weights([np.full((1, 1), 1e30), np.zeros(1)])


class _Raise(Callback):
    def __init__(self, hook, error):
        super().__init__()
        setattr(self, hook, self._raise)
        self.error = error

    def _raise(self, *args, **kwargs):
        raise self.error


def test_a_guard_stop_keeps_the_last_good_backup(tmp_path):
    backup = BackupAndRestore(tmp_path / "b")
    model = _model()
    with np.errstate(all="ignore"), pytest.warns(NonFiniteWarning):
        history = model.fit(
            X, Y, epochs=5, batch_size=16, verbose=0, callbacks=[backup, _BlowUpAt(2)]
        )
    assert history.nonfinite is not None and history.nonfinite["epoch"] == 2
    assert os.path.exists(backup.path)
    arrays, meta = read(backup.path)
    assert meta["extra"] == {"epoch": 2}
    assert all(np.isfinite(v).all() for k, v in arrays.items() if k.startswith("weights/"))


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_exception_or_interrupt_keeps_the_backup(tmp_path, error):
    backup = BackupAndRestore(tmp_path / "b")
    with pytest.raises(type(error)):
        _model().fit(
            X,
            Y,
            epochs=5,
            batch_size=8,
            verbose=0,
            callbacks=[backup, _Raise("on_epoch_end", error)],
        )
    assert os.path.exists(backup.path)


def test_a_normal_finish_deletes_the_backup(tmp_path):
    backup = BackupAndRestore(tmp_path / "b")
    _model().fit(X, Y, epochs=2, batch_size=8, verbose=0, callbacks=[backup])
    assert not os.path.exists(backup.path)


def test_a_stale_resume_marker_does_not_skip_epochs_of_a_later_fit(tmp_path):
    backup = BackupAndRestore(tmp_path / "b")
    model = _model()
    with pytest.raises(KeyboardInterrupt):  # a backup at the end of epoch 3, then a crash
        model.fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[backup, _CrashAt(3)])
    assert read(backup.path)[1]["extra"] == {"epoch": 3}
    # a resume whose start fails after the backup was restored (a later callback raises)
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(
            X,
            Y,
            epochs=5,
            verbose=0,
            callbacks=[backup, _Raise("on_train_begin", RuntimeError("boom"))],
        )
    history = model.fit(X, Y, epochs=5, batch_size=8, verbose=0)  # a plain fit
    assert history.epoch == [0, 1, 2, 3, 4]
    assert backup.resume_epoch == 3  # still on the callback that set it, nowhere else
    again = model.fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[backup])
    assert again.epoch == [3, 4] and backup.resume_epoch == 0


class _CrashAt(Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize(
    "make",
    [
        lambda where: BackupAndRestore(where / "backups"),
        lambda where: ModelCheckpoint(str(where / "ckpt" / "m-{epoch}.nnx"), monitor="loss"),
        lambda where: ModelCheckpoint(str(where / "{epoch}" / "m.nnx"), monitor="loss"),
    ],
)
def test_an_unwritable_checkpoint_place_fails_before_the_first_epoch(tmp_path, make):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    model = _model()
    with pytest.raises(OSError, match="cannot write to .*checked when fit starts"):
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[make(blocker)])
    assert model.optimizer.iterations == 0  # no epoch was trained


def test_a_writable_place_leaves_no_probe_behind(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "m-{epoch}.nnx"), monitor="loss")
    _model().fit(X, Y, epochs=1, verbose=0, callbacks=[checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["m-1.nnx"]
