"""Decaying schedules: exponential, step, inverse-time, piecewise constant.

>>> InverseTimeDecay(0.1, decay_rate=1.0)(1)
0.05
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nnx.schedules.base import LearningRateSchedule
from nnx.validation import check_float, check_int

__all__ = ["ExponentialDecay", "InverseTimeDecay", "PiecewiseConstant", "StepDecay"]


class ExponentialDecay(LearningRateSchedule):
    """``lr * decay_rate ** (step / decay_steps)`` (floored exponent when ``staircase``).

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps per factor of ``decay_rate``.
        decay_rate: the factor.
        staircase: decay in discrete jumps.

    Returns:
        A callable schedule.

    >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
    0.025
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        who = "ExponentialDecay"
        self.lr = check_float(initial_learning_rate, "initial_learning_rate", who=who, minimum=0.0)
        self.steps = check_float(
            decay_steps, "decay_steps", who=who, minimum=0.0, minimum_open=True
        )
        self.decay = check_float(decay_rate, "decay_rate", who=who, minimum=0.0, minimum_open=True)
        self.staircase = bool(staircase)
        self._config = {
            "initial_learning_rate": initial_learning_rate,
            "decay_steps": decay_steps,
            "decay_rate": decay_rate,
            "staircase": self.staircase,
        }

    def rate(self, step: int) -> float:
        p = step / self.steps
        return self.lr * self.decay ** (math.floor(p) if self.staircase else p)


class StepDecay(LearningRateSchedule):
    """``lr * rate ** (step // steps)``: the notebooks' "halve every k epochs".

    Args:
        initial_learning_rate: the rate at step 0.
        rate: the factor applied every ``steps`` steps.
        steps: steps between drops (use the number of batches per epoch times the epochs).

    Returns:
        A callable schedule.

    >>> StepDecay(1.0, rate=0.1, steps=5)(10)
    0.010000000000000002
    """

    def __init__(self, initial_learning_rate: float, rate: float = 0.5, steps: int = 10) -> None:
        self.lr = check_float(
            initial_learning_rate, "initial_learning_rate", who="StepDecay", minimum=0.0
        )
        self.factor = check_float(rate, "rate", who="StepDecay", minimum=0.0, minimum_open=True)
        self.steps = check_int(steps, "steps", who="StepDecay", minimum=1)
        self._config = {
            "initial_learning_rate": initial_learning_rate,
            "rate": rate,
            "steps": steps,
        }

    def rate(self, step: int) -> float:
        return self.lr * self.factor ** (step // self.steps)


class InverseTimeDecay(LearningRateSchedule):
    """``lr / (1 + decay_rate * step / decay_steps)``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_rate: ``k`` in ``lr / (1 + k t)``.
        decay_steps: the unit of ``t`` in steps (1: ``t`` is the step).

    Returns:
        A callable schedule.

    >>> InverseTimeDecay(1.0, decay_rate=1.0)(3)
    0.25
    """

    def __init__(
        self, initial_learning_rate: float, decay_rate: float, decay_steps: int = 1
    ) -> None:
        who = "InverseTimeDecay"
        self.lr = check_float(initial_learning_rate, "initial_learning_rate", who=who, minimum=0.0)
        self.k = check_float(decay_rate, "decay_rate", who=who, minimum=0.0)
        self.steps = check_float(
            decay_steps, "decay_steps", who=who, minimum=0.0, minimum_open=True
        )
        self._config = {
            "initial_learning_rate": initial_learning_rate,
            "decay_rate": decay_rate,
            "decay_steps": decay_steps,
        }

    def rate(self, step: int) -> float:
        return self.lr / (1.0 + self.k * step / self.steps)


class PiecewiseConstant(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]`` (Keras semantics).

    Args:
        boundaries: increasing step boundaries.
        values: one more value than boundaries.

    Returns:
        A callable schedule.

    >>> s = PiecewiseConstant([10, 20], [1.0, 0.5, 0.1])
    >>> [s(10), s(11), s(21)]
    [1.0, 0.5, 0.1]
    """

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
        b, v = list(boundaries), [float(x) for x in values]
        if len(v) != len(b) + 1 or any(b[i] >= b[i + 1] for i in range(len(b) - 1)):
            raise ValueError(
                "PiecewiseConstant: boundaries must increase and values must have one more "
                f"entry, received boundaries={b!r}, values={v!r}."
            )
        self.boundaries, self.values = b, v
        self._config = {"boundaries": b, "values": v}

    def rate(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values[:-1], strict=True):
            if step <= boundary:
                return value
        return self.values[-1]
