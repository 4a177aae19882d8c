"""The NumPy backend's compiled step of a small ``Dense`` stack
(:meth:`~nnx.backends.fast_paths.FastPaths.dense_stack`): the numba kernel of
:mod:`nnx.backends.numba_dense_stack` bound to one model's flat buffers.

Unlike the other numba paths it has no size threshold: the model side
(:mod:`nnx.models.compiled_step`) decides when the step is worth compiling.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from nnx.backends.activation_codes import CODES
from nnx.backends.fast_paths import DenseStackLayer, FastPaths
from nnx.backends.numba_paths import has_blas, load_unless_off, ok, switched_off

__all__ = ["LOSS_KINDS", "DenseStackStep", "NumbaDensePaths"]

#: loss -> the code the compiled kernel branches on
LOSS_KINDS = {"mean_squared_error": 0, "sigmoid_crossentropy": 1, "softmax_crossentropy": 2}

Array = Any


@functools.cache
def _kernel_module() -> ModuleType | None:
    try:
        from nnx.backends import numba_dense_stack
    except ImportError:
        return None
    return numba_dense_stack if has_blas() else None


def _offset(view: Array, flat: Array) -> int | None:
    """Where the C-contiguous ``view`` starts in the 1-d ``flat``, in elements (None: not in it)."""
    if type(view) is not np.ndarray or not view.flags.c_contiguous or view.dtype != flat.dtype:
        return None
    start = view.__array_interface__["data"][0] - flat.__array_interface__["data"][0]
    at, rest = divmod(start, flat.itemsize)
    return at if rest == 0 and at >= 0 and at + view.size <= flat.size else None


class DenseStackStep:
    """``step(x, y) -> (loss, logits, prediction)`` of one model, or None for inputs the kernel
    does not take (the caller then runs the layers). Writes every gradient into ``grad``."""

    def __init__(self, value: Array, grad: Array, layout: Array, alphas: Array, kind: int) -> None:
        self.value, self.grad = value, grad
        self.layout, self.alphas, self.kind = layout, alphas, kind
        self.fan_in, self.units = int(layout[0, 2]), int(layout[-1, 3])
        self._scratch: dict[int, tuple[Array, ...]] = {}
        self._warned = False

    def _buffers(self, n: int) -> tuple[Array, ...]:
        found = self._scratch.get(n)
        if found is None:
            dt, widths = self.value.dtype, self.layout[:, 3]
            size, widest = n * int(widths.sum()), n * int(max(widths.max(), self.fan_in))
            layout = self.layout.copy()
            layout[:, 5] *= n  # each layer's z and h start n (units of the layers before) in
            found = (layout, *(np.empty(s, dtype=dt) for s in (size, size, widest, widest)))
            if len(self._scratch) > 4:  # a few batch sizes (the last batch of an epoch)
                self._scratch.clear()
            self._scratch[n] = found
        return found

    def __call__(self, x: Array, y: Array) -> tuple[Array, Array, Array] | None:
        # NOTE: numba loads here, at the first step it takes (not when the plan is made)
        dt, module = self.value.dtype, load_unless_off(_kernel_module)
        if module is None:
            if not self._warned and not switched_off():
                self._warned = True
                warnings.warn(
                    "The compiled step (jit_compile) needs numba and SciPy, which are not "
                    'installed: pip install "nnx-array[fast]". The layers run instead.',
                    RuntimeWarning,
                    stacklevel=4,
                )
            return None
        if (
            type(x) is not np.ndarray
            or type(y) is not np.ndarray
            or x.dtype != dt
            or y.dtype != dt
            or x.ndim != 2
            or x.shape[1] != self.fan_in
            or y.shape != (x.shape[0], self.units)
            or x.shape[0] == 0
        ):
            return None
        n = x.shape[0]
        layout, zs, hs, d1, d2 = self._buffers(n)
        loss = module.dense_stack_gradients(
            n,
            np.ascontiguousarray(x).reshape(-1),
            np.ascontiguousarray(y).reshape(-1),
            self.value,
            self.grad,
            layout,
            self.alphas,
            self.kind,
            zs,
            hs,
            d1,
            d2,
        )
        at = int(layout[-1, 5])
        out = slice(at, at + n * self.units)
        shape = (n, self.units)
        return (
            np.asarray(loss, dtype=dt),
            zs[out].reshape(shape).copy(),
            hs[out].reshape(shape).copy(),
        )


class NumbaDensePaths(FastPaths):
    """:meth:`dense_stack` with the numba kernel."""

    def dense_stack(
        self, value: Array, grad: Array, layers: Sequence[DenseStackLayer], loss: str
    ) -> Callable[[Array, Array], tuple[Array, Array, Array] | None] | None:
        # NOTE: numba is not imported here, only at the step's first call
        if switched_off() or not layers or not ok(value, grad) or value.ndim != 1:
            return super().dense_stack(value, grad, layers, loss)
        rows, at = [], 0
        for layer in layers:
            code = CODES.get(layer.activation)
            w_at = _offset(layer.kernel, value)
            b_at = -1 if layer.bias is None else _offset(layer.bias, value)
            gw_at = _offset(layer.kernel_grad, grad)
            gb_at = -1 if layer.bias_grad is None else _offset(layer.bias_grad, grad)
            if code is None or None in (w_at, b_at, gw_at, gb_at) or (w_at, b_at) != (gw_at, gb_at):
                return super().dense_stack(value, grad, layers, loss)
            fan_in, units = layer.kernel.shape
            rows.append((w_at, b_at, fan_in, units, code, at))
            at += units
        layout = np.array(rows, dtype=np.int64)
        alphas = np.array([layer.alpha for layer in layers], dtype=np.float64)
        return DenseStackStep(value, grad, layout, alphas, LOSS_KINDS[loss])
