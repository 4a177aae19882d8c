"""Attention (Keras's Luong-style layer): values equal to a NumPy transcription of Keras's
formulas and to torch's scaled_dot_product_attention, float64 gradients of every input and
weight, masks, causal mask, fully masked rows, dropout in training only, errors, config."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.gradcheck import numeric_gradient
from nnx.layers import Attention, layer_class

RNG = np.random.default_rng(11)


def keras_reference(q, v, k=None, *, mode="dot", scale=None, weight=1.0, q_mask=None,
                    v_mask=None, causal=False):  # fmt: skip
    """Keras 3's ``Attention.call`` in NumPy (``keras/src/layers/attention/attention.py``)."""
    k = v if k is None else k
    if mode == "dot":
        scores = np.einsum("bid,bjd->bij", q, k) * (1.0 if scale is None else scale)
    else:
        u = q[:, :, None, :] + k[:, None, :, :]
        scores = weight * np.tanh(u * (1.0 if scale is None else scale)).sum(-1)
    allowed = None
    if causal:
        tq, tv = scores.shape[1:]
        allowed = (np.arange(tq)[:, None] >= np.arange(tv)[None, :])[None]
    if v_mask is not None:
        allowed = v_mask[:, None, :] if allowed is None else allowed & v_mask[:, None, :]
    if allowed is not None:
        scores = np.where(allowed, scores, scores - 1.0e9)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    y = p @ v
    if q_mask is not None:
        y = np.where(q_mask[..., None], y, 0.0)
    return y, p


def _inputs(with_key, tq=3, tv=5, d=4, dv=3):
    q = RNG.normal(size=(2, tq, d))
    v = RNG.normal(size=(2, tv, dv if with_key else d))
    k = RNG.normal(size=(2, tv, d)) if with_key else None
    return q, v, k


def _masks():
    q_mask = np.array([[True, True, False], [True, True, True]])
    v_mask = np.array([[True, False, True, True, False], [False, False, False, False, False]])
    return q_mask, v_mask  # sample 1 has no valid value: Keras still gives finite rows


def _built(backend, shapes, **kwargs):
    layer = Attention(**kwargs)
    layer.build(shapes, backend, backend.rng(0), "float64")
    for p in layer.parameters():  # away from the initial 1, so a wrong use shows
        p.value[...] = backend.asarray(np.asarray(0.7 if "scale" in p.name else -1.3), "float64")
    return layer


