"""Adagrad: per-coordinate learning rates from the accumulated squared gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nnx.backends.base import Array, Backend
from nnx.backends.coefficients import AdagradCoefficients, Prelude
from nnx.optimizers.base import LearningRate, Optimizer, Options, Slots
from nnx.validation import check_float

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Adagrad", "AdagradCoefficients"]


class Adagrad(Optimizer[AdagradCoefficients]):
    """Adagrad (Duchi et al., 2011), Keras 3 form.

    Update, with ``lr`` the learning rate, ``g`` the gradient and the accumulator starting at
    ``initial_accumulator_value``::

        acc += g^2
        w -= lr * g / sqrt(acc + epsilon)

    ``epsilon`` is inside the square root (Keras); ``torch.optim.Adagrad`` adds it outside, so
    the two agree exactly for ``epsilon=0``.

    Args:
        learning_rate: a float ``>= 0`` or a schedule ``f(step) -> float``. Default 0.001.
        initial_accumulator_value: ``>= 0``, the starting value of the accumulator.
        epsilon: ``>= 0``, added to the accumulator for numerical stability.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see :class:`Optimizer`.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import Parameter
    >>> b = get_backend("numpy")
    >>> p = Parameter(b.asarray([1.0, 2.0], dtype="float64"), "w")
    >>> p.grad = b.asarray([3.0, -4.0], dtype="float64")
    >>> Adagrad(learning_rate=0.5, initial_accumulator_value=0.0, epsilon=0.0).step([p])
    >>> b.to_numpy(p.value).tolist()  # acc = g^2: each coordinate moves by lr
    [0.5, 2.5]
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Unpack[Options],
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_float(
            initial_accumulator_value, "initial_accumulator_value", who=self._who, minimum=0.0
        )
        self.epsilon = check_float(epsilon, "epsilon", who=self._who, minimum=0.0)

    def slot_names(self) -> tuple[str, ...]:
        return ("accumulator",)

    def create_slots(self, xp: Any, w: Array) -> Slots:
        return {"accumulator": xp.full_like(w, self.initial_accumulator_value)}

    def coefficients(self, lr: float, t: int) -> AdagradCoefficients:
        return AdagradCoefficients(lr, self.epsilon)

    def fused_step(
        self, backend: Backend, w: Array, g: Array, s: Slots, c: AdagradCoefficients, pre: Prelude
    ) -> bool:
        return backend.adagrad_step(w, g, s["accumulator"], c, pre)

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: AdagradCoefficients) -> None:
        lr, eps = c
        acc = s["accumulator"]
        acc += g * g
        denom = acc + eps
        denom **= 0.5
        inc = g * lr
        inc /= denom
        w -= inc

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, this optimizer's own included."""
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
