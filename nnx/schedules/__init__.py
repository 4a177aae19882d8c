"""Learning-rate schedules: callables of the integer step returning a python float.

Pass one as ``learning_rate=`` to any optimizer; the optimizer evaluates it at its own
``iterations`` counter (the number of updates done), so nothing is read from the device. Every
schedule has ``get_config`` / ``from_config``, so an optimizer holding one can be saved.

>>> sched = StepDecay(0.1, rate=0.5, steps=10)
>>> [sched(0), sched(9), sched(10), sched(25)]
[0.1, 0.1, 0.05, 0.025]
"""

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
]
