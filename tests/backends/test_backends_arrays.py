"""Arrays of a backend: transfers, ownership, devices."""

from __future__ import annotations

import numpy as np
import pytest

import nnx.backends as nb


def test_asarray_and_to_numpy_round_trip(backend):
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = backend.asarray(host)
    assert backend.owns(x) and x.dtype == backend.dtype("float32")
    np.testing.assert_array_equal(backend.to_numpy(x), host)
    assert backend.asarray([[1, 2]], dtype="float64").dtype == backend.dtype("float64")


def test_asarray_moves_arrays_of_other_backends(backend):
    for other in nb.available():
        y = nb.get_backend(other).asarray(np.ones(3, np.float32))
        moved = backend.asarray(y)
        assert backend.owns(moved)
        np.testing.assert_array_equal(backend.to_numpy(moved), np.ones(3))


def test_synchronize_and_device_name(backend):
    backend.synchronize()
    assert isinstance(backend.device_name(), str)
    assert backend.name in repr(backend)


def test_backend_of_unknown_object():
    with pytest.raises(TypeError, match="Expected an array of an nnx backend"):
        nb.backend_of([1, 2])
