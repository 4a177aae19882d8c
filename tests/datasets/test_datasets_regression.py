"""nnx.datasets.regression: the 1-D curve, the linear / non-linear tables, the tutorial target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nnx import datasets as ds


def test_regression_1d() -> None:
    X, y = ds.make_regression_1d(100, noise=0.0, seed=0)
    assert X.shape == y.shape == (100, 1) and X.dtype == y.dtype == np.float32
    assert X.min() >= -2.0 and X.max() <= 2.0
    x = X.astype(np.float64)
    np.testing.assert_allclose(y, np.sin(3 * x) + 0.5 * x**2, atol=1e-5)


def test_linear_regression_has_the_documented_weights() -> None:
    X, y = ds.make_regression(200, n_features=4, noise=0.0, seed=0)
    assert X.shape == (200, 4) and y.shape == (200, 1) and y.dtype == np.float32
    w = np.array([[1.0], [-2.0], [3.0], [-4.0]]) / 4
    np.testing.assert_allclose(y, X.astype(np.float64) @ w + 0.5, atol=1e-5)


def test_nonlinear_regression_adds_the_documented_terms() -> None:
    X, y = ds.make_regression(50, n_features=3, noise=0.0, seed=1)
    Xn, yn = ds.make_regression(50, n_features=3, noise=0.0, nonlinear=True, seed=1)
    np.testing.assert_array_equal(X, Xn)
    x = X.astype(np.float64)
    extra = np.sin(2 * x[:, :1]) + 0.5 * x[:, 1:2] ** 2
    np.testing.assert_allclose(yn - y, extra, atol=1e-5)


def test_tutorial_regression_is_scaled_to_the_unit_interval() -> None:
    X, y = ds.make_tutorial_regression(500, seed=0)
    assert X.shape == (500, 4) and y.shape == (500, 1)
    assert y.min() == 0.0 and y.max() == 1.0
    noisy = ds.make_tutorial_regression(500, noise=0.5, seed=0)[1]
    assert not np.array_equal(noisy, y) and noisy.min() == 0.0 and noisy.max() == 1.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ds.make_regression_1d(0), "make_regression_1d: n_samples .*n_samples=0"),
        (lambda: ds.make_regression_1d(5, noise=-1.0), "noise=-1.0"),
        (lambda: ds.make_regression(0), "make_regression: n_samples .*n_samples=0"),
        (lambda: ds.make_regression(5, n_features=1, nonlinear=True), "n_features=1"),
        (lambda: ds.make_regression(5, seed="x"), "seed='x'"),
        (lambda: ds.make_tutorial_regression(1), "make_tutorial_regression: .*n_samples=1"),
        (lambda: ds.make_tutorial_regression(5, noise=float("inf")), "noise=inf"),
    ],
)
def test_bad_arguments(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
