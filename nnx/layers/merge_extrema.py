"""``Maximum`` and ``Minimum``: the elementwise extreme of a list of tensors, with Keras 3's
masking (``keras/src/layers/merging/base_merge.py``, ``_apply_merge_op_and_or_mask``).

Masked entries take no part: ``y`` is the largest (smallest) valid entry, the first input's
entry where no input is valid; the output mask is the OR of the inputs' masks when every input
has one. The gradient goes to the entry chosen (the first one on a tie).

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> Maximum()([b.asarray([[1.0, 5.0]]), b.asarray([[3.0, 2.0]])])
array([[3., 5.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from array_api_compat import device as device_of

from nnx.backends.base import Array, array_namespace
from nnx.layers.base import register_layer
from nnx.layers.merge import Merge, broadcast_mask

__all__ = ["Maximum", "Minimum", "maximum", "minimum"]


class _Extremum(Merge):
    largest = True

    def merge(self, xs: list[Array]) -> tuple[Array, Any]:
        return self._pick(xs, [None] * len(xs))

    def forward_masked(self, x: Any, mask: Any, *, training: bool = False) -> tuple[Array, Any]:
        xs = self._check(x)
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None] * len(xs)
        return self._pick(xs, masks)

    def _pick(self, xs: list[Array], masks: list[Array | None]) -> tuple[Array, Any]:
        """``y = x_w``, ``w`` the first valid input holding the extreme (0 where none is
        valid); ``dx_i = [w = i] dy``."""
        xp = array_namespace(xs[0])
        best = xs[0]
        where = device_of(best)
        winner = xp.zeros(tuple(best.shape), dtype=xp.int32, device=where)
        seen = None if masks[0] is None else broadcast_mask(masks[0], best)
        for i, (a, m) in enumerate(zip(xs[1:], masks[1:], strict=True), start=1):
            take = a > best if self.largest else a < best
            if seen is not None:
                take = xp.logical_or(take, xp.logical_not(seen))
            if m is not None:
                valid = broadcast_mask(m, a)
                take = xp.logical_and(take, valid)
                seen = None if seen is None else xp.logical_or(seen, valid)
            else:
                seen = None
            best = xp.where(take, a, best)
            winner = xp.where(take, xp.asarray(i, dtype=xp.int32, device=where), winner)
        zero = xp.zeros((), dtype=best.dtype, device=where)

        def backprop(dy: Array) -> list[Array]:
            return [xp.where(winner == i, dy, zero) for i in range(len(xs))]

        return best, backprop


@register_layer
class Maximum(_Extremum):
    """Elementwise maximum: ``y = max_i x_i``; backward ``dx_i = dy`` where ``x_i`` is the
    maximum (the first input on a tie), else 0. Masked entries are left out (see the module).

    Shape:
        Inputs of one shape; output the same.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> Maximum()([b.asarray([[1.0]]), b.asarray([[4.0]]), b.asarray([[2.0]])])
    array([[4.]])
    """


@register_layer
class Minimum(_Extremum):
    """Elementwise minimum: ``y = min_i x_i``; backward ``dx_i = dy`` where ``x_i`` is the
    minimum (the first input on a tie), else 0. Masked entries are left out (see the module).

    Shape:
        Inputs of one shape; output the same.

    >>> from nnx.backends import get_backend
    >>> b = get_backend("numpy")
    >>> Minimum()([b.asarray([[1.0]]), b.asarray([[4.0]])])
    array([[1.]])
    """

    largest = False


def maximum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Maximum(**kwargs)(inputs)`` (Keras's ``layers.maximum``)."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Minimum(**kwargs)(inputs)`` (Keras's ``layers.minimum``)."""
    return Minimum(**kwargs)(inputs)
