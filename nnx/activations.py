"""Activation functions by name, as used by ``Dense(..., activation="relu")`` and
``Activation("relu")``.

>>> from nnx.activations import get
>>> get("leaky_relu").name, get("leaky_relu").config
('leaky_relu', {'alpha': 0.01})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from nnx.backends.base import Array
from nnx.functional import activations as F

__all__ = ["ActivationFunction", "get", "names"]

Forward = Callable[..., Array]
Backward = Callable[..., Array]


@dataclass(frozen=True)
class ActivationFunction:
    """A named activation: ``forward(x) -> y`` and ``backward(dy, x, y) -> dx``.

    Attributes:
        name: registry name.
        forward: the function.
        backward: its vector-Jacobian product.
        config: keyword arguments bound into both (e.g. ``alpha``).
        zero_gradient: True for activations that cannot be trained by gradients (step).
    """

    name: str
    forward: Forward
    backward: Backward
    config: dict[str, Any] = field(default_factory=dict)
    zero_gradient: bool = False

    def __call__(self, x: Array) -> Array:
        return self.forward(x)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.config}


_PARAMETERS: dict[str, dict[str, Any]] = {
    "leaky_relu": {"alpha": 0.01},
    "elu": {"alpha": 1.0},
}
_TABLE: dict[str, tuple[Forward, Backward]] = {
    "linear": (F.linear, F.linear_backward),
    "step": (F.step, F.step_backward),
    "sigmoid": (F.sigmoid, F.sigmoid_backward),
    "hard_sigmoid": (F.hard_sigmoid, F.hard_sigmoid_backward),
    "tanh": (F.tanh, F.tanh_backward),
    "relu": (F.relu, F.relu_backward),
    "relu6": (F.relu6, F.relu6_backward),
    "leaky_relu": (F.leaky_relu, F.leaky_relu_backward),
    "elu": (F.elu, F.elu_backward),
    "selu": (F.selu, F.selu_backward),
    "gelu": (F.gelu, F.gelu_backward),
    "gelu_exact": (F.gelu_exact, F.gelu_exact_backward),
    "swish": (F.swish, F.swish_backward),
    "silu": (F.swish, F.swish_backward),
    "softplus": (F.softplus, F.softplus_backward),
    "softsign": (F.softsign, F.softsign_backward),
    "softmax": (F.softmax, F.softmax_backward),
    "log_softmax": (F.log_softmax, F.log_softmax_backward),
}
_ALIASES = {
    None: "linear",
    "identity": "linear",
    "heaviside": "step",
    "logistic": "sigmoid",
    "leakyrelu": "leaky_relu",
}


def names() -> list[str]:
    """Every valid activation name."""
    return sorted(_TABLE)


def get(
    spec: str | ActivationFunction | dict[str, Any] | None, **config: Any
) -> ActivationFunction:
    """Resolve an activation name (with optional parameters such as ``alpha``).

    Args:
        spec: a name, an :class:`ActivationFunction`, a config dict, or None for linear.
        **config: parameters, e.g. ``alpha=0.2`` for ``leaky_relu``.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or unknown parameter.
    """
    if isinstance(spec, ActivationFunction):
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        return get(spec.pop("name"), **spec)
    key = _ALIASES.get(spec.lower() if isinstance(spec, str) else spec, spec)
    if not isinstance(key, str) or key not in _TABLE:
        raise ValueError(f"Unknown activation {spec!r}. Valid activations: {', '.join(names())}.")
    defaults = _PARAMETERS.get(key, {})
    unknown = set(config) - set(defaults)
    if unknown:
        raise ValueError(
            f"Activation {key!r} takes no parameter(s) {sorted(unknown)}; "
            f"it takes {sorted(defaults) or 'none'}."
        )
    bound = {**defaults, **config}
    forward, backward = _TABLE[key]
    if bound:
        forward, backward = partial(forward, **bound), partial(backward, **bound)
    return ActivationFunction(key, forward, backward, bound, zero_gradient=key == "step")
