"""The fused attention core (numba) gives the numbers of the portable code: scores, masked
softmax and ``P V`` per (batch, head) pair, with causal and padding masks, fully masked rows,
attention dropout, the probabilities kept or not, strided inputs and odd sizes; and
``MultiHeadAttention`` through it equals the layer without numba, forward and backward."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.backends import get_backend, numba_attention_paths
from nnx.functional.sequence import masked_softmax
from nnx.layers import MultiHeadAttention, TransformerEncoder

DTYPES = ["float32", "float64"]


@pytest.fixture
def fused(numba, monkeypatch):
    """The numba kernels on for every size, the fused core for any number of keys, in
    training too."""
    numba(True)
    monkeypatch.setattr(numba_attention_paths, "MIN_KEYS", 0)
    monkeypatch.setattr(numba_attention_paths, "KEPT_PROBABILITIES", True)
    return numba


def _heads(rng, n: int, heads: int, steps: int, dim: int, dtype: str, contiguous: bool):
    """``(n, heads, steps, dim)``: contiguous, or a strided view of a projection's layout."""
    if contiguous:
        return (rng.normal(size=(n, heads, steps, dim)) * 2).astype(dtype)
    z = (rng.normal(size=(n, steps, 2, heads, dim + 1)) * 2).astype(dtype)
    return z[:, :, 1, :, :dim].transpose(0, 2, 1, 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["none", "causal", "padding"])
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("dropout", [False, True])
def test_fused_attention_equals_the_portable_code(
    fused, close, mask_case, dtype, kind, contiguous, dropout
):
    b = get_backend("numpy")
    rng = np.random.default_rng(0)
    n, heads, tq, tv, d, dv = 3, 2, 5, 7, 3, 5  # odd sizes, Tq != Tv, d != dv
    q = _heads(rng, n, heads, tq, d, dtype, contiguous)
    k = _heads(rng, n, heads, tv, d, dtype, contiguous)
    v = _heads(rng, n, heads, tv, dv, dtype, contiguous)
    allowed = mask_case(kind, n, tq, tv)
    drop = (rng.random((n, heads, tq, tv)) < 0.7).astype(dtype) / 0.7 if dropout else None
    p_ref = masked_softmax(q @ np.swapaxes(k, -1, -2), allowed)
    o_ref = ((p_ref if drop is None else p_ref * drop) @ v).transpose(0, 2, 1, 3)
    for keep in (True, False):
        got = b.attention(q, k, v, allowed, drop, keep)
        assert got is not None
        o, p = got
        assert o.flags.c_contiguous and o.shape == (n, tq, heads, dv)
        close(o, o_ref)
        if keep:
            close(p, p_ref)
        else:
            assert p is None
    if kind == "padding":  # sample 0 sees no key: each query averages all the values
        close(o[0], np.broadcast_to(v[0].mean(axis=1)[None], (tq, heads, dv)) if not dropout
              else o_ref[0])  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_attention_is_finite_for_huge_scores_and_keeps_nan(fused, close, dtype):
    b = get_backend("numpy")
    q = np.array([[1e3, -1e3], [0.0, 1.0], [-1e3, 5.0]], dtype=dtype).reshape(1, 1, 3, 2)
    k = np.array([[1e3, 2.0], [-1e3, 0.0], [3.0, -4.0], [0.0, 0.0]], dtype=dtype)
    k = k.reshape(1, 1, 4, 2)
    v = np.arange(8, dtype=dtype).reshape(1, 1, 4, 2)
    o, p = b.attention(q, k, v, None, None, True)
    assert np.isfinite(o).all() and np.isfinite(p).all()
    p_ref = masked_softmax(q @ np.swapaxes(k, -1, -2), None)
    close(p, p_ref)
    close(o, (p_ref @ v).transpose(0, 2, 1, 3))
    q[0, 0, 1, 0] = np.nan
    o, p = b.attention(q, k, v, None, None, True)
    assert np.isnan(p[0, 0, 1]).all() and np.isnan(o[0, 1]).all()
    assert np.isfinite(p[0, 0, [0, 2]]).all()


