"""TransformerEncoder: the block's equations (post- and pre-norm), gradient checks with and
without dropout and masks, causality, config, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import TransformerEncoder, layer_class

RNG = np.random.default_rng(11)
X = RNG.normal(size=(2, 4, 6))


def _built(layer, backend, shape=(None, 6)):
    layer.build(shape, backend, backend.rng(0), "float64")
    return layer


@pytest.mark.parametrize("normalize_first", [False, True])
def test_block_equals_its_equations(backend, to_np, normalize_first):
    block = _built(TransformerEncoder(8, 2, normalize_first=normalize_first), backend)
    c = block.children
    x = backend.asarray(X, "float64")

    def ffn(h):
        return c["ffn2"](c["ffn1"](h))

    if normalize_first:
        n1 = c["norm1"](x)
        h = x + c["attention"](n1, n1)
        expected = h + ffn(c["norm2"](h))
    else:
        h = c["norm1"](x + c["attention"](x, x))
        expected = c["norm2"](h + ffn(h))
    np.testing.assert_allclose(to_np(block(x)), to_np(expected), rtol=1e-10, atol=1e-12)
    assert len(block.parameters()) == 8 + 2 + 4 + 2


def _check(errors):
    assert max(v for k, v in errors.items() if not k.endswith("key_bias")) < 1e-6


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"normalize_first": True, "use_causal_mask": True, "activation": "gelu"}],
)
def test_gradient_check(backend, kwargs):
    _check(nnx.gradcheck(TransformerEncoder(5, 3, **kwargs), X, backend=backend, tolerance=1.0))


def test_gradient_check_with_dropout_replays_one_stream(backend):
    block = TransformerEncoder(5, 2, dropout=0.3, seed=4)
    _check(nnx.gradcheck(block, X, backend=backend, training=True, tolerance=1.0))


def test_causal_block_and_padding_mask(backend, to_np):
    block = _built(TransformerEncoder(8, 2, use_causal_mask=True), backend)
    x = X.copy()
    y = to_np(block(backend.asarray(x, "float64")))
    x[:, 2:] += 1.0
    y2 = to_np(block(backend.asarray(x, "float64")))
    np.testing.assert_allclose(y2[:, :2], y[:, :2], rtol=1e-10)
    mask = backend.asarray(np.array([[1, 1, 0, 0], [1, 1, 1, 0]], dtype=bool))
    assert block.compute_mask(None, mask) is mask
    y3 = to_np(block.forward_masked(backend.asarray(x, "float64"), mask)[0])
    assert np.isfinite(y3).all()


def test_config_and_errors(backend):
    block = TransformerEncoder(16, 4, dropout=0.1, normalize_first=True, name="enc")
    config = block.get_config()
    assert layer_class("TransformerEncoder").from_config(config).get_config() == config
    with pytest.raises(ValueError, match=r"features=6 must be divisible by num_heads=4"):
        _built(TransformerEncoder(8, 4), backend)
    with pytest.raises(
        ValueError, match=r"TransformerEncoder: intermediate_dim must be a positive"
    ):
        TransformerEncoder(0, 2)
