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
