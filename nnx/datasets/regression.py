"""Synthetic regression sets: a 1-D curve, linear or non-linear tables, the tutorial target.

Every generator returns host NumPy float32 arrays ``(X, y)`` with ``y`` a column ``(n, 1)``.
Randomness is explicit: a given ``seed`` (an int >= 0) gives the same data on every machine;
``None`` draws fresh entropy.

>>> X, y = make_regression(100, n_features=5, seed=0)
>>> X.shape, y.shape, y.dtype
((100, 5), (100, 1), dtype('float32'))
"""

from __future__ import annotations

from nnx.data import host_rng
from nnx.datasets.synthetic import Dataset
from nnx.validation import check_float, check_int

__all__ = ["make_regression", "make_regression_1d", "make_tutorial_regression"]


def make_regression_1d(
    n_samples: int = 200, noise: float = 0.1, seed: int | None = None
) -> Dataset:
    """A smooth 1-D regression target, ``y = sin(3x) + 0.5 x^2 + noise``, ``x ~ U[-2, 2)``.

    Args:
        n_samples: number of points (>= 1).
        noise: standard deviation of the Gaussian noise added to ``y`` (>= 0).
        seed: an int >= 0 for reproducible data, or None.

    Returns:
        ``(X, y)``: float32 inputs and float32 targets.

    Shape:
        X: ``(n_samples, 1)``; y: ``(n_samples, 1)``.

    >>> X, y = make_regression_1d(50, seed=0)
    >>> X.shape, y.shape, y.dtype
    ((50, 1), (50, 1), dtype('float32'))
    """
    who = "make_regression_1d"
    n = check_int(n_samples, "n_samples", who=who, minimum=1)
    noise = check_float(noise, "noise", who=who, minimum=0.0)
    rng = host_rng(seed, who)
    xp = rng.backend.xp
    x = rng.uniform((n, 1), -2.0, 2.0, dtype="float64")
    y = xp.sin(3.0 * x) + 0.5 * x**2 + rng.normal((n, 1), std=noise, dtype="float64")
    return xp.astype(x, xp.float32), xp.astype(y, xp.float32)


def make_regression(
    n_samples: int = 500,
    n_features: int = 5,
    noise: float = 0.1,
    nonlinear: bool = False,
    seed: int | None = None,
) -> Dataset:
    """A regression set with ``x ~ N(0, 1)``: linear ``y = x w + b + noise`` with fixed
    weights ``w_i = (-1)^i (i + 1) / n_features`` and ``b = 0.5``, or with ``nonlinear=True``
    the same plus ``sin(2 x_0) + x_1^2 / 2``.

    Args:
        n_samples: number of rows (>= 1).
        n_features: number of inputs (>= 1; >= 2 when ``nonlinear``).
        noise: standard deviation of the Gaussian noise on ``y`` (>= 0).
        nonlinear: add the non-linear terms.
        seed: an int >= 0 or None.

    Returns:
        ``(X, y)``, float32.

    Shape:
        X: ``(n_samples, n_features)``; y: ``(n_samples, 1)``.

    >>> X, y = make_regression(100, n_features=5, seed=0)
    >>> X.shape, y.shape
    ((100, 5), (100, 1))
    """
    who = "make_regression"
    n_samples = check_int(n_samples, "n_samples", who=who, minimum=1)
    n_features = check_int(n_features, "n_features", who=who, minimum=2 if nonlinear else 1)
    noise = check_float(noise, "noise", who=who, minimum=0.0)
    rng = host_rng(seed, who)
    xp = rng.backend.xp
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
        n_samples: number of rows (>= 2: one row has no range to scale).
        noise: standard deviation of Gaussian noise added before scaling (>= 0).
        seed: an int >= 0 or None.

    Returns:
        ``(X, y)``, float32, ``y`` in ``[0, 1]``.

    Shape:
        X: ``(n_samples, 4)``; y: ``(n_samples, 1)``.

    >>> X, y = make_tutorial_regression(200, seed=0)
    >>> X.shape, float(y.min()), float(y.max())
    ((200, 4), 0.0, 1.0)
    """
    who = "make_tutorial_regression"
    n_samples = check_int(n_samples, "n_samples", who=who, minimum=2)
    noise = check_float(noise, "noise", who=who, minimum=0.0)
    rng = host_rng(seed, who)
    xp = rng.backend.xp
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
