"""``training=`` on the call of the layers that override ``__call__`` (recurrent, Bidirectional,
1-D global pooling, attention), as Keras code passes it inside a subclassed layer's ``call``."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import layers

RNG = np.random.default_rng(5)


class Encoder(layers.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = layers.Bidirectional(layers.LSTM(4, return_sequences=True, dropout=0.5))
        self.att = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5)
        self.gru = layers.GRU(3, return_sequences=True, recurrent_dropout=0.5)
        self.pool = layers.GlobalAveragePooling1D()

    def call(self, x, training=None):
        h = self.rnn(x, training=training)
        h = h + self.att(h, h, training=training)
        return self.pool(self.gru(h, training=training), training=training)


def test_a_subclassed_call_passes_training_to_sequence_layers(backend):
    inputs = nnx.Input((5, 3))
    model = nnx.Model(inputs, layers.Dense(1)(Encoder()(inputs)), backend=backend, seed=0)
    x = RNG.normal(size=(8, 5, 3)).astype("float32")
    a, b = model.predict(x), model.predict(x)
    np.testing.assert_array_equal(a, b)  # inference: no dropout
    model.compile("adam", "mse")
    history = model.fit(x, RNG.normal(size=(8, 1)), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_training_on_data_applies_the_dropouts(backend, to_np):
    x = backend.asarray(RNG.normal(size=(4, 6, 3)), "float32")
    lstm = layers.LSTM(5, dropout=0.5, recurrent_dropout=0.5, seed=1)
    quiet = to_np(lstm(x))
    np.testing.assert_array_equal(quiet, to_np(lstm(x, training=False)))
    assert not np.allclose(quiet, to_np(lstm(x, training=True)))
    wrapped = layers.Bidirectional(layers.GRU(2, dropout=0.9))
    assert not np.allclose(to_np(wrapped(x)), to_np(wrapped(x, training=True)))
    pool = layers.GlobalMaxPooling1D()
    np.testing.assert_array_equal(to_np(pool(x, training=True)), to_np(x).max(axis=1))


def test_a_fixed_training_flag_in_a_graph_is_refused():
    inputs = nnx.Input((5, 3))
    with pytest.raises(ValueError, match=r"'lstm_x' \(LSTM\) was called with training=True"):
        layers.LSTM(2, name="lstm_x")(inputs, training=True)
