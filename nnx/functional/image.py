"""Bilinear resampling of image batches under per-sample rotations and translations.

Bilinear interpolation with zero fill is separable in "tent" weights: the value sampled at the
source point ``(u, v)`` is ``sum_{a,b} x[a, b] t(u - a) t(v - b)`` with ``t(s) = max(0, 1 - |s|)``,
so pixels outside the image contribute zero. With ``ky[n, p, a] = t(u_np - a)`` and
``kx[n, p, b] = t(v_np - b)`` for every output pixel ``p``:

    y[n, p, c] = sum_b kx[n, p, b] (ky[n] @ x[n])[p, b, c]

which is one batched matrix product and a weighted sum: no gather. Its vector-Jacobian product
is ``dx[n] = ky[n]^T @ (kx[n, :, :, None] dy[n, :, None, :])``: no scatter either.

>>> from nnx.backends import get_backend
>>> xp = get_backend("numpy").xp
>>> x = xp.reshape(xp.arange(4.0), (1, 2, 2, 1))
>>> ky, kx = affine_weights(xp, 2, 2, xp.zeros(1), xp.asarray([[0.0, 1.0]]))
>>> resample(xp, x, ky, kx)[0, :, :, 0].tolist()  # shifted one pixel right, zero fill
[[0.0, 0.0], [0.0, 2.0]]
"""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device as device_of

from nnx.backends.base import Array

__all__ = ["FILL_MODES", "affine_weights", "resample", "resample_backward"]

#: what :func:`affine_weights` puts outside the image
FILL_MODES = ("constant", "nearest", "reflect")


def affine_weights(
    xp: Any,
    h: int,
    w: int,
    angle: Array,
    shift: Array,
    zoom: Array | None = None,
    fill_mode: str = "constant",
) -> tuple[Array, Array]:
    """Tent weights ``(ky, kx)`` for rotating each image by ``angle[n]`` radians
    (counter-clockwise, about its centre) then shifting it by ``shift[n] = (dy, dx)`` pixels
    (down, right); ``zoom[n] = (zy, zx)`` samples the source ``z`` times as far from the centre
    (``z > 1`` zooms out, as in Keras).

    ``fill_mode`` says what lies outside the image: ``"constant"`` zeros (the tents of
    out-of-range points are zero), ``"nearest"`` the edge pixel (source coordinates clamped),
    ``"reflect"`` the image mirrored about its edges (``d c b a | a b c d | d c b a``). The
    last two move the coordinates before the tents, so the map stays linear in ``x``.

    Shape:
        ``angle (n,)``, ``shift (n, 2)``, ``zoom (n, 2)`` -> ``ky (n, h w, h)``,
        ``kx (n, h w, w)``.
    """
    dtype, device = angle.dtype, device_of(angle)
    rows = xp.arange(h, dtype=dtype, device=device)
    cols = xp.arange(w, dtype=dtype, device=device)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    py = xp.reshape(xp.broadcast_to(rows[:, None], (h, w)), (1, h * w))
    px = xp.reshape(xp.broadcast_to(cols[None, :], (h, w)), (1, h * w))
    ty, tx = shift[:, 0:1], shift[:, 1:2]
    # NOTE: sample the source at the inverse map: undo the shift, then rotate by -angle.
    x = px - tx - cx
    y = cy - (py - ty)  # y axis up, so positive angles turn counter-clockwise on screen
    cos, sin = xp.cos(angle)[:, None], xp.sin(angle)[:, None]
    src_x = cos * x + sin * y
    src_y = -sin * x + cos * y
    if zoom is not None:
        src_y, src_x = src_y * zoom[:, 0:1], src_x * zoom[:, 1:2]
    u = _fill(xp, cy - src_y, h, fill_mode)  # source rows, (n, h w)
    v = _fill(xp, cx + src_x, w, fill_mode)  # source columns
    ky = xp.maximum(1.0 - xp.abs(u[:, :, None] - rows[None, None, :]), 0.0)
    kx = xp.maximum(1.0 - xp.abs(v[:, :, None] - cols[None, None, :]), 0.0)
    return ky, kx


def _fill(xp: Any, u: Array, size: int, fill_mode: str) -> Array:
    """Source coordinates moved into ``[0, size - 1]`` by ``fill_mode`` (``constant``: kept)."""
    if fill_mode == "reflect":
        period = 2.0 * size
        t = (u + 0.5) % period  # a half-sample symmetric reflection repeats every 2 size
        u = xp.where(t >= size, period - t, t) - 0.5
    if fill_mode in ("nearest", "reflect"):
        u = xp.clip(u, 0.0, float(size - 1))
    return u


def resample(xp: Any, x: Array, ky: Array, kx: Array) -> Array:
    """``y[n, p, c] = sum_b kx[n, p, b] (ky[n] @ x[n])[p, b, c]``.

    Shape:
        ``x (n, h, w, c)`` -> ``(n, h, w, c)``.
    """
    n, h, w, c = x.shape
    t = xp.reshape(ky @ xp.reshape(x, (n, h, w * c)), (n, h * w, w, c))
    return xp.reshape(xp.sum(kx[:, :, :, None] * t, axis=2), (n, h, w, c))


def resample_backward(xp: Any, dy: Array, ky: Array, kx: Array) -> Array:
    """The vector-Jacobian product of :func:`resample`: ``dx[n] = ky[n]^T @ (kx dy)``."""
    n, h, w, c = dy.shape
    dt = kx[:, :, :, None] * xp.reshape(dy, (n, h * w, 1, c))
    return xp.reshape(xp.matrix_transpose(ky) @ xp.reshape(dt, (n, h * w, w * c)), (n, h, w, c))


def radians(fraction: float) -> float:
    """A fraction of a full turn in radians (Keras' rotation ``factor`` unit)."""
    return 2.0 * math.pi * fraction
