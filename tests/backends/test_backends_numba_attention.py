"""The numba attention-softmax and layer-norm kernels give the numbers of the portable code:
masks (none, causal, padding, rows with nothing allowed), huge logits, odd shapes,
non-contiguous inputs; and a Transformer block trains to the same weights with numba on and
off."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.backends import get_backend
from nnx.functional.sequence import masked_softmax, masked_softmax_backward
from nnx.layers import Embedding, LayerNormalization, TransformerEncoder

DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["none", "causal", "padding"])
@pytest.mark.parametrize("contiguous", [True, False])
def test_attention_softmax_and_backward(numba, close, mask_case, dtype, kind, contiguous):
    numba(True)
    b = get_backend("numpy")
    rng = np.random.default_rng(0)
    n, heads, tq, tv = 3, 2, 5, 7
    s = (rng.normal(size=(n, heads, tq, tv)) * 3).astype(dtype)
    dp = rng.normal(size=s.shape).astype(dtype)
    if not contiguous:  # the same values, seen through a transposed layout
        s = np.ascontiguousarray(s.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
        dp = np.ascontiguousarray(dp.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    allowed = mask_case(kind, n, tq, tv)
    expected = masked_softmax(s, allowed)
    p = b.attention_softmax(s.copy(), allowed)
    assert p is not None
    close(p, expected)
    expected_ds = masked_softmax_backward(dp, expected, allowed)
    ds = b.attention_softmax_backward(dp.copy(), p, allowed)
    assert ds is not None
    close(ds, expected_ds)
    if kind == "padding":
        np.testing.assert_allclose(p[0], 1.0 / tv, rtol=1e-6)  # uniform, as Keras
        assert not ds[0].any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_softmax_is_finite_for_huge_logits(numba, close, dtype):
    numba(True)
    b = get_backend("numpy")
    s = np.array([1e4, -1e4, 0.0, 1e4, -1e4, 3.0], dtype=dtype).reshape(1, 1, 1, 6)
    s = np.concatenate([s, -s, s[..., ::-1]], axis=2)
    allowed = np.array([True, True, False, True, False, True]).reshape(1, 1, 1, 6)
    allowed = np.broadcast_to(allowed, (1, 1, 3, 6)).copy()
    allowed[0, 0, 2] = False
    p = b.attention_softmax(s.copy(), allowed)
    assert p is not None and np.isfinite(p).all()
    close(p, masked_softmax(s, allowed))
    close(b.attention_softmax(s.copy(), None), masked_softmax(s, None))


def test_kernels_decline_below_the_size_threshold_and_when_off(numba):
    b = get_backend("numpy")
    numba(False)
    s = np.zeros((1, 1, 2, 2))
    assert b.attention_softmax(s, None) is None
    assert b.layer_norm(s, None, None, 1e-3) is None
    numba(True)
    assert b.attention_softmax(s.astype("float16"), None) is None  # dtype the kernels lack


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("contiguous", [True, False])
def test_layer_norm_forward_and_backward(numba, close, dtype, affine, contiguous):
    b = get_backend("numpy")
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(3, 5, 7)) * 4 + 2).astype(dtype)
    dy = rng.normal(size=x.shape).astype(dtype)
    if not contiguous:
        x = np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)
    layer = LayerNormalization(
        epsilon=1e-3, center=affine, scale=affine, gamma_initializer="random_normal",
        beta_initializer="random_normal",
    )  # fmt: skip
    layer.build((5, 7), b, b.rng(0), dtype)
    results = {}
    for on in (False, True):
        numba(on)
        y, backprop = layer.forward(x, training=True)
        dx = backprop(dy)
        results[on] = [y, dx] + [p.grad for p in layer.parameters()]
    for fast, portable in zip(results[True], results[False], strict=True):
        close(fast, portable)


def test_transformer_block_trains_alike_with_numba_on_and_off(numba):
    rng = np.random.default_rng(2)
    tokens = rng.integers(1, 10, size=(4, 6))
    tokens[1, 4:] = 0  # padding: masked keys and queries
    y = rng.normal(size=(4, 6, 8)).astype("float32")
    weights = {}
    for on in (False, True):
        numba(on)
        model = nnx.Sequential(
            [
                Embedding(10, 8, mask_zero=True, input_shape=(6,)),
                TransformerEncoder(16, 2, use_causal_mask=True),
            ],
            seed=0,
        )
        model.compile(nnx.optimizers.Adam(1e-2), "mse")
        for _ in range(3):
            model.train_step(tokens, y)
        weights[on] = model.get_weights()
    for fast, portable in zip(weights[True], weights[False], strict=True):
        np.testing.assert_allclose(fast, portable, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("normalize_first", "dropout"), [(False, 0.0), (True, 0.3)])
def test_transformer_block_gradients_through_the_kernels(numba, normalize_first, dropout):
    numba(True)
    x = np.random.default_rng(3).normal(size=(2, 5, 6))
    block = TransformerEncoder(
        7, 3, dropout=dropout, use_causal_mask=True, normalize_first=normalize_first, seed=4
    )
    errors = nnx.gradcheck(block, x, backend="numpy", training=dropout > 0, tolerance=1.0)
    # a key bias adds a constant to every score of a row: its exact gradient is 0
    assert max(v for k, v in errors.items() if not k.endswith("key_bias")) < 1e-6
