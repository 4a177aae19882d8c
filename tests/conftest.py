"""Shared fixtures: every array test runs once per backend.

``NNX_TEST_BACKENDS=numpy,cupy`` picks a subset; by default every backend that works here
(numpy, array_api_strict and array_api_strict:device1 in CI, cupy where a CUDA device answers).
``array_api_strict:device1`` plays a GPU: its arrays refuse ``numpy.asarray`` and mixing with
arrays of another device, so a host conversion or a wrong-device array inside nnx fails here.
"""

from __future__ import annotations

import os

import pytest

import nnx.backends as nb


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
