"""Learning-rate schedules: callables of the integer step returning a python float.

Pass one as ``learning_rate=`` to any optimizer; the optimizer evaluates it at its own
``iterations`` counter (the number of updates done), so nothing is read from the device. Every
schedule has ``get_config`` / ``from_config``, and :func:`get` rebuilds one from its name or
from the ``{"class_name": ..., "config": ...}`` form that :func:`serialize` writes, so an
optimizer holding one can be saved.

>>> sched = StepDecay(0.1, rate=0.5, steps=10)
>>> [sched(0), sched(9), sched(10), sched(25)]
[0.1, 0.1, 0.05, 0.025]
>>> get(serialize(sched))
StepDecay(initial_learning_rate=0.1, rate=0.5, steps=10)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nnx.registry import Registry, deserialize, serialize
from nnx.schedules.base import LearningRateSchedule
from nnx.schedules.cyclic import CosineDecay, CyclicalLearningRate
from nnx.schedules.decay import ExponentialDecay, InverseTimeDecay, PiecewiseConstant, StepDecay

__all__ = [
    "CosineDecay",
    "CyclicalLearningRate",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstant",
    "StepDecay",
    "get",
    "names",
    "serialize",
]

_SCHEDULES: Registry[type[LearningRateSchedule]] = Registry("schedule")
for _cls in (
    CosineDecay,
    CyclicalLearningRate,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstant,
    StepDecay,
):
    _SCHEDULES.add(_cls.__name__, _cls)


def names() -> list[str]:
    """The registered schedule names (their class names), sorted.

    >>> names()[:2]
    ['CosineDecay', 'CyclicalLearningRate']
    """
    return _SCHEDULES.names()


def get(spec: LearningRateSchedule | Mapping[str, Any]) -> LearningRateSchedule:
    """Resolve a schedule or its serialised form ``{"class_name": ..., "config": {...}}``.

    Args:
        spec: a :class:`LearningRateSchedule` (returned as is) or a config dict, as
            :func:`serialize` writes it (nnx 0.1 wrote the same form); the class name may be
            spelt in snake case (``"exponential_decay"``).

    Returns:
        The schedule.

    Raises:
        ValueError: unknown class name (the message lists the valid ones) or bad arguments.
        TypeError: ``spec`` is neither.

    >>> get({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1,
    ...      "decay_steps": 10, "decay_rate": 0.5}})(10)
    0.05
    """
    if isinstance(spec, LearningRateSchedule):
        return spec
    if isinstance(spec, Mapping):
        return deserialize(spec, _SCHEDULES)
    raise TypeError(
        f"Expected a learning-rate schedule or its config dict ({', '.join(names())}), "
        f"received {type(spec).__name__}: {spec!r}"
    )
