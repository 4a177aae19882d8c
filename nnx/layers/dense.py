"""The fully connected layer."""

from __future__ import annotations

from typing import Any

import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends.base import Array, Generator
from nnx.layers.activation import ActivatedLayer, AffineBackprop, bias_gradient
from nnx.layers.base import Shape, register_layer, serialize_or_none
from nnx.layers.parameter import Parameter
from nnx.validation import check_int

__all__ = ["Dense"]


@register_layer
class Dense(ActivatedLayer):
    """Fully connected layer: ``y = activation(x @ kernel + bias)``.

    Backward, with ``dz = dy * activation'(z)``:
    ``d kernel = x^T dz``, ``d bias = sum_batch dz``, ``dx = dz kernel^T``.

    Args:
        units: number of output features (> 0).
        activation: activation name or None (linear).
        use_bias: whether to add a bias.
        kernel_initializer: initializer of the ``(in, units)`` kernel (Keras default
            ``"glorot_uniform"``).
        bias_initializer: initializer of the ``(units,)`` bias (``"zeros"``).
        kernel_regularizer, bias_regularizer: optional penalties, e.g.
            ``nnx.regularizers.l2(0.01)``.
        kernel_constraint, bias_constraint: optional projections applied after each optimizer
            update, e.g. ``nnx.constraints.max_norm(3)`` (:mod:`nnx.constraints`).
        activity_regularizer: optional penalty on the output (:mod:`nnx.layers.activity`).
        input_shape: shape of one sample, for a first layer, e.g. ``(30,)``.

    Shape:
        Input ``(batch, ..., in)``, output ``(batch, ..., units)``.

    >>> import nnx
    >>> layer = Dense(3, activation="relu")
    >>> layer.build((4,), "numpy", nnx.backends.get_backend("numpy").rng(0))
    >>> [p.shape for p in layer.parameters()]
    [(4, 3), (3,)]
    """

    supports_masking = True  # acts on each timestep alone: a mask passes through

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activation, activity_regularizer=activity_regularizer, **kwargs)
        self.units = check_int(units, "units", who="Dense", minimum=1)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = self.check_constraint(kernel_constraint, "kernel_constraint")
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = self.check_constraint(bias_constraint, "bias_constraint")
        self.kernel: Parameter | None = None
        self.bias: Parameter | None = None

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        fan_in = input_shape[-1]
        if fan_in is None:
            raise ValueError(
                f"Dense {self.name!r} needs a known last input dimension, "
                f"received input shape {input_shape}."
            )
        self.kernel = self.add_weight(
            "kernel",
            (fan_in, self.units),
            self.kernel_initializer,
            rng,
            self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                "bias",
                (self.units,),
                self.bias_initializer,
                rng,
                self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def forward_affine(
        self, x: Array, *, training: bool = False
    ) -> tuple[Array, Array | None, AffineBackprop]:
        self.check_input(x)
        backend, kernel, bias = self.backend, self.kernel, self.bias
        assert backend is not None and kernel is not None
        matmul = backend.matmul
        need_dx = self.needs_input_gradient
        z = matmul(x, kernel.value)

        def backprop(dz: Array, dbias: Array | None = None) -> Array | None:
            if x.ndim == 2:
                x2, dz2 = x, dz
            else:
                xp = backend.xp
                x2 = xp.reshape(x, (-1, x.shape[-1]))
                dz2 = xp.reshape(dz, (-1, dz.shape[-1]))
            grad, w = kernel.grad, kernel.value
            # NOTE: into the previous gradient buffer (a view of the flat buffer) when it fits
            out = grad if grad is not None and grad.shape == w.shape else None
            kernel.grad = matmul(x2.T, dz2, out=out)
            if bias is not None:
                bias.grad = bias_gradient(backend, bias, dz2, dbias)
            return matmul(dz, w.T) if need_dx else None

        return z, None if bias is None else bias.value, backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": serialize_or_none(self.kernel_initializer),
            "bias_initializer": serialize_or_none(self.bias_initializer),
            "kernel_regularizer": serialize_or_none(self.kernel_regularizer),
            "kernel_constraint": serialize_or_none(self.kernel_constraint),
            "bias_regularizer": serialize_or_none(self.bias_regularizer),
            "bias_constraint": serialize_or_none(self.bias_constraint),
        }
