"""Separable convolutions ``SeparableConv1D`` / ``SeparableConv2D``: a depthwise convolution
followed by a pointwise (1x1) one that mixes the channels."""

from __future__ import annotations

from typing import Any

import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends.base import Array, Generator
from nnx.layers.activation import AffineBackprop
from nnx.layers.base import register_layer, serialize_or_none
from nnx.layers.depthwise_conv import _DepthwiseBase, store_gradient
from nnx.layers.parameter import Parameter
from nnx.validation import check_int

__all__ = ["SeparableConv1D", "SeparableConv2D"]


class _SeparableConv(_DepthwiseBase):
    """``z = depthwise(x) @ pointwise + bias``; Keras 3's argument order and weight names."""

    depthwise_name = "depthwise_kernel"

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | tuple[int, ...] = 1,
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kernel_size,
            strides,
            padding,
            depth_multiplier,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            depthwise_constraint,
            bias_constraint,
            **kwargs,
        )
        self.filters = check_int(filters, "filters", who=type(self).__name__, minimum=1)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = self.check_constraint(
            pointwise_constraint, "pointwise_constraint"
        )
        self.pointwise_kernel: Parameter | None = None

    @property
    def depthwise_kernel(self) -> Parameter | None:
        """The depthwise kernel ``(*kernel_size, channels, depth_multiplier)``."""
        return self._depthwise

    def out_channels(self, channels: int) -> int:
        return self.filters

    def build_after_depthwise(self, channels: int, rng: Generator) -> None:
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            (*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer,
            rng,
            self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )

    def forward_affine(
        self, x: Array, *, training: bool = False
    ) -> tuple[Array, Array | None, AffineBackprop]:
        backend, pointwise = self.backend, self.pointwise_kernel
        assert backend is not None and pointwise is not None
        xp = backend.xp
        d, grid, backprop_d = self.depthwise(x)
        cm = int(d.shape[1])
        p2 = xp.reshape(pointwise.value, (cm, self.filters))
        z2 = backend.matmul(d, p2)

        def backprop_rows(dz2: Array) -> Array | None:
            store_gradient(pointwise, xp.reshape(backend.matmul(d.T, dz2), pointwise.shape))
            return backprop_d(backend.matmul(dz2, p2.T))

        return self.finish_affine(z2, grid, backprop_rows)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "pointwise_initializer": serialize_or_none(self.pointwise_initializer),
            "pointwise_regularizer": serialize_or_none(self.pointwise_regularizer),
            "pointwise_constraint": serialize_or_none(self.pointwise_constraint),
        }


@register_layer
class SeparableConv2D(_SeparableConv):
    """2-D depthwise-separable convolution: a :class:`~nnx.layers.DepthwiseConv2D` (no bias)
    then a 1x1 convolution to ``filters`` channels, with one bias and activation at the end.

    Forward, with ``d (n, C m)`` the depthwise output rows (see
    :class:`~nnx.layers.DepthwiseConv2D`) and ``P = reshape(pointwise_kernel, (C m, filters))``:
    ``z = d P + bias``, ``y = activation(z)``. Backward, with ``dz = dy * activation'(z)``:
    ``dP = d^T dz``, ``d bias = sum dz``, ``dd = dz P^T``, then the depthwise backward of ``dd``.

    Args:
        filters: output channels.
        kernel_size, strides, padding, data_format, dilation_rate: as in
            :class:`~nnx.layers.Conv2D` (``data_format=None``: channels-last).
        depth_multiplier: depthwise kernels per input channel ``m``.
        activation, use_bias, bias_initializer, bias_regularizer: as in
            :class:`~nnx.layers.Dense`.
        depthwise_initializer, pointwise_initializer, depthwise_regularizer,
        pointwise_regularizer, depthwise_constraint, pointwise_constraint: of the two kernels.
        bias_constraint: as in :class:`~nnx.layers.Dense`.

    Shape:
        Input ``(batch, h, w, C)`` (channels-first: ``(batch, C, h, w)``); output
        ``(batch, oh, ow, filters)``. ``depthwise_kernel (kh, kw, C, m)``,
        ``pointwise_kernel (1, 1, C m, filters)``, ``bias (filters,)``.

    >>> import nnx
    >>> conv = SeparableConv2D(16, 3, padding="same")
    >>> conv.build((8, 8, 4), "numpy", nnx.backends.get_backend("numpy").rng(0))
    >>> conv.output_shape, conv.depthwise_kernel.shape, conv.pointwise_kernel.shape
    ((8, 8, 16), (3, 3, 4, 1), (1, 1, 4, 16))
    """

    rank = 2


@register_layer
class SeparableConv1D(_SeparableConv):
    """1-D depthwise-separable convolution, a :class:`SeparableConv2D` of height 1.

    Shape:
        Input ``(batch, length, C)`` (channels-first: ``(batch, C, length)``); output
        ``(batch, out_length, filters)``. ``depthwise_kernel (k, C, m)``,
        ``pointwise_kernel (1, C m, filters)``.

    >>> import nnx
    >>> conv = SeparableConv1D(4, 3, depth_multiplier=2)
    >>> conv.build((9, 3), "numpy", nnx.backends.get_backend("numpy").rng(0))
    >>> conv.output_shape, conv.depthwise_kernel.shape, conv.pointwise_kernel.shape
    ((7, 4), (3, 3, 2), (1, 6, 4))
    """

    rank = 1
