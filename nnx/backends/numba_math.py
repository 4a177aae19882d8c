"""``exp``, ``sigmoid`` and ``tanh`` for numba kernels, written so LLVM vectorizes the loops
that call them.

numba compiles ``math.exp`` / ``math.tanh`` / ``np.exp`` to one scalar libm call per element,
which no loop vectorizer can widen (without Intel's SVML, an optional runtime nnx does not
require): a kernel doing a transcendental per element then runs several times slower than
NumPy's own SIMD loops (tanh of 1M float32: 20 ms against 2.7 ms on a Zen 4 core). Here each
function is branch-free arithmetic on the float type itself:

- ``exp(x) = 2^k p(r)`` with ``x = k ln 2 + r``, ``|r| <= ln 2 / 2`` (Cody-Waite: ``ln 2`` in
  two parts), ``p`` Cephes's degree-7 polynomial for ``exp(r)`` on that range, and ``2^k``
  built from its bits as two factors ``2^(k >> 1) 2^(k - (k >> 1))``, so results down to the
  subnormals and up to the overflow to ``inf`` come out right (float32: about 1 ulp);
- ``sigmoid(x) = 1 / (1 + e)`` for ``x >= 0``, ``e / (1 + e)`` below, ``e = exp(-|x|)``: no
  cancellation on either side, one division;
- ``tanh(x) = x P(x^2) / Q(x^2)``, Eigen's rational minimax form on ``[-7.9, 7.9]`` (clamped
  outside, where ``tanh`` is ``±1`` in float32): relative error < 4e-7.

float64 arguments get libm's ``exp`` (and ``sigmoid`` from it) and, for ``tanh``,
``e / (e + 2)`` with ``e = expm1(2|x|)`` by range reduction and a degree-13 Taylor polynomial
(relative error < 1e-15, and it vectorizes too). Each function picks its form from the numba
type of its argument; call them from jitted code only (the plain Python functions here are the
stubs numba replaces, evaluated with :mod:`math` when called from Python). NaN stays NaN, ``±inf``
and ``-0.0`` give what NumPy gives.

Keep float32 arithmetic float32 in the callers: a Python float literal (``0.5 * x``) promotes
a float32 to float64 in numba; use ``np.float32`` constants (:data:`HALF32`).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import overload

__all__ = ["HALF32", "exp", "gate_sigmoid", "in_dtype_of", "sigmoid", "tanh"]

HALF32 = np.float32(0.5)
_ONE32 = np.float32(1.0)
# --- exp, float32 (Cephes expf) --------------------------------------------------------------
_LOG2E32 = np.float32(1.44269504088896341)
_C1_32 = np.float32(0.693359375)  # ln 2 = C1 - C2, C1 exact in 9 bits
_C2_32 = np.float32(-2.12194440e-4)
_EXP_P32 = tuple(
    np.float32(c)
    for c in [
        1.9875691500e-4,
        1.3981999507e-3,
        8.3334519073e-3,
        4.1665795894e-2,
        1.6666665459e-1,
        5.0000001201e-1,
    ]
)
#: past these ``exp`` is ``inf`` / ``0`` in float32 (the clamp keeps ``k`` in range)
_EXP_HI32, _EXP_LO32 = np.float32(89.0), np.float32(-104.0)
# --- tanh, float32 (Eigen's rational form) -------------------------------------------------
_TANH_CLAMP32 = np.float32(7.90531110763549805)
_TANH_P32 = tuple(
    np.float32(a)
    for a in [
        4.89352455891786e-03,
        6.37261928875436e-04,
        1.48572235717979e-05,
        5.12229709037114e-08,
        -8.60467152213735e-11,
        2.00018790482477e-13,
        -2.76076847742355e-16,
    ]
)
_TANH_Q32 = tuple(
    np.float32(b)
    for b in [
        4.89352518554385e-03,
        2.26843463243900e-03,
        1.18534705686654e-04,
        1.19825839466702e-06,
    ]
)
# --- tanh, float64 (expm1 by range reduction) ------------------------------------------------
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
#: ``1 / n!`` for n = 13 down to 2
_TAYLOR = tuple(1.0 / math.factorial(n) for n in range(13, 1, -1))

_jit = numba.njit(error_model="numpy")


@_jit
def _pow2_32(k):  # type: ignore[no-untyped-def]
    """``2^k`` as a float32 for an integer ``k`` with ``-127 < k < 128``, from its bits."""
    return np.int32((k + 127) << 23).view(np.float32)


@_jit
def exp32(x):  # type: ignore[no-untyped-def]
    """``exp(x)`` in float32 arithmetic (Cephes ``expf``, about 1 ulp)."""
    xc = min(max(x, _EXP_LO32), _EXP_HI32)
    kf = np.floor(xc * _LOG2E32 + HALF32)
    r = xc - kf * _C1_32 - kf * _C2_32
    p = _EXP_P32[0]
    for c in _EXP_P32[1:]:
        p = p * r + c
    p = p * (r * r) + r + _ONE32
    k = np.int32(kf)
    k1 = k >> 1
    y = p * _pow2_32(k1) * _pow2_32(k - k1)
    return x if x != x else y


@_jit
def sigmoid32(x):  # type: ignore[no-untyped-def]
    """``1 / (1 + exp(-x))`` in float32, without cancellation for ``x < 0``."""
    e = exp32(-abs(x))
    return (_ONE32 if x >= 0 else e) / (_ONE32 + e)


@_jit
def tanh32(x):  # type: ignore[no-untyped-def]
    """``tanh(x)`` as ``x p(x^2) / q(x^2)`` on ``[-7.9, 7.9]`` (clamped outside), float32."""
    xc = min(max(x, -_TANH_CLAMP32), _TANH_CLAMP32)
    x2 = xc * xc
    p = _TANH_P32[6]
    for c in _TANH_P32[5::-1]:
        p = p * x2 + c
    q = _TANH_Q32[3]
    for c in _TANH_Q32[2::-1]:
        q = q * x2 + c
    y = xc * p / q
    return x if x != x else y


@_jit
def _expm1_small(y):  # type: ignore[no-untyped-def]
    """``exp(y) - 1`` for ``0 <= y <= 40``: ``y = k ln 2 + r``, a degree-13 Taylor polynomial
    for ``expm1(r)``, then ``2^k (expm1(r) + 1) - 1`` (``2^k`` from its bits)."""
    k = math.floor(y * _INV_LN2 + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    p = _TAYLOR[0]
    for c in _TAYLOR[1:]:
        p = p * r + c
    p = p * r * r + r
    scale = np.int64((np.int64(k) + 1023) << 52).view(np.float64)
    return p if k == 0 else scale * (p + 1.0) - 1.0


@_jit
def tanh64(x):  # type: ignore[no-untyped-def]
    """``tanh(x) = e / (e + 2)``, ``e = expm1(2 |x|)``, with the sign of ``x`` (float64)."""
    e = _expm1_small(2.0 * min(abs(x), 20.0))
    t = e / (e + 2.0)
    y = t if x >= 0 else -t
    return x if x != x or x == 0 else y


@_jit
def exp64(x):  # type: ignore[no-untyped-def]
    """libm's ``exp``."""
    return math.exp(x)


