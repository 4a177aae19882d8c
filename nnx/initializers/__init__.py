"""Weight initializers by name, as used by ``Dense(..., kernel_initializer="glorot_uniform")``.

An initializer is called as ``init(shape, rng, dtype)`` and returns an array of ``rng``'s backend.
Random draws go through ``rng`` in float64 on the host and are cast once, so a given seed gives
the same initial weights on every backend. Names, defaults and formulas follow Keras.

>>> from nnx import initializers
>>> from nnx.backends import get_backend
>>> w = initializers.get("glorot_uniform")((784, 128), get_backend("numpy").rng(0))
>>> w.shape, str(w.dtype)
((784, 128), 'float32')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nnx.initializers.base import Initializer, InitializerFn, compute_fans
from nnx.initializers.constant_initializers import Constant, Identity, Ones, Zeros
from nnx.initializers.random_initializers import (
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
)
from nnx.initializers.variance_scaling import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    VarianceScaling,
)
from nnx.registry import Registry, deserialize, serialize

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "InitializerFn",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "get",
    "names",
    "serialize",
]


_INITIALIZERS: Registry[type[Initializer]] = Registry("initializer")
for _cls in (
    Zeros,
    Ones,
    Constant,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    GlorotUniform,
    GlorotNormal,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    Identity,
):
    _INITIALIZERS.add(_cls.name, _cls)
# NOTE: Keras class names ("GlorotUniform") resolve too: the registry ignores case and "_".
for _alias, _name in {
    "zero": "zeros",
    "one": "ones",
    "normal": "random_normal",
    "uniform": "random_uniform",
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
    "orthogonal_initializer": "orthogonal",
}.items():
    _INITIALIZERS.alias(_alias, _name)


def names() -> list[str]:
    """Every initializer name :func:`get` accepts, aliases excluded.

    >>> names()[:3]
    ['constant', 'glorot_normal', 'glorot_uniform']
    """
    return _INITIALIZERS.names()


def get(
    spec: str | Initializer | InitializerFn | Mapping[str, Any] | type[Initializer],
) -> Any:
    """Resolve an initializer specification to something called as ``init(shape, rng, dtype)``.

    Args:
        spec: a name (``"glorot_uniform"``, Keras aliases such as ``"xavier_uniform"`` and class
            names such as ``"GlorotUniform"`` too), an :class:`Initializer` (returned as is) or
            its class, a config dict (``{"class_name": ..., "config": {...}}`` as
            :func:`serialize` writes, or nnx 0.1's ``{"name": ..., **kwargs}``), or a callable
            ``(shape, rng, dtype) -> array`` (returned as is).

    Returns:
        The initializer.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or bad config.

    >>> get("xavier_normal")
    GlorotNormal()
    >>> get({"class_name": "RandomNormal", "config": {"stddev": 0.1}})
    RandomNormal(mean=0.0, stddev=0.1)
    >>> get({"name": "random_normal", "stddev": 0.1})  # as nnx 0.1 wrote it
    RandomNormal(mean=0.0, stddev=0.1)
    """
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, type) and issubclass(spec, Initializer):
        return spec()
    if isinstance(spec, Mapping):
        return deserialize(spec, _INITIALIZERS)
    if isinstance(spec, str):
        return _INITIALIZERS.lookup(spec)()
    if callable(spec):
        return spec
    return _INITIALIZERS.lookup(spec)
