"""The learning-rate range test (Smith 2015, fast.ai's ``lr_find``), exposed as ``nnx.lr_find``.

The learning rate grows exponentially from ``start_lr`` to ``end_lr`` over ``num_steps``
batches while the (smoothed) loss is recorded; the suggestion is the rate where the smoothed
loss falls fastest. The model's weights, optimizer state and random generators are restored
afterwards, so the test leaves the model exactly as it found it: the steps are taken by a copy
of the model's optimizer (same class, settings and state), and the model's own optimizer is
never touched. It reads the loss every batch (one host synchronisation per step): it is a
diagnostic, not a training loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnx.saving import copy_state, restore_state
from nnx.training.batching import Dataset, model_data
from nnx.training.inputs import check_batch_size, require_compiled
from nnx.validation import check_float, check_int

if TYPE_CHECKING:
    from nnx.models import Sequential

__all__ = ["LRFinderResult", "lr_find"]


@dataclass
class LRFinderResult:
    """What :func:`lr_find` measured.

    Attributes:
        rates: the learning rate of each step.
        losses: the smoothed, bias-corrected training loss after each step.
        suggestion: the rate with the steepest loss decrease.

    >>> LRFinderResult([1e-3, 1e-2], [0.7, 0.5], 1e-3).suggestion
    0.001
    """

    rates: list[float]
    losses: list[float]
    suggestion: float


def lr_find(
    model: Sequential,
    x: Any,
    y: Any,
    *,
    start_lr: float = 1e-6,
    end_lr: float = 1.0,
    num_steps: int = 100,
    batch_size: int = 32,
    smoothing: float = 0.9,
    diverge: float = 4.0,
) -> LRFinderResult:
    """Run the LR range test on a compiled model without changing it.

    Args:
        model: a compiled :class:`nnx.Sequential`.
        x, y: training data (host or backend arrays).
        start_lr, end_lr: the range, ``0 < start_lr < end_lr``.
        num_steps: number of batches (cycling through the data).
        batch_size: rows per batch.
        smoothing: factor of the loss's exponential moving average.
        diverge: stop once the smoothed loss exceeds ``diverge`` times its minimum.

    Returns:
        An :class:`LRFinderResult`.

    >>> import nnx
    >>> from nnx.layers import Dense
    >>> from nnx.datasets import make_moons
    >>> X, y = make_moons(256, seed=0)
    >>> model = nnx.Sequential([Dense(8, activation="tanh", input_shape=(2,)),
    ...                         Dense(1, activation="sigmoid")], seed=0)
    >>> model.compile("sgd", "binary_crossentropy")
    >>> before = model.get_weights()
    >>> result = nnx.lr_find(model, X, y.reshape(-1, 1), num_steps=40)
    >>> after = model.get_weights()
    >>> 1e-6 <= result.suggestion <= 1.0, all((a == b).all() for a, b in zip(before, after))
    (True, True)
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_find needs 0 < start_lr < end_lr, got {start_lr!r}, {end_lr!r}.")
    num_steps = check_int(num_steps, "num_steps", who="lr_find", minimum=2)
    smoothing = check_float(
        smoothing, "smoothing", who="lr_find", minimum=0, maximum=1, maximum_open=True
    )
    diverge = check_float(diverge, "diverge", who="lr_find", minimum=1, minimum_open=True)
    require_compiled(model, "lr_find")
    data = model_data(model, x, y)
    batch_size = check_batch_size(batch_size)
    optimizer = model.optimizer
    assert optimizer is not None
    saved = copy_state(model, include_optimizer=False)
    probe = type(optimizer).from_config({**optimizer.get_config(), "learning_rate": start_lr})
    probe.load_state_dict(optimizer.state_dict())
    model.optimizer = probe
    try:
        rates, losses = _range_test(
            model, data, start_lr, end_lr, num_steps, batch_size, smoothing, diverge
        )
    finally:
        model.optimizer = optimizer
        restore_state(model, *saved)
        for metric in model.metrics:
            metric.reset_state()
    return LRFinderResult(rates, losses, _steepest(rates, losses))


def _range_test(
    model: Sequential,
    data: Dataset,
    start_lr: float,
    end_lr: float,
    num_steps: int,
    batch_size: int,
    smoothing: float,
    diverge: float,
) -> tuple[list[float], list[float]]:
    """Train ``num_steps`` batches with exponentially growing rates; ``(rates, losses)``."""
    assert model.optimizer is not None
    n = len(data)
    ratio = (end_lr / start_lr) ** (1.0 / (num_steps - 1))
    rates: list[float] = []
    losses: list[float] = []
    average, best = 0.0, math.inf
    data = data.shuffled(model.rng.permutation(n))
    for step in range(num_steps):
        lr = start_lr * ratio**step
        model.optimizer.learning_rate = lr
        start = (step * batch_size) % n
        loss = float(model.train_step(*data.batch(slice(start, min(start + batch_size, n)))))
        if not math.isfinite(loss):
            break
        average = smoothing * average + (1 - smoothing) * loss
        smoothed = average / (1 - smoothing ** (step + 1))
        rates.append(lr)
        losses.append(smoothed)
        best = min(best, smoothed)
        if smoothed > diverge * best:
            break
    return rates, losses


def _steepest(rates: list[float], losses: list[float]) -> float:
    # NOTE: only up to the loss minimum: past it the curve is divergence and noise.
    end = min(range(len(losses)), key=losses.__getitem__) + 1 if losses else 0
    rates, losses = rates[: max(end, 3)], losses[: max(end, 3)]
    if len(rates) < 3:
        return rates[0] if rates else math.nan
    slopes = [
        (losses[i + 1] - losses[i - 1]) / (math.log(rates[i + 1]) - math.log(rates[i - 1]))
        for i in range(1, len(rates) - 1)
    ]
    return rates[1 + min(range(len(slopes)), key=slopes.__getitem__)]
