"""The numba-backed optimizer updates of the NumPy backend: one fused pass over the flat
parameter buffer per step, clipping and weight decay folded in (the kernels are in
:mod:`nnx.backends.numba_optimizers`). Each method declines (False) when numba is off, for
buffers under :data:`~nnx.backends.numba_paths.MIN_SIZE` elements, or for dtypes other than
float32/float64; the optimizer then runs its portable update.
"""

from __future__ import annotations

from typing import Any

from nnx.backends.coefficients import (
    AdadeltaCoefficients,
    AdagradCoefficients,
    AdamCoefficients,
    NadamCoefficients,
    Prelude,
    RMSpropCoefficients,
    SGDCoefficients,
)
from nnx.backends.fast_paths import FastPaths
from nnx.backends.numba_paths import empty_like_slot, floats, kernels, ok, prelude

__all__ = ["NumbaOptimizerPaths"]

Array = Any


class NumbaOptimizerPaths(FastPaths):
    """The ``*_step`` fast paths of :class:`~nnx.backends.fast_paths.FastPaths` as numba
    kernels."""

    def sgd_step(
        self,
        w: Array,
        g: Array,
        velocity: Array | None,
        c: SGDCoefficients,
        nesterov: bool,
        pre: Prelude,
    ) -> bool:
        k = kernels(w.size)
        if k is None or not ok(w, g):
            return super().sgd_step(w, g, velocity, c, nesterov, pre)
        v = empty_like_slot(w) if velocity is None else velocity
        mu = c.momentum if velocity is not None else 0.0
        lr, mu = floats(w, c.learning_rate, mu)
        k.opt.sgd(w.size, w, g, v, lr, mu, nesterov, *prelude(w, pre))
        return True

    def adam_step(
        self,
        w: Array,
        g: Array,
        m: Array,
        v: Array,
        v_max: Array | None,
        c: AdamCoefficients,
        pre: Prelude,
    ) -> bool:
        k = kernels(w.size)
        if k is None or not ok(w, g, m, v):
            return super().adam_step(w, g, m, v, v_max, c, pre)
        amsgrad = v_max is not None
        vm = v_max if v_max is not None else empty_like_slot(w)
        k.opt.adam(w.size, w, g, m, v, vm, *floats(w, *c), amsgrad, *prelude(w, pre))
        return True

    def nadam_step(
        self, w: Array, g: Array, m: Array, v: Array, c: NadamCoefficients, pre: Prelude
    ) -> bool:
        k = kernels(w.size)
        if k is None or not ok(w, g, m, v):
            return super().nadam_step(w, g, m, v, c, pre)
        k.opt.nadam(w.size, w, g, m, v, *floats(w, *c), *prelude(w, pre))
        return True

    def rmsprop_step(
        self,
        w: Array,
        g: Array,
        v: Array,
        m: Array | None,
        mg: Array | None,
        c: RMSpropCoefficients,
        pre: Prelude,
    ) -> bool:
        k = kernels(w.size)
        if k is None or not ok(w, g, v):
            return super().rmsprop_step(w, g, v, m, mg, c, pre)
        lr, rho, one_minus_rho, mu, eps = floats(w, *c)
        empty = empty_like_slot(w)
        mu = mu if m is not None else w.dtype.type(0.0)
        m_, mg_ = (empty if m is None else m), (empty if mg is None else mg)
        k.opt.rmsprop(
            w.size, w, g, v, m_, mg_, lr, rho, one_minus_rho, mu, eps, mg is not None,
            *prelude(w, pre),
        )  # fmt: skip
        return True

    def adagrad_step(
        self, w: Array, g: Array, acc: Array, c: AdagradCoefficients, pre: Prelude
    ) -> bool:
        k = kernels(w.size)
        if k is None or not ok(w, g, acc):
            return super().adagrad_step(w, g, acc, c, pre)
        k.opt.adagrad(w.size, w, g, acc, *floats(w, *c), *prelude(w, pre))
        return True

    def adadelta_step(
        self, w: Array, g: Array, eg: Array, edx: Array, c: AdadeltaCoefficients, pre: Prelude
    ) -> bool:
        k = kernels(w.size)
        if k is None or not ok(w, g, eg, edx):
            return super().adadelta_step(w, g, eg, edx, c, pre)
        k.opt.adadelta(w.size, w, g, eg, edx, *floats(w, *c), *prelude(w, pre))
        return True
