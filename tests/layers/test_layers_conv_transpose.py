"""Conv1DTranspose / Conv2DTranspose: Keras's shape rule, values against torch and against the
input gradient of Conv2D, float64 gradients, config, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Conv1DTranspose, Conv2D, Conv2DTranspose, layer_class

RNG = np.random.default_rng(16)


def _built(layer, shape, backend, dtype="float64"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def _keras_length(n, k, s, padding, op, d):
    """Keras 3's ``_get_output_shape_given_tf_padding``, written out."""
    k = (k - 1) * d + 1
    if padding == "valid":
        return (n - 1) * s + k + (max(k, s) - k if op is None else op)
    return n * s if op is None else (n - 1) * s + k % 2 + op


def _torch_transpose(torch, x, w, n, k, s, padding, op, d, rank):
    """torch's conv_transpose of channels-last ``x`` with a Keras kernel, Keras's padding mapped
    to torch's ``padding`` (crop on both sides) and ``output_padding`` (given back on the
    right) where they express it, else torch's full output cropped / zero-extended as Keras's
    torch backend does. The start follows TensorFlow's conv padding of an input of ``out``."""
    out = _keras_length(n, k, s, padding, op, d)
    full = (n - 1) * s + (k - 1) * d + 1
    before = 0 if padding == "valid" else max(full - out, 0) // 2
    extra = out - full + 2 * before  # torch's output_padding
    fn = torch.nn.functional.conv_transpose2d if rank == 2 else torch.nn.functional.conv_transpose1d
    perm = (0, 3, 1, 2) if rank == 2 else (0, 2, 1)
    kernel = w.transpose(rank + 1, rank, *range(rank))
    tx, tw = torch.from_numpy(x.transpose(perm).copy()), torch.from_numpy(kernel.copy())
    mapped = 0 <= extra < max(s, d)
    y = fn(tx, tw, stride=s, padding=before, output_padding=extra if mapped else 0, dilation=d)
    y = y.numpy()
    if not mapped:
        y = y[..., :out]
        if rank == 2:
            y = y[:, :, :out, :]
        widths = [(0, 0), (0, 0)] + [(0, out - y.shape[-1])] * rank
        y = np.pad(y, widths)
    back = (0, 2, 3, 1) if rank == 2 else (0, 2, 1)
    return y.transpose(back)


TORCH_CASES = [
    (3, 2, "same", None, 1),
    (3, 2, "valid", None, 1),
    (4, 2, "same", None, 1),
    (2, 3, "valid", None, 1),
    (3, 2, "same", 0, 1),
    (3, 3, "same", 2, 1),
    (2, 2, "valid", 1, 1),
    (3, 1, "same", None, 2),
    (2, 1, "same", None, 1),
    (3, 1, "valid", None, 3),
    (5, 3, "same", 1, 1),
]


