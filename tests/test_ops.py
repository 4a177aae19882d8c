"""``nnx.ops``: Keras 3 names on arrays of every backend (eager) and on symbolic tensors
(graph nodes whose gradients match central differences)."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import ops
from nnx.layers import Dense

RNG = np.random.default_rng(13)


def test_eager_ops_on_every_backend(backend):
    x = backend.asarray([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    host = backend.to_numpy
    assert ops.shape(x) == (2, 3)
    assert host(ops.sum(x, axis=1)).tolist() == [2.0, 3.0]
    assert host(ops.max(x, axis=-1, keepdims=True)).tolist() == [[3.0], [5.0]]
    assert host(ops.relu(x)).tolist() == [[1.0, 0.0, 3.0], [4.0, 5.0, 0.0]]
    assert host(ops.add(x, 1.0))[0].tolist() == [2.0, -1.0, 4.0]
    assert host(ops.subtract(1.0, x))[0].tolist() == [0.0, 3.0, -2.0]
    assert host(ops.reshape(x, (3, 2))).shape == (3, 2)
    assert host(ops.transpose(x)).shape == (3, 2)
    assert host(ops.cumsum(x, axis=1))[0].tolist() == [1.0, -1.0, 2.0]
    assert host(ops.where(x > 0, x, 0.0))[1].tolist() == [4.0, 5.0, 0.0]
    assert host(ops.cast(x, "int32")).dtype == np.int32
    np.testing.assert_allclose(host(ops.softmax(x)).sum(axis=-1), [1.0, 1.0], rtol=1e-6)
    assert host(ops.matmul(x, ops.transpose(x))).shape == (2, 2)
    assert host(ops.concatenate([x, x], axis=0)).shape == (4, 3)
    assert host(ops.stack([x, x], axis=1)).shape == (2, 2, 3)
    assert host(ops.squeeze(ops.expand_dims(x, 1), 1)).shape == (2, 3)
    assert host(ops.zeros_like(x)).sum() == 0 and host(ops.ones_like(x)).sum() == 6
    assert ops.convert_to_numpy(x).tolist() == host(x).tolist()


def test_creation_ops_use_the_default_backend():
    assert ops.arange(start=1, stop=7, step=2).tolist() == [1, 3, 5]
    assert ops.ones((2,)).tolist() == [1.0, 1.0] and ops.zeros((1, 2)).shape == (1, 2)
    with nnx.use_backend("array_api_strict"):
        assert "array_api_strict" in type(ops.arange(3)).__module__
        assert "array_api_strict" in type(ops.convert_to_tensor([1.0])).__module__


def test_symbolic_shapes_are_concrete_outside_the_batch():
    x = nnx.Input((4, 8))
    assert ops.shape(x) == (None, 4, 8) and ops.shape(x)[-1] == 8
    assert ops.reshape(x, (-1, 2, 16)).shape == (None, 2, 16)
    assert ops.reshape(x, (None, 32)).shape == (None, 32)
    assert ops.transpose(x, (0, 2, 1)).shape == (None, 8, 4)
    assert ops.mean(x, axis=[1, 2]).shape == (None,)
    assert ops.stack([x, x], axis=1).shape == (None, 2, 4, 8)
    assert ops.cast(x, "float64").dtype == "float64"
    with pytest.raises(ValueError, match="sum: axis 0 is the batch axis"):
        ops.sum(x)
    with pytest.raises(TypeError, match="ops.convert_to_numpy: a symbolic tensor"):
        ops.convert_to_numpy(x)


def test_graph_of_ops_gradients(backend):
    x = nnx.Input((4, 3))
    h = Dense(3, name="proj")(x)
    scores = ops.softmax(ops.matmul(h, ops.transpose(x, (0, 2, 1))), axis=-1)
    mixed = ops.matmul(scores, x)
    pooled = ops.concatenate([ops.mean(mixed, axis=1), ops.max(h, axis=1)], axis=-1)
    gated = ops.where(ops.ones_like(pooled), ops.tanh(pooled), ops.zeros_like(pooled))
    flat = ops.reshape(ops.cumsum(ops.expand_dims(gated, axis=-1), axis=1), (None, 6))
    out = ops.sqrt(ops.square(flat) + 1.0) * ops.sigmoid(flat) - ops.log(ops.exp(flat) + 1.0)
    model = nnx.Model(x, ops.abs(out), backend=backend, dtype="float64", seed=0)
    errors = nnx.gradcheck(model, RNG.normal(size=(2, 4, 3)))
    assert max(errors.values()) < 1e-6
