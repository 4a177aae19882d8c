"""Bidirectional and TimeDistributed: values against their definitions, gradient checks,
masks, config round trip, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    SimpleRNN,
    TimeDistributed,
    layer_class,
)

RNG = np.random.default_rng(8)
X = RNG.normal(size=(2, 4, 3))
SMALL = X[:1, :3, :2]  # gradient checks of two recurrent layers: keep them cheap


def _built(layer, backend, shape=(None, 3)):
    layer.build(shape, backend, backend.rng(0), "float64")
    return layer


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional_merges_a_forward_and_a_time_reversed_pass(backend, to_np, merge_mode):
    bi = _built(Bidirectional(GRU(2, return_sequences=True), merge_mode=merge_mode), backend)
    x = backend.asarray(X, "float64")
    yf = to_np(bi.forward_layer(x))
    yb = to_np(bi.backward_layer(x))[:, ::-1]  # back in time order
    expected = {
        "concat": np.concatenate([yf, yb], axis=-1),
        "sum": yf + yb,
        "mul": yf * yb,
        "ave": (yf + yb) / 2,
    }[merge_mode]
    np.testing.assert_allclose(to_np(bi(x)), expected, rtol=1e-12)
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    twin = Bidirectional(SimpleRNN(2, return_sequences=True), merge_mode=merge_mode)
    assert max(nnx.gradcheck(twin, SMALL, backend=backend).values()) < 1e-6


def test_bidirectional_last_state_mask_and_pair_output(backend, to_np):
    bi = _built(Bidirectional(LSTM(2)), backend)
    assert bi.output_shape == (4,) and len(bi.parameters()) == 6
    assert max(nnx.gradcheck(Bidirectional(LSTM(1)), SMALL, backend=backend).values()) < 1e-6
    mask = backend.asarray(np.array([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool))
    assert bi.compute_mask(None, mask) is None
    pair = _built(Bidirectional(SimpleRNN(2, return_sequences=True), merge_mode=None), backend)
    yf, yb = pair(backend.asarray(X, "float64"))
    assert yf.shape == yb.shape == (2, 4, 2)
    assert pair.compute_mask(None, mask) is mask


def test_bidirectional_config_round_trip_and_errors():
    bi = Bidirectional(LSTM(3, return_sequences=True, name="enc"), merge_mode="sum")
    config = bi.get_config()
    assert config["layer"]["class_name"] == "LSTM" and config["name"] == "bidirectional_enc"
    assert layer_class("Bidirectional").from_config(config).get_config() == config
    with pytest.raises(ValueError, match=r"wraps a recurrent layer .* received Dense"):
        Bidirectional(Dense(2))
    with pytest.raises(ValueError, match=r"initial_state must hold 2 states.*received 1"):
        Bidirectional(GRU(2, return_state=True))(nnx.Input((3, 2)), initial_state=[nnx.Input((2,))])
    with pytest.raises(ValueError, match=r"merge_mode must be one of"):
        Bidirectional(GRU(2), merge_mode="max")


def test_time_distributed_applies_the_layer_to_each_step(backend, to_np):
    td = _built(TimeDistributed(Dense(5, activation="tanh")), backend, (4, 3))
    assert td.output_shape == (4, 5) and td.layer.kernel.shape == (3, 5)
    x = backend.asarray(X, "float64")
    y = to_np(td(x))
    for t in range(4):
        np.testing.assert_allclose(y[:, t], to_np(td.layer(x[:, t, :])), rtol=1e-12)
    assert max(nnx.gradcheck(td, X, backend=backend).values()) < 1e-6
    mask = backend.asarray(np.ones((2, 4), dtype=bool))
    assert td.compute_mask(x, mask) is mask
    config = td.get_config()
    assert layer_class("TimeDistributed").from_config(config).get_config() == config
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, steps, \.\.\.\)"):
        _built(TimeDistributed(Dense(2)), backend, (3,))


def test_wrapped_dropout_streams_replay_in_gradient_checks(backend):
    """The wrapper holds its children's stream (``rng``): gradcheck replays the masks."""
    bi = Bidirectional(SimpleRNN(2, dropout=0.3, recurrent_dropout=0.3, return_sequences=True))
    assert max(nnx.gradcheck(bi, SMALL, backend=backend, training=True).values()) < 1e-6
    td = TimeDistributed(Dropout(0.5, seed=0))
    assert max(nnx.gradcheck(td, SMALL, backend=backend, training=True).values()) < 1e-6
