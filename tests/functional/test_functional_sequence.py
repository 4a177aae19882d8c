"""nnx.functional.sequence: the gates' sigmoid, the attention mask combination and softmax."""

from __future__ import annotations

import numpy as np

from nnx.functional.activations import sigmoid
from nnx.functional.sequence import allowed_pairs, gate_sigmoid, masked_softmax


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


def test_masked_softmax_rows_with_nothing_allowed_are_zero(backend, to_np):
    scores = backend.asarray(np.array([[[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]]), "float64")
    allowed = backend.asarray(np.array([[[True, False, True], [False, False, False]]]))
    p = to_np(masked_softmax(scores, allowed))
    np.testing.assert_allclose(p[0, 0], [1 / (1 + np.e**2), 0, np.e**2 / (1 + np.e**2)])
    np.testing.assert_array_equal(p[0, 1], [0.0, 0.0, 0.0])
