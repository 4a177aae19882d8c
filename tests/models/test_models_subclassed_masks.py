"""Masks in subclassed layers, as Keras: ``call(inputs, mask=None)`` receives the incoming
mask as a graph tensor (combined with ``nnx.ops`` into an attention mask), ``supports_masking``
passes it on, ``compute_mask`` sets the output's; padding then changes nothing on the valid
positions, and the masked block's gradients match central differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import layers, ops
from nnx.gradcheck import numeric_gradient
from nnx.layers import LSTM, Dense, Embedding

IDS = np.array([[4, 7, 2, 0, 0], [5, 1, 9, 3, 0]])


class MaskedBlock(layers.Layer):
    """Self-attention over the valid steps (and, if causal, the earlier ones): the mask of
    ``inputs`` arrives as ``mask`` and becomes MultiHeadAttention's ``attention_mask``."""

    def __init__(self, dim, causal=False, **kwargs):
        super().__init__(**kwargs)
        self.causal = causal
        self.attention = layers.MultiHeadAttention(num_heads=2, key_dim=dim)
        self.norm = layers.LayerNormalization()
        self.supports_masking = True

    def call(self, inputs, mask=None):
        attention_mask = None
        if mask is not None:
            attention_mask = ops.cast(mask[:, None, :], "int32")
            if self.causal:
                n = ops.shape(inputs)[1]
                lower = ops.cast(ops.arange(n)[:, None] >= ops.arange(n), "int32")
                batch = ops.expand_dims(ops.shape(inputs)[0], -1)
                reps = ops.concatenate([batch, ops.convert_to_tensor([1, 1])], axis=0)
                causal = ops.tile(ops.reshape(lower, (1, n, n)), reps)
                attention_mask = ops.minimum(attention_mask, causal)
        return self.norm(inputs + self.attention(inputs, inputs, attention_mask=attention_mask))


class TokenEmbedding(layers.Layer):
    """keras.io's ``PositionalEmbedding`` in small: its own mask from ``compute_mask``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = Embedding(10, 4)

    def call(self, inputs):
        return self.embedding(inputs)

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0)


class Scale(layers.Layer):
    """No ``mask`` argument and no ``supports_masking``: the mask stops here."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = Dense(4)

    def call(self, inputs):
        return 2.0 * self.dense(inputs)


def _model(steps, backend, *, mask_zero=True, causal=False, dtype="float32"):
    ids = nnx.Input((steps,), dtype="int64")
    h = Embedding(10, 4, mask_zero=mask_zero)(ids)
    y = MaskedBlock(4, causal=causal)(h)
    return nnx.Model(ids, Dense(3)(y), backend=backend, seed=0, dtype=dtype)


@pytest.mark.parametrize("causal", [False, True])
def test_padding_changes_nothing_on_the_valid_steps(backend, causal):
    padded, short = _model(5, backend, causal=causal), _model(3, backend, causal=causal)
    short.set_weights(padded.get_weights())
    ids = IDS[:1]  # three valid steps
    np.testing.assert_allclose(
        padded.predict(ids)[:, :3], short.predict(ids[:, :3]), rtol=1e-5, atol=1e-6
    )
    block = padded.layers[2]
    assert any(key[-1] == (True,) for key in block._traces)  # call traced with mask=
    _, _, mask = padded.forward_masked(backend.asarray(IDS))
    np.testing.assert_array_equal(backend.to_numpy(mask), IDS != 0)  # supports_masking


def test_without_the_mask_the_padding_leaks_in(backend):
    masked, unmasked = _model(5, backend), _model(5, backend, mask_zero=False)
    unmasked.set_weights(masked.get_weights())
    a, b = masked.predict(IDS), unmasked.predict(IDS)
    assert not np.allclose(a[0, :3], b[0, :3], atol=1e-4)


def test_compute_mask_and_supports_masking_decide_the_output_mask(backend):
    def lstm_after(steps, middle):
        ids = nnx.Input((steps,), dtype="int64")
        h = middle(TokenEmbedding()(ids))
        return nnx.Model(ids, LSTM(3)(h), backend=backend, seed=0)

    padded, short = lstm_after(5, MaskedBlock(4)), lstm_after(3, MaskedBlock(4))
    short.set_weights(padded.get_weights())
    np.testing.assert_allclose(padded.predict(IDS[:1]), short.predict(IDS[:1, :3]), atol=1e-6)
    stopped = lstm_after(5, Scale())  # the mask ends at Scale: the LSTM reads the padding
    _, _, mask = stopped.forward_masked(backend.asarray(IDS))
    assert mask is None
    ids = nnx.Input((5,), dtype="int64")
    sequential = nnx.Sequential([ids, TokenEmbedding(), MaskedBlock(4)], backend=backend)
    _, _, mask = sequential.forward_masked(backend.asarray(IDS))
    np.testing.assert_array_equal(backend.to_numpy(mask), IDS != 0)


def test_an_explicit_mask_argument(backend):
    x, m = nnx.Input((5, 4), name="x"), nnx.Input((5,), dtype="bool", name="m")
    block = MaskedBlock(4)
    model = nnx.Model([x, m], block(x, mask=m), backend=backend, seed=0)
    data = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    valid = IDS != 0
    by_graph = model.predict([data, valid])
    by_call = backend.to_numpy(block(backend.asarray(data), mask=backend.asarray(valid)))
    np.testing.assert_allclose(by_graph, by_call, rtol=1e-5, atol=1e-6)
    unmasked = backend.to_numpy(block(backend.asarray(data)))
    assert not np.allclose(by_call[0, :3], unmasked[0, :3], atol=1e-4)


def test_masked_subclassed_block_gradients_float64(backend):
    model = _model(5, backend, causal=True, dtype="float64")
    ids = backend.asarray(IDS)
    y, backprop = model.forward(ids, training=False)
    r = backend.asarray(np.random.default_rng(1).normal(size=tuple(y.shape)), "float64")
    backprop(r)
    xp = backend.xp
    analytic = {p.name: backend.to_numpy(p.grad).copy() for p in model.parameters()}

    def f() -> float:
        return float(xp.sum(model.forward(ids, training=False)[0] * r))

    assert len(analytic) >= 12  # embedding, the attention's 8, the norm's 2, the dense's 2
    for p in model.parameters():
        numeric = backend.to_numpy(numeric_gradient(f, p.value))
        np.testing.assert_allclose(analytic[p.name], numeric, atol=1e-7, err_msg=p.name)


def test_unknown_sequence_length_is_traced_per_length(backend):
    """``Input(shape=(None,))``: ``call`` is traced for each length the data has (two probe
    lengths give the symbolic shapes); a causal block's first steps do not see the later
    ones, so a prefix gives the same outputs there."""
    ids = nnx.Input((None,), dtype="int64")
    y = MaskedBlock(4, causal=True)(TokenEmbedding()(ids))
    model = nnx.Model(ids, Dense(3)(y), backend=backend, seed=0)
    assert model.output_shape == (None, 3) and y.shape == (None, None, 4)
    long, prefix = np.array([[4, 7, 2, 6, 5]]), np.array([[4, 7, 2]])
    np.testing.assert_allclose(
        model.predict(long)[:, :3], model.predict(prefix), rtol=1e-5, atol=1e-6
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(IDS, IDS % 3, epochs=1, verbose=0)
    assert model.predict(np.array([[1, 2, 3, 4, 5, 6, 7]])).shape == (1, 7, 3)
