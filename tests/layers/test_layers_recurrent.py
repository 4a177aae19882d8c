"""SimpleRNN, LSTM, GRU: Keras shapes and defaults, known values, BPTT gradient checks (with
dropout, go_backwards, masks, states), config round trip, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.gradcheck import numeric_gradient, relative_error
from nnx.layers import GRU, LSTM, SimpleRNN, layer_class

RNG = np.random.default_rng(16)
X = RNG.normal(size=(2, 4, 3))


def _built(layer, backend, shape=(None, 3), dtype="float64"):
    layer.build(shape, backend, backend.rng(0), dtype)
    return layer


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_keras_weight_shapes_names_and_default_biases(backend, to_np):
    lstm = _built(LSTM(3, name="lstm"), backend)
    names = ["lstm/kernel", "lstm/recurrent_kernel", "lstm/bias"]
    assert [p.name for p in lstm.parameters()] == names
    assert LSTM(2).name.startswith("lstm") and SimpleRNN(2).name.startswith("simple_rnn")
    assert [p.shape for p in lstm.parameters()] == [(3, 12), (3, 12), (12,)]
    assert to_np(lstm.bias.value).tolist() == [0.0] * 3 + [1.0] * 3 + [0.0] * 6  # unit_forget_bias
    u = to_np(lstm.recurrent_kernel.value)
    np.testing.assert_allclose(u @ u.T, np.eye(3), atol=1e-12)  # orthogonal rows
    gru = _built(GRU(3), backend)
    assert [p.shape for p in gru.parameters()] == [(3, 9), (3, 9), (2, 9)]
    assert _built(GRU(3, reset_after=False), backend).bias.shape == (9,)
    rnn = _built(SimpleRNN(3, use_bias=False), backend)
    assert [p.shape for p in rnn.parameters()] == [(3, 3), (3, 3)]
    assert LSTM(3, return_sequences=True).compute_output_shape((5, 4)) == (5, 3)
    assert GRU(2).compute_output_shape((None, 4)) == (2,)


def test_lstm_forward_matches_the_gate_equations(backend, to_np):
    lstm = _built(LSTM(3, return_sequences=True), backend)
    w, u, b = (to_np(p.value) for p in lstm.parameters())
    y = to_np(lstm(backend.asarray(X, "float64")))
    h = c = np.zeros((2, 3))
    for t in range(4):
        z = X[:, t] @ w + h @ u + b
        i, f, g, o = _sigmoid(z[:, :3]), _sigmoid(z[:, 3:6]), np.tanh(z[:, 6:9]), _sigmoid(z[:, 9:])
        c = f * c + i * g
        h = o * np.tanh(c)
        np.testing.assert_allclose(y[:, t], h, rtol=1e-12, atol=1e-14)


def test_gru_forward_matches_the_gate_equations(backend, to_np):
    gru = _built(GRU(3), backend)
    w, u, b = (to_np(p.value) for p in gru.parameters())
    b = RNG.normal(size=b.shape)
    gru.bias.value[...] = backend.asarray(b, "float64")
    y = to_np(gru(backend.asarray(X, "float64")))
    h = np.zeros((2, 3))
    for t in range(4):
        xz, rz = X[:, t] @ w + b[0], h @ u + b[1]
        z, r = _sigmoid(xz[:, :3] + rz[:, :3]), _sigmoid(xz[:, 3:6] + rz[:, 3:6])
        h = z * h + (1 - z) * np.tanh(xz[:, 6:] + r * rz[:, 6:])
    np.testing.assert_allclose(y, h, rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SimpleRNN(3, return_sequences=True),
        lambda: SimpleRNN(2, activation="relu", go_backwards=True),
        lambda: LSTM(3),
        lambda: LSTM(2, return_sequences=True, go_backwards=True),
        lambda: GRU(3, return_sequences=True),
        lambda: GRU(2, reset_after=False),
        lambda: GRU(2, use_bias=False, go_backwards=True),
    ],
)
def test_backprop_through_time_gradient_check(backend, make):
    errors = nnx.gradcheck(make(), X, backend=backend)
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_gradient_check_with_input_and_recurrent_dropout(backend, cls):
    layer = cls(3, dropout=0.3, recurrent_dropout=0.4, return_sequences=True, seed=1)
    errors = nnx.gradcheck(layer, X, backend=backend, training=True)
    assert max(errors.values()) < 1e-6


def test_dropout_is_one_mask_per_sequence_and_off_at_inference(backend, to_np):
    layer = _built(SimpleRNN(3, dropout=0.5, seed=3), backend)
    x = backend.asarray(np.ones((2, 6, 3)), "float64")
    y1 = to_np(layer(x))
    assert np.array_equal(y1, to_np(layer(x)))  # inference: deterministic
    train = to_np(layer.forward(x, training=True)[0])
    assert not np.allclose(train, y1)


def _numeric_check(layer, backend, x, mask, outputs):
    """Central differences of f = sum_k sum(out_k * r_k) through forward_masked (float64)."""
    xp = backend.xp
    xb = backend.asarray(x, "float64")
    mb = None if mask is None else backend.asarray(mask)
    rs = None

    def f():
        out = layer.forward_masked(xb, mb, training=False)[0]
        out = out if isinstance(out, tuple) else (out,)
        return sum(float(xp.sum(o * r)) for o, r in zip(out, rs, strict=True))

    out, backprop = layer.forward_masked(xb, mb, training=False)
    out = out if isinstance(out, tuple) else (out,)
    rs = [backend.asarray(RNG.normal(size=tuple(o.shape)), "float64") for o in out][:outputs]
    rs += [xp.zeros_like(o) for o in out[outputs:]]
    dx = backprop(tuple(rs) if len(rs) > 1 else rs[0])
    arrays = {"input": (xb, dx)}
    arrays |= {p.name: (p.value, xp.asarray(p.grad, copy=True)) for p in layer.parameters()}
    for name, (a, analytic) in arrays.items():
        assert relative_error(analytic, numeric_gradient(f, a)) < 1e-6, name


MASK = np.array([[1, 1, 1, 0], [1, 0, 0, 0]], dtype=bool)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("sequences", [False, True])
def test_masked_gradient_check(backend, cls, sequences):
    layer = _built(cls(2, return_sequences=sequences), backend)
    _numeric_check(layer, backend, X, MASK, outputs=1)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_return_state_values_and_gradients(backend, to_np, cls):
    layer = _built(cls(2, return_state=True, go_backwards=True), backend)
    out = layer(backend.asarray(X, "float64"))
    assert len(out) == 1 + layer.state_count
    np.testing.assert_array_equal(to_np(out[0]), to_np(out[1]))  # h is the last output
    _numeric_check(layer, backend, X, MASK, outputs=1 + layer.state_count)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_masked_steps_are_skipped(backend, to_np, cls):
    """Padding at the end changes nothing: the last valid state is carried to the end."""
    layer = _built(cls(3), backend)
    trimmed = to_np(layer(backend.asarray(X[:1, :3], "float64")))
    padded = to_np(layer(backend.asarray(X[:1], "float64"), backend.asarray(MASK[:1])))
    np.testing.assert_allclose(padded, trimmed, rtol=1e-12)
    backwards = _built(cls(3, go_backwards=True), backend)
    trimmed = to_np(backwards(backend.asarray(X[:1, :3], "float64")))
    padded = to_np(backwards(backend.asarray(X[:1], "float64"), backend.asarray(MASK[:1])))
    np.testing.assert_allclose(padded, trimmed, rtol=1e-12)


def test_config_round_trip_rebuilds_the_same_layer(backend, to_np):
    layer = _built(
        GRU(3, activation="relu", reset_after=False, return_sequences=True, dropout=0.1), backend
    )
    config = layer.get_config()
    twin = layer_class("GRU").from_config(config)
    assert twin.get_config() == config
    _built(twin, backend)
    for mine, theirs in zip(twin.parameters(), layer.parameters(), strict=True):
        mine.value[...] = theirs.value
    x = backend.asarray(X, "float64")
    np.testing.assert_array_equal(to_np(twin(x)), to_np(layer(x)))
    assert LSTM.from_config(LSTM(4, unit_forget_bias=False).get_config()).unit_forget_bias is False


def test_clear_errors(backend):
    with pytest.raises(ValueError, match=r"LSTM: units must be a positive int, received units=0"):
        LSTM(0)
    with pytest.raises(ValueError, match=r"GRU: dropout must be .*received dropout=1.5"):
        GRU(2, dropout=1.5)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, steps, features\)"):
        _built(SimpleRNN(2), backend, shape=(4,))
    layer = _built(LSTM(2), backend)
    with pytest.raises(ValueError, match=r"\(LSTM\) expected input shape \(batch, None, 3\)"):
        layer(backend.asarray(np.zeros((2, 3)), "float64"))


def test_recurrent_layers_are_functional_graph_nodes(backend):
    from nnx.layers import Dense

    x = nnx.Input(shape=(4, 3), name="x")
    h = GRU(4, return_sequences=True, name="gru")(x)
    y = Dense(1, name="out")(LSTM(3, name="lstm")(SimpleRNN(3, return_sequences=True)(h)))
    model = nnx.Model(x, y, backend=backend, seed=0)
    assert y.shape == (None, 1)
    errors = nnx.gradcheck(model, X)
    assert {"input", "gru/kernel", "lstm/recurrent_kernel"} <= set(errors)
    assert max(errors.values()) < 1e-6
    y, h, c = LSTM(3, return_state=True, name="stateful")(x)
    assert y.shape == h.shape == c.shape == (None, 3) and c.index == 2


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_inference_keeps_nothing_for_a_backward(backend, to_np, cls):
    """Under no_backprop (layer(x), model(x), predict, evaluate) the forward is the same and
    keeps no tape; a backprop called anyway says why."""
    from nnx.layers.base import no_backprop

    layer = _built(cls(3, return_sequences=True), backend)
    x = backend.asarray(X, "float64")
    y, _ = layer.forward(x, training=False)
    with no_backprop():
        y_inference, backprop = layer.forward(x, training=False)
    np.testing.assert_array_equal(to_np(y_inference), to_np(y))
    np.testing.assert_array_equal(to_np(layer(x)), to_np(y))
    with pytest.raises(RuntimeError, match=r"ran under no_backprop\(\)"):
        backprop(y)
    model = nnx.Sequential([cls(3, input_shape=(4, 3))], backend=backend, seed=0)
    np.testing.assert_allclose(model.predict(X), to_np(model(backend.asarray(X, "float32"))))