@pytest.mark.parametrize(("k", "s", "padding", "op", "d"), TORCH_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_transpose_matches_torch(k, s, padding, op, d, dtype):
    torch = pytest.importorskip("torch")
    backend = nnx.backends.get_backend("numpy")
    layer = Conv2DTranspose(4, k, s, padding, output_padding=op, dilation_rate=d)
    _built(layer, (5, 5, 3), backend, dtype)
    x = RNG.normal(size=(2, 5, 5, 3)).astype(dtype)
    y = backend.to_numpy(layer(backend.asarray(x, dtype)))
    w = backend.to_numpy(layer.kernel.value)
    ref = _torch_transpose(torch, x, w, 5, k, s, padding, op, d, rank=2)
    assert y.shape == ref.shape == (2, *layer.output_shape)
    np.testing.assert_allclose(y, ref, atol=1e-5 if dtype == "float32" else 1e-10)


@pytest.mark.parametrize(("k", "s", "padding", "op", "d"), TORCH_CASES)
def test_conv1d_transpose_matches_torch(k, s, padding, op, d):
    torch = pytest.importorskip("torch")
    backend = nnx.backends.get_backend("numpy")
    layer = _built(Conv1DTranspose(3, k, s, padding, op, dilation_rate=d), (6, 2), backend)
    x = RNG.normal(size=(2, 6, 2))
    y = backend.to_numpy(layer(backend.asarray(x, "float64")))
    ref = _torch_transpose(
        torch, x, backend.to_numpy(layer.kernel.value), 6, k, s, padding, op, d, 1
    )
    np.testing.assert_allclose(y, ref, atol=1e-10)


@pytest.mark.parametrize(
    ("k", "s", "padding", "op"),
    [(3, 2, "same", None), (4, 2, "same", 1), (3, 2, "valid", 1), (2, 3, "valid", None)],
)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_transpose_is_the_input_gradient_of_conv2d(backend, k, s, padding, op, data_format):
    """Keras's transposed conv is the adjoint of the Conv2D with the same kernel whose output
    has the transposed conv's input shape (TensorFlow's definition)."""
    up = Conv2DTranspose(3, k, s, padding, op, data_format, use_bias=False)
    shape = (4, 5, 2) if data_format == "channels_last" else (2, 4, 5)
    _built(up, shape, backend)
    conv = Conv2D(2, k, s, padding, data_format, use_bias=False)
    _built(conv, up.output_shape, backend)
    conv.kernel.value = up.kernel.value
    x = backend.asarray(RNG.normal(size=(2, *shape)), "float64")
    z = backend.asarray(RNG.normal(size=(2, *up.output_shape)), "float64")
    y, _ = conv.forward(z, training=True)
    assert tuple(y.shape) == tuple(x.shape)
    _, backprop = conv.forward(z, training=True)
    np.testing.assert_allclose(backend.to_numpy(up(x)), backend.to_numpy(backprop(x)), atol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, (3, 2)])
@pytest.mark.parametrize("op", [None, 0, 1])
@pytest.mark.parametrize("dilation", [1, 2])
def test_output_shapes_follow_keras_rule(padding, strides, op, dilation):
    s = (strides, strides) if isinstance(strides, int) else strides
    if (max(s) > 1 and dilation > 1) or (op is not None and op >= min(s)):
        with pytest.raises(ValueError, match="dilation_rate|output_padding"):
            Conv2DTranspose(2, (3, 2), strides, padding, op, dilation_rate=dilation)
        return
    backend = nnx.backends.get_backend("numpy")
    layer = _built(
        Conv2DTranspose(2, (3, 2), strides, padding, op, dilation_rate=dilation), (7, 6, 3), backend
    )
    expected = tuple(
        _keras_length(n, k, si, padding, op, dilation)
        for n, k, si in zip((7, 6), (3, 2), s, strict=True)
    )
    assert layer.output_shape == (*expected, 2)
    y = layer(backend.asarray(RNG.normal(size=(2, 7, 6, 3)), "float64"))
    assert tuple(y.shape) == (2, *expected, 2)


def test_same_padding_with_stride_two_doubles_the_size():
    up = Conv2DTranspose(8, 3, strides=2, padding="same", data_format="channels_first")
    up.build((32, 7, 9), "numpy")
    assert up.output_shape == (8, 14, 18) and up.kernel.shape == (3, 3, 8, 32)
    up1 = Conv1DTranspose(4, 7, strides=2, padding="same")
    up1.build((36, 5), "numpy")
    assert up1.output_shape == (72, 4) and up1.kernel.shape == (7, 4, 5)


