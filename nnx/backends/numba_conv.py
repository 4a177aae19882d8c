"""Direct convolution and arg-max pooling kernels for channels-last images (numba).

For a convolution with few taps per output (``K = kh kw C`` small, as the first layer of an
image model: 9 for a 3x3 kernel on one channel) the im2col + GEMM route is bound by memory,
not arithmetic: the GEMM's inner dimension is ``K`` and every pass (window copy, product, bias,
activation, the activation's backward, the weight gradient's GEMM) streams the ``(pixels,
filters)`` output once more. These kernels read the padded input ``x (b, h, w, C)`` directly:

- :func:`conv_forward`: ``z = sum_{i, j, c} x[b, p sh + i dh, q sw + j dw, c] w[(i kw + j) C
  + c, :] + bias`` with ReLU applied in the same pass (one write of the output);
- :func:`conv_weight_grad`: ``dW = cols^T dz`` and ``d bias = sum dz`` with ``dz = dy [y > 0]``
  (ReLU's backward, from its output) folded in: nothing of the output's size is written;
- :func:`max_pool_argmax` / :func:`max_pool_argmax_backward`: the max pool keeps the window
  offset of each maximum (the first in row-major order, as the portable code), so the
  backward reads ``dy`` and one byte per output instead of the input and the output, and
  writes each input element once where windows do not overlap.

The weight gradient sums over fixed blocks of images (each its own float64 row), so the result
does not depend on the thread count.
"""

from __future__ import annotations

import numpy as np

from nnx.backends.numba_jit import block_kernel, kernel

__all__ = ["conv_forward", "conv_weight_grad", "max_pool_argmax", "max_pool_argmax_backward"]


@kernel(0, 3)
def conv_forward(x, w, b, y, kh, kw, sh, sw, dh, dw, add_bias, relu):  # type: ignore[no-untyped-def]
    """``y[b, p, q, :] = f(sum_k cols[b, p, q, k] w[k, :] + bias)``, ``f`` ReLU or identity."""
    nb, oh, ow, nf = y.shape
    c = x.shape[3]
    acc = np.empty(nf, dtype=y.dtype)
    for bp in range(nb * oh):
        n, p = bp // oh, bp % oh
        for q in range(ow):
            acc[:] = 0.0
            for i in range(kh):
                r = p * sh + i * dh
                for j in range(kw):
                    s = q * sw + j * dw
                    base = (i * kw + j) * c
                    for ch in range(c):
                        v = x[n, r, s, ch]
                        for o in range(nf):
                            acc[o] += v * w[base + ch, o]
            if add_bias:
                for o in range(nf):
                    acc[o] += b[o]
            if relu:
                for o in range(nf):
                    y[n, p, q, o] = acc[o] if acc[o] > 0 else 0.0
            else:
                for o in range(nf):
                    y[n, p, q, o] = acc[o]


@block_kernel
def conv_weight_grad(start, stop, dy, y, x, pw, pb, kh, kw, sh, sw, dh, dw, relu):  # type: ignore[no-untyped-def]
    """Blocks ``start .. stop - 1`` of the images: ``pw[k] = sum cols^T dz`` and ``pb[k] =
    sum dz`` over block ``k``, with ``dz = dy`` (``relu``: ``dy`` where ``y > 0``, else 0);
    each output row is summed in the arrays' dtype, then added into the float64 blocks."""
    nb, oh, ow, nf = dy.shape
    c = x.shape[3]
    taps = pw.shape[1]
    step = (nb + pw.shape[0] - 1) // pw.shape[0]
    accw = np.empty((taps, nf), dtype=dy.dtype)
    accb = np.empty(nf, dtype=dy.dtype)
    g = np.empty(nf, dtype=dy.dtype)
    for blk in range(start, stop):
        pw[blk] = 0.0
        pb[blk] = 0.0
        for n in range(blk * step, min(nb, (blk + 1) * step)):
            for p in range(oh):
                accw[:] = 0.0
                accb[:] = 0.0
                for q in range(ow):
                    for o in range(nf):
                        d = dy[n, p, q, o]
                        g[o] = d if not relu or y[n, p, q, o] > 0 else 0.0
                        accb[o] += g[o]
                    for i in range(kh):
                        r = p * sh + i * dh
                        for j in range(kw):
                            s = q * sw + j * dw
                            base = (i * kw + j) * c
                            for ch in range(c):
                                v = x[n, r, s, ch]
                                for o in range(nf):
                                    accw[base + ch, o] += v * g[o]
                for k in range(taps):
                    for o in range(nf):
                        pw[blk, k, o] += accw[k, o]
                for o in range(nf):
                    pb[blk, o] += accb[o]


@kernel(0, 1, 2)
def max_pool_argmax(x, y, arg, ph, pw, sh, sw):  # type: ignore[no-untyped-def]
    """``y = max`` over each window and ``arg`` = its offset ``i pw + j`` (the first maximum
    in row-major order: later ones must be strictly greater)."""
    nb, oh, ow, c = y.shape
    for bp in range(nb * oh):
        n, p = bp // oh, bp % oh
        for q in range(ow):
            r0, s0 = p * sh, q * sw
            for ch in range(c):
                y[n, p, q, ch] = x[n, r0, s0, ch]
                arg[n, p, q, ch] = 0
            for k in range(1, ph * pw):
                r, s = r0 + k // pw, s0 + k % pw
                for ch in range(c):
                    v = x[n, r, s, ch]
                    if v > y[n, p, q, ch]:
                        y[n, p, q, ch] = v
                        arg[n, p, q, ch] = k


@kernel(0, 1, 2)
def max_pool_argmax_backward(dy, arg, dx, ph, pw, sh, sw):  # type: ignore[no-untyped-def]
    """``dx[window offset arg] += dy``, every other element 0. Non-overlapping windows
    (``strides == pool``) write each window once and zero only the uncovered edge; otherwise
    each image is zeroed, then summed into."""
    nb, oh, ow, c = dy.shape
    h, w = dx.shape[1], dx.shape[2]
    disjoint = sh == ph and sw == pw
    for n in range(nb):
        if disjoint:
            for r in range(oh * ph, h):
                dx[n, r] = 0.0
            for r in range(oh * ph):
                for s in range(ow * pw, w):
                    dx[n, r, s] = 0.0
        else:
            dx[n] = 0.0
        for p in range(oh):
            for q in range(ow):
                for k in range(ph * pw):
                    r, s = p * sh + k // pw, q * sw + k % pw
                    if disjoint:
                        for ch in range(c):
                            dx[n, r, s, ch] = dy[n, p, q, ch] if arg[n, p, q, ch] == k else 0.0
                    else:
                        for ch in range(c):
                            if arg[n, p, q, ch] == k:
                                dx[n, r, s, ch] += dy[n, p, q, ch]
