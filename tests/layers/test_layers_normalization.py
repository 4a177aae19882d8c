"""BatchNormalization and LayerNormalization: train vs inference, moving statistics, gradients."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import BatchNormalization, Conv2D, Dense, LayerNormalization, layer_class

RNG = np.random.default_rng(6)


def _built(layer, shape, backend, dtype="float64"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def test_batchnorm_training_normalizes_each_feature_and_updates_moving_stats(backend):
    bn = _built(BatchNormalization(momentum=0.9, epsilon=1e-3), (3,), backend)
    mean_before = bn.moving_mean.value
    x1 = RNG.normal(2.0, 3.0, size=(50, 3))
    x2 = RNG.normal(-1.0, 0.5, size=(50, 3))
    y, _ = bn.forward(backend.asarray(x1, "float64"), training=True)
    y = backend.to_numpy(y)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), x1.var(axis=0) / (x1.var(axis=0) + 1e-3))
    bn.forward(backend.asarray(x2, "float64"), training=True)
    mm, mv = np.zeros(3), np.ones(3)
    for x in (x1, x2):  # Keras: moving = momentum * moving + (1 - momentum) * batch (biased var)
        mm = 0.9 * mm + 0.1 * x.mean(axis=0)
        mv = 0.9 * mv + 0.1 * x.var(axis=0)
    np.testing.assert_allclose(backend.to_numpy(bn.moving_mean.value), mm, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(bn.moving_variance.value), mv, rtol=1e-12)
    assert bn.moving_mean.value is mean_before  # updated in place
    x3 = RNG.normal(size=(4, 3))
    y3 = backend.to_numpy(bn(backend.asarray(x3, "float64")))  # inference: moving statistics
    np.testing.assert_allclose(y3, (x3 - mm) / np.sqrt(mv + 1e-3), rtol=1e-10)
    np.testing.assert_allclose(backend.to_numpy(bn.moving_mean.value), mm)  # unchanged


def test_batchnorm_parameters_are_keras_shaped_and_moving_stats_non_trainable(backend):
    bn = _built(BatchNormalization(), (5, 5, 4), backend)
    names = [p.name.split("/")[1] for p in bn.parameters()]
    assert names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [p.trainable for p in bn.parameters()] == [True, True, False, False]
    assert all(p.shape == (4,) for p in bn.parameters())
    first = _built(BatchNormalization(axis=1, center=False), (4, 5, 5), backend)
    assert [p.name.split("/")[1] for p in first.parameters()] == [
        "gamma",
        "moving_mean",
        "moving_variance",
    ]
    x = RNG.normal(size=(3, 4, 5, 5))
    y = backend.to_numpy(first.forward(backend.asarray(x, "float64"), training=True)[0])
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)  # per channel


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        ({}, (3,)),
        ({}, (3, 3, 2)),
        ({"axis": 1, "center": False}, (2, 3, 3)),
        ({"scale": False}, (4,)),
    ],
)
def test_batchnorm_gradient_check(backend, training, kwargs, shape):
    errors = nnx.gradcheck(
        BatchNormalization(**kwargs),
        RNG.normal(size=(4, *shape)),
        backend=backend,
        training=training,
    )
    assert max(errors.values()) < 1e-6


def test_layernorm_values_and_gradient_check(backend):
    ln = _built(LayerNormalization(epsilon=1e-5), (2, 6), backend)
    x = RNG.normal(size=(3, 2, 6))
    y = backend.to_numpy(ln(backend.asarray(x, "float64")))
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    for layer in (LayerNormalization(), LayerNormalization(center=False)):
        errors = nnx.gradcheck(layer, RNG.normal(size=(3, 5)), backend=backend)
        assert max(errors.values()) < 1e-6


def test_batchnorm_in_models_after_dense_and_conv(backend):
    model = nnx.Sequential(
        [
            Conv2D(3, 2, use_bias=False, input_shape=(4, 4, 1)),  # BN cancels a bias
            BatchNormalization(),
            nnx.layers.Activation("tanh"),
            nnx.layers.Flatten(),
            Dense(4, use_bias=False),
            BatchNormalization(momentum=0.5),
            Dense(2, activation="softmax"),
        ],
        backend=backend,
        seed=0,
    )
    assert model.layers[1].gamma.shape == (3,) and model.layers[5].gamma.shape == (4,)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Non-trainable params: 14" in text and "(None, 3, 3, 3)" in text
    errors = nnx.gradcheck(model, RNG.normal(size=(3, 4, 4, 1)), training=True, backend=backend)
    assert max(errors.values()) < 1e-6
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    moving = backend.to_numpy(model.layers[5].moving_mean.value).copy()
    x = RNG.normal(size=(8, 4, 4, 1))
    model.fit(x, np.eye(2)[RNG.integers(0, 2, 8)], epochs=1, batch_size=4, verbose=0)
    assert not np.allclose(backend.to_numpy(model.layers[5].moving_mean.value), moving)


def test_normalization_config_round_trip_and_errors():
    for layer in (
        BatchNormalization(axis=1, momentum=0.9, epsilon=1e-5, center=False),
        LayerNormalization(epsilon=1e-6, scale=False),
    ):
        twin = layer_class(type(layer).__name__).from_config(layer.get_config())
        assert twin.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="momentum=1.5"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="epsilon=0"):
        LayerNormalization(epsilon=0)
    with pytest.raises(ValueError, match="axis=0"):
        _built(BatchNormalization(axis=0), (3,), nnx.backends.get_backend("numpy"))
