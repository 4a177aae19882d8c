"""Keras's rank rule between targets and predictions, moving only the targets.

Keras lines ``y_true`` up with ``y_pred`` by ``squeeze_or_expand_to_same_rank``: when the ranks
differ by one and the longer array's last axis is 1, the shorter gains that axis (a rank-1
array) or the longer loses it. nnx applies the same rule but only ever reshapes the *targets*:
the prediction's shape is the one its gradient must keep. So ``(n,)`` labels meet an ``(n, 1)``
output as ``(n, 1)``, and ``(n, 1)`` targets meet an ``(n,)`` output as ``(n,)``; every other
pair is left as it is (and a shape check downstream reports it).

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> match_target_rank(b.asarray([0.0, 1.0]), (2, 1)).shape
(2, 1)
>>> match_target_rank(b.asarray([0.0, 1.0]), (2, 3)).shape  # ambiguous: left alone
(2,)
"""

from __future__ import annotations

from collections.abc import Sequence

from nnx.backends.base import Array, array_namespace

__all__ = ["match_target_rank"]


def match_target_rank(y_true: Array, pred_shape: Sequence[int | None]) -> Array:
    """``y_true`` with one trailing size-1 axis added or removed to reach ``pred_shape``'s rank.

    Args:
        y_true: targets, batch axis first.
        pred_shape: the full shape of the predictions (batch axis included).

    Returns:
        ``y_true`` reshaped (a view where the backend gives one), or unchanged when the ranks
        already agree or no size-1 axis explains the difference.

    Shape:
        ``(n,)`` against ``(n, 1)`` -> ``(n, 1)``; ``(n, ..., 1)`` against ``(n, ...)`` ->
        ``(n, ...)``.
    """
    rank, target = len(y_true.shape), len(pred_shape)
    xp = array_namespace(y_true)
    if rank + 1 == target and pred_shape[-1] == 1:
        return xp.expand_dims(y_true, axis=-1)
    if rank == target + 1 and rank > 1 and y_true.shape[-1] == 1:
        return xp.squeeze(y_true, axis=-1)
    return y_true
