"""Initializers without randomness: zeros, ones, a constant, the identity matrix."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array, Generator
from nnx.initializers.base import Initializer, check_shape
from nnx.validation import check_float

__all__ = ["Constant", "Identity", "Ones", "Zeros"]


class Zeros(Initializer):
    """All zeros: ``w = 0``.

    >>> from nnx.backends import get_backend
    >>> Zeros()((2,), get_backend("numpy").rng(0))
    array([0., 0.], dtype=float32)
    """

    name = "zeros"

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        backend = rng.backend
        dims = check_shape(shape, "Zeros")
        return backend.xp.zeros(dims, dtype=backend.dtype(dtype), device=backend.device)


class Ones(Initializer):
    """All ones: ``w = 1``.

    >>> from nnx.backends import get_backend
    >>> Ones()((2,), get_backend("numpy").rng(0))
    array([1., 1.], dtype=float32)
    """

    name = "ones"

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        backend = rng.backend
        dims = check_shape(shape, "Ones")
        return backend.xp.ones(dims, dtype=backend.dtype(dtype), device=backend.device)


class Constant(Initializer):
    """Every entry equal to ``value``: ``w = value``.

    Args:
        value: the scalar to fill with.

    >>> from nnx.backends import get_backend
    >>> Constant(0.5)((2,), get_backend("numpy").rng(0))
    array([0.5, 0.5], dtype=float32)
    """

    name = "constant"

    def __init__(self, value: float = 0.0) -> None:
        self.value = check_float(value, "value", who="Constant")

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        backend = rng.backend
        dims = check_shape(shape, "Constant")
        return backend.xp.full(dims, self.value, dtype=backend.dtype(dtype), device=backend.device)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; rectangular ones get ones on the
    main diagonal): ``w = gain * I``.

    Args:
        gain: the multiplicative factor.

    >>> from nnx.backends import get_backend
    >>> Identity(2.0)((2, 2), get_backend("numpy").rng(0))
    array([[2., 0.],
           [0., 2.]], dtype=float32)
    """

    name = "identity"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = check_float(gain, "gain", who="Identity")

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims = check_shape(shape, "Identity")
        if len(dims) != 2:
            raise ValueError(f"Identity: the shape must be 2-D, received {dims}.")
        backend = rng.backend
        eye = backend.xp.eye(*dims, dtype=backend.dtype(dtype), device=backend.device)
        return self.gain * eye

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}
