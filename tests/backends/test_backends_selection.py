"""Choosing a backend: selection order, the environment variable, clear errors."""

from __future__ import annotations

import contextvars
import sys
import types

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
        ValueError,
        match="Unknown backend 'torch'. Valid backends: array_api_strict, "
        "array_api_strict:device1, cupy, numpy",
    ):
        nb.get_backend("torch")


@pytest.mark.skipif("cupy" in nb.available(), reason="cupy works here")
def test_unavailable_backend_names_the_extra():
    with pytest.raises(nb.BackendUnavailableError, match=r'pip install "nnx-array\[cupy\]"'):
        nb.get_backend("cupy")
    with pytest.raises(nb.BackendUnavailableError, match=r'pip install "nnx-array\[cupy\]"'):
        nb.get_backend("cupy:1")
    assert "cupy" not in nb.available()


def test_available_always_has_numpy():
    assert nb.available()[0] == "numpy"


def test_cupy_installed_without_cuda_says_what_to_install(monkeypatch):
    broken = types.ModuleType("cupy")
    broken.__version__ = "14.0.0"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cupy", broken)
    monkeypatch.delitem(sys.modules, "array_api_compat.cupy", raising=False)
    monkeypatch.delitem(nb._instances, "cupy", raising=False)
    with pytest.raises(nb.BackendUnavailableError) as error:
        nb.get_backend("cupy")
    message = str(error.value)
    assert "CuPy 14.0.0 is installed but cannot compute" in message
    assert "nvidia-smi" in message and 'pip install "cupy-cuda12x[ctk]>=14"' in message
