"""keras.io's sequence code paths with ``import nnx as keras``: ``keras.Input`` at the head of
a ``Sequential`` over an LSTM, ``EarlyStopping`` + ``ModelCheckpoint`` with Keras's file names
(``best.keras``, ``*.weights.h5``), ``keras.models.load_model``, ``model.load_weights``, and
the weather-forecasting tutorial's ``timeseries_dataset_from_array`` pipeline."""

from __future__ import annotations

import numpy as np
import pytest

import nnx as keras
from nnx import layers


def _series(n: int = 240, steps: int = 12, features: int = 3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, steps, features)).astype("float32")
    return x, x[:, -3:, 0].sum(axis=1, keepdims=True)


def test_keras_input_heads_a_sequential_lstm(backend):
    x, y = _series()
    model = keras.Sequential(
        [keras.Input(shape=(12, 3)), layers.LSTM(8), layers.Dense(1)], backend=backend, seed=0
    )
    assert model.built and model.input_shape == (12, 3) and model.output_shape == (1,)
    assert [type(layer).__name__ for layer in model.layers] == ["Input", "LSTM", "Dense"]
    model.compile(optimizer="adam", loss="mse")
    before = float(model.evaluate(x, y, verbose=0))
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert float(model.evaluate(x, y, verbose=0)) < before


def test_add_takes_keras_input_and_refuses_a_computed_tensor():
    model = keras.Sequential(seed=0)
    model.add(keras.Input(shape=(5, 2)))
    model.add(layers.LSTM(4))
    assert model.built and model.output_shape == (4,)
    hidden = layers.Dense(3)(keras.Input(shape=(2,)))
    with pytest.raises(TypeError, match=r"Layer or nnx.Input.*nnx.Model\(inputs, outputs\)"):
        keras.Sequential([hidden])


def test_early_stopping_and_a_best_keras_checkpoint_load_back(tmp_path):
    x, y = _series()
    model = keras.Sequential([keras.Input(shape=(12, 3)), layers.LSTM(8), layers.Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    path = str(tmp_path / "best_model.keras")
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
        keras.callbacks.ModelCheckpoint(path, save_best_only=True, monitor="val_loss"),
    ]
    history = model.fit(
        x, y, epochs=4, batch_size=32, validation_split=0.2, callbacks=callbacks, verbose=0
    )
    assert set(history.history) == {"loss", "val_loss"}
    best = keras.models.load_model(path)
    best_epoch = int(np.argmin(history.history["val_loss"]))
    x_val, y_val = x[-48:], y[-48:]
    np.testing.assert_allclose(
        float(best.evaluate(x_val, y_val, verbose=0)), history.history["val_loss"][best_epoch],
        rtol=1e-5,
    )  # fmt: skip
    # restore_best_weights: the live model holds the best epoch too
    np.testing.assert_allclose(best.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0))


def test_load_model_refuses_custom_objects(tmp_path):
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)], seed=0)
    model.save(str(tmp_path / "m.keras"))
    with pytest.raises(ValueError, match=r"custom_objects.*register_layer.*Received"):
        keras.models.load_model(str(tmp_path / "m.keras"), custom_objects={"Mine": object})
    with pytest.raises(ValueError, match=r"safe_mode"):
        keras.models.load_model(str(tmp_path / "m.keras"), safe_mode="no")


def test_the_weather_tutorial_pipeline(tmp_path):
    rng = np.random.default_rng(0)
    n, step, past, future, batch_size = 900, 2, 40, 6, 64
    t = np.arange(n)
    features = np.stack(
        [np.sin(t / 15 + k) + 0.05 * rng.normal(size=n) for k in range(3)], axis=1
    ).astype("float32")
    train_split = 600
    sequence_length = int(past / step)
    start = past + future
    x_train, y_train = features[: train_split - 1], features[start : start + train_split][:, [1]]
    dataset_train = keras.preprocessing.timeseries_dataset_from_array(
        x_train, y_train, sequence_length=sequence_length, sampling_rate=step,
        batch_size=batch_size,
    )  # fmt: skip
    val_data = features[train_split:]
    x_val = val_data[: len(val_data) - past - future]
    y_val = features[train_split + past + future :][:, [1]]
    dataset_val = keras.utils.timeseries_dataset_from_array(
        x_val, y_val, sequence_length=sequence_length, sampling_rate=step,
        batch_size=batch_size,
    )  # fmt: skip
    for batch in dataset_train.take(1):
        inputs, targets = batch
    assert inputs.shape == (batch_size, sequence_length, 3) and targets.shape == (batch_size, 1)

    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(8)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)
    model = keras.Model(inputs=inputs, outputs=outputs, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    path_checkpoint = str(tmp_path / "model_checkpoint.weights.h5")
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)
    modelckpt_callback = keras.callbacks.ModelCheckpoint(
        monitor="val_loss", filepath=path_checkpoint, verbose=0, save_weights_only=True,
        save_best_only=True,
    )  # fmt: skip
    history = model.fit(
        dataset_train, epochs=4, validation_data=dataset_val,
        callbacks=[es_callback, modelckpt_callback], verbose=0,
    )  # fmt: skip
    val_loss = history.history["val_loss"]
    assert min(val_loss) < val_loss[0]
    model.load_weights(path_checkpoint)
    np.testing.assert_allclose(
        float(model.evaluate(dataset_val, verbose=0)), min(val_loss), rtol=1e-5
    )
