"""fit end to end: the quickstart, backend inputs, validation, label forms, determinism."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import datasets
from nnx.layers import Dense, Dropout


def _moons(n=600, seed=0):
    x, y = datasets.make_moons(n_samples=n, noise=0.2, seed=seed)
    return datasets.train_test_split(
        x, y.reshape(-1, 1).astype("float32"), test_size=0.25, seed=seed
    )


def _mlp(backend, seed=0, dropout=0.0):
    layers = [
        Dense(16, activation="relu", input_shape=(2,)),
        Dense(16, activation="relu"),
        Dense(1, activation="sigmoid"),
    ]
    if dropout:
        layers.insert(1, Dropout(dropout))
    return nnx.Sequential(layers, backend=backend, seed=seed)


def test_issue_quickstart_runs(backend, capsys):
    x_train, x_test, y_train, y_test = _moons(200)
    x_train = np.hstack([x_train, np.zeros((len(x_train), 28), "float32")])
    x_test = np.hstack([x_test, np.zeros((len(x_test), 28), "float32")])
    model = nnx.Sequential(
        [
            Dense(16, activation="relu", input_shape=(30,)),
            Dropout(0.3),
            Dense(8, activation="relu", kernel_regularizer=nnx.regularizers.l2(0.01)),
            Dense(1, activation="sigmoid"),
        ],
        backend=backend,
    )
    model.compile(
        optimizer=nnx.optimizers.Adam(learning_rate=1e-3),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train.tolist(),
        y_train,
        epochs=3,
        batch_size=32,
        validation_data=(x_test, y_test),
        verbose=2,
        callbacks=[
            nnx.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
        ],
    )
    loss, acc = model.evaluate(x_test, y_test)
    proba = model.predict(x_test)
    model.summary()
    out = capsys.readouterr().out
    assert isinstance(proba, np.ndarray) and proba.shape == (len(x_test), 1)
    assert "Epoch 3/3" in out and "Total params: 641" in out
    assert len(history.history["val_loss"]) == 3 and 0 <= acc <= 1 and loss > 0


def test_fit_on_backend_arrays_equals_fit_on_host_arrays(backend):
    """Arrays already on the model's backend train exactly like host arrays: the same
    history and the same weights, bit for bit."""
    x_train, x_test, y_train, y_test = _moons(100)
    runs = []
    for to_backend in (False, True):
        model = _mlp(backend, dropout=0.2)
        model.compile("sgd", "binary_crossentropy", ["accuracy"])
        data = [x_train, y_train, x_test, y_test]
        if to_backend:
            data = [backend.asarray(a) for a in data]
        history = model.fit(*data[:2], epochs=2, verbose=0, validation_data=tuple(data[2:]))
        runs.append((history.history, model.get_weights()))
    (host_history, host), (device_history, device) = runs
    assert device_history == host_history and len(host_history["loss"]) == 2
    assert all(a.tobytes() == b.tobytes() for a, b in zip(host, device, strict=True))


def test_validation_split_and_evaluate_forms(backend):
    x_train, _, y_train, _ = _moons(200)
    model = _mlp(backend)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy", "mse"])
    hist = model.fit(x_train, y_train, epochs=2, validation_split=0.2, verbose=0)
    assert list(hist.history) == ["loss", "accuracy", "mse", "val_loss", "val_accuracy", "val_mse"]
    held_out = model.evaluate(x_train[120:], y_train[120:], return_dict=True)  # the last 20%
    assert held_out["loss"] == pytest.approx(hist.history["val_loss"][-1], rel=1e-6)
    values = model.evaluate(x_train, y_train)
    as_dict = model.evaluate(x_train, y_train, return_dict=True)
    assert list(as_dict) == ["loss", "accuracy", "mse"]
    assert values == pytest.approx(list(as_dict.values()), rel=1e-6)


def test_softmax_with_sparse_and_one_hot_labels(backend):
    x, y = datasets.make_spirals(n_samples=300, n_classes=3, noise=0.1, seed=0)
    for loss, targets in (
        ("sparse_categorical_crossentropy", y),
        ("categorical_crossentropy", np.eye(3, dtype="float32")[y]),
    ):
        model = nnx.Sequential(
            [Dense(32, activation="relu", input_shape=(2,)), Dense(3, activation="softmax")],
            backend=backend,
            seed=0,
        )
        model.compile(nnx.optimizers.Adam(0.02), loss, metrics=["accuracy"])
        hist = model.fit(x, targets, epochs=15, verbose=0)
        assert hist.history["loss"][-1] < hist.history["loss"][0]
        assert model.predict(x[:5]).sum(axis=1) == pytest.approx(np.ones(5), rel=1e-5)


def test_determinism_same_seed_same_weights(backend):
    x_train, _, y_train, _ = _moons(128)
    runs = []
    for _ in range(2):
        model = _mlp(backend, seed=7, dropout=0.2)
        model.compile("adam", "binary_crossentropy")
        model.fit(x_train, y_train, epochs=3, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_all_zero_batches_and_huge_inputs_stay_finite(backend):
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")],
        backend=backend,
        seed=0,
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(np.zeros((32, 4)), np.zeros(32, dtype=int), epochs=2, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    huge = np.full((2, 4), 1e4, dtype="float32")
    proba = model.predict(huge)
    assert np.all(np.isfinite(proba)) and proba.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert np.all(np.isfinite(model.evaluate(huge, np.array([0, 2]))))


def test_the_loop_reads_the_device_once_per_epoch(monkeypatch):
    """Without validation, callbacks or a progress bar: one read (loss and metrics) per epoch."""
    x_train, _, y_train, _ = _moons(100)
    model = _mlp("numpy")
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    reads = []
    real = model.backend.to_numpy
    monkeypatch.setattr(model.backend, "to_numpy", lambda a: reads.append(1) or real(a))
    model.fit(x_train, y_train, epochs=4, batch_size=8, verbose=0)
    assert len(reads) == 4
