"""A whole stack of ``Dense`` layers and its loss, forward and backward, in one compiled call
(numba): the compiled training step of small multi-layer perceptrons.

A small model's step is bound by the count of operations, not their size: each NumPy call costs
about a microsecond, each layer's forward and backward a few. Here the step is one call:

- forward, layer by layer: ``z = h W + b``, ``h' = f(z)`` (the last layer's ``f`` is fused
  with the loss);
- the loss and ``dz = dL/dz`` of the last layer, with ``L = sum_i l_i / n``:
  sigmoid + binary cross-entropy ``l = mean_j(max(z, 0) - z y + log1p(e^-|z|))``,
  ``dz = (sigmoid(z) - y) / (d n)``; softmax + categorical cross-entropy
  ``l = -sum_j y_j log_softmax(z)_j``, ``dz = (softmax(z) sum_j y_j - y) / n``; mean squared
  error after any activation ``l = mean_j (f(z) - y)^2``, ``dz = f'(z) 2 (f(z) - y) / (d n)``;
- backward, last layer first: ``dW = h^T dz``, ``db = sum_rows dz``, ``dh = dz W^T`` and
  ``dz = f'(z) dh`` for the layer below.

The formulas are the layers' and losses' (:mod:`nnx.layers.dense`, :mod:`nnx.losses`); the
activations are :mod:`nnx.backends.numba_activations`' (one code per activation). Weights and
gradients are read from and written to the model's flat buffers (:class:`FlatParameters`), at
the offsets of ``layout``. The products are ``np.dot`` inside the compiled code (SciPy's BLAS, no
Python between them); the bias, activations and loss are loops over the rows.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from nnx.backends.activation_codes import CODES
from nnx.backends.numba_activations import _backward_row, activate_row

__all__ = ["LAYOUT_COLUMNS", "dense_stack_gradients"]

#: the columns of ``layout``, one row per layer
LAYOUT_COLUMNS = ("kernel", "bias", "fan_in", "units", "activation", "buffer")
_SOFTMAX, _LOG_SOFTMAX = CODES["softmax"], CODES["log_softmax"]

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
_inline = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")


@_inline
def _activate(code, alpha, z, h, at, n, m):  # type: ignore[no-untyped-def]
    """``h = f(z)`` on the ``n`` rows of ``m`` at ``at``: one elementwise pass, or row by row
    for softmax and log-softmax."""
    if code != _SOFTMAX and code != _LOG_SOFTMAX:
        activate_row(code, z[at : at + n * m], h[at : at + n * m], alpha)
        return
    for r in range(at, at + n * m, m):
        top = z[r]
        for j in range(r + 1, r + m):
            top = max(top, z[j])
        total = 0.0
        for j in range(r, r + m):
            total += math.exp(z[j] - top)
        log_total = math.log(total)
        for j in range(r, r + m):
            shifted = z[j] - top - log_total
            h[j] = math.exp(shifted) if code == _SOFTMAX else shifted


@_inline
def _deactivate(code, alpha, d, z, h, at, n, m):  # type: ignore[no-untyped-def]
    """``d = f'(z) d`` in place on the first ``n m`` of ``d`` (``z``, ``h = f(z)``: the ``n``
    rows of ``m`` at ``at``): one pass, or row by row for softmax and log-softmax."""
    if code != _SOFTMAX and code != _LOG_SOFTMAX:
        dr = d[: n * m]
        _backward_row(dr, z[at : at + n * m], h[at : at + n * m], dr, code, alpha)
        return
    for i in range(n):
        dr = d[i * m : (i + 1) * m]
        r = at + i * m
        _backward_row(dr, z[r : r + m], h[r : r + m], dr, code, alpha)


@_inline
def _loss(kind, code, alpha, n, m, z, h, y, at, dz):  # type: ignore[no-untyped-def]
    """The loss of the last layer (``z``, ``h`` at ``at``, ``m`` units) against ``y``; sets
    ``h`` to the prediction and ``dz[:n m] = dL/dz``."""
    inv_n, inv_m = 1.0 / n, 1.0 / m
    total = 0.0
    for i in range(n):
        r = at + i * m
        row = 0.0
        if kind == 1:  # sigmoid + binary cross-entropy
            for j in range(m):
                zj, yj = z[r + j], y[i * m + j]
                e = math.exp(-abs(zj))
                row += max(zj, 0.0) - zj * yj + math.log1p(e)
                h[r + j] = (1.0 if zj >= 0 else e) / (1.0 + e)
                dz[i * m + j] = (h[r + j] - yj) * inv_m * inv_n
            total += row * inv_m
        elif kind == 2:  # softmax + categorical cross-entropy
            top = z[r]
            for j in range(1, m):
                top = max(top, z[r + j])
            s = 0.0
            for j in range(m):
                s += math.exp(z[r + j] - top)
            log_s = math.log(s)
            y_sum = 0.0
            for j in range(m):
                row -= y[i * m + j] * (z[r + j] - top - log_s)
                y_sum += y[i * m + j]
            for j in range(m):
                h[r + j] = math.exp(z[r + j] - top - log_s)
                dz[i * m + j] = (h[r + j] * y_sum - y[i * m + j]) * inv_n
            total += row
        else:  # mean squared error of f(z)
            for j in range(m):
                e = h[r + j] - y[i * m + j]
                row += e * e
                dz[i * m + j] = 2.0 * e * inv_m * inv_n
            total += row * inv_m
    if kind == 0:
        _deactivate(code, alpha, dz, z, h, at, n, m)
    return total * inv_n


@_jit
def dense_stack_gradients(n, x, y, value, grad, layout, alphas, kind, zs, hs, d1, d2):  # type: ignore[no-untyped-def]
    """One forward and backward pass of the stack on the ``n`` rows of ``x`` against ``y``
    (both flattened, C order); writes every gradient into ``grad`` and returns the loss.

    ``layout (layers, 6)`` (:data:`LAYOUT_COLUMNS`): offsets of the kernel and the bias in the
    flat buffers (bias -1: none), fan-in, units, activation code and the offset of the layer's
    ``z`` and ``h`` (``n x units``, C order) in the scratch buffers ``zs`` and ``hs``;
    ``alphas``: each activation's ``alpha``; ``d1``, ``d2``: scratch for ``dz`` and ``dh``
    (``n max(fan-in, units)`` each). On return the last layer's ``h`` holds the prediction and
    its ``z`` the logits.
    """
    layers = layout.shape[0]
    last = layers - 1
    for layer in range(layers):
        w_at, b_at, k, m = layout[layer, 0], layout[layer, 1], layout[layer, 2], layout[layer, 3]
        at = layout[layer, 5]
        s_at = layout[layer - 1, 5] if layer else 0
        src = (hs if layer else x)[s_at : s_at + n * k].reshape((n, k))
        z = zs[at : at + n * m].reshape((n, m))
        np.dot(src, value[w_at : w_at + k * m].reshape((k, m)), z)
        if b_at >= 0:
            for r in range(at, at + n * m, m):
                for j in range(m):
                    zs[r + j] += value[b_at + j]
        if layer < last or kind == 0:
            _activate(layout[layer, 4], alphas[layer], zs, hs, at, n, m)
    m = layout[last, 3]
    loss = _loss(kind, layout[last, 4], alphas[last], n, m, zs, hs, y, layout[last, 5], d1)
    dz_buffer, dh_buffer = d1, d2
    for layer in range(last, -1, -1):
        w_at, b_at, k, m = layout[layer, 0], layout[layer, 1], layout[layer, 2], layout[layer, 3]
        s_at = layout[layer - 1, 5] if layer else 0
        src = (hs if layer else x)[s_at : s_at + n * k].reshape((n, k))
        dz = dz_buffer[: n * m].reshape((n, m))
        np.dot(src.T, dz, grad[w_at : w_at + k * m].reshape((k, m)))
        if b_at >= 0:
            for j in range(m):
                grad[b_at + j] = 0.0
            for i in range(n):
                for j in range(m):
                    grad[b_at + j] += dz_buffer[i * m + j]
        if layer > 0:
            w = value[w_at : w_at + k * m].reshape((k, m))
            np.dot(dz, w.T, dh_buffer[: n * k].reshape((n, k)))
            code, alpha = layout[layer - 1, 4], alphas[layer - 1]
            _deactivate(code, alpha, dh_buffer, zs, hs, s_at, n, k)
            dz_buffer, dh_buffer = dh_buffer, dz_buffer
    return loss
