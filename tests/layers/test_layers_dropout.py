"""Dropout and SpatialDropout2D: inverted masks in training, the identity at inference, seeded."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dropout, RandomLayer, SpatialDropout2D, layer_class

RNG = np.random.default_rng(1)


def _built(layer, shape, backend, dtype="float32"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


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


def test_dropout_uses_the_shared_random_layer_base(backend):
    for layer in (Dropout(0.3, seed=5), SpatialDropout2D(0.3, seed=5)):
        assert isinstance(layer, RandomLayer)
        assert layer.get_config()["seed"] == 5
    layer = _built(Dropout(0.3, seed=5), (40,), backend)
    mask = backend.rng(5).bernoulli((3, 40), 0.7, dtype="float32")  # the layer's own stream
    y = layer.forward(backend.asarray(np.ones((3, 40)), "float32"), training=True)[0]
    np.testing.assert_allclose(backend.to_numpy(y), backend.to_numpy(mask) / 0.7, rtol=1e-6)


def test_dropout_rate_zero_is_the_identity_in_training(backend):
    layer = _built(Dropout(0.0, seed=1), (4,), backend)
    x = backend.asarray(RNG.normal(size=(2, 4)), "float32")
    y, backprop = layer.forward(x, training=True)
    assert y is x and backprop(x) is x


def test_spatial_dropout_draws_one_mask_per_sample_and_channel(backend):
    x = RNG.normal(size=(2, 3, 2, 4))
    drop = _built(SpatialDropout2D(0.5, seed=0), (3, 2, 4), backend, "float64")
    y = backend.to_numpy(drop.forward(backend.asarray(x, "float64"), training=True)[0])
    ratio = y / x
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1, :1, :], ratio.shape))
    assert set(np.unique(ratio.round(12))) == {0.0, 2.0}
    first = _built(SpatialDropout2D(0.5, "channels_first", seed=0), (4, 3, 2), backend)
    assert first.mask_shape(backend.asarray(np.ones((2, 4, 3, 2)))) == (2, 4, 1, 1)


def test_spatial_dropout_gradient_check_and_errors(backend):
    errors = nnx.gradcheck(
        SpatialDropout2D(0.5, data_format="channels_first"),
        RNG.normal(size=(3, 4, 2, 2)),
        backend=backend,
        training=True,
    )
    assert errors["input"] < 1e-6
    layer = SpatialDropout2D(0.3, seed=4)
    assert layer_class("SpatialDropout2D").from_config(layer.get_config()).get_config() == (
        layer.get_config()
    )
    with pytest.raises(ValueError, match=r"SpatialDropout2D: rate must be a float in \[0, 1\)"):
        SpatialDropout2D(1.0)
    with pytest.raises(ValueError, match="expects \\(batch, h, w, c\\) images"):
        _built(SpatialDropout2D(0.5), (3,), backend)(backend.asarray(np.ones((2, 3))))
