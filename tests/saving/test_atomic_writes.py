"""SIGKILL during checkpoint saves never leaves an unloadable or torn file.

A child process checkpoints after every batch; at each step of an atomic write (the temporary
file's fsync, the rename, after the rename, the directory's fsync) it prints where it is and
waits for the parent's go-ahead. The parent kills it at fixed kill points, counted in saves, not
in seconds, so a slow machine runs the same test: the file on disk must then load, and hold
exactly the previous save or the new one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

import nnx
from nnx.callbacks import Callback
from nnx.layers import Dense

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import os, sys
    import numpy as np, nnx
    from nnx.callbacks import ModelCheckpoint
    from nnx.layers import Dense

    real_fsync, real_replace = os.fsync, os.replace

    def pause(point):
        print(point, flush=True)
        if not sys.stdin.readline():  # the parent went away
            sys.exit(0)

    def fsync(fd):
        pause("fsync")
        real_fsync(fd)

    def replace(src, dst):
        pause("replace")
        real_replace(src, dst)
        pause("replaced")

    os.fsync, os.replace = fsync, replace
    x = np.random.default_rng(0).normal(size=(64, 64)).astype("float32")
    model = nnx.Sequential([Dense(512, "relu", input_shape=(64,)), Dense(2)], seed=0)
    model.compile("adam", "mse")
    cb = ModelCheckpoint(sys.argv[1], save_freq=1)
    model.fit(x, x[:, :2].copy(), epochs=10**6, batch_size=8, verbose=0, callbacks=[cb])
    """
)
#: the pauses of one save, in order: temporary file fsynced, rename, renamed, directory fsynced
STEPS = ("fsync", "replace", "replaced", "fsync")
#: (save number, step index): where each child is killed
KILL_POINTS = [(2, 0), (3, 1), (4, 2), (5, 3), (7, 1), (9, 0), (12, 2), (16, 3)]


def _reference_weights(steps):
    """The child's weights after each of its first ``steps`` batches, computed here."""
    x = np.random.default_rng(0).normal(size=(64, 64)).astype("float32")
    model = nnx.Sequential([Dense(512, "relu", input_shape=(64,)), Dense(2)], seed=0)
    model.compile("adam", "mse")
    weights = [model.get_weights()]

    class Record(Callback):
        def on_train_batch_end(self, batch, logs=None):
            weights.append(self.model.get_weights())
            self.model.stop_training = len(weights) > steps

    model.fit(x, x[:, :2].copy(), epochs=steps, batch_size=8, verbose=0, callbacks=[Record()])
    return weights


def _run_until(path, save, step):
    """Start the child and SIGKILL it at ``step`` of its ``save``-th save."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        for pause in range(save * len(STEPS)):
            line = child.stdout.readline().decode().strip()
            assert line == STEPS[pause % len(STEPS)], (pause, line)
            if pause == (save - 1) * len(STEPS) + step:
                os.kill(child.pid, signal.SIGKILL)
                break
            child.stdin.write(b"go\n")
            child.stdin.flush()
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL


def test_sigkill_at_every_step_of_a_save_leaves_the_previous_or_the_new_file(tmp_path):
    path = tmp_path / "latest.nnx"
    reference = _reference_weights(max(save for save, _ in KILL_POINTS))
    for save, step in KILL_POINTS:
        _run_until(path, save, step)
        renamed = STEPS.index("replaced") <= step
        model = nnx.load(path)  # never raises
        expected = save if renamed else save - 1
        assert model.optimizer.iterations == expected, (save, step)
        assert all(
            a.tobytes() == b.tobytes()
            for a, b in zip(model.get_weights(), reference[expected], strict=True)
        ), (save, step)
        leftovers = [f for f in os.listdir(tmp_path) if f.endswith(".part")]
        assert len(leftovers) == (0 if renamed else 1), (save, step, leftovers)
        for f in leftovers:  # what a kill mid-save leaves: an orphan, safe to delete
            os.unlink(tmp_path / f)
