"""Weight constraints, as used by ``Dense(..., kernel_constraint=max_norm(3))``.

A constraint ``C`` is a projection: after each optimizer update the weights become ``C(w)``
(an array of ``w``'s shape; :meth:`nnx.optimizers.Optimizer.step` writes it back in place).
Names, defaults and formulas follow Keras 3, with its ``epsilon = 1e-7``; ``axis`` (an int or a
list of ints) is the axis the norms are taken over: ``0`` for a ``Dense`` kernel ``(in, out)``
(one norm per unit), ``[0, 1, 2]`` for a ``Conv2D`` kernel ``(kh, kw, in, out)``.

>>> from nnx import constraints
>>> from nnx.backends import get_backend
>>> w = get_backend("numpy").asarray([[3.0, 0.3], [4.0, 0.4]], dtype="float64")
>>> constraints.get("max_norm")(w).round(4).tolist()
[[1.2, 0.3], [1.6, 0.4]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from nnx.backends.base import Array, array_namespace
from nnx.registry import Configurable, Registry, deserialize, serialize
from nnx.validation import check_float, is_int

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "get",
    "max_norm",
    "min_max_norm",
    "names",
    "non_neg",
    "serialize",
    "unit_norm",
]

#: Keras's ``backend.epsilon()``, added to the norms before dividing
EPSILON = 1e-7


def _axis(axis: Any, who: str) -> int | list[int]:
    if is_int(axis):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(is_int(a) for a in axis):
        return [int(a) for a in axis]
    raise ValueError(f"{who}: axis must be an int or a list of ints, received axis={axis!r}.")


def _norms(w: Array, axis: int | list[int]) -> Array:
    """``sqrt(sum(w^2, axis, keepdims=True))``."""
    xp = array_namespace(w)
    dims = axis if isinstance(axis, int) else tuple(axis)
    return xp.sqrt(xp.sum(w * w, axis=dims, keepdims=True))


class Constraint(Configurable):
    """Base class: ``C(w) -> w`` projected (this base returns ``w`` unchanged), plus a config.

    Custom constraints override ``__call__`` (and ``get_config`` if they take arguments); any
    callable ``f(w) -> array`` works too.

    >>> Constraint().get_config()
    {}
    >>> serialize(MaxNorm(3.0))
    {'class_name': 'MaxNorm', 'config': {'max_value': 3.0, 'axis': 0}}
    """

    name: ClassVar[str] = "constraint"

    def __call__(self, w: Array) -> Array:
        """The projected weights, same shape and dtype as ``w``."""
        return w


class MaxNorm(Constraint):
    """Caps the norm of the weights incident to each unit:
    ``w * clip(n, 0, max_value) / (eps + n)`` with ``n = sqrt(sum(w^2, axis))``.

    Args:
        max_value: the largest norm allowed.
        axis: the axis (or list of axes) the norms are taken over.

    >>> from nnx.backends import get_backend
    >>> w = get_backend("numpy").asarray([[3.0], [4.0]], dtype="float64")
    >>> MaxNorm(1.0)(w).round(6).tolist()
    [[0.6], [0.8]]
    """

    name = "max_norm"

    def __init__(self, max_value: float = 2, axis: int | list[int] = 0) -> None:
        self.max_value = check_float(max_value, "max_value", who="MaxNorm", minimum=0.0)
        self.axis = _axis(axis, "MaxNorm")

    def __call__(self, w: Array) -> Array:
        xp = array_namespace(w)
        n = _norms(w, self.axis)
        return w * (xp.clip(n, min=0.0, max=self.max_value) / (EPSILON + n))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Makes the weights non-negative: ``max(w, 0)``.

    >>> from nnx.backends import get_backend
    >>> NonNeg()(get_backend("numpy").asarray([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    name = "non_neg"

    def __call__(self, w: Array) -> Array:
        return array_namespace(w).clip(w, min=0.0)


class UnitNorm(Constraint):
    """Scales the weights incident to each unit to norm 1: ``w / (eps + n)``,
    ``n = sqrt(sum(w^2, axis))``.

    Args:
        axis: the axis (or list of axes) the norms are taken over.

    >>> from nnx.backends import get_backend
    >>> UnitNorm()(get_backend("numpy").asarray([[3.0], [4.0]], dtype="float64")).round(6).tolist()
    [[0.6], [0.8]]
    """

    name = "unit_norm"

    def __init__(self, axis: int | list[int] = 0) -> None:
        self.axis = _axis(axis, "UnitNorm")

    def __call__(self, w: Array) -> Array:
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the norm of the weights incident to each unit into ``[min_value, max_value]``:
    ``w * d / (eps + n)`` with ``n = sqrt(sum(w^2, axis))`` and
    ``d = rate * clip(n, min_value, max_value) + (1 - rate) * n``.

    Args:
        min_value: the smallest norm.
        max_value: the largest norm.
        rate: 1 enforces the bounds at once; below 1 each update moves part of the way.
        axis: the axis (or list of axes) the norms are taken over.

    >>> from nnx.backends import get_backend
    >>> w = get_backend("numpy").asarray([[0.3], [0.4]], dtype="float64")
    >>> MinMaxNorm(1.0, 2.0)(w).round(6).tolist()
    [[0.6], [0.8]]
    """

    name = "min_max_norm"

    def __init__(
        self,
        min_value: float = 0.0,
        max_value: float = 1.0,
        rate: float = 1.0,
        axis: int | list[int] = 0,
    ) -> None:
        who = "MinMaxNorm"
        self.min_value = check_float(min_value, "min_value", who=who, minimum=0.0)
        self.max_value = check_float(max_value, "max_value", who=who, minimum=0.0)
        if self.max_value < self.min_value:
            raise ValueError(
                f"{who}: max_value must be >= min_value, received min_value={min_value!r}, "
                f"max_value={max_value!r}."
            )
        self.rate = check_float(rate, "rate", who=who, minimum=0.0)
        self.axis = _axis(axis, who)

    def __call__(self, w: Array) -> Array:
        xp = array_namespace(w)
        n = _norms(w, self.axis)
        clipped = xp.clip(n, min=self.min_value, max=self.max_value)
        return w * ((self.rate * clipped + (1.0 - self.rate) * n) / (EPSILON + n))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


