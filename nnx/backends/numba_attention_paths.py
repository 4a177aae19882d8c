"""The NumPy backend's numba paths for the Transformer block: the fused attention core
(:mod:`nnx.backends.numba_attention_core`), the attention softmax and its backward, layer
normalization and its backward (kernels in :mod:`nnx.backends.numba_attention`).

Each method declines (the next class in the MRO, then the portable code) when numba is off
(``NNX_NUMBA=0``), for arrays under :data:`~nnx.backends.numba_paths.MIN_SIZE` elements, or
for inputs the kernels do not take (dtypes other than float32/float64, other ranks); the fused
attention core also for fewer than :data:`MIN_KEYS` keys on one thread, where it loses to
NumPy's batched matmul, and where the probabilities are kept (:data:`KEPT_PROBABILITIES`).
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import numpy as np

from nnx.backends.fast_paths import FastPaths
from nnx.backends.numba_paths import has_blas, kernels, ok

__all__ = ["KEPT_PROBABILITIES", "MIN_KEYS", "NumbaAttentionPaths"]

Array = Any
_NO_MASK = np.zeros((0, 0, 0), dtype=np.bool_)
#: the fewest keys for which the fused attention core runs. Measured on the 2-core AMD EPYC
#: host (CPU time of one thread, batch x 4 heads x 32 per head, float32): 7.4-7.9 ms against
#: 8.3-9.2 ms for matmul + softmax kernels + matmul at 256 keys (batch 8), 32.5 against 39.3 at
#: 1024 (batch 2), but 2.6-3.7 against 2.2-2.6 ms at 64 (batch 32): per (batch, head) pair the
#: copies into contiguous blocks and two BLAS calls cost more than NumPy's batched matmul saves.
#: Where the core's batch rows are split over several threads it runs at any length: NumPy's
#: batched matmul of such small products is one thread's loop of BLAS calls (each under
#: OpenBLAS's threading threshold). The Transformer bench's inference pass (64 keys, batch 32,
#: 2 threads, fastest of 15 blocks, three runs on the idle host): 7.2 / 8.1 / 8.4 ms with the
#: core against 7.6 / 8.3 / 11.2 ms without; medians 8.6 / 12.8 / 12.8 against 12.3 / 13.9 / 14.3
MIN_KEYS = 128
#: whether the core also runs when the probabilities are kept (a training step, or
#: ``return_attention_scores``). Measured on the block above at 256 and 512 keys (one thread):
#: inference 15.0-15.7 ms fused against 18.7-19.7 ms (256 keys, batch 8), 22.3 against 28.2 ms
#: (512, batch 4), but train steps 3-7% slower fused, so it runs at inference only
KEPT_PROBABILITIES = False
#: the empty array a kernel gets for an unused ``(b, heads, Tq, Tv)`` slot
_EMPTY = {np.dtype(t): np.zeros((0, 0, 0, 0), dtype=t) for t in ("float32", "float64")}


def _split(rows: int, size: int) -> bool:
    """Whether a kernel call over ``rows`` batch rows of ``size`` elements is split over
    several threads (numba is loaded: a kernel module was)."""
    from nnx.backends.numba_jit import PARALLEL_MIN_SIZE, min_size, threads

    return rows > 1 and threads() > 1 and size >= PARALLEL_MIN_SIZE and size >= min_size()


@functools.cache
def _load() -> ModuleType | None:
    try:
        from nnx.backends import numba_attention
    except ImportError:
        return None
    return numba_attention


@functools.cache
def _load_core() -> ModuleType | None:
    try:
        from nnx.backends import numba_attention_core
    except ImportError:
        return None
    return numba_attention_core


def _kernels(size: int) -> ModuleType | None:
    """The kernel module, or None where :func:`~nnx.backends.numba_paths.kernels` says no."""
    return None if kernels(size) is None else _load()


def _mask(allowed: Array | None, shape: tuple[int, ...]) -> Array:
    """``allowed (b | 1, 1, Tq, Tv)`` as a contiguous bool ``(b, Tq, Tv)`` (empty: None)."""
    if allowed is None:
        return _NO_MASK
    n, _, tq, tv = shape
    full = np.broadcast_to(np.asarray(allowed, dtype=np.bool_), (n, 1, tq, tv))
    return np.ascontiguousarray(full[:, 0])


def _rows(x: Array) -> Array:
    return np.ascontiguousarray(x).reshape(-1, x.shape[-1])


def _strides(*arrays: Array | None) -> tuple[int, ...]:
    return tuple(x for a in arrays if a is not None for x in a.strides)


def _batched_mkl(a: Array, b: Array, out: Array | None) -> Array | None:
    """``a @ b`` for two ``(batch, heads, m, k) @ (batch, heads, k, n)`` stacks, each pair one
    MKL call on the views in place (:func:`nnx.backends.numba_mkl.batched_matmul`), or None
    where MKL is not installed or the arrays do not fit (NumPy's batched matmul then runs).

    The attention's score and value products: NumPy calls OpenBLAS once per pair, on one
    thread (each product is too small for a second). The Transformer bench's pair of them
    (`PYTHONPATH=. python -m bench.gemm_compare`, last line; 08:30 UTC, Intel Xeon family 6
    model 167): NumPy 1,004-1,435 µs, this loop 770-1,154 µs, torch's batched matmul
    782-1,227 µs. In the whole block the gain (about 0.3 ms of an 8 ms inference pass) is
    within this host's noise."""
    fine = (
        a.ndim == b.ndim == 4
        and a.shape[:2] == b.shape[:2]
        and a.shape[3] == b.shape[2]
        and (out is None or (out.shape == (*a.shape[:3], b.shape[3]) and ok(a, b, out)))
    )
    if (
        not fine
        or not ok(a, b)
        or kernels(a.shape[0] * a.shape[1] * a.shape[2] * b.shape[3]) is None
        or max(*a.shape, *b.shape, *(abs(x) // a.itemsize for x in _strides(a, b, out)))
        >= 2**31  # MKL's LP64 interface: 32-bit sizes and leading dimensions
    ):
        return None
    from nnx.backends import mkl_library

    if not mkl_library.load():
        return None
    from nnx.backends.numba_mkl import batched_matmul

    result = np.empty((*a.shape[:3], b.shape[3]), dtype=a.dtype) if out is None else out
    return result if batched_matmul(a, b, result) else None


class NumbaAttentionPaths(FastPaths):
    """:meth:`attention`, :meth:`attention_softmax`, :meth:`attention_softmax_backward`,
    :meth:`layer_norm` and :meth:`layer_norm_backward` as numba kernels, and the attention's
    batched products (:meth:`matmul` of two 4-D stacks) on MKL where it is installed."""

    def matmul(self, a: Array, b: Array, out: Array | None = None) -> Array:
        done = _batched_mkl(a, b, out) if a.ndim == 4 else None
        return super().matmul(a, b, out) if done is None else done

    def attention(
        self,
        q: Array,
        k: Array,
        v: Array,
        allowed: Array | None,
        drop: Array | None,
        keep_probabilities: bool,
    ) -> tuple[Array, Array | None] | None:
        fine = q.ndim == k.ndim == v.ndim == 4 and q.dtype == k.dtype == v.dtype
        n, heads, tq, _ = q.shape if fine else (0, 0, 0, 0)
        tv = k.shape[2] if fine else 0
        size = n * heads * tq * tv
        wanted = KEPT_PROBABILITIES or not keep_probabilities
        core = None if not wanted or kernels(size) is None or not has_blas() else _load_core()
        if core is not None and tv < MIN_KEYS and not _split(n, size):
            core = None
        if core is None or not fine or not ok(q, k, v):
            return super().attention(q, k, v, allowed, drop, keep_probabilities)
        empty = _EMPTY[q.dtype]
        p = np.empty((n, heads, tq, tv), dtype=q.dtype) if keep_probabilities else empty
        o = np.empty((n, tq, heads, v.shape[3]), dtype=q.dtype)
        d = empty if drop is None else np.ascontiguousarray(drop, dtype=q.dtype)
        mask = _mask(allowed, (n, 1, tq, tv))
        core.attention(size, q, k, v, mask, allowed is not None, d, p, o)
        return o, (p if keep_probabilities else None)

    def attention_softmax(self, scores: Array, allowed: Array | None) -> Array | None:
        k = _kernels(scores.size)
        if k is None or not ok(scores) or scores.ndim != 4:
            return super().attention_softmax(scores, allowed)
        e = scores if scores.flags.c_contiguous and scores.flags.writeable else scores.copy()
        k.softmax_shift(e.size, e, _mask(allowed, e.shape), allowed is not None)
        np.exp(e, out=e)
        k.softmax_normalize(e.size, e.reshape(-1, e.shape[-1]))
        return e

    def attention_softmax_backward(
        self, dp: Array, p: Array, allowed: Array | None
    ) -> Array | None:
        k = _kernels(dp.size)
        if k is None or not ok(dp, p) or dp.ndim != 4 or dp.shape != p.shape:
            return super().attention_softmax_backward(dp, p, allowed)
        ds = dp if dp.flags.c_contiguous and dp.flags.writeable else dp.copy()
        p = np.ascontiguousarray(p)
        k.softmax_backward(ds.size, ds, p, _mask(allowed, ds.shape), allowed is not None)
        return ds

    def layer_norm(
        self, x: Array, gamma: Array | None, beta: Array | None, epsilon: float
    ) -> tuple[Array, Array, Array] | None:
        given = [a for a in (gamma, beta) if a is not None]
        k = _kernels(x.size)
        if k is None or x.ndim == 0 or not ok(x, *given):
            return super().layer_norm(x, gamma, beta, epsilon)
        x2 = _rows(x)
        y = np.empty_like(x2)
        mean = np.empty(x2.shape[0], dtype=x.dtype)
        inv = np.empty_like(mean)
        c = x.shape[-1]
        g = np.ones(c, dtype=x.dtype) if gamma is None else np.ascontiguousarray(gamma)
        b = np.zeros(c, dtype=x.dtype) if beta is None else np.ascontiguousarray(beta)
        k.layer_norm(x.size, x2, y, mean, inv, g, b, float(epsilon))
        stats = (*x.shape[:-1], 1)
        return y.reshape(x.shape), mean.reshape(stats), inv.reshape(stats)

    def layer_norm_backward(
        self, dy: Array, x: Array, mean: Array, inv: Array, gamma: Array | None
    ) -> tuple[Array, Array, Array] | None:
        k = _kernels(dy.size)
        given = () if gamma is None else (gamma,)
        if k is None or dy.shape != x.shape or dy.ndim == 0 or not ok(dy, x, mean, inv, *given):
            return super().layer_norm_backward(dy, x, mean, inv, gamma)
        dy2, x2 = _rows(dy), _rows(x)
        dx, dyxhat = np.empty_like(dy2), np.empty_like(dy2)
        g = np.ones(dy.shape[-1], dtype=dy.dtype) if gamma is None else np.ascontiguousarray(gamma)
        k.layer_norm_backward(dy.size, dy2, x2, _rows(mean)[:, 0], _rows(inv)[:, 0], dx, dyxhat, g)
        return dx.reshape(dy.shape), self.sum_rows(dyxhat), self.sum_rows(dy2)
