"""The whole-sequence inference kernels (numba: projection and every step in one call) against
the layers' portable loop, under ``no_backprop``: outputs and final states of SimpleRNN, LSTM
and GRU with masks, ``go_backwards``, ``return_sequences``, ``return_state`` and
``initial_state`` (float32 rtol 1e-5, float64 1e-12), one loop or the rows split over the
cores; the fall-backs; torch.nn.LSTM / GRU at inference. Each kernel test runs twice: products
by SciPy's BLAS and by MKL (the ``mkl`` extra; the MKL half skips where it is not installed)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from nnx.backends import get_backend, numba_paths, numba_recurrent_paths
from nnx.layers import GRU, LSTM, SimpleRNN
from nnx.layers.base import no_backprop

pytest.importorskip("numba")
from nnx.backends import numba_recurrent_infer as infer
from nnx.backends import numba_recurrent_mkl

NUMPY = get_backend("numpy")
TOL = {"float32": 1e-5, "float64": 1e-12}
CELLS = {
    "lstm": lambda **kw: LSTM(5, **kw),
    "gru": lambda **kw: GRU(4, **kw),
    "simple_rnn": lambda **kw: SimpleRNN(6, **kw),
}


@pytest.fixture
def inferred(monkeypatch, products):
    """Inference kernels on every size, from :func:`products`; counts the passes that took
    them."""
    monkeypatch.setattr(numba_paths, "MIN_SIZE", 0)
    monkeypatch.delenv(numba_paths.ENV, raising=False)
    runs = []
    original = numba_recurrent_paths.NumbaRecurrentPaths.recurrent_inference

    def counted(self, *args):
        out = original(self, *args)
        runs.append(out is not None)
        return out

    monkeypatch.setattr(numba_recurrent_paths.NumbaRecurrentPaths, "recurrent_inference", counted)
    return runs


def _infer(layer, x, mask, initial_state):
    with no_backprop():
        out = layer.forward_masked(x, mask, training=False, initial_state=initial_state)[0]
    return [np.array(o) for o in (out if isinstance(out, tuple) else (out,))]


def _compare(layer, dtype, inferred, monkeypatch, mask=True, initial=False, batch=40):
    inferred.clear()
    layer.build((None, 3), NUMPY, NUMPY.rng(0), dtype)
    if layer.bias is not None:  # non-zero biases, so every bias path counts
        layer.bias.value[...] = np.random.default_rng(1).normal(size=layer.bias.shape)
    rng = np.random.default_rng(2)
    x = NUMPY.asarray(rng.normal(size=(batch, 7, 3)), dtype)
    m = NUMPY.asarray(rng.random((batch, 7)) > 0.3) if mask else None
    states = None
    if initial:
        shape = (batch, layer.units)
        states = [NUMPY.asarray(rng.normal(size=shape), dtype) for _ in range(layer.state_count)]
    fast = _infer(layer, x, m, states)
    assert inferred == [True]
    monkeypatch.setenv(numba_paths.ENV, "0")
    reference = _infer(layer, x, m, states)
    monkeypatch.delenv(numba_paths.ENV)
    assert len(fast) == len(reference)
    for got, want in zip(fast, reference, strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype
        scale = float(np.max(np.abs(want))) or 1.0
        np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype] * scale)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("mask", [False, True])
def test_inference_kernels_equal_the_portable_loop(inferred, monkeypatch, dtype, cell, mask):
    _compare(CELLS[cell](), dtype, inferred, monkeypatch, mask=mask)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("chunk_rows", [256, 40])
def test_sequences_states_backwards_and_the_row_split(
    inferred, monkeypatch, cell, split, chunk_rows
):
    monkeypatch.setattr(numba_recurrent_paths, "INFER_SPLIT", split)  # batch 40: two blocks
    # 40 projection rows: chunks of 2 steps (blocks of 20 rows) or 1 (40), the last one short
    monkeypatch.setattr(infer, "CHUNK_ROWS", chunk_rows)
    for dtype in ("float32", "float64"):
        for options in (
            {"return_sequences": True, "go_backwards": True},
            {"return_state": True, "go_backwards": True},
            {"return_sequences": True, "return_state": True},
        ):
            layer = CELLS[cell](**options)
            _compare(layer, dtype, inferred, monkeypatch, initial=True)


def test_training_and_dropout_do_not_take_the_inference_kernels(inferred):
    layer = LSTM(3, dropout=0.5)
    layer.build((None, 2), NUMPY, NUMPY.rng(0), "float64")
    x = NUMPY.asarray(np.ones((2, 4, 2)))
    _, backprop = layer.forward(x, training=True)
    assert inferred == []
    backprop(NUMPY.asarray(np.ones((2, 3))))
    y = layer(x)  # inference: no dropout, the kernels run
    assert inferred == [True] and y.shape == (2, 3)
    with no_backprop():
        _, backprop = layer.forward(x, training=False)
    with pytest.raises(RuntimeError, match="no_backprop"):
        backprop(NUMPY.asarray(np.ones((2, 3))))


def test_the_backend_declines_what_it_has_no_kernel_for(inferred):
    x, w, u = np.zeros((2, 3, 4)), np.zeros((4, 8)), np.zeros((2, 8))
    h = np.zeros((2, 2))
    args = (None, u, None, (h, h), None, False, False)
    assert NUMPY.recurrent_inference("lstm", x.astype(int), w, *args) is None  # dtype
    assert NUMPY.recurrent_inference("peephole", x, w, *args) is None  # cell
    assert NUMPY.recurrent_inference("gru", x, w, *args) is None  # width: 3 blocks, not 4
    assert inferred == [False, False, False]
    inferred.clear()
    layer = GRU(3, reset_after=False)  # no kernel: the portable loop
    layer.build((None, 2), NUMPY, NUMPY.rng(0), "float64")
    layer(NUMPY.asarray(np.ones((2, 4, 2))))
    assert inferred == []  # not asked: the layer has no fused cell


@pytest.mark.parametrize("cell", list(CELLS))
def test_an_empty_batch_or_sequence_takes_the_portable_loop(inferred, cell):
    layer = CELLS[cell]()
    layer.build((None, 3), NUMPY, NUMPY.rng(0), "float32")
    for shape in ((0, 7, 3), (2, 0, 3)):
        y = layer(NUMPY.asarray(np.zeros(shape, dtype="float32")))
        assert y.shape == (shape[0], layer.units)
    assert inferred == [False, False]


def test_torch_lstm_and_gru_agree_at_inference(inferred, torch_twin):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).normal(size=(4, 6, 3))
    for layer, module in (
        (LSTM(5, return_sequences=True), torch.nn.LSTM(3, 5, batch_first=True)),
        (GRU(5, return_sequences=True), torch.nn.GRU(3, 5, batch_first=True)),
    ):
        layer.build((None, 3), NUMPY, NUMPY.rng(0), "float64")
        torch_twin(layer, module := module.double())
        with torch.no_grad():
            want = module(torch.from_numpy(x))[0].numpy()
        np.testing.assert_allclose(layer(NUMPY.asarray(x)), want, atol=1e-12)
    assert inferred == [True, True]


def test_projection_chunks_keep_a_few_hundred_rows():
    chunks = [infer.projection_chunk(rows, 50) for rows in (32, 64, 20, 256, 1000)]
    assert chunks == [8, 4, 13, 1, 1]
    assert infer.projection_chunk(4, 7) == 7  # never more than the sequence


@pytest.mark.parametrize("reverse", [False, True])
def test_every_chunking_gives_the_same_pass(products, reverse):
    """The kernels straight, float64: chunks of 1, 3 (the last one short) and all 7 steps."""
    rng = np.random.default_rng(5)
    rows, steps, features, units = 3, 7, 2, 4
    x2 = rng.normal(size=(steps * rows, features))
    mask = (rng.random((rows, steps)) > 0.3).astype("float64")
    for cell, blocks in (("lstm", 4), ("gru", 3), ("rnn", 1)):
        w = rng.normal(size=(features, blocks * units))
        u = rng.normal(size=(units, blocks * units)) * 0.5
        bias, brec = rng.normal(size=(2, blocks * units))
        outs = []
        for chunk in (1, 3, steps):
            h, c = np.ones((rows, units)) * 0.1, np.ones((rows, units)) * -0.2
            ys = np.empty((rows, steps, units))
            xz, z = np.empty((chunk * rows, blocks * units)), np.empty((rows, blocks * units))
            if cell == "lstm":
                products.lstm_infer(x2, w, bias, u, h, c, mask, reverse, ys, xz, z)
            elif cell == "gru":
                products.gru_infer(x2, w, bias, u, brec, h, mask, reverse, ys, xz, z)
            else:
                products.rnn_infer(x2, w, bias, u, h, mask, reverse, ys, xz, z)
            outs.append((ys, h, c))
        for got in outs[:2]:
            for a, b in zip(got, outs[2], strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)


def test_the_layers_take_the_products_kernel_set(monkeypatch, products):
    """The backend's pass calls the kernel set of :func:`products` (MKL's where installed)."""
    monkeypatch.setattr(numba_paths, "MIN_SIZE", 0)
    monkeypatch.setattr(numba_recurrent_paths, "INFER_SPLIT", False)
    calls = []

    def spy(name):
        def run(*args):
            calls.append(name)
            getattr(products, name)(*args)

        return run

    names = ("lstm_infer", "gru_infer", "rnn_infer")
    monkeypatch.setattr(
        numba_recurrent_mkl, "kernels", lambda: SimpleNamespace(**{n: spy(n) for n in names})
    )
    for cell in CELLS.values():
        layer = cell()
        layer.build((None, 3), NUMPY, NUMPY.rng(0), "float32")
        layer(NUMPY.asarray(np.ones((4, 5, 3), dtype="float32")))
    assert calls == ["lstm_infer", "gru_infer", "rnn_infer"]
