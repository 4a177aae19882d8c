"""nnx.data: minibatches, train_test_split, StandardScaler, one_hot and the seeded host_rng."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nnx import data, datasets


def test_minibatches_in_order_and_shuffled(backend):
    X = backend.asarray(np.arange(10.0).reshape(5, 2))
    y = backend.asarray(np.arange(5))
    plain = list(data.minibatches(X, y, batch_size=2))
    assert [backend.to_numpy(yb).tolist() for _, yb in plain] == [[0, 1], [2, 3], [4]]
    batches = list(data.minibatches(X, y, batch_size=2, shuffle=True, seed=0))
    assert [b.shape[0] for b, _ in batches] == [2, 2, 1]
    seen = np.concatenate([backend.to_numpy(yb) for _, yb in batches])
    assert sorted(seen.tolist()) == [0, 1, 2, 3, 4] and seen.tolist() != [0, 1, 2, 3, 4]
    for xb, yb in batches:  # rows stay paired
        np.testing.assert_array_equal(backend.to_numpy(xb)[:, 0], 2 * backend.to_numpy(yb))
    again = list(data.minibatches(X, y, batch_size=2, shuffle=True, seed=0))
    assert [backend.to_numpy(yb).tolist() for _, yb in again] == [
        backend.to_numpy(yb).tolist() for _, yb in batches
    ]
    assert [yb for _, yb in data.minibatches(X, batch_size=4)] == [None, None]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "minibatches: batch_size must be a positive int, .*batch_size=0"),
        ({"batch_size": True}, "batch_size=True"),
        ({"batch_size": 2.0}, "batch_size=2.0"),
        ({"shuffle": True, "seed": -1}, "minibatches: seed must be a non-negative int"),
    ],
)
def test_minibatches_refuses_bad_arguments(backend, kwargs, match):
    X = backend.asarray(np.zeros((3, 1)))
    with pytest.raises(ValueError, match=match):
        next(data.minibatches(X, **kwargs))


def test_minibatches_refuses_unequal_rows(backend):
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        next(data.minibatches(backend.asarray(np.zeros((3, 1))), backend.asarray([0, 1])))


def test_one_hot(backend):
    codes = backend.to_numpy(data.one_hot(backend.asarray([2, 0]), 3))
    assert codes.tolist() == [[0, 0, 1], [1, 0, 0]] and codes.dtype == np.float32
    assert backend.to_numpy(data.one_hot(backend.asarray([1, 3]))).shape == (2, 4)


def test_standard_scaler(backend):
    X = backend.asarray(np.array([[0.0, 5.0, 1.0], [2.0, 5.0, 3.0], [4.0, 5.0, 8.0]]))
    scaler = data.StandardScaler().fit(X)
    Z = backend.to_numpy(scaler.transform(X))
    np.testing.assert_allclose(Z.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(0), [1.0, 0.0, 1.0], atol=1e-12)  # constant stays 0
    np.testing.assert_allclose(backend.to_numpy(scaler.scale_)[1], 1.0)
    restored = backend.to_numpy(scaler.inverse_transform(scaler.transform(X)))
    np.testing.assert_allclose(restored, backend.to_numpy(X), atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(data.StandardScaler().fit_transform(X)), Z)
    with pytest.raises(RuntimeError, match="fit"):
        data.StandardScaler().transform(X)


def test_train_test_split() -> None:
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20, dtype=np.int64)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert X_train.shape == (15, 2) and X_test.shape == (5, 2)
    assert y_train.shape == (15,) and y_test.shape == (5,)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(20))
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)  # rows stay paired
    assert y_train.tolist() != sorted(y_train.tolist()), "the split is shuffled"
    again = data.train_test_split(X, y, test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[3], y_test)
    assert data.train_test_split(X, y, test_size=3, seed=0)[1].shape == (3, 2)
    assert data.train_test_split(X, y, test_size=0.01, seed=0)[1].shape == (1, 2)
    assert data.train_test_split(X, y, test_size=np.int64(19), seed=0)[0].shape == (1, 2)


def test_datasets_re_exports_train_test_split() -> None:
    assert datasets.train_test_split is data.train_test_split


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: data.train_test_split([[1], [2]], [1], 0.5), r"y.shape=\(1,\)"),
        (lambda: data.train_test_split([[1]], [1], 0.5), r"rows \(>= 2\)"),
        (lambda: data.train_test_split([[1], [2]], [1, 2], 1.5), "test_size=1.5"),
        (lambda: data.train_test_split([[1], [2]], [1, 2], 1.0), "test_size=1.0"),
        (lambda: data.train_test_split([[1], [2]], [1, 2], 0.0), "test_size=0.0"),
        (lambda: data.train_test_split([[1], [2]], [1, 2], 2), "at least one of the 2 samples"),
        (lambda: data.train_test_split([[1], [2]], [1, 2], 0), "test_size=0"),
        (lambda: data.train_test_split([[1], [2]], [1, 2], "a"), "test_size='a'"),
        (lambda: data.train_test_split([[1], [2]], [1, 2], 0.5, seed=1.5), "seed=1.5"),
    ],
)
def test_train_test_split_refuses_bad_arguments(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=f"train_test_split: .*{match}"):
        call()


def test_host_rng() -> None:
    a, b = data.host_rng(3), data.host_rng(3)
    assert a.host_permutation(10).tolist() == b.host_permutation(10).tolist()
    assert a.backend.name == "numpy"
    assert data.host_rng(None).host_permutation(3).shape == (3,)
    with pytest.raises(ValueError, match="make_x: seed must be a non-negative int, .*seed=-2"):
        data.host_rng(-2, "make_x")
