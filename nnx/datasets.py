"""Small synthetic datasets for demos, tests and tutorials.

Every generator returns host NumPy arrays ``(X, y)`` with float32 features. Classification labels
are int64 class indices of shape ``(n,)``; a network with one sigmoid output wants them as a
float32 column, ``y.reshape(-1, 1).astype("float32")``. Randomness is explicit: a given ``seed``
(an int >= 0, scikit-learn's ``random_state``) gives the same data on every machine; ``None``
draws fresh entropy.

``make_moons`` and ``make_circles`` keep scikit-learn's geometry but are nnx's own, so the core
demo runs without scikit-learn and gives the same data whether or not it is installed;
``make_classification``, ``load_breast_cancer`` and ``load_digits`` call scikit-learn
(``pip install "nnx-array[sklearn]"``).
"""

from __future__ import annotations

import math
import operator
from typing import Any

from nnx.backends import Array, Generator, get_backend

__all__ = [
    "load_breast_cancer",
    "load_digits",
    "logic_gate",
    "make_blobs",
    "make_circles",
    "make_classification",
    "make_moons",
    "make_regression",
    "make_regression_1d",
    "make_spirals",
    "make_tutorial_regression",
    "make_xor",
    "train_test_split",
]

Dataset = tuple[Array, Array]
_GATES = {"and": "0001", "or": "0111", "xor": "0110", "nand": "1110", "nor": "1000"}


def _int(name: str, value: Any, low: int) -> int:
    try:
        number = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = None
    if number is None or number < low:
        raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    return number


def _real(name: str, value: Any, low: float, high: float = math.inf) -> float:
    try:
        number = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not low <= number < high:
        raise ValueError(
            f"`{name}` must be a number in [{low}, {high}). Received: {name}={value!r}"
        )
    return number


def _rng(seed: Any) -> tuple[Generator, Any]:
    backend = get_backend("numpy")
    return backend.rng(None if seed is None else _int("seed", seed, 0)), backend.xp


def _two_classes(xp: Any, a: Array, b: Array, noise: float, rng: Generator) -> Dataset:
    """Stack class 0 points ``a`` and class 1 points ``b``, shuffle, add Gaussian noise."""
    y = xp.concat([xp.zeros(a.shape[0], dtype=xp.int64), xp.ones(b.shape[0], dtype=xp.int64)])
    return _shuffle_noisy(xp, xp.concat([a, b]), y, noise, rng)


