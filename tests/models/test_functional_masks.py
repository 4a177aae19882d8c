"""Timestep masks in functional graphs, as in Keras and as ``Sequential`` threads them:
``Embedding(mask_zero=True)`` / ``Masking`` -> recurrent and attention layers -> loss/metrics."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import GRU, LSTM, Dense, Embedding, Masking, MultiHeadAttention

RNG = np.random.default_rng(11)
TOKENS = RNG.integers(1, 9, size=(4, 5))
TOKENS[0, 3:] = TOKENS[1, 1:] = TOKENS[2, 4:] = 0  # padding at the end


def _stack(sequence_output: bool):
    last = GRU(3, return_sequences=True) if sequence_output else LSTM(3)
    return [Embedding(10, 4, mask_zero=True), LSTM(3, return_sequences=True), last, Dense(2)]


def _twins(sequence_output: bool, backend=None):
    """The same layers as a Sequential and as a graph, with the same weights."""
    seq = nnx.Sequential([nnx.layers.Input((5,)), *_stack(sequence_output)], backend=backend)
    x = nnx.Input((5,), dtype="int64")
    h = x
    for layer in _stack(sequence_output):
        h = layer(h)
    graph = nnx.Model(x, h, backend=backend, seed=1)
    graph.set_weights(seq.get_weights())
    return seq, graph


@pytest.mark.parametrize("sequence_output", [False, True])
def test_graph_masks_match_sequential_predictions_losses_gradients_metrics(sequence_output):
    seq, graph = _twins(sequence_output)
    np.testing.assert_array_equal(graph.predict(TOKENS), seq.predict(TOKENS))
    y = RNG.normal(size=(4, 5, 2) if sequence_output else (4, 2))
    for model in (seq, graph):
        model.compile("sgd", "mse", metrics=["mae"])
    b = seq.backend
    loss_s, _ = seq.compute_gradients(b.asarray(TOKENS, "float32"), b.asarray(y, "float32"))
    loss_g, _ = graph.compute_gradients(b.asarray(TOKENS), b.asarray(y, "float32"))
    assert float(loss_s) == float(loss_g)
    for p, q in zip(seq.parameters(), graph.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad)
    assert seq.evaluate(TOKENS, y, verbose=0) == graph.evaluate(TOKENS, y, verbose=0)
    mask = graph.forward_masked(b.asarray(TOKENS))[2]
    assert (mask is not None) == sequence_output
    if sequence_output:
        np.testing.assert_array_equal(mask, TOKENS != 0)


def test_padded_steps_change_nothing_in_a_graph(backend):
    _, graph = _twins(True, backend)
    y = graph.predict(TOKENS)
    changed = TOKENS.copy()
    changed[0, 3:] = 0
    junk = graph.predict(np.concatenate([TOKENS, np.zeros((4, 2), int)], axis=1)[:, :5])
    np.testing.assert_array_equal(junk, y)
    # the loss ignores predictions on padding: their targets do not matter
    graph.compile("sgd", "mse")
    t1 = RNG.normal(size=(4, 5, 2))
    t2 = t1.copy()
    t2[TOKENS == 0] = 100.0
    assert graph.evaluate(TOKENS, t1, verbose=0) == graph.evaluate(TOKENS, t2, verbose=0)


def test_masked_graph_gradients(backend):
    x = nnx.Input((5,), dtype="int64")
    h = Embedding(10, 1, mask_zero=True)(x)  # one unit each: few central differences
    h = LSTM(1, return_sequences=True)(h)
    out = Dense(1)(GRU(1)(h))
    model = nnx.Model(x, out, backend=backend, seed=0)
    errors = nnx.gradcheck(model, TOKENS[:2])
    assert max(errors.values()) < 1e-6


def test_masking_layer_in_a_graph_matches_trimmed_sequences(backend):
    x = nnx.Input((5, 2))
    lstm = LSTM(3, name="lstm")
    model = nnx.Model(x, Dense(1)(lstm(Masking(mask_value=-1.0)(x))), backend=backend, seed=0)
    data = RNG.normal(size=(2, 5, 2))
    data[1, 3:] = -1.0
    valid = np.any(data != -1.0, axis=-1)
    a = backend.asarray(data * valid[..., None], "float32")
    dense = model.layers[-1]
    expected = backend.to_numpy(dense(lstm(a, backend.asarray(valid))))
    np.testing.assert_allclose(model.predict(data), expected, rtol=1e-5)
    unmasked = backend.to_numpy(dense(lstm(backend.asarray(data, "float32"))))
    assert not np.allclose(model.predict(data)[1], unmasked[1])


def test_a_mask_reaches_attention_as_query_and_value_masks(backend):
    x = nnx.Input((5,), dtype="int64")
    e = Embedding(10, 4, mask_zero=True, name="emb")(x)
    mha = MultiHeadAttention(2, 2, name="mha")
    y = mha(e, e)
    model = nnx.Model(x, y, backend=backend, seed=0)
    emb = model.backend.to_numpy(model.layers[1].embeddings.value)[TOKENS]
    a = model.backend.asarray(emb, "float32")
    allowed = model.backend.asarray((TOKENS != 0)[:, None, :] & (TOKENS != 0)[:, :, None])
    expected = model.backend.to_numpy(mha(a, a, attention_mask=allowed))
    np.testing.assert_allclose(model.predict(TOKENS), expected, rtol=1e-5, atol=1e-6)
    assert model.forward_masked(model.backend.asarray(TOKENS))[2] is not None
