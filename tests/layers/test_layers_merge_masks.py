"""Masks through merge layers (Keras 3's rules), Maximum/Minimum and Dot: values by hand,
float64 gradient checks with masks, masks through a graph into the loss."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.gradcheck import numeric_gradient, relative_error
from nnx.layers import (
    LSTM,
    Add,
    Average,
    Concatenate,
    Dense,
    Dot,
    Embedding,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    layer_class,
)

RNG = np.random.default_rng(5)
MA = np.array([[True, True, False], [True, False, False]])
MB = np.array([[True, False, False], [False, True, False]])


def _built(layer, backend, shapes):
    layer.build(shapes, backend, None, "float64")
    return layer


def _check_masked_gradients(layer, xs, masks, backend):
    """Central differences of ``sum(y * r)`` for each input against the layer's backprop."""
    xp = backend.xp
    y, backprop = layer.forward_masked(xs, masks)
    r = backend.asarray(RNG.normal(size=tuple(y.shape)), "float64")
    grads = backprop(r)
    for x, g in zip(xs, grads, strict=True):

        def f() -> float:
            return float(xp.sum(layer.forward_masked(xs, masks)[0] * r))

        assert relative_error(g, numeric_gradient(f, x)) < 1e-7


@pytest.mark.parametrize("merge", [Add, Average, Subtract, Multiply, Maximum, Minimum])
def test_elementwise_merge_masks_are_the_or_when_all_inputs_have_one(backend, merge):
    layer = _built(merge(), backend, [(3, 2), (3, 2)])
    xs = [backend.asarray(RNG.normal(size=(2, 3, 2)), "float64") for _ in range(2)]
    ma, mb = backend.asarray(MA), backend.asarray(MB)
    np.testing.assert_array_equal(backend.to_numpy(layer.compute_mask(xs, [ma, mb])), MA | MB)
    assert layer.compute_mask(xs, [ma, None]) is None
    assert layer.compute_mask(xs, [None, None]) is None


def test_concatenate_masks_along_time_and_features(backend):
    a, b = (backend.asarray(RNG.normal(size=(2, 3, 2)), "float64") for _ in range(2))
    ma = backend.asarray(MA)
    time = _built(Concatenate(axis=1), backend, [(3, 2), (3, 2)])
    got = backend.to_numpy(time.compute_mask([a, b], [ma, None]))
    np.testing.assert_array_equal(got, np.concatenate([MA, np.ones((2, 3), bool)], axis=1))
    features = _built(Concatenate(), backend, [(3, 2), (3, 2)])
    mb = backend.asarray(MB)
    np.testing.assert_array_equal(
        backend.to_numpy(features.compute_mask([a, b], [ma, mb])), MA | MB
    )
    all_valid = backend.to_numpy(features.compute_mask([a, b], [ma, None]))
    assert all_valid.all()
    assert features.compute_mask([a, b], [None, None]) is None


def test_masked_multiply_maximum_minimum_values_by_keras_rules(backend):
    a, b = RNG.normal(size=(2, 3, 2)), RNG.normal(size=(2, 3, 2))
    xs = [backend.asarray(a, "float64"), backend.asarray(b, "float64")]
    masks = [backend.asarray(MA), backend.asarray(MB)]
    wa, wb = MA[..., None], MB[..., None]
    product = np.where(wa, a, 1) * np.where(wb, b, 1) * (wa | wb)
    largest = np.where(wa & wb, np.maximum(a, b), np.where(wb, b, a))
    smallest = np.where(wa & wb, np.minimum(a, b), np.where(wb, b, a))
    for merge, expected in [(Multiply, product), (Maximum, largest), (Minimum, smallest)]:
        layer = _built(merge(), backend, [(3, 2), (3, 2)])
        y = layer.forward_masked(xs, masks)[0]
        np.testing.assert_allclose(backend.to_numpy(y), expected, rtol=1e-12)
        plain = layer.forward(xs)[0]
        unmasked = {Multiply: a * b, Maximum: np.maximum(a, b), Minimum: np.minimum(a, b)}
        np.testing.assert_allclose(backend.to_numpy(plain), unmasked[merge], rtol=1e-12)


@pytest.mark.parametrize("merge", [Multiply, Maximum, Minimum])
def test_masked_merge_gradients_in_float64(backend, merge):
    layer = _built(merge(), backend, [(3, 2)] * 3)
    xs = [backend.asarray(RNG.normal(size=(2, 3, 2)), "float64") for _ in range(3)]
    masks = [backend.asarray(MA), None, backend.asarray(MB)]
    _check_masked_gradients(layer, xs, masks, backend)
    _check_masked_gradients(
        layer, xs, [backend.asarray(MA), backend.asarray(MB), backend.asarray(MA)], backend
    )


