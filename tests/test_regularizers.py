"""Tests for ``nnx.regularizers``: values, gradients, factories, registry, validation."""

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


# --- factories and Keras defaults --------------------------------------------------------------


def test_factories_and_defaults() -> None:
    assert R.l1().get_config() == {"name": "l1", "l1": 0.01}
    assert R.l2().get_config() == {"name": "l2", "l2": 0.01}
    assert R.l1(0.5).l1 == 0.5
    assert R.l2(0.5).l2 == 0.5
    assert R.l1_l2().get_config() == {"name": "l1_l2", "l1": 0.01, "l2": 0.01}
    assert R.l1_l2(l1=0.0, l2=0.2).get_config() == {"name": "l1_l2", "l1": 0.0, "l2": 0.2}
    assert R.L1().l1 == 0.01
    assert R.L2().l2 == 0.01
    assert R.L1L2().get_config() == {"name": "l1_l2", "l1": 0.0, "l2": 0.0}
    assert isinstance(R.l1(), R.L1) and isinstance(R.l2(), R.L2)
    assert isinstance(R.l1_l2(), R.L1L2)


def test_repr() -> None:
    assert repr(R.L2(0.5)) == "L2(l2=0.5)"
    assert repr(R.l1_l2()) == "L1L2(l1=0.01, l2=0.01)"


def test_int_factors_become_floats() -> None:
    assert R.L2(1).l2 == 1.0 and isinstance(R.L2(1).l2, float)


# --- registry ----------------------------------------------------------------------------------


def test_names() -> None:
    assert R.names() == ["l1", "l1_l2", "l2"]


@pytest.mark.parametrize(
    ("spec", "config"),
    [
        ("l1", {"name": "l1", "l1": 0.01}),
        ("L1", {"name": "l1", "l1": 0.01}),
        ("l2", {"name": "l2", "l2": 0.01}),
        (" L2 ", {"name": "l2", "l2": 0.01}),
        ("l1_l2", {"name": "l1_l2", "l1": 0.01, "l2": 0.01}),
        ("L1L2", {"name": "l1_l2", "l1": 0.01, "l2": 0.01}),
    ],
)
def test_get_by_name(spec: str, config: dict) -> None:
    assert R.get(spec).get_config() == config


def test_get_none_and_instances() -> None:
    assert R.get(None) is None
    reg = R.L2(0.3)
    assert R.get(reg) is reg

    class Custom:
        def __call__(self, w):
            return w.sum()

        def gradient(self, w):
            return w * 0 + 1

    custom = Custom()
    assert R.get(custom) is custom


@pytest.mark.parametrize("reg", [R.L1(0.2), R.L2(0.3), R.L1L2(0.1, 0.0), R.l1_l2()], ids=repr)
def test_config_round_trip(reg: R.Regularizer) -> None:
    config = reg.get_config()
    rebuilt = R.get(dict(config))
    assert type(rebuilt) is type(reg)
    assert rebuilt.get_config() == config


def test_config_dict_uses_class_defaults() -> None:
    assert R.get({"name": "l1_l2", "l1": 0.5}).get_config() == {
        "name": "l1_l2",
        "l1": 0.5,
        "l2": 0.0,
    }
    assert R.get({"name": "l2"}).l2 == 0.01


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"Unknown regularizer 'l3'\. Valid regularizers: l1, "):
        R.get("l3")
    with pytest.raises(ValueError, match="Unknown regularizer 'elastic'"):
        R.get({"name": "elastic"})


def test_bad_specs() -> None:
    with pytest.raises(ValueError, match="'name' key"):
        R.get({"l2": 0.1})
    with pytest.raises(ValueError, match="Invalid config for regularizer 'l2'"):
        R.get({"name": "l2", "l1": 0.1})
    with pytest.raises(ValueError, match="gradient"):
        R.get(lambda w: w.sum())
    with pytest.raises(ValueError, match=r"Cannot interpret 0\.01"):
        R.get(0.01)  # type: ignore[arg-type]


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: R.L2(-1), "L2: l2 must be >= 0, received l2=-1"),
        (lambda: R.L1(-0.5), "L1: l1 must be >= 0, received l1=-0.5"),
        (lambda: R.L1L2(l1=-0.1), "L1L2: l1 must be >= 0, received l1=-0.1"),
        (lambda: R.L1L2(l2=-2.0), "L1L2: l2 must be >= 0, received l2=-2.0"),
        (lambda: R.l1_l2(l2=-3), "L1L2: l2 must be >= 0, received l2=-3"),
        (lambda: R.l2("0.1"), "L2: l2 must be a finite number, received l2='0.1'"),
        (lambda: R.l1(float("nan")), "L1: l1 must be a finite number, received l1=nan"),
        (lambda: R.L2(float("inf")), "L2: l2 must be a finite number, received l2=inf"),
        (lambda: R.L2(True), "L2: l2 must be a finite number, received l2=True"),
        (lambda: R.get({"name": "l2", "l2": -1}), "L2: l2 must be >= 0, received l2=-1"),
    ],
)
def test_argument_validation(make, message: str) -> None:
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value) == message


# --- purity and docs ---------------------------------------------------------------------------


def test_no_numpy_or_cupy_import() -> None:
    tree = ast.parse(inspect.getsource(R))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert not imported & {"numpy", "cupy"}


def test_every_public_name_has_a_docstring() -> None:
    for name in R.__all__:
        doc = getattr(R, name).__doc__ or ""
        assert doc.strip() and ">>>" in doc, name
