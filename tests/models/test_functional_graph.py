"""Graph models: Model(inputs, outputs), topological order, bad graphs refused, gradients of
graphs with merges, shared layers, two inputs and two outputs checked numerically, summary."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Add, Average, Concatenate, Dense, Dropout, Multiply
from nnx.models import Functional, Model

RNG = np.random.default_rng(3)


def test_model_of_inputs_and_outputs_is_a_graph_model_and_subclassing_still_works():
    x = nnx.Input((3,))
    y = Dense(2)(x)
    for model in (nnx.Model(x, y), nnx.Model(inputs=x, outputs=y, name="kw")):
        assert type(model) is Functional and isinstance(model, Model) and model.built
    assert nnx.Model(inputs=x, outputs=y, name="kw").name == "kw"

    class Custom(Model):
        def __init__(self):
            super().__init__(name="custom")

    assert type(Custom()) is Custom and type(Model(seed=0)) is Model
    assert isinstance(nnx.Sequential([Dense(1)]), Model)


def test_layers_run_in_topological_order_whatever_the_call_order():
    a, b = nnx.Input((2,), name="a"), nnx.Input((2,), name="b")
    late = Dense(2, name="late")
    early = Dense(2, name="early")(b)
    out = Add(name="join")([late(a), early])
    model = nnx.Model([a, b], Dense(1, name="head")(out))
    names = [n.layer.name for n in model.graph.nodes]
    assert names.index("join") > max(names.index("late"), names.index("early"))
    assert names[-1] == "head"
    assert [layer.name for layer in model.layers][:2] == ["a", "b"]


def test_bad_graphs_are_refused_clearly():
    a, b = nnx.Input((3,), name="a"), nnx.Input((3,), name="b")
    y = Dense(1)(a)
    with pytest.raises(ValueError, match=r"input\(s\) 'b' are disconnected: no output depends"):
        nnx.Model([a, b], y)
    c = nnx.Input((3,), name="c")
    z = Add()([Dense(3)(a), c])
    with pytest.raises(
        ValueError,
        match="output 'add.*' is not reachable from the given inputs: "
        "it needs input 'c', which is not in inputs",
    ):
        nnx.Model(a, z)
    with pytest.raises(ValueError, match="inputs must be nnx.Input"):
        nnx.Model(y, Dense(1)(y))
    with pytest.raises(TypeError, match="outputs must be symbolic tensors"):
        nnx.Model(a, np.zeros((1, 3)))
    twin = Dense(1, name="twin")(Dense(3, name="twin")(a))
    with pytest.raises(ValueError, match="two different layers are named 'twin'"):
        nnx.Model(a, twin)
    numpy_layer = Dense(2, name="prebuilt")
    numpy_layer.build((3,), "numpy")
    with pytest.raises(ValueError, match="Layer 'prebuilt' is built on backend 'numpy'"):
        nnx.Model(a, numpy_layer(a), backend="array_api_strict")
    inner = nnx.Model(a, Dense(1)(a))  # a functional model nests (tests/models/*nested*)
    assert inner(nnx.Input((3,))).shape == (None, 1)


def _graphs():
    """name -> (inputs, outputs, input shapes): merges, a shared layer, two inputs, two outputs."""

    def residual():
        x = nnx.Input((4,), name="x")
        h = Dense(4, activation="tanh", name="h")(x)
        return x, Dense(2, name="out")(Add()([x, h])), [(4,)]

    def shared_twice():
        x = nnx.Input((3,), name="x")
        shared = Dense(3, activation="tanh", name="shared")
        return x, Dense(1, name="out")(Average()([shared(x), shared(shared(x))])), [(3,)]

    def two_inputs_two_outputs():
        a, b = nnx.Input((3,), name="a"), nnx.Input((2,), name="b")
        tower = Dense(3, activation="sigmoid", name="tower")
        h = Concatenate()([tower(a), Dense(3, activation="relu", name="side")(b)])
        gate = Multiply()([tower(a), a])
        return [a, b], [Dense(2, name="y1")(h), Dense(1, name="y2")(gate)], [(3,), (2,)]

    return {"residual": residual, "shared": shared_twice, "two_io": two_inputs_two_outputs}


@pytest.mark.parametrize("graph", list(_graphs()))
def test_graph_gradients_match_central_differences(backend, graph):
    inputs, outputs, shapes = _graphs()[graph]()
    model = nnx.Model(inputs, outputs, backend=backend, seed=0)
    xs = [RNG.normal(size=(5, *s)) for s in shapes]
    errors = nnx.gradcheck(model, xs if len(xs) > 1 else xs[0])
    assert len(errors) == len(model.trainable_parameters()) + len(shapes)
    assert max(errors.values()) < 1e-6


def test_training_mode_gradients_with_dropout_are_replayed(backend):
    x = nnx.Input((4,))
    h = Dropout(0.3, seed=1)(Dense(6, activation="tanh")(x))
    model = nnx.Model(x, Dense(1)(Add()([h, Dense(6)(x)])), backend=backend, seed=0)
    errors = nnx.gradcheck(model, RNG.normal(size=(4, 4)), training=True)
    assert max(errors.values()) < 1e-6


def test_forward_and_backprop_take_lists_for_several_inputs_and_outputs(backend):
    inputs, outputs, _ = _graphs()["two_io"]()
    model = nnx.Model(inputs, outputs, backend=backend, seed=0, dtype="float64")
    a, b = backend.asarray(RNG.normal(size=(2, 3))), backend.asarray(RNG.normal(size=(2, 2)))
    (y1, y2), backprop = model.forward([a, b])
    assert tuple(y1.shape) == (2, 2) and tuple(y2.shape) == (2, 1)
    da, db = backprop([y1 * 0 + 1, y2 * 0 + 1])
    assert tuple(da.shape) == (2, 3) and tuple(db.shape) == (2, 2)
    y1_again, _ = model.forward({"a": a, "b": b})
    np.testing.assert_array_equal(backend.to_numpy(y1_again[0]), backend.to_numpy(y1))


def test_summary_shows_connections():
    x = nnx.Input((4,), name="x")
    shared = Dense(4, name="shared")
    y = Dense(1, name="out")(Add(name="join")([x, shared(shared(x))]))
    lines = []
    nnx.Model(x, y, name="res").summary(print_fn=lines.append)
    assert "Connected to" in lines[2]
    rows = {line.split()[0]: line for line in lines}
    assert rows["shared"].endswith("x[0], shared[0]")
    assert rows["join"].endswith("x[0], shared[1]")
    assert rows["out"].endswith("join[0]")
    assert "Total params: 25" in lines
