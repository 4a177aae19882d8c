"""Fused activation kernels (numba): bias + activation forward, activation backward, and the
sigmoid / softmax cross-entropy value with its gradient.

Each scalar formula is the one of :mod:`nnx.functional.activations` (and of
:mod:`nnx.functional.losses`), element by element; arrays are 2-d and C-contiguous
(``rows x features``), softmax and log-softmax work along the rows.
"""

from __future__ import annotations

import math

import numba

from nnx.backends.activation_codes import CODES
from nnx.backends.numba_jit import block_kernel, kernel

__all__ = [
    "CODES",
    "activate_row",
    "add_to_row",
    "backward",
    "backward_sum",
    "bias_add",
    "forward",
    "sigmoid_crossentropy",
    "softmax_crossentropy",
]

_SOFTMAX, _LOG_SOFTMAX = CODES["softmax"], CODES["log_softmax"]
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_GELU_C = math.sqrt(2.0 / math.pi)
_ROOT_2 = math.sqrt(2.0)
_ROOT_2PI = math.sqrt(2.0 * math.pi)


_jit = numba.njit(error_model="numpy")


@_jit
def _sigmoid(x):  # type: ignore[no-untyped-def]
    e = math.exp(-abs(x))
    return (1.0 if x >= 0 else e) / (1.0 + e)


# --- forward f(x, alpha) and backward df(dy, x, y, alpha) = dy f'(x), one pair per activation --
@_jit
def _step(x, a):  # type: ignore[no-untyped-def]
    return 1.0 if x >= 0 else 0.0


@_jit
def _step_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return dy * 0.0


@_jit
def _sig(x, a):  # type: ignore[no-untyped-def]
    return _sigmoid(x)


@_jit
def _sig_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return dy * y * (1.0 - y)


@_jit
def _hard_sig(x, a):  # type: ignore[no-untyped-def]
    return min(max(x / 6.0 + 0.5, 0.0), 1.0)


@_jit
def _hard_sig_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return dy / 6.0 if -3.0 < x < 3.0 else 0.0


@_jit
def _tanh(x, a):  # type: ignore[no-untyped-def]
    return math.tanh(x)


@_jit
def _tanh_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return dy * (1.0 - y * y)


@_jit
def _relu(x, a):  # type: ignore[no-untyped-def]
    return max(x, 0.0)


@_jit
def _relu_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return dy if x > 0 else 0.0


@_jit
def _relu6(x, a):  # type: ignore[no-untyped-def]
    return min(max(x, 0.0), 6.0)


@_jit
def _relu6_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return dy if 0 < x < 6 else 0.0


@_jit
def _leaky(x, a):  # type: ignore[no-untyped-def]
    return x if x > 0 else a * x


@_jit
def _leaky_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return dy if x > 0 else a * dy


@_jit
def _elu(x, a):  # type: ignore[no-untyped-def]
    return x if x > 0 else a * math.expm1(min(x, 0.0))


@_jit
def _elu_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return dy if x > 0 else dy * (y + a)


@_jit
def _selu(x, a):  # type: ignore[no-untyped-def]
    return _SELU_SCALE * (x if x > 0 else _SELU_ALPHA * math.expm1(min(x, 0.0)))


@_jit
def _selu_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return _SELU_SCALE * dy if x > 0 else dy * (y + _SELU_SCALE * _SELU_ALPHA)


@_jit
def _gelu(x, a):  # type: ignore[no-untyped-def]
    return 0.5 * x * (1.0 + math.tanh(_GELU_C * (x + 0.044715 * x * x * x)))


@_jit
def _gelu_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    t = math.tanh(_GELU_C * (x + 0.044715 * x * x * x))
    dt = _GELU_C * (1.0 + 3.0 * 0.044715 * x * x) * (1.0 - t * t)
    return dy * (0.5 * (1.0 + t) + 0.5 * x * dt)


@_jit
def _gelu_exact(x, a):  # type: ignore[no-untyped-def]
    return 0.5 * x * (1.0 + math.erf(x / _ROOT_2))


@_jit
def _gelu_exact_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    cdf = 0.5 * (1.0 + math.erf(x / _ROOT_2))
    return dy * (cdf + x * (math.exp(-0.5 * x * x) / _ROOT_2PI))


@_jit
def _swish(x, a):  # type: ignore[no-untyped-def]
    return x * _sigmoid(x)


@_jit
def _swish_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    s = _sigmoid(x)
    return dy * s * (1.0 + x * (1.0 - s))


