"""Fused optimizer updates over flat buffers, one pass over memory, all cores (numba).

Each kernel is the portable ``update`` of its optimizer in :mod:`nnx.optimizers` plus the
gradient prelude of :class:`~nnx.backends.coefficients.Prelude`, per element ``i``::

    g = clip(g[i] * scale, -clipvalue, clipvalue)      (clipvalue = inf: no clip)
    w = w[i] * decay                                     (decoupled weight decay)
    the optimizer's update of w and its slots, with the same operation order as the
    portable code, so float64 results agree to the last few bits.

Slot arrays an option switches off (momentum 0, not centered, not amsgrad) are passed as
empty arrays and never read.
"""

from __future__ import annotations

import math

import numba

from nnx.backends.numba_jit import kernel

__all__ = ["adadelta", "adagrad", "adam", "nadam", "rmsprop", "sgd"]


@numba.njit(inline="always")
def _grad(g: float, scale: float, clip: float) -> float:
    return min(max(g * scale, -clip), clip)  # branch-free, so the loops vectorize


@kernel(0, 1, 2)
def sgd(w, g, v, lr, mu, nesterov, decay, scale, clip):  # type: ignore[no-untyped-def]
    """``v = mu v - lr g``; ``w += v`` (Nesterov: ``w += mu v - lr g``); ``w -= lr g``
    without momentum."""
    for i in range(w.shape[0]):
        lg = _grad(g[i], scale, clip) * lr
        wi = w[i] * decay
        if mu != 0.0:
            vi = v[i] * mu - lg
            v[i] = vi
            wi = wi - lg + vi * mu if nesterov else wi + vi
        else:
            wi = wi - lg
        w[i] = wi


@kernel(0, 1, 2, 3, 4)
def adam(w, g, m, v, v_max, b1, b2, step, eps, amsgrad, decay, scale, clip):  # type: ignore[no-untyped-def]
    """``m = b1 (m - g) + g``, ``v = b2 (v - g^2) + g^2``, ``w -= step m / (sqrt(v) + eps)``
    (AMSGrad: the running maximum of ``v`` in the denominator)."""
    for i in range(w.shape[0]):
        gi = _grad(g[i], scale, clip)
        mi = (m[i] - gi) * b1 + gi
        gg = gi * gi
        vi = (v[i] - gg) * b2 + gg
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = max(v_max[i], vi)
            v_max[i] = vi
        w[i] = w[i] * decay - mi / (math.sqrt(vi) + eps) * step


@kernel(0, 1, 2, 3)
def nadam(w, g, m, v, b1, b2, cm, cg, eps, decay, scale, clip):  # type: ignore[no-untyped-def]
    """Adam's moments, then ``w -= (cm m + cg g) / (sqrt(v) + eps)``."""
    for i in range(w.shape[0]):
        gi = _grad(g[i], scale, clip)
        mi = (m[i] - gi) * b1 + gi
        gg = gi * gi
        vi = (v[i] - gg) * b2 + gg
        m[i] = mi
        v[i] = vi
        w[i] = w[i] * decay - (mi * cm + gi * cg) / (math.sqrt(vi) + eps)


@kernel(0, 1, 2, 3, 4)
def rmsprop(w, g, v, m, mg, lr, rho, one_minus_rho, mu, eps, centered, decay, scale, clip):  # type: ignore[no-untyped-def]
    """``v = rho v + (1 - rho) g^2``; ``inc = lr g / sqrt(v - mg^2 + eps)`` (``mg`` only when
    centered); ``m = mu m + inc``, ``w -= m`` (or ``w -= inc`` without momentum)."""
    for i in range(w.shape[0]):
        gi = _grad(g[i], scale, clip)
        vi = v[i] * rho + gi * gi * one_minus_rho
        v[i] = vi
        if centered:
            mgi = (mg[i] - gi) * rho + gi
            mg[i] = mgi
            denom = vi - mgi * mgi + eps
        else:
            denom = vi + eps
        inc = gi * lr / math.sqrt(denom)
        wi = w[i] * decay
        if mu != 0.0:
            mi = m[i] * mu + inc
            m[i] = mi
            w[i] = wi - mi
        else:
            w[i] = wi - inc


@kernel(0, 1, 2)
def adagrad(w, g, acc, lr, eps, decay, scale, clip):  # type: ignore[no-untyped-def]
    """``acc += g^2``, ``w -= lr g / sqrt(acc + eps)``."""
    for i in range(w.shape[0]):
        gi = _grad(g[i], scale, clip)
        a = acc[i] + gi * gi
        acc[i] = a
        w[i] = w[i] * decay - gi * lr / math.sqrt(a + eps)


@kernel(0, 1, 2, 3)
def adadelta(w, g, eg, edx, lr, rho, one_minus_rho, eps, decay, scale, clip):  # type: ignore[no-untyped-def]
    """``Eg = rho Eg + (1 - rho) g^2``, ``d = g sqrt((Edx + eps) / (Eg + eps))``,
    ``Edx = rho Edx + (1 - rho) d^2``, ``w -= lr d``."""
    for i in range(w.shape[0]):
        gi = _grad(g[i], scale, clip)
        e = eg[i] * rho + gi * gi * one_minus_rho
        eg[i] = e
        d = math.sqrt((edx[i] + eps) / (e + eps)) * gi
        edx[i] = edx[i] * rho + d * d * one_minus_rho
        w[i] = w[i] * decay - d * lr
