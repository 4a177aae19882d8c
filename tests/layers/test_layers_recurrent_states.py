"""The Keras call API of SimpleRNN/LSTM/GRU: ``initial_state`` (eager and in graphs, with its
gradient), ``return_state`` outputs as graph tensors (the encoder-decoder pattern), ``unroll``,
and the config/file round trip of such graphs."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.gradcheck import numeric_gradient, relative_error
from nnx.layers import GRU, LSTM, Dense, SimpleRNN

RNG = np.random.default_rng(7)
X = RNG.normal(size=(2, 4, 3))
MASK = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=bool)
CELLS = [SimpleRNN, LSTM, GRU]


def _built(layer, backend):
    layer.build((None, 3), backend, backend.rng(0), "float64")
    return layer


def _states(layer, backend, n=2, seed=1):
    rng = np.random.default_rng(seed)
    return [
        backend.asarray(rng.normal(size=(n, layer.units)), "float64")
        for _ in range(layer.state_count)
    ]


@pytest.mark.parametrize("cls", CELLS)
def test_initial_state_continues_a_sequence_where_return_state_left_it(backend, to_np, cls):
    layer = _built(cls(3, return_sequences=True, return_state=True), backend)
    x = backend.asarray(X, "float64")
    y_all, *final = layer(x)
    _, *middle = layer(x[:, :2, :])
    y_tail, *end = layer(x[:, 2:, :], initial_state=middle)
    np.testing.assert_allclose(to_np(y_tail), to_np(y_all)[:, 2:], rtol=1e-12)
    for a, b in zip(end, final, strict=True):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-12)
    zeros = [backend.xp.zeros_like(s) for s in middle]
    np.testing.assert_array_equal(to_np(layer(x, initial_state=zeros)[0]), to_np(y_all))


def _numeric_errors(layer, backend, mask, states, project):
    """Relative errors of ``backprop`` against central differences of
    ``f = sum_k sum(out_k r_k)`` over the outputs ``k`` in ``project`` (the others get a None
    gradient) for the input, each initial state and each weight."""
    xp = backend.xp
    x = backend.asarray(X[:, :3, :], "float64")
    m = None if mask is None else backend.asarray(mask[:, :3])

    def run():
        return layer.forward_masked(x, m, training=False, initial_state=states)

    out, backprop = run()
    out = out if isinstance(out, tuple) else (out,)
    rs = [backend.asarray(RNG.normal(size=tuple(o.shape)), "float64") for o in out]
    rs = [r if k in project else None for k, r in enumerate(rs)]
    grads = backprop(tuple(rs) if len(rs) > 1 else rs[0])
    arrays = {"input": (x, grads[0])}
    arrays |= {f"state{i}": (s, g) for i, (s, g) in enumerate(zip(states, grads[1:], strict=True))}
    arrays |= {p.name: (p.value, xp.asarray(p.grad, copy=True)) for p in layer.parameters()}

    def f():
        ys = run()[0]
        ys = ys if isinstance(ys, tuple) else (ys,)
        return sum(float(xp.sum(y * r)) for y, r in zip(ys, rs, strict=True) if r is not None)

    return {
        name: relative_error(analytic, numeric_gradient(f, a))
        for name, (a, analytic) in arrays.items()
    }


@pytest.mark.parametrize(
    ("make", "masked", "project"),
    [
        (lambda: SimpleRNN(2, return_sequences=True), True, (0,)),
        (lambda: LSTM(2, return_state=True), False, (0, 1, 2)),
        (lambda: LSTM(2, return_state=True), True, (2,)),  # only c: y and h get None
        (lambda: LSTM(2, return_sequences=True, go_backwards=True), True, (0,)),
        (lambda: GRU(2, return_state=True, return_sequences=True), True, (0, 1)),
        (lambda: GRU(2, reset_after=False), False, (0,)),
    ],
)
def test_initial_state_gradients_match_central_differences(backend, make, masked, project):
    layer = _built(make(), backend)
    states = _states(layer, backend)
    errors = _numeric_errors(layer, backend, MASK if masked else None, states, project)
    assert {"input", "state0"} <= set(errors)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cls", CELLS)
def test_unroll_is_accepted_and_changes_nothing(backend, to_np, cls):
    plain = _built(cls(3, return_sequences=True, return_state=True), backend)
    unrolled = _built(cls(3, return_sequences=True, return_state=True, unroll=True), backend)
    unrolled.set_weights(plain.get_weights())
    x, mask = backend.asarray(X, "float64"), backend.asarray(MASK)
    for a, b in zip(unrolled(x, mask), plain(x, mask), strict=True):
        np.testing.assert_array_equal(to_np(a), to_np(b))
    assert unrolled.get_config()["unroll"] is True
    assert "unroll" in (cls.__doc__ or "") + (type(plain).__mro__[1].__doc__ or "")


def test_initial_state_is_checked_clearly(backend):
    lstm = _built(LSTM(3, name="dec"), backend)
    x = backend.asarray(X, "float64")
    h = backend.asarray(np.zeros((2, 3)), "float64")
    first = r"LSTM 'dec': initial_state must be 2 tensors of shape \(batch, units\) = \(2, 3\)"
    with pytest.raises(ValueError, match=first + r", received 1 of shape \[\(2, 3\)\]"):
        lstm(x, initial_state=[h])
    with pytest.raises(
        ValueError, match=r"= \(2, 3\), received 2 of shapes \[\(2, 3\), \(2, 2\)\]"
    ):
        lstm(x, initial_state=[h, backend.asarray(np.zeros((2, 2)), "float64")])
    gru = _built(GRU(3, name="g"), backend)
    with pytest.raises(ValueError, match=r"GRU 'g': initial_state must be 1 tensor .* \(2, 3\)"):
        gru(x, initial_state=backend.asarray(np.zeros((1, 3)), "float64"))
    assert gru(x, initial_state=h).shape == (2, 3)  # one tensor for a one-state cell, as Keras
    inp = nnx.Input((4, 3))
    with pytest.raises(
        ValueError, match=r"'graph': initial_state must be 2 tensors .* \(None, 3\)"
    ):
        LSTM(3, name="graph")(inp, initial_state=[nnx.Input((4,)), nnx.Input((3,))])
    with pytest.raises(TypeError, match=r"initial_state= in a functional graph must be symbolic"):
        LSTM(3)(inp, initial_state=[nnx.Input((3,)), np.zeros((1, 3))])
    with pytest.raises(TypeError, match=r"mask= in a functional graph must be symbolic"):
        LSTM(3)(inp, mask=np.ones((1, 4), bool))


def encoder_decoder(cls=LSTM, units=2, backend=None):
    """The Keras pattern: the encoder's final states start the decoder."""
    enc, dec = nnx.Input((3, 2), name="enc_in"), nnx.Input((2, 1), name="dec_in")
    _, *states = cls(units, return_state=True, name="encoder")(enc)
    y = cls(units, return_sequences=True, name="decoder")(dec, initial_state=states)
    return nnx.Model([enc, dec], Dense(1, name="head")(y), backend=backend, seed=0)


