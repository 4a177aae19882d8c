"""The direct-convolution and arg-max pooling kernels give the numbers of the portable code
(im2col + GEMM + bias + ReLU; max pooling and its backward): strides, dilation, padding, odd
sizes, ties, non-contiguous inputs, both dtypes; and the Conv2D / MaxPooling2D layers that use
them pass the float64 gradient check in both data formats."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnx
from nnx.backends import get_backend
from nnx.backends.fast_paths import FastPaths
from nnx.functional import activations as fa
from nnx.functional import conv as fc
from nnx.functional import pooling as fp

# (kernel, strides, dilation, pads)
GEOMETRIES = [
    ((3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
    ((3, 2), (2, 3), (1, 1), ((0, 1), (2, 0))),
    ((2, 3), (1, 1), (2, 2), ((0, 0), (0, 0))),
    ((1, 1), (1, 1), (1, 1), ((0, 0), (0, 0))),
]


def _images(shape, dtype, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=shape) if ties else rng.normal(size=shape)
    # channels-first data seen channels-last: a non-contiguous (b, h, w, c) view
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=dtype).transpose(0, 2, 3, 1)


def _reference(x, w, bias, kernel, strides, dilation, relu):
    b = get_backend("numpy")
    cols = FastPaths.im2col(b, x, kernel, strides, dilation)
    z = np.reshape(cols, (-1, w.shape[0])) @ w
    if bias is not None:
        z = z + bias
    z = z.reshape((*cols.shape[:3], w.shape[1]))
    return (fa.relu(z) if relu else z), cols


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("kernel", "strides", "dilation", "pads"), GEOMETRIES)
@pytest.mark.parametrize(("relu", "use_bias"), [(True, True), (False, False)])
def test_direct_convolution_and_its_weight_gradient(
    numba, close, dtype, kernel, strides, dilation, pads, relu, use_bias
):
    numba(True)
    b = get_backend("numpy")
    rng = np.random.default_rng(1)
    x = fc.pad2d(b.xp, _images((3, 9, 7, 2), dtype), pads)
    taps = kernel[0] * kernel[1] * 2
    w = rng.normal(size=(5, taps)).astype(dtype).T  # a non-contiguous (taps, filters) view
    bias = rng.normal(size=5).astype(dtype) if use_bias else None
    y = b.conv2d_direct(x, w, bias, kernel, strides, dilation, relu)
    assert y is not None
    expected, cols = _reference(x, w, bias, kernel, strides, dilation, relu)
    close(y, expected)
    dy = rng.normal(size=y.shape).astype(dtype)
    grads = b.conv2d_weight_grad(dy, y if relu else None, x, kernel, strides, dilation)
    assert grads is not None
    dz = fa.relu_backward(dy, y, y) if relu else dy
    close(grads[0], cols.reshape(-1, taps).T @ dz.reshape(-1, 5))
    close(grads[1], dz.reshape(-1, 5).sum(axis=0))
    assert grads[0].dtype == grads[1].dtype == np.dtype(dtype)


def test_the_direct_kernels_decline_many_taps_and_other_dtypes(numba, monkeypatch):
    from nnx.backends import numba_paths

    numba(True)
    b = get_backend("numpy")
    x = np.zeros((1, 5, 5, 4), dtype="float32")
    one = ((3, 3), (1, 1), (1, 1))
    monkeypatch.setattr(numba_paths, "DIRECT_CONV_MAX_TAPS", 35)
    assert b.conv2d_direct(x, np.zeros((36, 2), "float32"), None, *one, True) is None
    assert b.conv2d_weight_grad(np.zeros((1, 3, 3, 2), "float32"), None, x, *one) is None
    ints = np.zeros((1, 5, 5, 1), dtype="int64")
    assert b.conv2d_direct(ints, np.zeros((9, 2), "int64"), None, *one, False) is None
    numba(False)
    assert b.conv2d_direct(x[..., :1], np.zeros((9, 2), "float32"), None, *one, True) is None
    assert b.max_pool2d_argmax(x, (2, 2), (2, 2)) is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("pool", "strides", "size"),
    [((2, 2), (2, 2), (8, 8)), ((2, 2), (2, 2), (7, 9)), ((3, 3), (2, 1), (7, 8)),
     ((2, 3), (3, 4), (9, 11)), ((1, 1), (1, 1), (3, 4))],
)  # fmt: skip
def test_argmax_pooling_with_ties(numba, close, dtype, pool, strides, size):
    numba(True)
    b = get_backend("numpy")
    x = _images((2, *size, 3), dtype, ties=True)
    x = fc.pad2d(b.xp, x, ((0, 1), (1, 0)), -math.inf)
    found = b.max_pool2d_argmax(x, pool, strides)
    assert found is not None
    y, arg = found
    close(y, fp.max_pool2d(b.xp, x, pool, strides))
    dy = np.random.default_rng(2).normal(size=y.shape).astype(dtype)
    dx = b.max_pool2d_argmax_backward(dy, arg, tuple(x.shape), pool, strides)
    assert dx is not None
    close(dx, fp.max_pool2d_backward(b.xp, dy, x, y, pool, strides))


def test_large_batches_split_over_threads_give_the_same_numbers(numba, close):
    from nnx.backends.numba_jit import PARALLEL_MIN_SIZE

    numba(True)
    b = get_backend("numpy")
    x = _images((16, 30, 30, 1), "float32", seed=3)
    w = np.random.default_rng(4).normal(size=(9, 32)).astype("float32")
    y = b.conv2d_direct(x, w, None, (3, 3), (1, 1), (1, 1), True)
    assert y is not None and y.size >= PARALLEL_MIN_SIZE
    expected, cols = _reference(x, w, None, (3, 3), (1, 1), (1, 1), True)
    close(y, expected)
    grads = b.conv2d_weight_grad(y, y, x, (3, 3), (1, 1), (1, 1))
    assert grads is not None
    close(grads[0], cols.reshape(-1, 9).T @ expected.reshape(-1, 32))
    found = b.max_pool2d_argmax(y, (2, 2), (2, 2))
    assert found is not None
    close(found[0], fp.max_pool2d(b.xp, y, (2, 2), (2, 2)))
    dx = b.max_pool2d_argmax_backward(found[0], found[1], y.shape, (2, 2), (2, 2))
    close(dx, fp.max_pool2d_backward(b.xp, found[0], y, found[0], (2, 2), (2, 2)))


def _conv_pool(data_format, activation, padding="valid", strides=1, dilation=1):
    return nnx.Sequential(
        [
            nnx.layers.Conv2D(4, (3, 2), strides=strides, padding=padding, dilation_rate=dilation,
                              activation=activation, data_format=data_format),
            nnx.layers.MaxPooling2D(2, data_format=data_format),
        ],
        seed=0,
    )  # fmt: skip


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(
    ("activation", "padding", "strides", "dilation"),
    [("relu", "same", 1, 1), ("linear", "valid", 2, 1), ("relu", "valid", 1, 2)],
)
def test_conv_and_pool_layers_on_the_kernels_pass_the_gradient_check(
    numba, data_format, activation, padding, strides, dilation
):
    numba(True)
    shape = (2, 7, 8, 2) if data_format == "channels_last" else (2, 2, 7, 8)
    x = np.random.default_rng(6).normal(size=shape)
    model = _conv_pool(data_format, activation, padding, strides, dilation)
    model.build(shape[1:])
    errors = nnx.gradcheck(model, x, training=True)
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_layer_gives_the_same_output_and_gradients_with_and_without_numba(
    numba, close, data_format
):
    shape = (3, 9, 8, 3) if data_format == "channels_last" else (3, 3, 9, 8)
    x = np.random.default_rng(7).normal(size=shape).astype("float32")
    results = []
    for on in (True, False):
        numba(on)
        model = _conv_pool(data_format, "relu", "same")
        model.build(shape[1:])
        layer = model.layers[0]
        layer.needs_input_gradient = True
        y, backprop = model.forward(model.backend.asarray(x), training=True)
        dy = np.random.default_rng(8).normal(size=y.shape).astype("float32")
        dx = backprop(dy)
        results.append((y, dx, layer.kernel.grad.copy(), layer.bias.grad.copy()))
    for fused, portable in zip(*results, strict=True):
        close(fused, portable)


def test_the_first_conv_of_a_model_skips_its_input_gradient(numba, monkeypatch):
    numba(True)
    model = _conv_pool("channels_last", "relu")
    model.add(nnx.layers.Flatten())
    model.compile("sgd", "mse")
    model.build((6, 6, 1))
    be = model.backend
    calls = []
    monkeypatch.setattr(be, "col2im", lambda *a, **k: calls.append(a) or None)
    x, y = np.ones((2, 6, 6, 1), "float32"), np.zeros((2, 16), "float32")
    model.train_step(be.asarray(x), be.asarray(y))
    assert calls == []
    assert model.layers[0].kernel.grad is not None


def _channels_first_block(activation: str) -> nnx.Sequential:
    """A channels-first Conv2D on the im2col route (40 taps > the direct kernel's limit, or an
    activation it does not fuse) and a channels-first BatchNormalization after it."""
    return nnx.Sequential(
        [
            nnx.layers.Conv2D(3, (2, 5), padding="same", activation=activation,
                              data_format="channels_first"),
            nnx.layers.BatchNormalization(axis=1),
        ],
        seed=0,
    )  # fmt: skip


@pytest.mark.parametrize("activation", ["elu", "relu"])  # linear: BN zeroes d bias
def test_channels_first_layers_run_channels_last_inside(numba, close, monkeypatch, activation):
    from nnx.backends import numba_paths

    monkeypatch.setattr(numba_paths, "DIRECT_CONV_MAX_TAPS", 8)
    x = np.random.default_rng(9).normal(size=(3, 4, 6, 7)).astype("float32")
    results = []
    for on in (True, False):
        numba(on)
        model = _channels_first_block(activation)
        model.build(x.shape[1:])
        model.layers[0].needs_input_gradient = True
        y, backprop = model.forward(model.backend.asarray(x), training=True)
        dy = np.random.default_rng(10).normal(size=y.shape).astype("float32")
        dx = backprop(dy)
        grads = [p.grad.copy() for p in model.parameters() if p.trainable]
        stats = [p.value.copy() for p in model.parameters() if not p.trainable]
        results.append((y, dx, *grads, *stats))
    for fused, portable in zip(*results, strict=True):
        close(fused, portable)


@pytest.mark.parametrize("activation", ["elu", "relu"])
def test_channels_first_layers_pass_the_gradient_check_with_numba(numba, monkeypatch, activation):
    from nnx.backends import numba_paths

    numba(True)
    monkeypatch.setattr(numba_paths, "DIRECT_CONV_MAX_TAPS", 8)
    x = np.random.default_rng(11).normal(size=(3, 4, 5, 6))
    model = _channels_first_block(activation)
    model.build(x.shape[1:])
    errors = nnx.gradcheck(model, x, training=True)
    assert max(errors.values()) < 1e-6
