"""MultiHeadAttention: self- and cross-attention, causal and padding masks, gradients for
each input, Keras weight shapes, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.gradcheck import numeric_gradient
from nnx.layers import MultiHeadAttention, layer_class

RNG = np.random.default_rng(5)


def _check(errors):
    # NOTE: a key bias adds q.bk to every score of a row, which softmax ignores: its exact
    # gradient is 0, so only its absolute size is meaningful.
    key_bias = [k for k in errors if k.endswith("key_bias")]
    assert max(v for k, v in errors.items() if k not in key_bias) < 1e-6


def test_weight_shapes_follow_keras(backend):
    mha = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, output_shape=5, name="mha")
    mha.build((None, 6), backend, backend.rng(0), "float64", value_shape=(None, 7))
    shapes = {p.name.split("/")[1]: p.shape for p in mha.parameters()}
    assert shapes == {
        "query_kernel": (6, 2, 3),
        "query_bias": (2, 3),
        "key_kernel": (7, 2, 3),
        "key_bias": (2, 3),
        "value_kernel": (7, 2, 4),
        "value_bias": (2, 4),
        "output_kernel": (2, 4, 5),
        "output_bias": (5,),
    }
    assert mha.compute_output_shape((None, 6)) == (None, 5)


def test_self_attention_gradient_check(backend):
    x = RNG.normal(size=(2, 4, 6))
    _check(nnx.gradcheck(MultiHeadAttention(2, 3), x, backend=backend, tolerance=1.0))
    dropped = MultiHeadAttention(3, 2, value_dim=2, dropout=0.3, use_bias=False, seed=0)
    _check(nnx.gradcheck(dropped, x, backend=backend, training=True, tolerance=1.0))


@pytest.mark.parametrize("with_key", [False, True])
def test_cross_attention_gradients_for_each_input_with_masks(backend, with_key):
    xp = backend.xp
    q = backend.asarray(RNG.normal(size=(2, 3, 4)), "float64")
    v = backend.asarray(RNG.normal(size=(2, 5, 6)), "float64")
    k = backend.asarray(RNG.normal(size=(2, 5, 2)), "float64") if with_key else None
    allowed = RNG.random((2, 3, 5)) < 0.7
    allowed[:, :, 0] = True
    allowed[1, 2] = False  # a query that sees no key: it averages the values (as Keras)
    mask = backend.asarray(allowed)
    mha = MultiHeadAttention(2, 3, value_dim=2)
    mha.build(
        (None, 4), backend, backend.rng(1), "float64", (None, 6), None if k is None else (None, 2)
    )
    kwargs = {"attention_mask": mask, "use_causal_mask": True}
    y, backprop = mha.forward_attention(q, v, k, **kwargs)
    r = backend.asarray(RNG.normal(size=tuple(y.shape)), "float64")
    grads = backprop(r)

    def f():
        return float(xp.sum(mha.forward_attention(q, v, k, **kwargs)[0] * r))

    inputs = [q, v] + ([k] if with_key else [])
    assert (grads[2] is None) is (not with_key)
    for a, g in zip(inputs, grads, strict=False):
        np.testing.assert_allclose(
            backend.to_numpy(g), backend.to_numpy(numeric_gradient(f, a)), atol=1e-8
        )
    for p in mha.parameters():
        if p.name.endswith("key_bias"):  # softmax is blind to a per-row shift: exactly zero
            assert np.abs(backend.to_numpy(p.grad)).max() < 1e-12
        else:
            np.testing.assert_allclose(
                backend.to_numpy(p.grad), backend.to_numpy(numeric_gradient(f, p.value)), atol=1e-8
            )


def test_causal_mask_hides_the_future(backend, to_np):
    mha = MultiHeadAttention(2, 2)
    x = RNG.normal(size=(1, 5, 4))
    y = to_np(
        mha(backend.asarray(x, "float64"), backend.asarray(x, "float64"), use_causal_mask=True)
    )
    x2 = x.copy()
    x2[:, 3:] = RNG.normal(size=(1, 2, 4))  # change steps 3 and 4 only
    b2 = backend.asarray(x2, "float64")
    y2 = to_np(mha(b2, b2, use_causal_mask=True))
    np.testing.assert_allclose(y2[:, :3], y[:, :3], rtol=1e-12)
    assert not np.allclose(y2[:, 3:], y[:, 3:])


def test_padding_mask_in_a_stack_ignores_padded_keys(backend, to_np):
    mha = MultiHeadAttention(1, 3)
    mha.build((None, 3), backend, backend.rng(0), "float64")
    x = RNG.normal(size=(1, 4, 3))
    mask = backend.asarray(np.array([[True, True, False, False]]))
    y = to_np(mha.forward_masked(backend.asarray(x, "float64"), mask)[0])
    x[:, 2:] = 100.0  # padded values must not matter to the valid queries
    y2 = to_np(mha.forward_masked(backend.asarray(x, "float64"), mask)[0])
    np.testing.assert_allclose(y2[:, :2], y[:, :2], rtol=1e-12)
    assert mha.compute_mask(None, mask) is mask


def test_errors_and_config(backend):
    with pytest.raises(ValueError, match=r"MultiHeadAttention: num_heads must be a positive int"):
        MultiHeadAttention(0, 2)
    mha = MultiHeadAttention(2, 2, name="att")
    x = backend.asarray(RNG.normal(size=(2, 3, 4)), "float64")
    with pytest.raises(ValueError, match=r"'att': attention_mask must have shape \(2, 3, 3\)"):
        mha(x, x, attention_mask=backend.asarray(np.ones((2, 3, 4), dtype=bool)))
    with pytest.raises(ValueError, match=r"expects value of shape \(batch, steps, features\)"):
        mha(x, backend.asarray(RNG.normal(size=(2, 4)), "float64"))
    config = MultiHeadAttention(2, 3, value_dim=5, dropout=0.1, output_shape=7).get_config()
    assert layer_class("MultiHeadAttention").from_config(config).get_config() == config


def _keras_attention(w, key_dim, q, v, allowed):
    """Keras's dot-product attention in NumPy: masked scores become -0.7 * float max."""
    qh = np.einsum("bte,ehd->bthd", q, w["query_kernel"]) + w["query_bias"]
    kh = np.einsum("bte,ehd->bthd", v, w["key_kernel"]) + w["key_bias"]
    vh = np.einsum("bte,ehd->bthd", v, w["value_kernel"]) + w["value_bias"]
    logits = np.einsum("bthd,bshd->bhts", qh, kh) / np.sqrt(key_dim)
    logits = np.where(allowed[:, None], logits, -0.7 * 3.38953e38)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    o = np.einsum("bhts,bshd->bthd", p, vh)
    return np.einsum("bthd,hde->bte", o, w["output_kernel"]) + w["output_bias"]


