"""The named fast paths a backend may override, each beside a portable default or a decline.

Some have a portable Array-API default here (``matmul``, ``im2col``, ``sum_rows``); NumPy and
CuPy replace it with a faster call. The others are typed methods whose default declines
(returns None or False): the caller then runs the portable code of :mod:`nnx.functional` (the
activation backward passes) or of the optimizer (:meth:`nnx.optimizers.Adam.update`), which
stays the readable reference. Each override is tested to give the numbers of the portable code
(``tests/backends/test_backends_fast_paths.py``).

>>> from nnx.backends import get_backend
>>> numpy = get_backend("numpy")
>>> y = numpy.asarray([0.5, -0.5])
>>> numpy.relu_backward(y, y, y), numpy.tanh_backward(y, y, y)  # tanh: declined
(array([ 0.5, -0. ]), None)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nnx.backends.coefficients import AdamCoefficients, SGDCoefficients

__all__ = ["FastPaths"]

Array = Any


class FastPaths:
    """The fast-path methods of :class:`~nnx.backends.Backend` and their defaults."""

    xp: Any

    # --- a portable default here -----------------------------------------------------------
    def matmul(self, a: Array, b: Array, out: Array | None = None) -> Array:
        """``a @ b``, written into ``out`` where the library supports it."""
        return a @ b

    def im2col(
        self,
        x: Array,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> Array:
        """The sliding windows of a padded channels-last image batch, one row per position.

        ``cols[b, p, q, (i kw + j) C + c] = x[b, i dh + p sh, j dw + q sw, c]``: a strided
        slice per kernel offset ``(i, j)``, stacked (portable; NumPy overrides it with a
        ``sliding_window_view``). Shape: ``(b, h, w, C) -> (b, oh, ow, kh kw C)``.
        """
        xp = self.xp
        b, h, w, c = x.shape
        (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
        oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
        parts = [
            x[
                :,
                i * dh : i * dh + (oh - 1) * sh + 1 : sh,
                j * dw : j * dw + (ow - 1) * sw + 1 : sw,
                :,
            ]
            for i in range(kh)
            for j in range(kw)
        ]
        if len(parts) == 1:
            return parts[0]
        return xp.reshape(xp.stack(parts, axis=3), (b, oh, ow, kh * kw * c))

    def sum_rows(self, x: Array, out: Array | None = None) -> Array:
        """``sum(x, axis=0)`` of a 2-d array (bias gradients), into ``out`` where supported."""
        total = self.xp.sum(x, axis=0)
        if out is None:
            return total
        out[...] = total
        return out

    def flat_views(
        self, shapes: Sequence[tuple[int, ...]], dtype: str
    ) -> tuple[Array, list[Array]] | None:
        """One zeroed 1-d buffer holding arrays of ``shapes`` back to back, and a writable view
        of each; None where the library has no writable views (the portable default)."""
        return None

    def map_chunks(self, fn: Callable[[slice], Any], n: int) -> None:
        """Call ``fn`` on slices covering ``range(n)``: an elementwise update of flat buffers.
        Backends may run the slices on several threads; the default is one call."""
        fn(slice(0, n))

    # --- named fast paths: None / False here, the caller runs the portable code ---------------
    def relu_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        """``dx = dy * (x > 0)`` (:func:`nnx.functional.activations.relu_backward`), or None."""
        return None

    def sigmoid_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        """``dx = dy * y * (1 - y)`` (:func:`nnx.functional.activations.sigmoid_backward`), or
        None."""
        return None

    def tanh_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        """``dx = dy * (1 - y^2)`` (:func:`nnx.functional.activations.tanh_backward`), or
        None."""
        return None

    def adam_update(self, w: Array, g: Array, m: Array, v: Array, c: AdamCoefficients) -> bool:
        """Adam's in-place update of weights ``w`` and moments ``m``, ``v`` from gradient ``g``
        in one fused pass (see :class:`AdamCoefficients`); False, doing nothing, where this
        backend has no such kernel (then :meth:`nnx.optimizers.Adam.update` runs)."""
        return False

    def sgd_momentum_update(self, w: Array, g: Array, velocity: Array, c: SGDCoefficients) -> bool:
        """SGD-with-momentum's in-place update of ``w`` and ``velocity`` in one fused pass (see
        :class:`SGDCoefficients`); False, doing nothing, where this backend has none."""
        return False
