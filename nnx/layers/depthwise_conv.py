"""Depthwise convolutions ``DepthwiseConv1D`` / ``DepthwiseConv2D``: each input channel filtered
by its own ``depth_multiplier`` kernels, as im2col windows contracted over the kernel taps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends.base import Array, Generator
from nnx.functional.conv import col2im, crop2d, pad2d, spatial_pads
from nnx.functional.depthwise import (
    depthwise_input_gradient,
    depthwise_kernel_gradient,
    depthwise_product,
)
from nnx.layers import _spatial as sp
from nnx.layers.activation import ActivatedLayer, AffineBackprop, bias_gradient
from nnx.layers.base import Shape, register_layer, serialize_or_none
from nnx.layers.parameter import Parameter
from nnx.validation import check_int

__all__ = ["DepthwiseConv1D", "DepthwiseConv2D"]

#: ``dd -> dx``: the backprop of :meth:`_DepthwiseBase.depthwise`, ``dd (n, C m)`` in rows
DepthwiseBackprop = Callable[[Array], "Array | None"]


def store_gradient(parameter: Parameter, grad: Array) -> None:
    """``parameter.grad = grad``, written into its previous buffer when it has one of the right
    shape (a view of a flat gradient buffer must stay one)."""
    old = parameter.grad
    if old is not None and tuple(old.shape) == tuple(grad.shape):
        old[...] = grad
    else:
        parameter.grad = grad


class _DepthwiseBase(ActivatedLayer):
    """Arguments, shapes and the depthwise product shared by the depthwise and separable
    convolutions (``rank`` = 1 or 2); computed channels-last 2-D inside."""

    rank = 2
    #: the depthwise kernel's parameter name (Keras 3: ``kernel`` alone, ``depthwise_kernel``
    #: in a separable convolution)
    depthwise_name = "kernel"

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: int | tuple[int, ...] = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activation, **kwargs)
        who = type(self).__name__
        self.kernel_size, self.strides, self.dilation_rate = sp.window(
            self, kernel_size, strides, dilation_rate, who
        )
        self.padding = sp.check_padding(padding, who)
        self.depth_multiplier = check_int(depth_multiplier, "depth_multiplier", who=who, minimum=1)
        fmt = "channels_last" if data_format is None else data_format
        self.data_format = sp.check_data_format(fmt, who)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = self.check_constraint(
            depthwise_constraint, "depthwise_constraint"
        )
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = self.check_constraint(bias_constraint, "bias_constraint")
        self.bias: Parameter | None = None
        self._depthwise: Parameter | None = None

    def out_channels(self, channels: int) -> int:
        """Channels of the output (depthwise: ``channels * depth_multiplier``)."""
        return channels * self.depth_multiplier

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        _, channels = sp.split_shape(input_shape, self.rank, self.data_format, self.name)
        if channels is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a known channel count.")
        self._depthwise = self.add_weight(
            self.depthwise_name,
            (*self.kernel_size, channels, self.depth_multiplier),
            self.depthwise_initializer,
            rng,
            self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.build_after_depthwise(channels, rng)
        if self.use_bias:
            self.bias = self.add_weight(
                "bias",
                (self.out_channels(channels),),
                self.bias_initializer,
                rng,
                self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def build_after_depthwise(self, channels: int, rng: Generator) -> None:
        """Weights created between the depthwise kernel and the bias (Keras's order)."""

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _, channels = sp.split_shape(input_shape, self.rank, self.data_format, self.name)
        return sp.windowed_output_shape(self, input_shape, self.out_channels(channels))

    def depthwise(self, x: Array) -> tuple[Array, tuple[int, int, int], DepthwiseBackprop]:
        """``d``, the depthwise convolution of ``x`` as rows ``(b oh ow, C m)`` in TensorFlow's
        channel order (``c m + j``), the grid ``(b, oh, ow)`` and ``backprop(dd) -> dx`` (in
        ``x``'s layout), which writes the depthwise kernel's gradient."""
        self.check_input(x)
        backend, kernel = self.backend, self._depthwise
        assert backend is not None and kernel is not None
        xp, m = backend.xp, self.depth_multiplier
        ksize, strides = sp.as_pair(self.kernel_size), sp.as_pair(self.strides)
        dilation = sp.as_pair(self.dilation_rate)
        x2 = sp.to_2d(xp, x, self.rank, self.data_format)
        pads = spatial_pads(x2.shape[1:3], ksize, strides, self.padding, dilation)
        xpad = pad2d(xp, x2, pads)
        c, taps = int(xpad.shape[3]), ksize[0] * ksize[1]
        cols = backend.im2col(xpad, ksize, strides, dilation)
        b, oh, ow = (int(s) for s in cols.shape[:3])
        cols3 = xp.reshape(cols, (b * oh * ow, taps, c))
        w3 = xp.reshape(kernel.value, (taps, c, m))
        d = xp.reshape(depthwise_product(xp, cols3, w3), (b * oh * ow, c * m))
        need_dx, rank, fmt = self.needs_input_gradient, self.rank, self.data_format

        def backprop(dd: Array) -> Array | None:
            dd3 = xp.reshape(dd, (b * oh * ow, c, m))
            store_gradient(
                kernel, xp.reshape(depthwise_kernel_gradient(xp, cols3, dd3), kernel.shape)
            )
            if not need_dx:
                return None
            dcols = xp.reshape(depthwise_input_gradient(xp, dd3, w3), (b, oh, ow, taps * c))
            shape = tuple(xpad.shape)
            dx = backend.col2im(dcols, shape, ksize, strides, dilation)
            if dx is None:
                dx = col2im(xp, dcols, shape, ksize, strides, dilation)
            return sp.from_2d(xp, crop2d(dx, pads), rank, fmt)

        return d, (b, oh, ow), backprop

    def finish_affine(
        self, z2: Array, grid: tuple[int, int, int], backprop_rows: Callable[[Array], Any]
    ) -> tuple[Array, Array | None, AffineBackprop]:
        """Rows ``z2 (b oh ow, channels)`` as the output in the layer's layout, the bias left
        unadded where the activation may fuse it (channels-last), and the backprop of ``z``:
        ``d bias = sum dz``, then ``backprop_rows(dz2)``."""
        backend, bias = self.backend, self.bias
        assert backend is not None
        xp, rank, fmt = backend.xp, self.rank, self.data_format
        channels = int(z2.shape[1])
        later = bias is not None and fmt == "channels_last"
        if bias is not None and not later:
            z2 = z2 + bias.value
        z = sp.from_2d(xp, xp.reshape(z2, (*grid, channels)), rank, fmt)

        def backprop(dz: Array, dbias: Array | None = None) -> Array | None:
            dz2 = xp.reshape(sp.to_2d(xp, dz, rank, fmt), (-1, channels))
            if bias is not None:
                bias.grad = bias_gradient(backend, bias, dz2, dbias)
            return backprop_rows(dz2)  # type: ignore[no-any-return]

        return z, bias.value if later and bias is not None else None, backprop

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "use_bias": self.use_bias,
            "depthwise_initializer": serialize_or_none(self.depthwise_initializer),
            "bias_initializer": serialize_or_none(self.bias_initializer),
            "depthwise_regularizer": serialize_or_none(self.depthwise_regularizer),
            "depthwise_constraint": serialize_or_none(self.depthwise_constraint),
            "bias_regularizer": serialize_or_none(self.bias_regularizer),
            "bias_constraint": serialize_or_none(self.bias_constraint),
        }


