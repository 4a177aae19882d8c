"""nnx.datasets.sklearn: scikit-learn's loaders as float32 / int64, and the missing-extra error."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from nnx import datasets as ds

sklearn_datasets = pytest.importorskip("sklearn.datasets")


def test_loaders_match_scikit_learn() -> None:
    X, y = ds.load_breast_cancer()
    reference = sklearn_datasets.load_breast_cancer()
    assert X.shape == (569, 30) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, reference.data.astype(np.float32))
    np.testing.assert_array_equal(y, reference.target)
    X, y = ds.load_digits()
    assert X.shape == (1797, 64) and sorted(set(y.tolist())) == list(range(10))
    assert X.min() == 0.0 and X.max() == 16.0


def test_make_classification_passes_the_seed_and_arguments() -> None:
    X, y = ds.make_classification(seed=0, n_samples=40, n_features=6, n_classes=3, n_informative=4)
    X_ref, y_ref = sklearn_datasets.make_classification(
        random_state=0, n_samples=40, n_features=6, n_classes=3, n_informative=4
    )
    assert X.shape == (40, 6) and X.dtype == np.float32
    np.testing.assert_array_equal(X, X_ref.astype(np.float32))
    np.testing.assert_array_equal(y, y_ref)


@pytest.mark.parametrize("name", ["load_digits", "load_breast_cancer", "make_classification"])
def test_without_scikit_learn_the_error_names_the_extra(monkeypatch, name) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=rf"nnx.datasets.{name} .*nnx-array\[sklearn\]"):
        getattr(ds, name)()


def test_moons_match_scikit_learn() -> None:
    X, y = ds.make_moons(60, noise=0.0, seed=0)
    X_ref, y_ref = sklearn_datasets.make_moons(60, noise=0.0, shuffle=False)
    for label in (0, 1):
        ours = np.sort(X[y == label].round(5), axis=0)
        np.testing.assert_allclose(ours, np.sort(X_ref[y_ref == label], axis=0), atol=1e-5)
