"""Shared fixtures: every array test runs once per backend.

``NNX_TEST_BACKENDS=numpy,cupy`` picks a subset; by default every backend that works here
(numpy, array_api_strict and array_api_strict:device1 in CI, cupy where a CUDA device answers).
``array_api_strict:device1`` plays a GPU: its arrays refuse ``numpy.asarray`` and mixing with
arrays of another device, so a host conversion or a wrong-device array inside nnx fails here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import nnx.backends as nb
from nnx.backends import numba_paths
from nnx.functional.sequence import allowed_pairs
from nnx.layers import LSTM

# NOTE: the numba kernels split over threads at the same sizes on every host (no wake-time
# measurement, whose answer depends on the machine: nnx.backends.numba_jit.min_size).
os.environ.setdefault("NNX_THREAD_WAKE", "fast")


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


# --- shared by the backend kernel tests ---------------------------------------------------
Blocks = Callable[[np.ndarray], np.ndarray]


def allowed_case(kind: str, n: int, tq: int, tv: int) -> np.ndarray | None:
    """The ``(n | 1, 1, Tq, Tv)`` mask of each case (``none``, ``causal``, ``padding``);
    ``padding`` leaves sample 0 with no valid key, so all its rows are fully masked."""
    rng = np.random.default_rng(4)
    if kind == "none":
        return None
    if kind == "causal":
        return allowed_pairs(np, (n, tq, tv), causal=True)
    query, value = rng.random((n, tq)) < 0.7, rng.random((n, tv)) < 0.6
    value[0] = False
    return allowed_pairs(np, (n, tq, tv), query_mask=query, value_mask=value)


@pytest.fixture
def mask_case() -> Callable[[str, int, int, int], np.ndarray | None]:
    """:func:`allowed_case`."""
    return allowed_case


def copy_to_torch(layer: Any, module: Any) -> Blocks:
    """Copy a built float64 ``LSTM``/``GRU``'s weights into ``torch.nn.LSTM``/``GRU``
    (kernels transposed, GRU gates reordered from Keras's (z, r, h) to torch's (r, z, n), the
    recurrent bias or zeros as torch's second bias); returns the gate reordering, for
    comparing gradients."""
    import torch

    kernel, recurrent, bias = (p.value for p in layer.parameters())
    order = [0, 1, 2, 3] if isinstance(layer, LSTM) else [1, 0, 2]

    def blocks(a: np.ndarray) -> np.ndarray:
        return np.concatenate([np.split(a, len(order), axis=-1)[i] for i in order], axis=-1)

    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(blocks(kernel).T.copy()))
        module.weight_hh_l0.copy_(torch.from_numpy(blocks(recurrent).T.copy()))
        b_in, b_rec = (bias, np.zeros_like(bias)) if bias.ndim == 1 else bias
        module.bias_ih_l0.copy_(torch.from_numpy(blocks(b_in)))
        module.bias_hh_l0.copy_(torch.from_numpy(blocks(b_rec)))
    return blocks


@pytest.fixture
def torch_twin() -> Callable[[Any, Any], Blocks]:
    """:func:`copy_to_torch`."""
    return copy_to_torch


def run_shrunk(script: Any, shrink: Any, replace: Any = ()) -> dict[str, Any]:
    """Run an example script with its sizes cut: each ``(full, small)`` of ``shrink`` must be
    in the script exactly once, or ``count`` times for ``(full, small, count)`` (an edit that
    drops a line fails instead of running the full tutorial); ``replace`` pairs are replaced
    wherever they occur. Returns its namespace."""
    source = script.read_text()
    for full, small, *count in shrink:
        assert source.count(full) == (count[0] if count else 1), full
        source = source.replace(full, small)
    for old, new in replace:
        source = source.replace(old, new)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, str(script), "exec"), namespace)
    return namespace


def keras_imports(source: str) -> list[str]:
    """The lines of ``source`` importing from keras itself (a tutorial run on nnx has none)."""
    code = [line.strip() for line in source.splitlines()]
    return [line for line in code if line.startswith(("import keras", "from keras"))]


@pytest.fixture(scope="session")
def shrunk_script() -> Callable[..., dict[str, Any]]:
    """:func:`run_shrunk`."""
    return run_shrunk


@pytest.fixture(scope="session")
def keras_import_lines() -> Callable[[str], list[str]]:
    """:func:`keras_imports`."""
    return keras_imports


@pytest.fixture(autouse=True, scope="module")
def _no_seed_leaks() -> Any:
    """Each test module ends with the ``set_random_seed`` stream it started with (module
    scope: set up before a module's tutorial fixture runs its script): a tutorial that calls
    ``keras.utils.set_random_seed`` would otherwise seed every later test."""
    from nnx import utils

    before = utils._SEEDS.get()
    yield
    utils._SEEDS.set(before)


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
