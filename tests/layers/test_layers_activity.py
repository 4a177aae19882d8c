"""Activity regularizers: ``R(y)`` of a layer's output in the loss ``fit`` reports (not divided
by the batch size, as Keras 3), its gradient in the backprop, in every kind of model."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import nnx
from nnx import regularizers
from nnx.gradcheck import numeric_gradient, relative_error
from nnx.layers import LSTM, Conv2DTranspose, Dense, Flatten

RNG = np.random.default_rng(1)


def _model(backend, dtype="float32", activity="l2"):
    return nnx.Sequential(
        [
            Dense(5, activation="tanh", input_shape=(3,), activity_regularizer=activity),
            Dense(2, activity_regularizer=regularizers.l1(0.05)),
        ],
        backend=backend,
        seed=0,
        dtype=dtype,
    )


def _data(backend, dtype="float32"):
    x = backend.asarray(RNG.normal(size=(8, 3)), dtype=dtype)
    y = backend.asarray(RNG.normal(size=(8, 2)), dtype=dtype)
    return x, y


def _by_hand(model, x, y):
    """mse(y, out) + 0.01 sum(h^2) + 0.05 sum|out| on host NumPy."""
    w1, b1, w2, b2 = model.get_weights()
    xh, yh = model.backend.to_numpy(x).astype("float64"), model.backend.to_numpy(y)
    h = np.tanh(xh @ w1 + b1)
    out = h @ w2 + b2
    return np.mean((out - yh) ** 2) + 0.01 * np.sum(h * h) + 0.05 * np.sum(np.abs(out))


def test_train_step_loss_is_data_loss_plus_penalties(backend):
    model = _model(backend)
    model.compile(nnx.optimizers.SGD(0.0), "mse")
    x, y = _data(backend)
    expected = _by_hand(model, x, y)
    assert float(model.train_step(x, y)) == pytest.approx(expected, rel=1e-5)
    assert float(model.test_step(x, y)) == pytest.approx(expected, rel=1e-5)  # evaluate too


def test_fit_reports_the_penalised_loss():
    model = _model("numpy")
    model.compile(nnx.optimizers.SGD(0.0), "mse")
    x, y = _data(nnx.get_backend("numpy"))
    expected = _by_hand(model, x, y)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    plain = nnx.Sequential([Dense(5, activation="tanh", input_shape=(3,)), Dense(2)], seed=0)
    plain.compile(nnx.optimizers.SGD(0.0), "mse")
    plain.set_weights(model.get_weights())
    assert plain.fit(x, y, batch_size=8, verbose=0).history["loss"][0] < expected


def test_gradient_of_the_penalised_loss(backend):
    model = _model(backend, "float64")
    model.compile(nnx.optimizers.SGD(0.0), "mse")
    x, y = _data(backend, "float64")
    model.compute_gradients(x, y)
    for p in model.parameters():
        analytic = p.grad
        numeric = numeric_gradient(lambda: float(model.test_step(x, y)), p.value)
        assert relative_error(analytic, numeric) < 1e-6, p.name


def test_functional_and_subclassed_models_add_it(backend):
    inputs = nnx.Input((3,))
    h = Dense(4, activity_regularizer=regularizers.l2(0.1))(inputs)
    model = nnx.Model(inputs, Dense(1)(h), backend=backend, seed=0, dtype="float64")
    model.compile(nnx.optimizers.SGD(0.0), "mse")
    x = backend.asarray(RNG.normal(size=(6, 3)), dtype="float64")
    y = backend.asarray(RNG.normal(size=(6, 1)), dtype="float64")
    w1, b1, w2, b2 = model.get_weights()
    hh = backend.to_numpy(x) @ w1 + b1
    expected = np.mean((hh @ w2 + b2 - backend.to_numpy(y)) ** 2) + 0.1 * np.sum(hh * hh)
    assert float(model.train_step(x, y)) == pytest.approx(expected, rel=1e-9)
    assert float(model.test_step(x, y)) == pytest.approx(expected, rel=1e-9)
    model.compute_gradients(x, y)
    for p in model.parameters():
        numeric = numeric_gradient(lambda: float(model.test_step(x, y)), p.value)
        assert relative_error(p.grad, numeric) < 1e-6, p.name


def test_fused_softmax_output_still_penalised():
    model = nnx.Sequential(
        [Dense(3, activation="softmax", input_shape=(2,), activity_regularizer="l1")], seed=0
    )
    model.compile(nnx.optimizers.SGD(0.0), "categorical_crossentropy")
    assert model._fused_loss is None
    x = RNG.normal(size=(4, 2)).astype("float32")
    y = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    p = model.predict(x)
    expected = -np.mean(np.sum(y * np.log(p), axis=1)) + 0.01 * np.sum(np.abs(p))
    assert float(model.train_step(x, y)) == pytest.approx(expected, rel=1e-5)


def test_other_layers_take_it_and_inference_ignores_it(backend):
    model = nnx.Sequential(
        [
            Conv2DTranspose(2, 3, input_shape=(3, 3, 1), activity_regularizer="l2"),
            Flatten(),
            Dense(1),
        ],
        backend=backend,
        seed=0,
    )
    model.compile("sgd", "mse")
    x = backend.asarray(RNG.normal(size=(2, 3, 3, 1)), dtype="float32")
    y = backend.asarray(RNG.normal(size=(2, 1)), dtype="float32")
    first = model.layers[0]
    z = first(x)  # plain inference: no penalty collected, no error
    loss = float(model.train_step(x, y))
    assert loss > float(np.mean((model.predict(x) - backend.to_numpy(y)) ** 2))
    assert z.shape == (2, 5, 5, 2)
    rnn = nnx.Sequential([LSTM(3, input_shape=(4, 2), activity_regularizer="l1"), Dense(1)])
    rnn.compile("sgd", "mse")
    rnn.fit(RNG.normal(size=(4, 4, 2)), RNG.normal(size=(4, 1)), verbose=0)


def test_config_copy_and_bad_values():
    layer = Dense(3, activity_regularizer=regularizers.l1(0.5), kernel_constraint="max_norm")
    config = layer.get_config()
    assert config["activity_regularizer"] == {"class_name": "L1", "config": {"l1": 0.5}}
    assert config["kernel_constraint"] == {
        "class_name": "MaxNorm",
        "config": {"max_value": 2.0, "axis": 0},
    }
    again = Dense.from_config(config)
    assert again.get_config() == config
    twin = copy.deepcopy(layer)
    assert twin.forward.layer is twin  # the copy runs its own forward
    layer.activity_regularizer = None
    assert "forward" not in vars(layer) and "activity_regularizer" not in layer.get_config()
    with pytest.raises(ValueError, match=r"Dense 'dense\w*': activity_regularizer"):
        Dense(2, activity_regularizer="nope")
    with pytest.raises(ValueError, match="activity_regularizer"):
        Dense(2, activity_regularizer=lambda y: y)


def test_save_and_load_keep_constraints_and_activity(tmp_path):
    model = nnx.Sequential(
        [
            Dense(
                4,
                input_shape=(3,),
                kernel_constraint=nnx.constraints.max_norm(1.5),
                bias_constraint="non_neg",
                activity_regularizer=regularizers.l2(0.01),
            ),
            nnx.layers.BatchNormalization(gamma_constraint="unit_norm"),
            Dense(1, kernel_constraint=nnx.constraints.MinMaxNorm(0.1, 0.9, 0.5, axis=[0])),
        ],
        seed=0,
    )
    model.compile("adam", "mse")
    x, y = RNG.normal(size=(16, 3)), RNG.normal(size=(16, 1))
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "model.nnx"
    model.save(path)
    loaded = nnx.load(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.get_config()["layers"] == model.get_config()["layers"]
    first = loaded.layers[0]
    assert isinstance(first.kernel.constraint, nnx.constraints.MaxNorm)
    assert isinstance(first.activity_regularizer, regularizers.L2)
    assert float(loaded.evaluate(x, y, verbose=0)) == pytest.approx(
        float(model.evaluate(x, y, verbose=0)), rel=1e-6
    )


class _Sparse(nnx.Model):
    """A subclassed model whose hidden layer is activity-regularized (a sparse code)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.code = Dense(4, activation="tanh", activity_regularizer=regularizers.l1(0.1))
        self.out = Dense(1, kernel_constraint="non_neg")

    def call(self, x, training=False):
        return self.out(self.code(x))


def test_subclassed_models_add_it_and_project():
    model = _Sparse(seed=0, dtype="float64")
    x, y = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 1))
    model.compile(nnx.optimizers.SGD(0.0), "mse")
    model.predict(x)  # builds
    w1, b1, w2, b2 = (np.asarray(w, dtype="float64") for w in model.get_weights())
    h = np.tanh(x @ w1 + b1)
    expected = np.mean((h @ w2 + b2 - y) ** 2) + 0.1 * np.sum(np.abs(h))
    xb, yb = model.backend.asarray(x, "float64"), model.backend.asarray(y, "float64")
    assert float(model.train_step(xb, yb)) == pytest.approx(expected, rel=1e-9)
    model.compile(nnx.optimizers.SGD(10.0), "mse")
    model.fit(x, -100 * np.abs(y), epochs=2, verbose=0)
    assert np.all(model.get_weights()[2] >= 0.0)
