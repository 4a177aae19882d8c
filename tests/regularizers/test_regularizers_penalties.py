"""Regularizers: penalty values, gradients (formula and central differences), Keras defaults."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from nnx import regularizers as R
from nnx.backends import Backend

W = np.array([[1.0, -2.0, 0.5], [0.0, -0.25, 3.0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("reg", "expected"),
    [
        (R.L1(0.1), 0.1 * (1 + 2 + 0.5 + 0 + 0.25 + 3)),
        (R.L2(0.1), 0.1 * (1 + 4 + 0.25 + 0 + 0.0625 + 9)),
        (R.L1L2(l1=0.2, l2=0.3), 0.2 * 6.75 + 0.3 * 14.3125),
        (R.L1L2(l1=0.2), 0.2 * 6.75),
        (R.L1L2(l2=0.3), 0.3 * 14.3125),
        (R.L1L2(), 0.0),
    ],
    ids=repr,
)
def test_penalty_values(backend: Backend, reg: R.Regularizer, expected: float, dtype: str) -> None:
    w = backend.asarray(W, dtype=dtype)
    penalty = reg(w)
    assert tuple(penalty.shape) == ()
    assert backend.dtype_name(penalty) == dtype
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(float(backend.to_numpy(penalty)), expected, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("reg", "expected"),
    [
        (R.L1(0.1), 0.1 * np.sign(W)),
        (R.L2(0.1), 0.2 * W),
        (R.L1L2(l1=0.2, l2=0.3), 0.2 * np.sign(W) + 0.6 * W),
        (R.L1L2(), np.zeros_like(W)),
    ],
    ids=repr,
)
def test_gradient_formula(backend: Backend, reg: R.Regularizer, expected, dtype: str) -> None:
    w = backend.asarray(W, dtype=dtype)
    g = reg.gradient(w)
    assert tuple(g.shape) == W.shape
    assert backend.dtype_name(g) == dtype
    np.testing.assert_allclose(backend.to_numpy(g), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "reg",
    [R.L1(0.3), R.L2(0.7), R.L1L2(l1=0.2, l2=0.4), R.l1_l2()],
    ids=repr,
)
def test_gradient_matches_central_differences(backend: Backend, reg: R.Regularizer) -> None:
    rng = np.random.default_rng(0)
    # keep entries away from 0, where |w| has a kink
    host = rng.uniform(0.2, 2.0, size=(4, 5)) * rng.choice([-1.0, 1.0], size=(4, 5))
    analytic = backend.to_numpy(reg.gradient(backend.asarray(host, dtype="float64")))
    numeric = np.empty_like(host)
    h = 1e-6
    for i in np.ndindex(host.shape):
        plus, minus = host.copy(), host.copy()
        plus[i] += h
        minus[i] -= h
        f_plus = float(backend.to_numpy(reg(backend.asarray(plus, dtype="float64"))))
        f_minus = float(backend.to_numpy(reg(backend.asarray(minus, dtype="float64"))))
        numeric[i] = (f_plus - f_minus) / (2 * h)
    rel = np.abs(analytic - numeric).max() / max(np.abs(analytic).max(), np.abs(numeric).max())
    assert rel < 1e-6


def test_sign_of_zero_is_zero(backend: Backend) -> None:
    g = R.L1(1.0).gradient(backend.asarray([0.0, 2.0, -3.0], dtype="float64"))
    np.testing.assert_array_equal(backend.to_numpy(g), [0.0, 1.0, -1.0])


def test_factories_and_defaults() -> None:
    assert R.l1().get_config() == {"l1": 0.01}
    assert R.l2().get_config() == {"l2": 0.01}
    assert R.l1(0.5).l1 == 0.5
    assert R.l2(0.5).l2 == 0.5
    assert R.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    assert R.l1_l2(l1=0.0, l2=0.2).get_config() == {"l1": 0.0, "l2": 0.2}
    assert R.L1().l1 == 0.01
    assert R.L2().l2 == 0.01
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert isinstance(R.l1(), R.L1) and isinstance(R.l2(), R.L2)
    assert isinstance(R.l1_l2(), R.L1L2)


def test_repr() -> None:
    assert repr(R.L2(0.5)) == "L2(l2=0.5)"
    assert repr(R.l1_l2()) == "L1L2(l1=0.01, l2=0.01)"


def test_int_factors_become_floats() -> None:
    assert R.L2(1).l2 == 1.0 and isinstance(R.L2(1).l2, float)


def test_no_numpy_or_cupy_import() -> None:
    tree = ast.parse(inspect.getsource(R))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert not imported & {"numpy", "cupy"}
