"""``LayerNormalization``, and the base shared with ``BatchNormalization``."""

from __future__ import annotations

from typing import Any

import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends.base import Array, Generator
from nnx.layers.base import Backprop, Layer, Shape, register_layer, serialize_or_none
from nnx.layers.parameter import Parameter
from nnx.validation import check_float

__all__ = ["LayerNormalization", "Normalization", "normalize_backward"]


def normalize_backward(xp: Any, dxhat: Array, xhat: Array, inv: Array, axes: Any) -> Array:
    """``dx = inv (dxhat - mean(dxhat) - xhat mean(dxhat xhat))`` over the reduced ``axes``."""
    mean_d = xp.mean(dxhat, axis=axes, keepdims=True)
    mean_dx = xp.mean(dxhat * xhat, axis=axes, keepdims=True)
    return inv * (dxhat - mean_d - xhat * mean_dx)


class Normalization(Layer):
    """The shared part of the normalization layers: ``epsilon``, and the learned affine map
    ``y = gamma xhat + beta`` (``scale`` / ``center``) with its initializers and regularizers.

    Subclasses compute ``xhat`` in ``forward`` and create their weights in
    ``build_parameters`` (the affine ones with :meth:`affine_weights`).
    """

    def __init__(
        self,
        epsilon: float,
        center: bool,
        scale: bool,
        beta_initializer: Any,
        gamma_initializer: Any,
        beta_regularizer: Any,
        gamma_regularizer: Any,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.epsilon = check_float(
            epsilon, "epsilon", who=type(self).__name__, minimum=0.0, minimum_open=True
        )
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.beta_constraint = self.check_constraint(beta_constraint, "beta_constraint")
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma_constraint = self.check_constraint(gamma_constraint, "gamma_constraint")
        self.gamma: Parameter | None = None
        self.beta: Parameter | None = None

    def feature_size(self, input_shape: Shape, axis: int) -> int:
        """The size of the normalized feature ``axis`` of one sample (it must be known)."""
        n = input_shape[axis]
        if n is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a known axis {axis} size.")
        return n

    def affine_weights(self, n: int, rng: Generator) -> None:
        """Create ``gamma`` (``scale``) and ``beta`` (``center``), each of shape ``(n,)``."""
        if self.scale:
            self.gamma = self.add_weight(
                "gamma",
                (n,),
                self.gamma_initializer,
                rng,
                self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.beta = self.add_weight(
                "beta",
                (n,),
                self.beta_initializer,
                rng,
                self.beta_regularizer,
                constraint=self.beta_constraint,
            )

    def affine(self, xp: Any, xhat: Array, shape: tuple[int, ...]) -> Array:
        """``y = gamma xhat + beta``, the weights reshaped to ``shape`` to broadcast."""
        y = xhat
        if self.gamma is not None:
            y = y * xp.reshape(self.gamma.value, shape)
        if self.beta is not None:
            y = y + xp.reshape(self.beta.value, shape)
        return y

    def affine_backward(
        self, xp: Any, dy: Array, xhat: Array, shape: tuple[int, ...], axes: Any
    ) -> Array:
        """Set ``d gamma = sum dy xhat``, ``d beta = sum dy``; return ``d xhat``."""
        if self.beta is not None:
            self.beta.grad = xp.sum(dy, axis=axes)
        if self.gamma is None:
            return dy
        self.gamma.grad = xp.sum(dy * xhat, axis=axes)
        return dy * xp.reshape(self.gamma.value, shape)

    def get_config(self) -> dict[str, Any]:
        """The layer's config plus the shared normalization arguments."""
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize_or_none(self.beta_initializer),
            "gamma_initializer": serialize_or_none(self.gamma_initializer),
            "beta_regularizer": serialize_or_none(self.beta_regularizer),
            "beta_constraint": serialize_or_none(self.beta_constraint),
            "gamma_regularizer": serialize_or_none(self.gamma_regularizer),
            "gamma_constraint": serialize_or_none(self.gamma_constraint),
        }


@register_layer
class LayerNormalization(Normalization):
    """Normalize each sample over its last axis: ``xhat = (x - mu) / sqrt(var + epsilon)``,
    ``y = gamma xhat + beta`` with ``mu, var`` per sample (the same in training and inference).

    Backward, over the ``n`` features: ``dx = (1 / sqrt(var + eps)) (g - mean(g) - xhat
    mean(g xhat))`` with ``g = dy gamma``; ``d gamma = sum dy xhat``, ``d beta = sum dy``.

    Args:
        epsilon: added to the variance (default 1e-3, as Keras).
        center, scale, beta_initializer, gamma_initializer, beta_regularizer,
        gamma_regularizer, beta_constraint, gamma_constraint: as in
        :class:`BatchNormalization`.

    Shape:
        Input ``(batch, *dims)``, output the same; ``gamma`` and ``beta`` are ``(dims[-1],)``.

    >>> from nnx.backends import get_backend
    >>> LayerNormalization(epsilon=1e-6)(get_backend("numpy").asarray([[1.0, 3.0]])).round(4)
    array([[-1.,  1.]])
    """

    supports_masking = True  # acts on each timestep alone: a mask passes through

    def __init__(
        self,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            epsilon,
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
            **kwargs,
        )

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        self.affine_weights(self.feature_size(input_shape, -1), rng)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        backend = self.backend
        assert backend is not None
        gamma = None if self.gamma is None else self.gamma.value
        beta = None if self.beta is None else self.beta.value
        fused = backend.layer_norm(x, gamma, beta, self.epsilon)
        if fused is None:
            return self._forward_portable(x)
        y, mean, inv = fused  # the backward recomputes xhat from x: nothing else is kept

        def backprop(dy: Array) -> Array:
            grads = backend.layer_norm_backward(dy, x, mean, inv, gamma)
            if grads is None:
                return self._backward_portable(dy, (x - mean) * inv, inv)
            dx, dgamma, dbeta = grads
            if self.gamma is not None:
                self.gamma.grad = dgamma
            if self.beta is not None:
                self.beta.grad = dbeta
            return dx

        return y, backprop

    def _forward_portable(self, x: Array) -> tuple[Array, Backprop]:
        xp = self.backend.xp  # type: ignore[union-attr]
        mean = xp.mean(x, axis=-1, keepdims=True)
        centered = x - mean
        inv = 1.0 / xp.sqrt(xp.mean(centered * centered, axis=-1, keepdims=True) + self.epsilon)
        xhat = centered * inv

        def backprop(dy: Array) -> Array:
            return self._backward_portable(dy, xhat, inv)

        return self.affine(xp, xhat, (x.shape[-1],)), backprop

    def _backward_portable(self, dy: Array, xhat: Array, inv: Array) -> Array:
        xp = self.backend.xp  # type: ignore[union-attr]
        batch_axes = tuple(range(dy.ndim - 1))
        g = self.affine_backward(xp, dy, xhat, (dy.shape[-1],), batch_axes)
        return normalize_backward(xp, g, xhat, inv, -1)
