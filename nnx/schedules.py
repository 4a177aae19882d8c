"""Learning-rate schedules: callables of the integer step returning a python float.

Pass one as ``learning_rate=`` to any optimizer; the optimizer evaluates it at its own
``iterations`` counter (the number of updates done), so nothing is read from the device. Every
schedule has ``get_config`` / ``from_config``, so an optimizer holding one can be saved.

>>> sched = StepDecay(0.1, rate=0.5, steps=10)
>>> [sched(0), sched(9), sched(10), sched(25)]
[0.1, 0.1, 0.05, 0.025]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "CosineDecay",
    "CyclicalLearningRate",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstant",
    "StepDecay",
]


def _positive(who: str, name: str, value: Any, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not (value >= 0 if allow_zero else value > 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{who}: {name} must be a number {bound}, received {name}={value!r}.")
    return float(value)


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float``; subclasses define :meth:`rate`.

    >>> ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)(3)
    0.125
    """

    def rate(self, step: int) -> float:
        """The learning rate at ``step`` (0-based count of updates already made)."""
        raise NotImplementedError

    def __call__(self, step: int) -> float:
        if isinstance(step, bool) or int(step) != step or step < 0:
            raise ValueError(f"{type(self).__name__}: step must be an int >= 0, received {step!r}.")
        return float(self.rate(int(step)))

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serialisable."""
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"

    _config: dict[str, Any]


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
        self.lr = _positive(who, "initial_learning_rate", initial_learning_rate, True)
        self.steps = _positive(who, "decay_steps", decay_steps)
        self.decay = _positive(who, "decay_rate", decay_rate)
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
        self.lr = _positive("StepDecay", "initial_learning_rate", initial_learning_rate, True)
        self.factor = _positive("StepDecay", "rate", rate)
        self.steps = int(_positive("StepDecay", "steps", steps))
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
        self.lr = _positive(who, "initial_learning_rate", initial_learning_rate, True)
        self.k = _positive(who, "decay_rate", decay_rate, True)
        self.steps = _positive(who, "decay_steps", decay_steps)
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
        self.peak = _positive(who, "initial_learning_rate", initial_learning_rate, True)
        self.steps = _positive(who, "decay_steps", decay_steps)
        self.alpha = _positive(who, "alpha", alpha, True)
        self.warmup = int(_positive(who, "warmup_steps", warmup_steps, True))
        self.start = _positive(who, "warmup_start", warmup_start, True)
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
        self.base = _positive(who, "base_learning_rate", base_learning_rate, True)
        self.max = _positive(who, "max_learning_rate", max_learning_rate, True)
        self.step_size = _positive(who, "step_size", step_size)
        if mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(
                f"{who}: mode must be 'triangular', 'triangular2' or 'exp_range', "
                f"received mode={mode!r}."
            )
        self.mode, self.gamma = mode, _positive(who, "gamma", gamma)
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
