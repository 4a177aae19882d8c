"""Keras's ``model.input`` / ``model.output`` and ``layer.input`` / ``layer.output``: the symbolic
tensors of a graph, used to wire a trained model's layers into new models."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import layers


def _seq2seq() -> tuple[nnx.Model, layers.LSTM, layers.LSTM, layers.Dense]:
    enc_in = nnx.Input(shape=(None, 3))
    encoder = layers.LSTM(4, return_state=True)
    _, h, c = encoder(enc_in)
    dec_in = nnx.Input(shape=(None, 5))
    decoder = layers.LSTM(4, return_sequences=True, return_state=True)
    seq, _, _ = decoder(dec_in, initial_state=[h, c])
    dense = layers.Dense(5, activation="softmax")
    return nnx.Model([enc_in, dec_in], dense(seq)), encoder, decoder, dense


def test_model_input_and_output_are_its_tensors() -> None:
    model, encoder, _, dense = _seq2seq()
    assert model.input == list(model.inputs) and len(model.input) == 2
    assert model.output is model.outputs[0] is dense.output
    single = nnx.Model(model.input[0], encoder.output[1])
    assert single.input is model.input[0] and single.output is encoder.output[1]


def test_layer_output_is_its_first_call_and_a_list_for_several_outputs() -> None:
    model, encoder, decoder, dense = _seq2seq()
    _, h, c = encoder.output
    assert (h.shape, c.shape) == ((None, 4), (None, 4))
    assert encoder.input is model.input[0]
    assert dense.input is decoder.output[0]
    # a second call does not move what ``output`` names (Keras: the first node)
    again = dense(nnx.Input(shape=(None, 4)))
    assert dense.output is model.output and again is not dense.output


def test_a_layer_never_called_symbolically_says_so() -> None:
    dense = layers.Dense(2)
    for name in ("output", "input"):
        with pytest.raises(AttributeError, match=r"'dense.*' \(Dense\) has never been called"):
            getattr(dense, name)


def test_layers_rewired_from_a_trained_model_compute_its_numbers() -> None:
    model, encoder, decoder, dense = _seq2seq()
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4, 5))]
    encoder_model = nnx.Model(model.input[0], encoder.output[1:])
    h_in, c_in = nnx.Input(shape=(4,)), nnx.Input(shape=(4,))
    seq, h, c = decoder(model.input[1], initial_state=[h_in, c_in])
    decoder_model = nnx.Model([model.input[1], h_in, c_in], [dense(seq), h, c])
    states = encoder_model.predict(x[0], verbose=0)
    stepwise, _, _ = decoder_model.predict([x[1], *states], verbose=0)
    np.testing.assert_allclose(stepwise, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_a_layer_built_before_it_joins_a_sequential_keeps_its_weights() -> None:
    first = layers.Dense(2)
    first(np.ones((1, 3)))
    kernel = first.kernel.numpy().copy()
    model = nnx.Sequential([first, layers.Dense(1)])
    later = layers.Dense(4)
    later(np.ones((1, 1)))
    later_kernel = later.kernel.numpy().copy()
    model.add(later)
    model.compile("adam", "mse")
    model.predict(np.ones((2, 3)), verbose=0)
    np.testing.assert_array_equal(first.kernel.numpy(), kernel)
    np.testing.assert_array_equal(later.kernel.numpy(), later_kernel)
    # a layer built for other inputs is built again for the model's
    other = layers.Dense(2)
    other(np.ones((1, 5)))
    nnx.Sequential([nnx.Input((3,)), other])
    assert other.kernel.shape == (3, 2)
