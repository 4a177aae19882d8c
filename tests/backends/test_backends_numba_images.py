"""The numba window and batch-norm kernels give the numbers of the portable code: strides,
dilation, padding, ties in max pooling, non-contiguous inputs; and a small CNN trains to the
same weights with numba on and off."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnx
from nnx.backends import get_backend
from nnx.backends.fast_paths import FastPaths
from nnx.functional import conv as fc
from nnx.functional import pooling as fp
from nnx.layers.normalization import normalize_backward

# (kernel, strides, dilation, pads)
GEOMETRIES = [
    ((3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
    ((3, 2), (2, 3), (1, 1), ((0, 1), (2, 0))),
    ((2, 3), (1, 1), (2, 2), ((0, 0), (0, 0))),
]


def _images(shape, dtype, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, size=shape) if ties else rng.normal(size=shape)
    # channels-first data seen channels-last: a non-contiguous (b, h, w, c) view
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=dtype).transpose(0, 2, 3, 1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("kernel", "strides", "dilation", "pads"), GEOMETRIES)
def test_im2col_and_col2im(numba, close, dtype, kernel, strides, dilation, pads):
    numba(True)
    b = get_backend("numpy")
    x = fc.pad2d(b.xp, _images((2, 9, 8, 3), dtype), pads)
    cols = b.im2col(x, kernel, strides, dilation)
    close(cols, FastPaths.im2col(b, x, kernel, strides, dilation))
    dcols = np.random.default_rng(1).normal(size=cols.shape).astype(dtype)
    dx = b.col2im(dcols.T.copy().T, tuple(x.shape), kernel, strides, dilation)
    assert dx is not None
    close(dx, fc.col2im(b.xp, dcols, tuple(x.shape), kernel, strides, dilation))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("pool", "strides"), [((2, 2), (2, 2)), ((3, 3), (2, 1)), ((2, 3), (1, 1))]
)
def test_max_pooling_with_ties(numba, close, dtype, pool, strides):
    numba(True)
    b = get_backend("numpy")
    x = fc.pad2d(b.xp, _images((2, 7, 8, 3), dtype, ties=True), ((0, 1), (1, 0)), -math.inf)
    y = b.max_pool2d(x, pool, strides)
    close(y, fp.max_pool2d(b.xp, x, pool, strides))
    dy = np.random.default_rng(2).normal(size=y.shape).astype(dtype)
    dx = b.max_pool2d_backward(dy, x, y, pool, strides)
    assert dx is not None
    close(dx, fp.max_pool2d_backward(b.xp, dy, x, y, pool, strides))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("padded", [False, True])
def test_average_pooling(numba, close, dtype, padded):
    numba(True)
    b = get_backend("numpy")
    pool, strides, pads = (3, 2), (2, 2), ((1, 1), (0, 1)) if padded else ((0, 0), (0, 0))
    x = fc.pad2d(b.xp, _images((2, 7, 8, 3), dtype), pads)
    count: np.ndarray | float = float(math.prod(pool))
    if padded:
        ones = fc.pad2d(b.xp, np.ones((1, 7, 8, 1), dtype=dtype), pads)
        count = fp.avg_pool2d(b.xp, ones, pool, strides, 1.0)
    y = b.avg_pool2d(x, pool, strides, count)
    close(y, fp.avg_pool2d(b.xp, x, pool, strides, count))
    dy = np.random.default_rng(2).normal(size=y.shape).astype(dtype)
    dx = b.avg_pool2d_backward(dy, tuple(x.shape), pool, strides, count)
    assert dx is not None
    close(dx, fp.avg_pool2d_backward(b.xp, dy, tuple(x.shape), pool, strides, count))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_statistics_and_backward(numba, close, dtype):
    numba(True)
    b = get_backend("numpy")
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(50, 6)) * 3 + 2).astype(dtype)
    stats = b.batch_norm_statistics(x)
    assert stats is not None
    close(stats[0], x.mean(axis=0))
    close(stats[1], x.var(axis=0))
    inv = (1 / np.sqrt(x.var(axis=0, keepdims=True) + 1e-3)).astype(dtype)
    xhat = (x - x.mean(axis=0, keepdims=True)) * inv
    dy, gamma = rng.normal(size=x.shape).astype(dtype), rng.normal(size=6).astype(dtype)
    dx, dgamma, dbeta = b.batch_norm_backward(dy, xhat, gamma, inv)
    close(dbeta, dy.sum(axis=0))
    close(dgamma, (dy * xhat).sum(axis=0))
    close(dx, normalize_backward(b.xp, dy * gamma, xhat, inv, (0,)))


def _cnn_weights(numba, on: bool, data_format: str) -> list[np.ndarray]:
    numba(on)
    shape = (8, 8, 2) if data_format == "channels_last" else (2, 8, 8)
    model = nnx.Sequential(
        [
            nnx.layers.Conv2D(4, 3, padding="same", activation="relu", input_shape=shape,
                              data_format=data_format),
            nnx.layers.BatchNormalization(axis=-1 if data_format == "channels_last" else 1),
            nnx.layers.MaxPooling2D(2, data_format=data_format),
            nnx.layers.Conv2D(3, 2, strides=2, activation="elu", data_format=data_format),
            nnx.layers.AveragePooling2D(2, padding="same", data_format=data_format),
            nnx.layers.Flatten(),
            nnx.layers.Dense(3, activation="softmax"),
        ],
        dtype="float64",
        seed=0,
    )  # fmt: skip
    model.compile(nnx.optimizers.Adam(0.01, clipvalue=1.0), "categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, *shape))
    y = np.eye(3)[rng.integers(0, 3, size=16)]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    return [p.value.copy() for p in model.parameters()]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_a_cnn_trains_to_the_same_weights_with_and_without_numba(numba, data_format):
    fused = _cnn_weights(numba, True, data_format)
    portable = _cnn_weights(numba, False, data_format)
    for a, b in zip(fused, portable, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_large_batches_split_over_threads_give_the_same_numbers(numba, close):
    from nnx.backends.numba_jit import PARALLEL_MIN_SIZE

    numba(True)
    b = get_backend("numpy")
    x = _images((8, 40, 40, 8), "float32", seed=3, ties=True)
    assert x.size >= PARALLEL_MIN_SIZE
    cols = b.im2col(x, (3, 3), (1, 1), (1, 1))
    close(cols, FastPaths.im2col(b, x, (3, 3), (1, 1), (1, 1)))
    dx = b.col2im(cols, tuple(x.shape), (3, 3), (1, 1), (1, 1))
    close(dx, fc.col2im(b.xp, cols, tuple(x.shape), (3, 3), (1, 1), (1, 1)))
    y = b.max_pool2d(x, (3, 3), (2, 2))
    close(y, fp.max_pool2d(b.xp, x, (3, 3), (2, 2)))
    dy = np.ones_like(y)
    close(b.max_pool2d_backward(dy, x, y, (3, 3), (2, 2)),
          fp.max_pool2d_backward(b.xp, dy, x, y, (3, 3), (2, 2)))  # fmt: skip
    z = np.ascontiguousarray(x.reshape(-1, 8))
    out = b.activation_forward(z.copy(), None, "relu")
    close(out, nnx.functional.activations.relu(z))
    dx = b.activation_backward(z, z, z, "softmax")
    close(dx, nnx.functional.activations.softmax_backward(z, z, z))
