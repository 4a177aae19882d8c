"""MultiHeadAttention as a node of a functional graph: self- and cross-attention, the causal
option saved in the config, gradients, save/load, errors, and a Transformer block."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import nnx
from nnx.layers import Dense, MultiHeadAttention

RNG = np.random.default_rng(16)
EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def _attention_graph(key: bool = False):
    """Cross-attention of ``q`` over ``v`` (and ``k``), then causal self-attention."""
    q, v = nnx.Input(shape=(4, 6), name="q"), nnx.Input(shape=(5, 3), name="v")
    k = nnx.Input(shape=(5, 2), name="k") if key else None
    cross = MultiHeadAttention(num_heads=2, key_dim=3, name="cross")(q, v, k)
    out = MultiHeadAttention(2, 3, value_dim=2, name="self")(cross, cross, use_causal_mask=True)
    inputs = [q, v] if k is None else [q, v, k]
    return inputs, Dense(2, name="head")(out)


def _data(model, n=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, *t.sample_shape)) for t in model.inputs]


def _check(errors):
    # a key bias adds q.bk to every score of a row, which softmax ignores: its gradient is 0
    assert max(v for name, v in errors.items() if not name.endswith("key_bias")) < 1e-6


@pytest.mark.parametrize("key", [False, True])
def test_self_and_cross_attention_gradients_match_central_differences(backend, key):
    model = nnx.Model(*_attention_graph(key), backend=backend, seed=0)
    # eps 1e-5: the central differences' round-off (~1e-16 / eps) stays far below 1e-6
    errors = nnx.gradcheck(model, _data(model), tolerance=1.0, eps=1e-5)
    assert {"input/q", "input/v", "cross/key_bias", "self/query_kernel"} <= set(errors)
    assert ("input/k" in errors) == key
    _check(errors)


def test_the_node_records_its_inputs_and_causal_option(backend):
    inputs, y = _attention_graph()
    model = nnx.Model(inputs, y, backend=backend, seed=0)
    nodes = {node["layer"]: node for node in model.get_config()["nodes"]}
    assert nodes["cross"]["inputs"] == [["q", 0], ["v", 0]] and "options" not in nodes["cross"]
    assert nodes["self"]["inputs"] == [["cross", 0], ["cross", 0]]
    assert nodes["self"]["options"] == {"use_causal_mask": True}
    assert y.shape == (None, 4, 2)
    v = inputs[1]
    assert MultiHeadAttention(2, 3, name="as_list")([inputs[0], v]).node.inputs == (inputs[0], v)


def test_causal_option_changes_the_graph_as_on_arrays(backend):
    x = nnx.Input(shape=(5, 4))
    mha = MultiHeadAttention(2, 3, name="mha")
    model = nnx.Model(x, mha(x, x, use_causal_mask=True), backend=backend, seed=0)
    data = RNG.normal(size=(2, 5, 4)).astype(np.float32)
    a = backend.asarray(data)
    expected = backend.to_numpy(mha(a, a, use_causal_mask=True))
    np.testing.assert_allclose(model.predict(data), expected, rtol=1e-6)
    assert not np.allclose(model.predict(data), backend.to_numpy(mha(a, a)))


def test_save_and_load_predict_bit_exactly(tmp_path):
    model = nnx.Model(*_attention_graph(key=True), seed=0)
    model.compile("adam", "mse")
    xs = _data(model, n=4)
    model.fit(xs, RNG.normal(size=(4, 4, 2)), epochs=2, batch_size=2, verbose=0)
    path = tmp_path / "attention.nnx"
    model.save(str(path))
    loaded = nnx.load(str(path))
    np.testing.assert_array_equal(loaded.predict(xs), model.predict(xs))
    assert loaded.get_config()["nodes"] == model.get_config()["nodes"]


def test_wrong_inputs_are_refused_clearly():
    q = nnx.Input(shape=(4, 6))
    with pytest.raises(TypeError, match=r"'one'.*2 or 3 inputs \(query, value\[, key\]\)"):
        MultiHeadAttention(2, 3, name="one")(q)
    with pytest.raises(TypeError, match=r"'mask'.*attention_mask= in a functional graph must be"):
        MultiHeadAttention(2, 3, name="mask")(q, q, attention_mask=np.ones((1, 4, 4), bool))
    with pytest.raises(ValueError, match=r"'flat'.*expects value of shape.*received \(None, 6\)"):
        MultiHeadAttention(2, 3, name="flat")(q, nnx.Input(shape=(6,)))
    with pytest.raises(ValueError, match=r"'steps'.*same number of steps, received 5 and 3"):
        MultiHeadAttention(2, 3, name="steps")(q, nnx.Input(shape=(5, 6)), nnx.Input(shape=(3, 6)))
    with pytest.raises(ValueError, match=r"'list'.*2 or 3 inputs.*received a list of 4"):
        MultiHeadAttention(2, 3, name="list")([q, q, q, q])
    with pytest.raises(ValueError, match=r"use_causal_mask must be True or False"):
        MultiHeadAttention(2, 3)(q, q, use_causal_mask="yes")


def test_a_config_with_four_attention_inputs_is_refused():
    model = nnx.Model(*_attention_graph(), seed=0)
    config = model.get_config()
    config["nodes"][0]["inputs"] *= 2
    layers = [type(layer).from_config(layer.get_config()) for layer in model.layers]
    with pytest.raises(ValueError, match=r"'cross'.*2 or 3 inputs.*received 4"):
        nnx.models.Functional.from_layers(layers, config)


def _example():
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(
        "functional_transformer", EXAMPLES / "functional_transformer.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_transformer_block_trains_and_loads_again(tmp_path):
    results = _example().main(quick=True, out=tmp_path)
    assert results["test_accuracy"] > 0.9
    assert results["loaded_predicts_the_same"]


def test_transformer_block_gradients(backend):
    model = _example().transformer_classifier(dim=4, heads=2, backend=backend)
    tokens = RNG.integers(0, 10, size=(2, 12))
    _check(nnx.gradcheck(model, tokens, tolerance=1.0, eps=1e-5))
