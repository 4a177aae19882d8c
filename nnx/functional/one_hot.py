"""One-hot codes of integer labels, in pure Array API (the standard has no ``one_hot``).

The one implementation behind :func:`nnx.data.one_hot`, the sparse cross-entropy's targets and
the confusion matrices of :mod:`nnx.metrics`: a comparison of the labels with ``arange(k)``, so
nothing needs a scatter and labels outside ``[0, k)`` give a row of zeros.

>>> from nnx.backends import get_backend
>>> one_hot(get_backend("numpy").asarray([1, 0]), 2).tolist()
[[0.0, 1.0], [1.0, 0.0]]
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, array_namespace

__all__ = ["one_hot"]


def one_hot(labels: Array, num_classes: int | None = None, dtype: Any = "float32") -> Array:
    """One-hot codes of integer labels: ``codes[i, c] = 1 if labels[i] == c else 0``.

    Args:
        labels: class indices of any shape (flattened first), integer or integral floats,
            on any backend.
        num_classes: number of columns ``k`` (default: ``max(labels) + 1``, one host read).
        dtype: the result's dtype: a name such as ``"float32"`` or a dtype of the labels'
            namespace (``y_pred.dtype``).

    Returns:
        The codes, on the labels' backend and device.

    Shape:
        labels: ``(n,)`` (or any shape of ``n`` elements); result: ``(n, k)``.

    >>> from nnx.backends import get_backend
    >>> one_hot(get_backend("numpy").asarray([[0], [2]]), 3, dtype="int64").tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    xp = array_namespace(labels)
    flat = xp.reshape(labels, (-1,))
    k = num_classes if num_classes is not None else int(xp.max(flat)) + 1
    classes = xp.arange(k, dtype=flat.dtype, device=flat.device)
    return xp.astype(xp.reshape(flat, (-1, 1)) == classes, _dtype(xp, dtype))


def _dtype(xp: Any, dtype: Any) -> Any:
    return getattr(xp, dtype) if isinstance(dtype, str) else dtype