@_jit
def _softplus(x, a):  # type: ignore[no-untyped-def]
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@_jit
def _softplus_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    return dy * _sigmoid(x)


@_jit
def _softsign(x, a):  # type: ignore[no-untyped-def]
    return x / (1.0 + abs(x))


@_jit
def _softsign_b(dy, x, y, a):  # type: ignore[no-untyped-def]
    d = 1.0 + abs(x)
    return dy / (d * d)


@_jit
def activate_row(code, z, y, a):  # type: ignore[no-untyped-def]
    """``y = f(z)`` on one row: ``f`` is chosen once per row, so that each branch is a plain
    elementwise loop (calls of global functions only: the kernel stays cacheable)."""
    n = z.shape[0]
    if code == 1:
        for j in range(n):
            y[j] = _step(z[j], a)
    elif code == 2:
        for j in range(n):
            y[j] = _sig(z[j], a)
    elif code == 3:
        for j in range(n):
            y[j] = _hard_sig(z[j], a)
    elif code == 4:
        for j in range(n):
            y[j] = _tanh(z[j], a)
    elif code == 5:
        for j in range(n):
            y[j] = _relu(z[j], a)
    elif code == 6:
        for j in range(n):
            y[j] = _relu6(z[j], a)
    elif code == 7:
        for j in range(n):
            y[j] = _leaky(z[j], a)
    elif code == 8:
        for j in range(n):
            y[j] = _elu(z[j], a)
    elif code == 9:
        for j in range(n):
            y[j] = _selu(z[j], a)
    elif code == 10:
        for j in range(n):
            y[j] = _gelu(z[j], a)
    elif code == 11:
        for j in range(n):
            y[j] = _gelu_exact(z[j], a)
    elif code == 12 or code == 13:
        for j in range(n):
            y[j] = _swish(z[j], a)
    elif code == 14:
        for j in range(n):
            y[j] = _softplus(z[j], a)
    elif code == 15:
        for j in range(n):
            y[j] = _softsign(z[j], a)
    else:
        for j in range(n):
            y[j] = z[j]


@_jit
def _row_b(code, dy, x, y, dx, a):  # type: ignore[no-untyped-def]
    """``dx = dy f'(x)`` on one row (see :func:`activate_row`)."""
    n = dy.shape[0]
    if code == 1:
        for j in range(n):
            dx[j] = _step_b(dy[j], x[j], y[j], a)
    elif code == 2:
        for j in range(n):
            dx[j] = _sig_b(dy[j], x[j], y[j], a)
    elif code == 3:
        for j in range(n):
            dx[j] = _hard_sig_b(dy[j], x[j], y[j], a)
    elif code == 4:
        for j in range(n):
            dx[j] = _tanh_b(dy[j], x[j], y[j], a)
    elif code == 5:
        for j in range(n):
            dx[j] = _relu_b(dy[j], x[j], y[j], a)
    elif code == 6:
        for j in range(n):
            dx[j] = _relu6_b(dy[j], x[j], y[j], a)
    elif code == 7:
        for j in range(n):
            dx[j] = _leaky_b(dy[j], x[j], y[j], a)
    elif code == 8:
        for j in range(n):
            dx[j] = _elu_b(dy[j], x[j], y[j], a)
    elif code == 9:
        for j in range(n):
            dx[j] = _selu_b(dy[j], x[j], y[j], a)
    elif code == 10:
        for j in range(n):
            dx[j] = _gelu_b(dy[j], x[j], y[j], a)
    elif code == 11:
        for j in range(n):
            dx[j] = _gelu_exact_b(dy[j], x[j], y[j], a)
    elif code == 12 or code == 13:
        for j in range(n):
            dx[j] = _swish_b(dy[j], x[j], y[j], a)
    elif code == 14:
        for j in range(n):
            dx[j] = _softplus_b(dy[j], x[j], y[j], a)
    elif code == 15:
        for j in range(n):
            dx[j] = _softsign_b(dy[j], x[j], y[j], a)
    else:
        for j in range(n):
            dx[j] = dy[j]


@_jit
def add_to_row(row, b):  # type: ignore[no-untyped-def]
    """``row += b``, one row of a bias add."""
    for j in range(row.shape[0]):
        row[j] += b[j]


@kernel(0)
def bias_add(z, b):  # type: ignore[no-untyped-def]
    """``z += b`` over the rows of ``z (rows, k)`` (NumPy's broadcast add of ``b`` runs its
    inner loop once per row: twice as long here)."""
    for r in range(z.shape[0]):
        add_to_row(z[r], b)


