"""Data helpers: minibatches, ``train_test_split``, ``StandardScaler``, ``one_hot``.

They work on host NumPy arrays and on arrays of any backend (through ``array_namespace``).

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> [xb.shape[0] for xb, yb in minibatches(b.asarray([[0.0]] * 5), b.asarray([0] * 5), 2)]
[2, 2, 1]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from array_api_compat import array_namespace

from nnx.backends import get_backend
from nnx.backends.base import Array
from nnx.datasets import train_test_split

__all__ = ["StandardScaler", "minibatches", "one_hot", "train_test_split"]


def minibatches(
    X: Array,
    y: Array | None = None,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int | None = None,
) -> Iterator[tuple[Array, Array | None]]:
    """Yield ``(X_batch, y_batch)`` slices of ``batch_size`` rows (the last may be shorter).

    Args:
        X: inputs, first axis samples (any backend).
        y: targets with as many rows, or None (then ``y_batch`` is None).
        batch_size: rows per batch (> 0).
        shuffle: visit the rows in a random order.
        seed: seed of the shuffle.

    Returns:
        An iterator of pairs.

    >>> from nnx.backends import get_backend
    >>> X = get_backend("numpy").asarray([[1.0], [2.0], [3.0]])
    >>> [xb.tolist() for xb, _ in minibatches(X, batch_size=2)]
    [[[1.0], [2.0]], [[3.0]]]
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, received batch_size={batch_size!r}.")
    xp = array_namespace(X)
    n = X.shape[0]
    if y is not None and y.shape[0] != n:
        raise ValueError(f"X has {n} rows but y has {y.shape[0]}.")
    if shuffle:
        order = xp.asarray(get_backend("numpy").rng(seed).host_permutation(n), device=X.device)
        X = xp.take(X, order, axis=0)
        y = None if y is None else xp.take(y, order, axis=0)
    for i in range(0, n, batch_size):
        j = min(i + batch_size, n)
        yield X[i:j, ...], None if y is None else y[i:j, ...]


def one_hot(labels: Array, num_classes: int | None = None, dtype: str = "float32") -> Array:
    """One-hot codes of integer labels ``(n,)`` -> ``(n, num_classes)``.

    Args:
        labels: integer class indices (any backend).
        num_classes: number of columns (default: ``max(labels) + 1``, one host read).
        dtype: dtype name of the result.

    Returns:
        The codes, on the labels' backend.

    >>> from nnx.backends import get_backend
    >>> one_hot(get_backend("numpy").asarray([0, 2]), 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    xp = array_namespace(labels)
    flat = xp.reshape(labels, (-1,))
    k = num_classes if num_classes is not None else int(xp.max(flat)) + 1
    classes = xp.arange(k, dtype=flat.dtype, device=flat.device)
    return xp.astype(xp.reshape(flat, (-1, 1)) == classes, getattr(xp, dtype))


class StandardScaler:
    """Standardise features: ``(x - mean) / std`` with the training set's statistics.

    Features with zero variance are left centred but unscaled (std taken as 1).

    Attributes:
        mean_, scale_: per-feature statistics after :meth:`fit`.

    >>> from nnx.backends import get_backend
    >>> X = get_backend("numpy").asarray([[0.0, 1.0], [2.0, 1.0]])
    >>> StandardScaler().fit_transform(X).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """

    def fit(self, X: Array) -> StandardScaler:
        """Learn the per-feature mean and standard deviation; returns ``self``."""
        xp = array_namespace(X)
        X = X if xp.isdtype(X.dtype, "real floating") else xp.astype(X, xp.float64)
        self.mean_: Any = xp.mean(X, axis=0)
        std = xp.std(X, axis=0)
        self.scale_: Any = xp.where(std > 0, std, xp.ones_like(std))
        return self

    def _check(self) -> None:
        if not hasattr(self, "mean_"):
            raise RuntimeError("StandardScaler is not fitted: call fit(X) first.")

    def transform(self, X: Array) -> Array:
        """Standardise ``X`` with the fitted statistics."""
        self._check()
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, X: Array) -> Array:
        """Undo :meth:`transform`."""
        self._check()
        return X * self.scale_ + self.mean_

    def fit_transform(self, X: Array) -> Array:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(X).transform(X)
