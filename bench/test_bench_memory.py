"""A steady numpy training loop holds no new memory per step after warm-up (tracemalloc)."""

from __future__ import annotations

import pytest

from nnx.benchmarks.cases import Case, NnxRunner
from nnx.benchmarks.runner import _Discard, growth_per_step


@pytest.mark.parametrize("phase", ["train_sgd", "train_adam", "forward_backward", "inference"])
@pytest.mark.parametrize(("model", "batch"), [("tiny", 32), ("small", 32), ("cnn", 8)])
def test_no_growth_per_step(model: str, batch: int, phase: str) -> None:
    runner = NnxRunner(Case(model, batch, phase), "numpy")
    runner.losses = _Discard()  # keep nothing between steps
    # NOTE: a few hundred bytes are held once (tracemalloc's and the interpreter's own
    # bookkeeping); an array kept per step would cost at least its 112-byte header per step.
    # The large MLP is measured by `python -m nnx bench` (too slow under tracemalloc for CI).
    growth = growth_per_step(runner, steps=200)
    if growth >= 8:
        # NOTE: tracemalloc sees every thread: a thread an earlier test left running (a
        # progress bar's monitor, a pool worker's first wake-up) may allocate ~2 KB once inside
        # the window (10 B/step over 200 steps, seen once in the full suite). A leak per step
        # shows again in a second window; a one-off does not.
        growth = min(growth, growth_per_step(runner, steps=200))
    assert growth < 8
