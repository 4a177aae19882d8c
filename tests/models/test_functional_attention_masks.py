"""MultiHeadAttention's Keras call options: ``attention_mask`` as a graph input (an
``nnx.Input`` or a computed tensor) and ``return_attention_scores`` (eager and in graphs,
scores ``(batch, heads, Tq, Tv)`` with their own gradient)."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.gradcheck import numeric_gradient, relative_error
from nnx.layers import Dense, MultiHeadAttention

RNG = np.random.default_rng(23)
Q, V = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 2))
ALLOWED = RNG.random(size=(2, 3, 5)) > 0.4
ALLOWED[:, :, 0] = True  # every query sees at least one key


def _built(backend, **kwargs):
    mha = MultiHeadAttention(2, 3, name="mha", **kwargs)
    mha.build((3, 4), backend, backend.rng(0), "float64", value_shape=(5, 2))
    return mha


def test_scores_are_the_attention_probabilities(backend, to_np):
    mha = _built(backend)
    q, v = backend.asarray(Q, "float64"), backend.asarray(V, "float64")
    mask = backend.asarray(ALLOWED)
    y, scores = mha(q, v, attention_mask=mask, return_attention_scores=True)
    scores = to_np(scores)
    assert scores.shape == (2, 2, 3, 5)  # (batch, heads, Tq, Tv)
    np.testing.assert_allclose(scores.sum(-1), 1.0, rtol=1e-12)
    assert np.all(scores[~np.broadcast_to(ALLOWED[:, None], scores.shape)] == 0)
    np.testing.assert_array_equal(to_np(y), to_np(mha(q, v, attention_mask=mask)))
    # a float mask (as a graph input gives it) means the same: nonzero is allowed
    y_float = mha(q, v, attention_mask=backend.asarray(ALLOWED.astype("float64")))
    np.testing.assert_array_equal(to_np(y_float), to_np(y))


@pytest.mark.parametrize("project", [(0, 1), (1,), (0,)])
def test_backward_takes_a_gradient_for_the_scores(backend, project):
    """Central differences of ``f = sum(y r0) + sum(scores r1)`` (either term may be absent)."""
    mha = _built(backend)
    xp = backend.xp
    q, v = backend.asarray(Q, "float64"), backend.asarray(V, "float64")
    mask = backend.asarray(ALLOWED)

    def run():
        return mha.forward_attention(q, v, attention_mask=mask, return_attention_scores=True)

    (y, p), backprop = run()
    rs = [backend.asarray(RNG.normal(size=tuple(a.shape)), "float64") for a in (y, p)]
    rs = [r if k in project else None for k, r in enumerate(rs)]
    dq, dv, dk = backprop(tuple(rs))
    assert dk is None

    def f():
        outs = run()[0]
        return sum(float(xp.sum(a * r)) for a, r in zip(outs, rs, strict=True) if r is not None)

    checks = {"query": (q, dq), "value": (v, dv)}
    checks |= {
        w.name: (w.value, xp.asarray(w.grad, copy=True))
        for w in mha.parameters()
        if "key_bias" not in w.name
    }
    for name, (a, analytic) in checks.items():
        assert relative_error(analytic, numeric_gradient(f, a)) < 1e-6, name


def _graph(backend=None, computed=False):
    """Cross-attention of ``q`` over ``v`` with a mask input (or one computed from it), the
    scores a second output."""
    q, v = nnx.Input((3, 4), name="q"), nnx.Input((5, 2), name="v")
    m = nnx.Input((3, 5), name="allowed")
    mask = Dense(5, name="mask_maker")(m) if computed else m
    y, scores = MultiHeadAttention(2, 2, name="mha")(
        q, v, attention_mask=mask, return_attention_scores=True
    )
    return nnx.Model([q, v, m], [Dense(1, name="out")(y), scores], backend=backend, seed=0)


def test_mask_input_and_scores_in_a_graph(backend):
    model = _graph(backend)
    assert model.outputs[1].shape == (None, 2, 3, 5)
    out, scores = model.predict([Q, V, ALLOWED.astype("float32")])
    assert np.all(scores[~np.broadcast_to(ALLOWED[:, None], scores.shape)] == 0)
    mha = model.layers[3]
    b = model.backend
    y, expected = mha(b.asarray(Q, "float32"), b.asarray(V, "float32"),
                      attention_mask=b.asarray(ALLOWED), return_attention_scores=True)  # fmt: skip
    np.testing.assert_allclose(scores, b.to_numpy(expected), rtol=1e-6)
    w, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(out, b.to_numpy(y) @ w + bias, rtol=1e-5, atol=1e-6)
    errors = nnx.gradcheck(model, [Q, V, ALLOWED.astype("float64")], tolerance=1.0, eps=1e-5)
    assert errors["input/allowed"] == 0.0  # the mask selects, it has no gradient
    assert max(v for k, v in errors.items() if not k.endswith("key_bias")) < 1e-6


def test_a_computed_mask_is_a_graph_tensor(backend):
    model = _graph(backend, computed=True)
    nodes = {n["layer"]: n for n in model.get_config()["nodes"]}
    assert nodes["mha"]["keywords"] == {"attention_mask": ["mask_maker", 0]}
    assert nodes["mha"]["options"] == {"return_attention_scores": True}
    _, scores = model.predict([Q, V, ALLOWED.astype("float32")])
    assert scores.shape == (2, 2, 3, 5) and np.isfinite(scores).all()


def test_files_round_trip(tmp_path):
    model = _graph()
    model.compile("adam", ["mse", "mse"])
    xs = [Q, V, ALLOWED.astype("float32")]
    model.fit(xs, [RNG.normal(size=(2, 3, 1)), RNG.random(size=(2, 2, 3, 5))], epochs=2, verbose=0)
    path = tmp_path / "attention_mask.nnx"
    model.save(str(path))
    loaded = nnx.load(str(path))
    for a, b in zip(loaded.predict(xs), model.predict(xs), strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.get_config()["nodes"] == model.get_config()["nodes"]


def test_bad_masks_are_refused_clearly():
    q, v = nnx.Input((3, 4)), nnx.Input((5, 2))
    with pytest.raises(ValueError, match=r"'m': attention_mask must have shape \(batch, Tq, Tv\) "
                       r"= \(None, 3, 5\), received \(None, 5, 3\)"):  # fmt: skip
        MultiHeadAttention(2, 2, name="m")(q, v, attention_mask=nnx.Input((5, 3)))
    with pytest.raises(ValueError, match=r"return_attention_scores must be True or False"):
        MultiHeadAttention(2, 2)(q, v, return_attention_scores="yes")