def test_fully_masked_query_averages_all_values_as_keras(backend, to_np):
    mha = MultiHeadAttention(2, 3, bias_initializer="glorot_uniform")
    mha.build((None, 4), backend, backend.rng(2), "float64")
    q, v = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4))
    allowed = RNG.random((2, 3, 5)) < 0.5
    allowed[0, 1] = False  # query 1 of sample 0 may see no key
    allowed[1, :, 2] = True
    y = to_np(
        mha(backend.asarray(q, "float64"), backend.asarray(v, "float64"),
            attention_mask=backend.asarray(allowed))
    )  # fmt: skip
    w = {p.name.split("/")[1]: to_np(p.value) for p in mha.parameters()}
    np.testing.assert_allclose(y, _keras_attention(w, 3, q, v, allowed), rtol=1e-12)
    mean_v = (np.einsum("te,ehd->thd", v[0], w["value_kernel"]) + w["value_bias"]).mean(0)
    expected = np.einsum("hd,hde->e", mean_v, w["output_kernel"]) + w["output_bias"]
    np.testing.assert_allclose(y[0, 1], expected, rtol=1e-12)


def test_probabilities_and_their_gradient(backend, to_np):
    mha = MultiHeadAttention(2, 3)
    mha.build((None, 4), backend, backend.rng(3), "float64")
    x = backend.asarray(RNG.normal(size=(2, 5, 4)), "float64")
    allowed = mha._allowed(x, x, None, True, None, None)
    _, p, backprop = mha._attend([x], [("query", "key", "value")], allowed, False)
    assert tuple(p.shape) == (2, 2, 5, 5)
    np.testing.assert_allclose(to_np(p).sum(-1), 1.0, rtol=1e-12)
    assert not np.triu(to_np(p)[0, 0], 1).any()  # causal
    r = backend.asarray(RNG.normal(size=tuple(p.shape)), "float64")
    dx = to_np(backprop(None, r)[0])  # the gradient of sum(p r) alone

    def f():
        return float(
            backend.xp.sum(mha._attend([x], [("query", "key", "value")], allowed, False)[1] * r)
        )

    np.testing.assert_allclose(dx, backend.to_numpy(numeric_gradient(f, x)), atol=1e-8)
