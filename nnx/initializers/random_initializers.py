"""Initializers drawing from a distribution: normal, uniform, truncated normal, orthogonal."""

from __future__ import annotations

import math
from typing import Any

from nnx.backends import get_backend
from nnx.backends.base import Array, Generator
from nnx.initializers.base import Initializer, check_shape, float_dtype, truncated_normal
from nnx.validation import check_float

__all__ = ["Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal"]


class RandomNormal(Initializer):
    """Samples of a normal distribution: ``w ~ N(mean, stddev^2)``.

    Args:
        mean: the mean.
        stddev: the standard deviation (>= 0).

    >>> from nnx.backends import get_backend
    >>> w = RandomNormal(stddev=1.0)((1000,), get_backend("numpy").rng(0))
    >>> bool(abs(float(w.std()) - 1.0) < 0.05)
    True
    """

    name = "random_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = check_float(mean, "mean", who="RandomNormal")
        self.stddev = check_float(stddev, "stddev", who="RandomNormal", minimum=0.0)

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims, dt = check_shape(shape, "RandomNormal"), float_dtype(rng, dtype, "RandomNormal")
        x = rng.normal(dims, self.mean, self.stddev, dtype="float64")
        return rng.backend.xp.astype(x, dt)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev}


class RandomUniform(Initializer):
    """Samples of a uniform distribution: ``w ~ U[minval, maxval)``.

    Args:
        minval: the lower bound.
        maxval: the upper bound (>= ``minval``).

    >>> from nnx.backends import get_backend
    >>> w = RandomUniform(0.0, 1.0)((1000,), get_backend("numpy").rng(0))
    >>> bool(w.min() >= 0.0 and w.max() < 1.0)
    True
    """

    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05) -> None:
        self.minval = check_float(minval, "minval", who="RandomUniform")
        self.maxval = check_float(maxval, "maxval", who="RandomUniform", minimum=self.minval)

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims, dt = check_shape(shape, "RandomUniform"), float_dtype(rng, dtype, "RandomUniform")
        x = rng.uniform(dims, self.minval, self.maxval, dtype="float64")
        return rng.backend.xp.astype(x, dt)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval}


class TruncatedNormal(Initializer):
    """Normal samples with those more than two ``stddev`` from ``mean`` redrawn (as Keras).

    ``w ~ N(mean, stddev^2)`` conditioned on ``|w - mean| <= 2 stddev``; the resulting
    standard deviation is about ``0.88 stddev``.

    Args:
        mean: the mean.
        stddev: the standard deviation before truncation (>= 0).

    >>> from nnx.backends import get_backend
    >>> w = TruncatedNormal(stddev=1.0)((1000,), get_backend("numpy").rng(0))
    >>> bool(abs(w).max() <= 2.0)
    True
    """

    name = "truncated_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = check_float(mean, "mean", who="TruncatedNormal")
        self.stddev = check_float(stddev, "stddev", who="TruncatedNormal", minimum=0.0)

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims, dt = check_shape(shape, "TruncatedNormal"), float_dtype(rng, dtype, "TruncatedNormal")
        x = truncated_normal(rng, dims, self.mean, self.stddev)
        return rng.backend.xp.astype(x, dt)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev}


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., as Keras).

    The shape is flattened to ``(rows, cols) = (prod(shape[:-1]), shape[-1])``. With
    ``A ~ N(0, 1)`` of shape ``(max(rows, cols), min(rows, cols))`` and ``A = QR``,
    ``Q <- Q * sign(diag(R))`` (which makes the result uniformly distributed), transposed when
    ``rows < cols``; then ``w = gain * Q``. So ``w^T w = gain^2 I`` when ``rows >= cols`` and
    ``w w^T = gain^2 I`` otherwise. The QR runs on the host in float64, so every backend gets
    the same values.

    Args:
        gain: the multiplicative factor.

    >>> from nnx.backends import get_backend
    >>> w = Orthogonal()((3, 3), get_backend("numpy").rng(0), "float64")
    >>> bool(abs(w.T @ w - get_backend("numpy").xp.eye(3)).max() < 1e-12)
    True
    """

    name = "orthogonal"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = check_float(gain, "gain", who="Orthogonal")

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims = check_shape(shape, "Orthogonal")
        float_dtype(rng, dtype, "Orthogonal")
        if len(dims) < 2:
            raise ValueError(
                f"Orthogonal: the shape must have at least 2 dimensions, received {dims}."
            )
        rows, cols = math.prod(dims[:-1]), dims[-1]
        a = rng.normal((max(rows, cols), min(rows, cols)), dtype="float64")
        host = get_backend("numpy").xp
        q, r = host.linalg.qr(rng.backend.to_numpy(a))
        q = q * host.sign(host.linalg.diagonal(r))
        if rows < cols:  # flattened first: the transpose's copy in row-major order
            q = host.reshape(host.matrix_transpose(q), (-1,))
        return rng.backend.asarray(self.gain * host.reshape(q, dims), dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}
