"""Cosine decay with warm-up and Smith's cyclical learning rates.

>>> CosineDecay(1.0, decay_steps=4)(4)
0.0
"""

from __future__ import annotations

import math

from nnx.schedules.base import LearningRateSchedule
from nnx.validation import check_choice, check_float

__all__ = ["CosineDecay", "CyclicalLearningRate"]


class CosineDecay(LearningRateSchedule):
    """Linear warm-up from ``warmup_start`` to ``peak``, then cosine decay to ``alpha * peak``.

    After warm-up, ``lr = peak * (alpha + (1 - alpha) * (1 + cos(pi * t / decay_steps)) / 2)``
    with ``t`` the steps since warm-up ended, held at its final value after ``decay_steps``.

    Args:
        initial_learning_rate: the peak rate (reached at the end of warm-up).
        decay_steps: length of the cosine part.
        alpha: final rate as a fraction of the peak.
        warmup_steps: length of the linear warm-up (0: none).
        warmup_start: rate at step 0 when warming up.

    Returns:
        A callable schedule.

    >>> s = CosineDecay(1.0, decay_steps=10, warmup_steps=5)
    >>> [s(0), s(5), s(10), s(15), s(99)]
    [0.0, 1.0, 0.5, 0.0, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_steps: int = 0,
        warmup_start: float = 0.0,
    ) -> None:
        who = "CosineDecay"
        self.peak = check_float(
            initial_learning_rate, "initial_learning_rate", who=who, minimum=0.0
        )
        self.steps = check_float(
            decay_steps, "decay_steps", who=who, minimum=0.0, minimum_open=True
        )
        self.alpha = check_float(alpha, "alpha", who=who, minimum=0.0)
        self.warmup = int(check_float(warmup_steps, "warmup_steps", who=who, minimum=0.0))
        self.start = check_float(warmup_start, "warmup_start", who=who, minimum=0.0)
        self._config = {
            "initial_learning_rate": initial_learning_rate,
            "decay_steps": decay_steps,
            "alpha": alpha,
            "warmup_steps": warmup_steps,
            "warmup_start": warmup_start,
        }

    def rate(self, step: int) -> float:
        if step < self.warmup:
            return self.start + (self.peak - self.start) * step / self.warmup
        t = min(step - self.warmup, self.steps) / self.steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * t))
        return self.peak * (self.alpha + (1.0 - self.alpha) * cosine)


class CyclicalLearningRate(LearningRateSchedule):
    """Smith's cyclical rate between ``base`` and ``max``, period ``2 * step_size``.

    ``x = |step / step_size - 2 cycle + 1|`` with ``cycle = floor(1 + step / (2 step_size))``,
    ``lr = base + (max - base) * max(0, 1 - x) * scale`` where ``scale`` is 1 (``triangular``),
    ``1 / 2 ** (cycle - 1)`` (``triangular2``) or ``gamma ** step`` (``exp_range``).

    Args:
        base_learning_rate: the lower bound.
        max_learning_rate: the upper bound.
        step_size: steps of a half cycle.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: decay of ``exp_range``.

    Returns:
        A callable schedule.

    >>> s = CyclicalLearningRate(0.0, 1.0, step_size=2, mode="triangular2")
    >>> [s(0), s(1), s(2), s(4), s(6)]
    [0.0, 0.5, 1.0, 0.0, 0.5]
    """

    def __init__(
        self,
        base_learning_rate: float,
        max_learning_rate: float,
        step_size: int,
        mode: str = "triangular",
        gamma: float = 1.0,
    ) -> None:
        who = "CyclicalLearningRate"
        self.base = check_float(base_learning_rate, "base_learning_rate", who=who, minimum=0.0)
        self.max = check_float(max_learning_rate, "max_learning_rate", who=who, minimum=0.0)
        self.step_size = check_float(
            step_size, "step_size", who=who, minimum=0.0, minimum_open=True
        )
        self.mode = check_choice(mode, "mode", ("triangular", "triangular2", "exp_range"), who=who)
        self.gamma = check_float(gamma, "gamma", who=who, minimum=0.0, minimum_open=True)
        self._config = {
            "base_learning_rate": base_learning_rate,
            "max_learning_rate": max_learning_rate,
            "step_size": step_size,
            "mode": mode,
            "gamma": gamma,
        }

    def rate(self, step: int) -> float:
        cycle = math.floor(1 + step / (2 * self.step_size))
        x = abs(step / self.step_size - 2 * cycle + 1)
        scale = {
            "triangular": 1.0,
            "triangular2": 1.0 / 2 ** (cycle - 1),
            "exp_range": self.gamma**step,
        }[self.mode]
        return self.base + (self.max - self.base) * max(0.0, 1.0 - x) * scale
