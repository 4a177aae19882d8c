"""Keras's Attention and AdditiveAttention in graphs: masks flowing from Embedding (the output
keeps the query's), explicit ``mask=[query_mask, value_mask]`` tensors, scores as a second
output, float64 graph gradients, save/load with the call options, a subclassed ``call``, and
the calls a graph refuses."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import AdditiveAttention, Attention, Dense, Embedding, GlobalAveragePooling1D

RNG = np.random.default_rng(21)
TOKENS = np.array([[3, 1, 4, 1, 5, 0], [9, 2, 6, 0, 0, 0], [5, 3, 5, 8, 9, 7]])


def _embedded_graph(layer, backend):
    tokens = nnx.Input((6,), name="tokens")
    e = Embedding(10, 4, mask_zero=True, name="emb")(tokens)
    q = Dense(4, name="q")(e)
    return nnx.Model(tokens, layer([q, e]), backend=backend, seed=0)


@pytest.mark.parametrize("cls", [Attention, AdditiveAttention])
def test_embedding_masks_are_the_value_and_query_masks(backend, to_np, cls):
    model = _embedded_graph(cls(name="att"), backend)
    tokens = backend.asarray(TOKENS)
    y, _, mask = model.forward_masked(tokens)
    valid = TOKENS != 0
    np.testing.assert_array_equal(to_np(mask), valid)  # the query's mask goes on
    emb, dense = model.get_layer("emb"), model.get_layer("q")
    e = emb(tokens)
    m = backend.asarray(valid)
    expected = model.get_layer("att")([dense(e), e], mask=[m, m])
    np.testing.assert_array_equal(to_np(y), to_np(expected))
    assert np.all(to_np(y)[~valid] == 0)
    unmasked = to_np(model.get_layer("att")([dense(e), e]))
    assert not np.allclose(unmasked[valid], to_np(y)[valid])  # padded keys were left out


def test_explicit_masks_are_graph_inputs_and_replace_the_inputs_masks(backend, to_np, tmp_path):
    q, v = nnx.Input((3, 4), name="q"), nnx.Input((5, 4), name="v")
    vm = nnx.Input((5,), name="vm")
    att = Attention(use_scale=True, name="att")
    model = nnx.Model([q, v, vm], att([q, v], mask=[None, vm]), backend=backend, seed=0)
    node = model.get_config()["nodes"][-1]
    assert node["layer"] == "att"
    xs = [RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4))]
    keep = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 1, 1]], dtype="float32")  # nonzero: valid
    y = model.predict([*xs, keep])
    arrays = [backend.asarray(a, "float32") for a in xs]
    expected = att(arrays, mask=[None, backend.asarray(keep != 0)])
    np.testing.assert_allclose(y, to_np(expected), rtol=1e-6)
    model.save(tmp_path / "m.nnx")
    assert nnx.load(tmp_path / "m.nnx").predict([*xs, keep]).tobytes() == y.tobytes()


@pytest.mark.parametrize("cls", [Attention, AdditiveAttention])
def test_scores_output_and_graph_gradients(backend, cls):
    q, v, k = nnx.Input((3, 4), name="q"), nnx.Input((5, 2), name="v"), nnx.Input((5, 4))
    options = {"use_scale": True} if cls is Attention else {}
    y, scores = cls(name="att", **options)(
        [q, v, k], return_attention_scores=True, use_causal_mask=True
    )
    assert y.shape == (None, 3, 2) and scores.shape == (None, 3, 5)
    model = nnx.Model([q, v, k], [Dense(2, name="head")(y), scores], backend=backend, seed=0)
    xs = [RNG.normal(size=(2, *t.sample_shape)) for t in model.inputs]
    errors = nnx.gradcheck(model, xs, tolerance=1.0, eps=1e-5)
    assert {"input/q", "input/v", "att/scale", "head/kernel"} <= set(errors)
    assert max(errors.values()) < 1e-6


def test_save_and_load_keep_the_call_options(backend, tmp_path):
    q, v = nnx.Input((4, 3), name="q"), nnx.Input((6, 3), name="v")
    h = Attention(score_mode="concat", dropout=0.2, seed=2, name="att")(
        [q, v], use_causal_mask=True
    )
    h = AdditiveAttention(name="add")([h, v])
    model = nnx.Model([q, v], Dense(1)(GlobalAveragePooling1D()(h)), backend=backend, seed=0)
    options = {n["layer"]: n.get("options") for n in model.get_config()["nodes"]}
    assert options["att"] == {"use_causal_mask": True} and options["add"] is None
    xs = [RNG.normal(size=(8, 4, 3)), RNG.normal(size=(8, 6, 3))]
    model.compile("adam", "mse")
    model.fit(xs, RNG.normal(size=(8, 1)), epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "m.nnx")
    clone = nnx.load(tmp_path / "m.nnx", backend=backend)
    assert clone.get_config() == model.get_config()
    assert clone.predict(xs).tobytes() == model.predict(xs).tobytes()
    assert [p.name for p in clone.parameters()][:2] == ["att/concat_score_weight", "add/scale"]


def test_a_subclassed_call_and_eager_use_agree(backend, to_np):
    class Decoder(nnx.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.attention = Attention(use_scale=True)
            self.out = Dense(2)

        def call(self, inputs):
            context = self.attention([inputs, inputs], use_causal_mask=True)
            return self.out(context + inputs)

    x = nnx.Input((5, 2))
    decoder = Decoder()
    model = nnx.Model(x, decoder(x), backend=backend, seed=0)
    data = RNG.normal(size=(3, 5, 2)).astype("float32")
    arrays = backend.asarray(data, "float32")
    context = decoder.attention([arrays, arrays], use_causal_mask=True)
    np.testing.assert_allclose(model.predict(data), to_np(decoder.out(context + arrays)), rtol=1e-6)
    model.compile("adam", "mse")
    before = model.get_weights()[0].copy()
    model.fit(data, RNG.normal(size=(3, 5, 2)), epochs=2, verbose=0)
    assert model.get_weights()[0] != before  # the learned scale moved


def test_calls_a_graph_refuses():
    q, v = nnx.Input((3, 4)), nnx.Input((5, 4))
    with pytest.raises(ValueError, match=r"training=True in a graph"):
        Attention()([q, v], training=True)
    with pytest.raises(ValueError, match=r"takes a list of 2 or 3 inputs.*received 4"):
        Attention()([q, v, v, v])
    with pytest.raises(ValueError, match=r"query's last dimension must equal the key's"):
        Attention()([q, nnx.Input((5, 3))])
    with pytest.raises(ValueError, match=r"'att' must be called on a list of inputs.*Sequential"):
        nnx.Sequential([nnx.Input((5, 4)), Attention(name="att")])
