"""Bidirectional with ``return_state`` (``[y, h_f, c_f, h_b, c_b]`` as Keras) and
``initial_state``, eagerly and in graphs; ``merge_mode=None`` as two graph tensors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN

RNG = np.random.default_rng(5)
X = RNG.normal(size=(2, 3, 2))
# NOTE: units=1 in the graph gradient check keeps its ~60 central differences fast


def _built(layer, backend):
    layer.build((3, 2), backend, backend.rng(0), "float64")
    return layer


@pytest.mark.parametrize("merge_mode", ["concat", "ave", None])
def test_states_are_each_directions_final_states(backend, to_np, merge_mode):
    bi = _built(Bidirectional(LSTM(2, return_state=True), merge_mode=merge_mode), backend)
    x = backend.asarray(X, "float64")
    outs = bi(x)
    ys, (hf, cf, hb, cb) = outs[: len(outs) - 4], outs[-4:]
    assert len(ys) == (2 if merge_mode is None else 1)
    yf, hf2, cf2 = bi.forward_layer(x)
    yb, hb2, cb2 = bi.backward_layer(x)
    for a, b in [(hf, hf2), (cf, cf2), (hb, hb2), (cb, cb2), (hf, yf), (hb, yb)]:
        np.testing.assert_array_equal(to_np(a), to_np(b))
    if merge_mode == "ave":
        np.testing.assert_allclose(to_np(ys[0]), (to_np(yf) + to_np(yb)) / 2, rtol=1e-12)


def test_initial_state_starts_each_direction(backend, to_np):
    bi = _built(Bidirectional(GRU(2, return_sequences=True), merge_mode="concat"), backend)
    x = backend.asarray(X, "float64")
    hf, hb = (backend.asarray(RNG.normal(size=(2, 2)), "float64") for _ in range(2))
    y = to_np(bi(x, initial_state=[hf, hb]))
    np.testing.assert_array_equal(y[..., :2], to_np(bi.forward_layer(x, initial_state=[hf])))
    backward = to_np(bi.backward_layer(x, initial_state=[hb]))[:, ::-1]
    np.testing.assert_array_equal(y[..., 2:], backward)
    assert not np.allclose(y, to_np(bi(x)))
    with pytest.raises(ValueError, match=r"initial_state must hold 2 states .* received 3"):
        bi(x, initial_state=[hf, hb, hb])
    with pytest.raises(ValueError, match=r"initial_state must be 1 tensor .* = \(2, 2\)"):
        bi(x, initial_state=[hf, hb[:1, :]])


def _graph(backend=None, units=2):
    """States of one Bidirectional LSTM start another, merged by sum; plus the pair output."""
    x = nnx.Input((3, 2), name="x")
    y, *states = Bidirectional(LSTM(units, return_state=True), name="enc")(x)
    z = Bidirectional(LSTM(units), merge_mode="sum", name="dec")(x, initial_state=states)
    fwd, bwd = Bidirectional(SimpleRNN(units), merge_mode=None, name="pair")(x)
    outputs = [Dense(1, name="out")(z), Dense(1, name="from_y")(y), fwd, bwd]
    return nnx.Model(x, outputs, backend=backend, seed=0)


def test_graph_tensors_and_gradients(backend):
    model = _graph(backend, units=1)
    assert [t.shape for t in model.outputs] == [(None, 1), (None, 1), (None, 1), (None, 1)]
    errors = nnx.gradcheck(model, X)
    checked = " ".join(errors)
    assert "input" in errors and checked.count("recurrent_kernel") == 6  # 3 layers x 2 directions
    assert max(errors.values()) < 1e-6


def test_graph_config_and_files(tmp_path):
    model = _graph()
    nodes = {n["layer"]: n for n in model.get_config()["nodes"]}
    refs = [["enc", 0, i] for i in range(1, 5)]
    assert nodes["dec"]["keywords"] == {"initial_state": refs}
    assert model.get_config()["outputs"][2:] == [["pair", 0, 0], ["pair", 0, 1]]
    path = tmp_path / "bidirectional.nnx"
    model.save(str(path))
    loaded = nnx.load(str(path))
    for a, b in zip(loaded.predict(X), model.predict(X), strict=True):
        np.testing.assert_array_equal(a, b)


def test_graph_refuses_a_wrong_number_of_states():
    x = nnx.Input((3, 2))
    _, *states = Bidirectional(GRU(2, return_state=True))(x)
    with pytest.raises(ValueError, match=r"'bad': initial_state must hold 4 states .* received 2"):
        Bidirectional(LSTM(2), name="bad")(x, initial_state=states)