@_jit
def sigmoid64(x):  # type: ignore[no-untyped-def]
    """``1 / (1 + exp(-x))`` from libm's ``exp``, without cancellation for ``x < 0``."""
    e = math.exp(-abs(x))
    return (1.0 if x >= 0 else e) / (1.0 + e)


def exp(x):  # type: ignore[no-untyped-def]
    """``exp(x)`` (vectorizable in float32; libm in float64)."""
    return math.exp(x)


def sigmoid(x):  # type: ignore[no-untyped-def]
    """``1 / (1 + exp(-x))`` (vectorizable in float32; libm's ``exp`` in float64)."""
    e = math.exp(-abs(x))
    return (1.0 if x >= 0 else e) / (1.0 + e)


def tanh(x):  # type: ignore[no-untyped-def]
    """``tanh(x)`` (vectorizable in float32 and float64)."""
    return math.tanh(x)


def gate_sigmoid(x):  # type: ignore[no-untyped-def]
    """``sigmoid(x) = (1 + tanh(x / 2)) / 2`` (:func:`nnx.functional.sequence.gate_sigmoid`): the
    recurrent gates' form, one vectorized ``tanh`` (float32: half the time of ``sigmoid``)."""
    return 0.5 * math.tanh(0.5 * x) + 0.5


@_jit
def _gate_sigmoid32(x):  # type: ignore[no-untyped-def]
    return HALF32 * tanh32(HALF32 * x) + HALF32


@_jit
def _gate_sigmoid64(x):  # type: ignore[no-untyped-def]
    return 0.5 * tanh64(0.5 * x) + 0.5


def in_dtype_of(value, like):  # type: ignore[no-untyped-def]
    """``value`` (a float64 sum, a ``1.0 / x``) in the dtype of the array ``like``, so that the
    loop using it stays in that dtype: a float64 scalar would turn a float32 loop into float64
    (half the vector width, two conversions per element)."""
    return like.dtype.type(value)


@overload(in_dtype_of)
def _in_dtype_of(value, like):  # type: ignore[no-untyped-def]
    dtype = like.dtype
    return lambda value, like: dtype(value)


def _by_type(f32, f64):  # type: ignore[no-untyped-def]
    def typed(x):  # type: ignore[no-untyped-def]
        if x == numba.types.float32:
            return lambda x: f32(x)
        if x == numba.types.float64:
            return lambda x: f64(x)
        return None

    return typed


overload(exp)(_by_type(exp32, exp64))
overload(sigmoid)(_by_type(sigmoid32, sigmoid64))
overload(tanh)(_by_type(tanh32, tanh64))
overload(gate_sigmoid)(_by_type(_gate_sigmoid32, _gate_sigmoid64))
