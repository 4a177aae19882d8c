"""gradcheck itself: it passes correct backward passes and catches wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense, Dropout, Layer, register_layer


@register_layer
class WrongScale(Layer):
    """y = 2x with a backward that forgets the 2 (a deliberate bug)."""

    def forward(self, x, *, training=False):
        return 2 * x, lambda dy: dy


def test_catches_a_wrong_backward(backend):
    with pytest.raises(nnx.GradientCheckError, match=r"(?s)WrongScale failed.*input: relative"):
        nnx.gradcheck(WrongScale(), np.ones((2, 3)), backend=backend)


def test_catches_a_wrong_parameter_gradient(backend):
    layer = Dense(2)
    layer.build((3,), backend, backend.rng(0), "float64")
    original = layer.forward_logits

    def broken(x, *, training=False):
        z, backprop = original(x, training=training)

        def wrong(dz):
            dx = backprop(dz)
            layer.kernel.grad = layer.kernel.grad * 1.01
            return dx

        return z, wrong

    layer.forward_logits = broken
    with pytest.raises(nnx.GradientCheckError, match="dense.*kernel"):
        nnx.gradcheck(layer, np.ones((2, 3)), backend=backend)


def test_whole_model_in_float64_from_a_float32_model(backend):
    model = nnx.Sequential(
        [
            Dense(5, activation="tanh", input_shape=(3,)),
            Dropout(0.3, seed=0),
            Dense(2, activation="softmax"),
        ],
        backend=backend,
        seed=0,
    )
    errors = nnx.gradcheck(model, np.random.default_rng(0).normal(size=(4, 3)), training=True)
    assert len(errors) == 5 and max(errors.values()) < 1e-6
    assert model.dtype == "float32"  # the model itself is untouched


def test_regularizer_check(backend):
    errors = nnx.gradcheck(
        nnx.regularizers.l1_l2(l1=0.01, l2=0.1),
        np.random.default_rng(0).normal(size=(3, 3)),
        backend=backend,
    )
    assert errors["input"] < 1e-6


def test_graph_inputs_sharing_memory_are_checked_on_their_own_copies():
    # X and its view X[:, :3] as two inputs: perturbing one must not move the other
    a, b = nnx.Input((5,)), nnx.Input((3,))
    out = nnx.layers.Concatenate()([nnx.layers.Dense(2)(a), nnx.layers.Dense(2)(b)])
    x = np.random.default_rng(0).normal(size=(4, 5))
    before = x.copy()
    errors = nnx.gradcheck(nnx.Model([a, b], out), [x, x[:, :3]])
    assert max(errors.values()) < 1e-7
    np.testing.assert_array_equal(x, before)