def test_fused_attention_declines_when_off_small_or_unsupported(numba, monkeypatch):
    b = get_backend("numpy")
    q = np.zeros((1, 1, 4, 2))
    numba(True)  # MIN_SIZE 0, but MIN_KEYS as shipped: 4 keys are too few
    assert b.attention(q, q, q, None, None, True) is None
    monkeypatch.setattr(numba_attention_paths, "MIN_KEYS", 0)
    assert b.attention(q, q, q, None, None, True) is None  # as shipped: inference only
    assert b.attention(q, q, q, None, None, False) is not None
    monkeypatch.setattr(numba_attention_paths, "KEPT_PROBABILITIES", True)
    assert b.attention(q, q, q, None, None, True) is not None
    assert b.attention(q.astype("float16"), q, q, None, None, True) is None
    assert b.attention(q.astype("float32"), q, q, None, None, True) is None  # mixed dtypes
    numba(False)
    assert b.attention(q, q, q, None, None, True) is None
    assert get_backend("array_api_strict").attention(q, q, q, None, None, True) is None


def _mha_run(dtype: str, dropout: float, causal: bool, scores: bool):
    """Output, scores, input and weight gradients of a training step of one layer."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 8)).astype(dtype)
    mask = np.ones((2, 6), dtype=bool)
    mask[1, 4:] = False
    mha = MultiHeadAttention(3, 4, value_dim=5, dropout=dropout, seed=3)
    backend = get_backend("numpy")
    mha.build((6, 8), backend, backend.rng(0), dtype=dtype)
    out, back = mha.forward_masked(
        x, mask, training=True, causal=causal, return_attention_scores=scores
    )
    y, p = out if scores else (out, None)
    dy = rng.normal(size=y.shape).astype(dtype)
    dx = back((dy, np.ones_like(p)) if scores else dy)
    grads = [w.grad.copy() for w in mha.parameters()]
    return [y, dx, *grads] + ([] if p is None else [p])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("dropout", "causal", "scores"), [(0.0, False, False), (0.3, True, True)])
def test_multi_head_attention_through_the_core_equals_numba_off(
    fused, dtype, dropout, causal, scores
):
    on = _mha_run(dtype, dropout, causal, scores)
    fused(False)
    off = _mha_run(dtype, dropout, causal, scores)
    assert len(on) == len(off)
    # the key bias's gradient is 0 up to rounding (softmax rows sum to 1): an absolute floor
    # on the scale of all the arrays, not of each
    rtol = 1e-5 if dtype == "float32" else 1e-12
    scale = max(float(np.abs(a).max()) for a in off)
    for a, b in zip(on, off, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale * 0.1)


def test_inference_keeps_no_probabilities(fused, monkeypatch):
    """Under ``no_backprop`` (a model's inference) the kernel is asked for the output only;
    a training step and ``return_attention_scores`` ask for the probabilities too."""
    asked = []
    original = numba_attention_paths.NumbaAttentionPaths.attention

    def spy(self, q, k, v, allowed, drop, keep):
        asked.append(keep)
        return original(self, q, k, v, allowed, drop, keep)

    monkeypatch.setattr(numba_attention_paths.NumbaAttentionPaths, "attention", spy)
    x = np.random.default_rng(0).normal(size=(2, 5, 8))
    model = nnx.Sequential([TransformerEncoder(16, 2, input_shape=(5, 8))], seed=0)
    model.compile("adam", "mse")
    y = model(x)
    model.train_step(x, x)
    mha = MultiHeadAttention(2, 4)
    _, p = mha(x, x, return_attention_scores=True)
    assert asked == [False, True, True] and p.shape == (2, 2, 5, 5) and y.shape == (2, 5, 8)