GRAD_CASES = [
    (Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same"), (3, 4, 2)),
    (Conv2DTranspose, dict(filters=2, kernel_size=(2, 3), activation="tanh"), (3, 3, 2)),
    (Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, output_padding=1), (3, 2, 2)),
    (Conv2DTranspose, dict(filters=2, kernel_size=2, strides=3), (2, 3, 1)),
    (Conv2DTranspose, dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"), (4, 3, 2)),
    (
        Conv2DTranspose,
        dict(
            filters=2,
            kernel_size=3,
            strides=2,
            padding="same",
            data_format="channels_first",
            activation="sigmoid",
        ),
        (2, 3, 3),
    ),
    (Conv1DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same"), (4, 2)),
    (
        Conv1DTranspose,
        dict(
            filters=2,
            kernel_size=4,
            strides=2,
            output_padding=1,
            data_format="channels_first",
            use_bias=False,
        ),
        (2, 4),
    ),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), GRAD_CASES)
def test_conv_transpose_gradient_check(backend, cls, kwargs, shape):
    errors = nnx.gradcheck(cls(**kwargs), RNG.normal(size=(2, *shape)), backend=backend)
    assert "input" in errors and any(key.endswith("/kernel") for key in errors)
    assert max(errors.values()) < 1e-6


def test_the_numba_col2im_gives_the_portable_numbers(numba):
    backend = nnx.backends.get_backend("numpy")
    x = backend.asarray(RNG.normal(size=(3, 5, 6, 9)), "float64")
    results = []
    for on in (False, True):
        numba(on)
        layer = _built(Conv2DTranspose(12, 3, strides=2, padding="same"), (5, 6, 9), backend)
        y, backprop = layer.forward(x, training=True)
        dx = backprop(backend.asarray(np.ones(y.shape), "float64"))
        results.append((backend.to_numpy(y), backend.to_numpy(dx), layer.kernel.grad.copy()))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_config_round_trip():
    layer = Conv2DTranspose(
        4,
        (3, 2),
        strides=2,
        padding="same",
        output_padding=(1, 0),
        data_format="channels_first",
        activation="relu",
        kernel_regularizer="l2",
        use_bias=False,
    )
    twin = layer_class("Conv2DTranspose").from_config(layer.get_config())
    assert twin.get_config() == layer.get_config()
    assert twin.output_padding == (1, 0) and twin.data_format == "channels_first"
    conv1 = Conv1DTranspose(2, 5, strides=3, output_padding=2)
    assert layer_class("Conv1DTranspose").from_config(conv1.get_config()).get_config() == (
        conv1.get_config()
    )


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Conv2DTranspose(2, 3, strides=2, output_padding=2), "output_padding"),
        (lambda: Conv2DTranspose(2, 3, strides=(2, 1), output_padding=1), "output_padding"),
        (lambda: Conv2DTranspose(0, 3), "filters"),
        (lambda: Conv2DTranspose(2, (3, 3, 3)), "kernel_size"),
        (lambda: Conv2DTranspose(2, 3, padding="full"), "padding"),
        (lambda: Conv2DTranspose(2, 3, data_format="nhwc"), "data_format"),
        (lambda: Conv2DTranspose(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
        (lambda: Conv2DTranspose(2, 3, kernel_constraint="nope"), "kernel_constraint"),
        (lambda: Conv2DTranspose(2, 3, bias_constraint=3), "bias_constraint"),
        (lambda: Conv1DTranspose(2, 3, activity_regularizer="nope"), "activity_regularizer"),
    ],
)
def test_bad_arguments_name_the_layer_and_argument(make, match):
    with pytest.raises(ValueError, match=match) as info:
        make()
    assert "Transpose" in str(info.value)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="Conv2DTranspose .* expects inputs of 3 dimensions"):
        Conv2DTranspose(2, 3).build((5, 5), "numpy")
    with pytest.raises(ValueError, match="Conv1DTranspose .* expects inputs of 2 dimensions"):
        Conv1DTranspose(2, 3).build((5, 5, 1), "numpy")
    with pytest.raises(ValueError, match="empty output"):
        Conv1DTranspose(2, 2, padding="same", output_padding=0).build((1, 3), "numpy")
    layer = Conv2DTranspose(2, 3)
    layer.build((4, 4, 3), "numpy")
    with pytest.raises(ValueError, match="shape"):
        layer(nnx.backends.get_backend("numpy").asarray(np.zeros((1, 4, 4, 2))))


def test_a_model_with_transposed_convolutions_saves_and_loads(tmp_path):
    model = nnx.Sequential(
        [
            Conv2D(4, 3, strides=2, padding="same", activation="relu", input_shape=(8, 8, 1)),
            Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu"),
            Conv2D(1, 3, padding="same", activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    x = RNG.uniform(size=(6, 8, 8, 1))
    model.fit(x, x, epochs=1, batch_size=3, verbose=0)
    model.save(tmp_path / "up.nnx")
    again = nnx.load(tmp_path / "up.nnx")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
