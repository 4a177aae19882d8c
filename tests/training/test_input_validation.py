"""Bad input at the public boundary: every refusal names the argument and echoes the value,
on every backend, and every argument of fit/evaluate/predict has such a refusal."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import nnx
from nnx.layers import Dense
from nnx.saving.state import require_built
from nnx.training.inputs import (
    model_inputs,
    model_sample_weights,
    model_targets,
    require_compiled,
)

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
MSE3 = ("mse", 3, None)

# (model, method, kwargs, error type, words the message must contain)
BAD = [
    (BIN, "fit", {"x": X.astype(object), "y": Y_BIN}, TypeError, ["x", "object"]),
    (BIN, "fit", {"x": np.array([["a"] * 3] * 12), "y": Y_BIN}, TypeError, ["x", "<U1"]),
    (BIN, "fit", {"x": X[:0], "y": Y_BIN[:0]}, ValueError, ["x", "(0, 3)"]),
    (BIN, "fit", {"x": None, "y": Y_BIN}, ValueError, ["x", "None"]),
    (BIN, "fit", {"x": X, "y": None}, ValueError, ["y", "None"]),
    (BIN, "fit", {"x": X[:10], "y": Y_BIN}, ValueError, ["x has 10", "y has 12"]),
    (MSE3, "fit", {"x": X, "y": Y_BIN[:, 0]}, ValueError, ["y", "(12,)", "(batch, 3)"]),
    (MSE3, "fit", {"x": X, "y": Y_BIN}, ValueError, ["y", "(12, 1)", "(batch, 3)"]),
    (BIN, "fit", {"x": X, "y": Y_BIN * 3}, ValueError, ["[0, 1]", "[0, 3]"]),
    (BIN, "fit", {"x": np.full((12, 3), np.nan), "y": Y_BIN}, ValueError, ["x", "NaN"]),
    (BIN, "fit", {"x": X[:, :2], "y": Y_BIN}, ValueError, ["(12, 2)", "expected"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "batch_size": 0}, ValueError, ["batch_size=0"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "batch_size": 2.5}, ValueError, ["batch_size=2.5"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "epochs": -1}, ValueError, ["epochs=-1"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "verbose": 5}, ValueError, ["verbose=5"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "initial_epoch": -1}, ValueError, ["initial_epoch=-1"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "shuffle": "yes"}, ValueError, ["shuffle='yes'"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "callbacks": [print]}, TypeError, ["callbacks", "builtin"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "validation_split": 1.5}, ValueError, ["1.5"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "validation_data": X}, ValueError, ["validation_data"]),
    (
        BIN,
        "fit",
        {"x": X, "y": Y_BIN, "validation_data": (X, Y_BIN, np.ones(3))},
        ValueError,
        ["sample_weight", "(3,)"],
    ),
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
    (BIN, "fit", {"x": X, "y": Y_BIN, "steps_per_epoch": 0}, ValueError, ["steps_per_epoch=0"]),
    (BIN, "fit", {"x": X, "y": Y_BIN, "validation_steps": -1}, ValueError, ["validation_steps"]),
    (BIN, "evaluate", {"x": X, "y": Y_BIN, "steps": 0}, ValueError, ["steps=0"]),
    (BIN, "predict", {"x": X, "steps": 1.5}, ValueError, ["steps=1.5"]),
    (BIN, "predict", {"x": X, "verbose": 7}, ValueError, ["verbose=7"]),
    (BIN, "evaluate", {"x": X, "y": Y_BIN[:3]}, ValueError, ["x has 12", "y has 3"]),
    (BIN, "evaluate", {"x": X.astype(object), "y": Y_BIN}, TypeError, ["x", "object"]),
    (BIN, "evaluate", {"x": X, "y": Y_BIN, "batch_size": -2}, ValueError, ["batch_size=-2"]),
    (BIN, "evaluate", {"x": X, "y": Y_BIN, "sample_weight": np.ones(3)}, ValueError, ["(3,)"]),
    (BIN, "predict", {"x": X[:, :1]}, ValueError, ["(12, 1)"]),
    (BIN, "predict", {"x": "abc"}, TypeError, ["x", "str"]),
    (BIN, "predict", {"x": np.inf * X}, ValueError, ["x", "infinite"]),
    (BIN, "predict", {"x": X, "batch_size": None}, ValueError, ["batch_size=None"]),
]


#: arguments without a refusal of their own: any value is accepted
UNCHECKED = {"evaluate": {"verbose", "return_dict"}}


@pytest.mark.parametrize("spec, method, kwargs, error, words", BAD)
def test_bad_input_is_refused_with_a_clear_message(spec, method, kwargs, error, words, backend):
    model = _model(*spec, backend=backend)
    with np.errstate(all="ignore"), pytest.raises(error) as info:
        getattr(model, method)(**{"verbose": 0, **kwargs} if method != "predict" else kwargs)
    message = str(info.value)
    assert all(w in message for w in words), message


def _culprits(spec, kwargs):
    """The arguments of a BAD row that differ from a valid call."""
    valid = {"x": X, "y": {BIN: Y_BIN, SPARSE: Y_INT, CCE: Y_HOT, MSE: Y_BIN, MSE3: Y_HOT}[spec]}
    return {k for k, v in kwargs.items() if valid.get(k, object()) is not v}


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_every_argument_has_a_refusal(method):
    """Each argument of the method is the bad one in some row of BAD, apart from the few that
    accept anything."""
    arguments = set(inspect.signature(getattr(nnx.Sequential, method)).parameters) - {"self"}
    bad = set().union(*(_culprits(spec, kw) for spec, m, kw, _, _ in BAD if m == method))
    assert bad == arguments - UNCHECKED.get(method, set())


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float64", "uint8"])
def test_integer_and_bool_inputs_are_cast_to_the_model_float(backend, dtype):
    model = _model(*BIN, backend=backend)
    x = (X > 0).astype(dtype)
    history = model.fit(x, Y_BIN, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.predict(x).dtype == np.float32


def test_the_public_conversion_functions(backend):
    model = _model(*SPARSE, backend=backend)
    x, y = model_inputs(model, X.astype("int32")), model_targets(model, Y_INT.astype(float))
    assert backend.dtype_name(x) == "float32" and backend.dtype_name(y) == "int64"
    assert model_sample_weights(model, None, 12) is None
    assert backend.to_numpy(model_sample_weights(model, [2] * 12, 12)).tolist() == [2.0] * 12
    with pytest.raises(ValueError, match="validation_data\\[1\\] must hold integer class labels"):
        model_targets(model, Y_INT + 0.5, "validation_data[1]")
    fresh = nnx.Sequential([Dense(2)], backend=backend)
    with pytest.raises(RuntimeError, match=r"You must call compile\(\) before train_step\(\)"):
        require_compiled(fresh, "train_step")
    with pytest.raises(RuntimeError, match=r"'sequential' is not built, so predict\(\) has no"):
        require_built(fresh, "predict")
