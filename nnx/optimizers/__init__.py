"""Optimizers: ``optimizer.step(parameters)`` updates each parameter's ``.value`` in place.

Names resolve in one registry, case-insensitively: ``get("adam")``, ``get({"name": "sgd",
"momentum": 0.9})``, or the serialised form ``get({"class_name": "Adam", "config": {...}})``
that :func:`serialize` writes.

>>> get("Adam").get_config()["learning_rate"]
0.001
>>> names()
['adadelta', 'adagrad', 'adam', 'adamw', 'nadam', 'rmsprop', 'sgd']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nnx.optimizers.adadelta import Adadelta
from nnx.optimizers.adagrad import Adagrad
from nnx.optimizers.adam import Adam, AdamW, Nadam
from nnx.optimizers.base import LearningRate, Optimizer
from nnx.optimizers.rmsprop import RMSprop
from nnx.optimizers.sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "LearningRate",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "get",
    "names",
    "serialize",
]

_REGISTRY: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Nadam)
}


def names() -> list[str]:
    """The registered optimizer names, sorted."""
    return sorted(_REGISTRY)


def _lookup(name: Any) -> type[Optimizer]:
    cls = _REGISTRY.get(name.strip().lower()) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"Unknown optimizer {name!r}. Valid optimizers: {', '.join(names())}.")
    return cls


def get(spec: str | Optimizer | Mapping[str, Any]) -> Optimizer:
    """Resolve an optimizer name, instance or config dict to an :class:`Optimizer`.

    Args:
        spec: a registered name (any case) giving an instance with default arguments; an
            :class:`Optimizer` (returned as is); ``{"name": <registered name>, **kwargs}``; or
            ``{"class_name": ..., "config": {...}}`` as written by :func:`serialize`.

    Returns:
        The optimizer.

    Raises:
        ValueError: the name is unknown (the message lists the valid names).
        TypeError: ``spec`` is none of the above.

    >>> get({"name": "sgd", "momentum": 0.9}).momentum
    0.9
    """
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str):
        return _lookup(spec)()
    if isinstance(spec, Mapping):
        if "class_name" in spec:
            return _lookup(spec["class_name"]).from_config(dict(spec.get("config", {})))
        config = dict(spec)
        return _lookup(config.pop("name", None)).from_config(config)
    raise TypeError(
        f"Expected an optimizer name ({', '.join(names())}), an Optimizer or a "
        f"config dict, received {type(spec).__name__}: {spec!r}"
    )


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{"class_name": ..., "config": optimizer.get_config()}``, which :func:`get` rebuilds.

    >>> serialize(SGD())["class_name"]
    'SGD'
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
