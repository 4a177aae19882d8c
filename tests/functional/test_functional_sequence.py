"""nnx.functional.sequence: the gates' sigmoid, the attention mask combination and softmax."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.functional.activations import sigmoid
from nnx.functional.sequence import (
    allowed_pairs,
    gate_sigmoid,
    masked_softmax,
    masked_softmax_backward,
)


def test_gate_sigmoid_equals_the_reference_sigmoid(backend, to_np):
    z = backend.asarray(np.concatenate([np.linspace(-800, 800, 1601), [0.0, 1e-8]]), "float64")
    np.testing.assert_allclose(to_np(gate_sigmoid(z)), to_np(sigmoid(z)), rtol=1e-15, atol=1e-16)
    assert np.isfinite(to_np(gate_sigmoid(backend.asarray([-1e30, 1e30], "float32")))).all()


def test_allowed_pairs_combines_keras_masks(backend, to_np):
    xp = backend.xp
    assert allowed_pairs(xp, (2, 3, 3)) is None
    causal = to_np(allowed_pairs(xp, (2, 3, 3), causal=True))
    assert causal.shape == (1, 1, 3, 3) and (causal[0, 0] == np.tril(np.ones((3, 3)))).all()
    query = backend.asarray(np.array([[True, True, False], [True, False, False]]))
    value = backend.asarray(np.array([[True, False, True, True], [True, True, True, True]]))
    got = to_np(allowed_pairs(xp, (2, 3, 4), query_mask=query, value_mask=value))
    expected = to_np(query)[:, :, None] & to_np(value)[:, None, :]
    np.testing.assert_array_equal(got[:, 0], expected)


def test_masked_softmax_rows_with_nothing_allowed_are_uniform_as_keras(backend, to_np):
    scores = backend.asarray(np.array([[[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]]), "float64")
    allowed = backend.asarray(np.array([[[True, False, True], [False, False, False]]]))
    p = to_np(masked_softmax(scores, allowed))
    np.testing.assert_allclose(p[0, 0], [1 / (1 + np.e**2), 0, np.e**2 / (1 + np.e**2)])
    assert p[0, 0, 1] == 0.0
    np.testing.assert_allclose(p[0, 1], [1 / 3, 1 / 3, 1 / 3], rtol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_masked_softmax_is_finite_for_huge_logits(backend, to_np, dtype):
    raw = np.array([[1e4, -1e4, 0.0, 1e4], [-1e4, -1e4, 5.0, -1e4], [1e4, 1e4, -1e4, 0.0]])
    allowed = np.array([[True, True, False, True], [True, False, True, False], [False] * 4])
    p = to_np(masked_softmax(backend.asarray(raw, dtype), backend.asarray(allowed)))
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p[0], [0.5, 0.0, 0.0, 0.5])
    np.testing.assert_allclose(p[1], [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(p[2], [0.25] * 4)
    no_mask = to_np(masked_softmax(backend.asarray(raw, dtype), None))
    np.testing.assert_allclose(no_mask[1], [0.0, 0.0, 1.0, 0.0])


def test_masked_softmax_backward_matches_numerical_gradient(backend, to_np):
    rng = np.random.default_rng(3)
    s = rng.normal(size=(2, 3, 4))
    allowed = rng.random((2, 3, 4)) < 0.6
    allowed[0, 1] = False  # a row with nothing allowed: constant, so its gradient is 0
    r = rng.normal(size=s.shape)
    mask = backend.asarray(allowed)

    def f(a):
        return float((to_np(masked_softmax(backend.asarray(a, "float64"), mask)) * r).sum())

    numeric = np.zeros_like(s)
    for i in np.ndindex(*s.shape):
        d = np.zeros_like(s)
        d[i] = 1e-6
        numeric[i] = (f(s + d) - f(s - d)) / 2e-6
    p = masked_softmax(backend.asarray(s, "float64"), mask)
    ds = to_np(masked_softmax_backward(backend.asarray(r, "float64"), p, mask))
    np.testing.assert_allclose(ds, numeric, atol=1e-9)
    assert not ds[0, 1].any()
