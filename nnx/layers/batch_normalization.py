"""``BatchNormalization`` with Keras semantics: batch statistics in training, moving ones at
inference."""

from __future__ import annotations

from typing import Any

import nnx.initializers as initializers
from nnx.backends.base import Array, Generator
from nnx.layers.base import Backprop, Shape, register_layer, serialize_or_none
from nnx.layers.normalization import Normalization, normalize_backward
from nnx.layers.parameter import Parameter
from nnx.validation import check_float

__all__ = ["BatchNormalization"]


@register_layer
class BatchNormalization(Normalization):
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
        beta_constraint, gamma_constraint: optional projections applied after each optimizer
            update (:mod:`nnx.constraints`).

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
        self.momentum = check_float(
            momentum, "momentum", who="BatchNormalization", minimum=0.0, maximum=1.0
        )
        self.axis = int(axis)
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
        n = self.feature_size(input_shape, self.axis % ndim - 1)
        self.affine_weights(n, rng)
        self.moving_mean = self.add_weight(
            "moving_mean", (n,), self.moving_mean_initializer, rng, trainable=False
        )
        self.moving_variance = self.add_weight(
            "moving_variance", (n,), self.moving_variance_initializer, rng, trainable=False
        )

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        # NOTE: a frozen layer normalises with its moving statistics and keeps them, as in
        # Keras 3 (fine-tuning a pretrained base must not shift its statistics).
        training = training and self.trainable
        backend = self.backend
        assert backend is not None
        xp = backend.xp
        mm, mv = self.moving_mean, self.moving_variance
        assert mm is not None and mv is not None
        axis = self.axis % x.ndim
        if training:
            # the backend's fused column statistics and backward work on the feature axis
            # last: another axis (channels-first images) is moved there and back (a view of
            # a channels-last array, as a channels-first Conv2D gives, moves for free)
            order = (*(a for a in range(x.ndim) if a != axis), axis)
            last = axis == x.ndim - 1
            fused = self.forward_fused(x if last else xp.permute_dims(x, order))
            if fused is not None:
                if last:
                    return fused
                y, backprop_last = fused
                back = tuple(order.index(a) for a in range(x.ndim))

                def backprop_moved(dy: Array) -> Array:
                    return xp.permute_dims(backprop_last(xp.permute_dims(dy, order)), back)

                return xp.permute_dims(y, back), backprop_moved
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
            dxhat = self.affine_backward(xp, dy, xhat, shape, axes)
            if not training:
                return dxhat * inv
            return normalize_backward(xp, dxhat, xhat, inv, axes)

        return self.affine(xp, xhat, shape), backprop

    def forward_fused(self, x: Array) -> tuple[Array, Backprop] | None:
        """Training forward of ``x`` with the features on its last axis, on the backend's
        column statistics and fused backward
        (:meth:`~nnx.backends.Backend.batch_norm_statistics`,
        :meth:`~nnx.backends.Backend.batch_norm_backward`); None where the backend declines."""
        backend, mm, mv = self.backend, self.moving_mean, self.moving_variance
        assert backend is not None and mm is not None and mv is not None
        xp = backend.xp
        rows = (-1, x.shape[-1])
        stats = backend.batch_norm_statistics(xp.reshape(x, rows))
        if stats is None:
            return None
        shape = (*(1 for _ in x.shape[:-1]), x.shape[-1])
        axes = tuple(range(x.ndim - 1))
        mean, var = (xp.reshape(s, shape) for s in stats)
        inv = 1.0 / xp.sqrt(var + self.epsilon)
        xhat = (x - mean) * inv
        m = self.momentum
        mm.value[...] = m * mm.value + (1.0 - m) * xp.reshape(mean, mm.shape)
        mv.value[...] = m * mv.value + (1.0 - m) * xp.reshape(var, mv.shape)

        def backprop(dy: Array) -> Array:
            gamma = None if self.gamma is None else self.gamma.value
            fused = backend.batch_norm_backward(
                xp.reshape(dy, rows), xp.reshape(xhat, rows), gamma, xp.reshape(inv, (-1,))
            )
            if fused is None:
                dxhat = self.affine_backward(xp, dy, xhat, shape, axes)
                return normalize_backward(xp, dxhat, xhat, inv, axes)
            dx, dgamma, dbeta = fused
            if self.beta is not None:
                self.beta.grad = dbeta
            if self.gamma is not None:
                self.gamma.grad = dgamma
            return xp.reshape(dx, dy.shape)

        return self.affine(xp, xhat, shape), backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "moving_mean_initializer": serialize_or_none(self.moving_mean_initializer),
            "moving_variance_initializer": serialize_or_none(self.moving_variance_initializer),
        }
