"""Activation functions by name, as used by ``Dense(..., activation="relu")`` and
``Activation("relu")``.

Names resolve through one :class:`~nnx.registry.Registry` of ``(forward, backward)`` pairs from
:mod:`nnx.functional.activations`; case, ``-`` and ``_`` do not matter.

>>> from nnx.activations import get
>>> get("leaky_relu").name, get("leaky_relu").config
('leaky_relu', {'alpha': 0.01})
>>> get("Leaky-ReLU", alpha=0.2).get_config()
{'name': 'leaky_relu', 'alpha': 0.2}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from nnx.backends.base import Array
from nnx.functional import activations as F
from nnx.registry import Registry

__all__ = ["ACTIVATIONS", "ActivationFunction", "get", "names"]

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
        """``forward(x)``."""
        return self.forward(x)

    def get_config(self) -> dict[str, Any]:
        """``{"name": ..., **parameters}``, which :func:`get` reads back."""
        return {"name": self.name, **self.config}


_PARAMETERS: dict[str, dict[str, Any]] = {
    "leaky_relu": {"alpha": 0.01},
    "elu": {"alpha": 1.0},
}
_PAIRS: dict[str, tuple[Forward, Backward]] = {
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
#: every activation name -> its ``(forward, backward)`` pair
ACTIVATIONS: Registry[tuple[Forward, Backward]] = Registry("activation")
for _name, _pair in _PAIRS.items():
    ACTIVATIONS.add(_name, _pair)
for _alias, _target in {
    "identity": "linear",
    "heaviside": "step",
    "logistic": "sigmoid",
}.items():
    ACTIVATIONS.alias(_alias, _target)


def names() -> list[str]:
    """Every activation name (aliases such as ``"identity"`` resolve too but are not listed).

    >>> "relu" in names(), "identity" in names()
    (True, False)
    """
    return ACTIVATIONS.names()


def get(
    spec: str | ActivationFunction | dict[str, Any] | None, **config: Any
) -> ActivationFunction:
    """Resolve an activation name (with optional parameters such as ``alpha``).

    Args:
        spec: a name, an :class:`ActivationFunction` (returned as is), a config dict
            (:meth:`ActivationFunction.get_config`'s ``{"name": ..., **parameters}`` or
            ``{"class_name": ..., "config": {...}}``), or None for linear.
        **config: parameters, e.g. ``alpha=0.2`` for ``leaky_relu``.

    Returns:
        The activation, its parameters bound.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or unknown parameter.

    >>> get(None).name, get("logistic").name
    ('linear', 'sigmoid')
    """
    if isinstance(spec, ActivationFunction):
        return spec
    if isinstance(spec, Mapping):
        spec = dict(spec)
        if "class_name" in spec:
            return get(spec.pop("class_name"), **{**spec.get("config", {}), **config})
        return get(spec.pop("name"), **{**spec, **config})
    key = "linear" if spec is None else ACTIVATIONS.canonical(spec)
    defaults = _PARAMETERS.get(key, {})
    unknown = set(config) - set(defaults)
    if unknown:
        raise ValueError(
            f"Activation {key!r} takes no parameter(s) {sorted(unknown)}; "
            f"it takes {sorted(defaults) or 'none'}."
        )
    bound = {**defaults, **config}
    forward, backward = ACTIVATIONS.lookup(key)
    if bound:
        forward, backward = partial(forward, **bound), partial(backward, **bound)
    return ActivationFunction(key, forward, backward, bound, zero_gradient=key == "step")
