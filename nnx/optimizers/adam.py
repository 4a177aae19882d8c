"""Adam and AdamW (decoupled weight decay); Nadam is in ``nadam.py``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nnx.backends.base import Array, Backend
from nnx.backends.coefficients import AdamCoefficients, Prelude
from nnx.optimizers.base import ClipOptions, LearningRate, Optimizer, Options, Slots
from nnx.validation import check_bool, check_float

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Adam", "AdamW", "moments"]


def moments(m: Array, v: Array, g: Array, b1: float, b2: float) -> None:
    """Adam's moment updates in place: ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``."""
    # NOTE: b * m + (1 - b) * g is computed as b * (m - g) + g: in place, no temporary.
    m -= g
    m *= b1
    m += g
    gg = g * g
    v -= gg
    v *= b2
    v += gg


def check_moment_rates(
    who: str, beta_1: Any, beta_2: Any, epsilon: Any
) -> tuple[float, float, float]:
    """Adam-family arguments: the decay rates in ``[0, 1)`` and ``epsilon >= 0``, as floats."""
    rates = [
        check_float(value, name, who=who, minimum=0.0, maximum=1.0, maximum_open=True)
        for name, value in (("beta_1", beta_1), ("beta_2", beta_2))
    ]
    return rates[0], rates[1], check_float(epsilon, "epsilon", who=who, minimum=0.0)


class Adam(Optimizer[AdamCoefficients]):
    """Adam (Kingma & Ba, 2015) in its published form, as ``torch.optim.Adam``.

    Update at step ``t = iterations + 1``, with ``lr`` the learning rate and ``g`` the gradient::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        amsgrad:  v_max = max(v_max, v), used in place of v below
        w -= lr * (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)

    ``epsilon`` is added to the square root of the bias-corrected ``v`` (Keras 3 adds it to the
    uncorrected one; the two differ only through ``epsilon``).

    Args:
        learning_rate: a float ``>= 0`` or a schedule ``f(step) -> float``. Default 0.001.
        beta_1: decay of the first moment, in ``[0, 1)``.
        beta_2: decay of the second moment, in ``[0, 1)``.
        epsilon: ``>= 0``, added to the denominator for numerical stability.
        amsgrad: use the running maximum of ``v`` (Reddi et al., 2018).
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see :class:`Optimizer`.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import Parameter
    >>> b = get_backend("numpy")
    >>> p = Parameter(b.asarray([1.0, 2.0], dtype="float64"), "w")
    >>> p.grad = b.asarray([0.5, -0.5], dtype="float64")
    >>> Adam(learning_rate=0.1, epsilon=0.0).step([p])
    >>> b.to_numpy(p.value).tolist()  # the first step is lr * sign(g)
    [0.9, 2.1]
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Unpack[Options],
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = check_moment_rates(
            self._who, beta_1, beta_2, epsilon
        )
        self.amsgrad = check_bool(amsgrad, "amsgrad", who=self._who)

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def coefficients(self, lr: float, t: int) -> AdamCoefficients:
        # lr / bc1 * m / (sqrt(v / bc2) + eps) == step * m / (sqrt(v) + eps * sqrt(bc2))
        root_bc2 = math.sqrt(1.0 - self.beta_2 ** (t + 1))
        step = lr * root_bc2 / (1.0 - self.beta_1 ** (t + 1))
        return AdamCoefficients(self.beta_1, self.beta_2, step, self.epsilon * root_bc2)

    def fused_update(
        self, backend: Backend, w: Array, g: Array, s: Slots, c: AdamCoefficients
    ) -> bool:
        return not self.amsgrad and backend.adam_update(w, g, s["momentum"], s["velocity"], c)

    def fused_step(
        self, backend: Backend, w: Array, g: Array, s: Slots, c: AdamCoefficients, pre: Prelude
    ) -> bool:
        m, v = s["momentum"], s["velocity"]
        return backend.adam_step(w, g, m, v, s.get("velocity_hat"), c, pre)

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: AdamCoefficients) -> None:
        b1, b2, step, eps = c
        m, v = s["momentum"], s["velocity"]
        moments(m, v, g, b1, b2)
        if self.amsgrad:
            v_max = s["velocity_hat"]
            v_max[...] = xp.maximum(v_max, v)
            v = v_max
        denom = v**0.5
        denom += eps
        inc = m / denom
        inc *= step
        w -= inc

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, the betas and ``epsilon`` included."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as Keras and PyTorch.

    Update: ``w -= lr * weight_decay * w``, then the :class:`Adam` update.

    Args:
        learning_rate: a float ``>= 0`` or a schedule ``f(step) -> float``. Default 0.001.
        weight_decay: ``>= 0``. Default 0.004 (Keras; PyTorch uses 0.01).
        beta_1, beta_2, epsilon, amsgrad: see :class:`Adam`.
        clipnorm, clipvalue, global_clipnorm, name: see :class:`Optimizer`.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import Parameter
    >>> b = get_backend("numpy")
    >>> p = Parameter(b.asarray([1.0, 2.0], dtype="float64"), "w")
    >>> p.grad = b.asarray([0.5, -0.5], dtype="float64")
    >>> AdamW(learning_rate=0.1, weight_decay=0.5, epsilon=0.0).step([p])
    >>> b.to_numpy(p.value).tolist()  # w * (1 - 0.05), then -lr * sign(g)
    [0.85, 2.0]
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Unpack[ClipOptions],
    ) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, received weight_decay=None.")
        super().__init__(
            learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs
        )
