"""TerminateOnNaN stops at the first non-finite batch loss on a host backend (as Keras's), at
the end of that epoch on a device (no per-batch read); fit's own guard is off here
(compile(stop_on_nonfinite=False))."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnx
from nnx.callbacks import TerminateOnNaN
from nnx.layers import Dense

X = np.ones((64, 2), "float32") * 1e3
Y = np.ones((64, 1), "float32")
BATCH = 8


def _diverging(backend):
    model = nnx.Sequential([Dense(1, input_shape=(2,))], backend=backend, seed=0)
    model.compile(nnx.optimizers.SGD(learning_rate=1e6), "mse", stop_on_nonfinite=False)
    return model


def _first_bad_step(backend):
    """The 0-based step whose loss is first NaN/Inf, found with train_step on a twin model."""
    model = _diverging(backend)
    xb, yb = model.backend.asarray(X[:BATCH]), model.backend.asarray(Y[:BATCH])
    for step in range(100):
        if not math.isfinite(float(model.train_step(xb, yb))):
            return step
    raise AssertionError("the loss never diverged")


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_terminate_on_nan_stops_right_after_the_first_bad_batch(backend, capsys):
    bad = _first_bad_step(backend)  # every batch is the same rows: the order does not matter
    model = _diverging(backend)
    history = model.fit(
        X, Y, epochs=50, batch_size=BATCH, verbose=0, shuffle=False, callbacks=[TerminateOnNaN()]
    )
    steps = len(X) // BATCH
    epoch, batch = divmod(bad, steps)
    losses = history.history["loss"]
    assert history.epoch == list(range(epoch + 1))  # the cut-short epoch is still recorded
    assert all(math.isfinite(v) for v in losses[:-1]) and not math.isfinite(losses[-1])
    if model.backend.on_host:  # reading a loss is free: stop right after the bad batch
        assert model.optimizer.iterations == bad + 1
        assert capsys.readouterr().out == f"Batch {batch}: invalid loss, terminating training.\n"
    else:  # on a device no batch loss is read: stop at the end of that epoch
        assert model.optimizer.iterations == (epoch + 1) * steps
        assert capsys.readouterr().out == f"Epoch {epoch}: invalid loss, terminating training.\n"
