"""The learning-rate range test (Smith 2015, fast.ai's ``lr_find``), exposed as ``nnx.lr_find``.

The learning rate grows exponentially from ``start_lr`` to ``end_lr`` over ``num_steps``
batches while the training loss is recorded and smoothed by a bias-corrected exponential moving
average ``a_t = s a_(t-1) + (1 - s) loss_t``, ``smoothed_t = a_t / (1 - s^t)``. The sweep stops
once the smoothed loss exceeds ``diverge`` times its minimum (or turns non-finite). The
suggestion ignores the first ``skip_start`` steps (the average is still warming up there, and
the raw first batches are noise) and the part past the minimum (divergence), then takes

- ``"steepest"`` (default): the rate where the smoothed loss falls fastest against ``log(lr)``
  (a central difference over a window of ``max(2, n / 20)`` points, so one noisy step cannot win);
- ``"valley"`` (fast.ai's rule): the longest stretch over which the smoothed loss keeps
  decreasing, and the point two thirds of the way down it;
- ``"minimum"``: the rate of the lowest smoothed loss divided by 10 (Smith's rule of thumb).

The model's weights, optimizer state and random generators are restored afterwards, so the test
leaves the model exactly as it found it: the steps are taken by a copy of the model's optimizer
(same class, settings and state), and the model's own optimizer is never touched. It reads the
loss every batch (one host synchronisation per step): it is a diagnostic, not a training loop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nnx.saving import copy_state, restore_state
from nnx.training.batching import Dataset, model_data
from nnx.training.inputs import check_batch_size, require_compiled
from nnx.validation import check_choice, check_float, check_int

if TYPE_CHECKING:
    from nnx.models import Sequential

__all__ = ["SUGGESTIONS", "LRFinderResult", "lr_find", "suggest_rate"]


SUGGESTIONS = ("steepest", "valley", "minimum")


@dataclass
class LRFinderResult:
    """What :func:`lr_find` measured.

    Attributes:
        rates: the learning rate of each step.
        losses: the smoothed, bias-corrected training loss after each step.
        suggestion: the suggested rate (see :func:`suggest_rate`).
        method: the rule that chose it (``"steepest"``, ``"valley"`` or ``"minimum"``).
        skip_start: how many first steps the rule ignored.
        raw_losses: the loss of each step's batch, before smoothing.

    >>> LRFinderResult([1e-3, 1e-2, 1e-1], [0.7, 0.5, 0.45], 1e-2).suggest("minimum")
    0.01
    """

    rates: list[float]
    losses: list[float]
    suggestion: float
    method: str = "steepest"
    skip_start: int = 0
    raw_losses: list[float] = field(default_factory=list)

    def suggest(self, method: str = "steepest") -> float:
        """The suggestion of another rule on the same sweep (no new training)."""
        return suggest_rate(self.rates, self.losses, method, self.skip_start)


def lr_find(
    model: Sequential,
    x: Any,
    y: Any,
    *,
    start_lr: float = 1e-6,
    end_lr: float = 10.0,
    num_steps: int = 100,
    batch_size: int = 32,
    smoothing: float = 0.9,
    diverge: float = 4.0,
    skip_start: int | None = None,
    method: str = "steepest",
) -> LRFinderResult:
    """Run the LR range test on a compiled model without changing it.

    Args:
        model: a compiled :class:`nnx.Sequential`.
        x, y: training data (host or backend arrays).
        start_lr, end_lr: the range, ``0 < start_lr < end_lr``.
        num_steps: number of batches (cycling through the data).
        batch_size: rows per batch.
        smoothing: factor ``s`` of the loss's exponential moving average, in ``[0, 1)``.
        diverge: stop once the smoothed loss exceeds ``diverge`` times its minimum.
        skip_start: first steps the suggestion ignores (default ``num_steps // 10``).
        method: ``"steepest"``, ``"valley"`` or ``"minimum"`` (see the module docstring).

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
    >>> 1e-6 <= result.suggestion <= 10.0, all((a == b).all() for a, b in zip(before, after))
    (True, True)
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_find needs 0 < start_lr < end_lr, got {start_lr!r}, {end_lr!r}.")
    num_steps = check_int(num_steps, "num_steps", who="lr_find", minimum=2)
    smoothing = check_float(
        smoothing, "smoothing", who="lr_find", minimum=0, maximum=1, maximum_open=True
    )
    diverge = check_float(diverge, "diverge", who="lr_find", minimum=1, minimum_open=True)
    skip = num_steps // 10 if skip_start is None else skip_start
    skip = check_int(skip, "skip_start", who="lr_find", minimum=0, maximum=num_steps - 2)
    method = check_choice(method, "method", SUGGESTIONS, who="lr_find")
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
        rates, losses, raw = _range_test(
            model, data, start_lr, end_lr, num_steps, batch_size, smoothing, diverge
        )
    finally:
        model.optimizer = optimizer
        restore_state(model, *saved)
        for metric in model.metrics:
            metric.reset_state()
    return LRFinderResult(
        rates, losses, suggest_rate(rates, losses, method, skip), method, skip, raw
    )


def _range_test(
    model: Sequential,
    data: Dataset,
    start_lr: float,
    end_lr: float,
    num_steps: int,
    batch_size: int,
    smoothing: float,
    diverge: float,
) -> tuple[list[float], list[float], list[float]]:
    """Train ``num_steps`` batches with exponentially growing rates; ``(rates, smoothed, raw)``."""
    assert model.optimizer is not None
    n = len(data)
    ratio = (end_lr / start_lr) ** (1.0 / (num_steps - 1))
    rates: list[float] = []
    losses: list[float] = []
    raw: list[float] = []
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
        raw.append(loss)
        best = min(best, smoothed)
        if smoothed > diverge * best:
            break
    return rates, losses, raw


def suggest_rate(
    rates: Sequence[float], losses: Sequence[float], method: str = "steepest", skip_start: int = 0
) -> float:
    """The suggested learning rate of a sweep ``(rates, smoothed losses)``.

    Only the points from ``skip_start`` up to the lowest loss are considered (past it the curve
    is divergence and noise). ``"steepest"`` maximises ``-(L[i+k] - L[i-k]) / (log r[i+k] -
    log r[i-k])`` with ``k = max(2, n // 20)``; ``"valley"`` takes the longest decreasing run
    and the point 2/3 of the way down it; ``"minimum"`` is ``r[argmin L] / 10``.

    >>> suggest_rate([1e-3, 1e-2, 1e-1, 1.0], [1.0, 0.8, 0.3, 2.0], "minimum")
    0.01
    """
    method = check_choice(method, "method", SUGGESTIONS, who="suggest_rate")
    if not rates:
        return math.nan
    skip = min(skip_start, len(rates) - 1)
    low = min(range(skip, len(losses)), key=losses.__getitem__)
    if method == "minimum":
        return rates[low] / 10
    rates, losses = list(rates[skip : low + 1]), list(losses[skip : low + 1])
    if len(rates) < 3:
        return rates[0]
    if method == "valley":
        return rates[_valley(losses)]
    k = max(1, min(max(2, len(rates) // 20), (len(rates) - 1) // 2))
    slopes = [
        (losses[i + k] - losses[i - k]) / (math.log(rates[i + k]) - math.log(rates[i - k]))
        for i in range(k, len(rates) - k)
    ]
    return rates[k + min(range(len(slopes)), key=slopes.__getitem__)]


def _valley(losses: Sequence[float]) -> int:
    """The index 2/3 down the longest decreasing subsequence of ``losses`` (fast.ai's valley)."""
    n = len(losses)
    run = [1] * n
    first = list(range(n))
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and run[j] + 1 > run[i]:
                run[i], first[i] = run[j] + 1, first[j]
    end = max(range(n), key=run.__getitem__)
    start = first[end]
    return start + (2 * (end - start)) // 3
