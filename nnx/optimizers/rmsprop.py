"""RMSprop: divide the gradient by a running root mean square of its recent values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nnx.backends.base import Array, Backend
from nnx.backends.coefficients import Prelude, RMSpropCoefficients
from nnx.optimizers.base import LearningRate, Optimizer, Options, Slots
from nnx.validation import check_bool, check_float

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["RMSprop", "RMSpropCoefficients"]


class RMSprop(Optimizer[RMSpropCoefficients]):
    """RMSprop (Hinton), with optional momentum and centering (Keras 3 form).

    Update, with ``lr`` the learning rate and ``g`` the gradient::

        v = rho * v + (1 - rho) * g^2
        centered:  mg = rho * mg + (1 - rho) * g;  denom = v - mg^2
        else:      denom = v
        increment = lr * g / sqrt(denom + epsilon)
        momentum > 0:  m = momentum * m + increment;  w -= m
        else:          w -= increment

    ``epsilon`` is inside the square root (Keras); ``torch.optim.RMSprop`` adds it outside, so
    the two agree exactly only for ``epsilon=0``.

    Args:
        learning_rate: a float ``>= 0`` or a schedule ``f(step) -> float``. Default 0.001.
        rho: decay of the running mean of ``g^2``, in ``[0, 1]``.
        momentum: in ``[0, 1]``; 0 disables the momentum slot.
        epsilon: ``>= 0``, added to the denominator for numerical stability.
        centered: divide by the estimated variance of ``g`` rather than its second moment.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see :class:`Optimizer`.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import Parameter
    >>> b = get_backend("numpy")
    >>> p = Parameter(b.asarray([1.0, 2.0], dtype="float64"), "w")
    >>> p.grad = b.asarray([0.5, -0.5], dtype="float64")
    >>> RMSprop(learning_rate=0.1, rho=0.75, epsilon=0.0).step([p])
    >>> b.to_numpy(p.value).tolist()  # v = 0.25 * g^2, so the step is lr * g / (|g| / 2)
    [0.8, 2.2]
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Unpack[Options],
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = check_float(rho, "rho", who=self._who, minimum=0.0, maximum=1.0)
        self.momentum = check_float(momentum, "momentum", who=self._who, minimum=0.0, maximum=1.0)
        self.epsilon = check_float(epsilon, "epsilon", who=self._who, minimum=0.0)
        self.centered = check_bool(centered, "centered", who=self._who)

    def slot_names(self) -> tuple[str, ...]:
        return (
            ("velocity",)
            + (("momentum",) if self.momentum else ())
            + (("average_gradient",) if self.centered else ())
        )

    def coefficients(self, lr: float, t: int) -> RMSpropCoefficients:
        return RMSpropCoefficients(lr, self.rho, 1.0 - self.rho, self.momentum, self.epsilon)

    def fused_step(
        self, backend: Backend, w: Array, g: Array, s: Slots, c: RMSpropCoefficients, pre: Prelude
    ) -> bool:
        v, m, mg = s["velocity"], s.get("momentum"), s.get("average_gradient")
        return backend.rmsprop_step(w, g, v, m, mg, c, pre)

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: RMSpropCoefficients) -> None:
        lr, rho, one_minus_rho, mu, eps = c
        v = s["velocity"]
        gg = g * g
        gg *= one_minus_rho
        v *= rho
        v += gg
        if self.centered:
            mg = s["average_gradient"]
            mg -= g  # rho * mg + (1 - rho) * g == rho * (mg - g) + g, without a temporary
            mg *= rho
            mg += g
            denom = v - mg * mg
            denom += eps
        else:
            denom = v + eps
        denom **= 0.5
        inc = g * lr
        inc /= denom
        if mu:
            m = s["momentum"]
            m *= mu
            m += inc
            w -= m
        else:
            w -= inc

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, this optimizer's own included."""
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
