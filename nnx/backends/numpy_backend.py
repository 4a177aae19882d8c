"""The NumPy backend: the default, on the host CPU."""

from __future__ import annotations

from typing import Any

import array_api_compat.numpy as xp_numpy
import numpy as np

from nnx.backends.base import Array, Backend


class NumpyBackend(Backend):
    """NumPy through ``array_api_compat.numpy``; arrays are plain ``numpy.ndarray``.

    Fast paths: ``matmul`` writes into ``out=`` buffers.

    >>> from nnx.backends import get_backend
    >>> get_backend("numpy").asarray([1, 2], dtype="float32")
    array([1., 2.], dtype=float32)
    """

    name = "numpy"

    def __init__(self) -> None:
        super().__init__(xp_numpy, device="cpu")

    def asarray(self, data: Any, dtype: str | None = None) -> Array:
        if not isinstance(data, np.ndarray) and hasattr(data, "__dlpack__"):
            return super().asarray(data, dtype)
        return np.asarray(data, dtype=dtype)

    def owns(self, x: Any) -> bool:
        return type(x) is np.ndarray

    def matmul(self, a: Array, b: Array, out: Array | None = None) -> Array:
        return np.matmul(a, b, out=out)

    def library_version(self) -> str:
        return np.__version__
