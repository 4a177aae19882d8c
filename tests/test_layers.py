"""Core layers: shapes, known values, gradient checks, inference mode, config round trip."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Activation, Dense, Dropout, Flatten, Input, Reshape, layer_class

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
        Dense(4, activation=activation), RNG.normal(size=(5, 3)), backend=backend
    )
    assert set(errors) == {"input", "dense/kernel", "dense/bias"} or len(errors) == 3
    assert max(errors.values()) < 1e-6


def test_dropout_inference_is_identity_and_training_is_inverted(backend):
    layer = _built(Dropout(0.25, seed=3), (1000,), backend, "float64")
    x = backend.asarray(np.ones((8, 1000)), "float64")
    assert np.array_equal(backend.to_numpy(layer(x)), np.ones((8, 1000)))
    y = backend.to_numpy(layer.forward(x, training=True)[0])
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    assert 0.70 < kept.mean() < 0.80


def test_dropout_is_seeded(backend):
    outputs = []
    for _ in range(2):
        layer = _built(Dropout(0.5, seed=11), (50,), backend)
        outputs.append(
            backend.to_numpy(
                layer.forward(backend.asarray(np.ones((4, 50)), "float32"), training=True)[0]
            )
        )
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_dropout_gradient_check_in_training_mode(backend):
    errors = nnx.gradcheck(
        Dropout(0.4, seed=2), RNG.normal(size=(3, 6)), training=True, backend=backend
    )
    assert errors["input"] < 1e-6


def test_dropout_rejects_bad_rate():
    with pytest.raises(ValueError, match=r"rate must be a float in \[0, 1\), received rate=1"):
        Dropout(1)


def test_flatten_and_reshape(backend):
    x = backend.asarray(np.arange(24.0).reshape(2, 3, 4), "float64")
    flat = _built(Flatten(), (3, 4), backend)
    assert flat.output_shape == (12,)
    assert tuple(flat(x).shape) == (2, 12)
    reshape = _built(Reshape((-1, 2)), (3, 4), backend)
    assert reshape.output_shape == (6, 2)
    assert tuple(reshape(x).shape) == (2, 6, 2)
    with pytest.raises(ValueError, match="cannot reshape"):
        _built(Reshape((5,)), (3, 4), backend)
    for layer in (Flatten(), Reshape((4, 3))):
        assert nnx.gradcheck(layer, RNG.normal(size=(2, 3, 4)), backend=backend)["input"] < 1e-6


def test_activation_layer_gradient_check(backend):
    errors = nnx.gradcheck(
        Activation("leaky_relu", alpha=0.3), RNG.normal(size=(3, 4)) + 0.01, backend=backend
    )
    assert errors["input"] < 1e-6


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


def test_unknown_layer_type_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown layer type 'Dence'"):
        layer_class("Dence")


def test_invalid_units():
    with pytest.raises(ValueError, match="units must be a positive int, received units=-3"):
        Dense(-3)
