"""The per-step coefficients of the fused optimizer updates, one named tuple per update.

An optimizer computes them once per step as python floats (nothing is read from the device)
and hands them to its portable update and to the backend's fused kernel alike, so both see the
same numbers. They are plain tuples: ``beta_1, beta_2, step_size, epsilon = c`` unpacks them.

>>> AdamCoefficients(beta_1=0.9, beta_2=0.999, step_size=0.1, epsilon=1e-7).step_size
0.1
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

__all__ = [
    "NO_PRELUDE",
    "AdadeltaCoefficients",
    "AdagradCoefficients",
    "AdamCoefficients",
    "NadamCoefficients",
    "Prelude",
    "RMSpropCoefficients",
    "SGDCoefficients",
]


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


class RMSpropCoefficients(NamedTuple):
    """RMSprop's per-step floats: the learning rate, ``rho`` and ``1 - rho``, the momentum and
    ``epsilon`` (see :class:`nnx.optimizers.RMSprop`)."""

    learning_rate: float
    rho: float
    one_minus_rho: float
    momentum: float
    epsilon: float


class AdagradCoefficients(NamedTuple):
    """Adagrad's per-step floats: the learning rate and ``epsilon`` (see
    :class:`nnx.optimizers.Adagrad`)."""

    learning_rate: float
    epsilon: float


class AdadeltaCoefficients(NamedTuple):
    """Adadelta's per-step floats: the learning rate, ``rho`` and ``1 - rho``, and ``epsilon``
    (see :class:`nnx.optimizers.Adadelta`)."""

    learning_rate: float
    rho: float
    one_minus_rho: float
    epsilon: float


class NadamCoefficients(NamedTuple):
    """Nadam's per-step floats: ``w -= (m_coef m + g_coef g) / (sqrt(v) + epsilon)``, with
    ``m_coef``, ``g_coef`` and ``epsilon`` carrying the learning rate, the momentum schedule and
    the bias correction of ``v`` (see :class:`nnx.optimizers.Nadam`)."""

    beta_1: float
    beta_2: float
    m_coef: float
    g_coef: float
    epsilon: float


class Prelude(NamedTuple):
    """What every optimizer does to a step before its own update, for a fused kernel to fold
    in: ``g = clip(g * scale, -clipvalue, clipvalue)`` and ``w *= decay``.

    ``scale`` is ``global_clipnorm``'s factor (a python float or a 0-d array of the backend),
    ``decay = 1 - lr * weight_decay``. The defaults do nothing.

    >>> Prelude(decay=0.99).is_identity(), NO_PRELUDE.is_identity()
    (False, True)
    """

    decay: float = 1.0
    scale: Any = 1.0
    clipvalue: float = math.inf

    def is_identity(self) -> bool:
        """Whether the prelude changes nothing."""
        return (
            self.decay == 1.0
            and self.clipvalue == math.inf
            and isinstance(self.scale, float)
            and self.scale == 1.0
        )


#: the prelude that changes nothing
NO_PRELUDE = Prelude()
