"""Stochastic gradient descent, with optional (Nesterov, damped) momentum."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nnx.backends.base import Array, Backend
from nnx.backends.coefficients import Prelude, SGDCoefficients
from nnx.optimizers.base import LearningRate, Optimizer, Options, Slots
from nnx.validation import check_bool, check_float

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["SGD"]


class SGD(Optimizer[SGDCoefficients]):
    """Gradient descent with optional momentum and Nesterov momentum (Keras 3 form).

    Update, with ``lr`` the learning rate and ``g`` the gradient::

        momentum == 0:  w -= lr * g
        momentum > 0:   v = momentum * v - lr * (1 - dampening) * g
                        w += v                          (nesterov=False)
                        w += momentum * v - lr * g      (nesterov=True)

    With a constant learning rate this equals ``torch.optim.SGD`` (``v = -lr * buf``),
    ``dampening`` included: as in torch the first step is not damped (``buf = g``), later ones
    are. ``dampening = momentum`` gives the moving average ``v = beta v + (1 - beta) g`` that
    many lessons write, at its natural learning rate (no hand rescaling by ``1 - beta``).

    Args:
        learning_rate: a float ``>= 0`` or a schedule ``f(step) -> float``. Default 0.01.
        momentum: in ``[0, 1]``; 0 disables the velocity slot.
        nesterov: use Nesterov momentum (needs ``dampening == 0``, as in torch).
        dampening: in ``[0, 1]``; the gradient enters the velocity scaled by
            ``1 - dampening`` (after the first step). Default 0.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see :class:`Optimizer`.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import Parameter
    >>> b = get_backend("numpy")
    >>> p = Parameter(b.asarray([1.0, 2.0], dtype="float64"), "w")
    >>> p.grad = b.asarray([0.5, -0.5], dtype="float64")
    >>> opt = SGD(learning_rate=0.1, momentum=0.9)
    >>> opt.step([p]); opt.step([p])
    >>> b.to_numpy(p.value).tolist()  # v = -0.05, then v = 0.9 * v - 0.05 = -0.095
    [0.855, 2.145]
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        dampening: float = 0.0,
        **kwargs: Unpack[Options],
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_float(momentum, "momentum", who=self._who, minimum=0.0, maximum=1.0)
        self.nesterov = check_bool(nesterov, "nesterov", who=self._who)
        self.dampening = check_float(
            dampening, "dampening", who=self._who, minimum=0.0, maximum=1.0
        )
        if self.nesterov and self.dampening:
            raise ValueError(
                f"{self._who}: Nesterov momentum needs dampening=0 (as torch.optim.SGD). "
                f"Received: dampening={dampening!r}"
            )

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum else ()

    def coefficients(self, lr: float, t: int) -> SGDCoefficients:
        # NOTE: the dampened step scales the gradient's term only; torch skips it at step 0.
        damped = self.momentum and self.dampening and t > 0
        return SGDCoefficients(lr * (1.0 - self.dampening) if damped else lr, self.momentum)

    def fused_update(
        self, backend: Backend, w: Array, g: Array, s: Slots, c: SGDCoefficients
    ) -> bool:
        if not self.momentum or self.nesterov:
            return False  # the fused kernel knows the heavy-ball form only
        return backend.sgd_momentum_update(w, g, s["momentum"], c)

    def fused_step(
        self, backend: Backend, w: Array, g: Array, s: Slots, c: SGDCoefficients, pre: Prelude
    ) -> bool:
        return backend.sgd_step(w, g, s.get("momentum"), c, self.nesterov, pre)

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: SGDCoefficients) -> None:
        lr, mu = c
        lg = g * lr
        if not mu:
            w -= lg
            return
        v = s["momentum"]
        v *= mu
        v -= lg
        if self.nesterov:
            w -= lg
            w += v * mu
        else:
            w += v

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, ``momentum``, ``nesterov`` and ``dampening`` included."""
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "dampening": self.dampening,
        }
