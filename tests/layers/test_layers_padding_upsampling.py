"""ZeroPadding2D and UpSampling2D: values against NumPy, gradients, configs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import UpSampling2D, ZeroPadding2D, layer_class

RNG = np.random.default_rng(7)


def _built(layer, shape, backend, dtype="float64"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def test_zero_padding_and_upsampling_values(backend):
    x = RNG.normal(size=(2, 3, 2, 4))
    xb = backend.asarray(x, "float64")
    pad = _built(ZeroPadding2D(((1, 0), (2, 1))), (3, 2, 4), backend)
    np.testing.assert_array_equal(
        backend.to_numpy(pad(xb)), np.pad(x, ((0, 0), (1, 0), (2, 1), (0, 0)))
    )
    assert pad.output_shape == (4, 5, 4)
    up = _built(UpSampling2D((2, 3)), (3, 2, 4), backend)
    np.testing.assert_array_equal(backend.to_numpy(up(xb)), x.repeat(2, axis=1).repeat(3, axis=2))
    assert up.output_shape == (6, 6, 4)
    first = _built(UpSampling2D(2, data_format="channels_first"), (3, 2, 4), backend)
    np.testing.assert_array_equal(
        backend.to_numpy(first(xb)), x.repeat(2, axis=2).repeat(2, axis=3)
    )


@pytest.mark.parametrize(
    ("cls", "kwargs", "shape"),
    [
        (ZeroPadding2D, {"padding": ((1, 0), (2, 1))}, (3, 2, 2)),
        (ZeroPadding2D, {"padding": 1, "data_format": "channels_first"}, (2, 3, 2)),
        (UpSampling2D, {"size": (2, 3)}, (2, 2, 2)),
    ],
)
def test_gradient_check(backend, cls, kwargs, shape):
    errors = nnx.gradcheck(cls(**kwargs), RNG.normal(size=(3, *shape)), backend=backend)
    assert max(errors.values()) < 1e-6


def test_config_round_trip_and_errors():
    for layer in (ZeroPadding2D((1, 2)), UpSampling2D(3)):
        twin = layer_class(type(layer).__name__).from_config(layer.get_config())
        assert twin.get_config() == layer.get_config()
    assert ZeroPadding2D((1, 2)).padding == ((1, 1), (2, 2))
    with pytest.raises(ValueError, match="padding"):
        ZeroPadding2D(((1, 2, 3), (0, 0)))
    with pytest.raises(ValueError, match="interpolation"):
        UpSampling2D(2, interpolation="bilinear")
