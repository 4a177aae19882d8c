"""nnx.functional.losses: per-sample values against numpy formulas, and sample weighting."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.functional import losses as F

RNG = np.random.default_rng(1)
Y = RNG.normal(size=(5, 3))
P = RNG.normal(size=(5, 3))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (F.squared_error, ((P - Y) ** 2).mean(1)),
        (F.absolute_error, np.abs(P - Y).mean(1)),
    ],
)
def test_per_sample_values(backend, value, expected):
    got = value(backend.asarray(Y, "float64"), backend.asarray(P, "float64"))
    np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-12)


@pytest.mark.parametrize("shape", [(5,), (5, 1)])
def test_weight_samples_scales_each_row_once(backend, shape):
    w = np.arange(1.0, 6.0)
    wb = backend.asarray(w.reshape(shape))
    rows = F.weight_samples(backend.asarray(P, "float64"), wb)
    np.testing.assert_allclose(backend.to_numpy(rows), P * w[:, None], rtol=1e-12)
    values = F.weight_samples(backend.asarray(P[:, 0], "float64"), wb)
    assert backend.to_numpy(values).shape == (5,)
    np.testing.assert_allclose(backend.to_numpy(values), P[:, 0] * w, rtol=1e-12)


def test_weight_samples_without_weights_is_the_identity(backend):
    a = backend.asarray(P)
    assert F.weight_samples(a, None) is a
