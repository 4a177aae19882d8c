"""Keras model subclassing (``call`` on an ``nnx.Model`` subclass) and models holding
subclassed layers: training, summary, weights, saving (registered) and clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import layers, ops
from nnx.gradcheck import numeric_gradient

RNG = np.random.default_rng(21)


class MLP(nnx.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d1 = layers.Dense(16, activation="relu")
        self.dropout = layers.Dropout(0.1)
        self.d2 = layers.Dense(2, activation="softmax")

    def call(self, x, training=False):
        return self.d2(self.dropout(self.d1(x), training=training))


@nnx.saving.register_keras_serializable(package="tests")
class ScaledResidual(layers.Layer):
    def __init__(self, units, scale=0.5, **kwargs):
        super().__init__(**kwargs)
        self.units, self.scale = units, scale
        self.inner = layers.Dense(units, activation="tanh")

    def call(self, inputs):
        return inputs + self.scale * self.inner(inputs)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "scale": self.scale}


class Pair(layers.Layer):
    """Two inputs, a nested subclassed layer, several ops."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = ScaledResidual(3)

    def call(self, inputs):
        a, b = inputs
        joined = ops.concatenate([self.block(a), b], axis=-1)
        return ops.mean(ops.expand_dims(joined, axis=1), axis=1)


def _xor_data(n=256):
    x = RNG.normal(size=(n, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(int)


def test_subclassed_model_compiles_fits_evaluates_predicts(backend):
    x, y = _xor_data()
    model = MLP(backend=backend, seed=0)
    model.compile(
        nnx.optimizers.Adam(learning_rate=0.03),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=25, batch_size=64, verbose=0)
    assert history.history["accuracy"][-1] > 0.85  # XOR of signs: chance 0.5
    loss, accuracy = model.evaluate(x, y)
    assert accuracy > 0.85 and loss < history.history["loss"][0]
    assert model.predict(x[:3]).shape == (3, 2)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout", "Dense"]
    assert model.count_params() == 2 * 16 + 16 + 16 * 2 + 2
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    assert any("Total params: 82" in line for line in lines)


def test_subclassed_model_gradients(backend):
    model = MLP(backend=backend, seed=0, dtype="float64")
    model.build((2,))
    xb = backend.asarray(RNG.normal(size=(4, 2)), "float64")
    y, backprop = model.forward(xb, training=False)
    r = backend.asarray(RNG.normal(size=(4, 2)), "float64")
    dx = backprop(r)
    assert tuple(y.shape) == (4, 2)
    xp = backend.xp
    analytic = {p.name: backend.to_numpy(p.grad).copy() for p in model.parameters()}

    def f() -> float:
        return float(xp.sum(model.forward(xb, training=False)[0] * r))

    for p in model.parameters():
        numeric = numeric_gradient(f, p.value)
        np.testing.assert_allclose(analytic[p.name], backend.to_numpy(numeric), atol=1e-7)
    numeric = numeric_gradient(f, xb)
    np.testing.assert_allclose(backend.to_numpy(dx), backend.to_numpy(numeric), atol=1e-7)


def test_subclassed_model_weights_round_trip_and_whole_file_is_refused(tmp_path):
    x, y = _xor_data(32)
    model = MLP(seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.npz")
    again = MLP(seed=5)
    again.build((2,))
    again.load_weights(tmp_path / "w.npz")
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)
    with pytest.raises(NotImplementedError, match="MLP is a subclassed model: .*save_weights"):
        model.save(tmp_path / "m.npz")


def test_registered_subclassed_layers_save_and_load(tmp_path, backend):
    a, b = nnx.Input((3,)), nnx.Input((2,))
    h = ScaledResidual(3)(a)
    out = layers.Dense(1)(ops.concatenate([h, b], axis=-1))
    model = nnx.Model([a, b], out, backend=backend, seed=0)
    model.compile("adam", "mse")
    data = [RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))]
    model.fit(data, RNG.normal(size=(8, 1)), epochs=1, verbose=0)
    model.save(tmp_path / "model.npz")
    loaded = nnx.load(tmp_path / "model.npz", backend=backend)
    np.testing.assert_allclose(loaded.predict(data), model.predict(data), rtol=1e-6)
    assert loaded.layers[2].scale == 0.5 and loaded.count_params() == model.count_params()


def test_unregistered_subclassed_layer_is_refused_clearly(tmp_path):
    x = nnx.Input((3,))
    model = nnx.Model(x, Pair()([x, x]), seed=0)
    assert model.predict(np.ones((2, 3))).shape == (2, 6)
    with pytest.raises(TypeError, match=r"unregistered class .*Pair.*register_keras_serializable"):
        model.save(tmp_path / "pair.npz")


def test_nested_subclassed_layers_and_several_inputs(backend):
    pair = Pair()
    pair.build([(3,), (2,)], backend, backend.rng(0), "float64")
    assert pair.count_params() == 3 * 3 + 3
    a = backend.asarray(RNG.normal(size=(2, 3)), "float64")
    b = backend.asarray(RNG.normal(size=(2, 2)), "float64")
    y, backprop = pair.forward([a, b], training=False)
    da, db = backprop(backend.xp.ones_like(y))
    assert tuple(y.shape) == (2, 5) and tuple(da.shape) == (2, 3)
    np.testing.assert_allclose(backend.to_numpy(db), np.ones((2, 2)))


def test_sequential_holding_a_subclassed_layer():
    model = nnx.Sequential([layers.Input((3,)), ScaledResidual(3), layers.Dense(1)], seed=0)
    model.compile("sgd", "mse")
    x = RNG.normal(size=(16, 3))
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    assert model.count_params() == 12 + 4
