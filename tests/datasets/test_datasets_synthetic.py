"""nnx.datasets.synthetic: shapes, dtypes, balance, seeds, geometry, validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nnx import datasets as ds

CLASSIFICATION: list[Callable[..., Any]] = [ds.make_moons, ds.make_circles, ds.make_spirals]


@pytest.mark.parametrize("make", CLASSIFICATION)
@pytest.mark.parametrize("n", [2, 7, 200])
def test_classification_shapes_dtypes_balance(make: Callable[..., Any], n: int) -> None:
    X, y = make(n, noise=0.1, seed=0)
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.sum() == n and counts.max() - counts.min() <= 1
    assert y.reshape(-1, 1).astype("float32").shape == (n, 1)


def test_spirals_classes() -> None:
    X, y = ds.make_spirals(301, n_classes=4, noise=0.0, seed=1)
    assert np.bincount(y).tolist() == [76, 75, 75, 75]
    assert np.all(np.linalg.norm(X, axis=1) <= 1.0 + 1e-6)


@pytest.mark.parametrize(
    "make",
    [
        *CLASSIFICATION,
        ds.make_blobs,
        ds.make_regression_1d,
        ds.make_regression,
        ds.make_tutorial_regression,
    ],
)
def test_seed_reproducible(make: Callable[..., Any]) -> None:
    a, b, c = make(50, seed=3), make(50, seed=3), make(50, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_moons_geometry() -> None:
    X, y = ds.make_moons(101, noise=0.0, seed=0)
    upper, lower = X[y == 0].astype(np.float64), X[y == 1].astype(np.float64)
    assert len(upper) == 50 and len(lower) == 51
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, atol=1e-6)
    assert np.all(upper[:, 1] >= -1e-6)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0, atol=1e-6)
    assert np.all(lower[:, 1] <= 0.5 + 1e-6)
    assert not np.array_equal(y[:50], np.zeros(50)), "the points are shuffled"


def test_circles_geometry() -> None:
    X, y = ds.make_circles(40, noise=0.0, factor=0.3, seed=0)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "op"),
    [
        ("and", lambda a, b: a & b),
        ("or", lambda a, b: a | b),
        ("xor", lambda a, b: a ^ b),
        ("NAND", lambda a, b: 1 - (a & b)),
        ("nor", lambda a, b: 1 - (a | b)),
    ],
)
def test_logic_gates(name: str, op: Callable[[int, int], int]) -> None:
    X, y = ds.logic_gate(name)
    assert X.shape == (4, 2) and y.shape == (4, 1)
    assert X.dtype == y.dtype == np.float32
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.ravel().tolist() == [op(int(a), int(b)) for a, b in X]


def test_make_xor() -> None:
    X, y = ds.make_xor()
    assert X.shape == (4, 2)
    np.testing.assert_array_equal(y.ravel(), [0, 1, 1, 0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ds.make_moons(1), "make_moons: n_samples must be an int 2 <= n.*n_samples=1"),
        (lambda: ds.make_moons(10.5), "n_samples=10.5"),
        (lambda: ds.make_moons(True), "n_samples=True"),
        (lambda: ds.make_moons(10, noise=-0.1), "noise=-0.1"),
        (lambda: ds.make_moons(10, noise=float("nan")), "noise=nan"),
        (lambda: ds.make_moons(10, seed=-1), "seed=-1"),
        (lambda: ds.make_moons(10, seed="a"), "seed='a'"),
        (lambda: ds.make_circles(10, factor=1.0), "factor=1.0"),
        (lambda: ds.make_spirals(10, n_classes=1), "n_classes=1"),
        (lambda: ds.make_spirals(2, n_classes=3), "n_samples=2"),
        (lambda: ds.logic_gate("xnor"), "logic_gate: name must be one of 'and', .*name='xnor'"),
        (lambda: ds.logic_gate(3), "name=3"),
        (lambda: ds.make_blobs(2, centers=3), "make_blobs: n_samples .*n_samples=2"),
        (lambda: ds.make_blobs(centers=0), "make_blobs: centers .*centers=0"),
        (lambda: ds.make_blobs(cluster_std=-1.0), "cluster_std=-1.0"),
        (lambda: ds.make_blobs(n_features=0), "n_features=0"),
        (lambda: ds.make_blobs(seed=-1), "make_blobs: seed .*seed=-1"),
    ],
)
def test_bad_arguments(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_blobs_are_balanced_and_around_their_centres() -> None:
    X, y = ds.make_blobs(90, centers=3, cluster_std=0.1, n_features=4, seed=0)
    assert X.shape == (90, 4) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [30, 30, 30]
    assert y.tolist() != [i % 3 for i in range(90)], "labels are shuffled"
    centres = np.stack([X[y == c].mean(0) for c in range(3)])
    assert np.all(np.abs(centres) <= 5.0 + 0.1)
    for c in range(3):
        assert np.linalg.norm(X[y == c] - centres[c], axis=1).max() < 1.0
