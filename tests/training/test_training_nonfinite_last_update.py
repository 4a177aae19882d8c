"""The guard's blind spot in nnx 0.1: each batch loss is computed before its update, so a
blow-up in the *last* update of an epoch left a finite epoch loss. The weights are now checked
after every epoch (read with the logs): one epoch, one batch per epoch, the last batch of a
longer epoch, int64 data and Adam are all caught, and the warning is true."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nnx
from nnx.layers import Dense
from nnx.training.nonfinite import NonFiniteWarning


def _model(backend, optimizer):
    model = nnx.Sequential([Dense(1, input_shape=(1,), name="dense")], backend=backend, seed=0)
    model.compile(optimizer, "mse")
    return model


def _fit(model, x, y, **kwargs):
    with np.errstate(all="ignore"), pytest.warns(NonFiniteWarning) as record:
        history = model.fit(x, y, verbose=0, shuffle=False, **kwargs)
    return history, str(record[0].message)


def _same(a, b):
    return all(u.tobytes() == v.tobytes() for u, v in zip(a, b, strict=True))


@pytest.mark.parametrize("epochs", [1, 3])
def test_a_blow_up_in_the_only_update_is_caught(backend, epochs):
    model = _model(backend, nnx.optimizers.SGD(1e30))
    initial = model.get_weights()
    x, y = np.full((8, 1), 1e10), np.zeros((8, 1))
    history, message = _fit(model, x, y, epochs=epochs, batch_size=8)
    assert history.nonfinite == {
        "epoch": 0,
        "batch": 0,
        "quantity": "weights of dense/kernel after the update",
    }
    assert "keeps the last finite weights" in message
    assert _same(model.get_weights(), initial)  # the warning is true: the initial weights


def test_a_blow_up_in_the_last_batch_of_an_epoch_is_caught(backend):
    model = _model(backend, nnx.optimizers.SGD(1e30))
    initial = model.get_weights()
    # the first batch has a zero gradient (x = y = 0, bias 0), the second overflows the update
    x = np.concatenate([np.zeros((8, 1)), np.full((8, 1), 1e10)])
    history, _ = _fit(model, x, np.zeros((16, 1)), epochs=2, batch_size=8)
    assert history.nonfinite is not None
    assert (history.nonfinite["epoch"], history.nonfinite["batch"]) == (0, 1)
    assert _same(model.get_weights(), initial)
    assert history.history == {}  # the failed epoch is not recorded


def test_int64_data_of_2_62_is_caught(backend):
    model = _model(backend, nnx.optimizers.SGD(100.0))
    initial = model.get_weights()
    x, y = np.full((8, 1), 2**62, dtype=np.int64), np.zeros((8, 1), dtype=np.int64)
    history, _ = _fit(model, x, y, epochs=1, batch_size=8)
    assert history.nonfinite is not None and history.nonfinite["batch"] == 0
    assert _same(model.get_weights(), initial)


def test_adam_with_one_batch_per_epoch_ends_finite(backend):
    model = _model(backend, nnx.optimizers.Adam(1e8))
    x, y = np.full((8, 1), 1e10), np.zeros((8, 1))
    history, _ = _fit(model, x, y, epochs=4, batch_size=8)
    assert history.nonfinite is not None
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert model.optimizer.iterations == len(history.epoch) + history.nonfinite["batch"]


def test_weights_already_infinite_are_reported_as_such(backend):
    model = _model(backend, nnx.optimizers.SGD(0.1))
    model.set_weights([np.full((1, 1), np.inf), np.zeros(1)])
    history, message = _fit(model, np.ones((4, 1)), np.ones((4, 1)), epochs=2, batch_size=4)
    assert history.nonfinite == {"epoch": 0, "batch": None, "quantity": "weights before the epoch"}
    assert "already NaN or infinite when the epoch began" in message


def test_finite_training_reads_no_extra_key(backend):
    model = _model(backend, nnx.optimizers.SGD(0.01))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(np.ones((8, 1)), np.ones((8, 1)), epochs=2, batch_size=4, verbose=0)
    assert history.nonfinite is None and sorted(history.history) == ["loss"]
