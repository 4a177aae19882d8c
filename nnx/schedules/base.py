"""The schedule contract: a callable of the integer step returning a python float.

>>> from nnx.schedules import StepDecay
>>> isinstance(StepDecay(0.1), LearningRateSchedule)
True
"""

from __future__ import annotations

from typing import Any

__all__ = ["LearningRateSchedule", "positive"]


def positive(who: str, name: str, value: Any, allow_zero: bool = False) -> float:
    """``value`` as a float, checked ``> 0`` (or ``>= 0``); the error names ``who`` and ``name``.

    >>> positive("StepDecay", "steps", 10)
    10.0
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not (value >= 0 if allow_zero else value > 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{who}: {name} must be a number {bound}, received {name}={value!r}.")
    return float(value)


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float``; subclasses define :meth:`rate`.

    >>> from nnx.schedules import ExponentialDecay
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
