"""Validation and conversion of user data at the public boundary (fit/evaluate/predict).

Host data (lists, NumPy arrays) and arrays of other backends are moved to the model's backend
once; integer and bool features are cast to the model's float dtype; object/string data, empty
inputs, NaN/Inf and mismatched lengths are refused with errors that name the argument.
:func:`model_inputs`, :func:`model_targets` and :func:`model_sample_weights` do it for a model
(its backend, dtype, compiled loss and output shape); ``fit``, ``evaluate``, ``predict``,
``nnx.lr_find`` and ``nnx.diagnostics`` all go through them.

>>> import nnx
>>> from nnx.layers import Dense
>>> model = nnx.Sequential([Dense(1, activation="sigmoid", input_shape=(2,))])
>>> model.compile("sgd", "binary_crossentropy")
>>> model_inputs(model, [[1, 2]]).dtype, model_targets(model, [[1]]).shape
(dtype('float32'), (1, 1))
"""

from __future__ import annotations

from typing import Any

from nnx.backends import Backend
from nnx.backends.base import Array, array_namespace
from nnx.functional.shapes import match_target_rank
from nnx.losses import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from nnx.validation import check_int

__all__ = [
    "check_batch_size",
    "check_distributions",
    "check_integer_labels",
    "check_lengths",
    "model_inputs",
    "model_sample_weights",
    "model_targets",
    "require_compiled",
    "to_backend",
]


def to_backend(backend: Backend, data: Any, argument: str, dtype: str | None) -> Array:
    """Move ``data`` to ``backend`` as ``dtype`` (None keeps integer labels integer).

    A numeric table (a pandas ``DataFrame`` of bool, int and float columns) becomes one float
    array; a masked array with masked entries is refused (its mask would be dropped); float
    values beyond the target dtype's range are refused as such, not as "infinite".
    """
    if data is None:
        raise ValueError(f"{argument} must be an array, received None.")
    data = _plain(backend, data, argument, dtype)
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
    target = x.dtype if dtype is None else backend.dtype(dtype)
    if xp.isdtype(x.dtype, "real floating"):
        # one reduction: False for NaN, inf and values the cast would overflow
        limit = float(xp.finfo(x.dtype).max)
        if xp.isdtype(target, "real floating"):  # a narrower float: its range (float32's)
            limit = min(limit, float(xp.finfo(target).max))
        if not bool(xp.all(xp.abs(x) <= limit)):
            _refuse_values(xp, x, argument, limit, dtype)
    if x.dtype != target:
        x = xp.astype(x, target)
    return x


def _plain(backend: Backend, data: Any, argument: str, dtype: str | None) -> Any:
    """A numeric table as one array; a masked array without masked entries as its data."""
    dtypes = getattr(data, "dtypes", None)
    if dtypes is not None and hasattr(data, "to_numpy") and not hasattr(dtypes, "kind"):
        kinds = {getattr(d, "kind", "O") for d in dtypes}
        if kinds and kinds <= set("biuf"):
            wanted = dtype or ("float64" if "f" in kinds else "int64")
            return data.to_numpy(dtype=wanted)
    if hasattr(data, "mask") and hasattr(data, "filled"):
        xp = backend.xp
        masked = int(xp.sum(xp.astype(backend.asarray(data.mask), xp.int64)))
        if masked:
            raise ValueError(
                f"{argument} is a masked array with {masked} masked value(s); nnx does not drop "
                "a mask silently: fill them (x.filled(value)) or remove those samples first."
            )
        return data.filled()
    return data


def _refuse_values(xp: Any, x: Array, argument: str, limit: float, dtype: str | None) -> None:
    bad = int(xp.sum(xp.astype(~xp.isfinite(x), xp.int64)))
    if bad:
        raise ValueError(
            f"{argument} contains {bad} NaN or infinite value(s); clean or impute "
            "them before training."
        )
    largest = float(xp.max(xp.abs(x)))
    raise ValueError(
        f"{argument} holds values up to {largest:g} in magnitude, beyond the range of "
        f"{dtype} (at most {limit:g}); rescale the data, or use a model with dtype='float64'."
    )


