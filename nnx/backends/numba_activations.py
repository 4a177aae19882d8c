"""Fused activation kernels (numba): bias + activation forward, activation backward, and the
sigmoid / softmax cross-entropy value with its gradient.

Each scalar formula is the one of :mod:`nnx.functional.activations` (and of
:mod:`nnx.functional.losses`), element by element; arrays are 2-d and C-contiguous
(``rows x features``), softmax and log-softmax work along the rows.
"""

from __future__ import annotations

import math

import numba

from nnx.backends.numba_jit import kernel

__all__ = ["CODES", "backward", "forward", "sigmoid_crossentropy", "softmax_crossentropy"]

#: activation name -> the code the kernels branch on
CODES = {
    name: i
    for i, name in enumerate(
        (
            "linear",
            "step",
            "sigmoid",
            "hard_sigmoid",
            "tanh",
            "relu",
            "relu6",
            "leaky_relu",
            "elu",
            "selu",
            "gelu",
            "gelu_exact",
            "swish",
            "silu",
            "softplus",
            "softsign",
            "softmax",
            "log_softmax",
        )
    )
}
_SOFTMAX, _LOG_SOFTMAX = CODES["softmax"], CODES["log_softmax"]
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_GELU_C = math.sqrt(2.0 / math.pi)
_ROOT_2 = math.sqrt(2.0)
_ROOT_2PI = math.sqrt(2.0 * math.pi)


@numba.njit(inline="always")
def _sigmoid(x):  # type: ignore[no-untyped-def]
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


@numba.njit
def _f(code, x, alpha):  # type: ignore[no-untyped-def]
    if code == 0:
        return x
    if code == 1:
        return 1.0 if x >= 0 else 0.0
    if code == 2:
        return _sigmoid(x)
    if code == 3:
        return min(max(x / 6.0 + 0.5, 0.0), 1.0)
    if code == 4:
        return math.tanh(x)
    if code == 5:
        return max(x, 0.0)
    if code == 6:
        return min(max(x, 0.0), 6.0)
    if code == 7:
        return x if x > 0 else alpha * x
    if code == 8:
        return x if x > 0 else alpha * math.expm1(min(x, 0.0))
    if code == 9:
        return _SELU_SCALE * (x if x > 0 else _SELU_ALPHA * math.expm1(min(x, 0.0)))
    if code == 10:
        return 0.5 * x * (1.0 + math.tanh(_GELU_C * (x + 0.044715 * x * x * x)))
    if code == 11:
        return 0.5 * x * (1.0 + math.erf(x / _ROOT_2))
    if code == 12 or code == 13:
        return x * _sigmoid(x)
    if code == 14:
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    return x / (1.0 + abs(x))  # softsign


@numba.njit
def _df(code, dy, x, y, alpha):  # type: ignore[no-untyped-def]
    """``dy * f'(x)`` from the input ``x`` and output ``y`` (elementwise codes only)."""
    if code == 0:
        return dy
    if code == 1:
        return dy * 0.0
    if code == 2:
        return dy * y * (1.0 - y)
    if code == 3:
        return dy / 6.0 if -3.0 < x < 3.0 else 0.0
    if code == 4:
        return dy * (1.0 - y * y)
    if code == 5:
        return dy if x > 0 else 0.0
    if code == 6:
        return dy if 0 < x < 6 else 0.0
    if code == 7:
        return dy if x > 0 else alpha * dy
    if code == 8:
        return dy if x > 0 else dy * (y + alpha)
    if code == 9:
        return _SELU_SCALE * dy if x > 0 else dy * (y + _SELU_SCALE * _SELU_ALPHA)
    if code == 10:
        t = math.tanh(_GELU_C * (x + 0.044715 * x * x * x))
        dt = _GELU_C * (1.0 + 3.0 * 0.044715 * x * x) * (1.0 - t * t)
        return dy * (0.5 * (1.0 + t) + 0.5 * x * dt)
    if code == 11:
        cdf = 0.5 * (1.0 + math.erf(x / _ROOT_2))
        return dy * (cdf + x * (math.exp(-0.5 * x * x) / _ROOT_2PI))
    if code == 12 or code == 13:
        s = _sigmoid(x)
        return dy * s * (1.0 + x * (1.0 - s))
    if code == 14:
        return dy * _sigmoid(x)
    d = 1.0 + abs(x)
    return dy / (d * d)


@kernel(0, 2)
def forward(z, b, y, code, alpha, add_bias):  # type: ignore[no-untyped-def]
    """``z += b`` (when ``add_bias``), then ``y = f(z)``, row by row."""
    n, k = z.shape
    for r in range(n):
        if add_bias:
            for j in range(k):
                z[r, j] += b[j]
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
            for j in range(k):
                y[r, j] = _f(code, z[r, j], alpha)


@kernel(0, 1, 2, 3)
def backward(dy, x, y, dx, code, alpha):  # type: ignore[no-untyped-def]
    """``dx = dy f'(x)``; softmax ``y (dy - sum(dy y))``, log-softmax ``dy - e^y sum(dy)``."""
    n, k = dy.shape
    for r in range(n):
        if code == _SOFTMAX or code == _LOG_SOFTMAX:  # noqa: SIM109 (numba)
            total = 0.0
            for j in range(k):
                total += dy[r, j] * y[r, j] if code == _SOFTMAX else dy[r, j]
            for j in range(k):
                if code == _SOFTMAX:
                    dx[r, j] = y[r, j] * (dy[r, j] - total)
                else:
                    dx[r, j] = dy[r, j] - math.exp(y[r, j]) * total
        else:
            for j in range(k):
                dx[r, j] = _df(code, dy[r, j], x[r, j], y[r, j], alpha)


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
