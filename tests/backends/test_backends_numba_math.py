"""The vectorizable ``exp``, ``sigmoid`` and ``tanh`` of the numba kernels against NumPy
(float64 reference): float32 to rtol 1e-6 over [-100, 100], the overflow and underflow edges,
``±inf``, NaN, ``-0.0`` and the saturation past |x| > 20; float64 to rtol 1e-12."""

from __future__ import annotations

import numpy as np
import pytest

numba = pytest.importorskip("numba")
from nnx.backends import numba_math  # noqa: E402

FUNCTIONS = {
    "exp": np.exp,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
}
EDGES = [np.inf, -np.inf, np.nan, -0.0, 0.0, 1e-30, -1e-30, 1e-40, -1e-40]
EDGES += [88.7, 88.72, 88.73, 89.0, -87.3, -87.4, -103.9, -103.97, -104.0, -150.0]
EDGES += [20.0, 20.5, -20.5, 45.0, -45.0, 1e30, -1e30]


@numba.njit(error_model="numpy")
def _apply(x, out, which):  # type: ignore[no-untyped-def]
    for i in range(x.size):
        if which == 0:
            out[i] = numba_math.exp(x[i])
        elif which == 1:
            out[i] = numba_math.sigmoid(x[i])
        else:
            out[i] = numba_math.tanh(x[i])


def _inputs(dtype: str) -> np.ndarray:
    return np.concatenate([np.linspace(-100, 100, 40001), EDGES]).astype(dtype)


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize(("dtype", "rtol"), [("float32", 1e-6), ("float64", 1e-12)])
def test_matches_numpy_over_the_range_and_the_edges(name, dtype, rtol):
    x = _inputs(dtype)
    out = np.empty_like(x)
    _apply(x, out, list(FUNCTIONS).index(name))
    assert out.dtype == np.dtype(dtype)
    with np.errstate(over="ignore"):
        want = FUNCTIONS[name](x.astype("float64")).astype(dtype)
    # below the smallest normal number only the absolute error counts (subnormal results)
    np.testing.assert_allclose(out, want, rtol=rtol, atol=np.finfo(dtype).tiny)
    assert np.array_equal(np.isnan(out), np.isnan(x))
    assert np.array_equal(np.isinf(out), np.isinf(want))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_signs_saturation_and_limits(dtype):
    x = np.array([-0.0, 0.0, np.inf, -np.inf, 21.0, -21.0, 100.0, -100.0], dtype=dtype)
    out = {}
    for which, name in enumerate(FUNCTIONS):
        out[name] = np.empty_like(x)
        _apply(x, out[name], which)
    assert np.signbit(out["tanh"][0]) and not np.signbit(out["tanh"][1])
    np.testing.assert_array_equal(out["exp"][:4], [1.0, 1.0, np.inf, 0.0])
    np.testing.assert_array_equal(out["sigmoid"][:4], [0.5, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(out["tanh"][2:4], [1.0, -1.0])
    # saturated: tanh is ±1 past |x| > 20, and sigmoid 1 in float32 (1 - 8e-10 in float64)
    np.testing.assert_array_equal(out["tanh"][4:], [1.0, -1.0, 1.0, -1.0])
    if dtype == "float32":
        np.testing.assert_array_equal(out["sigmoid"][[4, 6]], [1.0, 1.0])
    else:
        assert 1.0 - out["sigmoid"][4] == pytest.approx(np.exp(-21.0), rel=1e-6)
    assert 0.0 < out["sigmoid"][5] < 1e-9  # no cancellation on the negative side


def test_python_stubs_agree_with_math():
    assert numba_math.exp(1.0) == pytest.approx(np.e)
    assert numba_math.sigmoid(-3.0) == pytest.approx(1 / (1 + np.exp(3.0)))
    assert numba_math.tanh(0.5) == pytest.approx(np.tanh(0.5))


@numba.njit(error_model="numpy")
def _scaled_by_third(row):  # type: ignore[no-untyped-def]
    third = numba_math.in_dtype_of(1.0 / 3.0, row)
    return third, row[0] * third


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_in_dtype_of_keeps_a_float32_loop_in_float32(dtype):
    """A float64 scalar (a sum, ``1.0 / x``) cast to the array's dtype: the product with a
    float32 element stays float32 (a Python float would make it float64)."""
    row = np.ones(2, dtype=dtype)
    third, product = _scaled_by_third(row)
    element = numba.from_dtype(row.dtype)
    (signature,) = [s for s in _scaled_by_third.nopython_signatures if s.args[0].dtype == element]
    assert signature.return_type == numba.types.UniTuple(element, 2)
    assert third == product == float(np.dtype(dtype).type(1.0 / 3.0))
    assert numba_math.in_dtype_of(0.5, row) == 0.5  # the plain Python stub too
