"""The input papercuts of issue 14: each gets the right message or the right behaviour."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense


def _regressor(backend):
    model = nnx.Sequential([Dense(1, input_shape=(2,))], backend=backend, seed=0)
    model.compile("sgd", "mse")
    return model


def _classifier(backend):
    model = nnx.Sequential(
        [Dense(3, activation="softmax", input_shape=(2,))], backend=backend, seed=0
    )
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


X = np.arange(12, dtype=np.float64).reshape(6, 2)


def test_float64_beyond_float32_is_reported_as_out_of_range(backend):
    x = X.copy()
    x[2, 1] = 1e300
    with pytest.raises(ValueError, match=r"x holds values up to 1e\+300 .*range of float32"):
        _regressor(backend).fit(x, np.ones((6, 1)), verbose=0)
    x[2, 1] = np.inf
    with pytest.raises(ValueError, match="x contains 1 NaN or infinite"):
        _regressor(backend).fit(x, np.ones((6, 1)), verbose=0)


def test_a_float64_model_takes_what_float32_cannot(backend):
    model = nnx.Sequential([Dense(1, input_shape=(2,))], backend=backend, dtype="float64")
    model.compile("sgd", "mse")
    x = X * 1e-300 + 1e300
    assert model.predict(x).shape == (6, 1)


def test_huge_sparse_labels_are_echoed_as_given(backend):
    y = np.array([0, 1, 1e30, 2, 0, 1])
    with pytest.raises(ValueError, match=r"y must hold class indices .*magnitude 1e\+30") as info:
        _classifier(backend).fit(X, y, verbose=0)
    assert "-9223372036854775808" not in str(info.value)


def test_class_weight_takes_numpy_keys_and_values(backend):
    y = np.array([0, 1, 2, 2, 1, 0])
    labels, counts = np.unique(y, return_counts=True)  # np.int64 keys and values
    for class_weight in (
        dict(zip(labels, counts, strict=True)),
        {np.int64(0): np.float32(0.5), np.int64(2): np.float64(2.0)},
    ):
        history = _classifier(backend).fit(X, y, class_weight=class_weight, verbose=0)
        assert np.isfinite(history.history["loss"][0])


class _Frame:
    """What nnx reads of a pandas DataFrame: ``dtypes`` (one per column) and ``to_numpy``."""

    def __init__(self, columns):
        self.columns = columns
        self.dtypes = [c.dtype for c in columns]

    def to_numpy(self, dtype=None):
        return np.stack([c.astype(dtype) for c in self.columns], axis=1)


def test_a_numeric_table_with_a_bool_column_is_taken(backend):
    frame = _Frame([X[:, 0], X[:, 1] > 4])
    model = _regressor(backend)
    model.fit(frame, np.ones((6, 1)), verbose=0)
    expected = np.stack([X[:, 0], (X[:, 1] > 4).astype(float)], axis=1)
    assert model.predict(frame) == pytest.approx(model.predict(expected))
    with pytest.raises(TypeError, match="must hold numbers"):
        model.fit(_Frame([X[:, 0], np.array(list("abcdef"))]), np.ones((6, 1)), verbose=0)


def test_a_masked_array_is_refused_unless_nothing_is_masked(backend):
    model = _regressor(backend)
    masked = np.ma.masked_array(X, mask=np.zeros_like(X, dtype=bool))
    masked[3, 0] = np.ma.masked
    with pytest.raises(ValueError, match="x is a masked array with 1 masked value"):
        model.fit(masked, np.ones((6, 1)), verbose=0)
    unmasked = np.ma.masked_array(X, mask=False)
    assert model.predict(unmasked) == pytest.approx(model.predict(X))
