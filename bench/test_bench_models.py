"""Samples per second of nnx and its peers on every case (see ``nnx.benchmarks``).

Each test times one step with pytest-benchmark and records samples/s, backend, device and
library versions in ``extra_info``; then it checks the step is right (the loss goes down),
never how long it took.
"""

from __future__ import annotations

import pytest

from nnx.benchmarks.cases import Case, NnxRunner
from nnx.benchmarks.peers import PeerUnavailableError, sklearn_step, torch_step
from nnx.environment import versions

from .conftest import CASES, SKLEARN_CASES, TORCH_CASES

VERSIONS = versions()


def _record(benchmark, samples: int, **info) -> None:
    benchmark.extra_info.update(info)
    benchmark.extra_info["versions"] = VERSIONS
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        benchmark.extra_info["samples_per_s"] = samples / stats.stats.mean


def _check_learning(losses: list[float]) -> None:
    assert all(loss == loss for loss in losses), losses  # no NaN
    assert losses[-1] < losses[0], losses


@pytest.mark.parametrize("case", CASES)
def test_nnx(benchmark, case: Case, speed_backend: str) -> None:
    runner = NnxRunner(case, speed_backend)
    runner()  # warm-up: caches, buffers, kernels
    result = benchmark(runner)
    _record(
        benchmark, case.batch, model=case.model, batch=case.batch, phase=case.phase, **runner.info()
    )
    if case.phase == "inference":
        assert result.shape == (case.batch, max(case.spec.classes, 1))
        return
    if case.phase == "forward_backward":
        assert all(p.grad is not None for p in runner.model.parameters())
        return
    for _ in range(3):  # Adam's first steps may overshoot on the CNN; five steps suffice
        runner()
    _check_learning(runner.loss_values())


@pytest.mark.parametrize(("case", "variant"), TORCH_CASES)
def test_torch(benchmark, case: Case, speed_backend: str, variant: str) -> None:
    pytest.importorskip("torch")
    device = "cuda" if speed_backend == "cupy" else "cpu"
    try:
        step = torch_step(case, variant, device)
    except PeerUnavailableError as exc:
        pytest.skip(str(exc))
    first = step()
    benchmark(step)
    _record(
        benchmark,
        case.batch,
        model=case.model,
        batch=case.batch,
        phase=case.phase,
        peer=f"torch {variant}",
        device=device,
    )
    if case.phase.startswith("train"):
        later = [float(step()) for _ in range(4)]
        _check_learning([float(first), min(later)])  # Adam may overshoot at first


@pytest.mark.parametrize(("case", "mode"), SKLEARN_CASES)
def test_sklearn(benchmark, case: Case, mode: str) -> None:
    pytest.importorskip("sklearn")
    try:
        step, samples = sklearn_step(case, mode)
    except PeerUnavailableError as exc:
        pytest.skip(str(exc))
    benchmark(step)
    _record(
        benchmark,
        samples,
        model=case.model,
        batch=case.batch,
        phase=case.phase,
        peer=f"sklearn {mode}",
        device="cpu",
    )
