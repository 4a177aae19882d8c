"""Keras's activation layers with parameters: ``ReLU``, ``LeakyReLU``, ``ELU``, ``Softmax``,
``PReLU``.

``Activation("relu")`` covers the plain functions; these take Keras's arguments
(``ReLU(max_value=6.0)``, ``LeakyReLU(negative_slope=0.3)``, ``Softmax(axis=1)``) and
``PReLU`` learns its slopes. Each is elementwise (``Softmax``: over its axes), keeps the
input's shape and passes a timestep mask through.

>>> from nnx.backends import get_backend
>>> x = get_backend("numpy").asarray([[-2.0, 1.0, 8.0]])
>>> ReLU(max_value=6.0)(x).tolist(), LeakyReLU(0.5)(x).tolist()
([[0.0, 1.0, 6.0]], [[-1.0, 1.0, 8.0]])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends.base import Array, Generator, array_namespace
from nnx.layers.activation import Activation
from nnx.layers.base import Backprop, Layer, Shape, register_layer, serialize_or_none
from nnx.layers.parameter import Parameter
from nnx.validation import check_float

__all__ = ["ELU", "PReLU", "ReLU", "LeakyReLU", "Softmax"]


@register_layer
class ReLU(Layer):
    """Rectified linear unit with Keras's options::

        y = min(x, max_value)               if x >= threshold
        y = negative_slope (x - threshold)  otherwise

    backward ``dx = dy`` where ``threshold <= x < max_value``, ``negative_slope dy`` below the
    threshold, 0 at or above ``max_value``.

    Args:
        max_value: the largest output (``None``: no cap); >= 0.
        negative_slope: the slope below the threshold; >= 0.
        threshold: where the unit switches on; >= 0.
    """

    supports_masking = True

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_value = None
        if max_value is not None:
            self.max_value = check_float(max_value, "max_value", who="ReLU", minimum=0.0)
        self.negative_slope = check_float(negative_slope, "negative_slope", who="ReLU", minimum=0.0)
        self.threshold = check_float(threshold, "threshold", who="ReLU", minimum=0.0)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = array_namespace(x)
        on = x >= self.threshold
        slope = self.negative_slope
        y = xp.where(on, x, slope * (x - self.threshold) if slope else xp.zeros_like(x))
        capped = None
        if self.max_value is not None:
            capped = x >= self.max_value
            y = xp.where(capped, xp.full_like(x, self.max_value), y)

        def backprop(dy: Array) -> Array:
            dx = xp.where(on, dy, slope * dy if slope else xp.zeros_like(dy))
            return dx if capped is None else xp.where(capped, xp.zeros_like(dy), dx)

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


@register_layer
class LeakyReLU(Activation):
    """``y = x`` for ``x >= 0``, ``negative_slope x`` below (Keras's default slope 0.3).

    ``alpha=`` (tf.keras 2's name) is accepted with a deprecation warning, as Keras 3 does.
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            warnings.warn(
                "LeakyReLU: argument `alpha` is deprecated, use `negative_slope`.",
                DeprecationWarning,
                stacklevel=2,
            )
            negative_slope = kwargs.pop("alpha")
        slope = check_float(negative_slope, "negative_slope", who="LeakyReLU", minimum=0.0)
        super().__init__("leaky_relu", alpha=slope, **kwargs)
        self.negative_slope = slope

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["activation"]
        return {**config, "negative_slope": self.negative_slope}


@register_layer
class ELU(Activation):
    """``y = x`` for ``x > 0``, ``alpha (exp(x) - 1)`` below."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        value = check_float(alpha, "alpha", who="ELU")
        super().__init__("elu", alpha=value, **kwargs)
        self.alpha = value

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["activation"]
        return {**config, "alpha": self.alpha}


def _axes(axis: int | Sequence[int], rank: int | None, who: str) -> tuple[int, ...]:
    """``axis`` as non-negative axes of a ``rank``-dimensional input (batch included); with
    ``rank`` None only the types and the batch axis 0 are checked."""
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    limit = 1 << 30 if rank is None else rank
    out = []
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool) or not -limit <= a < limit or a == 0:
            shape = "" if rank is None else f" of rank {rank}"
            raise ValueError(
                f"{who}: axis must name axes of the input{shape} other than the batch axis 0, "
                f"received axis={axis!r}."
            )
        if rank is not None and a % rank == 0:
            raise ValueError(f"{who}: axis={axis!r} is the batch axis of inputs of rank {rank}.")
        out.append(a if rank is None else a % rank)
    return tuple(sorted(set(out)))


@register_layer
class Softmax(Layer):
    """``y = exp(x - max x) / sum exp(x - max x)`` over ``axis`` (default the last);
    backward ``dx = y (dy - sum(dy y))`` over the same axes.

    Args:
        axis: an axis or axes (never the batch axis).
    """

    supports_masking = True

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis: int | tuple[int, ...] = axis if isinstance(axis, int) else tuple(axis)
        _axes(self.axis, None, f"Softmax {self.name!r}")

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = array_namespace(x)
        axes = _axes(self.axis, x.ndim, f"Softmax {self.name!r}")
        e = xp.exp(x - xp.max(x, axis=axes, keepdims=True))
        y = e / xp.sum(e, axis=axes, keepdims=True)

        def backprop(dy: Array) -> Array:
            return y * (dy - xp.sum(dy * y, axis=axes, keepdims=True))

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        axis = self.axis if isinstance(self.axis, int) else list(self.axis)
        return {**super().get_config(), "axis": axis}


@register_layer
class PReLU(Layer):
    """Parametric ReLU: ``y = max(0, x) + alpha min(0, x)`` with a learned ``alpha`` per
    input element (one per channel with ``shared_axes``)::

        dx = dy (x > 0 ? 1 : alpha)        d alpha = sum over batch and shared axes of dy min(0, x)

    Args:
        alpha_initializer: initializer of ``alpha`` (``"zeros"``: starts as a ReLU).
        alpha_regularizer: optional penalty on ``alpha``.
        alpha_constraint: optional projection of ``alpha`` after each optimizer update.
        shared_axes: axes (1-based, as in Keras: 1 is the first axis after the batch) along
            which ``alpha`` is shared, e.g. ``[1, 2]`` for one slope per channel of images.
    """

    supports_masking = True

    def __init__(
        self,
        alpha_initializer: Any = "zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = self.check_constraint(alpha_constraint, "alpha_constraint")
        shared = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes or [])
        if any(not isinstance(a, int) or isinstance(a, bool) or a < 1 for a in shared):
            raise ValueError(
                f"PReLU: shared_axes must be axes >= 1 (1 is the first axis after the batch), "
                f"received shared_axes={shared_axes!r}."
            )
        self.shared_axes = sorted(set(shared))
        self.alpha: Parameter | None = None

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        bad = [a for a in self.shared_axes if a > len(input_shape)]
        if bad:
            raise ValueError(
                f"PReLU {self.name!r}: shared_axes {bad} beyond the input's "
                f"{len(input_shape)} axes after the batch (input shape (batch, "
                f"{', '.join(str(d) for d in input_shape)}))."
            )
        shape = [1 if i + 1 in self.shared_axes else d for i, d in enumerate(input_shape)]
        known = [d for d in shape if d is not None]
        if len(known) != len(shape):
            raise ValueError(
                f"PReLU {self.name!r} needs known sizes on its unshared axes, received input "
                f"shape {tuple(input_shape)}; share the unknown ones with shared_axes."
            )
        self.alpha = self.add_weight(
            "alpha", tuple(known), self.alpha_initializer, rng,
            self.alpha_regularizer, constraint=self.alpha_constraint,
        )  # fmt: skip

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        assert self.alpha is not None
        xp = array_namespace(x)
        alpha = self.alpha
        negative = xp.minimum(x, xp.zeros_like(x))
        y = xp.maximum(x, xp.zeros_like(x)) + alpha.value * negative
        reduce = (0, *self.shared_axes)

        def backprop(dy: Array) -> Array:
            alpha.grad = xp.sum(dy * negative, axis=reduce, keepdims=True)[0, ...]
            return xp.where(x > 0, dy, dy * alpha.value)

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "alpha_initializer": serialize_or_none(self.alpha_initializer),
            "alpha_regularizer": serialize_or_none(self.alpha_regularizer),
            "alpha_constraint": serialize_or_none(self.alpha_constraint),
            "shared_axes": list(self.shared_axes) or None,
        }
