"""Fixtures of the numba kernel tests: numba switched on or off, and the tolerance check."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from nnx.backends import numba_paths
from nnx.backends.numba_paths import ENV


@pytest.fixture
def numba(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """``numba(True)`` turns the numba kernels on for arrays of any size (numba must be
    installed: it is in the ``test`` extra), ``numba(False)`` off, for the rest of the test."""
    pytest.importorskip("numba", reason='the numba kernels need: pip install "nnx-array[fast]"')
    monkeypatch.setattr(numba_paths, "MIN_SIZE", 0)

    def switch(on: bool) -> None:
        monkeypatch.setenv(ENV, "1" if on else "0")

    return switch


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """The issue's tolerance: float32 ``rtol=1e-5``, float64 ``rtol=1e-12``, with an absolute
    floor of the same size relative to the largest value (differences of rounding order near
    zero)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    rtol = 1e-5 if expected.dtype == np.float32 else 1e-12
    finite = expected[np.isfinite(expected)]
    scale = float(np.abs(finite).max()) if finite.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale * 0.1)


@pytest.fixture
def close() -> Callable[[np.ndarray, np.ndarray], None]:
    """:func:`assert_close`."""
    return assert_close
