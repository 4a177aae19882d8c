"""Nadam: Adam with Nesterov momentum."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

from nnx.backends.base import Array, Backend
from nnx.backends.coefficients import NadamCoefficients, Prelude
from nnx.optimizers.adam import check_moment_rates, moments
from nnx.optimizers.base import LearningRate, Optimizer, Options, Slots

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Nadam", "NadamCoefficients"]


class Nadam(Optimizer[NadamCoefficients]):
    """Adam with Nesterov momentum (Dozat, 2016), Keras 3 / ``torch.optim.NAdam`` form.

    Update at step ``t = iterations + 1``, with ``u_t = beta_1 * (1 - 0.5 * 0.96^(0.004 t))``
    and ``U_t = u_1 * ... * u_t`` (a python float kept in the optimizer)::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        m_hat = u_{t+1} * m / (1 - U_t * u_{t+1}) + (1 - u_t) * g / (1 - U_t)
        w -= lr * m_hat / (sqrt(v / (1 - beta_2^t)) + epsilon)

    Args:
        learning_rate: a float ``>= 0`` or a schedule ``f(step) -> float``. Default 0.001.
        beta_1: decay of the first moment, in ``[0, 1)``.
        beta_2: decay of the second moment, in ``[0, 1)``.
        epsilon: ``>= 0``, added to the denominator for numerical stability.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see :class:`Optimizer`.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import Parameter
    >>> b = get_backend("numpy")
    >>> p = Parameter(b.asarray([1.0, 2.0], dtype="float64"), "w")
    >>> p.grad = b.asarray([0.5, -0.5], dtype="float64")
    >>> Nadam(learning_rate=0.1, epsilon=0.0).step([p])
    >>> b.to_numpy(p.value).round(6).tolist()
    [0.894355, 2.105645]
    """

    scalar_state: ClassVar[tuple[str, ...]] = ("u_product",)

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs: Unpack[Options],
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = check_moment_rates(
            self._who, beta_1, beta_2, epsilon
        )
        self._u_product = 1.0

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity")

    def coefficients(self, lr: float, t: int) -> NadamCoefficients:
        # NOTE: called once per step; it advances the running product U_t.
        b1, t = self.beta_1, t + 1
        u_t = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * t))
        u_next = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * (t + 1)))
        u_prod = self._u_product = self._u_product * u_t
        root_bc2 = math.sqrt(1.0 - self.beta_2**t)
        scale = lr * root_bc2
        return NadamCoefficients(
            b1,
            self.beta_2,
            scale * u_next / (1.0 - u_prod * u_next),
            scale * (1.0 - u_t) / (1.0 - u_prod),
            self.epsilon * root_bc2,
        )

    def fused_step(
        self, backend: Backend, w: Array, g: Array, s: Slots, c: NadamCoefficients, pre: Prelude
    ) -> bool:
        return backend.nadam_step(w, g, s["momentum"], s["velocity"], c, pre)

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: NadamCoefficients) -> None:
        b1, b2, cm, cg, eps = c
        m, v = s["momentum"], s["velocity"]
        moments(m, v, g, b1, b2)
        denom = v**0.5
        denom += eps
        inc = m * cm
        inc += g * cg
        inc /= denom
        w -= inc

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, the betas and ``epsilon`` included."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
