"""AdditiveAttention (Keras's Bahdanau-style layer): values equal to Keras's formulas in NumPy,
float64 gradients of every input and of ``scale``, masks, causal mask, Keras's Glorot-uniform
``scale``, config without ``score_mode``."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.gradcheck import numeric_gradient
from nnx.layers import AdditiveAttention, layer_class

RNG = np.random.default_rng(12)


def keras_reference(q, v, k=None, *, scale=None, v_mask=None, q_mask=None, causal=False):
    """Keras 3's ``AdditiveAttention`` in NumPy (``additive_attention.py`` scores, then the
    masking and softmax of ``Attention._apply_scores``)."""
    k = v if k is None else k
    t = np.tanh(q[:, :, None, :] + k[:, None, :, :])
    scores = (t * (1.0 if scale is None else scale)).sum(-1)
    allowed = np.ones(scores.shape[1:], dtype=bool)[None]
    if causal:
        allowed = allowed & np.tri(*scores.shape[1:], dtype=bool)[None]
    if v_mask is not None:
        allowed = allowed & v_mask[:, None, :]
    scores = np.where(allowed, scores, scores - 1.0e9)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    y = p @ v
    return (y if q_mask is None else np.where(q_mask[..., None], y, 0.0)), p


Q, V, K = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 2)), RNG.normal(size=(2, 5, 4))
Q_MASK = np.array([[True, False, True], [True, True, True]])
V_MASK = np.array([[True, True, False, True, False], [True, False, True, True, True]])


def _built(backend, with_key, use_scale=True):
    layer = AdditiveAttention(use_scale=use_scale)
    shapes = [Q.shape[1:], V.shape[1:], K.shape[1:]] if with_key else [Q.shape[1:], K.shape[1:]]
    layer.build(shapes, backend, backend.rng(0), "float64")
    return layer


def _data(backend, with_key):
    return [backend.asarray(a, "float64") for a in ((Q, V, K) if with_key else (Q, K))]


@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_values_equal_keras_formulas(backend, to_np, use_scale, causal):
    layer = _built(backend, True, use_scale)
    scale = to_np(layer.scale.value) if use_scale else None
    mask = [backend.asarray(Q_MASK), backend.asarray(V_MASK)]
    y, p = layer(_data(backend, True), mask=mask, use_causal_mask=causal,
                 return_attention_scores=True)  # fmt: skip
    ref_y, ref_p = keras_reference(Q, V, K, scale=scale, v_mask=V_MASK, q_mask=Q_MASK,
                                   causal=causal)  # fmt: skip
    np.testing.assert_allclose(to_np(y), ref_y, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(to_np(p), ref_p, rtol=1e-12, atol=1e-14)
    plain = keras_reference(Q, K, scale=scale)[0]
    np.testing.assert_allclose(to_np(_built(backend, False, use_scale)(_data(backend, False))),
                               plain, rtol=1e-12)  # fmt: skip


@pytest.mark.parametrize("with_key", [False, True])
def test_gradients_of_inputs_and_scale(backend, with_key):
    xp = backend.xp
    layer = _built(backend, with_key)
    xs = _data(backend, with_key)
    mask = [backend.asarray(Q_MASK), backend.asarray(V_MASK)]

    def run():
        return layer.forward_masked(
            xs, mask, use_causal_mask=with_key, return_attention_scores=True
        )

    (y, p), backprop = run()
    r = backend.asarray(RNG.normal(size=tuple(y.shape)), "float64")
    r_s = backend.asarray(RNG.normal(size=tuple(p.shape)), "float64")
    grads = backprop((r, r_s))
    d_scale = backend.to_numpy(layer.scale.grad)

    def f():
        (y, p), _ = run()
        return float(xp.sum(y * r) + xp.sum(p * r_s))

    for a, g in zip(xs, grads, strict=True):
        np.testing.assert_allclose(
            backend.to_numpy(g), backend.to_numpy(numeric_gradient(f, a)), atol=1e-7
        )
    expected = backend.to_numpy(numeric_gradient(f, layer.scale.value))
    np.testing.assert_allclose(d_scale, expected, atol=1e-7)


def test_scale_is_glorot_uniform_like_keras(backend, to_np):
    layer = AdditiveAttention(name="add_att")
    layer.build([(3, 400), (5, 400)], backend, backend.rng(0), "float64")
    (p,) = layer.parameters()
    assert (p.name, p.shape) == ("add_att/scale", (400,))
    limit = np.sqrt(6.0 / (400 + 400))  # Keras: fan_in = fan_out = dim for a vector
    values = to_np(p.value)
    assert np.abs(values).max() <= limit and np.abs(values).max() > 0.9 * limit
    assert AdditiveAttention(use_scale=False).count_params() == 0


def test_config_has_no_score_mode_and_round_trips():
    layer = AdditiveAttention(use_scale=False, dropout=0.2, seed=5, name="a")
    config = layer.get_config()
    assert "score_mode" not in config
    assert config["use_scale"] is False and config["dropout"] == 0.2 and config["seed"] == 5
    assert layer_class("AdditiveAttention").from_config(config).get_config() == config


def test_mismatched_query_and_key_widths_are_refused(backend):
    q, v = backend.asarray(Q, "float64"), backend.asarray(V, "float64")
    with pytest.raises(ValueError, match=r"'aa': the query's last dimension must equal the key's"):
        AdditiveAttention(name="aa")([q, v])
