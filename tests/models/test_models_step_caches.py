"""The small-step hot path decides some things once (an input signature's checks, an
activation's plan, whether a stack carries masks): each decision must follow every change that
could make it wrong. Each test changes one thing after a first step and checks the next step
sees it."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.activations import get as get_activation
from nnx.layers import Dense

RNG = np.random.default_rng(3)


def _batch(backend, rows=8, features=4, dtype="float32"):
    return backend.asarray(RNG.normal(size=(rows, features)), dtype)


def test_an_accepted_signature_still_refuses_a_new_bad_input(backend):
    layer = Dense(2)
    layer.build((4,), backend, backend.rng(0))
    layer.forward(_batch(backend), training=True)
    with pytest.raises(ValueError, match=r"expected input shape \(batch, 4\), received \(8, 5\)"):
        layer.forward(_batch(backend, features=5), training=True)
    with pytest.raises(TypeError, match="runs on backend"):
        layer.forward([[0.0] * 4], training=True)
    layer.forward(_batch(backend, rows=3), training=True)  # another batch size is fine


def test_a_rebuilt_layer_checks_its_new_input_shape(backend):
    layer = Dense(2)
    layer.build((4,), backend, backend.rng(0))
    layer(_batch(backend))
    layer.build((5,), backend, backend.rng(0))
    assert layer(_batch(backend, features=5)).shape == (8, 2)
    with pytest.raises(ValueError, match=r"expected input shape \(batch, 5\)"):
        layer(_batch(backend))


def test_a_replaced_activation_is_used_at_the_next_call(backend, to_np):
    layer = Dense(3, activation="relu")
    layer.build((4,), backend, backend.rng(0), "float64")
    x = _batch(backend, dtype="float64")
    relu = to_np(layer(x))
    layer.activation = get_activation("tanh")
    z = to_np(x) @ to_np(layer.kernel.value) + to_np(layer.bias.value)
    np.testing.assert_allclose(to_np(layer(x)), np.tanh(z), rtol=1e-12)
    np.testing.assert_allclose(relu, np.maximum(z, 0.0), rtol=1e-12)


def test_replaced_weights_and_a_frozen_layer_reach_the_next_step(backend, to_np):
    model = nnx.Sequential(
        [Dense(4, activation="relu", input_shape=(4,)), Dense(1)], seed=0, backend=backend
    )
    model.compile(nnx.optimizers.SGD(0.1, momentum=0.9), "mse")
    x, y = _batch(backend), _batch(backend, features=1)
    model.train_step(x, y)
    first, second = model.layers
    first.kernel.value = backend.asarray(np.zeros((4, 4)), "float32")  # a new array object
    hidden = np.maximum(to_np(first.bias.value), 0.0)  # the kernel is zero: relu(bias)
    expected = hidden @ to_np(second.kernel.value) + to_np(second.bias.value)
    np.testing.assert_allclose(to_np(model(x)), np.broadcast_to(expected, (8, 1)), rtol=1e-6)
    first.trainable = False
    model.compile(nnx.optimizers.SGD(0.1, momentum=0.9), "mse")
    frozen = to_np(first.kernel.value).copy()
    model.train_step(x, y)
    np.testing.assert_array_equal(to_np(first.kernel.value), frozen)


def test_compiling_again_changes_the_fused_loss(backend, to_np):
    model = nnx.Sequential(
        [Dense(1, activation="sigmoid", input_shape=(4,))], seed=0, backend=backend
    )
    x, y = _batch(backend), backend.asarray((RNG.random((8, 1)) > 0.5), "float32")
    model.compile("sgd", "binary_crossentropy")
    bce = float(to_np(model.compute_gradients(x, y)[0]))
    model.compile("sgd", "mse")
    mse = float(to_np(model.compute_gradients(x, y)[0]))
    p = to_np(model(x))
    np.testing.assert_allclose(mse, np.mean((p - to_np(y)) ** 2), rtol=1e-5)
    assert bce != pytest.approx(mse)


def test_a_layer_that_makes_a_mask_on_its_instance_is_heard(backend):
    model = nnx.Sequential([Dense(2, input_shape=(4,))], seed=0, backend=backend)
    x = _batch(backend)
    model.forward_masked(x)
    assert model.output_mask is None
    mask = backend.asarray(np.ones((8, 2), dtype=bool))
    model.layers[0].compute_mask = lambda x, m: mask
    assert model.forward_masked(x)[2] is mask
