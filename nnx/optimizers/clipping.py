"""Gradient clipping, on the device: the functions behind ``clipnorm``, ``clipvalue`` and
``global_clipnorm``. Each returns a new array; the gradient handed in is never modified.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> clip_by_norm(b.xp, b.asarray([3.0, 4.0], dtype="float64"), 1.0).tolist()
[0.6, 0.8]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.layers.parameter import Parameter

__all__ = ["clip_by_norm", "clip_by_value", "global_clip_scale"]


def clip_by_norm(xp: Any, g: Array, clipnorm: float) -> Array:
    """``g * clipnorm / max(||g||, clipnorm)``: ``g`` rescaled to an L2 norm of at most
    ``clipnorm``."""
    return g * (clipnorm / xp.clip(xp.sum(g * g) ** 0.5, min=clipnorm))


def clip_by_value(xp: Any, g: Array, clipvalue: float) -> Array:
    """Each element of ``g`` clipped to ``[-clipvalue, clipvalue]``.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> clip_by_value(b.xp, b.asarray([-3.0, 0.5]), 1.0).tolist()
    [-1.0, 0.5]
    """
    return xp.clip(g, -clipvalue, clipvalue)


def global_clip_scale(parameters: Sequence[Parameter], clipnorm: float) -> Array | None:
    """``clipnorm / max(||all grads||, clipnorm)``, a 0-d array to multiply every gradient by
    (their joint L2 norm is then at most ``clipnorm``); None when no parameter has a gradient."""
    grads = [p.grad for p in parameters if p.grad is not None and p.trainable]
    if not grads:
        return None
    xp = array_namespace(grads[0])
    return clipnorm / xp.clip(sum(xp.sum(g * g) for g in grads) ** 0.5, min=clipnorm)
