"""Embedding, PositionalEmbedding, SinusoidalPositionalEncoding: lookups, masks, gradient
checks, config, and the errors for bad tokens and too-long sequences."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.functional.sequence import embedding_gradient, sinusoidal_encoding
from nnx.layers import Embedding, PositionalEmbedding, SinusoidalPositionalEncoding, layer_class

RNG = np.random.default_rng(3)
TOKENS = np.array([[1, 4, 0, 0], [3, 3, 2, 0]])


def _built(layer, backend, shape):
    layer.build(shape, backend, backend.rng(0), "float64")
    return layer


def test_embedding_looks_up_rows_and_masks_zero(backend, to_np):
    layer = _built(Embedding(5, 3, mask_zero=True), backend, (4,))
    table = to_np(layer.embeddings.value)
    assert table.shape == (5, 3) and np.abs(table).max() <= 0.05  # Keras "uniform" default
    x = backend.asarray(TOKENS)
    np.testing.assert_array_equal(to_np(layer(x)), table[TOKENS])
    np.testing.assert_array_equal(to_np(layer.compute_mask(x, None)), TOKENS != 0)
    assert Embedding(5, 3).compute_mask(x, None) is None
    floats = backend.asarray(TOKENS.astype("float64"))  # models feed float tokens
    np.testing.assert_array_equal(to_np(layer(floats)), table[TOKENS])


def test_embedding_gradient_sums_repeated_tokens(backend, to_np):
    errors = nnx.gradcheck(Embedding(5, 3), TOKENS, backend=backend)
    assert max(errors.values()) < 1e-6
    dy = backend.asarray(RNG.normal(size=(8, 3)), "float64")
    idx = backend.asarray(TOKENS.reshape(-1))
    expected = np.zeros((6, 3))
    np.add.at(expected, TOKENS.reshape(-1), to_np(dy))
    np.testing.assert_allclose(to_np(embedding_gradient(idx, dy, 6)), expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["numpy", "array_api_strict"])
def test_embedding_refuses_tokens_outside_the_vocabulary(name):
    """On host backends (a device backend skips the check: it would synchronise per batch)."""
    backend = nnx.backends.get_backend(name)
    layer = _built(Embedding(5, 2, name="words"), backend, (4,))
    with pytest.raises(
        ValueError, match=r"Embedding 'words': token 7 is outside \[0, input_dim=5\)"
    ):
        layer(backend.asarray(np.array([[1, 7, 0, 0]])))
    with pytest.raises(ValueError, match=r"token -1 is outside"):
        layer(backend.asarray(np.array([[1, -1, 0, 0]])))
    with pytest.raises(ValueError, match=r"Embedding: input_dim must be a positive int"):
        Embedding(0, 2)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, steps\)"):
        _built(Embedding(5, 2), backend, (4, 2))


def test_positional_embedding_adds_a_learned_row_per_position(backend, to_np):
    layer = _built(PositionalEmbedding(6, name="pos"), backend, (None, 3))
    x = RNG.normal(size=(2, 4, 3))
    table = to_np(layer.positions.value)
    np.testing.assert_allclose(to_np(layer(backend.asarray(x, "float64"))), x + table[:4])
    errors = nnx.gradcheck(layer, x, backend=backend)
    assert max(errors.values()) < 1e-6
    with pytest.raises(ValueError, match=r"'pos': a sequence of 7 steps is longer than its "):
        layer(backend.asarray(RNG.normal(size=(1, 7, 3)), "float64"))
    with pytest.raises(ValueError, match=r"input_shape has 9 steps, more than sequence_length=6"):
        _built(PositionalEmbedding(6), backend, (9, 3))


def test_sinusoidal_encoding_values(backend, to_np):
    pe = to_np(sinusoidal_encoding(50, 6, backend.xp, "float64"))
    pos, i = np.arange(50)[:, None], np.arange(3)[None, :]
    angle = pos / 10000 ** (2 * i / 6)
    np.testing.assert_allclose(pe[:, 0::2], np.sin(angle), atol=1e-12)
    np.testing.assert_allclose(pe[:, 1::2], np.cos(angle), atol=1e-12)
    layer = SinusoidalPositionalEncoding()
    x = RNG.normal(size=(2, 5, 6))
    np.testing.assert_allclose(to_np(layer(backend.asarray(x, "float64"))), x + pe[:5])
    assert max(nnx.gradcheck(layer, x, backend=backend).values()) < 1e-6


def test_configs_round_trip():
    for layer in (
        Embedding(7, 2, mask_zero=True, embeddings_initializer="glorot_uniform"),
        PositionalEmbedding(9, initializer="zeros"),
        SinusoidalPositionalEncoding(max_wavelength=100.0),
    ):
        config = layer.get_config()
        assert layer_class(type(layer).__name__).from_config(config).get_config() == config
