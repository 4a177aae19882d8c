"""Timestep masks: how padding flows from ``Embedding`` to the recurrent and attention layers
and into the loss and metrics, as in Keras.

A mask is a ``(batch, steps)`` bool array, True where a timestep holds data. The mechanism is
three methods of :class:`~nnx.layers.Layer` and one loop:

- ``compute_mask(x, mask)`` gives the mask of the layer's output. ``Embedding(mask_zero=True)``
  creates one (``x != 0``), and so does the :class:`Masking` layer (a step is valid unless
  all its features equal ``mask_value``); layers that act on each timestep alone (``Dense``,
  ``Dropout``, ``Activation``, ``LayerNormalization``, ``TimeDistributed``) pass it through
  (``supports_masking = True``); a recurrent layer without ``return_sequences`` consumes it;
  every other layer drops it.
- ``forward_masked(x, mask, training=...)`` is ``forward`` told which steps are valid:
  recurrent layers carry their state over masked steps, attention never attends to them.
- :func:`forward_with_mask` runs one layer of a stack; ``Sequential`` threads the mask from
  layer to layer with it (plain ``forward`` while there is no mask) and keeps the last one in
  ``model.output_mask``; a functional graph threads masks from node to node the same way
  (:mod:`nnx.models.graph`).
- :func:`timestep_view` scores a sequence output per timestep: ``y_pred (n, T, k)`` is viewed
  as ``(n T, k)`` and the mask becomes sample weights, so the loss is the mean over valid
  steps (Keras's ``sum(l m) / sum(m)``) and metrics count only valid steps.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> y, p = b.asarray([[1, 2]]), b.asarray([[[0.0, 1, 0], [0.0, 0, 1]]])
>>> _, flat, w, _ = timestep_view(y, p, b.asarray([[True, False]]), None, normalize=True)
>>> flat.shape, w.tolist()
((2, 3), [2.0, 0.0])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.layers.base import Backprop, Layer, register_layer
from nnx.validation import check_float

__all__ = ["MASK_KEYWORDS", "Masking", "float_mask", "forward_with_mask", "timestep_view"]

#: the keywords of a call that give a timestep mask explicitly (Keras's ``layer(x, mask=m)``,
#: ``mha(q, v, query_mask=..., value_mask=..., key_mask=...)``), with the position of the input
#: each one masks; in a graph they replace the masks that came with those inputs
MASK_KEYWORDS = {"mask": 0, "query_mask": 0, "value_mask": 1, "key_mask": 2}


def float_mask(mask: Array, like: Array) -> Array:
    """The bool ``(batch, steps)`` mask as 0/1 of ``like``'s float dtype."""
    xp = array_namespace(like)
    return xp.astype(mask, like.dtype)


def forward_with_mask(
    layer: Any, x: Array, mask: Array | None, *, training: bool
) -> tuple[Array, Callable[[Array], Array], Array | None]:
    """Run ``layer`` on ``x`` whose valid timesteps are ``mask``: ``(y, backprop, y_mask)``."""
    if mask is None:
        y, backprop = layer.forward(x, training=training)
    else:
        y, backprop = layer.forward_masked(x, mask, training=training)
    return y, backprop, layer.compute_mask(x, mask)


def timestep_view(
    y_true: Array,
    y_pred: Array,
    mask: Array | None,
    sample_weight: Array | None,
    *,
    normalize: bool,
) -> tuple[Array, Array, Array | None, Callable[[Array], Array]]:
    """Targets, predictions and weights scored one timestep per row.

    Applies to a sequence output ``y_pred (n, T, k)`` with a mask, or with per-timestep sparse
    labels ``y_true (n, T)``; anything else is returned unchanged. The weight of step ``t`` of
    sample ``i`` is ``m_it w_i``, times ``n T / sum(m)`` when ``normalize`` (for the loss, whose
    reduction divides by the row count ``n T``: the result is the mean over valid steps).

    Returns:
        ``(y_true, y_pred, weights, restore)``; ``restore`` maps a gradient of the viewed
        ``y_pred`` back to the original shape.
    """
    if y_pred.ndim != 3 or tuple(y_true.shape[:2]) != tuple(y_pred.shape[:2]):
        return y_true, y_pred, sample_weight, _same
    if mask is None and y_true.ndim != 2:
        return y_true, y_pred, sample_weight, _same
    xp = array_namespace(y_pred)
    n, steps, k = y_pred.shape
    shape = tuple(y_pred.shape)
    flat_true = xp.reshape(y_true, (n * steps, *y_true.shape[2:]))
    flat_pred = xp.reshape(y_pred, (n * steps, k))
    weights: Array | None = None
    if mask is not None:
        weights = float_mask(mask, y_pred)
        if normalize:
            weights = weights * ((n * steps) / xp.maximum(xp.sum(weights), 1.0))
    if sample_weight is not None:
        sw = xp.reshape(xp.astype(sample_weight, y_pred.dtype), (n, 1))
        weights = xp.broadcast_to(sw, (n, steps)) if weights is None else weights * sw
    flat_weights = None if weights is None else xp.reshape(weights, (n * steps,))

    def restore(grad: Array) -> Array:
        return xp.reshape(grad, shape)

    return flat_true, flat_pred, flat_weights, restore


def _same(grad: Array) -> Array:
    return grad


@register_layer
class Masking(Layer):
    """Mark timesteps whose features all equal ``mask_value`` as padding (Keras's ``Masking``).

    With ``m_t = any(x[:, t, :] != mask_value)``: ``y[:, t] = m_t x[:, t]`` (masked steps
    become zeros), the output's mask is ``m``, and ``dx = m dy``.

    Args:
        mask_value: the padding value.

    Shape:
        Input ``(batch, steps, features)``, output the same.

    >>> from nnx.backends import get_backend
    >>> x = get_backend("numpy").asarray([[[1.0, 2.0], [0.0, 0.0]]])
    >>> Masking().compute_mask(x, None).tolist()
    [[True, False]]
    """

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = check_float(mask_value, "mask_value", who="Masking")

    def compute_mask(self, x: Array, mask: Array | None) -> Array | None:
        """``any(x != mask_value)`` over the features of each step (ANDed with ``mask``)."""
        xp = array_namespace(x)
        valid = xp.any(x != self.mask_value, axis=-1)
        return valid if mask is None else xp.logical_and(valid, mask)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        if x.ndim != 3:
            raise ValueError(
                f"Masking {self.name!r} expects inputs of shape (batch, steps, features), "
                f"received shape {tuple(x.shape)}."
            )
        xp = array_namespace(x)
        m = xp.astype(xp.any(x != self.mask_value, axis=-1, keepdims=True), x.dtype)

        def backprop(dy: Array) -> Array:
            return dy * m

        return x * m, backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}
