"""Validation and conversion of user data at the public boundary (fit/evaluate/predict).

Host data (lists, NumPy arrays) and arrays of other backends are moved to the model's backend
once; integer and bool features are cast to the model's float dtype; object/string data, empty
inputs, NaN/Inf and mismatched lengths are refused with errors that name the argument.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace

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


def check_integer_labels(backend: Backend, data: Any, argument: str) -> None:
    """Refuse float class labels with a fractional part (they would be truncated silently)."""
    x = to_backend(backend, data, argument, None)
    xp = backend.xp
    if xp.isdtype(x.dtype, "real floating") and bool(xp.any(xp.floor(x) != x)):
        raise ValueError(
            f"{argument} must hold integer class labels for a sparse loss, received "
            f"non-integer values such as {float(xp.reshape(x, (-1,))[_first_fraction(x)]):g}."
        )


def _first_fraction(x: Array) -> int:
    xp = array_namespace(x)
    return int(xp.argmax(xp.reshape(xp.abs(xp.floor(x) - x), (-1,))))


def check_distributions(y: Array, argument: str, loss_name: str) -> None:
    """One-hot or soft targets: entries in ``[0, 1]``, each row summing to 1 (one sync)."""
    xp = array_namespace(y)
    sums = xp.sum(y, axis=-1)
    bad = xp.any((y < 0) | (y > 1)) | xp.any(xp.abs(sums - 1) > 1e-3)
    if bool(bad):
        raise ValueError(
            f"{argument} must be one-hot (or probability) rows for {loss_name}: entries in "
            f"[0, 1] summing to 1, received entries in [{float(xp.min(y)):g}, "
            f"{float(xp.max(y)):g}] and row sums in [{float(xp.min(sums)):g}, "
            f"{float(xp.max(sums)):g}]. For integer labels use sparse_categorical_crossentropy."
        )


def class_weights(
    backend: Backend, y: Array, class_weight: Any, kind: str, n_classes: int, dtype: str
) -> Array:
    """Per-sample weights ``class_weight[label]`` (classes missing from the dict weigh 1).

    Args:
        backend: the model's backend.
        y: targets already on the backend.
        class_weight: ``{class index: weight}``.
        kind: ``"sparse"`` (integer labels), ``"categorical"`` (one-hot rows) or ``"binary"``
            (0/1 targets of shape ``(n, 1)``).
        n_classes: number of classes (2 for binary).
        dtype: the float dtype of the weights.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> class_weights(b, b.asarray([0, 1, 1]), {1: 3.0}, "sparse", 2, "float32")
    array([1., 3., 3.], dtype=float32)
    """
    if not isinstance(class_weight, dict) or not class_weight:
        raise ValueError(
            f"class_weight must be a non-empty dict {{class index: weight}}, "
            f"received class_weight={class_weight!r}."
        )
    table = [1.0] * n_classes
    for key, weight in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < n_classes:
            raise ValueError(
                f"class_weight keys must be class indices in [0, {n_classes}), received "
                f"key {key!r} in class_weight={class_weight!r}."
            )
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not (0 <= weight < float("inf"))
        ):
            raise ValueError(
                f"class_weight values must be finite numbers >= 0, received "
                f"class_weight[{key}]={weight!r}."
            )
        table[key] = float(weight)
    xp = backend.xp
    if kind == "sparse":
        labels = xp.reshape(xp.astype(y, xp.int64), (-1,))
    elif kind == "categorical":
        labels = xp.argmax(y, axis=-1)
    else:
        labels = xp.astype(xp.reshape(y, (-1,)) > 0.5, xp.int64)
    return xp.take(backend.asarray(table, dtype=dtype), labels, axis=0)
