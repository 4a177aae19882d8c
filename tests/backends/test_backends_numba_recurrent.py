"""The fused recurrent steps (numba) against the layers' portable loop: forward outputs, final
states, the input gradient and every weight gradient, with masks, recurrent dropout,
return_sequences, return_state and go_backwards (float32 rtol 1e-5, float64 1e-12); their
tanh; their fall-backs; and the torch.nn.LSTM / GRU equality through the fused path. Each runs
with the loop over time in Python (products by NumPy) and compiled (products by MKL, the
``mkl`` extra; skipped where it is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.backends import get_backend, numba_paths, numba_recurrent_paths
from nnx.layers import GRU, LSTM, SimpleRNN

pytest.importorskip("numba")

NUMPY = get_backend("numpy")
TOL = {"float32": 1e-5, "float64": 1e-12}


@pytest.fixture
def fused(monkeypatch, products):
    """Fused kernels on every size, looping as :func:`products` says; counts the runs that
    took them."""
    loops = numba_recurrent_paths._compiled_loops()
    assert (loops is products) if hasattr(products, "lstm_forward") else (loops is None)
    monkeypatch.setattr(numba_paths, "MIN_SIZE", 0)
    monkeypatch.setattr(numba_recurrent_paths, "ROW_SPLIT", True)  # batch 40: two row blocks
    monkeypatch.delenv(numba_paths.ENV, raising=False)
    runs = []
    original = numba_recurrent_paths.NumbaRecurrentPaths.recurrent_forward

    def counted(self, *args):
        out = original(self, *args)
        runs.append(out is not None)
        return out

    monkeypatch.setattr(numba_recurrent_paths.NumbaRecurrentPaths, "recurrent_forward", counted)
    return runs


def _run(layer, x, mask, seed, outputs=1):
    """Forward (training, dropout masks drawn from ``seed``) and backward of
    ``sum(out_k * r_k)``: every output, then dx and every gradient, as host arrays."""
    layer.rng = NUMPY.rng(seed)
    out, backprop = layer.forward_masked(x, mask, training=True)
    out = out if isinstance(out, tuple) else (out,)
    rng = np.random.default_rng(seed)
    rs = [rng.normal(size=o.shape).astype(x.dtype) for o in out[:outputs]]
    rs += [None] * (len(out) - outputs)
    dx = backprop(tuple(rs) if len(rs) > 1 else rs[0])
    return [np.array(o) for o in out] + [dx] + [p.grad.copy() for p in layer.parameters()]


def _compare(make, dtype, fused, monkeypatch, mask=True, batch=40, outputs=1):
    monkeypatch.delenv(numba_paths.ENV, raising=False)
    fused.clear()
    layer = make()
    layer.build((None, 3), NUMPY, NUMPY.rng(0), dtype)
    if layer.bias is not None:  # non-zero biases, so every bias path counts
        layer.bias.value[...] = np.random.default_rng(1).normal(size=layer.bias.shape)
    rng = np.random.default_rng(2)
    x = NUMPY.asarray(rng.normal(size=(batch, 7, 3)), dtype)
    m = NUMPY.asarray(rng.random((batch, 7)) > 0.3) if mask else None
    fast = _run(layer, x, m, 3, outputs)
    assert fused == [True]
    monkeypatch.setenv(numba_paths.ENV, "0")
    reference = _run(layer, x, m, 3, outputs)
    for got, want in zip(fast, reference, strict=True):
        scale = float(np.max(np.abs(want))) or 1.0
        np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype] * scale)


CELLS = {
    "lstm": lambda **kw: LSTM(5, **kw),
    "gru": lambda **kw: GRU(4, **kw),
    "simple_rnn": lambda **kw: SimpleRNN(6, **kw),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("mask", [False, True])
def test_fused_steps_equal_the_portable_loop(fused, monkeypatch, dtype, cell, mask):
    make = CELLS[cell]
    _compare(lambda: make(return_sequences=True), dtype, fused, monkeypatch, mask)


@pytest.mark.parametrize("cell", list(CELLS))
def test_fused_steps_with_dropout_state_outputs_and_going_backwards(fused, monkeypatch, cell):
    def make():
        return CELLS[cell](dropout=0.2, recurrent_dropout=0.3, return_state=True, go_backwards=True)

    states = 2 if cell == "lstm" else 1
    _compare(make, "float64", fused, monkeypatch, outputs=1 + states)
    _compare(make, "float32", fused, monkeypatch, mask=False, batch=5, outputs=1)


def test_one_thread_without_threadpoolctl_gives_the_same_numbers(fused, monkeypatch):
    monkeypatch.setattr(numba_recurrent_paths, "_blas_controller", lambda: None)
    _compare(lambda: LSTM(5, return_sequences=True), "float64", fused, monkeypatch)


def test_one_loop_without_the_row_split_gives_the_same_numbers(fused, monkeypatch):
    monkeypatch.setattr(numba_recurrent_paths, "ROW_SPLIT", False)  # the default
    _compare(lambda: GRU(5, return_sequences=True), "float64", fused, monkeypatch)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SimpleRNN(3, activation="relu"),
        lambda: LSTM(3, recurrent_activation="hard_sigmoid"),
        lambda: GRU(3, reset_after=False),
    ],
)
def test_other_cells_run_the_portable_loop(fused, make):
    layer = make()
    layer.build((None, 2), NUMPY, NUMPY.rng(0), "float64")
    layer.forward(NUMPY.asarray(np.ones((2, 4, 2))), training=True)
    assert layer.fused_cell() is None and fused == []


def test_the_backend_declines_what_it_has_no_kernel_for(fused):
    xz, u = np.zeros((3, 2, 8)), np.zeros((2, 8))
    h = np.zeros((2, 2))
    args = (None, (h, h), None, None, True, True)
    assert NUMPY.recurrent_forward("lstm", xz.astype(int), u, *args) is None  # dtype
    assert NUMPY.recurrent_forward("peephole", xz, u, *args) is None  # cell
    assert NUMPY.recurrent_forward("gru", xz, u, *args) is None  # width: 3 blocks, not 4
    assert NUMPY.recurrent_backward([], None, (h,)) is None  # a tape it did not make


def test_tanh_matches_numpy_to_the_dtype():
    import numba

    from nnx.backends.numba_recurrent import sigmoid_like, tanh_like

    @numba.njit
    def apply(x, out, sigmoid):
        for i in range(x.shape[0]):
            out[i] = sigmoid_like(x[i], x) if sigmoid else tanh_like(x[i], x)

    x = np.concatenate([np.linspace(-30, 30, 20001), np.logspace(-30, 1, 200), [0.0, 700.0]])
    for dtype, rtol in (("float32", 5e-7), ("float64", 1e-15)):
        xs = x.astype(dtype)
        for sigmoid, want in ((False, np.tanh(xs)), (True, 0.5 * np.tanh(0.5 * xs) + 0.5)):
            out = np.empty_like(xs)
            apply(xs, out, sigmoid)
            # the gates' sigmoid (in [0, 1]) is held to an absolute bound, tanh to a relative one
            np.testing.assert_allclose(out, want, rtol=rtol, atol=rtol if sigmoid else 0.0)
        out = np.empty(1, dtype=dtype)
        apply(np.array([np.nan], dtype=dtype), out, False)
        assert np.isnan(out[0])


def test_torch_lstm_and_gru_agree_through_the_fused_path(fused, torch_twin):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 6, 3))
    for layer, module in (
        (LSTM(5, return_sequences=True), torch.nn.LSTM(3, 5, batch_first=True)),
        (GRU(5, return_sequences=True), torch.nn.GRU(3, 5, batch_first=True)),
    ):
        layer.build((None, 3), NUMPY, NUMPY.rng(0), "float64")
        module = module.double()
        blocks = torch_twin(layer, module)
        tx = torch.from_numpy(x).requires_grad_(True)
        ty = module(tx)[0]
        dy = rng.normal(size=tuple(ty.shape))
        ty.backward(torch.from_numpy(dy))
        y, backprop = layer.forward(NUMPY.asarray(x))
        np.testing.assert_allclose(y, ty.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(backprop(NUMPY.asarray(dy)), tx.grad.numpy(), atol=1e-12)
        grad = layer.recurrent_kernel.grad
        np.testing.assert_allclose(blocks(grad).T, module.weight_hh_l0.grad.numpy(), atol=1e-12)
    assert fused == [True, True]
