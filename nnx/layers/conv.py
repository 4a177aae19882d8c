"""Convolution layers ``Conv1D`` and ``Conv2D``: im2col + one matrix product."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array
from nnx.functional.activations import relu_backward
from nnx.functional.conv import col2im, crop2d, pad2d, spatial_pads
from nnx.layers import _spatial as sp
from nnx.layers.activation import AffineBackprop, bias_gradient
from nnx.layers.base import Backprop, Shape, register_layer
from nnx.layers.conv_base import ConvBase

#: a 2-D window size, stride or dilation ``(rows, columns)``
Pair = tuple[int, int]

__all__ = ["Conv1D", "Conv2D"]


class _Conv(ConvBase):
    """Shared machinery of the N-D convolutions (``rank`` = 1 or 2)."""

    rank = 2

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, channels, self.filters)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return sp.windowed_output_shape(self, input_shape, self.filters)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """The direct route of :meth:`forward_direct` where the backend takes it, else the
        im2col + GEMM route of :class:`~nnx.layers.activation.ActivatedLayer`."""
        act = self.activation
        if "forward_logits" not in vars(self):
            if act.name in ("relu", "linear") and not act.config:
                direct = self.forward_direct(x, relu=act.name == "relu")
                if direct is not None:
                    return direct
            # NOTE: softmax works on the last axis, which moves: those keep the outer layout
            elementwise = act.name not in ("softmax", "log_softmax") and not act.zero_gradient
            if self.data_format == "channels_first" and elementwise:
                return self.forward_channels_last(x, training=training)
        return super().forward(x, training=training)

    def forward_channels_last(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """A channels-first layer computed channels-last inside, transposed only at its ends:
        the bias add and the activation (and their backward) run on the GEMM's contiguous
        ``(b, oh, ow, filters)`` output, so the backend's fused kernels take them."""
        backend, act = self.backend, self.activation
        assert backend is not None
        xp, rank = backend.xp, self.rank
        z, bias, backprop_z = self.affine(x, inner=True)
        alpha = float(act.config.get("alpha", 0.0))
        fusable = set(act.config) <= {"alpha"}
        y = backend.activation_forward(z, bias, act.name, alpha) if fusable else None
        if y is None:
            if bias is not None:
                z += bias
            y = z if act.name == "linear" else act.forward(z)

        def backprop(dy: Array) -> Array | None:
            dy2 = sp.to_2d(xp, dy, rank, "channels_first")
            if act.name == "linear":
                return backprop_z(dy2)
            if fusable and bias is not None:
                both = backend.activation_bias_backward(dy2, z, y, act.name, alpha)
                if both is not None:
                    return backprop_z(*both)
            dz = backend.activation_backward(dy2, z, y, act.name, alpha) if fusable else None
            return backprop_z(act.backward(dy2, z, y) if dz is None else dz)

        return sp.from_2d(xp, y, rank, "channels_first"), backprop

    def padded_input(self, x: Array) -> tuple[Array, Any, Pair, Pair, Pair]:
        """``x`` checked, channels-last 2-D and zero-padded for the kernel:
        ``(xpad, pads, kernel_size, strides, dilation)``."""
        self.check_input(x)
        assert self.backend is not None
        xp = self.backend.xp
        ksize, strides = sp.as_pair(self.kernel_size), sp.as_pair(self.strides)
        dilation = sp.as_pair(self.dilation_rate)
        x2 = sp.to_2d(xp, x, self.rank, self.data_format)
        pads = spatial_pads(x2.shape[1:3], ksize, strides, self.padding, dilation)
        return pad2d(xp, x2, pads), pads, ksize, strides, dilation

    def input_gradient(
        self, dz2: Array, w2: Array, grid: tuple[int, int, int], xpad: Array, pads: Any
    ) -> Array:
        """``dx`` in the input's layout from ``dz`` ``(n oh ow, filters)``: the windows'
        gradient ``dcols = dz W^T`` scattered back onto the padded input (col2im), cropped."""
        backend = self.backend
        assert backend is not None
        xp = backend.xp
        ksize, strides = sp.as_pair(self.kernel_size), sp.as_pair(self.strides)
        dilation = sp.as_pair(self.dilation_rate)
        dcols = xp.reshape(backend.matmul(dz2, w2.T), (*grid, int(w2.shape[0])))
        shape = tuple(xpad.shape)
        dx = backend.col2im(dcols, shape, ksize, strides, dilation)
        if dx is None:
            dx = col2im(xp, dcols, shape, ksize, strides, dilation)
        return sp.from_2d(xp, crop2d(dx, pads), self.rank, self.data_format)

    def forward_direct(self, x: Array, *, relu: bool) -> tuple[Array, Backprop] | None:
        """``y = f(conv(x) + bias)`` (``f``: ReLU or the identity) in one backend pass over the
        padded input, channels-last inside whatever ``data_format`` (transposed only at the
        layer's ends), and its backprop: ``dz = dy [y > 0]`` folded into the weight gradient
        ``cols^T dz`` (:meth:`~nnx.backends.Backend.conv2d_weight_grad`); ``dx`` as in
        :class:`Conv2D`. None where the backend declines
        (:meth:`~nnx.backends.Backend.conv2d_direct`: the portable backends, many taps, small
        calls)."""
        backend, kernel, bias = self.backend, self.kernel, self.bias
        assert backend is not None and kernel is not None
        xp, rank, fmt = backend.xp, self.rank, self.data_format
        xpad, pads, ksize, strides, dilation = self.padded_input(x)
        k = ksize[0] * ksize[1] * xpad.shape[3]
        w2 = xp.reshape(kernel.value, (k, self.filters))
        b = None if bias is None else bias.value
        y = backend.conv2d_direct(xpad, w2, b, ksize, strides, dilation, relu)
        if y is None:
            return None
        n, oh, ow, _ = y.shape
        need_dx = self.needs_input_gradient

        def backprop(dy: Array) -> Array | None:
            dy2 = sp.to_2d(xp, dy, rank, fmt)
            grads = backend.conv2d_weight_grad(
                dy2, y if relu else None, xpad, ksize, strides, dilation
            )
            dz2 = None
            if grads is None or need_dx:
                dz = relu_backward(dy2, y, y) if relu else dy2
                dz2 = xp.reshape(dz, (n * oh * ow, self.filters))
            if grads is None:
                assert dz2 is not None
                cols2 = xp.reshape(backend.im2col(xpad, ksize, strides, dilation), (-1, k))
                grads = (backend.matmul(cols2.T, dz2), backend.sum_rows(dz2))
            dw, db = grads
            if kernel.grad is not None and kernel.grad.shape == kernel.shape:
                kernel.grad[...] = xp.reshape(dw, kernel.shape)
            else:
                kernel.grad = xp.reshape(dw, kernel.shape)
            if bias is not None:
                bias.grad = bias_gradient(backend, bias, dy2, db)
            if not need_dx:
                return None
            assert dz2 is not None
            return self.input_gradient(dz2, w2, (n, oh, ow), xpad, pads)

        return sp.from_2d(xp, y, rank, fmt), backprop

    def forward_affine(
        self, x: Array, *, training: bool = False
    ) -> tuple[Array, Array | None, AffineBackprop]:
        return self.affine(x, inner=False)

    def affine(self, x: Array, *, inner: bool) -> tuple[Array, Array | None, AffineBackprop]:
        """:meth:`forward_affine`; ``inner``: ``z`` (and the ``dz`` its backprop takes) stay in
        the channels-last 2-D layout ``(b, oh, ow, filters)`` whatever ``data_format``, the
        bias always given back unadded."""
        backend, kernel, bias = self.backend, self.kernel, self.bias
        assert backend is not None and kernel is not None
        xp, rank, fmt = backend.xp, self.rank, self.data_format
        xpad, pads, ksize, strides, dilation = self.padded_input(x)
        cols = backend.im2col(xpad, ksize, strides, dilation)
        b, oh, ow, k = cols.shape
        cols2 = xp.reshape(cols, (b * oh * ow, k))
        w2 = xp.reshape(kernel.value, (k, self.filters))
        z = backend.matmul(cols2, w2)
        # channels-last: the bias is left for the backend to fuse with the activation
        later = bias is not None and (inner or fmt == "channels_last")
        if bias is not None and not later:
            z += bias.value
        z = xp.reshape(z, (b, oh, ow, self.filters))
        if not inner:
            z = sp.from_2d(xp, z, rank, fmt)
        need_dx = self.needs_input_gradient

        def backprop(dz: Array, dbias: Array | None = None) -> Array | None:
            dz2 = dz if inner else sp.to_2d(xp, dz, rank, fmt)
            dz2 = xp.reshape(dz2, (b * oh * ow, self.filters))
            buf = kernel.grad
            out = xp.reshape(buf, (k, self.filters)) if buf is not None else None
            kernel.grad = xp.reshape(backend.matmul(cols2.T, dz2, out=out), kernel.shape)
            if bias is not None:
                bias.grad = bias_gradient(backend, bias, dz2, dbias)
            if not need_dx:
                return None
            return self.input_gradient(dz2, w2, (b, oh, ow), xpad, pads)

        return z, bias.value if later and bias is not None else None, backprop


