"""Speed of an LSTM and of a Transformer encoder block, nnx against PyTorch CPU, same run.

Cases (float32, Adam, MSE to a fixed random target):

- ``lstm``: LSTM(128) over 50 steps of 32 features, then Dense(10); batch 64. Both libraries
  start from the same weights (torch's second LSTM bias at 0), so their first losses agree.
- ``gru``: the same with GRU(128) (``reset_after``, torch's form), same weights as torch's.
- ``transformer``: one post-norm encoder block (4 heads, model width 128, feed-forward 256,
  relu, no dropout) over 64 steps; batch 32. Weights are each library's own.

Each ratio test times blocks of nnx (numpy) steps and of torch steps in turn, with a rest
before each block (:func:`nnx.benchmarks.runner.measure`, as ``python -m nnx bench`` does: on
2 cores a library's worker threads, still spinning after its last call, would otherwise slow
the other library's next steps), and reports the ratio of their fastest blocks (``torch time /
nnx time``: 1.0 means as fast as torch; run with ``-s``), with nnx's numba kernels on and off
(``NNX_NUMBA``), and the host it ran on::

    python -m pytest bench/test_bench_sequence.py --benchmark-enable -s -k ratio

In CI (``--benchmark-disable``) each body runs once and only checks that what it times learns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import nnx
from nnx.backends.numba_paths import ENV
from nnx.benchmarks.host import describe
from nnx.benchmarks.runner import measure
from nnx.layers import GRU, LSTM, Dense, TransformerEncoder

Step = Callable[[], float]


def _data(batch: int, steps: int, features: int, outputs: int):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, steps, features)).astype("float32")
    y = rng.normal(size=(batch, outputs) if outputs else (batch, steps, features))
    return x, y.astype("float32")


def _nnx_steps(model: nnx.Sequential, x: np.ndarray, y: np.ndarray) -> tuple[Step, Step]:
    """``(train, infer)``: one Adam step returning the loss, and one inference pass."""
    model.compile(nnx.optimizers.Adam(1e-3), "mse")
    be = model.backend
    xb, yb = be.asarray(x), be.asarray(y)

    def train() -> float:
        loss = model.train_step(xb, yb)
        be.synchronize()
        return float(loss)

    def infer() -> float:
        out = model(xb)
        be.synchronize()
        return float(out[0, 0]) if out.ndim == 2 else float(out[0, 0, 0])

    return train, infer


def _torch_steps(module, x: np.ndarray, y: np.ndarray) -> tuple[Step, Step]:
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def train() -> float:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(module(xt), yt)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    def infer() -> float:
        with torch.no_grad():
            return float(module(xt).reshape(-1)[0])

    return train, infer


def lstm_case() -> tuple[tuple[Step, Step], tuple[Step, Step]]:
    """nnx and torch ``(train, infer)`` of the LSTM case, from the same weights."""
    torch = pytest.importorskip("torch")
    x, y = _data(64, 50, 32, 10)
    model = nnx.Sequential([LSTM(128, input_shape=(50, 32)), Dense(10)], seed=0)
    kernel, recurrent, bias, w, b = model.get_weights()

    class Twin(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(32, 128, batch_first=True)
            self.dense = torch.nn.Linear(128, 10)

        def forward(self, x):
            return self.dense(self.lstm(x)[1][0][0])

    twin = Twin()
    with torch.no_grad():
        for name, value in {
            "lstm.weight_ih_l0": kernel.T,
            "lstm.weight_hh_l0": recurrent.T,
            "lstm.bias_ih_l0": bias,
            "lstm.bias_hh_l0": np.zeros_like(bias),
            "dense.weight": w.T,
            "dense.bias": b,
        }.items():
            twin.get_parameter(name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    twin.lstm.bias_hh_l0.requires_grad_(False)
    return _nnx_steps(model, x, y), _torch_steps(twin, x, y)


def gru_case() -> tuple[tuple[Step, Step], tuple[Step, Step]]:
    """nnx and torch ``(train, infer)`` of the GRU case (``reset_after``, torch's form), from
    the same weights (Keras's gate blocks ``[z, r, h]`` are torch's ``[r, z, n]``)."""
    torch = pytest.importorskip("torch")
    x, y = _data(64, 50, 32, 10)
    model = nnx.Sequential([GRU(128, input_shape=(50, 32)), Dense(10)], seed=0)
    kernel, recurrent, bias, w, b = model.get_weights()

    def blocks(a: np.ndarray) -> np.ndarray:
        z, r, h = np.split(a, 3, axis=-1)
        return np.ascontiguousarray(np.concatenate([r, z, h], axis=-1))

    class Twin(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = torch.nn.GRU(32, 128, batch_first=True)
            self.dense = torch.nn.Linear(128, 10)

        def forward(self, x):
            return self.dense(self.gru(x)[1][0])

    twin = Twin()
    with torch.no_grad():
        for name, value in {
            "gru.weight_ih_l0": blocks(kernel).T,
            "gru.weight_hh_l0": blocks(recurrent).T,
            "gru.bias_ih_l0": blocks(bias[0]),
            "gru.bias_hh_l0": blocks(bias[1]),
            "dense.weight": w.T,
            "dense.bias": b,
        }.items():
            twin.get_parameter(name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return _nnx_steps(model, x, y), _torch_steps(twin, x, y)


def transformer_case() -> tuple[tuple[Step, Step], tuple[Step, Step]]:
    """nnx and torch ``(train, infer)`` of one post-norm encoder block."""
    torch = pytest.importorskip("torch")
    x, y = _data(32, 64, 128, 0)
    model = nnx.Sequential(
        [TransformerEncoder(256, 4, layer_norm_epsilon=1e-5, input_shape=(64, 128))], seed=0
    )
    torch.manual_seed(0)
    block = torch.nn.TransformerEncoderLayer(
        128, 4, dim_feedforward=256, dropout=0.0, batch_first=True
    )
    return _nnx_steps(model, x, y), _torch_steps(block, x, y)


CASES = {"lstm": lstm_case, "gru": gru_case, "transformer": transformer_case}


RUNS = [
    ("lstm", "on"),
    ("lstm", "off"),
    ("gru", "on"),
    ("transformer", "on"),
    ("transformer", "off"),
]


@pytest.mark.parametrize(("case", "numba"), RUNS, ids=[f"{c}-numba_{n}" for c, n in RUNS])
@pytest.mark.parametrize("phase", ["train", "inference"])
def test_sequence_speed_ratio_vs_torch(benchmark, monkeypatch, case, phase, numba):
    """Blocks of nnx (numpy) and torch CPU steps in turn; ratio of their fastest blocks."""
    if numba == "off":
        monkeypatch.setenv(ENV, "0")
    else:
        monkeypatch.delenv(ENV, raising=False)
    (nnx_train, nnx_infer), (torch_train, torch_infer) = CASES[case]()
    first = {"nnx": nnx_train(), "torch": torch_train()}
    if case in ("lstm", "gru"):  # same weights: same first loss
        assert first["nnx"] == pytest.approx(first["torch"], rel=1e-4)
    steps = {"nnx": nnx_train, "torch": torch_train}
    if phase == "inference":
        steps = {"nnx": nnx_infer, "torch": torch_infer}
    times: dict[str, list[float]] = {}

    def blocks() -> None:
        quick = {"budget_s": 0.0, "rounds": 1, "warmup_s": 0.0}  # CI: only that it runs
        times.update(measure(steps, **({"budget_s": 4.0} if not benchmark.disabled else quick)))

    benchmark.pedantic(blocks, rounds=1)
    fastest = {k: min(v) for k, v in times.items()}
    ratio = fastest["torch"] / fastest["nnx"]
    benchmark.extra_info.update(
        case=case,
        phase=phase,
        numba=numba,
        nnx_s=fastest["nnx"],
        torch_s=fastest["torch"],
        ratio=ratio,
    )
    print(
        f"\n{case} {phase} (numba {numba}): nnx numpy {fastest['nnx'] * 1e3:.1f} ms, torch CPU "
        f"{fastest['torch'] * 1e3:.1f} ms, speed nnx/torch = {ratio:.2f}\n  host: {describe()}"
    )
    later = {"nnx": nnx_train(), "torch": torch_train()}
    assert later["nnx"] < first["nnx"] and later["torch"] < first["torch"]
