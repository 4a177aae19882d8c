"""``nnx.models.Model``: the training surface any topology gets by defining four methods."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense
from nnx.models import Model


class TwoTowers(Model):
    """Not a stack: the output is the sum of two Dense towers applied to the same input."""

    def __init__(self, **kwargs):
        super().__init__(name="two_towers", **kwargs)
        self.layers = [Dense(1, name="left"), Dense(1, name="right")]

    def build(self, input_shape=None):
        for layer in self.layers:
            layer.build(tuple(input_shape), self.backend, self.rng, self.dtype)
        self.input_shape, self.output_shape, self.built = tuple(input_shape), (1,), True

    def forward(self, x, *, training=False):
        (a, back_a), (b, back_b) = (layer.forward(x, training=training) for layer in self.layers)
        return a + b, lambda dy: back_a(dy) + back_b(dy)

    def compute_gradients(self, x, y, sample_weight=None):
        y_pred, backprop = self.forward(x, training=True)
        loss, dy = self.loss.value_and_gradient(y, y_pred, sample_weight)
        backprop(dy)
        return loss, y_pred

    def get_config(self):
        return {"name": self.name}


def test_a_model_of_another_topology_trains_evaluates_predicts_and_saves(tmp_path, backend):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")
    model = TwoTowers(backend=backend, seed=0)
    model.compile(nnx.optimizers.SGD(0.05), "mse", metrics=["mae"])
    history = model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]
    loss, mae = model.evaluate(x, y)
    assert loss == pytest.approx(history.history["loss"][-1], rel=0.5) and mae < 0.1
    assert model.predict(x[:5]).shape == (5, 1)
    model.save_weights(tmp_path / "w.nnx")
    other = TwoTowers(backend=backend, seed=1)
    other.build((3,))
    other.load_weights(tmp_path / "w.nnx")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_sequential_is_a_model_and_the_base_names_what_a_subclass_defines():
    assert issubclass(nnx.Sequential, Model)
    bare = Model(seed=0)
    for call in (lambda: bare.build((2,)), lambda: bare.forward(None), bare.get_config):
        with pytest.raises(NotImplementedError):
            call()
    with pytest.raises(ValueError, match="Model: dtype must be one of 'float32', 'float64'"):
        Model(dtype="float16")
