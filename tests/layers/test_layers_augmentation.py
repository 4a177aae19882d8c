"""The random layers: augmentation and noise in training, the identity at inference, seeded."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import (
    GaussianNoise,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    SpatialDropout2D,
    layer_class,
)

RNG = np.random.default_rng(7)


def _built(layer, shape, backend, dtype="float64"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def _augmenters():
    return [
        RandomFlip(seed=1),
        RandomRotation(0.1, seed=1),
        RandomTranslation(0.2, 0.2, seed=1),
        GaussianNoise(0.5, seed=1),
        SpatialDropout2D(0.5, seed=1),
    ]


@pytest.mark.parametrize("index", range(5))
def test_augmentation_is_identity_at_inference_seeded_and_shape_preserving(backend, index):
    x = backend.asarray(RNG.normal(size=(4, 6, 5, 2)), "float64")
    a = _built(_augmenters()[index], (6, 5, 2), backend)
    b = _built(_augmenters()[index], (6, 5, 2), backend)
    np.testing.assert_array_equal(backend.to_numpy(a(x, training=False)), backend.to_numpy(x))
    ya = backend.to_numpy(a.forward(x, training=True)[0])
    yb = backend.to_numpy(b.forward(x, training=True)[0])
    assert ya.shape == tuple(x.shape)
    np.testing.assert_array_equal(ya, yb)  # same seed, same draws
    assert not np.array_equal(ya, backend.to_numpy(x))  # and it does change the batch
    other = type(a).from_config({**a.get_config(), "seed": 2, "name": None})
    _built(other, (6, 5, 2), backend)
    assert not np.array_equal(ya, backend.to_numpy(other.forward(x, training=True)[0]))


def test_geometric_augmentations_are_the_expected_maps(backend):
    x = RNG.normal(size=(3, 5, 5, 2))
    xb = backend.asarray(x, "float64")
    quarter = _built(RandomRotation((0.25, 0.25), seed=0), (5, 5, 2), backend)
    y = backend.to_numpy(quarter.forward(xb, training=True)[0])
    np.testing.assert_allclose(y, np.rot90(x, 1, axes=(1, 2)), atol=1e-12)  # counter-clockwise
    shift = _built(RandomTranslation((0.2, 0.2), (-0.2, -0.2), seed=0), (5, 5, 2), backend)
    y = backend.to_numpy(shift.forward(xb, training=True)[0])
    np.testing.assert_allclose(y[:, 1:, :4], x[:, :4, 1:], atol=1e-12)  # 1 down, 1 left
    assert not y[:, 0].any() and not y[:, :, 4].any()  # zero fill
    flip = _built(RandomFlip("horizontal", seed=0), (5, 5, 2), backend)
    y = backend.to_numpy(flip.forward(xb, training=True)[0])
    for yi, xi in zip(y, x, strict=True):
        assert np.array_equal(yi, xi) or np.array_equal(yi, xi[:, ::-1])
    noise = _built(GaussianNoise(0.1, seed=0), (1000,), backend)
    ones = backend.asarray(np.ones((10, 1000)), "float64")
    d = backend.to_numpy(noise.forward(ones, training=True)[0]) - 1.0
    assert abs(d.std() - 0.1) < 0.005 and abs(d.mean()) < 0.005


GRAD_CASES = [
    (RandomFlip, {}, (3, 4, 2)),
    (RandomFlip, {"mode": "vertical", "data_format": "channels_first"}, (2, 3, 4)),
    (RandomRotation, {"factor": 0.1}, (5, 4, 2)),
    (RandomTranslation, {"height_factor": 0.2, "width_factor": (0.1, 0.3)}, (4, 5, 1)),
    (GaussianNoise, {"stddev": 0.3}, (3,)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), GRAD_CASES)
def test_gradient_check(backend, cls, kwargs, shape):
    errors = nnx.gradcheck(
        cls(**kwargs), RNG.normal(size=(3, *shape)), backend=backend, training=True
    )
    assert max(errors.values()) < 1e-6


def test_augmentation_called_directly_augments_as_in_keras(backend):
    # keras.io's ``data_augmentation(images)`` calls the layers on data with no training flag
    x = backend.asarray(RNG.normal(size=(8, 6, 5, 2)), "float64")
    for layer in (RandomFlip("horizontal", seed=1), RandomRotation(0.1, seed=1)):
        assert not np.array_equal(backend.to_numpy(layer(x)), backend.to_numpy(x))
    model = nnx.Sequential([nnx.Input((6, 5, 2)), RandomFlip(seed=1), RandomRotation(0.1)])
    np.testing.assert_allclose(
        model.predict(backend.to_numpy(x), verbose=0), backend.to_numpy(x), rtol=1e-6
    )


def test_config_round_trip_and_errors():
    for layer in (
        RandomFlip("vertical", seed=3),
        RandomRotation((-0.1, 0.2), data_format="channels_first"),
        RandomTranslation(0.1, (0.0, 0.2), seed=1),
        GaussianNoise(0.2),
    ):
        twin = layer_class(type(layer).__name__).from_config(layer.get_config())
        assert twin.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="mode"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match="factor"):
        RandomRotation((0.2, -0.2))
    with pytest.raises(ValueError, match=r"GaussianNoise: stddev must be a float >= 0, received"):
        GaussianNoise(-1.0)
