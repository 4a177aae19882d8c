"""ModelCheckpoint, BackupAndRestore and exact resume; SIGKILL during saves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import nnx
from nnx.callbacks import BackupAndRestore, Callback, ModelCheckpoint
from nnx.layers import Dense, Dropout

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _data(n=48):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] > 0).astype("float32")
    return x, y


def _model(backend="numpy"):
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(4,)), Dropout(0.3), Dense(1, "sigmoid")],
        backend=backend,
        seed=7,
    )
    model.compile(nnx.optimizers.Adam(0.01), "binary_crossentropy", ["accuracy"])
    return model


def _same(a, b):
    return all(x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))


def test_resume_from_checkpoint_is_bit_exact(backend, tmp_path):
    x, y = _data()
    pattern = str(tmp_path / "ckpt-{epoch}.nnx")
    full = _model(backend)
    full.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[ModelCheckpoint(pattern)])
    assert sorted(os.listdir(tmp_path)) == [f"ckpt-{e}.nnx" for e in (1, 2, 3, 4)]
    resumed = nnx.load(pattern.format(epoch=2), backend=backend)
    history = resumed.fit(x, y, epochs=4, batch_size=8, verbose=0, initial_epoch=2)
    assert history.epoch == [2, 3]
    assert _same(full.get_weights(), resumed.get_weights())
    assert resumed.optimizer.iterations == full.optimizer.iterations == 24


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
    assert history.epoch == [3, 4]
    assert _same(reference.get_weights(), restarted.get_weights())
    assert not os.path.exists(backup.path)  # deleted after a normal end


def test_save_best_only_and_weights_only(tmp_path):
    x, y = _data()
    model = _model()
    best = ModelCheckpoint(
        tmp_path / "best.nnx", monitor="val_loss", save_best_only=True, verbose=0
    )
    weights = ModelCheckpoint(tmp_path / "w-{epoch:02d}.nnx", save_weights_only=True)
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[best, weights])
    assert best.best == min(history.history["val_loss"])
    assert os.path.exists(tmp_path / "w-03.nnx")
    other = _model()
    other.build((4,))
    other.load_weights(tmp_path / "w-03.nnx")
    assert _same(model.get_weights(), other.get_weights())
    assert nnx.load(tmp_path / "best.nnx").optimizer.iterations > 0


def test_save_freq_in_batches(tmp_path):
    x, y = _data()
    saves = []

    class Spy(ModelCheckpoint):
        def _save(self, epoch, logs, extra):
            saves.append(extra)
            super()._save(epoch, logs, extra)

    spy = Spy(tmp_path / "b.nnx", save_freq=4)
    _model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[spy])
    assert saves == [{"epoch": 0, "batch": 4}, {"epoch": 1, "batch": 2}, {"epoch": 1, "batch": 6}]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"save_freq": 0}, "save_freq must be 'epoch' or a positive int"),
        ({"save_freq": "batch"}, "save_freq must be"),
        ({"mode": "up"}, "mode must be one of 'auto', 'min', 'max', received mode='up'"),
    ],
)
def test_checkpoint_arguments_are_validated(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        ModelCheckpoint(tmp_path / "x", **kwargs)


def test_unknown_filepath_field_is_a_clear_error(tmp_path):
    x, y = _data()
    cb = ModelCheckpoint(str(tmp_path / "{nope}.nnx"))
    with pytest.raises(ValueError, match="cannot fill filepath"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[cb])


CHILD = textwrap.dedent(
    """
    import sys, numpy as np, nnx
    from nnx.callbacks import ModelCheckpoint
    from nnx.layers import Dense
    path = sys.argv[1]
    x = np.random.default_rng(0).normal(size=(64, 64)).astype("float32")
    y = x[:, :2].copy()
    model = nnx.Sequential([Dense(512, "relu", input_shape=(64,)), Dense(2)], seed=0)
    model.compile("adam", "mse")
    cb = ModelCheckpoint(path, save_freq=1)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[cb])
    print("ready", flush=True)
    model.fit(x, y, epochs=10**6, batch_size=8, verbose=0, callbacks=[cb])
    """
)


def test_sigkill_at_random_moments_never_leaves_an_unloadable_checkpoint(tmp_path):
    """Kill a process that checkpoints after every batch, many times, at random moments."""
    path = str(tmp_path / "latest.nnx")
    rng = np.random.default_rng(1234)
    env = {**os.environ, "PYTHONPATH": ROOT}
    kills, loads, mid_write, deadline = 0, 0, 0, time.monotonic() + 30
    while kills < 40 and time.monotonic() < deadline:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, path], stdout=subprocess.PIPE, env=env, cwd=ROOT
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(float(rng.uniform(0.0, 0.05)))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        kills += 1
        model = nnx.load(path)  # must never raise
        assert model.count_params() == 64 * 512 + 512 + 512 * 2 + 2
        loads += 1
        torn = [f for f in os.listdir(tmp_path) if f.endswith(".part")]
        mid_write += len(torn)  # a temporary file left behind: killed during a save
        for f in torn:
            os.unlink(tmp_path / f)
    assert kills >= 20 and loads == kills
    print(f"SIGKILL: {kills} kill points ({mid_write} during a save), 0 unloadable")


def test_checkpoints_never_overwrite_a_good_file_with_nan_weights(tmp_path):
    x = np.full((16, 4), 1e3, "float32")
    model = nnx.Sequential([Dense(1, input_shape=(4,))], seed=0)
    model.compile(nnx.optimizers.SGD(1e3), "mse")
    model.stop_on_nonfinite = False
    path = tmp_path / "last.nnx"
    callbacks = [ModelCheckpoint(path, save_freq=1), BackupAndRestore(tmp_path / "b", 1, False)]
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="not saving"):
        model.fit(
            x, np.ones((16, 1), "float32"), epochs=3, batch_size=4, verbose=0, callbacks=callbacks
        )
    for saved in (path, callbacks[1].path):
        assert all(np.isfinite(w).all() for w in nnx.load(saved).get_weights())
