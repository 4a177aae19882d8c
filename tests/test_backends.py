"""Backends: selection order, transfers, seeded generators, clear errors."""

from __future__ import annotations

import contextvars

import numpy as np
import pytest

import nnx
import nnx.backends as nb


def test_default_is_numpy_and_env_var_is_read(monkeypatch):
    monkeypatch.delenv("NNX_BACKEND", raising=False)
    assert nb.get_backend().name == "numpy"
    monkeypatch.setenv("NNX_BACKEND", "array_api_strict")
    assert nb.get_backend().name == "array_api_strict"


def test_selection_order(monkeypatch):
    monkeypatch.setenv("NNX_BACKEND", "numpy")

    def run():
        nb.set_backend("array_api_strict")
        assert nb.get_backend().name == "array_api_strict"
        with nb.use_backend("numpy"):
            assert nb.get_backend().name == "numpy"
            model = nnx.Sequential(backend="array_api_strict")
            assert model.backend.name == "array_api_strict"
        assert nb.get_backend().name == "array_api_strict"

    contextvars.copy_context().run(run)  # set_backend stays inside that context
    assert nb.get_backend().name == "numpy"


def test_unknown_backend_lists_valid_names():
    with pytest.raises(
        ValueError, match="Unknown backend 'torch'. Valid backends: numpy, array_api_strict, cupy"
    ):
        nb.get_backend("torch")


@pytest.mark.skipif("cupy" in nb.available(), reason="cupy works here")
def test_unavailable_backend_names_the_extra():
    with pytest.raises(nb.BackendUnavailableError, match=r'pip install "nnx-array\[cupy\]"'):
        nb.get_backend("cupy")
    assert "cupy" not in nb.available()


def test_available_always_has_numpy():
    assert nb.available()[0] == "numpy"


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


def test_generator_is_seeded_and_identical_across_backends(backend):
    reference = nb.get_backend("numpy").rng(42)
    rng = backend.rng(42)
    for draw in ("normal", "uniform"):
        np.testing.assert_array_equal(
            backend.to_numpy(getattr(rng, draw)((3, 4))), getattr(reference, draw)((3, 4))
        )
    np.testing.assert_array_equal(backend.to_numpy(rng.permutation(10)), reference.permutation(10))
    ints = backend.to_numpy(rng.integers(0, 5, (100,)))
    assert ints.min() >= 0 and ints.max() < 5


def test_bernoulli_mask(backend):
    mask = backend.to_numpy(backend.rng(0).bernoulli((10000,), 0.3))
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert 0.27 < mask.mean() < 0.33


def test_generator_state_round_trip(backend):
    rng = backend.rng(1)
    state = rng.get_state()
    a = backend.to_numpy(rng.normal((5,)))
    rng.set_state(state)
    np.testing.assert_array_equal(a, backend.to_numpy(rng.normal((5,))))


def test_synchronize_and_device_name(backend):
    backend.synchronize()
    assert isinstance(backend.device_name(), str)
    assert backend.name in repr(backend)


def test_matmul_fast_path_matches_operator(backend):
    rng = np.random.default_rng(0)
    a = backend.asarray(rng.normal(size=(5, 4)), "float32")
    b = backend.asarray(rng.normal(size=(4, 3)), "float32")
    out = backend.xp.zeros((5, 3), dtype=backend.dtype("float32"))
    result = backend.matmul(a, b, out=out)
    np.testing.assert_allclose(backend.to_numpy(result), backend.to_numpy(a @ b), rtol=1e-6)


def test_backend_of_unknown_object():
    with pytest.raises(TypeError, match="Expected an array of an nnx backend"):
        nb.backend_of([1, 2])
