"""Symbolic tensors: nnx.Input, layer calls recording nodes, shape checks of shared layers."""

from __future__ import annotations

import pytest

import nnx
from nnx.layers import Add, Dense, Flatten, Input
from nnx.layers.symbolic import SymbolicTensor


def test_input_returns_a_symbolic_tensor_with_keras_shape():
    x = nnx.Input(shape=(28, 28, 1), name="image", dtype="float64")
    assert isinstance(x, SymbolicTensor)
    assert x.shape == (None, 28, 28, 1) and x.ndim == 4 and x.dtype == "float64"
    assert x.name == "image" and x.node.is_input and x.node.layer.name == "image"
    with pytest.raises(ValueError, match="Input 'bad': dtype must be one of"):
        nnx.Input((3,), name="bad", dtype="complex64")


def test_a_layer_call_records_a_node_and_computes_the_shape_without_weights():
    x = nnx.Input((6, 6, 2))
    layer = Flatten()
    h = layer(x)
    dense = Dense(5)
    y = dense(h)
    assert h.shape == (None, 72) and y.shape == (None, 5)
    assert y.node.layer is dense and y.node.inputs == (h,) and not y.node.multiple
    assert dense.inbound_nodes == [y.node] and not dense.built
    assert "SymbolicTensor shape=(None, 5)" in repr(y)


def test_an_input_layer_instance_is_a_symbolic_tensor_too():
    inp = Input((3,))
    y = Dense(2)(inp)
    assert y.node.inputs == (inp.output,)
    model = nnx.Model(inputs=inp, outputs=y)  # keras.layers.Input(...) works as keras.Input
    assert model.inputs == [inp.output] and model.layers[0] is inp
    assert Input((3,), dtype="int64").get_config()["dtype"] == "int64"
    assert "dtype" not in Input((3,)).get_config()


def test_a_shared_layer_must_see_the_same_shape():
    shared = Dense(4, name="shared")
    shared(nnx.Input((3,)))
    with pytest.raises(
        ValueError,
        match=r"Layer 'shared' \(Dense\) expects input shape "
        r"\(None, 3\), received \(None, 5\)",
    ):
        shared(nnx.Input((5,)))
    built = Dense(2, name="built")
    built.build((7,))
    with pytest.raises(ValueError, match=r"expects input shape \(None, 7\), received \(None, 3\)"):
        built(nnx.Input((3,)))


def test_one_input_layers_refuse_lists_and_mixes():
    x = nnx.Input((3,))
    with pytest.raises(
        TypeError,
        match=r"Layer 'one' \(Dense\) takes one tensor, received a "
        "list of 2",
    ):
        Dense(2, name="one")([x, x])
    with pytest.raises(TypeError, match="called on a mix of symbolic tensors and data"):
        Add()([x, [[1.0, 2.0, 3.0]]])
