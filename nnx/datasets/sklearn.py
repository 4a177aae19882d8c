"""scikit-learn's generators and loaders as nnx datasets: ``make_classification``,
``load_breast_cancer``, ``load_digits`` (float32 features, int64 labels).

nnx calls scikit-learn here instead of rewriting it, and imports it only when one of these runs;
without it they raise an ImportError naming the extra to install, ``nnx-array[sklearn]``.

>>> X, y = load_digits()
>>> X.shape, X.dtype, y.dtype
((1797, 64), dtype('float32'), dtype('int64'))
"""

from __future__ import annotations

from typing import Any

from nnx.backends import get_backend
from nnx.datasets.synthetic import Dataset

__all__ = ["load_breast_cancer", "load_digits", "make_classification"]


def _sklearn_datasets(what: str) -> Any:
    """``sklearn.datasets``, or an ImportError naming the extra (scikit-learn loads ~1 s)."""
    try:
        import sklearn.datasets
    except ImportError as exc:
        raise ImportError(
            f"nnx.datasets.{what} calls scikit-learn, which is not installed: "
            'pip install "nnx-array[sklearn]"'
        ) from exc
    return sklearn.datasets


def _pair(X: Any, y: Any) -> Dataset:
    """Host float32 features and int64 labels."""
    xp = get_backend("numpy").xp
    return xp.astype(xp.asarray(X), xp.float32), xp.astype(xp.asarray(y), xp.int64)


def make_classification(seed: int | None = None, **kwargs: Any) -> Dataset:
    """scikit-learn's ``make_classification`` (needs ``nnx-array[sklearn]``), as float32/int64.

    Args:
        seed: passed as ``random_state``.
        **kwargs: any argument of :func:`sklearn.datasets.make_classification`.

    Returns:
        ``(X, y)``.

    >>> X, y = make_classification(seed=0, n_samples=50, n_features=5)
    >>> X.shape, X.dtype
    ((50, 5), dtype('float32'))
    """
    return _pair(
        *_sklearn_datasets("make_classification").make_classification(random_state=seed, **kwargs)
    )


def load_breast_cancer() -> Dataset:
    """The Wisconsin breast-cancer set (569 x 30, 0 malignant / 1 benign) via scikit-learn.

    Returns:
        ``(X, y)``: float32 ``(569, 30)``, int64 ``(569,)``.

    >>> load_breast_cancer()[0].shape
    (569, 30)
    """
    data = _sklearn_datasets("load_breast_cancer").load_breast_cancer()
    return _pair(data.data, data.target)


def load_digits() -> Dataset:
    """The 8x8 handwritten digits (1797 x 64, pixel values 0..16, 10 classes) via scikit-learn.

    Returns:
        ``(X, y)``: float32 ``(1797, 64)``, int64 ``(1797,)``.

    >>> load_digits()[0].shape
    (1797, 64)
    """
    data = _sklearn_datasets("load_digits").load_digits()
    return _pair(data.data, data.target)
