"""Transposed convolutions ``Conv1DTranspose`` and ``Conv2DTranspose``: col2im of ``x W^T``."""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array
from nnx.functional.conv import col2im, crop2d, pad2d
from nnx.functional.conv_transpose import conv_transpose_output_length, conv_transpose_window
from nnx.layers import _spatial as sp
from nnx.layers.activation import AffineBackprop, bias_gradient
from nnx.layers.base import Shape, register_layer
from nnx.layers.conv_base import ConvBase

__all__ = ["Conv1DTranspose", "Conv2DTranspose"]

Pair = tuple[int, int]


class _ConvTranspose(ConvBase):
    """Shared machinery of the N-D transposed convolutions (``rank`` = 1 or 2)."""

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: str = "valid",
        output_padding: int | tuple[int, ...] | None = None,
        data_format: str | None = None,
        dilation_rate: int | tuple[int, ...] = 1,
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
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )
        who = type(self).__name__
        self.output_padding: tuple[int, ...] | None = None
        if output_padding is not None:
            pads = sp.int_tuple(output_padding, self.rank, "output_padding", who, minimum=0)
            if any(p >= s for p, s in zip(pads, self.strides, strict=True)):
                raise ValueError(
                    f"{who}: output_padding must be strictly less than strides on every axis, "
                    f"received output_padding={output_padding!r}, strides={strides!r}."
                )
            self.output_padding = pads

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        # Keras's layout: (*kernel_size, filters, in_channels), the transpose of a Conv's
        return (*self.kernel_size, self.filters, channels)

    def _output_padding(self, axis: int) -> int | None:
        return None if self.output_padding is None else self.output_padding[axis]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        spatial, _ = sp.split_shape(input_shape, self.rank, self.data_format, self._who)
        out = []
        for axis, n in enumerate(spatial):
            length = None
            if n is not None:
                length = conv_transpose_output_length(
                    n,
                    self.kernel_size[axis],
                    self.strides[axis],
                    self.padding,
                    self._output_padding(axis),
                    self.dilation_rate[axis],
                )
                if length <= 0:
                    raise ValueError(
                        f"{self._who}: input shape {input_shape} gives "
                        f"an empty output for kernel_size={self.kernel_size}, "
                        f"padding={self.padding!r}, output_padding={self.output_padding}."
                    )
            out.append(length)
        return sp.join_shape(tuple(out), self.filters, self.data_format)

    def _windows(self, hw: Pair) -> tuple[tuple[Pair, Pair], Pair, Pair]:
        """``(pads, buffer, full)`` of the 2-D layout: the output is ``crop2d(buffer, pads)``,
        ``buffer`` the col2im target, ``full`` the part of it the windows reach."""
        ksize, strides = sp.as_pair(self.kernel_size), sp.as_pair(self.strides)
        dilation = sp.as_pair(self.dilation_rate)
        given = self.output_padding
        ops: tuple[int | None, ...] = (None, None) if given is None else (0, *given)[-2:]
        pads, buffer, full = [], [], []
        for n, k, s, d, op in zip(hw, ksize, strides, dilation, ops, strict=True):
            before, out, length = conv_transpose_window(n, k, s, self.padding, op, d)
            pads.append((before, length - before - out))
            buffer.append(length)
            full.append((n - 1) * s + d * (k - 1) + 1)
        return (pads[0], pads[1]), (buffer[0], buffer[1]), (full[0], full[1])

    def forward_affine(
        self, x: Array, *, training: bool = False
    ) -> tuple[Array, Array | None, AffineBackprop]:
        """``z = crop(col2im(x2 W2^T))`` with ``x2 (b h w, C)`` and ``W2 (kh kw F, C)`` the
        kernel; the bias is given back unadded (channels-last) for the backend to fuse."""
        self.check_input(x)
        backend, kernel, bias = self.backend, self.kernel, self.bias
        assert backend is not None and kernel is not None
        xp, rank, fmt, f = backend.xp, self.rank, self.data_format, self.filters
        ksize, strides = sp.as_pair(self.kernel_size), sp.as_pair(self.strides)
        dilation = sp.as_pair(self.dilation_rate)
        x4 = sp.to_2d(xp, x, rank, fmt)
        b, h, w, c = x4.shape
        x2 = xp.reshape(x4, (b * h * w, c))
        w2 = xp.reshape(kernel.value, (ksize[0] * ksize[1] * f, c))
        pads, (bh, bw), (fh, fw) = self._windows((h, w))
        cols = xp.reshape(backend.matmul(x2, w2.T), (b, h, w, ksize[0] * ksize[1] * f))
        shape = (b, bh, bw, f)
        full = backend.col2im(cols, shape, ksize, strides, dilation)
        if full is None:
            full = col2im(xp, cols, shape, ksize, strides, dilation)
        z = crop2d(full, pads)
        if z.shape != full.shape:
            z = xp.asarray(z, copy=True)  # contiguous: the backend's fused bias + activation
        later = bias is not None and fmt == "channels_last"
        if bias is not None and not later:
            z = z + bias.value
        z = sp.from_2d(xp, z, rank, fmt)
        need_dx = self.needs_input_gradient

        def backprop(dz: Array, dbias: Array | None = None) -> Array | None:
            dz4 = sp.to_2d(xp, dz, rank, fmt)
            if bias is not None:
                dz2 = xp.reshape(dz4, (-1, f))
                bias.grad = bias_gradient(backend, bias, dz2, dbias)
            dfull = pad2d(xp, dz4, pads)[:, :fh, :fw, :]
            dcols = xp.reshape(backend.im2col(dfull, ksize, strides, dilation), (b * h * w, -1))
            buf = kernel.grad
            out = xp.reshape(buf, w2.shape) if buf is not None else None
            kernel.grad = xp.reshape(backend.matmul(dcols.T, x2, out=out), kernel.shape)
            if not need_dx:
                return None
            dx = xp.reshape(backend.matmul(dcols, w2), (b, h, w, c))
            return sp.from_2d(xp, dx, rank, fmt)

        return z, bias.value if later and bias is not None else None, backprop

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        pads = None if self.output_padding is None else list(self.output_padding)
        return {**config, "output_padding": pads}