def _shuffle_noisy(xp: Any, X: Array, y: Array, noise: float, rng: Generator) -> Dataset:
    perm = rng.permutation(X.shape[0])
    X = xp.take(X, perm, axis=0) + rng.normal(X.shape, std=noise, dtype="float64")
    return xp.astype(X, xp.float32), xp.take(y, perm, axis=0)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons`` geometry), shuffled.

    Class 0 is the upper unit half circle ``(cos t, sin t)``, class 1 the lower half circle
    ``(1 - cos t, 0.5 - sin t)``, ``t`` in ``[0, pi]``; Gaussian noise is then added.

    Args:
        n_samples: number of points (>= 2); class 0 gets ``n_samples // 2`` of them.
        noise: standard deviation of the noise added to each coordinate (>= 0).
        seed: an int >= 0 for reproducible data, or None.

    Returns:
        ``(X, y)``: float32 points and int64 labels in {0, 1}.

    Shape:
        X: ``(n_samples, 2)``; y: ``(n_samples,)``, or ``(n_samples, 1)`` float32 after
        ``y.reshape(-1, 1).astype("float32")`` for a network with one sigmoid output.

    >>> X, y = make_moons(100, noise=0.1, seed=0)
    >>> X.shape, X.dtype, y.shape, y.dtype
    ((100, 2), dtype('float32'), (100,), dtype('int64'))
    >>> y.reshape(-1, 1).astype("float32").shape
    (100, 1)
    """
    n, noise = _int("n_samples", n_samples, 2), _real("noise", noise, 0.0)
    rng, xp = _rng(seed)
    t = xp.linspace(0.0, math.pi, n // 2, dtype=xp.float64)
    s = xp.linspace(0.0, math.pi, n - n // 2, dtype=xp.float64)
    upper = xp.stack([xp.cos(t), xp.sin(t)], axis=1)
    lower = xp.stack([1.0 - xp.cos(s), 0.5 - xp.sin(s)], axis=1)
    return _two_classes(xp, upper, lower, noise, rng)


def make_circles(
    n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = None
) -> Dataset:
    """A unit circle (class 0) around a circle of radius ``factor`` (class 1), shuffled.

    Args:
        n_samples: number of points (>= 2); class 0 gets ``n_samples // 2`` of them.
        noise: standard deviation of the noise added to each coordinate (>= 0).
        factor: radius of the inner circle, in ``[0, 1)``.
        seed: an int >= 0 for reproducible data, or None.

    Returns:
        ``(X, y)``: float32 points and int64 labels in {0, 1}.

    Shape:
        X: ``(n_samples, 2)``; y: ``(n_samples,)`` (``y.reshape(-1, 1).astype("float32")``
        for a binary network).

    >>> X, y = make_circles(100, noise=0.0, factor=0.5, seed=0)
    >>> X.shape, y.shape, int(y.sum())
    ((100, 2), (100,), 50)
    """
    n, noise = _int("n_samples", n_samples, 2), _real("noise", noise, 0.0)
    factor = _real("factor", factor, 0.0, 1.0)
    rng, xp = _rng(seed)
    t = xp.linspace(0.0, 2 * math.pi, n // 2, endpoint=False, dtype=xp.float64)
    s = xp.linspace(0.0, 2 * math.pi, n - n // 2, endpoint=False, dtype=xp.float64)
    inner = factor * xp.stack([xp.cos(s), xp.sin(s)], axis=1)
    return _two_classes(xp, xp.stack([xp.cos(t), xp.sin(t)], axis=1), inner, noise, rng)


def make_spirals(
    n_samples: int = 300, n_classes: int = 2, noise: float = 0.05, seed: int | None = None
) -> Dataset:
    """``n_classes`` interleaved spiral arms of 1.5 turns each, radius 0 to 1, shuffled.

    Arm ``c`` is ``r (cos a, sin a)``, ``r`` in ``[0, 1]``, ``a = 2 pi c / n_classes + 3 pi r``.

    Args:
        n_samples: number of points (>= n_classes), split as evenly as possible between arms.
        n_classes: number of arms, one class each (>= 2).
        noise: standard deviation of the noise added to each coordinate (>= 0).
        seed: an int >= 0 for reproducible data, or None.

    Returns:
        ``(X, y)``: float32 points and int64 labels in ``[0, n_classes)``.

    Shape:
        X: ``(n_samples, 2)``; y: ``(n_samples,)``.

    >>> X, y = make_spirals(300, n_classes=3, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((300, 2), [0, 1, 2])
    """
    k = _int("n_classes", n_classes, 2)
    n, noise = _int("n_samples", n_samples, k), _real("noise", noise, 0.0)
    rng, xp = _rng(seed)
    arms, labels = [], []
    for c in range(k):
        r = xp.linspace(0.0, 1.0, n // k + (c < n % k), dtype=xp.float64)
        a = 2 * math.pi * c / k + 3 * math.pi * r
        arms.append(xp.stack([r * xp.cos(a), r * xp.sin(a)], axis=1))
        labels.append(xp.full(r.shape[0], c, dtype=xp.int64))
    return _shuffle_noisy(xp, xp.concat(arms), xp.concat(labels), noise, rng)


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
    n, noise = _int("n_samples", n_samples, 1), _real("noise", noise, 0.0)
    rng, xp = _rng(seed)
    x = rng.uniform((n, 1), -2.0, 2.0, dtype="float64")
    y = xp.sin(3.0 * x) + 0.5 * x**2 + rng.normal((n, 1), std=noise, dtype="float64")
    return xp.astype(x, xp.float32), xp.astype(y, xp.float32)


def logic_gate(name: str = "xor") -> Dataset:
    """The truth table of a two-input logic gate: ``"and"``, ``"or"``, ``"xor"``, ``"nand"``,
    ``"nor"`` (any case).

    Returns:
        ``(X, y)``: inputs 00, 01, 10, 11 and the gate's outputs, float32 0/1.

    Shape:
        X: ``(4, 2)``; y: ``(4, 1)``.

    >>> X, y = logic_gate("and")
    >>> X.tolist(), y.ravel().tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 0.0, 0.0, 1.0])
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in _GATES:
        raise ValueError(f"Unknown gate; valid names: {', '.join(_GATES)}. Received: name={name!r}")
    b = get_backend("numpy")
    y = b.asarray([[int(bit)] for bit in _GATES[key]], dtype="float32")
    return b.asarray([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32"), y


def make_xor() -> Dataset:
    """The XOR truth table, ``logic_gate("xor")``: the classic non-linearly-separable problem.

    Returns:
        ``(X, y)``, float32. Shape: X ``(4, 2)``, y ``(4, 1)``.

    >>> make_xor()[1].ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    return logic_gate("xor")


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

    >>> X, y = make_moons(100, seed=0)
    >>> [part.shape for part in train_test_split(X, y, test_size=0.25, seed=0)]
    [(75, 2), (25, 2), (75,), (25,)]
    """
    b = get_backend("numpy")
    X, y = b.asarray(X), b.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0] or X.shape[0] < 2:
        raise ValueError(
            "`X` and `y` need the same number of rows (>= 2). "
            f"Received: X.shape={X.shape}, y.shape={y.shape}"
        )
    n = X.shape[0]
    if isinstance(test_size, float):
        n_test = math.ceil(_real("test_size", test_size, 0.0, 1.0) * n)
    else:
        n_test = _int("test_size", test_size, 1)
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"`test_size` leaves an empty part of {n} samples. Received: test_size={test_size!r}"
        )
    rng, xp = _rng(seed)
    perm = rng.permutation(n)
    test, train = perm[:n_test], perm[n_test:]
    parts = [xp.take(a, idx, axis=0) for a in (X, y) for idx in (train, test)]
    return parts[0], parts[1], parts[2], parts[3]


from nnx.more_datasets import (  # noqa: E402
    load_breast_cancer,
    load_digits,
    make_blobs,
    make_classification,
    make_regression,
    make_tutorial_regression,
)
