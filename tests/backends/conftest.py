"""Fixtures of the backend kernel tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture(params=["scipy_blas", "mkl"])
def products(request, monkeypatch) -> SimpleNamespace:
    """The recurrent kernel set a test runs with: products by SciPy's BLAS (the inference
    kernels, and the training steps' loop over time in Python), or by MKL (the inference
    kernels and the compiled training loops; skips where the ``mkl`` extra is not installed)."""
    pytest.importorskip("numba")
    from nnx.backends import numba_recurrent_infer as infer
    from nnx.backends import numba_recurrent_mkl

    if request.param == "mkl":
        built = numba_recurrent_mkl.kernels()
        if built is None:
            pytest.skip('MKL is not installed (pip install "nnx-array[mkl]")')
        return built
    monkeypatch.setattr(numba_recurrent_mkl, "kernels", lambda: None)
    names = ("lstm_infer", "gru_infer", "rnn_infer")
    return SimpleNamespace(**{name: getattr(infer, name) for name in names})
