"""Train-step speed of the Keras tutorial CNN, nnx against PyTorch CPU eager, same run.

Model: Conv2D 3x3x32 relu -> MaxPooling2D 2 -> Flatten -> Dense 64 relu -> Dense 10 softmax,
28x28x1 inputs, batch 64, Adam. Each benchmark first checks that what it times is right: both
libraries start from the same weights, so their first losses must agree, and a step must lower
the loss on the batch. Run the timings with

    python -m pytest bench/test_bench_cnn.py --benchmark-enable --benchmark-columns=min,median,ops

samples/second = 64 x ops (also stored as ``extra_info["samples_per_s"]``); the nnx/torch ratio
is the ratio of the two ``ops``. Where other work shares the CPU, timings of two tests run one
after the other drift apart; ``test_cnn_speed_ratio_vs_torch`` times blocks of each library's
steps in turn, a rest before each (as ``python -m nnx bench`` does), and prints the ratio of the
fastest blocks (run it with ``-s``). In CI (``--benchmark-disable``) each
body runs once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import nnx
from nnx.benchmarks.runner import measure
from nnx.layers import Conv2D, Dense, Flatten, MaxPooling2D

BATCH = 64
SPEED_BACKENDS = [b for b in nnx.backends.available() if b != "array_api_strict"]


def _data(batch: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((batch, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
    return x, y


def _nnx_model(backend: str) -> nnx.Sequential:
    model = nnx.Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D(pool_size=(2, 2)),
            Flatten(),
            Dense(64, activation="relu"),
            Dense(10, activation="softmax"),
        ],
        backend=backend,
        seed=0,
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def _nnx_loss(model: nnx.Sequential, x: np.ndarray, y: np.ndarray) -> float:
    return float(model.evaluate(x, y, batch_size=len(x), verbose=0))


def _nnx_setup(
    backend: str, batch: int = BATCH
) -> tuple[Callable[[], None], Callable[[], float], nnx.Sequential]:
    """``(step, loss)`` of the nnx model on the fixed batch, and the model."""
    model = _nnx_model(backend)
    be = model.backend
    x, y = _data(batch)
    xb, yb = be.asarray(x), be.asarray(y)

    def step() -> None:
        model.train_step(xb, yb)
        be.synchronize()

    return step, lambda: _nnx_loss(model, x, y), model


def _torch_setup(batch: int = BATCH) -> tuple[Callable[[], None], Callable[[], float]]:
    """``(step, loss)`` of the same model in PyTorch, from nnx's initial weights (checked)."""
    torch = pytest.importorskip("torch")
    x, y = _data(batch)
    reference = _nnx_model("numpy")
    kernel, bias, w1, b1, w2, b2 = reference.get_weights()
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 13 * 13, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    with torch.no_grad():  # the same weights; torch flattens (c, h, w), nnx (h, w, c)
        model[0].weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
        model[0].bias.copy_(torch.from_numpy(bias))
        order = np.arange(13 * 13 * 32).reshape(13, 13, 32).transpose(2, 0, 1).ravel()
        model[4].weight.copy_(torch.from_numpy(w1[order].T.copy()))
        model[4].bias.copy_(torch.from_numpy(b1))
        model[6].weight.copy_(torch.from_numpy(w2.T.copy()))
        model[6].bias.copy_(torch.from_numpy(b2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    yt = torch.from_numpy(y.argmax(axis=1))

    def loss() -> float:
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(model(xt), yt))

    assert loss() == pytest.approx(_nnx_loss(reference, x, y), rel=1e-4)

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        optimizer.step()

    return step, loss


def _timed(benchmark, step: Callable[[], None], **info: object) -> None:
    for _ in range(3):  # warm-up
        step()
    benchmark.extra_info.update(batch=BATCH, **info)
    benchmark(step)
    if benchmark.stats is not None:
        benchmark.extra_info["samples_per_s"] = BATCH / benchmark.stats.stats.mean


@pytest.mark.parametrize("backend", SPEED_BACKENDS)
def test_cnn_train_step_nnx(benchmark, backend):
    step, loss, model = _nnx_setup(backend)
    before = loss()
    _timed(benchmark, step, backend=backend, device=model.backend.device_name())
    assert loss() < before


def test_cnn_train_step_torch(benchmark):
    torch = pytest.importorskip("torch")
    step, loss = _torch_setup()
    before = loss()
    _timed(benchmark, step, backend="torch-cpu", threads=torch.get_num_threads())
    assert loss() < before


@pytest.mark.parametrize("batch", [BATCH, 256])
def test_cnn_speed_ratio_vs_torch(benchmark, batch):
    """Blocks of nnx (numpy) and torch steps in turn, a rest before each
    (:func:`nnx.benchmarks.runner.measure`: a library's still-spinning threads would slow the
    other's next step); ratios of their fastest and median blocks."""
    nnx_step, nnx_loss, _ = _nnx_setup("numpy", batch)
    torch_step, torch_loss = _torch_setup(batch)
    before = (nnx_loss(), torch_loss())
    for _ in range(3):  # warm-up, also where the benchmark is disabled: Adam's first step
        nnx_step()  # can raise the loss on this batch (batch 256: 2.337 -> 2.373, then 2.274)
        torch_step()
    times: dict[str, list[float]] = {}
    steps = {"nnx": nnx_step, "torch": torch_step}

    def blocks() -> None:
        quick = {"budget_s": 0.0, "rounds": 1, "warmup_s": 0.0}  # CI: only that it runs
        times.update(measure(steps, **({"budget_s": 6.0} if not benchmark.disabled else quick)))

    benchmark.pedantic(blocks, rounds=1)
    fastest = {k: min(v) for k, v in times.items()}
    median = {k: float(np.median(v)) for k, v in times.items()}
    ratio = fastest["torch"] / fastest["nnx"]
    benchmark.extra_info.update(
        batch=batch,
        nnx_samples_per_s=batch / fastest["nnx"],
        torch_samples_per_s=batch / fastest["torch"],
        ratio=ratio,
        median_ratio=median["torch"] / median["nnx"],
    )
    print(
        f"\nCNN train step, batch {batch}: nnx numpy {batch / fastest['nnx']:.0f} samples/s, "
        f"torch CPU {batch / fastest['torch']:.0f} samples/s, nnx/torch = {ratio:.2f} "
        f"(medians: {median['torch'] / median['nnx']:.2f})"
    )
    assert nnx_loss() < before[0] and torch_loss() < before[1]
