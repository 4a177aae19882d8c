"""History's repr: the epoch count and the final value of every metric."""

from __future__ import annotations

import numpy as np

import nnx
from nnx.callbacks import History
from nnx.layers import Dense


def test_history_repr_names_final_metrics():
    history = History()
    for epoch, loss in enumerate([0.9, 0.5, 0.25]):
        history.on_epoch_end(epoch, {"loss": loss, "accuracy": 1 - loss})
    assert repr(history) == "<History: 3 epochs, final loss: 0.25 - accuracy: 0.75>"


def test_history_repr_empty_and_after_fit(backend):
    assert repr(History()) == "<History: no epochs yet>"
    x = np.linspace(-1, 1, 20, dtype="float32").reshape(-1, 1)
    model = nnx.Sequential([Dense(1, input_shape=(1,))], backend=backend, seed=0)
    model.compile("sgd", "mse")
    history = model.fit(x, 2 * x, epochs=2, verbose=0)
    text = repr(history)
    assert text.startswith("<History: 2 epochs, final loss: ")
    assert f"{history.history['loss'][-1]:.4g}" in text
