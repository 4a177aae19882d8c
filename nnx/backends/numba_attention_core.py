"""The fused attention core (numba): scores, masked softmax and the weighted sum of the
values, one ``(batch, head)`` pair at a time, the batch rows split over the cores.

Per pair, with ``Q (Tq, d)``, ``K (Tv, d)``, ``V (Tv, dv)`` copied out of the projection's
strided layout into small contiguous blocks (they stay in cache)::

    S = Q K^T              BLAS (``np.dot`` on the blocks: no Python between the heads)
    P = masked_softmax(S)  row by row: max over the allowed keys, exp, sum, scale
    O = (P * drop) V       BLAS, written into ``o (batch, Tq, heads, dv)``: the output
                           projection's input layout, no transposing copy

so the ``(batch, heads, Tq, Tv)`` scores exist only when asked for (training keeps ``P`` for
the backward, ``return_attention_scores`` returns it; inference keeps one ``(Tq, Tv)`` block
per thread). Masking follows :func:`nnx.functional.sequence.masked_softmax`: a masked score
counts as the most negative float, so it gets exactly 0 in a row with any allowed key, and a
row with none is uniform (Keras's average of all values).

``exp`` is :func:`nnx.backends.numba_math.exp`, written in operations LLVM vectorizes on
float32 (numba's ``math.exp`` is a scalar libm call, about 6 ns per element here, which made
the whole kernel 3x slower); float64 gets libm's.
Measured on the bench's block (batch 32, 4 heads, 64 steps, 32 per head, float32, one core):
the 256 products of a pass by ``np.dot`` took 0.75 ms, the same kernel with the products as
plain loops (LLVM's vectorized loop over a row of ``S``) 11 ms, so the products go to BLAS.
"""

from __future__ import annotations

import numba
import numpy as np

from nnx.backends.numba_jit import kernel
from nnx.backends.numba_math import exp, in_dtype_of

__all__ = ["attention", "masked_softmax_row", "softmax_rows"]

#: sums may be reassociated (vectorized); no ``nnan``/``ninf``: masked keys stay exact zeros
SUMS = {"reassoc", "contract"}
_jit = numba.njit(error_model="numpy", fastmath=SUMS)


@numba.njit(error_model="numpy", fastmath={"reassoc", "nnan", "nsz"})
def _row_maxes(s, tops):  # type: ignore[no-untyped-def]
    """``tops[i] = max(s[i])``, each row vectorized (``nnan``: a NaN may be skipped here, but
    it still reaches the row's ``exp`` and sum, so the row comes out NaN as in NumPy)."""
    for i in range(s.shape[0]):
        top = s[i, 0]
        for j in range(1, s.shape[1]):
            top = max(top, s[i, j])
        tops[i] = top


@_jit
def softmax_rows(s, tops, inv):  # type: ignore[no-untyped-def]
    """In place over a block ``s (Tq, Tv)``: ``s = exp(s - max)`` per row, ``inv[i] = 1 / sum``
    (the caller scales). The whole block in one call: per-row calls cost a third more here."""
    _row_maxes(s, tops)
    for i in range(s.shape[0]):
        top = tops[i]
        total = 0.0
        for j in range(s.shape[1]):
            e = exp(s[i, j] - top)
            s[i, j] = e
            total += e
        inv[i] = 1.0 / total


@_jit
def masked_softmax_row(row, keep):  # type: ignore[no-untyped-def]
    """In place: ``row = exp(row - max)`` over the keys where ``keep``, 0 elsewhere; all 1
    where none is kept (uniform). Returns ``1 / sum``."""
    tv = row.shape[0]
    seen = False
    top = row[0]
    for j in range(tv):
        if keep[j] and (not seen or row[j] > top):
            top = row[j]
            seen = True
    zero, one = in_dtype_of(0.0, row), in_dtype_of(1.0, row)
    total = 0.0
    for j in range(tv):
        e = exp(row[j] - top) if keep[j] else zero
        if not seen:
            e = one
        row[j] = e
        total += e
    return 1.0 / total


@kernel(0, 1, 2, 3, 5, 6, 7, fastmath=SUMS)
def attention(q, k, v, allowed, masked, drop, p, o):  # type: ignore[no-untyped-def]
    """``o[b, :, h] = (masked_softmax(q[b, h] k[b, h]^T) * drop[b, h]) v[b, h]``.

    ``q (n, heads, Tq, d)``, ``k (n, heads, Tv, d)``, ``v (n, heads, Tv, dv)`` in any
    layout; ``allowed (n, Tq, Tv)`` bool, read when ``masked``; ``drop (n, heads, Tq, Tv)``
    the dropout multipliers, or empty for none; ``p`` the same shape, C-contiguous, written
    with the probabilities (before dropout) unless empty; ``o (n, Tq, heads, dv)``."""
    n, heads, tq, d = q.shape
    tv, dv = k.shape[2], v.shape[3]
    qb = np.empty((tq, d), dtype=q.dtype)
    kb = np.empty((tv, d), dtype=q.dtype)
    vb = np.empty((tv, dv), dtype=q.dtype)
    sb = np.empty((tq, tv), dtype=q.dtype)
    pd = np.empty((tq, tv), dtype=q.dtype)
    ob = np.empty((tq, dv), dtype=q.dtype)
    inv = np.empty(tq, dtype=q.dtype)  # 1 / each row's sum, applied to O when P is not kept
    tops = np.empty(tq, dtype=q.dtype)
    dropped = drop.shape[0] > 0
    keep = p.shape[0] > 0
    for b in range(n):
        for h in range(heads):
            for i in range(tq):
                for c in range(d):
                    qb[i, c] = q[b, h, i, c]
            for j in range(tv):
                for c in range(d):
                    kb[j, c] = k[b, h, j, c]
                for c in range(dv):
                    vb[j, c] = v[b, h, j, c]
            s = p[b, h] if keep else sb
            np.dot(qb, kb.T, s)
            if masked:
                for i in range(tq):
                    inv[i] = masked_softmax_row(s[i], allowed[b, i])
            else:
                softmax_rows(s, tops, inv)
            for i in range(tq):
                if keep or dropped:  # P itself is asked for: scale the row now
                    for j in range(tv):
                        s[i, j] = s[i, j] * inv[i]
                    inv[i] = 1.0
                if dropped:
                    for j in range(tv):
                        pd[i, j] = s[i, j] * drop[b, h, i, j]
            np.dot(pd if dropped else s, vb, ob)
            for i in range(tq):
                for c in range(dv):
                    o[b, i, h, c] = ob[i, c] * inv[i]
