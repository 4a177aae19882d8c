"""Activation functions and their vector-Jacobian products, in pure Array API.

Each forward ``f(x)`` has a backward ``f_backward(dy, x, y) -> dx`` computing ``dy * f'(x)``
(or the full Jacobian-vector product for softmax); it may use the input ``x``, the output ``y``
or both, whichever is cheaper. Every form is stable for ``|x|`` up to 1e4: no overflow, no NaN.

>>> from nnx.backends import get_backend
>>> x = get_backend("numpy").asarray([-1.0, 2.0])
>>> relu(x).tolist(), relu_backward(x * 0 + 1, x, relu(x)).tolist()
([0.0, 2.0], [0.0, 1.0])
"""

from __future__ import annotations

import math

from nnx.backends.base import Array, array_namespace

__all__ = [
    "SELU_ALPHA",
    "SELU_SCALE",
    "elu",
    "elu_backward",
    "gelu",
    "gelu_backward",
    "gelu_exact",
    "gelu_exact_backward",
    "hard_sigmoid",
    "hard_sigmoid_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "linear",
    "linear_backward",
    "log_softmax",
    "log_softmax_backward",
    "relu",
    "relu6",
    "relu6_backward",
    "relu_backward",
    "selu",
    "selu_backward",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_backward",
    "softplus",
    "softplus_backward",
    "softsign",
    "softsign_backward",
    "step",
    "step_backward",
    "swish",
    "swish_backward",
    "tanh",
    "tanh_backward",
]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
_GELU_C = math.sqrt(2.0 / math.pi)


def linear(x: Array) -> Array:
    """Identity: ``y = x``."""
    return x


def linear_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy``."""
    return dy


def step(x: Array) -> Array:
    """Heaviside step: ``y = 1 if x >= 0 else 0``.

    Its derivative is zero almost everywhere (undefined at 0), so gradient descent cannot train
    through it; the perceptron learning rule can. The backward returns zeros.
    """
    xp = array_namespace(x)
    return xp.astype(x >= 0, x.dtype)


def step_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = 0``: the step has no useful gradient (see :func:`step`)."""
    return dy * 0


def sigmoid(x: Array) -> Array:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, from ``exp(-|x|)`` so nothing overflows."""
    xp = array_namespace(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy * y * (1 - y)``."""
    return dy * y * (1 - y)


def hard_sigmoid(x: Array) -> Array:
    """Piecewise-linear sigmoid ``clip(x / 6 + 1/2, 0, 1)`` (Keras 3)."""
    xp = array_namespace(x)
    return xp.clip(x / 6 + 0.5, 0.0, 1.0)


def hard_sigmoid_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy / 6`` where ``-3 < x < 3``, else 0."""
    xp = array_namespace(x)
    return xp.where((x > -3) & (x < 3), dy / 6, 0.0)


def tanh(x: Array) -> Array:
    """Hyperbolic tangent."""
    return array_namespace(x).tanh(x)


def tanh_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy * (1 - y^2)``."""
    return dy * (1 - y * y)


def relu(x: Array) -> Array:
    """Rectified linear unit ``max(x, 0)``."""
    return array_namespace(x).maximum(x, 0.0)


def relu_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy * [x > 0]``."""
    return array_namespace(x).where(x > 0, dy, 0.0)


def relu6(x: Array) -> Array:
    """``min(max(x, 0), 6)``."""
    return array_namespace(x).clip(x, 0.0, 6.0)


def relu6_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy * [0 < x < 6]``."""
    return array_namespace(x).where((x > 0) & (x < 6), dy, 0.0)


def leaky_relu(x: Array, alpha: float = 0.01) -> Array:
    """``x if x > 0 else alpha * x``."""
    return array_namespace(x).where(x > 0, x, alpha * x)


def leaky_relu_backward(dy: Array, x: Array, y: Array, alpha: float = 0.01) -> Array:
    """``dx = dy`` where ``x > 0``, else ``alpha * dy``."""
    return array_namespace(x).where(x > 0, dy, alpha * dy)


