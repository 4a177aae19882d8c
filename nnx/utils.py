"""Keras's ``keras.utils`` names that tutorials reach for: ``to_categorical``, ``PyDataset``
(also as Keras 2's ``Sequence``), ``set_random_seed``, ``pad_sequences``
(:mod:`nnx.preprocessing.sequence`) and ``timeseries_dataset_from_array``
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
from nnx.validation import check_choice, check_float, check_int

__all__ = [
    "PyDataset",
    "Sequence",
    "next_seed",
    "pad_sequences",
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


_PAD_DTYPES = ("int32", "int64", "float32", "float64")


def pad_sequences(
    sequences: Any,
    maxlen: int | None = None,
    dtype: str = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: float = 0.0,
) -> Array:
    """Pad (or truncate) each sequence to ``maxlen`` steps.

    Args:
        sequences: a list (or other sized iterable) of sequences: lists or arrays of numbers,
            or of equal-shaped arrays.
        maxlen: the length of every output sequence (default: the longest input's).
        dtype: the output dtype, one of ``"int32"`` (default), ``"int64"``, ``"float32"``,
            ``"float64"``.
        padding: ``"pre"`` (fill before the sequence, default) or ``"post"`` (after).
        truncating: ``"pre"`` (drop the first steps of a longer sequence, default) or
            ``"post"`` (drop the last ones).
        value: the fill value (cast to ``dtype``).

    Returns:
        A host NumPy array ``(len(sequences), maxlen, *step_shape)``.

    Raises:
        ValueError: a bad argument (named, with the value received), a sequence that is not
            a list or array, or steps whose shape differs from the first sequence's.

    >>> pad_sequences([[1, 2, 3], [4]], truncating="post", maxlen=2, value=-1).tolist()
    [[1, 2], [-1, 4]]
    """
    who = "pad_sequences"
    check_choice(dtype, "dtype", _PAD_DTYPES, who=who)
    check_choice(padding, "padding", ("pre", "post"), who=who)
    check_choice(truncating, "truncating", ("pre", "post"), who=who)
    fill = check_float(value, "value", who=who)
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError(
            f"{who}: sequences must be a list of sequences, received {type(sequences).__name__}."
        )
    b = get_backend("numpy")
    xp = b.xp
    rows = []
    for i, s in enumerate(sequences):
        if isinstance(s, (str, bytes)) or not hasattr(s, "__len__"):
            raise ValueError(
                f"{who}: sequences must be a list of sequences; sequences[{i}] is "
                f"{type(s).__name__} {s!r}."
            )
        rows.append(b.asarray(s, dtype) if len(s) else None)
    step_shape = next((tuple(r.shape[1:]) for r in rows if r is not None), ())
    longest = max((int(r.shape[0]) for r in rows if r is not None), default=0)
    length = longest if maxlen is None else check_int(maxlen, "maxlen", who=who, minimum=1)
    out = xp.full((len(rows), length, *step_shape), fill, dtype=getattr(xp, dtype))
    for i, r in enumerate(rows):
        if r is None:
            continue
        if tuple(r.shape[1:]) != step_shape:
            raise ValueError(
                f"{who}: sequences[{i}] has steps of shape {tuple(r.shape[1:])}, the first "
                f"non-empty sequence's are {step_shape}."
            )
        kept = r[-length:, ...] if truncating == "pre" else r[:length, ...]
        n = int(kept.shape[0])
        if padding == "pre":
            out[i, length - n :, ...] = kept
        else:
            out[i, :n, ...] = kept
    return out
