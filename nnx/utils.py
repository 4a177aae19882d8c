"""Keras's ``keras.utils`` names that tutorials reach for: ``to_categorical``, ``PyDataset``
(also as Keras 2's ``Sequence``), ``set_random_seed`` and ``timeseries_dataset_from_array``
(:mod:`nnx.timeseries`).

``set_random_seed(s)`` makes every model created afterwards without a ``seed=`` draw its seed
from one host generator seeded by ``s`` (and so does ``ImageDataGenerator.flow``), so a script
that starts with it gives the same numbers on each run, as in Keras. The generator lives in a
ContextVar (:func:`seeded` scopes it to a ``with`` block); nothing is drawn at import time.

>>> import numpy as np
>>> to_categorical(np.array([0, 2, 1])).tolist()
[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from nnx.backends import get_backend
from nnx.backends.base import Array, Generator
from nnx.data import PyDataset
from nnx.functional.one_hot import one_hot
from nnx.timeseries import timeseries_dataset_from_array

__all__ = [
    "PyDataset",
    "Sequence",
    "next_seed",
    "seeded",
    "set_random_seed",
    "timeseries_dataset_from_array",
    "to_categorical",
]

_SEEDS: ContextVar[Generator | None] = ContextVar("nnx_seed_generator", default=None)

#: Keras 2's name for :class:`~nnx.data.PyDataset`
Sequence = PyDataset


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> Array:
    """One-hot rows of integer class labels (Keras's ``to_categorical``).

    Args:
        y: class indices, shape ``(n,)`` or ``(n, 1)``; host data or an array of any backend
            (the result stays on that backend; lists and NumPy give NumPy).
        num_classes: number of columns (default: ``max(y) + 1``).
        dtype: the result's float dtype.

    Shape:
        ``(n,)`` -> ``(n, num_classes)``.
    """
    if not hasattr(y, "__array_namespace__"):
        y = get_backend("numpy").asarray(y)
    return one_hot(y, num_classes, dtype)


def set_random_seed(seed: int) -> None:
    """Seed every later model (and ``flow``) created without a ``seed=`` (Keras's
    ``keras.utils.set_random_seed``).

    >>> import nnx
    >>> set_random_seed(0)
    >>> a = nnx.Sequential([nnx.layers.Dense(2, input_shape=(1,))]).get_weights()[0]
    >>> set_random_seed(0)
    >>> b = nnx.Sequential([nnx.layers.Dense(2, input_shape=(1,))]).get_weights()[0]
    >>> bool((a == b).all())
    True
    """
    _SEEDS.set(get_backend("numpy").rng(_check_seed(seed)))


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """:func:`set_random_seed` inside a ``with`` block only."""
    token = _SEEDS.set(get_backend("numpy").rng(_check_seed(seed)))
    try:
        yield
    finally:
        _SEEDS.reset(token)


def next_seed() -> int | None:
    """The next seed of the :func:`set_random_seed` stream, or None when it was never set."""
    rng = _SEEDS.get()
    if rng is None:
        return None
    return int(rng.backend.to_numpy(rng.integers(0, 2**31 - 1, (1,)))[0])


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"set_random_seed: seed must be an int >= 0, received seed={seed!r}.")
    return seed
