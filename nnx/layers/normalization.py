"""Normalization layers: ``BatchNormalization`` (Keras semantics) and ``LayerNormalization``."""

from __future__ import annotations

from typing import Any

from nnx import initializers, regularizers
from nnx.backends.base import Array, Generator
from nnx.layers.base import Backprop, Layer, Parameter, Shape, register_layer

__all__ = ["BatchNormalization", "LayerNormalization"]


def _normalize_backward(xp: Any, dxhat: Array, xhat: Array, inv: Array, axes: Any) -> Array:
    """``dx = inv (dxhat - mean(dxhat) - xhat mean(dxhat xhat))`` over the reduced ``axes``."""
    mean_d = xp.mean(dxhat, axis=axes, keepdims=True)
    mean_dx = xp.mean(dxhat * xhat, axis=axes, keepdims=True)
    return inv * (dxhat - mean_d - xhat * mean_dx)


class _Normalization(Layer):
    def __init__(
        self,
        epsilon: float,
        center: bool,
        scale: bool,
        beta_initializer: Any,
        gamma_initializer: Any,
        beta_regularizer: Any,
        gamma_regularizer: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(
                f"{type(self).__name__}: epsilon must be a positive float, "
                f"received epsilon={epsilon!r}."
            )
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma: Parameter | None = None
        self.beta: Parameter | None = None

    def _feature_size(self, input_shape: Shape, axis: int) -> int:
        n = input_shape[axis]
        if n is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a known axis {axis} size.")
        return n

    def _affine_weights(self, n: int, rng: Generator) -> None:
        if self.scale:
            self.gamma = self.add_weight(
                "gamma", (n,), self.gamma_initializer, rng, self.gamma_regularizer
            )
        if self.center:
            self.beta = self.add_weight(
                "beta", (n,), self.beta_initializer, rng, self.beta_regularizer
            )

    def _affine(self, xp: Any, xhat: Array, shape: tuple[int, ...]) -> Array:
        y = xhat
        if self.gamma is not None:
            y = y * xp.reshape(self.gamma.value, shape)
        if self.beta is not None:
            y = y + xp.reshape(self.beta.value, shape)
        return y

    def _affine_backward(
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
        def conf(obj: Any) -> Any:
            return None if obj is None else obj.get_config()

        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer.get_config(),
            "gamma_initializer": self.gamma_initializer.get_config(),
            "beta_regularizer": conf(self.beta_regularizer),
            "gamma_regularizer": conf(self.gamma_regularizer),
        }


@register_layer
class BatchNormalization(_Normalization):
    """Normalize each feature (the ``axis`` entry: a Dense unit, a Conv2D channel) over the batch.

    Training: ``mu, var`` are the batch mean and (biased) variance over every axis but ``axis``;
    ``xhat = (x - mu) / sqrt(var + epsilon)``, ``y = gamma xhat + beta``, and the moving
    statistics move in place: ``moving = momentum * moving + (1 - momentum) * batch`` (Keras'
    rule; the variance is the biased one, as in Keras). Inference uses the moving statistics.
    Backward (training), over the ``m`` reduced elements:
    ``dx = (gamma / sqrt(var + eps)) (dy - mean(dy) - xhat mean(dy xhat))``,
    ``d gamma = sum dy xhat``, ``d beta = sum dy``. Inference: ``dx = dy gamma / sqrt(mv + eps)``.

    ``moving_mean`` and ``moving_variance`` are non-trainable parameters, so they are saved and
    restored with the weights and skipped by optimizers.

    Args:
        axis: the feature axis (default -1: channels-last images, Dense outputs; use 1 after a
            channels-first Conv2D).
        momentum: weight of the old moving statistics (default 0.99).
        epsilon: added to the variance (default 1e-3).
        center, scale: learn ``beta`` / ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: initializers (zeros, ones, zeros, ones).
        beta_regularizer, gamma_regularizer: optional penalties.

    Shape:
        Input ``(batch, *dims)``, output the same; each parameter ``(dims[axis],)``.

    >>> import nnx
    >>> be = nnx.backends.get_backend("numpy")
    >>> bn = BatchNormalization(momentum=0.5)
    >>> bn.build((2,), be, be.rng(0))
    >>> y, _ = bn.forward(be.asarray([[0.0, 2.0], [2.0, 6.0]]), training=True)
    >>> y.round(3).tolist(), bn.moving_mean.value.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [0.5, 2.0])
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
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
            **kwargs,
        )
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
            raise ValueError(
                f"BatchNormalization: momentum must be a float, received {momentum!r}."
            )
        if not 0 <= momentum <= 1:
            raise ValueError(
                f"BatchNormalization: momentum must be in [0, 1], received momentum={momentum!r}."
            )
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.moving_mean: Parameter | None = None
        self.moving_variance: Parameter | None = None

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        ndim = len(input_shape) + 1
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(
                f"BatchNormalization {self.name!r}: axis={self.axis} is not a feature axis of "
                f"inputs (batch, {', '.join(map(str, input_shape))})."
            )
        n = self._feature_size(input_shape, self.axis % ndim - 1)
        self._affine_weights(n, rng)
        self.moving_mean = self.add_weight(
            "moving_mean", (n,), self.moving_mean_initializer, rng, trainable=False
        )
        self.moving_variance = self.add_weight(
            "moving_variance", (n,), self.moving_variance_initializer, rng, trainable=False
        )

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = self.backend.xp  # type: ignore[union-attr]
        mm, mv = self.moving_mean, self.moving_variance
        assert mm is not None and mv is not None
        axis = self.axis % x.ndim
        axes = tuple(a for a in range(x.ndim) if a != axis)
        shape = tuple(x.shape[a] if a == axis else 1 for a in range(x.ndim))
        if training:
            mean = xp.mean(x, axis=axes, keepdims=True)
            centered = x - mean
            var = xp.mean(centered * centered, axis=axes, keepdims=True)
            inv = 1.0 / xp.sqrt(var + self.epsilon)
            xhat = centered * inv
            m = self.momentum
            mm.value[...] = m * mm.value + (1.0 - m) * xp.reshape(mean, mm.shape)
            mv.value[...] = m * mv.value + (1.0 - m) * xp.reshape(var, mv.shape)
        else:
            inv = xp.reshape(1.0 / xp.sqrt(mv.value + self.epsilon), shape)
            xhat = (x - xp.reshape(mm.value, shape)) * inv

        def backprop(dy: Array) -> Array:
            dxhat = self._affine_backward(xp, dy, xhat, shape, axes)
            if not training:
                return dxhat * inv
            return _normalize_backward(xp, dxhat, xhat, inv, axes)

        return self._affine(xp, xhat, shape), backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "moving_mean_initializer": self.moving_mean_initializer.get_config(),
            "moving_variance_initializer": self.moving_variance_initializer.get_config(),
        }


@register_layer
class LayerNormalization(_Normalization):
    """Normalize each sample over its last axis: ``xhat = (x - mu) / sqrt(var + epsilon)``,
    ``y = gamma xhat + beta`` with ``mu, var`` per sample (the same in training and inference).

    Backward, over the ``n`` features: ``dx = (1 / sqrt(var + eps)) (g - mean(g) - xhat
    mean(g xhat))`` with ``g = dy gamma``; ``d gamma = sum dy xhat``, ``d beta = sum dy``.

    Args:
        epsilon: added to the variance (default 1e-3, as Keras).
        center, scale, beta_initializer, gamma_initializer, beta_regularizer,
        gamma_regularizer: as in :class:`BatchNormalization`.

    Shape:
        Input ``(batch, *dims)``, output the same; ``gamma`` and ``beta`` are ``(dims[-1],)``.

    >>> from nnx.backends import get_backend
    >>> LayerNormalization(epsilon=1e-6)(get_backend("numpy").asarray([[1.0, 3.0]])).round(4)
    array([[-1.,  1.]])
    """

    def __init__(
        self,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
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
            **kwargs,
        )

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        self._affine_weights(self._feature_size(input_shape, -1), rng)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = self.backend.xp  # type: ignore[union-attr]
        mean = xp.mean(x, axis=-1, keepdims=True)
        centered = x - mean
        inv = 1.0 / xp.sqrt(xp.mean(centered * centered, axis=-1, keepdims=True) + self.epsilon)
        xhat = centered * inv
        shape = (x.shape[-1],)
        batch_axes = tuple(range(x.ndim - 1))

        def backprop(dy: Array) -> Array:
            g = self._affine_backward(xp, dy, xhat, shape, batch_axes)
            return _normalize_backward(xp, g, xhat, inv, -1)

        return self._affine(xp, xhat, shape), backprop
