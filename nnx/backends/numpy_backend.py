"""The NumPy backend: the default, on the host CPU."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import array_api_compat.numpy as xp_numpy
import numpy as np

from nnx.backends.base import Array, Backend, views_of
from nnx.backends.coefficients import AdamCoefficients
from nnx.backends.host_memory import tune as tune_host_memory
from nnx.backends.numba_attention_paths import NumbaAttentionPaths
from nnx.backends.numba_dense_paths import NumbaDensePaths
from nnx.backends.numba_encoder_paths import NumbaEncoderPaths
from nnx.backends.numba_optimizer_paths import NumbaOptimizerPaths
from nnx.backends.numba_paths import NumbaPaths
from nnx.backends.numba_recurrent_paths import NumbaRecurrentPaths
from nnx.backends.thread_pool import started_pool

#: below this many elements a flat update runs on one thread (thread hand-off costs ~20 µs)
PARALLEL_MIN_SIZE = 1 << 17


class NumpyArrays(Backend):
    """NumPy through ``array_api_compat.numpy``; arrays are plain ``numpy.ndarray``. The
    numba kernels (:class:`NumpyBackend`) come first; these NumPy paths run without them.

    Fast paths: ``matmul`` writes into ``out=`` buffers; ``im2col`` gathers the windows from
    one ``sliding_window_view`` in a single copy; flat parameter buffers with views, whose
    elementwise optimizer updates run on all cores (NumPy ufuncs run on one thread and release
    the GIL); ReLU's and sigmoid's backward in place; Adam's update with one scratch array.

    >>> from nnx.backends import get_backend
    >>> get_backend("numpy").asarray([1, 2], dtype="float32")
    array([1., 2.], dtype=float32)
    """

    name = "numpy"
    on_host = True

    def __init__(self) -> None:
        super().__init__(xp_numpy, device="cpu")
        tune_host_memory()  # glibc keeps a step's freed arrays for the next (host_memory.py)
        self._pool: ThreadPoolExecutor | None = None
        self._threads = min(
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1,
            8,
        )
        self._ones: dict[tuple[int, Any], np.ndarray] = {}

    def asarray(self, data: Any, dtype: str | None = None) -> Array:
        if not isinstance(data, np.ndarray) and hasattr(data, "__dlpack__"):
            return super().asarray(data, dtype)
        return np.asarray(data, dtype=dtype)

    def owns(self, x: Any) -> bool:
        return type(x) is np.ndarray

    def matmul(self, a: Array, b: Array, out: Array | None = None) -> Array:
        """``a @ b``; a C-contiguous stack ``a (..., m, k)`` against one matrix ``b (k, n)`` runs
        as one ``(... m, k) @ (k, n)`` product. NumPy would call BLAS once per matrix of the
        stack, each call too small to use a second thread (a Dense layer on ``(32, 64, 128)``
        inputs: 1.7 ms on one core or two, against 0.9 ms as one product on two)."""
        if (
            a.ndim > 2
            and b.ndim == 2
            and a.flags.c_contiguous
            and (out is None or out.flags.c_contiguous)
        ):
            flat_out = None if out is None else out.reshape(-1, out.shape[-1])
            flat = np.matmul(a.reshape(-1, a.shape[-1]), b, out=flat_out)
            return flat.reshape((*a.shape[:-1], b.shape[-1])) if out is None else out
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
        # NOTE: writeable=True only skips a read-only flag whose setting leaks ~57 bytes per call
        # in NumPy 2.4; the view is only read here.
        view = np.lib.stride_tricks.sliding_window_view(x, span, axis=(1, 2), writeable=True)
        view = view[:, ::sh, ::sw, :, ::dh, ::dw]  # (b, oh, ow, c, kh, kw)
        oh, ow = view.shape[1], view.shape[2]
        cols = np.empty((b, oh, ow, kh, kw, c), dtype=x.dtype)
        np.copyto(cols, view.transpose(0, 1, 2, 4, 5, 3))
        return cols.reshape(b, oh, ow, kh * kw * c)

    def flat_views(
        self, shapes: Sequence[tuple[int, ...]], dtype: str
    ) -> tuple[Array, list[Array]] | None:
        return views_of(np, np.zeros(sum(int(np.prod(s)) for s in shapes), dtype=dtype), shapes)

    def map_chunks(self, fn: Callable[[slice], Any], n: int) -> None:
        threads = self._threads
        if n < PARALLEL_MIN_SIZE or threads == 1:
            fn(slice(0, n))
            return
        if self._pool is None:
            self._pool = started_pool(threads, "nnx-numpy")
        step = -(-n // threads)
        bounds = [slice(i, min(i + step, n)) for i in range(0, n, step)]
        futures = [self._pool.submit(fn, s) for s in bounds]
        # NOTE: every chunk finishes before this returns or raises, even when a Ctrl-C lands
        # during the wait: a caller never sees chunks still writing behind its back.
        interrupted: BaseException | None = None
        while True:
            try:
                wait(futures)
                break
            except BaseException as error:
                interrupted = error
        if interrupted is not None:
            raise interrupted
        for future in futures:
            future.result()

    def sum_rows(self, x: Array, out: Array | None = None) -> Array:
        # NOTE: a vector-matrix product is faster than add.reduce over axis 0.
        ones = self._ones.get((x.shape[0], x.dtype))
        if ones is None:
            ones = self._ones[x.shape[0], x.dtype] = np.ones(x.shape[0], dtype=x.dtype)
        return np.matmul(ones, x, out=out)

    def relu_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        # NOTE: 10x faster than where(x > 0, dy, 0): the bool mask is cast inside the multiply.
        return np.multiply(dy, x > 0)

    def sigmoid_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        dx = 1.0 - y
        dx *= y
        dx *= dy
        return dx

    def adam_update(self, w: Array, g: Array, m: Array, v: Array, c: AdamCoefficients) -> bool:
        # NOTE: Adam.update with one scratch array instead of four temporaries (fewer passes
        # over memory); m = b1 * (m - g) + g and v likewise, as there.
        b1, b2, step, eps = c
        tmp = np.multiply(g, g)
        m -= g
        m *= b1
        m += g
        v -= tmp
        v *= b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= step
        w -= tmp
        return True

    def library_version(self) -> str:
        return np.__version__


class NumpyBackend(
    NumbaDensePaths,
    NumbaRecurrentPaths,
    NumbaEncoderPaths,
    NumbaAttentionPaths,
    NumbaOptimizerPaths,
    NumbaPaths,
    NumpyArrays,
):
    """The NumPy backend: the numba kernels (:class:`~nnx.backends.numba_paths.NumbaPaths`,
    :class:`~nnx.backends.numba_optimizer_paths.NumbaOptimizerPaths`,
    :class:`~nnx.backends.numba_attention_paths.NumbaAttentionPaths`,
    :class:`~nnx.backends.numba_encoder_paths.NumbaEncoderPaths`,
    :class:`~nnx.backends.numba_recurrent_paths.NumbaRecurrentPaths`) where numba is
    installed (and ``NNX_NUMBA`` is not ``0``), else the NumPy paths of :class:`NumpyArrays`,
    else the portable code.

    >>> from nnx.backends import get_backend
    >>> get_backend("numpy").asarray([1, 2], dtype="float32")
    array([1., 2.], dtype=float32)
    """
