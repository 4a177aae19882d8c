"""Synthetic classification sets: moons, circles, spirals, blobs and logic gates.

Every generator returns host NumPy arrays ``(X, y)`` with float32 features. Labels are int64
class indices of shape ``(n,)`` (the gates give float32 columns); a network with one sigmoid
output wants them as a float32 column, ``y.reshape(-1, 1).astype("float32")``. Randomness is
explicit: a given ``seed`` (an int >= 0, scikit-learn's ``random_state``) gives the same data on
every machine; ``None`` draws fresh entropy.

``make_moons`` and ``make_circles`` keep scikit-learn's geometry but are nnx's own, so the core
demo runs without scikit-learn and gives the same data whether or not it is installed.

>>> X, y = make_blobs(60, centers=3, seed=0)
>>> X.shape, sorted(set(y.tolist()))
((60, 2), [0, 1, 2])
"""

from __future__ import annotations

import math
from typing import Any

from nnx.backends import Array, Generator, get_backend
from nnx.data import host_rng
from nnx.validation import check_choice, check_float, check_int

__all__ = [
    "logic_gate",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
]

#: ``(X, y)``, host arrays
Dataset = tuple[Array, Array]
_GATES = {"and": "0001", "or": "0111", "xor": "0110", "nand": "1110", "nor": "1000"}


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
    who = "make_moons"
    n = check_int(n_samples, "n_samples", who=who, minimum=2)
    noise = check_float(noise, "noise", who=who, minimum=0.0)
    rng = host_rng(seed, who)
    xp = rng.backend.xp
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
    who = "make_circles"
    n = check_int(n_samples, "n_samples", who=who, minimum=2)
    noise = check_float(noise, "noise", who=who, minimum=0.0)
    factor = check_float(factor, "factor", who=who, minimum=0.0, maximum=1.0, maximum_open=True)
    rng = host_rng(seed, who)
    xp = rng.backend.xp
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
    who = "make_spirals"
    k = check_int(n_classes, "n_classes", who=who, minimum=2)
    n = check_int(n_samples, "n_samples", who=who, minimum=k)
    noise = check_float(noise, "noise", who=who, minimum=0.0)
    rng = host_rng(seed, who)
    xp = rng.backend.xp
    arms, labels = [], []
    for c in range(k):
        r = xp.linspace(0.0, 1.0, n // k + (c < n % k), dtype=xp.float64)
        a = 2 * math.pi * c / k + 3 * math.pi * r
        arms.append(xp.stack([r * xp.cos(a), r * xp.sin(a)], axis=1))
        labels.append(xp.full(r.shape[0], c, dtype=xp.int64))
    return _shuffle_noisy(xp, xp.concat(arms), xp.concat(labels), noise, rng)


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
    check_choice(key, "name", _GATES, who="logic_gate")
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


def make_blobs(
    n_samples: int = 300,
    centers: int = 3,
    cluster_std: float = 0.6,
    n_features: int = 2,
    seed: int | None = None,
) -> Dataset:
    """Isotropic Gaussian blobs around ``centers`` centres drawn in ``[-5, 5]^n_features``.

    Args:
        n_samples: number of points (>= centers), split as evenly as possible between blobs.
        centers: number of blobs (classes), >= 1.
        cluster_std: standard deviation of each blob (>= 0).
        n_features: dimension of the points (>= 1).
        seed: an int >= 0 or None.

    Returns:
        ``(X, y)``: float32 points and int64 labels in ``[0, centers)``, shuffled.

    Shape:
        X: ``(n_samples, n_features)``; y: ``(n_samples,)``.

    >>> make_blobs(10, centers=2, seed=1)[1].tolist().count(0)
    5
    """
    who = "make_blobs"
    centers = check_int(centers, "centers", who=who, minimum=1)
    n_samples = check_int(n_samples, "n_samples", who=who, minimum=centers)
    cluster_std = check_float(cluster_std, "cluster_std", who=who, minimum=0.0)
    n_features = check_int(n_features, "n_features", who=who, minimum=1)
    rng = host_rng(seed, who)
    xp = rng.backend.xp
    middle = rng.uniform((centers, n_features), -5.0, 5.0, dtype="float64")
    y = xp.asarray([i % centers for i in range(n_samples)], dtype=xp.int64)
    y = xp.take(y, rng.permutation(n_samples))
    X = xp.take(middle, y, axis=0) + rng.normal(
        (n_samples, n_features), std=cluster_std, dtype="float64"
    )
    return xp.astype(X, xp.float32), y
