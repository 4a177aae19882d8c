"""More synthetic sets (blobs, regressions) and scikit-learn's loaders, re-exported by
:mod:`nnx.datasets`.

Where scikit-learn already has a generator or a loader (``make_classification``,
``load_breast_cancer``, ``load_digits``) nnx calls it instead of rewriting it; without
scikit-learn these raise an ImportError naming the extra to install, ``nnx-array[sklearn]``.

>>> X, y = make_blobs(60, centers=3, seed=0)
>>> X.shape, sorted(set(y.tolist()))
((60, 2), [0, 1, 2])
"""

from __future__ import annotations

from typing import Any

from nnx.backends import Array, get_backend

__all__ = [
    "load_breast_cancer",
    "load_digits",
    "make_blobs",
    "make_classification",
    "make_regression",
    "make_tutorial_regression",
]

Dataset = tuple[Array, Array]


def _host(seed: int | None) -> tuple[Any, Any]:
    from nnx.datasets import _rng

    return _rng(seed)


def _sklearn_datasets(what: str) -> Any:
    try:
        import sklearn.datasets
    except ImportError as exc:
        raise ImportError(
            f"nnx.datasets.{what} calls scikit-learn, which is not installed: "
            'pip install "nnx-array[sklearn]"'
        ) from exc
    return sklearn.datasets


def _pair(X: Any, y: Any) -> Dataset:
    xp = get_backend("numpy").xp
    return xp.astype(xp.asarray(X), xp.float32), xp.astype(xp.asarray(y), xp.int64)


def make_blobs(
    n_samples: int = 300,
    centers: int = 3,
    cluster_std: float = 0.6,
    n_features: int = 2,
    seed: int | None = None,
) -> Dataset:
    """Isotropic Gaussian blobs around ``centers`` centres drawn in ``[-5, 5]^n_features``.

    Args:
        n_samples: number of points, split as evenly as possible between blobs.
        centers: number of blobs (classes), >= 1.
        cluster_std: standard deviation of each blob.
        n_features: dimension of the points.
        seed: an int >= 0 or None.

    Returns:
        ``(X, y)``: float32 points ``(n_samples, n_features)`` and int64 labels ``(n_samples,)``.

    >>> make_blobs(10, centers=2, seed=1)[1].tolist().count(0)
    5
    """
    if centers < 1 or n_samples < centers:
        raise ValueError(
            f"make_blobs needs centers >= 1 and n_samples >= centers, received "
            f"n_samples={n_samples!r}, centers={centers!r}."
        )
    rng, xp = _host(seed)
    middle = rng.uniform((centers, n_features), -5.0, 5.0, dtype="float64")
    y = xp.asarray([i % centers for i in range(n_samples)], dtype=xp.int64)
    y = xp.take(y, rng.permutation(n_samples))
    X = xp.take(middle, y, axis=0) + rng.normal(
        (n_samples, n_features), std=cluster_std, dtype="float64"
    )
    return xp.astype(X, xp.float32), y


def make_regression(
    n_samples: int = 500,
    n_features: int = 5,
    noise: float = 0.1,
    nonlinear: bool = False,
    seed: int | None = None,
) -> Dataset:
    """A regression set with ``x ~ N(0, 1)``: linear ``y = x w + b + noise`` with fixed
    weights ``w_i = (-1)^i (i + 1) / n_features``, or with ``nonlinear=True`` the same plus
    ``sin(2 x_0) + x_1^2 / 2`` (needs ``n_features >= 2``).

    Args:
        n_samples: number of rows.
        n_features: number of inputs.
        noise: standard deviation of the Gaussian noise on ``y``.
        nonlinear: add the non-linear terms.
        seed: an int >= 0 or None.

    Returns:
        ``(X, y)``: float32 ``(n_samples, n_features)`` and float32 ``(n_samples, 1)``.

    >>> X, y = make_regression(100, n_features=5, seed=0)
    >>> X.shape, y.shape
    ((100, 5), (100, 1))
    """
    rng, xp = _host(seed)
    X = rng.normal((n_samples, n_features), dtype="float64")
    w = xp.asarray([[(-1) ** i * (i + 1) / n_features] for i in range(n_features)])
    y = X @ w + 0.5 + rng.normal((n_samples, 1), std=noise, dtype="float64")
    if nonlinear:
        y = y + xp.sin(2.0 * X[:, :1]) + 0.5 * X[:, 1:2] ** 2
    return xp.astype(X, xp.float32), xp.astype(y, xp.float32)


def make_tutorial_regression(
    n_samples: int = 1000, noise: float = 0.0, seed: int | None = None
) -> Dataset:
    """The 4-feature non-linear target of the advanced NumPy tutorial, scaled to ``[0, 1]``.

    With ``x ~ U[-2, 2)^4``::

        y = sin(x1 x2) + cos(x3) sin(x4) + x1^2 + x2^2 + x3 x4 + exp(-(x3^2 + x4^2) / 2)
            + 0.5 x1 - 0.3 x2 + 0.2 x3 + 0.1 x4 (+ noise)

    then min-max scaled to ``[0, 1]``.

    Args:
        n_samples: number of rows.
        noise: standard deviation of Gaussian noise added before scaling.
        seed: an int >= 0 or None.

    Returns:
        ``(X, y)``: float32 ``(n_samples, 4)`` and float32 ``(n_samples, 1)`` in ``[0, 1]``.

    >>> X, y = make_tutorial_regression(200, seed=0)
    >>> X.shape, float(y.min()), float(y.max())
    ((200, 4), 0.0, 1.0)
    """
    rng, xp = _host(seed)
    X = rng.uniform((n_samples, 4), -2.0, 2.0, dtype="float64")
    x1, x2, x3, x4 = (X[:, i] for i in range(4))
    y = (
        xp.sin(x1 * x2)
        + xp.cos(x3) * xp.sin(x4)
        + x1**2
        + x2**2
        + x3 * x4
        + xp.exp(-0.5 * (x3**2 + x4**2))
        + 0.5 * x1
        - 0.3 * x2
        + 0.2 * x3
        + 0.1 * x4
    )
    if noise:
        y = y + rng.normal((n_samples,), std=noise, dtype="float64")
    y = (y - xp.min(y)) / (xp.max(y) - xp.min(y))
    return xp.astype(X, xp.float32), xp.astype(xp.reshape(y, (-1, 1)), xp.float32)


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
