"""The schedule contract: a callable of the integer step returning a python float.

>>> from nnx.schedules import StepDecay
>>> isinstance(StepDecay(0.1), LearningRateSchedule)
True
"""

from __future__ import annotations

from typing import Any

from nnx.registry import Configurable

__all__ = ["LearningRateSchedule"]


class LearningRateSchedule(Configurable):
    """Base class: ``schedule(step) -> float``; subclasses define :meth:`rate`.

    Subclasses keep their constructor arguments in ``_config``, which :meth:`get_config`
    returns, so ``type(s).from_config(s.get_config())`` rebuilds a schedule.

    >>> from nnx.schedules import ExponentialDecay
    >>> ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)(3)
    0.125
    """

    _config: dict[str, Any]

    def rate(self, step: int) -> float:
        """The learning rate at ``step`` (0-based count of updates already made)."""
        raise NotImplementedError

    def __call__(self, step: int) -> float:
        """:meth:`rate` at ``step``, an int >= 0, as a python float."""
        if isinstance(step, bool) or int(step) != step or step < 0:
            raise ValueError(f"{type(self).__name__}: step must be an int >= 0, received {step!r}.")
        return float(self.rate(int(step)))

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serialisable."""
        return dict(self._config)
