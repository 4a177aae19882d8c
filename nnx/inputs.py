"""Validation and conversion of user data at the public boundary (fit/evaluate/predict).

Host data (lists, NumPy arrays) and arrays of other backends are moved to the model's backend
once; integer and bool features are cast to the model's float dtype; object/string data, empty
inputs, NaN/Inf and mismatched lengths are refused with errors that name the argument.
"""

from __future__ import annotations

from typing import Any

from nnx.backends import Backend
from nnx.backends.base import Array


def to_backend(backend: Backend, data: Any, argument: str, dtype: str | None) -> Array:
    """Move ``data`` to ``backend`` as ``dtype`` (None keeps integer labels integer)."""
    if data is None:
        raise ValueError(f"{argument} must be an array, received None.")
    kind = getattr(getattr(data, "dtype", None), "kind", "f")
    try:
        x = backend.asarray(data) if kind in "biuf" else None
        numeric = x is not None and backend.xp.isdtype(
            x.dtype, ("bool", "integral", "real floating")
        )
    except (TypeError, ValueError, AttributeError):
        numeric = False
    if not numeric:
        raise TypeError(
            f"{argument} must hold numbers (float, int or bool), received "
            f"{type(data).__name__} with dtype {getattr(data, 'dtype', 'unknown')}. "
            "Encode strings or objects as numbers first."
        )
    assert x is not None
    xp = backend.xp
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(
            f"{argument} must hold at least one sample, received shape {tuple(x.shape)}."
        )
    if dtype is not None and x.dtype != backend.dtype(dtype):
        x = xp.astype(x, backend.dtype(dtype))
    if xp.isdtype(x.dtype, "real floating") and not bool(xp.all(xp.isfinite(x))):
        bad = int(xp.sum(xp.astype(~xp.isfinite(x), xp.int64)))
        raise ValueError(
            f"{argument} contains {bad} NaN or infinite value(s); clean or impute "
            "them before training."
        )
    return x


def check_lengths(**arrays: Any) -> int:
    """All given arrays have the same number of samples; return it."""
    lengths = {name: a.shape[0] for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(
            f"Data cardinality is ambiguous: all inputs must have the same number "
            f"of samples, received {detail}."
        )
    return next(iter(lengths.values()))


def check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, received batch_size={batch_size!r}.")
    return batch_size
