"""Optimizers: ``optimizer.step(parameters)`` updates each parameter's ``.value`` in place.

Names resolve in one registry, case-insensitively: ``get("adam")``, ``get({"name": "sgd",
"momentum": 0.9})``, or the serialised form ``get({"class_name": "Adam", "config": {...}})``
that :func:`serialize` writes.

>>> get("Adam").get_config()["learning_rate"]
0.001
>>> serialize(SGD(0.1))["class_name"]
'SGD'
>>> names()
['adadelta', 'adagrad', 'adam', 'adamw', 'nadam', 'rmsprop', 'sgd']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nnx.optimizers.adadelta import Adadelta
from nnx.optimizers.adagrad import Adagrad
from nnx.optimizers.adam import Adam, AdamW
from nnx.optimizers.base import LearningRate, Optimizer
from nnx.optimizers.nadam import Nadam
from nnx.optimizers.rmsprop import RMSprop
from nnx.optimizers.sgd import SGD
from nnx.registry import Registry, deserialize, serialize

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

_OPTIMIZERS: Registry[type[Optimizer[Any]]] = Registry("optimizer")
for _cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Nadam):
    _OPTIMIZERS.add(_cls.__name__.lower(), _cls)


def names() -> list[str]:
    """The registered optimizer names, sorted."""
    return _OPTIMIZERS.names()


def get(spec: str | Optimizer[Any] | Mapping[str, Any]) -> Optimizer[Any]:
    """Resolve an optimizer name, instance or config dict to an :class:`Optimizer`.

    Args:
        spec: a registered name (any case) giving an instance with default arguments; an
            :class:`Optimizer` (returned as is); ``{"class_name": ..., "config": {...}}`` as
            written by :func:`serialize` (and by nnx 0.1); or 0.1's ``{"name": <registered
            name>, **kwargs}``.

    Returns:
        The optimizer.

    Raises:
        ValueError: the name is unknown (the message lists the valid names) or the config
            has arguments the optimizer does not take.
        TypeError: ``spec`` is none of the above.

    >>> get({"name": "sgd", "momentum": 0.9}).momentum
    0.9
    """
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str):
        return _OPTIMIZERS.lookup(spec)()
    if isinstance(spec, Mapping):
        return deserialize(spec, _OPTIMIZERS)
    raise TypeError(
        f"Expected an optimizer name ({', '.join(names())}), an Optimizer or a "
        f"config dict, received {type(spec).__name__}: {spec!r}"
    )
