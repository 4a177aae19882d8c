"""``stateful=True`` on SimpleRNN, LSTM, GRU and RNN: a sequence fed in two halves equals it fed
whole, ``reset_states``, ``model.reset_states``, a fixed batch size, no gradient across
batches, configs."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import GRU, LSTM, RNN, Bidirectional, Dense, GRUCell, LSTMCell, SimpleRNN

RNG = np.random.default_rng(63)
X = RNG.normal(size=(2, 6, 3))
MAKERS = {
    "SimpleRNN": lambda **k: SimpleRNN(3, **k),
    "LSTM": lambda **k: LSTM(3, **k),
    "GRU": lambda **k: GRU(3, **k),
    "RNN(LSTMCell)": lambda **k: RNN(LSTMCell(3), **k),
    "RNN([GRUCell, LSTMCell])": lambda **k: RNN([GRUCell(2), LSTMCell(3)], **k),
}


def _built(layer, backend):
    layer.build((None, 3), backend, backend.rng(0), "float64")
    return layer


@pytest.mark.parametrize("name", list(MAKERS))
def test_two_halves_equal_the_whole_sequence(backend, to_np, name):
    whole = _built(MAKERS[name](return_sequences=True), backend)
    layer = _built(MAKERS[name](return_sequences=True, stateful=True), backend)
    layer.set_weights(whole.get_weights())
    x = backend.asarray(X, "float64")
    first, second = layer(x[:, :4, ...]), layer(x[:, 4:, ...])
    expected = to_np(whole(x))
    np.testing.assert_allclose(to_np(first), expected[:, :4], rtol=1e-12)
    np.testing.assert_allclose(to_np(second), expected[:, 4:], rtol=1e-12)
    h = layer.states[1 if name.startswith("RNN([") else 0]  # the last cell's h
    np.testing.assert_allclose(to_np(h), expected[:, -1], rtol=1e-12)
    layer.reset_states()
    assert all(not to_np(s).any() for s in layer.states)
    np.testing.assert_allclose(to_np(layer(x[:, :4, ...])), expected[:, :4], rtol=1e-12)


@pytest.mark.parametrize("name", ["LSTM", "RNN([GRUCell, LSTMCell])"])
def test_training_does_not_backprop_into_carried_states(backend, name):
    """The second batch's gradients are those of a fresh layer started from the carried
    states given as ``initial_state`` (which are data): its backprop returns ``dx`` alone."""
    layer = _built(MAKERS[name](stateful=True), backend)
    twin = _built(MAKERS[name](), backend)
    twin.set_weights(layer.get_weights())
    x = backend.asarray(X, "float64")
    layer.forward(x[:, :3, ...], training=True)
    carried = list(layer.states)
    y, backprop = layer.forward(x[:, 3:, ...], training=True)
    dy = backend.asarray(RNG.normal(size=tuple(y.shape)), "float64")
    dx = backprop(dy)
    y_twin, back_twin = twin.forward(x[:, 3:, ...], training=True, initial_state=carried)
    dx_twin, *_ = back_twin(dy)
    np.testing.assert_allclose(backend.to_numpy(y), backend.to_numpy(y_twin), rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(dx), backend.to_numpy(dx_twin), rtol=1e-12)
    for p, q in zip(layer.parameters(), twin.parameters(), strict=True):
        np.testing.assert_allclose(backend.to_numpy(p.grad), backend.to_numpy(q.grad), rtol=1e-12)


def test_fixed_batch_size_errors_and_keras_arguments(backend):
    layer = _built(LSTM(3, stateful=True), backend)
    x = backend.asarray(X, "float64")
    layer(x)
    with pytest.raises(ValueError, match=r"stateful with a fixed batch size of 2.*batch of 1"):
        layer(x[:1, ...])
    declared = LSTM(3, stateful=True, batch_input_shape=(4, 6, 3))
    assert declared.batch_size == 4 and declared.input_shape == (6, 3)
    declared.build((6, 3), backend, backend.rng(0), "float64")
    with pytest.raises(ValueError, match="fixed batch size of 4"):
        declared(x)
    assert RNN(LSTMCell(2), stateful=True, batch_size=5).batch_size == 5
    with pytest.raises(ValueError, match="contradicts batch_input_shape"):
        GRU(2, batch_size=3, batch_input_shape=(4, 6, 3))
    with pytest.raises(AttributeError, match="reset_states\\(\\) is for layers created with"):
        LSTM(3).reset_states()


def test_states_can_be_set_and_reused(backend, to_np):
    layer = _built(GRU(3, stateful=True), backend)
    x = backend.asarray(X, "float64")
    layer(x[:, :3, ...])
    existing = layer.states
    fresh = _built(GRU(3), backend)
    fresh.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        to_np(fresh(x[:, 3:, ...], initial_state=existing)), to_np(layer(x[:, 3:, ...]))
    )
    layer.reset_states([np.ones((2, 3))])  # host data moves to the layer's backend
    np.testing.assert_array_equal(to_np(layer.states[0]), 1.0)
    assert layer(x[:, :1, ...]).shape == (2, 3)


def test_model_reset_states_and_config(tmp_path):
    model = nnx.Sequential(
        [
            LSTM(4, stateful=True, return_sequences=True, batch_input_shape=(2, 3, 3)),
            Bidirectional(GRU(2, stateful=True)),
            Dense(1),
        ],
        seed=0,
    )
    model.compile("adam", "mse")
    model.fit(X[:, :3], np.zeros((2, 1)), batch_size=2, epochs=2, shuffle=False, verbose=0)
    first = model.predict(X[:, 3:], batch_size=2)
    model.reset_states()
    assert not model.layers[0].states[0].any()
    assert not model.layers[1].forward_layer.states[0].any()
    second = model.predict(X[:, 3:], batch_size=2)
    assert not np.allclose(second, first)
    model.save(tmp_path / "stateful.nnx")
    loaded = nnx.load(tmp_path / "stateful.nnx")  # states are not saved: they start at zero
    assert loaded.layers[0].stateful and loaded.layers[0].batch_size == 2
    np.testing.assert_array_equal(loaded.predict(X[:, 3:], batch_size=2), second)
