"""Pooling layers: shapes, values against loops, one-winner ties, gradient checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnx
from nnx.layers import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    layer_class,
)

RNG = np.random.default_rng(5)


def _built(layer, shape, backend, dtype="float64"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def _loop_pool(x, pool, strides, padding, reduce):
    """Reference pooling: every window of the real pixels (``same`` pads TensorFlow's way)."""
    n, h, w, c = x.shape
    out = []
    for size, k, s in ((h, pool[0], strides[0]), (w, pool[1], strides[1])):
        o = math.ceil(size / s) if padding == "same" else (size - k) // s + 1
        before = max((o - 1) * s + k - size, 0) // 2 if padding == "same" else 0
        out.append((o, before))
    (oh, top), (ow, left) = out
    y = np.zeros((n, oh, ow, c))
    for p in range(oh):
        for q in range(ow):
            r0, c0 = p * strides[0] - top, q * strides[1] - left
            window = x[:, max(r0, 0) : r0 + pool[0], max(c0, 0) : c0 + pool[1], :]
            y[:, p, q, :] = reduce(window, axis=(1, 2))
    return y


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    ("pool", "strides", "padding"),
    [((2, 2), None, "valid"), ((3, 3), (2, 2), "same"), ((2, 3), (1, 2), "valid"), (3, 1, "same")],
)
def test_pool2d_matches_a_loop(backend, kind, pool, strides, padding):
    cls = MaxPooling2D if kind == "max" else AveragePooling2D
    layer = _built(cls(pool, strides, padding), (7, 6, 2), backend)
    x = RNG.normal(size=(2, 7, 6, 2))
    y = backend.to_numpy(layer(backend.asarray(x, "float64")))
    p = (pool, pool) if isinstance(pool, int) else pool
    s = p if strides is None else ((strides, strides) if isinstance(strides, int) else strides)
    ref = _loop_pool(x, p, s, padding, np.max if kind == "max" else np.mean)
    np.testing.assert_allclose(y, ref, atol=1e-12)
    assert layer.output_shape == ref.shape[1:]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool", [2, 3, (2, 3)])
