"""Keras subclassed layers: ``call`` traced into a graph (keras.io's Transformer blocks),
gradients through it on every backend, weights counted once, ``training`` reaching dropout,
Keras ``build``/``add_weight``, ``Lambda``."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
import nnx as keras
from nnx import layers, ops

RNG = np.random.default_rng(7)


class TransformerBlock(layers.Layer):
    """keras.io "Text classification with Transformer", with ``training`` passed through."""

    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=None):
        attn_output = self.att(inputs, inputs, training=training)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = keras.ops.shape(x)[-1]
        positions = keras.ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


class Linear(layers.Layer):
    """keras.io "Making new layers and models via subclassing": weights made in build."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)
        super().build(input_shape)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def _built(layer, shape, backend):
    layer.build(shape, backend, backend.rng(0), "float64")
    return layer


def test_transformer_block_gradients(backend):
    block = _built(TransformerBlock(4, 2, 6, rate=0.0), (3, 4), backend)
    errors = nnx.gradcheck(block, RNG.normal(size=(2, 3, 4)), backend=backend, tolerance=1.0)
    assert "input" in errors and len(errors) == 1 + 16
    # NOTE: the key bias adds q.bk to a whole row of scores, which softmax ignores: its exact
    # gradient is 0, so its relative error means nothing (as in the attention tests).
    assert max(v for k, v in errors.items() if not k.endswith("key_bias")) < 1e-6


def test_position_embedding_learns_through_a_constant(backend):
    layer = _built(TokenAndPositionEmbedding(5, 7, 3), (5,), backend)
    x = backend.asarray(RNG.integers(0, 7, (2, 5)), "float64")
    y, backprop = layer.forward(x, training=True)
    assert tuple(y.shape) == (2, 5, 3)
    r = backend.asarray(RNG.normal(size=(2, 5, 3)), "float64")
    backprop(r)
    token, position = layer.parameters()
    xp = backend.xp
    # d/dP[t] sum(y * r) = sum over the batch of r[:, t]: every position row learns
    np.testing.assert_allclose(backend.to_numpy(position.grad), backend.to_numpy(xp.sum(r, axis=0)))
    assert tuple(token.grad.shape) == (7, 3)


def test_weights_of_a_subclassed_layer_are_counted_once(backend):
    inputs = layers.Input(shape=(5,))
    x = TokenAndPositionEmbedding(5, 7, 4)(inputs)
    x = TransformerBlock(4, 2, 6)(x)
    outputs = layers.Dense(2)(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs, backend=backend, seed=0)
    block = model.layers[2]
    sizes = [int(np.prod(w.shape)) for w in block.get_weights()]
    assert (
        block.count_params()
        == sum(sizes)
        # attention: 3 x (kernel (4, 2, 4) + bias (2, 4)) + output (2, 4, 4) + (4,);
        # two layer norms; the feed-forward Sequential's two Dense layers
        == 3 * (32 + 8) + 32 + 4 + 2 * (4 + 4) + (4 * 6 + 6) + (6 * 4 + 4)
    )
    assert model.count_params() == sum(layer.count_params() for layer in model.layers)
    assert model.count_params() == sum(int(np.prod(w.shape)) for w in model.get_weights())
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    assert any(f"{block.count_params():,}" in line and "TransformerBlock" in line for line in lines)
    block.set_weights([w * 0 for w in block.get_weights()])
    assert all(not w.any() for w in block.get_weights())


def test_training_reaches_dropout_inside_call(backend):
    block = _built(TransformerBlock(4, 2, 6, rate=0.5), (3, 4), backend)
    x = backend.asarray(RNG.normal(size=(2, 3, 4)), "float64")
    inference = backend.to_numpy(block.forward(x, training=False)[0])
    again = backend.to_numpy(block(x))
    training = backend.to_numpy(block.forward(x, training=True)[0])
    np.testing.assert_allclose(inference, again)
    assert not np.allclose(inference, training)


def test_keras_build_and_add_weight(backend):
    layer = _built(Linear(3), (4,), backend)
    assert [p.shape for p in layer.parameters()] == [(4, 3), (3,)]
    errors = nnx.gradcheck(layer, RNG.normal(size=(5, 4)), backend=backend)
    assert max(errors.values()) < 1e-7 and len(errors) == 3
    x = nnx.Input((4,))
    model = nnx.Model(x, Linear(2)(x), backend=backend, seed=0)
    assert model.predict(np.ones((1, 4))).shape == (1, 2)


def test_eager_call_builds_and_runs(backend):
    layer = TransformerBlock(4, 2, 6)
    y = layer(backend.asarray(RNG.normal(size=(2, 3, 4))))
    assert tuple(y.shape) == (2, 3, 4) and layer.built


def test_lambda_traces_ops_and_refuses_to_save(backend, tmp_path):
    lam = layers.Lambda(lambda t: ops.sum(ops.square(t) * 0.5, axis=-1, keepdims=True) + t)
    _built(lam, (3,), backend)
    errors = nnx.gradcheck(lam, RNG.normal(size=(2, 3)), backend=backend)
    assert errors["input"] < 1e-7
    x = nnx.Input((3,))
    model = nnx.Model(x, layers.Lambda(ops.tanh, output_shape=(3,))(x), backend=backend)
    assert model.predict(np.zeros((1, 3))).tolist() == [[0.0, 0.0, 0.0]]
    with pytest.raises(TypeError, match="Lambda layer .* cannot be saved: its function is Python"):
        model.save(tmp_path / "lambda.npz")
    with pytest.raises(ValueError, match=r"output_shape=\(4,\), but the function returns"):
        layers.Lambda(ops.tanh, output_shape=(4,))(x)


def test_literal_training_in_a_graph_is_refused():
    x = nnx.Input((3,))
    with pytest.raises(ValueError, match="called with training=True in a graph"):
        layers.Dropout(0.5)(x, training=True)

    class Forced(layers.Layer):
        def call(self, inputs):
            return layers.Dropout(0.5)(inputs, training=True)

    with pytest.raises(ValueError, match="called with training=True in a graph"):
        Forced()(x)


def test_call_must_return_tensors_of_its_inputs():
    class Constant(layers.Layer):
        def call(self, inputs):
            return ops.arange(3)

    with pytest.raises(TypeError, match=r"\.call must return tensors computed from its inputs"):
        Constant()(nnx.Input((3,)))
