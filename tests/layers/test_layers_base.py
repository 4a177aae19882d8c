"""The Layer contract: input checks, the registry, config round trips, the shared backprops."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    GaussianNoise,
    Input,
    Layer,
    RandomFlip,
    Reshape,
    SpatialDropout2D,
    layer_class,
    layer_names,
    register_layer,
)
from nnx.layers.base import identity_backprop
from nnx.optimizers import SGD


def _built(layer, shape, backend, dtype="float32"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def test_wrong_feature_count_names_layer_and_shapes(backend):
    layer = _built(Dense(2, name="hidden"), (3,), backend)
    with pytest.raises(
        ValueError,
        match=r"'hidden' \(Dense\) expected input shape \(batch, 3\), "
        r"received \(4, 5\)",
    ):
        layer(backend.asarray(np.zeros((4, 5)), "float32"))


def test_array_of_another_backend_is_refused(backend):
    other = "array_api_strict" if backend.name == "numpy" else "numpy"
    layer = _built(Dense(2), (3,), backend)
    foreign = nnx.get_backend(other).asarray(np.zeros((1, 3)), "float32")
    with pytest.raises(TypeError, match=f"runs on backend '{backend.name}' but received"):
        layer.forward(foreign)


def test_input_layer_and_config_round_trip(backend):
    assert Input((5,)).input_shape == (5,)
    for layer in (
        Dense(3, activation="leaky_relu", kernel_regularizer=nnx.regularizers.l2(0.1)),
        Dropout(0.2, seed=1),
        Flatten(),
        Reshape((2, 2)),
        Activation("elu"),
        Input((4,)),
    ):
        clone = layer_class(type(layer).__name__).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_the_registry_accepts_any_spelling_and_custom_layers():
    assert layer_class("dense") is layer_class("Dense") is Dense
    assert "Dense" in layer_names() and layer_names() == sorted(layer_names())

    @register_layer
    class Doubling(Layer):
        def forward(self, x, *, training=False):
            return 2 * x, lambda dy: 2 * dy

    assert layer_class("Doubling") is Doubling and "Doubling" in layer_names()


def test_unknown_layer_type_lists_the_registered_ones_and_the_decorator():
    with pytest.raises(ValueError) as info:
        layer_class("Dence")
    message = str(info.value)
    assert "Valid layer types: " in message and "Dense, " in message
    assert message.endswith("Custom layers must be decorated with @nnx.layers.register_layer.")


def test_pass_through_layers_share_one_identity_backprop(backend):
    x = backend.asarray(np.ones((2, 4, 4, 1)), "float32")
    layers = [
        Input((4, 4, 1)),
        Activation("linear", input_shape=(4, 4, 1)),
        Dropout(0.5, seed=0),
        SpatialDropout2D(0.5, seed=0),
        RandomFlip(seed=0),
        GaussianNoise(0.1, seed=0),
    ]
    for layer in layers:
        layer.build((4, 4, 1), backend, backend.rng(0))
        backprop = layer.forward(x, training=isinstance(layer, GaussianNoise))[1]
        assert backprop is identity_backprop, type(layer).__name__
    assert Dropout(0.0).forward_training(x, backend.rng(0))[1] is identity_backprop


def test_skipping_the_data_gradient_changes_no_weight_gradient(backend):
    rng = np.random.default_rng(0)
    x = backend.asarray(rng.normal(size=(32, 5)), "float32")
    y = backend.asarray(np.eye(3)[rng.integers(0, 3, 32)], "float32")
    model = nnx.Sequential(
        [Input((5,)), Dropout(0.0), Dense(8, activation="relu"), Dense(3, activation="softmax")],
        backend=backend,
        seed=1,
    )
    model.compile(SGD(0.1), "categorical_crossentropy")
    model.compute_gradients(x, y)
    fast = [backend.to_numpy(p.grad).copy() for p in model.parameters()]
    y_pred, backprop = model.forward(x, training=True)
    dx = backprop(model.loss.gradient(y, y_pred))
    assert tuple(dx.shape) == (32, 5)  # the plain backward still returns the data gradient
    for p, g in zip(model.parameters(), fast, strict=True):
        np.testing.assert_allclose(backend.to_numpy(p.grad), g, rtol=1e-4, atol=1e-6)
    assert all(layer.needs_input_gradient for layer in model.layers)
