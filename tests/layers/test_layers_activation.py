"""The Activation layer and the activation that ends Dense/Conv layers."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Activation, Dense, layer_class

RNG = np.random.default_rng(1)


def test_activation_layer_gradient_check(backend):
    errors = nnx.gradcheck(
        Activation("leaky_relu", alpha=0.3), RNG.normal(size=(3, 4)) + 0.01, backend=backend
    )
    assert errors["input"] < 1e-6


def test_activation_layer_values_and_config(backend):
    layer = Activation("relu")
    y = layer(backend.asarray([[-1.0, 0.0, 2.0]], "float32"))
    np.testing.assert_array_equal(backend.to_numpy(y), [[0.0, 0.0, 2.0]])
    leaky = Activation("leaky_relu", alpha=0.3)
    twin = layer_class("Activation").from_config(leaky.get_config())
    assert twin.get_config() == leaky.get_config()


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_backprop_takes_the_backend_fast_path_and_falls_back_when_declined(
    backend, monkeypatch, activation
):
    layer = Dense(3, activation=activation)
    layer.build((4,), backend, backend.rng(0), "float64")
    x = backend.asarray(RNG.normal(size=(2, 4)), "float64")
    dy = backend.asarray(RNG.normal(size=(2, 3)), "float64")
    _, backprop = layer.forward(x, training=True)
    reference = backend.to_numpy(backprop(dy))
    calls = []
    method = f"{activation}_backward"

    def declined(dy, x, y):
        calls.append(method)
        return None  # the portable backward of nnx.functional must run instead

    monkeypatch.setattr(backend, method, declined)
    monkeypatch.setattr(backend, "activation_backward", lambda *args: None)  # the fused one
    _, backprop = layer.forward(x, training=True)
    np.testing.assert_allclose(backend.to_numpy(backprop(dy)), reference, rtol=1e-12)
    assert calls == [method]