@register_layer
class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution: the gradient of a :class:`~nnx.layers.Conv2D` with respect
    to its input, used to upsample (decoders, GANs, U-Nets).

    Forward, with ``x2 (b h w, C)`` the input's pixels and ``W2 = reshape(kernel, (kh kw F,
    C))``: every input pixel spreads ``x2 W2^T`` over a ``kh x kw`` window of the output,
    ``full = col2im(x2 W2^T)`` (overlaps add up; stride ``s`` between windows, dilation ``d``
    between taps), ``z = crop(full) + bias``, ``y = activation(z)``. Backward, with
    ``dz = dy * activation'(z)`` and ``dcols = im2col(pad(dz))`` (the windows of ``dz``, as a
    convolution reads them): ``dx = dcols W2``, ``d W2 = dcols^T x2``, ``d bias = sum dz``.

    Args:
        filters: number of output channels ``F``.
        kernel_size: ``k`` or ``(kh, kw)``.
        strides: ``s`` or ``(sh, sw)``: the upsampling factor.
        padding: ``"valid"`` or ``"same"`` (output ``n s`` when ``output_padding`` is None).
        output_padding: None, ``p`` or ``(ph, pw)``, each ``< s``: extra rows and columns at the
            end, as in Keras.
        data_format: ``"channels_last"`` (default, None) or ``"channels_first"``.
        dilation_rate: ``d`` or ``(dh, dw)`` (not together with strides > 1).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in
            :class:`~nnx.layers.Dense`.

    Shape:
        Input ``(batch, h, w, C)`` (channels-first: ``(batch, C, h, w)``); output
        ``(batch, oh, ow, F)``, per axis (Keras 3's rule, ``K = d (k - 1) + 1``):
        ``"valid"``: ``(n - 1) s + K + p`` with ``p = max(K, s) - K`` by default;
        ``"same"``: ``n s`` by default, else ``(n - 1) s + K % 2 + p``.
        Kernel ``(kh, kw, F, C)`` (Keras's layout), bias ``(F,)``.

    >>> import nnx
    >>> up = Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")
    >>> up.build((7, 7, 32), "numpy", nnx.backends.get_backend("numpy").rng(0))
    >>> up.output_shape, up.kernel.shape
    ((14, 14, 8), (3, 3, 8, 32))
    """

    rank = 2


@register_layer
class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution over sequences, computed as a :class:`Conv2DTranspose` of
    height 1.

    Formulas and arguments as in :class:`Conv2DTranspose`, with scalar (or 1-tuple)
    ``kernel_size``, ``strides``, ``output_padding`` and ``dilation_rate``.

    Shape:
        Input ``(batch, length, C)`` (channels-first: ``(batch, C, length)``); output
        ``(batch, out_length, F)``. Kernel ``(k, F, C)``.

    >>> import nnx
    >>> up = Conv1DTranspose(16, 7, strides=2, padding="same")
    >>> up.build((72, 32), "numpy", nnx.backends.get_backend("numpy").rng(0))
    >>> up.output_shape, up.kernel.shape
    ((144, 16), (7, 16, 32))
    """

    rank = 1
