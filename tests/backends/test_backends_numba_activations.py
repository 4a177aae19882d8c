"""The numba activation and cross-entropy kernels give the numbers of nnx.functional."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import activations
from nnx.backends import get_backend, numba_paths
from nnx.backends.numba_activations import CODES
from nnx.functional import losses as FL

NAMES = sorted(set(CODES) - {"linear"})


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3.0, size=shape).astype(dtype)
    x.flat[:4] = [0.0, 3.0, -3.0, 6.0][: x.size]  # the kinks of relu6 / hard_sigmoid / step
    return x


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bias_activation_forward_and_backward(numba, close, monkeypatch, name, dtype):
    numba(True)
    monkeypatch.setattr(numba_paths, "FUSED_FORWARD", frozenset(CODES))  # every kernel branch
    monkeypatch.setattr(numba_paths, "FUSED_BACKWARD", frozenset(CODES))
    b = get_backend("numpy")
    act = activations.get(name, **({"alpha": 0.3} if name in ("leaky_relu", "elu") else {}))
    alpha = float(act.config.get("alpha", 0.0))
    z, bias = _data((37, 19), dtype), _data((19,), dtype, 1)
    expected_z = z + bias
    expected = act.forward(expected_z)
    y = b.activation_forward(z, bias, name, alpha)
    assert y is not None
    close(z, expected_z)  # the bias was added in place
    close(y, expected)
    dy = _data((19, 37), dtype, 2).T  # non-contiguous
    dx = b.activation_backward(dy, z, y, name, alpha)
    assert dx is not None
    close(dx, act.backward(dy, z, expected))


def test_small_calls_stay_in_numpy(monkeypatch):
    from nnx.backends import numba_paths

    monkeypatch.delenv(numba_paths.ENV, raising=False)
    z = _data((3, 4), "float64")
    assert numba_paths.kernels(z.size) is None  # numba is not even imported for them
    assert get_backend("numpy").activation_forward(z, None, "relu") is None


def test_only_the_activations_numba_runs_faster_take_the_kernel(numba):
    numba(True)
    b = get_backend("numpy")
    z = _data((3, 4), "float32")
    assert b.activation_forward(z.copy(), None, "relu") is not None
    assert b.activation_forward(z.copy(), None, "tanh") is None  # NumPy's SIMD tanh is faster
    assert b.activation_backward(z, z, z, "tanh") is not None  # dy (1 - y^2): arithmetic
    assert b.activation_backward(z, z, z, "gelu") is None


def test_activation_kernels_decline_without_numba(numba):
    numba(False)
    b = get_backend("numpy")
    z = _data((3, 4), "float64")
    assert b.activation_forward(z, None, "relu") is None
    assert b.activation_backward(z, z, z, "relu") is None
    numba(True)
    assert b.activation_forward(z, None, "no_such_activation") is None
    assert b.activation_forward(z.astype("float16"), None, "relu") is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_four_d_activations_take_the_rows_of_the_last_axis(numba, close, dtype):
    numba(True)
    b = get_backend("numpy")
    z = _data((2, 5, 5, 3), dtype)
    y = b.activation_forward(z.copy(), None, "relu6")
    close(y, nnx.functional.activations.relu6(z))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("method", "reference", "labels"),
    [
        ("sigmoid_crossentropy", FL.binary_crossentropy_logits_value_and_grad, "binary"),
        ("softmax_crossentropy", FL.categorical_crossentropy_logits_value_and_grad, "onehot"),
    ],
)
def test_crossentropy_value_and_gradient(numba, close, method, reference, labels, dtype):
    numba(True)
    b = get_backend("numpy")
    z = _data((33, 7), dtype) * 10
    rng = np.random.default_rng(3)
    if labels == "binary":
        y = rng.integers(0, 2, size=z.shape).astype(dtype)
    else:
        y = np.eye(7, dtype=dtype)[rng.integers(0, 7, size=33)] * 0.9 + 0.1 / 7
    fast = getattr(b, method)(y, z)
    assert fast is not None
    value, grad = reference(y, z)
    close(fast[0], value)
    close(fast[1], grad)


@pytest.mark.parametrize("loss", ["binary_crossentropy", "categorical_crossentropy"])
def test_losses_take_the_fused_kernel(numba, close, loss):
    rng = np.random.default_rng(4)
    z = rng.normal(size=(8, 3))
    y = np.eye(3)[rng.integers(0, 3, size=8)]
    fn = nnx.losses.get(loss).with_logits()
    numba(False)
    value, grad = fn.value_and_gradient(y, z)
    numba(True)
    fast_value, fast_grad = fn.value_and_gradient(y, z)
    close(np.asarray(fast_value), np.asarray(value))
    close(fast_grad, grad)
