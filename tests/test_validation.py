"""Bad input at the public boundary: every refusal names the argument and echoes the value."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense

X = np.random.default_rng(0).normal(size=(12, 3)).astype("float32")
Y_BIN = (X[:, :1] > 0).astype("float32")
Y_INT = np.arange(12) % 3
Y_HOT = np.eye(3, dtype="float32")[Y_INT]


def _model(loss, units=1, activation="sigmoid", backend="numpy"):
    model = nnx.Sequential(
        [Dense(4, activation="relu", input_shape=(3,)), Dense(units, activation=activation)],
        backend=backend,
        seed=0,
    )
    model.compile("adam", loss)
    return model


BIN = ("binary_crossentropy", 1, "sigmoid")
SPARSE = ("sparse_categorical_crossentropy", 3, "softmax")
CCE = ("categorical_crossentropy", 3, "softmax")
MSE = ("mse", 1, None)

# (model, method, kwargs, error type, words the message must contain)
BAD = [
    (BIN, "fit", {"x": X.astype(object), "y": Y_BIN}, TypeError, ["x", "object"]),
    (BIN, "fit", {"x": np.array([["a"] * 3] * 12), "y": Y_BIN}, TypeError, ["x", "<U1"]),
    (BIN, "fit", {"x": X[:0], "y": Y_BIN[:0]}, ValueError, ["x", "(0, 3)"]),
    (BIN, "fit", {"x": None, "y": Y_BIN}, ValueError, ["x", "None"]),
    (BIN, "fit", {"x": X, "y": None}, ValueError, ["y", "None"]),
    (BIN, "fit", {"x": X[:10], "y": Y_BIN}, ValueError, ["x has 10", "y has 12"]),
    (BIN, "fit", {"x": X, "y": Y_BIN[:, 0]}, ValueError, ["y", "(12,)", "reshape"]),
    (BIN, "fit", {"x": X, "y": Y_BIN * 3}, ValueError, ["[0, 1]", "[0, 3]"]),
    (BIN, "fit", {"x": np.full((12, 3), np.nan), "y": Y_BIN}, ValueError, ["x", "NaN"]),
    (BIN, "fit", {"x": X[:, :2], "y": Y_BIN}, ValueError, ["(12, 2)", "expected"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "batch_size": 0}, ValueError, ["batch_size=0"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "batch_size": 2.5}, ValueError, ["batch_size=2.5"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "epochs": -1}, ValueError, ["epochs=-1"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "verbose": 5}, ValueError, ["verbose=5"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "validation_split": 1.5}, ValueError, ["1.5"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "validation_data": X}, ValueError, ["validation_data"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "sample_weight": np.ones(5)}, ValueError, ["(5,)"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "sample_weight": -np.ones(12)}, ValueError, [">= 0"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "sample_weight": ["a"] * 12}, TypeError, ["sample_weig"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "class_weight": [1, 2]}, ValueError, ["[1, 2]"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "class_weight": {}}, ValueError, ["class_weight={}"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "class_weight": {2: 1.0}}, ValueError, ["key 2"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "class_weight": {"0": 1.0}}, ValueError, ["'0'"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "class_weight": {0: -1.0}}, ValueError, ["-1.0"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "class_weight": {0: np.inf}}, ValueError, ["inf"]),
    (MSE, "fit", {"x": X, "y": Y_BIN, "class_weight": {0: 2.0}}, ValueError, ["mean_squa"]),
    (SPARSE, "fit", {"x": X, "y": Y_INT + 3}, ValueError, ["[0, 3)", "[3, 5]"]),
    (SPARSE, "fit", {"x": X, "y": Y_INT - 1}, ValueError, ["[-1, 1]"]),
    (SPARSE, "fit", {"x": X, "y": Y_INT + 0.5}, ValueError, ["y", "integer", "0.5"]),
    (SPARSE, "fit", {"x": X, "y": Y_INT, "class_weight": {3: 1.0}}, ValueError, ["[0, 3)"]),
    (CCE, "fit", {"x": X, "y": Y_INT}, ValueError, ["(12,)", "sparse_categorical"]),
    (CCE, "fit", {"x": X, "y": Y_HOT * 2}, ValueError, ["one-hot", "[0, 2]"]),
    (CCE, "fit", {"x": X, "y": Y_HOT * 0.5}, ValueError, ["row sums in [0.5, 0.5]"]),
    (CCE, "fit", {"x": X, "y": Y_HOT[:, :2]}, ValueError, ["(12, 2)"]),
    (
        CCE,
        "fit",
        {"x": X, "y": Y_HOT, "validation_data": (X, Y_HOT * 3)},
        ValueError,
        ["validation_data[1]", "one-hot"],
    ),
    (BIN, "evaluate", {"x": X, "y": Y_BIN[:3]}, ValueError, ["x has 12", "y has 3"]),
    (BIN, "evaluate", {"x": X.astype(object), "y": Y_BIN}, TypeError, ["x", "object"]),
    (BIN, "evaluate", {"x": X, "y": Y_BIN, "batch_size": -2}, ValueError, ["batch_size=-2"]),
    (BIN, "evaluate", {"x": X, "y": Y_BIN, "sample_weight": np.ones(3)}, ValueError, ["(3,)"]),
    (BIN, "predict", {"x": X[:, :1]}, ValueError, ["(12, 1)"]),
    (BIN, "predict", {"x": "abc"}, TypeError, ["x", "str"]),
    (BIN, "predict", {"x": np.inf * X}, ValueError, ["x", "infinite"]),
    (BIN, "predict", {"x": X, "batch_size": None}, ValueError, ["batch_size=None"]),
]


@pytest.mark.parametrize("spec, method, kwargs, error, words", BAD)
def test_bad_input_is_refused_with_a_clear_message(spec, method, kwargs, error, words):
    model = _model(*spec)
    with np.errstate(all="ignore"), pytest.raises(error) as info:
        getattr(model, method)(**{"verbose": 0, **kwargs} if method != "predict" else kwargs)
    message = str(info.value)
    assert all(w in message for w in words), message


def test_number_of_bad_inputs():
    assert len(BAD) >= 40


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float64", "uint8"])
def test_integer_and_bool_inputs_are_cast_to_the_model_float(backend, dtype):
    model = _model(*BIN, backend=backend)
    x = (X > 0).astype(dtype)
    history = model.fit(x, Y_BIN, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.predict(x).dtype == np.float32


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