def _pair(n=2, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, 3, 2)), rng.normal(size=(n, 2, 1))]


@pytest.mark.parametrize("cls", CELLS)
def test_encoder_decoder_graph_gradients(backend, cls):
    model = encoder_decoder(cls, backend=backend)
    errors = nnx.gradcheck(model, _pair())
    assert {"input/enc_in", "encoder/kernel", "encoder/recurrent_kernel"} <= set(errors)
    assert max(errors.values()) < 1e-6


def test_every_return_state_output_is_a_graph_tensor_with_gradients(backend):
    x = nnx.Input((4, 3), name="x")
    y, h, c = LSTM(2, return_state=True, return_sequences=True, name="lstm")(x)
    assert [t.shape for t in (y, h, c)] == [(None, 4, 2), (None, 2), (None, 2)]
    assert (y.index, h.index, c.index) == (0, 1, 2) and h.node is c.node
    model = nnx.Model(x, [Dense(1, name="from_h")(h), Dense(1, name="from_c")(c)], seed=0)
    errors = nnx.gradcheck(model, X)
    assert max(errors.values()) < 1e-6 and errors["lstm/kernel"] >= 0
    eager = model.layers[1]
    a = model.backend.asarray(X, "float32")
    _, h_eager, c_eager = eager(a)
    w, b = model.layers[2].get_weights()
    np.testing.assert_allclose(model.predict(X)[0], np.asarray(h_eager) @ w + b, rtol=1e-5)
    del c_eager


def test_the_config_records_state_edges_and_files_round_trip(tmp_path):
    model = encoder_decoder()
    nodes = {n["layer"]: n for n in model.get_config()["nodes"]}
    assert nodes["decoder"]["keywords"] == {"initial_state": [["encoder", 0, 1], ["encoder", 0, 2]]}
    assert nodes["decoder"]["inputs"] == [["dec_in", 0]]
    model.compile("adam", "mse")
    xs = _pair(n=4)
    model.fit(xs, RNG.normal(size=(4, 2, 1)), epochs=2, batch_size=2, verbose=0)
    path = tmp_path / "seq2seq.nnx"
    model.save(str(path))
    loaded = nnx.load(str(path))
    np.testing.assert_array_equal(loaded.predict(xs), model.predict(xs))
    assert loaded.get_config() == model.get_config()
    twin = nnx.models.Functional.from_layers(
        [type(layer).from_config(layer.get_config()) for layer in model.layers],
        model.get_config(),
    )
    assert "encoder[0][1], encoder[0][2]" in twin.connections(twin.layers[3])


def test_a_config_naming_a_missing_state_is_refused():
    model = encoder_decoder()
    config = model.get_config()
    config["nodes"][1]["keywords"]["initial_state"][1] = ["encoder", 0, 7]
    layers = [type(layer).from_config(layer.get_config()) for layer in model.layers]
    with pytest.raises(ValueError, match=r"refers to encoder\[0\]\[7\], never computed"):
        nnx.models.Functional.from_layers(layers, config)


def test_graph_inputs_as_initial_state_get_their_gradients(backend):
    x, h0 = nnx.Input((3, 2), name="x"), nnx.Input((1,), name="h0")
    y = GRU(1, return_sequences=True, go_backwards=True, name="gru")(x, initial_state=h0)
    model = nnx.Model([x, h0], y, backend=backend, seed=0)
    h = np.array([[0.5], [-1.0]])
    errors = nnx.gradcheck(model, [X[:, :3, :2], h])
    assert errors["input/h0"] < 1e-6 and max(errors.values()) < 1e-6
    first = model.predict([X[:, :3, :2], h])[:, 0]
    assert not np.allclose(first, model.predict([X[:, :3, :2], np.zeros((2, 1))])[:, 0])
