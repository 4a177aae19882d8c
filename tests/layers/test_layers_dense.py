"""Dense: known values, Keras shapes and defaults, gradient checks, argument checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nnx
from nnx.layers import Dense, layer_class

RNG = np.random.default_rng(1)


def _built(layer, shape, backend, dtype="float32"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def test_dense_forward_is_x_kernel_plus_bias(backend):
    layer = _built(Dense(3), (4,), backend, "float64")
    x = RNG.normal(size=(5, 4))
    w = backend.to_numpy(layer.kernel.value)
    b = RNG.normal(size=3)
    layer.bias.value[...] = backend.asarray(b, "float64")
    y = backend.to_numpy(layer(backend.asarray(x, "float64")))
    np.testing.assert_allclose(y, x @ w + b, rtol=1e-12)


def test_dense_shapes_and_defaults(backend):
    layer = _built(Dense(7, activation="relu"), (3,), backend)
    assert layer.kernel.shape == (3, 7) and layer.bias.shape == (7,)
    assert layer.output_shape == (7,)
    assert backend.to_numpy(layer.bias.value).tolist() == [0.0] * 7
    limit = np.sqrt(6 / (3 + 7))
    assert np.abs(backend.to_numpy(layer.kernel.value)).max() <= limit
    assert layer.kernel.value.dtype == backend.dtype("float32")
    no_bias = _built(Dense(2, use_bias=False), (3,), backend)
    assert [p.name for p in no_bias.parameters()] == [f"{no_bias.name}/kernel"]


def test_dense_on_three_dimensional_input(backend):
    layer = Dense(2, activation="tanh")
    errors = nnx.gradcheck(layer, RNG.normal(size=(2, 3, 4)), backend=backend)
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax", "elu"])
def test_dense_gradient_check(backend, activation):
    errors = nnx.gradcheck(
        Dense(4, activation=activation, name="d"), RNG.normal(size=(5, 3)), backend=backend
    )
    assert set(errors) == {"input", "d/kernel", "d/bias"}
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("units", [-3, 0, 2.0, True, "4"])
def test_invalid_units(units):
    with pytest.raises(ValueError, match=r"^Dense: units must be a positive int, received units="):
        Dense(units)


def test_config_writes_initializers_and_regularizers_in_the_serialised_form():
    layer = Dense(
        3,
        kernel_initializer=nnx.initializers.RandomNormal(stddev=0.2),
        kernel_regularizer=nnx.regularizers.l1_l2(l1=0.001),
        name="d",
    )
    config = layer.get_config()
    assert config["kernel_initializer"] == {
        "class_name": "RandomNormal",
        "config": {"mean": 0.0, "stddev": 0.2},
    }
    assert config["bias_initializer"] == {"class_name": "Zeros", "config": {}}
    assert config["kernel_regularizer"] == {
        "class_name": "L1L2",
        "config": {"l1": 0.001, "l2": 0.01},
    }
    assert config["bias_regularizer"] is None
    twin = layer_class("Dense").from_config(json.loads(json.dumps(config)))
    assert twin.get_config() == config


def test_config_of_0_1_with_name_keyed_initializers_still_loads():
    config = {
        "name": "dense",
        "units": 8,
        "activation": "relu",
        "kernel_initializer": {"name": "random_normal", "mean": 0.0, "stddev": 0.2},
        "bias_initializer": {"name": "zeros"},
        "kernel_regularizer": {"name": "l1_l2", "l1": 0.001, "l2": 0.01},
        "bias_regularizer": None,
    }
    layer = Dense.from_config(config)
    assert layer.kernel_initializer.get_config() == {"mean": 0.0, "stddev": 0.2}
    assert (layer.kernel_regularizer.l1, layer.kernel_regularizer.l2) == (0.001, 0.01)
    assert type(layer.bias_initializer).__name__ == "Zeros"
