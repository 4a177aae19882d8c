"""Data preparation for the loops: datasets on the backend, batch slices, shuffling, the
validation split and class weights.

``fit``, ``evaluate`` and ``predict`` cut their batches with the one :func:`batch_slices`.

>>> batch_slices(5, 2)
[slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nnx.backends import Backend
from nnx.backends.base import Array, array_namespace
from nnx.losses import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from nnx.training.inputs import (
    check_lengths,
    model_inputs,
    model_sample_weights,
    model_targets,
)
from nnx.validation import check_float, is_int

__all__ = [
    "Dataset",
    "batch_slices",
    "class_weights",
    "fit_data",
    "model_class_weights",
    "model_data",
    "split_validation",
    "validation_dataset",
]


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """The slices of consecutive batches of ``batch_size`` rows out of ``n`` (the last shorter)."""
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


@dataclass(frozen=True)
class Dataset:
    """Inputs, targets and optional per-sample weights on one backend, row-aligned.

    >>> import numpy as np
    >>> data = Dataset(np.arange(4.0), np.arange(4) % 2)
    >>> len(data), data.batch(slice(1, 3))
    (4, (array([1., 2.]), array([1, 0]), None))
    """

    x: Array
    y: Array
    w: Array | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def batch(self, rows: slice) -> tuple[Array, Array, Array | None]:
        """``(x, y, w)`` of the rows ``rows``."""
        w = None if self.w is None else self.w[rows]
        return self.x[rows, ...], self.y[rows, ...], w

    def rows(self, rows: slice) -> Dataset:
        """The rows ``rows`` as a dataset (views where the backend gives views)."""
        return Dataset(*self.batch(rows))

    def shuffled(self, order: Array | None) -> Dataset:
        """The rows in ``order`` (an index array), or ``self`` when ``order`` is None."""
        if order is None:
            return self
        xp = array_namespace(self.x)
        w = None if self.w is None else xp.take(self.w, order, axis=0)
        return Dataset(xp.take(self.x, order, axis=0), xp.take(self.y, order, axis=0), w)


def model_data(
    model: Any, x: Any, y: Any, sample_weight: Any = None, names: tuple[str, str] = ("x", "y")
) -> Dataset:
    """``x``, ``y`` and ``sample_weight`` converted and checked for ``model``
    (:mod:`nnx.training.inputs`); an unbuilt model is built for ``x``'s sample shape.

    A graph model with several inputs or outputs, or inputs of their own dtype
    (``model.structured_data``, see :mod:`nnx.models.functional`), converts its lists or
    dicts of arrays itself.
    """
    structured = getattr(model, "structured_data", None)
    if structured is not None:
        return structured(x, y, sample_weight, names)  # type: ignore[no-any-return]
    xb = model_inputs(model, x, names[0])
    if not model.built:
        model.build(tuple(xb.shape[1:]))
    yb = model_targets(model, y, names[1])
    n = check_lengths(**{names[0]: xb, names[1]: yb})
    return Dataset(xb, yb, model_sample_weights(model, sample_weight, n))


def split_validation(data: Dataset, validation_split: float) -> tuple[Dataset, Dataset | None]:
    """Hold out the last ``validation_split`` of the rows (before any shuffling).

    Raises:
        ValueError: ``validation_split`` outside ``[0, 1)``, or leaving an empty side.
    """
    check_float(validation_split, "validation_split", minimum=0, maximum=1, maximum_open=True)
    if validation_split == 0.0:
        return data, None
    n = len(data)
    split = n - math.floor(n * validation_split)
    if split <= 0 or split >= n:
        raise ValueError(
            f"validation_split={validation_split} leaves no training or no "
            f"validation samples out of {n}."
        )
    return data.rows(slice(0, split)), data.rows(slice(split, n))


def fit_data(
    model: Any,
    x: Any,
    y: Any,
    sample_weight: Any = None,
    class_weight: dict[int, float] | None = None,
    validation_split: float = 0.0,
    validation_data: tuple[Any, ...] | None = None,
) -> tuple[Dataset, Dataset | None]:
    """The training set (sample weights times class weights) and the validation set of ``fit``."""
    data = model_data(model, x, y, sample_weight)
    if class_weight is not None:
        cw = model_class_weights(model, data.y, class_weight)
        data = Dataset(data.x, data.y, cw if data.w is None else data.w * cw)
    if validation_data is None:
        return split_validation(data, validation_split)
    return data, validation_dataset(model, validation_data)


def validation_dataset(model: Any, validation_data: Any) -> Dataset:
    """``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` converted for ``model``."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "validation_data must be (x_val, y_val) or (x_val, y_val, "
            f"sample_weight_val), received {type(validation_data).__name__}."
        )
    xv, yv, *wv = validation_data
    names = ("validation_data[0]", "validation_data[1]")
    return model_data(model, xv, yv, wv[0] if wv else None, names=names)


def model_class_weights(model: Any, y: Array, class_weight: Any) -> Array:
    """Per-sample weights from ``class_weight`` for a model's single-label classification loss.

    Raises:
        ValueError: the loss is not binary (one output), categorical or sparse categorical
            cross-entropy, or ``class_weight`` is malformed.
    """
    loss, outputs = model.loss, int((model.output_shape or (1,))[-1] or 1)
    if isinstance(loss, SparseCategoricalCrossentropy):  # before its base class
        kind = "sparse"
    elif isinstance(loss, CategoricalCrossentropy):
        kind = "categorical"
    elif isinstance(loss, BinaryCrossentropy) and outputs == 1:
        kind, outputs = "binary", 2
    else:
        raise ValueError(
            "class_weight needs a single-label classification loss (binary_crossentropy with "
            "one output, categorical_crossentropy or sparse_categorical_crossentropy), "
            f"received loss={getattr(loss, 'name', loss)!r} with {outputs} output(s)."
        )
    return class_weights(model.backend, y, class_weight, kind, outputs, model.dtype)


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

    Returns:
        A ``(n,)`` array of ``dtype``.

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
        if not is_int(key) or not 0 <= key < n_classes:
            raise ValueError(
                f"class_weight keys must be class indices in [0, {n_classes}), received "
                f"key {key!r} in class_weight={class_weight!r}."
            )
        table[key] = check_float(weight, f"class_weight[{key}]", minimum=0)
    xp = backend.xp
    if kind == "sparse":
        labels = xp.reshape(xp.astype(y, xp.int64), (-1,))
    elif kind == "categorical":
        labels = xp.argmax(y, axis=-1)
    else:
        labels = xp.astype(xp.reshape(y, (-1,)) > 0.5, xp.int64)
    return xp.take(backend.asarray(table, dtype=dtype), labels, axis=0)
