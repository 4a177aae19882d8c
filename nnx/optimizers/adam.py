"""Adam and its variants: AdamW (decoupled weight decay) and Nadam (Nesterov momentum)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

from nnx.backends.base import Array
from nnx.optimizers.base import ClipOptions, LearningRate, Optimizer, Options, Slots

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Adam", "AdamW", "Nadam"]


def _moments(m: Array, v: Array, g: Array, b1: float, b2: float) -> None:
    # NOTE: b * m + (1 - b) * g is computed as b * (m - g) + g: in place, no temporary.
    m -= g
    m *= b1
    m += g
    gg = g * g
    v -= gg
    v *= b2
    v += gg


class Adam(Optimizer):
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
    >>> from nnx.layers.base import Parameter
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
        self.beta_1 = self._check("beta_1", beta_1, "in [0, 1)")
        self.beta_2 = self._check("beta_2", beta_2, "in [0, 1)")
        self.epsilon = self._check("epsilon", epsilon)
        self.amsgrad = self._check_bool("amsgrad", amsgrad)

    @property
    def fast_rule(self) -> str | None:
        return None if self.amsgrad else "adam"

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def coefficients(self, lr: float, t: int) -> tuple[float, ...]:
        # lr / bc1 * m / (sqrt(v / bc2) + eps) == step * m / (sqrt(v) + eps * sqrt(bc2))
        root_bc2 = math.sqrt(1.0 - self.beta_2 ** (t + 1))
        step = lr * root_bc2 / (1.0 - self.beta_1 ** (t + 1))
        return (self.beta_1, self.beta_2, step, self.epsilon * root_bc2)

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: tuple[float, ...]) -> None:
        b1, b2, step, eps = c
        m, v = s["momentum"], s["velocity"]
        _moments(m, v, g, b1, b2)
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
    >>> from nnx.layers.base import Parameter
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
            raise ValueError("AdamW: weight_decay must be a float, received weight_decay=None")
        super().__init__(
            learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs
        )


class Nadam(Optimizer):
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
    >>> from nnx.layers.base import Parameter
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
        self.beta_1 = self._check("beta_1", beta_1, "in [0, 1)")
        self.beta_2 = self._check("beta_2", beta_2, "in [0, 1)")
        self.epsilon = self._check("epsilon", epsilon)
        self._u_product = 1.0

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity")

    def coefficients(self, lr: float, t: int) -> tuple[float, ...]:
        # NOTE: called once per step; it advances the running product U_t.
        b1, t = self.beta_1, t + 1
        u_t = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * t))
        u_next = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * (t + 1)))
        u_prod = self._u_product = self._u_product * u_t
        root_bc2 = math.sqrt(1.0 - self.beta_2**t)
        scale = lr * root_bc2
        return (
            b1,
            self.beta_2,
            scale * u_next / (1.0 - u_prod * u_next),
            scale * (1.0 - u_t) / (1.0 - u_prod),
            self.epsilon * root_bc2,
        )

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: tuple[float, ...]) -> None:
        b1, b2, cm, cg, eps = c
        m, v = s["momentum"], s["velocity"]
        _moments(m, v, g, b1, b2)
        denom = v**0.5
        denom += eps
        inc = m * cm
        inc += g * cg
        inc /= denom
        w -= inc

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
