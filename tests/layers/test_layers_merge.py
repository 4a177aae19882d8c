"""Merge layers (Add, Average, Multiply, Concatenate): known values, gradient checks in a graph,
shape errors naming the layer and the shapes, configs."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import (
    Add,
    Average,
    Concatenate,
    Dense,
    Multiply,
    Subtract,
    layer_class,
)

RNG = np.random.default_rng(2)


@pytest.mark.parametrize(
    ("merge", "expected"),
    [
        (Add, lambda a, b, c: a + b + c),
        (Average, lambda a, b, c: (a + b + c) / 3),
        (Multiply, lambda a, b, c: a * b * c),
        (Concatenate, lambda a, b, c: np.concatenate([a, b, c], axis=-1)),
    ],
    ids=["add", "average", "multiply", "concatenate"],
)
def test_merge_forward_values(backend, merge, expected):
    layer = merge()
    xs = [RNG.normal(size=(4, 3)) for _ in range(3)]
    y = layer([backend.asarray(x, "float64") for x in xs])
    np.testing.assert_allclose(backend.to_numpy(y), expected(*xs), rtol=1e-12)
    assert layer.input_shapes == [(3,), (3,), (3,)]


@pytest.mark.parametrize("merge", [Add, Average, Multiply, Concatenate, Subtract])
def test_merge_gradient_check_in_a_graph(backend, merge):
    a, b = nnx.Input((3,), name="a"), nnx.Input((3,), name="b")
    others = [b] if merge is Subtract else [b, a]
    h = merge()([Dense(3, activation="tanh", name="left")(a), *others])
    model = nnx.Model([a, b], Dense(2, name="out")(h), backend=backend, seed=0)
    errors = nnx.gradcheck(model, [RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))])
    assert set(errors) == {
        "input/a",
        "input/b",
        "left/kernel",
        "left/bias",
        "out/kernel",
        "out/bias",
    }
    assert max(errors.values()) < 1e-6


def test_concatenate_along_a_sample_axis_and_its_gradient(backend):
    a, b = nnx.Input((2, 3), name="a"), nnx.Input((4, 3), name="b")
    h = Concatenate(axis=1)([a, b])
    assert h.shape == (None, 6, 3)
    model = nnx.Model([a, b], Dense(2)(h), backend=backend, seed=0)
    errors = nnx.gradcheck(model, [RNG.normal(size=(2, 2, 3)), RNG.normal(size=(2, 4, 3))])
    assert max(errors.values()) < 1e-6


def test_add_of_different_shapes_names_the_layer_and_the_shapes():
    x = nnx.Input((3,))
    with pytest.raises(
        ValueError,
        match=r"Add 'skip' needs inputs of one shape, received shapes "
        r"\(None, 3\), \(None, 4\)\.",
    ):
        Add(name="skip")([x, Dense(4)(x)])


def test_merge_refusals(backend):
    x = nnx.Input((3,))
    with pytest.raises(ValueError, match="Average 'avg' needs at least 2 inputs, received 1"):
        Average(name="avg")([x])
    with pytest.raises(TypeError, match=r"Layer 'mul' \(Multiply\) takes a list of tensors"):
        Multiply(name="mul")(x)
    with pytest.raises(
        ValueError,
        match="equal shapes except along axis=-1, received shapes "
        r"\(None, 2, 3\), \(None, 3, 3\)",
    ):
        Concatenate()([nnx.Input((2, 3)), nnx.Input((3, 3))])
    with pytest.raises(ValueError, match="axis=0 is the batch axis"):
        Concatenate(axis=0)
    with pytest.raises(ValueError, match="axis=3 is out of range for inputs of rank 2"):
        Concatenate(axis=3)([x, x])
    add = Add(name="eager")
    ones = backend.asarray(np.ones((2, 3)))
    add([ones, ones])
    with pytest.raises(ValueError, match=r"received shapes \(None, 3\), \(None, 2\)"):
        add([ones, backend.asarray(np.ones((2, 2)))])


@pytest.mark.parametrize("merge", [Add(), Average(), Multiply(), Concatenate(axis=2)])
def test_merge_config_round_trip(merge):
    clone = layer_class(type(merge).__name__).from_config(merge.get_config())
    assert clone.get_config() == merge.get_config()
    assert "input_shape" not in merge.get_config()


def test_subtract_and_the_keras_lower_case_shortcuts(backend):
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    y = Subtract()([backend.asarray(a), backend.asarray(b)])
    np.testing.assert_allclose(backend.to_numpy(y), a - b, rtol=1e-12)
    with pytest.raises(ValueError, match="Subtract 'minus' needs exactly 2 inputs, received 3"):
        Subtract(name="minus")([nnx.Input((3,))] * 3)
    x, z = nnx.Input((3,)), nnx.Input((2,))
    layers = nnx.layers
    assert isinstance(layers.add([x, x], name="plus").node.layer, Add)
    assert layers.concatenate([x, z]).shape == (None, 5)
    assert layers.concatenate([x, x], axis=1).shape == (None, 6)
    kinds = [layers.average([x, x]), layers.multiply([x, x]), layers.subtract([x, x])]
    assert [type(t.node.layer) for t in kinds] == [Average, Multiply, Subtract]
