"""DepthwiseConv1D/2D, SeparableConv1D/2D and Cropping2D: values against torch's grouped
convolutions with copied weights, float64 gradients, Keras's weight names, configs, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.functional.depthwise import (
    depthwise_input_gradient,
    depthwise_kernel_gradient,
    depthwise_product,
)
from nnx.layers import (
    Cropping2D,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    layer_class,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional
RNG = np.random.default_rng(7)


def _built(layer, shape, backend, dtype="float64"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def _same_pads(n, k, s, d):
    """TensorFlow's "same" zeros (before, after), written out independently of nnx."""
    out = -(-n // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def _torch_depthwise(x, kernel, bias, strides, padding, dilation):
    """``x`` channels-last (b, *spatial, C); ``kernel`` (*k, C, m) -> channels-last output."""
    rank = x.ndim - 2
    xt = torch.from_numpy(np.moveaxis(x, -1, 1).copy())
    c, m = kernel.shape[-2:]
    wt = torch.from_numpy(
        np.moveaxis(kernel, (-2, -1), (0, 1)).reshape(c * m, 1, *kernel.shape[:-2])
    )
    if padding == "same":
        pads = []
        for axis in reversed(range(rank)):
            pads += _same_pads(x.shape[1 + axis], kernel.shape[axis], strides[axis], dilation[axis])
        xt = F.pad(xt, pads)
    conv = F.conv2d if rank == 2 else F.conv1d
    bt = None if bias is None else torch.from_numpy(bias)
    y = conv(xt, wt, bt, stride=strides, dilation=dilation, groups=c)
    return np.moveaxis(y.numpy(), 1, -1)


def _torch_pointwise(d, pointwise, bias):
    w = torch.from_numpy(np.moveaxis(pointwise, (-2, -1), (1, 0)).copy())
    dt = torch.from_numpy(np.moveaxis(d, -1, 1).copy())
    conv = F.conv2d if d.ndim == 4 else F.conv1d
    return np.moveaxis(conv(dt, w, torch.from_numpy(bias)).numpy(), 1, -1)


CASES_2D = [
    dict(kernel_size=3, strides=1, padding="valid", dilation_rate=1, depth_multiplier=1),
    dict(kernel_size=(3, 2), strides=(2, 1), padding="same", dilation_rate=1, depth_multiplier=2),
    dict(kernel_size=2, strides=1, padding="same", dilation_rate=(2, 1), depth_multiplier=3),
    dict(kernel_size=3, strides=2, padding="same", dilation_rate=1, depth_multiplier=1),
]


def _channels_first(x, fmt):
    return x if fmt == "channels_last" else np.moveaxis(x, -1, 1)


@pytest.mark.parametrize("case", CASES_2D)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_and_separable_2d_equal_torch_float64(backend, case, data_format):
    _check_2d(backend, case, data_format, "float64", 1e-10)


@pytest.mark.parametrize("case", CASES_2D)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_and_separable_2d_equal_torch_float32(case, data_format):
    _check_2d(nnx.backends.get_backend("numpy"), case, data_format, "float32", 1e-5)


def _check_2d(backend, case, data_format, dtype, tol):
    x = RNG.normal(size=(2, 7, 6, 3)).astype(dtype)
    k = case["kernel_size"]
    strides = (case["strides"],) * 2 if isinstance(case["strides"], int) else case["strides"]
    dil = case["dilation_rate"]
    dilation = (dil,) * 2 if isinstance(dil, int) else dil
    xin = backend.asarray(_channels_first(x, data_format), dtype)
    dw = _built(
        DepthwiseConv2D(**case, data_format=data_format), tuple(xin.shape[1:]), backend, dtype
    )
    bias = RNG.normal(size=dw.bias.shape).astype(dtype)
    dw.bias.value[...] = backend.asarray(bias, dtype)
    kernel = backend.to_numpy(dw.kernel.value)
    ks = (k, k) if isinstance(k, int) else k
    assert kernel.shape == (*ks, 3, case["depth_multiplier"])
    expected = _torch_depthwise(x, kernel, bias, strides, case["padding"], dilation)
    got = backend.to_numpy(dw(xin))
    np.testing.assert_allclose(got, _channels_first(expected, data_format), rtol=tol, atol=tol)

    sep = _built(
        SeparableConv2D(4, **case, data_format=data_format), tuple(xin.shape[1:]), backend, dtype
    )
    sbias = RNG.normal(size=4).astype(dtype)
    sep.bias.value[...] = backend.asarray(sbias, dtype)
    dk, pk = (backend.to_numpy(p.value) for p in (sep.depthwise_kernel, sep.pointwise_kernel))
    assert pk.shape == (1, 1, 3 * case["depth_multiplier"], 4)
    d = _torch_depthwise(x, dk, None, strides, case["padding"], dilation)
    expected = _torch_pointwise(d, pk, sbias)
    got = backend.to_numpy(sep(xin))
    np.testing.assert_allclose(got, _channels_first(expected, data_format), rtol=tol, atol=tol)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_and_separable_1d_equal_torch(backend, data_format):
    x = RNG.normal(size=(3, 9, 2))
    xin = backend.asarray(_channels_first(x, data_format), "float64")
    shape = tuple(xin.shape[1:])
    kw = dict(strides=2, padding="same", depth_multiplier=2, data_format=data_format)
    dw = _built(DepthwiseConv1D(3, **kw), shape, backend)
    kernel = backend.to_numpy(dw.kernel.value)
    assert kernel.shape == (3, 2, 2) and tuple(dw.bias.shape) == (4,)
    expected = _torch_depthwise(x, kernel, np.zeros(4), (2,), "same", (1,))
    np.testing.assert_allclose(
        backend.to_numpy(dw(xin)), _channels_first(expected, data_format), atol=1e-12
    )
    sep = _built(SeparableConv1D(5, 3, **kw), shape, backend)
    dk, pk = (backend.to_numpy(p.value) for p in (sep.depthwise_kernel, sep.pointwise_kernel))
    assert pk.shape == (1, 4, 5)
    d = _torch_depthwise(x, dk, None, (2,), "same", (1,))
    expected = _torch_pointwise(d, pk, np.zeros(5))
    np.testing.assert_allclose(
        backend.to_numpy(sep(xin)), _channels_first(expected, data_format), atol=1e-12
    )


GRAD_CASES = [
    (DepthwiseConv2D, dict(kernel_size=(3, 2), activation="tanh"), (5, 4, 2)),
    (
        DepthwiseConv2D,
        dict(kernel_size=3, strides=2, padding="same", depth_multiplier=2),
        (5, 5, 2),
    ),
    (DepthwiseConv2D, dict(kernel_size=2, dilation_rate=2, padding="same"), (5, 4, 3)),
    (
        DepthwiseConv2D,
        dict(kernel_size=2, depth_multiplier=2, data_format="channels_first", use_bias=False),
        (2, 4, 3),
    ),
    (DepthwiseConv1D, dict(kernel_size=3, padding="same", activation="relu"), (6, 2)),
    (SeparableConv2D, dict(filters=3, kernel_size=3, padding="same", activation="relu"), (4, 5, 2)),
    (
        SeparableConv2D,
        dict(filters=2, kernel_size=2, strides=(2, 1), depth_multiplier=3, activation="sigmoid"),
        (5, 4, 2),
    ),
    (
        SeparableConv2D,
        dict(filters=2, kernel_size=2, dilation_rate=(1, 2), data_format="channels_first"),
        (3, 4, 5),
    ),
    (SeparableConv1D, dict(filters=3, kernel_size=2, strides=2, depth_multiplier=2), (7, 2)),
    (Cropping2D, dict(cropping=((1, 0), (2, 1))), (4, 5, 2)),
    (Cropping2D, dict(cropping=1, data_format="channels_first"), (2, 4, 3)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), GRAD_CASES)
def test_gradient_check(backend, cls, kwargs, shape):
    errors = nnx.gradcheck(cls(**kwargs), RNG.normal(size=(2, *shape)), backend=backend)
    assert max(errors.values()) < 1e-6


def test_the_contractions_are_the_definition(backend):
    xp = backend.xp
    cols, w, dy = RNG.normal(size=(5, 4, 3)), RNG.normal(size=(4, 3, 2)), RNG.normal(size=(5, 3, 2))
    c, ww, d = (backend.asarray(a, "float64") for a in (cols, w, dy))
    np.testing.assert_allclose(
        backend.to_numpy(depthwise_product(xp, c, ww)), np.einsum("ntc,tcj->ncj", cols, w)
    )
    np.testing.assert_allclose(
        backend.to_numpy(depthwise_kernel_gradient(xp, c, d)), np.einsum("ntc,ncj->tcj", cols, dy)
    )
    np.testing.assert_allclose(
        backend.to_numpy(depthwise_input_gradient(xp, d, ww)), np.einsum("ncj,tcj->ntc", dy, w)
    )


def test_cropping2d_values_and_shapes(backend):
    x = RNG.normal(size=(2, 6, 5, 3))
    layer = Cropping2D(((1, 2), (0, 1)))
    y = backend.to_numpy(layer(backend.asarray(x, "float64")))
    np.testing.assert_array_equal(y, x[:, 1:4, 0:4])
    assert layer.compute_output_shape((6, 5, 3)) == (3, 4, 3)
    first = Cropping2D((1, 2), data_format="channels_first")
    assert first.compute_output_shape((3, 6, 5)) == (3, 4, 1)
    assert Cropping2D(2).cropping == ((2, 2), (2, 2))


@pytest.mark.parametrize(
    "layer",
    [
        DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=2, activation="relu"),
        DepthwiseConv1D(3, dilation_rate=2, use_bias=False, data_format="channels_first"),
        SeparableConv2D(4, 3, depth_multiplier=2, pointwise_regularizer="l2", use_bias=False),
        SeparableConv1D(2, 3, padding="same", activation="tanh"),
        Cropping2D(((1, 0), (2, 3))),
    ],
)
def test_config_round_trip(layer):
    twin = layer_class(type(layer).__name__).from_config(layer.get_config())
    assert twin.get_config() == layer.get_config()


