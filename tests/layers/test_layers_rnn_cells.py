"""SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells and RNN over them: Keras's cell API, the
same weights and numbers as the layers, BPTT gradient checks (fused route and per-step loop,
masks, states, dropout), config round trips, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.gradcheck import numeric_gradient, relative_error
from nnx.layers import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    layer_class,
)

RNG = np.random.default_rng(61)
X = RNG.normal(size=(2, 4, 3))
MASK = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], dtype=bool)
PAIRS = [(SimpleRNNCell, SimpleRNN, {}), (LSTMCell, LSTM, {}), (GRUCell, GRU, {})]
PAIRS += [(GRUCell, GRU, {"reset_after": False})]


def _built(layer, backend, shape=(4, 3)):
    layer.build(shape, backend, backend.rng(0), "float64")
    return layer


def _x(backend, x=X):
    return backend.asarray(x, "float64")


def numeric_check(layer, backend, x, mask=None, initial_state=None, outputs=None):
    """Central differences of ``f = sum_k sum(out_k r_k)`` through ``forward_masked``
    against its backprop: the input, every weight and the initial states (float64)."""
    xp = backend.xp
    xs = list(x) if isinstance(x, list) else [x]
    rs = None

    def run():
        got = layer.forward_masked(x, mask, training=False, initial_state=initial_state)
        return got[0], got[1]

    def f():
        out = run()[0]
        out = out if isinstance(out, tuple) else (out,)
        return sum(float(xp.sum(o * r)) for o, r in zip(out, rs, strict=True))

    out, backprop = run()
    several = isinstance(out, tuple)
    out = out if several else (out,)
    keep = len(out) if outputs is None else outputs
    rs = [backend.asarray(RNG.normal(size=tuple(o.shape)), "float64") for o in out[:keep]]
    rs += [xp.zeros_like(o) for o in out[keep:]]
    grads = backprop(tuple(rs) if several else rs[0])
    grads = grads if isinstance(grads, list) else [grads]
    arrays = {f"input {i}": (a, grads[i]) for i, a in enumerate(xs)}
    for i, s in enumerate(initial_state or []):
        arrays[f"state {i}"] = (s, grads[len(xs) + i])
    arrays |= {p.name: (p.value, xp.asarray(p.grad, copy=True)) for p in layer.parameters()}
    for name, (a, analytic) in arrays.items():
        assert relative_error(analytic, numeric_gradient(f, a)) < 1e-6, name


def test_cells_have_keras_cell_api(backend, to_np):
    cell = LSTMCell(3)
    assert cell.state_size == [3, 3] and cell.output_size == 3
    assert SimpleRNNCell(2).state_size == 2 and GRUCell(2).state_size == 2
    x = _x(backend, X[:, 0, :])
    cell.build((3,), backend, backend.rng(0), "float64")
    y, states = cell(x, cell.get_initial_state(2))
    y_default, _ = cell(x)  # states default to get_initial_state's zeros
    np.testing.assert_array_equal(to_np(y_default), to_np(y))
    assert y.shape == (2, 3) and [s.shape for s in states] == [(2, 3), (2, 3)]
    np.testing.assert_array_equal(to_np(y), to_np(states[0]))
    zeros = cell.get_initial_state(batch_size=5)
    assert [tuple(s.shape) for s in zeros] == [(5, 3), (5, 3)]
    assert not to_np(zeros[0]).any()
    assert [p.name for p in cell.parameters()] == [
        f"{cell.name}/kernel",
        f"{cell.name}/recurrent_kernel",
        f"{cell.name}/bias",
    ]


@pytest.mark.parametrize(("cell_cls", "layer_cls", "options"), PAIRS)
def test_one_cell_step_is_one_layer_step(backend, to_np, cell_cls, layer_cls, options):
    layer = _built(layer_cls(3, return_state=True, **options), backend, (None, 3))
    cell = cell_cls(3, **options)
    cell.build((3,), backend, backend.rng(1), "float64")
    cell.set_weights(layer.get_weights())
    h0 = [_x(backend, RNG.normal(size=(2, 3))) for _ in range(layer.state_count)]
    y, *states = layer(_x(backend, X[:, :1, :]), initial_state=h0)
    y_cell, states_cell = cell(_x(backend, X[:, 0, :]), h0)
    np.testing.assert_allclose(to_np(y_cell), to_np(y), rtol=1e-12)
    for a, b in zip(states_cell, states, strict=True):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-12)


@pytest.mark.parametrize(("cell_cls", "layer_cls", "options"), PAIRS)
@pytest.mark.parametrize("stacked", [False, True])
def test_rnn_over_a_cell_equals_the_layer_with_copied_weights(
    backend, to_np, cell_cls, layer_cls, options, stacked
):
    """Weights copy both ways (same names, shapes, order); outputs are equal, through the
    fused route (one cell) and the per-step loop (a list of one cell)."""
    kw = {"return_sequences": True, "return_state": True, "go_backwards": True}
    layer = _built(layer_cls(3, **kw, **options), backend)
    cell = cell_cls(3, **options)
    rnn = _built(RNN([cell] if stacked else cell, **kw), backend)
    assert [p.shape for p in rnn.parameters()] == [p.shape for p in layer.parameters()]
    names = [p.name.split("/")[-1] for p in rnn.parameters()]
    assert names == ["kernel", "recurrent_kernel", "bias"]
    rnn.set_weights(layer.get_weights())
    x, m = _x(backend), backend.asarray(MASK)
    for a, b in zip(rnn(x, m), layer(x, m), strict=True):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-10, atol=1e-12)
    layer.set_weights(rnn.get_weights())


@pytest.mark.parametrize(("cell_cls", "_layer", "options"), PAIRS)
@pytest.mark.parametrize("stacked", [False, True])
def test_rnn_backprop_through_time_gradient_check(backend, cell_cls, _layer, options, stacked):
    cells = [cell_cls(2, **options), cell_cls(1, **options)] if stacked else cell_cls(3, **options)
    errors = nnx.gradcheck(RNN(cells, return_sequences=True), X[:, :3, :], backend=backend)
    assert max(errors.values()) < 1e-6 and len(errors) == 1 + (6 if stacked else 3)


@pytest.mark.parametrize(
    ("cells", "zero_output"),
    [(lambda: LSTMCell(2), False), (lambda: [GRUCell(2), SimpleRNNCell(1)], True)],
)
def test_masked_gradient_check_with_states(backend, cells, zero_output):
    rnn = _built(
        RNN(cells(), return_sequences=True, return_state=True, zero_output_for_mask=zero_output),
        backend,
        (None, 3),
    )
    h0 = [_x(backend, RNG.normal(size=(2, *s))) for s in rnn.state_shapes()]
    x, m = _x(backend, X[:, :3, :]), backend.asarray(np.array([[1, 1, 0], [1, 0, 1]], bool))
    numeric_check(rnn, backend, x, m, initial_state=h0)
    last = RNN(cells(), go_backwards=True, zero_output_for_mask=zero_output)
    last = _built(last, backend, (None, 3))
    numeric_check(last, backend, x, m)


def test_zero_output_for_mask_zeroes_masked_steps(backend, to_np):
    x, m = _x(backend), backend.asarray(MASK)
    for cells in (LSTMCell(3), [LSTMCell(3)]):
        carry = _built(RNN(cells, return_sequences=True), backend)
        zero = _built(RNN(carry.cell, return_sequences=True, zero_output_for_mask=True), backend)
        a, b = to_np(carry(x, m)), to_np(zero(x, m))
        np.testing.assert_array_equal(b[~MASK], 0.0)
        np.testing.assert_allclose(b[MASK], a[MASK], rtol=1e-12)
        np.testing.assert_allclose(a[0, 3], a[0, 2], rtol=1e-12)  # previous output carried


def test_dropout_gradient_check_in_training(backend):
    cells = [LSTMCell(2, dropout=0.3, recurrent_dropout=0.2, seed=1), GRUCell(1, dropout=0.2)]
    errors = nnx.gradcheck(RNN(cells), X[:, :3, :], backend=backend, training=True)
    assert max(errors.values()) < 1e-6


def test_config_round_trip_and_registry(backend, to_np):
    rnn = _built(
        RNN(
            [LSTMCell(3, recurrent_activation="hard_sigmoid", name="a"), GRUCell(2, name="b")],
            return_sequences=True,
            zero_output_for_mask=True,
        ),
        backend,
    )
    config = rnn.get_config()
    assert config["cell"]["class_name"] == "StackedRNNCells"
    twin = _built(RNN.from_config(config), backend)
    twin.set_weights(rnn.get_weights())
    assert [p.name for p in twin.parameters()] == [p.name for p in rnn.parameters()]
    np.testing.assert_array_equal(to_np(twin(_x(backend))), to_np(rnn(_x(backend))))
    for name in ("RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"):
        assert layer_class(name).__name__ == name
    cell_config = LSTMCell(3, unit_forget_bias=False).get_config()
    assert "return_sequences" not in cell_config and cell_config["unit_forget_bias"] is False
    assert isinstance(StackedRNNCells.from_config(config["cell"]["config"]).cells[1], GRUCell)


def test_clear_errors(backend):
    with pytest.raises(TypeError, match="does not take return_sequences="):
        LSTMCell(3, return_sequences=True)
    with pytest.raises(ValueError, match=r"to run it over sequences wrap it: RNN\(LSTMCell"):
        nnx.Sequential([LSTMCell(3, input_shape=(4, 3))]).predict(X)
    rnn = _built(RNN(LSTMCell(3)), backend)
    with pytest.raises(ValueError, match=r"initial_state must be 2 tensors of shapes"):
        rnn(_x(backend), initial_state=[_x(backend, np.zeros((2, 4)))] * 2)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, steps, features"):
        rnn(_x(backend, X[:, 0, :]))
    with pytest.raises(ValueError, match="non-empty list of cells"):
        RNN([])
    with pytest.raises(ValueError, match="has no state_size attribute"):
        RNN(nnx.layers.Dense(3))
    x = nnx.Input((4, 3))
    with pytest.raises(ValueError, match="initial_state must be 2 tensors"):
        RNN(LSTMCell(3))(x, initial_state=[nnx.Input((3,))])


def test_rnn_in_a_functional_model_with_states_trains_and_saves(tmp_path):
    enc_in, dec_in = nnx.Input((None, 3)), nnx.Input((3, 3))
    _, *state = RNN(LSTMCell(4), return_state=True, name="enc")(enc_in)
    seq = RNN([LSTMCell(4), SimpleRNNCell(2)], return_sequences=True, name="dec")(
        dec_in, initial_state=[*state, nnx.layers.Dense(2)(state[0])]
    )
    model = nnx.Model([enc_in, dec_in], seq, seed=0)
    assert model.get_layer("dec").output_shape == (3, 2)
    errors = nnx.gradcheck(model, [X, RNG.normal(size=(2, 3, 3))])  # no shared memory
    assert max(errors.values()) < 1e-6
    model.compile("adam", "mse")
    xs = [X, X[:, :3, :]]
    model.fit(xs, np.zeros((2, 3, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "m.nnx")
    loaded = nnx.load(tmp_path / "m.nnx")
    np.testing.assert_array_equal(loaded.predict(xs), model.predict(xs))
    lines: list[str] = []
    loaded.summary(print_fn=lines.append)
    assert any("dec (RNN)" in line for line in lines)


def test_bidirectional_wraps_rnn_over_cells(backend):
    x = nnx.Input((4, 3))
    out = nnx.layers.Bidirectional(RNN(LSTMCell(2), return_state=True))(x)
    assert [t.shape for t in out] == [(None, 4), *[(None, 2)] * 4]
    model = nnx.Model(x, out, backend=backend, seed=0)
    assert max(nnx.gradcheck(model, X).values()) < 1e-6
    stacked = nnx.layers.Bidirectional(RNN([GRUCell(2), SimpleRNNCell(1)], return_sequences=True))
    assert max(nnx.gradcheck(stacked, X[:, :3, :], backend=backend).values()) < 1e-6
