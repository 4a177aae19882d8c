"""Input, Flatten and Reshape: shapes, values and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Flatten, Input, Reshape, layer_class

RNG = np.random.default_rng(1)


def _built(layer, shape, backend, dtype="float32"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def test_flatten_and_reshape(backend):
    x = backend.asarray(np.arange(24.0).reshape(2, 3, 4), "float64")
    flat = _built(Flatten(), (3, 4), backend)
    assert flat.output_shape == (12,)
    host = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(backend.to_numpy(flat(x)), host.reshape(2, 12))
    reshape = _built(Reshape((-1, 2)), (3, 4), backend)
    assert reshape.output_shape == (6, 2)
    np.testing.assert_array_equal(backend.to_numpy(reshape(x)), host.reshape(2, 6, 2))
    with pytest.raises(ValueError, match="cannot reshape"):
        _built(Reshape((5,)), (3, 4), backend)
    for layer in (Flatten(), Reshape((4, 3))):
        assert nnx.gradcheck(layer, RNG.normal(size=(2, 3, 4)), backend=backend)["input"] < 1e-6


def test_input_declares_the_sample_shape_and_passes_data_through(backend):
    layer = Input((5,), name="in")
    assert layer.input_shape == (5,)
    assert layer.get_config() == {"name": "in", "shape": [5]}
    assert layer_class("Input").from_config(layer.get_config()).input_shape == (5,)
    layer.build((5,), backend)
    x = backend.asarray(np.ones((2, 5)), "float32")
    assert layer(x) is x
    with pytest.raises(ValueError, match=r"expected input shape \(batch, 5\)"):
        layer(backend.asarray(np.ones((2, 4)), "float32"))


def test_reshape_config_round_trip_and_bad_target():
    layer = Reshape((2, -1))
    assert layer_class("Reshape").from_config(layer.get_config()).target_shape == (2, -1)
    with pytest.raises(ValueError, match="at most one -1"):
        Reshape((-1, -1))