def test_maximum_and_minimum_in_a_graph_gradient_check(backend):
    a, b = nnx.Input((3,), name="a"), nnx.Input((3,), name="b")
    h = Dense(3, activation="tanh", name="left")(a)
    out = Dense(2, name="out")(Add()([Maximum()([h, b]), Minimum()([h, b, a])]))
    model = nnx.Model([a, b], out, backend=backend, seed=0)
    errors = nnx.gradcheck(model, [RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))])
    assert max(errors.values()) < 1e-6


def test_masks_flow_through_merges_in_a_graph_into_the_loss(backend):
    tokens = nnx.Input((5,), dtype="int64", name="tokens")
    e = Embedding(10, 4, mask_zero=True, name="emb")(tokens)
    left = LSTM(3, return_sequences=True, name="left")(e)
    right = LSTM(3, return_sequences=True, name="right")(e)
    both = Concatenate(axis=1, name="cat")([Maximum(name="max")([left, right]), left])
    model = nnx.Model(tokens, Dense(2, name="out")(both), backend=backend, seed=0)
    x = RNG.integers(1, 10, size=(3, 5))
    x[0, 3:] = x[1, 1:] = 0
    _, _, mask = model.forward_masked(backend.asarray(x))
    np.testing.assert_array_equal(backend.to_numpy(mask), np.concatenate([x != 0] * 2, axis=1))
    model.compile("sgd", "mse", metrics=["mae"])
    y = RNG.normal(size=(3, 10, 2))
    changed = y.copy()
    changed[~np.concatenate([x != 0] * 2, axis=1)] = 100.0
    loss, mae = model.evaluate(x, y, verbose=0)
    assert [loss, mae] == model.evaluate(x, changed, verbose=0)
    valid = np.concatenate([x != 0] * 2, axis=1)
    error = np.abs(model.predict(x) - y)[valid].mean()
    np.testing.assert_allclose(mae, error, rtol=1e-5)


def test_dot_values_shapes_and_configs(backend):
    a, b = RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 5, 3))
    xa, xb = backend.asarray(a, "float64"), backend.asarray(b, "float64")
    y = Dot(axes=2)([xa, xb])
    np.testing.assert_allclose(backend.to_numpy(y), np.einsum("btd,bsd->bts", a, b), rtol=1e-12)
    y = Dot(axes=(1, 1))([xa, backend.asarray(a[:, :, :2], "float64")])
    np.testing.assert_allclose(backend.to_numpy(y), np.einsum("btd,bte->bde", a, a[:, :, :2]))
    u, v = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    cos = Dot(axes=-1, normalize=True)(
        [backend.asarray(u, "float64"), backend.asarray(v, "float64")]
    )
    expected = (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(backend.to_numpy(cos), expected[:, None], rtol=1e-12)
    layer = Dot(axes=(2, 1), normalize=True, name="d")
    twin = layer_class("Dot").from_config(layer.get_config())
    assert (twin.axes, twin.normalize, twin.name) == ((2, 1), True, "d")


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("axes", [2, (1, 1), -1])
def test_dot_gradient_check_in_a_graph(backend, axes, normalize):
    a, b = nnx.Input((4, 3), name="a"), nnx.Input((4, 3), name="b")
    h = Dense(3, activation="tanh", name="left")(a)
    out = Dot(axes=axes, normalize=normalize)([h, b])
    model = nnx.Model([a, b], out, backend=backend, seed=0)
    errors = nnx.gradcheck(model, [RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 4, 3))])
    assert max(errors.values()) < 1e-6


def test_dot_refusals_name_the_layer_and_the_values():
    x, y = nnx.Input((4, 3)), nnx.Input((5, 2))
    with pytest.raises(ValueError, match=r"Dot 'd': the contracted axes differ in size.*3 != 2"):
        Dot(axes=2, name="d")([x, y])
    with pytest.raises(ValueError, match=r"Dot 'd2' needs exactly 2 inputs, received 3"):
        Dot(axes=1, name="d2")([x, x, x])
    with pytest.raises(ValueError, match=r"Dot 'd3': axes count the batch axis.*axes=0"):
        Dot(axes=0, name="d3")
    with pytest.raises(TypeError, match=r"Dot 'd4': axes must be an int or a pair.*'x'"):
        Dot(axes="x", name="d4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Dot 'd5': axes=4 is out of range"):
        Dot(axes=4, name="d5")([x, x])
