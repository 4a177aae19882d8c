"""Shared fixtures: every array test runs once per backend.

``NNX_TEST_BACKENDS=numpy,cupy`` picks a subset; by default every backend that works here
(numpy, array_api_strict and array_api_strict:device1 in CI, cupy where a CUDA device answers).
``array_api_strict:device1`` plays a GPU: its arrays refuse ``numpy.asarray`` and mixing with
arrays of another device, so a host conversion or a wrong-device array inside nnx fails here.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest

import nnx.backends as nb
from nnx.backends import numba_paths


def _test_backends() -> list[str]:
    wanted = os.environ.get("NNX_TEST_BACKENDS")
    if wanted:
        names = [w.strip() for w in wanted.split(",") if w.strip()]
        for name in names:
            nb.get_backend(name)  # an unavailable backend that was asked for is an error
        return names
    return nb.available()


BACKENDS = _test_backends()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> nb.Backend:
    """Each available backend in turn."""
    return nb.get_backend(request.param)


@pytest.fixture
def to_np(backend: nb.Backend):
    """Move an array of ``backend`` to a host NumPy array."""
    return backend.to_numpy


@pytest.fixture
def numba(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """``numba(True)`` turns the numba kernels on for arrays of any size (numba must be
    installed: it is in the ``test`` extra), ``numba(False)`` off, for the rest of the test."""
    pytest.importorskip("numba", reason='the numba kernels need: pip install "nnx-array[fast]"')
    monkeypatch.setattr(numba_paths, "MIN_SIZE", 0)
    monkeypatch.setattr(numba_paths, "MIN_CHANNELS", {"im2col": 0, "col2im": 0})

    def switch(on: bool) -> None:
        monkeypatch.setenv(numba_paths.ENV, "1" if on else "0")

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
