"""class_weight: the same training as the matching per-sample weights."""

from __future__ import annotations

import numpy as np

import nnx
from nnx.backends import get_backend
from nnx.layers import Dense
from nnx.training.batching import class_weights

X = np.random.default_rng(0).normal(size=(12, 3)).astype("float32")
Y_BIN = (X[:, :1] > 0).astype("float32")
Y_INT = np.arange(12) % 3
Y_HOT = np.eye(3, dtype="float32")[Y_INT]
BIN = ("binary_crossentropy", 1, "sigmoid")
SPARSE = ("sparse_categorical_crossentropy", 3, "softmax")
CCE = ("categorical_crossentropy", 3, "softmax")


def _model(loss, units=1, activation="sigmoid", backend="numpy"):
    model = nnx.Sequential(
        [Dense(4, activation="relu", input_shape=(3,)), Dense(units, activation=activation)],
        backend=backend,
        seed=0,
    )
    model.compile("adam", loss)
    return model


def test_class_weights_per_label_kind():
    b = get_backend("numpy")
    table = {0: 0.5, 2: 4.0}
    expected = [0.5, 1.0, 4.0, 0.5]
    sparse = class_weights(b, b.asarray([0, 1, 2, 0]), table, "sparse", 3, "float32")
    onehot = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    categorical = class_weights(b, onehot, table, "categorical", 3, "float32")
    binary = class_weights(b, b.asarray([[0.0], [1.0]]), {1: 3.0}, "binary", 2, "float64")
    assert sparse.tolist() == categorical.tolist() == expected
    assert binary.tolist() == [1.0, 3.0] and binary.dtype == np.float64


def test_class_weight_equals_the_matching_sample_weight(backend):
    weights = {0: 0.5, 1: 3.0}
    for spec, y, labels in ((BIN, Y_BIN, Y_BIN[:, 0].astype(int)), (CCE, Y_HOT, Y_INT)):
        a, b = _model(*spec, backend=backend), _model(*spec, backend=backend)
        a.fit(X, y, epochs=2, batch_size=4, verbose=0, class_weight=weights)
        per_sample = np.array([weights.get(int(k), 1.0) for k in labels], "float32")
        b.fit(X, y, epochs=2, batch_size=4, verbose=0, sample_weight=per_sample)
        assert all(
            np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True)
        )


def test_class_weight_multiplies_sample_weight():
    a, b = _model(*SPARSE), _model(*SPARSE)
    sw = np.linspace(0.5, 2.0, 12).astype("float32")
    a.fit(X, Y_INT, epochs=1, verbose=0, sample_weight=sw, class_weight={2: 4.0})
    b.fit(X, Y_INT, epochs=1, verbose=0, sample_weight=sw * np.where(Y_INT == 2, 4.0, 1.0))
    assert all(np.allclose(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))
