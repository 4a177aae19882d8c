"""The NumPy backend's numba fast paths: fused, multi-core kernels behind the named methods of
:class:`~nnx.backends.fast_paths.FastPaths`.

numba is optional (``pip install "nnx-array[fast]"``). It is looked for at run time, on the
first fast-path call, never at ``import nnx``; ``NNX_NUMBA=0`` switches it off (read at every
call, so a test or a benchmark can flip it), ``NNX_NUMBA=1`` makes a missing numba an error
instead of a silent fall-back. Each method here declines (calls the next class in the MRO:
the NumPy ufunc paths, then the portable default) when numba is off, for calls smaller than
:data:`MIN_SIZE` elements, or for inputs the kernels do not take (dtypes other than
float32/float64, unknown activations).

>>> status().startswith(("on", "off"))
True
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np

from nnx.backends.coefficients import Prelude
from nnx.backends.fast_paths import FastPaths

__all__ = [
    "ENV",
    "DIRECT_CONV_MAX_TAPS",
    "MIN_SIZE",
    "NumbaPaths",
    "empty_like_slot",
    "floats",
    "has_blas",
    "kernels",
    "load_unless_off",
    "switched_off",
    "ok",
    "prelude",
    "status",
]

Array = Any
T = TypeVar("T")
#: the environment variable that switches the numba paths off (``0``) or makes them required
ENV = "NNX_NUMBA"
_OFF, _ON = ("0", "false", "off", "no"), ("1", "true", "on", "yes")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_EMPTY = {dt: np.empty(0, dtype=dt) for dt in _FLOATS}


def empty_like_slot(w: Array) -> Array:
    """The empty array the kernels get for a slot an option switches off."""
    return _EMPTY[w.dtype]


#: calls on fewer elements stay in NumPy: importing numba (~1 s) and loading each cached kernel
#: (~0.1-0.3 s) only pays off on large arrays, so small models never load it
MIN_SIZE = 1 << 15
#: activations whose numba forward beats NumPy: the piecewise-linear ones, one vectorized pass
#: that also adds the bias. The others call libm's scalar exp/tanh/erf per element, slower than
#: NumPy's SIMD loops (tanh: 20 ms against 2.7 ms on 1M float32 here), so they stay in NumPy;
#: the kernels compute them all (and are tested on them all).
FUSED_FORWARD = frozenset({"step", "hard_sigmoid", "relu", "relu6", "leaky_relu"})
#: activations whose backward is arithmetic on ``dy``, ``x`` and ``y`` (no exp/tanh)
FUSED_BACKWARD = frozenset(
    {"step", "sigmoid", "hard_sigmoid", "tanh", "relu", "relu6", "leaky_relu", "elu", "selu"}
    | {"softsign", "softmax"}
)
#: the fewest channels for which numba's im2col / col2im beat NumPy's (None: never). Measured
#: here: NumPy's im2col, one copy out of a ``sliding_window_view``, is as fast as the loop at 1
#: and 32 channels; the col2im loop is 3x faster than NumPy's strided adds at 32 channels but
#: 2.5x slower at 1 (its inner loop runs over the channels).
MIN_CHANNELS: dict[str, int | None] = {"im2col": None, "col2im": 8}
#: the most taps per output (``kh kw C``) for which a convolution runs as one direct loop over
#: its input (:mod:`nnx.backends.numba_conv`) instead of im2col + GEMM: with few taps the GEMM
#: is bound by memory, and the direct loops fuse the bias, ReLU and its backward into it
DIRECT_CONV_MAX_TAPS = 32
#: row blocks of the batch-norm reductions (fixed, so results do not depend on thread count)
_BLOCKS = 16


@functools.cache
def _load() -> SimpleNamespace | None:
    try:
        import numba

        from nnx.backends import (
            numba_activations,
            numba_conv,
            numba_images,
            numba_optimizers,
            numba_recurrent,
        )
    except ImportError:
        return None
    return SimpleNamespace(
        version=numba.__version__,
        act=numba_activations,
        conv=numba_conv,
        img=numba_images,
        opt=numba_optimizers,
        rnn=numba_recurrent,
    )


def kernels(size: int | None = None) -> SimpleNamespace | None:
    """The kernel modules, or None when numba is missing, ``NNX_NUMBA=0``, or the call's
    ``size`` (elements) is below :data:`MIN_SIZE`.

    Raises:
        ImportError: ``NNX_NUMBA=1`` but numba cannot be imported.
    """
    if size is not None and size < MIN_SIZE:  # first: the cheapest test, on the hot path
        return None
    return load_unless_off(_load)


def switched_off() -> bool:
    """Whether ``NNX_NUMBA`` is ``0`` (read at every call)."""
    return os.environ.get(ENV, "").strip().lower() in _OFF


def load_unless_off(load: Callable[[], T | None]) -> T | None:
    """``load()`` (a cached import of kernels; None where numba or SciPy is missing), or None
    when ``NNX_NUMBA=0``.

    Raises:
        ImportError: ``NNX_NUMBA=1`` but ``load()`` found nothing.
    """
    flag = os.environ.get(ENV, "").strip().lower()
    if flag in _OFF:
        return None
    found = load()
    if found is None and flag in _ON:
        raise ImportError(
            f"{ENV}={flag} asks for the numba kernels, but numba (or the SciPy its np.dot "
            'needs) is not installed: pip install "nnx-array[fast]"'
        )
    return found


@functools.cache
def has_blas() -> bool:
    """Whether numba's ``np.dot`` can run: it calls SciPy's BLAS (``scipy.linalg.cython_blas``),
    and without SciPy a compiled ``np.dot`` aborts the interpreter. The kernels built on it
    (recurrent inference, attention, the compiled dense step) decline where this is False."""
    try:
        import scipy.linalg.cython_blas  # noqa: F401
    except ImportError:
        return False
    return True


def status() -> str:
    """``"on (numba X.Y)"`` or ``"off (<why>)"``, for ``nnx info`` and the benchmarks."""
    if os.environ.get(ENV, "").strip().lower() in _OFF:
        return f"off ({ENV}=0)"
    found = _load()
    if found is None:
        return 'off (numba not installed: pip install "nnx-array[fast]")'
    return f"on (numba {found.version})"


def ok(*xs: Array) -> bool:
    """Float32/float64 NumPy arrays of one dtype."""
    dt = xs[0].dtype
    return dt in _FLOATS and all(type(x) is np.ndarray and x.dtype == dt for x in xs)


def floats(w: Array, *values: Any) -> list[Any]:
    """Python floats as scalars of ``w``'s dtype: float32 buffers are then updated in float32
    arithmetic, in the portable code's order of operations, as NumPy does."""
    cast = w.dtype.type
    return [cast(v) for v in values]