@pytest.mark.parametrize("mode", ["dot", "concat"])
@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("with_key", [False, True])
def test_values_equal_keras_formulas(backend, to_np, mode, use_scale, with_key):
    q, v, k = _inputs(with_key)
    if mode == "concat" and with_key:
        v = RNG.normal(size=(2, 5, 4))
    shapes = [a.shape[1:] for a in (q, v, k) if a is not None]
    layer = _built(backend, shapes, use_scale=use_scale, score_mode=mode)
    q_mask, v_mask = _masks()
    xs = [backend.asarray(a, "float64") for a in (q, v, k) if a is not None]
    for causal in (False, True):
        for masks in (None, (q_mask, v_mask)):
            mask = None if masks is None else [backend.asarray(m) for m in masks]
            y, p = layer(xs, mask=mask, return_attention_scores=True, use_causal_mask=causal)
            ref_y, ref_p = keras_reference(
                q, v, k, mode=mode, scale=0.7 if use_scale else None, weight=-1.3,
                q_mask=None if masks is None else q_mask,
                v_mask=None if masks is None else v_mask, causal=causal,
            )  # fmt: skip
            np.testing.assert_allclose(to_np(y), ref_y, rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(to_np(p), ref_p, rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(to_np(p).sum(-1), 1.0, rtol=1e-12)
            assert np.all(np.isfinite(to_np(y)))


def test_dot_scores_equal_torch_scaled_dot_product_attention():
    torch = pytest.importorskip("torch")
    sdpa = torch.nn.functional.scaled_dot_product_attention
    from nnx.backends import get_backend

    backend = get_backend("numpy")
    q, v, k = _inputs(True, tq=4, tv=6, d=5, dv=3)
    layer = _built(backend, [q.shape[1:], v.shape[1:], k.shape[1:]], use_scale=True)
    v_mask = RNG.random((2, 6)) < 0.6
    v_mask[:, 0] = True  # torch gives NaN for a row with no allowed key: Keras does not
    t = [torch.from_numpy(a) for a in (q, k, v)]
    ours = layer([q, v, k], mask=[None, v_mask])
    theirs = sdpa(*t, attn_mask=torch.from_numpy(v_mask)[:, None, :], scale=0.7)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-13)
    ours = layer([q, v, k], use_causal_mask=True)
    np.testing.assert_allclose(ours, sdpa(*t, is_causal=True, scale=0.7).numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    ("mode", "use_scale", "with_key", "masked", "causal"),
    [
        ("dot", False, False, False, False),
        ("dot", True, True, True, True),
        ("concat", False, False, True, False),
        ("concat", True, True, False, True),
    ],
)
def test_gradients_of_inputs_and_weights(backend, mode, use_scale, with_key, masked, causal):
    """Central differences of ``f = sum(y r) + sum(scores r_s)``, float64."""
    xp = backend.xp
    q, v, k = _inputs(with_key)
    if mode == "concat" and with_key:
        v = RNG.normal(size=(2, 5, 4))
    xs = [backend.asarray(a, "float64") for a in (q, v, k) if a is not None]
    layer = _built(backend, [tuple(a.shape[1:]) for a in xs], use_scale=use_scale, score_mode=mode)
    # NOTE: every row keeps a valid key here: a fully masked row's scores sit 1e9 lower, where
    # float64 resolves 1e-7, too coarse for central differences (its gradient is that of the
    # unmasked softmax, as in Keras).
    q_mask, v_mask = _masks()
    v_mask[1] = [True, True, False, True, False]
    mask = [backend.asarray(m) for m in (q_mask, v_mask)] if masked else None

    def run():
        return layer.forward_masked(xs, mask, use_causal_mask=causal, return_attention_scores=True)

    (y, p), backprop = run()
    r = backend.asarray(RNG.normal(size=tuple(y.shape)), "float64")
    r_s = backend.asarray(RNG.normal(size=tuple(p.shape)), "float64")
    grads = backprop((r, r_s))
    weights = {w.name: backend.to_numpy(w.grad) for w in layer.parameters()}
    assert len(grads) == len(xs)

    def f():
        (y, p), _ = run()
        return float(xp.sum(y * r) + xp.sum(p * r_s))

    for a, g in zip(xs, grads, strict=True):
        np.testing.assert_allclose(
            backend.to_numpy(g), backend.to_numpy(numeric_gradient(f, a)), atol=1e-7
        )
    for w in layer.parameters():
        expected = backend.to_numpy(numeric_gradient(f, w.value))
        np.testing.assert_allclose(weights[w.name], expected, atol=1e-7)
    assert len(weights) == use_scale + (mode == "concat")


def test_fully_masked_rows_stay_finite_as_in_keras(backend, to_np):
    """Keras lowers masked scores by 1e9: in float32 a row with no valid key is uniform (the
    query averages all values); in float64 it keeps the softmax of the raw scores."""
    q, v, _ = _inputs(False)
    none = np.zeros((2, 5), dtype=bool)
    for dtype in ("float32", "float64"):
        layer = Attention()
        layer.build([q.shape[1:], v.shape[1:]], backend, backend.rng(0), dtype)
        xs = [backend.asarray(a, dtype) for a in (q, v)]
        y = to_np(layer(xs, mask=[None, backend.asarray(none)]))
        assert np.all(np.isfinite(y))
        if dtype == "float32":
            np.testing.assert_allclose(y, np.broadcast_to(v.mean(1, keepdims=True), y.shape),
                                       rtol=1e-5, atol=1e-6)  # fmt: skip
        else:
            ref, _ = keras_reference(q, v, v_mask=none)
            np.testing.assert_allclose(y, ref, rtol=1e-12)
            np.testing.assert_allclose(y, keras_reference(q, v)[0], rtol=1e-6)


def test_query_mask_zeroes_outputs_and_is_the_output_mask(backend, to_np):
    q, v, _ = _inputs(False)
    layer = _built(backend, [q.shape[1:], v.shape[1:]])
    q_mask, _ = _masks()
    qm = backend.asarray(q_mask)
    y = to_np(layer([backend.asarray(a, "float64") for a in (q, v)], mask=[qm, None]))
    assert np.all(y[~q_mask] == 0) and np.all(y[q_mask] != 0)
    assert layer.compute_mask(None, [qm, None]) is qm
    assert layer.compute_mask(None, None) is None


def test_dropout_applies_in_training_only(backend, to_np):
    q, v, _ = _inputs(False, tq=6, tv=8)
    layer = Attention(dropout=0.5, seed=3)
    layer.build([q.shape[1:], v.shape[1:]], backend, backend.rng(0), "float64")
    xs = [backend.asarray(a, "float64") for a in (q, v)]
    plain = Attention()
    y0, p0 = plain(xs, return_attention_scores=True)
    y, p = layer(xs, return_attention_scores=True)
    np.testing.assert_array_equal(to_np(y), to_np(y0))
    np.testing.assert_array_equal(to_np(p), to_np(p0))
    yt, pt = (to_np(a) for a in layer(xs, training=True, return_attention_scores=True))
    p0 = to_np(p0)
    dropped = pt == 0
    assert 0.3 < dropped.mean() < 0.7
    np.testing.assert_allclose(pt[~dropped], 2.0 * p0[~dropped], rtol=1e-12)  # 1 / keep
    np.testing.assert_allclose(yt, pt @ v, rtol=1e-12)  # Keras returns the dropped weights


def test_errors_name_the_layer_and_the_values(backend):
    q, v, k = (backend.asarray(a, "float64") for a in _inputs(True))
    layer = Attention(name="att")
    with pytest.raises(ValueError, match=r"'att' must be called on a list of inputs, namely"):
        layer(q)
    with pytest.raises(ValueError, match=r"'att' takes a list of 2 or 3 inputs.*received 1"):
        layer([q])
    with pytest.raises(ValueError, match=r"query's last dimension must equal the key's"):
        layer([q, backend.asarray(RNG.normal(size=(2, 5, 3)), "float64")])
    with pytest.raises(ValueError, match=r"value and key must have the same number of steps"):
        layer([q, v, backend.asarray(RNG.normal(size=(2, 6, 4)), "float64")])
    with pytest.raises(ValueError, match=r"mask must be a list \[query_mask, value_mask\]"):
        layer([q, v, k], mask=backend.asarray(np.ones((2, 3), dtype=bool)))
    with pytest.raises(ValueError, match=r"score_mode must be one of 'dot', 'concat'.*'add'"):
        Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"Attention: dropout must be"):
        Attention(dropout=1.0)
    built = Attention(name="att2")
    built([q, v, k])
    with pytest.raises(ValueError, match=r"value_mask must have shape \(batch, steps\)"):
        built([q, v, k], mask=[None, backend.asarray(np.ones((2, 3), dtype=bool))])
    if backend.name != "numpy":  # a host mask is refused, never silently copied
        with pytest.raises(TypeError, match=r"'att2' runs on backend .* its value_mask is a numpy"):
            built([q, v, k], mask=[None, np.ones((2, 5), dtype=bool)])


def test_weights_and_config_follow_keras(backend):
    layer = Attention(use_scale=True, score_mode="concat", dropout=0.1, seed=4, name="att")
    layer.build([(3, 4), (5, 4)], backend, backend.rng(0))
    assert [(p.name, p.shape) for p in layer.parameters()] == [
        ("att/scale", ()),
        ("att/concat_score_weight", ()),
    ]
    assert all(float(backend.to_numpy(p.value)) == 1.0 for p in layer.parameters())
    config = layer.get_config()
    assert {k: config[k] for k in ("use_scale", "score_mode", "dropout", "seed")} == {
        "use_scale": True, "score_mode": "concat", "dropout": 0.1, "seed": 4,
    }  # fmt: skip
    assert layer_class("Attention").from_config(config).get_config() == config
    assert Attention().count_params() == 0
