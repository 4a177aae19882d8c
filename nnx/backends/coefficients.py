"""The per-step coefficients of the fused optimizer updates, one named tuple per update.

An optimizer computes them once per step as python floats (nothing is read from the device)
and hands them to its portable update and to the backend's fused kernel alike, so both see the
same numbers. They are plain tuples: ``beta_1, beta_2, step_size, epsilon = c`` unpacks them.

>>> AdamCoefficients(beta_1=0.9, beta_2=0.999, step_size=0.1, epsilon=1e-7).step_size
0.1
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["AdamCoefficients", "SGDCoefficients"]


class AdamCoefficients(NamedTuple):
    """Adam's update with the bias corrections folded into two numbers.

    ``m = beta_1 m + (1 - beta_1) g``, ``v = beta_2 v + (1 - beta_2) g^2``,
    ``w -= step_size * m / (sqrt(v) + epsilon)``, where at step ``t`` (1-based)
    ``step_size = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)`` and
    ``epsilon = epsilon_user sqrt(1 - beta_2^t)``: the published update, rearranged.
    """

    beta_1: float
    beta_2: float
    step_size: float
    epsilon: float


class SGDCoefficients(NamedTuple):
    """Gradient descent with momentum: ``v = momentum v - learning_rate g``, ``w += v``
    (``momentum == 0``: ``w -= learning_rate g``)."""

    learning_rate: float
    momentum: float