def prelude(w: Array, pre: Prelude) -> list[Any]:
    """``(decay, scale, clipvalue)`` of ``pre`` as scalars of ``w``'s dtype."""
    return floats(w, pre.decay, float(pre.scale), pre.clipvalue)


def _rows(x: Array) -> Array:
    """``x`` as a C-contiguous ``(rows, last axis)`` array (a view where possible)."""
    return np.ascontiguousarray(x).reshape(-1, x.shape[-1])


def _counts(count: Array | float, shape: tuple[int, int], dtype: Any) -> Array:
    if isinstance(count, (int, float)):
        return np.full(shape, count, dtype=dtype)
    return np.ascontiguousarray(np.broadcast_to(count, (1, *shape, 1))[0, :, :, 0], dtype=dtype)


class NumbaPaths(FastPaths):
    """The numba-backed array fast paths (activations, losses, windows, batch norm); each
    declines to the next class when numba is off. The optimizer updates are in
    :class:`~nnx.backends.numba_optimizer_paths.NumbaOptimizerPaths`."""

    # --- activations and losses ---------------------------------------------------------------
    def activation_forward(
        self, z: Array, bias: Array | None, name: str, alpha: float = 0.0
    ) -> Array | None:
        k = None if name not in FUSED_FORWARD else kernels(z.size)
        code = None if k is None else k.act.CODES.get(name)
        if (
            k is None
            or code is None
            or z.ndim == 0
            or not z.flags.c_contiguous
            or not ok(z, *(() if bias is None else (bias,)))
        ):
            return super().activation_forward(z, bias, name, alpha)
        y = np.empty_like(z)
        z2 = z.reshape(-1, z.shape[-1])
        b = empty_like_slot(z) if bias is None else np.ascontiguousarray(bias)
        k.act.forward(z.size, z2, b, y.reshape(z2.shape), code, float(alpha), bias is not None)
        return y

    def add_bias(self, z: Array, bias: Array) -> Array:
        k = kernels(z.size)
        if (
            k is None
            or z.ndim == 0
            or not z.flags.c_contiguous
            or not z.flags.writeable
            or tuple(bias.shape) != (z.shape[-1],)
            or not ok(z, bias)
        ):
            return super().add_bias(z, bias)
        k.act.bias_add(z.size, z.reshape(-1, z.shape[-1]), np.ascontiguousarray(bias))
        return z

    def activation_backward(
        self, dy: Array, x: Array, y: Array, name: str, alpha: float = 0.0
    ) -> Array | None:
        k = None if name not in FUSED_BACKWARD else kernels(dy.size)
        code = None if k is None else k.act.CODES.get(name)
        if k is None or code is None or dy.ndim == 0 or not ok(dy, x, y) or dy.shape != x.shape:
            return super().activation_backward(dy, x, y, name, alpha)
        dy2, x2, y2 = _rows(dy), _rows(x), _rows(y)
        dx = np.empty(dy2.shape, dtype=dy.dtype)
        k.act.backward(dy.size, dy2, x2, y2, dx, code, float(alpha))
        return dx.reshape(dy.shape)

    def activation_bias_backward(
        self, dy: Array, x: Array, y: Array, name: str, alpha: float = 0.0
    ) -> tuple[Array, Array] | None:
        k = None if name not in FUSED_BACKWARD else kernels(dy.size)
        code = None if k is None else k.act.CODES.get(name)
        if k is None or code is None or dy.ndim == 0 or not ok(dy, x, y) or dy.shape != x.shape:
            return super().activation_bias_backward(dy, x, y, name, alpha)
        dy2, x2, y2 = _rows(dy), _rows(x), _rows(y)
        dx = np.empty(dy2.shape, dtype=dy.dtype)
        partial = np.empty((max(1, min(_BLOCKS, dy2.shape[0])), dy2.shape[1]))
        k.act.backward_sum(dy.size, len(partial), dy2, x2, y2, dx, partial, code, float(alpha))
        return dx.reshape(dy.shape), np.add.reduce(partial, axis=0).astype(dy.dtype)

    def relu_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        fast = self.activation_backward(dy, x, y, "relu")
        return super().relu_backward(dy, x, y) if fast is None else fast

    def sigmoid_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        fast = self.activation_backward(dy, x, y, "sigmoid")
        return super().sigmoid_backward(dy, x, y) if fast is None else fast

    def tanh_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        fast = self.activation_backward(dy, x, y, "tanh")
        return super().tanh_backward(dy, x, y) if fast is None else fast

    def _crossentropy(self, which: str, y: Array, z: Array) -> tuple[Array, Array] | None:
        k = kernels(z.size)
        if k is None or z.ndim != 2 or y.shape != z.shape or not ok(y, z):
            return None
        value = np.empty(z.shape[0], dtype=z.dtype)
        grad = np.empty(z.shape, dtype=z.dtype)
        getattr(k.act, which)(z.size, np.ascontiguousarray(y), np.ascontiguousarray(z), value, grad)
        return value, grad

    def sigmoid_crossentropy(self, y: Array, z: Array) -> tuple[Array, Array] | None:
        fast = self._crossentropy("sigmoid_crossentropy", y, z)
        return super().sigmoid_crossentropy(y, z) if fast is None else fast

    def softmax_crossentropy(self, y: Array, z: Array) -> tuple[Array, Array] | None:
        fast = self._crossentropy("softmax_crossentropy", y, z)
        return super().softmax_crossentropy(y, z) if fast is None else fast

    # --- images ----------------------------------------------------------------------------------
    def im2col(
        self,
        x: Array,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> Array:
        least = MIN_CHANNELS["im2col"]
        k = None if least is None or x.shape[-1] < least else kernels(x.size)
        if k is None or not ok(x) or kernel == (1, 1):
            return super().im2col(x, kernel, strides, dilation)
        (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
        b, h, w, c = x.shape
        oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
        cols = np.empty((b, oh, ow, kh * kw * c), dtype=x.dtype)
        k.img.im2col(cols.size, np.ascontiguousarray(x), cols, kh, kw, sh, sw, dh, dw)
        return cols

    def col2im(
        self,
        cols: Array,
        shape: tuple[int, int, int, int],
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> Array | None:
        least = MIN_CHANNELS["col2im"]
        k = None if least is None or shape[-1] < least else kernels(cols.size)
        if k is None or not ok(cols):
            return super().col2im(cols, shape, kernel, strides, dilation)
        dx = np.zeros(shape, dtype=cols.dtype)
        k.img.col2im(cols.size, np.ascontiguousarray(cols), dx, *kernel, *strides, *dilation)
        return dx

    def max_pool2d(self, x: Array, pool: tuple[int, int], strides: tuple[int, int]) -> Array | None:
        k = kernels(x.size)
        if k is None or not ok(x):
            return super().max_pool2d(x, pool, strides)
        oh, ow = (x.shape[1] - pool[0]) // strides[0] + 1, (x.shape[2] - pool[1]) // strides[1] + 1
        y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
        k.img.max_pool(x.size, np.ascontiguousarray(x), y, *pool, *strides)
        return y

    def max_pool2d_backward(
        self, dy: Array, x: Array, y: Array, pool: tuple[int, int], strides: tuple[int, int]
    ) -> Array | None:
        k = kernels(x.size)
        if k is None or not ok(dy, x, y):
            return super().max_pool2d_backward(dy, x, y, pool, strides)
        dx = np.zeros(x.shape, dtype=x.dtype)
        c = np.ascontiguousarray
        k.img.max_pool_backward(x.size, c(dy), c(x), c(y), dx, *pool, *strides)
        return dx

    def avg_pool2d(
        self, x: Array, pool: tuple[int, int], strides: tuple[int, int], count: Array | float
    ) -> Array | None:
        k = kernels(x.size)
        if k is None or not ok(x):
            return super().avg_pool2d(x, pool, strides, count)
        oh, ow = (x.shape[1] - pool[0]) // strides[0] + 1, (x.shape[2] - pool[1]) // strides[1] + 1
        y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
        counts = _counts(count, (oh, ow), x.dtype)
        k.img.avg_pool(x.size, np.ascontiguousarray(x), y, counts, *pool, *strides)
        return y

    def avg_pool2d_backward(
        self,
        dy: Array,
        shape: tuple[int, ...],
        pool: tuple[int, int],
        strides: tuple[int, int],
        count: Array | float,
    ) -> Array | None:
        k = kernels(dy.size)
        if k is None or not ok(dy):
            return super().avg_pool2d_backward(dy, shape, pool, strides, count)
        dx = np.zeros(shape, dtype=dy.dtype)
        counts = _counts(count, dy.shape[1:3], dy.dtype)
        k.img.avg_pool_backward(dx.size, np.ascontiguousarray(dy), dx, counts, *pool, *strides)
        return dx

    def batch_norm_statistics(self, x: Array) -> tuple[Array, Array] | None:
        k = kernels(x.size)
        if k is None or x.ndim != 2 or not ok(x):
            return super().batch_norm_statistics(x)
        c = x.shape[1]
        partial = np.empty((_BLOCKS, c))
        mean, var = np.empty(c), np.empty(c)
        k.img.batch_norm_stats(x.size, np.ascontiguousarray(x), partial, mean, var)
        return mean.astype(x.dtype), var.astype(x.dtype)

    def batch_norm_backward(
        self, dy: Array, xhat: Array, gamma: Array | None, inv: Array
    ) -> tuple[Array, Array, Array] | None:
        k = kernels(dy.size)
        if k is None or dy.ndim != 2 or not ok(dy, xhat, inv):
            return super().batch_norm_backward(dy, xhat, gamma, inv)
        n, c = dy.shape
        ones = np.ones(c, dtype=dy.dtype) if gamma is None else np.ascontiguousarray(gamma)
        partial = np.empty((_BLOCKS, 2, c))
        dgamma, dbeta = np.empty(c, dtype=dy.dtype), np.empty(c, dtype=dy.dtype)
        dx = np.empty((n, c), dtype=dy.dtype)
        con = np.ascontiguousarray
        k.img.batch_norm_backward(
            dy.size, con(dy), con(xhat), ones, con(inv.reshape(c)), partial, dgamma, dbeta, dx
        )
        return dx, dgamma, dbeta

    # --- direct convolution, arg-max pooling ------------------------------------------------
    def conv2d_direct(
        self,
        x: Array,
        w: Array,
        bias: Array | None,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
        relu: bool,
    ) -> Array | None:
        k = None if w.shape[0] > DIRECT_CONV_MAX_TAPS else kernels(x.size * w.shape[1])
        if k is None or x.ndim != 4 or not ok(x, w, *(() if bias is None else (bias,))):
            return super().conv2d_direct(x, w, bias, kernel, strides, dilation, relu)
        (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
        b, h, wd, _ = x.shape
        oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (wd - dw * (kw - 1) - 1) // sw + 1
        y = np.empty((b, oh, ow, w.shape[1]), dtype=x.dtype)
        con = np.ascontiguousarray
        bb = empty_like_slot(x) if bias is None else con(bias)
        k.conv.conv_forward(
            y.size, con(x), con(w), bb, y, kh, kw, sh, sw, dh, dw, bias is not None, relu
        )
        return y

    def conv2d_weight_grad(
        self,
        dy: Array,
        y: Array | None,
        x: Array,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> tuple[Array, Array] | None:
        taps = kernel[0] * kernel[1] * x.shape[-1]
        k = None if taps > DIRECT_CONV_MAX_TAPS else kernels(dy.size)
        if k is None or dy.ndim != 4 or not ok(dy, x, *(() if y is None else (y,))):
            return super().conv2d_weight_grad(dy, y, x, kernel, strides, dilation)
        nb, nf = dy.shape[0], dy.shape[3]
        blocks = max(1, min(_BLOCKS, nb))
        pw, pb = np.empty((blocks, taps, nf)), np.empty((blocks, nf))
        con = np.ascontiguousarray
        dy = con(dy)
        mask = dy if y is None else con(y)
        k.conv.conv_weight_grad(
            dy.size, blocks, dy, mask, con(x), pw, pb, *kernel, *strides, *dilation, y is not None
        )
        return np.add.reduce(pw, axis=0).astype(dy.dtype), np.add.reduce(pb, axis=0).astype(
            dy.dtype
        )

    def max_pool2d_argmax(
        self, x: Array, pool: tuple[int, int], strides: tuple[int, int]
    ) -> tuple[Array, Array] | None:
        k = None if pool[0] * pool[1] > 127 else kernels(x.size)
        if k is None or x.ndim != 4 or not ok(x):
            return super().max_pool2d_argmax(x, pool, strides)
        oh, ow = (x.shape[1] - pool[0]) // strides[0] + 1, (x.shape[2] - pool[1]) // strides[1] + 1
        y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
        arg = np.empty(y.shape, dtype=np.int8)
        k.conv.max_pool_argmax(x.size, np.ascontiguousarray(x), y, arg, *pool, *strides)
        return y, arg

    def max_pool2d_argmax_backward(
        self,
        dy: Array,
        arg: Array,
        shape: tuple[int, int, int, int],
        pool: tuple[int, int],
        strides: tuple[int, int],
    ) -> Array | None:
        k = kernels(dy.size)
        if k is None or not ok(dy) or arg.shape != dy.shape:
            return super().max_pool2d_argmax_backward(dy, arg, shape, pool, strides)
        dx = np.empty(shape, dtype=dy.dtype)
        k.conv.max_pool_argmax_backward(dx.size, np.ascontiguousarray(dy), arg, dx, *pool, *strides)
        return dx
