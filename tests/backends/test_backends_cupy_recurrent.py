"""The CuPy backend's fused LSTM / GRU cells (``nnx_lstm_cell``, ``nnx_gru_cell`` and their
backwards in :mod:`nnx.backends.cuda_kernels`), run by the CuPy stand-in as their references:
the layers give NumPy's numbers through them (outputs, states, input and weight gradients, with
a mask), one kernel per step."""

from __future__ import annotations

import fake_cupy
import numpy as np
import pytest

import nnx.backends as nb
from nnx.backends.cupy_backend import CupyBackend
from nnx.layers import GRU, LSTM

NUMPY = nb.get_backend("numpy")


@pytest.fixture
def fake(monkeypatch):
    cupy, namespace = fake_cupy.make()
    backend = CupyBackend(0, cupy=cupy, namespace=namespace)
    monkeypatch.setitem(nb._instances, "cupy-standin", backend)
    yield cupy, backend
    fake_cupy._CURRENT.remove(cupy)


def _run(layer, backend, x, mask, dy):
    layer.rng = backend.rng(3)
    with backend.device_scope():
        out, backprop = layer.forward_masked(
            backend.asarray(x), backend.asarray(mask), training=True
        )
        dx = backprop((backend.asarray(dy), None) + ((None,) if len(out) == 3 else ()))
    return [backend.to_numpy(a) for a in (*out, dx)] + [
        backend.to_numpy(p.grad) for p in layer.parameters()
    ]


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_cells_give_the_portable_numbers(fake, cls, dtype):
    cupy, backend = fake
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 3)).astype(dtype)
    mask = rng.random((4, 6)) > 0.3
    dy = rng.normal(size=(4, 6, 5)).astype(dtype)
    bias = rng.normal(size=(2, 15) if cls is GRU else 20).astype(dtype)
    results = []
    for be in (NUMPY, backend):
        # NOTE: no dropout here: CuPy draws its masks on the device, from another stream
        layer = cls(5, return_sequences=True, return_state=True)
        layer.build((None, 3), be, be.rng(0), dtype)
        with be.device_scope():
            layer.bias.value[...] = be.asarray(bias)
        results.append(_run(layer, be, x, mask, dy))
    tol = 1e-5 if dtype == "float32" else 1e-12
    for got, want in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * float(np.max(np.abs(want))))
    name = "nnx_lstm_cell" if cls is LSTM else "nnx_gru_cell"
    assert cupy.kernel_calls.count(name) == 6  # one per step
    assert cupy.kernel_calls.count(f"{name}_bwd") == 6


def test_other_gates_keep_the_portable_step(fake):
    cupy, backend = fake
    layer = LSTM(3, recurrent_activation="hard_sigmoid")
    layer.build((None, 2), backend, backend.rng(0), "float32")
    with backend.device_scope():
        layer(backend.asarray(np.ones((2, 4, 2), dtype="float32")))
    assert "nnx_lstm_cell" not in cupy.kernel_calls