def check_lengths(**arrays: Any) -> int:
    """All given arrays have the same number of samples; return it.

    >>> import numpy as np
    >>> check_lengths(x=np.zeros((2, 1)), y=np.zeros(1))
    Traceback (most recent call last):
    ...
    ValueError: Data cardinality is ambiguous: ... received x has 2, y has 1.
    """
    lengths = {name: a.shape[0] for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(
            f"Data cardinality is ambiguous: all inputs must have the same number "
            f"of samples, received {detail}."
        )
    return next(iter(lengths.values()))


def check_batch_size(batch_size: Any) -> int:
    """``batch_size`` as a positive int, else a ``ValueError`` echoing it."""
    return check_int(batch_size, "batch_size", minimum=1)


def check_integer_labels(backend: Backend, data: Any, argument: str) -> None:
    """Refuse float class labels with a fractional part (they would be truncated silently)."""
    x = to_backend(backend, data, argument, None)
    xp = backend.xp
    if xp.isdtype(x.dtype, "real floating") and bool(xp.any(xp.floor(x) != x)):
        raise ValueError(
            f"{argument} must hold integer class labels for a sparse loss, received "
            f"non-integer values such as {float(xp.reshape(x, (-1,))[_first_fraction(x)]):g}."
        )
    if xp.isdtype(x.dtype, "real floating") and bool(xp.any(xp.abs(x) >= 2.0**53)):
        largest = float(xp.max(xp.abs(x)))
        raise ValueError(
            f"{argument} must hold class indices for a sparse loss, received a label of "
            f"magnitude {largest:g}: no class index is that large."
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


def require_compiled(model: Any, what: str) -> None:
    """Raise ``RuntimeError`` unless ``model`` is compiled; ``what`` names the call needing it.

    >>> import nnx
    >>> require_compiled(nnx.Sequential(), "fit")
    Traceback (most recent call last):
    ...
    RuntimeError: You must call compile() before fit().
    """
    if not model.compiled:
        raise RuntimeError(f"You must call compile() before {what}().")


def model_inputs(model: Any, x: Any, argument: str = "x") -> Array:
    """``x`` as an array of the model's backend and float dtype (checked, see the module).

    A rank-1 ``x`` is one feature per sample, ``(n,)`` -> ``(n, 1)``, when the model takes
    samples of shape ``(1,)`` or is not built yet (as tf.keras 2 expands 1-D data). A model
    with ``host_inputs(x)`` (a ``Sequential`` starting with ``TextVectorization``) first turns
    host data such as strings into numbers there.
    """
    host_inputs = getattr(model, "host_inputs", None)
    if host_inputs is not None:
        x = host_inputs(x)
    x = to_backend(model.backend, x, argument, model.dtype)
    if x.ndim == 1 and (not model.built or tuple(model.input_shape) == (1,)):
        x = model.backend.xp.expand_dims(x, axis=-1)
    return x


def model_targets(model: Any, y: Any, argument: str = "y") -> Array:
    """``y`` on the model's backend, checked against its compiled loss and output shape.

    Sparse losses take integer labels in ``[0, classes)``; binary cross-entropy takes values in
    ``[0, 1]``; categorical cross-entropy takes probability rows; every other loss compares
    ``y`` with the output element by element, so the shapes must match (nothing is broadcast)
    once Keras's rank rule has run: ``(n,)`` targets for an ``(n, 1)`` output become
    ``(n, 1)`` (:func:`nnx.functional.shapes.match_target_rank`).
    """
    loss = model.loss
    sparse = isinstance(loss, SparseCategoricalCrossentropy)
    if sparse:
        check_integer_labels(model.backend, y, argument)
    y = to_backend(model.backend, y, argument, "int64" if sparse else model.dtype)
    expected = tuple(model.output_shape)
    if sparse:
        loss.validate_targets(y, int(expected[-1] or 0))
        return y
    y = match_target_rank(y, (y.shape[0], *expected))
    if isinstance(loss, BinaryCrossentropy):
        loss.validate_targets(y)
    if not _fits(tuple(y.shape[1:]), expected):
        hint = (
            "One-hot encode integer labels or use sparse_categorical_crossentropy."
            if y.ndim == 1 or tuple(y.shape[1:]) == (1,)
            else ""
        )
        raise ValueError(
            f"{argument} has shape {tuple(y.shape)} but the model's output shape is "
            f"(batch, {', '.join(str(d) for d in expected)}) and the {loss.name} loss "
            f"compares them element by element (nothing is broadcast). {hint}"
        )
    if isinstance(loss, CategoricalCrossentropy):
        check_distributions(y, argument, loss.name)
    return y


def _fits(shape: tuple[int, ...], expected: tuple[int | None, ...]) -> bool:
    """Whether ``shape`` is ``expected``, a ``None`` (a sequence length left open) fitting any
    size."""
    return len(shape) == len(expected) and all(
        e is None or int(s) == e for s, e in zip(shape, expected, strict=True)
    )


def model_sample_weights(
    model: Any, sample_weight: Any, n: int, argument: str = "sample_weight"
) -> Array | None:
    """Per-sample loss weights on the model's backend, shape ``(n,)`` (``(n, 1)`` is
    flattened, as Keras does) and ``>= 0``; None stays."""
    if sample_weight is None:
        return None
    w = to_backend(model.backend, sample_weight, argument, model.dtype)
    if tuple(w.shape) == (n, 1):
        w = model.backend.xp.reshape(w, (n,))
    if tuple(w.shape) != (n,):
        raise ValueError(
            f"{argument} must have shape ({n},), one weight per sample, "
            f"received shape {tuple(w.shape)}."
        )
    if bool(model.backend.xp.any(w < 0)):
        raise ValueError(f"{argument} must be >= 0, received negative weights.")
    return w
