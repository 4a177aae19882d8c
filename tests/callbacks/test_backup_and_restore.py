"""BackupAndRestore: a crashed run restarted with the same script ends where the uninterrupted
run would have; the resume goes through the declared ``resume_epoch`` channel."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nnx
from nnx.callbacks import BackupAndRestore, Callback
from nnx.layers import Dense, Dropout


def _data(n=48):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] > 0).astype("float32")
    return x, y


def _model():
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(4,)), Dropout(0.3), Dense(1, "sigmoid")],
        seed=7,
    )
    model.compile(nnx.optimizers.Adam(0.01), "binary_crossentropy", ["accuracy"])
    return model


def _same(a, b):
    return all(x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))


class _Crash(Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt("simulated crash")


def test_backup_and_restore_resumes_the_same_run(tmp_path):
    x, y = _data()
    reference = _model()
    reference.fit(x, y, epochs=5, batch_size=8, verbose=0)
    backup = BackupAndRestore(tmp_path / "backup")
    crashed = _model()
    with pytest.raises(KeyboardInterrupt):
        crashed.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[backup, _Crash(3)])
    assert os.path.exists(backup.path)
    restarted = _model()  # a new process: same script, fresh model
    history = restarted.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[backup])
    assert backup.resume_epoch == 0  # set in on_train_begin, read and cleared by fit
    assert history.epoch == [3, 4]
    assert _same(reference.get_weights(), restarted.get_weights())
    assert not os.path.exists(backup.path)  # deleted after a normal end


def test_without_a_backup_nothing_is_resumed_and_initial_epoch_still_counts(tmp_path):
    x, y = _data()
    backup = BackupAndRestore(tmp_path / "none")
    history = _model().fit(x, y, epochs=3, verbose=0, callbacks=[backup], initial_epoch=1)
    assert backup.resume_epoch == 0 and history.epoch == [1, 2]


class _CrashAtStep(Callback):
    def __init__(self, step):
        super().__init__()
        self.step, self.seen = step, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            raise KeyboardInterrupt("simulated crash")


def test_a_batch_backup_restarts_the_interrupted_epoch(tmp_path):
    x, y = _data()  # 6 batches per epoch
    backup = BackupAndRestore(tmp_path / "b", save_freq=4, delete_checkpoint=False)
    crashed = _model()
    with pytest.raises(KeyboardInterrupt):  # during the 17th step: 5th batch of epoch index 2
        crashed.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[backup, _CrashAtStep(17)])
    _, meta = nnx.saving.read(backup.path)
    assert meta["extra"] == {"epoch": 2, "batch": 4}  # after the 16th step
    restarted = _model()
    history = restarted.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[backup])
    assert history.epoch == [2] and restarted.optimizer.iterations == 16 + 6