@register_layer
class Conv2D(_Conv):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    Forward, with ``cols = im2col(pad(x))`` (one row of ``kh kw C`` values per output pixel):
    ``z = cols @ reshape(kernel, (kh kw C, filters)) + bias``, ``y = activation(z)``.
    Backward, with ``dz = dy * activation'(z)``: ``d kernel = cols^T dz``, ``d bias = sum dz``,
    ``dx = crop(col2im(dz kernel^T))`` (overlapping windows add up). Where the backend has
    them, a ReLU or linear conv with few taps (``kh kw C``) runs as a direct loop with the bias
    and ReLU fused and its weight gradient folded with ReLU's backward
    (:meth:`_Conv.forward_direct`); a channels-first conv runs channels-last inside.

    Args:
        filters: number of output channels.
        kernel_size: ``k`` or ``(kh, kw)``.
        strides: ``s`` or ``(sh, sw)``.
        padding: ``"valid"`` (no padding) or ``"same"`` (output ``ceil(n / s)``; zeros split
            as TensorFlow does, the odd one after).
        data_format: ``"channels_last"`` (default, ``(h, w, c)``) or ``"channels_first"``.
        dilation_rate: ``d`` or ``(dh, dw)``: spacing of the kernel taps.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in
            :class:`~nnx.layers.Dense`.

    Shape:
        Input ``(batch, h, w, c)`` (channels-first: ``(batch, c, h, w)``); output
        ``(batch, oh, ow, filters)`` with ``oh = (h + pads - d (kh - 1) - 1) // sh + 1``.
        Kernel ``(kh, kw, c, filters)``, bias ``(filters,)``.

    >>> import nnx
    >>> conv = Conv2D(4, 3, padding="same", activation="relu")
    >>> conv.build((8, 8, 1), "numpy", nnx.backends.get_backend("numpy").rng(0))
    >>> conv.output_shape, conv.kernel.shape
    ((8, 8, 4), (3, 3, 1, 4))
    """

    rank = 2


@register_layer
class Conv1D(_Conv):
    """1-D convolution over sequences, computed as a :class:`Conv2D` of height 1.

    Formulas and arguments as in :class:`Conv2D`, with scalar (or 1-tuple) ``kernel_size``,
    ``strides`` and ``dilation_rate``.

    Shape:
        Input ``(batch, length, c)`` (channels-first: ``(batch, c, length)``); output
        ``(batch, out_length, filters)``. Kernel ``(k, c, filters)``.

    >>> import nnx
    >>> conv = Conv1D(2, 3, strides=2)
    >>> conv.build((9, 5), "numpy", nnx.backends.get_backend("numpy").rng(0))
    >>> conv.output_shape, conv.kernel.shape
    ((4, 2), (3, 5, 2))
    """

    rank = 1
