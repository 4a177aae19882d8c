"""nnx.functional.attention_scores: each score function's VJP against central differences
(float64, every backend), and Keras's masked softmax (masked scores lowered by 1e9, 65504 in
float16)."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.functional.attention_scores import (
    additive_scores,
    concat_scores,
    dot_scores,
    keras_softmax,
    keras_softmax_backward,
    padding_bias,
)
from nnx.gradcheck import numeric_gradient

RNG = np.random.default_rng(8)


def _score_cases(backend):
    def a(*shape):
        return backend.asarray(RNG.normal(size=shape), "float64")

    c, w, v = a(), a(), a(4)
    return [
        (lambda q, k, *ws: dot_scores(q, k, *ws), [c]),
        (lambda q, k, *ws: concat_scores(q, k, *ws), [w, c]),
        (lambda q, k, *ws: additive_scores(q, k, *ws), [v]),
        (lambda q, k, *ws: additive_scores(q, k), []),
    ]


@pytest.mark.parametrize("case", range(4))
def test_score_vjps_match_central_differences(backend, case):
    xp = backend.xp
    q = backend.asarray(RNG.normal(size=(2, 3, 4)), "float64")
    k = backend.asarray(RNG.normal(size=(2, 5, 4)), "float64")
    scores, weights = _score_cases(backend)[case]
    s, backward = scores(q, k, *weights)
    assert tuple(s.shape) == (2, 3, 5)
    ds = backend.asarray(RNG.normal(size=(2, 3, 5)), "float64")
    grads = [g for g in backward(ds) if g is not None]
    assert len(grads) == 2 + len(weights)

    def f():
        return float(xp.sum(scores(q, k, *weights)[0] * ds))

    for x, g in zip([q, k, *weights], grads, strict=True):
        expected = backend.to_numpy(numeric_gradient(f, x))
        np.testing.assert_allclose(backend.to_numpy(g), expected, atol=1e-8)


def test_keras_softmax_lowers_masked_scores(backend, to_np):
    s = RNG.normal(size=(2, 3, 4))
    allowed = np.array([[True, False, True, False]])[None]
    p = to_np(keras_softmax(backend.asarray(s, "float64"), backend.asarray(allowed)))
    e = np.exp(np.where(allowed, s, -np.inf))
    np.testing.assert_allclose(p, e / e.sum(-1, keepdims=True), rtol=1e-12)
    p32 = to_np(
        keras_softmax(backend.asarray(s, "float32"), backend.asarray(np.zeros_like(allowed)))
    )
    np.testing.assert_allclose(p32, 0.25, rtol=1e-6)  # nothing allowed, float32: uniform
    dp = RNG.normal(size=s.shape)
    ds = to_np(
        keras_softmax_backward(backend.asarray(dp, "float64"), backend.asarray(p, "float64"))
    )
    np.testing.assert_allclose(ds, p * (dp - (dp * p).sum(-1, keepdims=True)), rtol=1e-12)
    assert padding_bias("float16") == 65504.0 and padding_bias(backend.xp.float32) == 1e9
