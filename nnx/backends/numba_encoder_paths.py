"""The NumPy backend's fused Transformer encoder block at inference: the whole block in one
compiled call per range of sequences (:mod:`nnx.backends.numba_encoder`; MKL's products with
the ``mkl`` extra, else SciPy's BLAS held at one thread), the batch's sequences split over the
cores.

It declines (the layers then run one by one) when numba is off, without SciPy or
threadpoolctl (both in the ``fast`` extra), under :data:`~nnx.backends.numba_paths.MIN_SIZE`
elements, for dtypes other than float32/float64, and for feed-forward activations outside
:data:`~nnx.backends.numba_paths.FUSED_FORWARD` (the others call libm per element, slower than
NumPy's SIMD loops).

Why one call: layer by layer, only the block's large products run on both cores (OpenBLAS's
threads); its row kernels (softmax, layer norms, bias and residual adds) and the attention's
small products run on one, because handing half of each to a sleeping pool thread costs more
than the half on a host whose idle cores wake slowly. Fused, the block wakes the pool once
per call and each core runs its sequences from end to end, their activations in its cache.
The Transformer bench's block (batch 32, 64 steps, width 128, 4 heads; Intel Xeon family 6
model 167, 2 vCPUs): inference 6.0-7.5 ms against torch's 8.4-9.0 in four runs (1.21-1.40x),
where the layers one by one had reached 0.77-0.87x; on one core the fused call takes 8.7 ms
of CPU time, the layers 10.5-12.7 ms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nnx.backends.activation_codes import CODES
from nnx.backends.blas_threads import blas_controller, run_split_one_blas_thread
from nnx.backends.fast_paths import EncoderBlock, FastPaths
from nnx.backends.numba_paths import FUSED_FORWARD, has_blas, kernels, ok

__all__ = ["SPLIT_MIN_MACS", "NumbaEncoderPaths"]

Array = Any
#: the fewest multiply-adds (of the block's products) for which the sequences are split over
#: the cores; scaled up as the row kernels' split size is, where the pool's threads wake
#: slowly (:func:`nnx.backends.numba_jit.min_size`). About 0.1 ms of one core's work
SPLIT_MIN_MACS = 1 << 23
#: activations the block's kernel applies in place (and ``linear``, none)
ACTIVATIONS = FUSED_FORWARD | {"linear"}


def _kernel() -> tuple[Callable[..., None], bool] | None:
    """The fused kernel and whether it calls SciPy's BLAS (which a split then holds at one
    thread): its MKL build (:func:`nnx.backends.numba_encoder.mkl_build`) where the ``mkl``
    extra is installed, else its SciPy-BLAS build; None without SciPy or threadpoolctl."""
    from nnx.backends import numba_encoder

    built = numba_encoder.mkl_build()
    if built is not None:
        return built, False
    if not has_blas() or blas_controller() is None:
        return None
    return numba_encoder.encoder_infer, True


def _ranges(n: int, macs: int) -> list[tuple[int, int]]:
    """The ranges of sequences, one per core, for a block of ``macs`` multiply-adds."""
    from nnx.backends.numba_jit import PARALLEL_MIN_SIZE, min_size, threads

    parts = min(threads(), n)
    if parts < 2 or macs < SPLIT_MIN_MACS * (min_size() // PARALLEL_MIN_SIZE):
        return [(0, n)]
    step = -(-n // parts)
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _vector(a: Array | None, fill: float, size: int, like: Array) -> Array:
    """A contiguous 1-D copy (or view) of ``a``, or ``fill`` repeated where it is None."""
    if a is None:
        return np.full(size, fill, dtype=like.dtype)
    return np.ascontiguousarray(a).reshape(size)


def _macs(x: Array, block: EncoderBlock) -> int:
    """The multiply-adds of the block's products on ``x``."""
    n, t, d = x.shape
    widths = block.qkv_kernel.shape[1] + block.output_kernel.shape[0]
    ffn = 2 * block.ffn1_kernel.shape[1]
    attention = t * (block.qkv_kernel.shape[1] - block.heads * block.key_dim)
    return n * t * (d * (widths + ffn) + attention)


class NumbaEncoderPaths(FastPaths):
    """:meth:`encoder_block` as one compiled call per range of sequences, on MKL's products or
    SciPy's BLAS."""

    def encoder_block(
        self, x: Array, describe: Callable[[], tuple[Array | None, EncoderBlock]]
    ) -> Array | None:
        kernel = _kernel() if x.ndim == 3 and ok(x) and kernels(x.size) is not None else None
        if kernel is None:
            return super().encoder_block(x, describe)
        allowed, block = describe()
        weights = [w for w in block[:12] if w is not None]
        if block.activation not in ACTIVATIONS or not ok(x, *weights):
            return super().encoder_block(x, describe)
        n, _, d = x.shape
        x = np.ascontiguousarray(x)
        mask = np.zeros((1, 1, 1), dtype=np.bool_)
        if allowed is not None:
            mask = np.ascontiguousarray(np.asarray(allowed, dtype=np.bool_)[:, 0])
        width, hidden = block.qkv_kernel.shape[1], block.ffn1_kernel.shape[1]
        args = (
            x, mask, allowed is not None,
            np.ascontiguousarray(block.qkv_kernel), _vector(block.qkv_bias, 0.0, width, x),
            np.ascontiguousarray(block.output_kernel), _vector(block.output_bias, 0.0, d, x),
            _vector(block.norm1_gamma, 1.0, d, x), _vector(block.norm1_beta, 0.0, d, x),
            np.ascontiguousarray(block.ffn1_kernel), _vector(block.ffn1_bias, 0.0, hidden, x),
            np.ascontiguousarray(block.ffn2_kernel), _vector(block.ffn2_bias, 0.0, d, x),
            _vector(block.norm2_gamma, 1.0, d, x), _vector(block.norm2_beta, 0.0, d, x),
            block.heads, block.key_dim, float(block.epsilon), block.pre_norm,
            CODES[block.activation], float(block.alpha),
        )  # fmt: skip
        y = np.empty_like(x)
        calls = [(lo, hi, *args, y) for lo, hi in _ranges(n, _macs(x, block))]
        run, scipy_blas = kernel
        if len(calls) == 1:
            run(*calls[0])
        elif scipy_blas:
            run_split_one_blas_thread(run, calls)
        else:
            from nnx.backends.numba_jit import run_split

            run_split(run, calls)
        return y
