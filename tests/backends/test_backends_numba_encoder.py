"""The fused Transformer encoder block at inference (numba; SciPy's BLAS or MKL): the numbers
of the block's layers run one by one, for post- and pre-norm, masks, activations, dtypes,
ragged chunks and the batch split over threads, on both builds; and where it declines."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.backends import get_backend, numba_encoder_paths, numba_jit, numba_paths
from nnx.layers import TransformerEncoder
from nnx.layers.base import no_backprop

pytest.importorskip("numba")
from nnx.backends import numba_encoder  # (after the numba check)

TOLERANCE = {"float32": {"rtol": 2e-5, "atol": 2e-5}, "float64": {"rtol": 1e-11, "atol": 1e-12}}


@pytest.fixture(params=["scipy_blas", "mkl"])
def fused_calls(request, monkeypatch) -> list[tuple[int, int]]:
    """The ``(lo, hi)`` sequence ranges the fused kernel ran on, built on SciPy's BLAS or on
    MKL (skipped where the ``mkl`` extra is not installed); every call size qualifies."""
    monkeypatch.setattr(numba_paths, "MIN_SIZE", 0)
    if request.param == "scipy_blas":
        monkeypatch.setattr(numba_encoder, "mkl_build", lambda: None)
    elif numba_encoder.mkl_build() is None:
        pytest.skip('MKL is not installed (pip install "nnx-array[mkl]")')
    kernel = numba_encoder_paths._kernel()
    assert kernel is not None
    real, scipy_blas = kernel
    assert scipy_blas == (request.param == "scipy_blas")
    calls: list[tuple[int, int]] = []

    def spy(lo, hi, *args):  # type: ignore[no-untyped-def]
        calls.append((lo, hi))
        real(lo, hi, *args)

    monkeypatch.setattr(numba_encoder_paths, "_kernel", lambda: (spy, scipy_blas))
    return calls


def _block(dtype: str, steps: int, features: int = 8, **options) -> TransformerEncoder:
    layer = TransformerEncoder(12, 2, layer_norm_epsilon=1e-5, **options)
    backend = get_backend("numpy")
    layer.build((steps, features), backend, backend.rng(3), dtype)
    rng = np.random.default_rng(5)
    for p in layer.parameters():  # biases and norms away from their 0 / 1 starts
        p.value[...] = rng.normal(size=p.value.shape).astype(dtype) * (0.5 if p.value.ndim else 1)
    return layer


def _layered_and_fused(layer, x, mask=None):
    """The block's output layer by layer (a forward whose backward may follow) and fused."""
    expected, _ = layer.forward_masked(x, mask)
    with no_backprop():
        got, backprop = layer.forward_masked(x, mask)
    return expected, got, backprop


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("normalize_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "causal", "padding", "both"])
def test_the_fused_block_equals_its_layers(fused_calls, dtype, normalize_first, masks):
    steps = 7
    layer = _block(
        dtype, steps, normalize_first=normalize_first, use_causal_mask=masks in ("causal", "both")
    )
    rng = np.random.default_rng(6)
    x = rng.normal(size=(5, steps, 8)).astype(dtype)
    mask = None
    if masks in ("padding", "both"):
        mask = np.arange(steps)[None, :] < np.array([7, 3, 1, 5, 0])[:, None]  # one empty row
    expected, got, backprop = _layered_and_fused(layer, x, mask)
    assert fused_calls == [(0, 5)]
    assert got.dtype == x.dtype and got.shape == x.shape
    np.testing.assert_allclose(got, expected, **TOLERANCE[dtype])
    with pytest.raises(RuntimeError, match="no_backprop"):
        backprop(np.ones_like(got))


@pytest.mark.parametrize("activation", ["linear", "leaky_relu", "relu6"])
def test_every_fused_activation(fused_calls, activation):
    layer = _block("float64", 6, activation=activation)
    x = np.random.default_rng(7).normal(size=(3, 6, 8)) * 3
    expected, got, _ = _layered_and_fused(layer, x)
    np.testing.assert_allclose(got, expected, **TOLERANCE["float64"])
    assert fused_calls == [(0, 3)]


@pytest.mark.parametrize("steps", [5, 100, 300])
def test_chunks_of_any_length_and_the_split_over_threads(fused_calls, monkeypatch, steps):
    """Chunks of several sequences (a ragged last one), of one, and a sequence longer than a
    chunk's rows; the batch split in two ranges of sequences."""
    monkeypatch.setattr(numba_jit, "threads", lambda: 2)
    monkeypatch.setattr(numba_encoder_paths, "SPLIT_MIN_MACS", 0)
    layer = _block("float32", steps)
    x = np.random.default_rng(8).normal(size=(13, steps, 8)).astype("float32")
    expected, got, _ = _layered_and_fused(layer, x)
    np.testing.assert_allclose(got, expected, **TOLERANCE["float32"])
    assert sorted(fused_calls) == [(0, 7), (7, 13)]


def test_a_model_predicts_through_the_fused_block(fused_calls):
    model = nnx.Sequential(
        [
            nnx.layers.Embedding(20, 8, mask_zero=True),
            TransformerEncoder(16, 2, use_causal_mask=True),
            nnx.layers.GlobalAveragePooling1D(),
            nnx.layers.Dense(1),
        ],
        seed=0,
    )
    model.compile("adam", "mse")
    ids = np.random.default_rng(9).integers(0, 20, size=(16, 10))
    y = np.random.default_rng(10).normal(size=(16, 1))
    model.fit(ids, y, epochs=1, verbose=0)
    assert fused_calls == []  # training runs the layers (it needs their backward)
    got = model.predict(ids, verbose=0)
    assert fused_calls
    block = model.layers[1]
    embedded, _ = model.layers[0].forward(ids)
    h, _ = block.forward_masked(embedded, ids != 0)
    pooled, _ = model.layers[2].forward_masked(h, ids != 0)
    expected, _ = model.layers[3].forward(pooled)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    "why", ["training", "backprop", "gelu", "float16", "no_blas", "numba_off", "small"]
)
def test_where_it_declines(monkeypatch, why):
    """Each of these runs the layers: the fused kernel never runs, and the block's weights are
    gathered (a concatenation of its projection kernels) only where the call itself qualified
    (gelu: the activation is read from them)."""
    if why != "small":
        monkeypatch.setattr(numba_paths, "MIN_SIZE", 0)

    def fused(*args):  # type: ignore[no-untyped-def]
        pytest.fail("the fused kernel ran")

    monkeypatch.setattr(numba_encoder_paths, "_kernel", lambda: (fused, False))
    if why == "no_blas":  # neither MKL nor SciPy with threadpoolctl
        monkeypatch.setattr(numba_encoder_paths, "_kernel", lambda: None)
    if why == "numba_off":
        monkeypatch.setenv("NNX_NUMBA", "0")
    dtype = "float16" if why == "float16" else "float32"
    layer = _block(dtype, 4, activation="gelu" if why == "gelu" else "relu")
    x = np.random.default_rng(11).normal(size=(2, 4, 8)).astype(layer.dtype)
    gathered: list[str] = []
    gather = TransformerEncoder._encoder_block
    monkeypatch.setattr(
        TransformerEncoder, "_encoder_block", lambda self: gathered.append(why) or gather(self)
    )
    if why == "backprop":
        y, _ = layer.forward(x)
    else:
        with no_backprop():
            y, _ = layer.forward(x, training=why == "training")
    assert y.shape == x.shape and np.isfinite(y).all()
    assert gathered == (["gelu"] if why == "gelu" else [])