def max_norm(max_value: float = 2, axis: int | list[int] = 0) -> MaxNorm:
    """A :class:`MaxNorm` (``keras.constraints.max_norm``).

    >>> max_norm(3)
    MaxNorm(max_value=3.0, axis=0)
    """
    return MaxNorm(max_value, axis)


def non_neg() -> NonNeg:
    """A :class:`NonNeg` (``keras.constraints.non_neg``).

    >>> non_neg()
    NonNeg()
    """
    return NonNeg()


def unit_norm(axis: int | list[int] = 0) -> UnitNorm:
    """A :class:`UnitNorm` (``keras.constraints.unit_norm``).

    >>> unit_norm([0, 1])
    UnitNorm(axis=[0, 1])
    """
    return UnitNorm(axis)


def min_max_norm(
    min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: int | list[int] = 0
) -> MinMaxNorm:
    """A :class:`MinMaxNorm` (``keras.constraints.min_max_norm``).

    >>> min_max_norm(0.5)
    MinMaxNorm(min_value=0.5, max_value=1.0, rate=1.0, axis=0)
    """
    return MinMaxNorm(min_value, max_value, rate, axis)


_CONSTRAINTS: Registry[type[Constraint]] = Registry("constraint")
for _cls in (MaxNorm, NonNeg, UnitNorm, MinMaxNorm):
    _CONSTRAINTS.add(_cls.name, _cls)  # "MaxNorm" and "maxnorm" resolve too


def names() -> list[str]:
    """Every constraint name :func:`get` accepts.

    >>> names()
    ['max_norm', 'min_max_norm', 'non_neg', 'unit_norm']
    """
    return _CONSTRAINTS.names()


def get(spec: Any, arg: str = "constraint", who: str | None = None) -> Any:
    """Resolve a constraint specification.

    Args:
        spec: a name (``"max_norm"``, ``"non_neg"``, ``"unit_norm"``, ``"min_max_norm"``, with
            the defaults), a :class:`Constraint` or any callable ``f(w) -> array`` (returned as
            is), a config dict as :func:`serialize` writes, or None (no constraint).
        arg, who: the argument and the layer, named in the error message.

    Returns:
        The constraint, or None.

    Raises:
        ValueError: an unknown name (the message lists the valid ones), bad arguments, or a
            value that is none of the above.

    >>> get("non_neg")
    NonNeg()
    >>> get({"class_name": "MaxNorm", "config": {"max_value": 3.0, "axis": [0, 1]}})
    MaxNorm(max_value=3.0, axis=[0, 1])
    >>> get(None) is None
    True
    """
    where = f"{who}: {arg}" if who else arg
    if spec is None or isinstance(spec, Constraint):
        return spec
    try:
        if isinstance(spec, Mapping):
            return deserialize(spec, _CONSTRAINTS)
        if isinstance(spec, str):
            return _CONSTRAINTS.lookup(spec)()
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if callable(spec):
        return spec
    raise ValueError(
        f"{where} must be one of {', '.join(names())}, None, a config dict or a callable "
        f"f(w) -> array (subclass nnx.constraints.Constraint), received {arg}={spec!r}."
    )