@kernel(0, 2)
def forward(z, b, y, code, alpha, add_bias):  # type: ignore[no-untyped-def]
    """``z += b`` (when ``add_bias``), then ``y = f(z)``, row by row."""
    n, k = z.shape
    for r in range(n):
        if add_bias:
            add_to_row(z[r], b)
        if code == _SOFTMAX or code == _LOG_SOFTMAX:  # noqa: SIM109 (numba)
            top = z[r, 0]
            for j in range(1, k):
                top = max(top, z[r, j])
            total = 0.0
            for j in range(k):
                e = math.exp(z[r, j] - top)
                y[r, j] = e
                total += e
            if code == _SOFTMAX:
                for j in range(k):
                    y[r, j] = y[r, j] / total
            else:
                log_total = math.log(total)
                for j in range(k):
                    y[r, j] = z[r, j] - top - log_total
        else:
            activate_row(code, z[r], y[r], alpha)


@_jit
def _backward_row(dy, x, y, dx, code, alpha):  # type: ignore[no-untyped-def]
    """:func:`backward` on one row."""
    k = dy.shape[0]
    if code == _SOFTMAX or code == _LOG_SOFTMAX:  # noqa: SIM109 (numba)
        total = 0.0
        for j in range(k):
            total += dy[j] * y[j] if code == _SOFTMAX else dy[j]
        for j in range(k):
            if code == _SOFTMAX:
                dx[j] = y[j] * (dy[j] - total)
            else:
                dx[j] = dy[j] - math.exp(y[j]) * total
    else:
        _row_b(code, dy, x, y, dx, alpha)


@kernel(0, 1, 2, 3)
def backward(dy, x, y, dx, code, alpha):  # type: ignore[no-untyped-def]
    """``dx = dy f'(x)``; softmax ``y (dy - sum(dy y))``, log-softmax ``dy - e^y sum(dy)``."""
    for r in range(dy.shape[0]):
        _backward_row(dy[r], x[r], y[r], dx[r], code, alpha)


@block_kernel
def backward_sum(start, stop, dy, x, y, dx, partial, code, alpha):  # type: ignore[no-untyped-def]
    """:func:`backward` and, in the same pass, the column sums of ``dx`` (a bias gradient):
    ``partial[i] = sum of dx over the rows of block i`` (float64; blocks of
    ``ceil(n / len(partial))`` rows), for the blocks ``start <= i < stop``."""
    n, k = dy.shape
    rows = (n + partial.shape[0] - 1) // partial.shape[0]
    for i in range(start, stop):
        for j in range(k):
            partial[i, j] = 0.0
        for r in range(i * rows, min(n, (i + 1) * rows)):
            _backward_row(dy[r], x[r], y[r], dx[r], code, alpha)
            for j in range(k):
                partial[i, j] += dx[r, j]


@kernel(0, 1, 2, 3)
def sigmoid_crossentropy(y, z, value, grad):  # type: ignore[no-untyped-def]
    """Per row: ``value = mean(max(z, 0) - z y + log1p(e))``, ``grad = (sigmoid(z) - y) / k``,
    with ``e = exp(-|z|)`` shared."""
    n, k = z.shape
    inv_k = 1.0 / k
    for r in range(n):
        total = 0.0
        for j in range(k):
            zj, yj = z[r, j], y[r, j]
            e = math.exp(-abs(zj))
            total += max(zj, 0.0) - zj * yj + math.log1p(e)
            p = (1.0 if zj >= 0 else e) / (1.0 + e)
            grad[r, j] = (p - yj) * inv_k
        value[r] = total if k == 1 else total * inv_k


@kernel(0, 1, 2, 3)
def softmax_crossentropy(y, z, value, grad):  # type: ignore[no-untyped-def]
    """Per row: ``value = -sum(y log_softmax(z))``, ``grad = softmax(z) sum(y) - y``."""
    n, k = z.shape
    for r in range(n):
        top = z[r, 0]
        for j in range(1, k):
            top = max(top, z[r, j])
        total = 0.0
        for j in range(k):
            total += math.exp(z[r, j] - top)
        log_total = math.log(total)
        loss = 0.0
        y_sum = 0.0
        for j in range(k):
            loss -= y[r, j] * (z[r, j] - top - log_total)
            y_sum += y[r, j]
        for j in range(k):
            grad[r, j] = math.exp(z[r, j] - top - log_total) * y_sum - y[r, j]
        value[r] = loss
