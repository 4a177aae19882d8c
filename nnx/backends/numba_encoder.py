"""The Transformer encoder block's inference pass as one compiled call per block of sequences
(numba, MKL's products): what :class:`nnx.layers.TransformerEncoder` computes layer by layer,
a few sequences at a time, while their activations sit in cache.

Post-norm (``pre_norm`` False)::

    A = MHA(x)            Q K V = x Wqkv + bqkv; per head softmax(Q K^T) V; A = O Wo + bo
    h = LN1(x + A)
    y = LN2(h + f(h W1 + b1) W2 + b2)

Pre-norm::

    h = x + MHA(LN1(x))
    y = h + f(LN2(h) W1 + b1) W2 + b2

``1 / sqrt(key_dim)`` is already in the query's columns of ``Wqkv`` and ``bqkv`` (as the
layer folds it). The batch's sequences are independent, so a thread takes a range of them;
each product is one single-threaded BLAS call on up to :data:`CHUNK_ROWS` rows. The products
are :mod:`nnx.backends.numba_blas_products`'s (SciPy's BLAS: the caller holds it at one thread
while several threads run), and :func:`mkl_build` compiles the same source a second time on
MKL's (:mod:`nnx.backends.numba_mkl`, which reads the heads' strided views in place).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numba
import numpy as np

from nnx.backends.numba_activations import activate_row, add_to_row
from nnx.backends.numba_attention import norm_row
from nnx.backends.numba_attention_core import masked_softmax_row, softmax_rows
from nnx.backends.numba_blas_products import gemm, gemm_strided, one_thread, restore_threads

__all__ = ["CHUNK_ROWS", "encoder_infer", "mkl_build"]

#: rows (sequences x steps) of one block's products: large enough for MKL's kernels to run at
#: full speed, small enough that the block's activations stay in the core's L2 cache
CHUNK_ROWS = 256
#: sums may be reassociated (vectorized); no ``nnan``/``ninf``: masked keys stay exact zeros
_SUMS = {"reassoc", "contract"}


@numba.njit(nogil=True, error_model="numpy", fastmath=_SUMS)
def _add_rows(z, b):  # type: ignore[no-untyped-def]
    """``z += b`` (a row vector) on every row of ``z``."""
    for r in range(z.shape[0]):
        add_to_row(z[r], b)


@numba.njit(nogil=True, error_model="numpy", fastmath=_SUMS)
def _norm_rows(x, y, gamma, beta, epsilon):  # type: ignore[no-untyped-def]
    """``y = LN(x)`` row by row (``y`` may be ``x``)."""
    for r in range(x.shape[0]):
        norm_row(x[r], y[r], gamma, beta, epsilon)


@numba.njit(nogil=True, error_model="numpy", fastmath=_SUMS)
def _attend(qkv, allowed, masked, heads, key_dim, value_dim, s, tops, inv, o):  # type: ignore[no-untyped-def]
    """``o[:, head] = softmax(Q K^T) V`` for one sequence's ``qkv (T, heads (2 key_dim +
    value_dim))`` (the query, key and value columns side by side), ``allowed (T, T)`` read
    when ``masked``; ``s (T, T)``, ``tops``, ``inv (T,)`` are scratch."""
    t = qkv.shape[0]
    width = heads * key_dim
    for h in range(heads):
        q = qkv[:, h * key_dim : (h + 1) * key_dim]
        k = qkv[:, width + h * key_dim : width + (h + 1) * key_dim]
        v = qkv[:, 2 * width + h * value_dim : 2 * width + (h + 1) * value_dim]
        out = o[:, h * value_dim : (h + 1) * value_dim]
        read = gemm_strided(q, k.T, s)
        if masked:
            for i in range(t):
                inv[i] = masked_softmax_row(s[i], allowed[i])
        else:
            softmax_rows(s, tops, inv)
        if not (read and gemm_strided(s, v, out)):  # column blocks of qkv: BLAS reads them
            raise ValueError("encoder_infer: BLAS could not read a head's view of qkv")
        for i in range(t):
            for c in range(value_dim):
                out[i, c] = out[i, c] * inv[i]


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=_SUMS)
def encoder_infer(  # type: ignore[no-untyped-def]
    lo, hi, x, allowed, masked, w_qkv, b_qkv, w_o, b_o, gamma1, beta1, w1, b1, w2, b2,
    gamma2, beta2, heads, key_dim, epsilon, pre_norm, code, alpha, y,
):  # fmt: skip
    """``y[lo:hi]`` of the block for ``x[lo:hi]`` (``x``, ``y`` ``(batch, T, features)``
    C-contiguous; ``allowed (batch | 1, T, T)`` bool, read when ``masked``; ``b_qkv``, ``b_o``,
    ``b1``, ``b2`` rows of zeros where the layer has no bias; ``code`` / ``alpha`` the
    feed-forward activation's)."""
    t, d = x.shape[1], x.shape[2]
    value_dim = (w_qkv.shape[1] - 2 * heads * key_dim) // heads
    per = max(1, CHUNK_ROWS // t)
    rows_max = per * t
    qkv = np.empty((rows_max, w_qkv.shape[1]), dtype=x.dtype)
    o = np.empty((rows_max, heads * value_dim), dtype=x.dtype)
    h = np.empty((rows_max, d), dtype=x.dtype)
    n = np.empty((rows_max, d), dtype=x.dtype)
    hidden = np.empty((rows_max, w1.shape[1]), dtype=x.dtype)
    s = np.empty((t, t), dtype=x.dtype)
    tops = np.empty(t, dtype=x.dtype)
    inv = np.empty(t, dtype=x.dtype)
    previous = one_thread()
    for start in range(lo, hi, per):
        stop = min(start + per, hi)
        rows = (stop - start) * t
        xs = x[start:stop].reshape(rows, d)
        ys = y[start:stop].reshape(rows, d)
        hs, ns, zs = h[:rows], n[:rows], hidden[:rows]
        if pre_norm:
            _norm_rows(xs, ns, gamma1, beta1, epsilon)
            gemm(ns, w_qkv, qkv[:rows])
        else:
            gemm(xs, w_qkv, qkv[:rows])
        _add_rows(qkv[:rows], b_qkv)
        for b in range(stop - start):
            keep = allowed[min(start + b, allowed.shape[0] - 1)]  # one mask for all: broadcast
            rows_b = slice(b * t, (b + 1) * t)
            _attend(qkv[rows_b], keep, masked, heads, key_dim, value_dim, s, tops, inv, o[rows_b])
        gemm(o[:rows], w_o, hs)
        for r in range(rows):
            for c in range(d):
                hs[r, c] = hs[r, c] + b_o[c] + xs[r, c]
        if pre_norm:
            _norm_rows(hs, ns, gamma2, beta2, epsilon)
            gemm(ns, w1, zs)
        else:
            _norm_rows(hs, hs, gamma1, beta1, epsilon)
            gemm(hs, w1, zs)
        for r in range(rows):
            add_to_row(zs[r], b1)
            activate_row(code, zs[r], zs[r], alpha)
        gemm(zs, w2, ys)
        for r in range(rows):
            for c in range(d):
                ys[r, c] = ys[r, c] + b2[c] + hs[r, c]
        if not pre_norm:
            _norm_rows(ys, ys, gamma2, beta2, epsilon)
    restore_threads(previous)


@functools.cache
def mkl_build() -> Callable[..., None] | None:
    """:func:`encoder_infer` on MKL's products (cached on disk under its own name), or None
    where MKL is not installed or ``NNX_MKL=0`` (:mod:`nnx.backends.mkl_library`)."""
    from nnx.backends import mkl_library

    names = mkl_library.kernel_products()
    if names is None:
        return None
    from nnx.backends.numba_jit import twin

    names["_attend"] = twin(_attend, "_mkl", names)
    return twin(encoder_infer, "_mkl", names)  # type: ignore[no-any-return]
