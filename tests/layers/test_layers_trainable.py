"""Layer.trainable freezes and unfreezes the declared trainable weights; get/set_weights."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.layers import BatchNormalization, Dense


def test_trainable_follows_the_declared_weights(backend):
    layer = BatchNormalization()
    layer.build((3,), backend)
    declared = [p.name for p in layer.trainable_parameters()]
    layer.trainable = False
    assert layer.trainable_parameters() == []
    layer.trainable = True
    assert [p.name for p in layer.trainable_parameters()] == declared
    assert all("moving" not in name for name in declared)


def test_a_layer_built_frozen_stays_frozen_until_unfrozen(backend):
    layer = Dense(2, trainable=False)
    layer.build((3,), backend)
    assert layer.trainable_parameters() == []
    layer.trainable = True
    assert len(layer.trainable_parameters()) == 2


def test_get_and_set_weights(backend):
    layer = Dense(2, name="d")
    layer.build((3,), backend)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2) and bias.shape == (2,)
    layer.set_weights([kernel + 1, bias - 1])
    np.testing.assert_allclose(layer.get_weights()[0], kernel + 1)
    with pytest.raises(ValueError, match=r"d/kernel has shape \(3, 2\), received \(2, 3\)"):
        layer.set_weights([kernel.T, bias])
    with pytest.raises(ValueError, match="2 weight arrays, received 1"):
        layer.set_weights([kernel])


def test_a_frozen_batch_normalization_runs_in_inference_mode(backend):
    layer = BatchNormalization()
    layer.build((3,), backend)
    x = backend.asarray(np.random.default_rng(0).normal(2.0, 3.0, size=(8, 3)), "float32")
    layer.trainable = False
    stats = [backend.to_numpy(p.value).copy() for p in layer.parameters()]
    y = backend.to_numpy(layer.forward(x, training=True)[0])
    np.testing.assert_allclose(y, backend.to_numpy(layer(x)), rtol=1e-6)
    for a, p in zip(stats, layer.parameters(), strict=True):
        np.testing.assert_array_equal(a, backend.to_numpy(p.value))
    layer.trainable = True
    layer.forward(x, training=True)
    assert not np.allclose(stats[2], backend.to_numpy(layer.parameters()[2].value))
