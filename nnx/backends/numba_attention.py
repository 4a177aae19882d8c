"""Fused row kernels (numba) of the attention softmax and of layer normalization.

Each works along the last axis of C-contiguous rows, one row at a time while it sits in cache,
in the order of operations of the portable code (:func:`nnx.functional.sequence.masked_softmax`
and :class:`nnx.layers.LayerNormalization`); sums accumulate in float64, and what a row's loop
then applies (its mean, ``1 / std``, ``1 / sum``) is cast back to the arrays' dtype
(:func:`~nnx.backends.numba_math.in_dtype_of`: float32 rows stay float32). The softmax's ``exp``
is left to NumPy (its SIMD loop is ~8x faster than the scalar libm call a numba loop makes), so
the softmax is two kernels around one in-place ``numpy.exp``:

    shift:      e = where(allowed, s, low) - max(where(allowed, s, low))
    normalize:  p = e / sum(e)

with ``low`` the most negative float, so that a masked entry becomes ``exp(-inf) = 0`` unless
its whole row is masked, which becomes uniform (as Keras).
"""

from __future__ import annotations

import math

import numba

from nnx.backends.numba_jit import kernel
from nnx.backends.numba_math import in_dtype_of

#: the sums may be reassociated (so that they vectorize) and fused into multiply-adds; no
#: ``nnan``/``ninf``: the softmax's -inf at masked keys must stay exact
SUMS = {"reassoc", "contract"}

__all__ = [
    "layer_norm",
    "layer_norm_backward",
    "norm_row",
    "softmax_backward",
    "softmax_normalize",
    "softmax_shift",
]


@kernel(0, 1)
def softmax_shift(s, allowed, masked):  # type: ignore[no-untyped-def]
    """In place over ``s (b, heads, Tq, Tv)``: ``s - max(s)`` per row over the allowed keys
    (``allowed (b, Tq, Tv)``, read when ``masked``), ``-inf`` at masked keys, and 0 across a
    row with no allowed key."""
    nb, heads, tq, tv = s.shape
    for b in range(nb):
        for h in range(heads):
            for i in range(tq):
                row = s[b, h, i]
                if not masked:
                    top = row[0]
                    for j in range(1, tv):
                        top = max(top, row[j])
                    for j in range(tv):
                        row[j] = row[j] - top
                    continue
                keep = allowed[b, i]
                seen = False
                top = row[0]
                for j in range(tv):
                    if keep[j] and (not seen or row[j] > top):
                        top = row[j]
                        seen = True
                for j in range(tv):
                    if not seen:
                        row[j] = 0.0
                    elif keep[j]:
                        row[j] = row[j] - top
                    else:
                        row[j] = -math.inf


@kernel(0, fastmath=SUMS)
def softmax_normalize(e):  # type: ignore[no-untyped-def]
    """In place over the rows of ``e (rows, Tv)``: ``e / sum(e)``."""
    rows, tv = e.shape
    for r in range(rows):
        total = 0.0
        for j in range(tv):
            total += e[r, j]
        inv = in_dtype_of(1.0 / total, e)
        for j in range(tv):
            e[r, j] = e[r, j] * inv


@kernel(0, 1, 2, fastmath=SUMS)
def softmax_backward(dp, p, allowed, masked):  # type: ignore[no-untyped-def]
    """In place over ``dp (b, heads, Tq, Tv)``: ``ds = p (dp - sum(dp p))`` per row, 0 across
    a row with no allowed key (``allowed (b, Tq, Tv)``, read when ``masked``)."""
    nb, heads, tq, tv = dp.shape
    for b in range(nb):
        for i in range(tq):
            empty = False
            if masked:
                empty = True
                for j in range(tv):
                    if allowed[b, i, j]:
                        empty = False
                        break
            for h in range(heads):
                d, q = dp[b, h, i], p[b, h, i]
                if empty:
                    for j in range(tv):
                        d[j] = 0.0
                    continue
                dot = 0.0
                for j in range(tv):
                    dot += d[j] * q[j]
                dot_t = in_dtype_of(dot, dp)
                for j in range(tv):
                    d[j] = q[j] * (d[j] - dot_t)


@numba.njit(nogil=True, error_model="numpy", fastmath=SUMS)
def norm_row(x, y, gamma, beta, epsilon):  # type: ignore[no-untyped-def]
    """One row of :func:`layer_norm` (``y`` may be ``x``): returns its ``(mean, inv)`` in the
    row's dtype."""
    c = x.shape[0]
    total = 0.0
    for j in range(c):
        total += x[j]
    mu = total / c
    square = 0.0
    for j in range(c):
        d = x[j] - mu
        square += d * d
    mu_t = in_dtype_of(mu, x)  # in the arrays' dtype, as the loop below
    k_t = in_dtype_of(1.0 / math.sqrt(square / c + epsilon), x)
    for j in range(c):
        y[j] = (x[j] - mu_t) * k_t * gamma[j] + beta[j]
    return mu_t, k_t


@kernel(0, 1, 2, 3, fastmath=SUMS)
def layer_norm(x, y, mean, inv, gamma, beta, epsilon):  # type: ignore[no-untyped-def]
    """Per row of ``x (rows, C)``: ``mean``, ``inv = 1 / sqrt(var + epsilon)`` (``(rows,)``)
    and ``y = gamma (x - mean) inv + beta``."""
    for r in range(x.shape[0]):
        mean[r], inv[r] = norm_row(x[r], y[r], gamma, beta, epsilon)


@kernel(0, 1, 2, 3, 4, 5, fastmath=SUMS)
def layer_norm_backward(dy, x, mean, inv, dx, dyxhat, gamma):  # type: ignore[no-untyped-def]
    """Per row, with ``xhat = (x - mean) inv`` and ``g = dy gamma``: ``dx = inv (g - mean(g)
    - xhat mean(g xhat))``, and ``dyxhat = dy xhat`` (summed over rows into ``dgamma`` by the
    caller)."""
    rows, c = dy.shape
    for r in range(rows):
        mu, k = mean[r], inv[r]
        sum_g = 0.0
        sum_gx = 0.0
        for j in range(c):
            xhat = (x[r, j] - mu) * k
            g = dy[r, j] * gamma[j]
            dyxhat[r, j] = dy[r, j] * xhat
            sum_g += g
            sum_gx += g * xhat
        mean_g = in_dtype_of(sum_g / c, dy)
        mean_gx = in_dtype_of(sum_gx / c, dy)
        for j in range(c):
            xhat = (x[r, j] - mu) * k
            g = dy[r, j] * gamma[j]
            dx[r, j] = k * (g - mean_g - xhat * mean_gx)
