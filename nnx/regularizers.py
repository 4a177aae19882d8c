"""Weight penalties, as used by ``Dense(..., kernel_regularizer="l2")``.

A regularizer ``R`` gives the penalty ``R(w)`` (a 0-d array, added to the loss) and its gradient
``R.gradient(w)`` (added to the weight's gradient). Names, defaults and formulas follow Keras.

>>> from nnx import regularizers
>>> from nnx.backends import get_backend
>>> w = get_backend("numpy").asarray([1.0, -2.0], dtype="float64")
>>> r = regularizers.get("l2")
>>> r, float(r(w)), r.gradient(w)
(L2(l2=0.01), 0.05, array([ 0.02, -0.04]))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from nnx.backends.base import Array, array_namespace
from nnx.registry import Configurable, Registry, deserialize, serialize
from nnx.validation import check_float

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "Regularizer",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "names",
    "serialize",
]


def _factor(value: Any, arg: str, who: str) -> float:
    return check_float(value, arg, who=who, minimum=0.0)


class Regularizer(Configurable):
    """Base class: ``R(w) -> 0-d array`` and ``R.gradient(w) -> dR/dw``, plus a JSON config.

    This class is the elastic-net penalty ``R(w) = l1 * sum|w| + l2 * sum(w^2)`` with gradient
    ``l1 * sign(w) + 2 * l2 * w`` (``sign(0) = 0``); :class:`L1`, :class:`L2` and :class:`L1L2`
    fix which factors they take. Custom regularizers override ``__call__``, ``gradient`` and
    ``get_config``.

    >>> L1L2(l1=0.5).get_config()
    {'l1': 0.5, 'l2': 0.0}
    >>> serialize(L1L2(l1=0.5))
    {'class_name': 'L1L2', 'config': {'l1': 0.5, 'l2': 0.0}}
    """

    name: ClassVar[str] = "regularizer"
    l1: float = 0.0
    l2: float = 0.0

    def __call__(self, w: Array) -> Array:
        """The penalty, a 0-d array of ``w``'s dtype."""
        xp = array_namespace(w)
        if self.l1 and self.l2:
            return self.l1 * xp.sum(xp.abs(w)) + self.l2 * xp.sum(w * w)
        if self.l1:
            return self.l1 * xp.sum(xp.abs(w))
        return self.l2 * xp.sum(w * w)

    def gradient(self, w: Array) -> Array:
        """``dR/dw``, an array of ``w``'s shape and dtype."""
        xp = array_namespace(w)
        if self.l1 and self.l2:
            return self.l1 * xp.sign(w) + (2.0 * self.l2) * w
        if self.l1:
            return self.l1 * xp.sign(w)
        return (2.0 * self.l2) * w


class L1(Regularizer):
    """The L1 (lasso) penalty: ``R(w) = l1 * sum|w|``, ``dR/dw = l1 * sign(w)``.

    Args:
        l1: the factor (>= 0).

    >>> from nnx.backends import get_backend
    >>> w = get_backend("numpy").asarray([1.0, -2.0], dtype="float64")
    >>> float(L1(0.5)(w)), L1(0.5).gradient(w)
    (1.5, array([ 0.5, -0.5]))
    """

    name = "l1"

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _factor(l1, "l1", "L1")

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """The L2 (ridge, weight-decay) penalty: ``R(w) = l2 * sum(w^2)``, ``dR/dw = 2 * l2 * w``.

    Args:
        l2: the factor (>= 0).

    >>> from nnx.backends import get_backend
    >>> w = get_backend("numpy").asarray([1.0, -2.0], dtype="float64")
    >>> float(L2(0.1)(w)), L2(0.1).gradient(w)
    (0.5, array([ 0.2, -0.4]))
    """

    name = "l2"

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor(l2, "l2", "L2")

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """Both penalties: ``R(w) = l1 * sum|w| + l2 * sum(w^2)``.

    ``dR/dw = l1 * sign(w) + 2 * l2 * w``. The class defaults are 0 as in Keras; the
    :func:`l1_l2` factory and the name ``"l1_l2"`` use 0.01 for both.

    Args:
        l1: the L1 factor (>= 0).
        l2: the L2 factor (>= 0).

    >>> from nnx.backends import get_backend
    >>> w = get_backend("numpy").asarray([1.0, -2.0], dtype="float64")
    >>> float(L1L2(l1=0.1, l2=0.1)(w))
    0.8
    """

    name = "l1_l2"

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(l1, "l1", "L1L2")
        self.l2 = _factor(l2, "l2", "L1L2")

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


