"""Arithmetic on symbolic tensors: graph nodes with broadcasting backwards, constants, clear
shape errors, saving; eager arrays untouched."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense, TensorOp

RNG = np.random.default_rng(11)


def test_arithmetic_records_nodes_with_numpy_broadcasting():
    x = nnx.Input((4, 8))
    positions = nnx.Input((8,))
    y = x + positions[:, None, :]
    assert y.shape == (None, 4, 8)
    assert isinstance(y.node.layer, TensorOp) and y.node.layer.op == "add"
    z = 1.0 - 2 * (-x) / 4.0 + x**2
    assert z.shape == (None, 4, 8)
    assert z.node.layer.op == "add"
    m = x @ np.ones((8, 3))
    assert m.shape == (None, 4, 3)
    r = np.ones((4, 8)) * x  # NumPy defers to the tensor
    assert r.shape == (None, 4, 8)


def test_bad_shapes_name_the_operation_and_both_shapes():
    x = nnx.Input((4, 8))
    with pytest.raises(ValueError, match=r"add: shapes \(None, 4, 8\) and \(None, 5\)"):
        x + nnx.Input((5,))
    with pytest.raises(
        ValueError, match=r"matmul: shapes \(None, 4, 8\) and \(3, 2\) do not multiply"
    ):
        x @ np.ones((3, 2))
    with pytest.raises(TypeError, match="Indexing a symbolic tensor takes ints"):
        x[:, [0, 1]]


def test_graph_gradient_through_broadcast_arithmetic(backend):
    x = nnx.Input((4, 3))
    h = Dense(3, name="h")(x)
    table = RNG.normal(size=(4, 3))
    y = (h * x + table) / (2.0 + h * h) - x**2 + (-h)
    y = (y @ (RNG.normal(size=(3, 2))))[:, 1:3, :]
    model = nnx.Model(x, y, backend=backend, dtype="float64", seed=0)
    errors = nnx.gradcheck(model, RNG.normal(size=(2, 4, 3)))
    assert max(errors.values()) < 1e-7


def test_functional_model_with_arithmetic_trains_and_saves(tmp_path):
    x = nnx.Input((6,))
    h = Dense(6, activation="tanh")(x)
    y = Dense(1)(x + h * 0.5 + np.linspace(0.0, 1.0, 6))
    model = nnx.Model(x, y, seed=0)
    model.compile(nnx.optimizers.Adam(learning_rate=0.05), "mse")
    data = RNG.normal(size=(64, 6))
    target = data.sum(axis=1, keepdims=True)
    first = model.evaluate(data, target)
    model.fit(data, target, epochs=20, verbose=0)
    assert model.evaluate(data, target) < first / 4
    model.save(tmp_path / "m.npz")
    loaded = nnx.load(tmp_path / "m.npz")
    np.testing.assert_allclose(loaded.predict(data), model.predict(data), rtol=1e-6)


def test_eager_arrays_do_their_own_arithmetic(backend):
    a = backend.asarray([[1.0, 2.0]])
    assert backend.to_numpy(a + 1.0).tolist() == [[2.0, 3.0]]
    layer = Dense(2)
    assert type(layer(a) * 2) is type(a)