class _DepthwiseConv(_DepthwiseBase):
    """A depthwise convolution with its own bias: ``z = depthwise(x) + bias``."""

    @property
    def kernel(self) -> Parameter | None:
        """The depthwise kernel ``(*kernel_size, channels, depth_multiplier)``."""
        return self._depthwise

    def forward_affine(
        self, x: Array, *, training: bool = False
    ) -> tuple[Array, Array | None, AffineBackprop]:
        d, grid, backprop_d = self.depthwise(x)
        return self.finish_affine(d, grid, backprop_d)


@register_layer
class DepthwiseConv2D(_DepthwiseConv):
    """2-D depthwise convolution: channel ``c`` convolved with its own ``depth_multiplier``
    kernels, no mixing across channels (PyTorch: ``conv2d(..., groups=in_channels)``).

    Forward, with ``cols = im2col(pad(x))`` split into ``T = kh kw`` taps per channel:
    ``z[n, c m + j] = sum_t cols[n, t, c] kernel[t, c, j] + bias[c m + j]``,
    ``y = activation(z)``. Backward, with ``dz = dy * activation'(z)``:
    ``d kernel[t, c, j] = sum_n cols[n, t, c] dz[n, c m + j]``, ``d bias = sum dz``,
    ``dx = crop(col2im(dcols))`` with ``dcols[n, t, c] = sum_j dz[n, c m + j] kernel[t, c, j]``
    (see :mod:`nnx.functional.depthwise`).

    Args:
        kernel_size, strides, padding, data_format, dilation_rate: as in
            :class:`~nnx.layers.Conv2D` (``data_format=None``: channels-last).
        depth_multiplier: kernels per input channel ``m``; the output has ``C m`` channels.
        activation, use_bias, bias_initializer, bias_regularizer: as in
            :class:`~nnx.layers.Dense`.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: of the kernel.
        bias_constraint: as in :class:`~nnx.layers.Dense`.

    Shape:
        Input ``(batch, h, w, C)`` (channels-first: ``(batch, C, h, w)``); output
        ``(batch, oh, ow, C m)``. Kernel ``(kh, kw, C, m)`` (named ``kernel`` as in Keras 3),
        bias ``(C m,)``.

    >>> import nnx
    >>> conv = DepthwiseConv2D(3, padding="same", depth_multiplier=2)
    >>> conv.build((8, 8, 4), "numpy", nnx.backends.get_backend("numpy").rng(0))
    >>> conv.output_shape, conv.kernel.shape
    ((8, 8, 8), (3, 3, 4, 2))
    """

    rank = 2


@register_layer
class DepthwiseConv1D(_DepthwiseConv):
    """1-D depthwise convolution, computed as a :class:`DepthwiseConv2D` of height 1.

    Formulas and arguments as in :class:`DepthwiseConv2D`, with scalar (or 1-tuple)
    ``kernel_size``, ``strides`` and ``dilation_rate``.

    Shape:
        Input ``(batch, length, C)`` (channels-first: ``(batch, C, length)``); output
        ``(batch, out_length, C m)``. Kernel ``(k, C, m)``.

    >>> import nnx
    >>> conv = DepthwiseConv1D(3, strides=2)
    >>> conv.build((9, 5), "numpy", nnx.backends.get_backend("numpy").rng(0))
    >>> conv.output_shape, conv.kernel.shape
    ((4, 5), (3, 5, 1))
    """

    rank = 1
