"""NaN/Inf during fit: stop at the batch, keep the last finite weights, say what happened."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nnx
from nnx.callbacks import Callback
from nnx.layers import Dense
from nnx.training.nonfinite import NonFiniteWarning


def _diverging(backend, lr=0.6, stop_on_nonfinite=True, **opt):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(64, 3)) * 4).astype("float32")
    y = x @ np.ones((3, 1), "float32")
    model = nnx.Sequential([Dense(1, input_shape=(3,))], backend=backend, seed=0)
    model.compile(nnx.optimizers.SGD(lr, **opt), "mse", stop_on_nonfinite=stop_on_nonfinite)
    return model, x, y


class _StopAfter(Callback):
    def __init__(self, steps):
        super().__init__()
        self.steps, self.seen = steps, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.steps:
            self.model.stop_training = True


def test_fit_stops_at_the_first_bad_batch_with_the_last_finite_weights(backend):
    model, x, y = _diverging(backend)
    with np.errstate(all="ignore"), pytest.warns(NonFiniteWarning) as record:
        history = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    event = history.nonfinite
    assert event is not None and event["batch"] is not None
    message = str(record[0].message)
    assert f"epoch {event['epoch']}" in message and f"batch {event['batch']}" in message
    assert event["quantity"] in message
    weights = model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    assert len(history.epoch) == event["epoch"]  # the failed epoch is not recorded
    good_steps = event["epoch"] * 8 + event["batch"]
    reference, _, _ = _diverging(backend)
    reference.fit(x, y, epochs=20, batch_size=8, verbose=0, callbacks=[_StopAfter(good_steps)])
    assert all(
        a.tobytes() == b.tobytes() for a, b in zip(weights, reference.get_weights(), strict=True)
    )


@pytest.mark.parametrize("how", ["compile", "attribute"])
def test_opting_out_trains_on(backend, how):
    model, x, y = _diverging(backend, stop_on_nonfinite=how != "compile")
    if how == "attribute":  # what compile(stop_on_nonfinite=False) sets
        model.stop_on_nonfinite = False
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteWarning)
        history = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert len(history.epoch) == 20 and history.nonfinite is None
    assert not np.isfinite(history.history["loss"][-1])


def test_stop_on_nonfinite_must_be_a_bool():
    model = nnx.Sequential([Dense(1, input_shape=(3,))])
    with pytest.raises(ValueError, match="stop_on_nonfinite must be True or False, received"):
        model.compile("sgd", "mse", stop_on_nonfinite="no")
    assert model.stop_on_nonfinite is True


def test_clipping_keeps_the_same_run_finite(backend):
    model, x, y = _diverging(backend, lr=0.05, global_clipnorm=1.0)
    history = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert history.nonfinite is None and len(history.epoch) == 20
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_the_guard_reads_the_device_once_per_epoch(monkeypatch):
    """No per-batch synchronisation: only the epoch-end read of loss and metrics."""
    model, x, y = _diverging("numpy", lr=0.001)
    reads = []
    real = model.backend.to_numpy
    monkeypatch.setattr(model.backend, "to_numpy", lambda a: reads.append(1) or real(a))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert len(reads) == 3


@pytest.mark.parametrize("last, loss", [("sigmoid", "binary_crossentropy"), ("softmax", "cce")])
def test_huge_logits_train_with_finite_loss_and_gradients(backend, last, loss):
    model = nnx.Sequential([Dense(2, activation=last, input_shape=(2,))], backend=backend, seed=0)
    model.compile("sgd", loss)
    model.set_weights([np.eye(2, dtype="float32") * 1e4, np.zeros(2, "float32")])
    x = backend.asarray([[1.0, -1.0], [-1.0, 1.0]], "float32")
    y = backend.asarray([[0.0, 1.0], [1.0, 0.0]], "float32")
    value = float(model.train_step(x, y))
    assert np.isfinite(value) and value > 1e3
    assert all(np.isfinite(backend.to_numpy(p.grad)).all() for p in model.parameters())
