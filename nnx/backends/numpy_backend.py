"""The NumPy backend: the default, on the host CPU."""

from __future__ import annotations

from typing import Any

import array_api_compat.numpy as xp_numpy
import numpy as np

from nnx.backends.base import Array, Backend


class NumpyBackend(Backend):
    """NumPy through ``array_api_compat.numpy``; arrays are plain ``numpy.ndarray``.

    Fast paths: ``matmul`` writes into ``out=`` buffers; ``im2col`` gathers the windows from
    one ``sliding_window_view`` in a single copy.

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

    def im2col(
        self,
        x: Array,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> Array:
        (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
        if kh == kw == 1:
            return x[:, ::sh, ::sw]
        b, c = x.shape[0], x.shape[3]
        span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
        view = np.lib.stride_tricks.sliding_window_view(x, span, axis=(1, 2))
        view = view[:, ::sh, ::sw, :, ::dh, ::dw]  # (b, oh, ow, c, kh, kw)
        oh, ow = view.shape[1], view.shape[2]
        cols = np.empty((b, oh, ow, kh, kw, c), dtype=x.dtype)
        np.copyto(cols, view.transpose(0, 1, 2, 4, 5, 3))
        return cols.reshape(b, oh, ow, kh * kw * c)

    def library_version(self) -> str:
        return np.__version__
