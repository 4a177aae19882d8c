"""Stochastic gradient descent, with optional (Nesterov) momentum."""

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
        momentum > 0:   v = momentum * v - lr * g
                        w += v                          (nesterov=False)
                        w += momentum * v - lr * g      (nesterov=True)

    With a constant learning rate this equals ``torch.optim.SGD`` (``v = -lr * buf``).

    Args:
        learning_rate: a float ``>= 0`` or a schedule ``f(step) -> float``. Default 0.01.
        momentum: in ``[0, 1]``; 0 disables the velocity slot.
        nesterov: use Nesterov momentum.
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
        **kwargs: Unpack[Options],
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_float(momentum, "momentum", who=self._who, minimum=0.0, maximum=1.0)
        self.nesterov = check_bool(nesterov, "nesterov", who=self._who)

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum else ()

    def coefficients(self, lr: float, t: int) -> SGDCoefficients:
        return SGDCoefficients(lr, self.momentum)

    def fused_update(
        self, backend: Backend, w: Array, g: Array, s: Slots, c: SGDCoefficients
    ) -> bool:
        if not self.momentum or self.nesterov:
            return False
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
        """The constructor arguments, ``momentum`` and ``nesterov`` included."""
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
