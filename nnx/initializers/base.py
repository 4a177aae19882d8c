"""The initializer contract: ``init(shape, rng, dtype) -> array``, and Keras's fans.

>>> compute_fans((784, 128))
(784, 128)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from nnx.backends.base import Array, Generator
from nnx.registry import Configurable

__all__ = [
    "TRUNCATED_STD",
    "Initializer",
    "InitializerFn",
    "check_shape",
    "compute_fans",
    "float_dtype",
    "truncated_normal",
]

InitializerFn = Callable[[tuple[int, ...], Generator, str], Array]

#: the std of a standard normal truncated to [-2, 2]; dividing by it keeps the variance.
TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """The ``(fan_in, fan_out)`` of a weight shape, as Keras computes them.

    ``(in, out)`` gives ``(in, out)``; a convolution kernel ``(*receptive, in, out)`` gives
    ``(in * r, out * r)`` with ``r`` the product of the receptive-field sizes; a 1-D shape
    ``(n,)`` gives ``(n, n)`` and a scalar ``(1, 1)``.

    Args:
        shape: the weight shape.

    Returns:
        ``(fan_in, fan_out)``.

    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = tuple(int(d) for d in shape)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer(Configurable):
    """Base class: ``init(shape, rng, dtype="float32") -> array`` plus a JSON config.

    Subclasses set ``name`` (the registry name) and implement :meth:`__call__`; ``get_config``
    returns the constructor arguments, and :func:`nnx.initializers.serialize` the form
    :func:`nnx.initializers.get` rebuilds.

    >>> from nnx.initializers import RandomNormal, serialize
    >>> RandomNormal(stddev=0.1).get_config()
    {'mean': 0.0, 'stddev': 0.1}
    >>> serialize(RandomNormal(stddev=0.1))
    {'class_name': 'RandomNormal', 'config': {'mean': 0.0, 'stddev': 0.1}}
    """

    name: ClassVar[str] = "initializer"

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        """An array of ``shape`` and ``dtype`` on ``rng``'s backend."""
        raise NotImplementedError


def check_shape(shape: Any, who: str) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints; a ValueError naming ``who`` otherwise."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        dims = (-1,)
    if any(d < 0 for d in dims):
        raise ValueError(f"{who}: shape must be a tuple of non-negative ints, received {shape!r}.")
    return dims


def float_dtype(rng: Generator, dtype: str, who: str) -> Any:
    """The dtype object of ``rng``'s backend for ``dtype``, which must be a float dtype."""
    dt = rng.backend.dtype(dtype)
    if not rng.backend.xp.isdtype(dt, "real floating"):
        raise ValueError(f"{who}: dtype must be a floating-point dtype, received dtype={dtype!r}.")
    return dt


def truncated_normal(rng: Generator, shape: tuple[int, ...], mean: float, stddev: float) -> Array:
    """float64 draws of ``N(mean, stddev^2)`` with those beyond ``2 stddev`` redrawn."""
    # Redraw the whole array and keep only what replaces out-of-range entries: the Array API has
    # no scatter, and the host stream (hence the result) is the same on every backend.
    xp = rng.backend.xp
    x = rng.normal(shape, mean, stddev, dtype="float64")
    outside = xp.abs(x - mean) > 2.0 * stddev
    while bool(xp.any(outside)):
        x = xp.where(outside, rng.normal(shape, mean, stddev, dtype="float64"), x)
        outside = xp.abs(x - mean) > 2.0 * stddev
    return x
