"""RNN over your own cell (a ``Layer`` with ``state_size`` and ``call(inputs, states)``):
keras.io's MinimalRNNCell and a NestedCell, BPTT gradient checks (masks, states, stacked with a
built-in cell), a cell with a sublayer and a ``training`` branch, saving, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from test_layers_rnn_cells import numeric_check

import nnx
from nnx import layers, ops
from nnx.saving import register_keras_serializable

RNG = np.random.default_rng(62)
X = RNG.normal(size=(2, 4, 3))
MASK = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool)


@register_keras_serializable()
class MinimalRNNCell(layers.Layer):
    """The ``keras.layers.RNN`` docstring's cell: ``h = x W + h_prev U``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="uniform", name="recurrent_kernel"
        )
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = ops.matmul(inputs, self.kernel)
        output = h + ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@register_keras_serializable()
class PairCell(layers.Layer):
    """Nested inputs, states and outputs (keras.io's NestedCell, small): a ``(2, 2)`` state."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state_size = [(3,), (2, 2)]
        self.output_size = [(3,), (2, 2)]

    def build(self, input_shapes):
        self.w1 = self.add_weight(shape=(input_shapes[0][1], 3), name="w1")
        self.w2 = self.add_weight(shape=(input_shapes[1][2], 2), name="w2")

    def call(self, inputs, states):
        a, b = inputs
        s1, s2 = states
        out_1 = ops.tanh(ops.matmul(a, self.w1) + s1)
        out_2 = ops.matmul(b, self.w2) * s2 + b
        return (out_1, out_2), (out_1, out_2 + 0.5 * s2)


@register_keras_serializable()
class GatedCell(layers.Layer):
    """A cell whose call uses sublayers (Dense, Dropout) and a ``training`` branch."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units]
        self.dense = layers.Dense(units, activation="sigmoid")
        self.drop = layers.Dropout(0.5, seed=3)

    def call(self, inputs, states, training=None):
        gate = self.dense(ops.concatenate([inputs, states[0]], axis=-1))
        if training:
            gate = self.drop(gate)
        h = gate * states[0] + (1.0 - gate) * ops.tanh(inputs[:, :1])
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _built(layer, backend, shape=(4, 3)):
    layer.build(shape, backend, backend.rng(0), "float64")
    return layer


def test_minimal_cell_values_and_weights(backend, to_np):
    rnn = _built(layers.RNN(MinimalRNNCell(2), return_sequences=True), backend)
    assert [p.name for p in rnn.parameters()] == [
        f"{rnn.cell.name}/kernel",
        f"{rnn.cell.name}/recurrent_kernel",
    ]
    w, u = (to_np(p.value) for p in rnn.parameters())
    h, expected = np.zeros((2, 2)), []
    for t in range(4):
        h = X[:, t] @ w + h @ u
        expected.append(h)
    y = to_np(rnn(backend.asarray(X, "float64")))
    np.testing.assert_allclose(y, np.stack(expected, axis=1), rtol=1e-12)


@pytest.mark.parametrize("options", [{}, {"go_backwards": True, "return_sequences": True}])
def test_custom_cell_gradient_check(backend, options):
    errors = nnx.gradcheck(layers.RNN(MinimalRNNCell(3), **options), X, backend=backend)
    assert max(errors.values()) < 1e-6 and len(errors) == 3


def test_custom_cell_stacked_with_a_builtin_cell_masks_and_states(backend):
    rnn = _built(
        layers.RNN(
            [MinimalRNNCell(3), layers.GRUCell(2)], return_sequences=True, return_state=True
        ),
        backend,
    )
    assert rnn.state_shapes() == [(3,), (2,)]
    h0 = [backend.asarray(RNG.normal(size=(2, n)), "float64") for n in (3, 2)]
    x = backend.asarray(X, "float64")
    numeric_check(rnn, backend, x, backend.asarray(MASK), initial_state=h0)


def test_nested_inputs_states_and_outputs(backend, to_np):
    rnn = _built(layers.RNN(PairCell(), return_sequences=True), backend, [(4, 3), (4, 2, 2)])
    a = backend.asarray(X, "float64")
    b = backend.asarray(RNG.normal(size=(2, 4, 2, 2)), "float64")
    out_1, out_2 = rnn([a, b])
    assert out_1.shape == (2, 4, 3) and out_2.shape == (2, 4, 2, 2)
    numeric_check(rnn, backend, [a, b], backend.asarray(MASK))
    x1, x2 = nnx.Input((4, 3)), nnx.Input((4, 2, 2))
    outputs = layers.RNN(PairCell())((x1, x2))
    assert [t.shape for t in outputs] == [(None, 3), (None, 2, 2)]


def test_cell_with_sublayers_and_training_branch(backend, to_np):
    rnn = layers.RNN(GatedCell(2))
    errors = nnx.gradcheck(rnn, X, backend=backend)
    assert max(errors.values()) < 1e-6 and len(errors) == 3  # input, dense kernel and bias
    built = _built(layers.RNN(GatedCell(2)), backend)
    x = backend.asarray(X, "float64")
    inference = to_np(built(x))
    np.testing.assert_array_equal(to_np(built(x)), inference)
    assert not np.allclose(to_np(built(x, training=True)), inference)  # dropout in training


def test_custom_cells_save_load_and_summary(tmp_path):
    x = nnx.Input((4, 3))
    y = layers.RNN([MinimalRNNCell(3), GatedCell(2)], name="rnn")(x)
    model = nnx.Model(x, layers.Dense(1)(y), seed=0)
    model.compile("adam", "mse")
    model.fit(X, np.ones((2, 1)), epochs=2, verbose=0)
    model.save(tmp_path / "custom.nnx")
    loaded = nnx.load(tmp_path / "custom.nnx")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert [p.name for p in loaded.parameters()] == [p.name for p in model.parameters()]
    lines: list[str] = []
    loaded.summary(print_fn=lines.append)
    assert any("rnn (RNN)" in line and "(None, 2)" in line for line in lines)


class NoStateSize(layers.Layer):
    def call(self, inputs, states):
        return inputs, states


class WrongStates(MinimalRNNCell):
    def call(self, inputs, states):
        h = ops.matmul(inputs, self.kernel)
        return h, [h, h]


def test_clear_errors():
    with pytest.raises(ValueError, match="NoStateSize, which has no state_size attribute"):
        layers.RNN(NoStateSize())
    cell = MinimalRNNCell(2)
    cell.state_size = "two"
    with pytest.raises(ValueError, match="state_size: expected an int, a shape"):
        layers.RNN(cell)
    with pytest.raises(ValueError, match="returns 2 new states, its state_size declares 1"):
        layers.RNN(WrongStates(2))(nnx.get_backend("numpy").asarray(X))
    rnn = layers.RNN(MinimalRNNCell(2))
    with pytest.raises(ValueError, match=r"initial_state must be 1 tensors of shapes \[\(2, 2\)\]"):
        rnn(nnx.get_backend("numpy").asarray(X), initial_state=[np.zeros((2, 3))])
