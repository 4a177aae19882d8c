"""Window and normalization kernels for channels-last images (numba).

The references are :mod:`nnx.functional.conv` (im2col, col2im), :mod:`nnx.functional.pooling`
and :func:`nnx.layers.normalization.normalize_backward`. Images are ``(b, h, w, c)``,
C-contiguous and already padded. Large calls are split over threads by image (the first
axis), so no two threads add into one pixel where windows overlap (col2im, the pooling
backward passes). The batch-norm reductions run on one thread, in fixed row blocks.
"""

from __future__ import annotations

import numpy as np

from nnx.backends.numba_jit import kernel

__all__ = [
    "avg_pool",
    "avg_pool_backward",
    "batch_norm_backward",
    "batch_norm_stats",
    "col2im",
    "im2col",
    "max_pool",
    "max_pool_backward",
]


@kernel(0, 1)
def im2col(x, cols, kh, kw, sh, sw, dh, dw):  # type: ignore[no-untyped-def]
    """``cols[b, p, q, (i kw + j) C + c] = x[b, i dh + p sh, j dw + q sw, c]``."""
    nb, oh, ow = cols.shape[0], cols.shape[1], cols.shape[2]
    c = x.shape[3]
    for bp in range(nb * oh):
        b, p = bp // oh, bp % oh
        for q in range(ow):
            for i in range(kh):
                row = i * dh + p * sh
                for j in range(kw):
                    col = j * dw + q * sw
                    base = (i * kw + j) * c
                    for ch in range(c):
                        cols[b, p, q, base + ch] = x[b, row, col, ch]


@kernel(0, 1)
def col2im(cols, dx, kh, kw, sh, sw, dh, dw):  # type: ignore[no-untyped-def]
    """``dx[b, i dh + p sh, j dw + q sw, c] += cols[b, p, q, (i kw + j) C + c]`` into a zeroed
    ``dx``."""
    nb, oh, ow = cols.shape[0], cols.shape[1], cols.shape[2]
    c = dx.shape[3]
    for b in range(nb):
        for p in range(oh):
            for q in range(ow):
                for i in range(kh):
                    row = i * dh + p * sh
                    for j in range(kw):
                        col = j * dw + q * sw
                        base = (i * kw + j) * c
                        for ch in range(c):
                            dx[b, row, col, ch] += cols[b, p, q, base + ch]


@kernel(0, 1)
def max_pool(x, y, ph, pw, sh, sw):  # type: ignore[no-untyped-def]
    """``y[b, p, q, c] = max_{i, j} x[b, p sh + i, q sw + j, c]`` (channels innermost: the
    loops over ``c`` are contiguous and vectorize)."""
    nb, oh, ow, c = y.shape
    for bp in range(nb * oh):
        b, p = bp // oh, bp % oh
        for q in range(ow):
            for ch in range(c):
                y[b, p, q, ch] = x[b, p * sh, q * sw, ch]
            for i in range(ph):
                for j in range(pw):
                    for ch in range(c):
                        y[b, p, q, ch] = max(y[b, p, q, ch], x[b, p * sh + i, q * sw + j, ch])


@kernel(0, 1, 2, 3)
def max_pool_backward(dy, x, y, dx, ph, pw, sh, sw):  # type: ignore[no-untyped-def]
    """``dx[first (i, j) in row-major order with x == y] += dy`` per window, into a zeroed
    ``dx`` (``left`` marks the channels whose maximum is still to be found)."""
    nb, oh, ow, c = y.shape
    left = np.empty(c, dtype=np.bool_)
    for b in range(nb):
        for p in range(oh):
            for q in range(ow):
                left[:] = True
                for i in range(ph):
                    for j in range(pw):
                        r, s = p * sh + i, q * sw + j
                        for ch in range(c):
                            if left[ch] and x[b, r, s, ch] == y[b, p, q, ch]:
                                dx[b, r, s, ch] += dy[b, p, q, ch]
                                left[ch] = False