def elu(x: Array, alpha: float = 1.0) -> Array:
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    xp = array_namespace(x)
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0.0)))


def elu_backward(dy: Array, x: Array, y: Array, alpha: float = 1.0) -> Array:
    """``dx = dy`` where ``x > 0``, else ``dy * (y + alpha)``."""
    return array_namespace(x).where(x > 0, dy, dy * (y + alpha))


def selu(x: Array) -> Array:
    """Scaled ELU, ``scale * elu(x, alpha)`` with the self-normalising constants."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = scale * dy`` where ``x > 0``, else ``dy * (y + scale * alpha)``."""
    return array_namespace(x).where(x > 0, SELU_SCALE * dy, dy * (y + SELU_SCALE * SELU_ALPHA))


def gelu(x: Array) -> Array:
    """GELU, tanh approximation: ``x/2 * (1 + tanh(c * (x + 0.044715 x^3)))``, c = sqrt(2/pi)."""
    xp = array_namespace(x)
    return 0.5 * x * (1 + xp.tanh(_GELU_C * (x + 0.044715 * x * x * x)))


def gelu_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy * (1/2 (1 + t) + x/2 * c (1 + 3 * 0.044715 x^2) (1 - t^2))``, ``t`` the tanh."""
    xp = array_namespace(x)
    t = xp.tanh(_GELU_C * (x + 0.044715 * x * x * x))
    dt = _GELU_C * (1 + 3 * 0.044715 * x * x) * (1 - t * t)
    return dy * (0.5 * (1 + t) + 0.5 * x * dt)


def gelu_exact(x: Array) -> Array:
    """GELU with the error function: ``x/2 * (1 + erf(x / sqrt(2)))`` (erf from the backend)."""
    from nnx.backends import backend_of

    return 0.5 * x * (1 + backend_of(x).erf(x / math.sqrt(2.0)))


def gelu_exact_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy * (Phi(x) + x phi(x))`` with the normal CDF Phi and density phi."""
    from nnx.backends import backend_of

    xp = array_namespace(x)
    cdf = 0.5 * (1 + backend_of(x).erf(x / math.sqrt(2.0)))
    pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return dy * (cdf + x * pdf)


def swish(x: Array) -> Array:
    """Swish / SiLU: ``x * sigmoid(x)``."""
    return x * sigmoid(x)


def swish_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy * s * (1 + x * (1 - s))`` with ``s = sigmoid(x)``."""
    s = sigmoid(x)
    return dy * s * (1 + x * (1 - s))


def softplus(x: Array) -> Array:
    """``log(1 + exp(x))`` as ``max(x, 0) + log1p(exp(-|x|))``."""
    xp = array_namespace(x)
    return xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x)))


def softplus_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy * sigmoid(x)``."""
    return dy * sigmoid(x)


def softsign(x: Array) -> Array:
    """``x / (1 + |x|)``."""
    return x / (1 + array_namespace(x).abs(x))


def softsign_backward(dy: Array, x: Array, y: Array) -> Array:
    """``dx = dy / (1 + |x|)^2``."""
    d = 1 + array_namespace(x).abs(x)
    return dy / (d * d)


def softmax(x: Array, axis: int = -1) -> Array:
    """``exp(x - max) / sum(exp(x - max))`` along ``axis``."""
    xp = array_namespace(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def softmax_backward(dy: Array, x: Array, y: Array, axis: int = -1) -> Array:
    """``dx = y * (dy - sum(dy * y))`` along ``axis``."""
    xp = array_namespace(y)
    return y * (dy - xp.sum(dy * y, axis=axis, keepdims=True))


def log_softmax(x: Array, axis: int = -1) -> Array:
    """``x - max - log(sum(exp(x - max)))`` along ``axis``."""
    xp = array_namespace(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def log_softmax_backward(dy: Array, x: Array, y: Array, axis: int = -1) -> Array:
    """``dx = dy - exp(y) * sum(dy)`` along ``axis``."""
    xp = array_namespace(y)
    return dy - xp.exp(y) * xp.sum(dy, axis=axis, keepdims=True)
