"""Data helpers: minibatches, ``train_test_split``, ``StandardScaler``, ``one_hot``, and
:class:`PyDataset`, data served batch by batch to ``fit``/``evaluate``/``predict``.

They work on host NumPy arrays and on arrays of any backend (through ``array_namespace``);
``train_test_split`` works on the host. Randomness is explicit: a ``seed`` (an int >= 0) gives
the same order on every machine, ``None`` draws fresh entropy (:func:`host_rng`).

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> [xb.shape[0] for xb, yb in minibatches(b.asarray([[0.0]] * 5), b.asarray([0] * 5), 2)]
[2, 2, 1]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from nnx.backends import get_backend
from nnx.backends.base import Array, Generator, array_namespace
from nnx.functional.one_hot import one_hot
from nnx.validation import check_float, check_int

__all__ = [
    "PyDataset",
    "StandardScaler",
    "host_rng",
    "minibatches",
    "one_hot",
    "train_test_split",
]


def host_rng(seed: int | None, who: str = "") -> Generator:
    """A generator of the NumPy backend, seeded by ``seed`` (an int >= 0) or fresh (None).

    Args:
        seed: the seed, checked.
        who: the caller, named in the error.

    Returns:
        A :class:`~nnx.backends.base.Generator` (``.backend.xp`` is its namespace).

    Raises:
        ValueError: ``seed`` is not None nor an int >= 0.

    >>> host_rng(0).host_permutation(4).tolist()
    [2, 0, 1, 3]
    """
    checked = None if seed is None else check_int(seed, "seed", who=who, minimum=0)
    return get_backend("numpy").rng(checked)


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
    check_int(batch_size, "batch_size", who="minibatches", minimum=1)
    xp = array_namespace(X)
    n = X.shape[0]
    if y is not None and y.shape[0] != n:
        raise ValueError(f"minibatches: X has {n} rows but y has {y.shape[0]}.")
    if shuffle:
        order = xp.asarray(host_rng(seed, "minibatches").host_permutation(n), device=X.device)
        X = xp.take(X, order, axis=0)
        y = None if y is None else xp.take(y, order, axis=0)
    for i in range(0, n, batch_size):
        j = min(i + batch_size, n)
        yield X[i:j, ...], None if y is None else y[i:j, ...]


def train_test_split(
    X: Any, y: Any, test_size: float = 0.25, seed: int | None = None
) -> tuple[Array, Array, Array, Array]:
    """Shuffle host arrays and split them into a training part and a test part.

    Args:
        X: features, a host array-like whose first axis indexes samples.
        y: targets with as many rows as ``X``.
        test_size: a fraction in ``(0, 1)`` (rounded up) or a count in ``[1, n - 1]``.
        seed: an int >= 0 for a reproducible split, or None.

    Returns:
        ``(X_train, X_test, y_train, y_test)``, NumPy arrays with the inputs' dtypes.

    Shape:
        X_train: ``(n - n_test, ...)``, X_test: ``(n_test, ...)``; likewise for y.

    >>> X, y = list(range(8)), [0, 1] * 4
    >>> [part.shape for part in train_test_split(X, y, test_size=0.25, seed=0)]
    [(6,), (2,), (6,), (2,)]
    """
    who = "train_test_split"
    b = get_backend("numpy")
    X, y = b.asarray(X), b.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0] or X.shape[0] < 2:
        raise ValueError(
            f"{who}: X and y need the same number of rows (>= 2), "
            f"received X.shape={X.shape}, y.shape={y.shape}."
        )
    n = X.shape[0]
    if isinstance(test_size, float):
        fraction = check_float(
            test_size,
            "test_size",
            who=who,
            minimum=0,
            maximum=1,
            minimum_open=True,
            maximum_open=True,
        )
        n_test = math.ceil(fraction * n)
    else:
        n_test = check_int(test_size, "test_size", who=who, minimum=1)
    if n_test > n - 1:
        raise ValueError(
            f"{who}: test_size must leave at least one of the {n} samples for training, "
            f"received test_size={test_size!r}."
        )
    rng = host_rng(seed, who)
    xp = rng.backend.xp
    perm = rng.permutation(n)
    test, train = perm[:n_test], perm[n_test:]
    parts = [xp.take(a, idx, axis=0) for a in (X, y) for idx in (train, test)]
    return parts[0], parts[1], parts[2], parts[3]


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


class PyDataset:
    """Data that does not sit in one array, served batch by batch (Keras 3's ``PyDataset``).

    Subclass it and define ``__len__`` (batches per epoch) and ``__getitem__(index)``, which
    returns batch ``index`` as ``(x, y)`` or ``(x, y, sample_weight)`` (host or backend arrays;
    ``x`` alone for ``predict``); ``on_epoch_end`` runs after each training epoch (reshuffle,
    reload files...). ``fit(dataset, shuffle=True)`` visits the batches in a fresh seeded order
    each epoch; each batch is moved to the model's device only when it is used.

    Args:
        workers, use_multiprocessing, max_queue_size: accepted for Keras compatibility and
            recorded; nnx reads batches in the training thread, in order.

    >>> import numpy as np
    >>> class Squares(PyDataset):
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, index):
    ...         x = np.arange(3.0)[:, None] + 3 * index
    ...         return x, x**2
    >>> data = Squares()
    >>> len(data), data[1][1].ravel().tolist(), data.num_batches
    (2, [9.0, 16.0, 25.0], 2)
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        self.workers = check_int(workers, "workers", who="PyDataset", minimum=1)
        self.use_multiprocessing = bool(use_multiprocessing)
        self.max_queue_size = check_int(
            max_queue_size, "max_queue_size", who="PyDataset", minimum=1
        )

    def __len__(self) -> int:
        """The number of batches per epoch."""
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (batches per epoch).")

    def __getitem__(self, index: int) -> Any:
        """Batch ``index``: ``(x, y)``, ``(x, y, sample_weight)`` or ``x``."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index).")

    def on_epoch_end(self) -> None:
        """Called after each training epoch (nothing by default)."""

    @property
    def num_batches(self) -> int:
        """``len(self)`` (Keras's name)."""
        return len(self)
