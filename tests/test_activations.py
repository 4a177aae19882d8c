"""Activations: known values, stability at |x| = 1e4, and float64 gradient checks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nnx
from nnx import activations
from nnx.layers import Activation, Dense

SMOOTH = [
    "linear",
    "sigmoid",
    "tanh",
    "elu",
    "selu",
    "gelu",
    "swish",
    "silu",
    "softplus",
    "softsign",
    "softmax",
    "log_softmax",
    "leaky_relu",
    "relu",
    "relu6",
    "hard_sigmoid",
]


def _reference(name: str, x: np.ndarray) -> np.ndarray:
    sig = 1 / (1 + np.exp(-x))
    table = {
        "linear": x,
        "sigmoid": sig,
        "tanh": np.tanh(x),
        "relu": np.maximum(x, 0),
        "relu6": np.clip(x, 0, 6),
        "leaky_relu": np.where(x > 0, x, 0.01 * x),
        "elu": np.where(x > 0, x, np.exp(x) - 1),
        "selu": 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
        "gelu": 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        "swish": x * sig,
        "silu": x * sig,
        "softplus": np.log1p(np.exp(x)),
        "softsign": x / (1 + np.abs(x)),
        "hard_sigmoid": np.clip(x / 6 + 0.5, 0, 1),
        "step": (x >= 0).astype(x.dtype),
        "softmax": np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    }
    table["log_softmax"] = np.log(table["softmax"])
    return table[name]


@pytest.mark.parametrize("name", [*SMOOTH, "step"])
def test_known_values(backend, name):
    x = np.linspace(-4, 4, 12).reshape(3, 4)
    y = activations.get(name)(backend.asarray(x, dtype="float64"))
    np.testing.assert_allclose(backend.to_numpy(y), _reference(name, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", [*SMOOTH, "step"])
def test_extreme_inputs_are_finite_and_silent(backend, name):
    x = backend.asarray([[-1e4, -30.0, 0.0, 30.0, 1e4]], dtype="float32")
    act = activations.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = act.forward(x)
        dx = act.backward(backend.xp.ones_like(y), x, y)
    assert np.all(np.isfinite(backend.to_numpy(y))), name
    assert np.all(np.isfinite(backend.to_numpy(dx))), name


@pytest.mark.parametrize("name", SMOOTH)
def test_gradient_check(backend, name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5)) * 2
    x[np.abs(x) < 1e-3] += 0.1  # keep away from the kinks of relu-like functions
    x[np.abs(x - 6) < 1e-3] += 0.1
    errors = nnx.gradcheck(Activation(name), x, backend=backend)
    assert errors["input"] < 1e-6


def test_gelu_exact_uses_erf(backend):
    x = np.linspace(-3, 3, 7)
    layer = Activation("gelu_exact")
    y = backend.to_numpy(layer(backend.asarray(x[None], "float64")))
    expected = 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    np.testing.assert_allclose(y[0], expected, rtol=1e-12)
    assert nnx.gradcheck(layer, x[None] + 0.01, backend=backend)["input"] < 1e-6


def test_parametrised_activations():
    assert activations.get("leaky_relu", alpha=0.2).config == {"alpha": 0.2}
    assert Activation("elu", alpha=0.5).activation.config == {"alpha": 0.5}
    with pytest.raises(ValueError, match="takes no parameter"):
        activations.get("relu", alpha=0.1)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown activation 'relux'.*Valid activations:.*relu"):
        Dense(3, activation="relux")


def test_step_warns_when_trained_with_gradients(backend):
    layer = Dense(1, activation="step")
    layer.build((2,), backend, backend.rng(0))
    y, backprop = layer.forward(backend.asarray([[1.0, 2.0]]), training=True)
    with pytest.warns(RuntimeWarning, match="derivative is zero almost everywhere"):
        backprop(backend.xp.ones_like(y))


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        (None, "linear"),
        ("identity", "linear"),
        ("heaviside", "step"),
        ("logistic", "sigmoid"),
        ("leakyrelu", "leaky_relu"),
        ("LeakyReLU", "leaky_relu"),
        ("log-softmax", "log_softmax"),
        ("silu", "silu"),
        ("gelu_exact", "gelu_exact"),
    ],
)
def test_aliases_and_spellings(spec, name):
    assert activations.get(spec).name == name


def test_names_are_the_registered_ones_without_aliases():
    assert activations.names() == sorted([*SMOOTH, "step", "gelu_exact"])
    assert "identity" not in activations.names()
    assert activations.names() == activations.ACTIVATIONS.names()


def test_config_round_trip_in_both_forms():
    act = activations.get("elu", alpha=0.3)
    assert act.get_config() == {"name": "elu", "alpha": 0.3}
    assert activations.get(act.get_config()).config == {"alpha": 0.3}
    serialised = {"class_name": "leaky_relu", "config": {"alpha": 0.2}}
    assert activations.get(serialised).config == {"alpha": 0.2}
    assert activations.get(act) is act


@pytest.mark.parametrize("spec", ["relux", 3, ""])
def test_unknown_names_list_the_valid_ones(spec):
    with pytest.raises(ValueError, match=f"Unknown activation {spec!r}. Valid activations: elu"):
        activations.get(spec)
