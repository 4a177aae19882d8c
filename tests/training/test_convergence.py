"""End to end: fit reaches known accuracies on XOR, two moons and a 1-d regression."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import datasets
from nnx.layers import Dense


@pytest.mark.slow
def test_xor_reaches_full_accuracy(backend):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = np.array([[0], [1], [1], [0]], dtype="float32")
    model = nnx.Sequential(
        [Dense(4, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")],
        backend=backend,
        seed=1,
    )
    model.compile(
        optimizer=nnx.optimizers.Adam(learning_rate=0.05),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    loss, acc = model.evaluate(x, y)
    assert acc == 1.0, (loss, model.predict(x))


@pytest.mark.slow
def test_two_moons_reaches_95_percent(backend):
    x, y = datasets.make_moons(n_samples=1000, noise=0.2, seed=0)
    x_train, x_test, y_train, y_test = datasets.train_test_split(
        x, y.reshape(-1, 1).astype("float32"), test_size=0.25, seed=0
    )
    model = nnx.Sequential(
        [
            Dense(16, activation="relu", input_shape=(2,)),
            Dense(16, activation="relu"),
            Dense(1, activation="sigmoid"),
        ],
        backend=backend,
        seed=0,
    )
    model.compile(
        optimizer=nnx.optimizers.Adam(learning_rate=0.01),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train, y_train, epochs=60, batch_size=32, verbose=0, validation_data=(x_test, y_test)
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert model.evaluate(x_test, y_test, return_dict=True)["accuracy"] >= 0.95


@pytest.mark.slow
def test_nonlinear_regression_r2(backend):
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(800, 1)).astype("float32")
    y = (np.sin(3 * x) + 0.5 * x**2 + rng.normal(0, 0.05, size=x.shape)).astype("float32")
    model = nnx.Sequential(
        [Dense(32, activation="tanh", input_shape=(1,)), Dense(32, activation="tanh"), Dense(1)],
        backend=backend,
        seed=0,
    )
    model.compile(optimizer=nnx.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    model.fit(x[:600], y[:600], epochs=80, batch_size=32, verbose=0)
    pred = model.predict(x[600:])
    r2 = 1 - ((pred - y[600:]) ** 2).sum() / ((y[600:] - y[600:].mean()) ** 2).sum()
    assert r2 >= 0.9
