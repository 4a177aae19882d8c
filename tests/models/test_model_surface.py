"""The Keras model surface people reach for: get_layer, metrics_names, freezing layers (with
and without recompiling), learning rate read/write, stop_training, weights, predict verbose."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.callbacks import LambdaCallback
from nnx.layers import BatchNormalization, Dense

X = np.random.default_rng(2).normal(size=(32, 3)).astype("float32")
Y = (X.sum(axis=1) > 0).astype("float32")


def _model(backend="numpy"):
    model = nnx.Sequential(
        [
            Dense(6, activation="relu", input_shape=(3,), name="base"),
            BatchNormalization(name="norm"),
            Dense(1, activation="sigmoid", name="head"),
        ],
        backend=backend,
        seed=0,
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def _layer_weights(model, name):
    return [model.backend.to_numpy(p.value).copy() for p in model.get_layer(name).parameters()]


def test_get_layer_by_name_or_index():
    model = _model()
    assert model.get_layer("head") is model.layers[-1] is model.get_layer(index=-1)
    with pytest.raises(ValueError, match="no layer named 'nope'.*'base', 'norm', 'head'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index=3"):
        model.get_layer(index=3)
    with pytest.raises(ValueError, match="a name or an index"):
        model.get_layer()


def test_metrics_names_follow_compile_and_evaluate_order():
    model = nnx.Sequential([Dense(1, input_shape=(3,))])
    assert model.metrics_names == []
    model.compile("sgd", "mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "mae"]
    logs = model.evaluate(X, Y, return_dict=True)
    assert list(logs) == model.metrics_names
    assert model.evaluate(X, Y) == list(logs.values())


@pytest.mark.parametrize("recompile", [False, True])
def test_a_frozen_layer_keeps_its_weights_while_the_others_train(recompile, backend):
    model = _model(backend)
    model.fit(X, Y, epochs=1, verbose=0)
    model.get_layer("base").trainable = False
    if recompile:
        model.compile(model.optimizer, "binary_crossentropy", metrics=["accuracy"])
    before_base, before_head = _layer_weights(model, "base"), _layer_weights(model, "head")
    model.fit(X, Y, epochs=2, verbose=0)
    for a, b in zip(before_base, _layer_weights(model, "base"), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(before_head[0], _layer_weights(model, "head")[0])
    trainable = model.trainable_parameters()
    assert [p.name for p in trainable] == ["norm/gamma", "norm/beta", "head/kernel", "head/bias"]
    slots = model.optimizer.state_dict()["slots"]
    assert [next(iter(s.values())).shape for s in slots] == [p.shape for p in trainable]


def test_unfreezing_restores_only_the_declared_trainable_weights(backend):
    model = _model(backend)
    model.trainable = False
    assert not model.trainable and model.trainable_parameters() == []
    before = model.get_weights()
    model.fit(X, Y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):  # frozen batch norm included
        np.testing.assert_array_equal(a, b)
    model.trainable = True
    names = [p.name for p in model.trainable_parameters()]
    assert "norm/moving_mean" not in names and "base/kernel" in names
    model.fit(X, Y, epochs=1, verbose=0)
    assert not np.allclose(before[0], model.get_weights()[0])


def test_trainable_is_checked():
    with pytest.raises(ValueError, match="trainable='no'"):
        Dense(2).trainable = "no"


def test_the_learning_rate_reads_and_writes_through_the_model(backend):
    model = _model(backend)
    assert model.optimizer.learning_rate == pytest.approx(0.001)
    model.optimizer.learning_rate = 0.0
    before = model.get_weights()
    model.fit(X, Y, epochs=1, verbose=0)
    for a, b, p in zip(before, model.get_weights(), model.parameters(), strict=True):
        if p.trainable:
            np.testing.assert_array_equal(a, b)
    model.optimizer.learning_rate = 0.05
    assert model.optimizer.learning_rate == 0.05
    with pytest.raises(ValueError, match="learning_rate"):
        model.optimizer.learning_rate = "fast"


def test_a_callback_stops_training_through_stop_training():
    model = _model()

    def stop(epoch, logs):
        model.stop_training = epoch == 1

    history = model.fit(X, Y, epochs=10, verbose=0, callbacks=[LambdaCallback(on_epoch_end=stop)])
    assert history.epoch == [0, 1] and model.stop_training


def test_weights_round_trip_and_predict_verbose(backend, capsys):
    model, other = _model(backend), _model(backend)
    other.set_weights([w + 1 for w in model.get_weights()])
    other.set_weights(model.get_weights())
    np.testing.assert_allclose(other.predict(X, batch_size=5), model.predict(X), rtol=1e-6)
    assert capsys.readouterr().out == ""
    assert model.predict(X, verbose=1).shape == (32, 1)
    assert "32 samples" in capsys.readouterr().out
