"""The 1-D shape layers (ZeroPadding1D, Cropping1D, UpSampling1D, Permute) and
SpatialDropout1D: values by hand, float64 gradient checks on every backend, configs, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import (
    Cropping1D,
    Permute,
    SpatialDropout1D,
    UpSampling1D,
    ZeroPadding1D,
    layer_class,
)

RNG = np.random.default_rng(3)
X = RNG.normal(size=(2, 4, 3))


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda: ZeroPadding1D(2),
            np.concatenate([np.zeros((2, 2, 3)), X, np.zeros((2, 2, 3))], 1),
        ),
        (lambda: ZeroPadding1D((0, 1)), np.concatenate([X, np.zeros((2, 1, 3))], 1)),
        (lambda: Cropping1D((1, 2)), X[:, 1:2]),
        (lambda: Cropping1D(0), X),
        (lambda: UpSampling1D(3), np.repeat(X, 3, axis=1)),
        (lambda: Permute((2, 1)), np.transpose(X, (0, 2, 1))),
    ],
    ids=["pad", "pad_right", "crop", "crop_none", "upsample", "permute"],
)
def test_values_shapes_gradients_and_configs(backend, make, expected):
    layer = make()
    y = layer(backend.asarray(X, "float64"))
    np.testing.assert_array_equal(backend.to_numpy(y), expected)
    assert layer.compute_output_shape((4, 3)) == expected.shape[1:]
    errors = nnx.gradcheck(layer, X, backend=backend)
    assert max(errors.values()) < 1e-7
    twin = layer_class(type(layer).__name__).from_config(layer.get_config())
    np.testing.assert_array_equal(backend.to_numpy(twin(backend.asarray(X, "float64"))), expected)


def test_permute_of_rank_three_samples(backend):
    x = RNG.normal(size=(2, 2, 3, 4))
    layer = Permute((3, 1, 2))
    np.testing.assert_array_equal(
        backend.to_numpy(layer(backend.asarray(x, "float64"))), np.transpose(x, (0, 3, 1, 2))
    )
    assert max(nnx.gradcheck(layer, x, backend=backend).values()) < 1e-7


def test_spatial_dropout_1d_drops_whole_features_and_checks_its_gradient(backend):
    layer = SpatialDropout1D(0.5, seed=1)
    layer.build((4, 3), backend, None, "float64")
    y, _ = layer.forward(backend.asarray(np.ones((8, 4, 3)), "float64"), training=True)
    y = backend.to_numpy(y)
    assert (y == y[:, :1, :]).all()  # one draw per (sample, feature), shared by the steps
    assert set(np.unique(y)) == {0.0, 2.0}
    assert max(nnx.gradcheck(layer, X, training=True, backend=backend).values()) < 1e-7
    same, _ = layer.forward(backend.asarray(X, "float64"), training=False)
    np.testing.assert_array_equal(backend.to_numpy(same), X)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ZeroPadding1D(-1), r"ZeroPadding1D: padding must be a non-negative int.*-1"),
        (lambda: Cropping1D((1, 2, 3)), r"Cropping1D: cropping must be .*\(1, 2, 3\)"),
        (lambda: UpSampling1D(0), r"UpSampling1D: size.*size=0"),
        (lambda: Permute((1, 3)), r"Permute: dims must be a permutation.*\(1, 3\)"),
    ],
)
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"Cropping1D 'c': cropping=\(2, 2\) leaves no step of 4"):
        Cropping1D(2, name="c")(X)
    with pytest.raises(ValueError, match=r"UpSampling1D 'u' expects inputs of shape \(batch, "):
        UpSampling1D(name="u")(X[:, :, 0])
    with pytest.raises(ValueError, match=r"Permute 'p': dims=\(2, 1\) needs samples of rank 2"):
        Permute((2, 1), name="p")(X[:, :, :, None])
    with pytest.raises(ValueError, match=r"SpatialDropout1D 's' expects \(batch, steps, feat"):
        SpatialDropout1D(0.5, name="s")(X[:, :, 0])
