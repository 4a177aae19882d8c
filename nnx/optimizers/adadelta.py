"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nnx.backends.base import Array, Backend
from nnx.backends.coefficients import AdadeltaCoefficients, Prelude
from nnx.optimizers.base import LearningRate, Optimizer, Options, Slots
from nnx.validation import check_float

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Adadelta", "AdadeltaCoefficients"]


class Adadelta(Optimizer[AdadeltaCoefficients]):
    """Adadelta (Zeiler, 2012), Keras 3 form (identical to ``torch.optim.Adadelta``).

    Update, with ``lr`` the learning rate and ``g`` the gradient::

        Eg = rho * Eg + (1 - rho) * g^2
        delta = g * sqrt(Edx + epsilon) / sqrt(Eg + epsilon)
        Edx = rho * Edx + (1 - rho) * delta^2
        w -= lr * delta

    Args:
        learning_rate: a float ``>= 0`` or a schedule ``f(step) -> float``. Default 0.001
            (Keras; the paper and PyTorch use 1.0).
        rho: decay of both running averages, in ``[0, 1]``.
        epsilon: ``>= 0``, added inside both square roots.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see :class:`Optimizer`.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import Parameter
    >>> b = get_backend("numpy")
    >>> p = Parameter(b.asarray([1.0, 2.0], dtype="float64"), "w")
    >>> p.grad = b.asarray([0.5, -0.5], dtype="float64")
    >>> Adadelta(learning_rate=1.0, rho=0.75, epsilon=0.01).step([p])
    >>> b.to_numpy(p.value).round(6).tolist()  # delta = g * 0.1 / sqrt(0.0725)
    [0.814305, 2.185695]
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        **kwargs: Unpack[Options],
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = check_float(rho, "rho", who=self._who, minimum=0.0, maximum=1.0)
        self.epsilon = check_float(epsilon, "epsilon", who=self._who, minimum=0.0)

    def slot_names(self) -> tuple[str, ...]:
        return ("accumulated_grad", "accumulated_delta_var")

    def coefficients(self, lr: float, t: int) -> AdadeltaCoefficients:
        return AdadeltaCoefficients(lr, self.rho, 1.0 - self.rho, self.epsilon)

    def fused_step(
        self,
        backend: Backend,
        w: Array,
        g: Array,
        s: Slots,
        c: AdadeltaCoefficients,
        pre: Prelude,
    ) -> bool:
        eg, edx = s["accumulated_grad"], s["accumulated_delta_var"]
        return backend.adadelta_step(w, g, eg, edx, c, pre)

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: AdadeltaCoefficients) -> None:
        lr, rho, one_minus_rho, eps = c
        eg, edx = s["accumulated_grad"], s["accumulated_delta_var"]
        gg = g * g
        gg *= one_minus_rho
        eg *= rho
        eg += gg
        delta = edx + eps
        delta /= eg + eps
        delta **= 0.5  # sqrt(a) / sqrt(b) as sqrt(a / b): one square root, one temporary less
        delta *= g
        dd = delta * delta
        dd *= one_minus_rho
        edx *= rho
        edx += dd
        delta *= lr
        w -= delta

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, this optimizer's own included."""
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