def l1(l1: float = 0.01) -> L1:
    """An :class:`L1` penalty ``l1 * sum|w|`` (``keras.regularizers.l1``).

    Args:
        l1: the factor (>= 0).

    >>> l1(0.1)
    L1(l1=0.1)
    """
    return L1(l1)


def l2(l2: float = 0.01) -> L2:
    """An :class:`L2` penalty ``l2 * sum(w^2)`` (``keras.regularizers.l2``).

    Args:
        l2: the factor (>= 0).

    >>> l2()
    L2(l2=0.01)
    """
    return L2(l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """An :class:`L1L2` penalty ``l1 * sum|w| + l2 * sum(w^2)`` (``keras.regularizers.l1_l2``).

    Args:
        l1: the L1 factor (>= 0).
        l2: the L2 factor (>= 0).

    >>> l1_l2()
    L1L2(l1=0.01, l2=0.01)
    """
    return L1L2(l1=l1, l2=l2)


_REGULARIZERS: Registry[type[Regularizer]] = Registry("regularizer")
for _cls in (L1, L2, L1L2):
    _REGULARIZERS.add(_cls.name, _cls)  # "l1l2" and "L1L2" resolve too: case and "_" are ignored


def names() -> list[str]:
    """Every regularizer name :func:`get` accepts.

    >>> names()
    ['l1', 'l1_l2', 'l2']
    """
    return _REGULARIZERS.names()


def get(spec: str | Regularizer | Mapping[str, Any] | None) -> Regularizer | None:
    """Resolve a regularizer specification.

    Args:
        spec: a name (``"l1"``, ``"l2"``, ``"l1_l2"``, with the factory defaults 0.01), a
            :class:`Regularizer` or any object with ``__call__`` and ``gradient`` (returned as
            is), a config dict (``{"class_name": ..., "config": {...}}`` as :func:`serialize`
            writes, or nnx 0.1's ``{"name": ..., **factors}``; missing factors take the class
            defaults), or None (no penalty).

    Returns:
        The regularizer, or None.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or bad factors.

    >>> get("l1_l2")
    L1L2(l1=0.01, l2=0.01)
    >>> get({"class_name": "L2", "config": {"l2": 0.001}})
    L2(l2=0.001)
    >>> get({"name": "l2", "l2": 0.001})  # as nnx 0.1 wrote it
    L2(l2=0.001)
    >>> get(None) is None
    True
    """
    if spec is None or isinstance(spec, Regularizer):
        return spec
    if isinstance(spec, Mapping):
        return deserialize(spec, _REGULARIZERS)
    if isinstance(spec, str):
        cls = _REGULARIZERS.lookup(spec)
        # NOTE: as in Keras, the name "l1_l2" means the factory's 0.01s, not the class's 0s.
        return l1_l2() if cls is L1L2 else cls()
    if callable(spec) and callable(getattr(spec, "gradient", None)):
        return spec  # type: ignore[return-value]
    raise ValueError(
        f"Cannot interpret {spec!r} as a regularizer: expected one of {', '.join(names())}, "
        "None, a config dict, or an object with __call__(w) and gradient(w) "
        "(subclass nnx.regularizers.Regularizer)."
    )