def test_keras_weight_names_and_order(backend):
    sep = _built(SeparableConv2D(8, 3, depth_multiplier=2), (6, 6, 3), backend)
    names = [p.name.split("/")[-1] for p in sep.parameters()]
    assert names == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert [tuple(p.shape) for p in sep.parameters()] == [(3, 3, 3, 2), (1, 1, 6, 8), (8,)]
    dw = _built(DepthwiseConv2D(3, depth_multiplier=2), (6, 6, 3), backend)
    assert [p.name.split("/")[-1] for p in dw.parameters()] == ["kernel", "bias"]
    assert dw.output_shape == (4, 4, 6) and tuple(dw.bias.shape) == (6,)


def test_errors_name_the_layer_and_the_argument():
    with pytest.raises(ValueError, match=r"DepthwiseConv2D: depth_multiplier .*received"):
        DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match=r"SeparableConv2D: filters"):
        SeparableConv2D(0, 3)
    with pytest.raises(ValueError, match=r"SeparableConv1D: kernel_size .*received kernel_size"):
        SeparableConv1D(2, (3, 3))
    with pytest.raises(ValueError, match=r"DepthwiseConv1D: padding .*received padding='full'"):
        DepthwiseConv1D(3, padding="full")
    with pytest.raises(ValueError, match=r"strides > 1 together with dilation_rate > 1"):
        DepthwiseConv2D(3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"DepthwiseConv2D: data_format"):
        DepthwiseConv2D(3, data_format="nhwc")
    with pytest.raises(ValueError, match=r"Cropping2D: cropping must be .*received cropping=-1"):
        Cropping2D(-1)
    with pytest.raises(ValueError, match=r"leaves nothing"):
        Cropping2D(3).build((6, 6, 1), "numpy")
    with pytest.raises(ValueError, match=r"too small"):
        SeparableConv2D(2, 5).build((3, 3, 1), "numpy")
    with pytest.raises(ValueError, match=r"expects inputs of 3 dimensions"):
        DepthwiseConv2D(3).build((6, 6), "numpy")


def test_separable_model_trains_saves_and_loads(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8, 8, 2)).astype("float32")
    y = (x[:, :4].mean(axis=(1, 2, 3)) > 0).astype("float32")[:, None]
    model = nnx.Sequential(
        [
            nnx.Input((8, 8, 2)),
            SeparableConv2D(4, 3, padding="same", activation="relu"),
            DepthwiseConv2D(3, depth_multiplier=2),
            Cropping2D(1),
            nnx.layers.GlobalAveragePooling2D(),
            nnx.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    path = tmp_path / "sep.keras"
    model.save(path)
    loaded = nnx.load(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