@pytest.mark.parametrize("strides", [None, 1, 2, (1, 2)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pool2d_output_shapes_follow_the_formula(padding, pool, strides, data_format):
    backend = nnx.backends.get_backend("numpy")
    h, w = 9, 7
    shape = (h, w, 3) if data_format == "channels_last" else (3, h, w)
    layer = _built(MaxPooling2D(pool, strides, padding, data_format), shape, backend)
    p = (pool, pool) if isinstance(pool, int) else pool
    s = p if strides is None else ((strides, strides) if isinstance(strides, int) else strides)
    dims = [
        math.ceil(n / st) if padding == "same" else (n - k) // st + 1
        for n, k, st in zip((h, w), p, s, strict=True)
    ]
    expected = (*dims, 3) if data_format == "channels_last" else (3, *dims)
    assert layer.output_shape == expected
    assert tuple(layer(backend.asarray(RNG.normal(size=(2, *shape)))).shape) == (2, *expected)


def test_max_pool_ties_route_the_gradient_to_one_winner(backend):
    layer = _built(MaxPooling2D(2), (4, 4, 1), backend)
    x = backend.asarray(np.ones((1, 4, 4, 1)), "float64")
    _, backprop = layer.forward(x, training=True)
    dx = backend.to_numpy(backprop(backend.asarray(np.ones((1, 2, 2, 1)), "float64")))[0, :, :, 0]
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1.0  # the first element of each window in row-major order
    np.testing.assert_array_equal(dx, expected)
    overlapping = _built(MaxPooling2D(2, strides=1), (3, 3, 1), backend)
    x = backend.asarray(np.ones((1, 3, 3, 1)), "float64")
    _, backprop = overlapping.forward(x, training=True)
    dx = backend.to_numpy(backprop(backend.asarray(np.ones((1, 2, 2, 1)), "float64")))
    assert dx.sum() == 4.0  # each of the 4 windows gives its gradient exactly once
    glob = _built(GlobalMaxPooling2D(), (2, 2, 1), backend)
    _, backprop = glob.forward(backend.asarray(np.ones((1, 2, 2, 1)), "float64"), training=True)
    dx = backend.to_numpy(backprop(backend.asarray([[1.0]], "float64")))[0, :, :, 0]
    np.testing.assert_array_equal(dx, [[1.0, 0.0], [0.0, 0.0]])


def test_global_and_1d_pooling_values(backend):
    x = RNG.normal(size=(2, 3, 4, 5))
    xb = backend.asarray(x, "float64")
    cases = [
        (GlobalAveragePooling2D(), x.mean(axis=(1, 2))),
        (GlobalMaxPooling2D(), x.max(axis=(1, 2))),
        (GlobalAveragePooling2D(keepdims=True), x.mean(axis=(1, 2), keepdims=True)),
        (GlobalMaxPooling2D(data_format="channels_first"), x.max(axis=(2, 3))),
    ]
    for layer, expected in cases:
        _built(layer, x.shape[1:], backend)
        np.testing.assert_allclose(backend.to_numpy(layer(xb)), expected, atol=1e-12)
        assert layer.output_shape == expected.shape[1:]
    seq = RNG.normal(size=(2, 7, 3))
    sb = backend.asarray(seq, "float64")
    pooled = backend.to_numpy(_built(MaxPooling1D(2), (7, 3), backend)(sb))
    np.testing.assert_allclose(pooled, seq[:, :6].reshape(2, 3, 2, 3).max(axis=2))
    avg = backend.to_numpy(_built(AveragePooling1D(3, 1, "same"), (7, 3), backend)(sb))
    np.testing.assert_allclose(avg[:, 0], seq[:, :2].mean(axis=1))  # padding not counted
    np.testing.assert_allclose(avg[:, 3], seq[:, 2:5].mean(axis=1))
    gavg = _built(GlobalAveragePooling1D(), (7, 3), backend)(sb)
    np.testing.assert_allclose(backend.to_numpy(gavg), seq.mean(axis=1))
    gmax = _built(GlobalMaxPooling1D(data_format="channels_first"), (7, 3), backend)(sb)
    np.testing.assert_allclose(backend.to_numpy(gmax), seq.max(axis=2))


GRAD_CASES = [
    (MaxPooling2D(2), (4, 4, 2)),
    (MaxPooling2D(3, strides=2, padding="same"), (5, 4, 2)),
    (AveragePooling2D(2, strides=1, padding="same"), (3, 4, 2)),
    (AveragePooling2D((2, 1), data_format="channels_first"), (2, 4, 3)),
    (MaxPooling1D(2, strides=1), (5, 2)),
    (AveragePooling1D(3, padding="same"), (5, 2)),
    (GlobalMaxPooling2D(), (3, 3, 2)),
    (GlobalAveragePooling2D(data_format="channels_first"), (2, 3, 3)),
    (GlobalMaxPooling1D(), (4, 2)),
    (GlobalAveragePooling1D(keepdims=True), (4, 2)),
]


@pytest.mark.parametrize(("layer", "shape"), GRAD_CASES, ids=lambda v: type(v).__name__)
def test_pooling_gradient_check(backend, layer, shape):
    config = layer.get_config()
    fresh = type(layer).from_config({k: v for k, v in config.items() if k != "name"})
    errors = nnx.gradcheck(fresh, RNG.normal(size=(2, *shape)), backend=backend)
    assert max(errors.values()) < 1e-6


def test_pooling_config_round_trip_and_errors():
    for layer in (
        MaxPooling2D((2, 3), strides=1, padding="same", data_format="channels_first"),
        AveragePooling1D(4),
        GlobalMaxPooling2D(keepdims=True),
    ):
        twin = layer_class(type(layer).__name__).from_config(layer.get_config())
        assert twin.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling2D(0)
    with pytest.raises(ValueError, match="smaller"):
        _built(MaxPooling2D(3), (2, 2, 1), nnx.backends.get_backend("numpy"))