@kernel(0, 1)
def avg_pool(x, y, count, ph, pw, sh, sw):  # type: ignore[no-untyped-def]
    """``y[b, p, q, c] = sum_{i, j} x[b, p sh + i, q sw + j, c] / count[p, q]`` (summed in
    row-major window order, as the portable code; channels innermost)."""
    nb, oh, ow, c = y.shape
    for bp in range(nb * oh):
        b, p = bp // oh, bp % oh
        for q in range(ow):
            for ch in range(c):
                y[b, p, q, ch] = x[b, p * sh, q * sw, ch]
            for k in range(1, ph * pw):
                r, s = p * sh + k // pw, q * sw + k % pw
                for ch in range(c):
                    y[b, p, q, ch] += x[b, r, s, ch]
            for ch in range(c):
                y[b, p, q, ch] /= count[p, q]


@kernel(0, 1)
def avg_pool_backward(dy, dx, count, ph, pw, sh, sw):  # type: ignore[no-untyped-def]
    """``dx[window] += dy / count`` into a zeroed ``dx``."""
    nb, oh, ow, c = dy.shape
    for b in range(nb):
        for p in range(oh):
            for q in range(ow):
                for i in range(ph):
                    for j in range(pw):
                        r, s = p * sh + i, q * sw + j
                        for ch in range(c):
                            dx[b, r, s, ch] += dy[b, p, q, ch] / count[p, q]


@kernel()
def batch_norm_stats(x, partial, mean, var):  # type: ignore[no-untyped-def]
    """Per column of ``x (n, C)``: ``mean`` and the biased ``var`` (two passes, float64 partial
    sums per block of rows in ``partial (blocks, C)``)."""
    n, c = x.shape
    blocks = partial.shape[0]
    step = (n + blocks - 1) // blocks
    for k in range(blocks):
        for ch in range(c):
            partial[k, ch] = 0.0
        for r in range(k * step, min(n, (k + 1) * step)):
            for ch in range(c):
                partial[k, ch] += x[r, ch]
    for ch in range(c):
        total = 0.0
        for k in range(blocks):
            total += partial[k, ch]
        mean[ch] = total / n
    for k in range(blocks):
        for ch in range(c):
            partial[k, ch] = 0.0
        for r in range(k * step, min(n, (k + 1) * step)):
            for ch in range(c):
                d = x[r, ch] - mean[ch]
                partial[k, ch] += d * d
    for ch in range(c):
        total = 0.0
        for k in range(blocks):
            total += partial[k, ch]
        var[ch] = total / n


@kernel()
def batch_norm_backward(dy, xhat, gamma, inv, partial, dgamma, dbeta, dx):  # type: ignore[no-untyped-def]
    """With ``dxhat = dy gamma``: ``dbeta = sum(dy)``, ``dgamma = sum(dy xhat)`` and
    ``dx = inv (dxhat - mean(dxhat) - xhat mean(dxhat xhat))`` per column of ``(n, C)``
    arrays; ``partial (blocks, 2, C)`` holds per-block float64 sums."""
    n, c = dy.shape
    blocks = partial.shape[0]
    step = (n + blocks - 1) // blocks
    for k in range(blocks):
        for ch in range(c):
            partial[k, 0, ch] = 0.0
            partial[k, 1, ch] = 0.0
        for r in range(k * step, min(n, (k + 1) * step)):
            for ch in range(c):
                partial[k, 0, ch] += dy[r, ch]
                partial[k, 1, ch] += dy[r, ch] * xhat[r, ch]
    for ch in range(c):
        s0 = 0.0
        s1 = 0.0
        for k in range(blocks):
            s0 += partial[k, 0, ch]
            s1 += partial[k, 1, ch]
        dbeta[ch] = s0
        dgamma[ch] = s1
    for r in range(n):
        for ch in range(c):
            g = gamma[ch]
            dx[r, ch] = inv[ch] * (
                dy[r, ch] * g - dbeta[ch] * g / n - xhat[r, ch] * (dgamma[ch] * g / n)
            )
