"""``Masking`` (Keras's padding-value mask) and ``RepeatVector``: values, masks, gradients,
configs, errors, and both in a Sequential."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import LSTM, Dense, Masking, RepeatVector, TimeDistributed, layer_class

RNG = np.random.default_rng(3)


def test_masking_zeroes_padded_steps_and_emits_their_mask(backend, to_np):
    x = RNG.normal(size=(2, 4, 3))
    x[0, 2:] = 5.0
    x[1, 1] = 5.0
    layer = Masking(mask_value=5.0)
    a = backend.asarray(x, "float64")
    valid = np.array([[True, True, False, False], [True, False, True, True]])
    np.testing.assert_array_equal(to_np(layer.compute_mask(a, None)), valid)
    np.testing.assert_array_equal(to_np(layer(a)), x * valid[..., None])
    before = backend.asarray(np.array([[False, True, True, True]] * 2))
    np.testing.assert_array_equal(to_np(layer.compute_mask(a, before)), valid & to_np(before))
    _, backprop = layer.forward(a)
    dy = RNG.normal(size=x.shape)
    np.testing.assert_array_equal(
        to_np(backprop(backend.asarray(dy, "float64"))), dy * valid[..., None]
    )


def test_masking_gradient_check_away_from_the_padding_value(backend):
    # central differences step across mask_value, so check on data holding no padding
    errors = nnx.gradcheck(Masking(mask_value=9.0), RNG.normal(size=(2, 3, 2)), backend=backend)
    assert errors["input"] < 1e-9


def test_masking_in_a_sequential_skips_padded_steps(backend):
    model = nnx.Sequential(
        [Masking(input_shape=(4, 2)), LSTM(3), Dense(1)], backend=backend, seed=0
    )
    x = RNG.normal(size=(1, 4, 2)).astype("float32")
    padded = x.copy()
    padded[0, 3] = 0.0
    trimmed = nnx.Sequential([LSTM(3, input_shape=(3, 2)), Dense(1)], backend=backend, seed=0)
    trimmed.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(padded), trimmed.predict(x[:, :3]), rtol=1e-6)


def test_repeat_vector_values_gradient_and_shape(backend, to_np):
    layer = RepeatVector(3)
    x = RNG.normal(size=(2, 4))
    y = to_np(layer(backend.asarray(x, "float64")))
    assert y.shape == (2, 3, 4) and layer.compute_output_shape((4,)) == (3, 4)
    for t in range(3):
        np.testing.assert_array_equal(y[:, t], x)
    errors = nnx.gradcheck(RepeatVector(2), x, backend=backend)
    assert errors["input"] < 1e-9


def test_repeat_vector_decoder_in_a_sequential(backend):
    model = nnx.Sequential(
        [LSTM(4, input_shape=(5, 2)), RepeatVector(3), LSTM(4, return_sequences=True),
         TimeDistributed(Dense(2))],
        backend=backend, seed=0,
    )  # fmt: skip
    assert model.output_shape == (3, 2)
    assert model.predict(RNG.normal(size=(2, 5, 2))).shape == (2, 3, 2)


def test_configs_and_errors():
    for layer in (Masking(mask_value=-1.0, name="m"), RepeatVector(4, name="r")):
        config = layer.get_config()
        assert layer_class(type(layer).__name__).from_config(config).get_config() == config
    with pytest.raises(ValueError, match=r"RepeatVector: n must be a positive int, received n=0"):
        RepeatVector(0)
    with pytest.raises(ValueError, match=r"RepeatVector 'rv' expects inputs of shape \(batch, "
                       r"features\), received input shape \(batch, 3, 2\)"):  # fmt: skip
        RepeatVector(2, name="rv").build((3, 2))
    with pytest.raises(ValueError, match=r"Masking: mask_value must be"):
        Masking(mask_value="zero")
