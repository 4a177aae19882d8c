"""Conv1D / Conv2D: shapes against the formula, values against a loop and torch, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnx
from nnx.layers import Conv1D, Conv2D, layer_class

RNG = np.random.default_rng(4)


def _built(layer, shape, backend, dtype="float64"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def _expected_length(n, k, s, padding, d):
    if padding == "same":
        return math.ceil(n / s)
    return math.floor((n - d * (k - 1) - 1) / s) + 1


def _loop_conv2d(x, w, b, strides, padding, dilation):
    """Direct channels-last cross-correlation, the definition written as loops."""
    kh, kw, _, f = w.shape
    (sh, sw), (dh, dw) = strides, dilation
    n, h, wd, _ = x.shape
    oh = _expected_length(h, kh, sh, padding, dh)
    ow = _expected_length(wd, kw, sw, padding, dw)
    if padding == "same":
        th = max((oh - 1) * sh + dh * (kh - 1) + 1 - h, 0)
        tw = max((ow - 1) * sw + dw * (kw - 1) + 1 - wd, 0)
        x = np.pad(x, ((0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    y = np.zeros((n, oh, ow, f))
    for p in range(oh):
        for q in range(ow):
            for i in range(kh):
                for j in range(kw):
                    y[:, p, q, :] += x[:, p * sh + i * dh, q * sw + j * dw, :] @ w[i, j]
    return y + b


CASES = [
    ((3, 3), (1, 1), "valid", (1, 1)),
    ((3, 2), (2, 1), "same", (1, 1)),
    ((2, 2), (2, 2), "valid", (1, 1)),
    ((3, 3), (1, 1), "same", (2, 1)),
    ((1, 1), (2, 2), "same", (1, 1)),
    ((3, 3), (3, 2), "same", (1, 1)),
]


@pytest.mark.parametrize(("kernel", "strides", "padding", "dilation"), CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_matches_a_loop_convolution(
    backend, kernel, strides, padding, dilation, data_format
):
    layer = Conv2D(4, kernel, strides, padding, data_format=data_format, dilation_rate=dilation)
    x = RNG.normal(size=(2, 7, 6, 3))
    xin = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    _built(layer, xin.shape[1:], backend)
    b = RNG.normal(size=4)
    layer.bias.value[...] = backend.asarray(b, "float64")
    y = backend.to_numpy(layer(backend.asarray(xin, "float64")))
    if data_format == "channels_first":
        y = y.transpose(0, 2, 3, 1)
    w = backend.to_numpy(layer.kernel.value)
    np.testing.assert_allclose(y, _loop_conv2d(x, w, b, strides, padding, dilation), atol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, (2, 1), 3])
@pytest.mark.parametrize("dilation", [1, 2, (1, 3)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_output_shapes_follow_the_formula(padding, strides, dilation, data_format):
    if strides != 1 and dilation != 1:
        with pytest.raises(ValueError, match="dilation_rate"):
            Conv2D(2, 3, strides, padding, dilation_rate=dilation)
        return
    backend = nnx.backends.get_backend("numpy")
    h, w = 9, 8
    shape = (h, w, 2) if data_format == "channels_last" else (2, h, w)
    layer = _built(
        Conv2D(5, (3, 2), strides, padding, data_format=data_format, dilation_rate=dilation),
        shape,
        backend,
    )
    s = (strides, strides) if isinstance(strides, int) else strides
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    oh = _expected_length(h, 3, s[0], padding, d[0])
    ow = _expected_length(w, 2, s[1], padding, d[1])
    expected = (oh, ow, 5) if data_format == "channels_last" else (5, oh, ow)
    assert layer.output_shape == expected
    y = layer(backend.asarray(RNG.normal(size=(3, *shape)), "float64"))
    assert tuple(y.shape) == (3, *expected)


def test_conv2d_matches_torch():
    torch = pytest.importorskip("torch")
    backend = nnx.backends.get_backend("numpy")
    x = RNG.normal(size=(2, 9, 8, 3))
    for strides, padding, dilation in [(1, "valid", 1), (2, "valid", 1), (1, "same", 2)]:
        layer = _built(Conv2D(4, 3, strides, padding, dilation_rate=dilation), (9, 8, 3), backend)
        y = backend.to_numpy(layer(x))
        w = torch.from_numpy(backend.to_numpy(layer.kernel.value).transpose(3, 2, 0, 1).copy())
        ref = torch.nn.functional.conv2d(
            torch.from_numpy(x.transpose(0, 3, 1, 2).copy()),
            w,
            stride=strides,
            padding=padding,
            dilation=dilation,
        )
        np.testing.assert_allclose(y, ref.numpy().transpose(0, 2, 3, 1), atol=1e-10)


@pytest.mark.parametrize(("strides", "padding", "dilation"), [(1, "valid", 1), (2, "same", 1)])
def test_conv1d_matches_a_loop_convolution(backend, strides, padding, dilation):
    layer = _built(Conv1D(3, 3, strides, padding, dilation_rate=dilation), (8, 2), backend)
    x = RNG.normal(size=(2, 8, 2))
    y = backend.to_numpy(layer(backend.asarray(x, "float64")))
    w = backend.to_numpy(layer.kernel.value)
    ref = _loop_conv2d(x[:, None], w[None], 0.0, (1, strides), padding, (1, dilation))[:, 0]
    np.testing.assert_allclose(y, ref, atol=1e-12)
    assert layer.output_shape == (_expected_length(8, 3, strides, padding, dilation), 3)


GRAD_CASES = [
    (Conv2D, dict(filters=3, kernel_size=(3, 2), activation="tanh"), (5, 4, 2)),
    (Conv2D, dict(filters=2, kernel_size=3, strides=2, padding="same"), (5, 5, 2)),
    (Conv2D, dict(filters=2, kernel_size=2, dilation_rate=2, padding="same"), (5, 4, 1)),
    (
        Conv2D,
        dict(filters=2, kernel_size=2, data_format="channels_first", use_bias=False),
        (2, 4, 3),
    ),
    (Conv1D, dict(filters=3, kernel_size=3, padding="same", activation="relu"), (6, 2)),
    (Conv1D, dict(filters=2, kernel_size=2, strides=2, data_format="channels_first"), (2, 7)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), GRAD_CASES)
def test_conv_gradient_check(backend, cls, kwargs, shape):
    errors = nnx.gradcheck(cls(**kwargs), RNG.normal(size=(2, *shape)), backend=backend)
    assert max(errors.values()) < 1e-6


def test_conv_gradients_are_stable_across_calls(backend):
    layer = _built(Conv2D(2, 2, activation="sigmoid"), (4, 4, 1), backend)
    x = backend.asarray(RNG.normal(size=(3, 4, 4, 1)), "float64")
    dy = backend.asarray(RNG.normal(size=(3, 3, 3, 2)), "float64")
    _, backprop = layer.forward(x, training=True)
    dx1 = backend.to_numpy(backprop(dy))
    k1 = backend.to_numpy(layer.kernel.grad).copy()
    layer.forward(backend.asarray(RNG.normal(size=(3, 4, 4, 1)), "float64"), training=True)
    dx2 = backend.to_numpy(backprop(dy))  # the first closure still holds its own inputs
    np.testing.assert_allclose(dx1, dx2)
    np.testing.assert_allclose(k1, backend.to_numpy(layer.kernel.grad))


def test_conv_config_round_trip_and_errors():
    layer = Conv2D(
        8,
        (3, 5),
        strides=(1, 2),
        padding="same",
        activation="relu",
        kernel_regularizer=nnx.regularizers.l2(0.01),
        data_format="channels_first",
        name="c",
    )
    twin = layer_class("Conv2D").from_config(layer.get_config())
    assert twin.get_config() == layer.get_config()
    conv1 = Conv1D(4, 3, dilation_rate=2, name="c1")
    assert layer_class("Conv1D").from_config(conv1.get_config()).get_config() == conv1.get_config()
    with pytest.raises(ValueError, match="filters=0"):
        Conv2D(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="padding='full'"):
        Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="data_format"):
        Conv2D(2, 3, data_format="nhwc")
    with pytest.raises(ValueError, match="too small"):
        _built(Conv2D(2, 5), (3, 3, 1), nnx.backends.get_backend("numpy"))


def test_conv_trains_in_float32_without_promotion(backend):
    layer = _built(Conv2D(2, 3, padding="same", activation="relu"), (5, 5, 1), backend, "float32")
    x = backend.asarray(RNG.normal(size=(2, 5, 5, 1)), "float32")
    y, backprop = layer.forward(x, training=True)
    dx = backprop(y)
    assert y.dtype == dx.dtype == layer.kernel.grad.dtype == backend.dtype("float32")


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("strides", "dilation"), [(1, 1), (2, 1), (3, 1), (1, 2), (1, 3)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv1d_output_shapes_follow_the_formula(padding, strides, dilation, data_format):
    backend = nnx.backends.get_backend("numpy")
    shape = (11, 2) if data_format == "channels_last" else (2, 11)
    layer = _built(
        Conv1D(3, 3, strides, padding, data_format=data_format, dilation_rate=dilation),
        shape,
        backend,
    )
    n = _expected_length(11, 3, strides, padding, dilation)
    expected = (n, 3) if data_format == "channels_last" else (3, n)
    assert layer.output_shape == expected
    assert tuple(layer(backend.asarray(RNG.normal(size=(2, *shape)))).shape) == (2, *expected)


def test_conv_rejects_inputs_of_the_wrong_rank():
    backend = nnx.backends.get_backend("numpy")
    with pytest.raises(ValueError, match="expects inputs of 3 dimensions"):
        _built(Conv2D(2, 3), (8, 8), backend)
    layer = _built(Conv2D(2, 3), (8, 8, 1), backend)
    with pytest.raises(ValueError, match="expected input shape"):
        layer(backend.asarray(np.zeros((1, 8, 8, 3))))
