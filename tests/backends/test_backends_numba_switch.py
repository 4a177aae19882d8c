"""NNX_NUMBA and a missing numba: off, on, required; the NumPy paths run without it."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.backends import get_backend, numba_paths


def _without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numba_paths, "_load", lambda: None)  # as if numba were not installed


def test_a_missing_numba_falls_back_to_numpy(monkeypatch):
    _without_numba(monkeypatch)
    monkeypatch.delenv(numba_paths.ENV, raising=False)
    assert numba_paths.kernels(1 << 20) is None
    assert numba_paths.status() == 'off (numba not installed: pip install "nnx-array[fast]")'
    x = np.ones((256, 256), dtype=np.float32)
    assert get_backend("numpy").activation_forward(x, None, "relu") is None
    dx = get_backend("numpy").relu_backward(x, x, x)  # the NumPy path still answers
    np.testing.assert_array_equal(dx, x)


def test_nnx_numba_1_requires_numba_and_names_the_extra(monkeypatch):
    _without_numba(monkeypatch)
    monkeypatch.setenv(numba_paths.ENV, "1")
    with pytest.raises(ImportError, match=r'pip install "nnx-array\[fast\]"'):
        numba_paths.kernels(1 << 20)


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_nnx_numba_0_switches_the_kernels_off(monkeypatch, value):
    monkeypatch.setenv(numba_paths.ENV, value)
    assert numba_paths.kernels(1 << 20) is None
    assert numba_paths.status() == "off (NNX_NUMBA=0)"


def test_import_nnx_does_not_import_numba():
    import subprocess
    import sys

    code = "import sys, nnx; nnx.Sequential; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
